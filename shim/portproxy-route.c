/*
 * rtnetlink requests for portproxy-route.h: one RTM_NEWROUTE, one RTM_NEWRULE per port, each
 * acknowledged by the kernel before the next is sent.
 */
#define _GNU_SOURCE
#include "portproxy-route.h"

#include <errno.h>
#include <linux/fib_rules.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct request {
	struct nlmsghdr nh;
	union {
		struct rtmsg rt;
		struct fib_rule_hdr rule;
	} u;
	char attrs[128];
};

static void add_attr(struct request *req, unsigned short type, const void *data, size_t len)
{
	struct rtattr *rta = (struct rtattr *)((char *)req + NLMSG_ALIGN(req->nh.nlmsg_len));
	rta->rta_type = type;
	rta->rta_len = (unsigned short)RTA_LENGTH(len);
	memcpy(RTA_DATA(rta), data, len);
	req->nh.nlmsg_len = NLMSG_ALIGN(req->nh.nlmsg_len) + RTA_ALIGN(rta->rta_len);
}

static void add_u32(struct request *req, unsigned short type, uint32_t v)
{
	add_attr(req, type, &v, sizeof v);
}

/* Sends one request and waits for its acknowledgement; EEXIST counts as done. */
static int transact(int fd, struct request *req, const char *what, char *err, size_t errlen)
{
	static uint32_t seq;
	req->nh.nlmsg_seq = ++seq;
	struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
	if (sendto(fd, req, req->nh.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof kernel) < 0) {
		snprintf(err, errlen, "%s: send: %s", what, strerror(errno));
		return -1;
	}
	char buf[4096];
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof buf, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			snprintf(err, errlen, "%s: recv: %s", what, strerror(errno));
			return -1;
		}
		for (struct nlmsghdr *nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, (size_t)n); nh = NLMSG_NEXT(nh, n)) {
			if (nh->nlmsg_seq != req->nh.nlmsg_seq || nh->nlmsg_type != NLMSG_ERROR)
				continue;
			struct nlmsgerr *e = NLMSG_DATA(nh);
			if (e->error == 0 || e->error == -EEXIST)
				return 0;
			snprintf(err, errlen, "%s: %s", what, strerror(-e->error));
			return -1;
		}
	}
}

static void start(struct request *req, unsigned short type, size_t body)
{
	memset(req, 0, sizeof *req);
	req->nh.nlmsg_len = (uint32_t)NLMSG_LENGTH(body);
	req->nh.nlmsg_type = type;
	req->nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
}

int route_replies_locally(uint32_t container_ip, const struct route_port *ports, int nports, char *err, size_t errlen)
{
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0) {
		snprintf(err, errlen, "netlink socket: %s", strerror(errno));
		return -1;
	}
	unsigned lo = if_nametoindex("lo");
	if (lo == 0) {
		snprintf(err, errlen, "no loopback interface: %s", strerror(errno));
		close(fd);
		return -1;
	}
	struct request req;
	start(&req, RTM_NEWROUTE, sizeof req.u.rt);
	req.u.rt.rtm_family = AF_INET;
	req.u.rt.rtm_table = RT_TABLE_UNSPEC;
	req.u.rt.rtm_protocol = RTPROT_STATIC;
	req.u.rt.rtm_scope = RT_SCOPE_HOST;
	req.u.rt.rtm_type = RTN_LOCAL;
	add_u32(&req, RTA_TABLE, PROXY_ROUTE_TABLE);
	add_u32(&req, RTA_OIF, lo);
	add_attr(&req, RTA_PREFSRC, &container_ip, sizeof container_ip);
	int rc = transact(fd, &req, "local route", err, errlen);

	for (int i = 0; rc == 0 && i < nports; i++) {
		start(&req, RTM_NEWRULE, sizeof req.u.rule);
		req.u.rule.family = AF_INET;
		req.u.rule.action = FR_ACT_TO_TBL;
		add_u32(&req, FRA_TABLE, PROXY_ROUTE_TABLE);
		add_u32(&req, FRA_PRIORITY, PROXY_RULE_PRIORITY);
		add_attr(&req, FRA_IIFNAME, "lo", 3);
		uint8_t proto = (uint8_t)ports[i].ipproto;
		add_attr(&req, FRA_IP_PROTO, &proto, sizeof proto);
		struct fib_rule_port_range range = {(uint16_t)ports[i].port, (uint16_t)ports[i].port};
		add_attr(&req, FRA_SPORT_RANGE, &range, sizeof range);
		rc = transact(fd, &req, "routing rule", err, errlen);
	}
	if (close(fd) < 0 && rc == 0) {
		snprintf(err, errlen, "close netlink socket: %s", strerror(errno));
		rc = -1;
	}
	return rc;
}
