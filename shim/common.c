/* common.c: the diagnostics helpers shared by ctr-ts's C programs (see common.h). */
#define _GNU_SOURCE
#include "common.h"

#include <stdarg.h>
#include <stdio.h>

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
