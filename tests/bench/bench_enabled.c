/*
 * bench_enabled.c - ns per canary_enabled() call for 10, 1,000 and 10,000
 * flags over 1M distinct units, on 1 and 2 threads, next to the cost of a
 * bare MurmurHash3 of the same "<salt>:<unit>" keys (our inline copy and
 * libmurmurhash's lmmh_x86_32); the same through flag handles
 * (canary_enabled_ref), and canary_enabled() with a key the config does
 * not have (the unknown-key path). Exposure counting is on (the default).
 *
 *   build/tests/bench/bench_enabled [UNITS] [ROUNDS] [ONLY]
 *
 * ONLY, when given, runs one row on one thread and prints its CPU time
 * per call (the thread's clock: steady on a busy machine), also the way
 * to run one row under callgrind: "enabled-10", "enabled-10000",
 * "ref-10", "ref-10000", "unknown-10", "murmur3"; "error-10" is
 * canary_record_error(); "rolled-10" and "error-rolled-10" the same two
 * calls on flags under an active rollout (config state "running": the
 * SDK keeps sketches of their units, docs/events.md).
 */
#define _POSIX_C_SOURCE 200809L
#include <murmurhash.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "canary/canary.h"
#include "murmur3.h"

#define MAX_THREADS 2

static char **units;
static char **keys;     /* "<salt>:<unit>" for the bare-hash baseline */
static char **flags;
static canary_flag_ref **refs;
static size_t nunits, nflags;
static long rounds;

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static char *xstrdup(const char *s)
{
	char *p = strdup(s);

	if (!p) {
		perror("strdup");
		exit(1);
	}
	return p;
}

static bool rolled; /* the flags are under an active rollout */

static canary_client *make_client(size_t n)
{
	size_t cap = 64 + n * 96, len = 0, i;
	char *json = malloc(cap);
	canary_client *c;

	len += (size_t)snprintf(json + len, cap - len, "{\"version\":1,\"flags\":[");
	for (i = 0; i < n; i++)
		len += (size_t)snprintf(json + len, cap - len,
			"%s{\"key\":\"%s\",\"rollout_bp\":%zu%s}", i ? "," : "",
			flags[i], (i * 37) % 10001,
			rolled ? ",\"state\":\"running\"" : "");
	len += (size_t)snprintf(json + len, cap - len, "]}");
	if (canary_client_new(&c, NULL) != CANARY_OK ||
	    canary_client_set_config_json(c, json, len) != CANARY_OK) {
		fprintf(stderr, "config: %s\n", canary_error_last());
		exit(1);
	}
	free(json);
	for (i = 0; i < n; i++)
		if (!(refs[i] = canary_flag_ref_get(c, flags[i]))) {
			fprintf(stderr, "canary_flag_ref_get: %s\n",
				canary_error_last());
			exit(1);
		}
	return c;
}

struct job {
	canary_client *client;
	int kind;       /* 0 enabled, 1 inline murmur, 2 lmmh, 3 ref, 4 unknown,
	                   5 record_error */
	size_t offset;
	unsigned long sink;
};

static void *run_job(void *arg)
{
	struct job *j = arg;
	size_t i, n = (size_t)rounds;
	unsigned long sink = 0;

	for (i = 0; i < n; i++) {
		size_t u = (i + j->offset) % nunits;
		const char *flag = flags[(i * 7 + j->offset) % nflags];

		if (j->kind == 0) {
			sink += canary_enabled(j->client, flag, units[u]);
		} else if (j->kind == 3) {
			sink += canary_enabled_ref(j->client,
				refs[(i * 7 + j->offset) % nflags], units[u]);
		} else if (j->kind == 4) {
			sink += canary_enabled(j->client, "no-such-flag", units[u]);
		} else if (j->kind == 5) {
			sink += (unsigned long)canary_record_error(j->client, flag,
				units[u]);
		} else if (j->kind == 1) {
			sink += canary__murmur3_32(keys[u], strlen(keys[u]), 0);
		} else {
			uint32_t h;

			lmmh_x86_32(keys[u], (unsigned)strlen(keys[u]), 0, &h);
			sink += h;
		}
	}
	j->sink = sink;
	return NULL;
}

/* Run `threads` copies of a job; returns ns per call (wall clock) and the
 * total throughput in calls per second. */
static double measure(canary_client *c, int kind, int threads, double *per_sec)
{
	pthread_t tid[MAX_THREADS];
	struct job jobs[MAX_THREADS];
	double t0, t1;
	int i;

	t0 = now_ns();
	for (i = 0; i < threads; i++) {
		jobs[i].client = c;
		jobs[i].kind = kind;
		jobs[i].offset = (size_t)i * (nunits / 2 + 1);
		pthread_create(&tid[i], NULL, run_job, &jobs[i]);
	}
	for (i = 0; i < threads; i++)
		pthread_join(tid[i], NULL);
	t1 = now_ns();
	*per_sec = (double)rounds * threads / ((t1 - t0) / 1e9);
	return (t1 - t0) / (double)rounds;
}

/* One row on one thread (for callgrind: instruction counts). */
static double cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int run_only(const char *what)
{
	struct job j;
	canary_client *c = NULL;
	double t0;
	int kind;

	if (strcmp(what, "murmur3") == 0) {
		kind = 1;
		nflags = 10;
	} else if (sscanf(what, "enabled-%zu", &nflags) == 1) {
		kind = 0;
	} else if (sscanf(what, "ref-%zu", &nflags) == 1) {
		kind = 3;
	} else if (sscanf(what, "unknown-%zu", &nflags) == 1) {
		kind = 4;
	} else if (sscanf(what, "rolled-%zu", &nflags) == 1) {
		kind = 0;
		rolled = true;
	} else if (sscanf(what, "error-rolled-%zu", &nflags) == 1) {
		kind = 5;
		rolled = true;
	} else if (sscanf(what, "error-%zu", &nflags) == 1) {
		kind = 5;
	} else {
		fprintf(stderr, "bench_enabled: unknown row %s\n", what);
		return 2;
	}
	if (nflags < 1 || nflags > 10000)
		return 2;
	if (kind != 1)
		c = make_client(nflags);
	memset(&j, 0, sizeof(j));
	j.client = c;
	j.kind = kind;
	t0 = cpu_ns();
	run_job(&j);
	printf("%s: %ld calls, %.1f ns/call of CPU time (sink %lu)\n", what,
		rounds, (cpu_ns() - t0) / (double)rounds, j.sink);
	canary_client_free(c);
	return 0;
}

int main(int argc, char **argv)
{
	static const size_t flag_counts[] = { 10, 1000, 10000 };
	static const char *const kind_names[] = {
		"canary_enabled", "", "", "canary_enabled_ref", "enabled, unknown key"
	};
	static const int kinds[] = { 0, 3 };
	char buf[64];
	size_t i, f, k;

	nunits = argc > 1 ? (size_t)atol(argv[1]) : 1000000;
	rounds = argc > 2 ? atol(argv[2]) : 10000000;
	units = calloc(nunits, sizeof(char *));
	keys = calloc(nunits, sizeof(char *));
	flags = calloc(10000, sizeof(char *));
	refs = calloc(10000, sizeof(*refs));
	for (i = 0; i < 10000; i++) {
		snprintf(buf, sizeof(buf), "flag-%04zu-checkout", i);
		flags[i] = xstrdup(buf);
	}
	for (i = 0; i < nunits; i++) {
		snprintf(buf, sizeof(buf), "user-%zu", i * 2654435761u % 100000000u);
		units[i] = xstrdup(buf);
		snprintf(buf, sizeof(buf), "%s:%s", flags[i % 10], units[i]);
		keys[i] = xstrdup(buf);
	}
	if (argc > 3)
		return run_only(argv[3]);
	printf("libcanary %s: %zu distinct units, %ld calls per thread\n\n",
		canary_version(), nunits, rounds);
	printf("%-32s %8s %10s %14s\n", "what", "threads", "ns/call", "calls/s total");
	for (f = 0; f < sizeof(flag_counts) / sizeof(flag_counts[0]); f++) {
		canary_client *c;
		int t;

		nflags = flag_counts[f];
		c = make_client(nflags);
		for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
			for (t = 1; t <= MAX_THREADS; t++) {
				double rate, ns = measure(c, kinds[k], t, &rate);

				snprintf(buf, sizeof(buf), "%s, %zu flags",
					kind_names[kinds[k]], nflags);
				printf("%-32s %8d %10.1f %14.3g\n", buf, t, ns,
					rate);
			}
		if (nflags == 10) {
			double rate, ns = measure(c, 4, 1, &rate);

			printf("%-32s %8d %10.1f %14.3g\n", kind_names[4], 1,
				ns, rate);
		}
		canary_client_free(c);
	}
	nflags = 10;
	for (i = 1; i <= 2; i++) {
		int t;

		for (t = 1; t <= MAX_THREADS; t++) {
			double rate, ns = measure(NULL, (int)i, t, &rate);

			printf("%-32s %8d %10.1f %14.3g\n",
				i == 1 ? "bare murmur3 (inline)" : "bare lmmh_x86_32",
				t, ns, rate);
		}
	}
	return 0;
}
