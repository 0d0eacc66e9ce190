/* What kernel sources compiled for the host (tests/unit/) get in place of
 * the rest of the kernel (kshim.c): pages from aligned_alloc (free them
 * with free()), kprintf and kdebug into a console buffer the tests read,
 * panic as abort. */
#pragma once
#include <stddef.h>

extern char kshim_console[8192];  /* what kprintf printed since the last clear */
void kshim_console_clear(void);
int kshim_console_lines(void);
