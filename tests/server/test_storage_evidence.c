/*
 * test_storage_evidence.c - what the judge reads of each instance, on
 * every backend: a window's user-level evidence (sketches merged, the
 * counts they cover), each instance's contribution (v1 windows counted
 * like the others, the two largest named), whether latency was ever
 * seen; unchanged when the backend merges closed windows, and carried by
 * migrate (cs_store_copy).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "buf.h"
#include "hll.h"
#include "pg_testdb.h"
#include "store_fixture.h"

#define FLAG "ev"
#define WIDTH 1000

/* A sketch of units first..first+n-1, base64 into `b`. */
static void sketch(canary__buf *b, uint64_t first, uint64_t n)
{
	static uint8_t regs[CANARY__HLL_REGS(CANARY__HLL_P)];
	static uint8_t wire[CANARY__HLL_MAX_ENCODED];
	canary__hll h;
	uint64_t u;

	canary__hll_init(&h, CANARY__HLL_P, regs);
	for (u = first; u < first + n; u++)
		canary__hll_add(&h, &u, sizeof(u));
	canary__base64_put(b, wire, canary__hll_encode(&h, wire,
		sizeof(wire)));
}

/*
 * One batch from `instance`: per arm `n` exposures of units first.. and
 * `e` of them with one error each, with the user-level fields (users) or
 * without (a v1 window).
 */
static void post(cs_store *s, unsigned id, const char *instance,
	bool users, uint64_t first, uint64_t n, uint64_t e, uint64_t now)
{
	static const char *const arms[2] = { "stable", "canary" };
	canary__ev_batch batch;
	canary__perror err;
	canary__buf b;
	bool dup;
	int a;

	canary__buf_init(&b, NULL);
	canary__buf_printf(&b, "{\"batch_id\":\"%032x\",\"instance_id\":"
		"\"%s\",\"sdk_version\":\"t\",\"sent_at_ms\":1,\"windows\":[",
		id, instance);
	for (a = 0; a < 2; a++) {
		canary__buf_printf(&b, "%s{\"flag\":\"" FLAG "\",\"arm\":\"%s\","
			"\"config_version\":1,\"start_ms\":1,\"end_ms\":2,"
			"\"exposures\":%llu,\"errors\":%llu,\"latency_ms\":"
			"{\"zero\":0,\"bins\":[[100,%llu]]}", a ? "," : "", arms[a],
			(unsigned long long)n, (unsigned long long)e,
			(unsigned long long)n);
		if (users) {
			canary__buf_puts(&b, ",\"units\":\"");
			sketch(&b, first + 1000000u * (uint64_t)a, n);
			canary__buf_puts(&b, "\",\"error_units\":\"");
			sketch(&b, first + 1000000u * (uint64_t)a, e);
			canary__buf_printf(&b, "\",\"error_units_mapped\":%llu,"
				"\"error_sq\":%llu,\"error_max\":%d,"
				"\"errors_unmapped\":0",
				(unsigned long long)e, (unsigned long long)e,
				e ? 1 : 0);
		}
		canary__buf_puts(&b, "}");
	}
	canary__buf_puts(&b, "]}");
	assert_false(b.failed);
	if (canary__ev_batch_decode(canary__alloc_default(), b.data, b.len, 0,
	    &batch, &err) != CANARY_OK)
		fail_msg("%s: %s", err.field, err.message);
	assert_int_equal(cs_store_ingest(s, &batch, now, WIDTH, &dup),
		CANARY_OK);
	assert_false(dup);
	canary__ev_batch_clear(&batch);
	canary__buf_free(&b);
}

/* A rollout of FLAG, then what was posted: "big" 3 windows of 400 per
 * arm with users, "small" one of 100 with users, "old" (v1) 2 windows of
 * 1,000. */
static void fill(cs_store *s, uint64_t now)
{
	unsigned id = 1;
	cs_rollout r;
	int i;

	fx_create(s, FLAG);
	fx_rollout(&r, FLAG);
	assert_int_equal(fx_start(s, &r, NULL, NULL), CANARY_OK);

	for (i = 0; i < 3; i++)
		post(s, id++, "big", true, 10000u * (unsigned)i, 400, 4,
			now + (uint64_t)i * WIDTH);
	post(s, id++, "small", true, 50000, 100, 1, now);
	for (i = 0; i < 2; i++)
		post(s, id++, "old", false, 0, 1000, 50,
			now + (uint64_t)i * WIDTH);
}

static double est(const uint8_t *regs)
{
	canary__hll h = { CANARY__HLL_P, (uint8_t *)regs };

	return canary__hll_estimate(&h);
}

static const cs_contributor *named(const cs_contributions *c,
	const char *name)
{
	size_t i;

	for (i = 0; i < c->ntop; i++)
		if (strcmp(c->top[i].instance, name) == 0)
			return &c->top[i];
	return NULL;
}

/* The judge's view of the store: unchanged by merging and by copying
 * (`windows`: the windows' own evidence too; see the migrate test). */
static void assert_evidence(cs_store *s, bool windows)
{
	cs_contributions *c = calloc(1, sizeof(*c));
	cs_arm_stats *arms = calloc(CANARY__ARMS, sizeof(*arms));
	cs_stats_filter f;
	const cs_contributor *old, *big;
	bool seen = false;
	int a;

	assert_non_null(c);
	assert_non_null(arms);
	assert_int_equal(cs_store_contributions(s, FLAG, 1, 0, c), CANARY_OK);
	assert_int_equal(c->instances, 3);
	/* The v1 instance counts like any: the largest on both arms, so
	 * the only one named. */
	assert_int_equal(c->ntop, 1);
	old = named(c, "old");
	assert_non_null(old);
	assert_string_equal(c->top[0].instance, "old");
	big = named(c, "big");
	assert_null(big);
	for (a = 0; a < CANARY__ARMS; a++) {
		assert_int_equal(old->arm[a].exposures, 2000);
		assert_int_equal(old->arm[a].errors, 100);
		assert_false(old->arm[a].users.any);
		assert_int_equal(canary__hist_count(&old->arm[a].latency), 2000);
		/* Every instance's evidence summed: big's and small's. */
		assert_true(c->all[a].any);
		assert_int_equal(c->all[a].sketched_exposures, 1300);
		assert_int_equal(c->all[a].sketched_errors, 13);
		assert_int_equal(c->all[a].error_sq, 13);
		assert_true(fabs(est(c->all[a].units) - 1300) < 40);
		assert_true(fabs(est(c->all[a].error_units) - 13) < 1);
	}

	/* The windows' evidence: the same sketches, the counts they cover. */
	memset(&f, 0, sizeof(f));
	f.users = true;
	assert_int_equal(cs_store_stats(s, FLAG, &f, arms), CANARY_OK);
	for (a = 0; a < CANARY__ARMS && windows; a++) {
		assert_int_equal(arms[a].exposures, 3300);
		assert_true(arms[a].users.any);
		assert_int_equal(arms[a].users.sketched_exposures, 1300);
		assert_int_equal(arms[a].users.sketched_errors, 13);
		assert_true(fabs(est(arms[a].users.units) - 1300) < 40);
	}
	assert_int_equal(cs_store_latency_seen(s, FLAG, &seen), CANARY_OK);
	assert_true(seen);
	assert_int_equal(cs_store_latency_seen(s, "none", &seen), CANARY_OK);
	assert_false(seen);
	free(arms);
	free(c);
}

/* v1 windows count toward a contribution only under a rollout (what the
 * judge reads); windows with user-level evidence always. */
static void test_v1_windows_kept_only_under_a_rollout(void **state)
{
	cs_store *s = fx_open();
	cs_contributions *c = calloc(1, sizeof(*c));

	(void)state;
	assert_non_null(c);
	fx_create(s, FLAG);
	post(s, 1, "old", false, 0, 1000, 50, 1700000000000ull);
	post(s, 2, "new", true, 0, 100, 1, 1700000000000ull);
	assert_int_equal(cs_store_contributions(s, FLAG, 1, 0, c), CANARY_OK);
	assert_int_equal(c->instances, 1);
	assert_true(c->all[CANARY_ARM_CANARY].any);
	free(c);
	cs_store_close(s);
}

static void test_contributions_and_windows(void **state)
{
	cs_store *s = fx_open();
	uint64_t now = 1700000000000ull;
	cs_retention r;

	(void)state;
	fill(s, now);
	assert_evidence(s, true);
	/* Closed windows merged (a backend that keeps parts): the same. */
	memset(&r, 0, sizeof(r));
	r.windows_settled_ms = now + 3600000;
	assert_int_equal(cs_store_prune(s, &r, NULL), CANARY_OK);
	assert_evidence(s, true);
	/* More after the merge adds to what was merged. */
	post(s, 100, "big", true, 90000, 10, 0, now + 10 * WIDTH);
	assert_int_equal(cs_store_prune(s, &r, NULL), CANARY_OK);
	{
		cs_contributions *c = calloc(1, sizeof(*c));

		assert_non_null(c);
		assert_int_equal(cs_store_contributions(s, FLAG, 1, 0, c),
			CANARY_OK);
		assert_int_equal(c->all[CANARY_ARM_CANARY].sketched_exposures,
			1310);
		free(c);
	}
	cs_store_close(s);
}

static void test_evidence_survives_migrate(void **state)
{
	cs_store *src = fx_open(), *mid, *dst;
	char mid_path[300], dst_loc[512];
	cs_copy_counts n;

	(void)state;
	fill(src, 1700000000000ull);
	snprintf(mid_path, sizeof(mid_path), "%s/copy.db", fx_dir);
	mid = fx_open_at(mid_path);
	assert_int_equal(cs_store_copy(src, mid, 0, &n), CANARY_OK);
	assert_true(n.contributions >= 3);
	/* PostgreSQL's dump carries each instance's contribution, not the
	 * windows' merged sketches: the windows read as v1 after it (only
	 * the step's last intervals are read for their sketches). */
	assert_evidence(mid, !fx_is_pg());
	if (fx_is_pg())
		assert_int_equal(pgt_create(NULL, dst_loc, sizeof(dst_loc)), 0);
	else
		snprintf(dst_loc, sizeof(dst_loc), "%s/again.db", fx_dir);
	dst = fx_open_at(dst_loc);
	assert_int_equal(cs_store_copy(mid, dst, 0, NULL), CANARY_OK);
	assert_evidence(dst, !fx_is_pg());
	cs_store_close(dst);
	if (fx_is_pg())
		pgt_drop(dst_loc);
	cs_store_close(mid);
	cs_store_close(src);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_contributions_and_windows,
			fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(
			test_v1_windows_kept_only_under_a_rollout, fx_setup,
			fx_teardown),
		cmocka_unit_test_setup_teardown(test_evidence_survives_migrate,
			fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
