/*
 * json_arena.c - JSON text into a cJSON-shaped tree in an arena (see
 * json_arena.h). One pass, no recursion: a stack of open containers.
 */
#include "json_arena.h"

#include <cjson/cJSON.h>
#include <limits.h>
#include <locale.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

/* Short strings repeat (member names, operators, strategy names): one
 * copy each, found in a small direct-mapped table. The tree is read-only,
 * so sharing is safe, and a smaller tree is a faster one to walk. */
#define SHARE_MAX 32
#define SHARE_SLOTS 512

typedef struct shared_str {
	const char *s;
	size_t len;
} shared_str;

/* An open container. */
typedef struct frame {
	cJSON *node;                  /* NULL: read, not built */
	bool object;
	bool lazy;                    /* its elements are recorded, not built */
} frame;

typedef struct jparse {
	const unsigned char *p;       /* the next byte to read */
	const unsigned char *start, *end;
	canary__arena *arena;
	canary__json_reader *r;
	const char *what;             /* the syntax error, when one */
	bool oom;
	frame *frames;                /* `room` of them */
	size_t depth, room;
	frame first_frames[16];       /* enough for most documents */
	char *key;                    /* the member name before a value */
	cJSON *root;
	canary__json_lazy *lazy;      /* NULL: build everything */
	size_t lazy_cap;
	shared_str *shared;           /* SHARE_SLOTS, or NULL: no sharing */
} jparse;

static int syntax(jparse *j, const char *what)
{
	j->what = what;
	return -1;
}

static int oom(jparse *j)
{
	j->oom = true;
	return -1;
}

static void skip_space(jparse *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\n' ||
	    *j->p == '\r' || *j->p == '\t'))
		j->p++;
}

static bool is_digit(const jparse *j, const unsigned char *q)
{
	return q < j->end && *q >= '0' && *q <= '9';
}

/* ---- strings ------------------------------------------------------------ */

static int hex4(const unsigned char *q, uint32_t *out)
{
	uint32_t v = 0;
	int i;

	for (i = 0; i < 4; i++) {
		unsigned char c = q[i];

		if (c >= '0' && c <= '9')
			v = v * 16 + (uint32_t)(c - '0');
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			v = v * 16 + (uint32_t)((c | 0x20) - 'a' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

static char *put_utf8(char *o, uint32_t cp)
{
	if (cp < 0x80) {
		*o++ = (char)cp;
	} else if (cp < 0x800) {
		*o++ = (char)(0xC0 | (cp >> 6));
		*o++ = (char)(0x80 | (cp & 0x3F));
	} else if (cp < 0x10000) {
		*o++ = (char)(0xE0 | (cp >> 12));
		*o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
		*o++ = (char)(0x80 | (cp & 0x3F));
	} else {
		*o++ = (char)(0xF0 | (cp >> 18));
		*o++ = (char)(0x80 | ((cp >> 12) & 0x3F));
		*o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
		*o++ = (char)(0x80 | (cp & 0x3F));
	}
	return o;
}

/* The \u escape at *q (before `end`), a surrogate only as a high-low
 * pair: its code point. */
static int unicode_escape(jparse *j, const unsigned char **q,
	const unsigned char *end, uint32_t *cp)
{
	uint32_t lo;

	if (end - *q < 6 || hex4(*q + 2, cp) != 0)
		return syntax(j, "invalid \\u escape");
	*q += 6;
	if (*cp >= 0xDC00 && *cp <= 0xDFFF)
		return syntax(j, "unpaired surrogate in a \\u escape");
	if (*cp >= 0xD800 && *cp <= 0xDBFF) {
		if (end - *q < 6 || (*q)[0] != '\\' || (*q)[1] != 'u' ||
		    hex4(*q + 2, &lo) != 0 || lo < 0xDC00 || lo > 0xDFFF)
			return syntax(j, "unpaired surrogate in a \\u escape");
		*q += 6;
		*cp = 0x10000 + ((*cp - 0xD800) << 10) + (lo - 0xDC00);
	}
	return 0;
}

/* One escape at *q into buf (\u0000 as the mark the readers refuse):
 * its length, or 0 when it is not valid. */
static size_t escape(jparse *j, const unsigned char **q,
	const unsigned char *end, char buf[4])
{
	static const char simple[] = "\"\"\\\\//b\bf\fn\nr\rt\t";
	const char *hit;
	uint32_t cp;

	if ((*q)[1] == 'u') {
		if (unicode_escape(j, q, end, &cp) != 0)
			return 0;
		if (cp == 0) {
			memcpy(buf, CANARY__JSON_NUL_MARK, 2);
			j->r->nul_escaped = true;
			return 2;
		}
		return (size_t)(put_utf8(buf, cp) - buf);
	}
	hit = memchr(simple, (*q)[1], sizeof(simple) - 1);
	if (!hit || (hit - simple) % 2 != 0) {
		syntax(j, "invalid escape in a string");
		return 0;
	}
	buf[0] = hit[1];
	*q += 2;
	return 1;
}

/* Decode raw[q..end) into o, or only check it when o is NULL. */
static int unescape(jparse *j, const unsigned char *q,
	const unsigned char *end, char *o)
{
	while (q < end) {
		const unsigned char *at = q;
		char buf[4];
		size_t n;

		if (*q != '\\') {
			if (o)
				*o++ = (char)*q;
			q++;
			continue;
		}
		n = escape(j, &q, end, buf);
		if (n == 0) {
			j->p = at;
			return -1;
		}
		if (o) {
			memcpy(o, buf, n);
			o += n;
		}
	}
	return 0;
}

/* s[0..len), before its closing quote: the copy made the last time the
 * same bytes were read, else a new one (then remembered). */
static int shared_copy(jparse *j, const unsigned char *s, size_t len,
	char **out)
{
	uint32_t h = (uint32_t)len;
	shared_str *slot;
	size_t i;
	char *copy;

	for (i = 0; i < len; i++)
		h = h * 31 + s[i];
	slot = &j->shared[(h ^ (h >> 9)) % SHARE_SLOTS];
	j->p = s + len + 1;
	if (slot->s && slot->len == len && memcmp(slot->s, s, len) == 0) {
		*out = (char *)slot->s;
		return 0;
	}
	copy = canary__arena_strndup(j->arena, (const char *)s, len);
	if (!copy)
		return oom(j);
	slot->s = copy;
	slot->len = len;
	*out = copy;
	return 0;
}

/* The string whose opening quote is at j->p, NUL-terminated in the arena
 * (never longer than its JSON text); out NULL: only checked. */
static int read_string(jparse *j, char **out)
{
	const unsigned char *s = j->p + 1, *q = s;
	unsigned char high = 0;
	bool escaped = false;
	char *copy;

	for (;;) {
		if (q >= j->end) {
			j->p = s - 1;
			return syntax(j, "unterminated string");
		}
		if (*q == '"')
			break;
		if (*q < 0x20) {
			j->p = q;
			return syntax(j, "control character in a string");
		}
		if (*q == '\\') {
			escaped = true;
			q += 2;
			continue;
		}
		high |= *q++;
	}
	if ((high & 0x80) && !canary__utf8_valid((const char *)s,
	    (size_t)(q - s))) {
		j->p = s;
		return syntax(j, "a string that is not UTF-8");
	}
	if (!out) {
		j->p = q + 1;
		return escaped ? unescape(j, s, q, NULL) : 0;
	}
	if (!escaped && j->shared && (size_t)(q - s) <= SHARE_MAX)
		return shared_copy(j, s, (size_t)(q - s), out);
	copy = canary__arena_alloc(j->arena, (size_t)(q - s) + 1);
	if (!copy)
		return oom(j);
	if (!escaped)
		memcpy(copy, s, (size_t)(q - s));
	else if (unescape(j, s, q, copy) != 0)
		return -1;
	j->p = q + 1;
	*out = copy;
	return 0;
}

/* ---- scalars -------------------------------------------------------------- */

static int read_number(jparse *j, cJSON *item)
{
	const unsigned char *s = j->p, *q = s;
	bool whole = true, neg = *q == '-';
	uint64_t v = 0;
	size_t digits = 0;
	double d;

	q += neg;
	if (!is_digit(j, q))
		return syntax(j, "invalid number");
	if (*q == '0')
		q++;
	else
		for (; is_digit(j, q); q++, digits++)
			v = v * 10 + (uint64_t)(*q - '0');
	if (q < j->end && *q == '.') {
		whole = false;
		if (!is_digit(j, ++q))
			return syntax(j, "invalid number");
		while (is_digit(j, q))
			q++;
	}
	if (q < j->end && (*q == 'e' || *q == 'E')) {
		whole = false;
		q++;
		if (q < j->end && (*q == '+' || *q == '-'))
			q++;
		if (!is_digit(j, q))
			return syntax(j, "invalid number");
		while (is_digit(j, q))
			q++;
	}
	if (q - s > CANARY__JSON_MAX_NUMBER)
		return syntax(j, "a number longer than 63 characters");
	j->p = q;
	if (!item)
		return 0;
	if (whole && digits <= 15) {
		d = (double)v; /* exact below 2^53 */
		d = neg ? -d : d;
	} else {
		char buf[CANARY__JSON_MAX_NUMBER + 1], *dot;

		/* strtod reads the locale's decimal point, as cJSON lets it. */
		memcpy(buf, s, (size_t)(q - s));
		buf[q - s] = '\0';
		dot = strchr(buf, '.');
		if (dot)
			*dot = localeconv()->decimal_point[0];
		d = strtod(buf, NULL);
	}
	item->type = cJSON_Number;
	item->valuedouble = d;
	item->valueint = d >= INT_MAX ? INT_MAX : d <= (double)INT_MIN ?
		INT_MIN : (int)d;
	return 0;
}

static bool literal(jparse *j, const char *word, size_t n)
{
	if ((size_t)(j->end - j->p) < n || memcmp(j->p, word, n) != 0)
		return false;
	j->p += n;
	return true;
}

/* A string, number or literal; item NULL: only checked. */
static int read_scalar(jparse *j, cJSON *item)
{
	cJSON unbuilt;

	if (!item)
		memset(&unbuilt, 0, sizeof(unbuilt));
	switch (*j->p) {
	case '"':
		if (item)
			item->type = cJSON_String;
		return read_string(j, item ? &item->valuestring : NULL);
	case 't':
		item = item ? item : &unbuilt;
		item->type = cJSON_True;
		item->valueint = 1;
		return literal(j, "true", 4) ? 0 : syntax(j, "invalid literal");
	case 'f':
		item = item ? item : &unbuilt;
		item->type = cJSON_False;
		return literal(j, "false", 5) ? 0 : syntax(j, "invalid literal");
	case 'n':
		item = item ? item : &unbuilt;
		item->type = cJSON_NULL;
		return literal(j, "null", 4) ? 0 : syntax(j, "invalid literal");
	default:
		if (*j->p != '-' && (*j->p < '0' || *j->p > '9'))
			return syntax(j, "expected a value");
		return read_number(j, item);
	}
}

/* ---- structure ------------------------------------------------------------ */

/* A member's name and its colon; j->p then at the value. The name is kept
 * (j->key) when the object is built. */
static int read_key(jparse *j, bool keep)
{
	skip_space(j);
	if (j->p >= j->end || *j->p != '"')
		return syntax(j, "expected a member name");
	if (read_string(j, keep ? &j->key : NULL) != 0)
		return -1;
	skip_space(j);
	if (j->p >= j->end || *j->p != ':')
		return syntax(j, "expected ':'");
	j->p++;
	return 0;
}

/* Append as cJSON does: the first child's prev is the last child. */
static void attach(cJSON *parent, cJSON *item)
{
	cJSON *first = parent->child;

	if (!first) {
		parent->child = item;
		item->prev = item;
		return;
	}
	first->prev->next = item;
	item->prev = first->prev;
	first->prev = item;
}

/* ---- the deferred array ------------------------------------------------ */

/* An element of the deferred array starts at j->p. */
static int lazy_start(jparse *j)
{
	canary__json_lazy *lz = j->lazy;
	size_t at = (size_t)(j->p - j->start);

	if (lz->count == j->lazy_cap) {
		size_t cap = j->lazy_cap ? 2 * j->lazy_cap : 256;
		canary__json_span *items = canary__arena_array(j->arena, cap,
			sizeof(*items));

		if (!items)
			return oom(j);
		if (lz->count)
			memcpy(items, lz->items, lz->count * sizeof(*items));
		lz->items = items;
		j->lazy_cap = cap;
	}
	lz->items[lz->count].start = at;
	lz->items[lz->count++].end = at;
	return 0;
}

/* Is the container opening at depth 2 (a member of the root) the one to
 * defer? Only the first array of that name is. */
static bool defer(const jparse *j, const cJSON *item)
{
	return j->lazy && j->depth == 2 && item && item->type == cJSON_Array &&
		!j->lazy->array && item->string &&
		strcmp(item->string, j->lazy->key) == 0;
}

/* ---- the tree ------------------------------------------------------------ */

/* After a value: close the containers it ends. 1: the root is complete;
 * 0: another value follows (its member name read, in an object). */
static int close_values(jparse *j)
{
	while (j->depth > 0) {
		const frame *top = &j->frames[j->depth - 1];

		if (top->lazy) /* the value that ended is an element */
			j->lazy->items[j->lazy->count - 1].end =
				(size_t)(j->p - j->start);
		skip_space(j);
		if (j->p >= j->end)
			return syntax(j, "unexpected end of the text");
		if (*j->p == ',') {
			j->p++;
			return top->object ? read_key(j, top->node != NULL) : 0;
		}
		if (*j->p != (top->object ? '}' : ']'))
			return syntax(j, top->object ? "expected ',' or '}'" :
				"expected ',' or ']'");
		j->p++;
		j->depth--;
	}
	return 1;
}

static int more_frames(jparse *j)
{
	size_t room = 2 * j->room;
	frame *f;

	room = room < CANARY__JSON_MAX_DEPTH ? room : CANARY__JSON_MAX_DEPTH;
	f = canary__arena_array(j->arena, room, sizeof(*f));
	if (!f)
		return oom(j);
	memcpy(f, j->frames, j->depth * sizeof(*f));
	j->frames = f;
	j->room = room;
	return 0;
}

/* Open a container at j->p (item NULL: not built): 1 when it is empty
 * (and closed). */
static int open_container(jparse *j, cJSON *item)
{
	bool object = *j->p == '{';
	frame *f;

	if (j->depth == CANARY__JSON_MAX_DEPTH)
		return syntax(j, "nested more than 1000 deep");
	if (j->depth == j->room && more_frames(j) != 0)
		return -1;
	if (item)
		item->type = object ? cJSON_Object : cJSON_Array;
	f = &j->frames[j->depth++];
	f->node = item;
	f->object = object;
	f->lazy = defer(j, item);
	if (f->lazy)
		j->lazy->array = item;
	j->p++;
	skip_space(j);
	if (j->p < j->end && *j->p == (object ? '}' : ']')) {
		j->p++;
		j->depth--;
		return 1;
	}
	return object ? read_key(j, item != NULL) : 0;
}

/* One value, built where its container is (and is not deferred). */
static int read_value(jparse *j)
{
	const frame *parent = j->depth ? &j->frames[j->depth - 1] : NULL;
	cJSON *item = NULL;
	int rc;

	skip_space(j);
	if (j->p >= j->end)
		return syntax(j, "unexpected end of the text");
	if (parent && parent->lazy && lazy_start(j) != 0)
		return -1;
	if (!parent || (parent->node && !parent->lazy)) {
		item = canary__arena_alloc(j->arena, sizeof(*item));
		if (!item)
			return oom(j);
		item->string = j->key;
		if (parent)
			attach(parent->node, item);
		else
			j->root = item;
	}
	j->key = NULL;
	if (*j->p == '{' || *j->p == '[') {
		rc = open_container(j, item);
		if (rc == 0)
			return 0; /* its first member or element follows */
	} else {
		rc = read_scalar(j, item);
	}
	return rc < 0 ? -1 : close_values(j);
}

static int parse_tree(jparse *j)
{
	int rc;

	do
		rc = read_value(j);
	while (rc == 0);
	return rc < 0 ? -1 : 0;
}

/* "line L, column C" of j->p, for the error. */
static int malformed(const jparse *j, const char *doc)
{
	const unsigned char *q;
	size_t line = 1, col = 1;

	for (q = j->start; q < j->p && q < j->end; q++) {
		col++;
		if (*q == '\n') {
			line++;
			col = 1;
		}
	}
	return canary__perror_set(j->r->err, doc,
		"malformed JSON: %s at line %zu, column %zu", j->what, line, col);
}

static void start(jparse *j, canary__json_reader *r, canary__arena *arena,
	const char *text, size_t from, size_t to)
{
	memset(j, 0, sizeof(*j));
	j->start = (const unsigned char *)text;
	j->p = j->start + from;
	j->end = j->start + to;
	j->arena = arena;
	j->r = r;
	j->frames = j->first_frames;
	j->room = sizeof(j->first_frames) / sizeof(j->first_frames[0]);
}

/* Read the value at j->p to the end of the text. */
static int finish(jparse *j, const char *doc)
{
	if (parse_tree(j) != 0)
		return j->oom ? canary__perror_oom(j->r->err) : malformed(j, doc);
	skip_space(j);
	if (j->p != j->end)
		return canary__perror_set(j->r->err, doc,
			"trailing data after the JSON value");
	return CANARY_OK;
}

int canary__json_parse_arena(canary__json_reader *r, canary__arena *arena,
	const char *text, size_t len, size_t max, const char *doc,
	canary__json_lazy *lazy, const cJSON **out)
{
	shared_str shared[SHARE_SLOTS];
	jparse j;
	int rc;

	*out = NULL;
	doc = doc ? doc : "";
	if (lazy) {
		lazy->array = NULL;
		lazy->items = NULL;
		lazy->count = 0;
	}
	if (canary__json_check_size(r, text, len, max, doc) != CANARY_OK)
		return CANARY_EPARSE;
	r->nul_escaped = false;
	start(&j, r, arena, text, 0, len);
	memset(shared, 0, sizeof(shared));
	j.shared = shared;
	j.lazy = lazy;
	rc = finish(&j, doc);
	if (rc != CANARY_OK)
		return rc;
	if (j.root->type != cJSON_Object)
		return canary__perror_set(r->err, doc, "must be a JSON object");
	*out = j.root;
	return CANARY_OK;
}

/* Without sharing strings: a span is small, and clearing the table for
 * each of 10,000 features cost more than it saved. */
int canary__json_parse_span(canary__json_reader *r, canary__arena *arena,
	const char *text, canary__json_span span, const cJSON **out)
{
	jparse j;
	int rc;

	*out = NULL;
	start(&j, r, arena, text, span.start, span.end);
	rc = finish(&j, "");
	if (rc == CANARY_OK)
		*out = j.root;
	return rc;
}
