/*
 * shim-health.c: the shim's healthcheck (see shim-health.h and shim/PROTOCOL.md).
 *
 * docker's rules (daemon/health.go): the first check runs one interval after the start (the start
 * interval while the container is in its start period and not yet healthy), each next one an
 * interval after the previous ended. Exit 0 is healthy and resets the failing streak; anything
 * else (a timeout is exit -1) adds to the streak, except while the status is still "starting"
 * and the check began inside the start period; `retries` consecutive failures make it unhealthy.
 * The last 5 results are kept.
 */
#define _GNU_SOURCE
#include "shim.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

#define HEALTH_LOG_MAX 5           /* docker's maxLogEntries */
#define HEALTH_KILL_GRACE_MS 1000  /* after the timeout kill, the runtime itself gets SIGKILL */
#define HEALTH_KILL_EVERY_MS 100   /* until then, kill rounds: a check the runtime starts late dies too */

struct health_config health_cfg = {
	.interval_ms = 30000,
	.timeout_ms = 30000,
	.start_period_ms = 0,
	.start_interval_ms = 5000,
	.retries = 3,
};

void (*health_done)(int exit_code, const char *status);
void (*health_changed)(const char *status);

struct result {
	char start[40], end[40];
	int exit_code;
	char output[HEALTH_OUTPUT_MAX + 4]; /* "..." appended when more was discarded, as docker does */
	size_t output_len;
	bool truncated;
};

static const char *const *runtime_prefix;
static const char *container_id;
static char pid_file[4096], tmp_file[4096];

static const char *status = "starting";
static int failing_streak;
static struct result log_entries[HEALTH_LOG_MAX];
static int n_log;

static int64_t started_ms = -1; /* container start, monotonic */
static int64_t next_ms = -1;    /* next scheduled check */

/* The running check. */
static pid_t check_pid = -1;
static int check_fd = -1;
static int64_t check_started_ms, check_deadline_ms;
static int64_t check_kill_ms = -1, check_grace_ms = -1; /* next kill round; when the runtime gets SIGKILL */
static bool check_timed_out;
static struct result current;

static int64_t mono_ms(void)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0)
		return 0;
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}


/* A duration the way Go prints it (time.Duration.String) for whole milliseconds: 500ms, 2s, 1m30s, 1.5s. */
static void go_duration(char *buf, size_t len, int64_t ms)
{
	if (ms < 1000) {
		snprintf(buf, len, "%lldms", (long long)ms);
		return;
	}
	int64_t h = ms / 3600000, m = ms / 60000 % 60, s = ms / 1000 % 60, frac = ms % 1000;
	int n = 0;
	if (h > 0)
		n = snprintf(buf, len, "%lldh%lldm", (long long)h, (long long)m);
	else if (m > 0)
		n = snprintf(buf, len, "%lldm", (long long)m);
	if (n < 0 || (size_t)n >= len)
		return;
	if (frac == 0) {
		snprintf(buf + n, len - (size_t)n, "%llds", (long long)s);
		return;
	}
	char f[8];
	snprintf(f, sizeof f, "%03lld", (long long)frac);
	for (int i = 2; i > 0 && f[i] == '0'; i--)
		f[i] = '\0';
	snprintf(buf + n, len - (size_t)n, "%lld.%ss", (long long)s, f);
}

static bool parse_ms(const char *value, int64_t *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(value, &end, 10);
	if (errno != 0 || *end != '\0' || v <= 0)
		return false;
	*out = v;
	return true;
}

bool health_parse_option(const char *name, const char *value)
{
	if (strcmp(name, "health-file") == 0) {
		health_cfg.state_file = value;
		return true;
	}
	if (strcmp(name, "health-arg") == 0) {
		if (health_cfg.n_args >= HEALTH_MAX_ARGS - 1)
			return false;
		health_cfg.args[health_cfg.n_args++] = value;
		return true;
	}
	if (strcmp(name, "health-interval") == 0)
		return parse_ms(value, &health_cfg.interval_ms);
	if (strcmp(name, "health-timeout") == 0)
		return parse_ms(value, &health_cfg.timeout_ms);
	if (strcmp(name, "health-start-interval") == 0)
		return parse_ms(value, &health_cfg.start_interval_ms);
	if (strcmp(name, "health-start-period") == 0) {
		char *end;
		errno = 0;
		long long v = strtoll(value, &end, 10);
		if (errno != 0 || *end != '\0' || v < 0)
			return false;
		health_cfg.start_period_ms = v;
		return true;
	}
	if (strcmp(name, "health-retries") == 0) {
		int64_t v;
		if (!parse_ms(value, &v) || v > 1000000)
			return false;
		health_cfg.retries = (int)v;
		return true;
	}
	return false;
}

bool health_enabled(void)
{
	return health_cfg.state_file != NULL && health_cfg.n_args > 0;
}

void health_init(const char *const *prefix, const char *id, const char *state_dir)
{
	runtime_prefix = prefix;
	container_id = id;
	if ((size_t)snprintf(pid_file, sizeof pid_file, "%s/health.pid", state_dir) >= sizeof pid_file)
		die("path too long: %s/health.pid", state_dir);
	if (health_cfg.state_file != NULL &&
	    (size_t)snprintf(tmp_file, sizeof tmp_file, "%s.tmp", health_cfg.state_file) >= sizeof tmp_file)
		die("path too long: %s.tmp", health_cfg.state_file);
}

static void json_string(FILE *f, const char *s, size_t len)
{
	putc('"', f);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		switch (c) {
		case '"': fputs("\\\"", f); break;
		case '\\': fputs("\\\\", f); break;
		case '\n': fputs("\\n", f); break;
		case '\r': fputs("\\r", f); break;
		case '\t': fputs("\\t", f); break;
		default:
			if (c < 0x20 || c == 0x7f)
				fprintf(f, "\\u%04x", c);
			else
				putc(c, f);
		}
	}
	putc('"', f);
}

/* docker's State.Health, written to FILE.tmp then renamed over FILE. */
static void write_state(void)
{
	int fd = open(tmp_file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		warnx("open %s: %s", tmp_file, strerror(errno));
		return;
	}
	FILE *f = fdopen(fd, "w");
	if (f == NULL) {
		warnx("fdopen %s: %s", tmp_file, strerror(errno));
		close(fd);
		return;
	}
	fprintf(f, "{\"Status\":\"%s\",\"FailingStreak\":%d,\"Log\":[", status, failing_streak);
	for (int i = 0; i < n_log; i++) {
		struct result *r = &log_entries[i];
		fprintf(f, "%s{\"Start\":\"%s\",\"End\":\"%s\",\"ExitCode\":%d,\"Output\":", i ? "," : "", r->start, r->end,
			r->exit_code);
		json_string(f, r->output, r->output_len);
		putc('}', f);
	}
	fputs("]}\n", f);
	bool ok = fflush(f) == 0 && !ferror(f);
	if (fclose(f) != 0)
		ok = false;
	if (!ok) {
		warnx("write %s: %s", tmp_file, strerror(errno));
		return;
	}
	if (rename(tmp_file, health_cfg.state_file) < 0)
		warnx("rename %s: %s", tmp_file, strerror(errno));
}

static bool in_start_period(int64_t at)
{
	return started_ms >= 0 && at - started_ms < health_cfg.start_period_ms;
}

static int64_t interval_now(void)
{
	if (in_start_period(mono_ms()) && strcmp(status, "starting") == 0)
		return health_cfg.start_interval_ms;
	return health_cfg.interval_ms;
}

void health_start(void)
{
	if (!health_enabled())
		return;
	started_ms = mono_ms();
	status = "starting";
	failing_streak = 0;
	n_log = 0;
	write_state();
	next_ms = started_ms + interval_now();
}

static void spawn_check(void)
{
	const char *argv[HEALTH_MAX_ARGS * 2 + 8];
	int a = 0;
	for (int i = 0; runtime_prefix[i] != NULL && a < HEALTH_MAX_ARGS; i++)
		argv[a++] = runtime_prefix[i];
	argv[a++] = "exec";
	argv[a++] = "--pid-file";
	argv[a++] = pid_file;
	argv[a++] = container_id;
	for (int i = 0; i < health_cfg.n_args; i++)
		argv[a++] = health_cfg.args[i];
	argv[a] = NULL;

	memset(&current, 0, sizeof current);
	timestamp(current.start, sizeof current.start);
	check_started_ms = mono_ms();
	check_deadline_ms = check_started_ms + health_cfg.timeout_ms;
	check_kill_ms = check_grace_ms = -1;
	check_timed_out = false;
	if (unlink(pid_file) < 0 && errno != ENOENT)
		warnx("unlink %s: %s", pid_file, strerror(errno));

	int p[2];
	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0) {
		warnx("healthcheck pipe: %s", strerror(errno));
		return;
	}
	pid_t pid = fork();
	if (pid < 0) {
		warnx("healthcheck fork: %s", strerror(errno));
		close(p[0]);
		close(p[1]);
		return;
	}
	if (pid == 0) {
		sigset_t none;
		sigemptyset(&none);
		signal(SIGPIPE, SIG_DFL);
		sigprocmask(SIG_SETMASK, &none, NULL);
		int devnull = open("/dev/null", O_RDONLY);
		int flags = fcntl(p[1], F_GETFL);
		if (devnull < 0 || dup2(devnull, 0) < 0 || flags < 0 || fcntl(p[1], F_SETFL, flags & ~O_NONBLOCK) < 0 ||
		    dup2(p[1], 1) < 0 || dup2(p[1], 2) < 0)
			_exit(127);
		execv(argv[0], (char *const *)argv);
		fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(p[1]);
	check_pid = pid;
	check_fd = p[0];
}

void health_request(void)
{
	if (!health_enabled() || started_ms < 0)
		return;
	if (check_pid < 0)
		spawn_check();
}

int health_poll_fd(void)
{
	return check_fd;
}

int health_timeout_ms(void)
{
	if (!health_enabled() || started_ms < 0)
		return -1;
	int64_t at;
	if (check_pid > 0)
		at = check_kill_ms >= 0 ? check_kill_ms : check_deadline_ms;
	else
		at = next_ms;
	if (at < 0)
		return -1;
	int64_t left = at - mono_ms();
	if (left < 0)
		left = 0;
	if (left > 3600000)
		left = 3600000;
	return (int)left;
}

void health_on_readable(void)
{
	char buf[4096];
	for (;;) {
		ssize_t n = read(check_fd, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) { /* EOF: the check's writers are gone */
			close(check_fd);
			check_fd = -1;
			return;
		}
		size_t room = HEALTH_OUTPUT_MAX - current.output_len, take = (size_t)n < room ? (size_t)n : room;
		memcpy(current.output + current.output_len, buf, take);
		current.output_len += take;
		if (take < (size_t)n)
			current.truncated = true;
	}
}

static pid_t read_pid_file(void)
{
	char buf[32];
	int fd = open(pid_file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	long pid = strtol(buf, NULL, 10);
	return pid > 0 ? (pid_t)pid : -1;
}

/*
 * The runtime's children: the check's process (runc starts it with CLONE_PARENT, so its parent is
 * `runc exec` itself) and runc's own init stages. The pid file alone is not enough: the runtime
 * writes it only after the process started, and a slow runtime may not have written it yet.
 */
static void kill_runtime_children(void)
{
	kill_children_of(check_pid, "healthcheck process");
}

/* Timeout: SIGKILL to the check's process in the container (the runtime then exits); with runtime_too, to the runtime. */
static void kill_check(bool runtime_too)
{
	pid_t inner = read_pid_file();
	if (inner > 0 && kill(inner, SIGKILL) < 0 && errno != ESRCH)
		warnx("kill healthcheck %d: %s", (int)inner, strerror(errno));
	if (check_pid > 0)
		kill_runtime_children();
	if (runtime_too && check_pid > 0 && kill(check_pid, SIGKILL) < 0 && errno != ESRCH)
		warnx("kill healthcheck runtime %d: %s", (int)check_pid, strerror(errno));
}

void health_on_timer(void)
{
	if (!health_enabled() || started_ms < 0)
		return;
	int64_t now = mono_ms();
	if (check_pid > 0) {
		if (!check_timed_out && now >= check_deadline_ms) {
			check_timed_out = true;
			kill_check(false);
			check_kill_ms = now + HEALTH_KILL_EVERY_MS;
			check_grace_ms = now + HEALTH_KILL_GRACE_MS;
		} else if (check_kill_ms >= 0 && now >= check_kill_ms) {
			bool last = now >= check_grace_ms;
			kill_check(last);
			check_kill_ms = last ? -1 : now + HEALTH_KILL_EVERY_MS;
		}
		return;
	}
	if (next_ms >= 0 && now >= next_ms)
		spawn_check();
}

static void record_result(void)
{
	if (n_log == HEALTH_LOG_MAX) {
		memmove(&log_entries[0], &log_entries[1], sizeof log_entries[0] * (HEALTH_LOG_MAX - 1));
		n_log--;
	}
	log_entries[n_log++] = current;
	const char *before = status;
	if (current.exit_code == 0) {
		failing_streak = 0;
		status = "healthy";
	} else if (!(strcmp(status, "starting") == 0 && in_start_period(check_started_ms))) {
		failing_streak++;
		if (failing_streak >= health_cfg.retries)
			status = "unhealthy";
	}
	write_state();
	if (status != before && health_changed != NULL)
		health_changed(status);
}

bool health_on_child_exit(pid_t pid, int wstatus)
{
	if (pid <= 0 || pid != check_pid)
		return false;
	check_pid = -1;
	if (check_fd >= 0) { /* what is in the pipe now; children of the check may keep it open */
		health_on_readable();
		if (check_fd >= 0) {
			close(check_fd);
			check_fd = -1;
		}
	}
	timestamp(current.end, sizeof current.end);
	if (check_timed_out) {
		char d[32];
		go_duration(d, sizeof d, health_cfg.timeout_ms);
		current.exit_code = -1;
		current.output_len = (size_t)snprintf(current.output, sizeof current.output,
						      "Health check exceeded timeout (%s)", d);
	} else {
		if (current.truncated) {
			memcpy(current.output + current.output_len, "...", 3);
			current.output_len += 3;
		}
		if (WIFEXITED(wstatus))
			current.exit_code = WEXITSTATUS(wstatus);
		else
			current.exit_code = WIFSIGNALED(wstatus) ? 128 + WTERMSIG(wstatus) : -1;
	}
	if (unlink(pid_file) < 0 && errno != ENOENT)
		warnx("unlink %s: %s", pid_file, strerror(errno));
	record_result();
	next_ms = mono_ms() + interval_now();
	if (health_done != NULL)
		health_done(current.exit_code, status);
	return true;
}

void health_stop(void)
{
	next_ms = -1;
	started_ms = -1;
	if (check_pid > 0)
		kill_check(true);
	if (check_fd >= 0) {
		close(check_fd);
		check_fd = -1;
	}
}
