/*
 * regex_pcre2.c - PCRE2 behind the REGEX operator, restricted to RE2's
 * syntax, with allocation-free matching.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "regex_pcre2.h"

#include <pcre2.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Room for PCRE2's general context and a one-pair match data block on
 * the stack (about 200 bytes in PCRE2 10.4x; anything larger falls back
 * to the allocator, so a future PCRE2 is slower, never wrong). */
#define STACK_BYTES 512

typedef union stack_align {
	long double ld;
	void *p;
	long long ll;
} stack_align;

typedef struct stack_pool {
	stack_align buf[STACK_BYTES / sizeof(stack_align)];
	size_t used;
	const canary_allocator *alloc;
} stack_pool;

static void *pool_malloc(PCRE2_SIZE size, void *data)
{
	stack_pool *pool = data;
	size_t need = (size + sizeof(stack_align) - 1) / sizeof(stack_align) *
		sizeof(stack_align);

	if (need <= sizeof(pool->buf) - pool->used) {
		void *p = (unsigned char *)pool->buf + pool->used;

		pool->used += need;
		return p;
	}
	return pool->alloc->malloc_fn(size, pool->alloc->ctx);
}

static void pool_free(void *ptr, void *data)
{
	stack_pool *pool = data;
	uintptr_t p = (uintptr_t)ptr, lo = (uintptr_t)pool->buf;

	if (ptr && (p < lo || p >= lo + sizeof(pool->buf)))
		pool->alloc->free_fn(ptr, pool->alloc->ctx);
}

bool canary__regex_match(const canary__regex *re, const char *subject,
	size_t len)
{
	pcre2_general_context *g;
	pcre2_match_data *md;
	stack_pool pool;
	int rc;

	pool.used = 0;
	pool.alloc = re->alloc;
	g = pcre2_general_context_create(pool_malloc, pool_free, &pool);
	if (!g)
		return false;
	md = pcre2_match_data_create(1, g);
	if (!md) {
		pcre2_general_context_free(g);
		return false;
	}
	rc = pcre2_match(re->code, (PCRE2_SPTR)subject, len, 0, 0, md, re->mctx);
	pcre2_match_data_free(md);
	pcre2_general_context_free(g);
	/* 0 = matched, with more groups than the one-pair ovector holds. */
	return rc >= 0;
}

/* ---- RE2 syntax only ---------------------------------------------------- */

/* After "(?": a non-capturing group, flags ([imsU-]), or a named group
 * (?P<name> / (?<name>. Anything else is PCRE2-only. */
static const char *group_ok(const char *p, const char *end)
{
	const char *q = p;

	if (q < end && *q == ':')
		return NULL;
	if (q < end && *q == 'P')
		q++;
	if (q < end && *q == '<')
		return q + 1 < end && (q[1] == '=' || q[1] == '!') ?
			"lookbehind is not supported" : NULL;
	if (q != p)
		return "this (?P group is not supported";
	while (q < end && *q && strchr("imsU-", *q))
		q++;
	if (q > p && q < end && (*q == ':' || *q == ')'))
		return NULL;
	if (p < end && (*p == '=' || *p == '!'))
		return "lookahead is not supported";
	if (p < end && *p == '>')
		return "atomic groups are not supported";
	return "this (? group is not supported";
}

/* Skip a character class starting after '['; returns the byte after ']'. */
static const char *skip_class(const char *p, const char *end)
{
	if (p < end && *p == '^')
		p++;
	if (p < end && *p == ']')
		p++;
	while (p < end && *p != ']') {
		if (*p == '\\') {
			p += 2;
		} else if (*p == '[' && p + 1 < end && p[1] == ':') {
			const char *close = p + 2;

			while (close + 1 < end && !(close[0] == ':' && close[1] == ']'))
				close++;
			p = close + 2;
		} else {
			p++;
		}
	}
	return p < end ? p + 1 : end;
}

/* Why RE2 would refuse the escape "\" c outside a class, or NULL:
 * PCRE2 gives these a meaning (\Z before a final newline, \K a new
 * start, \R \h \X classes of its own) that a rule must not have in one
 * SDK and not in another. */
static const char *non_re2_escape(char c)
{
	switch (c) {
	case 'C': return "\\C is not supported";
	case 'G': return "\\G is not supported";
	case 'K': return "\\K is not supported";
	case 'Z': return "\\Z is not supported (\\z is)";
	case 'X': return "\\X is not supported";
	case 'R': return "\\R is not supported";
	case 'N': return "\\N is not supported";
	case 'h': case 'H': case 'V':
		return "\\h, \\H and \\V are not supported";
	case 'c': return "\\c control escapes are not supported";
	default: return NULL;
	}
}

/* The first construct RE2 would refuse, or NULL; of the escapes only \C
 * unless `escapes`. Backreferences are found from the compiled pattern
 * (PCRE2_INFO_BACKREFMAX) instead. */
static const char *re2_violation(const char *p, const char *end,
	bool escapes)
{
	while (p < end) {
		char c = *p;

		if (c == '\\') {
			if (p + 1 < end && p[1] == 'Q') {
				const char *q = p + 2;

				while (q + 1 < end && !(q[0] == '\\' && q[1] == 'E'))
					q++;
				p = q + 2;
				continue;
			}
			if (p + 1 < end && p[1] == 'C')
				return non_re2_escape(p[1]);
			if (p + 1 < end && escapes && non_re2_escape(p[1]))
				return non_re2_escape(p[1]);
			p += 2;
		} else if (c == '[') {
			p = skip_class(p + 1, end);
		} else if (c == '(' && p + 1 < end && p[1] == '*') {
			return "backtracking verbs are not supported";
		} else if (c == '(' && p + 1 < end && p[1] == '?') {
			const char *why = group_ok(p + 2, end);

			if (why)
				return why;
			p += 2;
		} else if ((c == '*' || c == '+' || c == '?') && p + 1 < end &&
			   p[1] == '+') {
			return "possessive quantifiers are not supported";
		} else {
			p++;
		}
	}
	return NULL;
}

static void free_regex(void *ptr)
{
	canary__regex *re = ptr;

	pcre2_match_context_free(re->mctx);
	pcre2_code_free(re->code);
}

/* Compile through the arena's allocator (PCRE2 keeps a copy of it in the
 * code and the match context, so the contexts can go at once). */
static int compile_code(canary__arena *arena, const char *pattern,
	size_t len, bool caseless, canary__regex *out, char *why, size_t whylen)
{
	uint32_t opts = PCRE2_UTF | PCRE2_MATCH_INVALID_UTF |
		PCRE2_DOLLAR_ENDONLY | PCRE2_NEVER_BACKSLASH_C |
		(caseless ? PCRE2_CASELESS : 0);
	pcre2_general_context *g;
	pcre2_compile_context *cc = NULL;
	PCRE2_SIZE offset = 0;
	int err = PCRE2_ERROR_NOMEMORY;

	g = pcre2_general_context_create(arena->alloc.malloc_fn,
		arena->alloc.free_fn, arena->alloc.ctx);
	if (g)
		cc = pcre2_compile_context_create(g);
	if (cc)
		out->code = pcre2_compile((PCRE2_SPTR)pattern, len, opts, &err,
			&offset, cc);
	if (out->code)
		out->mctx = pcre2_match_context_create(g);
	pcre2_compile_context_free(cc);
	pcre2_general_context_free(g);
	if (!out->code && err != PCRE2_ERROR_NOMEMORY) {
		PCRE2_UCHAR msg[120];

		pcre2_get_error_message(err, msg, sizeof(msg));
		snprintf(why, whylen, "%s at offset %zu", (const char *)msg,
			(size_t)offset);
		return CANARY_EPARSE;
	}
	if (!out->code || !out->mctx) {
		free_regex(out);
		return CANARY_ENOMEM;
	}
	return CANARY_OK;
}

static bool has_backrefs(const canary__regex *re)
{
	uint32_t backrefs = 0;

	pcre2_pattern_info(re->code, PCRE2_INFO_BACKREFMAX, &backrefs);
	return backrefs != 0;
}

int canary__regex_compile(canary__arena *arena, const char *pattern,
	size_t len, unsigned opts, canary__regex *out, char *why, size_t whylen)
{
	bool caseless = opts & CANARY__REGEX_CASELESS;
	const char *violation = re2_violation(pattern, pattern + len,
		opts & CANARY__REGEX_RE2_ESCAPES);
	int rc;

	memset(out, 0, sizeof(*out));
	if (violation) {
		snprintf(why, whylen, "%s", violation);
		return CANARY_EPARSE;
	}
	rc = compile_code(arena, pattern, len, caseless, out, why, whylen);
	if (rc != CANARY_OK)
		return rc;
	if (has_backrefs(out)) {
		free_regex(out);
		snprintf(why, whylen, "backreferences are not supported");
		return CANARY_EPARSE;
	}
	pcre2_set_match_limit(out->mctx, CANARY__REGEX_MATCH_LIMIT);
	pcre2_set_depth_limit(out->mctx, CANARY__REGEX_DEPTH_LIMIT);
	out->jit = pcre2_jit_compile(out->code, PCRE2_JIT_COMPLETE) == 0;
	out->alloc = &arena->alloc;
	if (canary__arena_defer(arena, free_regex, out) != CANARY_OK) {
		free_regex(out);
		return CANARY_ENOMEM;
	}
	return CANARY_OK;
}
