/*
 * test_storage_segments.c - named segments in the store, on each backend:
 * a segment written and read back, a change audited and bumping the
 * version (none when nothing changes); a flag may name only segments
 * that exist; the config carries the segments its flags name (and the
 * SDK's parser takes it); a segment a flag names cannot be deleted (the
 * flags are named); a live rollout of such a flag guards the segment
 * unless forced; migrate's copy carries segments (and their audit
 * records' segment); a segment's records are found by its name and list
 * the flags a change affects; every change queues its webhook event;
 * segments count toward the config's size limit.
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
#include "pg_testdb.h"
#include "store_fixture.h"

#define RULE_EU "[{\"contextName\":\"region\",\"operator\":\"STR_STARTS_WITH\"," \
	"\"values\":[\"eu-\"]}]"
#define RULE_EU2 "[{\"contextName\":\"region\",\"operator\":\"IN\"," \
	"\"values\":[\"eu-1\",\"eu-2\"]}]"

static void segment(const char *name, const char *constraints,
	canary__segdef *out)
{
	char text[4096];
	canary__json_reader r;
	cJSON *obj;

	snprintf(text, sizeof(text), "{\"name\":\"%s\",\"constraints\":%s}",
		name, constraints);
	obj = cJSON_Parse(text);
	assert_non_null(obj);
	canary__json_reader_init(&r, 0, NULL);
	assert_int_equal(canary__segdef_from_json(canary__alloc_default(), &r,
		obj, "", out), CANARY_OK);
	cJSON_Delete(obj);
}

/* A flag with rollout 10% naming the segments in `segs` (a JSON array). */
static void flag_naming(const char *key, const char *segs, canary__flag *out)
{
	char text[512];
	canary__json_reader r;
	cJSON *obj;

	snprintf(text, sizeof(text), "{\"key\":\"%s\",\"rollout_bp\":1000,"
		"\"segments\":%s}", key, segs);
	obj = cJSON_Parse(text);
	assert_non_null(obj);
	canary__json_reader_init(&r, 0, NULL);
	assert_int_equal(canary__flag_from_json(canary__alloc_default(), &r,
		obj, "", out), CANARY_OK);
	cJSON_Delete(obj);
}

static int put_segment(cs_store *s, const char *name, const char *rules,
	cs_audit *audit, bool *created, uint64_t *version)
{
	canary__segdef seg;
	int rc;

	segment(name, rules, &seg);
	rc = cs_store_segment_put(s, &seg, audit, created, version);
	canary__segdef_clear(canary__alloc_default(), &seg);
	return rc;
}

static int put_flag(cs_store *s, const char *key, const char *segs)
{
	canary__flag f;
	cs_audit audit = { "alice", NULL, false, NULL, NULL, NULL };
	int rc;

	flag_naming(key, segs, &f);
	rc = cs_store_flag_put(s, &f, CS_PUT_UPSERT, &audit, NULL, NULL);
	canary__flag_clear(canary__alloc_default(), &f);
	return rc;
}

/* The newest audit record's JSON contains `want`. */
static void assert_last_audit(cs_store *s, const char *want)
{
	cs_audit_query q = { NULL, NULL, 0, 0, 0, 1, NULL };
	cs_audit_row *rows = NULL;
	size_t n = 0;

	assert_int_equal(cs_store_audit_list(s, &q, &rows, &n), CANARY_OK);
	assert_int_equal(n, 1);
	if (!strstr(rows[0].json, want))
		fail_msg("audit %s: no %s", rows[0].json, want);
	cs_audit_rows_free(rows, n);
}

static void test_segment_written_read_audited(void **state)
{
	cs_store *s = fx_open();
	cs_audit audit = { "alice", NULL, false, NULL, NULL, NULL };
	canary__segdef got, *all = NULL;
	uint64_t v1 = 0, v2 = 0, v3 = 0;
	size_t n = 0;
	bool created = false;

	(void)state;
	assert_int_equal(cs_store_segment_get(s, "eu", &got), CS_ENOTFOUND);
	assert_int_equal(put_segment(s, "eu", RULE_EU, &audit, &created, &v1),
		CANARY_OK);
	assert_true(created);
	assert_last_audit(s, "\"action\":\"segment.create\"");
	assert_last_audit(s, "\"segment\":\"eu\"");
	assert_int_equal(cs_store_segment_get(s, "eu", &got), CANARY_OK);
	assert_string_equal(got.name, "eu");
	assert_non_null(strstr(got.constraints, "STR_STARTS_WITH"));
	canary__segdef_clear(canary__alloc_default(), &got);
	/* The same again: no version, no record. */
	assert_int_equal(put_segment(s, "eu", RULE_EU, &audit, &created, &v2),
		CANARY_OK);
	assert_false(created);
	assert_int_equal(v2, v1);
	assert_int_equal(put_segment(s, "eu", RULE_EU2, &audit, &created, &v3),
		CANARY_OK);
	assert_int_equal(v3, v1 + 1);
	assert_last_audit(s, "\"action\":\"segment.update\"");
	assert_int_equal(put_segment(s, "apac", "[]", &audit, NULL, NULL),
		CANARY_OK);
	assert_int_equal(cs_store_segment_list(s, &all, &n), CANARY_OK);
	assert_int_equal(n, 2);
	assert_string_equal(all[0].name, "apac");
	assert_string_equal(all[1].name, "eu");
	cs_segdefs_free(all, n);
	cs_store_close(s);
}

static void test_flags_name_existing_segments(void **state)
{
	cs_store *s = fx_open();
	cs_audit audit = { "alice", NULL, false, NULL, NULL, NULL };
	canary__config *c = NULL, *parsed = NULL;
	canary__perror e;
	cJSON *json;
	char *text;

	(void)state;
	assert_int_equal(put_flag(s, "ota", "[\"eu\"]"), CS_ENOSEGMENT);
	assert_int_equal(put_segment(s, "eu", RULE_EU, &audit, NULL, NULL),
		CANARY_OK);
	assert_int_equal(put_segment(s, "unused", RULE_EU2, &audit, NULL,
		NULL), CANARY_OK);
	assert_int_equal(put_flag(s, "ota", "[\"eu\"]"), CANARY_OK);
	assert_int_equal(put_flag(s, "ota", "[\"eu\",\"nope\"]"),
		CS_ENOSEGMENT);
	/* The config carries the segments its flags name, which the SDK's
	 * parser compiles. */
	assert_int_equal(cs_store_config(s, &c), CANARY_OK);
	assert_int_equal(c->segments.count, 1);
	assert_string_equal(c->segments.items[0].name, "eu");
	json = canary__config_to_json(c);
	text = cJSON_PrintUnformatted(json);
	cJSON_Delete(json);
	assert_int_equal(canary__config_parse(canary__alloc_default(), text,
		strlen(text), &parsed, &e), CANARY_OK);
	assert_non_null(canary__config_find(parsed, "ota")->target.compiled);
	free(text);
	canary__config_free(canary__alloc_default(), parsed);
	canary__config_free(canary__alloc_default(), c);
	cs_store_close(s);
}

static void test_delete_in_use_refused(void **state)
{
	cs_store *s = fx_open();
	cs_audit audit = { "alice", NULL, false, NULL, NULL, NULL };
	char users[64];
	uint64_t v0 = 0, v = 0;

	(void)state;
	assert_int_equal(put_segment(s, "eu", RULE_EU, &audit, NULL, &v0),
		CANARY_OK);
	assert_int_equal(put_flag(s, "a", "[\"eu\"]"), CANARY_OK);
	assert_int_equal(put_flag(s, "b", "[\"eu\"]"), CANARY_OK);
	assert_int_equal(cs_store_segment_delete(s, "eu", &audit, users,
		sizeof(users), &v), CS_EINUSE);
	assert_string_equal(users, "a, b");
	assert_int_equal(put_flag(s, "a", "[]"), CANARY_OK);
	assert_int_equal(cs_store_segment_delete(s, "eu", &audit, users,
		sizeof(users), &v), CS_EINUSE);
	assert_string_equal(users, "b");
	assert_int_equal(cs_store_flag_delete(s, "b", &audit, NULL), CANARY_OK);
	assert_int_equal(cs_store_segment_delete(s, "eu", &audit, users,
		sizeof(users), &v), CANARY_OK);
	assert_true(v > v0);
	assert_last_audit(s, "\"action\":\"segment.delete\"");
	assert_int_equal(cs_store_segment_delete(s, "eu", &audit, NULL, 0,
		NULL), CS_ENOTFOUND);
	cs_store_close(s);
}

static void test_live_rollout_guards_segment(void **state)
{
	cs_store *s = fx_open();
	cs_guard g;
	cs_audit audit = { "alice", NULL, false, NULL, NULL, &g };
	cs_rollout r;

	(void)state;
	memset(&g, 0, sizeof(g));
	assert_int_equal(put_segment(s, "eu", RULE_EU, &audit, NULL, NULL),
		CANARY_OK);
	assert_int_equal(put_flag(s, "ota", "[\"eu\"]"), CANARY_OK);
	assert_int_equal(put_segment(s, "other", RULE_EU, &audit, NULL, NULL),
		CANARY_OK);
	fx_rollout(&r, "ota");
	assert_int_equal(fx_start(s, &r, NULL, NULL), CANARY_OK);
	assert_int_equal(put_segment(s, "eu", RULE_EU2, &audit, NULL, NULL),
		CS_EGUARDED);
	assert_string_equal(g.flag, "ota");
	assert_string_equal(g.state, "running");
	assert_string_equal(g.field, "segments");
	/* A segment no live rollout's flag names is free to change. */
	assert_int_equal(put_segment(s, "other", RULE_EU2, &audit, NULL,
		NULL), CANARY_OK);
	audit.forced = true;
	assert_int_equal(put_segment(s, "eu", RULE_EU2, &audit, NULL, NULL),
		CANARY_OK);
	assert_last_audit(s, "\"forced\":true");
	cs_store_close(s);
}

/* Segment `name`'s audit records, newest first: their number. */
static size_t audit_of_segment(cs_store *s, const char *name,
	cs_audit_row **rows)
{
	cs_audit_query q = { NULL, NULL, 0, 0, 0, 100, name };
	size_t n = 0;

	assert_int_equal(cs_store_audit_list(s, &q, rows, &n), CANARY_OK);
	return n;
}

static void test_copy_carries_segments(void **state)
{
	cs_store *src = fx_open(), *dst;
	cs_audit audit = { "alice", NULL, false, NULL, NULL, NULL };
	canary__config *c = NULL;
	cs_copy_counts n;
	cs_audit_row *rows = NULL;
	char dst_loc[512];

	(void)state;
	assert_int_equal(put_segment(src, "eu", RULE_EU, &audit, NULL, NULL),
		CANARY_OK);
	assert_int_equal(put_segment(src, "apac", "[]", &audit, NULL, NULL),
		CANARY_OK);
	assert_int_equal(put_flag(src, "ota", "[\"eu\"]"), CANARY_OK);
	if (fx_is_pg())
		assert_int_equal(pgt_create(NULL, dst_loc, sizeof(dst_loc)), 0);
	else
		snprintf(dst_loc, sizeof(dst_loc), "%s/copy.db", fx_dir);
	dst = fx_open_at(dst_loc);
	assert_int_equal(cs_store_copy(src, dst, 0, &n), CANARY_OK);
	assert_int_equal(n.segments, 2);
	assert_int_equal(cs_store_config(dst, &c), CANARY_OK);
	assert_int_equal(c->segments.count, 1);
	assert_string_equal(c->segments.items[0].name, "eu");
	canary__config_free(canary__alloc_default(), c);
	/* The records keep the segment they are about. */
	assert_int_equal(audit_of_segment(dst, "eu", &rows), 1);
	cs_audit_rows_free(rows, 1);
	/* A store with a segment is not empty. */
	assert_int_equal(cs_store_copy(src, dst, 0, NULL), CS_ECONFLICT);
	cs_store_close(dst);
	if (fx_is_pg())
		pgt_drop(dst_loc);
	cs_store_close(src);
}

/* A segment's records name it in their own column (the audit filter
 * finds them, and them only) and list the flags an update affects. */
static void test_segment_records_named(void **state)
{
	cs_store *s = fx_open();
	cs_audit audit = { "alice", NULL, false, NULL, NULL, NULL };
	cs_audit_query by_flag = { "ota", NULL, 0, 0, 0, 100, NULL };
	cs_audit_row *rows = NULL;
	size_t n;

	(void)state;
	assert_int_equal(put_segment(s, "eu", RULE_EU, &audit, NULL, NULL),
		CANARY_OK);
	assert_int_equal(put_segment(s, "apac", RULE_EU, &audit, NULL, NULL),
		CANARY_OK);
	assert_int_equal(put_flag(s, "ota", "[\"eu\"]"), CANARY_OK);
	assert_int_equal(put_flag(s, "cam", "[\"eu\",\"apac\"]"), CANARY_OK);
	assert_int_equal(put_flag(s, "x, y", "[\"eu\"]"), CANARY_OK);
	assert_int_equal(put_segment(s, "eu", RULE_EU2, &audit, NULL, NULL),
		CANARY_OK);
	n = audit_of_segment(s, "eu", &rows);
	assert_int_equal(n, 2);
	assert_non_null(strstr(rows[0].json, "\"action\":\"segment.update\""));
	/* Flags come in key order (the store reads them sorted), whatever
	 * their keys hold. */
	assert_non_null(strstr(rows[0].json,
		"\"flags\":[\"cam\",\"ota\",\"x, y\"]"));
	assert_non_null(strstr(rows[0].json, "\"event\":\"segment_updated\""));
	assert_non_null(strstr(rows[1].json, "\"action\":\"segment.create\""));
	assert_non_null(strstr(rows[1].json, "\"flags\":[]"));
	cs_audit_rows_free(rows, n);
	n = audit_of_segment(s, "apac", &rows);
	assert_int_equal(n, 1);
	cs_audit_rows_free(rows, n);
	assert_int_equal(audit_of_segment(s, "nope", &rows), 0);
	cs_audit_rows_free(rows, 0);
	/* The flag filter finds the flag's own records, not the segment's. */
	assert_int_equal(cs_store_audit_list(s, &by_flag, &rows, &n),
		CANARY_OK);
	assert_int_equal(n, 1);
	assert_non_null(strstr(rows[0].json, "\"action\":\"flag.create\""));
	cs_audit_rows_free(rows, n);
	cs_store_close(s);
}

/* A database from before the audit's segment column: its segment
 * records get their segment from their body when it is migrated. */
static void test_older_records_migrated(void **state)
{
	cs_store *s = fx_open();
	cs_audit audit = { "alice", NULL, false, NULL, NULL, NULL };
	cs_audit_row *rows = NULL;
	fx_raw *raw;
	char sql[128];

	(void)state;
	assert_int_equal(put_segment(s, "eu", RULE_EU, &audit, NULL, NULL),
		CANARY_OK);
	assert_int_equal(put_flag(s, "ota", "[\"eu\"]"), CANARY_OK);
	cs_store_close(s);
	/* Back to the schema before the last migration (the column's). */
	raw = fx_raw_open();
	fx_sql(raw, "DROP INDEX audit_segment");
	fx_sql(raw, "ALTER TABLE audit DROP COLUMN segment");
	snprintf(sql, sizeof(sql), "DELETE FROM schema_version WHERE version"
		" = %d", fx_schema_version());
	fx_sql(raw, sql);
	fx_raw_close(raw);
	s = fx_open();
	assert_int_equal(audit_of_segment(s, "eu", &rows), 1);
	assert_non_null(strstr(rows[0].json, "\"action\":\"segment.create\""));
	cs_audit_rows_free(rows, 1);
	assert_int_equal(audit_of_segment(s, "", &rows), 1); /* the flag's */
	cs_audit_rows_free(rows, 1);
	cs_store_close(s);
}

/* Every segment change raises its webhook event: one delivery per
 * webhook that wants it, its payload the record. */
static void test_segment_events_queued(void **state)
{
	cs_store *s = fx_open();
	cs_audit audit = { "alice", NULL, false, NULL, NULL, NULL };
	cs_webhook all, some;
	cs_delivery *d = NULL;
	size_t n = 0;

	(void)state;
	memset(&all, 0, sizeof(all));
	snprintf(all.url, sizeof(all.url), "https://a.example/all");
	snprintf(all.secret, sizeof(all.secret), "whsec_x");
	some = all;
	snprintf(some.events, sizeof(some.events), "segment_deleted");
	assert_int_equal(cs_store_webhook_add(s, &all, &audit), CANARY_OK);
	assert_int_equal(cs_store_webhook_add(s, &some, &audit), CANARY_OK);
	assert_int_equal(put_segment(s, "eu", RULE_EU, &audit, NULL, NULL),
		CANARY_OK);
	assert_int_equal(put_segment(s, "eu", RULE_EU2, &audit, NULL, NULL),
		CANARY_OK);
	assert_int_equal(cs_store_segment_delete(s, "eu", &audit, NULL, 0,
		NULL), CANARY_OK);
	assert_int_equal(cs_store_deliveries_due(s, (int64_t)1 << 50, 10, &d,
		&n), CANARY_OK);
	assert_int_equal(n, 4);
	assert_string_equal(d[0].event, "segment_created");
	assert_int_equal(d[0].webhook_id, all.id);
	assert_non_null(strstr(d[0].payload, "\"segment\":\"eu\""));
	assert_string_equal(d[1].event, "segment_updated");
	assert_string_equal(d[2].event, "segment_deleted");
	assert_string_equal(d[3].event, "segment_deleted");
	assert_int_equal(d[3].webhook_id, some.id);
	cs_deliveries_free(d, n);
	cs_store_close(s);
}

/* Segments count toward --max-config-bytes: one that would make the
 * config too large is refused, nothing written. */
static void test_segments_count_toward_size(void **state)
{
	cs_store_options o;
	cs_store *s = NULL;
	cs_audit audit = { "alice", NULL, false, NULL, NULL, NULL };
	canary__segdef got;
	char err[256] = "", rules[3200];

	(void)state;
	memset(&o, 0, sizeof(o));
	o.location = fx_db_path;
	o.max_config_bytes = 2000;
	assert_int_equal(cs_store_open(&s, &o, err, sizeof(err)), CANARY_OK);
	assert_int_equal(put_segment(s, "small", RULE_EU, &audit, NULL, NULL),
		CANARY_OK);
	snprintf(rules, sizeof(rules), "[{\"contextName\":\"r\",\"operator\":"
		"\"STR_CONTAINS\",\"values\":[\"%03000d\"]}]", 7);
	assert_int_equal(put_segment(s, "big", rules, &audit, NULL, NULL),
		CS_ETOOBIG);
	assert_int_equal(cs_store_segment_get(s, "big", &got), CS_ENOTFOUND);
	cs_store_close(s);
}

/* No more segments than an SDK takes in one config (CANARY__MAX_SEGMENTS):
 * flags naming 10,001 would make every client refuse the whole config, so
 * the 10,001st segment is refused, nothing written; one may still be
 * replaced, a flag changed and a segment deleted (a store already over
 * the bound can be repaired). */
static void test_segment_count_bounded(void **state)
{
	cs_store_options o;
	cs_store *s = NULL;
	canary__segdef got;
	char err[256] = "", name[32];
	int i;

	(void)state;
	memset(&o, 0, sizeof(o));
	o.location = fx_db_path;
	o.sync = CS_SYNC_NORMAL;
	assert_int_equal(cs_store_open(&s, &o, err, sizeof(err)), CANARY_OK);
	for (i = 0; i < CANARY__MAX_SEGMENTS; i++) {
		snprintf(name, sizeof(name), "s%d", i);
		assert_int_equal(put_segment(s, name, RULE_EU, NULL, NULL,
			NULL), CANARY_OK);
	}
	assert_int_equal(put_segment(s, "one-more", RULE_EU, NULL, NULL, NULL),
		CS_ETOOMANY);
	assert_int_equal(cs_store_segment_get(s, "one-more", &got),
		CS_ENOTFOUND);
	assert_int_equal(put_segment(s, "s7", "[]", NULL, NULL, NULL),
		CANARY_OK);
	assert_int_equal(put_flag(s, "f", "[\"s7\"]"), CANARY_OK);
	assert_int_equal(cs_store_segment_delete(s, "s8", NULL, NULL, 0, NULL),
		CANARY_OK);
	cs_store_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_segment_written_read_audited, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(
			test_flags_name_existing_segments, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_delete_in_use_refused,
			fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(
			test_live_rollout_guards_segment, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_copy_carries_segments,
			fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_segment_records_named,
			fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_segment_events_queued,
			fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_older_records_migrated,
			fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(
			test_segments_count_toward_size, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(
			test_segment_count_bounded, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
