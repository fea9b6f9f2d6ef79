/*
 * auth.c - constant-time bearer token comparison.
 */
#include "http/auth.h"

#include <string.h>
#include <strings.h>

bool cs_ct_equal(const char *a, size_t alen, const char *b, size_t blen)
{
	volatile unsigned char diff = (unsigned char)(alen != blen);
	size_t i;

	/* Walk the expected secret's length whatever the input, so the time
	 * reveals neither a matching prefix nor where a mismatch is. */
	for (i = 0; i < blen; i++) {
		unsigned char x = i < alen ? (unsigned char)a[i] : 0;

		diff |= (unsigned char)(x ^ (unsigned char)b[i]);
	}
	return diff == 0;
}

/* The token of "Bearer <token>", or NULL. */
static const char *bearer(const char *header, size_t *len)
{
	if (!header || strncasecmp(header, "Bearer ", 7) != 0)
		return NULL;
	header += 7;
	while (*header == ' ')
		header++;
	*len = strlen(header);
	while (*len && header[*len - 1] == ' ')
		(*len)--;
	return *len ? header : NULL;
}

bool cs_auth_sdk(const cs_auth *auth, const char *header)
{
	const char *token;
	size_t len, i;
	bool ok = false;

	if (auth->insecure_dev)
		return true;
	token = bearer(header, &len);
	if (!token)
		return false;
	/* Compare against every key: no early exit to time. */
	for (i = 0; i < auth->sdk_key_count; i++)
		ok |= cs_ct_equal(token, len, auth->sdk_keys[i],
			strlen(auth->sdk_keys[i]));
	return ok;
}

bool cs_auth_admin(const cs_auth *auth, const char *header)
{
	const char *token;
	size_t len;

	if (auth->insecure_dev)
		return true;
	token = bearer(header, &len);
	if (!token || !auth->admin_token)
		return false;
	return cs_ct_equal(token, len, auth->admin_token,
		strlen(auth->admin_token));
}
