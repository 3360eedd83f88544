/*
 * ctr-ts-shim: the per-container monitor process (like conmon), one per running container.
 *
 *   ctr-ts-shim --id ID --bundle DIR --runtime PATH [--runtime-arg ARG]...
 *               [--mount-program PATH [--mount-arg ARG]...] --rootfs DIR
 *               --state-dir DIR --log FILE --exit-file FILE [--tty] [--stdin]
 *               [--exit-command PATH [--exit-arg ARG]...] --sync-fd N [--start-timeout SECONDS]
 *               [--log-max-size BYTES [--log-max-files N]]
 *               [--restart no|on-failure[:MAX]|always [--restart-file FILE]] [--own-netns]
 *
 * It mounts the rootfs (by running the mount program, e.g. fuse-overlayfs), runs
 * `RUNTIME create`, reports `created PID` or `error MSG` on the sync fd, waits for a START frame
 * on STATEDIR/attach.sock, runs `RUNTIME start`, then relays the container's output to the log
 * file (k8s-file format, rotated by size) and to attach clients, and its input from them. When the container
 * exits it drains the output, deletes the container, unmounts the rootfs, reaps every remaining
 * child (it is a child subreaper), writes the exit file and exits; or, with a restart policy, runs
 * it again in the same rootfs (shim-restart.c). The wire protocol is in
 * shim/PROTOCOL.md; shim.h lists the files and what each does.
 *
 * One thread, one poll loop, static buffers; the heap is only used for a slow attach client's
 * backlog (at most CLIENT_BACKLOG_MAX bytes each).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shim.h"

/* ---- options ---------------------------------------------------------------------------- */

const char *opt_id, *opt_bundle, *opt_runtime, *opt_mount_program, *opt_rootfs;
const char *opt_state_dir, *opt_log, *opt_exit_file, *opt_exit_command;
const char *runtime_args[MAX_ARGS], *mount_args[MAX_ARGS], *exit_args[MAX_ARGS];
const char *opt_events_file, *event_attrs[MAX_ARGS];
static int n_event_attrs;
int n_runtime_args, n_mount_args, n_exit_args;
bool opt_tty, opt_stdin;
static bool opt_own_netns;
int sync_fd = -1;
int start_timeout_ms = START_TIMEOUT_MS;
long long log_max_size;
int log_max_files = 1;

char attach_path[SUN_PATH_MAX];
char console_path[SUN_PATH_MAX];
char shim_pid_path[4096], container_pid_path[4096];

int sig_fd = -1;
char iobuf[IO_BUF];

static void usage(void)
{
	fputs("usage: ctr-ts-shim --id ID --bundle DIR --runtime PATH [--runtime-arg ARG]...\n"
	      "       [--mount-program PATH [--mount-arg ARG]...] --rootfs DIR --state-dir DIR\n"
	      "       --log FILE --exit-file FILE [--tty] [--stdin]\n"
	      "       [--exit-command PATH [--exit-arg ARG]...] --sync-fd N [--start-timeout SECONDS]\n"
	      "       [--log-max-size BYTES [--log-max-files N]]\n"
	      "       [--restart no|on-failure[:MAX]|always [--restart-file FILE]] [--own-netns]\n"
	      "       [--health-file FILE --health-arg ARG... [--health-interval MS] [--health-timeout MS]\n"
	      "        [--health-retries N] [--health-start-period MS] [--health-start-interval MS]]\n"
	      "       [--events-file FILE [--events-attr K=V]...]\n",
	      stderr);
	exit(2);
}

static void append_arg(const char **arr, int *n, const char *value)
{
	if (*n >= MAX_ARGS - 1) {
		warnx("too many arguments for a repeatable option");
		exit(2);
	}
	arr[(*n)++] = value;
}

static void parse_args(int argc, char **argv)
{
	static const struct option opts[] = {
		{"id", required_argument, NULL, 'i'},
		{"bundle", required_argument, NULL, 'b'},
		{"runtime", required_argument, NULL, 'r'},
		{"runtime-arg", required_argument, NULL, 'R'},
		{"mount-program", required_argument, NULL, 'm'},
		{"mount-arg", required_argument, NULL, 'M'},
		{"rootfs", required_argument, NULL, 'f'},
		{"state-dir", required_argument, NULL, 's'},
		{"log", required_argument, NULL, 'l'},
		{"exit-file", required_argument, NULL, 'x'},
		{"tty", no_argument, NULL, 't'},
		{"stdin", no_argument, NULL, 'I'},
		{"exit-command", required_argument, NULL, 'e'},
		{"exit-arg", required_argument, NULL, 'E'},
		{"sync-fd", required_argument, NULL, 'S'},
		{"start-timeout", required_argument, NULL, 'T'},
		{"log-max-size", required_argument, NULL, 'Z'},
		{"log-max-files", required_argument, NULL, 'N'},
		{"restart", required_argument, NULL, 'P'},
		{"restart-file", required_argument, NULL, 'F'},
		{"own-netns", no_argument, NULL, 'O'},
		{"events-file", required_argument, NULL, 'v'},
		{"events-attr", required_argument, NULL, 'a'},
		/* the healthcheck's, parsed by shim-health.c */
		{"health-file", required_argument, NULL, 'H'},
		{"health-arg", required_argument, NULL, 'H'},
		{"health-interval", required_argument, NULL, 'H'},
		{"health-timeout", required_argument, NULL, 'H'},
		{"health-retries", required_argument, NULL, 'H'},
		{"health-start-period", required_argument, NULL, 'H'},
		{"health-start-interval", required_argument, NULL, 'H'},
		{NULL, 0, NULL, 0},
	};
	int c, idx = 0;
	char *end;
	while ((c = getopt_long(argc, argv, "", opts, &idx)) != -1) {
		switch (c) {
		case 'i': opt_id = optarg; break;
		case 'b': opt_bundle = optarg; break;
		case 'r': opt_runtime = optarg; break;
		case 'R': append_arg(runtime_args, &n_runtime_args, optarg); break;
		case 'm': opt_mount_program = optarg; break;
		case 'M': append_arg(mount_args, &n_mount_args, optarg); break;
		case 'f': opt_rootfs = optarg; break;
		case 's': opt_state_dir = optarg; break;
		case 'l': opt_log = optarg; break;
		case 'x': opt_exit_file = optarg; break;
		case 't': opt_tty = true; break;
		case 'I': opt_stdin = true; break;
		case 'e': opt_exit_command = optarg; break;
		case 'E': append_arg(exit_args, &n_exit_args, optarg); break;
		case 'S':
			errno = 0;
			sync_fd = (int)strtol(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || sync_fd < 0)
				usage();
			break;
		case 'T':
			errno = 0;
			start_timeout_ms = (int)strtol(optarg, &end, 10) * 1000;
			if (errno != 0 || *end != '\0' || start_timeout_ms <= 0)
				usage();
			break;
		case 'Z':
			errno = 0;
			log_max_size = strtoll(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || log_max_size < 0)
				usage();
			break;
		case 'N':
			errno = 0;
			log_max_files = (int)strtol(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || log_max_files < 1 || log_max_files > MAX_LOG_FILES)
				usage();
			break;
		case 'P':
			if (!restart_parse(optarg))
				usage();
			break;
		case 'F': restart_set_file(optarg); break;
		case 'v': opt_events_file = optarg; break;
		case 'a': append_arg(event_attrs, &n_event_attrs, optarg); break;
		case 'H':
			if (!health_parse_option(opts[idx].name, optarg))
				usage();
			break;
		case 'O': opt_own_netns = true; break;
		default: usage();
		}
	}
	if (optind != argc || !opt_id || !opt_bundle || !opt_runtime || !opt_rootfs || !opt_state_dir || !opt_log ||
	    !opt_exit_file)
		usage();
}

static void setup_signals(void)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		die("signal SIGPIPE: %s", strerror(errno));
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		die("sigprocmask: %s", strerror(errno));
	sig_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sig_fd < 0)
		die("signalfd: %s", strerror(errno));
}

static void write_pid_file(void)
{
	char buf[32];
	int n = snprintf(buf, sizeof buf, "%d\n", (int)getpid());
	int fd = open(shim_pid_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || !write_all(fd, buf, (size_t)n))
		die("write %s: %s", shim_pid_path, strerror(errno));
	close_fd(&fd);
}

/* docker's `health_status: STATUS` event, when the journal is given. */
static void health_event(const char *status)
{
	if (opt_events_file && events_append_health(opt_events_file, opt_id, status, event_attrs) < 0)
		warnx("events journal %s: %s", opt_events_file, strerror(errno));
}

int main(int argc, char **argv)
{
	long long t0 = trace_now();
	/* Make sure 0, 1, 2 exist so no socket or pipe of ours takes their place. */
	for (int fd = open("/dev/null", O_RDWR); fd >= 0 && fd <= 2; fd = open("/dev/null", O_RDWR))
		;
	parse_args(argc, argv);
	if (sync_fd >= 0 && fcntl(sync_fd, F_SETFD, FD_CLOEXEC) < 0) {
		warnx("sync fd %d: %s", sync_fd, strerror(errno));
		exit(1);
	}
	join_path(attach_path, sizeof attach_path, opt_state_dir, "attach.sock");
	join_path(console_path, sizeof console_path, opt_state_dir, "console.sock");
	join_path(shim_pid_path, sizeof shim_pid_path, opt_state_dir, "shim.pid");
	join_path(container_pid_path, sizeof container_pid_path, opt_state_dir, "container.pid");

	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		die("prctl PR_SET_CHILD_SUBREAPER: %s", strerror(errno));
	setup_signals();
	static const char *health_prefix[MAX_ARGS + 2];
	static const char *const no_sub[] = {NULL};
	health_init(runtime_argv(health_prefix, no_sub), opt_id, opt_state_dir);
	health_done = health_reply;
	health_changed = health_event;
	if (mkdir(opt_state_dir, 0700) < 0 && errno != EEXIST)
		die("mkdir %s: %s", opt_state_dir, strerror(errno));
	if (!log_open(false)) {
		sync_report("error cannot open the log file %s: %s", opt_log, strerror(errno));
		cleanup_and_exit(1);
	}

	if (opt_own_netns) {
		netns_create();
		/* the CLI attaches the network (slirp4netns, port proxy) while we mount and create */
		sync_note("netns");
	}
	restart_write_state(false, 0, NULL);
	trace_phase("shim: start-up", t0);
	long long t = trace_now();
	mount_rootfs();
	trace_phase("shim: rootfs mount", t);
	listen_fd = listen_unix(attach_path);
	write_pid_file();
	t = trace_now();
	create_container();
	trace_phase("shim: runtime create", t);

	if (container_exited) {
		sync_report("error the container process exited before start");
		cleanup_and_exit(1);
	}
	sync_report("created %d", (int)container_pid);
	do
		main_loop();
	while (restart_next());
	finish();
	return 0;
}
