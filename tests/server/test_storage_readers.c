/*
 * test_storage_readers.c - reads (config, flags, stats, totals, rollouts)
 * never queue behind a write: they run while another connection holds
 * the write lock (each backend; PostgreSQL as test_storage_readers_pg), and while a write of the store itself is in the
 * middle of its transaction; and many threads writing and reading at once
 * (run under ThreadSanitizer, label "concurrency") keep every count and
 * publish the config versions in order.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "alloc.h"
#include "store_fixture.h"

static void no_total(const char *flag, canary_arm arm, uint64_t exposures,
	uint64_t errors, void *arg)
{
	(void)flag;
	(void)arm;
	(void)errors;
	*(uint64_t *)arg += exposures;
}

static int no_rollout(const cs_rollout *r, void *arg)
{
	(void)r;
	(void)arg;
	return CANARY_OK;
}

/* Every kind of read once; how many failed. `exposures` gets the totals. */
static int read_all(cs_store *s, uint64_t *exposures)
{
	const canary__alloc *a = canary__alloc_default();
	cs_arm_stats *arms = calloc(CANARY__ARMS, sizeof(*arms));
	canary__config *c = NULL;
	canary__flag f;
	cs_rollout *r = malloc(sizeof(*r));
	int failed = 0;

	*exposures = 0;
	if (!arms || !r)
		return 1;
	failed += cs_store_config(s, &c) != CANARY_OK;
	canary__config_free(a, c);
	failed += cs_store_flag_get(s, "f", &f) != CANARY_OK;
	canary__flag_clear(a, &f);
	failed += cs_store_stats(s, "f", NULL, arms) != CANARY_OK;
	failed += cs_store_totals(s, no_total, exposures) != CANARY_OK;
	failed += cs_store_rollouts_each(s, CS_ROLLOUTS_LATEST, no_rollout,
		NULL) != CANARY_OK;
	failed += cs_store_rollout_get(s, "f", r, NULL) != CS_ENOROLLOUT;
	free(arms);
	free(r);
	return failed;
}

/* Ingest a fresh batch; false if that failed (any thread may call it). */
static bool ingested(cs_store *s, unsigned int id, uint64_t exposures)
{
	canary__ev_batch b;
	bool dup = true;
	int rc;

	fx_batch(id, "f", "canary", 2, exposures, 0, &b);
	rc = cs_store_ingest(s, &b, 1764000000000ull, 10000, &dup);
	canary__ev_batch_clear(&b);
	return rc == CANARY_OK && !dup;
}

/* Another process (here: connection) holds the write lock (PostgreSQL:
 * the rows') with an uncommitted change: every read still answers, from
 * the last commit. */
static void test_reads_while_the_write_lock_is_held(void **state)
{
	cs_store *s = fx_open();
	fx_raw *raw;
	canary__flag f;
	uint64_t exposures = 0;

	(void)state;
	fx_create(s, "f");
	assert_true(ingested(s, 1, 7));
	raw = fx_raw_open();
	fx_sql(raw, fx_is_pg() ? "BEGIN" : "BEGIN IMMEDIATE");
	fx_sql(raw, "UPDATE totals SET exposures = 1000");
	fx_sql(raw, "UPDATE meta SET value = value + 1"
		" WHERE key = 'config_version'");
	fx_sql(raw, "INSERT INTO flags(key, body, updated_ms)"
		" VALUES('g', '{}', 0)");

	assert_int_equal(read_all(s, &exposures), 0);
	assert_int_equal(exposures, 7);
	assert_int_equal(cs_store_flag_get(s, "g", &f), CS_ENOTFOUND);

	fx_sql(raw, "ROLLBACK");
	fx_raw_close(raw);
	cs_store_close(s);
}

typedef struct probe {
	cs_store *s;
	int failed;
	uint64_t exposures;
} probe;

static void *read_from_another_thread(void *arg)
{
	probe *p = arg;

	p->failed = read_all(p->s, &p->exposures);
	return NULL;
}

/* The modification runs inside the store's write transaction: another
 * thread reads everything meanwhile, and this one waits for it to finish.
 * Reads that queued behind the write would never finish. */
static int modify_while_reading(const canary__flag *cur, canary__flag *next,
	void *arg)
{
	pthread_t t;

	assert_int_equal(pthread_create(&t, NULL, read_from_another_thread,
		arg), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	fx_flag(cur->key, 2500, next);
	return CANARY_OK;
}

static void test_reads_during_a_write(void **state)
{
	cs_store *s = fx_open();
	probe p = { s, -1, 0 };
	canary__flag f;

	(void)state;
	fx_create(s, "f");
	assert_true(ingested(s, 1, 3));
	assert_int_equal(cs_store_flag_modify(s, "f", modify_while_reading, &p,
		NULL, NULL), CANARY_OK);
	assert_int_equal(p.failed, 0);
	assert_int_equal(p.exposures, 3);
	assert_int_equal(cs_store_flag_get(s, "f", &f), CANARY_OK);
	assert_int_equal(f.rollout_bp, 2500);
	canary__flag_clear(canary__alloc_default(), &f);
	cs_store_close(s);
}

/* ---- many threads ---------------------------------------------------- */

#define WRITERS 2
#define BATCHES 100
#define FLAG_CHANGES 40
#define READERS 3

typedef struct shared {
	cs_store *s;
	pthread_mutex_t lock;
	int writers_left;   /* guarded by lock */
	uint64_t last_version, published; /* the change hook's (one at a time) */
	int out_of_order;
	int failures;       /* guarded by lock */
} shared;

typedef struct worker {
	shared *sh;
	unsigned int first_id;
} worker;

static void on_change(const canary__config *c, void *arg)
{
	shared *sh = arg;

	/* A backend that watches for other servers' changes may hand over
	 * the config already there (version 2, fx_create's) when its watch
	 * starts: only the flag changes' versions are counted. */
	if (c->version <= 2 && sh->published == 0)
		return;
	if (c->version <= sh->last_version)
		sh->out_of_order++;
	sh->last_version = c->version;
	sh->published++;
}

static void writer_done(shared *sh, int failed)
{
	pthread_mutex_lock(&sh->lock);
	sh->writers_left--;
	sh->failures += failed;
	pthread_mutex_unlock(&sh->lock);
}

static void *ingester(void *arg)
{
	worker *w = arg;
	unsigned int i;
	int failed = 0;

	for (i = 0; i < BATCHES; i++)
		failed += !ingested(w->sh->s, w->first_id + i, 1);
	writer_done(w->sh, failed);
	return NULL;
}

static void *flag_changer(void *arg)
{
	shared *sh = arg;
	canary__flag f;
	unsigned int i;
	int failed = 0;

	for (i = 0; i < FLAG_CHANGES; i++) {
		fx_flag("f", (i + 1) * 10, &f); /* each a change */
		failed += cs_store_flag_put(sh->s, &f, CS_PUT_UPSERT, NULL,
			NULL, NULL) != CANARY_OK;
		canary__flag_clear(canary__alloc_default(), &f);
	}
	writer_done(sh, failed);
	return NULL;
}

static bool writing(shared *sh)
{
	bool more;

	pthread_mutex_lock(&sh->lock);
	more = sh->writers_left > 0;
	pthread_mutex_unlock(&sh->lock);
	return more;
}

static void *reader(void *arg)
{
	shared *sh = arg;
	uint64_t exposures, seen = 0;
	int failed = 0;

	do {
		failed += read_all(sh->s, &exposures);
		/* Counts only grow: each read sees a later commit. */
		failed += exposures < seen;
		seen = exposures;
	} while (writing(sh));
	pthread_mutex_lock(&sh->lock);
	sh->failures += failed;
	pthread_mutex_unlock(&sh->lock);
	return NULL;
}

static void test_threads_write_and_read(void **state)
{
	shared sh;
	worker w[WRITERS];
	pthread_t t[WRITERS + 1 + READERS];
	canary__config *c = NULL;
	uint64_t exposures = 0;
	int i, n = 0;

	(void)state;
	memset(&sh, 0, sizeof(sh));
	pthread_mutex_init(&sh.lock, NULL);
	sh.s = fx_open();
	fx_create(sh.s, "f");
	cs_store_on_change(sh.s, on_change, &sh);
	sh.writers_left = WRITERS + 1;
	for (i = 0; i < WRITERS; i++) {
		w[i].sh = &sh;
		w[i].first_id = 1 + (unsigned int)i * BATCHES;
		assert_int_equal(pthread_create(&t[n++], NULL, ingester, &w[i]),
			0);
	}
	assert_int_equal(pthread_create(&t[n++], NULL, flag_changer, &sh), 0);
	for (i = 0; i < READERS; i++)
		assert_int_equal(pthread_create(&t[n++], NULL, reader, &sh), 0);
	for (i = 0; i < n; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);

	assert_int_equal(sh.failures, 0);
	assert_int_equal(sh.out_of_order, 0);
	assert_int_equal(sh.published, FLAG_CHANGES);
	assert_int_equal(read_all(sh.s, &exposures), 0);
	assert_int_equal(exposures, WRITERS * BATCHES);
	assert_int_equal(cs_store_config(sh.s, &c), CANARY_OK);
	assert_int_equal(c->version, 2 + FLAG_CHANGES);
	assert_int_equal(sh.last_version, c->version);
	canary__config_free(canary__alloc_default(), c);
	cs_store_close(sh.s);
	pthread_mutex_destroy(&sh.lock);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_reads_while_the_write_lock_is_held, fx_setup,
			fx_teardown),
		cmocka_unit_test_setup_teardown(test_reads_during_a_write,
			fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_threads_write_and_read,
			fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
