/*
 * config_target.h - targeting in the flag config (docs/targeting.md): per
 * flag, the constraints that decide who is eligible for the canary, the
 * names of shared segments and the stickiness attribute; at the top of
 * the document, the segments. Read and validated with the targeting
 * engine's strict compiler (constraint.c, segment.c, rules.c), the same
 * code canary-server validates admin writes with; compiled once per
 * config into one arena; written back as canonical JSON.
 *
 * config.c embeds these parts in its flag and config and calls the
 * functions below for their members.
 */
#ifndef CANARY_PROTO_CONFIG_TARGET_H
#define CANARY_PROTO_CONFIG_TARGET_H

#include <stdbool.h>
#include <stddef.h>

#include "alloc.h"
#include "context.h"
#include "json_read.h"
#include "rules.h"
#include "strlist.h"

struct cJSON;

/* What evaluation reads of a flag's targeting, compiled into the config's
 * arena. */
typedef struct canary__target_rules {
	canary__rules rules;       /* who is eligible for the canary */
	bool has_rules;            /* constraints or segments present */
	canary__field stickiness;  /* what is bucketed; len 0: the unit */
} canary__target_rules;

/* A flag's targeting as configured. */
typedef struct canary__target {
	char *stickiness;          /* NULL or "": the unit */
	char *constraints;         /* the "constraints" array as canonical
	                              JSON text; NULL when there are none */
	canary__strlist segments;  /* names of the config's segments */
	const canary__target_rules *compiled; /* set when read as part of a
	                              config; NULL without targeting, or for
	                              a flag read alone */
} canary__target;

/* A named segment: constraints that flags share. */
typedef struct canary__segdef {
	char *name;
	char *constraints;         /* canonical JSON array text, never NULL */
} canary__segdef;

typedef struct canary__target_arena canary__target_arena;

/* A config's segments, and the memory of its compiled targeting. */
typedef struct canary__segtable {
	canary__segdef *items;     /* sorted by name, unique */
	size_t count;
	canary__target_arena *compiled; /* NULL: no targeting at all */
} canary__segtable;

/* The members a flag's targeting is read from (any may be NULL). */
typedef struct canary__target_members {
	const struct cJSON *constraints;
	const struct cJSON *segments;
	const struct cJSON *stickiness;
} canary__target_members;

/*
 * Read a flag's targeting members (of the flag object at `path`) into
 * `out`. With `table` (a whole document being parsed, its segments read
 * already), the rules are compiled against it into table->compiled,
 * created on first use, and out->compiled is set; without (a flag read
 * alone), the constraints are compiled to be checked and dropped, and
 * segment names are checked as names only. Errors name the member:
 * "flags[2].constraints[0].value: not a semantic version",
 * "flags[2].segments[0]: unknown segment \"eu\"". The caller clears `out`
 * on failure too.
 */
int canary__target_read(const canary__alloc *a, const canary__json_reader *r,
	const canary__target_members *m, const char *path,
	canary__segtable *table, canary__target *out);

void canary__target_clear(const canary__alloc *a, canary__target *t);

/* Constraints, segments or a stickiness are set. */
bool canary__target_is_set(const canary__target *t);

/* Add the target's members to its flag's JSON object. false: ENOMEM. */
bool canary__target_to_json(const canary__target *t, struct cJSON *obj);

/* The document's "segments" member (`item`; NULL: none): validated, kept
 * as definitions and compiled (strictly). Errors name the member:
 * "segments[1].constraints[0].value: not a number". */
int canary__segtable_read(const canary__alloc *a,
	const canary__json_reader *r, const struct cJSON *item,
	canary__segtable *table);

void canary__segtable_clear(const canary__alloc *a, canary__segtable *table);

/* The segment called `name`, or NULL. */
const canary__segdef *canary__segtable_find(const canary__segtable *table,
	const char *name);

/* The slots of the attribute names the compiled rules use (context.h,
 * binding), or NULL without targeting. */
const canary__field_slots *canary__segtable_slots(const canary__segtable *t);

/* The segments as a JSON array, or NULL on ENOMEM. */
struct cJSON *canary__segtable_to_json(const canary__segtable *table);

/* One segment ({"name", "constraints"}) at `path`, read alone (an admin
 * request, a stored record) and validated as in a config. */
int canary__segdef_from_json(const canary__alloc *a,
	const canary__json_reader *r, const struct cJSON *obj, const char *path,
	canary__segdef *out);
void canary__segdef_clear(const canary__alloc *a, canary__segdef *seg);
struct cJSON *canary__segdef_to_json(const canary__segdef *seg);

#endif
