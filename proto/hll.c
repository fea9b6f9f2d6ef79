/*
 * hll.c - HyperLogLog sketches of units (see hll.h).
 */
#include "hll.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "canary/canary.h"
#include "le_codec.h"

#define FORMAT_VERSION 1u
#define FORM_DENSE 0u
#define FORM_SPARSE 1u

static uint64_t rotl64(uint64_t x, unsigned r)
{
	return x << r | x >> (64 - r);
}

/* One 8-byte word into the state: the word mixed on its own (multiply,
 * rotate, multiply), then folded in and the state stirred. */
static uint64_t absorb(uint64_t h, uint64_t w)
{
	w *= 0x87c37b91114253d5ull;
	w = rotl64(w, 31);
	w *= 0x4cf5ad432745937full;
	h ^= w;
	return rotl64(h, 27) * 5 + 0x52dce729;
}

/* The last `rest` (1..7) of the `len` bytes at p, little-endian, as one
 * zero-padded word; read as whole words where the length allows. */
static uint64_t tail(const unsigned char *p, size_t len, size_t rest)
{
	uint64_t w = 0;
	size_t k;

	if (len >= 8)
		return canary__le64(p + len - 8) >> (8 * (8 - rest));
	if (len == 4)
		return canary__le32(p);
	if (len > 4)
		return canary__le32(p) | (uint64_t)(canary__le32(p + len - 4) >>
			(8 * (8 - len))) << 32;
	for (k = len; k-- > 0;)
		w = w << 8 | p[k];
	return w;
}

uint64_t canary__hll_hash(const void *data, size_t len)
{
	const unsigned char *p = data;
	uint64_t h = 0x9e3779b97f4a7c15ull ^ (uint64_t)len *
		0xc2b2ae3d27d4eb4full;
	size_t i, rest = len % 8;

	for (i = 0; i + 8 <= len; i += 8)
		h = absorb(h, canary__le64(p + i));
	if (rest)
		h = absorb(h, tail(p, len, rest));
	/* MurmurHash3's 64-bit finaliser: every input bit reaches the top
	 * bits, where the register index comes from. */
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return h;
}

static unsigned max_rank(unsigned p)
{
	return 64 - p + 1;
}

int canary__hll_init(canary__hll *h, unsigned p, uint8_t *regs)
{
	if (p < CANARY__HLL_MIN_P || p > CANARY__HLL_MAX_P || !regs)
		return CANARY_EINVAL;
	h->p = p;
	h->reg = regs;
	canary__hll_clear(h);
	return 0;
}

void canary__hll_clear(canary__hll *h)
{
	memset(h->reg, 0, CANARY__HLL_REGS(h->p));
}

void canary__hll_add_hash(canary__hll *h, uint64_t hash)
{
	size_t j = canary__hll_register(hash, h->p);
	unsigned rank = canary__hll_rank(hash, h->p);

	if (h->reg[j] < rank)
		h->reg[j] = (uint8_t)rank;
}

void canary__hll_add(canary__hll *h, const void *unit, size_t len)
{
	canary__hll_add_hash(h, canary__hll_hash(unit, len));
}

int canary__hll_merge(canary__hll *dst, const canary__hll *src)
{
	size_t j, m = CANARY__HLL_REGS(dst->p);
	uint8_t *restrict d = dst->reg;
	const uint8_t *restrict s = src->reg;

	if (dst->p != src->p)
		return CANARY_EINVAL;
	if (d == s)
		return 0;
	/* Distinct arrays, branch-free: the compiler vectorises this. */
	for (j = 0; j < m; j++)
		d[j] = d[j] > s[j] ? d[j] : s[j];
	return 0;
}

bool canary__hll_within(const canary__hll *a, const canary__hll *b)
{
	size_t j, m = CANARY__HLL_REGS(a->p);

	if (a->p != b->p)
		return false;
	for (j = 0; j < m; j++)
		if (a->reg[j] > b->reg[j])
			return false;
	return true;
}

/* sigma(x) = x + sum_{k>=1} x^(2^k) 2^(k-1): the correction for empty
 * registers (Ertl 2017); infinite for x = 1 (an empty sketch). */
static double sigma(double x)
{
	double y = 1, z = x, prev;

	if (x == 1)
		return INFINITY;
	do {
		x *= x;
		prev = z;
		z += x * y;
		y += y;
	} while (z != prev);
	return z;
}

/* tau(x) = (1 - x - sum_{k>=1} (1 - x^(2^-k))^2 2^-k) / 3: the correction
 * for registers at the largest rank. */
static double tau(double x)
{
	double y = 1, z = 1 - x, prev;

	if (x == 0 || x == 1)
		return 0;
	do {
		x = sqrt(x);
		prev = z;
		y *= 0.5;
		z -= (1 - x) * (1 - x) * y;
	} while (z != prev);
	return z / 3;
}

double canary__hll_estimate(const canary__hll *h)
{
	uint32_t c[256] = { 0 }; /* registers per value */
	double m = (double)CANARY__HLL_REGS(h->p), z;
	unsigned q = 64 - h->p, k;
	size_t j;

	for (j = 0; j < CANARY__HLL_REGS(h->p); j++)
		c[h->reg[j]]++;
	for (k = q + 2; k < 256; k++) /* out of range: count as the top */
		c[q + 1] += c[k];
	if (c[0] == (uint32_t)m)
		return 0;
	z = m * tau(1 - c[q + 1] / m);
	for (k = q; k >= 1; k--)
		z = 0.5 * (z + c[k]);
	z += m * sigma(c[0] / m);
	return m * m / (2 * log(2)) / z; /* alpha_inf = 1 / (2 ln 2) */
}

double canary__hll_rse(unsigned p)
{
	return 1.04 / sqrt((double)CANARY__HLL_REGS(p));
}

bool canary__hll_plausible(double est, unsigned p, double limit)
{
	return est <= limit * (1 + 4 * canary__hll_rse(p)) + 2;
}

/* ---- wire form ------------------------------------------------------- */

static size_t nonzero(const canary__hll *h)
{
	size_t j, n = 0;

	for (j = 0; j < CANARY__HLL_REGS(h->p); j++)
		n += h->reg[j] != 0;
	return n;
}

static void encode_dense(const canary__hll *h, uint8_t *body)
{
	size_t j, m = CANARY__HLL_REGS(h->p);

	memset(body, 0, CANARY__HLL_DENSE_BYTES(h->p));
	for (j = 0; j < m; j++) {
		size_t bit = 6 * j;
		unsigned v = (unsigned)h->reg[j] << (bit % 8);

		body[bit / 8] |= (uint8_t)v;
		if (v > 0xff)
			body[bit / 8 + 1] |= (uint8_t)(v >> 8);
	}
}

static void encode_sparse(const canary__hll *h, uint8_t *body, size_t n)
{
	size_t j, m = CANARY__HLL_REGS(h->p);

	body = canary__le_put(body, n, 4);
	for (j = 0; j < m; j++)
		if (h->reg[j])
			body = canary__le_put(body, (uint64_t)j << 6 | h->reg[j],
				3);
}

size_t canary__hll_encode(const canary__hll *h, uint8_t *out, size_t cap)
{
	size_t n = nonzero(h), dense = CANARY__HLL_DENSE_BYTES(h->p);
	size_t sparse = 4 + 3 * n;
	bool use_sparse = sparse < dense;
	size_t len = CANARY__HLL_HEADER + (use_sparse ? sparse : dense);

	if (cap < len)
		return 0;
	out[0] = FORMAT_VERSION;
	out[1] = (uint8_t)h->p;
	out[2] = use_sparse ? FORM_SPARSE : FORM_DENSE;
	out[3] = 0;
	if (use_sparse)
		encode_sparse(h, out + CANARY__HLL_HEADER, n);
	else
		encode_dense(h, out + CANARY__HLL_HEADER);
	return len;
}

#if defined(__GNUC__)
#  define HLL_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#  define HLL_PRINTF(f, a)
#endif

/* What a decoding pass does with each register it reads. */
enum apply { CHECK, WRITE, MAX };

static int refuse(canary__hll *h, enum apply how, char *err, size_t errlen,
	const char *fmt, ...) HLL_PRINTF(5, 6);

static int refuse(canary__hll *h, enum apply how, char *err, size_t errlen,
	const char *fmt, ...)
{
	va_list ap;

	if (how == WRITE)
		canary__hll_clear(h);
	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return CANARY_EPARSE;
}

static void put(canary__hll *h, size_t j, unsigned v, enum apply how)
{
	if (how == WRITE || (how == MAX && v > h->reg[j]))
		h->reg[j] = (uint8_t)v;
}

static int decode_dense(canary__hll *h, const uint8_t *body, size_t len,
	enum apply how, char *err, size_t errlen)
{
	size_t j, m = CANARY__HLL_REGS(h->p);

	if (len != CANARY__HLL_DENSE_BYTES(h->p))
		return refuse(h, how, err, errlen, "dense sketch: body of %zu "
			"bytes, must be %zu", len, CANARY__HLL_DENSE_BYTES(h->p));
	for (j = 0; j < m; j++) {
		size_t bit = 6 * j;
		unsigned v = body[bit / 8] >> (bit % 8);

		if (bit % 8 > 2)
			v |= (unsigned)body[bit / 8 + 1] << (8 - bit % 8);
		v &= 0x3f;
		if (v > max_rank(h->p))
			return refuse(h, how, err, errlen, "register %zu: value "
				"%u above %u", j, v, max_rank(h->p));
		put(h, j, v, how);
	}
	return 0;
}

static int decode_sparse(canary__hll *h, const uint8_t *body, size_t len,
	enum apply how, char *err, size_t errlen)
{
	size_t i, n, m = CANARY__HLL_REGS(h->p);
	long prev = -1;

	if (len < 4)
		return refuse(h, how, err, errlen, "sparse sketch: no entry "
			"count");
	n = canary__le32(body);
	body += 4;
	len -= 4;
	if (n > m || len != 3 * n)
		return refuse(h, how, err, errlen, "sparse sketch: %zu entries "
			"in %zu bytes (3 each, at most %zu entries)", n, len, m);
	for (i = 0; i < len; i += 3) {
		uint32_t e = (uint32_t)canary__le_get(body + i, 3);
		uint32_t idx = e >> 6, v = e & 0x3f;

		if (idx >= m || (long)idx <= prev)
			return refuse(h, how, err, errlen, "sparse entry %zu: "
				"index %u %s", i / 3, idx, idx >= m ?
				"out of range" : "not after the previous one");
		if (v == 0 || v > max_rank(h->p))
			return refuse(h, how, err, errlen, "sparse entry %zu: "
				"value %u not in 1..%u", i / 3, v,
				max_rank(h->p));
		put(h, idx, v, how);
		prev = (long)idx;
	}
	return 0;
}

static int decode_as(canary__hll *h, const uint8_t *in, size_t len,
	enum apply how, char *err, size_t errlen)
{
	if (len < CANARY__HLL_HEADER)
		return refuse(h, how, err, errlen, "sketch of %zu bytes: "
			"shorter than its header", len);
	if (in[0] != FORMAT_VERSION)
		return refuse(h, how, err, errlen, "sketch format %u, expected "
			"%u", in[0], FORMAT_VERSION);
	if (in[1] < CANARY__HLL_MIN_P || in[1] > CANARY__HLL_MAX_P)
		return refuse(h, how, err, errlen, "precision %u not in %u..%u",
			in[1], CANARY__HLL_MIN_P, CANARY__HLL_MAX_P);
	if (in[1] != h->p)
		return refuse(h, how, err, errlen, "precision %u, expected %u",
			in[1], h->p);
	if (in[3] != 0)
		return refuse(h, how, err, errlen, "reserved byte is %u, must "
			"be 0", in[3]);
	if (in[2] == FORM_DENSE)
		return decode_dense(h, in + CANARY__HLL_HEADER,
			len - CANARY__HLL_HEADER, how, err, errlen);
	if (in[2] == FORM_SPARSE)
		return decode_sparse(h, in + CANARY__HLL_HEADER,
			len - CANARY__HLL_HEADER, how, err, errlen);
	return refuse(h, how, err, errlen, "form %u, must be 0 (dense) or 1 "
		"(sparse)", in[2]);
}

int canary__hll_decode(canary__hll *h, const uint8_t *in, size_t len,
	char *err, size_t errlen)
{
	canary__hll_clear(h);
	return decode_as(h, in, len, WRITE, err, errlen);
}

int canary__hll_merge_encoded(canary__hll *h, const uint8_t *in, size_t len,
	char *err, size_t errlen)
{
	int rc = decode_as(h, in, len, CHECK, err, errlen);

	return rc == 0 ? decode_as(h, in, len, MAX, err, errlen) : rc;
}
