/* common.c: the diagnostics helpers shared by ctr-ts's C programs (see common.h). */
#define _GNU_SOURCE
#include "common.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void die(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	warnx("%s", msg);
	die_exit(msg);
}

long long trace_now(void)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_REALTIME, &ts) < 0)
		return 0;
	return (long long)ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

void trace_phase(const char *name, long long start_us)
{
	const char *file = getenv("CTR_TS_TRACE_FILE");
	if (file == NULL || *file == '\0')
		return;
	long long end_us = trace_now();
	char line[256];
	int n = snprintf(line, sizeof line, "%s\t%lld\t%lld\n", name, start_us, end_us);
	if (n <= 0 || (size_t)n >= sizeof line)
		return;
	int fd = open(file, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return;
	if (write(fd, line, (size_t)n) != n) {
		/* best effort: a lost trace line changes nothing */
	}
	close(fd);
}

int aardvark_drop_lines(const char *path, const char *id, const char **failed)
{
	FILE *in = fopen(path, "re");
	if (!in)
		return errno == ENOENT ? 0 : (*failed = "open", -1);
	char tmp[PATH_MAX];
	if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp) {
		fclose(in);
		errno = ENAMETOOLONG;
		*failed = "name";
		return -1;
	}
	FILE *out = fopen(tmp, "we");
	if (!out) {
		fclose(in);
		*failed = "open";
		return -1;
	}
	char line[8192];
	size_t idlen = strlen(id);
	int first = 1, rc = 0;
	while (fgets(line, sizeof line, in)) {
		int mine = !first && strncmp(line, id, idlen) == 0 && line[idlen] == ' ';
		first = 0;
		if (!mine && fputs(line, out) == EOF) {
			*failed = "write";
			rc = -1;
		}
	}
	fclose(in);
	if (fclose(out) != 0 || (rc == 0 && rename(tmp, path) < 0)) {
		*failed = "rewrite";
		rc = -1;
	}
	if (rc < 0)
		unlink(tmp);
	return rc;
}

pid_t aardvark_read_pid(const char *config_dir)
{
	char path[PATH_MAX];
	if (snprintf(path, sizeof path, "%s/aardvark-dns/aardvark.pid", config_dir) >= (int)sizeof path)
		return 0;
	FILE *f = fopen(path, "re");
	if (!f)
		return 0;
	long pid = 0;
	if (fscanf(f, "%ld", &pid) != 1)
		pid = 0;
	fclose(f);
	return pid > 1 ? (pid_t)pid : 0;
}
