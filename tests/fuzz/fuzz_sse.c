/*
 * fuzz_sse.c - the Server-Sent Events parser must never crash, exceed its
 * size limits, or depend on how the stream is cut into pieces: the input
 * is parsed whole and in pieces whose sizes come from the input, and both
 * must give exactly the same events.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_EVENT 256

typedef struct digest {
	size_t events;
	uint64_t hash;
} digest;

static uint64_t mix(uint64_t h, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ (uint8_t)s[i]) * 0x100000001b3ull;
	return (h ^ 0xff) * 0x100000001b3ull;
}

static int on_event(const canary__sse_event *ev, void *ctx)
{
	digest *d = ctx;

	if (ev->data_len > MAX_EVENT || ev->data[ev->data_len] != '\0' ||
	    strlen(ev->id) > CANARY__SSE_MAX_ID ||
	    strlen(ev->type) > CANARY__SSE_MAX_TYPE || !ev->type[0])
		abort();
	d->events++;
	d->hash = mix(d->hash, ev->type, strlen(ev->type));
	d->hash = mix(d->hash, ev->id, strlen(ev->id));
	d->hash = mix(d->hash, ev->data, ev->data_len);
	return 0;
}

static digest parse(const char *s, size_t n, const uint8_t *cuts,
	size_t ncuts)
{
	canary__sse p;
	digest d = { 0, 0xcbf29ce484222325ull };
	size_t off = 0, k = 0;

	canary__sse_init(&p, canary__alloc_default(), MAX_EVENT);
	while (off < n) {
		size_t piece = ncuts ? (size_t)cuts[k++ % ncuts] % 17 + 1 : n;

		if (piece > n - off)
			piece = n - off;
		if (canary__sse_feed(&p, s + off, piece, on_event, &d) != 0)
			abort();
		off += piece;
	}
	canary__sse_free(&p);
	return d;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t ncuts = size ? data[0] % 8 : 0;
	digest whole, pieces;

	if (size < 1 + ncuts)
		return 0;
	whole = parse((const char *)data + 1 + ncuts, size - 1 - ncuts, NULL, 0);
	pieces = parse((const char *)data + 1 + ncuts, size - 1 - ncuts,
		data + 1, ncuts);
	if (whole.events != pieces.events || whole.hash != pieces.hash)
		abort();
	return 0;
}
