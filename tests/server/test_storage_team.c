/*
 * test_storage_team.c - what the store keeps for a team, on each backend
 * (and as test_storage_team_pg on PostgreSQL): named tokens (found by id,
 * names unique, revoked for good), the audit record every change appends
 * in its own transaction (flag fields before and after, the rollout's
 * move, the config version; nothing when the change fails), the guard of
 * a live rollout decided inside the change, webhook deliveries queued by
 * records with an event and drained attempt by attempt, custom metric
 * sums, and the retention of decisions and audit records.
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

#include "alloc.h"
#include "store_fixture.h"

static cs_token token(const char *name, const char *id, const char *role)
{
	cs_token t;

	memset(&t, 0, sizeof(t));
	snprintf(t.name, sizeof(t.name), "%s", name);
	snprintf(t.id, sizeof(t.id), "%s", id);
	snprintf(t.hash, sizeof(t.hash), "%064d", 1);
	snprintf(t.role, sizeof(t.role), "%s", role);
	t.created_ms = 1;
	snprintf(t.created_by, sizeof(t.created_by), "admin");
	return t;
}

/* The newest audit records (at most 50), parsed, newest first. */
static cJSON *audit(cs_store *s, const char *flag, const char *actor)
{
	cs_audit_query q = { flag, actor, 0, 0, 0, 50, NULL };
	cs_audit_row *rows = NULL;
	cJSON *arr = cJSON_CreateArray();
	size_t n = 0, i;

	assert_int_equal(cs_store_audit_list(s, &q, &rows, &n), CANARY_OK);
	for (i = 0; i < n; i++) {
		cJSON *e = cJSON_ParseWithLength(rows[i].json, rows[i].len);

		assert_non_null(e);
		cJSON_AddNumberToObject(e, "id", (double)rows[i].id);
		cJSON_AddItemToArray(arr, e);
	}
	cs_audit_rows_free(rows, n);
	return arr;
}

static const char *str(const cJSON *o, const char *a, const char *b)
{
	const cJSON *v = cJSON_GetObjectItem(o, a);

	if (b)
		v = cJSON_GetObjectItem(v, b);
	return cJSON_IsString(v) ? v->valuestring : "(none)";
}

static double num(const cJSON *o, const char *a, const char *b)
{
	const cJSON *v = cJSON_GetObjectItem(o, a);

	if (b)
		v = cJSON_GetObjectItem(v, b);
	return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

static void test_tokens(void **state)
{
	cs_store *s = fx_open();
	cs_audit a = { "admin", "token.create", false, NULL, NULL, NULL };
	cs_token t = token("ci", "0123456789ab", "operator"), got, *all;
	size_t n;
	cJSON *log;

	(void)state;
	assert_int_equal(cs_store_token_add(s, &t, &a), CANARY_OK);
	assert_int_equal(cs_store_token_find(s, "0123456789ab", &got),
		CANARY_OK);
	assert_string_equal(got.name, "ci");
	assert_string_equal(got.role, "operator");
	assert_string_equal(got.hash, t.hash);
	assert_int_equal(cs_store_token_find(s, "ffffffffffff", &got),
		CS_ENOTFOUND);
	/* A name, or an id, is one token's. */
	t = token("ci", "aaaaaaaaaaaa", "reader");
	assert_int_equal(cs_store_token_add(s, &t, &a), CS_EEXISTS);
	t = token("alice", "0123456789ab", "reader");
	assert_int_equal(cs_store_token_add(s, &t, &a), CS_EEXISTS);
	t = token("alice", "bbbbbbbbbbbb", "reader");
	assert_int_equal(cs_store_token_add(s, &t, &a), CANARY_OK);
	assert_int_equal(cs_store_token_list(s, &all, &n), CANARY_OK);
	assert_int_equal(n, 2);
	assert_string_equal(all[0].name, "alice");
	assert_string_equal(all[1].name, "ci");
	free(all);
	a.action = "token.revoke";
	assert_int_equal(cs_store_token_revoke(s, "ci", &a, &got), CANARY_OK);
	assert_string_equal(got.role, "operator");
	assert_int_equal(cs_store_token_find(s, "0123456789ab", &got),
		CS_ENOTFOUND);
	assert_int_equal(cs_store_token_revoke(s, "ci", &a, NULL),
		CS_ENOTFOUND);
	/* Three records (the failed ones left none), newest first, never a
	 * hash. */
	log = audit(s, NULL, "admin");
	assert_int_equal(cJSON_GetArraySize(log), 3);
	assert_string_equal(str(cJSON_GetArrayItem(log, 0), "action", NULL),
		"token.revoke");
	assert_string_equal(str(cJSON_GetArrayItem(log, 0), "before", "name"),
		"ci");
	assert_string_equal(str(cJSON_GetArrayItem(log, 2), "after", "role"),
		"operator");
	assert_null(cJSON_GetObjectItem(cJSON_GetObjectItem(
		cJSON_GetArrayItem(log, 2), "after"), "hash"));
	cJSON_Delete(log);
	cs_store_close(s);
}

static int set_bp(const canary__flag *cur, canary__flag *next, void *arg)
{
	fx_flag(cur->key, *(const uint32_t *)arg, next);
	return CANARY_OK;
}

/* Flag changes: created, updated (only what changed), deleted; a failed
 * change records nothing; filters and pages. */
static void test_flag_records(void **state)
{
	cs_store *s = fx_open();
	cs_audit a = { "alice", NULL, false, NULL, NULL, NULL };
	cs_audit_query q = { "f", NULL, 0, 0, 0, 2, NULL };
	cs_audit_row *rows;
	canary__flag f;
	uint32_t bp = 2500;
	uint64_t v = 0;
	size_t n;
	cJSON *log, *e;

	(void)state;
	fx_flag("f", 100, &f);
	assert_int_equal(cs_store_flag_put(s, &f, CS_PUT_CREATE, &a, NULL, &v),
		CANARY_OK);
	assert_int_equal(cs_store_flag_put(s, &f, CS_PUT_CREATE, &a, NULL,
		NULL), CS_EEXISTS);
	canary__flag_clear(canary__alloc_default(), &f);
	a.actor = "bob";
	assert_int_equal(cs_store_flag_modify(s, "f", set_bp, &bp, &a, &v),
		CANARY_OK);
	fx_create(s, "g"); /* unaudited: NULL */
	assert_int_equal(cs_store_flag_delete(s, "f", &a, NULL), CANARY_OK);
	assert_int_equal(cs_store_flag_delete(s, "f", &a, NULL), CS_ENOTFOUND);

	log = audit(s, NULL, NULL);
	assert_int_equal(cJSON_GetArraySize(log), 3);
	e = cJSON_GetArrayItem(log, 1);
	assert_string_equal(str(e, "action", NULL), "flag.update");
	assert_string_equal(str(e, "actor", NULL), "bob");
	assert_string_equal(str(e, "flag", NULL), "f");
	assert_true(num(e, "config_version", NULL) == (double)v);
	assert_true(num(e, "before", "rollout_bp") == 100);
	assert_true(num(e, "after", "rollout_bp") == 2500);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(e, "after")), 1);
	assert_string_equal(str(cJSON_GetArrayItem(log, 0), "action", NULL),
		"flag.delete");
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetArrayItem(log,
		0), "after")));
	e = cJSON_GetArrayItem(log, 2);
	assert_string_equal(str(e, "action", NULL), "flag.create");
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(e, "before")));
	assert_true(num(e, "after", "rollout_bp") == 100);
	cJSON_Delete(log);

	/* By actor; by flag, two at a time, the next page older. */
	log = audit(s, NULL, "alice");
	assert_int_equal(cJSON_GetArraySize(log), 1);
	cJSON_Delete(log);
	assert_int_equal(cs_store_audit_list(s, &q, &rows, &n), CANARY_OK);
	assert_int_equal(n, 2);
	q.before_id = rows[1].id;
	cs_audit_rows_free(rows, n);
	assert_int_equal(cs_store_audit_list(s, &q, &rows, &n), CANARY_OK);
	assert_int_equal(n, 1);
	assert_non_null(strstr(rows[0].json, "flag.create"));
	cs_audit_rows_free(rows, n);
	q.before_id = 0;
	q.since_ms = (uint64_t)1 << 50; /* the future */
	assert_int_equal(cs_store_audit_list(s, &q, &rows, &n), CANARY_OK);
	assert_int_equal(n, 0);
	cs_audit_rows_free(rows, n);
	cs_store_close(s);
}

/* A rollout's change: the rollout's move and the flag's, its version. */
static void test_rollout_records(void **state)
{
	cs_store *s = fx_open();
	cs_audit a = { "controller", "rollout.rollback", false, "bad canary",
		"rolled_back", NULL };
	cs_rollout r, before;
	cs_rollout_change ch;
	uint32_t bp = 500, zero = 0;
	uint64_t v = 0;
	cJSON *log, *e;

	(void)state;
	fx_create(s, "f");
	fx_rollout(&r, "f");
	assert_int_equal(fx_start(s, &r, &bp, NULL), CANARY_OK);
	before = r;
	r.status = CJ_ROLLED_BACK;
	memset(&ch, 0, sizeof(ch));
	ch.rollout = &r;
	ch.before = &before;
	ch.modify = set_bp;
	ch.modify_ctx = &zero;
	ch.now_ms = 5000;
	ch.decision = "{\"action\": \"rollback\"}";
	ch.audit = &a;
	assert_int_equal(cs_store_rollout_write(s, &ch, &v), CANARY_OK);
	log = audit(s, "f", NULL);
	assert_int_equal(cJSON_GetArraySize(log), 1);
	e = cJSON_GetArrayItem(log, 0);
	assert_string_equal(str(e, "actor", NULL), "controller");
	assert_string_equal(str(e, "action", NULL), "rollout.rollback");
	assert_string_equal(str(e, "reason", NULL), "bad canary");
	assert_string_equal(str(e, "event", NULL), "rolled_back");
	assert_true(num(e, "config_version", NULL) == (double)v);
	assert_true(num(e, "time_ms", NULL) == 5000);
	assert_true(num(e, "before", "rollout_bp") == 500);
	assert_true(num(e, "after", "rollout_bp") == 0);
	assert_string_equal(str(cJSON_GetObjectItem(e, "rollout"), "before",
		"state"), "running");
	assert_string_equal(str(cJSON_GetObjectItem(e, "rollout"), "after",
		"state"), "rolled_back");
	assert_true(num(cJSON_GetObjectItem(e, "rollout"), "id", NULL) ==
		(double)r.id);
	cJSON_Delete(log);
	cs_store_close(s);
}

/* rollout_bp, salt, allow and deny belong to a live rollout: refused,
 * inside the change, unless forced (and then the record says so). */
static void test_guard(void **state)
{
	cs_store *s = fx_open();
	cs_guard g;
	cs_audit a = { "alice", NULL, false, NULL, NULL, &g };
	cs_rollout r;
	canary__flag f;
	uint32_t bp = 500, other = 900;
	cJSON *log;

	(void)state;
	fx_create(s, "f");
	/* No rollout: nothing is guarded. */
	assert_int_equal(cs_store_flag_modify(s, "f", set_bp, &other, &a,
		NULL), CANARY_OK);
	fx_rollout(&r, "f");
	assert_int_equal(fx_start(s, &r, &bp, NULL), CANARY_OK);
	memset(&g, 0, sizeof(g));
	assert_int_equal(cs_store_flag_modify(s, "f", set_bp, &other, &a,
		NULL), CS_EGUARDED);
	assert_int_equal(g.rollout_id, r.id);
	assert_string_equal(g.state, "running");
	assert_string_equal(g.field, "rollout_bp");
	/* A replacement is guarded too. */
	fx_flag("f", 700, &f);
	assert_int_equal(cs_store_flag_put(s, &f, CS_PUT_UPSERT, &a, NULL,
		NULL), CS_EGUARDED);
	canary__flag_clear(canary__alloc_default(), &f);
	/* Nothing of them changed. */
	assert_int_equal(cs_store_flag_get(s, "f", &f), CANARY_OK);
	assert_int_equal(f.rollout_bp, 500);
	canary__flag_clear(canary__alloc_default(), &f);
	a.forced = true;
	assert_int_equal(cs_store_flag_modify(s, "f", set_bp, &other, &a,
		NULL), CANARY_OK);
	log = audit(s, "f", "alice");
	assert_int_equal(cJSON_GetArraySize(log), 2);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetArrayItem(log, 0),
		"forced")));
	assert_null(cJSON_GetObjectItem(cJSON_GetArrayItem(log, 1), "forced"));
	cJSON_Delete(log);
	cs_store_close(s);
}

static cs_webhook hook(const char *url, const char *events)
{
	cs_webhook w;

	memset(&w, 0, sizeof(w));
	snprintf(w.url, sizeof(w.url), "%s", url);
	snprintf(w.secret, sizeof(w.secret), "whsec_x");
	snprintf(w.events, sizeof(w.events), "%s", events);
	return w;
}

/* A record with an event queues one delivery per webhook that wants it;
 * each attempt is recorded; deleting a webhook drops its deliveries. */
static void test_deliveries(void **state)
{
	cs_store *s = fx_open();
	cs_audit a = { "admin", "webhook.create", false, NULL, NULL, NULL };
	cs_audit note = { "controller", "rollout.stalled", false, "stuck",
		"stalled", NULL };
	cs_webhook all = hook("https://a.example/all", ""),
		some = hook("https://b.example/x?key=secret", "rolled_back,completed");
	cs_attempt at = { "pending", 3000, 2000, 500, "HTTP 500" };
	cs_delivery *d = NULL;
	size_t n = 0;
	cJSON *log;
	char *text;

	(void)state;
	assert_int_equal(cs_store_webhook_add(s, &all, &a), CANARY_OK);
	assert_int_equal(cs_store_webhook_add(s, &some, &a), CANARY_OK);
	assert_true(some.id > all.id);
	/* The record shows the origin of a URL only, never the secret. */
	log = audit(s, NULL, NULL);
	assert_string_equal(str(cJSON_GetArrayItem(log, 0), "after", "url"),
		"https://b.example");
	text = cJSON_PrintUnformatted(log);
	assert_null(strstr(text, "whsec_"));
	cJSON_free(text);
	cJSON_Delete(log);
	assert_int_equal(cs_store_audit_note(s, "f", &note), CANARY_OK);
	note.event = "rolled_back";
	assert_int_equal(cs_store_audit_note(s, "f", &note), CANARY_OK);
	assert_int_equal(cs_store_deliveries_due(s, (int64_t)1 << 50, 10, &d,
		&n), CANARY_OK);
	assert_int_equal(n, 3);
	assert_string_equal(d[0].event, "stalled");
	assert_string_equal(d[0].url, "https://a.example/all");
	assert_string_equal(d[0].secret, "whsec_x");
	assert_string_equal(d[0].flag, "f");
	assert_non_null(strstr(d[0].payload, "\"event\":\"stalled\""));
	assert_non_null(strstr(d[0].payload, "\"id\":"));
	assert_int_equal(cs_store_delivery_attempt(s, d[0].id, &at), CANARY_OK);
	at.state = "delivered";
	at.status = 200;
	at.error = "";
	assert_int_equal(cs_store_delivery_attempt(s, d[1].id, &at), CANARY_OK);
	cs_deliveries_free(d, n);
	/* Due: the retried one from its next_ms (the queued ones from when
	 * they were queued); the delivered one never again. */
	assert_int_equal(cs_store_deliveries_due(s, 2999, 10, &d, &n),
		CANARY_OK);
	assert_int_equal(n, 0);
	cs_deliveries_free(d, n);
	assert_int_equal(cs_store_deliveries_due(s, 3000, 10, &d, &n),
		CANARY_OK);
	assert_int_equal(n, 1);
	assert_string_equal(d[0].url, "https://a.example/all");
	cs_deliveries_free(d, n);
	assert_int_equal(cs_store_deliveries_due(s, (int64_t)1 << 50, 10, &d,
		&n), CANARY_OK);
	assert_int_equal(n, 2);
	assert_string_equal(d[1].url, "https://b.example/x?key=secret");
	cs_deliveries_free(d, n);
	assert_int_equal(cs_store_delivery_list(s, all.id, 10, &d, &n),
		CANARY_OK);
	assert_int_equal(n, 2);
	assert_string_equal(d[0].state, "delivered");
	assert_string_equal(d[1].state, "pending");
	assert_int_equal(d[1].attempts, 1);
	assert_int_equal(d[1].last_status, 500);
	assert_string_equal(d[1].last_error, "HTTP 500");
	assert_null(d[1].payload);
	cs_deliveries_free(d, n);
	assert_int_equal(cs_store_webhook_delete(s, all.id, &a), CANARY_OK);
	assert_int_equal(cs_store_webhook_delete(s, all.id, &a), CS_ENOTFOUND);
	assert_int_equal(cs_store_delivery_list(s, all.id, 10, &d, &n),
		CANARY_OK);
	assert_int_equal(n, 0);
	cs_deliveries_free(d, n);
	cs_store_close(s);
}

static void test_metric_sums(void **state)
{
	static const char body[] = "{\"batch_id\": \"0000000000000000000000000000"
		"0001\", \"instance_id\": \"i\", \"sdk_version\": \"t\", "
		"\"sent_at_ms\": 1, \"windows\": [{\"flag\": \"f\", \"arm\": "
		"\"canary\", \"config_version\": 2, \"start_ms\": 1, \"end_ms\": 2, "
		"\"exposures\": 10, \"errors\": 0, \"metrics\": {\"revenue\": "
		"{\"count\": 4, \"sum\": 10.5}, \"cart\": {\"count\": 1, \"sum\": "
		"2}}}, {\"flag\": \"f\", \"arm\": \"stable\", \"config_version\": "
		"2, \"start_ms\": 1, \"end_ms\": 2, \"exposures\": 10, \"errors\": "
		"0, \"metrics\": {\"revenue\": {\"count\": 2, \"sum\": 3}}}]}";
	cs_store *s = fx_open();
	cs_metric_sum *m = NULL;
	cs_stats_filter f;
	canary__ev_batch b;
	canary__perror e;
	bool dup;
	size_t n = 0;

	(void)state;
	fx_create(s, "f");
	assert_int_equal(canary__ev_batch_decode(canary__alloc_default(), body,
		sizeof(body) - 1, 0, &b, &e), CANARY_OK);
	assert_int_equal(cs_store_ingest(s, &b, 1764000000000ull, 10000, &dup),
		CANARY_OK);
	canary__ev_batch_clear(&b);
	assert_int_equal(cs_store_metric_sums(s, "f", NULL, &m, &n), CANARY_OK);
	assert_int_equal(n, 3);
	assert_int_equal(m[0].arm, CANARY_ARM_STABLE);
	assert_string_equal(m[0].name, "revenue");
	assert_int_equal(m[0].count, 2);
	assert_int_equal(m[1].arm, CANARY_ARM_CANARY);
	assert_string_equal(m[1].name, "cart");
	assert_string_equal(m[2].name, "revenue");
	assert_true(m[2].sum == 10.5);
	free(m);
	memset(&f, 0, sizeof(f));
	f.min_config_version = 3;
	assert_int_equal(cs_store_metric_sums(s, "f", &f, &m, &n), CANARY_OK);
	assert_int_equal(n, 0);
	free(m);
	cs_store_close(s);
}

static int count_decision(const char *json, size_t len, void *arg)
{
	(void)json;
	(void)len;
	++*(int *)arg;
	return CANARY_OK;
}

/* Decisions of finished rollouts and audit records go when they are old;
 * a live rollout keeps its history; pending deliveries stay. */
static void test_retention(void **state)
{
	cs_store *s = fx_open();
	cs_audit a = { "admin", NULL, false, NULL, "rolled_back", NULL };
	cs_webhook w = hook("https://a.example/", "");
	cs_rollout live, done;
	cs_rollout_change ch;
	cs_retention ret;
	cs_delivery *d;
	cs_history h;
	uint64_t removed = 0;
	size_t n;
	int count;
	cJSON *log;

	(void)state;
	fx_create(s, "live");
	fx_create(s, "done");
	fx_rollout(&live, "live");
	fx_rollout(&done, "done");
	assert_int_equal(fx_start(s, &live, NULL, NULL), CANARY_OK);
	assert_int_equal(fx_start(s, &done, NULL, NULL), CANARY_OK);
	done.status = CJ_ROLLED_BACK;
	memset(&ch, 0, sizeof(ch));
	ch.rollout = &done;
	ch.now_ms = 2000;
	ch.decision = "{\"action\": \"rollback\"}";
	assert_int_equal(cs_store_rollout_write(s, &ch, NULL), CANARY_OK);
	assert_int_equal(cs_store_webhook_add(s, &w, NULL), CANARY_OK);
	assert_int_equal(cs_store_audit_note(s, "done", &a), CANARY_OK);

	memset(&ret, 0, sizeof(ret));
	ret.decisions_before_ms = 3000;
	ret.audit_before_ms = (uint64_t)1 << 50;
	assert_int_equal(cs_store_prune(s, &ret, &removed), CANARY_OK);
	assert_int_equal(removed, 3); /* two decisions, one record */
	memset(&h, 0, sizeof(h));
	h.fn = count_decision;
	h.ctx = &count;
	count = 0;
	assert_int_equal(cs_store_rollout_get(s, "done", &done, &h), CANARY_OK);
	assert_int_equal(count, 0);
	count = 0;
	assert_int_equal(cs_store_rollout_get(s, "live", &live, &h), CANARY_OK);
	assert_int_equal(count, 1);
	log = audit(s, NULL, NULL);
	assert_int_equal(cJSON_GetArraySize(log), 0);
	cJSON_Delete(log);
	assert_int_equal(cs_store_deliveries_due(s, (int64_t)1 << 50, 10, &d,
		&n), CANARY_OK);
	assert_int_equal(n, 1);
	cs_deliveries_free(d, n);
	cs_store_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_tokens, fx_setup,
			fx_teardown),
		cmocka_unit_test_setup_teardown(test_flag_records, fx_setup,
			fx_teardown),
		cmocka_unit_test_setup_teardown(test_rollout_records, fx_setup,
			fx_teardown),
		cmocka_unit_test_setup_teardown(test_guard, fx_setup,
			fx_teardown),
		cmocka_unit_test_setup_teardown(test_deliveries, fx_setup,
			fx_teardown),
		cmocka_unit_test_setup_teardown(test_metric_sums, fx_setup,
			fx_teardown),
		cmocka_unit_test_setup_teardown(test_retention, fx_setup,
			fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
