/*
 * json_read.h - strict reading of JSON documents: the whole text, then the
 * members of each object, typed, every error a canary__perror naming the
 * field. One set of readers for every parser of outside input: the config
 * (config.c), event batches (event_batch.c), targeting rules
 * (rule_build.c), Unleash documents, and canary-server's admin requests
 * and rollout specs.
 *
 * Options (canary__json_reader.opts) choose how strict to be:
 * - CANARY__JSON_KNOWN_ONLY: an object's members must be among the names
 *   its parser reads (canary__json_members): a typo such as "enabeld" is
 *   an error naming it, not a field silently ignored, and a known member
 *   may appear only once. For requests a person writes; a document from a
 *   newer peer (the config an SDK receives) leaves it off, so that fields
 *   added later are ignored.
 * - CANARY__JSON_UTF8: every string a reader returns must be well-formed
 *   UTF-8 (canary__utf8_valid), so that nothing passes on bytes another
 *   consumer (a browser, Prometheus, a terminal) would choke on.
 * Always: a string that held \u0000 is refused ("must not contain
 * \u0000"). cJSON would cut it there, so that "key\u0000x" read as "key";
 * canary__json_parse() keeps the cut from happening and the readers name
 * the string.
 *
 * "Absent" means missing or JSON null, for every reader. Strings are
 * borrowed from the cJSON tree. Messages are fixed phrases ("required",
 * "must be a string", "longer than 256 bytes", "must be an integer
 * 0..10000", ...) so the same mistake reads the same everywhere.
 */
#ifndef CANARY_PROTO_JSON_READ_H
#define CANARY_PROTO_JSON_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parse_error.h"

struct cJSON;

/* 2^53 - 1: the largest integer a JSON number carries exactly (a double),
 * so the largest version or count any document may hold. */
#define CANARY__JSON_MAX_INT 9007199254740991ull

/* What a \u0000 in a string is read as (cJSON would cut the string
 * there): two bytes no well-formed UTF-8 holds (an overlong NUL), so a
 * reader can tell that a string held one and refuse it. */
#define CANARY__JSON_NUL_MARK "\xC0\x80"

#define CANARY__JSON_KNOWN_ONLY 0x1u
#define CANARY__JSON_UTF8 0x2u

typedef struct canary__json_reader {
	unsigned opts;            /* CANARY__JSON_* */
	canary__perror *err;      /* where errors go; may be NULL */
	bool nul_escaped;         /* the text held \u0000 (canary__json_parse) */
} canary__json_reader;

void canary__json_reader_init(canary__json_reader *r, unsigned opts,
	canary__perror *err);

/*
 * Parse text[0..len) as one JSON object with nothing after it but white
 * space. `doc` names the document in errors about it as a whole ("config";
 * NULL: ""). On success *out is the tree (cJSON_Delete()).
 * @return CANARY_OK; CANARY_EPARSE for no text, more than `max` bytes,
 *         malformed JSON, trailing data or a root that is not an object;
 *         CANARY_ENOMEM.
 */
int canary__json_parse(canary__json_reader *r, const char *text, size_t len,
	size_t max, const char *doc, struct cJSON **out);

/* What every document is checked for before it is read: some text
 * (not NULL, not empty) and at most `max` bytes; the error names `doc`. */
int canary__json_check_size(const canary__json_reader *r, const char *text,
	size_t len, size_t max, const char *doc);

/*
 * Find the members called names[0..n) of the object `obj` at `path` in one
 * pass; out[k] is NULL when absent. The first of a repeated name wins (as
 * with cJSON's lookup), or, with CANARY__JSON_KNOWN_ONLY, a repeat is an
 * error, as is a member not in `names`. A 10,000-feature document spends
 * most of its parse time finding members; one lookup at a time, most
 * would miss.
 * @return CANARY_OK; CANARY_EPARSE when obj is not an object.
 */
int canary__json_members(const canary__json_reader *r,
	const struct cJSON *obj, const char *path, const char *const names[],
	size_t n, const struct cJSON *out[]);

/*
 * Typed reads of the member `name` of the object at `path` (the error's
 * field is "path.name"), given the member itself (`item`, NULL when
 * absent). Absent: *out is left as it is (the caller's default) and the
 * read succeeds, except for canary__json_required() and
 * canary__json_name(); strings, arrays and objects read as NULL.
 */
int canary__json_required(const canary__json_reader *r,
	const struct cJSON *item, const char *path, const char *name);
/* A string of at most `max` bytes. */
int canary__json_string(const canary__json_reader *r,
	const struct cJSON *item, const char *path, const char *name,
	size_t max, const char **out);
/* A required, non-empty string of at most `max` bytes. */
int canary__json_name(const canary__json_reader *r, const struct cJSON *item,
	const char *path, const char *name, size_t max, const char **out);
/* An integer 0..max (max <= CANARY__JSON_MAX_INT): no fraction, nothing
 * out of range; `required` makes absence an error. */
int canary__json_uint(const canary__json_reader *r, const struct cJSON *item,
	const char *path, const char *name, uint64_t max, bool required,
	uint64_t *out);
int canary__json_bool(const canary__json_reader *r, const struct cJSON *item,
	const char *path, const char *name, bool *out);
/* A finite number. */
int canary__json_number(const canary__json_reader *r,
	const struct cJSON *item, const char *path, const char *name,
	double *out);
int canary__json_array(const canary__json_reader *r,
	const struct cJSON *item, const char *path, const char *name,
	const struct cJSON **out);
int canary__json_object(const canary__json_reader *r,
	const struct cJSON *item, const char *path, const char *name,
	const struct cJSON **out);

/* Element `i` of the array at `path` as a string of at most `max` bytes
 * (absent is not possible; null is "must be a string"). */
int canary__json_string_at(const canary__json_reader *r,
	const struct cJSON *item, const char *path, size_t i, size_t max,
	const char **out);

/* The checks a string passes (length, \u0000, UTF-8 by the options), for
 * strings that are not member values: member names, keys. */
int canary__json_check_string(const canary__json_reader *r, const char *s,
	const char *path, const char *name, size_t max);

#endif
