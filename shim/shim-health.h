/*
 * shim-health.h: the shim's healthcheck (docker's HEALTHCHECK semantics), see shim/PROTOCOL.md.
 *
 * The check runs as `RUNTIME [runtime-args] exec --pid-file STATEDIR/health.pid ID ARGS...` on
 * the shim's timer (no resident process between checks); its output (stdout and stderr together,
 * at most HEALTH_OUTPUT_MAX bytes kept) is read through one pipe in the shim's poll loop. A check
 * still running at its timeout is killed (SIGKILL to the process in the container, then to the
 * runtime). Results go to a JSON state file written atomically (docker's State.Health).
 *
 * The shim's main loop calls, in this order: health_poll_fd() / health_timeout_ms() when it
 * builds its poll set, health_on_readable() when the fd is readable, health_on_timer() after each
 * poll, health_on_child_exit() for each reaped child. health_request() runs a check now.
 */
#ifndef CTR_TS_SHIM_HEALTH_H
#define CTR_TS_SHIM_HEALTH_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define HEALTH_OUTPUT_MAX 4096 /* docker's maxOutputLen */
#define HEALTH_MAX_ARGS 64

struct health_config {
	const char *state_file; /* --health-file */
	const char *args[HEALTH_MAX_ARGS]; /* the check's argv (--health-arg...) */
	int n_args;
	int64_t interval_ms, timeout_ms, start_period_ms, start_interval_ms;
	int retries;
};

/* The shim's options parsing fills this; health is on when state_file and args are set. */
extern struct health_config health_cfg;

/* Parses one --health-* option (name without the leading dashes); false if not ours or bad. */
bool health_parse_option(const char *name, const char *value);

/* The runtime's argv prefix (program and global args, NULL-terminated), the container id, the state dir. */
void health_init(const char *const *runtime_prefix, const char *id, const char *state_dir);

bool health_enabled(void);

/* The container started: status "starting", the first check after the (start) interval. */
void health_start(void);

/* The fd to poll for the running check's output (-1: none) and how long until the next timer event (-1: none). */
int health_poll_fd(void);
int health_timeout_ms(void);

void health_on_readable(void);
void health_on_timer(void);

/* A reaped child: true when it was the check (its result is then recorded). */
bool health_on_child_exit(pid_t pid, int status);

/* Runs a check now (or lets the running one answer); the result comes through the done callback. */
void health_request(void);

/* Called after each recorded result with the check's exit code and the new status. */
extern void (*health_done)(int exit_code, const char *status);
/* Called when the status changes (starting, healthy, unhealthy): the events journal. */
extern void (*health_changed)(const char *status);

/* The container is gone: kill a running check. */
void health_stop(void);

#endif
