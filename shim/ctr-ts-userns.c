/*
 * ctr-ts-userns: run a program in a new user namespace that maps the caller's whole
 * /etc/subuid and /etc/subgid ranges, optionally with a new private mount namespace.
 *
 *   ctr-ts-userns [--mount] [--uid-map C:H:N]... [--gid-map C:H:N]... -- PROG [ARGS...]
 *   ctr-ts-userns [--mount] --join /proc/PID/ns/user -- PROG [ARGS...]
 *   ctr-ts-userns [--mount] --join-userns PID -- PROG [ARGS...]   (the same, by pid)
 *
 * --join enters the user namespace of another process (a container whose pid or IPC namespace
 * the new one shares must be in the same user namespace) instead of creating one: also the per-user network holder's (ctr-ts-netns), so that a container
 * on a user-defined network may be attached to the holder's network namespace.
 *
 * The mappings are written by the setuid helpers newuidmap/newgidmap (from a child process, as
 * `unshare --map-auto` does) unless the only mapping is the caller's own id, which the kernel
 * lets a process write itself. PROG then runs as uid 0 / gid 0 inside the namespace.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"

#define MAX_MAPS 32

struct idmap {
	unsigned long inner, outer, count;
};

/* die(): the message is on stderr; 125 like a container engine's own failure. */
void die_exit(const char *msg)
{
	(void)msg;
	exit(125);
}

static void parse_map(const char *s, struct idmap *maps, int *n)
{
	struct idmap m;
	char extra;
	if (*n >= MAX_MAPS)
		die("too many mappings");
	if (sscanf(s, "%lu:%lu:%lu%c", &m.inner, &m.outer, &m.count, &extra) != 3 || m.count == 0)
		die("bad mapping '%s' (want INNER:OUTER:COUNT)", s);
	maps[(*n)++] = m;
}

static void write_file(const char *path, const char *data)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		die("open %s: %s", path, strerror(errno));
	ssize_t len = (ssize_t)strlen(data);
	if (write(fd, data, (size_t)len) != len)
		die("write %s: %s", path, strerror(errno));
	if (close(fd) < 0)
		die("close %s: %s", path, strerror(errno));
}

/* Start newuidmap/newgidmap PID INNER OUTER COUNT ...; wait_mapper() waits for it. */
static pid_t start_mapper(const char *tool, pid_t pid, const struct idmap *maps, int n)
{
	char *argv[2 + 3 * MAX_MAPS + 1];
	char buf[3 * MAX_MAPS + 1][24];
	int a = 0;
	argv[a++] = (char *)tool;
	snprintf(buf[0], sizeof buf[0], "%d", (int)pid);
	argv[a++] = buf[0];
	for (int i = 0; i < n; i++) {
		snprintf(buf[1 + 3 * i], sizeof buf[0], "%lu", maps[i].inner);
		snprintf(buf[2 + 3 * i], sizeof buf[0], "%lu", maps[i].outer);
		snprintf(buf[3 + 3 * i], sizeof buf[0], "%lu", maps[i].count);
		argv[a++] = buf[1 + 3 * i];
		argv[a++] = buf[2 + 3 * i];
		argv[a++] = buf[3 + 3 * i];
	}
	argv[a] = NULL;

	pid_t child = fork();
	if (child < 0)
		die("fork: %s", strerror(errno));
	if (child == 0) {
		execvp(tool, argv);
		fprintf(stderr, "ctr-ts-userns: exec %s: %s\n", tool, strerror(errno));
		_exit(127);
	}
	return child;
}

static void wait_mapper(const char *tool, pid_t child)
{
	int status;
	while (waitpid(child, &status, 0) < 0)
		if (errno != EINTR)
			die("waitpid %s: %s", tool, strerror(errno));
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		die("%s failed (is the uidmap package installed and is there a range for this user in /etc/subuid and /etc/subgid?)",
		    tool);
}

static int only_own_id(const struct idmap *maps, int n, unsigned long own)
{
	return n == 1 && maps[0].count == 1 && maps[0].outer == own;
}

/* Enters the user namespace at `path`, then becomes its root (with a new private mount namespace). */
static void join_userns(const char *path, int new_mount)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die("open %s: %s", path, strerror(errno));
	if (setns(fd, CLONE_NEWUSER) < 0)
		die("joining the user namespace %s: %s", path, strerror(errno));
	if (close(fd) < 0)
		die("close: %s", strerror(errno));
	if (new_mount && unshare(CLONE_NEWNS) < 0)
		die("unshare the mount namespace: %s", strerror(errno));
	if (setresgid(0, 0, 0) < 0)
		die("setresgid: %s", strerror(errno));
	if (setresuid(0, 0, 0) < 0)
		die("setresuid: %s", strerror(errno));
	if (new_mount && mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		die("making / private: %s", strerror(errno));
}

int main(int argc, char **argv)
{
	long long t0 = trace_now();
	struct idmap uids[MAX_MAPS], gids[MAX_MAPS];
	int nuid = 0, ngid = 0, new_mount = 0;
	const char *join = NULL;
	static const struct option opts[] = {
		{"mount", no_argument, NULL, 'm'},
		{"join", required_argument, NULL, 'j'},
		{"uid-map", required_argument, NULL, 'u'},
		{"gid-map", required_argument, NULL, 'g'},
		{"join-userns", required_argument, NULL, 'J'},
		{NULL, 0, NULL, 0},
	};
	int c;
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (c) {
		case 'm': new_mount = 1; break;
		case 'j': join = optarg; break;
		case 'J': {
			static char by_pid[64];
			char *end;
			long pid = strtol(optarg, &end, 10);
			if (*end != '\0' || pid <= 0)
				die("bad pid '%s'", optarg);
			snprintf(by_pid, sizeof by_pid, "/proc/%ld/ns/user", pid);
			join = by_pid;
			break;
		}
		case 'u': parse_map(optarg, uids, &nuid); break;
		case 'g': parse_map(optarg, gids, &ngid); break;
		default: die("usage: ctr-ts-userns [--mount] (--uid-map C:H:N... --gid-map C:H:N... | --join /proc/PID/ns/user | --join-userns PID) -- PROG [ARGS...]");
		}
	}
	if (optind >= argc)
		die("no program given");
	if (join != NULL) {
		join_userns(join, new_mount);
		trace_phase("userns: join", t0);
		execvp(argv[optind], &argv[optind]);
		die("exec %s: %s", argv[optind], strerror(errno));
	}
	uid_t uid = getuid();
	gid_t gid = getgid();
	if (nuid == 0)
		uids[nuid++] = (struct idmap){0, uid, 1};
	if (ngid == 0)
		gids[ngid++] = (struct idmap){0, gid, 1};
	int self_map = only_own_id(uids, nuid, uid) && only_own_id(gids, ngid, gid);

	/* The child waits for the parent to unshare, then writes the parent's maps. */
	int sync_pipe[2];
	pid_t helper = -1;
	if (!self_map) {
		if (pipe2(sync_pipe, O_CLOEXEC) < 0)
			die("pipe: %s", strerror(errno));
		pid_t parent = getpid();
		helper = fork();
		if (helper < 0)
			die("fork: %s", strerror(errno));
		if (helper == 0) {
			char byte;
			if (close(sync_pipe[1]) < 0)
				die("close: %s", strerror(errno));
			if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
				die("prctl: %s", strerror(errno));
			if (read(sync_pipe[0], &byte, 1) != 1)
				_exit(1); /* parent failed to unshare and said so */
			/* both at once: they write different files of the same process */
			pid_t u = start_mapper("newuidmap", parent, uids, nuid);
			pid_t g = start_mapper("newgidmap", parent, gids, ngid);
			wait_mapper("newuidmap", u);
			wait_mapper("newgidmap", g);
			_exit(0);
		}
		if (close(sync_pipe[0]) < 0)
			die("close: %s", strerror(errno));
	}

	if (unshare(CLONE_NEWUSER | (new_mount ? CLONE_NEWNS : 0)) < 0)
		die("unshare: %s (are unprivileged user namespaces enabled? see kernel.unprivileged_userns_clone and user.max_user_namespaces)",
		    strerror(errno));

	if (self_map) {
		char line[64];
		write_file("/proc/self/setgroups", "deny");
		snprintf(line, sizeof line, "0 %lu 1\n", (unsigned long)uid);
		write_file("/proc/self/uid_map", line);
		snprintf(line, sizeof line, "0 %lu 1\n", (unsigned long)gid);
		write_file("/proc/self/gid_map", line);
	} else {
		int status;
		long long tm = trace_now();
		if (write(sync_pipe[1], "1", 1) != 1)
			die("write: %s", strerror(errno));
		if (close(sync_pipe[1]) < 0)
			die("close: %s", strerror(errno));
		while (waitpid(helper, &status, 0) < 0)
			if (errno != EINTR)
				die("waitpid: %s", strerror(errno));
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			exit(125); /* the helper said why */
		trace_phase("userns: newuidmap + newgidmap", tm);
	}

	if (setresgid(0, 0, 0) < 0)
		die("setresgid: %s", strerror(errno));
	if (setresuid(0, 0, 0) < 0)
		die("setresuid: %s", strerror(errno));
	if (new_mount && mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		die("making / private: %s", strerror(errno));

	trace_phase("userns: helper (unshare, maps)", t0);
	execvp(argv[optind], &argv[optind]);
	die("exec %s: %s", argv[optind], strerror(errno));
	return 125;
}
