/*
 * store_fixture.c - the storage tests' temporary store, flags and batches.
 */
#define _POSIX_C_SOURCE 200809L
#include "store_fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include <sqlite3.h>

#include "alloc.h"
#include "parse/admin_parse.h"
#include "pg_testdb.h"

char fx_db_path[512];
char fx_dir[256];

bool fx_is_pg(void)
{
	return pgt_wanted();
}

int fx_schema_version(void)
{
	return fx_is_pg() ? 7 : 6;
}

int fx_setup(void **state)
{
	(void)state;
	snprintf(fx_dir, sizeof(fx_dir), "/tmp/canary-test-storage-XXXXXX");
	assert_non_null(mkdtemp(fx_dir));
	if (fx_is_pg())
		assert_int_equal(pgt_create(NULL, fx_db_path,
			sizeof(fx_db_path)), 0);
	else
		snprintf(fx_db_path, sizeof(fx_db_path), "%s/canary.db",
			fx_dir);
	return 0;
}

int fx_teardown(void **state)
{
	char cmd[400];

	(void)state;
	if (fx_is_pg())
		pgt_drop(fx_db_path);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx_dir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

cs_store *fx_open_at(const char *location)
{
	cs_store_options o;
	cs_store *s = NULL;
	char err[256] = "";

	memset(&o, 0, sizeof(o));
	o.location = location;
	o.sync = CS_SYNC_NORMAL; /* the tests need no fsync per commit */
	if (cs_store_open(&s, &o, err, sizeof(err)) != CANARY_OK)
		fail_msg("cs_store_open: %s", err);
	return s;
}

cs_store *fx_open(void)
{
	return fx_open_at(fx_db_path);
}

struct fx_raw {
	sqlite3 *db;
	pgt_conn *pg;
};

fx_raw *fx_raw_open(void)
{
	fx_raw *r = calloc(1, sizeof(*r));

	assert_non_null(r);
	if (fx_is_pg())
		assert_non_null(r->pg = pgt_open(fx_db_path));
	else
		assert_int_equal(sqlite3_open(fx_db_path, &r->db), SQLITE_OK);
	return r;
}

void fx_sql(fx_raw *r, const char *sql)
{
	if (r->pg)
		assert_int_equal(pgt_run(r->pg, sql), 0);
	else
		assert_int_equal(sqlite3_exec(r->db, sql, NULL, NULL, NULL),
			SQLITE_OK);
}

void fx_raw_close(fx_raw *r)
{
	if (!r)
		return;
	pgt_close(r->pg);
	sqlite3_close(r->db);
	free(r);
}

void fx_flag(const char *key, uint32_t rollout_bp, canary__flag *out)
{
	char body[256];
	canary__perror e;
	int n = snprintf(body, sizeof(body), "{\"key\": \"%s\", "
		"\"rollout_bp\": %u}", key, rollout_bp);

	if (cs_admin_parse_flag(body, (size_t)n, NULL, out, &e) != CANARY_OK)
		fail_msg("flag %s: %s: %s", key, e.field, e.message);
}

void fx_create(cs_store *s, const char *key)
{
	canary__flag f;

	fx_flag(key, 0, &f);
	assert_int_equal(cs_store_flag_put(s, &f, CS_PUT_CREATE, NULL, NULL, NULL),
		CANARY_OK);
	canary__flag_clear(canary__alloc_default(), &f);
}

void fx_batch(unsigned int id, const char *flag, const char *arm,
	uint64_t cv, uint64_t exposures, uint64_t errors, canary__ev_batch *out)
{
	fx_batch_from(id, "i-1", flag, arm, cv, exposures, errors, out);
}

void fx_batch_from(unsigned int id, const char *instance, const char *flag,
	const char *arm, uint64_t cv, uint64_t exposures, uint64_t errors,
	canary__ev_batch *out)
{
	char body[1024];
	canary__perror e;
	int n = snprintf(body, sizeof(body), "{\"batch_id\": \"%032x\", "
		"\"instance_id\": \"%s\", \"sdk_version\": \"test\", "
		"\"sent_at_ms\": 1, \"windows\": [{\"flag\": \"%s\", "
		"\"arm\": \"%s\", \"config_version\": %llu, \"start_ms\": 1, "
		"\"end_ms\": 2, \"exposures\": %llu, \"errors\": %llu, "
		"\"latency_ms\": {\"zero\": 0, \"bins\": [[100, 1], [200, 1]]}}]}",
		id, instance, flag, arm, (unsigned long long)cv,
		(unsigned long long)exposures, (unsigned long long)errors);

	if (canary__ev_batch_decode(canary__alloc_default(), body, (size_t)n, 0,
	    out, &e) != CANARY_OK)
		fail_msg("batch %u: %s: %s", id, e.field, e.message);
}

void fx_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

void fx_rollout(cs_rollout *r, const char *flag)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->flag, sizeof(r->flag), "%s", flag);
	cs_rollout_spec_default(&r->spec);
	r->status = CJ_RUNNING;
	r->step_start_ms = 1000;
	r->created_ms = 1000;
	snprintf(r->reason, sizeof(r->reason), "started");
}

static int set_bp(const canary__flag *cur, canary__flag *next, void *arg)
{
	fx_flag(cur->key, *(const uint32_t *)arg, next);
	return CANARY_OK;
}

int fx_start(cs_store *s, cs_rollout *r, const uint32_t *bp,
	uint64_t *version)
{
	cs_rollout_change ch;

	memset(&ch, 0, sizeof(ch));
	ch.rollout = r;
	ch.insert = true;
	ch.modify = bp ? set_bp : NULL;
	ch.modify_ctx = (void *)bp;
	ch.now_ms = 1000;
	ch.decision = "{\"action\": \"start\"}";
	return cs_store_rollout_write(s, &ch, version);
}
