/* Serial console on COM1 (16550 UART at 0x3f8). One lock: every call
 * writes its text whole, so lines of different cores never mix. */
#include "defs.h"
#include "x86.h"
#include "spinlock.h"
#include "cpu.h"

#define COM1 0x3f8

bool verbose;
static struct spinlock console_lock_;

void console_init(void)
{
	outb(COM1 + 1, 0x00);   /* no interrupts */
	outb(COM1 + 3, 0x80);   /* DLAB */
	outb(COM1 + 0, 0x01);   /* 115200 baud */
	outb(COM1 + 1, 0x00);
	outb(COM1 + 3, 0x03);   /* 8N1 */
	outb(COM1 + 2, 0xc7);   /* FIFO on */
	outb(COM1 + 4, 0x03);
}

static void serial_putc(char c)
{
	for (int i = 0; i < 100000 && !(inb(COM1 + 5) & 0x20); i++)
		cpu_relax();
	outb(COM1, c);
}

/* The last line on the console is unfinished and belongs to line_owner
 * (a rank's descriptor, or NULL for the kernel). Text from anyone else
 * starts on a new line, so the lines of two writers never join. */
static bool line_open;
static const void *line_owner;

void console_write_raw(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		serial_putc(s[i]);
}

void console_write_owned(const void *owner, const char *s, size_t n)
{
	if (!n)
		return;
	if (line_open && owner != line_owner)
		serial_putc('\n');
	console_write_raw(s, n);
	line_open = s[n - 1] != '\n';
	line_owner = owner;
}

void console_write_unlocked(const char *s, size_t n)
{
	console_write_owned(NULL, s, n);
}

void console_lock(void) { spin_lock(&console_lock_); }
bool console_trylock(void) { return spin_trylock(&console_lock_); }
void console_unlock(void) { spin_unlock(&console_lock_); }

void console_write(const char *s, size_t n)
{
	spin_lock(&console_lock_);
	console_write_unlocked(s, n);
	spin_unlock(&console_lock_);
}

static void vkprintf(const char *fmt, va_list ap)
{
	char buf[512];
	int n = vsnprintf(buf, sizeof buf, fmt, ap);
	console_write(buf, n < (int)sizeof buf ? (size_t)n : sizeof buf - 1);
}

void kprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vkprintf(fmt, ap);
	va_end(ap);
}

/* Kernel chatter, shown with toro-run --verbose. */
void kdebug(const char *fmt, ...)
{
	if (!verbose)
		return;
	va_list ap;
	va_start(ap, fmt);
	vkprintf(fmt, ap);
	va_end(ap);
}
