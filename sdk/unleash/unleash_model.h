/*
 * unleash_model.h - the compiled form of an Unleash features document,
 * shared by the compiler (unleash_parse.c) and the evaluator
 * (unleash_eval.c, unleash_bucket.c). Everything lives in the model's
 * arena.
 */
#ifndef CANARY_SDK_UNLEASH_MODEL_H
#define CANARY_SDK_UNLEASH_MODEL_H

#include "arena.h"
#include "cidr.h"
#include "murmur3.h"
#include "rules.h"
#include "unleash.h"

/* Unleash's seeds: strategies hash with 0, variants with this one. */
#define CANARY__UNLEASH_VARIANT_SEED 86028157u

typedef enum canary__unleash_kind {
	CANARY__UL_UNKNOWN = 0,      /* custom or unknown: never enabled */
	CANARY__UL_DEFAULT,
	CANARY__UL_USER_WITH_ID,
	CANARY__UL_GRADUAL_USER_ID,
	CANARY__UL_GRADUAL_SESSION_ID,
	CANARY__UL_GRADUAL_RANDOM,
	CANARY__UL_FLEXIBLE,
	CANARY__UL_REMOTE_ADDRESS,
	CANARY__UL_HOSTNAME
} canary__unleash_kind;

typedef enum canary__unleash_stick {
	CANARY__UL_STICK_DEFAULT = 0,  /* the first set of a fixed list */
	CANARY__UL_STICK_RANDOM,
	CANARY__UL_STICK_FIELD         /* a named context field */
} canary__unleash_stick;

typedef struct canary__unleash_stickiness {
	uint8_t mode;                  /* canary__unleash_stick */
	canary__field field;           /* CANARY__UL_STICK_FIELD */
} canary__unleash_stickiness;

typedef struct canary__unleash_override {
	canary__field field;
	canary__str *values;           /* sorted */
	uint32_t count;
} canary__unleash_override;

typedef struct canary__unleash_vdef {
	const char *name;
	uint32_t weight;
	const char *payload_type;      /* NULL: no payload */
	const char *payload_value;
	canary__unleash_override *overrides;
	uint32_t override_count;
} canary__unleash_vdef;

typedef struct canary__unleash_variants {
	canary__unleash_vdef *items;
	uint32_t count;
	uint32_t total_weight;
	canary__unleash_stickiness stickiness;
	canary__murmur3 prefix;        /* variant seed, after "<groupId>:" */
} canary__unleash_variants;

typedef struct canary__unleash_strategy {
	uint8_t kind;                  /* canary__unleash_kind */
	uint8_t percent;               /* 0..100 */
	bool host_match;               /* applicationHostname, decided at load */
	canary__unleash_stickiness stickiness; /* flexibleRollout */
	canary__murmur3 prefix;        /* seed 0, after "<groupId>:" */
	canary__rules rules;
	canary__str *user_ids;         /* userWithId, sorted */
	uint32_t user_id_count;
	canary__cidr *addresses;       /* remoteAddress */
	uint32_t address_count;
	canary__unleash_variants variants;
} canary__unleash_strategy;

typedef struct canary__unleash_dependency {
	const char *name;              /* the parent feature's name */
	int32_t feature;               /* its index in the model, -1: missing */
	bool enabled;                  /* the parent must be (or not be) on */
	canary__str *variants;         /* sorted; any of them */
	uint32_t variant_count;
} canary__unleash_dependency;

typedef struct canary__unleash_feature {
	const char *name;
	uint32_t name_len;
	uint32_t name_hash;
	bool enabled;
	canary__unleash_strategy *strategies;
	uint32_t strategy_count;
	canary__unleash_variants variants;
	canary__unleash_dependency *deps;
	uint32_t dep_count;
} canary__unleash_feature;

struct canary__unleash_model {
	canary__arena arena;
	canary__unleash_feature *features;
	uint32_t count;
	uint32_t *table;               /* open addressing: feature index + 1 */
	uint32_t mask;
	canary__segments segments;
	canary__field_slots slots;     /* attribute names the rules use */
	canary__unleash_random_fn random_fn;
	void *random_ctx;
	uint32_t downgraded;
	char note[CANARY__RULE_NOTE];
};

#define CANARY__UL_NAME_SEED 0x9747b28cu
#define CANARY__UNLEASH_MAX_FEATURES 100000
#define CANARY__UNLEASH_MAX_NAME 1024      /* feature and variant names */
#define CANARY__UNLEASH_MAX_VARIANTS 1000  /* per list */
#define CANARY__UNLEASH_MAX_WEIGHT 1000000 /* per variant */
#define CANARY__UNLEASH_MAX_BYTES (64u * 1024u * 1024u)

const canary__unleash_feature *canary__unleash_find(
	const canary__unleash_model *model, const char *name, size_t len);

/* ---- unleash_bucket.c: hashing, stickiness, randomness ---------------- */

/* murmur3("<groupId>:<id>", seed) % normalizer + 1, from the midstate. */
uint32_t canary__unleash_normalized(const canary__murmur3 *prefix,
	const char *id, uint32_t normalizer);

/* A number in 1..n from the model's random source. */
uint32_t canary__unleash_random(const canary__unleash_model *model,
	uint32_t n);

/* The value a stickiness setting picks from the context, or NULL when
 * there is none: always for "random", for a named field that is not set,
 * and for "default" when none of userId, sessionId (and, with
 * `variant_order`, remoteAddress, as variants use) is set. What NULL
 * means is the caller's: random, or "not enabled" for a named field of a
 * flexibleRollout. */
const char *canary__unleash_stick_value(const canary__unleash_stickiness *s,
	const canary__context *ctx, bool variant_order);

/* Choose from a variant list; NULL when it is empty or weighs nothing. */
const canary__unleash_vdef *canary__unleash_choose(
	const canary__unleash_model *model, const canary__unleash_variants *vs,
	const canary__context *ctx);

#endif
