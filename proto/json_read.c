/*
 * json_read.c - strict JSON reading (see json_read.h).
 */
#include "json_read.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "utf8.h"

void canary__json_reader_init(canary__json_reader *r, unsigned opts,
	canary__perror *err)
{
	memset(r, 0, sizeof(*r));
	r->opts = opts;
	r->err = err;
	canary__perror_clear(err);
}

/* ---- the document ---------------------------------------------------- */

/* Is text[i] the backslash of a \u0000? Backslashes appear only inside
 * strings in valid JSON (and invalid JSON fails anyway). */
static bool nul_escape_at(const char *t, size_t len, size_t i)
{
	return len - i >= 6 && memcmp(t + i, "\\u0000", 6) == 0;
}

/* Where the next escape starts at or after i, or len. */
static size_t next_escape(const char *t, size_t len, size_t i)
{
	const char *p = i < len ? memchr(t + i, '\\', len - i) : NULL;

	return p ? (size_t)(p - t) : len;
}

static bool has_nul_escape(const char *t, size_t len)
{
	size_t i = next_escape(t, len, 0);

	while (i < len) {
		if (nul_escape_at(t, len, i))
			return true;
		i = next_escape(t, len, i + 2); /* skip the escaped byte */
	}
	return false;
}

/* A copy of t with every \u0000 replaced by CANARY__JSON_NUL_MARK; NULL
 * on ENOMEM. */
static char *mark_nuls(const char *t, size_t len, size_t *outlen)
{
	char *copy = canary__malloc(canary__alloc_default(), len);
	size_t i = 0, o = 0;

	if (!copy)
		return NULL;
	while (i < len) {
		size_t e = next_escape(t, len, i), step;

		memcpy(copy + o, t + i, e - i);
		o += e - i;
		if (e == len)
			break;
		step = nul_escape_at(t, len, e) ? 6 : (len - e >= 2 ? 2 : 1);
		if (step == 6) {
			memcpy(copy + o, CANARY__JSON_NUL_MARK, 2);
			o += 2;
		} else {
			memcpy(copy + o, t + e, step);
			o += step;
		}
		i = e + step;
	}
	*outlen = o;
	return copy;
}

static bool only_space(const char *p, const char *end)
{
	for (; p < end; p++)
		if (*p != ' ' && *p != '\t' && *p != '\r' && *p != '\n')
			return false;
	return true;
}

int canary__json_check_size(const canary__json_reader *r, const char *text,
	size_t len, size_t max, const char *doc)
{
	if (!text || len == 0)
		return canary__perror_set(r->err, doc, "empty document");
	if (len > max)
		return canary__perror_set(r->err, doc, "larger than %zu bytes",
			max);
	return CANARY_OK;
}

int canary__json_parse(canary__json_reader *r, const char *text, size_t len,
	size_t max, const char *doc, cJSON **out)
{
	char *marked = NULL;
	const char *end = NULL;
	cJSON *root;
	int rc = CANARY_OK;

	*out = NULL;
	doc = doc ? doc : "";
	rc = canary__json_check_size(r, text, len, max, doc);
	if (rc != CANARY_OK)
		return rc;
	r->nul_escaped = has_nul_escape(text, len);
	if (r->nul_escaped) {
		marked = mark_nuls(text, len, &len);
		if (!marked)
			return canary__perror_oom(r->err);
		text = marked;
	}
	root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
	if (!root)
		rc = canary__perror_set(r->err, doc, "malformed JSON");
	else if (!end || !only_space(end, text + len))
		rc = canary__perror_set(r->err, doc,
			"trailing data after the JSON value");
	else if (!cJSON_IsObject(root))
		rc = canary__perror_set(r->err, doc, "must be a JSON object");
	canary__free(canary__alloc_default(), marked);
	if (rc != CANARY_OK) {
		cJSON_Delete(root);
		return rc;
	}
	*out = root;
	return CANARY_OK;
}

/* ---- members --------------------------------------------------------- */

int canary__json_members(const canary__json_reader *r, const cJSON *obj,
	const char *path, const char *const names[], size_t n,
	const cJSON *out[])
{
	bool strict = r->opts & CANARY__JSON_KNOWN_ONLY;
	const cJSON *m;
	size_t k;

	for (k = 0; k < n; k++)
		out[k] = NULL;
	if (!cJSON_IsObject(obj))
		return canary__perror_at(r->err, path, NULL,
			"must be an object");
	for (m = obj->child; m; m = m->next) {
		const char *key = m->string;

		for (k = 0; key && k < n; k++)
			if (key[0] == names[k][0] && strcmp(key, names[k]) == 0)
				break;
		if (k < n && !out[k]) {
			out[k] = m;
		} else if (strict && k < n) {
			return canary__perror_at(r->err, path, key,
				"appears twice");
		} else if (strict) {
			return canary__perror_at(r->err, path, key ? key : "",
				"unknown field '%s'", key ? key : "");
		}
	}
	return CANARY_OK;
}

/* ---- typed reads ----------------------------------------------------- */

static bool absent(const cJSON *item)
{
	return !item || cJSON_IsNull(item);
}

/* Where a value is, for its error: the member `name` of `path`, or with
 * name NULL element `index` of `path`. */
typedef struct where {
	const char *path;
	const char *name;
	size_t index;
} where;

static int fail(const canary__json_reader *r, const where *w,
	const char *fmt, ...) CANARY__PRINTF(3, 4);

static int fail(const canary__json_reader *r, const where *w,
	const char *fmt, ...)
{
	char msg[CANARY__PERR_MESSAGE];
	va_list ap;

	if (!r->err)
		return CANARY_EPARSE;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (w->name)
		return canary__perror_at(r->err, w->path, w->name, "%s", msg);
	return canary__perror_at_index(r->err, w->path, w->index, "%s", msg);
}

static bool holds_nul_mark(const char *s, size_t len)
{
	const char *p = s, *end = s + len;

	while ((p = memchr(p, CANARY__JSON_NUL_MARK[0],
	    (size_t)(end - p))) != NULL) {
		if (p + 1 < end && p[1] == CANARY__JSON_NUL_MARK[1])
			return true;
		p++;
	}
	return false;
}

static int check(const canary__json_reader *r, const char *s,
	const where *w, size_t max)
{
	size_t len = strlen(s);

	if (len > max)
		return fail(r, w, "longer than %zu bytes", max);
	if (r->nul_escaped && holds_nul_mark(s, len))
		return fail(r, w, "must not contain \\u0000");
	if ((r->opts & CANARY__JSON_UTF8) && !canary__utf8_valid(s, len))
		return fail(r, w, "must be UTF-8");
	return CANARY_OK;
}

int canary__json_check_string(const canary__json_reader *r, const char *s,
	const char *path, const char *name, size_t max)
{
	where w = { path, name, 0 };

	return check(r, s, &w, max);
}

static int string_at(const canary__json_reader *r, const cJSON *item,
	const where *w, size_t max, const char **out)
{
	if (!cJSON_IsString(item) || !item->valuestring)
		return fail(r, w, "must be a string");
	if (check(r, item->valuestring, w, max) != CANARY_OK)
		return CANARY_EPARSE;
	*out = item->valuestring;
	return CANARY_OK;
}

int canary__json_required(const canary__json_reader *r, const cJSON *item,
	const char *path, const char *name)
{
	where w = { path, name, 0 };

	return absent(item) ? fail(r, &w, "required") : CANARY_OK;
}

int canary__json_string(const canary__json_reader *r, const cJSON *item,
	const char *path, const char *name, size_t max, const char **out)
{
	where w = { path, name, 0 };

	*out = NULL;
	return absent(item) ? CANARY_OK : string_at(r, item, &w, max, out);
}

int canary__json_string_at(const canary__json_reader *r, const cJSON *item,
	const char *path, size_t i, size_t max, const char **out)
{
	where w = { path, NULL, i };

	*out = NULL;
	return string_at(r, item, &w, max, out);
}

int canary__json_name(const canary__json_reader *r, const cJSON *item,
	const char *path, const char *name, size_t max, const char **out)
{
	where w = { path, name, 0 };
	int rc = canary__json_string(r, item, path, name, max, out);

	if (rc == CANARY_OK && (!*out || !**out))
		rc = fail(r, &w, "required");
	return rc;
}

int canary__json_uint(const canary__json_reader *r, const cJSON *item,
	const char *path, const char *name, uint64_t max, bool required,
	uint64_t *out)
{
	where w = { path, name, 0 };
	double v;

	if (absent(item))
		return required ? fail(r, &w, "required") : CANARY_OK;
	v = cJSON_IsNumber(item) ? item->valuedouble : -1;
	if (!(v >= 0 && v <= (double)max) || floor(v) != v)
		return fail(r, &w, "must be an integer 0..%llu",
			(unsigned long long)max);
	*out = (uint64_t)v;
	return CANARY_OK;
}

int canary__json_bool(const canary__json_reader *r, const cJSON *item,
	const char *path, const char *name, bool *out)
{
	where w = { path, name, 0 };

	if (absent(item))
		return CANARY_OK;
	if (!cJSON_IsBool(item))
		return fail(r, &w, "must be true or false");
	*out = cJSON_IsTrue(item) != 0;
	return CANARY_OK;
}

int canary__json_number(const canary__json_reader *r, const cJSON *item,
	const char *path, const char *name, double *out)
{
	where w = { path, name, 0 };

	if (absent(item))
		return CANARY_OK;
	if (!cJSON_IsNumber(item) || !isfinite(item->valuedouble))
		return fail(r, &w, "must be a finite number");
	*out = item->valuedouble;
	return CANARY_OK;
}

int canary__json_array(const canary__json_reader *r, const cJSON *item,
	const char *path, const char *name, const cJSON **out)
{
	where w = { path, name, 0 };

	*out = NULL;
	if (absent(item))
		return CANARY_OK;
	if (!cJSON_IsArray(item))
		return fail(r, &w, "must be an array");
	*out = item;
	return CANARY_OK;
}

int canary__json_object(const canary__json_reader *r, const cJSON *item,
	const char *path, const char *name, const cJSON **out)
{
	where w = { path, name, 0 };

	*out = NULL;
	if (absent(item))
		return CANARY_OK;
	if (!cJSON_IsObject(item))
		return fail(r, &w, "must be an object");
	*out = item;
	return CANARY_OK;
}
