/* The pure part of fs.c's FUSE messages, apart so that tests/unit/
 * builds it for the host: the request header, the check of a reply
 * header, and INIT's arguments and answer. */
#pragma once
#include "fs.h"
#include "fuse.h"

/* The header of a request whose arguments are in[0..nin). */
void fuse_msg_header(struct fuse_in_header *ih, uint32_t opcode, uint64_t nodeid, uint64_t unique,
		     const struct fuse_seg *in, int nin, uint32_t uid, uint32_t gid, uint32_t pid);
/* The device wrote `written` bytes, oh first: true when that cannot be a
 * reply to ih (too short, another unique, a len not what was written, a
 * positive error). */
bool fuse_msg_malformed(const struct fuse_in_header *ih, const struct fuse_out_header *oh, uint32_t written);
/* A well-formed reply's result: its bytes after the header, or -errno. */
long fuse_msg_result(const struct fuse_out_header *oh, uint32_t written);

void fuse_msg_init_in(struct fuse_init_in *in);
/* INIT's answer (r from fuse_call): the largest READ or WRITE payload in
 * *max_io, or -1 when there is no session. */
int fuse_msg_init_out(const struct fuse_init_out *out, long r, uint32_t *max_io);
