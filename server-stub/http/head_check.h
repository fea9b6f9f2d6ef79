/*
 * head_check.h - what a request's head must be before anything looks at
 * what it asks for.
 *
 * - One unambiguous body framing: at most one Content-Length value, never
 *   Content-Length with Transfer-Encoding, no Transfer-Encoding but
 *   "chunked". A proxy in front of us and this server must never read a
 *   request's end in two places (request smuggling).
 * - No NUL inside a header or a query value: a C string would stop there,
 *   and a token followed by a NUL and anything must not compare as the
 *   token.
 * - A path that percent-decodes (each segment on its own, so that %2F is
 *   part of a flag key and not a separator) to UTF-8 without NUL or
 *   control characters.
 */
#ifndef CS_HEAD_CHECK_H
#define CS_HEAD_CHECK_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>

/* NULL when the head is acceptable, else why not (a static string).
 * `method` is the access handler's (libmicrohttpd's own pointer). */
const char *cs_head_problem(struct MHD_Connection *c, const char *method);

/* Does the request declare a body (chunked, or a Content-Length > 0)? */
bool cs_head_has_body(struct MHD_Connection *c);

/*
 * Percent-decode raw[0..len) into a fresh NUL-terminated string (*out, the
 * caller frees; *out_len its length). False, with *out NULL, when an
 * escape is malformed or the result is not UTF-8 or holds a NUL or a
 * control character (U+0000..U+001F, U+007F).
 */
bool cs_pct_decode(const char *raw, size_t len, char **out, size_t *out_len);

#endif
