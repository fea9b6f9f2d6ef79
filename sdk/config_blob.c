/*
 * config_blob.c - the cache's binary form of a config (see config_blob.h).
 *
 * Layout, integers little-endian:
 *   u8 format (1), u64 version, u32 count, then `count` flags in key order:
 *   str key, str salt, str variant_stable, str variant_canary, str state,
 *   u16 rollout_bp, u8 enabled, list allow, list deny
 * where str = u16 length + bytes (no NUL) and list = u32 n + n strs.
 *
 * Decoding walks the blob twice: once to check everything and size the
 * arena, once to copy the strings into it. Two walks over a few hundred
 * kilobytes cost far less than one allocation per string.
 */
#include "config_blob.h"

#include <string.h>

#include "le_codec.h"

#define FLAG_MIN_BYTES (5 * 2 + 2 + 1 + 4 + 4) /* a flag of empty fields */
#define HEADER_BYTES (1 + 8 + 4)

/* ---- encoding ----------------------------------------------------------- */

static unsigned char *put_str(unsigned char *p, const char *s)
{
	size_t len = strlen(s);

	p = canary__le_put(p, len, 2);
	memcpy(p, s, len);
	return p + len;
}

static unsigned char *put_list(unsigned char *p, const canary__strlist *l)
{
	size_t i;

	p = canary__le_put(p, l->count, 4);
	for (i = 0; i < l->count; i++)
		p = put_str(p, l->items[i]);
	return p;
}

static bool str_fits(const char *s, size_t max, size_t *total)
{
	size_t len = s ? strlen(s) : max + 1;

	*total += 2 + len;
	return len <= max;
}

static bool list_fits(const canary__strlist *l, size_t *total)
{
	size_t i;
	bool ok = l->count <= CANARY__MAX_LIST_LEN;

	*total += 4;
	for (i = 0; ok && i < l->count; i++)
		ok = str_fits(l->items[i], CANARY__MAX_UNIT_LEN, total);
	return ok;
}

/* The encoded size, or 0 when a field is outside the model's limits or
 * the config has what the blob does not carry: targeting (compiling rules
 * needs their JSON anyway) or another service's model. */
static size_t encoded_size(const canary__config *c)
{
	size_t i, total = HEADER_BYTES;
	bool ok = c->count <= CANARY__MAX_FLAGS &&
		c->version <= CANARY__MAX_VERSION && !c->segments.count &&
		!c->engine;

	for (i = 0; ok && i < c->count; i++) {
		const canary__flag *f = &c->flags[i];

		ok = !canary__target_is_set(&f->target) &&
		     str_fits(f->key, CANARY__MAX_KEY_LEN, &total) &&
		     str_fits(f->salt, CANARY__MAX_KEY_LEN, &total) &&
		     str_fits(f->variant_stable, CANARY__MAX_VARIANT_LEN, &total) &&
		     str_fits(f->variant_canary, CANARY__MAX_VARIANT_LEN, &total) &&
		     str_fits(f->state, CANARY__MAX_STATE_LEN, &total) &&
		     f->rollout_bp <= 10000 &&
		     list_fits(&f->allow, &total) && list_fits(&f->deny, &total);
		total += 2 + 1;
	}
	return ok ? total : 0;
}

int canary__config_blob_encode(const canary__alloc *a,
	const canary__config *c, unsigned char **out, size_t *len)
{
	unsigned char *buf, *p;
	size_t i, size;

	*out = NULL;
	*len = 0;
	size = c ? encoded_size(c) : 0;
	if (size == 0)
		return CANARY_EINVAL;
	buf = canary__malloc(a, size);
	if (!buf)
		return CANARY_ENOMEM;
	p = canary__le_put(buf, CANARY__BLOB_FORMAT, 1);
	p = canary__le_put(p, c->version, 8);
	p = canary__le_put(p, c->count, 4);
	for (i = 0; i < c->count; i++) {
		const canary__flag *f = &c->flags[i];

		p = put_str(p, f->key);
		p = put_str(p, f->salt);
		p = put_str(p, f->variant_stable);
		p = put_str(p, f->variant_canary);
		p = put_str(p, f->state);
		p = canary__le_put(p, f->rollout_bp, 2);
		p = canary__le_put(p, f->enabled ? 1 : 0, 1);
		p = put_list(p, &f->allow);
		p = put_list(p, &f->deny);
	}
	*out = buf;
	*len = size;
	return CANARY_OK;
}

/* ---- decoding ----------------------------------------------------------- */

typedef struct reader {
	const unsigned char *p, *end;
} reader;

typedef struct span {
	const char *s;
	size_t len;
} span;

/* Measuring (fill false) counts what the arena needs; filling copies. */
typedef struct builder {
	bool fill;
	size_t nptrs, nchars;
	char **ptrs;
	char *chars;
} builder;

static bool get_uint(reader *r, unsigned bytes, uint64_t *out)
{
	if ((size_t)(r->end - r->p) < bytes)
		return false;
	*out = canary__le_get(r->p, bytes);
	r->p += bytes;
	return true;
}

static bool get_str(reader *r, size_t min, size_t max, span *out)
{
	uint64_t n;

	if (!get_uint(r, 2, &n) || n < min || n > max ||
	    (uint64_t)(r->end - r->p) < n || memchr(r->p, 0, (size_t)n))
		return false;
	out->s = (const char *)r->p;
	out->len = (size_t)n;
	r->p += n;
	return true;
}

/* strcmp order, for strings without NUL. */
static int span_cmp(span x, span y)
{
	int c = memcmp(x.s, y.s, x.len < y.len ? x.len : y.len);

	return c ? c : (x.len > y.len) - (x.len < y.len);
}

static char *put(builder *b, span s)
{
	char *d;

	if (!b->fill) {
		b->nchars += s.len + 1;
		return NULL;
	}
	d = b->chars;
	memcpy(d, s.s, s.len);
	d[s.len] = '\0';
	b->chars += s.len + 1;
	return d;
}

/* Entries must be strictly increasing: sorted and unique, as the JSON
 * parser leaves them, so binary search stays correct. */
static bool get_list(reader *r, builder *b, canary__strlist *out)
{
	uint64_t n, i;
	span prev = { NULL, 0 }, cur;

	if (!get_uint(r, 4, &n) || n > CANARY__MAX_LIST_LEN ||
	    (uint64_t)(r->end - r->p) < n * 3)
		return false;
	out->count = (size_t)n;
	out->items = NULL;
	if (b->fill && n) {
		out->items = b->ptrs;
		b->ptrs += n;
	} else {
		b->nptrs += (size_t)n;
	}
	for (i = 0; i < n; i++) {
		char *item;

		if (!get_str(r, 1, CANARY__MAX_UNIT_LEN, &cur) ||
		    (i && span_cmp(prev, cur) >= 0))
			return false;
		prev = cur;
		item = put(b, cur);
		if (b->fill)
			out->items[i] = item;
	}
	return true;
}

static bool get_flag(reader *r, builder *b, canary__flag *f, span *key)
{
	span salt, stable, canary, state;
	uint64_t bp, enabled;

	if (!get_str(r, 1, CANARY__MAX_KEY_LEN, key) ||
	    !get_str(r, 0, CANARY__MAX_KEY_LEN, &salt) ||
	    !get_str(r, 0, CANARY__MAX_VARIANT_LEN, &stable) ||
	    !get_str(r, 0, CANARY__MAX_VARIANT_LEN, &canary) ||
	    !get_str(r, 0, CANARY__MAX_STATE_LEN, &state) ||
	    !get_uint(r, 2, &bp) || bp > 10000 ||
	    !get_uint(r, 1, &enabled) || enabled > 1)
		return false;
	f->key = put(b, *key);
	f->salt = put(b, salt);
	f->variant_stable = put(b, stable);
	f->variant_canary = put(b, canary);
	f->state = put(b, state);
	f->rollout_bp = (uint32_t)bp;
	f->enabled = enabled == 1;
	return get_list(r, b, &f->allow) && get_list(r, b, &f->deny);
}

/* One pass over the flags; keys strictly increasing, nothing left over. */
static bool walk(reader r, builder *b, canary__config *c, size_t count)
{
	canary__flag scratch;
	span key, prev = { NULL, 0 };
	size_t i;

	for (i = 0; i < count; i++) {
		canary__flag *f = b->fill ? &c->flags[i] : &scratch;

		memset(f, 0, sizeof(*f));
		if (!get_flag(&r, b, f, &key) ||
		    (i && span_cmp(prev, key) >= 0))
			return false;
		prev = key;
	}
	return r.p == r.end;
}

int canary__config_blob_decode(const canary__alloc *a, const void *blob,
	size_t len, canary__config **out)
{
	reader r = { blob, (const unsigned char *)blob + len };
	builder b = { false, 0, 0, NULL, NULL };
	canary__config *c;
	uint64_t format, version, count;

	*out = NULL;
	if (!blob || len > CANARY__MAX_CONFIG_BYTES ||
	    !get_uint(&r, 1, &format) || format != CANARY__BLOB_FORMAT ||
	    !get_uint(&r, 8, &version) || version > CANARY__MAX_VERSION ||
	    !get_uint(&r, 4, &count) || count > CANARY__MAX_FLAGS ||
	    (uint64_t)(r.end - r.p) < count * FLAG_MIN_BYTES ||
	    !walk(r, &b, NULL, (size_t)count))
		return CANARY_EPARSE;
	c = canary__new(a, canary__config);
	if (!c)
		return CANARY_ENOMEM;
	c->version = version;
	c->flags = canary__calloc(a, count ? (size_t)count : 1, sizeof(*c->flags));
	c->arena = canary__malloc(a, b.nptrs * sizeof(char *) + b.nchars + 1);
	if (!c->flags || !c->arena) {
		canary__config_free(a, c);
		return CANARY_ENOMEM;
	}
	c->count = (size_t)count;
	b.fill = true;
	b.ptrs = c->arena;
	b.chars = (char *)(b.ptrs + b.nptrs);
	(void)walk(r, &b, c, c->count); /* checked above */
	*out = c;
	return CANARY_OK;
}
