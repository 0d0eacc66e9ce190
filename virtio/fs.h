/* virtio-fs inside Toro: fs.c owns the device and carries FUSE messages
 * (one call waits for its own reply in the scheduler; calls from every
 * core may be in flight at once); fsops.c turns POSIX file calls into
 * FUSE requests. */
#pragma once
#include "../kernel/types.h"

struct fuse_seg {
	const void *p;
	uint32_t len;
};

/* Sends a request with the given parts after fuse_in_header (device
 * readable) and waits for the reply, whose parts after fuse_out_header
 * land in out (device writable). Returns the reply's bytes after the
 * header, or -errno: the server's error, EIO when the device is gone. */
long fuse_call(uint32_t opcode, uint64_t nodeid, const struct fuse_seg *in, int nin,
	       const struct fuse_seg *out, int nout);
/* Drops nlookup references to a node (FUSE_FORGET); does not wait. */
void fuse_forget(uint64_t nodeid, uint64_t nlookup);

struct fs_params {
	uint32_t max_io;   /* largest READ or WRITE payload */
	bool ro;           /* toro-run --fs DIR:ro: every change fails with EROFS */
};
extern struct fs_params fs_params;

void fs_mount(void);  /* fsops.c: makes the file system the root */
