/*
 * fuzz_events.c - the POST /v1/events batch parser must never crash, leak
 * or accept a batch that breaks its own invariants.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parse/batch_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const cs_batch *b)
{
	size_t i, j;

	if (strlen(b->batch_id) != 32 || b->count > CS_EVENTS_MAX_WINDOWS)
		abort();
	for (i = 0; i < b->count; i++) {
		const cs_window *w = &b->windows[i];

		if (!w->flag || !*w->flag || w->end_ms < w->start_ms ||
		    w->exposures > CS_MAX_COUNT || w->errors > CS_MAX_COUNT)
			abort();
		for (j = 0; j < w->nbins; j++)
			if (w->bins[j].count == 0 ||
			    (j && w->bins[j].index <= w->bins[j - 1].index))
				abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cs_batch b;
	cs_perror e;
	int rc = cs_events_parse((const char *)data, size, &b, &e);

	if (rc == CANARY_OK) {
		check(&b);
		cs_batch_clear(&b);
	} else if (e.message[0] == '\0') {
		abort(); /* every rejection says why */
	}
	return 0;
}
