/*
 * bench_peers.c - per-evaluation cost and allocations of libcanary next
 * to other C and C++ feature-flag SDKs, on one workload: 1,000 boolean
 * flags "flag-<k>", each on for 5% of users by the SDK's own percentage
 * rollout on the user key; 1,000,000 distinct users "user-<n>"; call i
 * asks flag i % 1000 for user i. Each SDK holds the flags in memory the
 * way it does after a download (how each is fed: the "fed" column and
 * docs/benchmarks.md), and is asked through its ordinary API with what a
 * caller holding a user id has: for the SDKs that want a user or context
 * object, building it is part of the call.
 *
 * Per SDK: load, one warm-up pass, PASSES timed passes of 1M calls (wall
 * clock and the thread's CPU time; the median pass), then the allocations
 * of 200,000 calls after 1,000 more (malloc_count.c). A peer is built in
 * only when its install prefix was given at configure time
 * (tests/bench/peers/CMakeLists.txt); the others are listed as skipped.
 *
 *   bench_peers [PASSES] [SDK]
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench_peers.h"

#define NFLAGS 1000
#define NUSERS 1000000
#define ALLOC_CALLS 200000
#define MAX_PASSES 15

static char *flag_keys[NFLAGS];
static char *users[NUSERS];

static const bench_peer *const peers[] = {
	&bench_peer_libcanary,
	&bench_peer_libcanary_ref,
	&bench_peer_libcanary_noexp,
#ifdef BENCH_HAVE_UNLEASH
	&bench_peer_unleash,
#endif
#ifdef BENCH_HAVE_LD_C
	&bench_peer_ld_c,
#endif
#ifdef BENCH_HAVE_CONFIGCAT
	&bench_peer_configcat,
#endif
#ifdef BENCH_HAVE_LD_CPP
	&bench_peer_ld_cpp,
#endif
};

static const char *const skipped[] = {
#ifndef BENCH_HAVE_UNLEASH
	"unleash (CANARY_PEER_UNLEASH)",
#endif
#ifndef BENCH_HAVE_LD_C
	"ld-c (CANARY_PEER_LD_C)",
#endif
#ifndef BENCH_HAVE_CONFIGCAT
	"configcat (CANARY_PEER_CONFIGCAT)",
#endif
#ifndef BENCH_HAVE_LD_CPP
	"ld-cpp (CANARY_PEER_LD_CPP)",
#endif
	NULL
};

static double clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int compare(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

typedef struct result {
	double wall_ns, cpu_ns, load_ms, share;
	double allocs, bytes;
} result;

/* One pass over every user; returns how many answers were "on". */
static unsigned long pass(const bench_peer *p)
{
	unsigned long on = 0;
	size_t i;

	for (i = 0; i < NUSERS; i++)
		on += p->eval(i % NFLAGS, flag_keys[i % NFLAGS], users[i]);
	return on;
}

static int measure(const bench_peer *p, const char *dir, int passes,
	result *r)
{
	double wall[MAX_PASSES], cpu[MAX_PASSES], t0;
	unsigned long on = 0, calls, bytes;
	char err[512];
	size_t i;
	int k;

	t0 = clock_ns(CLOCK_MONOTONIC);
	if (p->setup(NFLAGS, dir, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s: %s\n", p->name, err);
		return -1;
	}
	r->load_ms = (clock_ns(CLOCK_MONOTONIC) - t0) / 1e6;
	pass(p);
	for (k = 0; k < passes; k++) {
		double w = clock_ns(CLOCK_MONOTONIC);
		double c = clock_ns(CLOCK_THREAD_CPUTIME_ID);

		on = pass(p);
		wall[k] = (clock_ns(CLOCK_MONOTONIC) - w) / NUSERS;
		cpu[k] = (clock_ns(CLOCK_THREAD_CPUTIME_ID) - c) / NUSERS;
	}
	qsort(wall, (size_t)passes, sizeof(double), compare);
	qsort(cpu, (size_t)passes, sizeof(double), compare);
	r->wall_ns = wall[passes / 2];
	r->cpu_ns = cpu[passes / 2];
	r->share = (double)on / NUSERS;
	for (i = 0; i < 1000; i++)
		p->eval(i % NFLAGS, flag_keys[i % NFLAGS], users[i]);
	bench_count_allocs(true);
	for (i = 0; i < ALLOC_CALLS; i++)
		p->eval(i % NFLAGS, flag_keys[i % NFLAGS], users[i]);
	bench_count_allocs(false);
	bench_allocs(&calls, &bytes);
	r->allocs = (double)calls / ALLOC_CALLS;
	r->bytes = (double)bytes / ALLOC_CALLS;
	p->teardown();
	return 0;
}

static void make_inputs(void)
{
	char buf[32];
	size_t i;

	for (i = 0; i < NFLAGS; i++) {
		snprintf(buf, sizeof(buf), "flag-%zu", i);
		flag_keys[i] = strdup(buf);
	}
	for (i = 0; i < NUSERS; i++) {
		snprintf(buf, sizeof(buf), "user-%zu", i);
		users[i] = strdup(buf);
	}
}

int main(int argc, char **argv)
{
	int passes = argc > 1 ? atoi(argv[1]) : 3;
	const char *only = argc > 2 ? argv[2] : NULL;
	char dir[] = "/tmp/canary-bench-peers-XXXXXX";
	double base_cpu = 0;
	size_t i;

	if (passes < 1 || passes > MAX_PASSES) {
		fprintf(stderr, "usage: %s [PASSES 1..%d] [SDK]\n", argv[0],
			MAX_PASSES);
		return 2;
	}
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	make_inputs();
	printf("%d flags (%d%% rollouts), %d users, %d passes; median pass\n\n",
		NFLAGS, BENCH_PERCENT, NUSERS, passes);
	printf("%-18s %12s %11s %11s %11s %10s %8s %9s  %s\n", "sdk",
		"wall ns/eval", "cpu ns/eval", "x libcanary", "allocs/eval",
		"bytes/eval", "share on", "load ms", "fed");
	for (i = 0; i < sizeof(peers) / sizeof(peers[0]); i++) {
		const bench_peer *p = peers[i];
		result r;

		if (only && strcmp(only, p->name) != 0)
			continue;
		if (measure(p, dir, passes, &r) != 0)
			continue;
		if (p == &bench_peer_libcanary)
			base_cpu = r.cpu_ns;
		printf("%-18s %12.1f %11.1f %10.1fx %11.2f %10.0f %7.2f%% %9.1f  %s\n",
			p->name, r.wall_ns, r.cpu_ns,
			base_cpu > 0 ? r.cpu_ns / base_cpu : 0, r.allocs, r.bytes,
			100 * r.share, r.load_ms, p->fed);
		fflush(stdout);
	}
	for (i = 0; skipped[i]; i++)
		printf("skipped (not found at configure time): %s\n", skipped[i]);
	rmdir(dir);
	return 0;
}
