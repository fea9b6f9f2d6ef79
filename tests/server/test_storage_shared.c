/*
 * test_storage_shared.c - two servers' stores on one PostgreSQL database:
 * a change made through one reaches the other's change hook (by its
 * notification, and without one: a change the notification missed is
 * read within a second or so), both hooks see every version once and in
 * order while both write at once, both render the same config, a
 * batch given to both at once is counted once, and a server cannot take
 * the controller's lease while a decision made under it is still open.
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
#include <time.h>
#include <cmocka.h>

#include <cjson/cJSON.h>

#include "alloc.h"
#include "store_fixture.h"

/* What one store's change hook has seen (called on its watch thread). */
typedef struct hook {
	pthread_mutex_t lock;
	pthread_cond_t changed;
	uint64_t last;
	int out_of_order;
	size_t calls;
	char *json;         /* the last config, rendered */
} hook;

static void hook_init(hook *h)
{
	memset(h, 0, sizeof(*h));
	pthread_mutex_init(&h->lock, NULL);
	pthread_cond_init(&h->changed, NULL);
}

static void hook_clear(hook *h)
{
	free(h->json);
	pthread_cond_destroy(&h->changed);
	pthread_mutex_destroy(&h->lock);
}

static void on_change(const canary__config *c, void *arg)
{
	hook *h = arg;
	cJSON *j = canary__config_to_json(c);
	char *text = j ? cJSON_PrintUnformatted(j) : NULL;

	cJSON_Delete(j);
	pthread_mutex_lock(&h->lock);
	if (c->version <= h->last)
		h->out_of_order++;
	h->last = c->version;
	h->calls++;
	free(h->json);
	h->json = text ? strdup(text) : NULL;
	pthread_cond_broadcast(&h->changed);
	pthread_mutex_unlock(&h->lock);
	cJSON_free(text);
}

/* Wait (up to 20 s: a bound for a hung test, not a speed check) until
 * the hook has seen `version`. */
static bool saw(hook *h, uint64_t version)
{
	struct timespec until;
	bool ok;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 20;
	pthread_mutex_lock(&h->lock);
	while (h->last < version && pthread_cond_timedwait(&h->changed,
		&h->lock, &until) == 0)
		;
	ok = h->last >= version;
	pthread_mutex_unlock(&h->lock);
	return ok;
}

static void put(cs_store *s, const char *key, uint32_t bp, uint64_t *v)
{
	canary__flag f;

	fx_flag(key, bp, &f);
	assert_int_equal(cs_store_flag_put(s, &f, CS_PUT_UPSERT, NULL, NULL, v),
		CANARY_OK);
	canary__flag_clear(canary__alloc_default(), &f);
}

static void test_changes_reach_the_other_store(void **state)
{
	cs_store *a = fx_open(), *b = fx_open();
	hook ha, hb;
	uint64_t v = 0;

	(void)state;
	hook_init(&ha);
	hook_init(&hb);
	cs_store_on_change(a, on_change, &ha);
	cs_store_on_change(b, on_change, &hb);
	assert_int_equal(cs_store_refresh(a), CANARY_OK);
	assert_int_equal(cs_store_refresh(b), CANARY_OK);
	put(a, "checkout", 100, &v);
	assert_int_equal(v, 2);
	assert_true(saw(&hb, 2));
	assert_true(saw(&ha, 2));
	/* The same config, byte for byte (hence the same ETag). */
	assert_non_null(ha.json);
	assert_string_equal(ha.json, hb.json);
	put(b, "banner", 0, &v);
	assert_int_equal(v, 3);
	assert_true(saw(&ha, 3));
	assert_string_equal(ha.json, hb.json);
	assert_int_equal(cs_store_health(a, NULL, 0), CS_HEALTH_OK);
	cs_store_on_change(a, NULL, NULL);
	cs_store_on_change(b, NULL, NULL);
	/* Each version once: the initial one, then 2 and 3. */
	assert_int_equal(ha.calls, 3);
	assert_int_equal(hb.calls, 3);
	cs_store_close(a);
	cs_store_close(b);
	hook_clear(&ha);
	hook_clear(&hb);
}

/* A change that announced nothing (as if its notification was lost) is
 * found by the watch's own reads. */
static void test_missed_notification(void **state)
{
	cs_store *a = fx_open(), *b = fx_open();
	fx_raw *raw = fx_raw_open();
	hook h;

	(void)state;
	hook_init(&h);
	cs_store_on_change(a, on_change, &h);
	assert_int_equal(cs_store_refresh(a), CANARY_OK);
	/* A notified change first: a's watch is listening from now on, so
	 * only its periodic read can find the next one. */
	put(b, "loud", 0, NULL);
	assert_true(saw(&h, 2));
	fx_sql(raw, "BEGIN");
	fx_sql(raw, "INSERT INTO flags(key, body, updated_ms) VALUES('quiet', "
		"'{\"key\":\"quiet\",\"salt\":\"quiet\",\"rollout_bp\":0,"
		"\"enabled\":true}', 0)");
	fx_sql(raw, "UPDATE meta SET value = value + 1"
		" WHERE key = 'config_version'");
	fx_sql(raw, "COMMIT");
	assert_true(saw(&h, 3));
	assert_non_null(strstr(h.json, "\"quiet\""));
	cs_store_on_change(a, NULL, NULL);
	fx_raw_close(raw);
	cs_store_close(b);
	cs_store_close(a);
	hook_clear(&h);
}

typedef struct writer {
	cs_store *s;
	const char *prefix;
	int failed;
} writer;

static void *write_many(void *arg)
{
	writer *w = arg;
	char key[32];
	int i;

	for (i = 0; i < 20; i++) {
		canary__flag f;

		snprintf(key, sizeof(key), "%s%d", w->prefix, i % 3);
		fx_flag(key, (uint32_t)i, &f);
		w->failed += cs_store_flag_put(w->s, &f, CS_PUT_UPSERT, NULL,
			NULL, NULL) != CANARY_OK;
		canary__flag_clear(canary__alloc_default(), &f);
	}
	return NULL;
}

/* Both write at once: one version per change, every hook in order, and
 * both end on the same config. */
static void test_writers_on_both(void **state)
{
	cs_store *a = fx_open(), *b = fx_open();
	writer wa = { a, "a", 0 }, wb = { b, "b", 0 };
	pthread_t ta, tb;
	canary__config *c = NULL;
	hook ha, hb;

	(void)state;
	hook_init(&ha);
	hook_init(&hb);
	cs_store_on_change(a, on_change, &ha);
	cs_store_on_change(b, on_change, &hb);
	assert_int_equal(pthread_create(&ta, NULL, write_many, &wa), 0);
	assert_int_equal(pthread_create(&tb, NULL, write_many, &wb), 0);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	assert_int_equal(wa.failed + wb.failed, 0);
	assert_int_equal(cs_store_config(a, &c), CANARY_OK);
	assert_int_equal(c->version, 41);
	assert_int_equal(c->count, 6);
	canary__config_free(canary__alloc_default(), c);
	assert_true(saw(&ha, 41));
	assert_true(saw(&hb, 41));
	cs_store_on_change(a, NULL, NULL);
	cs_store_on_change(b, NULL, NULL);
	assert_int_equal(ha.out_of_order + hb.out_of_order, 0);
	assert_string_equal(ha.json, hb.json);
	cs_store_close(a);
	cs_store_close(b);
	hook_clear(&ha);
	hook_clear(&hb);
}

typedef struct giver {
	cs_store *s;
	unsigned int id;
	int rc;
	bool dup;
} giver;

static void *give(void *arg)
{
	giver *g = arg;
	canary__ev_batch b;

	fx_batch(g->id, "f", "canary", 2, 7, 1, &b);
	g->rc = cs_store_ingest(g->s, &b, 1764000000000ull, 10000, &g->dup);
	canary__ev_batch_clear(&b);
	return NULL;
}

static void add_total(const char *flag, canary_arm arm, uint64_t exposures,
	uint64_t errors, void *arg)
{
	(void)flag;
	(void)arm;
	(void)errors;
	*(uint64_t *)arg += exposures;
}

/* One batch given to both stores at once, many times: counted once each. */
static void test_batch_counted_once(void **state)
{
	cs_store *a = fx_open(), *b = fx_open();
	uint64_t total = 0;
	unsigned int id, counted = 0;

	(void)state;
	for (id = 1; id <= 30; id++) {
		giver ga = { a, id, -1, false }, gb = { b, id, -1, false };
		pthread_t ta, tb;

		assert_int_equal(pthread_create(&ta, NULL, give, &ga), 0);
		assert_int_equal(pthread_create(&tb, NULL, give, &gb), 0);
		pthread_join(ta, NULL);
		pthread_join(tb, NULL);
		assert_int_equal(ga.rc, CANARY_OK);
		assert_int_equal(gb.rc, CANARY_OK);
		assert_true(ga.dup != gb.dup);
		counted += !ga.dup + !gb.dup;
	}
	assert_int_equal(counted, 30);
	assert_int_equal(cs_store_totals(b, add_total, &total), CANARY_OK);
	assert_int_equal(total, 30 * 7);
	cs_store_close(a);
	cs_store_close(b);
}

/* ---- fencing inside the decision's transaction ---------------------- */

typedef struct takeover {
	cs_store *s;
	cs_lease lease;
	int rc;
	_Atomic int done;
} takeover;

static void *take_over(void *arg)
{
	takeover *t = arg;

	t->rc = cs_store_lease(t->s, &t->lease);
	t->done = 1;
	return NULL;
}

/* Inside A's decision (its lease checked while valid): let the lease run
 * out, have B try to take it, and see B wait for the decision to end. */
static int decide_slowly(const canary__flag *cur, canary__flag *next,
	void *arg)
{
	takeover *t = arg;
	pthread_t th;

	fx_sleep_ms(400); /* A's lease (200 ms) runs out meanwhile */
	assert_int_equal(pthread_create(&th, NULL, take_over, t), 0);
	fx_sleep_ms(300);
	/* Not a speed check: B cannot have the lease while A's decision is
	 * open, however long it waits. */
	assert_int_equal(t->done, 0);
	pthread_detach(th);
	fx_flag(cur->key, 100, next);
	return CANARY_OK;
}

static void test_takeover_waits_for_a_decision(void **state)
{
	cs_store *a = fx_open(), *b = fx_open();
	cs_lease la = { "controller", "server-a", 200, 0 };
	takeover t = { b, { "controller", "server-b", 60000, 0 }, -1, 0 };
	cs_rollout r, read;
	cs_rollout_change ch;
	int i;

	(void)state;
	fx_create(a, "f");
	fx_rollout(&r, "f");
	assert_int_equal(fx_start(a, &r, NULL, NULL), CANARY_OK);
	assert_int_equal(cs_store_lease(a, &la), CANARY_OK);
	memset(&ch, 0, sizeof(ch));
	read = r;
	ch.rollout = &read;
	ch.modify = decide_slowly;
	ch.modify_ctx = &t;
	ch.now_ms = 2000;
	ch.decision = "{\"action\": \"widen\"}";
	ch.lease = &la;
	assert_int_equal(cs_store_rollout_write(a, &ch, NULL), CANARY_OK);
	/* Then B has it, with a larger token, and A can decide no more. */
	for (i = 0; i < 200 && !t.done; i++)
		fx_sleep_ms(50);
	assert_int_equal(t.done, 1);
	assert_int_equal(t.rc, CANARY_OK);
	assert_true(t.lease.token > la.token);
	ch.modify = NULL;
	ch.decision = "{\"action\": \"hold\"}";
	assert_int_equal(cs_store_rollout_write(a, &ch, NULL), CS_ELEASE);
	ch.lease = &t.lease;
	assert_int_equal(cs_store_rollout_write(b, &ch, NULL), CANARY_OK);
	cs_store_close(a);
	cs_store_close(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_changes_reach_the_other_store, fx_setup,
			fx_teardown),
		cmocka_unit_test_setup_teardown(test_missed_notification,
			fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_writers_on_both, fx_setup,
			fx_teardown),
		cmocka_unit_test_setup_teardown(test_batch_counted_once,
			fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(
			test_takeover_waits_for_a_decision, fx_setup,
			fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
