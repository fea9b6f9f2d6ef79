/*
 * strlist.h - a sorted, unique list of strings read from a JSON array of
 * strings: a flag's allow and deny lists, its segment names. Searched
 * with binary search.
 */
#ifndef CANARY_PROTO_STRLIST_H
#define CANARY_PROTO_STRLIST_H

#include <stdbool.h>
#include <stddef.h>

#include "alloc.h"
#include "json_read.h"

struct cJSON;

#define CANARY__MAX_LIST_LEN 10000      /* entries in one list */

typedef struct canary__strlist {
	char **items;  /* sorted by strcmp, unique */
	size_t count;
} canary__strlist;

/* The string array member `name` of the object at `path` (`item`; absent:
 * empty) as a sorted, unique list of non-empty strings of at most
 * `max_len` bytes, at most CANARY__MAX_LIST_LEN of them. The caller
 * clears `out` on failure too. */
int canary__strlist_read(const canary__alloc *a,
	const canary__json_reader *r, const struct cJSON *item, const char *path,
	const char *name, size_t max_len, canary__strlist *out);

void canary__strlist_clear(const canary__alloc *a, canary__strlist *list);

/* Is `s` in the list? */
bool canary__strlist_contains(const canary__strlist *list, const char *s);

/* The list as a JSON array of strings, or NULL on ENOMEM. */
struct cJSON *canary__strlist_to_json(const canary__strlist *list);

#endif
