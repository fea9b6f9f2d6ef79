/*
 * test_storage_guards.c - what the store does against the state that
 * lies, on each backend: another application's database is refused and
 * left as it was; counts saturate instead of wrapping; a change that
 * changes nothing makes no version; a start
 * moves the config version past its time
 * (a restored database never reissues a version); a change whose config
 * would be over max_config_bytes is refused with nothing written; a flag
 * row that cannot be read back is skipped and reported, and a PUT
 * repairs it; a repeated decision replaces the last record; ended
 * rollouts' decisions are pruned and every history is capped.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "alloc.h"
#include "json_read.h"
#include "saturate.h"
#include "store_fixture.h"

/* The config hook's last version. */
static void on_change(const canary__config *c, void *ctx)
{
	*(uint64_t *)ctx = c->version;
}

static void test_version_floor(void **state)
{
	cs_store *s = fx_open();
	uint64_t v = 0, seen = 0;

	(void)state;
	cs_store_on_change(s, on_change, &seen);
	assert_int_equal(cs_store_version_floor(s, 1764000000000ull, &v),
		CANARY_OK);
	assert_int_equal(v, 1764000000000ull);
	assert_int_equal(seen, v);
	/* A floor below the version: one more, never back. */
	assert_int_equal(cs_store_version_floor(s, 5, &v), CANARY_OK);
	assert_int_equal(v, 1764000000001ull);
	fx_create(s, "f");
	assert_int_equal(seen, 1764000000002ull);
	cs_store_on_change(s, NULL, NULL);
	cs_store_close(s);
}

/* Counts saturate at 2^53 - 1, in the rows and in their sums. */
static void test_counts_saturate(void **state)
{
	cs_store *s = fx_open();
	cs_arm_stats arms[CANARY__ARMS];
	canary__ev_batch b;
	bool dup;
	unsigned int i;

	(void)state;
	fx_create(s, "sat");
	for (i = 1; i <= 3; i++) {
		/* The same window twice, then another version's. */
		fx_batch(i, "sat", "canary", i < 3 ? 2 : 3, CANARY__MAX_COUNT,
			CANARY__MAX_COUNT, &b);
		assert_int_equal(cs_store_ingest(s, &b, 1764000000000ull, 10000,
			&dup), CANARY_OK);
		canary__ev_batch_clear(&b);
	}
	assert_int_equal(cs_store_stats(s, "sat", NULL, arms), CANARY_OK);
	assert_true(arms[CANARY_ARM_CANARY].exposures == CANARY__MAX_COUNT);
	assert_true(arms[CANARY_ARM_CANARY].errors == CANARY__MAX_COUNT);
	cs_store_close(s);
}

static int same_flag(const canary__flag *cur, canary__flag *next, void *ctx)
{
	cJSON *obj = canary__flag_to_json(cur);
	canary__json_reader r;
	int rc;

	(void)ctx;
	canary__json_reader_init(&r, 0, NULL);
	rc = canary__flag_from_json(canary__alloc_default(), &r, obj, "flag",
		next);
	cJSON_Delete(obj);
	return rc;
}

/* A change that changes nothing makes no version. */
static void test_unchanged_flag(void **state)
{
	cs_store *s = fx_open();
	canary__flag f;
	uint64_t v1 = 0, v2 = 0, v3 = 0;

	(void)state;
	fx_flag("same", 10, &f);
	assert_int_equal(cs_store_flag_put(s, &f, CS_PUT_UPSERT, NULL, NULL, &v1),
		CANARY_OK);
	assert_int_equal(cs_store_flag_put(s, &f, CS_PUT_UPSERT, NULL, NULL, &v2),
		CANARY_OK);
	assert_int_equal(v2, v1);
	assert_int_equal(cs_store_flag_modify(s, "same", same_flag, NULL, NULL, &v3),
		CANARY_OK);
	assert_int_equal(v3, v1);
	canary__flag_clear(canary__alloc_default(), &f);
	fx_flag("same", 20, &f);
	assert_int_equal(cs_store_flag_put(s, &f, CS_PUT_UPSERT, NULL, NULL, &v2),
		CANARY_OK);
	assert_int_equal(v2, v1 + 1);
	canary__flag_clear(canary__alloc_default(), &f);
	cs_store_close(s);
}

static void test_foreign_database(void **state)
{
	cs_store_options o;
	cs_store *s = NULL;
	char err[256] = "";
	fx_raw *raw = fx_raw_open();

	(void)state;
	fx_sql(raw, "CREATE TABLE customers(id integer PRIMARY KEY,"
		" name text NOT NULL)");
	fx_raw_close(raw);
	memset(&o, 0, sizeof(o));
	o.location = fx_db_path;
	assert_int_not_equal(cs_store_open(&s, &o, err, sizeof(err)), CANARY_OK);
	assert_non_null(strstr(err, "not a canary-server database"));
	/* Left as it was: still no table of ours. */
	raw = fx_raw_open();
	fx_sql(raw, "CREATE TABLE flags(x integer)");
	fx_raw_close(raw);
}

static void test_config_size_limit(void **state)
{
	cs_store_options o;
	cs_store *s = NULL;
	canary__flag f;
	canary__config *c = NULL;
	char err[256] = "", key[16];
	uint64_t v = 0;
	int i, rc = CANARY_OK;

	(void)state;
	memset(&o, 0, sizeof(o));
	o.location = fx_db_path;
	o.sync = CS_SYNC_NORMAL;
	o.max_config_bytes = 2000;
	assert_int_equal(cs_store_open(&s, &o, err, sizeof(err)), CANARY_OK);
	/* Each flag's record is about 130 bytes: some fit, then one does
	 * not, and nothing of it is written. */
	for (i = 0; i < 40 && rc == CANARY_OK; i++) {
		snprintf(key, sizeof(key), "flag-%02d", i);
		fx_flag(key, 0, &f);
		rc = cs_store_flag_put(s, &f, CS_PUT_CREATE, NULL, NULL, &v);
		canary__flag_clear(canary__alloc_default(), &f);
	}
	assert_int_equal(rc, CS_ETOOBIG);
	assert_true(i > 5);
	assert_int_equal(cs_store_config(s, &c), CANARY_OK);
	assert_int_equal(c->count, (size_t)(i - 1));
	assert_int_equal(cs_store_flag_get(s, key, &f), CS_ENOTFOUND);
	canary__config_free(canary__alloc_default(), c);
	cs_store_close(s);
}

static void test_unreadable_row(void **state)
{
	cs_store *s = fx_open();
	fx_raw *raw;
	canary__config *c = NULL;
	canary__flag f;
	char why[256];

	(void)state;
	fx_create(s, "good");
	fx_create(s, "bad");
	raw = fx_raw_open();
	fx_sql(raw, "UPDATE flags SET body = '{\"key\":\"bad\","
		"\"rollout_bp\":99999}' WHERE key = 'bad'");
	fx_raw_close(raw);
	/* The config leaves it out; health says so; a read of it fails. */
	assert_int_equal(cs_store_config(s, &c), CANARY_OK);
	assert_int_equal(c->count, 1);
	assert_string_equal(c->flags[0].key, "good");
	canary__config_free(canary__alloc_default(), c);
	assert_int_equal(cs_store_health(s, why, sizeof(why)),
		CS_HEALTH_DEGRADED);
	assert_non_null(strstr(why, "\"bad\""));
	assert_int_equal(cs_store_flag_get(s, "bad", &f), CS_EUNREADABLE);
	/* A PUT repairs it. */
	fx_flag("bad", 10, &f);
	assert_int_equal(cs_store_flag_put(s, &f, CS_PUT_UPSERT, NULL, NULL, NULL),
		CANARY_OK);
	canary__flag_clear(canary__alloc_default(), &f);
	assert_int_equal(cs_store_config(s, &c), CANARY_OK);
	assert_int_equal(c->count, 2);
	canary__config_free(canary__alloc_default(), c);
	assert_int_equal(cs_store_health(s, why, sizeof(why)), CS_HEALTH_OK);
	cs_store_close(s);
}

static int count_one(const char *json, size_t len, void *ctx)
{
	(void)json;
	(void)len;
	(*(int *)ctx)++;
	return 0;
}

/* Records in `flag`'s latest rollout's history. */
static uint64_t history(cs_store *s, const char *flag)
{
	cs_rollout r;
	int n = 0;
	cs_history h = { 0, count_one, &n, 0 };

	assert_int_equal(cs_store_rollout_get(s, flag, &r, &h), CANARY_OK);
	assert_int_equal(h.total, (uint64_t)n);
	return h.total;
}

/* One decision of the controller's on `r`: a hold, replacing the last
 * record or not. */
static void hold(cs_store *s, cs_rollout *r, bool replace, int64_t now)
{
	cs_rollout_change ch;

	memset(&ch, 0, sizeof(ch));
	ch.rollout = r;
	ch.now_ms = now;
	ch.decision = "{\"action\": \"hold\"}";
	ch.replace_last = replace;
	assert_int_equal(cs_store_rollout_write(s, &ch, NULL), CANARY_OK);
}

static void test_decision_history_bounds(void **state)
{
	cs_store *s = fx_open();
	cs_retention ret;
	cs_rollout r;
	fx_raw *raw;
	int i;

	(void)state;
	fx_create(s, "held");
	fx_rollout(&r, "held");
	assert_int_equal(fx_start(s, &r, NULL, NULL), CANARY_OK);
	hold(s, &r, false, 2000);
	for (i = 0; i < 20; i++)
		hold(s, &r, true, 3000 + i);
	/* The start, and one hold standing for 21. */
	assert_int_equal(history(s, "held"), 2);
	/* A long history is cut to its first and last records. */
	raw = fx_raw_open();
	fx_sql(raw, fx_is_pg() ?
		"INSERT INTO decisions(rollout_id, time_ms, body) SELECT"
		" (SELECT max(id) FROM rollouts), i, '{}'"
		" FROM generate_series(1, 10200) AS i" :
		"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n"
		" WHERE i < 10200) INSERT INTO decisions(rollout_id, time_ms,"
		" body) SELECT (SELECT max(id) FROM rollouts), i, '{}' FROM n");
	fx_raw_close(raw);
	assert_int_equal(history(s, "held"), 10202);
	memset(&ret, 0, sizeof(ret));
	ret.decisions_before_ms = 500; /* the rollout is active: kept */
	assert_int_equal(cs_store_prune(s, &ret, NULL), CANARY_OK);
	assert_int_equal(history(s, "held"),
		CS_DECISIONS_HEAD + CS_DECISIONS_TAIL);
	/* Once it ended before the cut-off, its decisions go. */
	raw = fx_raw_open();
	fx_sql(raw, "UPDATE rollouts SET state = 'rolled_back',"
		" updated_ms = 100");
	fx_raw_close(raw);
	assert_int_equal(cs_store_prune(s, &ret, NULL), CANARY_OK);
	assert_int_equal(history(s, "held"), 0);
	cs_store_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_version_floor, fx_setup,
			fx_teardown),
		cmocka_unit_test_setup_teardown(test_counts_saturate,
			fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_unchanged_flag,
			fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_foreign_database,
			fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_config_size_limit,
			fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_unreadable_row, fx_setup,
			fx_teardown),
		cmocka_unit_test_setup_teardown(test_decision_history_bounds,
			fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
