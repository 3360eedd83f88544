/*
 * common.h: the diagnostics helpers shared by ctr-ts's C programs (shim/common.c).
 *
 * warnx() is glibc's (<err.h>): "PROGRAM: message\n" on stderr, PROGRAM being the base name the
 * program was started as (ctr-ts-shim, ctr-ts-userns, ctr-ts-portproxy).
 *
 * die() prints the same way, then hands the message to die_exit(), which each program defines:
 * what it must still do before exiting (report to the CLI, clean up) and its exit status.
 */
#ifndef CTR_TS_COMMON_H
#define CTR_TS_COMMON_H

#include <err.h>

/* Prints "PROGRAM: message" and calls die_exit(message). Never returns. */
_Noreturn void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Defined by each program: the last thing die() does; must not return. */
_Noreturn void die_exit(const char *msg);

#endif
