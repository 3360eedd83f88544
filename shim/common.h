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
#include <sys/types.h>

/* Prints "PROGRAM: message" and calls die_exit(message). Never returns. */
_Noreturn void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Defined by each program: the last thing die() does; must not return. */
_Noreturn void die_exit(const char *msg);

/*
 * The CLI's phase timeline (CTR_TS_TRACE=1, src/trace.ts): the CLI names a file in
 * CTR_TS_TRACE_FILE and reads it back at exit. trace_now() is microseconds since the epoch;
 * trace_phase() appends "NAME<TAB>START<TAB>END\n" (one O_APPEND write) when that file exists,
 * and does nothing otherwise (no tracing, or the CLI has already exited). Errors are ignored:
 * tracing never changes what a program does.
 */
long long trace_now(void);
void trace_phase(const char *name, long long start_us);

/*
 * Rewrites an aardvark-dns network file (atomically, through PATH.tmp) without the lines of
 * container ID; the first line, the network's header, is kept. 0 when done or when the file does
 * not exist; -1 with errno set and *failed naming the step that failed ("open", "write", ...).
 */
int aardvark_drop_lines(const char *path, const char *id, const char **failed);

/* The pid aardvark-dns wrote under CONFIG_DIR/aardvark-dns (0 when there is none or it is not a pid). */
pid_t aardvark_read_pid(const char *config_dir);

#endif
