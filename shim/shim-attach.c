/*
 * shim-attach.c: the attach socket (STATEDIR/attach.sock): clients, their frames, and the
 * container's stdin they feed. The shim never blocks on a client: what one does not take yet is
 * queued for it (see shim/PROTOCOL.md).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <termios.h>
#include <unistd.h>

#include "shim.h"

struct client clients[MAX_CLIENTS];
int n_clients;
int listen_fd = -1;
static char stdin_pending[IO_BUF];
size_t stdin_pending_len;

int listen_unix(const char *path)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		die("socket: %s", strerror(errno));
	snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path);
	if (unlink(path) < 0 && errno != ENOENT)
		die("unlink %s: %s", path, strerror(errno));
	mode_t old = umask(0177); /* the socket is created 0600 */
	int r = bind(fd, (struct sockaddr *)&addr, sizeof addr);
	umask(old);
	if (r < 0)
		die("bind %s: %s", path, strerror(errno));
	if (listen(fd, 16) < 0)
		die("listen %s: %s", path, strerror(errno));
	return fd;
}

void drop_client(struct client *c)
{
	close_fd(&c->fd);
	free(c->backlog);
	c->backlog = NULL;
	c->backlog_len = c->backlog_cap = 0;
}

void compact_clients(void)
{
	int j = 0;
	for (int i = 0; i < n_clients; i++)
		if (clients[i].fd >= 0)
			clients[j++] = clients[i];
	n_clients = j;
}

static void backlog_append(struct client *c, const void *data, size_t len)
{
	if (c->fd < 0 || len == 0)
		return;
	/* Output is paused once a backlog reaches the limit, so this only trips on a bug. */
	if (c->backlog_len + len > CLIENT_BACKLOG_MAX + 4 * IO_BUF) {
		warnx("attach client backlog overflow: dropping it");
		drop_client(c);
		return;
	}
	if (c->backlog_len + len > c->backlog_cap) {
		size_t cap = c->backlog_cap ? c->backlog_cap : 16384;
		while (cap < c->backlog_len + len)
			cap *= 2;
		char *p = realloc(c->backlog, cap);
		if (p == NULL) {
			drop_client(c);
			return;
		}
		c->backlog = p;
		c->backlog_cap = cap;
	}
	memcpy(c->backlog + c->backlog_len, data, len);
	c->backlog_len += len;
}

/* Queue one frame to a client without ever blocking. */
static void client_input(struct client *c, const uint8_t *p, size_t len);

/*
 * Drops a client whose peer is gone (writing to it failed), after reading and acting on what it
 * sent before it closed: a client that sends a resize or a signal and closes at once must not
 * lose it because container output to it failed first. Reads into its own buffer: the caller
 * may be broadcasting from iobuf.
 */
static void drop_client_after_input(struct client *c)
{
	if (!c->closing) {
		c->closing = true;
		uint8_t buf[4096];
		for (int i = 0; i < 64 && c->fd >= 0; i++) {
			ssize_t n;
			do
				n = read(c->fd, buf, sizeof buf);
			while (n < 0 && errno == EINTR);
			if (n <= 0)
				break;
			client_input(c, buf, (size_t)n);
		}
	}
	drop_client(c);
}

void client_send(struct client *c, uint8_t type, const void *data, size_t len)
{
	uint8_t hdr[5] = {type, (uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8), (uint8_t)len};
	if (c->fd < 0)
		return;
	if (c->backlog_len > 0) {
		backlog_append(c, hdr, sizeof hdr);
		backlog_append(c, data, len);
		return;
	}
	struct iovec iov[2] = {{.iov_base = hdr, .iov_len = sizeof hdr}, {.iov_base = (void *)data, .iov_len = len}};
	ssize_t n;
	do
		n = writev(c->fd, iov, 2);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			drop_client_after_input(c);
			return;
		}
		n = 0;
	}
	size_t done = (size_t)n;
	if (done < sizeof hdr) {
		backlog_append(c, hdr + done, sizeof hdr - done);
		backlog_append(c, data, len);
	} else if (done - sizeof hdr < len) {
		backlog_append(c, (const char *)data + (done - sizeof hdr), len - (done - sizeof hdr));
	}
}

void client_flush(struct client *c)
{
	while (c->fd >= 0 && c->backlog_len > 0) {
		ssize_t n = write(c->fd, c->backlog, c->backlog_len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				drop_client_after_input(c);
			return;
		}
		memmove(c->backlog, c->backlog + n, c->backlog_len - (size_t)n);
		c->backlog_len -= (size_t)n;
	}
	if (c->backlog_len == 0 && c->backlog != NULL) {
		free(c->backlog);
		c->backlog = NULL;
		c->backlog_cap = 0;
	}
}

void broadcast(uint8_t type, const void *data, size_t len)
{
	for (int i = 0; i < n_clients; i++)
		client_send(&clients[i], type, data, len);
}

/* A check's result to the clients that asked for one: i32 BE exit code, then the status. */
void health_reply(int exit_code, const char *status)
{
	uint8_t payload[4 + 16];
	size_t n = strlen(status) < 16 ? strlen(status) : 16;
	payload[0] = (uint8_t)((uint32_t)exit_code >> 24);
	payload[1] = (uint8_t)((uint32_t)exit_code >> 16);
	payload[2] = (uint8_t)((uint32_t)exit_code >> 8);
	payload[3] = (uint8_t)exit_code;
	memcpy(payload + 4, status, n);
	for (int i = 0; i < n_clients; i++) {
		if (!clients[i].wants_health)
			continue;
		clients[i].wants_health = false;
		client_send(&clients[i], F_HEALTH, payload, 4 + n);
	}
}

void accept_clients(void)
{
	for (;;) {
		int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ECONNABORTED)
				warnx("accept: %s", strerror(errno));
			return;
		}
		if (n_clients == MAX_CLIENTS) {
			warnx("too many attach clients");
			close_fd(&fd);
			continue;
		}
		clients[n_clients++] = (struct client){.fd = fd};
	}
}

static void stdin_write(const char *data, size_t len)
{
	if (stdin_fd < 0 || len == 0)
		return;
	if (stdin_pending_len == 0) {
		ssize_t n;
		do
			n = write(stdin_fd, data, len);
		while (n < 0 && errno == EINTR);
		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK) {
				if (errno != EPIPE)
					warnx("write container stdin: %s", strerror(errno));
				if (!opt_tty)
					close_fd(&stdin_fd);
				return;
			}
			n = 0;
		}
		data += n;
		len -= (size_t)n;
	}
	/* Clients are not read while input is pending, so at most one IO_BUF read is queued. */
	if (len > sizeof stdin_pending - stdin_pending_len)
		len = sizeof stdin_pending - stdin_pending_len;
	memcpy(stdin_pending + stdin_pending_len, data, len);
	stdin_pending_len += len;
}

void stdin_flush(void)
{
	while (stdin_fd >= 0 && stdin_pending_len > 0) {
		ssize_t n = write(stdin_fd, stdin_pending, stdin_pending_len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			if (!opt_tty)
				close_fd(&stdin_fd);
			stdin_pending_len = 0;
			return;
		}
		memmove(stdin_pending, stdin_pending + n, stdin_pending_len - (size_t)n);
		stdin_pending_len -= (size_t)n;
	}
	if (stdin_fd < 0)
		stdin_pending_len = 0;
}

static void stdin_close(void)
{
	if (stdin_fd < 0)
		return;
	if (opt_tty) {
		stdin_write("\x04", 1); /* ^D: end of input for the line discipline */
	} else {
		stdin_flush();
		close_fd(&stdin_fd); /* pending bytes (if any) are lost: the client asked to close */
		stdin_pending_len = 0;
	}
}

static void dispatch(struct client *c)
{
	switch (c->type) {
	case F_STDIN_CLOSE: stdin_close(); break;
	case F_RESIZE:
		if (c->small_len >= 4 && opt_tty && out_fd >= 0) {
			struct winsize ws = {.ws_row = (unsigned short)(c->small[0] << 8 | c->small[1]),
					     .ws_col = (unsigned short)(c->small[2] << 8 | c->small[3])};
			if (ioctl(out_fd, TIOCSWINSZ, &ws) < 0)
				warnx("TIOCSWINSZ: %s", strerror(errno));
		}
		break;
	case F_SIGNAL:
		if (c->small_len >= 1 && container_pid > 0 && !container_exited)
			if (kill(container_pid, c->small[0]) < 0 && errno != ESRCH)
				warnx("kill %d %d: %s", (int)container_pid, c->small[0], strerror(errno));
		break;
	case F_START: do_start(c); break;
	case F_NO_RESTART: restart_end_policy(true); break;
	case F_HEALTHCHECK:
		if (!health_enabled() || !started || container_exited) {
			static const char msg[] = "container has no healthcheck or is not running";
			client_send(c, F_ERROR, msg, sizeof msg - 1);
		} else {
			c->wants_health = true;
			health_request();
		}
		break;
	default: break; /* unknown control frames are ignored */
	}
}

/* Parse the bytes a client sent: STDIN payloads stream to the container, others are small. */
static void client_input(struct client *c, const uint8_t *p, size_t len)
{
	while (len > 0 && c->fd >= 0) {
		if (c->hdr_len < 5) {
			c->hdr[c->hdr_len++] = *p++;
			len--;
			if (c->hdr_len < 5)
				continue;
			c->type = c->hdr[0];
			c->remaining = (uint32_t)c->hdr[1] << 24 | (uint32_t)c->hdr[2] << 16 | (uint32_t)c->hdr[3] << 8 | c->hdr[4];
			c->small_len = 0;
			if (c->type != F_STDIN && c->remaining > 65536) {
				warnx("attach client sent an oversized control frame: dropping it");
				drop_client(c);
				return;
			}
		} else {
			size_t take = len < c->remaining ? len : c->remaining;
			if (c->type == F_STDIN) {
				stdin_write((const char *)p, take);
			} else {
				for (size_t i = 0; i < take && c->small_len < sizeof c->small; i++)
					c->small[c->small_len++] = p[i];
			}
			p += take;
			len -= take;
			c->remaining -= (uint32_t)take;
		}
		if (c->hdr_len == 5 && c->remaining == 0) {
			c->hdr_len = 0;
			if (c->type != F_STDIN)
				dispatch(c);
		}
	}
}

void client_read(struct client *c)
{
	ssize_t n;
	do
		n = read(c->fd, iobuf, sizeof iobuf);
	while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return;
	if (n <= 0) { /* detach */
		drop_client(c);
		return;
	}
	client_input(c, (const uint8_t *)iobuf, (size_t)n);
}
