/*
 * ctr-ts-portproxy: the network keeper of one rootless container.
 *
 *   nsenter --target SHIM_PID --user --preserve-credentials -- \
 *     ctr-ts-portproxy --pid CONTAINER_PID [--publish PROTO:HOSTIP:HOSTPORT:CTRPORT]... \
 *                      [--udp-idle-timeout SEC]
 *
 * It runs in the container's user namespace but in the HOST network namespace. At start it binds
 * every published host port (HOSTPORT 0: the kernel picks a free one), then joins the container's
 * network namespace for good: the listening sockets stay in the host namespace they were created
 * in, while every socket created afterwards (towards 127.0.0.1:CTRPORT) lives in the container's.
 * (Going back and forth with setns() is not possible: joining the host network namespace again
 * needs CAP_SYS_ADMIN in the initial user namespace, which a rootless user does not have.)
 *
 * stdout reports the outcome once, then is closed:
 *   port tcp 0.0.0.0 8080 80          one line per publication, with the actual host port
 *   ready                             all bound, relaying
 * or
 *   error cannot publish 0.0.0.0:8080/tcp: Address already in use     and exit status 1
 *
 * TCP: each accepted client gets a socket in the container connected (non-blocking) to
 * 127.0.0.1:CTRPORT and bytes are relayed both ways with poll(), one 64 KiB buffer per direction
 * (allocated per connection, freed on close). EOF on one side is passed on as shutdown(SHUT_WR)
 * once the buffer towards the other side is flushed; the pair is closed when both directions are
 * done. A side that fails (reset, gone) ends both directions, but what was already read from it
 * is still delivered to the other side first.
 * UDP: one flow per client address, each with its own socket in the container connected to
 * 127.0.0.1:CTRPORT; replies go back to the client through the host socket. Idle flows are closed
 * after --udp-idle-timeout seconds (default 60); at most MAX_UDP_FLOWS exist (the least recently
 * used is closed to make room).
 *
 * Lifetime: exits when the container's init exits (a pidfd becomes readable) or on SIGTERM /
 * SIGINT / SIGHUP. fd 3 is inherited and never touched: it is the other end of slirp4netns'
 * --exit-fd, so slirp4netns sees EOF and exits when this process does.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

#define BUF_SIZE 65536
#define MAX_PUBS 256
#define MAX_TCP_CONNS 4096
#define MAX_UDP_FLOWS 1024
#define ACCEPT_BATCH 64

/* One published port. */
struct pub {
	int type; /* SOCK_STREAM or SOCK_DGRAM */
	const char *proto;
	char host_ip[INET6_ADDRSTRLEN];
	int host_port;
	int ctr_port;
	int fd;
};

/* One direction of a TCP relay: bytes read from one socket waiting to be written to the other. */
struct dir {
	char *buf;
	size_t off, len;
	int eof;  /* the source sent EOF */
	int done; /* EOF passed on to the destination */
};

/* fd[0] is the host-side client, fd[1] the container-side socket. d[i] carries fd[i] -> fd[1-i]. */
struct conn {
	int fd[2];
	int connecting;
	struct dir d[2];
	struct conn *prev, *next;
};

struct flow {
	struct pub *pub;
	struct sockaddr_storage client;
	socklen_t client_len;
	int fd;
	long long last_ms;
	struct flow *prev, *next;
};

/* What one pollfd entry stands for. */
enum kind { K_PIDFD, K_SIGNAL, K_PUB, K_CONN, K_FLOW };
struct slot {
	enum kind kind;
	void *ptr;
};

static struct pub pubs[MAX_PUBS];
static int npubs;
static struct conn *conns;
static int nconns;
static struct flow *flows;
static int nflows;
static long long udp_idle_ms = 60000;
static int accept_paused; /* out of fds: stop accepting until a connection closes */
static char udp_buf[BUF_SIZE];

static void warnx(const char *fmt, ...)
{
	va_list ap;
	fputs("ctr-ts-portproxy: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void die(const char *fmt, ...)
{
	va_list ap;
	fputs("ctr-ts-portproxy: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* Reports a failure on stdout (where the CLI waits for `ready`) and exits. */
static void fail_report(const char *fmt, ...)
{
	va_list ap;
	fputs("error ", stdout);
	va_start(ap, fmt);
	vfprintf(stdout, fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
	exit(1);
}

static long long now_ms(void)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0)
		die("clock_gettime: %s", strerror(errno));
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int parse_port(const char *s, int allow_zero)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < (allow_zero ? 0 : 1) || v > 65535)
		return -1;
	return (int)v;
}

/* PROTO:HOSTIP:HOSTPORT:CTRPORT; HOSTIP may be IPv6, bare or in brackets. */
static void parse_publish(const char *arg)
{
	if (npubs >= MAX_PUBS)
		die("too many --publish (at most %d)", MAX_PUBS);
	struct pub *p = &pubs[npubs];
	char spec[128];
	if (strlen(arg) >= sizeof spec)
		die("bad --publish '%s'", arg);
	strcpy(spec, arg);
	char *first = strchr(spec, ':');
	char *last = strrchr(spec, ':');
	if (!first || last == first)
		die("bad --publish '%s' (want PROTO:HOSTIP:HOSTPORT:CTRPORT)", arg);
	*last = '\0';
	char *mid = strrchr(spec, ':');
	if (mid == first)
		die("bad --publish '%s' (want PROTO:HOSTIP:HOSTPORT:CTRPORT)", arg);
	*first = '\0';
	*mid = '\0';
	if (strcmp(spec, "tcp") == 0) {
		p->type = SOCK_STREAM;
		p->proto = "tcp";
	} else if (strcmp(spec, "udp") == 0) {
		p->type = SOCK_DGRAM;
		p->proto = "udp";
	} else {
		die("bad protocol in --publish '%s' (tcp or udp)", arg);
	}
	char *ip = first + 1;
	size_t iplen = strlen(ip);
	if (iplen >= 2 && ip[0] == '[' && ip[iplen - 1] == ']') {
		ip[iplen - 1] = '\0';
		ip++;
	}
	if (strlen(ip) >= sizeof p->host_ip)
		die("bad host IP in --publish '%s'", arg);
	strcpy(p->host_ip, ip);
	p->host_port = parse_port(mid + 1, 1);
	p->ctr_port = parse_port(last + 1, 0);
	if (p->host_port < 0 || p->ctr_port < 0)
		die("bad port in --publish '%s'", arg);
	p->fd = -1;
	npubs++;
}

/* Binds one publication in the current (host) network namespace; reports and exits on failure. */
static void bind_pub(struct pub *p)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int family;
	memset(&ss, 0, sizeof ss);
	struct sockaddr_in *in4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
	const char *lb = strchr(p->host_ip, ':') ? "[" : "", *rb = *lb ? "]" : "";
	if (inet_pton(AF_INET, p->host_ip, &in4->sin_addr) == 1) {
		family = AF_INET;
		in4->sin_family = AF_INET;
		in4->sin_port = htons((uint16_t)p->host_port);
		len = sizeof *in4;
	} else if (inet_pton(AF_INET6, p->host_ip, &in6->sin6_addr) == 1) {
		family = AF_INET6;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)p->host_port);
		len = sizeof *in6;
	} else {
		fail_report("cannot publish %s:%d/%s: invalid host IP", p->host_ip, p->host_port, p->proto);
		return;
	}
	int fd = socket(family, p->type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		fail_report("cannot publish %s%s%s:%d/%s: socket: %s", lb, p->host_ip, rb, p->host_port, p->proto,
			    strerror(errno));
	int one = 1;
	if (p->type == SOCK_STREAM && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0)
		die("setsockopt SO_REUSEADDR: %s", strerror(errno));
	if (family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) < 0)
		die("setsockopt IPV6_V6ONLY: %s", strerror(errno));
	if (bind(fd, (struct sockaddr *)&ss, len) < 0)
		fail_report("cannot publish %s%s%s:%d/%s: %s", lb, p->host_ip, rb, p->host_port, p->proto,
			    strerror(errno));
	if (p->type == SOCK_STREAM && listen(fd, SOMAXCONN) < 0)
		fail_report("cannot publish %s%s%s:%d/%s: listen: %s", lb, p->host_ip, rb, p->host_port, p->proto,
			    strerror(errno));
	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		die("getsockname: %s", strerror(errno));
	p->host_port = ntohs(family == AF_INET ? in4->sin_port : in6->sin6_port);
	p->fd = fd;
}

/* A socket in the container's network namespace (the one this process is in after start-up),
 * connected to 127.0.0.1:port. Returns the fd (connect maybe still in progress) or -1. */
static int container_socket(int type, int port, int *in_progress)
{
	struct sockaddr_in sa;
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int fd = socket(AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		warnx("socket in the container: %s", strerror(errno));
		return -1;
	}
	*in_progress = 0;
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		if (errno == EINPROGRESS) {
			*in_progress = 1;
		} else {
			warnx("connect to 127.0.0.1:%d in the container: %s", port, strerror(errno));
			close(fd);
			return -1;
		}
	}
	return fd;
}

/* ---- TCP ---- */

static void conn_close(struct conn *c)
{
	close(c->fd[0]);
	close(c->fd[1]);
	free(c->d[0].buf);
	free(c->d[1].buf);
	if (c->prev)
		c->prev->next = c->next;
	else
		conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	free(c);
	nconns--;
	accept_paused = 0;
}

static void conn_open(struct pub *p, int client)
{
	struct conn *c = calloc(1, sizeof *c);
	char *b0 = malloc(BUF_SIZE), *b1 = malloc(BUF_SIZE);
	if (!c || !b0 || !b1) {
		warnx("out of memory: dropping a connection");
		free(c);
		free(b0);
		free(b1);
		close(client);
		return;
	}
	int in_progress;
	int fd = container_socket(SOCK_STREAM, p->ctr_port, &in_progress);
	if (fd < 0) {
		free(c);
		free(b0);
		free(b1);
		close(client);
		return;
	}
	c->fd[0] = client;
	c->fd[1] = fd;
	c->connecting = in_progress;
	c->d[0].buf = b0;
	c->d[1].buf = b1;
	c->next = conns;
	if (conns)
		conns->prev = c;
	conns = c;
	nconns++;
}

static void pub_accept(struct pub *p)
{
	for (int i = 0; i < ACCEPT_BATCH && nconns < MAX_TCP_CONNS; i++) {
		int client = accept4(p->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (client < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
				warnx("accept on port %d: %s: pausing until a connection closes", p->host_port,
				      strerror(errno));
				accept_paused = 1;
			} else if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED) {
				warnx("accept on port %d: %s", p->host_port, strerror(errno));
			}
			return;
		}
		conn_open(p, client);
	}
}

/* Which events each side of a connection waits for, given the relay state. */
static short conn_events(const struct conn *c, int side)
{
	if (c->connecting)
		return side == 1 ? POLLOUT : 0;
	short ev = 0;
	const struct dir *from = &c->d[side], *to = &c->d[1 - side];
	if (!from->done && !from->eof && from->len == 0)
		ev |= POLLIN;
	if (!to->done && to->len > 0)
		ev |= POLLOUT;
	return ev;
}

static int is_transient(int err)
{
	return err == EAGAIN || err == EWOULDBLOCK || err == EINTR;
}

/* fd[side] failed (typically reset by its peer): nothing more can be read from it or written to
 * it. What was already read from it still goes to the other side, followed by EOF. */
static void side_failed(struct conn *c, int side)
{
	c->d[side].eof = 1;
	c->d[1 - side].done = 1;
	c->d[1 - side].len = 0;
}

/* Advances one connection after poll(); may free it. */
static void conn_step(struct conn *c, short rev0, short rev1)
{
	if (c->connecting) {
		if (!rev1)
			return;
		int err = 0;
		socklen_t len = sizeof err;
		if (getsockopt(c->fd[1], SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			err = errno;
		if (err) {
			warnx("connect in the container: %s", strerror(err));
			conn_close(c);
			return;
		}
		c->connecting = 0;
		return;
	}
	short rev[2] = {rev0, rev1};
	for (int i = 0; i < 2; i++) {
		struct dir *d = &c->d[i];
		int src = c->fd[i], dst = c->fd[1 - i];
		if (d->done)
			continue;
		if (d->len > 0 && (rev[1 - i] & (POLLOUT | POLLERR | POLLHUP))) {
			ssize_t n = send(dst, d->buf + d->off, d->len, MSG_NOSIGNAL);
			if (n < 0 && !is_transient(errno)) {
				side_failed(c, 1 - i); /* EPIPE, ECONNRESET, ...: dst is gone */
				continue;
			}
			if (n > 0) {
				d->off += (size_t)n;
				d->len -= (size_t)n;
			}
		}
		if (d->len == 0 && !d->eof && (rev[i] & (POLLIN | POLLERR | POLLHUP))) {
			ssize_t n = recv(src, d->buf, BUF_SIZE, 0);
			if (n < 0 && !is_transient(errno))
				side_failed(c, i);
			if (n == 0)
				d->eof = 1;
			if (n > 0) {
				d->off = 0;
				d->len = (size_t)n;
			}
		}
		if (d->eof && d->len == 0) {
			/* a peer that is already gone makes this fail: nothing more to do for it anyway */
			if (shutdown(dst, SHUT_WR) < 0 && errno != ENOTCONN && errno != EPIPE && errno != ECONNRESET) {
				conn_close(c);
				return;
			}
			d->done = 1;
		}
	}
	if (c->d[0].done && c->d[1].done)
		conn_close(c);
}

/* ---- UDP ---- */

static void flow_close(struct flow *f)
{
	close(f->fd);
	if (f->prev)
		f->prev->next = f->next;
	else
		flows = f->next;
	if (f->next)
		f->next->prev = f->prev;
	free(f);
	nflows--;
	accept_paused = 0;
}

static struct flow *flow_find(struct pub *p, const struct sockaddr_storage *from, socklen_t len)
{
	for (struct flow *f = flows; f; f = f->next)
		if (f->pub == p && f->client_len == len && memcmp(&f->client, from, len) == 0)
			return f;
	return NULL;
}

static struct flow *flow_open(struct pub *p, const struct sockaddr_storage *from, socklen_t len)
{
	if (nflows >= MAX_UDP_FLOWS) {
		struct flow *oldest = flows;
		for (struct flow *f = flows; f; f = f->next)
			if (f->last_ms < oldest->last_ms)
				oldest = f;
		flow_close(oldest);
	}
	int in_progress;
	int fd = container_socket(SOCK_DGRAM, p->ctr_port, &in_progress);
	if (fd < 0)
		return NULL;
	struct flow *f = calloc(1, sizeof *f);
	if (!f) {
		warnx("out of memory: dropping a datagram");
		close(fd);
		return NULL;
	}
	f->pub = p;
	memcpy(&f->client, from, len);
	f->client_len = len;
	f->fd = fd;
	f->next = flows;
	if (flows)
		flows->prev = f;
	flows = f;
	nflows++;
	return f;
}

/* Datagrams from clients on the host: into the container, one flow per client. */
static void pub_recv(struct pub *p)
{
	for (int i = 0; i < ACCEPT_BATCH; i++) {
		struct sockaddr_storage from;
		socklen_t len = sizeof from;
		ssize_t n = recvfrom(p->fd, udp_buf, sizeof udp_buf, 0, (struct sockaddr *)&from, &len);
		if (n < 0) {
			if (!is_transient(errno))
				warnx("recvfrom on port %d: %s", p->host_port, strerror(errno));
			return;
		}
		struct flow *f = flow_find(p, &from, len);
		if (!f)
			f = flow_open(p, &from, len);
		if (!f)
			continue;
		f->last_ms = now_ms();
		/* ECONNREFUSED here reports an earlier datagram nobody received: UDP, so ignored */
		if (send(f->fd, udp_buf, (size_t)n, 0) < 0 && !is_transient(errno) && errno != ECONNREFUSED)
			warnx("send to 127.0.0.1:%d in the container: %s", p->ctr_port, strerror(errno));
	}
}

/* Replies from the container: back to the client, through the host socket. */
static void flow_recv(struct flow *f)
{
	for (int i = 0; i < ACCEPT_BATCH; i++) {
		ssize_t n = recv(f->fd, udp_buf, sizeof udp_buf, 0);
		if (n < 0) {
			if (!is_transient(errno) && errno != ECONNREFUSED)
				warnx("recv from 127.0.0.1:%d in the container: %s", f->pub->ctr_port, strerror(errno));
			return;
		}
		f->last_ms = now_ms();
		if (sendto(f->pub->fd, udp_buf, (size_t)n, 0, (struct sockaddr *)&f->client, f->client_len) < 0 &&
		    !is_transient(errno))
			warnx("sendto a client of port %d: %s", f->pub->host_port, strerror(errno));
	}
}

/* Closes idle flows; returns the poll() timeout until the next one expires (-1: none). */
static int expire_flows(void)
{
	long long now = now_ms(), next = -1;
	struct flow *f = flows;
	while (f) {
		struct flow *after = f->next;
		long long left = f->last_ms + udp_idle_ms - now;
		if (left <= 0)
			flow_close(f);
		else if (next < 0 || left < next)
			next = left;
		f = after;
	}
	return next > INT_MAX ? INT_MAX : (int)next;
}

/* ---- main ---- */

static void usage(void)
{
	fputs("usage: ctr-ts-portproxy --pid PID [--publish tcp|udp:HOSTIP:HOSTPORT:CTRPORT]... "
	      "[--udp-idle-timeout SEC]\n",
	      stderr);
	exit(2);
}

/* Allow as many open files as the hard limit does: each TCP connection needs two. */
static void raise_nofile(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		die("getrlimit: %s", strerror(errno));
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			warnx("setrlimit RLIMIT_NOFILE: %s", strerror(errno));
	}
}

int main(int argc, char **argv)
{
	long pid = -1;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--pid") == 0 && i + 1 < argc) {
			char *end;
			pid = strtol(argv[++i], &end, 10);
			if (*end || pid <= 0)
				usage();
		} else if (strcmp(argv[i], "--publish") == 0 && i + 1 < argc) {
			parse_publish(argv[++i]);
		} else if (strcmp(argv[i], "--udp-idle-timeout") == 0 && i + 1 < argc) {
			char *end;
			long s = strtol(argv[++i], &end, 10);
			if (*end || s <= 0 || s > 86400)
				usage();
			udp_idle_ms = s * 1000;
		} else {
			usage();
		}
	}
	if (pid <= 0)
		usage();
	/* Keep only stdio and the exit anchor (fd 3): an inherited pipe held open here could keep
	 * the CLI waiting for an EOF that never comes. */
	if (syscall(SYS_close_range, 4U, ~0U, 0U) < 0)
		die("close_range: %s", strerror(errno));

	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		die("signal: %s", strerror(errno));
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
		die("sigprocmask: %s", strerror(errno));
	int sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sigfd < 0)
		die("signalfd: %s", strerror(errno));
	raise_nofile();
	/* Relay buffers (BUF_SIZE) come from mmap and go back to the system when freed: an idle
	 * proxy shrinks back after a burst of connections instead of keeping a fragmented heap. */
	if (mallopt(M_MMAP_THRESHOLD, BUF_SIZE) != 1)
		die("mallopt M_MMAP_THRESHOLD failed");

	int pidfd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
	if (pidfd < 0)
		fail_report("container process %ld: pidfd_open: %s", pid, strerror(errno));
	char path[64];
	snprintf(path, sizeof path, "/proc/%ld/ns/net", pid);
	int netns = open(path, O_RDONLY | O_CLOEXEC);
	if (netns < 0)
		fail_report("open %s: %s", path, strerror(errno));

	for (int i = 0; i < npubs; i++)
		bind_pub(&pubs[i]);
	if (setns(netns, CLONE_NEWNET) < 0)
		fail_report("cannot join the container's network namespace: %s", strerror(errno));
	if (close(netns) < 0)
		die("close: %s", strerror(errno));

	for (int i = 0; i < npubs; i++)
		printf("port %s %s %d %d\n", pubs[i].proto, pubs[i].host_ip, pubs[i].host_port, pubs[i].ctr_port);
	printf("ready\n");
	if (fflush(stdout) == EOF)
		die("writing the readiness report: %s", strerror(errno));
	/* Nothing more to say on stdout: let the reader see EOF. */
	int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (devnull < 0 || dup2(devnull, STDOUT_FILENO) < 0 || close(devnull) < 0)
		die("redirecting stdout: %s", strerror(errno));

	struct pollfd *pfds = NULL;
	struct slot *slots = NULL;
	size_t cap = 0;
	for (;;) {
		int timeout = expire_flows();
		size_t need = 2 + (size_t)npubs + 2 * (size_t)nconns + (size_t)nflows;
		if (need > cap) {
			cap = need * 2;
			struct pollfd *np = realloc(pfds, cap * sizeof *pfds);
			if (!np)
				die("out of memory");
			pfds = np;
			struct slot *ns = realloc(slots, cap * sizeof *slots);
			if (!ns)
				die("out of memory");
			slots = ns;
		}
		size_t n = 0;
		pfds[n] = (struct pollfd){.fd = pidfd, .events = POLLIN};
		slots[n++] = (struct slot){K_PIDFD, NULL};
		pfds[n] = (struct pollfd){.fd = sigfd, .events = POLLIN};
		slots[n++] = (struct slot){K_SIGNAL, NULL};
		int accepting = !accept_paused && nconns < MAX_TCP_CONNS;
		for (int i = 0; i < npubs; i++) {
			int on = pubs[i].type == SOCK_DGRAM || accepting;
			pfds[n] = (struct pollfd){.fd = on ? pubs[i].fd : -1, .events = POLLIN};
			slots[n++] = (struct slot){K_PUB, &pubs[i]};
		}
		for (struct conn *c = conns; c; c = c->next) {
			for (int side = 0; side < 2; side++) {
				short ev = conn_events(c, side);
				/* an fd with nothing to wait for is left out: its POLLHUP would spin */
				pfds[n] = (struct pollfd){.fd = ev ? c->fd[side] : -1, .events = ev};
				slots[n++] = (struct slot){K_CONN, c};
			}
		}
		for (struct flow *f = flows; f; f = f->next) {
			pfds[n] = (struct pollfd){.fd = f->fd, .events = POLLIN};
			slots[n++] = (struct slot){K_FLOW, f};
		}

		if (poll(pfds, n, timeout) < 0) {
			if (errno == EINTR)
				continue;
			die("poll: %s", strerror(errno));
		}
		if (pfds[0].revents)
			break; /* the container's init exited */
		if (pfds[1].revents) {
			struct signalfd_siginfo si;
			if (read(sigfd, &si, sizeof si) == (ssize_t)sizeof si)
				warnx("signal %u: exiting", si.ssi_signo);
			break;
		}
		/* Connections and flows first: handling the listeners may close flows (LRU eviction),
		 * so no slot is used after its connection or flow could have been freed. */
		for (size_t i = 2; i < n; i++) {
			if (slots[i].kind == K_CONN) {
				if (pfds[i].revents || pfds[i + 1].revents)
					conn_step(slots[i].ptr, pfds[i].revents, pfds[i + 1].revents);
				i++; /* both sides handled */
			} else if (slots[i].kind == K_FLOW && pfds[i].revents) {
				flow_recv(slots[i].ptr);
			}
		}
		for (size_t i = 2; i < n; i++) {
			if (slots[i].kind != K_PUB || !pfds[i].revents)
				continue;
			struct pub *p = slots[i].ptr;
			if (p->type == SOCK_STREAM)
				pub_accept(p);
			else
				pub_recv(p);
		}
	}
	/* Exiting closes every socket, and fd 3: slirp4netns sees EOF on its exit fd and exits too. */
	return 0;
}
