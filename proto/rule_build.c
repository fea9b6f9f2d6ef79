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

/* Append src[0..n) at buf[*at], keeping room for the NUL. */
static void append(char *buf, size_t len, size_t *at, const char *src,
	size_t n)
{
	if (*at + n >= len)
		n = *at + 1 < len ? len - *at - 1 : 0;
	memcpy(buf + *at, src, n);
	*at += n;
}

void canary__rule_path(char *buf, size_t len, const char *parent,
	const char *key)
{
	size_t at = 0;

	append(buf, len, &at, parent, strlen(parent));
	if (*parent)
		append(buf, len, &at, ".", 1);
	append(buf, len, &at, key, strlen(key));
	buf[at] = '\0';
}

void canary__rule_path_index(char *buf, size_t len, const char *parent,
	uint32_t i)
{
	char digits[12];
	size_t at = 0, n = sizeof(digits);

	do {
		digits[--n] = (char)('0' + i % 10);
		i /= 10;
	} while (i);
	append(buf, len, &at, parent, strlen(parent));
	append(buf, len, &at, "[", 1);
	append(buf, len, &at, digits + n, sizeof(digits) - n);
	append(buf, len, &at, "]", 1);
	buf[at] = '\0';
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

		canary__rule_path_index(sub, sizeof(sub), path, *count);
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

void canary__rule_members(const cJSON *obj, const char *const names[],
	size_t n, const cJSON *out[])
{
	const cJSON *m;
	size_t k;

	for (k = 0; k < n; k++)
		out[k] = NULL;
	for (m = obj ? obj->child : NULL; m; m = m->next) {
		const char *key = m->string;

		for (k = 0; key && k < n; k++) {
			if (!out[k] && key[0] == names[k][0] &&
			    strcmp(key, names[k]) == 0) {
				out[k] = m;
				break;
			}
		}
	}
}

int canary__rule_string(canary__rule_build *b, const cJSON *item,
	const char *path, const char *name, size_t max, const char **out)
{
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

int canary__rule_name(canary__rule_build *b, const cJSON *item,
	const char *path, const char *name, size_t max, const char **out)
{
	int rc = canary__rule_string(b, item, path, name, max, out);

	if (rc == CANARY_OK && (!*out || !**out))
		rc = canary__rule_reject(b, "%s%s%s: required", path, dot(path), name);
	return rc;
}

int canary__rule_bool(canary__rule_build *b, const cJSON *item,
	const char *path, const char *name, bool dflt, bool *out)
{
	*out = dflt;
	if (!item || cJSON_IsNull(item))
		return CANARY_OK;
	if (!cJSON_IsBool(item))
		return canary__rule_reject(b, "%s%s%s: must be true or false", path,
			dot(path), name);
	*out = cJSON_IsTrue(item) != 0;
	return CANARY_OK;
}

int canary__rule_list(canary__rule_build *b, const cJSON *item,
	const char *path, const char *name, const cJSON **out)
{
	*out = NULL;
	if (!item || cJSON_IsNull(item))
		return CANARY_OK;
	if (!cJSON_IsArray(item))
		return canary__rule_reject(b, "%s%s%s: must be an array", path,
			dot(path), name);
	*out = item;
	return CANARY_OK;
}

int canary__rule_get_string(canary__rule_build *b, const cJSON *obj,
	const char *name, const char *path, size_t max, const char **out)
{
	return canary__rule_string(b, cJSON_GetObjectItemCaseSensitive(obj, name),
		path, name, max, out);
}

int canary__rule_get_name(canary__rule_build *b, const cJSON *obj,
	const char *name, const char *path, size_t max, const char **out)
{
	return canary__rule_name(b, cJSON_GetObjectItemCaseSensitive(obj, name),
		path, name, max, out);
}

int canary__rule_get_bool(canary__rule_build *b, const cJSON *obj,
	const char *name, const char *path, bool dflt, bool *out)
{
	return canary__rule_bool(b, cJSON_GetObjectItemCaseSensitive(obj, name),
		path, name, dflt, out);
}

int canary__rule_get_array(canary__rule_build *b, const cJSON *obj,
	const char *name, const char *path, const cJSON **out)
{
	return canary__rule_list(b, cJSON_GetObjectItemCaseSensitive(obj, name),
		path, name, out);
}
