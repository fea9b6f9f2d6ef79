/*
 * hll.h - HyperLogLog distinct counts of units: how many different users
 * (units) an arm exposed, and how many of them saw at least one error,
 * without a unit id leaving the process. Written by the SDK per window,
 * merged and read by canary-server's judge; one definition for both.
 *
 * Sketch: 2^p registers of one byte, over a caller-provided array (nothing
 * here allocates). A unit's 64-bit hash (canary__hll_hash) picks register
 * hash >> (64 - p); the register keeps the largest rank seen, the rank
 * being 1 + the leading zeros of the remaining 64 - p bits (64 - p + 1
 * when they are all zero). Merging is the maximum per register, so a
 * merge is the sketch of the union, and merging a window twice (a replayed
 * batch) changes nothing.
 *
 * Estimate: Ertl's improved raw estimator ("New cardinality estimation
 * algorithms for HyperLogLog sketches", 2017), which needs no empirical
 * bias tables and no switch to linear counting: its sigma() term is the
 * small-range correction (exact enough for a handful of units), its tau()
 * term the large-range one. No bias; relative standard error about
 * 1.04 / sqrt(2^p) for large counts: at CANARY__HLL_P = 12, 4096 registers
 * (4 KiB), about 1.6%. Well below 2^p units it is about 1 / sqrt(2^(p+1)),
 * 1.1%, and a count under about 30 reads exactly (3 units estimate 3.00).
 * tests/unit/test_hll.c measures both.
 *
 * Wire form (canary__hll_encode; base64 in the JSON batch), little-endian:
 *   byte 0  format version, 1
 *   byte 1  p, CANARY__HLL_MIN_P..CANARY__HLL_MAX_P
 *   byte 2  0 = dense, 1 = sparse
 *   byte 3  0 (reserved)
 *   dense:  2^p registers of 6 bits each, register j in bits 6j..6j+5 of
 *           the body read as one little-endian bit string (3 * 2^p / 4 bytes)
 *   sparse: the number n of entries (32 bits), then 3 bytes per non-zero
 *           register, index << 6 | value as a 24-bit integer, indices
 *           strictly increasing (so a cut at any byte is refused)
 * Values are 0..64 - p + 1 (1.. in sparse entries). The encoder picks the
 * shorter form; the decoder accepts both and rejects anything else.
 *
 * Threading: a sketch is a plain value; callers serialise access.
 */
#ifndef CANARY_PROTO_HLL_H
#define CANARY_PROTO_HLL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CANARY__HLL_MIN_P 4u
#define CANARY__HLL_MAX_P 16u
/* The precision the SDK writes and the server expects. */
#define CANARY__HLL_P 12u
#define CANARY__HLL_REGS(p) ((size_t)1 << (p))
/* Largest encoding of any sketch: header + dense body at MAX_P. */
#define CANARY__HLL_HEADER 4u
#define CANARY__HLL_DENSE_BYTES(p) (CANARY__HLL_REGS(p) * 3u / 4u)
#define CANARY__HLL_MAX_ENCODED \
	(CANARY__HLL_HEADER + CANARY__HLL_DENSE_BYTES(CANARY__HLL_MAX_P))

typedef struct canary__hll {
	unsigned p;
	uint8_t *reg; /* 2^p registers, borrowed from the caller */
} canary__hll;

/*
 * The unit hash every sketch uses, the same in every SDK (sketches from
 * different instances merge): the bytes as little-endian 8-byte words
 * (the last 1..7 bytes zero-padded into one more), each multiplied by
 * 0x87c37b91114253d5, rotated left 31, multiplied by 0x4cf5ad432745937f
 * and xored into the state, which is then rotated left 27, multiplied by
 * 5 and added 0x52dce729; the state starts at 0x9e3779b97f4a7c15 xor
 * length x 0xc2b2ae3d27d4eb4f, and ends through the MurmurHash3 64-bit
 * finaliser. A word per round: the SDK hashes each unit of a rolled-out
 * flag on its hot path. Independent of the bucketing hash
 * (MurmurHash3 x86_32 of "<salt>:<unit>"), so a rollout's canary units do
 * not crowd a few registers.
 */
uint64_t canary__hll_hash(const void *data, size_t len);

/*
 * Point `h` at `regs` (2^p bytes, owned by the caller, kept until the
 * sketch is no longer used) and empty it.
 * @return 0; CANARY_EINVAL when p is outside MIN_P..MAX_P or regs is NULL.
 */
int canary__hll_init(canary__hll *h, unsigned p, uint8_t *regs);

void canary__hll_clear(canary__hll *h);

/* The register a hash goes to at precision p, and the rank it offers:
 * what canary__hll_add_hash() keeps, for callers that keep registers of
 * their own (the SDK's, atomic). */
static inline size_t canary__hll_register(uint64_t hash, unsigned p)
{
	return (size_t)(hash >> (64 - p));
}

static inline unsigned canary__hll_rank(uint64_t hash, unsigned p)
{
	uint64_t rest = hash << p;
	unsigned rank = 1;

	if (rest == 0)
		return 64 - p + 1;
#if defined(__GNUC__)
	rank += (unsigned)__builtin_clzll(rest);
#else
	while (!(rest & 0x8000000000000000ull)) {
		rest <<= 1;
		rank++;
	}
#endif
	return rank;
}

void canary__hll_add_hash(canary__hll *h, uint64_t hash);

/* Add a unit by its id (the bytes canary_enabled() was given). */
void canary__hll_add(canary__hll *h, const void *unit, size_t len);

/* dst = dst union src. @return 0; CANARY_EINVAL when the precisions differ. */
int canary__hll_merge(canary__hll *dst, const canary__hll *src);

/* True when every register of `a` is <= the same register of `b` (same
 * precision): what "the units of a are among the units of b" implies. The
 * judge's consistency check of units with errors against units exposed. */
bool canary__hll_within(const canary__hll *a, const canary__hll *b);

/* Estimated number of distinct units; 0 for an empty sketch. */
double canary__hll_estimate(const canary__hll *h);

/* The estimate's relative standard error for large counts, 1.04 / 2^(p/2). */
double canary__hll_rse(unsigned p);

/* Could a sketch at precision p whose estimate is `est` hold at most
 * `limit` units? Within 4 relative standard errors, and 2 units of slack
 * (a unit counted at a window's edge). What the server's ingest check
 * (cj_window_check) and the SDK, before it sends a window, both apply. */
bool canary__hll_plausible(double est, unsigned p, double limit);

/*
 * Encode into out[0..cap). @return the bytes written; 0 when `cap` is too
 * small (CANARY__HLL_MAX_ENCODED always suffices).
 */
size_t canary__hll_encode(const canary__hll *h, uint8_t *out, size_t cap);

/*
 * Decode in[0..len) into `h`, whose precision must be the encoded one
 * (merging needs equal precisions; the server's sketches are
 * CANARY__HLL_P). Strict: a wrong version, precision, form or length, a
 * register value above 64 - p + 1, a sparse index out of range, repeated
 * or out of order, a zero sparse value, or a non-zero reserved byte is
 * refused.
 * @return 0, or CANARY_EPARSE with `err` saying why (and `h` emptied).
 */
int canary__hll_decode(canary__hll *h, const uint8_t *in, size_t len,
	char *err, size_t errlen);

/* Merge the sketch encoded in in[0..len) into `h` (register maximum),
 * with the decoder's checks; on CANARY_EPARSE `h` is unchanged. What a
 * store does with the sketches it keeps in their wire form. */
int canary__hll_merge_encoded(canary__hll *h, const uint8_t *in, size_t len,
	char *err, size_t errlen);

#endif
