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

/* MAJOR.MINOR.PATCH alone (no pre-release, no build metadata), each part
 * at most 18 digits without a leading zero, read from the NUL-terminated
 * `s` into out[3]: the common case, compared as integers without a
 * parse. false: anything else (then canary__semver_parse() decides). */
bool canary__semver_triple(const char *s, uint64_t out[3]);

/* Precedence: <0, 0, >0. 1.0.0-alpha < 1.0.0-alpha.1 < 1.0.0-beta < 1.0.0;
 * 1.0.0+a equals 1.0.0+b. */
int canary__semver_cmp(const canary__semver *a, const canary__semver *b);

#endif
