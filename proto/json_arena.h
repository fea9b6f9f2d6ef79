/*
 * json_arena.h - JSON text into a cJSON-shaped tree that lives in an arena.
 *
 * For a big document read once and thrown away: an Unleash features
 * document of 10,000 features is 7 MB, and cJSON spends more time
 * allocating its 300,000 nodes and strings one by one with malloc, and
 * freeing them again, than the compiler spends reading them (cJSON's
 * allocation hooks are the application's, a library must not change
 * them). Here every node is a plain cJSON struct (so every reader of
 * json_read.h works on it unchanged) bump-allocated from an arena and
 * freed with it.
 *
 * The tree is read-only: never pass it (or a node of it) to cJSON_Delete()
 * or to a cJSON function that adds, detaches or replaces items.
 *
 * Strict RFC 8259, stricter than cJSON: the text must be UTF-8
 * (canary__utf8_valid rules), white space is the four JSON characters, no
 * control characters in strings, numbers in the JSON grammar only (no
 * "01", "+1", "1."), escapes as the RFC lists them, a \u surrogate only
 * in a pair. Like canary__json_parse(): the root must be an object, only
 * white space may follow it, a repeated key keeps every member (readers
 * take the first), \u0000 becomes CANARY__JSON_NUL_MARK with the reader's
 * nul_escaped set. Limits: nesting as deep as cJSON's (1000), numbers of
 * at most 63 characters (cJSON's bound).
 */
#ifndef CANARY_PROTO_JSON_ARENA_H
#define CANARY_PROTO_JSON_ARENA_H

#include <stddef.h>

#include "arena.h"
#include "json_read.h"

struct cJSON;

#define CANARY__JSON_MAX_DEPTH 1000
#define CANARY__JSON_MAX_NUMBER 63

/* Where a value is in the text: bytes [start, end). */
typedef struct canary__json_span {
	size_t start, end;
} canary__json_span;

/*
 * An array not to build: the first member of the root object called `key`
 * whose value is an array is read and checked whole, but its node is left
 * empty and where each element is goes in `items`; the caller reads them
 * one at a time with canary__json_parse_span(). A document whose bulk is
 * one long array (Unleash's "features") is then never a tree at once:
 * each element's small tree can be built, used and freed while it is
 * still in the cache.
 */
typedef struct canary__json_lazy {
	const char *key;               /* in */
	const struct cJSON *array;     /* out: its (empty) node, or NULL */
	canary__json_span *items;      /* out: in the arena */
	size_t count;
} canary__json_lazy;

/*
 * Parse text[0..len) into nodes allocated from `arena`; *out is the root
 * object, valid until the arena is freed. `doc` names the document in
 * errors ("document"; NULL: ""): "document: malformed JSON: <what> at line
 * L, column C". `lazy` (may be NULL): an array to leave unbuilt.
 * @return CANARY_OK; CANARY_EPARSE (no text, more than `max` bytes,
 *         malformed JSON, trailing data, a root that is not an object);
 *         CANARY_ENOMEM. On error the arena may hold a partial tree.
 */
int canary__json_parse_arena(canary__json_reader *r, canary__arena *arena,
	const char *text, size_t len, size_t max, const char *doc,
	canary__json_lazy *lazy, const struct cJSON **out);

/*
 * Build the value at `span` of `text`, an element canary__json_parse_arena()
 * recorded (so already checked; any JSON type), in `arena`.
 * @return CANARY_OK; CANARY_ENOMEM (or CANARY_EPARSE for a span that is
 *         not one value).
 */
int canary__json_parse_span(canary__json_reader *r, canary__arena *arena,
	const char *text, canary__json_span span, const struct cJSON **out);

#endif
