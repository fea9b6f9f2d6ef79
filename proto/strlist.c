/*
 * strlist.c - sorted, unique string lists read from JSON (see strlist.h).
 */
#include "strlist.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

static int cmp_str(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

void canary__strlist_clear(const canary__alloc *a, canary__strlist *list)
{
	size_t i;

	for (i = 0; i < list->count; i++)
		canary__free(a, list->items[i]);
	canary__free(a, list->items);
	list->items = NULL;
	list->count = 0;
}

/* Sort and drop repeats, for binary search. */
static void strlist_sort(const canary__alloc *a, canary__strlist *list)
{
	size_t i, j;

	qsort(list->items, list->count, sizeof(char *), cmp_str);
	for (i = 0, j = 0; i < list->count; i++) {
		if (j && strcmp(list->items[j - 1], list->items[i]) == 0)
			canary__free(a, list->items[i]);
		else
			list->items[j++] = list->items[i];
	}
	list->count = j;
}

int canary__strlist_read(const canary__alloc *a,
	const canary__json_reader *r, const cJSON *item, const char *path,
	const char *name, size_t max_len, canary__strlist *out)
{
	char at[CANARY__PERR_FIELD];
	const cJSON *arr, *unit;
	size_t n;
	int rc = canary__json_array(r, item, path, name, &arr);

	if (rc != CANARY_OK || !arr)
		return rc;
	n = (size_t)cJSON_GetArraySize(arr);
	if (n > CANARY__MAX_LIST_LEN)
		return canary__perror_at(r->err, path, name,
			"more than %d entries", CANARY__MAX_LIST_LEN);
	if (n == 0)
		return CANARY_OK;
	out->items = canary__calloc(a, n, sizeof(char *));
	if (!out->items)
		return canary__perror_oom(r->err);
	canary__path_member(at, sizeof(at), path, name);
	cJSON_ArrayForEach(unit, arr) {
		const char *s;

		rc = canary__json_string_at(r, unit, at, out->count,
			max_len, &s);
		if (rc == CANARY_OK && !*s)
			rc = canary__perror_at_index(r->err, at, out->count,
				"must not be empty");
		if (rc != CANARY_OK)
			return rc;
		out->items[out->count] = canary__strdup(a, s);
		if (!out->items[out->count])
			return canary__perror_oom(r->err);
		out->count++;
	}
	strlist_sort(a, out);
	return CANARY_OK;
}

bool canary__strlist_contains(const canary__strlist *list, const char *unit)
{
	size_t lo = 0, hi = list->count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(unit, list->items[mid]);

		if (c == 0)
			return true;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return false;
}

cJSON *canary__strlist_to_json(const canary__strlist *list)
{
	cJSON *arr = cJSON_CreateArray();
	size_t i;

	for (i = 0; arr && i < list->count; i++) {
		cJSON *s = cJSON_CreateString(list->items[i]);

		if (!s) {
			cJSON_Delete(arr);
			return NULL;
		}
		cJSON_AddItemToArray(arr, s);
	}
	return arr;
}

