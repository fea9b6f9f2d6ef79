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
	const char *metrics_token;   /* borrowed; NULL: none */
	bool insecure_dev;           /* accept anything */
} cs_auth;

/*
 * What a credential may do. Each role may do what the ones before it may:
 * a scraper reads /metrics and nothing else, a reader reads (flags,
 * stats, rollouts, metrics), an operator also acts on rollouts and kill
 * switches, an admin also creates, deletes and starts. The dashboard
 * greys its buttons by the role GET /v1/admin/whoami reports.
 */
typedef enum cs_role {
	CS_ROLE_NONE = 0,
	CS_ROLE_SCRAPER,
	CS_ROLE_READER,
	CS_ROLE_OPERATOR,
	CS_ROLE_ADMIN
} cs_role;

/* Who made a request. `name` is a static string or borrowed from the
 * options; it names the credential, never contains it. */
typedef struct cs_identity {
	const char *name;
	cs_role role;
} cs_identity;

/* "scraper", "reader", "operator", "admin" ("none" for CS_ROLE_NONE). */
const char *cs_role_name(cs_role role);

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
 * CS_ROLE_SCRAPER}, --insecure-dev makes everyone {"insecure-dev",
 * CS_ROLE_ADMIN}. The admin API wants at least a reader.
 */
bool cs_auth_identify(const cs_auth *auth, const char *header,
	cs_identity *out);

#endif
