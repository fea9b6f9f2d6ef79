/*
 * fuzz_events.c - the POST /v1/events batch decoder (proto/event_batch.c)
 * must never crash, leak or accept a batch that breaks its own
 * invariants, and what it accepts the encoder must write back to a body
 * the decoder accepts again, equal (the SDK's encoder is the same code).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "event_batch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const canary__ev_batch *b)
{
	size_t i, j;

	if (strlen(b->batch_id) != CANARY__EV_ID_LEN ||
	    b->count > CANARY__EV_MAX_WINDOWS)
		abort();
	for (i = 0; i < b->count; i++) {
		const canary__ev_window *w = &b->windows[i];

		if (!w->flag[0] || w->end_ms < w->start_ms ||
		    w->exposures > CANARY__JSON_MAX_INT ||
		    w->errors > CANARY__JSON_MAX_INT)
			abort();
		if (w->has_users && (w->users.units.len < CANARY__HLL_HEADER ||
		    w->users.error_units.len < CANARY__HLL_HEADER))
			abort();
		for (j = 0; j < w->nbins; j++)
			if (w->bins[j].count == 0 ||
			    (j && w->bins[j].index <= w->bins[j - 1].index))
				abort();
		for (j = 0; j < w->nmetrics; j++)
			if (!canary__ev_metric_name_ok(w->metrics[j].name))
				abort();
	}
}

static char *encode(const canary__ev_batch *b, size_t *len)
{
	canary__buf buf;
	char *text;

	canary__buf_init(&buf, NULL);
	if (canary__ev_batch_encode(b, &buf) != CANARY_OK) {
		canary__buf_free(&buf);
		return NULL; /* out of memory */
	}
	text = canary__buf_take(&buf, len);
	return text;
}

static void round_trip(const canary__ev_batch *b)
{
	const canary__alloc *a = canary__alloc_default();
	canary__ev_batch again;
	canary__perror e;
	size_t len, len2;
	char *text = encode(b, &len), *text2;

	if (!text)
		return;
	/* A decoded body may hold more than 1 MiB once re-encoded (numbers
	 * written out in full): only what fits the limit must come back. */
	if (len <= CANARY__EV_MAX_BODY) {
		if (canary__ev_batch_decode(a, text, len, 0, &again, &e) !=
		    CANARY_OK)
			abort(); /* we must accept what we write */
		text2 = encode(&again, &len2);
		if (text2 && (len2 != len || memcmp(text, text2, len) != 0))
			abort();
		canary__free(a, text2);
		canary__ev_batch_clear(&again);
	}
	canary__free(a, text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	canary__ev_batch b;
	canary__perror e;
	int rc = canary__ev_batch_decode(canary__alloc_default(),
		(const char *)data, size, 0, &b, &e);

	if (rc == CANARY_OK) {
		check(&b);
		round_trip(&b);
		canary__ev_batch_clear(&b);
	} else if (e.message[0] == '\0') {
		abort(); /* every rejection says why */
	}
	return 0;
}
