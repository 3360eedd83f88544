/*
 * The events journal (see src/events/journal.ts): one JSON line per event, docker's shape, appended
 * with O_APPEND in a single write of at most PIPE_BUF bytes so concurrent writers never interleave.
 */
#ifndef CTR_TS_EVENTS_H
#define CTR_TS_EVENTS_H

/*
 * Appends one event. `attrs` is NULL or a NULL-terminated list of key, value pairs (the Actor's
 * Attributes, in order); attributes that would make the line longer than PIPE_BUF are left out.
 * Returns 0, or -1 with errno set (nothing written).
 */
int events_append(const char *path, const char *type, const char *action, const char *id, const char *const *attrs);

/* The container's `die` event, with exitCode first, then `attrs` (K=V strings, NULL-terminated). */
int events_append_die(const char *path, const char *id, int exit_code, const char *const *kv_attrs);

/*
 * The container's `start` (attrs as for die): written by the shim right after the runtime started
 * the process, so it always comes before that run's `die`.
 */
int events_append_start(const char *path, const char *id, const char *const *kv_attrs);

/* docker's `health_status: STATUS` event of the container (attrs as for die). */
int events_append_health(const char *path, const char *id, const char *status, const char *const *kv_attrs);

#endif
