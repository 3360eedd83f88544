/*
 * ctr-ts-shim: the per-container monitor process (like conmon), one per running container.
 *
 *   ctr-ts-shim --id ID --bundle DIR --runtime PATH [--runtime-arg ARG]...
 *               [--mount-program PATH [--mount-arg ARG]...] --rootfs DIR
 *               --state-dir DIR --log FILE --exit-file FILE [--tty] [--stdin]
 *               [--exit-command PATH [--exit-arg ARG]...] --sync-fd N [--start-timeout SECONDS]
 *               [--log-max-size BYTES [--log-max-files N]] [--events-file FILE [--events-attr K=V]...]
 *
 * It mounts the rootfs (by running the mount program, e.g. fuse-overlayfs), runs
 * `RUNTIME create`, reports `created PID` or `error MSG` on the sync fd, waits for a START frame
 * on STATEDIR/attach.sock, runs `RUNTIME start`, then relays the container's output to the log
 * file (k8s-file format, rotated by size) and to attach clients, and its input from them. When the container
 * exits it drains the output, deletes the container, unmounts the rootfs, reaps every remaining
 * child (it is a child subreaper), writes the exit file and exits. The wire protocol is in
 * shim/PROTOCOL.md.
 *
 * One thread, one poll loop, static buffers; the heap is only used for a slow attach client's
 * backlog (at most CLIENT_BACKLOG_MAX bytes each).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "events.h"

#define MAX_ARGS 64
#define MAX_CLIENTS 32
#define IO_BUF 8192
#define CLIENT_BACKLOG_MAX (1024 * 1024) /* then output reading pauses for this client */
#define CLIENT_STALL_MS 2000              /* a client over the limit this long is dropped */
#define START_TIMEOUT_MS 60000
#define DRAIN_TIMEOUT_MS 2000
#define CHILDREN_TIMEOUT_MS 3000
#define ERRMSG_MAX 1024
#define MAX_LOG_FILES 100 /* --log-max-files: ctr.log plus at most 99 rotated files */

/* Frame types (shim/PROTOCOL.md). */
enum {
	F_STDIN = 1,
	F_STDIN_CLOSE = 2,
	F_RESIZE = 3,
	F_SIGNAL = 4,
	F_START = 5,
	F_STDOUT = 17,
	F_STDERR = 18,
	F_EXIT = 19,
	F_STARTED = 20,
	F_ERROR = 21,
};

/* ---- options ---------------------------------------------------------------------------- */

static const char *opt_id, *opt_bundle, *opt_runtime, *opt_mount_program, *opt_rootfs;
static const char *opt_state_dir, *opt_log, *opt_exit_file, *opt_exit_command;
static const char *runtime_args[MAX_ARGS], *mount_args[MAX_ARGS], *exit_args[MAX_ARGS];
static int n_runtime_args, n_mount_args, n_exit_args;
static const char *opt_events_file, *event_attrs[MAX_ARGS]; /* --events-file, --events-attr K=V */
static int n_event_attrs;
static bool opt_tty, opt_stdin;
static int sync_fd = -1;
static int start_timeout_ms = START_TIMEOUT_MS;
static long long log_max_size; /* bytes; 0: no limit */
static int log_max_files = 1;  /* files kept, the current one included */

/* ---- state -------------------------------------------------------------------------------- */

static char attach_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
static char console_path[sizeof attach_path];
static char shim_pid_path[4096], container_pid_path[4096];

static int sig_fd = -1, listen_fd = -1, log_fd = -1;
static long long log_size; /* bytes in the current log file */
static int out_fd = -1;   /* container stdout pipe, or the pty master */
static int err_fd = -1;   /* container stderr pipe (no tty) */
static int stdin_fd = -1; /* container stdin pipe, or the pty master (with --stdin) */
static bool mounted;

static pid_t container_pid = -1;
static bool container_exited;
static int container_status;

static pid_t waited_pid = -1; /* a runtime/mount child being waited for */
static bool waited_done;
static int waited_status;

static bool started, stop_requested;

static char iobuf[IO_BUF];
static char stdin_pending[IO_BUF];
static size_t stdin_pending_len;

struct client {
	int fd;
	uint8_t hdr[5];
	size_t hdr_len;
	uint8_t type;
	uint32_t remaining; /* payload bytes still to come for the current frame */
	uint8_t small[8];   /* payload of control frames */
	size_t small_len;
	char *backlog; /* output not yet accepted by the socket (heap, only for slow clients) */
	size_t backlog_len, backlog_cap;
	int64_t stalled_since; /* when the backlog reached CLIENT_BACKLOG_MAX (0: it has not) */
};
static struct client clients[MAX_CLIENTS];
static int n_clients;

/* ---- small helpers ------------------------------------------------------------------------ */

static _Noreturn void cleanup_and_exit(int code);

/* A fatal error after the sync fd is closed (or before anything exists to clean up). */
static void sync_report(const char *fmt, ...);

/* die(): the message is on stderr; also on the sync fd if the CLI still waits; clean up, exit 1. */
void die_exit(const char *msg)
{
	sync_report("error %s", msg);
	cleanup_and_exit(1);
}

static int64_t now_ms(void)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0)
		return 0;
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* RFC 3339 with nanoseconds, UTC: 2006-01-02T15:04:05.999999999Z */
static void timestamp(char *buf, size_t len)
{
	struct timespec ts;
	struct tm tm;
	if (clock_gettime(CLOCK_REALTIME, &ts) < 0 || gmtime_r(&ts.tv_sec, &tm) == NULL) {
		snprintf(buf, len, "1970-01-01T00:00:00.000000000Z");
		return;
	}
	size_t n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, len - n, ".%09ldZ", ts.tv_nsec);
}

static bool write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return false;
		}
		p += n;
		len -= (size_t)n;
	}
	return true;
}

static void set_nonblock(int fd)
{
	int flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
		die("fcntl O_NONBLOCK: %s", strerror(errno));
}

static void close_fd(int *fd)
{
	if (*fd >= 0 && close(*fd) < 0 && errno != EINTR)
		warnx("close: %s", strerror(errno));
	*fd = -1;
}

static void join_path(char *buf, size_t len, const char *dir, const char *name)
{
	if ((size_t)snprintf(buf, len, "%s/%s", dir, name) >= len)
		die("path too long: %s/%s (keep the state directory short: unix socket paths are limited to %zu bytes)",
		    dir, name, len - 1);
}

/* Report on the sync fd (to the CLI that spawned us), once. */
static void sync_report(const char *fmt, ...)
{
	char line[ERRMSG_MAX + 32];
	va_list ap;
	if (sync_fd < 0)
		return;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof line - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n > sizeof line - 2)
		n = sizeof line - 2;
	for (int i = 0; i < n; i++)
		if (line[i] == '\n')
			line[i] = ' ';
	line[n++] = '\n';
	if (!write_all(sync_fd, line, (size_t)n))
		warnx("write to sync fd: %s", strerror(errno));
	close_fd(&sync_fd);
}

/*
 * The runtime's last non-empty stderr line, verbatim: what it means (runc's
 * `time="..." level=error msg="..."` wrapping, which failures are the container command's) is
 * decided in one place, by the CLI's runtime Task (src/runtime/classify.ts).
 */
static void last_line(const char *raw, char *out, size_t outlen)
{
	const char *end = raw + strlen(raw);
	while (end > raw && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' '))
		end--;
	if (end == raw) {
		snprintf(out, outlen, "unknown error");
		return;
	}
	const char *start = end;
	while (start > raw && start[-1] != '\n')
		start--;
	size_t n = (size_t)(end - start);
	if (n >= outlen)
		n = outlen - 1;
	memcpy(out, start, n);
	out[n] = '\0';
}

/* ---- children -------------------------------------------------------------------------- */

/* Reap every exited child; remember the container's and the waited-for child's status. */
static void reap_children(void)
{
	for (;;) {
		int status;
		pid_t pid = waitpid(-1, &status, WNOHANG);
		if (pid <= 0) {
			if (pid < 0 && errno == EINTR)
				continue;
			return;
		}
		if (pid == container_pid && !container_exited) {
			container_exited = true;
			container_status = status;
		}
		if (pid == waited_pid) {
			waited_done = true;
			waited_status = status;
		}
	}
}

static void forward_signal(int signo)
{
	if (started && container_pid > 0 && !container_exited) {
		if (kill(container_pid, signo) < 0 && errno != ESRCH)
			warnx("kill %d: %s", (int)container_pid, strerror(errno));
	} else if (!started) {
		stop_requested = true;
	}
}

static void handle_signals(void)
{
	struct signalfd_siginfo si;
	for (;;) {
		ssize_t n = read(sig_fd, &si, sizeof si);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				warnx("read signalfd: %s", strerror(errno));
			break;
		}
		if (n != sizeof si)
			break;
		switch (si.ssi_signo) {
		case SIGCHLD: break; /* reaped below: signals coalesce, so always reap everything */
		case SIGTERM:
		case SIGINT: forward_signal((int)si.ssi_signo); break;
		default: break; /* SIGHUP: we have no terminal; ignore */
		}
	}
	reap_children();
}

/*
 * Fork and exec argv with the given stdio (-1 = /dev/null). The child gets a clean signal
 * mask and default dispositions (the container inherits them through the runtime).
 */
static pid_t spawn(const char *const argv[], int in, int out, int err)
{
	pid_t pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid > 0)
		return pid;
	sigset_t none;
	sigemptyset(&none);
	signal(SIGPIPE, SIG_DFL);
	sigprocmask(SIG_SETMASK, &none, NULL);
	int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	int fds[3] = {in, out, err};
	for (int i = 0; i < 3; i++) {
		int fd = fds[i] >= 0 ? fds[i] : devnull;
		if (fd < 0 || dup2(fd, i) < 0) {
			fprintf(stderr, "ctr-ts-shim: dup2: %s\n", strerror(errno));
			_exit(127);
		}
	}
	execv(argv[0], (char *const *)argv);
	fprintf(stderr, "ctr-ts-shim: exec %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

/* Wait for one child while still reaping the others and watching signals. */
static int wait_child(pid_t pid, int console_listen, int *console_master);

/* Read what is available in a non-blocking pipe, keeping the tail if there is too much. */
static size_t read_tail(int fd, char *raw, size_t size)
{
	size_t len = 0;
	for (;;) {
		ssize_t n = read(fd, raw + len, size - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		if (len == size - 1) { /* keep the tail: the last line matters */
			memmove(raw, raw + len / 2, len - len / 2);
			len -= len / 2;
		}
	}
	while (len > 0 && (raw[len - 1] == '\n' || raw[len - 1] == '\r'))
		len--;
	raw[len] = '\0';
	return len;
}

static const char **runtime_argv(const char **argv, const char *const sub[])
{
	int a = 0;
	argv[a++] = opt_runtime;
	for (int i = 0; i < n_runtime_args; i++)
		argv[a++] = runtime_args[i];
	for (int i = 0; sub[i] != NULL; i++)
		argv[a++] = sub[i];
	argv[a] = NULL;
	return argv;
}

/*
 * Run RUNTIME [runtime-args] SUB... with stdin/stdout on /dev/null and stderr captured; returns
 * its wait status and puts its last stderr line in errbuf.
 */
static int run_runtime(const char *const sub[], char *errbuf, size_t errlen)
{
	const char *argv[MAX_ARGS + 16];
	int errp[2];
	if (pipe2(errp, O_CLOEXEC) < 0)
		die("pipe: %s", strerror(errno));
	set_nonblock(errp[0]);
	pid_t pid = spawn(runtime_argv(argv, sub), -1, -1, errp[1]);
	close_fd(&errp[1]);
	int status = wait_child(pid, -1, NULL);
	char raw[4096];
	if (read_tail(errp[0], raw, sizeof raw) > 0)
		warnx("%s %s: %s", opt_runtime, sub[0], raw);
	close_fd(&errp[0]);
	last_line(raw, errbuf, errlen);
	return status;
}

/* Receive the pty master runc sends on the console socket (SCM_RIGHTS). */
static int receive_console(int listen_sock)
{
	int conn = accept4(listen_sock, NULL, NULL, SOCK_CLOEXEC);
	if (conn < 0) {
		warnx("accept console socket: %s", strerror(errno));
		return -1;
	}
	char name[256];
	struct iovec iov = {.iov_base = name, .iov_len = sizeof name};
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf, .msg_controllen = sizeof ctl.buf};
	ssize_t n;
	do
		n = recvmsg(conn, &msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	int fd = -1;
	if (n < 0) {
		warnx("recvmsg console socket: %s", strerror(errno));
	} else {
		struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
		if (cm != NULL && cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
			memcpy(&fd, CMSG_DATA(cm), sizeof fd);
		else
			warnx("console socket: no file descriptor received");
	}
	close_fd(&conn);
	return fd;
}

static int wait_child(pid_t pid, int console_listen, int *console_master)
{
	waited_pid = pid;
	waited_done = false;
	reap_children();
	while (!waited_done) {
		struct pollfd p[2] = {{.fd = sig_fd, .events = POLLIN}, {.fd = console_listen, .events = POLLIN}};
		int np = console_listen >= 0 ? 2 : 1;
		if (poll(p, (nfds_t)np, -1) < 0) {
			if (errno == EINTR)
				continue;
			die("poll: %s", strerror(errno));
		}
		if (p[0].revents)
			handle_signals();
		if (np == 2 && p[1].revents && console_master != NULL && *console_master < 0)
			*console_master = receive_console(console_listen);
	}
	waited_pid = -1;
	return waited_status;
}

static bool status_ok(int status)
{
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* ---- attach clients -------------------------------------------------------------------- */

static void drop_client(struct client *c)
{
	close_fd(&c->fd);
	free(c->backlog);
	c->backlog = NULL;
	c->backlog_len = c->backlog_cap = 0;
}

static void compact_clients(void)
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
static void client_send(struct client *c, uint8_t type, const void *data, size_t len)
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
			drop_client(c);
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

static void client_flush(struct client *c)
{
	while (c->fd >= 0 && c->backlog_len > 0) {
		ssize_t n = write(c->fd, c->backlog, c->backlog_len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				drop_client(c);
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

static void broadcast(uint8_t type, const void *data, size_t len)
{
	for (int i = 0; i < n_clients; i++)
		client_send(&clients[i], type, data, len);
}

static void accept_clients(void)
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

/* ---- container input --------------------------------------------------------------------- */

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

static void stdin_flush(void)
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

static void do_start(struct client *c);

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

static void client_read(struct client *c)
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

/* ---- container output --------------------------------------------------------------------- */

/* ---- log file ------------------------------------------------------------------------------ */

/* Opens the log for appending (truncated when asked) and learns its size. */
static bool log_open(bool truncate)
{
	struct stat st;
	log_fd = open(opt_log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | (truncate ? O_TRUNC : 0), 0640);
	if (log_fd < 0) {
		int e = errno;
		warnx("open log %s: %s", opt_log, strerror(e));
		errno = e;
		return false;
	}
	if (fstat(log_fd, &st) < 0) {
		warnx("fstat log %s: %s", opt_log, strerror(errno));
		close_fd(&log_fd);
		return false;
	}
	log_size = (long long)st.st_size;
	return true;
}

/* LOG.N (LOG itself for N = 0). */
static bool rotated_name(char *buf, size_t len, int n)
{
	int w = n == 0 ? snprintf(buf, len, "%s", opt_log) : snprintf(buf, len, "%s.%d", opt_log, n);
	return w >= 0 && (size_t)w < len;
}

/*
 * Rotation (docker's json-file rules): LOG.(N-2) -> LOG.(N-1), ..., LOG -> LOG.1, then a new LOG,
 * N being --log-max-files; each rename replaces the oldest file at once. With N = 1 the log is
 * truncated instead. When a rename fails the shim keeps appending to the file it has.
 */
static void log_rotate(void)
{
	char from[4096], to[4096];
	close_fd(&log_fd);
	for (int i = log_max_files - 1; i >= 1; i--) {
		if (!rotated_name(from, sizeof from, i - 1) || !rotated_name(to, sizeof to, i)) {
			warnx("log path too long: %s", opt_log);
			break;
		}
		if (rename(from, to) < 0 && errno != ENOENT) {
			warnx("rotate log %s -> %s: %s", from, to, strerror(errno));
			break;
		}
	}
	if (!log_open(log_max_files == 1) && !log_open(false))
		warnx("the container's output is no longer logged");
}

/* One log record per line in the chunk: F for a line ended by \n, P for a trailing partial. */
static void log_chunk(const char *stream, const char *data, size_t len)
{
	char ts[64];
	timestamp(ts, sizeof ts);
	while (len > 0 && log_fd >= 0) {
		const char *nl = memchr(data, '\n', len);
		size_t line_len = nl ? (size_t)(nl - data) : len;
		char head[96];
		int hl = snprintf(head, sizeof head, "%s %s %c ", ts, stream, nl ? 'F' : 'P');
		struct iovec iov[3] = {{.iov_base = head, .iov_len = (size_t)hl},
				       {.iov_base = (void *)data, .iov_len = line_len},
				       {.iov_base = "\n", .iov_len = 1}};
		size_t total = (size_t)hl + line_len + 1;
		/* A record never straddles two files; a file outgrows the limit only by a record larger than it. */
		if (log_max_size > 0 && log_size > 0 && log_size + (long long)total > log_max_size) {
			log_rotate();
			if (log_fd < 0)
				return;
		}
		ssize_t n;
		do
			n = writev(log_fd, iov, 3);
		while (n < 0 && errno == EINTR);
		if (n > 0)
			log_size += n;
		if (n < 0 || (size_t)n != total) {
			warnx("write log %s: %s", opt_log, n < 0 ? strerror(errno) : "short write");
			if (n < 0)
				close_fd(&log_fd);
		}
		size_t used = nl ? line_len + 1 : line_len;
		data += used;
		len -= used;
	}
}

/* Read one chunk from a container output fd; returns false at EOF (and closes it). */
static bool output_read(int *fd, bool is_stderr)
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

/* ---- lifecycle ---------------------------------------------------------------------------- */

static void do_start(struct client *c)
{
	if (started) {
		static const char msg[] = "container already started";
		client_send(c, F_ERROR, msg, sizeof msg - 1);
		return;
	}
	char err[ERRMSG_MAX];
	const char *sub[] = {"start", opt_id, NULL};
	started = true; /* from now on SIGTERM/SIGINT go to the container */
	int status = run_runtime(sub, err, sizeof err);
	if (status_ok(status)) {
		broadcast(F_STARTED, NULL, 0);
		return;
	}
	client_send(c, F_ERROR, err, strlen(err));
	client_flush(c);
	warnx("%s start failed: %s", opt_runtime, err);
	cleanup_and_exit(1);
}

static void kill_remaining_children(void)
{
	DIR *d = opendir("/proc");
	if (d == NULL) {
		warnx("opendir /proc: %s", strerror(errno));
		return;
	}
	pid_t self = getpid();
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		char path[300], stat[512];
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		ssize_t n = read(fd, stat, sizeof stat - 1);
		close_fd(&fd);
		if (n <= 0)
			continue;
		stat[n] = '\0';
		char *rp = strrchr(stat, ')'); /* comm may contain spaces and parentheses */
		int ppid;
		if (rp != NULL && sscanf(rp + 1, " %*c %d", &ppid) == 1 && ppid == self) {
			pid_t pid = (pid_t)atoi(e->d_name);
			warnx("killing leftover child %d", (int)pid);
			kill(pid, SIGKILL);
		}
	}
	closedir(d);
}

/* Wait (bounded) until we have no children left; then SIGKILL whatever remains. */
static void reap_all_children(void)
{
	int64_t deadline = now_ms() + CHILDREN_TIMEOUT_MS;
	bool killed = false;
	for (;;) {
		int status;
		pid_t pid = waitpid(-1, &status, WNOHANG);
		if (pid > 0)
			continue;
		if (pid < 0 && errno == EINTR)
			continue;
		if (pid < 0) /* ECHILD: none left */
			return;
		if (now_ms() >= deadline) {
			if (killed)
				return;
			kill_remaining_children();
			killed = true;
			deadline = now_ms() + 1000;
		}
		struct pollfd p = {.fd = sig_fd, .events = POLLIN};
		if (poll(&p, 1, 100) > 0) {
			struct signalfd_siginfo si;
			while (read(sig_fd, &si, sizeof si) == (ssize_t)sizeof si)
				;
		}
	}
}

static void unmount_rootfs(void)
{
	if (!mounted)
		return;
	if (umount2(opt_rootfs, MNT_DETACH) < 0)
		warnx("umount %s: %s", opt_rootfs, strerror(errno));
	mounted = false;
}

static void unlink_quiet(const char *path)
{
	if (path[0] != '\0' && unlink(path) < 0 && errno != ENOENT)
		warnx("unlink %s: %s", path, strerror(errno));
}

/* Runtime delete, unmount, reap, remove our files. Used on every way out. */
static void cleanup_and_exit(int code)
{
	static bool in_cleanup;
	if (in_cleanup)
		_exit(code);
	in_cleanup = true;
	if (sync_fd >= 0)
		sync_report("error shim failed (see its diagnostics)");
	if (container_pid > 0 || started) {
		const char *sub[] = {"delete", "--force", opt_id, NULL};
		char err[ERRMSG_MAX];
		if (!status_ok(run_runtime(sub, err, sizeof err)))
			warnx("%s delete failed: %s", opt_runtime, err);
	}
	unmount_rootfs();
	reap_all_children();
	for (int i = 0; i < n_clients; i++)
		drop_client(&clients[i]);
	close_fd(&listen_fd);
	unlink_quiet(attach_path);
	unlink_quiet(console_path);
	unlink_quiet(shim_pid_path);
	unlink_quiet(container_pid_path);
	exit(code);
}

static void write_exit_file(int code, int signo)
{
	char tmp[4096], ts[64], json[256];
	if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", opt_exit_file) >= sizeof tmp) {
		warnx("exit file path too long");
		return;
	}
	timestamp(ts, sizeof ts);
	int n;
	if (signo > 0)
		n = snprintf(json, sizeof json, "{\"exitCode\":%d,\"signal\":%d,\"finishedAt\":\"%s\"}\n", code, signo, ts);
	else
		n = snprintf(json, sizeof json, "{\"exitCode\":%d,\"signal\":null,\"finishedAt\":\"%s\"}\n", code, ts);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		warnx("open %s: %s", tmp, strerror(errno));
		return;
	}
	bool ok = write_all(fd, json, (size_t)n) && fsync(fd) == 0;
	if (!ok)
		warnx("write %s: %s", tmp, strerror(errno));
	close_fd(&fd);
	if (ok && rename(tmp, opt_exit_file) < 0)
		warnx("rename %s: %s", tmp, strerror(errno));
}

static void run_exit_command(void)
{
	if (opt_exit_command == NULL)
		return;
	const char *argv[MAX_ARGS + 2];
	int a = 0;
	argv[a++] = opt_exit_command;
	for (int i = 0; i < n_exit_args; i++)
		argv[a++] = exit_args[i];
	argv[a] = NULL;
	pid_t pid = fork();
	if (pid < 0) {
		warnx("fork: %s", strerror(errno));
		return;
	}
	if (pid == 0) {
		if (setsid() < 0)
			_exit(127);
		sigset_t none;
		sigemptyset(&none);
		signal(SIGPIPE, SIG_DFL);
		sigprocmask(SIG_SETMASK, &none, NULL);
		execv(argv[0], (char *const *)argv);
		fprintf(stderr, "ctr-ts-shim: exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	/* Wait for it, so that clients told of the exit find the cleanup done (run --rm). */
	int status;
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			warnx("waitpid exit command: %s", strerror(errno));
			return;
		}
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		warnx("exit command %s failed", argv[0]);
}

/* The container exited and its output is drained: delete, unmount, reap, exit file, exit command, EXIT frames. */
static void finish(void)
{
	int code, signo = 0;
	if (WIFEXITED(container_status)) {
		code = WEXITSTATUS(container_status);
	} else if (WIFSIGNALED(container_status)) {
		signo = WTERMSIG(container_status);
		code = 128 + signo;
	} else {
		code = 255;
	}

	/* The output was drained by main_loop: every writer is gone with the container's pid namespace. */
	if (stdin_fd == out_fd)
		stdin_fd = -1;
	close_fd(&out_fd);
	close_fd(&err_fd);
	close_fd(&stdin_fd);
	close_fd(&log_fd);

	const char *sub[] = {"delete", "--force", opt_id, NULL};
	char err[ERRMSG_MAX];
	if (!status_ok(run_runtime(sub, err, sizeof err)))
		warnx("%s delete failed: %s", opt_runtime, err);
	unmount_rootfs();
	reap_all_children();
	write_exit_file(code, signo);
	if (opt_events_file && events_append_die(opt_events_file, opt_id, code, event_attrs) < 0)
		warnx("events journal %s: %s", opt_events_file, strerror(errno));
	run_exit_command();

	uint8_t frame[4] = {(uint8_t)((uint32_t)code >> 24), (uint8_t)((uint32_t)code >> 16),
			    (uint8_t)((uint32_t)code >> 8), (uint8_t)code};
	broadcast(F_EXIT, frame, sizeof frame);
	for (int i = 0; i < n_clients; i++) {
		struct client *c = &clients[i];
		if (c->fd < 0)
			continue;
		/* Give each client a bounded chance to take its backlog and the EXIT frame. */
		struct timeval tv = {.tv_sec = 1};
		int flags = fcntl(c->fd, F_GETFL);
		if (flags >= 0)
			fcntl(c->fd, F_SETFL, flags & ~O_NONBLOCK);
		setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
		client_flush(c);
		drop_client(c);
	}
	n_clients = 0;
	close_fd(&listen_fd);
	unlink_quiet(attach_path);
	unlink_quiet(console_path);
	unlink_quiet(shim_pid_path);
	unlink_quiet(container_pid_path);
	exit(0);
}

/* ---- setup -------------------------------------------------------------------------------- */

static void usage(void)
{
	fputs("usage: ctr-ts-shim --id ID --bundle DIR --runtime PATH [--runtime-arg ARG]...\n"
	      "       [--mount-program PATH [--mount-arg ARG]...] --rootfs DIR --state-dir DIR\n"
	      "       --log FILE --exit-file FILE [--tty] [--stdin]\n"
	      "       [--exit-command PATH [--exit-arg ARG]...] --sync-fd N [--start-timeout SECONDS]\n"
	      "       [--log-max-size BYTES [--log-max-files N]]\n",
	      stderr);
	exit(2);
}

static void append_arg(const char **arr, int *n, const char *value)
{
	if (*n >= MAX_ARGS - 1) {
		warnx("too many arguments for a repeatable option");
		exit(2);
	}
	arr[(*n)++] = value;
}

static void parse_args(int argc, char **argv)
{
	static const struct option opts[] = {
		{"id", required_argument, NULL, 'i'},
		{"bundle", required_argument, NULL, 'b'},
		{"runtime", required_argument, NULL, 'r'},
		{"runtime-arg", required_argument, NULL, 'R'},
		{"mount-program", required_argument, NULL, 'm'},
		{"mount-arg", required_argument, NULL, 'M'},
		{"rootfs", required_argument, NULL, 'f'},
		{"state-dir", required_argument, NULL, 's'},
		{"log", required_argument, NULL, 'l'},
		{"exit-file", required_argument, NULL, 'x'},
		{"tty", no_argument, NULL, 't'},
		{"stdin", no_argument, NULL, 'I'},
		{"exit-command", required_argument, NULL, 'e'},
		{"exit-arg", required_argument, NULL, 'E'},
		{"sync-fd", required_argument, NULL, 'S'},
		{"start-timeout", required_argument, NULL, 'T'},
		{"log-max-size", required_argument, NULL, 'Z'},
		{"log-max-files", required_argument, NULL, 'N'},
		{"events-file", required_argument, NULL, 'v'},
		{"events-attr", required_argument, NULL, 'a'},
		{NULL, 0, NULL, 0},
	};
	int c;
	char *end;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'i': opt_id = optarg; break;
		case 'b': opt_bundle = optarg; break;
		case 'r': opt_runtime = optarg; break;
		case 'R': append_arg(runtime_args, &n_runtime_args, optarg); break;
		case 'm': opt_mount_program = optarg; break;
		case 'M': append_arg(mount_args, &n_mount_args, optarg); break;
		case 'f': opt_rootfs = optarg; break;
		case 'v': opt_events_file = optarg; break;
		case 'a': append_arg(event_attrs, &n_event_attrs, optarg); break;
		case 's': opt_state_dir = optarg; break;
		case 'l': opt_log = optarg; break;
		case 'x': opt_exit_file = optarg; break;
		case 't': opt_tty = true; break;
		case 'I': opt_stdin = true; break;
		case 'e': opt_exit_command = optarg; break;
		case 'E': append_arg(exit_args, &n_exit_args, optarg); break;
		case 'S':
			errno = 0;
			sync_fd = (int)strtol(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || sync_fd < 0)
				usage();
			break;
		case 'T':
			errno = 0;
			start_timeout_ms = (int)strtol(optarg, &end, 10) * 1000;
			if (errno != 0 || *end != '\0' || start_timeout_ms <= 0)
				usage();
			break;
		case 'Z':
			errno = 0;
			log_max_size = strtoll(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || log_max_size < 0)
				usage();
			break;
		case 'N':
			errno = 0;
			log_max_files = (int)strtol(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || log_max_files < 1 || log_max_files > MAX_LOG_FILES)
				usage();
			break;
		default: usage();
		}
	}
	if (optind != argc || !opt_id || !opt_bundle || !opt_runtime || !opt_rootfs || !opt_state_dir || !opt_log ||
	    !opt_exit_file)
		usage();
}

static void setup_signals(void)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		die("signal SIGPIPE: %s", strerror(errno));
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		die("sigprocmask: %s", strerror(errno));
	sig_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sig_fd < 0)
		die("signalfd: %s", strerror(errno));
}

/* Run the mount program (fuse-overlayfs daemonizes once mounted: its daemon becomes our child). */
static void mount_rootfs(void)
{
	if (opt_mount_program == NULL)
		return;
	const char *argv[MAX_ARGS + 2];
	int a = 0;
	argv[a++] = opt_mount_program;
	for (int i = 0; i < n_mount_args; i++)
		argv[a++] = mount_args[i];
	argv[a] = NULL;
	int errp[2];
	if (pipe2(errp, O_CLOEXEC) < 0)
		die("pipe: %s", strerror(errno));
	set_nonblock(errp[0]);
	pid_t pid = spawn(argv, -1, -1, errp[1]);
	close_fd(&errp[1]);
	int status = wait_child(pid, -1, NULL);
	char raw[4096], msg[ERRMSG_MAX];
	size_t n = read_tail(errp[0], raw, sizeof raw); /* the daemon may hold the pipe: no EOF wait */
	close_fd(&errp[0]);
	if (n > 0)
		warnx("%s: %s", opt_mount_program, raw);
	if (!status_ok(status)) {
		last_line(raw, msg, sizeof msg);
		if (WIFEXITED(status))
			sync_report("error mounting the rootfs with %s failed (exit %d): %s", opt_mount_program,
				    WEXITSTATUS(status), n > 0 ? msg : "no message");
		else
			sync_report("error mounting the rootfs with %s failed (signal %d)", opt_mount_program,
				    WTERMSIG(status));
		cleanup_and_exit(1);
	}
	mounted = true;
}

static int listen_unix(const char *path)
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

static void write_pid_file(void)
{
	char buf[32];
	int n = snprintf(buf, sizeof buf, "%d\n", (int)getpid());
	int fd = open(shim_pid_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || !write_all(fd, buf, (size_t)n))
		die("write %s: %s", shim_pid_path, strerror(errno));
	close_fd(&fd);
}

static pid_t read_container_pid(void)
{
	char buf[32];
	int fd = open(container_pid_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close_fd(&fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	long pid = strtol(buf, NULL, 10);
	return pid > 0 ? (pid_t)pid : -1;
}

static void make_pipe(int p[2])
{
	if (pipe2(p, O_CLOEXEC) < 0)
		die("pipe: %s", strerror(errno));
}

/* `RUNTIME create`: on success the container process waits (in the runtime's init) for start. */
static void create_container(void)
{
	int in_child = -1, out_child = -1, err_child = -1, err_read = -1;
	int console_listen = -1, master = -1;
	int p[2];
	if (opt_tty) {
		console_listen = listen_unix(console_path);
		make_pipe(p); /* runc's own stderr */
		err_read = p[0];
		err_child = p[1];
	} else {
		make_pipe(p);
		out_fd = p[0];
		out_child = p[1];
		make_pipe(p);
		err_fd = p[0];
		err_child = p[1];
		err_read = err_fd;
		if (opt_stdin) {
			make_pipe(p);
			in_child = p[0];
			stdin_fd = p[1];
		}
	}
	set_nonblock(err_read);

	char errmsg[ERRMSG_MAX];
	const char *sub[12];
	int s = 0;
	sub[s++] = "create";
	sub[s++] = "--bundle";
	sub[s++] = opt_bundle;
	sub[s++] = "--pid-file";
	sub[s++] = container_pid_path;
	if (opt_tty) {
		sub[s++] = "--console-socket";
		sub[s++] = console_path;
	}
	sub[s++] = opt_id;
	sub[s] = NULL;
	const char *argv[MAX_ARGS + 16];
	pid_t pid = spawn(runtime_argv(argv, sub), in_child, out_child, err_child);
	close_fd(&in_child);
	close_fd(&out_child);
	close_fd(&err_child);
	int status = wait_child(pid, console_listen, &master);

	/* Whatever is in the stderr pipe now was written by the runtime: the container has not run. */
	char raw[4096];
	if (read_tail(err_read, raw, sizeof raw) > 0)
		warnx("%s create: %s", opt_runtime, raw);
	if (opt_tty)
		close_fd(&err_read);
	if (console_listen >= 0) {
		close_fd(&console_listen);
		unlink_quiet(console_path);
	}

	if (!status_ok(status)) {
		last_line(raw, errmsg, sizeof errmsg);
		sync_report("error %s", errmsg);
		close_fd(&master);
		cleanup_and_exit(1);
	}
	container_pid = read_container_pid();
	if (container_pid <= 0) {
		sync_report("error %s create did not write the container pid file %s", opt_runtime, container_pid_path);
		cleanup_and_exit(1);
	}
	if (opt_tty) {
		if (master < 0) {
			sync_report("error %s create did not send the terminal on the console socket", opt_runtime);
			cleanup_and_exit(1);
		}
		set_nonblock(master);
		out_fd = master;
		if (opt_stdin)
			stdin_fd = master;
	} else if (stdin_fd >= 0) {
		set_nonblock(stdin_fd);
	}
	set_nonblock(out_fd);
	reap_children(); /* in case the container already died */
}

/* ---- main loop ---------------------------------------------------------------------------- */

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
static void main_loop(void)
{
	int64_t start_deadline = now_ms() + start_timeout_ms, drain_deadline = -1;
	struct pollfd p[5 + MAX_CLIENTS];
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
		int r = poll(p, (nfds_t)np, timeout);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			die("poll: %s", strerror(errno));
		}
		if (r == 0)
			continue;
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
		for (int i = 0; i < n && 5 + i < np; i++) {
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

int main(int argc, char **argv)
{
	/* Make sure 0, 1, 2 exist so no socket or pipe of ours takes their place. */
	for (int fd = open("/dev/null", O_RDWR); fd >= 0 && fd <= 2; fd = open("/dev/null", O_RDWR))
		;
	parse_args(argc, argv);
	if (sync_fd >= 0 && fcntl(sync_fd, F_SETFD, FD_CLOEXEC) < 0) {
		warnx("sync fd %d: %s", sync_fd, strerror(errno));
		exit(1);
	}
	join_path(attach_path, sizeof attach_path, opt_state_dir, "attach.sock");
	join_path(console_path, sizeof console_path, opt_state_dir, "console.sock");
	join_path(shim_pid_path, sizeof shim_pid_path, opt_state_dir, "shim.pid");
	join_path(container_pid_path, sizeof container_pid_path, opt_state_dir, "container.pid");

	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		die("prctl PR_SET_CHILD_SUBREAPER: %s", strerror(errno));
	setup_signals();
	if (mkdir(opt_state_dir, 0700) < 0 && errno != EEXIST)
		die("mkdir %s: %s", opt_state_dir, strerror(errno));
	if (!log_open(false)) {
		sync_report("error cannot open the log file %s: %s", opt_log, strerror(errno));
		cleanup_and_exit(1);
	}

	mount_rootfs();
	listen_fd = listen_unix(attach_path);
	write_pid_file();
	create_container();

	if (container_exited) {
		sync_report("error the container process exited before start");
		cleanup_and_exit(1);
	}
	sync_report("created %d", (int)container_pid);
	main_loop();
	finish();
	return 0;
}
