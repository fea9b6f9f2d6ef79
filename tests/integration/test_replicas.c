/*
 * test_replicas.c - several canary-server processes on one PostgreSQL
 * database (PostgreSQL only): a change made through one replica reaches
 * the SDK streams of the others; every replica serves the same config
 * with the same ETag, and one that has not heard of a newer version yet
 * reads it rather than serve an older one; when the replica leading the
 * rollout controller is killed (-9) mid-rollout another takes over and
 * the rollout goes on, every step once, in order, with every event
 * counted once; PostgreSQL restarted under load loses no acknowledged
 * batch.
 *
 * Nothing here asserts on time: a wait is a generous bound for an outcome
 * that must come. How fast a change crosses replicas is measured by
 * tests/bench/replicas.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "pg_testdb.h"

#define REPLICAS 3

static const char *const lease_args[] = { "--lease-ms", "1000", NULL };

static srv rep[REPLICAS];
static char db[300];
static char own_cluster[64];  /* a PostgreSQL of the test's own, if any */

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* `n` replicas on a fresh database of the suite's PostgreSQL (or of the
 * one in `dir`). */
static void start_replicas(const char *dir, int n)
{
	int i;

	assert_int_equal(pgt_create(dir, db, sizeof(db)), 0);
	for (i = 0; i < n; i++)
		assert_int_equal(srv_start_on(&rep[i], db, lease_args), 0);
}

static int setup(void **state)
{
	(void)state;
	memset(rep, 0, sizeof(rep));
	db[0] = own_cluster[0] = '\0';
	return 0;
}

static int teardown(void **state)
{
	int i;

	(void)state;
	for (i = 0; i < REPLICAS; i++)
		srv_cleanup(&rep[i]);
	if (db[0])
		pgt_drop(db);
	if (own_cluster[0])
		pgt_cluster("stop", own_cluster);
	return 0;
}

static void create_flag(const srv *s, const char *key)
{
	char body[256];

	snprintf(body, sizeof(body), "{\"key\":\"%s\",\"rollout_bp\":0}", key);
	assert_int_equal(http_status(s, "POST", "/v1/admin/flags", ADMIN_TOKEN,
		body), 201);
}

static void set_bp(const srv *s, const char *key, int bp)
{
	char body[64], path[128];

	snprintf(body, sizeof(body), "{\"rollout_bp\":%d}", bp);
	snprintf(path, sizeof(path), "/v1/admin/flags/%s", key);
	assert_int_equal(http_status(s, "PATCH", path, ADMIN_TOKEN, body), 200);
}

static void wait_for_event(int fd, long version)
{
	char buf[65536], needle[64];
	size_t len = 0;

	snprintf(needle, sizeof(needle), "id: %ld\nevent: config", version);
	if (!read_until(fd, buf, sizeof(buf), &len, needle))
		fail_msg("no config %ld on the stream", version);
}

/* The config version `s` serves. */
static long version_of(const srv *s)
{
	long st, v;
	cJSON *doc = http_json(s, "GET", "/v1/flags", NULL, &st);

	assert_int_equal(st, 200);
	v = (long)cJSON_GetObjectItem(doc, "version")->valuedouble;
	cJSON_Delete(doc);
	return v;
}

static void get_flags(const srv *s, const char *inm, resp *r)
{
	char line[200];
	const char *hdr[] = { line, NULL };

	snprintf(line, sizeof(line), "If-None-Match: %s", inm ? inm : "");
	assert_int_equal(http(s, "GET", "/v1/flags", SDK_KEY, NULL,
		inm ? hdr : NULL, r), 0);
}

static void test_change_reaches_every_stream(void **state)
{
	int fd[REPLICAS], i;
	resp r, again;
	char sql[128], tag[64], want[64];
	long v;

	(void)state;
	start_replicas(NULL, REPLICAS);
	/* Each start moved the version on (to its time); the last one's is
	 * the highest, and reaches the others too. */
	v = version_of(&rep[REPLICAS - 1]);
	for (i = 0; i < REPLICAS; i++) {
		fd[i] = srv_stream_open(&rep[i]);
		assert_true(fd[i] >= 0);
		wait_for_event(fd[i], v);
	}
	/* Through A, then through C: every stream gets both. */
	create_flag(&rep[0], "checkout");
	for (i = 0; i < REPLICAS; i++)
		wait_for_event(fd[i], v + 1);
	set_bp(&rep[2], "checkout", 2500);
	for (i = 0; i < REPLICAS; i++)
		wait_for_event(fd[i], v + 2);
	/* One ETag everywhere: a client moving between replicas gets 304s. */
	get_flags(&rep[0], NULL, &r);
	assert_int_equal(r.status, 200);
	for (i = 1; i < REPLICAS; i++) {
		get_flags(&rep[i], r.etag, &again);
		assert_int_equal(again.status, 304);
		assert_string_equal(again.etag, r.etag);
		resp_free(&again);
	}
	resp_free(&r);
	/* A version B has not been told of (no notification): a client that
	 * has seen it gets it from B, not the older one B published. */
	snprintf(sql, sizeof(sql), "UPDATE meta SET value = value + 1 WHERE "
		"key = 'config_version'");
	assert_int_equal(pgt_exec(db, sql), 0);
	snprintf(tag, sizeof(tag), "\"%ld-00000000\"", v + 3);
	snprintf(want, sizeof(want), "{\"version\":%ld,", v + 3);
	get_flags(&rep[1], tag, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, want));
	resp_free(&r);
	for (i = 0; i < REPLICAS; i++)
		close(fd[i]);
}

/* ---- failover ------------------------------------------------------- */

/* What the test sent and what the replicas acknowledged. */
typedef struct feeder {
	unsigned long long seq;
	unsigned long long acked;     /* exposures in batches answered 202 */
	unsigned long long replayed;  /* replays acknowledged as duplicates */
	char last[2048];              /* the last batch, to replay */
	int dead;                     /* the killed replica, or -1 */
} feeder;

static const srv *live(const feeder *f, unsigned long long k)
{
	int i = (int)(k % REPLICAS);

	return i == f->dead ? &rep[(i + 1) % REPLICAS] : &rep[i];
}

/* One batch for both arms at the step's share and version through a live
 * replica; every fifth time the previous batch again through another,
 * which must count it no second time. */
static void feed(feeder *f, double percent, double version)
{
	long long n = 20000, nc = (long long)(20000 * percent / 100), ns = n - nc;
	long st;
	cJSON *doc;

	if (f->seq && f->seq % 5 == 0) {
		doc = http_json(live(f, f->seq + 1), "POST", "/v1/events",
			f->last, &st);
		assert_int_equal(st, 202);
		assert_true(cJSON_IsTrue(cJSON_GetObjectItem(doc, "duplicate")));
		cJSON_Delete(doc);
		f->replayed++;
	}
	f->seq++;
	snprintf(f->last, sizeof(f->last), "{\"batch_id\":\"%016llx%016llx\","
		"\"instance_id\":\"it-%llu\",\"sdk_version\":\"0.1.0\","
		"\"sent_at_ms\":1,\"windows\":["
		"{\"flag\":\"fo\",\"arm\":\"stable\",\"config_version\":%.0f,"
		"\"start_ms\":1,\"end_ms\":2,\"exposures\":%lld,\"errors\":%lld,"
		"\"latency_ms\":{\"bins\":[[270,%lld],[276,%lld]]}},"
		"{\"flag\":\"fo\",\"arm\":\"canary\",\"config_version\":%.0f,"
		"\"start_ms\":1,\"end_ms\":2,\"exposures\":%lld,\"errors\":%lld,"
		"\"latency_ms\":{\"bins\":[[270,%lld],[276,%lld]]}}]}",
		(unsigned long long)getpid(), f->seq, f->seq % 7, version,
		ns, ns / 200, ns / 2 + 1, ns / 2 + 1, version, nc, nc / 200,
		nc / 2 + 1, nc / 2 + 1);
	doc = http_json(live(f, f->seq), "POST", "/v1/events", f->last, &st);
	assert_int_equal(st, 202);
	assert_null(cJSON_GetObjectItem(doc, "duplicate"));
	cJSON_Delete(doc);
	f->acked += (unsigned long long)n;
}

/* The replica that leads the controller, or -1. */
static int leader(const feeder *f)
{
	int i, found = -1;

	for (i = 0; i < REPLICAS; i++) {
		long st;
		cJSON *doc;

		if (i == f->dead)
			continue;
		doc = http_json(&rep[i], "GET", "/healthz", NULL, &st);
		if (cJSON_IsTrue(cJSON_GetObjectItem(doc, "controller")))
			found = i;
		cJSON_Delete(doc);
	}
	return found;
}

static double num(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItem(o, name);

	return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

/* Exposures of `flag` in a replica's /metrics (both arms). */
static unsigned long long exposures_of(const srv *s, const char *flag)
{
	unsigned long long sum = 0, v;
	char series[96];
	const char *p;
	resp r;

	snprintf(series, sizeof(series), "canary_exposures_total{flag=\"%s\"",
		flag);
	assert_int_equal(http(s, "GET", "/metrics", ADMIN_TOKEN, NULL, NULL, &r),
		0);
	for (p = r.body; (p = strstr(p, series)); p++)
		if (sscanf(strchr(p, '}') + 1, " %llu", &v) == 1)
			sum += v;
	resp_free(&r);
	return sum;
}

/* Run the rollout to its end through the live replicas, killing the
 * leader once it has widened twice. Returns the final status. */
static cJSON *run_with_a_kill(feeder *f)
{
	cJSON *doc = NULL;
	long st;
	int i, lead;

	for (i = 0; i < 1200; i++) {
		cJSON_Delete(doc);
		doc = http_json(live(f, (unsigned long long)i), "GET",
			"/v1/admin/rollouts/fo", NULL, &st);
		assert_int_equal(st, 200);
		if (strcmp(cJSON_GetObjectItem(doc, "state")->valuestring,
			"running") != 0)
			return doc;
		if (f->dead < 0 && num(doc, "step") >= 2 &&
		    (lead = leader(f)) >= 0) {
			srv_kill9(&rep[lead]);
			f->dead = lead;
		}
		feed(f, num(doc, "step_percent"),
			num(doc, "step_config_version"));
		sleep_ms(50);
	}
	return doc;
}

static void test_controller_failover(void **state)
{
	static const double steps[] = { 1, 2, 5, 10, 25, 50 };
	feeder f;
	const cJSON *d;
	cJSON *doc;
	size_t seen = 0;
	int i;

	(void)state;
	memset(&f, 0, sizeof(f));
	f.dead = -1;
	start_replicas(NULL, REPLICAS);
	create_flag(&rep[0], "fo");
	assert_int_equal(http_status(&rep[1], "POST", "/v1/admin/rollouts",
		ADMIN_TOKEN, "{\"flag\":\"fo\",\"steps\":[1,2,5,10,25,50,100],"
		"\"min_soak\":\"300ms\",\"max_step\":\"60s\","
		"\"interval\":\"100ms\",\"gates\":{\"min_exposures\":200,"
		"\"min_latency\":100,\"lat_ratio\":[0,0,0]}}"), 201);
	doc = run_with_a_kill(&f);
	assert_true(f.dead >= 0);
	assert_string_equal(cJSON_GetObjectItem(doc, "state")->valuestring,
		"completed");
	/* Every step left once, in order: nothing repeated, nothing
	 * skipped, whoever decided. */
	cJSON_ArrayForEach(d, cJSON_GetObjectItem(doc, "decisions")) {
		const char *a = cJSON_GetObjectItem(d, "action")->valuestring;

		if (strcmp(a, "widen") != 0 && strcmp(a, "promote") != 0)
			continue;
		assert_true(seen < sizeof(steps) / sizeof(steps[0]));
		assert_true(num(d, "percent") == steps[seen]);
		seen++;
	}
	assert_int_equal(seen, sizeof(steps) / sizeof(steps[0]));
	cJSON_Delete(doc);
	/* A survivor leads now; every acknowledged exposure counted once,
	 * seen alike from each survivor. */
	i = leader(&f);
	assert_true(i >= 0 && i != f.dead);
	assert_true(f.replayed > 0);
	for (i = 0; i < REPLICAS; i++)
		if (i != f.dead)
			assert_int_equal(exposures_of(&rep[i], "fo"), f.acked);
}

/* ---- PostgreSQL restarted under load -------------------------------- */

/* The restart: 0 before, 1 while PostgreSQL is down or starting, 2 when
 * it is back, -1 if it failed. Down for 3.5 s: longer than a request's
 * own retries, so requests are refused too (503), not only delayed. */
static _Atomic int restart_phase; /* read by the senders */
/* The config version that made the flag, as an SDK reports it: a replica
 * that has not heard of the flag yet reads the store first (a made-up
 * older version would be dropped there as naming an unknown flag). */
static long load_version;
static _Atomic unsigned dropped_windows; /* acknowledged, not counted */

static void *restart_later(void *arg)
{
	(void)arg;
	sleep_ms(300);
	restart_phase = 1;
	restart_phase = pgt_cluster("restart 3.5", own_cluster) == 0 ? 2 : -1;
	return NULL;
}

/* Batch `i` (exposures i % 100 + 1) through replica `through` % 2: its
 * status. */
static long send_batch(unsigned int i, unsigned int through)
{
	char body[512];
	resp r;
	long st;

	snprintf(body, sizeof(body), "{\"batch_id\":\"%016llx%016x\","
		"\"instance_id\":\"it-%u\",\"sdk_version\":\"0.1.0\","
		"\"sent_at_ms\":1,\"windows\":[{\"flag\":\"load\","
		"\"arm\":\"canary\",\"config_version\":%ld,\"start_ms\":1,"
		"\"end_ms\":2,\"exposures\":%u,\"errors\":0}]}",
		(unsigned long long)getpid(), i, i % 5, load_version,
		i % 100 + 1);
	if (http(&rep[through % 2], "POST", "/v1/events", SDK_KEY, body, NULL,
		&r) != 0)
		return 0;
	st = r.status;
	if (st == 202 && strstr(r.body, "\"dropped\"") &&
	    !strstr(r.body, "\"dropped\":0"))
		atomic_fetch_add(&dropped_windows, 1);
	resp_free(&r);
	return st;
}

#define SENDERS 4
#define PER_SENDER 4096

/* One sender's batches: ids base + 0 .. base + n - 1. */
typedef struct load {
	unsigned int base, n;
	unsigned int during;        /* sent while PostgreSQL was away */
	unsigned int refused;       /* answered other than 202 */
	bool acked[PER_SENDER];
} load;

/* New batches until PostgreSQL is back and 100 more have been taken,
 * each refused one sent again (as an SDK's outbox does, through the other
 * replica) on the next pass. */
static void *run_load(void *arg)
{
	load *l = arg;
	unsigned int i, pass, left = 1;

	for (pass = 0; left && pass < 2000; pass++) {
		unsigned int fresh = restart_phase == 2 ? 100 : 10;

		for (i = 0; i < fresh && l->n < PER_SENDER; i++)
			l->acked[l->n++] = false;
		left = 0;
		for (i = 0; i < l->n; i++) {
			long st;

			if (l->acked[i])
				continue;
			l->during += restart_phase == 1;
			st = send_batch(l->base + i, i + pass);
			l->acked[i] = st == 202;
			l->refused += st != 202;
			left += st != 202;
		}
		left += restart_phase < 2;
		if (left)
			sleep_ms(20);
	}
	return NULL;
}

static void test_database_restart_under_load(void **state)
{
	static load l[SENDERS];
	unsigned long long want = 0;
	unsigned int i, k, n = 0, during = 0, refused = 0;
	pthread_t t, senders[SENDERS];
	long st, v;
	int fd;

	(void)state;
	memset(l, 0, sizeof(l));
	restart_phase = 0;
	dropped_windows = 0;
	snprintf(own_cluster, sizeof(own_cluster), "/tmp/canary-pg-r%ld",
		(long)getpid());
	assert_int_equal(pgt_cluster("start", own_cluster), 0);
	start_replicas(own_cluster, 2);
	create_flag(&rep[0], "load");
	load_version = version_of(&rep[0]);
	assert_int_equal(pthread_create(&t, NULL, restart_later, NULL), 0);
	for (k = 0; k < SENDERS; k++) {
		l[k].base = k * PER_SENDER;
		assert_int_equal(pthread_create(&senders[k], NULL, run_load,
			&l[k]), 0);
	}
	for (k = 0; k < SENDERS; k++)
		pthread_join(senders[k], NULL);
	pthread_join(t, NULL);
	assert_int_equal(restart_phase, 2);
	for (k = 0; k < SENDERS; k++) {
		for (i = 0; i < l[k].n; i++) {
			assert_true(l[k].acked[i]);
			want += (l[k].base + i) % 100 + 1;
		}
		n += l[k].n;
		during += l[k].during;
		refused += l[k].refused;
	}
	/* The load did run through the restart, and was refused for a
	 * while (503), not only delayed. */
	assert_true(during > 0);
	assert_true(refused > 0);
	/* Each acknowledged batch counted, once, whichever replica took it. */
	assert_int_equal(dropped_windows, 0);
	assert_int_equal(exposures_of(&rep[1], "load"), want);
	assert_int_equal(exposures_of(&rep[0], "load"), want);
	cJSON_Delete(http_json(&rep[0], "GET", "/healthz", NULL, &st));
	assert_int_equal(st, 200);
	/* Both listen again: a change through A reaches B's stream. */
	v = version_of(&rep[0]);
	fd = srv_stream_open(&rep[1]);
	assert_true(fd >= 0);
	wait_for_event(fd, v);
	set_bp(&rep[0], "load", 100);
	wait_for_event(fd, v + 1);
	close(fd);
	print_message("%u batches from %d senders, %u sent while PostgreSQL "
		"was away, %u refusals\n", n, SENDERS, during, refused);
}

/* ---- PostgreSQL away: /metrics ------------------------------------ */

/* /metrics reads its totals from the database: while that cannot be
 * reached it is a 503 with Retry-After like every request that needs it
 * (deploy.md), not a 500 a scraper would take for a broken server. */
static void test_metrics_while_database_down(void **state)
{
	(void)state;
	snprintf(own_cluster, sizeof(own_cluster), "/tmp/canary-pg-m%ld",
		(long)getpid());
	assert_int_equal(pgt_cluster("start", own_cluster), 0);
	start_replicas(own_cluster, 1);
	assert_int_equal(http_status(&rep[0], "GET", "/metrics", ADMIN_TOKEN,
		NULL), 200);
	assert_int_equal(pgt_cluster("stop", own_cluster), 0);
	db[0] = '\0'; /* gone with its cluster: nothing to drop */
	assert_int_equal(http_status(&rep[0], "GET", "/metrics", ADMIN_TOKEN,
		NULL), 503);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_change_reaches_every_stream, setup, teardown),
		cmocka_unit_test_setup_teardown(test_controller_failover,
			setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_database_restart_under_load, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_metrics_while_database_down, setup, teardown),
	};
	int rc;

	if (!pgt_wanted()) {
		fprintf(stderr, "test_replicas runs on PostgreSQL only\n");
		return 77;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}
