/*
 * rule_build.h - the state of compiling rules from JSON: where compiled
 * memory goes, how strict to be, and the error or notes produced.
 *
 * Two modes, one engine:
 * - strict (our own flag configs, and the server validating them): any
 *   value the engine cannot use rejects the whole document, with the JSON
 *   path of the culprit: "flags[3].constraints[1].value: not a semantic
 *   version".
 * - lenient (documents from an Unleash server, which is the authority on
 *   them): such a constraint compiles to one that never matches, as the
 *   Unleash client specification requires ("an invalid regex results in
 *   the toggle being disabled"); the count and the first message are kept
 *   so the caller can log them.
 * Malformed structure (wrong JSON types, missing names, sizes over the
 * limits) rejects the document in both modes.
 */
#ifndef CANARY_PROTO_RULE_BUILD_H
#define CANARY_PROTO_RULE_BUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "attributes.h"
#include "context.h"
#include "json_read.h"

struct cJSON;

#define CANARY__RULE_MAX_NAME 256        /* context names, segment names */
#define CANARY__RULE_MAX_VALUE 4096      /* one value or pattern, bytes */
#define CANARY__RULE_MAX_VALUES 100000   /* values in one constraint */
#define CANARY__RULE_NOTE 256

typedef struct canary__rule_build {
	canary__arena *arena;    /* where compiled rules live */
	bool lenient;
	uint32_t downgraded;     /* lenient: constraints made never-matching */
	char note[CANARY__RULE_NOTE]; /* lenient: the first, "field: message" */
	canary__json_reader rd;  /* the JSON reads; its err: strict or
	                            malformed input's error */
	canary__field_slots *slots; /* NULL, or where attribute fields get
	                            their slots (context.h, binding) */
} canary__rule_build;

/* `err` (may be NULL) receives the error; the reader has no options (what
 * the rules do not know is ignored: documents may be newer than us). */
void canary__rule_build_init(canary__rule_build *b, canary__arena *arena,
	bool lenient, canary__perror *err);

/* A value the engine cannot use, at member `name` of `path` (name NULL:
 * `path` itself). Strict: CANARY_EPARSE with the error. Lenient: CANARY_OK
 * after counting it; the caller then compiles the never-matching form. */
int canary__rule_invalid(canary__rule_build *b, const char *path,
	const char *name, const char *fmt, ...) CANARY__PRINTF(4, 5);

/* Malformed input: CANARY_EPARSE in both modes. */
int canary__rule_reject(canary__rule_build *b, const char *path,
	const char *name, const char *fmt, ...) CANARY__PRINTF(4, 5);

/* Compiles one element of a JSON array; `path` is "<array>[i]". */
typedef int (*canary__rule_item_fn)(canary__rule_build *b,
	const struct cJSON *item, const char *path, void *out, void *arg);

/* Compile every element of `arr` (NULL: none) into a zeroed arena array
 * of `size`-byte items with fn(b, element, "path[i]", &items[i], arg); at
 * most `max` elements. `items_out` is the address of the caller's `T *`
 * (stored with memcpy, so any item type fits); *count is the number
 * compiled so far, also on error. */
int canary__rule_array(canary__rule_build *b, const struct cJSON *arr,
	const char *path, size_t max, size_t size, canary__rule_item_fn fn,
	void *arg, void *items_out, uint32_t *count);

/* CANARY_ENOMEM, with "out of memory" as the error. */
int canary__rule_oom(canary__rule_build *b);

#endif
