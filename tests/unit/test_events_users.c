/*
 * test_events_users.c - the user-level evidence the SDK sends for a flag
 * under an active rollout (sdk/user_evidence.c, proto/event_batch.c):
 * only for such flags; sketches of the units exposed and of the units with
 * an error; the errors counted through the map of erroring units, exactly,
 * with their dispersion (a unit failing 20 times is one unit with 20); and
 * every window holding what the server's ingest check expects of it, even
 * when threads count while the counts are taken. A transport hook plays
 * the service and decodes each batch with the server's decoder.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "canary/canary.h"
#include "event_batch.h"
#include "hll.h"

#define CONFIG "{\"version\": 3, \"flags\": [" \
	"{\"key\": \"rolling\", \"rollout_bp\": 5000, \"state\": \"running\"}," \
	"{\"key\": \"plain\", \"rollout_bp\": 5000}]}"

#define REGS CANARY__HLL_REGS(CANARY__HLL_P)

/* What the fake service received for one (flag, arm). */
typedef struct arm_sum {
	uint64_t exposures, errors, windows, with_users;
	uint64_t used, sq, max, unmapped;
	uint8_t units[REGS], error_units[REGS];
} arm_sum;

static struct {
	arm_sum rolling[2], plain[2];
	int bad_windows, bad_bodies;
	char why[512];
} svc;
static pthread_mutex_t svc_lock = PTHREAD_MUTEX_INITIALIZER;

static void svc_reset(void)
{
	pthread_mutex_lock(&svc_lock);
	memset(svc.rolling, 0, sizeof(svc.rolling));
	memset(svc.plain, 0, sizeof(svc.plain));
	svc.bad_windows = svc.bad_bodies = 0;
	svc.why[0] = '\0';
	pthread_mutex_unlock(&svc_lock);
}

/* The relations the server's ingest check (cj_window_check) holds a
 * window to; false with svc.why when one fails. */
static bool window_sound(const canary__ev_window *w, canary__hll *u,
	canary__hll *e)
{
	const canary__ev_users *x = &w->users;
	uint64_t mapped = w->errors - x->errors_unmapped;

	if (x->errors_unmapped > w->errors || !canary__hll_within(e, u) ||
	    !canary__hll_plausible(canary__hll_estimate(e), CANARY__HLL_P,
		(double)w->errors) ||
	    !canary__hll_plausible(canary__hll_estimate(u), CANARY__HLL_P,
		(double)(w->exposures + w->errors)) ||
	    x->error_units_mapped > mapped || x->error_sq < mapped ||
	    x->error_max > mapped || x->error_sq > x->error_max * mapped) {
		snprintf(svc.why, sizeof(svc.why), "%.64s/%d: %llu exposures, "
			"%llu errors, units %.1f, error units %.1f, mapped %llu, "
			"sq %llu, max %llu, unmapped %llu", w->flag, (int)w->arm,
			(unsigned long long)w->exposures,
			(unsigned long long)w->errors, canary__hll_estimate(u),
			canary__hll_estimate(e),
			(unsigned long long)x->error_units_mapped,
			(unsigned long long)x->error_sq,
			(unsigned long long)x->error_max,
			(unsigned long long)x->errors_unmapped);
		return false;
	}
	return true;
}

static void take_window(const canary__ev_window *w)
{
	arm_sum *a = strcmp(w->flag, "rolling") == 0 ? &svc.rolling[w->arm] :
		&svc.plain[w->arm];
	static uint8_t ur[REGS], er[REGS];
	canary__hll u = { CANARY__HLL_P, ur }, e = { CANARY__HLL_P, er };
	canary__hll au = { CANARY__HLL_P, a->units };
	canary__hll ae = { CANARY__HLL_P, a->error_units };

	a->exposures += w->exposures;
	a->errors += w->errors;
	a->windows++;
	if (!w->has_users)
		return;
	a->with_users++;
	if (canary__hll_decode(&u, w->users.units.bytes, w->users.units.len,
	    NULL, 0) != 0 || canary__hll_decode(&e, w->users.error_units.bytes,
	    w->users.error_units.len, NULL, 0) != 0 || !window_sound(w, &u, &e)) {
		svc.bad_windows++;
		return;
	}
	canary__hll_merge(&au, &u);
	canary__hll_merge(&ae, &e);
	a->used += w->users.error_units_mapped;
	a->sq += w->users.error_sq;
	a->unmapped += w->users.errors_unmapped;
	if (w->users.error_max > a->max)
		a->max = w->users.error_max;
}

static int hook(const canary_http_request *req, canary_http_response *resp,
	void *ctx)
{
	canary__ev_batch b;
	canary__perror e;
	size_t i;

	(void)ctx;
	if (req->stream)
		return CANARY_ENOTSUP;
	resp->status = 200;
	if (strcmp(req->method, "POST") != 0) {
		req->body_fn(CONFIG, strlen(CONFIG), req->body_ctx);
		return CANARY_OK;
	}
	resp->status = 202;
	pthread_mutex_lock(&svc_lock);
	if (canary__ev_batch_decode(canary__alloc_default(), req->body,
	    req->body_len, 0, &b, &e) != CANARY_OK) {
		svc.bad_bodies++;
		resp->status = 400;
	} else {
		for (i = 0; i < b.count; i++)
			take_window(&b.windows[i]);
		canary__ev_batch_clear(&b);
	}
	pthread_mutex_unlock(&svc_lock);
	return CANARY_OK;
}

static canary_client *client(void)
{
	canary_options o;
	canary_client *c;

	canary_options_init(&o, CANARY_OPTIONS_VERSION);
	o.server_url = "http://127.0.0.1:9";  /* never used: the hook answers */
	o.sdk_key = "key";
	o.transport.request = hook;
	o.flush_interval_ms = 3600000;        /* only explicit flushes */
	assert_int_equal(canary_client_new(&c, &o), CANARY_OK);
	assert_int_equal(canary_client_wait_ready(c, 10000), CANARY_OK);
	return c;
}

static double units_of(arm_sum *a, bool errors)
{
	canary__hll h = { CANARY__HLL_P, errors ? a->error_units : a->units };

	return canary__hll_estimate(&h);
}

/* Only the rolled-out flag carries the fields; users are users, however
 * many requests they make; a burst of one user is one unit with many
 * errors. */
static void test_sketches_only_for_rolled_out_flags(void **state)
{
	canary_client *c = client();
	uint64_t burst_arm;
	char unit[32];
	int i, k;

	(void)state;
	svc_reset();
	for (i = 0; i < 2000; i++) {
		snprintf(unit, sizeof(unit), "user-%d", i);
		for (k = 0; k < 3; k++) {   /* 3 requests per user */
			canary_enabled(c, "rolling", unit);
			canary_enabled(c, "plain", unit);
		}
		if (i % 100 == 0) {          /* 20 users with one error */
			assert_int_equal(canary_record_error(c, "rolling", unit),
				CANARY_OK);
			assert_int_equal(canary_record_error(c, "plain", unit),
				CANARY_OK);
		}
	}
	burst_arm = canary_enabled(c, "rolling", "retrier") ? 1 : 0;
	for (k = 0; k < 20; k++)
		assert_int_equal(canary_record_error(c, "rolling", "retrier"),
			CANARY_OK);
	assert_int_equal(canary_flush(c, 10000), CANARY_OK);
	assert_int_equal(svc.bad_bodies, 0);
	assert_int_equal(svc.bad_windows, 0);
	for (k = 0; k < 2; k++) {
		assert_int_equal(svc.plain[k].with_users, 0);
		assert_int_equal(svc.rolling[k].with_users,
			svc.rolling[k].windows);
	}
	assert_int_equal(svc.rolling[0].exposures + svc.rolling[1].exposures,
		6001);
	assert_int_equal(svc.rolling[0].errors + svc.rolling[1].errors, 40);
	assert_int_equal(svc.plain[0].errors + svc.plain[1].errors, 20);
	/* 2001 users (exact to the sketch's error), 21 with errors. */
	assert_true(units_of(&svc.rolling[0], false) +
		units_of(&svc.rolling[1], false) > 2001 * 0.95);
	assert_true(units_of(&svc.rolling[0], false) +
		units_of(&svc.rolling[1], false) < 2001 * 1.05);
	assert_true(units_of(&svc.rolling[0], true) +
		units_of(&svc.rolling[1], true) > 20.5 &&
		units_of(&svc.rolling[0], true) +
		units_of(&svc.rolling[1], true) < 21.5);
	assert_int_equal(svc.rolling[0].used + svc.rolling[1].used, 21);
	assert_int_equal(svc.rolling[burst_arm].max, 20);
	assert_int_equal(svc.rolling[0].sq + svc.rolling[1].sq, 20 + 400);
	assert_int_equal(svc.rolling[0].unmapped + svc.rolling[1].unmapped, 0);
	canary_client_free(c);
}

/* More erroring units in a window than the map holds: the rest are
 * counted as unmapped, every error still counted. */
static void test_map_full_counts_unmapped(void **state)
{
	canary_client *c = client();
	char unit[32];
	int i;

	(void)state;
	svc_reset();
	for (i = 0; i < 1000; i++) {
		snprintf(unit, sizeof(unit), "e-%d", i);
		assert_int_equal(canary_record_error(c, "rolling", unit),
			CANARY_OK);
	}
	assert_int_equal(canary_flush(c, 10000), CANARY_OK);
	assert_int_equal(svc.bad_windows, 0);
	assert_int_equal(svc.rolling[0].errors + svc.rolling[1].errors, 1000);
	assert_true(svc.rolling[0].used <= 96 && svc.rolling[1].used <= 96);
	assert_int_equal(svc.rolling[0].used + svc.rolling[1].used +
		svc.rolling[0].unmapped + svc.rolling[1].unmapped, 1000);
	canary_client_free(c);
}

#define THREADS 4
#define PER_THREAD 30000

typedef struct worker {
	canary_client *c;
	int id;
	uint64_t exposures, errors;
} worker;

static void *count(void *p)
{
	worker *w = p;
	char unit[32];
	int i;

	for (i = 0; i < PER_THREAD; i++) {
		snprintf(unit, sizeof(unit), "t%d-%d", w->id, i % 5000);
		canary_enabled(w->c, "rolling", unit);
		w->exposures++;
		if (i % 13 == 0 && canary_record_error(w->c, "rolling",
		    unit) == CANARY_OK)
			w->errors++;
	}
	return NULL;
}

/* Counts taken while threads count: exact in total, and every window as
 * the server's check wants it. */
static void test_exact_and_sound_across_threads(void **state)
{
	canary_client *c = client();
	worker w[THREADS];
	pthread_t tid[THREADS];
	uint64_t exposures = 0, errors = 0;
	int i;

	(void)state;
	svc_reset();
	for (i = 0; i < THREADS; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].c = c;
		w[i].id = i;
		assert_int_equal(pthread_create(&tid[i], NULL, count, &w[i]), 0);
	}
	for (i = 0; i < 20; i++)
		assert_int_equal(canary_flush(c, 10000), CANARY_OK);
	for (i = 0; i < THREADS; i++) {
		pthread_join(tid[i], NULL);
		exposures += w[i].exposures;
		errors += w[i].errors;
	}
	assert_int_equal(canary_flush(c, 10000), CANARY_OK);
	if (svc.bad_windows)
		fail_msg("%d windows fail the ingest check, e.g. %s",
			svc.bad_windows, svc.why);
	assert_int_equal(svc.rolling[0].exposures + svc.rolling[1].exposures,
		exposures);
	assert_int_equal(svc.rolling[0].errors + svc.rolling[1].errors, errors);
	/* 20,000 users, to the sketch's error. */
	assert_true(units_of(&svc.rolling[0], false) +
		units_of(&svc.rolling[1], false) > 20000 * 0.95);
	assert_true(units_of(&svc.rolling[0], false) +
		units_of(&svc.rolling[1], false) < 20000 * 1.05);
	canary_client_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sketches_only_for_rolled_out_flags),
		cmocka_unit_test(test_map_full_counts_unmapped),
		cmocka_unit_test(test_exact_and_sound_across_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
