/*
 * bench_constraints.c - what targeting costs.
 *
 * 1. ns per canary_enabled_ctx() of a flag with 3 constraints (SEMVER_GTE,
 *    an IN list of 20, STR_STARTS_WITH), all of which match (so all three
 *    run), next to a plain canary_enabled() call, canary_enabled_ctx() of
 *    a plain flag and a bare bucket hash, over 100,000 distinct units with
 *    varied attributes; allocations counted. RULES keeps some of the
 *    three (e.g. "semver"), to see what each costs; with "excluded" the
 *    versions fail SEMVER_GTE (e.g. "semver,in,prefix,excluded"); with
 *    "exposures" every call counts its exposure, as canary_enabled()
 *    does by default (otherwise counting is off, evaluation alone).
 * 2. Time to load (read + compile) a 10,000-feature Unleash features
 *    document shaped like a real one, wall and CPU time, with the phases
 *    apart, next to the same compile from a cJSON tree.
 *
 *   build/tests/bench/bench_constraints [CALLS] [FEATURES] [RULES]
 */
#define _POSIX_C_SOURCE 200809L
#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bucket.h"
#include "json_arena.h"
#include "canary/canary.h"
#include "unleash.h"
#include "../support/test_alloc.h"

#define UNITS 100000

/* The evaluations are timed in the thread's CPU time: on a shared
 * machine the time the thread waited for a core is not the calls' cost. */
static double cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* The 3 constraints, as entries of a flag's "constraints" in our own
 * config; RULES (argument 3, default "semver,in,prefix") picks which. */
#define SEMVER_RULE \
	"{\"contextName\": \"firmware\", \"operator\": \"SEMVER_GTE\", \"value\": \"2.3.0\"}"
#define IN_RULE \
	"{\"contextName\": \"region\", \"operator\": \"IN\", \"values\": [" \
	" \"eu-west-1\", \"eu-west-2\", \"eu-west-3\", \"eu-central-1\", \"eu-central-2\"," \
	" \"eu-north-1\", \"eu-south-1\", \"eu-south-2\", \"us-east-1\", \"us-east-2\"," \
	" \"us-west-1\", \"us-west-2\", \"ca-central-1\", \"sa-east-1\", \"ap-south-1\"," \
	" \"ap-south-2\", \"ap-east-1\", \"ap-northeast-1\", \"ap-northeast-2\", \"me-south-1\"]}"
#define PREFIX_RULE \
	"{\"contextName\": \"model\", \"operator\": \"STR_STARTS_WITH\", \"values\": [\"hw-rev-b\"]}"

static const char *const firmwares[] = { "2.3.0", "2.3.1", "2.4.0-rc.2",
	"2.10.7", "3.0.0", "2.3.5+build.77", "2.9.12", "4.1.0" };
/* RULES with "excluded": versions below 2.3.0, so that SEMVER_GTE, the
 * first rule, excludes every unit (what an excluded unit costs). */
static const char *const old_firmwares[] = { "2.2.0", "2.2.1",
	"2.2.0-rc.2", "1.10.7", "1.0.0", "2.2.5+build.77", "2.0.12", "0.1.0" };
static const char *const *versions = firmwares;
static const char *const regions[] = { "eu-west-1", "eu-central-1",
	"us-east-2", "ap-south-1", "me-south-1", "eu-north-1", "sa-east-1",
	"us-west-2" };
static const char *const models[] = { "hw-rev-b", "hw-rev-b2", "hw-rev-b-eu",
	"hw-rev-b7" };

static char *units[UNITS];

/* "new-checkout" plain, "targeted" the same with the constraints `rules`
 * names (comma-separated: semver, in, prefix). */
static canary_client *make_client(const canary_allocator *a, const char *rules)
{
	static const char *const names[] = { "semver", "in", "prefix" };
	static const char *const json_of[] = { SEMVER_RULE, IN_RULE, PREFIX_RULE };
	char json[4096];
	size_t at = 0;
	canary_options opts;
	canary_client *c;
	int i, n = 0;

	at += (size_t)snprintf(json + at, sizeof(json) - at,
		"{\"version\": 1, \"flags\": ["
		"{\"key\": \"new-checkout\", \"rollout_bp\": 2500},"
		"{\"key\": \"targeted\", \"rollout_bp\": 2500, \"constraints\": [");
	for (i = 0; i < 3; i++)
		if (strstr(rules, names[i]))
			at += (size_t)snprintf(json + at, sizeof(json) - at, "%s%s",
				n++ ? "," : "", json_of[i]);
	snprintf(json + at, sizeof(json) - at,
		"]}, {\"key\": \"other\", \"rollout_bp\": 100}]}");
	canary_options_init(&opts, CANARY_OPTIONS_VERSION);
	opts.allocator = *a;
	opts.no_exposures = strstr(rules, "exposures") == NULL;
	if (n == 0 || canary_client_new(&c, &opts) != CANARY_OK ||
	    canary_client_set_config_json(c, json, strlen(json)) != CANARY_OK) {
		fprintf(stderr, "client: %s\n", n ? canary_error_last() :
			"RULES names none of semver, in, prefix");
		exit(1);
	}
	return c;
}

/* What one timed loop evaluates. */
enum kind { PLAIN, HASH, CTX_PLAIN, CTX_RULES, KINDS };

static const char *const kind_names[KINDS] = {
	"canary_enabled, plain flag",
	"bare bucket hash of the unit",
	"canary_enabled_ctx, plain flag",
	"canary_enabled_ctx, flag with constraints"
};

typedef struct setup {
	canary_client *client;
	canary__murmur3 prefix;
	canary_attribute attrs[4];
	canary_context ctx;
	unsigned long sink;
} setup;

/* Unit i: its id and attributes, all of them passing the 3 rules (unless
 * "excluded"). The names stay, so the context's cache of their positions
 * stays valid. */
static void vary(setup *s, long i)
{
	s->ctx.unit = units[i % UNITS];
	s->attrs[1].value = versions[i % 8];
	s->attrs[2].value = regions[(i / 8) % 8];
	s->attrs[3].value = models[(i / 64) % 4];
}

/* ns per call of one kind of evaluation. */
static double run(setup *s, enum kind k, long calls)
{
	double t0 = cpu_ns();
	long i;

	for (i = 0; i < calls; i++) {
		const char *u = units[i % UNITS];

		switch (k) {
		case PLAIN:
			s->sink += canary_enabled(s->client, "new-checkout", u);
			break;
		case HASH:
			s->sink += canary__bucket_unit(&s->prefix, u, strlen(u)) < 2500;
			break;
		case CTX_PLAIN:
			vary(s, i);
			s->sink += canary_enabled_ctx(s->client, "new-checkout",
				&s->ctx);
			break;
		default:
			vary(s, i);
			s->sink += canary_enabled_ctx(s->client, "targeted", &s->ctx);
			break;
		}
	}
	return (cpu_ns() - t0) / (double)calls;
}

static void bench_rules(long calls, const char *rules)
{
	test_alloc t = { 0 };
	canary_allocator hooks = test_alloc_hooks(&t);
	canary_details d = CANARY_DETAILS_INIT;
	double best[KINDS];
	setup s;
	int round, k;

	memset(&s, 0, sizeof(s));
	s.client = make_client(&hooks, rules);
	canary__bucket_prefix(&s.prefix, "new-checkout", 12);
	canary_context_init(&s.ctx, CANARY_CONTEXT_VERSION);
	s.attrs[0].name = "app";
	s.attrs[0].value = "shop";
	s.attrs[1].name = "firmware";
	s.attrs[2].name = "region";
	s.attrs[3].name = "model";
	s.ctx.attrs = s.attrs;
	s.ctx.attr_count = 4;
	vary(&s, 0);
	canary_evaluate_ctx(s.client, "targeted", &s.ctx, 0, &d);
	if (d.reason != (versions == firmwares ? CANARY_REASON_SPLIT :
	    CANARY_REASON_INELIGIBLE)) {
		fprintf(stderr, "the rules decided otherwise: %s\n",
			canary_reason_name(d.reason));
		exit(1);
	}
	t.allocations = 0;
	/* Five interleaved rounds, the fastest of each kind: on a shared
	 * machine the minimum is the figure least disturbed by others. */
	for (round = 0; round < 5; round++)
		for (k = 0; k < KINDS; k++) {
			double ns = run(&s, (enum kind)k, calls / 5);

			if (round == 0 || ns < best[k])
				best[k] = ns;
		}
	printf("flag with constraints: %s (semver = SEMVER_GTE, in = IN of 20, "
		"prefix = STR_STARTS_WITH), %ld calls per kind, best of 5 rounds, "
		"CPU time, exposures %s\n", rules, calls,
		strstr(rules, "exposures") ? "counted" : "not counted");
	for (k = 0; k < KINDS; k++)
		printf("  %-44s %7.1f ns\n", kind_names[k], best[k]);
	printf("  %-44s %7.2fx\n", "constraints (ctx) / plain canary_enabled",
		best[CTX_RULES] / best[PLAIN]);
	printf("  allocations while evaluating: %zu   (sink %lu)\n\n",
		t.allocations, s.sink);
	canary_client_free(s.client);
}

/* A features document like an Unleash server's: flexibleRollout with
 * constraints, a quarter with variants, a tenth using segments. */
static char *make_document(int n, size_t *len)
{
	size_t cap = (size_t)n * 1400 + 65536, at = 0;
	char *s = malloc(cap);
	int i;

	at += (size_t)sprintf(s + at, "{\"version\": 2, \"segments\": [");
	for (i = 0; i < 50; i++)
		at += (size_t)sprintf(s + at, "%s{\"id\": %d, \"name\": \"seg-%d\","
			" \"constraints\": [{\"contextName\": \"region\", \"operator\": \"IN\","
			" \"values\": [\"eu-%d\", \"us-%d\"], \"inverted\": false,"
			" \"caseInsensitive\": false}]}", i ? "," : "", i + 1, i, i, i);
	at += (size_t)sprintf(s + at, "], \"features\": [");
	for (i = 0; i < n; i++) {
		at += (size_t)sprintf(s + at, "%s{\"name\": \"team-%d.feature-%d\","
			" \"description\": \"Rolls out the new thing number %d\","
			" \"type\": \"release\", \"project\": \"default\", \"stale\": false,"
			" \"impressionData\": false, \"enabled\": %s, \"strategies\": [{"
			"\"name\": \"flexibleRollout\", \"parameters\": {\"rollout\": \"%d\","
			" \"stickiness\": \"default\", \"groupId\": \"team-%d.feature-%d\"},"
			" \"constraints\": [{\"contextName\": \"appName\", \"operator\": \"IN\","
			" \"values\": [\"web\", \"ios\", \"android\", \"edge\", \"kiosk\"],"
			" \"inverted\": false, \"caseInsensitive\": false},"
			" {\"contextName\": \"version\", \"operator\": \"SEMVER_GTE\","
			" \"value\": \"2.%d.0\", \"inverted\": false, \"caseInsensitive\": false}],"
			" \"segments\": [%s], \"variants\": []}]",
			i ? "," : "", i / 100, i, i, i % 7 ? "true" : "false", i % 101,
			i / 100, i, i % 20, i % 10 ? "" : "7");
		if (i % 4 == 0)
			at += (size_t)sprintf(s + at, ", \"variants\": [{\"name\": \"blue\","
				" \"weight\": 500, \"weightType\": \"variable\", \"stickiness\": \"default\","
				" \"payload\": {\"type\": \"string\", \"value\": \"b\"}, \"overrides\": []},"
				" {\"name\": \"green\", \"weight\": 500, \"weightType\": \"variable\","
				" \"stickiness\": \"default\", \"overrides\": []}]");
		at += (size_t)sprintf(s + at, ", \"dependencies\": []}");
	}
	at += (size_t)sprintf(s + at, "]}");
	*len = at;
	return s;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Wall and CPU clocks, ms: CPU time is comparable on a loaded machine. */
typedef struct stamp {
	double wall, cpu;
} stamp;

static stamp now_ms(void)
{
	struct timespec ts;
	stamp s;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	s.wall = (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	s.cpu = (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
	return s;
}

#define ROUNDS 6

/* One figure over the rounds: wall and CPU ms per round. */
typedef struct figure {
	double wall[ROUNDS], cpu[ROUNDS];
} figure;

static void record(figure *f, int round, stamp a, stamp b)
{
	f->wall[round] = b.wall - a.wall;
	f->cpu[round] = b.cpu - a.cpu;
}

static double median(const double *v)
{
	double s[ROUNDS];

	memcpy(s, v, sizeof(s));
	qsort(s, ROUNDS, sizeof(double), cmp_double);
	return (s[ROUNDS / 2 - 1] + s[ROUNDS / 2]) / 2;
}

static double least(const double *v)
{
	double m = v[0];
	int i;

	for (i = 1; i < ROUNDS; i++)
		m = v[i] < m ? v[i] : m;
	return m;
}

static void print_figure(const char *what, const figure *f, bool min)
{
	printf("  %-40s %6.1f ms", what, median(f->wall));
	if (min)
		printf(" (min %.1f)", least(f->wall));
	printf("   CPU %6.1f ms", median(f->cpu));
	if (min)
		printf(" (min %.1f)", least(f->cpu));
	printf("\n");
}

static void fail_load(canary__perror *e)
{
	char err[CANARY__PERR_TEXT];

	fprintf(stderr, "load: %s\n", canary__perror_format(e, err,
		sizeof(err)));
	exit(1);
}

/* The loader (canary__unleash_compile), as a config source calls it. */
static void time_loader(const char *doc, size_t len, int n, figure *f,
	int round)
{
	canary__unleash_model *m = NULL;
	canary__perror e;
	stamp t0 = now_ms(), t1;

	if (canary__unleash_compile(NULL, doc, len, NULL, &m, &e) != CANARY_OK)
		fail_load(&e);
	t1 = now_ms();
	if (canary__unleash_feature_count(m) != (uint32_t)n)
		exit(1);
	record(f, round, t0, t1);
	canary__unleash_free(m);
}

/* The whole document as one tree in an arena (the loader builds one
 * feature at a time): read, compile, free the tree. */
static void time_phases(const char *doc, size_t len, figure *whole,
	figure f[3], int round)
{
	canary__unleash_model *m = NULL;
	canary__json_reader r;
	canary__arena tree;
	const cJSON *root;
	canary__perror e;
	stamp t[4];

	canary__json_reader_init(&r, 0, &e);
	canary__arena_init(&tree, NULL);
	t[0] = now_ms();
	if (canary__json_parse_arena(&r, &tree, doc, len, len, "document",
	    NULL, &root) != CANARY_OK)
		fail_load(&e);
	t[1] = now_ms();
	if (canary__unleash_compile_tree(NULL, root, NULL, &m, &e) != CANARY_OK)
		fail_load(&e);
	t[2] = now_ms();
	canary__arena_free(&tree);
	t[3] = now_ms();
	record(whole, round, t[0], t[3]);
	record(&f[0], round, t[0], t[1]);
	record(&f[1], round, t[1], t[2]);
	record(&f[2], round, t[2], t[3]);
	canary__unleash_free(m);
}

/* The same compile from cJSON's tree: what the loader did before. */
static void time_cjson(const char *doc, size_t len, figure f[4], int round)
{
	canary__unleash_model *m = NULL;
	canary__perror e;
	cJSON *root;
	stamp t[4];

	t[0] = now_ms();
	root = cJSON_ParseWithLength(doc, len);
	t[1] = now_ms();
	if (!root || canary__unleash_compile_tree(NULL, root, NULL, &m, &e) !=
	    CANARY_OK)
		exit(1);
	t[2] = now_ms();
	cJSON_Delete(root);
	t[3] = now_ms();
	record(&f[0], round, t[0], t[3]);
	record(&f[1], round, t[0], t[1]);
	record(&f[2], round, t[1], t[2]);
	record(&f[3], round, t[2], t[3]);
	canary__unleash_free(m);
}

/* The first load of the process, then ROUNDS interleaved rounds of the
 * loader, its phases and the cJSON way, medians. The previous model is
 * freed outside the timing (a client frees the old snapshot later, on
 * its worker). */
static void bench_load(int n)
{
	figure load, whole, phases[3], cjson[4], first;
	size_t len;
	char *doc = make_document(n, &len);
	int r;

	time_loader(doc, len, n, &first, 0);
	for (r = 0; r < ROUNDS; r++) {
		time_loader(doc, len, n, &load, r);
		time_phases(doc, len, &whole, phases, r);
		time_cjson(doc, len, cjson, r);
	}
	printf("Unleash features document: %d features, %.1f MB\n", n,
		(double)len / 1e6);
	printf("  %-40s %6.1f ms   CPU %6.1f ms\n",
		"first load in the process", first.wall[0], first.cpu[0]);
	print_figure("load, median of 6", &load, true);
	print_figure("one arena tree of it all, median of 6", &whole, true);
	print_figure("  read into the tree", &phases[0], false);
	print_figure("  compile the tree", &phases[1], false);
	print_figure("  free the tree (the arena)", &phases[2], false);
	print_figure("before: cJSON tree, median of 6", &cjson[0], true);
	print_figure("  cJSON parse", &cjson[1], false);
	print_figure("  compile the tree", &cjson[2], false);
	print_figure("  cJSON_Delete", &cjson[3], false);
	free(doc);
}

/* The machine's 1-minute load average (Linux), to say how busy it was. */
static const char *load_average(char *buf, size_t size)
{
	FILE *f = fopen("/proc/loadavg", "r");

	if (!f || !fgets(buf, (int)size, f))
		snprintf(buf, size, "unknown");
	else
		buf[strcspn(buf, " ")] = '\0';
	if (f)
		fclose(f);
	return buf;
}

int main(int argc, char **argv)
{
	long calls = argc > 1 ? atol(argv[1]) : 20000000;
	int features = argc > 2 ? atoi(argv[2]) : 10000;
	const char *rules = argc > 3 ? argv[3] : "semver,in,prefix";

	if (strstr(rules, "excluded"))
		versions = old_firmwares;
	char buf[32];
	int i;

	for (i = 0; i < UNITS; i++) {
		snprintf(buf, sizeof(buf), "device-%u", (unsigned)i * 2654435761u);
		units[i] = strdup(buf);
	}
	printf("libcanary %s\n\n", canary_version());
	printf("load average at the start: %s\n", load_average(buf, sizeof(buf)));
	bench_rules(calls, rules);
	bench_load(features);
	printf("load average at the end: %s\n", load_average(buf, sizeof(buf)));
	for (i = 0; i < UNITS; i++)
		free(units[i]);
	return 0;
}
