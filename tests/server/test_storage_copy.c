/*
 * test_storage_copy.c - cs_store_copy (canary-server migrate): everything
 * a store holds (config and version, flags, batch ids, windows with their
 * histograms and custom metrics, totals, rollouts with their ids and
 * revisions, decisions, tokens, audit records, webhooks and their
 * deliveries) arrives in an empty store of either backend;
 * a store that is not empty is refused and left alone. As
 * test_storage_copy_pg the source is PostgreSQL: it goes to a SQLite file
 * and from there into a second PostgreSQL database.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "alloc.h"
#include "pg_testdb.h"
#include "store_fixture.h"

/* A batch of two windows of "f" (canary with a custom metric, stable). */
static void ingest_two(cs_store *s, unsigned int id, const char *instance)
{
	char body[1024];
	canary__ev_batch b;
	canary__perror e;
	bool dup = true;
	int n = snprintf(body, sizeof(body), "{\"batch_id\": \"%032x\", "
		"\"instance_id\": \"%s\", \"sdk_version\": \"t\", "
		"\"sent_at_ms\": 1, \"windows\": [{\"flag\": \"f\", "
		"\"arm\": \"canary\", \"config_version\": 2, \"start_ms\": 1, "
		"\"end_ms\": 2, \"exposures\": 10, \"errors\": 2, "
		"\"latency_ms\": {\"zero\": 1, \"bins\": [[100, 3], [250, 1]]}, "
		"\"metrics\": {\"revenue\": {\"count\": 2, \"sum\": 3.5}}}, "
		"{\"flag\": \"f\", \"arm\": \"stable\", \"config_version\": 2, "
		"\"start_ms\": 1, \"end_ms\": 2, \"exposures\": 30, "
		"\"errors\": 1}]}", id, instance);

	assert_int_equal(canary__ev_batch_decode(canary__alloc_default(), body,
		(size_t)n, 0, &b, &e), CANARY_OK);
	assert_int_equal(cs_store_ingest(s, &b, 1764000000000ull + id * 10000,
		10000, &dup), CANARY_OK);
	assert_false(dup);
	canary__ev_batch_clear(&b);
}

/* A token, a webhook, audit records (one with an event: a delivery). */
static void fill_team(cs_store *s)
{
	cs_token t;
	cs_webhook w;
	cs_audit a = { "admin", "token.create", false, NULL, NULL, NULL };
	cs_audit note = { "controller", "rollout.stalled", false, "stuck",
		"stalled", NULL };

	memset(&t, 0, sizeof(t));
	snprintf(t.name, sizeof(t.name), "ci");
	snprintf(t.id, sizeof(t.id), "0123456789ab");
	snprintf(t.hash, sizeof(t.hash), "%064d", 7);
	snprintf(t.role, sizeof(t.role), "operator");
	t.created_ms = 5;
	snprintf(t.created_by, sizeof(t.created_by), "admin");
	assert_int_equal(cs_store_token_add(s, &t, &a), CANARY_OK);
	memset(&w, 0, sizeof(w));
	snprintf(w.url, sizeof(w.url), "https://hooks.example/x");
	snprintf(w.secret, sizeof(w.secret), "whsec_test");
	w.created_ms = 6;
	snprintf(w.created_by, sizeof(w.created_by), "admin");
	a.action = "webhook.create";
	assert_int_equal(cs_store_webhook_add(s, &w, &a), CANARY_OK);
	assert_int_equal(cs_store_audit_note(s, "f", &note), CANARY_OK);
}

/* Two flags, three batches from two instances, a rollout with two
 * decisions (one that changed the flag), and the team's records. */
static void fill(cs_store *s)
{
	cs_rollout r;
	cs_rollout_change ch;
	uint32_t bp = 500;

	fx_create(s, "f");
	fx_create(s, "g");
	ingest_two(s, 1, "i-1");
	ingest_two(s, 2, "i-2");
	ingest_two(s, 3, "i-1");
	fx_rollout(&r, "f");
	assert_int_equal(fx_start(s, &r, &bp, NULL), CANARY_OK);
	memset(&ch, 0, sizeof(ch));
	ch.rollout = &r;
	ch.now_ms = 2000;
	ch.decision = "{\"action\": \"hold\"}";
	assert_int_equal(cs_store_rollout_write(s, &ch, NULL), CANARY_OK);
	fill_team(s);
}

/* ---- what a store says ----------------------------------------------- */

static int add_decision(const char *json, size_t len, void *arg)
{
	cJSON *d = cJSON_ParseWithLength(json, len);

	assert_non_null(d);
	cJSON_AddItemToArray(arg, d);
	return CANARY_OK;
}

static void add_total(const char *flag, canary_arm arm, uint64_t exposures,
	uint64_t errors, void *arg)
{
	char line[128];

	snprintf(line, sizeof(line), "%s/%d/%llu/%llu;", flag, (int)arm,
		(unsigned long long)exposures, (unsigned long long)errors);
	strncat(arg, line, 1023 - strlen(arg));
}

/* Tokens, audit records, webhooks and deliveries, into `doc`. */
static void describe_team(cs_store *s, cJSON *doc)
{
	cs_audit_query q = { NULL, NULL, 0, 0, 0, 100, NULL };
	cs_audit_row *rows = NULL;
	cs_token *t = NULL;
	cs_webhook *w = NULL;
	cs_delivery *d = NULL;
	size_t n = 0, i;
	cJSON *arr = cJSON_AddArrayToObject(doc, "team");
	char line[600];

	assert_int_equal(cs_store_token_list(s, &t, &n), CANARY_OK);
	for (i = 0; i < n; i++) {
		snprintf(line, sizeof(line), "token %s %s %s %s", t[i].name,
			t[i].id, t[i].hash, t[i].role);
		cJSON_AddItemToArray(arr, cJSON_CreateString(line));
	}
	free(t);
	assert_int_equal(cs_store_audit_list(s, &q, &rows, &n), CANARY_OK);
	assert_true(n >= 3);
	for (i = 0; i < n; i++) {
		snprintf(line, sizeof(line), "audit %lld %.560s", (long long)rows[i].id,
			rows[i].json);
		cJSON_AddItemToArray(arr, cJSON_CreateString(line));
	}
	cs_audit_rows_free(rows, n);
	assert_int_equal(cs_store_webhook_list(s, &w, &n), CANARY_OK);
	assert_int_equal(n, 1);
	snprintf(line, sizeof(line), "webhook %lld %.200s %.60s", (long long)w[0].id,
		w[0].url, w[0].secret);
	cJSON_AddItemToArray(arr, cJSON_CreateString(line));
	assert_int_equal(cs_store_delivery_list(s, w[0].id, 10, &d, &n),
		CANARY_OK);
	assert_int_equal(n, 1);
	snprintf(line, sizeof(line), "delivery %lld %lld %s %s", (long long)d[0].id,
		(long long)d[0].audit_id, d[0].event, d[0].state);
	cJSON_AddItemToArray(arr, cJSON_CreateString(line));
	cs_deliveries_free(d, n);
	free(w);
}

/* Everything the interface can read, as one text; the config version
 * apart. */
static char *describe(cs_store *s, uint64_t *version)
{
	const canary__alloc *a = canary__alloc_default();
	canary__config *c = NULL;
	cs_arm_stats *arms = calloc(CANARY__ARMS, sizeof(*arms));
	cJSON *doc = cJSON_CreateObject(), *cfg, *decisions;
	cs_history h;
	cs_rollout r;
	char totals[1024] = "";
	char *out;
	int i;

	assert_non_null(arms);
	assert_int_equal(cs_store_config(s, &c), CANARY_OK);
	*version = c->version;
	cfg = canary__config_to_json(c);
	cJSON_DeleteItemFromObject(cfg, "version");
	cJSON_AddItemToObject(doc, "config", cfg);
	canary__config_free(a, c);
	assert_int_equal(cs_store_stats(s, "f", NULL, arms), CANARY_OK);
	for (i = 0; i < CANARY__ARMS; i++) {
		cJSON *arm = cJSON_AddObjectToObject(doc, i ? "canary" : "stable");

		cJSON_AddNumberToObject(arm, "exposures", (double)arms[i].exposures);
		cJSON_AddNumberToObject(arm, "errors", (double)arms[i].errors);
		cJSON_AddNumberToObject(arm, "windows", (double)arms[i].windows);
		cJSON_AddNumberToObject(arm, "latency",
			(double)canary__hist_count(&arms[i].latency));
		cJSON_AddNumberToObject(arm, "p50",
			canary__hist_quantile(&arms[i].latency, 0.5));
	}
	assert_int_equal(cs_store_totals(s, add_total, totals), CANARY_OK);
	cJSON_AddStringToObject(doc, "totals", totals);
	decisions = cJSON_AddArrayToObject(doc, "decisions");
	memset(&h, 0, sizeof(h));
	h.fn = add_decision;
	h.ctx = decisions;
	assert_int_equal(cs_store_rollout_get(s, "f", &r, &h), CANARY_OK);
	cJSON_AddNumberToObject(doc, "rollout_id", (double)r.id);
	cJSON_AddNumberToObject(doc, "rollout_rev", (double)r.rev);
	cJSON_AddNumberToObject(doc, "step_version", (double)r.step_version);
	cJSON_AddStringToObject(doc, "state", cj_status_name(r.status));
	cJSON_AddNumberToObject(doc, "decisions_total", (double)h.total);
	describe_team(s, doc);
	out = cJSON_PrintUnformatted(doc);
	cJSON_Delete(doc);
	free(arms);
	return out;
}

/* The copy must say what the original says, its version `skip` later. */
static void assert_same(cs_store *a, cs_store *b, uint64_t skip)
{
	uint64_t va = 0, vb = 0;
	char *da = describe(a, &va), *db = describe(b, &vb);

	assert_string_equal(da, db);
	assert_int_equal(vb, va + skip);
	cJSON_free(da);
	cJSON_free(db);
}

/* A batch id the original had is a duplicate in the copy. */
static void assert_remembers_batch(cs_store *s)
{
	canary__ev_batch b;
	bool dup = false;

	fx_batch(1, "f", "canary", 2, 1, 0, &b);
	assert_int_equal(cs_store_ingest(s, &b, 1764000090000ull, 10000, &dup),
		CANARY_OK);
	assert_true(dup);
	canary__ev_batch_clear(&b);
}

/* The custom metric arrived (no read in the interface: ask SQLite). */
static void assert_metric(const char *path)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT sum(count), sum(sum) "
		"FROM metrics WHERE name = 'revenue'", -1, &st, NULL),
		SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(st, 0), 6);
	assert_true(sqlite3_column_double(st, 1) == 10.5);
	sqlite3_finalize(st);
	sqlite3_close(db);
}

static void test_copy_round_trip(void **state)
{
	cs_store *src = fx_open(), *mid, *dst;
	cs_copy_counts n;
	char mid_path[300], dst_loc[512];

	(void)state;
	fill(src);
	snprintf(mid_path, sizeof(mid_path), "%s/copy.db", fx_dir);
	mid = fx_open_at(mid_path);
	assert_int_equal(cs_store_copy(src, mid, 0, &n), CANARY_OK);
	assert_int_equal(n.flags, 2);
	assert_int_equal(n.batches, 3);
	assert_true(n.windows >= 4); /* a backend may keep windows in parts */
	assert_int_equal(n.rollouts, 1);
	assert_int_equal(n.decisions, 2);
	assert_int_equal(n.tokens, 1);
	assert_int_equal(n.audit, 3);
	assert_int_equal(n.webhooks, 1);
	assert_int_equal(n.deliveries, 1);
	assert_same(src, mid, 0);
	assert_metric(mid_path);

	/* Into a store of the backend under test, skipping versions. */
	if (fx_is_pg())
		assert_int_equal(pgt_create(NULL, dst_loc, sizeof(dst_loc)), 0);
	else
		snprintf(dst_loc, sizeof(dst_loc), "%s/again.db", fx_dir);
	dst = fx_open_at(dst_loc);
	assert_int_equal(cs_store_copy(mid, dst, 1000, NULL), CANARY_OK);
	assert_same(mid, dst, 1000);
	assert_remembers_batch(dst);

	/* Not empty any more: refused, nothing changes. */
	assert_int_equal(cs_store_copy(src, mid, 0, &n), CS_ECONFLICT);
	assert_same(src, mid, 0);
	cs_store_close(dst);
	if (fx_is_pg())
		pgt_drop(dst_loc);
	cs_store_close(mid);
	cs_store_close(src);
}

/* A new audit record and webhook get ids after the copied ones. */
static void assert_new_ids(cs_store *s)
{
	cs_audit_query q = { NULL, NULL, 0, 0, 0, 1, NULL };
	cs_audit a = { "admin", "webhook.create", false, NULL, NULL, NULL };
	cs_audit_row *rows = NULL;
	cs_webhook w, *all = NULL;
	size_t n = 0;

	memset(&w, 0, sizeof(w));
	snprintf(w.url, sizeof(w.url), "http://127.0.0.1:9/y");
	assert_int_equal(cs_store_webhook_add(s, &w, &a), CANARY_OK);
	assert_int_equal(cs_store_webhook_list(s, &all, &n), CANARY_OK);
	assert_int_equal(n, 2);
	assert_true(all[1].id > all[0].id);
	free(all);
	assert_int_equal(cs_store_audit_list(s, &q, &rows, &n), CANARY_OK);
	assert_int_equal(n, 1);
	assert_true(rows[0].id > 3);
	assert_non_null(strstr(rows[0].json, "webhook.create"));
	cs_audit_rows_free(rows, n);
}

/* A new rollout in a copy (of the backend under test) gets an id after
 * the copied ones. */
static void test_copy_keeps_ids_growing(void **state)
{
	cs_store *src, *dst = fx_open();
	cs_rollout r, again;
	cs_rollout_change ch;
	char path[300];

	(void)state;
	snprintf(path, sizeof(path), "%s/source.db", fx_dir);
	src = fx_open_at(path);
	fill(src);
	assert_int_equal(cs_store_copy(src, dst, 0, NULL), CANARY_OK);
	assert_int_equal(cs_store_rollout_get(dst, "f", &r, NULL), CANARY_OK);
	r.status = CJ_ROLLED_BACK;
	memset(&ch, 0, sizeof(ch));
	ch.rollout = &r;
	ch.now_ms = 3000;
	ch.decision = "{\"action\": \"rollback\"}";
	assert_int_equal(cs_store_rollout_write(dst, &ch, NULL), CANARY_OK);
	again = r;
	again.status = CJ_RUNNING;
	ch.rollout = &again;
	ch.insert = true;
	ch.decision = "{\"action\": \"start\"}";
	assert_int_equal(cs_store_rollout_write(dst, &ch, NULL), CANARY_OK);
	assert_true(again.id > r.id);
	/* So do a new audit record and webhook. */
	assert_new_ids(dst);
	cs_store_close(dst);
	cs_store_close(src);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_copy_round_trip, fx_setup,
			fx_teardown),
		cmocka_unit_test_setup_teardown(test_copy_keeps_ids_growing,
			fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
