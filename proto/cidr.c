/*
 * cidr.c - address and prefix parsing by hand: inet_pton is not on every
 * embedded C library, and its IPv4 leniency differs between them.
 */
#include "cidr.h"

#include <string.h>

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* A decimal 0..max without leading zeros; returns the end or NULL. */
static const char *small_number(const char *p, const char *end, unsigned max,
	unsigned *out)
{
	const char *start = p;
	unsigned v = 0;

	while (p < end && *p >= '0' && *p <= '9' && p - start < 4) {
		v = v * 10 + (unsigned)(*p - '0');
		p++;
	}
	if (p == start || v > max || (*start == '0' && p - start > 1) ||
	    (p < end && *p >= '0' && *p <= '9'))
		return NULL;
	*out = v;
	return p;
}

static bool parse_v4(const char *p, const char *end, uint8_t out[4])
{
	int i;

	for (i = 0; i < 4; i++) {
		unsigned v;

		p = small_number(p, end, 255, &v);
		if (!p)
			return false;
		out[i] = (uint8_t)v;
		if (i < 3) {
			if (p == end || *p != '.')
				return false;
			p++;
		}
	}
	return p == end;
}

/* Groups of 1..4 hex digits; "::" once; a dotted-quad may end it. */
static bool parse_v6(const char *p, const char *end, uint8_t out[16])
{
	uint16_t groups[8];
	int n = 0, gap = -1, i;

	if (end - p >= 2 && p[0] == ':' && p[1] == ':') {
		gap = 0;
		p += 2;
	} else if (p < end && *p == ':') {
		return false;
	}
	while (p < end) {
		const char *start = p;
		unsigned v = 0;

		while (p < end && hex_value(*p) >= 0 && p - start < 5)
			v = v * 16 + (unsigned)hex_value(*p++);
		if (p < end && *p == '.' && n <= 6) {
			uint8_t quad[4];

			if (!parse_v4(start, end, quad))
				return false;
			groups[n++] = (uint16_t)(quad[0] << 8 | quad[1]);
			groups[n++] = (uint16_t)(quad[2] << 8 | quad[3]);
			p = end;
			break;
		}
		if (p == start || p - start > 4 || n == 8)
			return false;
		groups[n++] = (uint16_t)v;
		if (p == end)
			break;
		if (*p != ':')
			return false;
		p++;
		if (p < end && *p == ':') {
			if (gap >= 0)
				return false;
			gap = n;
			p++;
		} else if (p == end) {
			return false;  /* a trailing single ':' */
		}
	}
	if ((gap < 0 && n != 8) || (gap >= 0 && n > 7))
		return false;
	memset(out, 0, 16);
	for (i = 0; i < n; i++) {
		int slot = gap >= 0 && i >= gap ? 8 - (n - i) : i;

		out[2 * slot] = (uint8_t)(groups[i] >> 8);
		out[2 * slot + 1] = (uint8_t)groups[i];
	}
	return true;
}

/* Returns 4 or 6 (the family written), or 0. */
static int parse_any(const char *s, size_t len, canary__ipaddr *out)
{
	const char *end = s + len;

	if (!s || len == 0)
		return 0;
	if (memchr(s, ':', len))
		return parse_v6(s, end, out->b) ? 6 : 0;
	memset(out->b, 0, 10);
	out->b[10] = 0xff;
	out->b[11] = 0xff;
	return parse_v4(s, end, out->b + 12) ? 4 : 0;
}

bool canary__ipaddr_parse(const char *s, size_t len, canary__ipaddr *out)
{
	return parse_any(s, len, out) != 0;
}

bool canary__cidr_parse(const char *s, size_t len, canary__cidr *out)
{
	const char *slash = s ? memchr(s, '/', len) : NULL;
	size_t addr_len = slash ? (size_t)(slash - s) : len;
	int family = parse_any(s, addr_len, &out->net);
	unsigned prefix, max = family == 4 ? 32 : 128;
	int i;

	if (!family)
		return false;
	if (!slash) {
		prefix = max;
	} else if (small_number(slash + 1, s + len, max, &prefix) != s + len) {
		return false;
	}
	out->prefix = (uint8_t)(family == 4 ? prefix + 96 : prefix);
	for (i = 0; i < 16; i++) {
		int keep = (int)out->prefix - 8 * i;

		if (keep <= 0)
			out->net.b[i] = 0;
		else if (keep < 8)
			out->net.b[i] &= (uint8_t)(0xff << (8 - keep));
	}
	return true;
}

bool canary__cidr_contains(const canary__cidr *net, const canary__ipaddr *ip)
{
	int full = net->prefix / 8, rest = net->prefix % 8;

	if (memcmp(net->net.b, ip->b, (size_t)full) != 0)
		return false;
	return rest == 0 ||
	       ((net->net.b[full] ^ ip->b[full]) & (uint8_t)(0xff << (8 - rest))) == 0;
}
