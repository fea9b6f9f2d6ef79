/*
 * bench_datapath.c - data path timings (printed, never asserted):
 *  1. cold start: canary_client_new() on a cache holding N flags, to the
 *     first correct evaluation (the cache is read before any network I/O;
 *     the client here has no server, so nothing else runs), once with the
 *     binary form the worker caches beside the JSON, once from JSON alone
 *     (a file written by an older libcanary);
 *  2. applying an N-flag config: parse, validate, index, swap
 *     (canary_client_set_config_json).
 * Usage: bench_datapath [FLAGS] [RUNS]   (defaults 10000, 30)
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "canary/canary.h"
#include "config.h"
#include "config_blob.h"
#include "store.h"

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static char *config_json(unsigned flags, unsigned version, size_t *len)
{
	size_t cap = (size_t)flags * 160 + 64, n;
	char *s = malloc(cap);
	unsigned i;

	n = (size_t)sprintf(s, "{\"version\": %u, \"flags\": [", version);
	for (i = 0; i < flags; i++)
		n += (size_t)sprintf(s + n, "%s{\"key\": \"flag-%u\", \"salt\": \"s%u\","
			" \"rollout_bp\": %u, \"variants\": {\"stable\": \"a\","
			" \"canary\": \"b\"}, \"allow\": [\"vip-%u\"]}",
			i ? ", " : "", i, i, (i * 37) % 10001, i);
	n += (size_t)sprintf(s + n, "]}");
	*len = n;
	return s;
}

/* Write the cache as the worker does: JSON and (`blob`) its binary form. */
static int cache(const char *path, const char *json, size_t len, bool blob)
{
	canary__config *config = NULL;
	canary__store *store;
	unsigned char *bin = NULL;
	size_t bin_len = 0;
	char note[512];
	canary__perror e;
	int rc;

	if (canary__config_parse(canary__alloc_default(), json, len, &config,
	    &e) != 0 ||
	    (blob && canary__config_blob_encode(canary__alloc_default(), config,
	    &bin, &bin_len) != 0))
		return 1;
	rc = canary__store_open(&store, canary__alloc_default(), path, NULL,
		note, sizeof(note));
	if (rc == 0)
		rc = canary__store_save_parsed(store, 1, "\"e1\"", 0, json, len,
			bin, bin_len);
	canary__store_close(store);
	canary__config_free(canary__alloc_default(), config);
	canary__free(canary__alloc_default(), bin);
	return rc;
}

static int cold_start(const char *path, double *t, int runs)
{
	canary_options o;
	canary_client *c;
	int i;

	for (i = 0; i < runs; i++) {
		canary_details d = CANARY_DETAILS_INIT;
		double t0 = now_ms();

		canary_options_init(&o, CANARY_OPTIONS_VERSION);
		o.cache_path = path;
		if (canary_client_new(&c, &o) != 0)
			return 1;
		canary_evaluate(c, "flag-7", "vip-7", &d);
		t[i] = now_ms() - t0;
		if (d.arm != CANARY_ARM_CANARY || d.config_version != 1)
			return 2; /* not the right answer: the number means nothing */
		canary_client_free(c);
	}
	return 0;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void report(const char *what, double *t, int runs)
{
	qsort(t, (size_t)runs, sizeof(*t), cmp);
	printf("%-44s median %8.3f ms   p90 %8.3f ms   min %8.3f ms\n", what,
		t[runs / 2], t[runs * 9 / 10], t[0]);
}

int main(int argc, char **argv)
{
	unsigned flags = argc > 1 ? (unsigned)atoi(argv[1]) : 10000;
	int runs = argc > 2 ? atoi(argv[2]) : 30, i;
	char dir[] = "/tmp/canary-bench-XXXXXX", path[64];
	double *t = calloc((size_t)runs, sizeof(double));
	canary_options o;
	canary_client *c;
	size_t len;
	char *json = config_json(flags, 1, &len);

	if (!mkdtemp(dir))
		return 1;
	snprintf(path, sizeof(path), "%s/cache.db", dir);
	if (cache(path, json, len, true) != 0)
		return 1;
	printf("config: %u flags, %zu bytes of JSON\n", flags, len);
	if (cold_start(path, t, runs) != 0)
		return 2;
	report("cold start from cache to first evaluation", t, runs);
	if (cache(path, json, len, false) != 0 || cold_start(path, t, runs) != 0)
		return 2;
	report("  the same, JSON only (older cache file)", t, runs);

	canary_options_init(&o, CANARY_OPTIONS_VERSION);
	canary_options_init(&o, CANARY_OPTIONS_VERSION);
	if (canary_client_new(&c, &o) != 0)
		return 1;
	for (i = 0; i < runs; i++) {
		char *next = config_json(flags, (unsigned)i + 2, &len);
		double t0 = now_ms();

		if (canary_client_set_config_json(c, next, len) != 0)
			return 1;
		t[i] = now_ms() - t0;
		free(next);
	}
	report("apply a config (parse, index, swap)", t, runs);
	canary_client_free(c);

	unlink(path);
	rmdir(dir);
	free(json);
	free(t);
	return 0;
}
