/*
 * test_events_server.c - events against the real canary-server (started
 * on 127.0.0.1 with an ephemeral port by the integration harness), through
 * a forwarding transport hook that can fail on cue (ev_proxy.c): exposures
 * and errors from several threads arrive exactly per arm; the server down
 * and back; 500 then 202; 404 (no endpoint) then 202, nothing dropped; a
 * batch sent twice counted once; the outbox
 * bound reports its drops; latency quantiles within 1%.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "canary/canary.h"
#include "ev_proxy.h"
#include "harness.h"

static srv server;

static const char *const flags[] = {
	"ev-threads", "ev-down", "ev-500", "ev-404", "ev-dup", "ev-bound",
	"ev-latency"
};

static int setup(void **state)
{
	size_t i;

	(void)state;
	if (srv_start(&server, NULL) != 0) {
		fprintf(stderr, "could not start canary-server\n");
		return -1;
	}
	for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
		px_put_flag(&server, flags[i], 5000);
	px_target(&server);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	srv_cleanup(&server);
	return 0;
}

static canary_client *client(const char *cache_path, uint32_t max_batches)
{
	canary_options o;
	canary_client *c;

	px_options(&o, cache_path);
	o.outbox_max_batches = max_batches;
	assert_int_equal(canary_client_new(&c, &o), CANARY_OK);
	assert_int_equal(canary_client_wait_ready(c, 20000), CANARY_OK);
	assert_int_equal(canary_client_status(c), CANARY_STATUS_READY);
	return c;
}

/* Count `n` exposures and every 5th as an error, remembering the arms. */
static void traffic(canary_client *c, const char *flag, const char *tag,
	int n, uint64_t exp[2], uint64_t err[2])
{
	char unit[64];
	int i, arm;

	for (i = 0; i < n; i++) {
		snprintf(unit, sizeof(unit), "%s-%d", tag, i);
		arm = canary_enabled(c, flag, unit);
		exp[arm]++;
		if (i % 5 == 0 && canary_record_error(c, flag, unit) == CANARY_OK)
			err[arm]++;
	}
}

static void assert_arrived(const char *flag, const uint64_t exp[2],
	const uint64_t err[2])
{
	px_arm arms[2];
	int a;

	assert_int_equal(px_stats(&server, flag, arms), 0);
	for (a = 0; a < 2; a++) {
		assert_int_equal(arms[a].exposures, exp[a]);
		assert_int_equal(arms[a].errors, err[a]);
	}
}

/* ---- several threads, exact per arm -------------------------------------- */

#define THREADS 4
#define PER_THREAD 5000

typedef struct targ {
	canary_client *c;
	char tag[16];
	uint64_t exp[2], err[2];
} targ;

static void *thread_main(void *p)
{
	targ *t = p;

	traffic(t->c, "ev-threads", t->tag, PER_THREAD, t->exp, t->err);
	return NULL;
}

static void test_threads_exact_per_arm(void **state)
{
	canary_client *c = client(NULL, 0);
	uint64_t exp[2] = { 0, 0 }, err[2] = { 0, 0 };
	pthread_t tid[THREADS];
	targ args[THREADS];
	int i;

	(void)state;
	for (i = 0; i < THREADS; i++) {
		memset(&args[i], 0, sizeof(args[i]));
		args[i].c = c;
		snprintf(args[i].tag, sizeof(args[i].tag), "t%d", i);
		assert_int_equal(pthread_create(&tid[i], NULL, thread_main,
			&args[i]), 0);
	}
	/* Flushes while the threads count: nothing lost, nothing twice. */
	for (i = 0; i < 3; i++)
		assert_int_equal(canary_flush(c, 20000), CANARY_OK);
	for (i = 0; i < THREADS; i++) {
		pthread_join(tid[i], NULL);
		exp[0] += args[i].exp[0];
		exp[1] += args[i].exp[1];
		err[0] += args[i].err[0];
		err[1] += args[i].err[1];
	}
	assert_int_equal(canary_flush(c, 20000), CANARY_OK);
	assert_true(exp[0] > 0 && exp[1] > 0);
	assert_arrived("ev-threads", exp, err);
	canary_client_free(c);
}

/* ---- the server goes away and comes back ---------------------------------- */

static void test_server_down_then_back(void **state)
{
	canary_client *c = client(NULL, 0);
	uint64_t exp[2] = { 0, 0 }, err[2] = { 0, 0 };
	canary_event_stats st = CANARY_EVENT_STATS_INIT;

	(void)state;
	traffic(c, "ev-down", "a", 300, exp, err);
	assert_int_equal(srv_stop(&server), 0);
	assert_int_equal(canary_flush(c, 500), CANARY_ETIMEOUT);
	traffic(c, "ev-down", "b", 300, exp, err);
	assert_int_equal(canary_flush(c, 500), CANARY_ETIMEOUT);
	canary_event_stats_get(c, &st);
	assert_true(st.outbox_batches >= 1);
	assert_int_equal(srv_restart(&server, NULL), 0);
	px_target(&server); /* it may listen on another port now */
	assert_int_equal(canary_flush(c, 30000), CANARY_OK);
	assert_arrived("ev-down", exp, err);
	canary_client_free(c);
}

/* ---- 500, then 202 ---------------------------------------------------------- */

static void test_500_then_202(void **state)
{
	canary_client *c = client(NULL, 0);
	uint64_t exp[2] = { 0, 0 }, err[2] = { 0, 0 };

	(void)state;
	px_set(PX_500, 3);
	traffic(c, "ev-500", "a", 500, exp, err);
	assert_int_equal(canary_flush(c, 30000), CANARY_OK);
	assert_arrived("ev-500", exp, err);
	canary_client_free(c);
}

/* ---- 404 (the endpoint not routed), then 202: nothing dropped ---------------- */

static void test_404_then_202(void **state)
{
	canary_client *c = client(NULL, 0);
	uint64_t exp[2] = { 0, 0 }, err[2] = { 0, 0 };

	(void)state;
	px_reset_counters();
	px_set(PX_404, 3);
	traffic(c, "ev-404", "a", 500, exp, err);
	assert_int_equal(canary_flush(c, 30000), CANARY_OK);
	assert_arrived("ev-404", exp, err);
	assert_int_equal(px_dropped_batches_seen(), 0);
	canary_client_free(c);
}

/* ---- the same batch twice ----------------------------------------------------- */

static void test_duplicate_counted_once(void **state)
{
	canary_client *c = client(NULL, 0);
	uint64_t exp[2] = { 0, 0 }, err[2] = { 0, 0 };

	(void)state;
	px_set(PX_DUP, 0);
	traffic(c, "ev-dup", "a", 400, exp, err);
	assert_int_equal(canary_flush(c, 30000), CANARY_OK);
	traffic(c, "ev-dup", "b", 400, exp, err);
	assert_int_equal(canary_flush(c, 30000), CANARY_OK);
	px_set(PX_FORWARD, 0);
	assert_arrived("ev-dup", exp, err);
	canary_client_free(c);
}

/* ---- the outbox bound --------------------------------------------------------- */

static void test_outbox_bound_reports_drops(void **state)
{
	canary_client *c = client(NULL, 2);
	uint64_t exp[2] = { 0, 0 }, err[2] = { 0, 0 };
	uint64_t lost[2] = { 0, 0 }, lost_err[2] = { 0, 0 };
	canary_event_stats st = CANARY_EVENT_STATS_INIT;
	int i;

	(void)state;
	px_reset_counters();
	px_set(PX_DOWN, 0);
	/* Five batches into an outbox of two: the first three are dropped. */
	for (i = 0; i < 5; i++) {
		char tag[8];

		snprintf(tag, sizeof(tag), "b%d", i);
		traffic(c, "ev-bound", tag, 100, i < 3 ? lost : exp,
			i < 3 ? lost_err : err);
		assert_int_equal(canary_flush(c, 0), CANARY_ETIMEOUT);
	}
	canary_event_stats_get(c, &st);
	assert_int_equal(st.dropped_batches, 3);
	assert_int_equal(st.outbox_batches, 2);
	px_set(PX_FORWARD, 0);
	/* Delivered before anything new could push them out. */
	assert_int_equal(canary_flush(c, 30000), CANARY_OK);
	assert_arrived("ev-bound", exp, err);
	/* The drops go out with the next batch: a report alone does not push
	 * data out of a full outbox, so it waited for room. */
	assert_int_equal(canary_flush(c, 30000), CANARY_OK);
	assert_int_equal(px_dropped_batches_seen(), 3);
	assert_arrived("ev-bound", exp, err);
	canary_client_free(c);
}

/* ---- latency quantiles on the server ----------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void check_quantile(const double *sorted, size_t n, double q,
	double got)
{
	double want = sorted[(size_t)floor(q * (double)(n - 1))];

	/* 1% relative accuracy, and the server rounds to 0.001 ms. */
	if (fabs(got - want) > 0.01 * want + 0.0005) {
		fprintf(stderr, "q%.2f: server %.4f, data %.4f\n", q, got, want);
		fail();
	}
}

static void test_latency_quantiles(void **state)
{
	canary_client *c = client(NULL, 0);
	double *values[2];
	size_t n[2] = { 0, 0 };
	uint64_t x = 88172645463325252ull;
	px_arm arms[2];
	char unit[32];
	int i, a;

	(void)state;
	values[0] = calloc(20000, sizeof(double));
	values[1] = calloc(20000, sizeof(double));
	assert_non_null(values[0]);
	assert_non_null(values[1]);
	for (i = 0; i < 20000; i++) {
		canary_details d = CANARY_DETAILS_INIT;
		double ms;

		/* Log-uniform over 0.5 .. 5000 ms, from a fixed xorshift. */
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		ms = 0.5 * pow(10000.0, (double)(x >> 11) / 9007199254740992.0);
		snprintf(unit, sizeof(unit), "lat-%d", i);
		canary_evaluate_ex(c, "ev-latency", unit,
			CANARY_EVALUATE_NO_EXPOSURE, &d);
		a = d.arm == CANARY_ARM_CANARY;
		values[a][n[a]++] = ms;
		assert_int_equal(canary_record_latency(c, "ev-latency", unit, ms),
			CANARY_OK);
	}
	assert_int_equal(canary_flush(c, 30000), CANARY_OK);
	assert_int_equal(px_stats(&server, "ev-latency", arms), 0);
	for (a = 0; a < 2; a++) {
		assert_true(n[a] > 1000);
		assert_int_equal(arms[a].lat_count, n[a]);
		qsort(values[a], n[a], sizeof(double), cmp_double);
		check_quantile(values[a], n[a], 0.50, arms[a].p50);
		check_quantile(values[a], n[a], 0.95, arms[a].p95);
		check_quantile(values[a], n[a], 0.99, arms[a].p99);
	}
	free(values[0]);
	free(values[1]);
	canary_client_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_threads_exact_per_arm),
		cmocka_unit_test(test_server_down_then_back),
		cmocka_unit_test(test_500_then_202),
		cmocka_unit_test(test_404_then_202),
		cmocka_unit_test(test_duplicate_counted_once),
		cmocka_unit_test(test_outbox_bound_reports_drops),
		cmocka_unit_test(test_latency_quantiles),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
