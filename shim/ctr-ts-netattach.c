/*
 * ctr-ts-netattach: attaches a container's network namespace to ctr-ts's user-defined networks
 * (or detaches it from one), inside the rootless network namespace of ctr-ts-netns.
 *
 *   nsenter -t HOLDER -U -n -m --preserve-credentials -- ctr-ts-netattach \
 *     --config-dir DIR --aardvark PATH --netns /proc/PID/ns/net --id CONTAINER_ID [--detach] \
 *     --net NAME --bridge BR --subnet A.B.C.D/N --gateway A.B.C.D --ip A.B.C.D --ifname eth0 \
 *         [--internal] --names name,shortid,alias ...     (one group per network)
 *
 * It does what netavark's bridge driver does, with netlink and one iptables-restore per network
 * instead of netavark's 25 to 50 iptables processes per container (Debian 12's netavark 1.4 has
 * no other firewall driver that works rootless):
 *
 *   per network, once per holder (when its bridge does not exist yet):
 *     the bridge with the gateway address, up; IPv4 forwarding on; the firewall in one
 *     `iptables-restore --noflush`: masquerade of the subnet towards tap0 (slirp4netns: the
 *     outside) unless internal; traffic within the bridge accepted (br_netfilter may show it to
 *     FORWARD), none from this bridge to another ctr-ts bridge (isolation); an internal network
 *     forwards nothing else at all;
 *   per container and network:
 *     a veth pair (host end on the bridge, up; container end IFNAME in the container's namespace,
 *     created there directly), its address, up, the default route through the gateway unless
 *     internal; aardvark-dns' entry (the network's file under DIR/aardvark-dns, header line = the
 *     gateway it listens on), then aardvark-dns is started or told to reload (SIGHUP).
 *
 * `--ifname eth+` takes the first free ethN (network connect of a running container). --detach
 * removes IFNAME (or, with --ip, the interface holding that address) from the container's
 * namespace (the pair goes with it) and the
 * container's lines from the network's aardvark-dns file. Everything under DIR/aardvark.lock,
 * the lock ctr-ts-netns takes to forget a container that is gone.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <limits.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"

#define MAX_NETS 32

struct net {
	const char *name, *bridge, *subnet, *gateway, *ip, *ifname, *names;
	int internal;
	char chosen[IFNAMSIZ];
};

static const char *config_dir, *aardvark, *netns_path, *container_id;
static struct net nets[MAX_NETS];
static int nnets, detach;

void die_exit(const char *msg)
{
	(void)msg;
	exit(1);
}

/* ---- netlink ---- */

struct req {
	struct nlmsghdr h;
	char buf[2048];
};

static int nl_fd = -1;
static unsigned seq;

static void nl_open(void)
{
	if (nl_fd >= 0 && close(nl_fd) < 0)
		die("close netlink: %s", strerror(errno));
	nl_fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (nl_fd < 0)
		die("netlink socket: %s", strerror(errno));
}

static void *tail(struct req *r)
{
	return (char *)r + NLMSG_ALIGN(r->h.nlmsg_len);
}

static void add_attr(struct req *r, unsigned short type, const void *data, size_t len)
{
	size_t need = NLMSG_ALIGN(r->h.nlmsg_len) + RTA_SPACE(len);
	if (need > sizeof *r)
		die("netlink message too long");
	struct rtattr *a = tail(r);
	a->rta_type = type;
	a->rta_len = (unsigned short)RTA_LENGTH(len);
	if (len)
		memcpy(RTA_DATA(a), data, len);
	r->h.nlmsg_len = (unsigned)need;
}

static struct rtattr *nest(struct req *r, unsigned short type)
{
	struct rtattr *a = tail(r);
	add_attr(r, type, NULL, 0);
	return a;
}

static void end_nest(struct req *r, struct rtattr *a)
{
	a->rta_len = (unsigned short)((char *)tail(r) - (char *)a);
}

static void add_str(struct req *r, unsigned short type, const char *s)
{
	add_attr(r, type, s, strlen(s) + 1);
}

static void add_u32(struct req *r, unsigned short type, unsigned v)
{
	add_attr(r, type, &v, sizeof v);
}

static void start(struct req *r, unsigned short type, unsigned short flags, const void *hdr, size_t len)
{
	memset(r, 0, sizeof *r);
	r->h.nlmsg_type = type;
	r->h.nlmsg_flags = (unsigned short)(NLM_F_REQUEST | NLM_F_ACK | flags);
	r->h.nlmsg_seq = ++seq;
	r->h.nlmsg_len = (unsigned)NLMSG_LENGTH(len);
	memcpy(NLMSG_DATA(&r->h), hdr, len);
}

/* Sends the request and returns 0 or the kernel's -errno. */
static int talk(struct req *r)
{
	if (send(nl_fd, &r->h, r->h.nlmsg_len, 0) < 0)
		die("netlink send: %s", strerror(errno));
	char buf[8192];
	for (;;) {
		ssize_t n = recv(nl_fd, buf, sizeof buf, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("netlink recv: %s", strerror(errno));
		}
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (unsigned)n); h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_seq != r->h.nlmsg_seq)
				continue;
			if (h->nlmsg_type == NLMSG_ERROR)
				return ((struct nlmsgerr *)NLMSG_DATA(h))->error;
		}
	}
}

static void must(int err, const char *what, const char *name)
{
	if (err < 0)
		die("%s %s: %s", what, name, strerror(-err));
}

static unsigned index_of(const char *ifname)
{
	unsigned i = if_nametoindex(ifname);
	if (i == 0)
		die("no interface %s: %s", ifname, strerror(errno));
	return i;
}

static int link_up(unsigned index)
{
	struct req r;
	struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC, .ifi_index = (int)index, .ifi_flags = IFF_UP, .ifi_change = IFF_UP};
	start(&r, RTM_NEWLINK, 0, &ifi, sizeof ifi);
	return talk(&r);
}

static int add_address(unsigned index, const char *ip, int prefix)
{
	struct in_addr a;
	if (inet_pton(AF_INET, ip, &a) != 1)
		die("not an IPv4 address: %s", ip);
	struct req r;
	struct ifaddrmsg ifa = {.ifa_family = AF_INET, .ifa_prefixlen = (unsigned char)prefix, .ifa_index = index};
	start(&r, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, &ifa, sizeof ifa);
	add_attr(&r, IFA_LOCAL, &a, sizeof a);
	add_attr(&r, IFA_ADDRESS, &a, sizeof a);
	if (prefix < 31) {
		struct in_addr b = {.s_addr = a.s_addr | htonl(0xffffffffu >> prefix)};
		add_attr(&r, IFA_BROADCAST, &b, sizeof b);
	}
	return talk(&r);
}

static int default_route(unsigned index, const char *gateway)
{
	struct in_addr g;
	if (inet_pton(AF_INET, gateway, &g) != 1)
		die("not an IPv4 address: %s", gateway);
	struct req r;
	struct rtmsg rt = {.rtm_family = AF_INET, .rtm_table = RT_TABLE_MAIN, .rtm_protocol = RTPROT_BOOT, .rtm_scope = RT_SCOPE_UNIVERSE, .rtm_type = RTN_UNICAST};
	start(&r, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, &rt, sizeof rt);
	add_attr(&r, RTA_GATEWAY, &g, sizeof g);
	add_u32(&r, RTA_OIF, index);
	return talk(&r);
}

/* Creates the bridge; 0 when it exists already. */
static int create_bridge(const char *name)
{
	struct req r;
	struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC};
	start(&r, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, &ifi, sizeof ifi);
	add_str(&r, IFLA_IFNAME, name);
	struct rtattr *info = nest(&r, IFLA_LINKINFO);
	add_str(&r, IFLA_INFO_KIND, "bridge");
	end_nest(&r, info);
	int err = talk(&r);
	if (err == -EEXIST)
		return 0;
	must(err, "create bridge", name);
	return 1;
}

/* A veth pair: "veth%d" on the bridge, up; its peer IFNAME created in the namespace of netns_fd. */
static void create_veth(unsigned bridge, const char *ifname, int netns_fd)
{
	struct req r;
	struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC, .ifi_flags = IFF_UP, .ifi_change = IFF_UP};
	start(&r, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, &ifi, sizeof ifi);
	add_str(&r, IFLA_IFNAME, "veth%d");
	add_u32(&r, IFLA_MASTER, bridge);
	struct rtattr *info = nest(&r, IFLA_LINKINFO);
	add_str(&r, IFLA_INFO_KIND, "veth");
	struct rtattr *data = nest(&r, IFLA_INFO_DATA);
	struct rtattr *peer = nest(&r, VETH_INFO_PEER);
	struct ifinfomsg pi = {.ifi_family = AF_UNSPEC};
	if (NLMSG_ALIGN(r.h.nlmsg_len) + sizeof pi > sizeof r)
		die("netlink message too long");
	memcpy(tail(&r), &pi, sizeof pi);
	r.h.nlmsg_len = (unsigned)(NLMSG_ALIGN(r.h.nlmsg_len) + sizeof pi);
	add_str(&r, IFLA_IFNAME, ifname);
	add_u32(&r, IFLA_NET_NS_FD, (unsigned)netns_fd);
	end_nest(&r, peer);
	end_nest(&r, data);
	end_nest(&r, info);
	must(talk(&r), "create veth for", ifname);
}

static int delete_link(unsigned index)
{
	struct req r;
	struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC, .ifi_index = (int)index};
	start(&r, RTM_DELLINK, 0, &ifi, sizeof ifi);
	return talk(&r);
}

/* ---- files and processes ---- */

static void path_of(char *dst, const char *a, const char *b, const char *c)
{
	if ((size_t)snprintf(dst, PATH_MAX, "%s%s%s", a, b, c) >= PATH_MAX)
		die("path too long: %s%s%s", a, b, c);
}

static void write_text(const char *path, const char *text, int flags)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | flags, 0644);
	if (fd < 0)
		die("open %s: %s", path, strerror(errno));
	size_t len = strlen(text);
	if (write(fd, text, len) != (ssize_t)len || close(fd) < 0)
		die("write %s: %s", path, strerror(errno));
}

/* Runs argv with `input` on its stdin; dies unless it exits 0. */
static void run(char *const argv[], const char *input)
{
	int in[2];
	if (pipe2(in, O_CLOEXEC) < 0)
		die("pipe: %s", strerror(errno));
	pid_t pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		if (dup2(in[0], STDIN_FILENO) < 0)
			_exit(127);
		execvp(argv[0], argv);
		warnx("exec %s: %s", argv[0], strerror(errno));
		_exit(127);
	}
	if (close(in[0]) < 0)
		die("close: %s", strerror(errno));
	size_t len = input ? strlen(input) : 0;
	if (len && write(in[1], input, len) != (ssize_t)len)
		warnx("write to %s: %s", argv[0], strerror(errno));
	if (close(in[1]) < 0)
		die("close: %s", strerror(errno));
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			die("waitpid: %s", strerror(errno));
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		die("%s failed (status %d)", argv[0], status);
}

static void firewall(const struct net *n)
{
	char rules[2048];
	int len;
	if (n->internal)
		len = snprintf(rules, sizeof rules,
			       "*filter\n-A FORWARD -i %s -o %s -j ACCEPT\n-A FORWARD -i %s -j DROP\n-A FORWARD -o %s -j DROP\nCOMMIT\n",
			       n->bridge, n->bridge, n->bridge, n->bridge);
	else
		len = snprintf(rules, sizeof rules,
			       "*nat\n-A POSTROUTING -s %s -o tap0 -j MASQUERADE\nCOMMIT\n"
			       "*filter\n-A FORWARD -i %s -o %s -j ACCEPT\n-A FORWARD -i %s -o ctrts+ -j DROP\nCOMMIT\n",
			       n->subnet, n->bridge, n->bridge, n->bridge);
	if (len < 0 || (size_t)len >= sizeof rules)
		die("firewall rules too long");
	char *argv[] = {"iptables-restore", "--noflush", NULL};
	run(argv, rules);
}

static pid_t aardvark_pid(void)
{
	pid_t pid = aardvark_read_pid(config_dir);
	return pid > 0 && kill(pid, 0) == 0 ? pid : 0;
}

/* aardvark-dns reads its files again, or starts (its first process exits once it serves). */
static void reload_dns(void)
{
	pid_t pid = aardvark_pid();
	if (pid > 0) {
		if (kill(pid, SIGHUP) < 0)
			die("SIGHUP aardvark-dns: %s", strerror(errno));
		return;
	}
	char dir[PATH_MAX];
	path_of(dir, config_dir, "/aardvark-dns", "");
	char *argv[] = {(char *)aardvark, "--config", dir, "-p", "53", "run", NULL};
	run(argv, NULL);
}

/* Removes the lines of container_id from the network's aardvark-dns file. */
static void drop_lines(const char *path)
{
	const char *failed = "";
	if (aardvark_drop_lines(path, container_id, &failed) < 0)
		die("%s %s: %s", failed, path, strerror(errno));
}

static int bridge_exists(const char *name)
{
	return if_nametoindex(name) > 0;
}

/* "eth+": the first ethN the container's namespace does not have yet (network connect). */
static const char *free_ifname(struct net *n, int netns_fd, int host_netns_fd)
{
	if (setns(netns_fd, CLONE_NEWNET) < 0)
		die("setns %s: %s", netns_path, strerror(errno));
	for (int i = 0; i < 100; i++) {
		snprintf(n->chosen, sizeof n->chosen, "eth%d", i);
		if (if_nametoindex(n->chosen) == 0)
			break;
	}
	if (setns(host_netns_fd, CLONE_NEWNET) < 0)
		die("setns back: %s", strerror(errno));
	return n->chosen;
}

/* The interface holding IPv4 address ip in the current namespace, or 0. */
static unsigned index_by_address(const char *ip)
{
	struct in_addr want;
	if (inet_pton(AF_INET, ip, &want) != 1)
		die("not an IPv4 address: %s", ip);
	struct ifaddrs *list;
	if (getifaddrs(&list) < 0)
		die("getifaddrs: %s", strerror(errno));
	unsigned found = 0;
	for (struct ifaddrs *a = list; a && !found; a = a->ifa_next)
		if (a->ifa_addr && a->ifa_addr->sa_family == AF_INET &&
		    ((struct sockaddr_in *)a->ifa_addr)->sin_addr.s_addr == want.s_addr)
			found = if_nametoindex(a->ifa_name);
	freeifaddrs(list);
	return found;
}

static void attach(struct net *n, int netns_fd, int host_netns_fd)
{
	char *slash = strchr(n->subnet, '/');
	int prefix = slash ? atoi(slash + 1) : 24;
	if (prefix < 1 || prefix > 30)
		die("bad subnet %s", n->subnet);
	int fresh = 0;
	if (!bridge_exists(n->bridge)) {
		/*
		 * A bridge that holds this gateway already belongs to a network that was removed (the
		 * records refuse overlapping subnets): it goes, or the routes would conflict.
		 */
		unsigned stale = index_by_address(n->gateway);
		if (stale > 0)
			must(delete_link(stale), "delete the bridge of a removed network holding", n->gateway);
	}
	if (create_bridge(n->bridge)) {
		fresh = 1;
		unsigned br = index_of(n->bridge);
		must(add_address(br, n->gateway, prefix), "address of", n->bridge);
		must(link_up(br), "up", n->bridge);
		firewall(n);
	}
	if (strcmp(n->ifname, "eth+") == 0)
		n->ifname = free_ifname(n, netns_fd, host_netns_fd);
	create_veth(index_of(n->bridge), n->ifname, netns_fd);

	/* the container's side */
	if (setns(netns_fd, CLONE_NEWNET) < 0)
		die("setns %s: %s", netns_path, strerror(errno));
	nl_open();
	must(link_up(1), "up", "lo");
	unsigned eth = index_of(n->ifname);
	must(add_address(eth, n->ip, prefix), "address of", n->ifname);
	must(link_up(eth), "up", n->ifname);
	if (!n->internal) {
		int err = default_route(eth, n->gateway);
		if (err != -EEXIST)
			must(err, "default route via", n->gateway);
	}
	if (setns(host_netns_fd, CLONE_NEWNET) < 0)
		die("setns back: %s", strerror(errno));
	nl_open();

	/* its names */
	char path[PATH_MAX], line[4096];
	path_of(path, config_dir, "/aardvark-dns/", n->name);
	if (fresh || access(path, F_OK) < 0) {
		/* a new bridge: no container of a network of this name is attached in this holder */
		snprintf(line, sizeof line, "%s\n", n->gateway);
		write_text(path, line, O_TRUNC);
	} else {
		drop_lines(path); /* a container started again */
	}
	if ((size_t)snprintf(line, sizeof line, "%s %s  %s\n", container_id, n->ip, n->names) >= sizeof line)
		die("too many names");
	write_text(path, line, O_APPEND);
}

static void detach_one(const struct net *n, int netns_fd, int host_netns_fd)
{
	if (setns(netns_fd, CLONE_NEWNET) < 0)
		die("setns %s: %s", netns_path, strerror(errno));
	nl_open();
	unsigned eth = n->ip ? index_by_address(n->ip) : if_nametoindex(n->ifname);
	if (eth > 0) {
		int err = delete_link(eth);
		if (err != -ENODEV)
			must(err, "delete", n->ifname);
	}
	if (setns(host_netns_fd, CLONE_NEWNET) < 0)
		die("setns back: %s", strerror(errno));
	char path[PATH_MAX];
	path_of(path, config_dir, "/aardvark-dns/", n->name);
	drop_lines(path);
}

int main(int argc, char **argv)
{
	struct net *cur = NULL;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "--detach") == 0) {
			detach = 1;
			continue;
		}
		if (strcmp(a, "--internal") == 0 && cur) {
			cur->internal = 1;
			continue;
		}
		if (!v)
			die("%s: a value is missing", a);
		i++;
		if (strcmp(a, "--config-dir") == 0)
			config_dir = v;
		else if (strcmp(a, "--aardvark") == 0)
			aardvark = v;
		else if (strcmp(a, "--netns") == 0)
			netns_path = v;
		else if (strcmp(a, "--id") == 0)
			container_id = v;
		else if (strcmp(a, "--net") == 0) {
			if (nnets == MAX_NETS)
				die("too many networks");
			cur = &nets[nnets++];
			cur->name = v;
		} else if (!cur)
			die("%s before --net", a);
		else if (strcmp(a, "--bridge") == 0)
			cur->bridge = v;
		else if (strcmp(a, "--subnet") == 0)
			cur->subnet = v;
		else if (strcmp(a, "--gateway") == 0)
			cur->gateway = v;
		else if (strcmp(a, "--ip") == 0)
			cur->ip = v;
		else if (strcmp(a, "--ifname") == 0)
			cur->ifname = v;
		else if (strcmp(a, "--names") == 0)
			cur->names = v;
		else
			die("unknown option %s", a);
	}
	if (!config_dir || !aardvark || !netns_path || !container_id || nnets == 0)
		die("usage: ctr-ts-netattach --config-dir DIR --aardvark PATH --netns PATH --id ID [--detach] --net NAME ...");
	if (strchr(container_id, ' ') || strchr(container_id, '\n'))
		die("bad container id");
	for (int i = 0; i < nnets; i++) {
		const struct net *n = &nets[i];
		if ((!n->ifname && !(detach && n->ip)) || (n->ifname && strlen(n->ifname) >= IFNAMSIZ) || strchr(n->name, '/'))
			die("network %s: bad interface name or network name", n->name);
		if (!detach && (!n->bridge || !n->subnet || !n->gateway || !n->ip || !n->names))
			die("network %s: --bridge, --subnet, --gateway, --ip and --names are required", n->name);
	}

	int netns_fd = open(netns_path, O_RDONLY | O_CLOEXEC);
	if (netns_fd < 0)
		die("open %s: %s", netns_path, strerror(errno));
	int host_netns_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (host_netns_fd < 0)
		die("open /proc/self/ns/net: %s", strerror(errno));

	char path[PATH_MAX];
	path_of(path, config_dir, "/aardvark-dns", "");
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		die("mkdir %s: %s", path, strerror(errno));
	path_of(path, config_dir, "/aardvark.lock", "");
	int lock = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (lock < 0 || flock(lock, LOCK_EX) < 0)
		die("lock %s: %s", path, strerror(errno));
	if (!detach)
		write_text("/proc/sys/net/ipv4/ip_forward", "1", O_TRUNC);

	nl_open();
	for (int i = 0; i < nnets; i++) {
		if (detach)
			detach_one(&nets[i], netns_fd, host_netns_fd);
		else
			attach(&nets[i], netns_fd, host_netns_fd);
	}
	if (!detach)
		reload_dns();
	else {
		pid_t dns = aardvark_pid();
		if (dns > 0 && kill(dns, SIGHUP) < 0)
			warnx("SIGHUP aardvark-dns: %s", strerror(errno));
	}
	if (close(lock) < 0)
		die("close lock: %s", strerror(errno));
	return 0;
}
