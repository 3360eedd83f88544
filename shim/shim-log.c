/* shim-log.c: the container's log file (k8s-file format) and its rotation by size. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "shim.h"

int log_fd = -1;
static long long log_size; /* bytes in the current log file */

/* Opens the log for appending (truncated when asked) and learns its size. */
bool log_open(bool truncate)
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
void log_chunk(const char *stream, const char *data, size_t len)
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
