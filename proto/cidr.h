/*
 * cidr.h - IPv4 and IPv6 addresses and networks, for IN_CIDR and the
 * remoteAddress strategy.
 *
 * Every address is held as 16 bytes, IPv4 as its IPv4-mapped IPv6 form
 * (::ffff:a.b.c.d), so one containment test serves both families and a
 * dual-stack socket's "::ffff:10.0.0.7" matches "10.0.0.0/8". IPv4 text is
 * strict dotted-quad (no leading zeros, which some parsers read as octal);
 * IPv6 text is RFC 4291 (one "::", an optional dotted-quad tail), without
 * zone ids or brackets.
 */
#ifndef CANARY_PROTO_CIDR_H
#define CANARY_PROTO_CIDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct canary__ipaddr {
	uint8_t b[16];
} canary__ipaddr;

typedef struct canary__cidr {
	canary__ipaddr net;  /* host bits cleared */
	uint8_t prefix;      /* 0..128, over the 16-byte form */
} canary__cidr;

bool canary__ipaddr_parse(const char *s, size_t len, canary__ipaddr *out);

/* "addr/prefix" (0..32 for IPv4, 0..128 for IPv6) or a bare address (a
 * single host). Host bits set in the address are ignored, as most tools
 * do ("10.1.2.3/8" is 10.0.0.0/8). */
bool canary__cidr_parse(const char *s, size_t len, canary__cidr *out);

bool canary__cidr_contains(const canary__cidr *net, const canary__ipaddr *ip);

#endif
