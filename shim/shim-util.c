/* shim-util.c: small helpers of ctr-ts-shim: time, fds, paths, the one report on the sync fd. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "shim.h"

/* die(): the message is on stderr; also on the sync fd if the CLI still waits; clean up, exit 1. */
void die_exit(const char *msg)
{
	sync_report("error %s", msg);
	cleanup_and_exit(1);
}

int64_t now_ms(void)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0)
		return 0;
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* RFC 3339 with nanoseconds, UTC: 2006-01-02T15:04:05.999999999Z */
void timestamp(char *buf, size_t len)
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

bool write_all(int fd, const void *data, size_t len)
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

void set_nonblock(int fd)
{
	int flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
		die("fcntl O_NONBLOCK: %s", strerror(errno));
}

void close_fd(int *fd)
{
	if (*fd >= 0 && close(*fd) < 0 && errno != EINTR)
		warnx("close: %s", strerror(errno));
	*fd = -1;
}

void make_pipe(int p[2])
{
	if (pipe2(p, O_CLOEXEC) < 0)
		die("pipe: %s", strerror(errno));
}

void join_path(char *buf, size_t len, const char *dir, const char *name)
{
	if ((size_t)snprintf(buf, len, "%s/%s", dir, name) >= len)
		die("path too long: %s/%s (keep the state directory short: unix socket paths are limited to %zu bytes)",
		    dir, name, len - 1);
}

/* Report on the sync fd (to the CLI that spawned us), once. */
void sync_report(const char *fmt, ...)
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

/* A line on the sync fd before the report, which stays open for it (e.g. "netns"). */
void sync_note(const char *line)
{
	if (sync_fd < 0)
		return;
	char buf[64];
	int n = snprintf(buf, sizeof buf, "%s\n", line);
	if (n <= 0 || (size_t)n >= sizeof buf || !write_all(sync_fd, buf, (size_t)n))
		warnx("write to sync fd: %s", strerror(errno));
}

/*
 * The runtime's last non-empty stderr line, verbatim: what it means (runc's
 * `time="..." level=error msg="..."` wrapping, which failures are the container command's) is
 * decided in one place, by the CLI's runtime Task (src/runtime/classify.ts).
 */
void last_line(const char *raw, char *out, size_t outlen)
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

void unlink_quiet(const char *path)
{
	if (path[0] != '\0' && unlink(path) < 0 && errno != ENOENT)
		warnx("unlink %s: %s", path, strerror(errno));
}

/* SIGKILL every process whose parent is `parent` (found in /proc); `what` names them in warnings. */
void kill_children_of(pid_t parent, const char *what)
{
	DIR *d = opendir("/proc");
	if (d == NULL) {
		warnx("opendir /proc: %s", strerror(errno));
		return;
	}
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
		if (rp == NULL || sscanf(rp + 1, " %*c %d", &ppid) != 1 || ppid != (int)parent)
			continue;
		warnx("killing %s %s", what, e->d_name);
		if (kill((pid_t)atoi(e->d_name), SIGKILL) < 0 && errno != ESRCH)
			warnx("kill %s: %s", e->d_name, strerror(errno));
	}
	closedir(d);
}
