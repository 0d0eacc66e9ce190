/* FUSE request headers and reply checks (fuse_msg.h); no device here. */
#include "fuse_msg.h"
#include "../kernel/errno.h"

void fuse_msg_header(struct fuse_in_header *ih, uint32_t opcode, uint64_t nodeid, uint64_t unique,
		     const struct fuse_seg *in, int nin, uint32_t uid, uint32_t gid, uint32_t pid)
{
	*ih = (struct fuse_in_header){
		.len = sizeof *ih, .opcode = opcode, .nodeid = nodeid,
		.uid = uid, .gid = gid, .pid = pid, .unique = unique,
	};
	for (int i = 0; i < nin; i++)
		ih->len += in[i].len;
}

bool fuse_msg_malformed(const struct fuse_in_header *ih, const struct fuse_out_header *oh, uint32_t written)
{
	return written < sizeof *oh || oh->unique != ih->unique || oh->len != written || oh->error > 0;
}

long fuse_msg_result(const struct fuse_out_header *oh, uint32_t written)
{
	if (oh->error)
		return oh->error > -4096 ? oh->error : -EIO;
	return written - sizeof *oh;
}

/* FUSE_INIT: protocol 7.31, big writes up to what the server allows. */
void fuse_msg_init_in(struct fuse_init_in *in)
{
	*in = (struct fuse_init_in){
		.major = FUSE_KERNEL_VERSION, .minor = FUSE_KERNEL_MINOR_VERSION,
		.max_readahead = 0, .flags = FUSE_ATOMIC_O_TRUNC | FUSE_BIG_WRITES | FUSE_MAX_PAGES,
	};
}

int fuse_msg_init_out(const struct fuse_init_out *out, long r, uint32_t *max_io)
{
	if (r < 0 || r < 24 || out->major != FUSE_KERNEL_VERSION)
		return -1;
	uint32_t max = out->max_write;
	if ((out->flags & FUSE_MAX_PAGES) && out->max_pages)
		max = MIN(max, (uint32_t)out->max_pages * PAGE_SIZE);
	*max_io = MAX(max, 4096u);
	return 0;
}
