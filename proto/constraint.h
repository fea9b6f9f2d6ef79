/*
 * constraint.h - one targeting constraint with Unleash's semantics:
 * "<contextName> <operator> <value(s)>", optionally inverted and case
 * insensitive. Compiled once from JSON; evaluated without allocation.
 *
 * Semantics (docs/unleash.md has the full table):
 * - A field that is absent (or empty) makes every operator false except
 *   NOT_IN, which is true; `inverted` then negates the result, so an
 *   inverted IN on a missing field is true.
 * - A context value the operator cannot read (not a number, date,
 *   semantic version or IP address) makes the operator false, and
 *   `inverted` negates that too.
 * - A constraint that could not be compiled (lenient mode: unknown
 *   operator, bad value) is false whatever `inverted` says: garbage never
 *   enables a feature.
 * - caseInsensitive applies to IN, NOT_IN, the STR_* operators and REGEX;
 *   it folds ASCII letters only.
 * - DATE_* on the field currentTime uses the clock when the context does
 *   not set it.
 */
#ifndef CANARY_PROTO_CONSTRAINT_H
#define CANARY_PROTO_CONSTRAINT_H

#include <stdbool.h>
#include <stdint.h>

#include "cidr.h"
#include "context.h"
#include "decimal.h"
#include "regex_pcre2.h"
#include "rule_build.h"
#include "semver.h"

struct cJSON;

typedef enum canary__op {
	CANARY__OP_NEVER = 0,   /* could not be compiled: always false */
	CANARY__OP_IN,
	CANARY__OP_NOT_IN,
	CANARY__OP_STR_CONTAINS,
	CANARY__OP_STR_STARTS_WITH,
	CANARY__OP_STR_ENDS_WITH,
	CANARY__OP_NUM_EQ,
	CANARY__OP_NUM_GT,
	CANARY__OP_NUM_GTE,
	CANARY__OP_NUM_LT,
	CANARY__OP_NUM_LTE,
	CANARY__OP_DATE_AFTER,
	CANARY__OP_DATE_BEFORE,
	CANARY__OP_SEMVER_EQ,
	CANARY__OP_SEMVER_GT,
	CANARY__OP_SEMVER_GTE,
	CANARY__OP_SEMVER_LT,
	CANARY__OP_SEMVER_LTE,
	CANARY__OP_REGEX,
	CANARY__OP_IN_CIDR,
	CANARY__OP_COUNT
} canary__op;

/* A string with its length, in the arena. */
typedef struct canary__str {
	const char *s;
	uint32_t len;
} canary__str;

typedef struct canary__constraint {
	canary__field field;
	uint8_t op;              /* canary__op */
	bool inverted;
	bool caseless;
	bool negate;             /* the test's result is negated: inverted,
	                            flipped again for NOT_IN (IN negated) */
	uint8_t accept;          /* NUM_*, SEMVER_*: the comparisons that pass,
	                            bit 0: less, bit 1: equal, bit 2: greater */
	uint8_t test;            /* the test of a present value: the operator
	                            with its options, chosen at compile time */
	uint32_t count;          /* entries in u.strs / u.cidrs */
	uint32_t set_mask;       /* IN/NOT_IN: hash set size - 1 */
	uint32_t set_seed;       /* IN/NOT_IN: the hash's seed */
	canary__str *set;        /* IN/NOT_IN: open addressing, the values
	                            (s NULL: an empty slot) */
	uint16_t **borders;      /* STR_CONTAINS: per value, its border
	                            table (Knuth-Morris-Pratt), so that a
	                            search is linear in the subject */
	union {
		canary__str *strs;   /* as given; ASCII-lowercased when caseless */
		canary__cidr *cidrs;
		canary__decimal num;
		int64_t date_ms;
		canary__semver_key semver;
		canary__regex regex;
	} u;
} canary__constraint;

/* Is v[0..vlen) in items[0..count), sorted by canary__str_cmp? With
 * `caseless`, v is ASCII-lowercased as it is compared (the items are
 * lowercased already). */
bool canary__str_sorted_contains(const canary__str *items, uint32_t count,
	const char *v, size_t vlen, bool caseless);

/* A JSON array of strings (NULL: empty) copied into the arena, ASCII-
 * lowercased when `caseless`, sorted by canary__str_cmp when `sort`.
 * `path` names the array ("...constraints[0].values"). */
int canary__strs_compile(canary__rule_build *b, const struct cJSON *arr,
	const char *path, bool caseless, bool sort, canary__str **items,
	uint32_t *count);

/* qsort order for canary__str: bytes, then length. */
int canary__str_cmp(const void *a, const void *b);

/* The wire name of an operator ("SEMVER_GTE"), or NULL. */
const char *canary__op_name(canary__op op);

/* The operator called name, or CANARY__OP_NEVER. */
canary__op canary__op_from_name(const char *name);

/* Compile the constraint object at `path` (e.g. "flags[2].constraints[0]")
 * into `out`. Strings are copied into b->arena. */
int canary__constraint_compile(canary__rule_build *b, const struct cJSON *obj,
	const char *path, canary__constraint *out);


/* A list of constraints: all must match (an empty list matches). */
int canary__constraints_compile(canary__rule_build *b,
	const struct cJSON *arr, const char *path, canary__constraint **items,
	uint32_t *count);

/* The index of the first of items[0..count) that `ctx` fails, or -1 when
 * all match: one call for a whole list. */
int32_t canary__constraints_first_miss(const canary__constraint *items,
	uint32_t count, const canary__context *ctx);

static inline bool canary__constraints_match(const canary__constraint *items,
	uint32_t count, const canary__context *ctx)
{
	return canary__constraints_first_miss(items, count, ctx) < 0;
}

#endif
