/*
 * bench_events.c - what counting costs on the hot path: ns per
 * canary_enabled() with exposure counting off and on, per
 * canary_record_error(), canary_record_latency() and
 * canary_record_metric(), on 1 and 2 threads (100 flags, distinct units).
 * An offline client: no flush runs while measuring. Times are each
 * thread's CPU time (best of 5 rounds), so a busy machine inflates them
 * less; two threads only show contention when they really run together.
 *
 *   build/tests/bench/events/bench_events [CALLS_PER_THREAD]
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "canary/canary.h"

#define NFLAGS 100
#define NUNITS 65536
#define MAX_THREADS 2

enum op { OP_ENABLED, OP_ERROR, OP_LATENCY, OP_METRIC };

static char flags[NFLAGS][16];
static char units[NUNITS][16];
static long calls;

typedef struct job {
	canary_client *c;
	enum op op;
	int seed;
	pthread_barrier_t *start;
	double ns;
	long sink;
} job;

/* The calling thread's CPU time: on a shared machine, time spent
 * descheduled is not the call's cost. */
static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static canary_client *make_client(bool count)
{
	char *json = malloc(64 + NFLAGS * 64);
	canary_options o;
	canary_client *c;
	size_t len = 0;
	int i;

	len += (size_t)sprintf(json, "{\"version\":1,\"flags\":[");
	for (i = 0; i < NFLAGS; i++)
		len += (size_t)sprintf(json + len,
			"%s{\"key\":\"%s\",\"rollout_bp\":%d}", i ? "," : "",
			flags[i], (i * 97) % 10001);
	len += (size_t)sprintf(json + len, "]}");
	canary_options_init(&o, CANARY_OPTIONS_VERSION);
	o.no_exposures = !count;
	if (canary_client_new(&c, &o) != CANARY_OK ||
	    canary_client_set_config_json(c, json, len) != CANARY_OK) {
		fprintf(stderr, "client: %s\n", canary_error_last());
		exit(1);
	}
	free(json);
	return c;
}

static void *run(void *arg)
{
	job *j = arg;
	long i, sink = 0;
	unsigned u = (unsigned)j->seed * 7919u;
	double t0;

	pthread_barrier_wait(j->start);
	t0 = now_ns();
	for (i = 0; i < calls; i++) {
		const char *f = flags[(unsigned)i % NFLAGS];
		const char *unit = units[(u + (unsigned)i) % NUNITS];

		switch (j->op) {
		case OP_ENABLED:
			sink += canary_enabled(j->c, f, unit);
			break;
		case OP_ERROR:
			sink += canary_record_error(j->c, f, unit);
			break;
		case OP_LATENCY:
			sink += canary_record_latency(j->c, f, unit,
				1.0 + (double)(i & 1023));
			break;
		case OP_METRIC:
			sink += canary_record_metric(j->c, f, unit, "cart.value",
				(double)(i & 63));
			break;
		}
	}
	j->ns = (now_ns() - t0) / (double)calls;
	j->sink = sink;
	return NULL;
}

/* ns per call, averaged over the threads. */
static double measure_once(canary_client *c, enum op op, int threads)
{
	pthread_t tid[MAX_THREADS];
	job jobs[MAX_THREADS];
	pthread_barrier_t start;
	double sum = 0;
	int i;

	pthread_barrier_init(&start, NULL, (unsigned)threads);
	for (i = 0; i < threads; i++) {
		jobs[i] = (job){ c, op, i + 1, &start, 0, 0 };
		pthread_create(&tid[i], NULL, run, &jobs[i]);
	}
	for (i = 0; i < threads; i++) {
		pthread_join(tid[i], NULL);
		sum += jobs[i].ns;
	}
	pthread_barrier_destroy(&start);
	return sum / threads;
}

/* The best of ROUNDS: the machine is shared, the minimum is the cost. */
#define ROUNDS 5
static double measure(canary_client *c, enum op op, int threads)
{
	double best = 1e30, ns;
	int r;

	for (r = 0; r < ROUNDS; r++) {
		ns = measure_once(c, op, threads);
		if (ns < best)
			best = ns;
	}
	return best;
}

int main(int argc, char **argv)
{
	static const char *const names[] = {
		"canary_enabled", "canary_record_error", "canary_record_latency",
		"canary_record_metric"
	};
	canary_client *off, *on;
	int i, t;

	calls = argc > 1 ? atol(argv[1]) : 5000000;
	for (i = 0; i < NFLAGS; i++)
		snprintf(flags[i], sizeof(flags[i]), "flag-%d", i);
	for (i = 0; i < NUNITS; i++)
		snprintf(units[i], sizeof(units[i]), "user-%d", i);
	off = make_client(false);
	on = make_client(true);
	printf("%d flags, %d units, %ld calls per thread\n", NFLAGS, NUNITS,
		calls);
	printf("%-34s %10s %10s\n", "call", "1 thread", "2 threads");
	for (t = 1; t <= MAX_THREADS; t++) {
		double a = measure(off, OP_ENABLED, t), b = measure(on, OP_ENABLED, t);

		printf("threads %d: canary_enabled counting off %.1f ns, on %.1f ns, ratio %.2fx\n",
			t, a, b, b / a);
	}
	for (i = OP_ERROR; i <= OP_METRIC; i++)
		printf("%-34s %8.1f ns %8.1f ns\n", names[i],
			measure(on, (enum op)i, 1), measure(on, (enum op)i, 2));
	canary_client_free(off);
	canary_client_free(on);
	return 0;
}
