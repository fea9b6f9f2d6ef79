/*
 * test_events_batch.c - the POST /v1/events batch (proto/event_batch.c):
 * what the encoder writes, the decoder reads back exactly; the decoder
 * names the field of every mistake; many windows split into several
 * bodies under 1 MiB and 10,000 windows, with distinct ids, the drops
 * reported once, nothing lost; the user-level fields (sketches of units,
 * the dispersion of errors) come together, as canonical base64 of
 * well-formed sketches, and windows without them stay valid.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base64.h"
#include "event_batch.h"

#define A canary__alloc_default()

/* Batch ids from a counter: the ids' source is the caller's. */
static void counting_id(void *ctx, char id[CANARY__EV_ID_LEN + 1])
{
	unsigned *n = ctx;

	snprintf(id, CANARY__EV_ID_LEN + 1, "%032x", ++*n);
}

static char *encode(const canary__ev_batch *b, size_t *len)
{
	canary__buf buf;
	char *text;

	canary__buf_init(&buf, A);
	assert_int_equal(canary__ev_batch_encode(b, &buf), CANARY_OK);
	text = canary__buf_take(&buf, len);
	assert_non_null(text);
	return text;
}

static void head(canary__ev_batch *b)
{
	memset(b, 0, sizeof(*b));
	memset(b->batch_id, 'a', CANARY__EV_ID_LEN);
	snprintf(b->instance_id, sizeof(b->instance_id), "host/pid-1");
	snprintf(b->sdk_version, sizeof(b->sdk_version), "0.1.0");
	b->sent_at_ms = 1700000000123ull;
}

static void assert_windows_equal(const canary__ev_window *x,
	const canary__ev_window *y)
{
	size_t i;

	assert_string_equal(x->flag, y->flag);
	assert_int_equal(x->arm, y->arm);
	assert_true(x->config_version == y->config_version);
	assert_true(x->start_ms == y->start_ms && x->end_ms == y->end_ms);
	assert_true(x->exposures == y->exposures && x->errors == y->errors);
	assert_true(x->ineligible == y->ineligible &&
		x->ineligible_errors == y->ineligible_errors);
	assert_true(x->latency_zero == y->latency_zero);
	assert_int_equal(x->nbins, y->nbins);
	for (i = 0; i < x->nbins; i++) {
		assert_int_equal(x->bins[i].index, y->bins[i].index);
		assert_true(x->bins[i].count == y->bins[i].count);
	}
	assert_int_equal(x->nmetrics, y->nmetrics);
	for (i = 0; i < x->nmetrics; i++) {
		assert_string_equal(x->metrics[i].name, y->metrics[i].name);
		assert_true(x->metrics[i].count == y->metrics[i].count);
		assert_true(x->metrics[i].sum == y->metrics[i].sum);
	}
	assert_int_equal(x->has_users, y->has_users);
	if (!x->has_users)
		return;
	assert_int_equal(x->users.units.len, y->users.units.len);
	assert_memory_equal(x->users.units.bytes, y->users.units.bytes,
		x->users.units.len);
	assert_int_equal(x->users.error_units.len, y->users.error_units.len);
	assert_memory_equal(x->users.error_units.bytes,
		y->users.error_units.bytes, x->users.error_units.len);
	assert_true(x->users.error_units_mapped == y->users.error_units_mapped);
	assert_true(x->users.error_sq == y->users.error_sq);
	assert_true(x->users.error_max == y->users.error_max);
	assert_true(x->users.errors_unmapped == y->users.errors_unmapped);
}

/* Every field, encoded, decoded, and encoded again to the same text. */
static void test_round_trip(void **state)
{
	canary__hist_entry bins[] = { { -345, 1 }, { 0, 2 },
		{ 277, 9007199254740991ull } };
	canary__ev_metric metrics[] = { { "cart.value", 3, 0.1 + 0.2 },
		{ "a-b_c", 9007199254740991ull, -1e300 } };
	canary__ev_window w[2];
	canary__ev_batch b, back;
	canary__perror e;
	char *text, *again;
	size_t len, len2, i;

	(void)state;
	head(&b);
	b.dropped_batches = 2;
	b.dropped_windows = 9007199254740991ull;
	memset(w, 0, sizeof(w));
	snprintf(w[0].flag, sizeof(w[0].flag), "quote\" back\\ tab\t é");
	w[0].arm = CANARY_ARM_CANARY;
	w[0].config_version = 9007199254740991ull;
	w[0].start_ms = 1;
	w[0].end_ms = 2;
	w[0].exposures = 10;
	w[0].errors = 1;
	w[0].latency_zero = 5;
	w[0].bins = bins;
	w[0].nbins = 3;
	w[0].metrics = metrics;
	w[0].nmetrics = 2;
	snprintf(w[1].flag, sizeof(w[1].flag), "plain");
	w[1].ineligible = 7;
	w[1].ineligible_errors = 2;
	b.windows = w;
	b.count = 2;
	text = encode(&b, &len);
	assert_non_null(strstr(text, "\"latency_ms\":{\"zero\":5,\"bins\":"
		"[[-345,1],[0,2],[277,9007199254740991]]}"));
	assert_null(strstr(strstr(text, "\"plain\""), "latency_ms"));
	/* Units outside the targeting, only where there were some. */
	assert_non_null(strstr(strstr(text, "\"plain\""),
		"\"ineligible\":7,\"ineligible_errors\":2"));
	assert_null(strstr(text, "\"ineligible\":0"));
	assert_int_equal(canary__ev_batch_decode(A, text, len, 0, &back, &e),
		CANARY_OK);
	assert_string_equal(back.batch_id, b.batch_id);
	assert_string_equal(back.instance_id, b.instance_id);
	assert_string_equal(back.sdk_version, b.sdk_version);
	assert_true(back.sent_at_ms == b.sent_at_ms);
	assert_true(back.dropped_batches == 2);
	assert_true(back.dropped_windows == b.dropped_windows);
	assert_int_equal(back.count, 2);
	for (i = 0; i < 2; i++)
		assert_windows_equal(&back.windows[i], &w[i]);
	again = encode(&back, &len2);
	assert_string_equal(again, text);
	canary__ev_batch_clear(&back);
	canary__ev_batch_clear(&back); /* cleared: safe again */
	canary__free(A, text);
	canary__free(A, again);
}

/* Counts above 2^53 - 1 go as 2^53 - 1; sums the decoder would refuse are
 * left out instead of losing the batch. */
static void test_encoder_keeps_within_the_decoder(void **state)
{
	canary__ev_metric m[] = { { "inf", 1, 1e308 * 10 }, { "big", 1, 2e300 } };
	canary__ev_window w;
	canary__ev_batch b, back;
	canary__perror e;
	size_t len;
	char *text;

	(void)state;
	head(&b);
	memset(&w, 0, sizeof(w));
	snprintf(w.flag, sizeof(w.flag), "f");
	w.exposures = UINT64_MAX;
	w.end_ms = 1;
	w.metrics = m;
	w.nmetrics = 2;
	b.windows = &w;
	b.count = 1;
	text = encode(&b, &len);
	assert_int_equal(canary__ev_batch_decode(A, text, len, 0, &back, &e),
		CANARY_OK);
	assert_true(back.windows[0].exposures == CANARY__JSON_MAX_INT);
	assert_true(back.windows[0].metrics[0].sum == 0);
	assert_true(back.windows[0].metrics[1].sum == 0);
	canary__ev_batch_clear(&back);
	canary__free(A, text);
}

/* A batch body with one window, whose members after "errors" are `extra`
 * (",\"latency_ms\": ..."). */
static char *one_window(const char *extra)
{
	static char body[4096];

	snprintf(body, sizeof(body), "{\"batch_id\": \"%032d\","
		" \"instance_id\": \"i\", \"sdk_version\": \"1\","
		" \"sent_at_ms\": 1, \"windows\": [{\"flag\": \"f\","
		" \"arm\": \"stable\", \"config_version\": 1, \"start_ms\": 1,"
		" \"end_ms\": 2, \"exposures\": 3, \"errors\": 0%s}]}", 0, extra);
	return body;
}

static void expect_error_opts(const char *body, unsigned opts,
	const char *want)
{
	canary__ev_batch b;
	canary__perror e;
	char got[CANARY__PERR_TEXT];
	int rc = canary__ev_batch_decode(A, body, strlen(body), opts, &b, &e);

	canary__perror_format(&e, got, sizeof(got));
	if (rc != CANARY_EPARSE || strcmp(got, want) != 0)
		fail_msg("%s\n  got %d \"%s\"\n want \"%s\"", body, rc, got, want);
	assert_null(b.windows);
	assert_int_equal(b.count, 0);
}

static void expect_error(const char *body, const char *want)
{
	expect_error_opts(body, 0, want);
}

static void expect_latency_error(const char *latency, const char *want)
{
	char extra[512], full[512];

	snprintf(extra, sizeof(extra), ", \"latency_ms\": %s", latency);
	snprintf(full, sizeof(full), "windows[0].latency_ms%s", want);
	expect_error(one_window(extra), full);
}

static void test_latency_strict(void **state)
{
	(void)state;
	expect_latency_error("[]", ": must be an object");
	expect_latency_error("{}", ".bins: required");
	expect_latency_error("{\"bins\": {}}", ".bins: must be an array");
	expect_latency_error("{\"zero\": -1, \"bins\": []}",
		".zero: must be an integer 0..9007199254740991");
	expect_latency_error("{\"zero\": 1.5, \"bins\": []}",
		".zero: must be an integer 0..9007199254740991");
	expect_latency_error("{\"zero\": \"1\", \"bins\": []}",
		".zero: must be an integer 0..9007199254740991");
	expect_latency_error("{\"bins\": [[1, 1], 3]}",
		".bins[1]: must be [index, count]");
	expect_latency_error("{\"bins\": [[1, 1, 1]]}",
		".bins[0]: must be [index, count]");
	expect_latency_error("{\"bins\": [[1.5, 1]]}",
		".bins[0][0]: must be an integer -345..755");
	expect_latency_error("{\"bins\": [[756, 1]]}",
		".bins[0][0]: must be an integer -345..755");
	expect_latency_error("{\"bins\": [[-346, 1]]}",
		".bins[0][0]: must be an integer -345..755");
	expect_latency_error("{\"bins\": [[3, 1], [3, 1]]}",
		".bins[1][0]: indices must be strictly increasing");
	expect_latency_error("{\"bins\": [[3, 1], [2, 1]]}",
		".bins[1][0]: indices must be strictly increasing");
	expect_latency_error("{\"bins\": [[3, 0]]}",
		".bins[0][1]: must be an integer 1..9007199254740991");
	expect_latency_error("{\"bins\": [[3, -2]]}",
		".bins[0][1]: must be an integer 1..9007199254740991");
	expect_latency_error("{\"bins\": [[3, 9007199254740993]]}",
		".bins[0][1]: must be an integer 1..9007199254740991");
	expect_latency_error("{\"bins\": [[3, null]]}",
		".bins[0][1]: must be an integer 1..9007199254740991");
}

/* Unknown members are a newer SDK's: ignored, everywhere. */
static void test_unknown_fields_ignored(void **state)
{
	const char *body = "{\"future\": [1], \"batch_id\": "
		"\"0123456789abcdef0123456789abcdef\", \"instance_id\": \"i\","
		" \"sdk_version\": \"9\", \"sent_at_ms\": 1, \"dropped\":"
		" {\"batches\": 1, \"why\": \"x\"}, \"windows\": [{\"flag\": \"f\","
		" \"arm\": \"canary\", \"config_version\": 1, \"start_ms\": 1,"
		" \"end_ms\": 1, \"exposures\": 1, \"errors\": 0, \"sketch\": \"AQw\","
		" \"latency_ms\": {\"bins\": [[-345, 2], [755, 9007199254740991]],"
		" \"future\": true}, \"metrics\": {\"m\": {\"count\": 1,"
		" \"unit\": \"ms\"}}}]}";
	canary__ev_batch b;
	canary__perror e;
	canary__hist h;

	(void)state;
	assert_int_equal(canary__ev_batch_decode(A, body, strlen(body), 0, &b,
		&e), CANARY_OK);
	assert_int_equal(b.windows[0].nbins, 2);
	canary__hist_init(&h);
	assert_int_equal(canary__hist_add_bins(&h, b.windows[0].bins,
		b.windows[0].nbins), CANARY_OK);
	assert_true(canary__hist_count(&h) == 9007199254740993ull);
	assert_int_equal(b.windows[0].nmetrics, 1);
	canary__ev_batch_clear(&b);
}

static void test_batch_strict(void **state)
{
	char big[CANARY__EV_MAX_BODY + 2];

	(void)state;
	expect_error("", "empty document");
	expect_error("[]", "must be a JSON object");
	expect_error("{\"windows\": [] ", "malformed JSON");
	expect_error("{} {}", "trailing data after the JSON value");
	memset(big, ' ', sizeof(big) - 1);
	big[0] = '{';
	big[sizeof(big) - 3] = '}';
	big[sizeof(big) - 1] = '\0';
	expect_error(big, "larger than 1048576 bytes");
	expect_error("{\"batch_id\": \"ABCDEF0123456789abcdef0123456789\"}",
		"batch_id: must be 32 lowercase hex digits");
	expect_error("{\"batch_id\": \"0123\"}",
		"batch_id: must be 32 lowercase hex digits");
	expect_error("{\"batch_id\": \"0123456789abcdef0123456789abcdef\"}",
		"instance_id: required");
}

/* Window members, one mistake at a time. */
static void test_window_strict(void **state)
{
	static const struct { const char *extra, *want; } cases[] = {
		{ ", \"metrics\": []", "windows[0].metrics: must be an object" },
		{ ", \"metrics\": {\"bad name\": {\"count\": 1}}",
		  "windows[0].metrics.bad name: name must be 1..64 of "
		  "[A-Za-z0-9_.-]" },
		{ ", \"metrics\": {\"m\": {\"count\": 1}, \"m\": {\"count\": 2}}",
		  "windows[0].metrics: duplicate metric \"m\"" },
		{ ", \"metrics\": {\"m\": {}}",
		  "windows[0].metrics.m.count: required" },
		{ ", \"metrics\": {\"m\": {\"count\": 1, \"sum\": 1e301}}",
		  "windows[0].metrics.m.sum: must be a finite number" },
		{ ", \"metrics\": {\"m\": 1}",
		  "windows[0].metrics.m: must be an object" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect_error(one_window(cases[i].extra), cases[i].want);
	expect_error("{\"batch_id\": \"0123456789abcdef0123456789abcdef\","
		" \"instance_id\": \"i\", \"sdk_version\": \"1\", \"sent_at_ms\": 1,"
		" \"windows\": [{\"flag\": \"f\", \"arm\": \"blue\"}]}",
		"windows[0].arm: must be \"stable\" or \"canary\"");
	expect_error("{\"batch_id\": \"0123456789abcdef0123456789abcdef\","
		" \"instance_id\": \"i\", \"sdk_version\": \"1\", \"sent_at_ms\": 1,"
		" \"windows\": [{\"flag\": \"f\", \"arm\": \"stable\","
		" \"config_version\": 1, \"start_ms\": 5, \"end_ms\": 4,"
		" \"exposures\": 0, \"errors\": 0}]}",
		"windows[0].end_ms: must not be before start_ms");
	expect_error("{\"batch_id\": \"0123456789abcdef0123456789abcdef\","
		" \"instance_id\": \"i\", \"sdk_version\": \"1\", \"sent_at_ms\": 1,"
		" \"windows\": [{\"flag\": \"f\", \"arm\": \"stable\","
		" \"config_version\": 1, \"start_ms\": 1, \"end_ms\": 1,"
		" \"exposures\": -1, \"errors\": 0}]}",
		"windows[0].exposures: must be an integer 0..9007199254740991");
	expect_error("{\"batch_id\": \"0123456789abcdef0123456789abcdef\","
		" \"instance_id\": \"i\", \"sdk_version\": \"1\", \"sent_at_ms\": 1,"
		" \"windows\": [7]}", "windows[0]: must be an object");
}

/* cJSON cuts a string at \u0000: "f\u0000x" would have read as "f". */
static void test_strings_nul_and_utf8(void **state)
{
	const char *nul = "{\"batch_id\": \"0123456789abcdef0123456789abcdef\","
		" \"instance_id\": \"i\", \"sdk_version\": \"1\", \"sent_at_ms\": 1,"
		" \"windows\": [{\"flag\": \"f\\u0000x\"}]}";
	const char *escaped = "{\"batch_id\": \"0123456789abcdef0123456789abcdef\","
		" \"instance_id\": \"a\\\\u0000\", \"sdk_version\": \"1\","
		" \"sent_at_ms\": 1, \"windows\": []}";
	const char *bad_utf8 = "{\"batch_id\": \"0123456789abcdef0123456789abcdef\","
		" \"instance_id\": \"a\xc0\xaf\", \"sdk_version\": \"1\","
		" \"sent_at_ms\": 1, \"windows\": []}";
	canary__ev_batch b;
	canary__perror e;

	(void)state;
	expect_error(nul, "windows[0].flag: must not contain \\u0000");
	/* An escaped backslash before "u0000" is six characters of text. */
	assert_int_equal(canary__ev_batch_decode(A, escaped, strlen(escaped), 0,
		&b, &e), CANARY_OK);
	assert_string_equal(b.instance_id, "a\\u0000");
	canary__ev_batch_clear(&b);
	/* UTF-8 is checked when the reader is asked to. */
	assert_int_equal(canary__ev_batch_decode(A, bad_utf8, strlen(bad_utf8),
		0, &b, &e), CANARY_OK);
	canary__ev_batch_clear(&b);
	expect_error_opts(bad_utf8, CANARY__JSON_UTF8,
		"instance_id: must be UTF-8");
}

static void test_metric_names(void **state)
{
	char longest[CANARY__EV_METRIC_NAME_MAX + 2];

	(void)state;
	assert_true(canary__ev_metric_name_ok("a"));
	assert_true(canary__ev_metric_name_ok("Cart.value_2-x"));
	assert_false(canary__ev_metric_name_ok(""));
	assert_false(canary__ev_metric_name_ok("a b"));
	assert_false(canary__ev_metric_name_ok("a/b"));
	assert_false(canary__ev_metric_name_ok("\xc3\xa9"));
	memset(longest, 'm', sizeof(longest));
	longest[CANARY__EV_METRIC_NAME_MAX] = '\0';
	assert_true(canary__ev_metric_name_ok(longest));
	longest[CANARY__EV_METRIC_NAME_MAX] = 'm';
	longest[CANARY__EV_METRIC_NAME_MAX + 1] = '\0';
	assert_false(canary__ev_metric_name_ok(longest));
}

/* Decode every body; count windows and exposures. */
static uint64_t total_exposures(const canary__ev_body *b, size_t nb,
	size_t *windows)
{
	uint64_t n = 0;
	size_t i, k;

	*windows = 0;
	for (i = 0; i < nb; i++) {
		canary__ev_batch d;
		canary__perror e;

		assert_true(b[i].len <= CANARY__EV_MAX_BODY);
		assert_int_equal(canary__ev_batch_decode(A, b[i].body, b[i].len, 0,
			&d, &e), CANARY_OK);
		assert_string_equal(d.batch_id, b[i].id);
		assert_string_equal(d.instance_id, "host/pid-1");
		assert_true((d.dropped_batches != 0) == (i == 0));
		assert_true(d.count <= CANARY__EV_MAX_WINDOWS);
		for (k = 0; k < d.count; k++)
			n += d.windows[k].exposures;
		*windows += d.count;
		canary__ev_batch_clear(&d);
	}
	return n;
}

static void test_split_and_report(void **state)
{
	size_t n = 25000, i, nb = 0, seen;
	canary__ev_window *w = calloc(n, sizeof(*w));
	canary__hist_entry *full = calloc(CANARY__HIST_BINS, sizeof(*full));
	canary__ev_body *b = NULL;
	canary__ev_batch h;
	uint64_t want = 0;
	unsigned ids = 0;

	(void)state;
	assert_non_null(w);
	assert_non_null(full);
	head(&h);
	h.dropped_batches = 3;
	h.dropped_windows = 4;
	for (i = 0; i < CANARY__HIST_BINS; i++) {
		full[i].index = (int32_t)i + CANARY__HIST_MIN_INDEX;
		full[i].count = 1000000007ull;
	}
	for (i = 0; i < n; i++) {
		snprintf(w[i].flag, sizeof(w[i].flag), "flag-\"%zu\"\\", i);
		w[i].arm = (canary_arm)(i & 1);
		w[i].config_version = 7;
		w[i].exposures = i;
		w[i].errors = i / 2;
		want += i;
		if (i < 300) { /* some windows with a full histogram: big ones */
			w[i].bins = full;
			w[i].nbins = CANARY__HIST_BINS;
		}
	}
	assert_int_equal(canary__ev_batches_build(A, &h, w, n,
		CANARY__EV_SOFT_BODY, counting_id, &ids, &b, &nb), CANARY_OK);
	assert_true(nb >= 3);
	assert_int_equal(b[0].dropped_batches, 3);
	assert_int_equal(b[0].dropped_windows, 4);
	for (i = 1; i < nb; i++)
		assert_string_not_equal(b[i].id, b[0].id);
	assert_int_equal(total_exposures(b, nb, &seen), want);
	assert_int_equal(seen, n);
	canary__ev_bodies_free(A, b, nb);
	free(full);
	free(w);
}

static void test_report_only(void **state)
{
	canary__ev_body *b = NULL;
	canary__ev_batch h;
	size_t nb = 0, seen;
	unsigned ids = 0;

	(void)state;
	head(&h);
	h.dropped_batches = 1;
	assert_int_equal(canary__ev_batches_build(A, &h, NULL, 0,
		CANARY__EV_SOFT_BODY, counting_id, &ids, &b, &nb), CANARY_OK);
	assert_int_equal(nb, 1);
	assert_int_equal(total_exposures(b, nb, &seen), 0);
	assert_int_equal(seen, 0);
	canary__ev_bodies_free(A, b, nb);
}

/* A sketch of `n` units from `first` on, encoded (its form: sparse for a
 * few units, dense for many). */
static void sketch_of(unsigned first, unsigned n, uint8_t *out, size_t *len)
{
	static uint8_t regs[CANARY__HLL_REGS(CANARY__HLL_P)];
	canary__hll h;
	unsigned i;

	assert_int_equal(canary__hll_init(&h, CANARY__HLL_P, regs), 0);
	for (i = first; i < first + n; i++)
		canary__hll_add(&h, &i, sizeof(i));
	*len = canary__hll_encode(&h, out, CANARY__EV_MAX_SKETCH);
	assert_true(*len > 0);
}

/* The user-level fields: bytes and figures back exactly, the text again;
 * a window without them stays a window without them. */
static void test_round_trip_users(void **state)
{
	static uint8_t dense[CANARY__EV_MAX_SKETCH], sparse[CANARY__EV_MAX_SKETCH];
	canary__ev_window w[2];
	canary__ev_batch b, back;
	canary__perror e;
	char *text, *again;
	size_t len, len2, i;

	(void)state;
	head(&b);
	memset(w, 0, sizeof(w));
	snprintf(w[0].flag, sizeof(w[0].flag), "rolled-out");
	w[0].arm = CANARY_ARM_CANARY;
	w[0].exposures = 100000;
	w[0].errors = 7;
	w[0].has_users = true;
	sketch_of(0, 50000, dense, &w[0].users.units.len);
	w[0].users.units.bytes = dense;
	sketch_of(10, 3, sparse, &w[0].users.error_units.len);
	w[0].users.error_units.bytes = sparse;
	assert_int_equal(dense[2], 0);   /* the dense form */
	assert_int_equal(sparse[2], 1);  /* the sparse form */
	w[0].users.error_units_mapped = 3;
	w[0].users.error_sq = 9007199254740991ull;
	w[0].users.error_max = 5;
	w[0].users.errors_unmapped = 1;
	snprintf(w[1].flag, sizeof(w[1].flag), "v1");
	b.windows = w;
	b.count = 2;
	text = encode(&b, &len);
	assert_null(strstr(strstr(text, "\"v1\""), "units"));
	assert_int_equal(canary__ev_batch_decode(A, text, len, 0, &back, &e),
		CANARY_OK);
	assert_int_equal(back.count, 2);
	for (i = 0; i < 2; i++)
		assert_windows_equal(&back.windows[i], &w[i]);
	again = encode(&back, &len2);
	assert_string_equal(again, text);
	canary__ev_batch_clear(&back);
	canary__free(A, text);
	canary__free(A, again);
}

/* The user-level members with `units` as given and the others valid. */
static char *users_window(const char *units, const char *more)
{
	static char extra[1024];

	snprintf(extra, sizeof(extra), ", \"units\": %s, \"error_units\": "
		"\"AQwBAAAAAAA=\", \"error_units_mapped\": 0, \"error_sq\": 0,"
		" \"error_max\": 0%s", units, more);
	return one_window(extra);
}

static void test_users_strict(void **state)
{
	static const char *const want_all = "is required with the other "
		"user-level fields (units, error_units, error_units_mapped, "
		"error_sq, error_max, errors_unmapped)";
	/* An empty sparse sketch at p = 12: 01 0c 01 00, count 0. */
	const char *empty = "\"AQwBAAAAAAA=\"";
	char want[256], p11[64];
	canary__ev_batch b;
	canary__perror e;
	const char *ok;

	(void)state;
	ok = users_window(empty, ", \"errors_unmapped\": 0");
	assert_int_equal(canary__ev_batch_decode(A, ok, strlen(ok), 0, &b,
		&e), CANARY_OK);
	assert_true(b.windows[0].has_users);
	assert_int_equal(b.windows[0].users.units.len, 8);
	canary__ev_batch_clear(&b);
	/* Together or not at all. */
	snprintf(want, sizeof(want), "windows[0].errors_unmapped: %s", want_all);
	expect_error(users_window(empty, ""), want);
	snprintf(want, sizeof(want), "windows[0].error_units: %s", want_all);
	expect_error(one_window(", \"units\": \"AQwBAAAAAAA=\""), want);
	/* Canonical base64 of a well-formed sketch at p = 12. */
	expect_error(users_window("\"AQwBAAAAAAA\"", ", \"errors_unmapped\": 0"),
		"windows[0].units: must be base64 (RFC 4648, padded)");
	expect_error(users_window("\"AQwBAAAAAAB=\"", ", \"errors_unmapped\": 0"),
		"windows[0].units: must be base64 (RFC 4648, padded)");
	expect_error(users_window("\"AQwB AAAAAA=\"", ", \"errors_unmapped\": 0"),
		"windows[0].units: must be base64 (RFC 4648, padded)");
	expect_error(users_window("7", ", \"errors_unmapped\": 0"),
		"windows[0].units: must be a string");
	expect_error(users_window("\"AQwBAAEAAAA=\"", ", \"errors_unmapped\": 0"),
		"windows[0].units: sparse sketch: 1 entries in 0 bytes (3 "
		"each, at most 4096 entries)");
	snprintf(p11, sizeof(p11), "\"AQsBAAAAAAA=\"");
	expect_error(users_window(p11, ", \"errors_unmapped\": 0"),
		"windows[0].units: precision 11, expected 12");
	expect_error(users_window(empty, ", \"errors_unmapped\": -1"),
		"windows[0].errors_unmapped: must be an integer "
		"0..9007199254740991");
}

static void test_base64(void **state)
{
	static const struct { const char *bytes, *text; } vectors[] = {
		{ "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
		{ "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" },
		{ "foobar", "Zm9vYmFy" },
	};
	static const char *const bad[] = { "Zg=", "Zg", "Z===", "Zh==",
		"Zm9=", "Zg==Zg==", "Zm9v\n", "Zm 9", "Zm9v====", "=Zm9" };
	uint8_t out[16], all[256];
	size_t i, n;
	canary__buf buf;
	char *text;

	(void)state;
	for (i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		canary__buf_init(&buf, A);
		canary__base64_put(&buf, (const uint8_t *)vectors[i].bytes,
			strlen(vectors[i].bytes));
		text = canary__buf_take(&buf, &n);
		assert_string_equal(text ? text : "", vectors[i].text);
		assert_int_equal(n, canary__base64_len(strlen(vectors[i].bytes)));
		canary__free(A, text);
		assert_int_equal(canary__base64_decode(vectors[i].text,
			strlen(vectors[i].text), out, &n), 0);
		assert_int_equal(n, strlen(vectors[i].bytes));
		assert_memory_equal(out, vectors[i].bytes, n);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(canary__base64_decode(bad[i], strlen(bad[i]), out,
			&n), -1);
	/* Every byte value, through and back. */
	for (i = 0; i < 256; i++)
		all[i] = (uint8_t)i;
	canary__buf_init(&buf, A);
	canary__base64_put(&buf, all, 256);
	text = canary__buf_take(&buf, &n);
	assert_non_null(text);
	{
		uint8_t back[258];

		assert_int_equal(canary__base64_decode(text, n, back, &n), 0);
		assert_int_equal(n, 256);
		assert_memory_equal(back, all, 256);
	}
	canary__free(A, text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_encoder_keeps_within_the_decoder),
		cmocka_unit_test(test_latency_strict),
		cmocka_unit_test(test_unknown_fields_ignored),
		cmocka_unit_test(test_batch_strict),
		cmocka_unit_test(test_window_strict),
		cmocka_unit_test(test_strings_nul_and_utf8),
		cmocka_unit_test(test_metric_names),
		cmocka_unit_test(test_split_and_report),
		cmocka_unit_test(test_report_only),
		cmocka_unit_test(test_round_trip_users),
		cmocka_unit_test(test_users_strict),
		cmocka_unit_test(test_base64),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
