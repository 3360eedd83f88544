/*
 * shim-restart.c: the restart policy (--restart). When the container's process exits and the
 * policy says so, the shim deletes the runtime's container, waits docker's back-off (100 ms,
 * doubled at each restart up to 1 min, back to 100 ms after a run of at least 10 s) while still
 * serving attach clients, then runs `create` and `start` of the same bundle again: same rootfs
 * mount, same network namespace (see shim-netns.c), same log, same attach clients.
 *
 * The policy ends on a NO_RESTART frame (the user's stop, kill or rm -f), or on SIGTERM/SIGINT to
 * the shim; the exit file is then written for the last run as usual. The count and whether the
 * container is waiting to restart are in the restart file (--restart-file), written atomically:
 *
 *   {"restartCount":2,"restarting":true,"exitCode":1,"finishedAt":"...","stoppedByUser":false}
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shim.h"

#define BACKOFF_FIRST_MS 100
#define BACKOFF_MAX_MS 60000
#define BACKOFF_RESET_RUN_MS 10000

enum { R_NO, R_ON_FAILURE, R_ALWAYS };

static int policy = R_NO;
static int max_retries; /* on-failure:MAX; 0: no limit */
static const char *restart_file;
static bool policy_ended, stopped_by_user;
static int restart_count;
static int64_t backoff_ms;
static int64_t run_started_ms;
static char run_started_at[64]; /* RFC 3339: when the current run started (docker's StartedAt) */
static int last_exit = -1;

int restart_last_exit(void)
{
	return last_exit;
}

bool restart_parse(const char *value)
{
	char *end;
	if (strcmp(value, "no") == 0) {
		policy = R_NO;
	} else if (strcmp(value, "always") == 0) {
		policy = R_ALWAYS;
	} else if (strcmp(value, "on-failure") == 0) {
		policy = R_ON_FAILURE;
	} else if (strncmp(value, "on-failure:", 11) == 0) {
		errno = 0;
		long n = strtol(value + 11, &end, 10);
		if (errno != 0 || *end != '\0' || end == value + 11 || n < 0 || n > 1000000000)
			return false;
		policy = R_ON_FAILURE;
		max_retries = (int)n;
	} else {
		return false;
	}
	return true;
}

void restart_set_file(const char *path)
{
	restart_file = path;
}

void restart_write_state(bool restarting, int exit_code, const char *finished_at)
{
	if (restart_file == NULL)
		return;
	char tmp[4096], json[512];
	if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", restart_file) >= sizeof tmp) {
		warnx("restart file path too long");
		return;
	}
	char exit_part[128] = "", pid_part[128] = "";
	if (finished_at != NULL)
		snprintf(exit_part, sizeof exit_part, ",\"exitCode\":%d,\"finishedAt\":\"%s\"", exit_code, finished_at);
	if (!restarting && container_pid > 0 && !container_exited)
		snprintf(pid_part, sizeof pid_part, ",\"pid\":%d,\"startedAt\":\"%s\"", (int)container_pid,
			 run_started_at);
	int n = snprintf(json, sizeof json, "{\"restartCount\":%d,\"restarting\":%s%s%s,\"stoppedByUser\":%s}\n",
			 restart_count, restarting ? "true" : "false", exit_part, pid_part,
			 stopped_by_user ? "true" : "false");
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		warnx("open %s: %s", tmp, strerror(errno));
		return;
	}
	bool ok = write_all(fd, json, (size_t)n);
	if (!ok)
		warnx("write %s: %s", tmp, strerror(errno));
	close_fd(&fd);
	if (ok && rename(tmp, restart_file) < 0)
		warnx("rename %s: %s", tmp, strerror(errno));
}

void restart_end_policy(bool by_user)
{
	if (by_user && !stopped_by_user) {
		stopped_by_user = true;
		restart_write_state(false, 0, NULL);
	}
	policy_ended = true;
}

void restart_run_started(void)
{
	run_started_ms = now_ms();
	timestamp(run_started_at, sizeof run_started_at);
}

/* docker's restart manager: whether to restart after this exit, and after how long. */
static bool wanted(int code, int64_t *delay_ms)
{
	if (policy == R_NO || policy_ended)
		return false;
	if (now_ms() - run_started_ms >= BACKOFF_RESET_RUN_MS)
		backoff_ms = 0;
	backoff_ms = backoff_ms == 0 ? BACKOFF_FIRST_MS : backoff_ms * 2;
	if (backoff_ms > BACKOFF_MAX_MS)
		backoff_ms = BACKOFF_MAX_MS;
	*delay_ms = backoff_ms;
	if (policy == R_ALWAYS)
		return true;
	return code != 0 && (max_retries == 0 || restart_count < max_retries);
}

/* The back-off: attach clients are still served (a NO_RESTART frame ends the wait). */
static bool backoff_wait(int64_t delay_ms)
{
	int64_t deadline = now_ms() + delay_ms;
	struct pollfd p[2 + MAX_CLIENTS];
	while (!policy_ended) {
		int64_t left = deadline - now_ms();
		if (left <= 0)
			return true;
		compact_clients();
		int np = 0;
		p[np++] = (struct pollfd){.fd = sig_fd, .events = POLLIN};
		p[np++] = (struct pollfd){.fd = listen_fd, .events = POLLIN};
		for (int i = 0; i < n_clients; i++)
			p[np++] = (struct pollfd){.fd = clients[i].fd,
						  .events = (short)(POLLIN | (clients[i].backlog_len > 0 ? POLLOUT : 0))};
		int r = poll(p, (nfds_t)np, (int)left);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			die("poll: %s", strerror(errno));
		}
		if (p[0].revents)
			handle_signals();
		if (p[1].revents)
			accept_clients();
		int n = n_clients;
		for (int i = 0; i < n && 2 + i < np; i++) {
			struct client *c = &clients[i];
			short re = p[2 + i].revents;
			if (c->fd < 0 || c->fd != p[2 + i].fd || !re)
				continue;
			if (re & POLLOUT)
				client_flush(c);
			if (c->fd >= 0 && (re & (POLLIN | POLLHUP | POLLERR)))
				client_read(c);
		}
	}
	return false;
}

/*
 * The container's process exited and its output is drained. Returns true when it runs again
 * (the caller goes back to its loop), false when the shim is to finish.
 */
bool restart_next(void)
{
	int signo;
	int code = exit_code_of(container_status, &signo);
	int64_t delay;
	if (!wanted(code, &delay))
		return false;
	char ts[64];
	timestamp(ts, sizeof ts);
	close_container_stdio();
	health_stop(); /* a new run starts its checks again (status starting) */
	char err[ERRMSG_MAX];
	delete_container();
	last_exit = code;
	/* docker counts the restart when it decides on it: RestartCount is at least 1 while Restarting */
	restart_count++;
	restart_write_state(true, code, ts);
	warnx("exit code %d: restarting in %lld ms (restart %d)", code, (long long)delay, restart_count);
	if (!backoff_wait(delay)) {
		restart_write_state(false, code, ts);
		return false;
	}
	container_exited = false;
	container_status = 0;
	create_container(); /* exits the shim (with the exit file of the last run) when it fails */
	if (!container_exited) {
		if (!start_created(err, sizeof err)) {
			warnx("%s start failed: %s", opt_runtime, err);
			cleanup_and_exit(1);
		}
		record_start_event(); /* docker journals each restart's start */
	}
	restart_run_started();
	restart_write_state(false, code, ts);
	health_start();
	return true;
}
