/*
 * regex_pcre2.h - the REGEX operator: PCRE2, compiled once, JIT-compiled
 * when the platform has it, matched without allocating.
 *
 * Patterns are limited to what RE2 (Unleash's reference engine) accepts:
 * no backreferences, lookaround, atomic groups, possessive quantifiers,
 * recursion, conditionals, callouts or backtracking verbs. So a pattern
 * means the same here and in Unleash, and a pattern that only PCRE2 would
 * accept is rejected when the rules are loaded. Matching is UTF-8, '$'
 * matches only at the very end (unless (?m)), \d \w \b and [[:alpha:]] are
 * ASCII, like RE2. Invalid UTF-8 in a subject never matches a non-ASCII
 * pattern character and never crashes (PCRE2_MATCH_INVALID_UTF).
 *
 * Cost is bounded: a match gives up (and counts as no match) after
 * CANARY__REGEX_MATCH_LIMIT steps, so a catastrophic pattern such as
 * (a+)+$ cannot stall an evaluation.
 */
#ifndef CANARY_PROTO_REGEX_PCRE2_H
#define CANARY_PROTO_REGEX_PCRE2_H

#include <stdbool.h>
#include <stddef.h>

#include "arena.h"

#define CANARY__REGEX_MATCH_LIMIT 100000u
#define CANARY__REGEX_DEPTH_LIMIT 10000u

typedef struct canary__regex {
	void *code;                    /* pcre2_code_8 */
	void *mctx;                    /* pcre2_match_context_8: the limits */
	const canary_allocator *alloc; /* the owning arena's */
	bool jit;                      /* matched by JIT code */
} canary__regex;

/* canary__regex_compile() options. */
#define CANARY__REGEX_CASELESS 0x1u
/* Refuse the escapes PCRE2 knows and RE2 does not (\G \K \Z \X \R \N
 * \h \H \V \cX; \C always is). Not for a config the SDK reads from its
 * server or cache: one stored before they were refused must still load. */
#define CANARY__REGEX_RE2_ESCAPES 0x2u

/*
 * Compile `pattern` (need not be NUL-terminated) with CANARY__REGEX_*
 * `opts`. The compiled code is freed with the arena. On a bad pattern
 * returns CANARY_EPARSE with the reason in why[] ("missing closing
 * parenthesis at offset 6", "lookaround is not supported");
 * CANARY_ENOMEM when memory ran out.
 */
int canary__regex_compile(canary__arena *arena, const char *pattern,
	size_t len, unsigned opts, canary__regex *out, char *why, size_t whylen);

/*
 * Does `subject` contain a match? Thread-safe (the compiled code is only
 * read). With JIT it allocates nothing: PCRE2's small match block is
 * carved from the caller's stack. Without JIT (a platform PCRE2 has no JIT
 * for) PCRE2's interpreter needs a frame vector, allocated and freed
 * through the arena's allocator per call.
 */
bool canary__regex_match(const canary__regex *re, const char *subject,
	size_t len);

#endif
