/* Time from the TSC. Its rate comes from, in order: toro.tsc_khz= on the
 * command line, the hypervisor leaf 0x40000010, CPUID 0x15/0x16, or a
 * measurement against PIT channel 0. Under TCG the guest reads the host's
 * TSC while the PIT follows the host clock, but the vCPU thread can be
 * descheduled at any moment, so the measurement brackets each PIT read
 * between two TSC reads and takes the median of several windows. */
#include "defs.h"
#include "x86.h"

#define PIT_HZ 1193182ull
#define WINDOWS 5

static uint64_t tsc_hz;
static uint64_t tsc_at_boot;
static uint64_t ns_mult; /* ns = (tsc * ns_mult) >> 32 */

uint64_t tsc_khz(void) { return tsc_hz / 1000; }

static uint16_t pit_read(void)
{
	outb(0x43, 0x00); /* latch channel 0 */
	uint8_t lo = inb(0x40);
	return lo | (uint16_t)inb(0x40) << 8;
}

/* A PIT reading and the TSC at that moment, to within the bracket. */
static uint16_t pit_sample(uint64_t *tsc)
{
	uint64_t best = ~0ull;
	uint16_t pit = 0;
	for (int i = 0; i < 5; i++) {
		uint64_t a = rdtsc();
		uint16_t p = pit_read();
		uint64_t b = rdtsc();
		if (b - a < best) {
			best = b - a;
			pit = p;
			*tsc = a + (b - a) / 2;
		}
	}
	return pit;
}

/* TSC ticks per second over one window of about 10 ms of PIT time. */
static uint64_t pit_window(void)
{
	uint64_t t0, t1;
	uint16_t prev = pit_sample(&t0);
	uint64_t elapsed = 0;
	while (elapsed < PIT_HZ / 100) {
		uint16_t now = pit_read();
		elapsed += (uint16_t)(prev - now);
		prev = now;
	}
	uint16_t last = pit_sample(&t1);
	elapsed += (uint16_t)(prev - last);
	return (t1 - t0) * PIT_HZ / elapsed;
}

static uint64_t calibrate_pit(void)
{
	outb(0x43, 0x34); /* channel 0, lobyte/hibyte, mode 2, binary */
	outb(0x40, 0);
	outb(0x40, 0);    /* reload 65536 */
	uint64_t w[WINDOWS];
	for (int i = 0; i < WINDOWS; i++) {
		w[i] = pit_window();
		for (int j = i; j > 0 && w[j] < w[j - 1]; j--) {
			uint64_t t = w[j];
			w[j] = w[j - 1];
			w[j - 1] = t;
		}
	}
	return w[WINDOWS / 2];
}

static uint64_t tsc_from_cpuid(const char **how)
{
	uint32_t r[4];
	cpuid(0x40000000, 0, r);
	if (r[0] >= 0x40000010 && r[0] < 0x40000100) {
		cpuid(0x40000010, 0, r);
		if (r[0]) {
			*how = "hypervisor leaf";
			return r[0] * 1000ull;
		}
	}
	cpuid(0, 0, r);
	uint32_t max = r[0];
	if (max >= 0x15) {
		cpuid(0x15, 0, r);
		if (r[0] && r[1] && r[2]) {
			*how = "CPUID 0x15";
			return (uint64_t)r[2] * r[1] / r[0];
		}
	}
	return 0;
}

void time_init(void)
{
	const char *how = "toro.tsc_khz";
	const char *opt = boot_option("toro.tsc_khz");
	bool ok = false;
	if (opt)
		tsc_hz = parse_long(opt, &ok) * 1000;
	if (!ok || !tsc_hz)
		tsc_hz = tsc_from_cpuid(&how);
	if (!tsc_hz) {
		how = "PIT";
		tsc_hz = calibrate_pit();
	}
	if (tsc_hz < 1000000)
		panic("TSC calibration failed (%lu Hz by %s)", tsc_hz, how);
	ns_mult = (1000000000ull << 32) / tsc_hz;
	tsc_at_boot = rdtsc();
	kdebug("time: TSC %lu kHz (%s)\n", tsc_hz / 1000, how);
}

uint64_t time_ns(void)
{
	int64_t d = rdtsc() - tsc_at_boot;
	if (d < 0) /* another core read the TSC a hair earlier */
		d = 0;
	return (uint64_t)(((unsigned __int128)d * ns_mult) >> 32);
}

void delay_ns(uint64_t ns)
{
	uint64_t end = time_ns() + ns;
	while (time_ns() < end)
		cpu_relax();
}
