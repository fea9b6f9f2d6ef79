/*
 * threaded_server.c - a multi-threaded request loop sharing one client:
 * every worker thread picks the build per request with canary_enabled()
 * (which also counts the exposure), times the request, and reports its
 * latency and, when it failed, an error with canary_record_latency() and
 * canary_record_error(). The counts go to the service in the background;
 * canary_flush() at shutdown sends the rest.
 *
 *   threaded_server https://flags.example.com [THREADS] [REQUESTS]
 *   threaded_server flags.json [THREADS] [REQUESTS]        offline
 *
 * $CANARY_SDK_KEY is the key with a server. Offline the counts stay in
 * memory (there is nowhere to send them); the totals show what was kept.
 */
#define _POSIX_C_SOURCE 200809L
#include <canary/canary.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FLAG "checkout-v2"
#define MAX_THREADS 64

typedef struct server {
	canary_client *client;
	long requests;               /* per thread */
	atomic_long canary, stable, failed, not_recorded;
} server;

typedef struct worker {
	server *srv;
	int id;
	pthread_t thread;
} worker;

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Stand-ins for the two builds: some work, and the new one fails once in
 * a hundred requests. */
static int handle_v1(long n)
{
	volatile long x = 0;
	long i;

	for (i = 0; i < 2000; i++)
		x += i ^ n;
	return 200;
}

static int handle_v2(long n)
{
	return n % 100 == 7 ? 500 : handle_v1(n);
}

static void *serve(void *arg)
{
	worker *w = arg;
	server *srv = w->srv;
	char user[32];
	long i;

	for (i = 0; i < srv->requests; i++) {
		long n = (long)w->id * srv->requests + i;
		double start = now_ms();
		int status, canary;

		snprintf(user, sizeof(user), "user-%ld", n);
		canary = canary_enabled(srv->client, FLAG, user);
		status = canary ? handle_v2(n) : handle_v1(n);

		atomic_fetch_add(canary ? &srv->canary : &srv->stable, 1);
		if (canary_record_latency(srv->client, FLAG, user, now_ms() - start) != CANARY_OK)
			atomic_fetch_add(&srv->not_recorded, 1);
		if (status >= 500) {
			atomic_fetch_add(&srv->failed, 1);
			canary_record_error(srv->client, FLAG, user);
		}
	}
	return NULL;
}

int main(int argc, char **argv)
{
	static worker workers[MAX_THREADS];
	server srv = { NULL, 0, 0, 0, 0, 0 };
	canary_options opts;
	canary_event_stats st = CANARY_EVENT_STATS_INIT;
	int threads = argc > 2 ? atoi(argv[2]) : 4, started = 0, i, rc;

	srv.requests = argc > 3 ? atol(argv[3]) : 2000;
	if (argc < 2 || threads < 1 || threads > MAX_THREADS || srv.requests < 1) {
		fprintf(stderr, "usage: %s SERVER_URL|CONFIG.json [THREADS] [REQUESTS]\n",
			argv[0]);
		return 2;
	}
	canary_options_init(&opts, CANARY_OPTIONS_VERSION);
	if (strncmp(argv[1], "http://", 7) == 0 || strncmp(argv[1], "https://", 8) == 0) {
		opts.server_url = argv[1];
		opts.sdk_key = getenv("CANARY_SDK_KEY");
	} else {
		opts.bootstrap_path = argv[1];
	}
	opts.flush_interval_ms = 1000;
	rc = canary_client_new(&srv.client, &opts);
	if (rc != CANARY_OK) {
		fprintf(stderr, "threaded_server: %s: %s\n", canary_strerror(rc),
			canary_error_last());
		return 1;
	}
	canary_client_wait_ready(srv.client, 2000);

	for (i = 0; i < threads; i++) {
		workers[i].srv = &srv;
		workers[i].id = i;
		if (pthread_create(&workers[i].thread, NULL, serve, &workers[i]) != 0)
			break;
		started++;
	}
	for (i = 0; i < started; i++)
		pthread_join(workers[i].thread, NULL);

	/* Shutdown: send what is counted, a bounded wait. */
	rc = canary_flush(srv.client, 2000);
	canary_event_stats_get(srv.client, &st);
	printf("served %ld requests on %d threads: %ld canary (%ld failed), %ld stable\n",
		(long)started * srv.requests, started, atomic_load(&srv.canary),
		atomic_load(&srv.failed), atomic_load(&srv.stable));
	printf("events: flush %s; %llu batches written, %llu sent, %llu records not counted\n",
		canary_strerror(rc), (unsigned long long)st.batches_written,
		(unsigned long long)st.batches_sent,
		(unsigned long long)(st.ignored + st.dropped_records));
	canary_client_free(srv.client);
	return started == threads ? 0 : 1;
}
