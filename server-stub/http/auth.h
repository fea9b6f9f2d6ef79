/*
 * auth.h - bearer token checks for the SDK and admin doors.
 *
 * The SDK key and the admin token are separate lists: an SDK key, which
 * ships inside applications, never opens an admin endpoint.
 */
#ifndef CS_AUTH_H
#define CS_AUTH_H

#include <stdbool.h>
#include <stddef.h>

typedef struct cs_auth {
	const char *const *sdk_keys; /* borrowed from the options */
	size_t sdk_key_count;
	const char *admin_token;     /* borrowed; NULL with insecure_dev */
	bool insecure_dev;           /* accept anything */
} cs_auth;

/* Equal in time that depends only on the lengths, not the contents. */
bool cs_ct_equal(const char *a, size_t alen, const char *b, size_t blen);

/* `header` is the raw Authorization value (may be NULL). */
bool cs_auth_sdk(const cs_auth *auth, const char *header);
bool cs_auth_admin(const cs_auth *auth, const char *header);

#endif
