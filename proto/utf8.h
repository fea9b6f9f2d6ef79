/*
 * utf8.h - strict UTF-8 validation for every string that crosses a trust
 * boundary (flag keys, metric names, anything echoed into /metrics or a
 * config): one rule for the SDK and the server.
 */
#ifndef CANARY_PROTO_UTF8_H
#define CANARY_PROTO_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/*
 * True when s[0..len) is well-formed UTF-8 (RFC 3629): no overlong forms,
 * no surrogates (U+D800..U+DFFF), nothing above U+10FFFF, no truncated
 * sequence. NUL bytes are rejected too: a string that holds one would be
 * cut short by every C consumer after us.
 */
bool canary__utf8_valid(const char *s, size_t len);

#endif
