/*
 * shim-child.c: the shim's children. It is a child subreaper: the container process, the
 * runtime, the mount program and its daemon, and orphans of the container are all reaped here.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shim.h"

static pid_t waited_pid = -1; /* a runtime/mount child being waited for */
static bool waited_done;
static int waited_status;

/* Reap every exited child; remember the container's and the waited-for child's status. */
void reap_children(void)
{
	for (;;) {
		int status;
		pid_t pid = waitpid(-1, &status, WNOHANG);
		if (pid <= 0) {
			if (pid < 0 && errno == EINTR)
				continue;
			return;
		}
		if (health_on_child_exit(pid, status))
			continue;
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
	restart_end_policy(false); /* the shim is asked to go: no more restarts */
}

void handle_signals(void)
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
pid_t spawn(const char *const argv[], int in, int out, int err)
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

/* Read what is available in a non-blocking pipe, keeping the tail if there is too much. */
size_t read_tail(int fd, char *raw, size_t size)
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

const char **runtime_argv(const char **argv, const char *const sub[])
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
int run_runtime(const char *const sub[], char *errbuf, size_t errlen)
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

int wait_child(pid_t pid, int console_listen, int *console_master)
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

bool status_ok(int status)
{
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static void kill_remaining_children(void)
{
	kill_children_of(getpid(), "leftover child");
}

/* Wait (bounded) until we have no children left; then SIGKILL whatever remains. */
void reap_all_children(void)
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
