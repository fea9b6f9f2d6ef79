/*
 * fleet-sim.c - the fleet behind scripts/demo.sh: several service
 * instances (threads), each with its own canary_client following
 * canary-server over the stream, serve simulated users; the canary build
 * has its own error rate and latency. The simulator starts a rollout of the
 * flag through the admin API, prints each decision of the rollout
 * controller as it is taken (a live table), and ends with a summary once
 * the rollout is promoted, rolled back or paused.
 *
 *   fleet-sim --server URL --flag KEY [options]
 *   $CANARY_SDK_KEY, $CANARY_ADMIN_TOKEN     the server's keys
 *
 * Each instance reports through libcanary itself: canary_evaluate()
 * counts the exposure, canary_record_error() and canary_record_latency()
 * the outcome, and the client sends them to POST /v1/events every
 * flush interval, where the controller judges the two arms.
 */
#define _POSIX_C_SOURCE 200809L
#include <canary/canary.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define POPULATION 1000000u        /* simulated users */
#define MAX_INSTANCES 32
#define RESPONSE_MAX (8u << 20)

typedef struct arm_model {
	double error_rate;   /* share of requests that fail */
	double median_ms;    /* latency: log-normal around this median */
	double sigma;
} arm_model;

typedef struct sim {
	const char *server, *flag, *sdk_key, *admin_token, *rollout_json;
	const char *canary_name, *stable_name;
	int instances;
	long rate;           /* requests per second per instance */
	long flush_ms;
	double timeout_s;
	arm_model arm[2];    /* [CANARY_ARM_STABLE], [CANARY_ARM_CANARY] */

	atomic_bool stop;
	atomic_uint_least64_t requests[2], errors[2];
	atomic_uint_least64_t first_canary_ms, last_canary_ms; /* wall clock */
	atomic_uint_least64_t batches, batch_failures, not_counted;
	/* Users the controller's last judgement counted per arm (stable,
	 * canary): estimates from the SDKs' sketches; 0: none yet. */
	double judged_units[2];
	atomic_uchar *saw_canary;               /* POPULATION bits */
	atomic_int ready;
} sim;

typedef struct instance {
	sim *s;
	int id;
	pthread_t thread;
	uint64_t rng;
} instance;

/* ---- small helpers ---------------------------------------------------- */

static uint64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static uint64_t rng_next(uint64_t *x) /* xorshift64* */
{
	*x ^= *x >> 12;
	*x ^= *x << 25;
	*x ^= *x >> 27;
	return *x * 2685821657736338717ull;
}

static double rng_unit(uint64_t *x) /* (0, 1) */
{
	return ((double)(rng_next(x) >> 11) + 0.5) / 9007199254740992.0;
}

static double rng_normal(uint64_t *x) /* Box-Muller */
{
	return sqrt(-2.0 * log(rng_unit(x))) * cos(6.283185307179586 * rng_unit(x));
}

/* ---- HTTP ------------------------------------------------------------- */

typedef struct buf {
	char *data;
	size_t len;
} buf;

static size_t collect(char *p, size_t size, size_t n, void *ctx)
{
	buf *b = ctx;
	size_t add = size * n;
	char *grown;

	if (b->len + add + 1 > RESPONSE_MAX)
		return 0;
	grown = realloc(b->data, b->len + add + 1);
	if (!grown)
		return 0;
	memcpy(grown + b->len, p, add);
	b->data = grown;
	b->len += add;
	b->data[b->len] = '\0';
	return add;
}

/* One request with a bearer token; returns the status (0: no response)
 * and, when `out` is given, the body (caller frees). */
static long http(CURL *curl, const char *method, const char *url,
	const char *token, const char *body, char **out)
{
	struct curl_slist *hdr = NULL;
	char auth[512];
	buf b = { NULL, 0 };
	long status = 0;

	curl_easy_reset(curl);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token ? token : "");
	hdr = curl_slist_append(hdr, auth);
	hdr = curl_slist_append(hdr, "Content-Type: application/json");
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 10000L);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &b);
	if (body)
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
	if (curl_easy_perform(curl) == CURLE_OK)
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(hdr);
	if (out)
		*out = b.data;
	else
		free(b.data);
	return status;
}

/* ---- one service instance --------------------------------------------- */

/* One request from a random user: pick the build, "serve" it. The
 * latency is drawn from the arm's model and recorded, not slept, so a few
 * threads stand for a large fleet. */
static void serve(instance *in, canary_client *client)
{
	sim *s = in->s;
	unsigned user = (unsigned)(rng_next(&in->rng) % POPULATION);
	char unit[24];
	canary_details d = CANARY_DETAILS_INIT;
	const arm_model *m;
	double ms;
	int failed;

	snprintf(unit, sizeof(unit), "user-%u", user);
	canary_evaluate(client, s->flag, unit, &d);
	m = &s->arm[d.arm];
	failed = rng_unit(&in->rng) < m->error_rate;
	ms = m->median_ms * exp(m->sigma * rng_normal(&in->rng));

	atomic_fetch_add(&s->requests[d.arm], 1);
	if (failed)
		atomic_fetch_add(&s->errors[d.arm], 1);
	if (d.arm == CANARY_ARM_CANARY) {
		uint_least64_t none = 0, now = wall_ms();

		atomic_fetch_or(&s->saw_canary[user / 8], (unsigned char)(1u << (user % 8)));
		atomic_compare_exchange_strong(&s->first_canary_ms, &none, now);
		atomic_store(&s->last_canary_ms, now);
	}
	/* What a real service does after each request. */
	if (canary_record_latency(client, s->flag, unit, ms) != CANARY_OK)
		atomic_fetch_add(&s->not_counted, 1);
	if (failed && canary_record_error(client, s->flag, unit) != CANARY_OK)
		atomic_fetch_add(&s->not_counted, 1);
}

/* Send what is left, and add the client's delivery counters to the
 * fleet's. */
static void report_events(sim *s, canary_client *client)
{
	canary_event_stats st = CANARY_EVENT_STATS_INIT;

	/* A bound, not a deadline: the flush returns once the service has
	 * the batches, and a busy machine may take a while to answer. */
	canary_flush(client, 60000);
	if (canary_event_stats_get(client, &st) != CANARY_OK)
		return;
	atomic_fetch_add(&s->batches, st.batches_sent);
	atomic_fetch_add(&s->batch_failures, st.dropped_batches + st.outbox_batches);
	atomic_fetch_add(&s->not_counted, st.dropped_records);
}

static void *instance_main(void *arg)
{
	instance *in = arg;
	sim *s = in->s;
	canary_options opts;
	canary_client *client = NULL;
	long per_tick = s->rate / 100, i;

	canary_options_init(&opts, CANARY_OPTIONS_VERSION);
	opts.server_url = s->server;
	opts.sdk_key = s->sdk_key;
	opts.poll_interval_ms = 1000;  /* only while the stream is down */
	opts.flush_interval_ms = (uint32_t)s->flush_ms;
	if (canary_client_new(&client, &opts) != CANARY_OK ||
	    canary_client_wait_ready(client, 60000) != CANARY_OK) {
		fprintf(stderr, "fleet-sim: instance %d: %s\n", in->id, canary_error_last());
		atomic_store(&s->stop, true);
		goto done;
	}
	atomic_fetch_add(&s->ready, 1);
	while (!atomic_load(&s->stop)) {
		for (i = 0; i < per_tick; i++)
			serve(in, client);
		sleep_ms(10);
	}
	report_events(s, client);
done:
	canary_client_free(client);
	return NULL;
}

/* ---- the rollout, watched --------------------------------------------- */

static double num(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static const char *str(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsString(v) ? v->valuestring : "-";
}

static void fmt_pct(char *out, size_t n, double rate)
{
	if (isnan(rate))
		snprintf(out, n, "-");
	else
		snprintf(out, n, "%.2f%%", 100.0 * rate);
}

static void fmt_ms(char *out, size_t n, double ms)
{
	if (isnan(ms))
		snprintf(out, n, "-");
	else
		snprintf(out, n, "%.0fms", ms);
}

static void print_decision(const cJSON *d)
{
	const cJSON *arms = cJSON_GetObjectItemCaseSensitive(d, "arms");
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(arms, "canary");
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(arms, "stable");
	time_t t = (time_t)(num(d, "time_ms") / 1000);
	char when[16], ec[16], es[16], pc[16], ps[16], step[16];
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%H:%M:%S", &tm);
	fmt_pct(ec, sizeof(ec), num(c, "error_rate"));
	fmt_pct(es, sizeof(es), num(st, "error_rate"));
	fmt_ms(pc, sizeof(pc), num(c, "p95_ms"));
	fmt_ms(ps, sizeof(ps), num(st, "p95_ms"));
	snprintf(step, sizeof(step), "%g%%", num(d, "percent"));
	printf("%s  %4s  errors %6s vs %6s  p95 %6s vs %6s  %-12s  %-8s %s\n",
		when, step, ec, es, pc, ps, str(d, "verdict"), str(d, "action"),
		str(d, "rule"));
	fflush(stdout);
}

/* Poll the rollout, printing each new decision, until it leaves
 * "running" or the time is up. Returns the final state (caller frees). */
static char *watch(sim *s, CURL *curl, uint64_t started, double *done_at)
{
	char url[1024], *body = NULL, *state = NULL;
	int printed = 0;

	snprintf(url, sizeof(url), "%s/v1/admin/rollouts/%s", s->server, s->flag);
	while (!atomic_load(&s->stop) &&
	       (double)(wall_ms() - started) < s->timeout_s * 1000) {
		cJSON *doc, *d;
		int i = 0;

		sleep_ms(200);
		if (http(curl, "GET", url, s->admin_token, NULL, &body) != 200) {
			free(body);
			continue;
		}
		doc = cJSON_Parse(body);
		free(body);
		cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(doc, "decisions")) {
			const cJSON *u = cJSON_GetObjectItemCaseSensitive(d, "users");

			if (i++ >= printed) {
				print_decision(d);
				printed = i;
			}
			if (u) {
				s->judged_units[0] = num(cJSON_GetObjectItemCaseSensitive(
					u, "stable"), "units");
				s->judged_units[1] = num(cJSON_GetObjectItemCaseSensitive(
					u, "canary"), "units");
			}
		}
		free(state);
		state = strdup(str(doc, "state"));
		if (strcmp(state, "running") != 0) {
			*done_at = num(doc, "updated_ms");
			cJSON_Delete(doc);
			return state;
		}
		cJSON_Delete(doc);
	}
	free(state);
	return strdup("timeout");
}

static int start_rollout(sim *s, CURL *curl)
{
	char url[1024], *reply = NULL;
	long st;

	snprintf(url, sizeof(url), "%s/v1/admin/rollouts", s->server);
	st = http(curl, "POST", url, s->admin_token, s->rollout_json, &reply);
	if (st != 201) {
		fprintf(stderr, "fleet-sim: starting the rollout: HTTP %ld %s\n", st,
			reply ? reply : "");
		free(reply);
		return -1;
	}
	free(reply);
	return 0;
}

static uint64_t count_users(const sim *s)
{
	uint64_t n = 0;
	unsigned i;

	for (i = 0; i < POPULATION / 8; i++)
		n += (uint64_t)__builtin_popcount(atomic_load(&s->saw_canary[i]));
	return n;
}

static void summary(sim *s, const char *state, uint64_t started, double done_at)
{
	uint64_t rq_c = atomic_load(&s->requests[1]), rq_s = atomic_load(&s->requests[0]);
	uint64_t er_c = atomic_load(&s->errors[1]), er_s = atomic_load(&s->errors[0]);
	uint64_t last = atomic_load(&s->last_canary_ms);

	printf("\nresult: %s: rollout %s after %.1f s\n", s->flag, state,
		isnan(done_at) ? 0.0 : (done_at - (double)started) / 1000.0);
	printf("  requests: %llu on %s (%llu errors), %llu on %s (%llu errors)\n",
		(unsigned long long)rq_c, s->canary_name, (unsigned long long)er_c,
		(unsigned long long)rq_s, s->stable_name, (unsigned long long)er_s);
	printf("  users who saw %s: %llu of %u (%.2f%%)\n", s->canary_name,
		(unsigned long long)count_users(s), POPULATION,
		100.0 * (double)count_users(s) / POPULATION);
	if (strcmp(state, "rolled_back") == 0 && last) {
		uint64_t first = atomic_load(&s->first_canary_ms);
		double lag = (double)last - done_at;

		printf("  rolled back %.1f s after %s served its first request; "
			"the fleet stopped serving it %.0f ms after the decision\n",
			(done_at - (double)first) / 1000.0, s->canary_name,
			lag > 0 ? lag : 0.0);
	}
	if (s->judged_units[1] > 0)
		printf("  judged on users: the last decision counted %.0f on "
			"%s, %.0f on %s (from the SDKs' sketches)\n",
			s->judged_units[1], s->canary_name, s->judged_units[0],
			s->stable_name);
	printf("  event batches: %llu accepted, %llu failed; %llu records not counted\n",
		(unsigned long long)atomic_load(&s->batches),
		(unsigned long long)atomic_load(&s->batch_failures),
		(unsigned long long)atomic_load(&s->not_counted));
}

/* ---- main --------------------------------------------------------------- */

static void usage(void)
{
	fprintf(stderr,
		"usage: fleet-sim --server URL --flag KEY [--instances 4] [--rate 50000]\n"
		"  [--stable-errors 0.002] [--canary-errors 0.002]\n"
		"  [--stable-ms 150] [--canary-ms 150]     median latency per arm\n"
		"  [--rollout JSON]   body of POST /v1/admin/rollouts (without \"flag\")\n"
		"  [--names stable,canary] [--flush-ms 500] [--timeout 120]\n");
}

static int parse_args(sim *s, int argc, char **argv)
{
	static char names[128];
	int a;

	for (a = 1; a + 1 < argc; a += 2) {
		const char *k = argv[a], *v = argv[a + 1];

		if (!strcmp(k, "--server")) s->server = v;
		else if (!strcmp(k, "--flag")) s->flag = v;
		else if (!strcmp(k, "--instances")) s->instances = atoi(v);
		else if (!strcmp(k, "--rate")) s->rate = atol(v);
		else if (!strcmp(k, "--stable-errors")) s->arm[0].error_rate = atof(v);
		else if (!strcmp(k, "--canary-errors")) s->arm[1].error_rate = atof(v);
		else if (!strcmp(k, "--stable-ms")) s->arm[0].median_ms = atof(v);
		else if (!strcmp(k, "--canary-ms")) s->arm[1].median_ms = atof(v);
		else if (!strcmp(k, "--rollout")) s->rollout_json = v;
		else if (!strcmp(k, "--flush-ms")) s->flush_ms = atol(v);
		else if (!strcmp(k, "--timeout")) s->timeout_s = atof(v);
		else if (!strcmp(k, "--names")) {
			char *comma;

			snprintf(names, sizeof(names), "%s", v);
			comma = strchr(names, ',');
			if (!comma)
				return -1;
			*comma = '\0';
			s->stable_name = names;
			s->canary_name = comma + 1;
		} else
			return -1;
	}
	if (a != argc || !s->server || !s->flag || s->instances < 1 ||
	    s->instances > MAX_INSTANCES || s->rate < 100 || s->flush_ms < 10)
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	static instance inst[MAX_INSTANCES];
	sim s;
	char *state = NULL, *body = NULL;
	CURL *curl = NULL;
	uint64_t started = 0;
	double done_at = NAN;
	int n = 0, rc = 1;

	memset(&s, 0, sizeof(s));
	s.instances = 4;
	s.rate = 50000;
	s.flush_ms = 500;
	s.timeout_s = 120;
	s.stable_name = "stable";
	s.canary_name = "canary";
	s.arm[0] = (arm_model){ 0.002, 150, 0.3 };
	s.arm[1] = s.arm[0];
	s.sdk_key = getenv("CANARY_SDK_KEY");
	s.admin_token = getenv("CANARY_ADMIN_TOKEN");
	if (parse_args(&s, argc, argv) != 0) {
		usage();
		return 2;
	}
	s.saw_canary = calloc(POPULATION / 8, sizeof(*s.saw_canary));
	curl_global_init(CURL_GLOBAL_DEFAULT);
	curl = curl_easy_init();
	if (!s.saw_canary || !curl)
		goto done;

	for (n = 0; n < s.instances; n++) {
		instance *in = &inst[n];

		in->s = &s;
		in->id = n + 1;
		in->rng = 0x9e3779b97f4a7c15ull * (uint64_t)(n + 1) ^ wall_ms();
		if (pthread_create(&in->thread, NULL, instance_main, in) != 0)
			goto done;
	}
	while (atomic_load(&s.ready) < s.instances && !atomic_load(&s.stop))
		sleep_ms(20);
	if (atomic_load(&s.stop))
		goto done;
	printf("%d instances, %ld requests/s each, %s: errors %.2f%%, median %.0fms; "
		"%s: errors %.2f%%, median %.0fms\n", s.instances, s.rate,
		s.stable_name, 100 * s.arm[0].error_rate, s.arm[0].median_ms,
		s.canary_name, 100 * s.arm[1].error_rate, s.arm[1].median_ms);

	if (s.rollout_json) {
		cJSON *spec = cJSON_Parse(s.rollout_json);

		if (!spec)
			goto done;
		cJSON_AddStringToObject(spec, "flag", s.flag);
		body = cJSON_PrintUnformatted(spec);
		cJSON_Delete(spec);
		s.rollout_json = body;
		if (start_rollout(&s, curl) != 0)
			goto done;
	}
	started = wall_ms();
	printf("TIME      STEP  ERRORS (canary vs stable)   P95 (canary vs stable)  "
		"VERDICT       ACTION   RULE\n");
	state = watch(&s, curl, started, &done_at);
	/* Keep serving a moment so the summary shows the rollback took hold. */
	sleep_ms(1000);
	rc = strcmp(state, "timeout") == 0 ? 1 : 0;
done:
	atomic_store(&s.stop, true);
	while (n-- > 0)
		pthread_join(inst[n].thread, NULL);
	if (state)
		summary(&s, state, started, done_at);
	free(state);
	free(body);
	free(s.saw_canary);
	curl_easy_cleanup(curl);
	curl_global_cleanup();
	return rc;
}
