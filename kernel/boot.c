/* What the PVH boot path hands over (hvm_start_info, Xen's
 * arch-x86/hvm/start_info.h): the memory map, the ACPI RSDP and the
 * command line "key=value ... -- arg1 arg2". toro-run encodes each
 * argument with %XX escapes so that spaces survive. */
#include "defs.h"

#define HVM_START_MAGIC 0x336ec578

struct hvm_start_info {
	uint32_t magic, version, flags, nr_modules;
	uint64_t modlist_paddr, cmdline_paddr, rsdp_paddr;
	uint64_t memmap_paddr;      /* version >= 1 */
	uint32_t memmap_entries, reserved;
};

struct e820_entry e820[64];
int e820_count;
uint64_t boot_rsdp;
int kernel_argc;
char *kernel_argv[ARGS_MAX + 2];   /* argv[0], the arguments, NULL */

static char cmdline[CMDLINE_MAX];
static char *options[64];
static int noptions;

static int hexval(char c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

static void percent_decode(char *s)
{
	char *d = s;
	for (; *s; s++) {
		if (s[0] == '%' && hexval(s[1]) >= 0 && hexval(s[2]) >= 0) {
			*d++ = hexval(s[1]) * 16 + hexval(s[2]);
			s += 2;
		} else {
			*d++ = *s;
		}
	}
	*d = 0;
}

static void split_cmdline(void)
{
	bool args = false;
	for (char *p = cmdline; *p;) {
		while (*p == ' ')
			*p++ = 0;
		if (!*p)
			break;
		char *word = p;
		while (*p && *p != ' ')
			p++;
		if (*p)
			*p++ = 0;
		if (!args && strcmp(word, "--") == 0) {
			args = true;
		} else if (args) {
			if (kernel_argc > ARGS_MAX)
				panic("more than %d program arguments (toro-run refuses them)", ARGS_MAX);
			if (strcmp(word, "%-") == 0) /* toro-run's encoding of "" ('%' itself is %25) */
				word[0] = 0;
			percent_decode(word);
			kernel_argv[kernel_argc++] = word;
		} else {
			if (noptions == (int)ARRAY_SIZE(options))
				panic("more than %d boot options", (int)ARRAY_SIZE(options));
			percent_decode(word);
			options[noptions++] = word;
		}
	}
	kernel_argv[kernel_argc] = NULL;
}

void boot_parse_start_info(uint32_t info_pa)
{
	struct hvm_start_info *si = (void *)(uint64_t)info_pa;
	if (si->magic != HVM_START_MAGIC)
		panic("bad hvm_start_info magic %x", si->magic);
	if (si->cmdline_paddr) {
		const char *line = (const char *)si->cmdline_paddr;
		strncpy_z(cmdline, line, sizeof cmdline);
		if (strlen(cmdline) == sizeof cmdline - 1 && line[sizeof cmdline - 1])
			panic("the command line is longer than %d bytes (toro-run refuses it)", CMDLINE_MAX - 1);
	}
	kernel_argc = 1; /* argv[0], the program's name, is toro.name */
	split_cmdline();
	const char *name = boot_option("toro.name");
	kernel_argv[0] = (char *)(name && *name ? name : "a.out");
	boot_rsdp = si->rsdp_paddr;
	if (si->version >= 1 && si->memmap_paddr) {
		struct e820_entry *m = (void *)si->memmap_paddr;
		for (uint32_t i = 0; i < si->memmap_entries && e820_count < (int)ARRAY_SIZE(e820); i++)
			e820[e820_count++] = m[i];
	}
	if (e820_count == 0)
		panic("no memory map in hvm_start_info (version %u)", si->version);
}

/* The value of the nth (from 0) "key=value" on the command line, "" for
 * a bare "key", or NULL when there are fewer. */
const char *boot_option_nth(const char *key, int nth)
{
	size_t n = strlen(key);
	for (int i = 0; i < noptions; i++) {
		if (strncmp(options[i], key, n) == 0 && (options[i][n] == '=' || options[i][n] == 0) &&
		    nth-- == 0)
			return options[i][n] == '=' ? options[i] + n + 1 : "";
	}
	return NULL;
}

const char *boot_option(const char *key)
{
	return boot_option_nth(key, 0);
}
