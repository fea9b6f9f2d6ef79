/*
 * bench_propagation.c - how long from an admin change on canary-server
 * until every SDK client answers the new value: N clients (each with its
 * own worker) on the stream, then on polling, K changes each.
 *
 *   bench_propagation [CLIENTS] [CHANGES] [POLL_MS]
 *
 * The server runs on 127.0.0.1 with an ephemeral port (the integration
 * harness starts and always stops it).
 */
#define _POSIX_C_SOURCE 200809L
#include <cjson/cJSON.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "canary/canary.h"
#include "harness.h"

#define MAX_CLIENTS 1000

struct arrival {
	_Atomic uint64_t version; /* newest version this client applied */
	_Atomic double at_ms;     /* when it applied it */
};

static struct arrival arrivals[MAX_CLIENTS];

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void on_config(uint64_t version, void *ctx)
{
	struct arrival *a = ctx;

	atomic_store(&a->at_ms, now_ms());
	atomic_store(&a->version, version);
}

static int cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;

	return (a > b) - (a < b);
}

static uint64_t set_rollout(srv *s, int bp)
{
	char body[64];
	uint64_t version = 0;
	cJSON *doc, *v;
	resp r;

	snprintf(body, sizeof(body), "{\"rollout_bp\":%d}", bp);
	if (http(s, "PATCH", "/v1/admin/flags/prop", ADMIN_TOKEN, body, NULL,
	    &r) != 0 || r.status != 200) {
		fprintf(stderr, "PATCH failed: %ld %s\n", r.status, r.body);
		exit(1);
	}
	doc = cJSON_Parse(r.body);
	v = cJSON_GetObjectItemCaseSensitive(doc, "version");
	if (cJSON_IsNumber(v))
		version = (uint64_t)v->valuedouble;
	cJSON_Delete(doc);
	resp_free(&r);
	return version;
}

static void run(srv *s, int clients, int changes, bool stream, uint32_t poll_ms)
{
	static canary_client *c[MAX_CLIENTS];
	double *lat = calloc((size_t)clients * (size_t)changes, sizeof(double));
	size_t n = 0;
	canary_options o;
	int i, k;

	for (i = 0; i < clients; i++) {
		canary_options_init(&o, CANARY_OPTIONS_VERSION);
		o.server_url = s->base;
		o.sdk_key = SDK_KEY;
		o.no_stream = !stream;
		o.poll_interval_ms = poll_ms;
		o.config_fn = on_config;
		o.config_ctx = &arrivals[i];
		atomic_store(&arrivals[i].version, 0);
		if (canary_client_new(&c[i], &o) != CANARY_OK) {
			fprintf(stderr, "client: %s\n", canary_error_last());
			exit(1);
		}
	}
	for (i = 0; i < clients; i++)
		canary_client_wait_ready(c[i], 10000);
	/* Give streams a moment to be established before timing. */
	if (stream) {
		struct timespec pause = { 0, 300 * 1000000L };

		nanosleep(&pause, NULL);
	}
	srand(12345);
	for (k = 0; k < changes; k++) {
		/* A random pause first, so a change does not always land right
		 * after the clients' (phase-aligned) polls. */
		long pause_ns = (long)(rand() % (int)poll_ms) * 1000000L;
		struct timespec pause = { pause_ns / 1000000000L,
			pause_ns % 1000000000L };
		double t0;

		nanosleep(&pause, NULL);
		t0 = now_ms();
		uint64_t want = set_rollout(s, (k % 2) ? 5000 : 100);

		for (i = 0; i < clients; i++) {
			while (atomic_load(&arrivals[i].version) < want) {
				struct timespec tick = { 0, 200000L };

				if (now_ms() - t0 > 30000) {
					fprintf(stderr, "client %d never saw version %llu\n",
						i, (unsigned long long)want);
					exit(1);
				}
				nanosleep(&tick, NULL);
			}
			lat[n++] = atomic_load(&arrivals[i].at_ms) - t0;
		}
	}
	qsort(lat, n, sizeof(double), cmp_double);
	printf("%-8s %7d %7d %9.1f %9.1f %9.1f %9.1f\n",
		stream ? "stream" : "polling", clients, changes, lat[n / 2],
		lat[(size_t)(0.95 * (double)(n - 1))],
		lat[(size_t)(0.99 * (double)(n - 1))], lat[n - 1]);
	for (i = 0; i < clients; i++)
		canary_client_free(c[i]);
	free(lat);
}

int main(int argc, char **argv)
{
	int clients = argc > 1 ? atoi(argv[1]) : 100;
	int changes = argc > 2 ? atoi(argv[2]) : 20;
	uint32_t poll_ms = argc > 3 ? (uint32_t)atoi(argv[3]) : 1000;

	if (poll_ms < 1)
		poll_ms = 1000;
	srv s;

	if (clients < 1 || clients > MAX_CLIENTS || changes < 1) {
		fprintf(stderr, "usage: %s [CLIENTS<=1000] [CHANGES] [POLL_MS]\n",
			argv[0]);
		return 2;
	}
	if (srv_start(&s, NULL) != 0) {
		fprintf(stderr, "canary-server did not start\n");
		return 1;
	}
	if (http_status(&s, "POST", "/v1/admin/flags", ADMIN_TOKEN,
	    "{\"key\":\"prop\",\"rollout_bp\":0}") != 201) {
		srv_cleanup(&s);
		return 1;
	}
	printf("admin change -> all clients answer it, ms (poll interval %u ms)\n",
		poll_ms);
	printf("%-8s %7s %7s %9s %9s %9s %9s\n", "mode", "clients", "changes",
		"p50", "p95", "p99", "max");
	run(&s, clients, changes, true, poll_ms);
	run(&s, clients, changes / 4 > 0 ? changes / 4 : 1, false, poll_ms);
	srv_cleanup(&s);
	return 0;
}
