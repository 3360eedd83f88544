/*
 * shim.h: the declarations shared by the files of ctr-ts-shim (the per-container monitor, like
 * conmon). One file per concern:
 *
 *   shim-main.c       options, startup, main()
 *   shim-util.c       small helpers: time, fds, paths, the sync fd report
 *   shim-child.c      children: spawn, wait, reap, run the runtime
 *   shim-container.c  the container: mount the rootfs, runtime create/start, unmount
 *   shim-attach.c     the attach socket: clients, frames, the container's stdin
 *   shim-log.c        the log file (k8s-file format) and its rotation
 *   shim-loop.c       the poll loop and the container's output
 *   shim-exit.c       the way out: exit file, exit command, cleanup
 *   shim-restart.c    the restart policy: back-off, create and start again
 *   shim-netns.c      a network namespace held by the shim (it outlives restarts)
 *
 * The wire protocol and the files are described in shim/PROTOCOL.md.
 */
#ifndef CTR_TS_SHIM_H
#define CTR_TS_SHIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>

#include "common.h"
#include "shim-events.h"
#include "shim-health.h"

#define MAX_ARGS 64
#define MAX_CLIENTS 32
#define IO_BUF 8192
#define CLIENT_BACKLOG_MAX (1024 * 1024) /* then output reading pauses for this client */
#define CLIENT_STALL_MS 2000              /* a client over the limit this long is dropped */
#define START_TIMEOUT_MS 60000
#define DRAIN_TIMEOUT_MS 2000
#define CHILDREN_TIMEOUT_MS 3000
#define ERRMSG_MAX 1024
#define MAX_LOG_FILES 100 /* --log-max-files: ctr.log plus at most 99 rotated files */
#define SUN_PATH_MAX sizeof(((struct sockaddr_un *)0)->sun_path)

/* Frame types (shim/PROTOCOL.md). */
enum {
	F_STDIN = 1,
	F_STDIN_CLOSE = 2,
	F_RESIZE = 3,
	F_SIGNAL = 4,
	F_START = 5,
	F_NO_RESTART = 6,
	F_HEALTHCHECK = 7, /* the healthcheck now (shim-health.c) */
	F_STDOUT = 17,
	F_STDERR = 18,
	F_EXIT = 19,
	F_STARTED = 20,
	F_ERROR = 21,
	F_HEALTH = 22, /* a healthcheck's result */
};

/* ---- options (shim-main.c) ---------------------------------------------------------------- */

extern const char *opt_id, *opt_bundle, *opt_runtime, *opt_mount_program, *opt_rootfs;
extern const char *opt_state_dir, *opt_log, *opt_exit_file, *opt_exit_command;
extern const char *runtime_args[MAX_ARGS], *mount_args[MAX_ARGS], *exit_args[MAX_ARGS];
extern int n_runtime_args, n_mount_args, n_exit_args;
extern const char *opt_events_file, *event_attrs[MAX_ARGS]; /* --events-file, --events-attr K=V */
extern bool opt_tty, opt_stdin;
extern int sync_fd;
extern int start_timeout_ms;
extern long long log_max_size; /* bytes; 0: no limit */
extern int log_max_files;      /* files kept, the current one included */

/* Files in the state directory (shim-main.c). */
extern char attach_path[SUN_PATH_MAX];
extern char console_path[SUN_PATH_MAX];
extern char shim_pid_path[4096], container_pid_path[4096];

extern int sig_fd;          /* signalfd for SIGCHLD, SIGTERM, SIGINT, SIGHUP */
extern char iobuf[IO_BUF];  /* one read at a time, from the container or a client */

/* ---- shim-util.c -------------------------------------------------------------------------- */

int64_t now_ms(void);
void timestamp(char *buf, size_t len); /* RFC 3339 with nanoseconds, UTC */
void kill_children_of(pid_t parent, const char *what);
bool write_all(int fd, const void *data, size_t len);
void set_nonblock(int fd);
void close_fd(int *fd);
void make_pipe(int p[2]);
void join_path(char *buf, size_t len, const char *dir, const char *name);
void sync_report(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void sync_note(const char *line);
void last_line(const char *raw, char *out, size_t outlen);
void unlink_quiet(const char *path);

/* ---- shim-child.c ------------------------------------------------------------------------- */

void reap_children(void);
void handle_signals(void);
pid_t spawn(const char *const argv[], int in, int out, int err);
int wait_child(pid_t pid, int console_listen, int *console_master);
size_t read_tail(int fd, char *raw, size_t size);
const char **runtime_argv(const char **argv, const char *const sub[]);
int run_runtime(const char *const sub[], char *errbuf, size_t errlen);
void record_start_event(void);
bool status_ok(int status);
void reap_all_children(void);

/* ---- shim-container.c --------------------------------------------------------------------- */

extern int out_fd;   /* container stdout pipe, or the pty master */
extern int err_fd;   /* container stderr pipe (no tty) */
extern int stdin_fd; /* container stdin pipe, or the pty master (with --stdin) */
extern pid_t container_pid;
extern bool container_exited;
extern int container_status;
extern bool started, stop_requested;

void mount_rootfs(void);
bool start_created(char *err, size_t errlen);
void delete_container(void);
void delete_container_start(void);
void delete_container_wait(void);
void close_container_stdio(void);
void unmount_rootfs(void);
void create_container(void);
struct client;
void do_start(struct client *c);

/* ---- shim-attach.c ------------------------------------------------------------------------ */

struct client {
	int fd;
	uint8_t hdr[5];
	size_t hdr_len;
	uint8_t type;
	uint32_t remaining; /* payload bytes still to come for the current frame */
	uint8_t small[8];   /* payload of control frames */
	size_t small_len;
	char *backlog; /* output not yet accepted by the socket (heap, only for slow clients) */
	size_t backlog_len, backlog_cap;
	int64_t stalled_since; /* when the backlog reached CLIENT_BACKLOG_MAX (0: it has not) */
	bool wants_health;     /* sent HEALTHCHECK, waits for the result */
	bool closing;          /* its peer is gone: what it sent is being read before it is dropped */
};
extern struct client clients[MAX_CLIENTS];
extern int n_clients;
extern int listen_fd;
extern size_t stdin_pending_len;

int listen_unix(const char *path);
void drop_client(struct client *c);
void compact_clients(void);
void client_send(struct client *c, uint8_t type, const void *data, size_t len);
void client_flush(struct client *c);
void broadcast(uint8_t type, const void *data, size_t len);
void health_reply(int exit_code, const char *status);
void accept_clients(void);
void stdin_flush(void);
void client_read(struct client *c);

/* ---- shim-log.c --------------------------------------------------------------------------- */

extern int log_fd;
bool log_open(bool truncate);
void log_chunk(const char *stream, const char *data, size_t len);

/* ---- shim-loop.c -------------------------------------------------------------------------- */

bool output_read(int *fd, bool is_stderr);
void main_loop(void);

/* ---- shim-exit.c -------------------------------------------------------------------------- */

_Noreturn void cleanup_and_exit(int code);
int exit_code_of(int status, int *signo);
void write_exit_file(int code, int signo);
void finish(void);

/* ---- shim-restart.c ----------------------------------------------------------------------- */

bool restart_parse(const char *value); /* no | on-failure[:MAX] | always */
void restart_set_file(const char *path);
void restart_write_state(bool restarting, int exit_code, const char *finished_at);
void restart_end_policy(bool by_user);
void restart_run_started(void);
bool restart_next(void);
int restart_last_exit(void); /* the exit code of the last run before a restart; -1: none */

/* ---- shim-netns.c ------------------------------------------------------------------------- */

void netns_create(void);

extern long long started_at_us; /* trace_now() at the last runtime start */

#endif
