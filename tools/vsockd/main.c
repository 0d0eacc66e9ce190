/* toro-vsockd: options, start-up, the event loop and exit. */
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "vhost_user.h"
#include "vring.h"
#include "vsock.h"

struct options opt = { .guest_cid = 3 };

static const char usage[] =
	"Usage: toro-vsockd --socket SOCK [OPTIONS]\n"
	"\n"
	"A vhost-user backend for QEMU's vhost-user-vsock-device: guest vsock\n"
	"stream ports become host Unix sockets and TCP ports. It serves one QEMU\n"
	"connection on SOCK and exits with status 0 when QEMU goes away.\n"
	"\n"
	"  --socket SOCK         the vhost-user socket QEMU connects to (required):\n"
	"                        -chardev socket,id=c0,path=SOCK\n"
	"                        -device vhost-user-vsock-device,chardev=c0\n"
	"  --guest-cid N         the guest's CID (default 3); the host is CID 2\n"
	"  --uds-path PATH       listen on the Unix socket PATH: a client writes\n"
	"                        \"CONNECT P\\n\", gets \"OK <local port>\\n\" once the guest\n"
	"                        accepts, then the stream is guest port P; a guest\n"
	"                        connecting to CID 2 port P reaches the Unix socket PATH_P\n"
	"  --forward HOSTPORT:P  TCP 127.0.0.1:HOSTPORT is guest port P (repeatable)\n"
	"  --connect P:HOST:PORT a guest connecting to CID 2 port P reaches TCP\n"
	"                        HOST:PORT (repeatable; takes precedence over PATH_P)\n"
	"  --listen-wait MS      a host client whose guest port has no listener yet\n"
	"                        (the guest answers RST) is held and asked again until\n"
	"                        MS milliseconds after it came (default 0: refused at once)\n"
	"  --verbose             log vhost-user messages and connection events\n"
	"  --help                this text\n";

static void bad_usage(const char *fmt, const char *arg)
{
	fprintf(stderr, "toro-vsockd: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry 'toro-vsockd --help'.\n");
	exit(2);
}

/* A decimal number in [min, max], or the usage error. */
static unsigned long long number(const char *s, unsigned long long min, unsigned long long max,
				 const char *what)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (!*s || *s < '0' || *s > '9' || *end || errno || v < min || v > max) {
		fprintf(stderr, "toro-vsockd: %s '%s' is not a number from %llu to %llu\n", what, s, min, max);
		fprintf(stderr, "Try 'toro-vsockd --help'.\n");
		exit(2);
	}
	return v;
}

static void *grow(void *p, int n, size_t size)
{
	p = realloc(p, (n + 1) * size);
	if (!p) {
		fprintf(stderr, "toro-vsockd: out of memory\n");
		exit(1);
	}
	return p;
}

static void add_forward(char *arg)
{
	char *colon = strchr(arg, ':');
	if (!colon)
		bad_usage("--forward '%s': expected HOSTPORT:GUESTPORT", arg);
	*colon = 0;
	struct forward f = { number(arg, 1, 65535, "--forward host port"),
			     number(colon + 1, 0, UINT32_MAX - 1, "--forward guest port") };
	for (int i = 0; i < opt.nforwards; i++)
		if (opt.forwards[i].host_port == f.host_port)
			bad_usage("--forward: host port %s given twice", arg);
	opt.forwards = grow(opt.forwards, opt.nforwards, sizeof f);
	opt.forwards[opt.nforwards++] = f;
}

/* P:HOST:PORT; HOST may be [v6addr]. */
static void add_connect(char *arg)
{
	char *first = strchr(arg, ':'), *last = strrchr(arg, ':');
	if (!first || first == last || last[1] == 0 || last == first + 1)
		bad_usage("--connect '%s': expected GUESTPORT:HOST:PORT", arg);
	struct connect_map m = { 0 };
	snprintf(m.text, sizeof m.text, "%s", first + 1);
	*first = *last = 0;
	m.guest_port = number(arg, 0, UINT32_MAX - 1, "--connect guest port");
	number(last + 1, 1, 65535, "--connect port");
	char *host = first + 1;
	size_t hl = strlen(host);
	if (hl > 2 && host[0] == '[' && host[hl - 1] == ']') {
		host[hl - 1] = 0;
		host++;
	}
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai;
	int r = getaddrinfo(host, last + 1, &hints, &ai);
	if (r) {
		fprintf(stderr, "toro-vsockd: --connect %s: %s\n", m.text, gai_strerror(r));
		exit(2);
	}
	memcpy(&m.addr, ai->ai_addr, ai->ai_addrlen);
	m.addrlen = ai->ai_addrlen;
	freeaddrinfo(ai);
	for (int i = 0; i < opt.nconnects; i++)
		if (opt.connects[i].guest_port == m.guest_port)
			bad_usage("--connect: guest port %s given twice", arg);
	opt.connects = grow(opt.connects, opt.nconnects, sizeof m);
	opt.connects[opt.nconnects++] = m;
}

static void parse_args(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "guest-cid", required_argument, NULL, 'c' },
		{ "uds-path", required_argument, NULL, 'u' },
		{ "forward", required_argument, NULL, 'f' },
		{ "connect", required_argument, NULL, 'C' },
		{ "listen-wait", required_argument, NULL, 'w' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int o;
	opterr = 0;
	while ((o = getopt_long(argc, argv, ":hv", longopts, NULL)) != -1) {
		switch (o) {
		case 's': opt.socket_path = optarg; break;
		case 'c': opt.guest_cid = number(optarg, 3, UINT32_MAX - 1, "--guest-cid"); break;
		case 'u': opt.uds_path = optarg; break;
		case 'f': add_forward(optarg); break;
		case 'C': add_connect(optarg); break;
		case 'w': opt.listen_wait_ms = number(optarg, 0, 86400000, "--listen-wait"); break;
		case 'v': opt.verbose = true; break;
		case 'h': fputs(usage, stdout); exit(0);
		case ':': bad_usage("option '%s' needs an argument", argv[optind - 1]); break;
		default: bad_usage("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		bad_usage("unexpected argument '%s'", argv[optind]);
	if (!opt.socket_path)
		bad_usage("%s", "--socket SOCK is required");
}

/* Hundreds of connections need more than the usual 1024 fds. */
static void raise_fd_limit(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static struct watch signal_watch;
static int signal_fd = -1;
static bool stop_signal;

static void signal_event(struct watch *w, uint32_t events)
{
	struct signalfd_siginfo si;
	(void)w;
	(void)events;
	if (read(signal_fd, &si, sizeof si) == sizeof si) {
		log_v("signal %u: exiting", si.ssi_signo);
		stop_signal = true;
	}
}

static int setup_signals(void)
{
	sigset_t set;
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	signal_watch.fn = signal_event;
	return signal_fd < 0 ? -1 : ep_add(signal_fd, EPOLLIN, &signal_watch);
}

/* Runs due timers; the epoll timeout until the next one (-1: none). */
static int timers(void)
{
	uint64_t now = now_ms(), next = UINT64_MAX;
	vsock_timers(now);
	for (struct conn *c = conn_first(); c; c = c->next) {
		if (c->deadline && c->deadline < next)
			next = c->deadline;
		if (c->retry_at && c->retry_at < next)
			next = c->retry_at;
	}
	if (next == UINT64_MAX)
		return -1;
	return next <= now ? 0 : (int)(next - now);
}

static void cleanup(void)
{
	vsock_reset_all("exit");
	conn_reap();
	host_cleanup();
	vu_cleanup();
}

int main(int argc, char **argv)
{
	parse_args(argc, argv);
	raise_fd_limit();
	vring_init_all();
	g_epfd = epoll_create1(EPOLL_CLOEXEC);
	if (g_epfd < 0 || setup_signals() < 0) {
		log_err("epoll/signalfd: %m");
		return 1;
	}
	/* Host listeners first: once SOCK exists, everything listens. */
	if (host_listen() < 0 || vu_listen(opt.socket_path) < 0) {
		host_cleanup();
		return 1;
	}
	log_v("listening on %s (guest cid %llu)", opt.socket_path, (unsigned long long)opt.guest_cid);

	int timeout = -1;
	while (!vu_done && !stop_signal) {
		struct epoll_event ev[64];
		int n = epoll_wait(g_epfd, ev, 64, timeout);
		if (n < 0 && errno != EINTR) {
			log_err("epoll_wait: %m");
			break;
		}
		for (int i = 0; i < n && !vu_done; i++) {
			struct watch *w = ev[i].data.ptr;
			w->fn(w, ev[i].events);
		}
		timeout = timers();
		vsock_flush();
		conn_reap();
	}
	cleanup();
	return vu_exit_status;
}
