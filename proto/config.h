/*
 * config.h - the flag config model of protocol v1 (docs/protocol.md,
 * "Config"), its strict parser and validator, and its JSON encoder.
 * Shared by the SDK and canary-server so the two can never disagree on
 * what a valid config is.
 *
 * Strict on what is present (types, ranges, sizes, duplicates); what is
 * unknown is the reader's choice (json_read.h): the SDK ignores fields a
 * newer server may add, an admin request may refuse them.
 */
#ifndef CANARY_PROTO_CONFIG_H
#define CANARY_PROTO_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloc.h"
#include "canary/canary.h"
#include "config_target.h"
#include "json_read.h"
#include "strlist.h"

struct cJSON;

/* Limits that keep a hostile or broken config from exhausting memory. */
#define CANARY__MAX_KEY_LEN 256         /* flag key and salt, bytes */
#define CANARY__MAX_UNIT_LEN 1024       /* an allow/deny entry, bytes */
#define CANARY__MAX_VARIANT_LEN (CANARY_VARIANT_MAX - 1) /* bytes */
#define CANARY__MAX_STATE_LEN 64
#define CANARY__MAX_FLAGS 100000
#define CANARY__MAX_CONFIG_BYTES (64u * 1024u * 1024u)
#define CANARY__MAX_VERSION CANARY__JSON_MAX_INT /* exact in JSON */

typedef struct canary__flag {
	char *key;
	char *salt;            /* never NULL: defaults to the key */
	uint32_t rollout_bp;   /* 0..10000 */
	bool enabled;          /* false = kill switch: everyone stable */
	canary__strlist allow; /* always canary (unless also denied) */
	canary__strlist deny;  /* never canary; wins over allow */
	char *variant_stable;  /* never NULL: "" when absent */
	char *variant_canary;
	char *state;           /* never NULL: "" when absent */
	canary__target target; /* who is eligible, what is bucketed
	                          (config_target.h) */
	const void *unleash;   /* a config from an Unleash server: the compiled
	                          feature (sdk/unleash); NULL otherwise */
} canary__flag;

typedef struct canary__config {
	uint64_t version;
	canary__flag *flags;
	size_t count;
	/* NULL: every string is its own allocation (the JSON parser). Else
	 * all strings and list arrays live in this one block (config_blob.c);
	 * such a config is freed only whole, never flag by flag. */
	void *arena;
	canary__segtable segments; /* and the compiled targeting */
	uint64_t slots_id;         /* the id of the attribute slots its
	                              compiled rules use (context.h); 0: none */
	/* A config from another kind of service (an Unleash server): its
	 * compiled model, freed with the config by engine_free. Its flags'
	 * strings are the engine's (never freed flag by flag). */
	void *engine;
	void (*engine_free)(void *engine);
} canary__config;

/*
 * Parse and validate a whole /v1/flags document, as the SDK receives it
 * (unknown fields ignored). On success *out owns a config to free with
 * canary__config_free(); on failure *out is NULL, the return is
 * CANARY_EPARSE (or CANARY_ENOMEM) and `e` names the field, e.g.
 * "flags[3].rollout_bp" and "must be an integer 0..10000" (the document
 * as a whole is "config").
 */
int canary__config_parse(const canary__alloc *a, const char *json,
	size_t len, canary__config **out, canary__perror *e);

/* Validate the flag object `obj` at `path` ("flags[3]"; "" for a request
 * body) with the reader `r` (its options, its error). Its constraints are
 * compiled to be validated (strictly: a bad regex or version is an error
 * naming it) and then dropped; its segment names are checked as names
 * only: whether they exist is the caller's (a flag read alone has no
 * segment table). */
int canary__flag_from_json(const canary__alloc *a,
	const canary__json_reader *r, const struct cJSON *obj, const char *path,
	canary__flag *out);

void canary__flag_clear(const canary__alloc *a, canary__flag *flag);
void canary__config_free(const canary__alloc *a, canary__config *config);

/* Lookup by key in a parsed config (linear; for tools, not the hot path). */
const canary__flag *canary__config_find(const canary__config *config,
	const char *key);


/* Encode one flag / a whole config in the protocol v1 format. The result is
 * a cJSON tree owned by the caller (cJSON_Delete), or NULL on ENOMEM. */
struct cJSON *canary__flag_to_json(const canary__flag *flag);
struct cJSON *canary__config_to_json(const canary__config *config);

#endif
