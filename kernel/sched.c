/* Per-core cooperative scheduler. A thread lives on one core; any core may
 * create a thread on any core or wake one (under that core's run queue
 * lock, then an IPI if the core is halted). Nothing preempts: a thread
 * runs until it yields, sleeps, blocks, waits or exits. Waiting spins for
 * a few microseconds, then halts until an interrupt, so oversubscribed
 * vCPUs (TCG, more vCPUs than host cores) still make progress. */
#include "defs.h"
#include "x86.h"
#include "cpu.h"
#include "sched.h"

/* How long a waiting core polls before it halts. Waking a halted vCPU
 * takes microseconds under TCG (an IPI, then QEMU wakes the vCPU thread),
 * so a core that halts between the messages of a ping-pong doubles its
 * latency; one that never halts keeps its host core from other vCPUs.
 * Measured here (2 and 4 ranks on 2 host cores): 5 us gave 4.6 us MPI
 * latency, 20 us 3.7 us with the 4-rank barrier no worse; 50 and 100 us
 * made the oversubscribed 4-rank collectives 1.5-2x slower. (KVM's own
 * halt polling waits up to 200 us.) */
#define SPIN_NS 20000
#define MAX_HALT_NS (50 * 1000 * 1000ull)

void swtch(uint64_t *old_rsp, uint64_t new_rsp);
void thread_entry(void);

static int next_id = 1;
static void *fpu_template;

struct thread *current_thread(void) { return this_cpu()->current; }

static void rq_push(struct cpu *c, struct thread *t)
{
	t->next = NULL;
	if (c->runq_tail)
		c->runq_tail->next = t;
	else
		c->runq_head = t;
	c->runq_tail = t;
}

static struct thread *rq_pop(struct cpu *c)
{
	struct thread *t = c->runq_head;
	if (t) {
		c->runq_head = t->next;
		if (!c->runq_head)
			c->runq_tail = NULL;
	}
	return t;
}

static void wake_sleepers(struct cpu *c)
{
	if (!c->sleepers)
		return;
	uint64_t now = time_ns();
	while (c->sleepers && c->sleepers->wake_at <= now) {
		struct thread *t = c->sleepers;
		c->sleepers = t->snext;
		t->snext = NULL;
		spin_lock(&c->rq_lock);
		if (t->state == T_SLEEPING || t->state == T_BLOCKED) {
			t->state = T_RUNNABLE;
			rq_push(c, t);
		}
		spin_unlock(&c->rq_lock);
	}
}

static void sleeper_insert(struct cpu *c, struct thread *t)
{
	struct thread **pp = &c->sleepers;
	while (*pp && (*pp)->wake_at <= t->wake_at)
		pp = &(*pp)->snext;
	t->snext = *pp;
	*pp = t;
}

static void sleeper_remove(struct cpu *c, struct thread *t)
{
	for (struct thread **pp = &c->sleepers; *pp; pp = &(*pp)->snext)
		if (*pp == t) {
			*pp = t->snext;
			t->snext = NULL;
			return;
		}
}

static void free_thread(struct thread *t)
{
	stack_free(t->stack, t->stack_size);
	kfree(t->fpu_mem);
	kfree(t);
}

/* Runs in the new thread's context right after every switch. */
static void finish_switch(struct cpu *c)
{
	struct thread *m = c->migrating;
	if (m) {
		c->migrating = NULL;
		struct cpu *to = cpus[m->move_to - 1];
		m->move_to = 0;
		m->cpu = to;
		spin_lock(&to->rq_lock);
		m->state = T_RUNNABLE;
		rq_push(to, m);
		spin_unlock(&to->rq_lock);
		sched_kick(to);
	}
	struct thread *d = c->dying;
	if (!d)
		return;
	c->dying = NULL;
	if (c->fpu_owner == d)
		c->fpu_owner = NULL;
	if (d->detached)
		free_thread(d);
	else
		__atomic_store_n(&d->state, T_DEAD, __ATOMIC_RELEASE);
}

/* The FPU is switched lazily: kernel code never touches it, so it keeps
 * the last user thread's registers across switches to the idle thread. */
static void switch_to(struct cpu *c, struct thread *prev, struct thread *next)
{
	if (next->fpu && c->fpu_owner != next) {
		if (c->fpu_owner)
			fpu_save(c->fpu_owner->fpu);
		fpu_restore(next->fpu);
		c->fpu_owner = next;
	}
	if (next->fs_base != c->fs_base) {
		wrmsr(MSR_FS_BASE, next->fs_base);
		c->fs_base = next->fs_base;
	}
	c->current = next;
	c->kstack_top = (uint64_t)next->stack + next->stack_size;
	swtch(&prev->rsp, next->rsp);
	finish_switch(this_cpu());
}

static void schedule(void)
{
	struct cpu *c = this_cpu();
	struct thread *prev = c->current;
	wake_sleepers(c);
	spin_lock(&c->rq_lock);
	struct thread *next = rq_pop(c);
	if (prev->move_to && prev->state == T_RUNNING) {
		/* Leaves for another core (sched_setaffinity): its FPU
		 * registers go to memory, finish_switch queues it there. */
		if (c->fpu_owner == prev) {
			fpu_save(prev->fpu);
			c->fpu_owner = NULL;
		}
		prev->state = T_BLOCKED;
		c->migrating = prev;
	} else if (prev->state == T_RUNNING && prev != c->idle) {
		if (!next) {
			spin_unlock(&c->rq_lock);
			return;
		}
		prev->state = T_RUNNABLE;
		rq_push(c, prev);
	}
	if (!next)
		next = c->idle;
	next->state = T_RUNNING;
	spin_unlock(&c->rq_lock);
	if (next != prev)
		switch_to(c, prev, next);
}

void thread_main(struct thread *t)
{
	finish_switch(this_cpu());
	/* The guard page under this stack was unmapped on the creating core;
	 * drop any large-page translation of it cached here. */
	invlpg((uint64_t)t->stack - PAGE_SIZE);
	sti();
	t->fn(t->arg);
	thread_exit(0);
}

/* A thread that runs once thread_start() queues it. */
struct thread *thread_new(int cpu, const char *name, void (*fn)(void *), void *arg, size_t stack_size)
{
	if (cpu < 0 || cpu >= ncpus || !cpus[cpu] || !cpus[cpu]->online)
		return NULL;
	struct thread *t = kzalloc(sizeof *t);
	if (!t)
		return NULL;
	stack_size = ALIGN_UP(stack_size ? stack_size : KSTACK_SIZE, PAGE_SIZE);
	t->fpu_mem = kmalloc(fpu_area_size() + 64);
	t->stack = stack_alloc(cpus[cpu]->rank, stack_size);
	if (!t->stack)
		t->stack = stack_alloc(this_cpu()->rank, stack_size);
	if (!t->fpu_mem || !t->stack) {
		if (t->stack)
			stack_free(t->stack, stack_size);
		kfree(t->fpu_mem);
		kfree(t);
		return NULL;
	}
	/* kmalloc aligns to 16; xsave wants 64 */
	t->fpu = (void *)ALIGN_UP((uint64_t)t->fpu_mem, 64);
	memcpy(t->fpu, fpu_template, fpu_area_size());
	t->stack_size = stack_size;
	t->cpu = cpus[cpu];
	t->fn = fn;
	t->arg = arg;
	t->rank = -1;
	t->id = __atomic_fetch_add(&next_id, 1, __ATOMIC_RELAXED);
	strncpy_z(t->name, name, sizeof t->name);

	uint64_t *sp = (uint64_t *)(t->stack + stack_size - 24);
	sp[0] = (uint64_t)thread_entry;  /* swtch returns here; rsp then 16-aligned */
	sp[-1] = 0;                      /* rbp */
	sp[-2] = (uint64_t)t;            /* rbx */
	sp[-3] = sp[-4] = sp[-5] = sp[-6] = 0;
	t->rsp = (uint64_t)(sp - 6);
	return t;
}

void thread_start(struct thread *t)
{
	struct cpu *c = t->cpu;
	spin_lock(&c->rq_lock);
	t->state = T_RUNNABLE;
	rq_push(c, t);
	spin_unlock(&c->rq_lock);
	sched_kick(c);
}

struct thread *thread_create(int cpu, const char *name, void (*fn)(void *), void *arg, size_t stack_size)
{
	struct thread *t = thread_new(cpu, name, fn, arg, stack_size);
	if (t)
		thread_start(t);
	return t;
}

static bool is_dead(void *t)
{
	return __atomic_load_n(&((struct thread *)t)->state, __ATOMIC_ACQUIRE) == T_DEAD;
}

int thread_join(struct thread *t)
{
	sched_wait_until(is_dead, t);
	int status = t->exit_status;
	free_thread(t);
	return status;
}

void thread_exit(int status)
{
	struct cpu *c = this_cpu();
	struct thread *t = c->current;
	t->exit_status = status;
	spin_lock(&c->rq_lock);
	t->state = T_BLOCKED;
	c->dying = t;
	spin_unlock(&c->rq_lock);
	schedule();
	panic("dead thread %s was scheduled", t->name);
}

void thread_yield(void) { schedule(); }

void thread_sleep_ns(uint64_t ns)
{
	struct cpu *c = this_cpu();
	struct thread *t = c->current;
	t->wake_at = time_ns() + ns;
	t->state = T_SLEEPING;
	sleeper_insert(c, t);
	schedule();
}

/* thread_block() that also ends at deadline_ns (0: never); false when
 * the deadline passed with no wake. */
bool thread_block_until(uint64_t deadline_ns)
{
	if (!deadline_ns) {
		thread_block();
		return true;
	}
	struct cpu *c = this_cpu();
	struct thread *t = c->current;
	if (time_ns() >= deadline_ns)
		return false;
	spin_lock(&c->rq_lock);
	if (t->wake_pending) {
		t->wake_pending = 0;
		spin_unlock(&c->rq_lock);
		return true;
	}
	t->wake_at = deadline_ns;
	t->state = T_BLOCKED;
	spin_unlock(&c->rq_lock);
	sleeper_insert(c, t);
	schedule();
	/* Woken or due: it runs on its own core again (a blocked thread
	 * does not migrate), so it may take itself off the list. */
	c = this_cpu();
	sleeper_remove(c, t);
	return time_ns() < deadline_ns;
}

void thread_block(void)
{
	struct cpu *c = this_cpu();
	struct thread *t = c->current;
	spin_lock(&c->rq_lock);
	if (t->wake_pending) {
		t->wake_pending = 0;
		spin_unlock(&c->rq_lock);
		return;
	}
	t->state = T_BLOCKED;
	spin_unlock(&c->rq_lock);
	schedule();
}

void thread_wake(struct thread *t)
{
	struct cpu *c = t->cpu;
	spin_lock(&c->rq_lock);
	if (t->state == T_BLOCKED) {
		t->state = T_RUNNABLE;
		rq_push(c, t);
	} else {
		t->wake_pending = 1;
	}
	spin_unlock(&c->rq_lock);
	sched_kick(c);
}

/* Wakes core c if it is halted. The waker changed what c waits for before
 * calling; c sets `halted` before its last look (halt_until_event), and the
 * fences order both sides, so the wake-up cannot be lost. */
void sched_kick(struct cpu *c)
{
	mfence();
	if (c->halted && c != this_cpu())
		lapic_send_ipi(c->apic_id, VEC_WAKE);
}

static bool sleeper_due(struct cpu *c)
{
	return c->sleepers && c->sleepers->wake_at <= time_ns();
}

static void halt_until_event(struct cpu *c, bool (*cond)(void *), void *arg)
{
	cli();
	c->halted = 1;
	mfence();
	if (c->runq_head || sleeper_due(c) || (cond && cond(arg))) {
		c->halted = 0;
		sti();
		return;
	}
	uint64_t ns = MAX_HALT_NS;
	if (c->sleepers)
		ns = MIN(ns, c->sleepers->wake_at - time_ns());
	lapic_timer_oneshot_ns(ns);
	c->halts++;
	sti_hlt();
	c->halted = 0;
}

void sched_wait_until(bool (*cond)(void *), void *arg)
{
	struct cpu *c = this_cpu();
	for (;;) {
		uint64_t spin_end = time_ns() + SPIN_NS;
		do {
			if (cond(arg))
				return;
			cpu_relax();
		} while (time_ns() < spin_end);
		if (c->runq_head || sleeper_due(c)) {
			thread_yield();
			c = this_cpu(); /* it may have moved (sched_setaffinity) */
		} else
			halt_until_event(c, cond, arg);
	}
}

void sched_init_cpu(void)
{
	struct cpu *c = this_cpu();
	struct thread *t = kzalloc(sizeof *t);
	if (!t)
		panic("out of memory for the idle thread of CPU %d (give toro-run more --mem)", c->id);
	t->cpu = c;
	t->state = T_RUNNING;
	t->rank = -1;
	snprintf(t->name, sizeof t->name, "idle%d", c->id);
	c->idle = c->current = t;
	if (!fpu_template) {
		fpu_template = kmalloc(fpu_area_size() + 64);
		if (!fpu_template)
			panic("out of memory for the FPU template (give toro-run more --mem)");
		fpu_template = (void *)ALIGN_UP((uint64_t)fpu_template, 64);
		memset(fpu_template, 0, fpu_area_size());
		fpu_save(fpu_template);
	}
}

void sched_run_idle(void)
{
	struct cpu *c = this_cpu();
	sti();
	for (;;) {
		wake_sleepers(c);
		if (c->runq_head)
			schedule();
		else
			halt_until_event(c, NULL, NULL);
	}
}
