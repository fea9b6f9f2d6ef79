/*
 * test_events_batch.c - pending windows as POST /v1/events bodies: every
 * body is valid JSON in the protocol's form, under 1 MiB and 10,000
 * windows; many windows split into several batches with distinct ids; the
 * drops are reported once, by the first; nothing is lost in the split.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <cjson/cJSON.h>

#include "event_batch.h"

static uint64_t total_exposures(const canary__ev_batch *b, size_t nb,
	size_t *windows)
{
	uint64_t n = 0;
	size_t i;

	*windows = 0;
	for (i = 0; i < nb; i++) {
		cJSON *root = cJSON_ParseWithLength(b[i].body, b[i].len);
		const cJSON *w, *ws;

		assert_non_null(root);
		assert_true(b[i].len < 1024 * 1024);
		assert_int_equal(strlen(b[i].id), 32);
		assert_string_equal(cJSON_GetObjectItem(root, "batch_id")->valuestring,
			b[i].id);
		assert_non_null(cJSON_GetObjectItem(root, "instance_id"));
		assert_non_null(cJSON_GetObjectItem(root, "sdk_version"));
		assert_non_null(cJSON_GetObjectItem(root, "sent_at_ms"));
		assert_true((cJSON_GetObjectItem(root, "dropped") != NULL) == (i == 0));
		ws = cJSON_GetObjectItem(root, "windows");
		assert_true(cJSON_GetArraySize(ws) <= 10000);
		cJSON_ArrayForEach(w, ws) {
			n += (uint64_t)cJSON_GetObjectItem(w, "exposures")->valuedouble;
			(*windows)++;
		}
		cJSON_Delete(root);
	}
	return n;
}

static void test_split_and_report(void **state)
{
	const canary__alloc *a = canary__alloc_default();
	size_t n = 25000, i, nb = 0, seen;
	canary__ev_window *w = calloc(n, sizeof(*w));
	canary__ev_batch_meta m = { "host/pid-1", 1000, 2000, 3, 4, NULL };
	canary__ev_batch *b = NULL;
	uint64_t rng = 1, want = 0;

	(void)state;
	assert_non_null(w);
	m.rng = &rng;
	for (i = 0; i < n; i++) {
		snprintf(w[i].flag, sizeof(w[i].flag), "flag-\"%zu\"\\", i);
		w[i].arm = (canary_arm)(i & 1);
		w[i].version = 7;
		w[i].exposures = i;
		w[i].errors = i / 2;
		want += i;
	}
	/* Some windows with a full histogram: big ones. */
	for (i = 0; i < 300; i++) {
		int k;

		w[i].lat = canary__hist_new(a);
		assert_non_null(w[i].lat);
		for (k = CANARY__HIST_MIN_INDEX; k <= CANARY__HIST_MAX_INDEX; k++)
			canary__hist_add_bin(w[i].lat, k, 1000000007ull);
	}
	assert_int_equal(canary__ev_batches_build(a, &m, w, n, &b, &nb),
		CANARY_OK);
	assert_true(nb >= 3);
	assert_int_equal(b[0].dropped_batches, 3);
	assert_int_equal(b[0].dropped_windows, 4);
	for (i = 1; i < nb; i++)
		assert_string_not_equal(b[i].id, b[0].id);
	assert_int_equal(total_exposures(b, nb, &seen), want);
	assert_int_equal(seen, n);
	canary__ev_batches_free(a, b, nb);
	for (i = 0; i < 300; i++)
		canary__hist_free(a, w[i].lat);
	free(w);
}

static void test_report_only(void **state)
{
	const canary__alloc *a = canary__alloc_default();
	canary__ev_batch_meta m = { "x", 1, 2, 1, 0, NULL };
	canary__ev_batch *b = NULL;
	uint64_t rng = 0;
	size_t nb = 0, seen;

	(void)state;
	m.rng = &rng;
	assert_int_equal(canary__ev_batches_build(a, &m, NULL, 0, &b, &nb),
		CANARY_OK);
	assert_int_equal(nb, 1);
	assert_int_equal(total_exposures(b, nb, &seen), 0);
	assert_int_equal(seen, 0);
	canary__ev_batches_free(a, b, nb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split_and_report),
		cmocka_unit_test(test_report_only),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
