/*
 * ctr-ts-portproxy: the network keeper of one rootless container.
 *
 *   nsenter --target SHIM_PID --user --preserve-credentials -- \
 *     ctr-ts-portproxy --pid CONTAINER_PID [--publish PROTO:HOSTIP:HOSTPORT:CTRPORT]... \
 *                      [--container-ip ADDR] [--loopback-as ADDR] [--udp-idle-timeout SEC]
 *
 * It runs in the container's user namespace but in the HOST network namespace. At start it binds
 * every published host port (HOSTPORT 0: the kernel picks a free one), then joins the container's
 * network namespace for good: the listening sockets stay in the host namespace they were created
 * in, while every socket created afterwards (towards the container) lives in the container's.
 * (Going back and forth with setns() is not possible: joining the host network namespace again
 * needs CAP_SYS_ADMIN in the initial user namespace, which a rootless user does not have.)
 *
 * stdout reports the outcome once, then is closed:
 *   port tcp 0.0.0.0 8080 80          one line per publication, with the actual host port
 *   ready                             all bound, relaying
 * or
 *   error cannot publish 0.0.0.0:8080/tcp: Address already in use     and exit status 1
 *
 * Where connections go: to the container's own address (--container-ip, slirp4netns' 10.0.2.100),
 * never to its loopback, so a service that listens only on 127.0.0.1 inside the container stays
 * private, as with docker. The container sees the real client address and port: the proxy holds
 * CAP_NET_ADMIN in the container's network namespace, so each socket towards the container is
 * bound with IP_TRANSPARENT to the client's address, and policy routing (portproxy-route.c) hands
 * the service's replies back to it. A client on the host's loopback (or an IPv6 client, which has
 * no IPv4 address) appears as --loopback-as (10.0.2.2, what slirp4netns calls the host), never as
 * a loopback address. If the routing cannot be installed, connections come from the container's
 * own address instead (said once on stderr).
 *
 * TCP: each accepted client gets a socket in the container connected (non-blocking) to
 * CONTAINER_IP:CTRPORT, TCP_NODELAY on both. Bytes are relayed both ways without entering user
 * space: splice() from one socket into a pipe, splice() from the pipe into the other socket. A
 * direction holds a pipe (raised to PIPE_SIZE with F_SETPIPE_SZ when the user's pipe quota allows,
 * else the kernel's default) only while bytes wait in it; emptied pipes go back to a small pool
 * (never more pipes than open connections, so an idle proxy holds none). Connection sockets are
 * watched edge-triggered by epoll: no epoll_ctl per transfer, no poll set rebuilt per wakeup.
 * EOF on one side is passed on as shutdown(SHUT_WR) once the pipe towards the other side is
 * drained; the pair is closed when both directions are done. A side that fails (reset, gone) ends
 * both directions, but what was already read from it is still delivered to the other side first.
 * UDP: one flow per client address, each with its own socket in the container connected to
 * CONTAINER_IP:CTRPORT; replies go back to the client through the host socket. Idle flows are
 * closed after --udp-idle-timeout seconds (default 60); at most MAX_UDP_FLOWS exist (the least
 * recently used is closed to make room).
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
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "portproxy-route.h"
#include "common.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

#define UDP_BUF_SIZE 65536
#define PIPE_SIZE (1 << 20) /* per direction in flight; the default pipe-max-size */
#define MAX_PUBS 256
#define MAX_TCP_CONNS 4096
#define MAX_UDP_FLOWS 1024
#define ACCEPT_BATCH 64
#define MAX_EVENTS 256
#define POOL_MAX 64
#define STARVED_RETRY_MS 100
#define STEP_ROUNDS 16 /* splice rounds per connection before the others get their turn */
#define ROUTE_RETRY_MS 1000

/* What an epoll registration stands for: the first member of everything registered. */
enum kind { K_PIDFD, K_SIGNAL, K_PUB, K_END, K_FLOW };

/* One published port. */
struct pub {
	enum kind kind;
	int type; /* SOCK_STREAM or SOCK_DGRAM */
	const char *proto;
	char host_ip[INET6_ADDRSTRLEN];
	int host_port;
	int ctr_port;
	int fd;
	int armed; /* registered for EPOLLIN (TCP: not while accepting is paused) */
};

/* One direction of a TCP relay: bytes read from one socket, waiting in a pipe to be written to
 * the other. The pipe is held only while len > 0 (or for the read that fills it). */
struct dir {
	int pipe[2]; /* -1 when none */
	size_t len;  /* bytes in the pipe */
	int eof;     /* nothing more will be read from the source (EOF or failure) */
	int done;    /* EOF passed on to the destination, or the destination is gone */
};

/* One socket of a connection, as registered with epoll. */
struct end {
	enum kind kind;
	int side;
	struct conn *conn;
};

enum queue { Q_NONE, Q_RUN, Q_LATER, Q_STARVED };

/* fd[0] is the host-side client, fd[1] the container-side socket. d[i] carries fd[i] -> fd[1-i].
 * rd[i]/wr[i]: what epoll last said fd[i] can do, until an operation on it returns EAGAIN. */
struct conn {
	int fd[2];
	struct end end[2];
	int connecting;
	int rd[2], wr[2];
	int starving; /* found no pipe during this step */
	struct dir d[2];
	struct conn *prev, *next;
	enum queue queued;
	struct conn *qnext;
};

struct flow {
	enum kind kind;
	struct pub *pub;
	struct sockaddr_storage client;
	socklen_t client_len;
	int fd;
	long long last_ms;
	struct flow *prev, *next;
};

/* A FIFO of connections to step. */
struct queue_list {
	struct conn *head, *tail;
};

static struct pub pubs[MAX_PUBS];
static int npubs;
static struct conn *conns;
static int nconns;
static struct flow *flows;
static int nflows;
static long long udp_idle_ms = 60000;
static int accept_paused; /* out of fds: stop accepting until a connection closes */
static char udp_buf[UDP_BUF_SIZE];
static int epfd = -1;
static struct queue_list run_q, later_q, starved_q;
static int max_conns = MAX_TCP_CONNS; /* lowered when RLIMIT_NOFILE cannot hold 6 fds each */
/* Pipes: npipes open in all, npool of them empty and ready for reuse. At most 2 per open
 * connection, so an idle proxy holds none and 6 fds per connection always suffice. */
static int pool[POOL_MAX][2];
static int npool, npipes;
static int pipe_warned;
/* Where connections go, and whom a loopback client appears as (network byte order). */
static struct in_addr container_ip, loopback_as;
/* Whether sockets towards the container carry the client's address: set once the routing for it
 * is in place (tried at connections, when the container's interfaces are up; again at most every
 * ROUTE_RETRY_MS while it fails). */
static int transparent;
static long long route_tried_ms = -ROUTE_RETRY_MS;
static int route_warned;

/* die(): the message is on stderr; the CLI sees the proxy gone. */
void die_exit(const char *msg)
{
	(void)msg;
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
	p->kind = K_PUB;
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

/* Installs the routing that transparent sockets need; says once when it cannot. */
static int transparent_ready(void)
{
	if (transparent)
		return 1;
	long long now = now_ms();
	if (now - route_tried_ms < ROUTE_RETRY_MS)
		return 0;
	route_tried_ms = now;
	struct route_port ports[MAX_PUBS];
	for (int i = 0; i < npubs; i++)
		ports[i] = (struct route_port){pubs[i].type == SOCK_STREAM ? IPPROTO_TCP : IPPROTO_UDP, pubs[i].ctr_port};
	char err[256];
	transparent = route_replies_locally(container_ip.s_addr, ports, npubs, err, sizeof err) == 0;
	if (!transparent && !route_warned) {
		warnx("cannot route replies to client addresses (%s): connections come from the container's own address",
		      err);
		route_warned = 1;
	}
	return transparent;
}

/* The address the container sees for a client: the client's own IPv4 address and port, or
 * loopback_as for a client on the host's loopback and for an IPv6 client. */
static void client_source(const struct sockaddr_storage *client, struct sockaddr_in *src)
{
	memset(src, 0, sizeof *src);
	src->sin_family = AF_INET;
	src->sin_addr = loopback_as;
	if (client->ss_family == AF_INET) {
		const struct sockaddr_in *in4 = (const struct sockaddr_in *)client;
		src->sin_port = in4->sin_port;
		if ((ntohl(in4->sin_addr.s_addr) >> 24) != 127)
			src->sin_addr = in4->sin_addr;
	} else if (client->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)client;
		src->sin_port = in6->sin6_port;
		if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
			memcpy(&src->sin_addr, &in6->sin6_addr.s6_addr[12], 4);
			if ((ntohl(src->sin_addr.s_addr) >> 24) == 127)
				src->sin_addr = loopback_as;
		}
	}
}

/* Binds a socket towards the container to the client's address (IP_TRANSPARENT); another client
 * already using the same address and port (two loopback clients) gets a port of the kernel's. */
static void bind_transparent(int fd, const struct sockaddr_storage *client)
{
	int one = 1;
	if (setsockopt(fd, SOL_IP, IP_TRANSPARENT, &one, sizeof one) < 0) {
		warnx("setsockopt IP_TRANSPARENT: %s", strerror(errno));
		return;
	}
	struct sockaddr_in src;
	client_source(client, &src);
	if (bind(fd, (struct sockaddr *)&src, sizeof src) == 0)
		return;
	if (errno == EADDRINUSE || errno == EADDRNOTAVAIL) {
		src.sin_port = 0;
		if (bind(fd, (struct sockaddr *)&src, sizeof src) == 0)
			return;
	}
	warnx("bind to the client's address: %s", strerror(errno));
}

/* A socket in the container's network namespace (the one this process is in after start-up),
 * connected to container_ip:port from the client's address where possible. Returns the fd
 * (connect maybe still in progress) or -1. */
static int container_socket(int type, int port, const struct sockaddr_storage *client, int *in_progress)
{
	struct sockaddr_in sa;
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr = container_ip;
	int fd = socket(AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		warnx("socket in the container: %s", strerror(errno));
		return -1;
	}
	int one = 1;
	if (type == SOCK_STREAM && setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0)
		warnx("setsockopt TCP_NODELAY: %s", strerror(errno));
	if (transparent_ready())
		bind_transparent(fd, client);
	*in_progress = 0;
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		if (errno == EINPROGRESS) {
			*in_progress = 1;
		} else {
			warnx("connect to %s:%d in the container: %s", inet_ntoa(container_ip), port, strerror(errno));
			close(fd);
			return -1;
		}
	}
	return fd;
}

static void ep_add(int fd, uint32_t events, void *ptr)
{
	struct epoll_event ev = {.events = events, .data.ptr = ptr};
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		die("epoll_ctl add: %s", strerror(errno));
}

/* ---- TCP ---- */

static void enqueue(struct queue_list *q, struct conn *c, enum queue which)
{
	c->queued = which;
	c->qnext = NULL;
	if (q->tail)
		q->tail->qnext = c;
	else
		q->head = c;
	q->tail = c;
}

static struct conn *dequeue(struct queue_list *q)
{
	struct conn *c = q->head;
	if (c) {
		q->head = c->qnext;
		if (!q->head)
			q->tail = NULL;
		c->queued = Q_NONE;
	}
	return c;
}

/* A pipe or a connection was freed: connections that could not get a pipe try again. */
static void wake_starved(void)
{
	struct conn *c;
	while ((c = dequeue(&starved_q)))
		enqueue(&run_q, c, Q_RUN);
}

/* Gives d a pipe (from the pool or a new one); 0 when out of fds or memory. */
static int pipe_get(struct dir *d)
{
	if (npool > 0) {
		npool--;
		d->pipe[0] = pool[npool][0];
		d->pipe[1] = pool[npool][1];
		return 1;
	}
	if (pipe2(d->pipe, O_NONBLOCK | O_CLOEXEC) < 0) {
		if (errno != EMFILE && errno != ENFILE && errno != ENOMEM)
			die("pipe2: %s", strerror(errno));
		if (!pipe_warned++)
			warnx("pipe2: %s: connections wait for a pipe", strerror(errno));
		return 0;
	}
	npipes++;
	/* Over the user's pipe quota (fs.pipe-user-pages-soft) this fails: the default size works too. */
	if (fcntl(d->pipe[1], F_SETPIPE_SZ, PIPE_SIZE) < 0 && errno != EPERM && errno != EINVAL)
		die("fcntl F_SETPIPE_SZ: %s", strerror(errno));
	return 1;
}

/* Takes d's pipe away: an empty one goes back to the pool, one still holding bytes is closed. */
static void pipe_put(struct dir *d)
{
	if (d->pipe[0] < 0)
		return;
	if (d->len == 0 && npool < POOL_MAX) {
		pool[npool][0] = d->pipe[0];
		pool[npool][1] = d->pipe[1];
		npool++;
	} else {
		close(d->pipe[0]);
		close(d->pipe[1]);
		npipes--;
	}
	d->pipe[0] = d->pipe[1] = -1;
	d->len = 0;
	wake_starved();
}

static void conn_close(struct conn *c)
{
	/* only a connection being stepped is closed: it is on no queue */
	close(c->fd[0]);
	close(c->fd[1]);
	if (c->prev)
		c->prev->next = c->next;
	else
		conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	nconns--;
	for (int i = 0; i < 2; i++)
		if (c->d[i].pipe[0] >= 0) {
			/* whatever is left in it is dropped with it */
			close(c->d[i].pipe[0]);
			close(c->d[i].pipe[1]);
			npipes--;
		}
	/* at most 2 pipes per open connection: with none left, no pipe stays open */
	while (npool > 0 && npipes > 2 * nconns) {
		npool--;
		close(pool[npool][0]);
		close(pool[npool][1]);
		npipes--;
	}
	free(c);
	accept_paused = 0;
	wake_starved();
}

static void conn_open(struct pub *p, int client, const struct sockaddr_storage *from)
{
	int one = 1;
	if (setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0)
		warnx("setsockopt TCP_NODELAY: %s", strerror(errno));
	struct conn *c = calloc(1, sizeof *c);
	if (!c) {
		warnx("out of memory: dropping a connection");
		close(client);
		return;
	}
	int in_progress;
	int fd = container_socket(SOCK_STREAM, p->ctr_port, from, &in_progress);
	if (fd < 0) {
		free(c);
		close(client);
		return;
	}
	c->fd[0] = client;
	c->fd[1] = fd;
	c->connecting = in_progress;
	c->wr[0] = 1;
	c->wr[1] = !in_progress;
	for (int i = 0; i < 2; i++) {
		c->d[i].pipe[0] = c->d[i].pipe[1] = -1;
		c->end[i] = (struct end){K_END, i, c};
		ep_add(c->fd[i], EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, &c->end[i]);
	}
	c->next = conns;
	if (conns)
		conns->prev = c;
	conns = c;
	nconns++;
}

static void pub_accept(struct pub *p)
{
	for (int i = 0; i < ACCEPT_BATCH && nconns < max_conns; i++) {
		struct sockaddr_storage from;
		socklen_t len = sizeof from;
		int client = accept4(p->fd, (struct sockaddr *)&from, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
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
		conn_open(p, client, &from);
	}
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
	c->rd[side] = 0;
	pipe_put(&c->d[1 - side]); /* bytes for the failed side are dropped */
}

/* Moves what it can in one direction; returns whether anything changed. */
static int dir_step(struct conn *c, int i)
{
	struct dir *d = &c->d[i];
	int src = c->fd[i], dst = c->fd[1 - i];
	int moved = 0;
	if (d->done)
		return 0;
	if (d->len > 0 && c->wr[1 - i]) {
		ssize_t n = splice(d->pipe[0], NULL, dst, NULL, d->len, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
		if (n > 0) {
			d->len -= (size_t)n;
			moved = 1;
		} else if (n < 0 && is_transient(errno)) {
			c->wr[1 - i] = 0;
		} else {
			side_failed(c, 1 - i); /* EPIPE, ECONNRESET, ...: dst is gone */
			return 1;
		}
	}
	if (!d->eof && c->rd[i]) {
		if (d->pipe[0] < 0 && !pipe_get(d)) {
			c->starving = 1; /* conn_step puts it on the starved list */
			return moved;
		}
		ssize_t n = splice(src, NULL, d->pipe[1], NULL, PIPE_SIZE, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
		if (n > 0) {
			d->len += (size_t)n;
			moved = 1;
		} else if (n == 0) {
			d->eof = 1;
			moved = 1;
		} else if (is_transient(errno)) {
			/* with bytes in the pipe this may mean a full pipe: try again once it drained */
			if (d->len == 0)
				c->rd[i] = 0;
		} else {
			side_failed(c, i);
			moved = 1;
		}
	}
	if (d->len == 0)
		pipe_put(d);
	if (d->eof && d->len == 0 && !d->done) {
		/* a peer that is already gone makes this fail: nothing more to do for it anyway */
		if (shutdown(dst, SHUT_WR) < 0 && errno != ENOTCONN && errno != EPIPE && errno != ECONNRESET)
			warnx("shutdown: %s", strerror(errno));
		d->done = 1;
		moved = 1;
	}
	return moved;
}

/* Advances one connection as far as its sockets allow (or STEP_ROUNDS); may free it. */
static void conn_step(struct conn *c)
{
	if (c->connecting) {
		if (!c->wr[1])
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
	}
	int rounds = 0, moved;
	do {
		moved = dir_step(c, 0);
		moved |= dir_step(c, 1);
	} while (moved && ++rounds < STEP_ROUNDS && !c->starving);
	if (c->d[0].done && c->d[1].done) {
		conn_close(c);
	} else if (c->starving) {
		c->starving = 0;
		enqueue(&starved_q, c, Q_STARVED);
	} else if (moved) {
		/* more to do, but others first: edge-triggered epoll will not say it again */
		enqueue(&later_q, c, Q_LATER);
	}
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
	int fd = container_socket(SOCK_DGRAM, p->ctr_port, from, &in_progress);
	if (fd < 0)
		return NULL;
	struct flow *f = calloc(1, sizeof *f);
	if (!f) {
		warnx("out of memory: dropping a datagram");
		close(fd);
		return NULL;
	}
	f->kind = K_FLOW;
	f->pub = p;
	memcpy(&f->client, from, len);
	f->client_len = len;
	f->fd = fd;
	ep_add(fd, EPOLLIN, f);
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
			warnx("send to port %d in the container: %s", p->ctr_port, strerror(errno));
	}
}

/* Replies from the container: back to the client, through the host socket. */
static void flow_recv(struct flow *f)
{
	for (int i = 0; i < ACCEPT_BATCH; i++) {
		ssize_t n = recv(f->fd, udp_buf, sizeof udp_buf, 0);
		if (n < 0) {
			if (!is_transient(errno) && errno != ECONNREFUSED)
				warnx("recv from port %d in the container: %s", f->pub->ctr_port, strerror(errno));
			return;
		}
		f->last_ms = now_ms();
		if (sendto(f->pub->fd, udp_buf, (size_t)n, 0, (struct sockaddr *)&f->client, f->client_len) < 0 &&
		    !is_transient(errno))
			warnx("sendto a client of port %d: %s", f->pub->host_port, strerror(errno));
	}
}

/* Closes idle flows; returns the epoll_wait() timeout until the next one expires (-1: none). */
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
	      "[--container-ip ADDR] [--loopback-as ADDR] [--udp-idle-timeout SEC]\n",
	      stderr);
	exit(2);
}

/* Allow as many open files as the hard limit does: each TCP connection needs up to six (two
 * sockets, two pipes); fewer connections are accepted at once when the limit is too low. */
static void raise_nofile(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		die("getrlimit: %s", strerror(errno));
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
			warnx("setrlimit RLIMIT_NOFILE: %s", strerror(errno));
			if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
				die("getrlimit: %s", strerror(errno));
		}
	}
	long long spare = (long long)rl.rlim_cur - 16 - npubs;
	for (int i = 0; i < npubs; i++)
		if (pubs[i].type == SOCK_DGRAM) {
			spare -= MAX_UDP_FLOWS;
			break;
		}
	if (rl.rlim_cur != RLIM_INFINITY && spare / 6 < max_conns)
		max_conns = spare / 6 < 8 ? 8 : (int)(spare / 6);
}

/* Turns EPOLLIN on or off for a TCP listener (off while accepting is paused). */
static void pub_arm(struct pub *p, int on)
{
	struct epoll_event ev = {.events = on ? EPOLLIN : 0, .data.ptr = p};
	if (epoll_ctl(epfd, EPOLL_CTL_MOD, p->fd, &ev) < 0)
		die("epoll_ctl mod: %s", strerror(errno));
	p->armed = on;
}

int main(int argc, char **argv)
{
	long pid = -1;
	if (inet_pton(AF_INET, "10.0.2.100", &container_ip) != 1 || inet_pton(AF_INET, "10.0.2.2", &loopback_as) != 1)
		die("inet_pton: %s", strerror(errno));
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--pid") == 0 && i + 1 < argc) {
			char *end;
			pid = strtol(argv[++i], &end, 10);
			if (*end || pid <= 0)
				usage();
		} else if (strcmp(argv[i], "--publish") == 0 && i + 1 < argc) {
			parse_publish(argv[++i]);
		} else if (strcmp(argv[i], "--container-ip") == 0 && i + 1 < argc) {
			if (inet_pton(AF_INET, argv[++i], &container_ip) != 1)
				usage();
		} else if (strcmp(argv[i], "--loopback-as") == 0 && i + 1 < argc) {
			if (inet_pton(AF_INET, argv[++i], &loopback_as) != 1)
				usage();
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

	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd < 0)
		die("epoll_create1: %s", strerror(errno));
	static enum kind pidfd_kind = K_PIDFD, sigfd_kind = K_SIGNAL;
	ep_add(pidfd, EPOLLIN, &pidfd_kind);
	ep_add(sigfd, EPOLLIN, &sigfd_kind);
	for (int i = 0; i < npubs; i++) {
		ep_add(pubs[i].fd, EPOLLIN, &pubs[i]);
		pubs[i].armed = 1;
	}

	struct epoll_event events[MAX_EVENTS];
	struct pub *ready_pubs[MAX_PUBS];
	for (;;) {
		int timeout = expire_flows();
		int accepting = !accept_paused && nconns < max_conns;
		for (int i = 0; i < npubs; i++)
			if (pubs[i].type == SOCK_STREAM && pubs[i].armed != accepting)
				pub_arm(&pubs[i], accepting);
		/* connections left with work last round go first; starved ones retry now and then */
		struct conn *c;
		while ((c = dequeue(&later_q)))
			enqueue(&run_q, c, Q_RUN);
		if (starved_q.head && (timeout < 0 || timeout > STARVED_RETRY_MS))
			timeout = STARVED_RETRY_MS;
		int n = epoll_wait(epfd, events, MAX_EVENTS, run_q.head ? 0 : timeout);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("epoll_wait: %s", strerror(errno));
		}
		if (n == 0 && starved_q.head)
			wake_starved();
		/* First only note what is ready: nothing is freed while events still point at it. */
		int nready = 0, quit = 0;
		for (int i = 0; i < n; i++) {
			enum kind *k = events[i].data.ptr;
			uint32_t ev = events[i].events;
			if (*k == K_PIDFD) {
				quit = 1; /* the container's init exited */
			} else if (*k == K_SIGNAL) {
				struct signalfd_siginfo si;
				if (read(sigfd, &si, sizeof si) == (ssize_t)sizeof si)
					warnx("signal %u: exiting", si.ssi_signo);
				quit = 1;
			} else if (*k == K_PUB) {
				ready_pubs[nready++] = (struct pub *)k;
			} else if (*k == K_END) {
				struct end *e = (struct end *)k;
				struct conn *ec = e->conn;
				if (ev & (EPOLLIN | EPOLLRDHUP | EPOLLERR | EPOLLHUP))
					ec->rd[e->side] = 1;
				if (ev & (EPOLLOUT | EPOLLERR | EPOLLHUP))
					ec->wr[e->side] = 1;
				if (ec->queued == Q_NONE)
					enqueue(&run_q, ec, Q_RUN);
			} else {
				flow_recv((struct flow *)k); /* frees nothing */
			}
		}
		if (quit)
			break;
		/* Connections next: stepping one frees at most that one. */
		while ((c = dequeue(&run_q)))
			conn_step(c);
		/* Listeners last: a new datagram may close a flow (LRU eviction). */
		for (int i = 0; i < nready; i++) {
			if (ready_pubs[i]->type == SOCK_STREAM)
				pub_accept(ready_pubs[i]);
			else
				pub_recv(ready_pubs[i]);
		}
	}
	/* Exiting closes every socket, and fd 3: slirp4netns sees EOF on its exit fd and exits too. */
	return 0;
}
