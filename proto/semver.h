/*
 * semver.h - Semantic Versioning 2.0.0 parsing and precedence.
 *
 * Strict: MAJOR.MINOR.PATCH of non-negative integers without leading
 * zeros, an optional pre-release (-alpha.1) and optional build metadata
 * (+build.5), which precedence ignores. No "v" prefix, no white space, no
 * missing parts ("1.2" is not a version). Numbers of any length compare
 * correctly (no integer overflow: digit strings are compared).
 */
#ifndef CANARY_PROTO_SEMVER_H
#define CANARY_PROTO_SEMVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Points into the parsed text, which must outlive the struct. */
typedef struct canary__semver {
	const char *part[3];    /* major, minor, patch digits */
	uint32_t part_len[3];
	const char *pre;        /* pre-release identifiers, or NULL */
	uint32_t pre_len;
} canary__semver;

bool canary__semver_parse(const char *s, size_t len, canary__semver *out);

/*
 * A compiled operand (a constraint's value), kept so that a caller's text
 * can be compared with it in one scan, without a parse into a struct:
 * MAJOR.MINOR.PATCH read as integers while the grammar is checked, the
 * pre-release compared only when the three numbers are equal.
 */
typedef struct canary__semver_key {
	canary__semver v;       /* the operand, parsed (points into its text) */
	uint64_t num[3];        /* v's MAJOR.MINOR.PATCH when `fits` */
	bool fits;              /* every part has at most 18 digits */
} canary__semver_key;

/* Parse s[0..len) into a key; false: not a version. */
bool canary__semver_key_init(canary__semver_key *k, const char *s,
	size_t len);

/* canary__semver_order(): `s` is not a version. */
#define CANARY__SEMVER_NONE 3

/* The order of the NUL-terminated `s` against `k`: 0 below, 1 equal, 2
 * above (the sign of canary__semver_cmp(s, k) plus 1), or
 * CANARY__SEMVER_NONE when `s` is not a version. Exactly
 * canary__semver_parse() + canary__semver_cmp(), in one scan. */
int canary__semver_order(const char *s, const canary__semver_key *k);

/* Precedence: <0, 0, >0. 1.0.0-alpha < 1.0.0-alpha.1 < 1.0.0-beta < 1.0.0;
 * 1.0.0+a equals 1.0.0+b. */
int canary__semver_cmp(const canary__semver *a, const canary__semver *b);

#endif
