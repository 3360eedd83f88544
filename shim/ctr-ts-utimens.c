/*
 * ctr-ts-utimens: sets the access and modification times of files in an unpacked layer to the
 * nanosecond (Node's utimes takes a double: 1704067200.123456789 would become .122999906).
 *
 *   ctr-ts-utimens ROOT < RECORDS
 *
 * Each record on stdin is `SECONDS NANOSECONDS RELATIVE-PATH` ended by a NUL byte. The path is
 * resolved beneath ROOT without following any symlink: its directory with openat2()
 * (RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS), the last component with utimensat()
 * (AT_SYMLINK_NOFOLLOW), so a symlink's own time is set and nothing outside ROOT is touched.
 * Every record is tried; the first failure is printed and the exit status is 1.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common.h"

_Noreturn void die_exit(const char *msg)
{
	(void)msg;
	exit(2);
}

static int open_beneath(int root, const char *path)
{
	struct open_how how = {
		.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	return (int)syscall(SYS_openat2, root, path, &how, sizeof how);
}

/* Sets the times of one record ("SEC NSEC PATH"); 0 or an errno-style failure already printed. */
static int apply(int root, char *rec, int *reported)
{
	char *end;
	errno = 0;
	long long sec = strtoll(rec, &end, 10);
	if (errno != 0 || *end != ' ')
		goto bad;
	long nsec = strtol(end + 1, &end, 10);
	if (errno != 0 || *end != ' ' || nsec < 0 || nsec > 999999999)
		goto bad;
	char *path = end + 1;
	if (*path == '\0' || *path == '/')
		goto bad;
	struct timespec ts[2] = {{.tv_sec = sec, .tv_nsec = nsec}, {.tv_sec = sec, .tv_nsec = nsec}};
	char *slash = strrchr(path, '/');
	int dir = root;
	const char *base = path;
	if (slash != NULL) {
		*slash = '\0';
		dir = open_beneath(root, path);
		if (dir < 0) {
			if (!*reported)
				warnx("%s: %s", path, strerror(errno));
			*reported = 1;
			return -1;
		}
		base = slash + 1;
	}
	int rc = utimensat(dir, base, ts, AT_SYMLINK_NOFOLLOW);
	int saved = errno;
	if (dir != root && close(dir) < 0)
		die("close: %s", strerror(errno));
	if (rc < 0) {
		if (!*reported)
			warnx("%s: %s", base, strerror(saved));
		*reported = 1;
		return -1;
	}
	return 0;
bad:
	if (!*reported)
		warnx("malformed record");
	*reported = 1;
	return -1;
}

int main(int argc, char **argv)
{
	if (argc != 2)
		die("usage: ctr-ts-utimens ROOT < records (SECONDS NANOSECONDS PATH, each ended by NUL)");
	int root = open(argv[1], O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		die("open %s: %s", argv[1], strerror(errno));
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int failed = 0, reported = 0;
	while ((n = getdelim(&line, &cap, '\0', stdin)) > 0) {
		if (line[n - 1] == '\0')
			n--;
		line[n] = '\0';
		if (n == 0)
			continue;
		if (apply(root, line, &reported) < 0)
			failed = 1;
	}
	if (ferror(stdin))
		die("reading stdin: %s", strerror(errno));
	free(line);
	if (close(root) < 0)
		die("close: %s", strerror(errno));
	return failed;
}
