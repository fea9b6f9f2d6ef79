/*
 * constraint.c - compile and evaluate one constraint.
 */
#include "constraint.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attributes.h"
#include "clock.h"
#include "datetime.h"

static const char *const op_names[CANARY__OP_COUNT] = {
	NULL, "IN", "NOT_IN", "STR_CONTAINS", "STR_STARTS_WITH",
	"STR_ENDS_WITH", "NUM_EQ", "NUM_GT", "NUM_GTE", "NUM_LT", "NUM_LTE",
	"DATE_AFTER", "DATE_BEFORE", "SEMVER_EQ", "SEMVER_GT", "SEMVER_GTE",
	"SEMVER_LT", "SEMVER_LTE", "REGEX", "IN_CIDR"
};

const char *canary__op_name(canary__op op)
{
	return (unsigned)op < CANARY__OP_COUNT ? op_names[op] : NULL;
}

canary__op canary__op_from_name(const char *name)
{
	int i;

	for (i = 1; name && i < CANARY__OP_COUNT; i++)
		if (strcmp(op_names[i], name) == 0)
			return (canary__op)i;
	return CANARY__OP_NEVER;
}

static bool multi_valued(canary__op op)
{
	return op <= CANARY__OP_STR_ENDS_WITH || op == CANARY__OP_IN_CIDR;
}

static char fold(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c + ('a' - 'A')) : c;
}

static void prepare(canary__constraint *c);

/* ---- compiling ----------------------------------------------------------- */

int canary__str_cmp(const void *x, const void *y)
{
	const canary__str *a = x, *b = y;
	int c = memcmp(a->s, b->s, a->len < b->len ? a->len : b->len);

	if (c)
		return c;
	return (a->len > b->len) - (a->len < b->len);
}

int canary__strs_compile(canary__rule_build *b, const cJSON *arr,
	const char *path, bool caseless, bool sort, canary__str **items,
	uint32_t *count)
{
	const cJSON *item;
	uint32_t i = 0;
	size_t n = arr ? (size_t)cJSON_GetArraySize(arr) : 0;

	*count = 0;
	if (n > CANARY__RULE_MAX_VALUES)
		return canary__rule_reject(b, path, NULL, "more than %d entries",
			CANARY__RULE_MAX_VALUES);
	*items = canary__arena_array(b->arena, n ? n : 1, sizeof(canary__str));
	if (!*items)
		return canary__rule_oom(b);
	cJSON_ArrayForEach(item, arr) {
		const char *s;
		size_t len, k;
		char *copy;
		int rc = canary__json_string_at(&b->rd, item, path, i,
			CANARY__RULE_MAX_VALUE, &s);

		if (rc != CANARY_OK)
			return rc;
		len = strlen(s);
		copy = canary__arena_strndup(b->arena, s, len);
		if (!copy)
			return canary__rule_oom(b);
		for (k = 0; caseless && k < len; k++)
			copy[k] = fold(copy[k]);
		(*items)[i].s = copy;
		(*items)[i].len = (uint32_t)len;
		*count = ++i;
	}
	if (sort)
		qsort(*items, *count, sizeof(canary__str), canary__str_cmp);
	return CANARY_OK;
}

/* ASCII-fold 8 bytes at once: 0x20 is added to each byte in 'A'..'Z'
 * (a byte with its high bit set is left alone, as fold() leaves it). */
static uint64_t fold8(uint64_t x)
{
	uint64_t low = x & 0x7f7f7f7f7f7f7f7full;
	uint64_t ge_a = low + 0x3f3f3f3f3f3f3f3full;  /* high bit: >= 'A' */
	uint64_t gt_z = low + 0x2525252525252525ull;  /* high bit: > 'Z' */
	uint64_t upper = ge_a & ~gt_z & ~x & 0x8080808080808080ull;

	return x | (upper >> 2);
}

/* Up to 7 bytes as one word (the same bytes, the same word). */
static inline uint64_t short_word(const char *s, size_t n)
{
	uint32_t a, b;

	if (n >= 4) {
		memcpy(&a, s, 4);
		memcpy(&b, s + n - 4, 4);
		return (uint64_t)a << 32 | b;
	}
	if (n == 0)
		return 0;
	return (uint64_t)(unsigned char)s[0] << 16 |
		(uint64_t)(unsigned char)s[n / 2] << 8 | (unsigned char)s[n - 1];
}

static uint64_t mix(uint64_t h, uint64_t w)
{
	h = (h ^ w) * 0xff51afd7ed558ccdull;
	return h ^ (h >> 29);
}

/* A hash of s[0..n) with a seed, ASCII-folded when caseless (stored
 * values are folded already, and folding twice changes nothing), a word
 * at a time: a value of 10 bytes costs two multiplications, not ten. */
static inline uint32_t hash_mem(const char *s, size_t n, bool caseless,
	uint32_t seed)
{
	uint64_t h = ((uint64_t)seed << 32 | n) * 0x9e3779b97f4a7c15ull, w;
	size_t i;

	for (i = 0; i + 8 <= n; i += 8) {
		memcpy(&w, s + i, 8);
		h = mix(h, caseless ? fold8(w) : w);
	}
	if (i < n) {
		if (n >= 8)
			memcpy(&w, s + n - 8, 8);  /* the last 8, overlapping */
		else
			w = short_word(s, n);
		h = mix(h, caseless ? fold8(w) : w);
	}
	return (uint32_t)(h ^ (h >> 32));
}

static inline bool same_words(const char *a, const char *b, size_t n);

/* Put the values into the set with `seed`; with `alone`, give up (false)
 * when one would not sit in its own slot. A value listed twice is kept
 * once. */
static bool place(canary__constraint *c, uint32_t seed, bool alone)
{
	uint32_t k;

	memset(c->set, 0, ((size_t)c->set_mask + 1) * sizeof(*c->set));
	for (k = 0; k < c->count; k++) {
		const canary__str *v = &c->u.strs[k];
		uint32_t i = hash_mem(v->s, v->len, false, seed) & c->set_mask;

		while (c->set[i].s && !(c->set[i].len == v->len &&
		    same_words(c->set[i].s, v->s, v->len))) {
			if (alone)
				return false;
			i = (i + 1) & c->set_mask;
		}
		c->set[i] = *v;
	}
	return true;
}

#define SET_SEEDS 64        /* seeds tried per table size */
#define SET_ALONE_MAX 64    /* lists placed one value a slot, up to this */

/*
 * IN / NOT_IN: a hash set of the values themselves (load <= 1/2), so a
 * list of 20 or of 100,000 costs one hash and, almost always, one
 * comparison, with no index to follow. A short list is placed with a
 * seed that gives every value a slot of its own (in a table twice as
 * large if need be), so that a listed value is always found at the first
 * slot: the number of probes does not vary from one value to the next.
 */
static int build_set(canary__rule_build *b, canary__constraint *c)
{
	uint32_t size = 4, seed = 0, grow;

	while (size < 2 * c->count)
		size *= 2;
	for (grow = 0; grow < 2; grow++, size *= 2) {
		c->set = canary__arena_array(b->arena, size, sizeof(canary__str));
		if (!c->set)
			return canary__rule_oom(b);
		c->set_mask = size - 1;
		for (seed = 0; c->count <= SET_ALONE_MAX && seed < SET_SEEDS;
		     seed++)
			if (place(c, seed, true)) {
				c->set_seed = seed;
				return CANARY_OK;
			}
		if (c->count > SET_ALONE_MAX)
			break;
	}
	c->set_seed = 0;
	place(c, 0, false);
	return CANARY_OK;
}

/* IN_CIDR: parse each entry; lenient mode skips the bad ones (Unleash:
 * "invalid values are ignored when valid ones exist"). */
static int compile_cidrs(canary__rule_build *b, const char *path,
	canary__constraint *c)
{
	canary__str *strs = c->u.strs;
	uint32_t i, n = c->count;
	char values[CANARY__PERR_FIELD], at[CANARY__PERR_FIELD];
	int rc;

	c->u.cidrs = canary__arena_array(b->arena, n ? n : 1, sizeof(canary__cidr));
	if (!c->u.cidrs)
		return canary__rule_oom(b);
	c->count = 0;
	canary__path_member(values, sizeof(values), path, "values");
	for (i = 0; i < n; i++) {
		if (canary__cidr_parse(strs[i].s, strs[i].len,
		    &c->u.cidrs[c->count])) {
			c->count++;
			continue;
		}
		canary__path_index(at, sizeof(at), values, i);
		rc = canary__rule_invalid(b, at, NULL,
			"not an IP address or CIDR network");
		if (rc != CANARY_OK)
			return rc;
	}
	return CANARY_OK;
}

/* A number, date or version operand read from `v` (kept in the arena:
 * a version points into it). */
static bool read_operand(canary__constraint *c, const char *v, size_t len)
{
	if (c->op >= CANARY__OP_NUM_EQ && c->op <= CANARY__OP_NUM_LTE)
		return canary__decimal_parse(v, len, &c->u.num);
	if (c->op == CANARY__OP_DATE_AFTER || c->op == CANARY__OP_DATE_BEFORE)
		return canary__datetime_parse(v, len, &c->u.date_ms);
	return canary__semver_key_init(&c->u.semver, v, len);
}

/* How strictly a pattern is held to RE2: every escape RE2 refuses is
 * refused in an admin's write (a reader refusing unknown members) and in
 * an Unleash document (the constraint then never matches); our own config
 * read by the SDK keeps the older check, so that a pattern stored before
 * cannot make every client refuse the whole config. */
static unsigned regex_opts(const canary__rule_build *b,
	const canary__constraint *c)
{
	bool all = b->lenient || (b->rd.opts & CANARY__JSON_KNOWN_ONLY);

	return (c->caseless ? CANARY__REGEX_CASELESS : 0) |
		(all ? CANARY__REGEX_RE2_ESCAPES : 0);
}

/* The single `value` of NUM_*, DATE_*, SEMVER_* and REGEX. */
static int compile_value(canary__rule_build *b, const cJSON *item,
	const char *path, canary__constraint *c)
{
	const char *v;
	char why[160];
	char *copy;
	size_t len;
	int rc;

	rc = canary__json_string(&b->rd, item, path, "value",
		CANARY__RULE_MAX_VALUE, &v);
	if (rc != CANARY_OK)
		return rc;
	if (!v)
		return canary__rule_invalid(b, path, "value", "required");
	len = strlen(v);
	copy = canary__arena_strndup(b->arena, v, len);
	if (!copy)
		return canary__rule_oom(b);
	if (c->op != CANARY__OP_REGEX)
		return read_operand(c, copy, len) ? CANARY_OK :
			canary__rule_invalid(b, path, "value", "%s",
			c->op <= CANARY__OP_NUM_LTE ? "not a number" :
			c->op <= CANARY__OP_DATE_BEFORE ? "not an RFC 3339 date" :
			"not a semantic version");
	rc = canary__regex_compile(b->arena, copy, len, regex_opts(b, c),
		&c->u.regex, why, sizeof(why));
	if (rc == CANARY_ENOMEM)
		return canary__rule_oom(b);
	if (rc != CANARY_OK)
		return canary__rule_invalid(b, path, "value",
			"bad regular expression: %s", why);
	return CANARY_OK;
}

/* Is the member absent, null, or as empty as Unleash writes the one an
 * operator does not read ("value": "" beside a list, "values": [] beside
 * a value)? */
static bool unused_member(const cJSON *m)
{
	return !m || cJSON_IsNull(m) ||
		(cJSON_IsString(m) && !*m->valuestring) ||
		(cJSON_IsArray(m) && !m->child);
}

/*
 * A write through the admin API (a reader that refuses unknown members)
 * must give the operator the member it reads: the other one is ignored,
 * so `IN` with "value": "eu" would be an empty list and `NOT_IN` so
 * written true for everyone. Configs already stored are not read that
 * way and keep loading.
 */
static int check_operand_member(canary__rule_build *b,
	const cJSON *const m[2], const char *path, canary__op op)
{
	const char *name = canary__op_name(op);

	if (!(b->rd.opts & CANARY__JSON_KNOWN_ONLY))
		return CANARY_OK;
	if (multi_valued(op) && (!m[1] || cJSON_IsNull(m[1])))
		return canary__rule_reject(b, path, "values", "required: %s "
			"takes a list of values%s", name,
			unused_member(m[0]) ? "" : ", not \"value\"");
	if (!multi_valued(op) && !unused_member(m[1]))
		return canary__rule_reject(b, path, "values",
			"%s takes one \"value\", not a list", name);
	if (multi_valued(op) && !unused_member(m[0]))
		return canary__rule_reject(b, path, "value",
			"%s takes \"values\", a list", name);
	return CANARY_OK;
}

/*
 * STR_CONTAINS: for each value p, border[i] = the length of the longest
 * proper prefix of p[0..i] that is also its suffix. A search then never
 * steps back in the subject: a value of 4,096 bytes against an attribute
 * of 64 KB costs 64 K steps, not 4,096 times that (values are folded
 * already when caseless, and the subject is folded as it is read).
 */
static int build_borders(canary__rule_build *b, canary__constraint *c)
{
	uint32_t k, i, q;

	c->borders = canary__arena_array(b->arena, c->count ? c->count : 1,
		sizeof(*c->borders));
	if (!c->borders)
		return canary__rule_oom(b);
	for (k = 0; k < c->count; k++) {
		const canary__str *e = &c->u.strs[k];
		uint16_t *t = canary__arena_array(b->arena, e->len ? e->len : 1,
			sizeof(*t));

		if (!t)
			return canary__rule_oom(b);
		t[0] = 0;
		for (i = 1, q = 0; i < e->len; i++) {
			while (q > 0 && e->s[i] != e->s[q])
				q = t[q - 1];
			if (e->s[i] == e->s[q])
				q++;
			t[i] = (uint16_t)q;
		}
		c->borders[k] = t;
	}
	return CANARY_OK;
}

/* m[0]: the member "value", m[1]: "values". */
static int compile_operands(canary__rule_build *b, const cJSON *const m[2],
	const char *path, canary__constraint *c)
{
	const cJSON *values;
	int rc;

	rc = check_operand_member(b, m, path, (canary__op)c->op);
	if (rc != CANARY_OK)
		return rc;
	if (!multi_valued(c->op))
		return compile_value(b, m[0], path, c);
	rc = canary__json_array(&b->rd, m[1], path, "values", &values);
	if (rc == CANARY_OK) {
		char sub[CANARY__PERR_FIELD];

		canary__path_member(sub, sizeof(sub), path, "values");
		rc = canary__strs_compile(b, values, sub, c->caseless, false,
			&c->u.strs, &c->count);
	}
	if (rc == CANARY_OK &&
	    (c->op == CANARY__OP_IN || c->op == CANARY__OP_NOT_IN))
		rc = build_set(b, c);
	if (rc == CANARY_OK && c->op == CANARY__OP_IN_CIDR)
		rc = compile_cidrs(b, path, c);
	if (rc == CANARY_OK && c->op == CANARY__OP_STR_CONTAINS)
		rc = build_borders(b, c);
	return rc;
}

int canary__constraint_compile(canary__rule_build *b, const cJSON *obj,
	const char *path, canary__constraint *out)
{
	static const char *const names[] = { "contextName", "operator",
		"inverted", "caseInsensitive", "value", "values" };
	const cJSON *m[6];
	const char *name, *op;
	uint32_t before = b->downgraded;
	char *copy;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = canary__json_members(&b->rd, obj, path, names, 6, m);
	if (rc == CANARY_OK)
		rc = canary__json_name(&b->rd, m[0], path, names[0],
			CANARY__RULE_MAX_NAME, &name);
	if (rc == CANARY_OK)
		rc = canary__json_name(&b->rd, m[1], path, names[1],
			CANARY__RULE_MAX_NAME, &op);
	if (rc == CANARY_OK)
		rc = canary__json_bool(&b->rd, m[2], path, names[2],
			&out->inverted);
	if (rc == CANARY_OK)
		rc = canary__json_bool(&b->rd, m[3], path, names[3],
			&out->caseless);
	if (rc != CANARY_OK)
		return rc;
	copy = canary__arena_strndup(b->arena, name, strlen(name));
	if (!copy)
		return canary__rule_oom(b);
	canary__field_init(&out->field, copy, strlen(copy));
	if (b->slots)
		canary__field_slot(b->slots, &out->field);
	out->op = (uint8_t)canary__op_from_name(op);
	if (out->op == CANARY__OP_NEVER)
		return canary__rule_invalid(b, path, "operator",
			"unknown operator \"%s\"", op);
	rc = compile_operands(b, m + 4, path, out);
	/* Lenient and something was wrong with the value: never matches
	 * (IN_CIDR keeps its good entries instead). */
	if (rc == CANARY_OK && b->downgraded != before &&
	    out->op != CANARY__OP_IN_CIDR)
		out->op = CANARY__OP_NEVER;
	prepare(out);
	return rc;
}

/* ---- evaluating ---------------------------------------------------------- */

/* Compare the context value v[0..vlen) with a stored entry. */
static int cmp_entry(const char *v, size_t vlen, const canary__str *e,
	bool caseless)
{
	size_t n = vlen < e->len ? vlen : e->len, i;

	if (!caseless) {
		int c = memcmp(v, e->s, n);

		if (c)
			return c;
	} else {
		for (i = 0; i < n; i++) {
			unsigned char x = (unsigned char)fold(v[i]);
			unsigned char y = (unsigned char)e->s[i];

			if (x != y)
				return x < y ? -1 : 1;
		}
	}
	return (vlen > e->len) - (vlen < e->len);
}

bool canary__str_sorted_contains(const canary__str *items, uint32_t count,
	const char *v, size_t vlen, bool caseless)
{
	uint32_t lo = 0, hi = count;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		int r = cmp_entry(v, vlen, &items[mid], caseless);

		if (r == 0)
			return true;
		if (r < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return false;
}

/* Does v start with e? A byte loop: values are short, and a call to
 * memcmp costs more than the comparison. */
static bool same_at(const char *v, const canary__str *e, bool caseless)
{
	uint32_t i;

	if (caseless) {
		for (i = 0; i < e->len; i++)
			if (fold(v[i]) != e->s[i])
				return false;
		return true;
	}
	for (i = 0; i < e->len; i++)
		if (v[i] != e->s[i])
			return false;
	return true;
}

/* Is a[0..n) equal to b[0..n)? A word at a time, inline: the values of
 * an IN list are short, and a call to memcmp costs more than comparing
 * them. Below 8 bytes short_word() holds every byte of its n bytes. */
static inline bool same_words(const char *a, const char *b, size_t n)
{
	uint64_t x, y;
	size_t i;

	if (n < 8)
		return short_word(a, n) == short_word(b, n);
	for (i = 0; i + 8 < n; i += 8) {
		memcpy(&x, a + i, 8);
		memcpy(&y, b + i, 8);
		if (x != y)
			return false;
	}
	memcpy(&x, a + n - 8, 8);  /* the last 8, overlapping */
	memcpy(&y, b + n - 8, 8);
	return x == y;
}

/* IN: the value in slot i of the hash set (at i + 1 the probe goes on),
 * or NULL at the end of the probe. A set has an empty slot. */
static inline const canary__str *set_entry(const canary__constraint *c,
	uint32_t i)
{
	const canary__str *e = &c->set[i & c->set_mask];

	return e->s ? e : NULL;
}

/* Does v[0..vlen) contain value k of c? Knuth-Morris-Pratt with its
 * border table (build_borders()): each byte of v is read once. */
static bool contains(const canary__constraint *c, uint32_t k, const char *v,
	size_t vlen)
{
	const canary__str *e = &c->u.strs[k];
	const uint16_t *border = c->borders[k];
	uint32_t q = 0;
	size_t i;

	if (e->len == 0)
		return true;
	for (i = 0; i < vlen; i++) {
		char ch = c->caseless ? fold(v[i]) : v[i];

		while (q > 0 && e->s[q] != ch)
			q = border[q - 1];
		if (e->s[q] == ch && ++q == e->len)
			return true;
	}
	return false;
}

static bool str_match(const canary__constraint *c, const char *v, size_t vlen)
{
	uint32_t k;

	for (k = 0; k < c->count; k++) {
		const canary__str *e = &c->u.strs[k];

		if (e->len > vlen)
			continue;
		switch (c->op) {
		case CANARY__OP_STR_STARTS_WITH:
			if (same_at(v, e, c->caseless))
				return true;
			break;
		case CANARY__OP_STR_ENDS_WITH:
			if (same_at(v + vlen - e->len, e, c->caseless))
				return true;
			break;
		default:
			if (c->borders && contains(c, k, v, vlen))
				return true;
			break;
		}
	}
	return false;
}

/* The comparisons an ordering operator accepts (constraint.h `accept`). */
static uint8_t accepted(canary__op op)
{
	switch (op) {
	case CANARY__OP_NUM_EQ: case CANARY__OP_SEMVER_EQ: return 2;
	case CANARY__OP_NUM_GT: case CANARY__OP_SEMVER_GT: return 4;
	case CANARY__OP_NUM_GTE: case CANARY__OP_SEMVER_GTE: return 6;
	case CANARY__OP_NUM_LT: case CANARY__OP_SEMVER_LT: return 1;
	case CANARY__OP_NUM_LTE: case CANARY__OP_SEMVER_LTE: return 3;
	default: return 0;
	}
}

/* Does the comparison cmp (<0, 0, >0) pass the constraint? */
static bool ordered(const canary__constraint *c, int cmp)
{
	return c->accept >> ((cmp > 0) - (cmp < 0) + 1) & 1;
}

static bool cidr_match(const canary__constraint *c, const char *v, size_t vlen)
{
	canary__ipaddr ip;
	uint32_t k;

	if (!canary__ipaddr_parse(v, vlen, &ip))
		return false;
	for (k = 0; k < c->count; k++)
		if (canary__cidr_contains(&c->u.cidrs[k], &ip))
			return true;
	return false;
}

static bool date_match(const canary__constraint *c, const char *v,
	size_t vlen)
{
	int64_t t;

	if (!v)
		t = canary__wall_ms();
	else if (!canary__datetime_parse(v, vlen, &t))
		return false;
	return c->op == CANARY__OP_DATE_AFTER ? t > c->u.date_ms :
		t < c->u.date_ms;
}

/* ---- the tests: an operator on a present value -------------------------- */

/*
 * Each constraint names the test of its operator and options, chosen
 * once at compile time (choose_test()): the common operators get one
 * each, without a branch on options they do not have; the rest share
 * test_other().
 */

/* IN: one hash of v, then (almost always) one comparison. */
static bool test_in(const canary__constraint *c, const char *v)
{
	size_t len = strlen(v);
	uint32_t i = hash_mem(v, len, false, c->set_seed);
	const canary__str *e;

	while ((e = set_entry(c, i++)))
		if (e->len == len && same_words(v, e->s, len))
			return true;
	return false;
}

/* The same, ASCII-folded (the stored values are folded already). */
static bool test_in_caseless(const canary__constraint *c, const char *v)
{
	size_t len = strlen(v);
	uint32_t i = hash_mem(v, len, true, c->set_seed);
	const canary__str *e;

	while ((e = set_entry(c, i++)))
		if (e->len == len && same_at(v, e, true))
			return true;
	return false;
}

/* The order is 0..2, or 3 for no version: `accept` has no bit 3. */
static bool test_semver(const canary__constraint *c, const char *v)
{
	return c->accept >> canary__semver_order(v, &c->u.semver) & 1;
}

/* STR_STARTS_WITH, case-sensitive: v measured once, each value compared
 * a word at a time. */
static bool test_starts_with(const canary__constraint *c, const char *v)
{
	size_t vlen = strlen(v);
	uint32_t k;

	for (k = 0; k < c->count; k++) {
		const canary__str *e = &c->u.strs[k];

		if (e->len <= vlen && same_words(v, e->s, e->len))
			return true;
	}
	return false;
}

CANARY__COLD
static bool test_other(const canary__constraint *c, const char *v)
{
	size_t vlen = strlen(v);
	canary__decimal num;

	switch (c->op) {
	case CANARY__OP_STR_CONTAINS:
	case CANARY__OP_STR_STARTS_WITH:
	case CANARY__OP_STR_ENDS_WITH:
		return str_match(c, v, vlen);
	case CANARY__OP_NUM_EQ: case CANARY__OP_NUM_GT: case CANARY__OP_NUM_GTE:
	case CANARY__OP_NUM_LT: case CANARY__OP_NUM_LTE:
		return canary__decimal_parse(v, vlen, &num) &&
			ordered(c, canary__decimal_cmp(&num, &c->u.num));
	case CANARY__OP_DATE_AFTER: case CANARY__OP_DATE_BEFORE:
		return date_match(c, v, vlen);
	case CANARY__OP_REGEX:
		return canary__regex_match(&c->u.regex, v, vlen);
	case CANARY__OP_IN_CIDR:
		return cidr_match(c, v, vlen);
	default:
		return false;
	}
}

/* The tests (constraint.h `test`). A zeroed constraint, as one whose
 * compilation stopped early, never matches: TEST_NEVER is 0, and so is
 * `negate`. */
enum {
	TEST_NEVER = 0, TEST_IN, TEST_IN_CASELESS, TEST_SEMVER,
	TEST_STARTS_WITH, TEST_OTHER
};

static uint8_t choose_test(const canary__constraint *c)
{
	switch (c->op) {
	case CANARY__OP_NEVER:
		return TEST_NEVER;
	case CANARY__OP_IN:
	case CANARY__OP_NOT_IN:   /* negated (`negate`) */
		return c->caseless ? TEST_IN_CASELESS : TEST_IN;
	case CANARY__OP_SEMVER_EQ: case CANARY__OP_SEMVER_GT:
	case CANARY__OP_SEMVER_GTE: case CANARY__OP_SEMVER_LT:
	case CANARY__OP_SEMVER_LTE:
		return TEST_SEMVER;
	case CANARY__OP_STR_STARTS_WITH:
		return c->caseless ? TEST_OTHER : TEST_STARTS_WITH;
	default:
		return TEST_OTHER;
	}
}

static inline bool test_value(const canary__constraint *c, const char *v)
{
	switch (c->test) {
	case TEST_IN: return test_in(c, v);
	case TEST_IN_CASELESS: return test_in_caseless(c, v);
	case TEST_SEMVER: return test_semver(c, v);
	case TEST_STARTS_WITH: return test_starts_with(c, v);
	case TEST_OTHER: return test_other(c, v);
	default: return false;
	}
}

/* What an evaluation of c reads besides its operands. */
static void prepare(canary__constraint *c)
{
	c->test = choose_test(c);
	/* NEVER is false present or absent, whatever `inverted` says. */
	c->negate = c->op != CANARY__OP_NEVER &&
		c->inverted != (c->op == CANARY__OP_NOT_IN);
	c->accept = accepted((canary__op)c->op);
}

/* The operator on an absent value (constraint.h): false, but for a date
 * against the clock. (NOT_IN's true is IN's false negated.) */
static bool test_absent(const canary__constraint *c)
{
	if (c->field.kind == CANARY__FIELD_CURRENT_TIME &&
	    (c->op == CANARY__OP_DATE_AFTER || c->op == CANARY__OP_DATE_BEFORE))
		return date_match(c, NULL, 0);
	return false;
}

int32_t canary__constraints_first_miss(const canary__constraint *items,
	uint32_t count, const canary__context *ctx)
{
	/* The binding's view, read once for the list: a position p (1..254)
	 * names attrs[p - 1]; 0 (not looked up) and 255 (absent) fail the
	 * range test and take canary__context_value(). */
	const uint8_t *pos = ctx->bind ? ctx->bind->pos : NULL;
	const canary__attr *attrs = ctx->attrs;
	size_t known = ctx->attr_count < CANARY__SLOT_ABSENT - 1 ?
		ctx->attr_count : CANARY__SLOT_ABSENT - 1;
	uint32_t i;

	for (i = 0; i < count; i++) {
		const canary__constraint *c = &items[i];
		const char *v;
		size_t p;

		if (c->field.slot && pos &&
		    (p = (size_t)pos[c->field.slot - 1] - 1) < known) {
			v = attrs[p].value;
			v = v && *v ? v : NULL;
		} else {
			v = canary__context_value(ctx, &c->field);
		}
		if ((v ? test_value(c, v) : test_absent(c)) == c->negate)
			return (int32_t)i;
	}
	return -1;
}

static int compile_item(canary__rule_build *b, const cJSON *item,
	const char *path, void *out, void *arg)
{
	(void)arg;
	return canary__constraint_compile(b, item, path, out);
}

int canary__constraints_compile(canary__rule_build *b, const cJSON *arr,
	const char *path, canary__constraint **items, uint32_t *count)
{
	return canary__rule_array(b, arr, path, CANARY__RULE_MAX_VALUES,
		sizeof(canary__constraint), compile_item, NULL, items, count);
}
