/* shim-loop.c: the poll loop of a running container, and the relay of its output. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "shim.h"

/* Read one chunk from a container output fd; returns false at EOF (and closes it). */
bool output_read(int *fd, bool is_stderr)
{
	ssize_t n;
	do
		n = read(*fd, iobuf, sizeof iobuf);
	while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return true;
	if (n <= 0) { /* EOF, or EIO on a pty master once every slave is closed */
		if (*fd == stdin_fd)
			stdin_fd = -1;
		close_fd(fd);
		return false;
	}
	log_chunk(is_stderr ? "stderr" : "stdout", iobuf, (size_t)n);
	broadcast(is_stderr ? F_STDERR : F_STDOUT, iobuf, (size_t)n);
	return true;
}

/*
 * A client whose backlog reached CLIENT_BACKLOG_MAX pauses the reading of container output (the
 * container then waits on its pipe, as on a slow terminal); if it does not drain below the limit
 * within CLIENT_STALL_MS it is dropped. Returns the poll timeout that this needs (-1: none).
 */
static int check_stalled_clients(bool *paused)
{
	int64_t now = now_ms(), next = -1;
	*paused = false;
	for (int i = 0; i < n_clients; i++) {
		struct client *c = &clients[i];
		if (c->fd < 0)
			continue;
		if (c->backlog_len < CLIENT_BACKLOG_MAX) {
			c->stalled_since = 0;
			continue;
		}
		if (c->stalled_since == 0)
			c->stalled_since = now;
		if (now - c->stalled_since >= CLIENT_STALL_MS) {
			warnx("attach client too slow: dropping it");
			drop_client(c);
			continue;
		}
		*paused = true;
		int64_t left = c->stalled_since + CLIENT_STALL_MS - now;
		if (next < 0 || left < next)
			next = left;
	}
	return (int)next;
}

static int min_timeout(int a, int64_t b)
{
	if (b < 0)
		b = 0;
	return a < 0 || b < a ? (int)b : a;
}

/* Until the container exited and its output is drained (to EOF, at most DRAIN_TIMEOUT_MS). */
void main_loop(void)
{
	int64_t start_deadline = now_ms() + start_timeout_ms, drain_deadline = -1;
	struct pollfd p[6 + MAX_CLIENTS];
	for (;;) {
		if (container_exited && drain_deadline < 0)
			drain_deadline = now_ms() + DRAIN_TIMEOUT_MS;
		if (drain_deadline >= 0 && ((out_fd < 0 && err_fd < 0) || now_ms() >= drain_deadline))
			break;
		if (!started && !container_exited && (stop_requested || now_ms() >= start_deadline)) {
			warnx(stop_requested ? "stopped before start" : "no START within %d s: removing the container",
			      start_timeout_ms / 1000);
			cleanup_and_exit(1);
		}
		bool paused;
		int timeout = check_stalled_clients(&paused);
		compact_clients();
		if (!started && !container_exited)
			timeout = min_timeout(timeout, start_deadline - now_ms());
		if (drain_deadline >= 0)
			timeout = min_timeout(timeout, drain_deadline - now_ms());
		if (!container_exited && health_timeout_ms() >= 0)
			timeout = min_timeout(timeout, health_timeout_ms());
		if (stdin_fd < 0)
			stdin_pending_len = 0;
		int np = 0;
		p[np++] = (struct pollfd){.fd = sig_fd, .events = POLLIN};
		p[np++] = (struct pollfd){.fd = listen_fd, .events = POLLIN};
		p[np++] = (struct pollfd){.fd = paused ? -1 : out_fd, .events = POLLIN};
		p[np++] = (struct pollfd){.fd = paused ? -1 : err_fd, .events = POLLIN};
		/* With input pending for the container, stop reading clients: backpressure. */
		p[np++] = (struct pollfd){.fd = stdin_pending_len > 0 ? stdin_fd : -1, .events = POLLOUT};
		for (int i = 0; i < n_clients; i++)
			p[np++] = (struct pollfd){.fd = clients[i].fd,
						  .events = (short)((stdin_pending_len == 0 ? POLLIN : 0) |
								    (clients[i].backlog_len > 0 ? POLLOUT : 0))};
		int health_slot = np; /* the running check's output, after the clients */
		p[np++] = (struct pollfd){.fd = health_poll_fd(), .events = POLLIN};
		int r = poll(p, (nfds_t)np, timeout);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			die("poll: %s", strerror(errno));
		}
		if (!container_exited) /* checks due, timeouts */
			health_on_timer();
		if (r == 0)
			continue;
		if (p[health_slot].revents && p[health_slot].fd >= 0 && p[health_slot].fd == health_poll_fd())
			health_on_readable();
		if (p[0].revents)
			handle_signals();
		if (p[1].revents)
			accept_clients();
		if (p[2].revents && p[2].fd >= 0 && out_fd >= 0)
			output_read(&out_fd, false);
		if (p[3].revents && p[3].fd >= 0 && err_fd >= 0)
			output_read(&err_fd, true);
		if (p[4].revents)
			stdin_flush();
		int n = n_clients; /* clients accepted above have no slot in p[] yet */
		for (int i = 0; i < n && 5 + i < health_slot; i++) {
			struct client *c = &clients[i];
			short re = p[5 + i].revents;
			if (c->fd < 0 || c->fd != p[5 + i].fd || !re)
				continue;
			if (re & POLLOUT)
				client_flush(c);
			if (c->fd >= 0 && (re & (POLLIN | POLLHUP | POLLERR)))
				client_read(c);
		}
	}
}
