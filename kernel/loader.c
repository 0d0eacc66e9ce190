/* Starts the application embedded in the image (scripts/toro-link puts
 * the static-PIE ELF in .app): one private copy per rank, loaded at its
 * own address from the rank's memory pool, with a Linux initial stack
 * (System V x86-64 ABI 3.4.1), started on the rank's core. musl's rcrt1.o
 * relocates each copy by itself. With toro.tpr=T each rank owns T cores,
 * rank i cores i*T .. i*T+T-1, its first thread on the first of them
 * (more threads: thread_sys.c). The job ends when the last rank exits,
 * with the first non-zero status a rank reported. */
#include "defs.h"
#include "x86.h"
#include "cpu.h"
#include "sched.h"
#include "proc.h"
#include "elf.h"

#define AT_NULL 0
#define AT_PHDR 3
#define AT_PHENT 4
#define AT_PHNUM 5
#define AT_PAGESZ 6
#define AT_BASE 7
#define AT_FLAGS 8
#define AT_ENTRY 9
#define AT_UID 11
#define AT_EUID 12
#define AT_GID 13
#define AT_EGID 14
#define AT_PLATFORM 15
#define AT_HWCAP 16
#define AT_CLKTCK 17
#define AT_SECURE 23
#define AT_RANDOM 25
#define AT_EXECFN 31
#define AT_TORO 0x746f726f /* Toro's service table ("toro") */

#define DEFAULT_STACK (1024 * 1024)

extern uint8_t toro_app_image[], toro_app_image_end[];
void enter_user(uint64_t entry, uint64_t sp) __attribute__((noreturn));

struct proc *procs[MAX_CPUS];
void *(*service_table_for)(int rank);
int nprocs;
static volatile int live_ranks;
static volatile int job_status;

static const struct elf_ehdr *app_elf(void)
{
	const struct elf_ehdr *e = (const void *)toro_app_image;
	size_t size = toro_app_image_end - toro_app_image;
	if (size < sizeof *e || memcmp(e->ident, "\177ELF", 4) != 0 || e->ident[4] != 2)
		panic("no application in this image (build it with toro-mpicc)");
	if (e->machine != EM_X86_64 || e->type != ET_DYN)
		panic("the application is not an x86-64 static PIE (type %u); build it with toro-mpicc", e->type);
	return e;
}

static const struct elf_phdr *phdr(const struct elf_ehdr *e, int i)
{
	return (const void *)(toro_app_image + e->phoff + (uint64_t)i * e->phentsize);
}

static uint64_t image_span(const struct elf_ehdr *e)
{
	uint64_t end = 0;
	for (int i = 0; i < e->phnum; i++) {
		const struct elf_phdr *ph = phdr(e, i);
		if (ph->type == PT_INTERP)
			panic("the application wants a dynamic linker; link it static (toro-mpicc does)");
		if (ph->type == PT_LOAD)
			end = MAX(end, ph->vaddr + ph->memsz);
	}
	return ALIGN_UP(end, PAGE_SIZE);
}

static bool load_copy(struct proc *p, const struct elf_ehdr *e)
{
	uint64_t span = image_span(e);
	p->image_pages = span / PAGE_SIZE;
	p->image = page_alloc(p->rank, p->image_pages);
	if (!p->image)
		return false;
	memset(p->image, 0, span);
	for (int i = 0; i < e->phnum; i++) {
		const struct elf_phdr *ph = phdr(e, i);
		if (ph->type == PT_LOAD)
			memcpy(p->image + ph->vaddr, toro_app_image + ph->offset, ph->filesz);
	}
	p->base = (uint64_t)p->image;
	p->entry = p->base + e->entry;
	p->brk = p->base + span;
	return true;
}

static uint64_t random64(uint64_t salt)
{
	uint64_t v;
	if (rdrand64(&v))
		return v;
	v = rdtsc() ^ salt * 0x9e3779b97f4a7c15ull;
	v ^= v >> 30;
	v *= 0xbf58476d1ce4e5b9ull;
	v ^= v >> 27;
	v *= 0x94d049bb133111ebull;
	return v ^ (v >> 31);
}

/* Copies a string to the top of the stack being built. */
static uint64_t push_str(uint64_t *sp, const char *s)
{
	size_t n = strlen(s) + 1;
	*sp -= n;
	memcpy((void *)*sp, s, n);
	return *sp;
}

/* Copies n strings, one after another, below *sp; returns the address of
 * the first (the others follow it, each after the previous one's NUL). */
static uint64_t push_strs(uint64_t *sp, int n, char *const *s)
{
	size_t total = 0;
	for (int i = 0; i < n; i++)
		total += strlen(s[i]) + 1;
	*sp -= total;
	uint8_t *d = (uint8_t *)*sp;
	for (int i = 0; i < n; i++) {
		size_t len = strlen(s[i]) + 1;
		memcpy(d, s[i], len);
		d += len;
	}
	return *sp;
}

/* Writes the addresses of n consecutive strings that start at `first`. */
static uint64_t *put_ptrs(uint64_t *w, int n, uint64_t first)
{
	for (int i = 0; i < n; i++) {
		*w++ = first;
		first += strlen((const char *)first) + 1;
	}
	*w++ = 0;
	return w;
}

/* Builds argc, argv, envp and auxv under the stack top; returns %rsp. */
static uint64_t build_stack(struct proc *p, const struct elf_ehdr *e, int argc, char **argv)
{
	uint64_t sp = (uint64_t)p->stack + p->stack_size;
	char env_rank[32], env_n[32];
	snprintf(env_rank, sizeof env_rank, "TORO_RANK=%d", p->rank);
	snprintf(env_n, sizeof env_n, "TORO_NRANKS=%d", p->nranks);
	/* toro-run -x NAME=VALUE gives toro.env=NAME=VALUE, at most ENV_MAX. */
	char *envs[5 + ENV_MAX] = {env_rank, env_n, "PATH=/bin:/usr/bin", "HOME=/", "TERM=dumb"};
	int nenv = 5;
	for (const char *e; nenv < (int)ARRAY_SIZE(envs) && (e = boot_option_nth("toro.env", nenv - 5));)
		envs[nenv++] = (char *)e;
	size_t need = 8 * (size_t)(argc + 64) + 1024;
	for (int i = 0; i < argc; i++)
		need += strlen(argv[i]) + 1;
	for (int i = 5; i < nenv; i++)
		need += strlen(envs[i]) + 1;
	if (need > p->stack_size / 2)
		panic("rank %d: the program's arguments (%lu KiB) do not fit in half of its %lu KiB stack "
		      "(toro-run --stack)", p->rank, need >> 10, p->stack_size >> 10);
	uint64_t args = push_strs(&sp, argc, argv);
	uint64_t env = push_strs(&sp, nenv, envs);
	uint64_t platform = push_str(&sp, "x86_64");
	sp = ALIGN_DOWN(sp, 16) - 16;
	uint64_t rnd = sp;
	((uint64_t *)rnd)[0] = random64(p->rank * 2 + 1);
	((uint64_t *)rnd)[1] = random64(p->rank * 2 + 2);

	uint64_t phdr_addr = p->base + e->phoff;
	for (int i = 0; i < e->phnum; i++)
		if (phdr(e, i)->type == PT_PHDR)
			phdr_addr = p->base + phdr(e, i)->vaddr;
	uint32_t r[4];
	cpuid(1, 0, r);
	uint64_t aux[][2] = {
		{AT_PHDR, phdr_addr}, {AT_PHENT, e->phentsize}, {AT_PHNUM, e->phnum},
		{AT_PAGESZ, PAGE_SIZE}, {AT_BASE, 0}, {AT_FLAGS, 0}, {AT_ENTRY, p->entry},
		{AT_UID, 0}, {AT_EUID, 0}, {AT_GID, 0}, {AT_EGID, 0}, {AT_SECURE, 0},
		{AT_HWCAP, r[3]}, {AT_CLKTCK, 100}, {AT_PLATFORM, platform}, {AT_RANDOM, rnd},
		{AT_EXECFN, args}, {AT_TORO, (uint64_t)p->services}, {AT_NULL, 0},
	};
	size_t words = 1 + argc + 1 + nenv + 1 + 2 * ARRAY_SIZE(aux);
	sp = ALIGN_DOWN(sp - words * 8, 16);
	uint64_t *w = (uint64_t *)sp;
	*w++ = argc;
	w = put_ptrs(w, argc, args);
	w = put_ptrs(w, nenv, env);
	memcpy(w, aux, sizeof aux);
	return sp;
}

static void rank_main(void *arg)
{
	struct proc *p = arg;
	/* The stack's guard pages were unmapped on core 0. */
	for (uint64_t g = (uint64_t)p->stack - STACK_GUARD; g < (uint64_t)p->stack; g += PAGE_SIZE)
		invlpg(g);
	struct thread *t = current_thread();
	t->rank = p->rank;
	t->user_stack = p->stack;
	t->user_stack_size = p->stack_size;
	p->thread = t;
	proc_add_main_thread(p, t);
	p->start_ns = time_ns();
	enter_user(p->entry, p->initial_sp);
}

struct proc *current_proc(void)
{
	struct thread *t = current_thread();
	return t && t->rank >= 0 ? procs[t->rank] : NULL;
}

static void rank_done(int status)
{
	if (status)
		__atomic_compare_exchange_n(&job_status, &(int){0}, status, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
	if (__atomic_sub_fetch(&live_ranks, 1, __ATOMIC_ACQ_REL) == 0)
		job_exit(job_status);
}

/* True for the first end of the rank (exit_group, its last thread's exit,
 * a fatal signal); its other threads then just stop. */
static bool first_end(struct proc *p)
{
	return !__atomic_exchange_n(&p->exiting, 1, __ATOMIC_ACQ_REL);
}

void proc_exit(struct proc *p, int status)
{
	if (!first_end(p))
		thread_exit(status & 0xff);
	files_flush_console(p);
	rank_done(status & 0xff);
	thread_exit(status & 0xff);
}

static const char *signal_names[32] = {
	[1] = "SIGHUP", [2] = "SIGINT", [3] = "SIGQUIT", [4] = "SIGILL", [5] = "SIGTRAP",
	[6] = "SIGABRT", [7] = "SIGBUS", [8] = "SIGFPE", [9] = "SIGKILL", [11] = "SIGSEGV",
	[13] = "SIGPIPE", [14] = "SIGALRM", [15] = "SIGTERM",
};

/* " thread TID" for a thread other than the rank's first. */
static const char *thread_label(void)
{
	static char buf[MAX_CPUS][24];
	struct thread *t = current_thread();
	struct proc *p = current_proc();
	if (!p || t == p->thread)
		return "";
	snprintf(buf[p->rank], sizeof buf[0], " thread %d", t->tid);
	return buf[p->rank];
}

/* A fatal signal the rank sent itself (abort, raise): like Linux's default
 * action, the rank ends with status 128 + sig, and so does the job. */
void proc_kill(struct proc *p, int sig)
{
	const char *name = sig > 0 && sig < 32 && signal_names[sig] ? signal_names[sig] : "signal";
	if (!first_end(p))
		thread_exit(128 + sig);
	files_flush_console(p);
	kprintf("toro: rank %d%s (core %d): killed by %s (signal %d)%s\n", p->rank, thread_label(), this_cpu()->id, name, sig,
		sig == 6 ? ", as abort() does" : "");
	rank_done(128 + sig);
	thread_exit(128 + sig);
}

/* Finds the function around addr in the faulting rank's symbol table. */
static const char *app_symbol(uint64_t addr, uint64_t *offset)
{
	struct proc *p = current_proc();
	const struct elf_ehdr *e = (const void *)toro_app_image;
	if (!p || addr < p->base || addr >= p->base + p->image_pages * PAGE_SIZE || !e->shoff)
		return NULL;
	uint64_t va = addr - p->base;
	const struct elf_shdr *sh = (const void *)(toro_app_image + e->shoff);
	for (int i = 0; i < e->shnum; i++) {
		if (sh[i].type != SHT_SYMTAB)
			continue;
		const struct elf_sym *s = (const void *)(toro_app_image + sh[i].offset);
		const char *strtab = (const char *)toro_app_image + sh[sh[i].link].offset;
		const struct elf_sym *best = NULL;
		for (size_t j = 0; j < sh[i].size / sizeof *s; j++) {
			if ((s[j].info & 0xf) != STT_FUNC || s[j].value > va)
				continue;
			if (!best || s[j].value > best->value)
				best = &s[j];
		}
		if (best && (!best->size || va < best->value + best->size)) {
			*offset = va - best->value;
			return strtab + best->name;
		}
	}
	return NULL;
}

static size_t stack_option(void)
{
	const char *opt = boot_option("toro.stack");
	bool ok = false;
	size_t size = opt ? parse_size(opt, &ok) : 0;
	if (opt && (!ok || size < 16 * 1024))
		panic("bad toro.stack=%s (at least 16K)", opt);
	return ok ? ALIGN_UP(size, PAGE_SIZE) : DEFAULT_STACK;
}

static struct proc *make_rank(int rank, const struct elf_ehdr *e, size_t stack_size, int argc, char **argv)
{
	struct proc *p = kzalloc(sizeof *p);
	if (!p)
		panic("out of memory for rank %d (give toro-run more --mem)", rank);
	p->rank = rank;
	p->nranks = nprocs;
	p->first_core = rank * threads_per_rank;
	p->stack_size = stack_size;
	p->services = service_table_for ? service_table_for(rank) : NULL;
	if (!load_copy(p, e))
		panic("rank %d: not enough memory for a copy of the program (%lu KiB; give toro-run more --mem)",
		      rank, image_span(e) >> 10);
	uint8_t *guard = page_alloc(rank, (STACK_GUARD + stack_size) / PAGE_SIZE);
	if (!guard)
		panic("rank %d: not enough memory for a %lu KiB stack (toro-run --stack, --mem)", rank, stack_size >> 10);
	for (uint64_t g = 0; g < STACK_GUARD; g += PAGE_SIZE)
		mmu_set_guard((uint64_t)guard + g, true);
	p->stack = guard + STACK_GUARD;
	files_init(p);
	p->initial_sp = build_stack(p, e, argc, argv);
	procs[rank] = p; /* before the thread exists: it looks itself up */
	if (!thread_create(p->first_core, "rank", rank_main, p, 64 * 1024))
		panic("rank %d: out of memory for its thread (give toro-run more --mem)", rank);
	return p;
}

__attribute__((weak)) void toro_main(void)
{
	const struct elf_ehdr *e = app_elf();
	size_t stack_size = stack_option();
	app_symbolizer = app_symbol;
	if (ncpus % threads_per_rank)
		panic("%d CPUs came up: not ranks of %d cores each", ncpus, threads_per_rank);
	nprocs = ncpus / threads_per_rank;
	live_ranks = nprocs;
	const char *gdb_app = boot_option("toro.gdb");
	for (int r = 0; r < nprocs; r++) {
		make_rank(r, e, stack_size, kernel_argc, kernel_argv);
		if (gdb_app)
			kprintf("toro: rank %d is loaded at 0x%lx; its symbols in gdb: add-symbol-file %s -o 0x%lx\n",
				r, procs[r]->base, gdb_app, procs[r]->base);
	}
}
