/*
 * test_crash_durability.c - canary-server killed with SIGKILL while event
 * batches are being ingested, in a loop. Two client threads POST batches
 * with known ids and known exposure counts as fast as they can; at a
 * random moment the server is killed. After each restart:
 *
 *  - nothing acknowledged is lost: the counted exposures are at least the
 *    sum of the batches that got a 202;
 *  - nothing is invented: at most that plus the batches in flight (sent,
 *    no answer: the server may have committed them before dying);
 *  - the clients replay every unacknowledged batch until it gets a 202,
 *    and then the count is exactly the sum of all batches: a replay of a
 *    batch the server had already committed is not counted twice.
 *
 * 20 rounds by default; CANARY_CRASH_ROUNDS=N for a longer run.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "dp_support.h"
#include "rel_support.h"

#define FLAG "durable"
#define POSTERS 2
#define MAX_BATCHES 20000

typedef enum { B_UNSENT = 0, B_ACKED, B_IN_FLIGHT } batch_state;

typedef struct poster {
	pthread_t thread;
	int id;
	srv server;              /* copy for the round (the port changes) */
	atomic_bool stop;
	long bad_status;         /* an answer other than 202 (0 = none) */
	long count;              /* batches created so far */
	batch_state state[MAX_BATCHES];
	unsigned exposures[MAX_BATCHES];
} poster;

static srv server;
static poster posters[POSTERS];

static void batch_id(const poster *p, long seq, char *out, size_t len)
{
	snprintf(out, len, "%016x%016lx", 0xc0ffee00u + (unsigned)p->id,
		(unsigned long)seq);
}

/* POST one batch: the HTTP status, or -1 when no answer came. No cmocka
 * assertion here: this runs in the poster threads. */
static long post(poster *p, long seq)
{
	char id[40], *body;
	long status = -1;

	batch_id(p, seq, id, sizeof(id));
	body = batch_json(id, FLAG, "canary", p->exposures[seq], 0);
	if (body)
		status = http_status(&p->server, "POST", "/v1/events", SDK_KEY,
			body);
	free(body);
	return status;
}

static void *poster_main(void *arg)
{
	poster *p = arg;

	while (!atomic_load(&p->stop) && p->count < MAX_BATCHES) {
		long seq = p->count++, status;

		p->exposures[seq] = 1 + (unsigned)(seq % 7);
		p->state[seq] = B_IN_FLIGHT;
		status = post(p, seq);
		if (status == 202) {
			p->state[seq] = B_ACKED;
		} else {
			if (status != -1)
				p->bad_status = status; /* checked by the test */
			break; /* the server is gone */
		}
	}
	return NULL;
}

static void sums(double *acked, double *in_flight)
{
	int i;
	long k;

	*acked = *in_flight = 0;
	for (i = 0; i < POSTERS; i++)
		for (k = 0; k < posters[i].count; k++) {
			if (posters[i].state[k] == B_ACKED)
				*acked += posters[i].exposures[k];
			else if (posters[i].state[k] == B_IN_FLIGHT)
				*in_flight += posters[i].exposures[k];
		}
}

/* Replay every unacknowledged batch until it is acknowledged. */
static void replay_unacked(void)
{
	int i;
	long k;

	for (i = 0; i < POSTERS; i++) {
		posters[i].server = server;
		for (k = 0; k < posters[i].count; k++)
			if (posters[i].state[k] == B_IN_FLIGHT) {
				assert_int_equal(post(&posters[i], k), 202);
				posters[i].state[k] = B_ACKED;
			}
	}
}

static int setup(void **state)
{
	(void)state;
	return rel_start_with_flag(&server, FLAG, 100);
}

static int teardown(void **state)
{
	(void)state;
	srv_cleanup(&server);
	return 0;
}

static void test_kill9_during_ingest(void **state)
{
	const char *env = getenv("CANARY_CRASH_ROUNDS");
	int rounds = env ? atoi(env) : 20, round, i;
	unsigned seed = (unsigned)time(NULL);
	long committed_unacked = 0, total = 0;
	double acked = 0, in_flight = 0, counted = 0;

	(void)state;
	print_message("seed %u, %d rounds\n", seed, rounds);
	srand(seed);
	for (round = 0; round < rounds; round++) {
		for (i = 0; i < POSTERS; i++) {
			posters[i].id = i;
			posters[i].server = server;
			atomic_store(&posters[i].stop, false);
			assert_int_equal(pthread_create(&posters[i].thread, NULL,
				poster_main, &posters[i]), 0);
		}
		dp_sleep_ms(5 + (unsigned)(rand() % 60));
		srv_kill9(&server);
		for (i = 0; i < POSTERS; i++) {
			atomic_store(&posters[i].stop, true);
			pthread_join(posters[i].thread, NULL);
			assert_int_equal(posters[i].bad_status, 0);
		}
		assert_int_equal(srv_restart(&server, NULL), 0);

		sums(&acked, &in_flight);
		counted = rel_arm_count(&server, FLAG, "canary", "exposures");
		/* Committed but never acknowledged: the replay must not count
		 * these again. */
		committed_unacked += counted > acked;
		if (counted < acked || counted > acked + in_flight)
			fail_msg("round %d: counted %.0f, acknowledged %.0f, in "
				"flight %.0f", round, counted, acked, in_flight);
		replay_unacked();
		sums(&acked, &in_flight);
		assert_true(in_flight == 0);
		counted = rel_arm_count(&server, FLAG, "canary", "exposures");
		if (counted != acked)
			fail_msg("round %d: after replays counted %.0f, sent %.0f",
				round, counted, acked);
	}
	for (i = 0; i < POSTERS; i++)
		total += posters[i].count;
	print_message("%d kills, %ld batches, %ld kills after a commit and "
		"before its 202, %.0f exposures counted exactly\n", rounds, total,
		committed_unacked, acked);
	assert_true(total > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kill9_during_ingest),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
