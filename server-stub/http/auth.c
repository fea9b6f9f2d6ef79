/*
 * auth.c - constant-time bearer token comparison, and the identity (name
 * and role) a credential stands for.
 */
#include "http/auth.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "http/credential.h"

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

int cs_auth_sdk_key(const cs_auth *auth, const char *header)
{
	const char *token;
	size_t len, i;
	int which = -1;

	if (auth->insecure_dev)
		return 0;
	token = bearer(header, &len);
	if (!token)
		return -1;
	/* Compare against every key: no early exit to time. */
	for (i = 0; i < auth->sdk_key_count; i++)
		if (cs_ct_equal(token, len, auth->sdk_keys[i],
			    strlen(auth->sdk_keys[i])))
			which = (int)i;
	return which;
}

bool cs_auth_sdk(const cs_auth *auth, const char *header)
{
	return cs_auth_sdk_key(auth, header) >= 0;
}

const char *cs_role_name(cs_role role)
{
	switch (role) {
	case CS_ROLE_SCRAPER:
		return "scraper";
	case CS_ROLE_READER:
		return "reader";
	case CS_ROLE_OPERATOR:
		return "operator";
	case CS_ROLE_ADMIN:
		return "admin";
	case CS_ROLE_NONE:
		break;
	}
	return "none";
}

cs_role cs_role_parse(const char *name)
{
	cs_role r;

	for (r = CS_ROLE_READER; r <= CS_ROLE_ADMIN; r++)
		if (strcmp(name, cs_role_name(r)) == 0)
			return r;
	return CS_ROLE_NONE;
}

static bool named(const cs_auth *auth, const char *token, size_t len,
	cs_identity *out)
{
	char id[CS_TOKEN_ID_MAX + 1];
	cs_token t;

	if (!auth->lookup || !cs_credential_id(token, len, id) ||
	    auth->lookup(auth->lookup_ctx, id, &t) != CANARY_OK ||
	    !cs_credential_matches(token, len, t.hash))
		return false;
	out->role = cs_role_parse(t.role);
	snprintf(out->name, sizeof(out->name), "%s", t.name);
	return out->role != CS_ROLE_NONE;
}

bool cs_auth_identify(const cs_auth *auth, const char *header,
	cs_identity *out)
{
	const char *token;
	size_t len;

	out->name[0] = '\0';
	out->role = CS_ROLE_NONE;
	if (auth->insecure_dev) {
		snprintf(out->name, sizeof(out->name), "insecure-dev");
		out->role = CS_ROLE_ADMIN;
		return true;
	}
	token = bearer(header, &len);
	if (!token)
		return false;
	if (auth->admin_token && cs_ct_equal(token, len, auth->admin_token,
		    strlen(auth->admin_token))) {
		snprintf(out->name, sizeof(out->name), "admin");
		out->role = CS_ROLE_ADMIN;
		return true;
	}
	if (auth->metrics_token && cs_ct_equal(token, len,
		    auth->metrics_token, strlen(auth->metrics_token))) {
		snprintf(out->name, sizeof(out->name), "metrics");
		out->role = CS_ROLE_SCRAPER;
		return true;
	}
	if (named(auth, token, len, out))
		return true;
	out->name[0] = '\0';
	out->role = CS_ROLE_NONE;
	return false;
}

bool cs_auth_admin(const cs_auth *auth, const char *header)
{
	cs_identity who;

	return cs_auth_identify(auth, header, &who) &&
		who.role >= CS_ROLE_READER;
}
