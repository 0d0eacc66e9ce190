/* Finds the CPUs (local APIC ids) and the IOAPICs: from the ACPI MADT
 * (ACPI 6.4 section 5.2.12) through the RSDP that PVH hands over, else
 * from the Intel MultiProcessor table (MP spec 1.4 chapter 4). */
#include "defs.h"

uint32_t cpu_apic_ids[MAX_CPUS];
int cpu_count_found;
uint64_t ioapic_addr;
struct ioapic_desc ioapics[MAX_IOAPICS];
int nioapics;
bool acpi_madt_found;

struct sdt_header {
	char sig[4];
	uint32_t length;
	uint8_t revision, checksum;
	char oem[6], oem_table[8];
	uint32_t oem_rev, creator, creator_rev;
} __attribute__((packed));

struct rsdp {
	char sig[8];
	uint8_t checksum;
	char oem[6];
	uint8_t revision;
	uint32_t rsdt;
	uint32_t length;
	uint64_t xsdt;
} __attribute__((packed));

static void add_cpu(uint32_t apic_id)
{
	for (int i = 0; i < cpu_count_found; i++)
		if (cpu_apic_ids[i] == apic_id)
			return;
	if (cpu_count_found < MAX_CPUS)
		cpu_apic_ids[cpu_count_found++] = apic_id;
	else
		kprintf("toro: more than %d CPUs, ignoring APIC id %u\n", MAX_CPUS, apic_id);
}

static void add_ioapic(uint64_t addr, uint32_t gsi_base)
{
	if (!ioapic_addr)
		ioapic_addr = addr;
	if (nioapics < MAX_IOAPICS)
		ioapics[nioapics++] = (struct ioapic_desc){addr, gsi_base};
}

static void parse_madt(struct sdt_header *h)
{
	uint8_t *p = (uint8_t *)h + 44, *end = (uint8_t *)h + h->length;
	for (; p + 2 <= end && p[1] >= 2; p += p[1]) {
		switch (p[0]) {
		case 0: /* processor local APIC: uid, apic id, flags (enabled | online capable) */
			if (*(uint32_t *)(p + 4) & 1)
				add_cpu(p[3]);
			break;
		case 1: /* I/O APIC: id, reserved, address, global system interrupt base */
			add_ioapic(*(uint32_t *)(p + 4), *(uint32_t *)(p + 8));
			break;
		case 9: /* processor local x2APIC */
			if (*(uint32_t *)(p + 8) & 1)
				add_cpu(*(uint32_t *)(p + 4));
			break;
		}
	}
}

static struct sdt_header *find_table(struct rsdp *r, const char *sig)
{
	bool x = r->revision >= 2 && r->xsdt;
	struct sdt_header *root = (void *)(x ? r->xsdt : (uint64_t)r->rsdt);
	int n = (root->length - sizeof *root) / (x ? 8 : 4);
	for (int i = 0; i < n; i++) {
		uint8_t *e = (uint8_t *)(root + 1) + i * (x ? 8 : 4);
		uint64_t pa = x ? *(uint64_t *)e : *(uint32_t *)e;
		struct sdt_header *t = (void *)pa;
		if (memcmp(t->sig, sig, 4) == 0)
			return t;
	}
	return NULL;
}

/* A pointer to physical memory that the compiler cannot reason about
 * (low addresses otherwise trip -Warray-bounds). */
static inline void *phys(uint64_t pa)
{
	__asm__("" : "+r"(pa));
	return (void *)pa;
}

static void *scan_mp(uint64_t lo, uint64_t len)
{
	for (uint64_t a = lo; a + 16 <= lo + len; a += 16) {
		uint8_t *p = (void *)a, sum = 0;
		if (memcmp(p, "_MP_", 4) != 0)
			continue;
		for (int i = 0; i < 16; i++)
			sum += p[i];
		if (sum == 0)
			return p;
	}
	return NULL;
}

static bool parse_mp_table(void)
{
	uint64_t ebda = (uint64_t)*(uint16_t *)phys(0x40e) << 4; /* BDA: EBDA segment */
	uint8_t *fp = NULL;
	if (ebda >= 0x1000)
		fp = scan_mp(ebda, 1024);
	if (!fp)
		fp = scan_mp(0x9fc00, 1024);
	if (!fp)
		fp = scan_mp(0xf0000, 0x10000);
	if (!fp || !*(uint32_t *)(fp + 4))
		return false;
	uint8_t *cfg = (void *)(uint64_t) * (uint32_t *)(fp + 4);
	if (memcmp(cfg, "PCMP", 4) != 0)
		return false;
	uint16_t count = *(uint16_t *)(cfg + 34);
	uint8_t *e = cfg + 44;
	for (int i = 0; i < count; i++) {
		if (e[0] == 0) { /* processor: apic id, version, flags (enabled) */
			if (e[3] & 1)
				add_cpu(e[1]);
			e += 20;
		} else {
			if (e[0] == 2) /* I/O APIC: no GSI base here; 24 pins each */
				add_ioapic(*(uint32_t *)(e + 4), 24 * nioapics);
			e += 8;
		}
	}
	return cpu_count_found > 0;
}

void acpi_find_cpus(void)
{
	struct sdt_header *madt = NULL;
	if (boot_rsdp) {
		struct rsdp *r = (void *)boot_rsdp;
		if (memcmp(r->sig, "RSD PTR ", 8) == 0)
			madt = find_table(r, "APIC");
	}
	if (madt) {
		acpi_madt_found = true;
		parse_madt(madt);
		kdebug("acpi: MADT lists %d CPUs\n", cpu_count_found);
	} else if (parse_mp_table()) {
		kdebug("acpi: no MADT, MP table lists %d CPUs\n", cpu_count_found);
	}
	if (cpu_count_found == 0) {
		kprintf("toro: neither ACPI MADT nor MP table found; running on the boot CPU only\n");
		cpu_count_found = 1;
		cpu_apic_ids[0] = lapic_id();
	}
	if (!nioapics)
		add_ioapic(0xfec00000, 0);
}
