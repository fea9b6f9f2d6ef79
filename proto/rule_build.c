/*
 * rule_build.c - errors, notes and typed JSON reads for rule compilers.
 */
#include "rule_build.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void canary__rule_build_init(canary__rule_build *b, canary__arena *arena,
	bool lenient, char *err, size_t errlen)
{
	memset(b, 0, sizeof(*b));
	b->arena = arena;
	b->lenient = lenient;
	b->err = err;
	b->errlen = errlen;
	if (err && errlen)
		err[0] = '\0';
}

int canary__rule_invalid(canary__rule_build *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (!b->lenient) {
		if (b->err && b->errlen)
			vsnprintf(b->err, b->errlen, fmt, ap);
		va_end(ap);
		return CANARY_EPARSE;
	}
	if (b->downgraded++ == 0)
		vsnprintf(b->note, sizeof(b->note), fmt, ap);
	va_end(ap);
	return CANARY_OK;
}

int canary__rule_reject(canary__rule_build *b, const char *fmt, ...)
{
	va_list ap;

	if (b->err && b->errlen) {
		va_start(ap, fmt);
		vsnprintf(b->err, b->errlen, fmt, ap);
		va_end(ap);
	}
	return CANARY_EPARSE;
}

void canary__rule_path(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
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
		return canary__rule_reject(b, "%s: more than %zu entries", path, max);
	items = canary__arena_array(b->arena, n, size);
	if (!items)
		return canary__rule_oom(b);
	memcpy(items_out, &items, sizeof(items));
	cJSON_ArrayForEach(item, arr) {
		char sub[CANARY__RULE_PATH];
		int rc;

		canary__rule_path(sub, sizeof(sub), "%s[%u]", path, *count);
		rc = fn(b, item, sub, items + *count * size, arg);
		if (rc != CANARY_OK)
			return rc;
		(*count)++;
	}
	return CANARY_OK;
}

int canary__rule_oom(canary__rule_build *b)
{
	if (b->err && b->errlen)
		snprintf(b->err, b->errlen, "out of memory");
	return CANARY_ENOMEM;
}

static const char *dot(const char *path)
{
	return *path ? "." : "";
}

int canary__rule_get_string(canary__rule_build *b, const cJSON *obj,
	const char *name, const char *path, size_t max, const char **out)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, name);

	*out = NULL;
	if (!item || cJSON_IsNull(item))
		return CANARY_OK;
	if (!cJSON_IsString(item) || !item->valuestring)
		return canary__rule_reject(b, "%s%s%s: must be a string", path,
			dot(path), name);
	if (strlen(item->valuestring) > max)
		return canary__rule_reject(b, "%s%s%s: longer than %zu bytes", path,
			dot(path), name, max);
	*out = item->valuestring;
	return CANARY_OK;
}

int canary__rule_get_name(canary__rule_build *b, const cJSON *obj,
	const char *name, const char *path, size_t max, const char **out)
{
	int rc = canary__rule_get_string(b, obj, name, path, max, out);

	if (rc == CANARY_OK && (!*out || !**out))
		rc = canary__rule_reject(b, "%s%s%s: required", path, dot(path), name);
	return rc;
}

int canary__rule_get_bool(canary__rule_build *b, const cJSON *obj,
	const char *name, const char *path, bool dflt, bool *out)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, name);

	*out = dflt;
	if (!item || cJSON_IsNull(item))
		return CANARY_OK;
	if (!cJSON_IsBool(item))
		return canary__rule_reject(b, "%s%s%s: must be true or false", path,
			dot(path), name);
	*out = cJSON_IsTrue(item) != 0;
	return CANARY_OK;
}

int canary__rule_get_array(canary__rule_build *b, const cJSON *obj,
	const char *name, const char *path, const cJSON **out)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, name);

	*out = NULL;
	if (!item || cJSON_IsNull(item))
		return CANARY_OK;
	if (!cJSON_IsArray(item))
		return canary__rule_reject(b, "%s%s%s: must be an array", path,
			dot(path), name);
	*out = item;
	return CANARY_OK;
}
