/* Starts the application processors one at a time: copy the trampoline
 * below 1 MiB, hand it a page table, a stack and its struct cpu, then
 * INIT-SIPI-SIPI (SDM vol. 3 8.4.4). The 10 ms wait after INIT that the
 * SDM asks of old processors is cut to 1 ms, as Linux does for modern
 * ones; a second SIPI goes out only if the first did not start the CPU. */
#include "defs.h"
#include "x86.h"
#include "cpu.h"
#include "sched.h"

#define TRAMPOLINE_PA 0x8000

extern char trampoline_start[], trampoline_end[], trampoline_params[];

void ap_entry(struct cpu *c)
{
	cpu_init(c);
	sched_init_cpu();
	__atomic_store_n(&c->online, 1, __ATOMIC_RELEASE);
	sched_run_idle();
}

static bool wait_online(struct cpu *c, uint64_t ns)
{
	uint64_t end = time_ns() + ns;
	while (time_ns() < end)
		if (__atomic_load_n(&c->online, __ATOMIC_ACQUIRE))
			return true;
	return false;
}

static bool start_ap(int id, uint32_t apic_id)
{
	struct cpu *c = cpu_alloc(NULL, id, apic_id);
	uint8_t *stack = stack_alloc(id / threads_per_rank, KSTACK_SIZE);
	if (!stack)
		panic("out of memory for the stack of CPU %d (give toro-run more --mem)", id);
	uint64_t *params = (uint64_t *)(TRAMPOLINE_PA + (trampoline_params - trampoline_start));
	params[0] = read_cr3();
	params[1] = (uint64_t)stack + KSTACK_SIZE;
	params[2] = (uint64_t)c;
	mfence();
	lapic_send_init_sipi(apic_id, 0, 0);
	delay_ns(1000000);
	lapic_send_init_sipi(apic_id, 1, TRAMPOLINE_PA >> 12);
	if (!wait_online(c, 2000000)) {
		lapic_send_init_sipi(apic_id, 1, TRAMPOLINE_PA >> 12);
		if (!wait_online(c, 5000000000ull))
			return false;
	}
	return true;
}

void smp_start_aps(void)
{
	memcpy((void *)TRAMPOLINE_PA, trampoline_start, trampoline_end - trampoline_start);
	uint32_t self = lapic_id();
	for (int i = 0; i < cpu_count_found; i++) {
		if (cpu_apic_ids[i] == self)
			continue;
		if (!start_ap(ncpus, cpu_apic_ids[i])) {
			kprintf("toro: CPU with APIC id %u did not start; going on with %d CPUs\n", cpu_apic_ids[i], ncpus);
			break;
		}
		ncpus++;
	}
	kdebug("smp: %d CPUs online\n", ncpus);
}
