/* Buffered mode (MPI-3.1 3.6): MPI_Buffer_attach/detach and the sends
 * that copy their data into the attached buffer. */
#include <stdlib.h>
#include <string.h>
#include "p2p.h"

struct bblock {
	size_t off, len;
	struct bblock *next;
};
static char *bsend_buf;
static size_t bsend_size;
static struct bblock *bsend_used; /* sorted by offset */

static void *bsend_alloc(size_t len)
{
	len = (len + 15) & ~(size_t)15;
	size_t off = 0;
	struct bblock **pp = &bsend_used;
	for (; *pp; pp = &(*pp)->next) {
		if ((*pp)->off - off >= len)
			break;
		off = (*pp)->off + (*pp)->len;
	}
	if (off + len + MPI_BSEND_OVERHEAD > bsend_size)
		return NULL;
	struct bblock *b = malloc(sizeof *b);
	if (!b)
		return NULL;
	*b = (struct bblock){off, len, *pp};
	*pp = b;
	return bsend_buf + off;
}

void bsend_free(void *p)
{
	for (struct bblock **pp = &bsend_used; *pp; pp = &(*pp)->next) {
		if (bsend_buf + (*pp)->off == p) {
			struct bblock *b = *pp;
			*pp = b->next;
			free(b);
			return;
		}
	}
}

/* A buffered send (3.6) completes once its data is in the attached buffer:
 * a hidden request, left to finish on its own, carries the packed copy. */
int bsend_start(struct request *r)
{
	size_t bytes = r->bytes;
	struct request *h = req_alloc();
	void *copy = bsend_alloc(bytes);
	if (!copy) {
		/* space of messages received since the last progress call */
		p2p_progress();
		copy = bsend_alloc(bytes);
	}
	if (!h || !copy) {
		if (h)
			req_release(h);
		if (copy)
			bsend_free(copy);
		return MPI_ERR_BUFFER;
	}
	dtype_pack(r->buf, r->count, r->dt, copy);
	req_fill(h, REQ_SEND, copy, (int)bytes, MPI_BYTE, r->peer, r->tag, r->comm, r->ctx - r->comm->ctx, MODE_STANDARD);
	h->tmp = copy;
	h->in_bsend_buffer = true;
	send_start(h);
	if (h->complete) {
		req_release(h);
	} else {
		orphan_add(h);
	}
	r->complete = true;
	return MPI_SUCCESS;
}


int MPI_Buffer_attach(void *buf, int size)
{
	if (size < 0)
		return mpi_err(MPI_COMM_WORLD, MPI_ERR_ARG, "MPI_Buffer_attach", "negative size %d", size);
	if (bsend_buf)
		return mpi_err(MPI_COMM_WORLD, MPI_ERR_BUFFER, "MPI_Buffer_attach", "a buffer is already attached");
	if (!buf && size > 0)
		return mpi_err(MPI_COMM_WORLD, MPI_ERR_BUFFER, "MPI_Buffer_attach", "NULL buffer");
	bsend_buf = buf;
	bsend_size = size;
	return MPI_SUCCESS;
}

/* Waits until every buffered message has left the buffer (3.6.1). */
int MPI_Buffer_detach(void *buf_addr, int *size)
{
	if (!buf_addr || !size)
		return mpi_err(MPI_COMM_WORLD, MPI_ERR_ARG, "MPI_Buffer_detach", "NULL argument");
	while (bsend_used) {
		p2p_progress();
		reap_orphans();
		if (bsend_used)
			wait_for_event(NULL, 0);
	}
	*(void **)buf_addr = bsend_buf;
	*size = (int)bsend_size;
	bsend_buf = NULL;
	bsend_size = 0;
	return MPI_SUCCESS;
}

