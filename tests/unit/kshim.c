/* The kernel services tests/unit/ links kernel sources against (kshim.h).
 * Signatures as in kernel/defs.h, which this file does not include: its
 * declarations of the C library would meet glibc's. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kshim.h"

#define PAGE 4096

char kshim_console[8192];
static size_t console_len;

void kshim_console_clear(void)
{
	console_len = 0;
	kshim_console[0] = 0;
}

int kshim_console_lines(void)
{
	int n = 0;
	for (size_t i = 0; i < console_len; i++)
		n += kshim_console[i] == '\n';
	return n;
}

static void console_vprintf(const char *fmt, va_list ap)
{
	size_t room = sizeof kshim_console - console_len;
	int n = vsnprintf(kshim_console + console_len, room, fmt, ap);
	if (n > 0)
		console_len += (size_t)n < room ? (size_t)n : room - 1;
}

void kprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	console_vprintf(fmt, ap);
	va_end(ap);
}

void kdebug(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	console_vprintf(fmt, ap);
	va_end(ap);
}

void panic(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "panic: ");
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	abort();
}

/* Pages of any pool; NULL when asked for nothing, as mem.c would fail. */
void *page_alloc_any(int pool, size_t npages)
{
	(void)pool;
	return npages ? aligned_alloc(PAGE, npages * PAGE) : NULL;
}
