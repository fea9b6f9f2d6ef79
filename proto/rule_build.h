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

struct cJSON;

#define CANARY__RULE_MAX_NAME 256        /* context names, segment names */
#define CANARY__RULE_MAX_VALUE 4096      /* one value or pattern, bytes */
#define CANARY__RULE_MAX_VALUES 100000   /* values in one constraint */
#define CANARY__RULE_PATH 192            /* JSON path buffers */
#define CANARY__RULE_NOTE 256

#if defined(__GNUC__)
#  define CANARY__RULE_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#  define CANARY__RULE_PRINTF(f, a)
#endif

typedef struct canary__rule_build {
	canary__arena *arena;    /* where compiled rules live */
	bool lenient;
	uint32_t downgraded;     /* lenient: constraints made never-matching */
	char note[CANARY__RULE_NOTE]; /* lenient: the first of them */
	char *err;               /* strict or malformed: the error */
	size_t errlen;
} canary__rule_build;

void canary__rule_build_init(canary__rule_build *b, canary__arena *arena,
	bool lenient, char *err, size_t errlen);

/* A value the engine cannot use. Strict: CANARY_EPARSE with the message
 * in err. Lenient: CANARY_OK after counting it; the caller then compiles
 * the never-matching form. */
int canary__rule_invalid(canary__rule_build *b, const char *fmt, ...)
	CANARY__RULE_PRINTF(2, 3);

/* Malformed input: CANARY_EPARSE in both modes. */
int canary__rule_reject(canary__rule_build *b, const char *fmt, ...)
	CANARY__RULE_PRINTF(2, 3);

/* JSON paths for messages: buf = parent + "." + key, or parent + "[i]".
 * Clipped to len (a path only ever appears in a message). Built by hand,
 * not with snprintf: a 10,000-feature document builds 150,000 of them. */
void canary__rule_path(char *buf, size_t len, const char *parent,
	const char *key);
void canary__rule_path_index(char *buf, size_t len, const char *parent,
	uint32_t i);

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

/* CANARY_ENOMEM, with "out of memory" in err. */
int canary__rule_oom(canary__rule_build *b);

/*
 * Find the members called names[0..n) of `obj` in one pass (the first of
 * a repeated name wins, as with cJSON's lookup); out[k] is NULL when
 * absent. A 10,000-feature document spends most of its compile time
 * finding members one lookup at a time, and most lookups would miss.
 */
void canary__rule_members(const struct cJSON *obj, const char *const names[],
	size_t n, const struct cJSON *out[]);

/* Typed reads of a member found so (`item` NULL or JSON null: absent),
 * named `path`.`name` in errors; the same rules as the get_* readers. */
int canary__rule_string(canary__rule_build *b, const struct cJSON *item,
	const char *path, const char *name, size_t max, const char **out);
int canary__rule_name(canary__rule_build *b, const struct cJSON *item,
	const char *path, const char *name, size_t max, const char **out);
int canary__rule_bool(canary__rule_build *b, const struct cJSON *item,
	const char *path, const char *name, bool dflt, bool *out);
int canary__rule_list(canary__rule_build *b, const struct cJSON *item,
	const char *path, const char *name, const struct cJSON **out);

/*
 * JSON readers that name the field on error. `path` is the object's path
 * ("" for the root). A string is borrowed from the cJSON tree.
 * get_string: absent or null -> *out = NULL (the caller decides whether
 * that is an error); anything but a string of at most `max` bytes is
 * rejected.
 */
int canary__rule_get_string(canary__rule_build *b, const struct cJSON *obj,
	const char *name, const char *path, size_t max, const char **out);
int canary__rule_get_bool(canary__rule_build *b, const struct cJSON *obj,
	const char *name, const char *path, bool dflt, bool *out);
/* A required string: like get_string, and absent or "" is rejected. */
int canary__rule_get_name(canary__rule_build *b, const struct cJSON *obj,
	const char *name, const char *path, size_t max, const char **out);
/* An array field: absent or null -> *out = NULL; not an array -> rejected. */
int canary__rule_get_array(canary__rule_build *b, const struct cJSON *obj,
	const char *name, const char *path, const struct cJSON **out);

#endif
