/*
 * webhook_target.h - where a webhook may point. An admin's webhook makes
 * the server send requests: without a rule, a URL naming the server's
 * own host (loopback) would reach services that listen only there, and
 * one naming a link-local address the cloud's metadata service. So:
 *
 * - loopback (127.0.0.0/8, ::1, "localhost" and names under it) only
 *   with --webhook-allow-loopback (a receiver on the same host, tests);
 * - the unspecified address (0.0.0.0/8, ::) and link-local addresses
 *   (169.254.0.0/16, fe80::/10) never;
 * - the same for IPv4-mapped IPv6 (::ffff:127.0.0.1).
 *
 * Checked twice: on the URL's host when the webhook is registered (a
 * literal address or a localhost name: the admin hears at once), and on
 * every address the sender connects to (a name that resolves to a
 * refused address, now or later, numeric spellings like 2130706433).
 * Private networks (10/8, 172.16/12, 192.168/16, fc00::/7) are allowed:
 * that is where a team's chat bot or deploy dashboard usually is.
 */
#ifndef CS_WEBHOOK_TARGET_H
#define CS_WEBHOOK_TARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

/* NULL when the sender may connect to `sa`; otherwise why not ("a
 * loopback address", "a link-local address", ...). */
const char *cs_webhook_addr_refused(const struct sockaddr *sa,
	bool allow_loopback);

/* The same for the host of an http:// or https:// URL when it is a
 * literal address or a localhost name (a DNS name is checked when the
 * sender connects): NULL when allowed. */
const char *cs_webhook_url_refused(const char *url, bool allow_loopback);

#endif
