/* common.c: the diagnostics helpers shared by ctr-ts's C programs (see common.h). */
#define _GNU_SOURCE
#include "common.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
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
