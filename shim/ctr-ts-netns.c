/*
 * ctr-ts-netns: the per-user "rootless network namespace" holder of ctr-ts's user-defined
 * networks (podman calls its twin the rootless netns).
 *
 *   ctr-ts-userns --mount --uid-map ... --gid-map ... -- \
 *     ctr-ts-netns --socket PATH --config-dir DIR [--resolv-conf FILE] [--idle SECONDS]
 *
 * It runs as root of a user namespace that maps the user's subordinate ranges, unshares a network
 * namespace (the one the bridges of every user-defined network live in, where netavark and
 * aardvark-dns run, and to which slirp4netns gives the outside through tap0), brings its loopback
 * up and bind-mounts FILE over /etc/resolv.conf in its private mount namespace (aardvark-dns
 * forwards other names to slirp4netns' DNS). Containers on a network join its user namespace
 * (ctr-ts-userns --join-userns) and get their own network namespace, attached by netavark.
 *
 * Protocol, on stdout and stdin with the CLI that started it:
 *   "netns\n"    the namespaces exist: start slirp4netns into /proc/PID/ns/net now
 *   (a byte on stdin: go on)
 *   "ready\n"    the socket listens                               or "busy\n": another holder does
 * Clients connect to the socket and send "hello CONTAINER_ID\n"; the reply is "ok PID DIR KEEPER\n"
 * (DIR: netavark's --config directory, removed when the holder exits; KEEPER: a child holding a
 * new network namespace for the container, see start_keeper). Each
 * container's connection is then held by its port proxy, which exits with the container.
 *
 * Lifetime: when a connection ends, the container it named is gone: its lines are removed from
 * aardvark-dns' files (under netavark's lock) and aardvark-dns is told (SIGHUP). When the last
 * connection ends (or none came within --idle seconds of the start) and none is waiting, the
 * holder removes its socket, stops aardvark-dns and exits: the namespaces go with it, fd 3 (the
 * other end of slirp4netns' --exit-fd) closes, and slirp4netns exits too. Nothing is left.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common.h"

#define MAX_CLIENTS 1024
#define ID_MAX 128

struct client {
	int fd;
	pid_t keeper;
	char buf[ID_MAX + 16];
	size_t len;
	char id[ID_MAX];
};

static const char *socket_path;
static const char *config_dir;
static struct client clients[MAX_CLIENTS];
static int nclients;

void die_exit(const char *msg)
{
	(void)msg;
	exit(1);
}

static void write_all(int fd, const char *s)
{
	size_t len = strlen(s);
	while (len > 0) {
		ssize_t n = write(fd, s, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("write: %s", strerror(errno));
		}
		s += n;
		len -= (size_t)n;
	}
}

static void loopback_up(void)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		die("socket: %s", strerror(errno));
	struct ifreq ifr;
	memset(&ifr, 0, sizeof ifr);
	snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "lo");
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		die("SIOCGIFFLAGS lo: %s", strerror(errno));
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
		die("SIOCSIFFLAGS lo: %s", strerror(errno));
	if (close(s) < 0)
		die("close: %s", strerror(errno));
}

/* Binds and listens; 0 when another live holder owns the path. */
static int bind_socket(int *out)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	if (strlen(socket_path) >= sizeof addr.sun_path)
		die("socket path too long: %s", socket_path);
	strcpy(addr.sun_path, socket_path);
	for (int attempt = 0; attempt < 2; attempt++) {
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			die("socket: %s", strerror(errno));
		if (bind(fd, (struct sockaddr *)&addr, sizeof addr) == 0) {
			if (listen(fd, 64) < 0)
				die("listen: %s", strerror(errno));
			*out = fd;
			return 1;
		}
		if (errno != EADDRINUSE)
			die("bind %s: %s", socket_path, strerror(errno));
		if (connect(fd, (struct sockaddr *)&addr, sizeof addr) == 0) {
			close(fd);
			return 0;
		}
		/* a stale socket of a holder that is gone */
		if (close(fd) < 0 || (unlink(socket_path) < 0 && errno != ENOENT))
			die("unlink %s: %s", socket_path, strerror(errno));
	}
	die("cannot bind %s", socket_path);
}

/* dst = a + b; 0 (and a warning) when it does not fit. */
static int fit(char *dst, size_t size, const char *a, const char *b)
{
	if (strlen(a) + strlen(b) >= size) {
		warnx("path too long: %s%s", a, b);
		return 0;
	}
	strcpy(dst, a);
	strcat(dst, b);
	return 1;
}

/* DIR/holder.pid: a CLI that finds the directory of a holder that was killed cleans it up. */
static void write_pid_file(void)
{
	char path[PATH_MAX], text[32];
	if (!fit(path, sizeof path, config_dir, "/holder.pid"))
		die("config dir path too long");
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		die("open %s: %s", path, strerror(errno));
	int len = snprintf(text, sizeof text, "%d\n", (int)getpid());
	if (write(fd, text, (size_t)len) != len || close(fd) < 0)
		die("write %s: %s", path, strerror(errno));
}

/* Removes the lines of container ID from one aardvark-dns network file. */
static void drop_lines(const char *path, const char *id)
{
	const char *failed = "";
	if (aardvark_drop_lines(path, id, &failed) < 0)
		warnx("%s %s: %s", failed, path, strerror(errno));
}

/* A container is gone: forget its names. */
static void forget(const char *id)
{
	char dir[PATH_MAX], lock[PATH_MAX];
	if (!fit(dir, sizeof dir, config_dir, "/aardvark-dns") || !fit(lock, sizeof lock, config_dir, "/aardvark.lock"))
		return;
	int lfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (lfd < 0 || flock(lfd, LOCK_EX) < 0) {
		warnx("lock %s: %s", lock, strerror(errno));
		if (lfd >= 0)
			close(lfd);
		return;
	}
	DIR *d = opendir(dir);
	if (d) {
		struct dirent *e;
		while ((e = readdir(d))) {
			if (e->d_name[0] == '.' || strcmp(e->d_name, "aardvark.pid") == 0 || strstr(e->d_name, ".tmp"))
				continue;
			char path[PATH_MAX];
			if (fit(path, sizeof path, dir, "/") && strlen(path) + strlen(e->d_name) < sizeof path) {
				strcat(path, e->d_name);
				drop_lines(path, id);
			}
		}
		closedir(d);
	}
	pid_t pid = aardvark_read_pid(config_dir);
	if (pid > 0 && kill(pid, SIGHUP) < 0 && errno != ESRCH)
		warnx("SIGHUP aardvark-dns: %s", strerror(errno));
	close(lfd); /* unlocks */
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st, (void)type, (void)ftw;
	if (remove(path) < 0)
		warnx("remove %s: %s", path, strerror(errno));
	return 0;
}

static void drop_client(int i)
{
	if (clients[i].keeper > 0 && kill(clients[i].keeper, SIGKILL) < 0 && errno != ESRCH)
		warnx("kill keeper %d: %s", (int)clients[i].keeper, strerror(errno));
	if (clients[i].id[0])
		forget(clients[i].id);
	if (close(clients[i].fd) < 0)
		warnx("close: %s", strerror(errno));
	clients[i] = clients[--nclients];
}

/*
 * A container's network namespace, made before its container: netavark attaches it while the
 * shim mounts the rootfs and the runtime creates the container, which then joins it by path.
 * The keeper holds it until the container's connection ends (then SIGKILL: the namespace lives
 * on only while the container's processes are in it). Without IPv6 on new interfaces, as
 * docker's eth0 without --ipv6 (the loopback keeps ::1).
 */
static pid_t start_keeper(void)
{
	int ready[2];
	if (pipe2(ready, O_CLOEXEC) < 0) {
		warnx("pipe: %s", strerror(errno));
		return -1;
	}
	pid_t pid = fork();
	if (pid < 0) {
		warnx("fork: %s", strerror(errno));
		close(ready[0]);
		close(ready[1]);
		return -1;
	}
	if (pid == 0) {
		char ok = '1';
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || unshare(CLONE_NEWNET) < 0)
			_exit(1);
		int fd = open("/proc/sys/net/ipv6/conf/default/disable_ipv6", O_WRONLY | O_CLOEXEC);
		if (fd >= 0) {
			if (write(fd, "1", 1) != 1)
				warnx("disable_ipv6: %s", strerror(errno));
			close(fd);
		}
		if (write(ready[1], &ok, 1) != 1)
			_exit(1);
		for (int i = 3; i < 1024; i++)
			close(i);
		for (;;)
			pause();
	}
	close(ready[1]);
	char byte;
	ssize_t n;
	while ((n = read(ready[0], &byte, 1)) < 0 && errno == EINTR)
		;
	close(ready[0]);
	if (n != 1) {
		warnx("the network namespace keeper failed");
		kill(pid, SIGKILL);
		return -1;
	}
	return pid;
}

/* Reads from a client; returns 0 when it is gone. */
static int serve(struct client *c)
{
	char chunk[256];
	ssize_t n = read(c->fd, chunk, sizeof chunk);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 1;
	if (n <= 0)
		return 0;
	if (c->id[0])
		return 1; /* nothing more is expected */
	size_t room = sizeof c->buf - 1 - c->len;
	if ((size_t)n > room)
		return 0;
	memcpy(c->buf + c->len, chunk, (size_t)n);
	c->len += (size_t)n;
	c->buf[c->len] = '\0';
	char *nl = strchr(c->buf, '\n');
	if (!nl)
		return 1;
	*nl = '\0';
	if (strncmp(c->buf, "hello ", 6) != 0 || strlen(c->buf + 6) == 0 || strlen(c->buf + 6) >= ID_MAX ||
	    strpbrk(c->buf + 6, " /"))
		return 0;
	strcpy(c->id, c->buf + 6);
	c->keeper = start_keeper();
	if (c->keeper < 0)
		return 0;
	char reply[PATH_MAX + 64];
	snprintf(reply, sizeof reply, "ok %d %s %d\n", (int)getpid(), config_dir, (int)c->keeper);
	if (send(c->fd, reply, strlen(reply), MSG_NOSIGNAL) < 0)
		return 0;
	return 1;
}

static void accept_one(int lfd)
{
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0) {
		if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
			warnx("accept: %s", strerror(errno));
		return;
	}
	if (nclients >= MAX_CLIENTS) {
		warnx("too many containers");
		close(fd);
		return;
	}
	clients[nclients++] = (struct client){.fd = fd};
}

int main(int argc, char **argv)
{
	const char *resolv = NULL;
	int idle = 30;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--socket") == 0 && i + 1 < argc)
			socket_path = argv[++i];
		else if (strcmp(argv[i], "--config-dir") == 0 && i + 1 < argc)
			config_dir = argv[++i];
		else if (strcmp(argv[i], "--resolv-conf") == 0 && i + 1 < argc)
			resolv = argv[++i];
		else if (strcmp(argv[i], "--idle") == 0 && i + 1 < argc)
			idle = atoi(argv[++i]);
		else
			die("usage: ctr-ts-netns --socket PATH --config-dir DIR [--resolv-conf FILE] [--idle SECONDS]");
	}
	if (!socket_path || !config_dir)
		die("--socket and --config-dir are required");
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR || signal(SIGCHLD, SIG_IGN) == SIG_ERR)
		die("signal: %s", strerror(errno));

	if (unshare(CLONE_NEWNET) < 0)
		die("unshare network namespace: %s", strerror(errno));
	loopback_up();
	if (resolv && mount(resolv, "/etc/resolv.conf", NULL, MS_BIND, NULL) < 0)
		warnx("bind-mount %s on /etc/resolv.conf: %s", resolv, strerror(errno));
	if (mkdir(config_dir, 0700) < 0 && errno != EEXIST)
		die("mkdir %s: %s", config_dir, strerror(errno));
	write_pid_file();

	write_all(STDOUT_FILENO, "netns\n");
	char go;
	if (read(STDIN_FILENO, &go, 1) != 1)
		die("the CLI went away before the network was ready");

	int lfd;
	if (!bind_socket(&lfd)) {
		write_all(STDOUT_FILENO, "busy\n");
		return 0;
	}
	write_all(STDOUT_FILENO, "ready\n");
	int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (devnull < 0 || dup2(devnull, STDIN_FILENO) < 0 || dup2(devnull, STDOUT_FILENO) < 0 || close(devnull) < 0)
		die("/dev/null: %s", strerror(errno));

	int served = 0;
	for (;;) {
		struct pollfd pfds[MAX_CLIENTS + 1];
		pfds[0] = (struct pollfd){.fd = lfd, .events = POLLIN};
		for (int i = 0; i < nclients; i++)
			pfds[i + 1] = (struct pollfd){.fd = clients[i].fd, .events = POLLIN};
		int timeout = (nclients == 0 && !served) ? idle * 1000 : -1;
		int n = poll(pfds, (nfds_t)nclients + 1, timeout);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("poll: %s", strerror(errno));
		}
		if (n == 0)
			break; /* nobody came */
		int count = nclients;
		for (int i = count - 1; i >= 0; i--)
			if (pfds[i + 1].revents && !serve(&clients[i]))
				drop_client(i);
		if (pfds[0].revents & POLLIN) {
			accept_one(lfd);
			served = 1;
		}
		if (nclients == 0 && served) {
			/* The last container is gone; a client that connects now is refused (it starts anew). */
			struct pollfd p = {.fd = lfd, .events = POLLIN};
			if (poll(&p, 1, 0) > 0)
				continue;
			break;
		}
	}
	if (unlink(socket_path) < 0 && errno != ENOENT)
		warnx("unlink %s: %s", socket_path, strerror(errno));
	close(lfd);
	pid_t pid = aardvark_read_pid(config_dir);
	if (pid > 0 && kill(pid, SIGTERM) < 0 && errno != ESRCH)
		warnx("stop aardvark-dns: %s", strerror(errno));
	if (nftw(config_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS) < 0 && errno != ENOENT)
		warnx("remove %s: %s", config_dir, strerror(errno));
	return 0;
}
