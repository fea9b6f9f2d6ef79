/*
 * test_storage_evidence.c - what the judge reads of each instance, on
 * every backend: a window's user-level evidence (sketches merged, the
 * counts they cover), each instance's contribution (v1 windows counted
 * like the others, the two largest named), whether latency was ever
 * seen; unchanged when the backend merges closed windows, carried by
 * migrate (cs_store_copy), and the same whether windows come in one batch
 * or one batch each.
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

/* A window's user-level fields: a sketch of `n` units from `first`, `e`
 * of them with one error each. */
static void users_fields(canary__buf *b, uint64_t first, uint64_t n,
	uint64_t e)
{
	canary__buf_puts(b, ",\"units\":\"");
	sketch(b, first, n);
	canary__buf_puts(b, "\",\"error_units\":\"");
	sketch(b, first, e);
	canary__buf_printf(b, "\",\"error_units_mapped\":%llu,"
		"\"error_sq\":%llu,\"error_max\":%d,\"errors_unmapped\":0",
		(unsigned long long)e, (unsigned long long)e, e ? 1 : 0);
}

/* End the batch in `b`, ingest it at `now` (a new batch id), free `b`. */
static void ingest_json(cs_store *s, canary__buf *b, uint64_t now)
{
	canary__ev_batch batch;
	canary__perror err;
	bool dup;

	canary__buf_puts(b, "]}");
	assert_false(b->failed);
	if (canary__ev_batch_decode(canary__alloc_default(), b->data, b->len,
	    0, &batch, &err) != CANARY_OK)
		fail_msg("%s: %s", err.field, err.message);
	assert_int_equal(cs_store_ingest(s, &batch, now, WIDTH, &dup),
		CANARY_OK);
	assert_false(dup);
	canary__ev_batch_clear(&batch);
	canary__buf_free(b);
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
	canary__buf b;
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
		if (users)
			users_fields(&b, first + 1000000u * (uint64_t)a, n, e);
		canary__buf_puts(&b, "}");
	}
	ingest_json(s, &b, now);
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

/* The windows of test_one_batch_or_many: flag, arm, exposures, errors,
 * a metric's sum (0: none), with a sketch of units (flag "aa" has no
 * rollout: only those are its contributions). Windows of one key are
 * apart, and the metric's sums add up differently in another order
 * (1e16 + 1 is 1e16 in a double, 1 + 1 + 1e16 is not). */
static const struct {
	const char *flag, *arm;
	unsigned exposures, errors;
	double metric;
	bool users;
} mixed[] = {
	{ FLAG, "canary", 10, 1, 1e16, false },
	{ "aa", "stable", 5, 0, 0, true },
	{ FLAG, "stable", 20, 2, 0, true },
	{ FLAG, "canary", 30, 3, 1, false },
	{ "aa", "stable", 7, 1, 0, false },
	{ FLAG, "canary", 40, 0, 1, true },
	{ "aa", "canary", 9, 9, 0, true },
};
#define MIXED (sizeof(mixed) / sizeof(mixed[0]))

/* Windows `from`..`to`-1 of `mixed` as batch `id` from instance "i". */
static void post_mixed(cs_store *s, unsigned id, size_t from, size_t to)
{
	canary__buf b;
	size_t k;

	canary__buf_init(&b, NULL);
	canary__buf_printf(&b, "{\"batch_id\":\"%032x\",\"instance_id\":"
		"\"i\",\"sdk_version\":\"t\",\"sent_at_ms\":1,\"windows\":[", id);
	for (k = from; k < to; k++) {
		canary__buf_printf(&b, "%s{\"flag\":\"%s\",\"arm\":\"%s\","
			"\"config_version\":1,\"start_ms\":1,\"end_ms\":2,"
			"\"exposures\":%u,\"errors\":%u,\"latency_ms\":{\"zero\":1,"
			"\"bins\":[[%u,%u]]}", k > from ? "," : "", mixed[k].flag,
			mixed[k].arm, mixed[k].exposures, mixed[k].errors,
			100 + (unsigned)k, mixed[k].exposures);
		if (mixed[k].metric != 0)
			canary__buf_printf(&b, ",\"metrics\":{\"m\":{\"count\":1,"
				"\"sum\":%.17g}}", mixed[k].metric);
		if (mixed[k].users)
			users_fields(&b, 1000u * (uint64_t)k, mixed[k].exposures,
				mixed[k].errors);
		canary__buf_puts(&b, "}");
	}
	ingest_json(s, &b, 1700000000000ull);
}

/* What `s` keeps of the mixed windows, as text to compare. */
typedef struct kept {
	char text[2048];
	size_t len;
} kept;

static void keep(kept *k, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	k->len += (size_t)vsnprintf(k->text + k->len, sizeof(k->text) - k->len,
		fmt, ap);
	va_end(ap);
	assert_true(k->len < sizeof(k->text));
}

static void keep_total(const char *flag, canary_arm arm, uint64_t exposures,
	uint64_t errors, void *arg)
{
	keep(arg, "total %s %d %llu %llu\n", flag, (int)arm,
		(unsigned long long)exposures, (unsigned long long)errors);
}

static void keep_users(kept *k, const char *what, const cs_arm_users *u)
{
	keep(k, "%s %d %llu %llu %llu %llu %llu %.3f %.3f\n", what, (int)u->any,
		(unsigned long long)u->sketched_exposures,
		(unsigned long long)u->sketched_errors,
		(unsigned long long)u->error_sq,
		(unsigned long long)u->errors_unmapped,
		(unsigned long long)u->error_max, est(u->units),
		est(u->error_units));
}

static void keep_flag(cs_store *s, const char *flag, kept *k)
{
	cs_contributions *c = calloc(1, sizeof(*c));
	cs_arm_stats *arms = calloc(CANARY__ARMS, sizeof(*arms));
	cs_metric_sum *m = NULL;
	cs_stats_filter f;
	size_t n = 0, i;
	int a;

	assert_non_null(c);
	assert_non_null(arms);
	memset(&f, 0, sizeof(f));
	f.users = true;
	assert_int_equal(cs_store_stats(s, flag, &f, arms), CANARY_OK);
	assert_int_equal(cs_store_contributions(s, flag, 1, 0, c), CANARY_OK);
	keep(k, "%s: %zu instances, %zu named\n", flag, c->instances, c->ntop);
	for (a = 0; a < CANARY__ARMS; a++) {
		keep(k, "arm %d: %llu %llu %llu windows, latency %llu %llu\n",
			a, (unsigned long long)arms[a].exposures,
			(unsigned long long)arms[a].errors,
			(unsigned long long)arms[a].windows,
			(unsigned long long)canary__hist_count(&arms[a].latency),
			(unsigned long long)arms[a].latency.zero);
		keep_users(k, "window users", &arms[a].users);
		keep_users(k, "contributed users", &c->all[a]);
		for (i = 0; i < c->ntop; i++)
			keep(k, "%s: %llu %llu\n", c->top[i].instance,
				(unsigned long long)c->top[i].arm[a].exposures,
				(unsigned long long)c->top[i].arm[a].errors);
	}
	assert_int_equal(cs_store_metric_sums(s, flag, NULL, &m, &n),
		CANARY_OK);
	for (i = 0; i < n; i++)
		keep(k, "metric %d %s %llu %.17g\n", (int)m[i].arm, m[i].name,
			(unsigned long long)m[i].count, m[i].sum);
	free(m);
	free(arms);
	free(c);
}

static void keep_all(cs_store *s, kept *k)
{
	memset(k, 0, sizeof(*k));
	keep_flag(s, FLAG, k);
	keep_flag(s, "aa", k);
	assert_int_equal(cs_store_totals(s, keep_total, k), CANARY_OK);
}

/* A batch is stored as its windows one batch each would be: a backend
 * may order a batch's windows and sum its totals first, never change
 * what the judge reads. */
static void test_one_batch_or_many(void **state)
{
	cs_store *one = fx_open(), *many;
	char many_loc[512];
	kept a, b;
	cs_rollout r;
	size_t k;

	(void)state;
	if (fx_is_pg())
		assert_int_equal(pgt_create(NULL, many_loc, sizeof(many_loc)),
			0);
	else
		snprintf(many_loc, sizeof(many_loc), "%s/many.db", fx_dir);
	many = fx_open_at(many_loc);
	fx_create(one, FLAG);
	fx_create(one, "aa");
	fx_create(many, FLAG);
	fx_create(many, "aa");
	fx_rollout(&r, FLAG);
	assert_int_equal(fx_start(one, &r, NULL, NULL), CANARY_OK);
	fx_rollout(&r, FLAG);
	assert_int_equal(fx_start(many, &r, NULL, NULL), CANARY_OK);

	post_mixed(one, 1, 0, MIXED);
	for (k = 0; k < MIXED; k++)
		post_mixed(many, 1 + (unsigned)k, k, k + 1);
	keep_all(one, &a);
	keep_all(many, &b);
	assert_string_equal(a.text, b.text);
	/* The sums as sent, in order. */
	assert_non_null(strstr(a.text, "metric 1 m 3 10000000000000000\n"));
	assert_non_null(strstr(a.text, "total aa 0 12 1\n"));
	assert_non_null(strstr(a.text, "aa: 1 instances"));
	cs_store_close(many);
	if (fx_is_pg())
		pgt_drop(many_loc);
	cs_store_close(one);
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
		cmocka_unit_test_setup_teardown(test_one_batch_or_many,
			fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
