/* The virtio-fs device (virtio 1.1 section 5.11) and the FUSE requests it
 * carries. Queue 0 is the high-priority queue (FORGET only here), queue 1
 * the first request queue. A request is one descriptor chain: the
 * device-readable fuse_in_header and arguments, then the device-writable
 * fuse_out_header and reply (5.11.6). Rank buffers go in the chain as
 * they are: all memory is identity mapped, so a virtual range is one
 * physical range, and the whole guest RAM is shared with virtiofsd.
 *
 * Any core may send: it adds its chain under the queue lock, notifies,
 * then waits in the scheduler (spin, then halt). Completions are taken
 * from the used ring by whoever gets there first: the interrupt handler
 * on CPU 0 or a waiting core; the taker marks each request done and wakes
 * its core. The device is declared gone, reset, and every call fails
 * with EIO when a request sees no completion at all for the timeout
 * (four times as long while an FSYNC is in flight: virtiofsd serves a
 * queue one request at a time, and a sync may take long). */
#include "fs.h"
#include "fuse_msg.h"
#include "mmio.h"
#include "../kernel/defs.h"
#include "../kernel/cpu.h"
#include "../kernel/sched.h"
#include "../kernel/spinlock.h"
#include "../kernel/errno.h"

#define QSIZE 128
#define HIPRIO 0
#define REQUESTS 1
#define MAX_SEGS 8
#define DEFAULT_TIMEOUT_MS 30000 /* toro.fs_timeout=MS (toro-run --fs-timeout) */

struct fs_req {
	volatile int done;
	uint32_t len;            /* bytes the device wrote */
	struct cpu *cpu;         /* the waiter's core, to wake */
	uint64_t start_ns;
};

struct fs_queue {
	struct spinlock lock;    /* adding chains, taking used ones */
	struct virtq vq;
	int index;
};

/* The FORGET messages in flight on the high-priority queue, one slot per
 * head descriptor (each is a single descriptor). */
struct forget_msg {
	struct fuse_in_header h;
	struct fuse_forget_in a;
};

static struct {
	struct vmmio dev;
	struct fs_queue hiprio, req;
	volatile int dead;
	volatile uint64_t progress_ns;  /* the last completion */
	uint64_t timeout_ns;
	volatile int slow;              /* FSYNCs in flight */
	volatile int check_status;      /* the device signalled a configuration change */
	uint64_t unique;
	uint32_t uid, gid;
	struct forget_msg forgets[QSIZE];
} fs;

struct fs_params fs_params;

/* Marks the device gone: reset (so it no longer touches guest memory) and
 * from now on every call fails with EIO. */
static void fs_fail(const char *why)
{
	if (__atomic_exchange_n(&fs.dead, 1, __ATOMIC_ACQ_REL))
		return;
	kprintf("toro: virtio-fs: %s; the device is reset and file calls fail with EIO\n", why);
	vmmio_reset(&fs.dev);
}

/* Takes every used chain; called with the queue lock held, perhaps by
 * the interrupt handler. A broken queue (virtqueue.c) stops it; the
 * waiters see that and fail the device from their thread. */
static void drain(struct fs_queue *q)
{
	void *data;
	uint32_t len;
	while (virtq_get_buf(&q->vq, &data, &len)) {
		struct fs_req *r = data;
		__atomic_store_n(&fs.progress_ns, time_ns(), __ATOMIC_RELEASE);
		if (r) {
			struct cpu *c = r->cpu;
			r->len = len;
			__atomic_store_n(&r->done, 1, __ATOMIC_RELEASE);
			sched_kick(c); /* r may be gone from here on */
		}
	}
}

/* Never waits for the lock, so interrupt handlers may call it: whoever
 * holds the lock looks at the used ring again after unlocking. */
static void harvest(struct fs_queue *q)
{
	while (virtq_used_pending(&q->vq) && spin_trylock(&q->lock)) {
		drain(q);
		spin_unlock(&q->lock);
	}
}

static void fs_irq(int vector, void *arg)
{
	(void)vector, (void)arg;
	uint32_t st = vmmio_ack_interrupt(&fs.dev); /* first, so that later completions raise it again */
	if (st & 2) /* configuration change: perhaps DEVICE_NEEDS_RESET (virtio 1.1 section 2.1.2) */
		fs.check_status = 1;
	harvest(&fs.req);
	harvest(&fs.hiprio);
}

/* No completion since `since` for longer than the timeout. The last
 * completion is read before the clock: another core (or the interrupt
 * handler) may set it to a time later than a clock read before it. */
static bool stalled(uint64_t since)
{
	uint64_t patience = fs.slow ? 4 * fs.timeout_ns : fs.timeout_ns;
	uint64_t last = MAX(since, __atomic_load_n(&fs.progress_ns, __ATOMIC_ACQUIRE));
	uint64_t now = time_ns();
	return now > last && now - last > patience;
}

static void fail_stalled(void)
{
	uint64_t ms = fs.timeout_ns / 1000000;
	char why[96];
	snprintf(why, sizeof why, "the file server (virtiofsd) did not answer for %lu.%03lu s", ms / 1000, ms % 1000);
	fs_fail(why);
}

static bool queues_broken(void) { return fs.req.vq.broken || fs.hiprio.vq.broken; }

/* From thread context only: the device wrote something impossible. */
static bool fail_broken(void)
{
	if (!virtq_broken(&fs.req.vq) && !virtq_broken(&fs.hiprio.vq))
		return false;
	fs_fail("the device corrupted a virtqueue");
	return true;
}

static bool req_over(void *arg)
{
	struct fs_req *r = arg;
	harvest(&fs.req);
	harvest(&fs.hiprio);
	return __atomic_load_n(&r->done, __ATOMIC_ACQUIRE) || fs.dead || fs.check_status || queues_broken() ||
	       stalled(r->start_ns);
}

/* Waits for the reply; false when the device is gone (or goes now). */
static bool wait_reply(struct fs_req *r)
{
	for (;;) {
		sched_wait_until(req_over, r);
		if (__atomic_load_n(&r->done, __ATOMIC_ACQUIRE))
			return true;
		if (fs.dead || fail_broken())
			return false;
		if (!fs.check_status)
			break;
		fs.check_status = 0;
		if (vmmio_needs_reset(&fs.dev)) {
			fs_fail("the device reported an error (DEVICE_NEEDS_RESET)");
			return false;
		}
	}
	fail_stalled();
	return false;
}

struct room {
	struct fs_queue *q;
	int n;
	uint64_t start_ns;
};

static bool room_free(void *arg)
{
	struct room *w = arg;
	harvest(w->q);
	return w->q->vq.num_free >= w->n || fs.dead || w->q->vq.broken || stalled(w->start_ns);
}

/* Adds the chain and notifies the device. Returns 0 or -EIO. */
static int submit(struct fs_queue *q, struct fs_req *r, const uint64_t *addr, const uint32_t *len, int nout, int nin)
{
	struct room w = {q, nout + nin, time_ns()};
	for (;;) {
		if (fs.dead || fail_broken())
			return -EIO;
		spin_lock(&q->lock);
		if (q->vq.num_free >= w.n)
			break;
		spin_unlock(&q->lock);
		sched_wait_until(room_free, &w);
		if (!fs.dead && q->vq.num_free < w.n && stalled(w.start_ns))
			fail_stalled();
	}
	virtq_add_data(&q->vq, addr, len, nout, nin, r);
	spin_unlock(&q->lock);
	virtq_publish(&q->vq);
	if (!(__atomic_load_n(&q->vq.used->flags, __ATOMIC_ACQUIRE) & VIRTQ_USED_F_NO_NOTIFY))
		vmmio_notify(&fs.dev, q->index);
	harvest(q); /* what arrived while this core held the lock */
	return 0;
}

static uint32_t caller_pid(void)
{
	struct thread *t = current_thread();
	return t && t->rank >= 0 ? 100 + t->rank : 1;
}

long fuse_call(uint32_t opcode, uint64_t nodeid, const struct fuse_seg *in, int nin,
	       const struct fuse_seg *out, int nout)
{
	struct fuse_in_header ih;
	fuse_msg_header(&ih, opcode, nodeid, __atomic_add_fetch(&fs.unique, 1, __ATOMIC_RELAXED), in, nin,
			fs.uid, fs.gid, caller_pid());
	struct fuse_out_header oh = {0};
	uint64_t addr[MAX_SEGS];
	uint32_t len[MAX_SEGS];
	int n = 0;
	if (nin + nout + 2 > MAX_SEGS)
		return -EINVAL;
	addr[n] = (uint64_t)&ih, len[n++] = sizeof ih;
	for (int i = 0; i < nin; i++) {
		if (in[i].len)
			addr[n] = (uint64_t)in[i].p, len[n++] = in[i].len;
	}
	int nr = n;
	addr[n] = (uint64_t)&oh, len[n++] = sizeof oh;
	for (int i = 0; i < nout; i++)
		if (out[i].len)
			addr[n] = (uint64_t)out[i].p, len[n++] = out[i].len;

	struct fs_req r = {.cpu = this_cpu(), .start_ns = time_ns()};
	bool slow = opcode == FUSE_FSYNC || opcode == FUSE_FSYNCDIR;
	if (slow)
		__atomic_add_fetch(&fs.slow, 1, __ATOMIC_RELAXED);
	int e = submit(&fs.req, &r, addr, len, nr, n - nr);
	bool answered = e == 0 && wait_reply(&r);
	if (slow)
		__atomic_sub_fetch(&fs.slow, 1, __ATOMIC_RELAXED);
	if (!answered)
		return -EIO;
	if (fuse_msg_malformed(&ih, &oh, r.len)) {
		fs_fail("a malformed reply from the file server");
		return -EIO;
	}
	return fuse_msg_result(&oh, r.len);
}

void fuse_forget(uint64_t nodeid, uint64_t nlookup)
{
	struct fs_queue *q = &fs.hiprio;
	struct room w = {q, 1, time_ns()};
	if (fs.dead || fail_broken() || nodeid == FUSE_ROOT_ID || !nlookup)
		return;
	for (;;) {
		spin_lock(&q->lock);
		if (q->vq.num_free >= 1)
			break;
		spin_unlock(&q->lock);
		sched_wait_until(room_free, &w);
		if (fs.dead || fail_broken() || q->vq.num_free < 1)
			return; /* the server is gone: nothing to forget */
	}
	/* The slot of the head descriptor virtq_add will use is free_head. */
	struct forget_msg *m = &fs.forgets[q->vq.free_head];
	m->h = (struct fuse_in_header){
		.len = sizeof *m, .opcode = FUSE_FORGET, .nodeid = nodeid,
		.unique = __atomic_add_fetch(&fs.unique, 1, __ATOMIC_RELAXED),
		.uid = fs.uid, .gid = fs.gid, .pid = caller_pid(),
	};
	m->a.nlookup = nlookup;
	uint64_t addr = (uint64_t)m;
	uint32_t len = sizeof *m;
	virtq_add(&q->vq, &addr, &len, 1, 0);
	spin_unlock(&q->lock);
	virtq_publish(&q->vq);
	if (!(__atomic_load_n(&q->vq.used->flags, __ATOMIC_ACQUIRE) & 1))
		vmmio_notify(&fs.dev, q->index);
	harvest(q);
}

/* FUSE_INIT (fuse_msg.c): the session and the largest I/O. */
static int fuse_init(void)
{
	struct fuse_init_in in;
	struct fuse_init_out out = {0};
	fuse_msg_init_in(&in);
	struct fuse_seg i = {&in, sizeof in}, o = {&out, sizeof out};
	long r = fuse_call(FUSE_INIT, 0, &i, 1, &o, 1);
	if (fuse_msg_init_out(&out, r, &fs_params.max_io) < 0) {
		kprintf("toro: virtio-fs: FUSE INIT failed (%ld, protocol %u.%u)\n", r, out.major, out.minor);
		return -1;
	}
	kdebug("virtio-fs: FUSE %u.%u, max_write %u, max_pages %u\n", out.major, out.minor, out.max_write, out.max_pages);
	return 0;
}

static int queue_setup(struct fs_queue *q, int index)
{
	q->index = index;
	return vmmio_queue_setup(&fs.dev, index, &q->vq, QSIZE, 0, index == HIPRIO ? "virtio-fs hiprio" : "virtio-fs requests");
}

static uint32_t option_u32(const char *key, uint32_t dflt)
{
	const char *v = boot_option(key);
	bool ok = false;
	long n = v ? parse_long(v, &ok) : 0;
	return ok && n >= 0 ? (uint32_t)n : dflt;
}

/* Device initialisation (virtio 1.1 section 3.1.1) and the FUSE session.
 * Only VIRTIO_F_VERSION_1 is negotiated: no event index, no indirect
 * descriptors, no notification queue. */
static int fs_start(const char *tag)
{
	if (!vmmio_negotiate(&fs.dev, VIRTIO_F_VERSION_1)) {
		kprintf("toro: virtio-fs: the device refused the features (virtio 1.0 required)\n");
		return -1;
	}
	if (queue_setup(&fs.hiprio, HIPRIO) < 0 || queue_setup(&fs.req, REQUESTS) < 0) {
		kprintf("toro: virtio-fs: cannot set up the queues\n");
		vmmio_failed(&fs.dev);
		return -1;
	}
	if (vmmio_irq(&fs.dev, fs_irq, NULL) < 0)
		kdebug("virtio-fs: no interrupt for GSI %d; polling\n", fs.dev.gsi);
	vmmio_driver_ok(&fs.dev);
	uint32_t ms = option_u32("toro.fs_timeout", DEFAULT_TIMEOUT_MS);
	fs.timeout_ns = (ms ? ms : DEFAULT_TIMEOUT_MS) * 1000000ull;
	fs.uid = option_u32("toro.fs_uid", 0);
	fs.gid = option_u32("toro.fs_gid", 0);
	fs_params.ro = boot_option("toro.fs_ro") != NULL;
	if (fuse_init() < 0) {
		fs_fail("no FUSE session");
		return -1;
	}
	kdebug("virtio-fs: tag \"%s\" at slot %d (GSI %d, vector 0x%x)%s mounted at /\n", tag, fs.dev.slot,
	       fs.dev.gsi, fs.dev.vector, fs_params.ro ? " read-only," : "");
	return 0;
}

/* Mounts the first virtio-fs device whose tag is "toro" at "/". Runs in
 * a thread (it waits for the INIT reply). */
bool virtio_fs_probe(const struct vmmio *d)
{
	static bool taken;
	char tag[37];
	for (int i = 0; i < 36; i++)
		tag[i] = vmmio_config8(d, i); /* struct virtio_fs_config: tag[36], num_request_queues */
	tag[36] = 0;
	if (taken || strcmp(tag, "toro") != 0) {
		kdebug("virtio-fs: slot %d has tag \"%s\"%s; ignored\n", d->slot, tag, taken ? "" : ", not \"toro\"");
		return false;
	}
	taken = true;
	fs.dev = *d;
	__atomic_store_n(&fs.progress_ns, time_ns(), __ATOMIC_RELEASE);
	if (fs_start(tag) == 0)
		fs_mount();
	return true;
}
