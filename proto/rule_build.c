/*
 * rule_build.c - errors and notes for rule compilers (see rule_build.h).
 */
#include "rule_build.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void canary__rule_build_init(canary__rule_build *b, canary__arena *arena,
	bool lenient, canary__perror *err)
{
	memset(b, 0, sizeof(*b));
	b->arena = arena;
	b->lenient = lenient;
	canary__json_reader_init(&b->rd, 0, err);
}

/* The error at `path`.`name`, with the message already formatted. */
static int record(canary__perror *e, const char *path, const char *name,
	const char *msg)
{
	return canary__perror_at(e, path, name, "%s", msg);
}

int canary__rule_invalid(canary__rule_build *b, const char *path,
	const char *name, const char *fmt, ...)
{
	char msg[CANARY__PERR_MESSAGE];
	canary__perror note;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!b->lenient)
		return record(b->rd.err, path, name, msg);
	if (b->downgraded++ == 0) {
		record(&note, path, name, msg);
		canary__perror_format(&note, b->note, sizeof(b->note));
	}
	return CANARY_OK;
}

int canary__rule_reject(canary__rule_build *b, const char *path,
	const char *name, const char *fmt, ...)
{
	char msg[CANARY__PERR_MESSAGE];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return record(b->rd.err, path, name, msg);
}

int canary__rule_array(canary__rule_build *b, const cJSON *arr,
	const char *path, size_t max, size_t size, canary__rule_item_fn fn,
	void *arg, void *items_out, uint32_t *count)
{
	const cJSON *item;
	size_t n = arr ? (size_t)cJSON_GetArraySize(arr) : 0;
	unsigned char *items = NULL;

	memcpy(items_out, &items, sizeof(items));
	*count = 0;
	if (n == 0)
		return CANARY_OK;
	if (n > max)
		return canary__rule_reject(b, path, NULL,
			"more than %zu entries", max);
	items = canary__arena_array(b->arena, n, size);
	if (!items)
		return canary__rule_oom(b);
	memcpy(items_out, &items, sizeof(items));
	cJSON_ArrayForEach(item, arr) {
		char sub[CANARY__PERR_FIELD];
		int rc;

		canary__path_index(sub, sizeof(sub), path, *count);
		rc = fn(b, item, sub, items + *count * size, arg);
		if (rc != CANARY_OK)
			return rc;
		(*count)++;
	}
	return CANARY_OK;
}

int canary__rule_oom(canary__rule_build *b)
{
	return canary__perror_oom(b->rd.err);
}
