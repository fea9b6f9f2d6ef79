/*
 * event_batch.c - pending event windows as POST /v1/events bodies
 * (docs/protocol.md, "Events"; see event_batch.h).
 */
#define _GNU_SOURCE /* getrandom */
#include "event_batch.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "canary/version.h"
#include "error.h"

#define BATCH_SOFT_BYTES (768u * 1024u) /* cut a batch here: 1 MiB is the limit */
#define MAX_COUNT 9007199254740991ull    /* 2^53 - 1: exact on the wire */

typedef struct buf {
	const canary__alloc *a;
	char *p;
	size_t len, cap;
	bool oom;
} buf;

static void buf_reserve(buf *b, size_t more)
{
	size_t cap;
	char *grown;

	if (b->oom || b->len + more + 1 <= b->cap)
		return;
	cap = b->cap ? b->cap : 4096;
	while (cap < b->len + more + 1)
		cap *= 2;
	grown = canary__realloc(b->a, b->p, cap);
	if (!grown) {
		b->oom = true;
		return;
	}
	b->p = grown;
	b->cap = cap;
}

static void buf_printf(buf *b, const char *fmt, ...) CANARY__PRINTF(2, 3);

static void buf_printf(buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->oom = true;
		return;
	}
	buf_reserve(b, (size_t)n);
	if (b->oom)
		return;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

/* A JSON string. Flag keys come from a validated config, but escape
 * anyway: the body must be valid whatever the key holds. */
static void buf_string(buf *b, const char *s)
{
	buf_printf(b, "\"");
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			buf_printf(b, "\\%c", ch);
		else if (ch < 0x20)
			buf_printf(b, "\\u%04x", ch);
		else
			buf_printf(b, "%c", ch);
	}
	buf_printf(b, "\"");
}

static uint64_t cap_count(uint64_t n)
{
	return n > MAX_COUNT ? MAX_COUNT : n;
}

static void put_hist(buf *b, const canary__hist *h)
{
	const char *sep = "";
	int i;

	buf_printf(b, ",\"latency_ms\":{\"zero\":%" PRIu64 ",\"bins\":[",
		cap_count(h->zero));
	for (i = h->lo; i <= h->hi; i++) {
		uint64_t n = canary__hist_bin(h, i);

		if (!n)
			continue;
		buf_printf(b, "%s[%d,%" PRIu64 "]", sep, i, cap_count(n));
		sep = ",";
	}
	buf_printf(b, "]}");
}

static void put_metrics(buf *b, const canary__ev_window *w)
{
	size_t i;

	buf_printf(b, ",\"metrics\":{");
	for (i = 0; i < w->nmetrics; i++) {
		const canary__ev_metric *m = &w->metrics[i];

		buf_printf(b, "%s", i ? "," : "");
		buf_string(b, m->name);
		buf_printf(b, ":{\"count\":%" PRIu64, cap_count(m->count));
		if (isfinite(m->sum))
			buf_printf(b, ",\"sum\":%.17g", m->sum);
		buf_printf(b, "}");
	}
	buf_printf(b, "}");
}

static void put_window(buf *b, const canary__ev_window *w, int64_t start, int64_t end)
{
	buf_printf(b, "{\"flag\":");
	buf_string(b, w->flag);
	buf_printf(b, ",\"arm\":\"%s\",\"config_version\":%" PRIu64
		",\"start_ms\":%" PRId64 ",\"end_ms\":%" PRId64
		",\"exposures\":%" PRIu64 ",\"errors\":%" PRIu64,
		w->arm == CANARY_ARM_CANARY ? "canary" : "stable", w->version,
		start, end, cap_count(w->exposures), cap_count(w->errors));
	if (w->lat)
		put_hist(b, w->lat);
	if (w->nmetrics)
		put_metrics(b, w);
	buf_printf(b, "}");
}

static uint64_t next_random(uint64_t *rng)
{
	uint64_t x = *rng ? *rng : 0x9e3779b97f4a7c15ull;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*rng = x;
	return x * 2685821657736338717ull;
}

static void make_batch_id(uint64_t *rng, char out[33])
{
	unsigned char r[16];
	size_t i;

	/* Unique across processes and restarts: the kernel's randomness,
	 * with a generator seeded by time, pid and address as a fallback. */
	if (getrandom(r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r)) {
		uint64_t a = next_random(rng), b = next_random(rng);

		memcpy(r, &a, 8);
		memcpy(r + 8, &b, 8);
	}
	for (i = 0; i < 16; i++)
		snprintf(out + 2 * i, 3, "%02x", r[i]);
}

/* A batch being written. */
typedef struct batch {
	canary__ev_batch *out;
	buf body;
} batch;

static void batch_open(const canary__ev_batch_meta *m, batch *bt,
	canary__ev_batch *out, const canary__alloc *a, bool first)
{
	uint64_t db = first ? m->dropped_batches : 0;
	uint64_t dw = first ? m->dropped_windows : 0;

	bt->out = out;
	make_batch_id(m->rng, out->id);
	memset(&bt->body, 0, sizeof(bt->body));
	bt->body.a = a;
	out->dropped_batches = db;
	out->dropped_windows = dw;
	buf_printf(&bt->body, "{\"batch_id\":\"%s\",\"instance_id\":", out->id);
	buf_string(&bt->body, m->instance_id);
	buf_printf(&bt->body, ",\"sdk_version\":\"%s\",\"sent_at_ms\":%" PRId64,
		CANARY_VERSION_STRING, m->now_ms);
	if (db || dw)
		buf_printf(&bt->body, ",\"dropped\":{\"batches\":%" PRIu64
			",\"windows\":%" PRIu64 "}", cap_count(db), cap_count(dw));
	buf_printf(&bt->body, ",\"windows\":[");
}

/* Close the batch; false when memory ran out along the way. */
static bool batch_close(batch *bt)
{
	buf_printf(&bt->body, "]}");
	bt->out->body = bt->body.p;
	bt->out->len = bt->body.len;
	return !bt->body.oom;
}

void canary__ev_batches_free(const canary__alloc *a, canary__ev_batch *b,
	size_t n)
{
	size_t i;

	if (!b)
		return;
	for (i = 0; i < n; i++)
		canary__free(a, b[i].body);
	canary__free(a, b);
}

/* Room for one more batch after `n`. */
static bool grow(const canary__alloc *a, canary__ev_batch **b, size_t *cap,
	size_t n)
{
	canary__ev_batch *grown;

	if (n < *cap)
		return true;
	grown = canary__realloc(a, *b, *cap * 2 * sizeof(**b));
	if (!grown)
		return false;
	memset(grown + *cap, 0, *cap * sizeof(**b));
	*b = grown;
	*cap *= 2;
	return true;
}

int canary__ev_batches_build(const canary__alloc *a,
	const canary__ev_batch_meta *m, const canary__ev_window *w, size_t n,
	canary__ev_batch **out, size_t *nout)
{
	size_t nb = 1, cap = n / 64 + 2, i, in_batch = 0;
	canary__ev_batch *b;
	bool ok = true;
	batch cur;

	*out = NULL;
	*nout = 0;
	b = canary__calloc(a, cap, sizeof(*b));
	if (!b)
		return CANARY_ENOMEM;
	batch_open(m, &cur, &b[0], a, true);
	for (i = 0; i < n && ok; i++) {
		if (in_batch && (cur.body.len > BATCH_SOFT_BYTES ||
		    in_batch == CANARY__EV_MAX_WINDOWS)) {
			ok = batch_close(&cur) && grow(a, &b, &cap, nb);
			if (!ok)
				break;
			batch_open(m, &cur, &b[nb++], a, false);
			in_batch = 0;
		}
		buf_printf(&cur.body, "%s", in_batch ? "," : "");
		put_window(&cur.body, &w[i], m->start_ms, m->now_ms);
		in_batch++;
	}
	/* A closed batch owns its body: freeing the array frees them all. */
	if (ok)
		ok = batch_close(&cur);
	if (!ok) {
		canary__ev_batches_free(a, b, nb);
		return CANARY_ENOMEM;
	}
	*out = b;
	*nout = nb;
	return CANARY_OK;
}
