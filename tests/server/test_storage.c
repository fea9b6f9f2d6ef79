/*
 * test_storage.c - the storage interface (store/storage.h) against each
 * backend (SQLite; PostgreSQL as test_storage_pg): schema migration and
 * refusal of a newer schema, flags with their version bumps and the change
 * hook, ingest idempotent by batch id, stats and totals, the series of
 * windows, rollout changes guarded by revision with their decisions, the
 * controller lease and its fencing, retention, and closed windows merged
 * from their parts.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include <cjson/cJSON.h>

#include "alloc.h"
#include "store_fixture.h"

/* ---- the change hook ------------------------------------------------- */

typedef struct seen {
	uint64_t versions[16];
	size_t count[16];
	size_t n;
} seen;

static void record(const canary__config *c, void *arg)
{
	seen *s = arg;

	if (s->n < 16) {
		s->versions[s->n] = c->version;
		s->count[s->n] = c->count;
	}
	s->n++;
}

static void test_open_migrates_and_refuses_newer(void **state)
{
	cs_store_options o;
	cs_store *s = fx_open();
	fx_raw *raw;
	char err[256] = "";

	(void)state;
	assert_int_equal(cs_store_schema_version(s), fx_schema_version());
	cs_store_close(s);
	/* Reopening an up-to-date database changes nothing. */
	s = fx_open();
	assert_int_equal(cs_store_schema_version(s), fx_schema_version());
	cs_store_close(s);

	raw = fx_raw_open();
	fx_sql(raw, "INSERT INTO schema_version(version) VALUES(99)");
	fx_raw_close(raw);
	memset(&o, 0, sizeof(o));
	o.location = fx_db_path;
	s = NULL;
	assert_int_equal(cs_store_open(&s, &o, err, sizeof(err)),
		CANARY_ESTORAGE);
	assert_null(s);
	assert_non_null(strstr(err, "newer"));
}

static int rename_flag(const canary__flag *cur, canary__flag *next,
	void *arg)
{
	(void)cur;
	(void)arg;
	fx_flag("renamed", 0, next);
	return CANARY_OK;
}

static int set_half(const canary__flag *cur, canary__flag *next, void *arg)
{
	(void)arg;
	fx_flag(cur->key, 5000, next);
	return CANARY_OK;
}

static void test_flags_versions_and_hook(void **state)
{
	const canary__alloc *a = canary__alloc_default();
	cs_store *s = fx_open();
	canary__flag f;
	canary__config *c = NULL;
	seen hook;
	bool created = false;
	uint64_t v = 0;

	(void)state;
	memset(&hook, 0, sizeof(hook));
	cs_store_on_change(s, record, &hook);
	fx_flag("a", 100, &f);
	assert_int_equal(cs_store_flag_put(s, &f, CS_PUT_CREATE, NULL, &created, &v),
		CANARY_OK);
	assert_true(created);
	assert_int_equal(v, 2);
	assert_int_equal(cs_store_flag_put(s, &f, CS_PUT_CREATE, NULL, NULL, NULL),
		CS_EEXISTS);
	/* The same flag again changes nothing: no new version. */
	assert_int_equal(cs_store_flag_put(s, &f, CS_PUT_UPSERT, NULL, &created,
		&v), CANARY_OK);
	assert_false(created);
	assert_int_equal(v, 2);
	f.rollout_bp = 200;
	assert_int_equal(cs_store_flag_put(s, &f, CS_PUT_UPSERT, NULL, &created, &v),
		CANARY_OK);
	assert_false(created);
	assert_int_equal(v, 3);
	canary__flag_clear(a, &f);

	assert_int_equal(cs_store_flag_modify(s, "a", set_half, NULL, NULL, &v),
		CANARY_OK);
	assert_int_equal(v, 4);
	/* A modify may not rename: refused, nothing written, no bump. */
	assert_int_equal(cs_store_flag_modify(s, "a", rename_flag, NULL, NULL, NULL),
		CANARY_EINVAL);
	assert_int_equal(cs_store_flag_modify(s, "nope", set_half, NULL, NULL, NULL),
		CS_ENOTFOUND);
	assert_int_equal(cs_store_flag_get(s, "a", &f), CANARY_OK);
	assert_int_equal(f.rollout_bp, 5000);
	canary__flag_clear(a, &f);
	assert_int_equal(cs_store_flag_get(s, "renamed", &f), CS_ENOTFOUND);

	assert_int_equal(cs_store_flag_delete(s, "a", NULL, &v), CANARY_OK);
	assert_int_equal(v, 5);
	assert_int_equal(cs_store_flag_delete(s, "a", NULL, NULL), CS_ENOTFOUND);
	assert_int_equal(cs_store_config(s, &c), CANARY_OK);
	assert_int_equal(c->version, 5);
	assert_int_equal(c->count, 0);
	canary__config_free(a, c);

	/* Every committed change, in order, with what it committed. */
	assert_int_equal(hook.n, 4);
	assert_int_equal(hook.versions[0], 2);
	assert_int_equal(hook.count[0], 1);
	assert_int_equal(hook.versions[1], 3);
	assert_int_equal(hook.versions[2], 4);
	assert_int_equal(hook.versions[3], 5);
	assert_int_equal(hook.count[3], 0);
	cs_store_close(s);
}

typedef struct sum {
	uint64_t exposures, errors;
	size_t rows;
} sum;

static void add_total(const char *flag, canary_arm arm, uint64_t exposures,
	uint64_t errors, void *arg)
{
	sum *t = arg;

	(void)flag;
	(void)arm;
	t->exposures += exposures;
	t->errors += errors;
	t->rows++;
}

static void ingest(cs_store *s, unsigned int id, const char *arm,
	uint64_t cv, uint64_t exposures, bool expect_duplicate)
{
	canary__ev_batch b;
	bool dup = !expect_duplicate;

	fx_batch(id, "f", arm, cv, exposures, 1, &b);
	assert_int_equal(cs_store_ingest(s, &b, 1764000000000ull, 10000, &dup),
		CANARY_OK);
	assert_int_equal(dup, expect_duplicate);
	canary__ev_batch_clear(&b);
}

static void test_ingest_stats_totals_prune(void **state)
{
	cs_store *s = fx_open();
	cs_arm_stats *arms = calloc(CANARY__ARMS, sizeof(*arms));
	cs_stats_filter f;
	uint64_t removed = 0;
	cs_retention r;
	sum t;

	(void)state;
	assert_non_null(arms);
	ingest(s, 1, "canary", 2, 10, false);
	ingest(s, 1, "canary", 2, 10, true);  /* a replay counts nothing */
	ingest(s, 2, "stable", 2, 30, false);
	ingest(s, 3, "canary", 3, 5, false);

	assert_int_equal(cs_store_stats(s, "f", NULL, arms), CANARY_OK);
	assert_int_equal(arms[CANARY_ARM_CANARY].exposures, 15);
	assert_int_equal(arms[CANARY_ARM_CANARY].errors, 2);
	assert_int_equal(arms[CANARY_ARM_CANARY].windows, 2);
	assert_int_equal(canary__hist_count(&arms[CANARY_ARM_CANARY].latency), 4);
	assert_int_equal(arms[CANARY_ARM_STABLE].exposures, 30);

	memset(&f, 0, sizeof(f));
	f.has_config_version = true;
	f.config_version = 2;
	assert_int_equal(cs_store_stats(s, "f", &f, arms), CANARY_OK);
	assert_int_equal(arms[CANARY_ARM_CANARY].exposures, 10);
	memset(&f, 0, sizeof(f));
	f.min_config_version = 3;
	assert_int_equal(cs_store_stats(s, "f", &f, arms), CANARY_OK);
	assert_int_equal(arms[CANARY_ARM_CANARY].exposures, 5);
	assert_int_equal(arms[CANARY_ARM_STABLE].exposures, 0);
	assert_int_equal(cs_store_stats(s, "other", NULL, arms), CANARY_OK);
	assert_int_equal(arms[CANARY_ARM_CANARY].windows, 0);

	memset(&t, 0, sizeof(t));
	assert_int_equal(cs_store_totals(s, add_total, &t), CANARY_OK);
	assert_int_equal(t.exposures, 45);
	assert_int_equal(t.errors, 3);
	assert_int_equal(t.rows, 2);

	/* Forgotten batch ids: a replay is counted again. */
	memset(&r, 0, sizeof(r));
	assert_int_equal(cs_store_prune(s, &r, &removed), CANARY_OK);
	assert_int_equal(removed, 0);
	r.batches_before_ms = UINT64_C(1) << 62;
	assert_int_equal(cs_store_prune(s, &r, &removed), CANARY_OK);
	assert_int_equal(removed, 3);
	ingest(s, 1, "canary", 2, 10, false);

	/* Forgotten windows leave the stats; the lifetime totals stay. */
	memset(&r, 0, sizeof(r));
	r.windows_before_ms = 1764000000000ull + 1;
	assert_int_equal(cs_store_prune(s, &r, &removed), CANARY_OK);
	assert_true(removed >= 2);
	assert_int_equal(cs_store_stats(s, "f", NULL, arms), CANARY_OK);
	assert_int_equal(arms[CANARY_ARM_CANARY].exposures, 0);
	assert_int_equal(arms[CANARY_ARM_STABLE].windows, 0);
	memset(&t, 0, sizeof(t));
	assert_int_equal(cs_store_totals(s, add_total, &t), CANARY_OK);
	assert_int_equal(t.exposures, 55);
	free(arms);
	cs_store_close(s);
}

/* Closed windows kept in parts (PostgreSQL: one per group of SDK
 * instances) merge into one row each, every sum unchanged. */
static void test_settled_windows_merge(void **state)
{
	cs_store *s = fx_open();
	cs_arm_stats *before = calloc(CANARY__ARMS, sizeof(*before));
	cs_arm_stats *after = calloc(CANARY__ARMS, sizeof(*after));
	char instance[16];
	cs_retention r;
	unsigned int i;
	int arm;

	(void)state;
	assert_non_null(before);
	assert_non_null(after);
	for (i = 0; i < 40; i++) {
		canary__ev_batch b;
		bool dup = true;

		snprintf(instance, sizeof(instance), "i-%u", i);
		fx_batch_from(i + 1, instance, "f", i % 2 ? "canary" : "stable",
			2, 10 + i, i % 3, &b);
		/* Two windows: [0, 10 s) and [10 s, 20 s). */
		assert_int_equal(cs_store_ingest(s, &b, 1764000000000ull +
			(i % 4 < 2 ? 0 : 10000), 10000, &dup), CANARY_OK);
		canary__ev_batch_clear(&b);
	}
	assert_int_equal(cs_store_stats(s, "f", NULL, before), CANARY_OK);
	memset(&r, 0, sizeof(r));
	r.windows_settled_ms = 1764000000000ull + 20000;
	assert_int_equal(cs_store_prune(s, &r, NULL), CANARY_OK);
	assert_int_equal(cs_store_stats(s, "f", NULL, after), CANARY_OK);
	for (arm = 0; arm < CANARY__ARMS; arm++) {
		assert_int_equal(after[arm].exposures, before[arm].exposures);
		assert_int_equal(after[arm].errors, before[arm].errors);
		assert_int_equal(after[arm].windows, before[arm].windows);
		assert_int_equal(canary__hist_count(&after[arm].latency),
			canary__hist_count(&before[arm].latency));
		assert_true(canary__hist_quantile(&after[arm].latency, 0.5) ==
			canary__hist_quantile(&before[arm].latency, 0.5));
	}
	if (fx_is_pg()) {
		/* One row per window and arm left, none in parts. */
		fx_raw *raw = fx_raw_open();

		fx_sql(raw, "DO $$ BEGIN IF (SELECT count(*) FROM windows) <> 4"
			" OR EXISTS (SELECT 1 FROM windows WHERE shard <> 0) THEN"
			" RAISE EXCEPTION 'windows left in parts'; END IF; END $$");
		fx_raw_close(raw);
	}
	free(before);
	free(after);
	cs_store_close(s);
}

/* ---- rollouts -------------------------------------------------------- */

static int set_bp(const canary__flag *cur, canary__flag *next, void *arg)
{
	fx_flag(cur->key, *(const uint32_t *)arg, next);
	return CANARY_OK;
}

/* The decisions of the flag's latest rollout, as one JSON array. */
static int collect(const char *json, size_t len, void *arg)
{
	cJSON *d = cJSON_ParseWithLength(json, len);

	assert_non_null(d);
	cJSON_AddItemToArray(arg, d);
	return CANARY_OK;
}

static cJSON *history(cs_store *s, const char *flag, uint64_t last,
	uint64_t *total)
{
	cs_rollout r;
	cJSON *arr = cJSON_CreateArray();
	cs_history h = { last, collect, arr, 0 };

	assert_int_equal(cs_store_rollout_get(s, flag, &r, &h), CANARY_OK);
	*total = h.total;
	return arr;
}

static int count_one(const cs_rollout *r, void *arg)
{
	(void)r;
	(*(size_t *)arg)++;
	return CANARY_OK;
}

static size_t count(cs_store *s, cs_rollout_set set)
{
	size_t n = 0;

	assert_int_equal(cs_store_rollouts_each(s, set, count_one, &n),
		CANARY_OK);
	return n;
}

static void test_rollout_changes(void **state)
{
	cs_store *s = fx_open();
	cs_rollout r, again, read;
	cs_rollout_change ch;
	uint32_t bp = 100;
	uint64_t v = 0, total = 0;
	cJSON *arr;
	const cJSON *d;

	(void)state;
	fx_create(s, "f");
	fx_rollout(&r, "f");
	memset(&ch, 0, sizeof(ch));
	ch.rollout = &r;
	ch.insert = true;
	ch.modify = set_bp;
	ch.modify_ctx = &bp;
	ch.now_ms = 1000;
	ch.decision = "{\"action\": \"start\"}";
	assert_int_equal(cs_store_rollout_write(s, &ch, &v), CANARY_OK);
	assert_int_equal(v, 3);
	assert_true(r.id > 0);
	assert_int_equal(r.rev, 1);
	assert_int_equal(r.step_version, 3);

	/* One active rollout per flag. */
	fx_rollout(&again, "f");
	ch.rollout = &again;
	assert_int_equal(cs_store_rollout_write(s, &ch, NULL), CS_ECONFLICT);

	/* An update from a stale read is refused and writes nothing. */
	read = r;
	read.rev = 0;
	ch.rollout = &read;
	ch.insert = false;
	ch.modify = NULL;
	ch.decision = "{\"action\": \"hold\"}";
	assert_int_equal(cs_store_rollout_write(s, &ch, NULL), CS_ESTALE);
	read = r;
	read.status = CJ_PAUSED;
	ch.now_ms = 2000;
	assert_int_equal(cs_store_rollout_write(s, &ch, &v), CANARY_OK);
	assert_int_equal(read.rev, 2);
	assert_int_equal(read.updated_ms, 2000);
	assert_int_equal(v, 3); /* no flag change: the version stays */

	/* The history, oldest first; the flag change's config version is
	 * recorded in its decision. */
	arr = history(s, "f", 0, &total);
	assert_int_equal(total, 2);
	assert_int_equal(cJSON_GetArraySize(arr), 2);
	d = cJSON_GetArrayItem(arr, 0);
	assert_string_equal(cJSON_GetObjectItem(d, "action")->valuestring,
		"start");
	assert_int_equal(cJSON_GetObjectItem(d, "config_version")->valueint, 3);
	assert_null(cJSON_GetObjectItem(cJSON_GetArrayItem(arr, 1),
		"config_version"));
	cJSON_Delete(arr);
	arr = history(s, "f", 1, &total);
	assert_int_equal(total, 2);
	assert_int_equal(cJSON_GetArraySize(arr), 1);
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(arr, 0),
		"action")->valuestring, "hold");
	cJSON_Delete(arr);
	assert_int_equal(count(s, CS_ROLLOUTS_ACTIVE), 1);

	/* A flag change on a deleted flag: nothing of the change is kept. */
	assert_int_equal(cs_store_flag_delete(s, "f", NULL, NULL), CANARY_OK);
	read.status = CJ_RUNNING;
	ch.modify = set_bp;
	ch.new_step = true;
	assert_int_equal(cs_store_rollout_write(s, &ch, NULL), CS_ENOTFOUND);
	assert_int_equal(read.rev, 2);
	arr = history(s, "f", 0, &total);
	assert_int_equal(total, 2);
	cJSON_Delete(arr);

	/* Finished: still the latest, no longer active. */
	read.status = CJ_ROLLED_BACK;
	ch.modify = NULL;
	ch.new_step = false;
	assert_int_equal(cs_store_rollout_write(s, &ch, NULL), CANARY_OK);
	assert_int_equal(count(s, CS_ROLLOUTS_ACTIVE), 0);
	assert_int_equal(count(s, CS_ROLLOUTS_LATEST), 1);
	assert_int_equal(cs_store_rollout_get(s, "f", &again, NULL), CANARY_OK);
	assert_int_equal(again.status, CJ_ROLLED_BACK);
	assert_int_equal(again.rev, 3);
	assert_int_equal(cs_store_rollout_get(s, "g", &again, NULL),
		CS_ENOROLLOUT);
	cs_store_close(s);
}

/* ---- the series of windows ------------------------------------------ */

typedef struct walk {
	uint64_t window[8];
	uint64_t stable[8], canary[8], canary_rows[8], canary_latency[8];
	size_t n;
	size_t stop_after;    /* return non-zero after this many; 0 never */
} walk;

static int record_point(const cs_series_point *p, void *arg)
{
	walk *w = arg;

	if (w->n < 8) {
		w->window[w->n] = p->window_ms;
		w->stable[w->n] = p->arm[CANARY_ARM_STABLE].exposures;
		w->canary[w->n] = p->arm[CANARY_ARM_CANARY].exposures;
		w->canary_rows[w->n] = p->arm[CANARY_ARM_CANARY].windows;
		w->canary_latency[w->n] =
			canary__hist_count(&p->arm[CANARY_ARM_CANARY].latency);
	}
	w->n++;
	return w->stop_after && w->n == w->stop_after ? 42 : 0;
}

/* One batch of flag "f" at `now` (window width 10 s). */
static void ingest_at(cs_store *s, unsigned int id, const char *arm,
	uint64_t cv, uint64_t exposures, uint64_t now)
{
	canary__ev_batch b;
	bool dup = true;

	fx_batch(id, "f", arm, cv, exposures, 0, &b);
	assert_int_equal(cs_store_ingest(s, &b, now, 10000, &dup), CANARY_OK);
	assert_false(dup);
	canary__ev_batch_clear(&b);
}

static void test_series(void **state)
{
	const uint64_t t0 = 1764000000000ull; /* a window start */
	cs_store *s = fx_open();
	cs_stats_filter f;
	walk w;

	(void)state;
	memset(&w, 0, sizeof(w));
	assert_int_equal(cs_store_series(s, "f", NULL, record_point, &w),
		CANARY_OK);
	assert_int_equal(w.n, 0);
	/* Window t0: both arms, the canary under two config versions;
	 * t0 + 20 s: the canary only; t0 + 10 s has nothing. */
	ingest_at(s, 1, "stable", 2, 100, t0 + 1);
	ingest_at(s, 2, "canary", 2, 10, t0 + 2);
	ingest_at(s, 3, "canary", 3, 5, t0 + 9999);
	ingest_at(s, 4, "canary", 3, 7, t0 + 20000);

	memset(&w, 0, sizeof(w));
	assert_int_equal(cs_store_series(s, "f", NULL, record_point, &w),
		CANARY_OK);
	assert_int_equal(w.n, 2);
	assert_int_equal(w.window[0], t0);
	assert_int_equal(w.stable[0], 100);
	assert_int_equal(w.canary[0], 15);
	assert_int_equal(w.canary_rows[0], 2);
	assert_int_equal(w.canary_latency[0], 4); /* histograms merged */
	assert_int_equal(w.window[1], t0 + 20000);
	assert_int_equal(w.stable[1], 0); /* reset between windows */
	assert_int_equal(w.canary[1], 7);
	assert_int_equal(w.canary_rows[1], 1);

	/* The filter means what it means for cs_store_stats(). */
	memset(&f, 0, sizeof(f));
	f.min_config_version = 3;
	memset(&w, 0, sizeof(w));
	assert_int_equal(cs_store_series(s, "f", &f, record_point, &w),
		CANARY_OK);
	assert_int_equal(w.n, 2);
	assert_int_equal(w.stable[0], 0);
	assert_int_equal(w.canary[0], 5);
	memset(&f, 0, sizeof(f));
	f.since_ms = t0 + 10000;
	memset(&w, 0, sizeof(w));
	assert_int_equal(cs_store_series(s, "f", &f, record_point, &w),
		CANARY_OK);
	assert_int_equal(w.n, 1);
	assert_int_equal(w.window[0], t0 + 20000);
	f.since_ms = 0;
	f.until_ms = t0 + 20000;
	memset(&w, 0, sizeof(w));
	assert_int_equal(cs_store_series(s, "f", &f, record_point, &w),
		CANARY_OK);
	assert_int_equal(w.n, 1);
	assert_int_equal(w.window[0], t0);

	/* A non-zero return stops the walk and comes back. */
	memset(&w, 0, sizeof(w));
	w.stop_after = 1;
	assert_int_equal(cs_store_series(s, "f", NULL, record_point, &w), 42);
	assert_int_equal(w.n, 1);
	memset(&w, 0, sizeof(w));
	assert_int_equal(cs_store_series(s, "other", NULL, record_point, &w),
		CANARY_OK);
	assert_int_equal(w.n, 0);
	cs_store_close(s);
}

/* ---- the controller lease ------------------------------------------- */

/* A controller's decision under `lease`: pause the rollout read as `r`. */
static int decide(cs_store *s, const cs_rollout *r, const cs_lease *lease)
{
	cs_rollout next = *r;
	cs_rollout_change ch;

	memset(&ch, 0, sizeof(ch));
	next.status = CJ_PAUSED;
	ch.rollout = &next;
	ch.now_ms = 5000;
	ch.decision = "{\"action\": \"pause\"}";
	ch.lease = lease;
	return cs_store_rollout_write(s, &ch, NULL);
}

static void test_lease_and_fencing(void **state)
{
	cs_store *s = fx_open();
	cs_lease a = { "controller", "server-a", 400, 0 };
	cs_lease b = { "controller", "server-b", 400, 0 };
	cs_rollout r, read;
	uint64_t total = 0;
	int64_t first;

	(void)state;
	fx_create(s, "f");
	fx_rollout(&r, "f");
	assert_int_equal(fx_start(s, &r, NULL, NULL), CANARY_OK);
	assert_int_equal(cs_store_lease(s, &a), CANARY_OK);
	assert_true(a.token > 0);
	if (!fx_is_pg()) {
		/* One server per SQLite file: the lease is always its own. */
		assert_int_equal(cs_store_lease(s, &b), CANARY_OK);
		assert_int_equal(decide(s, &r, &a), CANARY_OK);
		cs_store_close(s);
		return;
	}
	/* Held: nobody else gets it; renewing keeps the token. */
	first = a.token;
	assert_int_equal(cs_store_lease(s, &b), CS_ELEASE);
	assert_int_equal(cs_store_lease(s, &a), CANARY_OK);
	assert_int_equal(a.token, first);
	/* Run out: another takes it with a larger token... */
	fx_sleep_ms(600);
	assert_int_equal(cs_store_lease(s, &b), CANARY_OK);
	assert_true(b.token > first);
	assert_int_equal(cs_store_lease(s, &a), CS_ELEASE);
	a.token = first;
	/* ...and the old holder's decision cannot commit, nor change
	 * anything; the new holder's can. */
	assert_int_equal(decide(s, &r, &a), CS_ELEASE);
	assert_int_equal(cs_store_rollout_get(s, "f", &read, NULL), CANARY_OK);
	assert_int_equal(read.rev, 1);
	assert_int_equal(read.status, CJ_RUNNING);
	cJSON_Delete(history(s, "f", 0, &total));
	assert_int_equal(total, 1);
	assert_int_equal(decide(s, &r, &b), CANARY_OK);
	assert_int_equal(cs_store_rollout_get(s, "f", &read, NULL), CANARY_OK);
	assert_int_equal(read.status, CJ_PAUSED);
	cs_store_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_open_migrates_and_refuses_newer, fx_setup,
			fx_teardown),
		cmocka_unit_test_setup_teardown(test_flags_versions_and_hook,
			fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_ingest_stats_totals_prune,
			fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_settled_windows_merge,
			fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_rollout_changes, fx_setup,
			fx_teardown),
		cmocka_unit_test_setup_teardown(test_series, fx_setup,
			fx_teardown),
		cmocka_unit_test_setup_teardown(test_lease_and_fencing,
			fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
