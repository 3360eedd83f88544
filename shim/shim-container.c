/* shim-container.c: the container itself: mount its rootfs, runtime create and start, unmount. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shim.h"
#include "shim-events.h"

int out_fd = -1;
int err_fd = -1;
int stdin_fd = -1;
pid_t container_pid = -1;
bool container_exited;
int container_status;
bool started, stop_requested;
long long started_at_us;
static bool mounted;
static bool deleted; /* the runtime's container of the last run is deleted (waiting to restart) */

/* Run the mount program (fuse-overlayfs daemonizes once mounted: its daemon becomes our child). */
void mount_rootfs(void)
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

void unmount_rootfs(void)
{
	if (!mounted)
		return;
	if (umount2(opt_rootfs, MNT_DETACH) < 0)
		warnx("umount %s: %s", opt_rootfs, strerror(errno));
	mounted = false;
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

/* `RUNTIME create`: on success the container process waits (in the runtime's init) for start. */
void create_container(void)
{
	deleted = false;
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

/* The run's `start` in the events journal, before anything can journal its `die`. */
void record_start_event(void)
{
	if (opt_events_file && events_append_start(opt_events_file, opt_id, event_attrs) < 0)
		warnx("events journal %s: %s", opt_events_file, strerror(errno));
}

/* `RUNTIME start` of the created container; false with the runtime's message in err. */
bool start_created(char *err, size_t errlen)
{
	const char *sub[] = {"start", opt_id, NULL};
	return status_ok(run_runtime(sub, err, errlen));
}

/* `RUNTIME delete --force`, once per run. */
void delete_container(void)
{
	if (deleted)
		return;
	const char *sub[] = {"delete", "--force", opt_id, NULL};
	char err[ERRMSG_MAX];
	long long t = trace_now();
	if (!status_ok(run_runtime(sub, err, sizeof err)))
		warnx("%s delete failed: %s", opt_runtime, err);
	trace_phase("shim: runtime delete", t);
	deleted = true;
}

/*
 * `RUNTIME delete --force` in the background: finish() overlaps it with the exit file and the
 * exit command (neither needs the runtime's state, and the delete needs neither), then waits for
 * it with delete_container_wait() before anyone is told of the exit.
 */
static pid_t delete_pid = -1;
static int delete_err = -1;
static long long delete_t0;

void delete_container_start(void)
{
	if (deleted)
		return;
	const char *sub[] = {"delete", "--force", opt_id, NULL};
	const char *argv[MAX_ARGS + 16];
	int errp[2];
	if (pipe2(errp, O_CLOEXEC) < 0)
		die("pipe: %s", strerror(errno));
	set_nonblock(errp[0]);
	delete_t0 = trace_now();
	delete_pid = spawn(runtime_argv(argv, sub), -1, -1, errp[1]);
	close_fd(&errp[1]);
	delete_err = errp[0];
	deleted = true;
}

void delete_container_wait(void)
{
	if (delete_pid < 0)
		return;
	int status = wait_child(delete_pid, -1, NULL);
	delete_pid = -1;
	char raw[4096], err[ERRMSG_MAX];
	size_t n = read_tail(delete_err, raw, sizeof raw);
	close_fd(&delete_err);
	if (n > 0)
		warnx("%s delete: %s", opt_runtime, raw);
	if (!status_ok(status)) {
		last_line(n > 0 ? raw : "", err, sizeof err);
		warnx("%s delete failed: %s", opt_runtime, err);
	}
	trace_phase("shim: runtime delete", delete_t0);
}

/* Closes the exited container's output and input (drained by main_loop: every writer is gone). */
void close_container_stdio(void)
{
	if (stdin_fd == out_fd)
		stdin_fd = -1;
	close_fd(&out_fd);
	close_fd(&err_fd);
	close_fd(&stdin_fd);
	stdin_pending_len = 0;
}

void do_start(struct client *c)
{
	if (started) {
		static const char msg[] = "container already started";
		client_send(c, F_ERROR, msg, sizeof msg - 1);
		return;
	}
	char err[ERRMSG_MAX];
	started = true; /* from now on SIGTERM/SIGINT go to the container */
	long long t = trace_now();
	bool ok = start_created(err, sizeof err);
	trace_phase("shim: runtime start", t);
	started_at_us = trace_now();
	if (ok) {
		record_start_event();
		restart_run_started();
		health_start(); /* "starting" is on disk before anyone hears STARTED */
		broadcast(F_STARTED, NULL, 0);
		return;
	}
	client_send(c, F_ERROR, err, strlen(err));
	client_flush(c);
	warnx("%s start failed: %s", opt_runtime, err);
	cleanup_and_exit(1);
}
