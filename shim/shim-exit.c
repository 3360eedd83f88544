/* shim-exit.c: the ways out: after the container exited (exit file, exit command, EXIT frames), or on failure. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shim.h"

/* Runtime delete, unmount, reap, remove our files. Used on every way out. */
void cleanup_and_exit(int code)
{
	static bool in_cleanup;
	if (in_cleanup)
		_exit(code);
	in_cleanup = true;
	health_stop();
	if (sync_fd >= 0)
		sync_report("error shim failed (see its diagnostics)");
	if (container_pid > 0 || started)
		delete_container();
	unmount_rootfs();
	reap_all_children();
	/* A restart that failed: the container has run, its last exit is what there is to report. */
	if (restart_last_exit() >= 0)
		write_exit_file(restart_last_exit(), 0);
	for (int i = 0; i < n_clients; i++)
		drop_client(&clients[i]);
	close_fd(&listen_fd);
	unlink_quiet(attach_path);
	unlink_quiet(console_path);
	unlink_quiet(shim_pid_path);
	unlink_quiet(container_pid_path);
	exit(code);
}

void write_exit_file(int code, int signo)
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
	/* With an exit command (--rm) the file is removed right away: no fsync for it. */
	bool ok = write_all(fd, json, (size_t)n) && (opt_exit_command != NULL || fsync(fd) == 0);
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
/* The exit code docker reports for a wait status: the status, or 128+N when killed by signal N. */
int exit_code_of(int status, int *signo)
{
	*signo = 0;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status)) {
		*signo = WTERMSIG(status);
		return 128 + *signo;
	}
	return 255;
}

void finish(void)
{
	int signo;
	int code = exit_code_of(container_status, &signo);
	if (started_at_us > 0)
		trace_phase("shim: container runs (start to exit, output drained)", started_at_us);
	close_container_stdio();
	close_fd(&log_fd);
	health_stop();

	/* Unmount first (the exit command removes the mount point's directory); the runtime's delete
	 * runs meanwhile with the exit file and the exit command, and is over before EXIT is sent. */
	long long t = trace_now();
	unmount_rootfs();
	trace_phase("shim: unmount", t);
	delete_container_start();
	t = trace_now();
	/* the die event first: a CLI woken by the exit file journals its own `stop` after it */
	if (opt_events_file && events_append_die(opt_events_file, opt_id, code, event_attrs) < 0)
		warnx("events journal %s: %s", opt_events_file, strerror(errno));
	write_exit_file(code, signo);
	trace_phase("shim: die event, exit file", t);
	t = trace_now();
	run_exit_command();
	if (opt_exit_command != NULL)
		trace_phase("shim: exit command (--rm removal)", t);
	delete_container_wait();
	t = trace_now();
	reap_all_children();
	trace_phase("shim: reap (fuse-overlayfs exits)", t);

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
