/*
 * Policy routing that lets the port proxy show containers the real client address.
 *
 * The proxy opens each connection inside the container's network namespace from a socket with
 * IP_TRANSPARENT bound to the client's address. The container's replies to that address would
 * follow its default route out of tap0; these rules send the replies of the published ports to
 * the local table instead, where they reach the proxy's socket:
 *
 *   ip route add local 0.0.0.0/0 dev lo src CONTAINER_IP table PROXY_ROUTE_TABLE
 *   ip rule add iif lo ipproto tcp|udp sport CTRPORT lookup PROXY_ROUTE_TABLE   (per publication)
 *
 * `iif lo` matches only packets the container itself sends; a source port equal to a published
 * container port identifies replies of the published service. The preferred source keeps the
 * replies of a service on an unbound UDP socket coming from the container's address (a local
 * route would otherwise pick the destination itself as the source).
 */
#ifndef CTR_TS_PORTPROXY_ROUTE_H
#define CTR_TS_PORTPROXY_ROUTE_H

#include <stddef.h>
#include <stdint.h>

#define PROXY_ROUTE_TABLE 7447 /* an arbitrary table id, unused by the container's own setup */
#define PROXY_RULE_PRIORITY 100

/* One published container port: its protocol (IPPROTO_TCP or IPPROTO_UDP) and number. */
struct route_port {
	int ipproto;
	int port;
};

/* Installs the route and one rule per port in the current network namespace; container_ip (network
 * byte order) must be configured already. Returns 0, or -1 with what failed in err. */
int route_replies_locally(uint32_t container_ip, const struct route_port *ports, int nports, char *err, size_t errlen);

#endif
