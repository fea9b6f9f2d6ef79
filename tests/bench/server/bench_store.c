/*
 * bench_store.c - does the controller's aggregation stay fast as the
 * windows table grows? Fills a store (any backend, through the storage
 * interface) with 10-second windows of 50 flags, both arms, a new config
 * version every simulated hour, and after 10,000, 100,000 and 1,000,000
 * stored windows times two reads of one flag:
 *   - its current step (the windows at the latest config version: what the
 *     controller sums every interval),
 *   - its whole history (what an operator's stats without filter sums).
 * Prints the median of 20 reads of each, and the ingest rate while
 * filling. Asserts nothing: the figures go to docs/benchmarks.md.
 *
 *   bench_store [--db LOCATION] [--rows N]
 *
 * LOCATION is an empty database (a PostgreSQL URL); default: a SQLite
 * file in a temporary directory.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store/storage.h"

#define FLAGS 50
#define WINDOW_MS 10000ull
#define HOUR_WINDOWS 360
#define READS 20
#define BASE_MS 1764000000000ull

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char names[FLAGS][16];
static canary__hist_entry bins[] = { { 200, 5 }, { 220, 300 }, { 230, 400 },
	{ 240, 200 }, { 300, 10 } };

/* One server window of every flag and arm: FLAGS * 2 stored windows. */
static int ingest_round(cs_store *s, unsigned long round)
{
	canary__ev_window w[FLAGS * 2];
	canary__ev_batch b;
	bool dup = false;
	int i;

	memset(&b, 0, sizeof(b));
	memset(w, 0, sizeof(w));
	snprintf(b.batch_id, sizeof(b.batch_id), "%032lx", round + 1);
	snprintf(b.instance_id, sizeof(b.instance_id), "bench");
	snprintf(b.sdk_version, sizeof(b.sdk_version), "bench");
	b.windows = w;
	b.count = FLAGS * 2;
	for (i = 0; i < FLAGS * 2; i++) {
		snprintf(w[i].flag, sizeof(w[i].flag), "%s", names[i / 2]);
		w[i].arm = i % 2 ? CANARY_ARM_CANARY : CANARY_ARM_STABLE;
		w[i].config_version = 1 + round / HOUR_WINDOWS;
		w[i].exposures = 1000;
		w[i].errors = 3;
		w[i].bins = bins;
		w[i].nbins = sizeof(bins) / sizeof(bins[0]);
	}
	return cs_store_ingest(s, &b, BASE_MS + round * WINDOW_MS, WINDOW_MS,
		&dup);
}

static int by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Median ms of READS sums of flag-0 under `f`; `windows` gets the count. */
static double time_reads(cs_store *s, const cs_stats_filter *f,
	uint64_t *windows)
{
	cs_arm_stats *arms = calloc(CANARY__ARMS, sizeof(*arms));
	double ms[READS];
	int i;

	for (i = 0; arms && i < READS; i++) {
		double t0 = now_s();

		if (cs_store_stats(s, names[0], f, arms) != CANARY_OK) {
			free(arms);
			return -1;
		}
		ms[i] = (now_s() - t0) * 1000;
	}
	*windows = arms ? arms[0].windows + arms[1].windows : 0;
	free(arms);
	qsort(ms, READS, sizeof(ms[0]), by_value);
	return ms[READS / 2];
}

static void report(cs_store *s, unsigned long rounds, double fill_s,
	unsigned long filled)
{
	cs_stats_filter step, all;
	uint64_t nstep = 0, nall = 0;
	double t_step, t_all;

	memset(&step, 0, sizeof(step));
	step.min_config_version = 1 + (rounds - 1) / HOUR_WINDOWS;
	memset(&all, 0, sizeof(all));
	t_step = time_reads(s, &step, &nstep);
	t_all = time_reads(s, &all, &nall);
	printf("%9lu windows stored (%.0f windows/s filling): current step "
		"%.2f ms (%llu windows), whole history %.2f ms (%llu windows)\n",
		rounds * FLAGS * 2, (double)filled * FLAGS * 2 / fill_s, t_step,
		(unsigned long long)nstep, t_all, (unsigned long long)nall);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	char dir[] = "/tmp/canary-bench-store-XXXXXX", path[300], err[256] = "";
	unsigned long max_rows = 1000000, rounds = 0, target, from;
	cs_store_options o;
	cs_store *s = NULL;
	int i;

	memset(&o, 0, sizeof(o));
	for (i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--db") == 0)
			o.location = argv[i + 1];
		else if (strcmp(argv[i], "--rows") == 0)
			max_rows = strtoul(argv[i + 1], NULL, 10);
		else
			break;
	}
	if (i != argc || max_rows < 10000 || !mkdtemp(dir)) {
		fprintf(stderr, "usage: bench_store [--db LOCATION] "
			"[--rows N >= 10000]\n");
		return 2;
	}
	snprintf(path, sizeof(path), "%s/store.db", dir);
	if (!o.location)
		o.location = path;
	if (cs_store_open(&s, &o, err, sizeof(err)) != CANARY_OK) {
		fprintf(stderr, "bench_store: %s\n", err);
		return 1;
	}
	for (i = 0; i < FLAGS; i++)
		snprintf(names[i], sizeof(names[i]), "flag-%d", i);
	printf("bench_store on %s: %d flags x 2 arms per 10 s window, a new "
		"config version every hour\n", cs_store_backend_name(s), FLAGS);
	for (target = 10000; target <= max_rows; target *= 10) {
		double t0 = now_s();

		from = rounds;
		while (rounds * FLAGS * 2 < target)
			if (ingest_round(s, rounds++) != CANARY_OK) {
				fprintf(stderr, "bench_store: ingest failed\n");
				cs_store_close(s);
				return 1;
			}
		report(s, rounds, now_s() - t0, rounds - from);
	}
	cs_store_close(s);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	return system(path) == 0 ? 0 : 1;
}
