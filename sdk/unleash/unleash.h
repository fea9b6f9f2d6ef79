/*
 * unleash.h - an evaluator for Unleash's client API: the features document
 * of GET /api/client/features compiled into an immutable model, then
 * isEnabled and getVariant with Unleash's semantics, without allocation.
 *
 * Conformance: tests/unleash runs the Unleash client specification (npm
 * package @unleash/client-specification) against this module. What the
 * model keeps, how "random" works and what differs from Unleash's own
 * SDKs is in docs/unleash.md.
 *
 * Threading: compile on any thread; a compiled model is read-only, so any
 * number of threads may evaluate it at once. Evaluation never fails: a
 * missing feature is disabled.
 */
#ifndef CANARY_SDK_UNLEASH_H
#define CANARY_SDK_UNLEASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "canary/canary.h"
#include "context.h"
#include "parse_error.h"

struct cJSON;

typedef struct canary__unleash_model canary__unleash_model;

/* A uniform 32-bit random number (gradualRolloutRandom, "random"
 * stickiness, and variants when the context has no stickiness value). */
typedef uint32_t (*canary__unleash_random_fn)(void *ctx);

typedef struct canary__unleash_options {
	const char *hostname;  /* applicationHostname compares with it (case
	                          insensitive) while compiling; NULL: that
	                          strategy never matches. Not kept. */
	canary__unleash_random_fn random_fn; /* NULL: a per-thread xorshift
	                          generator seeded from the clock */
	void *random_ctx;
} canary__unleash_options;

/*
 * Compile a features document ({"version", "features", "segments"}).
 * Structure errors reject it with the JSON path ("features[3].strategies:
 * must be an array"); values the engine cannot use (unknown operators,
 * bad regexes, versions, numbers, unknown segments) make the constraint or
 * strategy never match and are counted (canary__unleash_downgraded()).
 * `alloc`: NULL = the C library's; copied. `opts` may be NULL.
 * On success *out owns the model (canary__unleash_free()).
 * @return CANARY_OK, CANARY_EPARSE (`e` says why), CANARY_ENOMEM.
 */
int canary__unleash_compile(const canary_allocator *alloc, const char *json,
	size_t len, const canary__unleash_options *opts,
	canary__unleash_model **out, canary__perror *e);

/* The same from a parsed document (borrowed for the call). */
int canary__unleash_compile_tree(const canary_allocator *alloc,
	const struct cJSON *root, const canary__unleash_options *opts,
	canary__unleash_model **out, canary__perror *e);

void canary__unleash_free(canary__unleash_model *model);

/* How many constraints/strategies were compiled to never match, and the
 * message about the first of them ("" when none). */
uint32_t canary__unleash_downgraded(const canary__unleash_model *model,
	const char **first);

uint32_t canary__unleash_feature_count(const canary__unleash_model *model);

/* The id of the model's attribute slots: a context is bound to it
 * (canary__context_bind_to()) before an evaluation with a cache. */
uint64_t canary__unleash_slots_id(const canary__unleash_model *model);

/* What decided an isEnabled. */
typedef enum canary__unleash_why {
	CANARY__UNLEASH_NOT_FOUND = 0,  /* no feature of that name */
	CANARY__UNLEASH_DISABLED,       /* the feature is switched off */
	CANARY__UNLEASH_DEPENDENCY,     /* a parent feature was not as required */
	CANARY__UNLEASH_NO_STRATEGY,    /* no strategies: on for everyone */
	CANARY__UNLEASH_STRATEGY,       /* strategies[strategy] matched */
	CANARY__UNLEASH_NO_MATCH        /* no strategy matched */
} canary__unleash_why;

typedef struct canary__unleash_result {
	bool enabled;
	canary__unleash_why why;
	int32_t strategy;    /* the matching strategy's index, else -1 */
	bool targeted;       /* a strategy's constraints and segments matched
	                        (or there are no strategies): false means the
	                        context is outside every strategy's targeting */
} canary__unleash_result;

/* isEnabled. `name` need not be NUL-terminated; `out` may be NULL. */
bool canary__unleash_enabled(const canary__unleash_model *model,
	const char *name, size_t name_len, const canary__context *ctx,
	canary__unleash_result *out);

/* getVariant's answer. Strings are borrowed from the model. */
typedef struct canary__unleash_variant {
	const char *name;           /* "disabled" when no variant applies */
	const char *payload_type;   /* NULL: no payload */
	const char *payload_value;
	bool enabled;               /* a variant was chosen */
	bool feature_enabled;       /* isEnabled of the feature */
} canary__unleash_variant;

void canary__unleash_get_variant(const canary__unleash_model *model,
	const char *name, size_t name_len, const canary__context *ctx,
	canary__unleash_variant *out);

/* isEnabled and getVariant of a feature of the model found already
 * (unleash_model.h; NULL: missing). The variant call also says how
 * isEnabled was decided (`r`). */
struct canary__unleash_feature;
bool canary__unleash_feature_enabled(const canary__unleash_model *model,
	const struct canary__unleash_feature *f, const canary__context *ctx,
	canary__unleash_result *out);
void canary__unleash_feature_variant(const canary__unleash_model *model,
	const struct canary__unleash_feature *f, const canary__context *ctx,
	canary__unleash_variant *out, canary__unleash_result *r);

/*
 * Apply a delta document ({"events": [...]}, Unleash's delta API) to
 * `state`, a features document tree ({"features": [], "segments": []},
 * both created when absent): hydration replaces everything;
 * feature-updated / feature-removed and segment-updated /
 * segment-removed replace or remove one entry. Unknown event types are
 * ignored. On error the state may be partly updated: apply deltas to a
 * copy when that matters.
 * @return CANARY_OK, CANARY_EPARSE (`e` names the event), CANARY_ENOMEM.
 */
int canary__unleash_delta_apply(struct cJSON *state,
	const struct cJSON *delta, canary__perror *e);

#endif
