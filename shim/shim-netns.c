/*
 * shim-netns.c: --own-netns. The shim moves itself into a new network namespace (owned by its
 * user namespace) before the first `create`, and brings its loopback up. The bundle then asks
 * for no network namespace, so every run of the container joins this one: it outlives the
 * container's process, and slirp4netns and the port proxy (attached to /proc/SHIM_PID/ns/net and
 * anchored to the shim) stay up across restarts.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "shim.h"

void netns_create(void)
{
	if (unshare(CLONE_NEWNET) < 0)
		die("unshare network namespace: %s", strerror(errno));
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket: %s", strerror(errno));
	struct ifreq ifr;
	memset(&ifr, 0, sizeof ifr);
	strcpy(ifr.ifr_name, "lo");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		die("SIOCGIFFLAGS lo: %s", strerror(errno));
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
		die("SIOCSIFFLAGS lo: %s", strerror(errno));
	close_fd(&fd);
}
