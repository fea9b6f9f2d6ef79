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

typedef struct jparse {
	const unsigned char *p;       /* the next byte to read */
	const unsigned char *start, *end;
	canary__arena *arena;
	canary__json_reader *r;
	const char *what;             /* the syntax error, when one */
	bool oom;
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

/* A \u escape at *q (before `end`): a surrogate only as a high-low pair;
 * \u0000 as the mark the readers refuse. */
static int unicode_escape(jparse *j, const unsigned char **q,
	const unsigned char *end, char **o)
{
	uint32_t cp, lo;

	if (end - *q < 6 || hex4(*q + 2, &cp) != 0)
		return syntax(j, "invalid \\u escape");
	*q += 6;
	if (cp >= 0xDC00 && cp <= 0xDFFF)
		return syntax(j, "unpaired surrogate in a \\u escape");
	if (cp >= 0xD800 && cp <= 0xDBFF) {
		if (end - *q < 6 || (*q)[0] != '\\' || (*q)[1] != 'u' ||
		    hex4(*q + 2, &lo) != 0 || lo < 0xDC00 || lo > 0xDFFF)
			return syntax(j, "unpaired surrogate in a \\u escape");
		*q += 6;
		cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
	}
	if (cp == 0) {
		memcpy(*o, CANARY__JSON_NUL_MARK, 2);
		*o += 2;
		j->r->nul_escaped = true;
		return 0;
	}
	*o = put_utf8(*o, cp);
	return 0;
}

/* Decode raw[0..end) (escapes known valid in shape) into o. */
static int unescape(jparse *j, const unsigned char *q,
	const unsigned char *end, char *o)
{
	static const char simple[] = "\"\"\\\\//b\bf\fn\nr\rt\t";

	while (q < end) {
		const char *hit;

		if (*q != '\\') {
			*o++ = (char)*q++;
			continue;
		}
		if (q[1] == 'u') {
			if (unicode_escape(j, &q, end, &o) != 0) {
				j->p = q;
				return -1;
			}
			continue;
		}
		hit = memchr(simple, q[1], sizeof(simple) - 1);
		if (!hit || (hit - simple) % 2 != 0) {
			j->p = q;
			return syntax(j, "invalid escape in a string");
		}
		*o++ = hit[1];
		q += 2;
	}
	return 0;
}

/* The string whose opening quote is at j->p, NUL-terminated in the arena;
 * never longer than its JSON text. */
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
	j->p = q;
	return 0;
}

static bool literal(jparse *j, const char *word, size_t n)
{
	if ((size_t)(j->end - j->p) < n || memcmp(j->p, word, n) != 0)
		return false;
	j->p += n;
	return true;
}

static int read_scalar(jparse *j, cJSON *item)
{
	switch (*j->p) {
	case '"':
		item->type = cJSON_String;
		return read_string(j, &item->valuestring);
	case 't':
		item->type = cJSON_True;
		item->valueint = 1;
		return literal(j, "true", 4) ? 0 : syntax(j, "invalid literal");
	case 'f':
		item->type = cJSON_False;
		return literal(j, "false", 5) ? 0 : syntax(j, "invalid literal");
	case 'n':
		item->type = cJSON_NULL;
		return literal(j, "null", 4) ? 0 : syntax(j, "invalid literal");
	default:
		if (*j->p != '-' && (*j->p < '0' || *j->p > '9'))
			return syntax(j, "expected a value");
		return read_number(j, item);
	}
}

/* ---- structure ------------------------------------------------------------ */

/* A member's name and its colon; j->p then at the value. */
static int read_key(jparse *j, char **key)
{
	skip_space(j);
	if (j->p >= j->end || *j->p != '"')
		return syntax(j, "expected a member name");
	if (read_string(j, key) != 0)
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

/* After a value: close the containers it ends. 1: the root is complete;
 * 0: another value follows (its key read, in an object). */
static int close_values(jparse *j, cJSON **stack, size_t *depth, char **key)
{
	while (*depth > 0) {
		const cJSON *top = stack[*depth - 1];
		bool object = top->type == cJSON_Object;

		skip_space(j);
		if (j->p >= j->end)
			return syntax(j, "unexpected end of the text");
		if (*j->p == ',') {
			j->p++;
			return object ? read_key(j, key) : 0;
		}
		if (*j->p != (object ? '}' : ']'))
			return syntax(j, object ? "expected ',' or '}'" :
				"expected ',' or ']'");
		j->p++;
		(*depth)--;
	}
	return 1;
}

/* Open a container at j->p: 1 when it is empty (and closed). */
static int open_container(jparse *j, cJSON *item, cJSON **stack,
	size_t *depth, char **key)
{
	bool object = *j->p == '{';

	if (*depth == CANARY__JSON_MAX_DEPTH)
		return syntax(j, "nested more than 1000 deep");
	item->type = object ? cJSON_Object : cJSON_Array;
	stack[(*depth)++] = item;
	j->p++;
	skip_space(j);
	if (j->p < j->end && *j->p == (object ? '}' : ']')) {
		j->p++;
		(*depth)--;
		return 1;
	}
	return object ? read_key(j, key) : 0;
}

static int parse_tree(jparse *j, cJSON **root)
{
	cJSON **stack = canary__arena_array(j->arena, CANARY__JSON_MAX_DEPTH,
		sizeof(*stack));
	size_t depth = 0;
	char *key = NULL;
	int rc;

	if (!stack)
		return oom(j);
	for (;;) {
		cJSON *item;

		skip_space(j);
		if (j->p >= j->end)
			return syntax(j, "unexpected end of the text");
		item = canary__arena_alloc(j->arena, sizeof(*item));
		if (!item)
			return oom(j);
		item->string = key;
		key = NULL;
		if (depth)
			attach(stack[depth - 1], item);
		else
			*root = item;
		if (*j->p == '{' || *j->p == '[')
			rc = open_container(j, item, stack, &depth, &key);
		else
			rc = read_scalar(j, item);
		if (rc == 1 || (rc == 0 && item->type != cJSON_Object &&
		    item->type != cJSON_Array))
			rc = close_values(j, stack, &depth, &key);
		else if (rc == 0)
			continue; /* the first member or element follows */
		if (rc != 0)
			return rc < 0 ? -1 : 0;
	}
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

int canary__json_parse_arena(canary__json_reader *r, canary__arena *arena,
	const char *text, size_t len, size_t max, const char *doc,
	const cJSON **out)
{
	cJSON *root = NULL;
	jparse j;

	*out = NULL;
	doc = doc ? doc : "";
	if (canary__json_check_size(r, text, len, max, doc) != CANARY_OK)
		return CANARY_EPARSE;
	memset(&j, 0, sizeof(j));
	j.p = j.start = (const unsigned char *)text;
	j.end = j.start + len;
	j.arena = arena;
	j.r = r;
	r->nul_escaped = false;
	if (parse_tree(&j, &root) != 0)
		return j.oom ? canary__perror_oom(r->err) : malformed(&j, doc);
	skip_space(&j);
	if (j.p != j.end)
		return canary__perror_set(r->err, doc,
			"trailing data after the JSON value");
	if (root->type != cJSON_Object)
		return canary__perror_set(r->err, doc, "must be a JSON object");
	*out = root;
	return CANARY_OK;
}
