/*
 * auth.h - bearer token checks for the SDK and admin doors, and the
 * identity (a name and a role) behind an admin credential.
 *
 * The SDK key and the admin credentials are separate: an SDK key, which
 * ships inside applications, never opens an admin endpoint. An admin
 * credential is the bootstrap admin token (CANARY_ADMIN_TOKEN), or a named
 * token made with POST /v1/admin/tokens, found in the store by its id
 * and checked against its stored hash (http/credential.h).
 */
#ifndef CS_AUTH_H
#define CS_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#include "store/storage.h"

/*
 * What a credential may do. Each role may do what the ones before it may:
 * a scraper reads /metrics and nothing else (only the --metrics-token is
 * one; no named token has this role), a reader reads (flags, stats,
 * rollouts, the audit log, metrics), an operator also acts on rollouts
 * (pause, resume, promote, roll back) and kill switches, an admin also
 * creates and deletes flags, starts rollouts and manages tokens and
 * webhooks. api/routes.c says what each endpoint needs; the dashboard
 * greys its buttons by the role GET /v1/admin/whoami reports.
 */
typedef enum cs_role {
	CS_ROLE_NONE = 0,
	CS_ROLE_SCRAPER,
	CS_ROLE_READER,
	CS_ROLE_OPERATOR,
	CS_ROLE_ADMIN
} cs_role;

/* Find a named token by its id (cs_store_token_find()'s shape). */
typedef int (*cs_token_lookup_fn)(void *ctx, const char *id, cs_token *out);

typedef struct cs_auth {
	const char *const *sdk_keys; /* borrowed from the options */
	size_t sdk_key_count;
	const char *admin_token;     /* borrowed; NULL with insecure_dev */
	const char *metrics_token;   /* borrowed; NULL: none */
	bool insecure_dev;           /* accept anything */
	cs_token_lookup_fn lookup;   /* named tokens (NULL: none) */
	void *lookup_ctx;
} cs_auth;

/* Who made a request: the credential's name, never the credential. */
typedef struct cs_identity {
	char name[CS_TOKEN_NAME_MAX + 1];
	cs_role role;
} cs_identity;

/* "scraper", "reader", "operator", "admin" ("none" for CS_ROLE_NONE). */
const char *cs_role_name(cs_role role);

/* The role of a named token called `name` ("reader", "operator",
 * "admin"), CS_ROLE_NONE when none is: "scraper" is not one. */
cs_role cs_role_parse(const char *name);

/* Equal in time that depends only on the lengths, not the contents. */
bool cs_ct_equal(const char *a, size_t alen, const char *b, size_t blen);

/* `header` is the raw Authorization value (may be NULL). */
bool cs_auth_sdk(const cs_auth *auth, const char *header);
/* The same, telling which SDK key it is (its index; 0 with insecure_dev),
 * or -1: budgets are kept per key (budget.h). */
int cs_auth_sdk_key(const cs_auth *auth, const char *header);
bool cs_auth_admin(const cs_auth *auth, const char *header);

/*
 * The identity behind a credential that is not an SDK key: false (and
 * *out the nobody, CS_ROLE_NONE) when it opens nothing. This is the one
 * place a credential becomes a name and a role: the bootstrap admin token
 * is {"admin", CS_ROLE_ADMIN}, the metrics token {"metrics",
 * CS_ROLE_SCRAPER}, a named token its name and stored role,
 * --insecure-dev makes everyone {"insecure-dev", CS_ROLE_ADMIN}. The
 * admin API wants at least a reader, /metrics at least a scraper.
 */
bool cs_auth_identify(const cs_auth *auth, const char *header,
	cs_identity *out);

#endif
