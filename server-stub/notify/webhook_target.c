/*
 * webhook_target.c - see webhook_target.h.
 */
#include "notify/webhook_target.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define LOOPBACK "a loopback address (--webhook-allow-loopback allows it)"

static const char *v4_refused(uint32_t a, bool allow_loopback)
{
	if ((a >> 24) == 127)
		return allow_loopback ? NULL : LOOPBACK;
	if ((a >> 24) == 0)
		return "the unspecified address";
	if ((a >> 16) == 0xa9fe)
		return "a link-local address";
	return NULL;
}

static const char *v6_refused(const struct in6_addr *a, bool allow_loopback)
{
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0xff, 0xff };
	uint32_t v4;

	if (memcmp(a->s6_addr, mapped, sizeof(mapped)) == 0) {
		memcpy(&v4, a->s6_addr + 12, 4);
		return v4_refused(ntohl(v4), allow_loopback);
	}
	if (IN6_IS_ADDR_LOOPBACK(a))
		return allow_loopback ? NULL : LOOPBACK;
	if (IN6_IS_ADDR_UNSPECIFIED(a))
		return "the unspecified address";
	if (IN6_IS_ADDR_LINKLOCAL(a))
		return "a link-local address";
	return NULL;
}

const char *cs_webhook_addr_refused(const struct sockaddr *sa,
	bool allow_loopback)
{
	if (sa->sa_family == AF_INET)
		return v4_refused(ntohl(((const struct sockaddr_in *)
			(const void *)sa)->sin_addr.s_addr), allow_loopback);
	if (sa->sa_family == AF_INET6)
		return v6_refused(&((const struct sockaddr_in6 *)
			(const void *)sa)->sin6_addr, allow_loopback);
	return "not an internet address";
}

/* Is `host` (n bytes) "localhost" or a name under it? */
static bool localhost_name(const char *host, size_t n)
{
	static const char name[] = "localhost";
	size_t k = sizeof(name) - 1;

	while (n && host[n - 1] == '.')
		n--; /* "localhost." is the same name */
	return n >= k && strncasecmp(host + n - k, name, k) == 0 &&
		(n == k || host[n - k - 1] == '.');
}

const char *cs_webhook_url_refused(const char *url, bool allow_loopback)
{
	const char *auth = strstr(url, "://"), *host, *end;
	char text[INET6_ADDRSTRLEN + 1];
	struct in6_addr a6;
	struct in_addr a4;
	size_t n, i;

	if (!auth)
		return "not a URL";
	auth += 3;
	n = strcspn(auth, "/?#");
	/* user:password@ ends at the authority's last '@'. */
	host = auth;
	for (i = 0; i < n; i++)
		if (auth[i] == '@')
			host = auth + i + 1;
	end = auth + n;
	if (*host == '[') {
		const char *close = memchr(host, ']', (size_t)(end - host));

		if (!close || (size_t)(close - host - 1) >= sizeof(text))
			return "a malformed IPv6 address";
		snprintf(text, sizeof(text), "%.*s", (int)(close - host - 1),
			host + 1);
		if (inet_pton(AF_INET6, text, &a6) != 1)
			return "a malformed IPv6 address";
		return v6_refused(&a6, allow_loopback);
	}
	n = strcspn(host, ":/?#");
	if (host + n > end)
		n = (size_t)(end - host);
	if (localhost_name(host, n))
		return allow_loopback ? NULL : LOOPBACK;
	if (n >= sizeof(text))
		return NULL; /* a long name: checked when connecting */
	snprintf(text, sizeof(text), "%.*s", (int)n, host);
	if (inet_pton(AF_INET, text, &a4) == 1)
		return v4_refused(ntohl(a4.s_addr), allow_loopback);
	return NULL;
}
