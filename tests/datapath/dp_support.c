/*
 * dp_support.c - helpers for the data path tests (see dp_support.h).
 */
#define _GNU_SOURCE
#include "dp_support.h"
#include "fault_server.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

char *dp_tmpdir(void)
{
	char *dir = strdup("/tmp/canary-datapath-XXXXXX");

	if (!dir || !mkdtemp(dir))
		abort();
	return dir;
}

void dp_tmpdir_free(char *dir)
{
	char cmd[512];

	if (!dir)
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	free(dir);
}

const char *dp_path(const char *dir, const char *name)
{
	static _Thread_local char buf[512];

	snprintf(buf, sizeof(buf), "%s/%s", dir, name);
	return buf;
}

void dp_sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0)
		;
}

uint64_t dp_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

bool dp_wait(bool (*cond)(void *ctx), void *ctx)
{
	uint64_t end = dp_now_ms() + DP_PATIENCE_MS;

	while (!cond(ctx)) {
		if (dp_now_ms() > end)
			return false;
		dp_sleep_ms(5);
	}
	return true;
}

/* ---- log ---------------------------------------------------------------- */

struct dp_log {
	pthread_mutex_t lock;
	char **lines;
	size_t count, cap;
};

dp_log *dp_log_new(void)
{
	dp_log *log = calloc(1, sizeof(*log));

	pthread_mutex_init(&log->lock, NULL);
	return log;
}

void dp_log_free(dp_log *log)
{
	size_t i;

	if (!log)
		return;
	for (i = 0; i < log->count; i++)
		free(log->lines[i]);
	free(log->lines);
	pthread_mutex_destroy(&log->lock);
	free(log);
}

void dp_log_fn(canary_log_level level, const char *msg, void *ctx)
{
	dp_log *log = ctx;

	(void)level;
	pthread_mutex_lock(&log->lock);
	if (log->count == log->cap) {
		log->cap = log->cap ? log->cap * 2 : 64;
		log->lines = realloc(log->lines, log->cap * sizeof(char *));
	}
	log->lines[log->count++] = strdup(msg);
	pthread_mutex_unlock(&log->lock);
}

int dp_log_count(dp_log *log, const char *needle)
{
	size_t i;
	int n = 0;

	pthread_mutex_lock(&log->lock);
	for (i = 0; i < log->count; i++)
		if (strstr(log->lines[i], needle))
			n++;
	pthread_mutex_unlock(&log->lock);
	return n;
}

void dp_log_dump(dp_log *log)
{
	size_t i;

	pthread_mutex_lock(&log->lock);
	for (i = 0; i < log->count; i++)
		fprintf(stderr, "  log: %s\n", log->lines[i]);
	pthread_mutex_unlock(&log->lock);
}

/* ---- callbacks ------------------------------------------------------------ */

void dp_status_fn(canary_status status, void *ctx)
{
	dp_status *st = ctx;

	__atomic_store_n(&st->last, status, __ATOMIC_SEQ_CST);
	__atomic_add_fetch(&st->changes, 1, __ATOMIC_SEQ_CST);
}

void dp_config_fn(uint64_t version, void *ctx)
{
	dp_status *st = ctx;

	__atomic_store_n(&st->last_version, version, __ATOMIC_SEQ_CST);
	__atomic_add_fetch(&st->config_changes, 1, __ATOMIC_SEQ_CST);
}

void dp_options(canary_options *o, const char *url, const char *cache_path,
	dp_log *log, dp_status *st)
{
	canary_options_init(o, CANARY_OPTIONS_VERSION);
	o->server_url = url;
	o->sdk_key = "sdk-test-key";
	o->cache_path = cache_path;
	o->connect_timeout_ms = 1000;
	o->request_timeout_ms = 1000;
	o->poll_interval_ms = 100;
	o->backoff_cap_ms = 100;
	o->stream_idle_timeout_ms = 10000;
	o->log_level = CANARY_LOG_DEBUG;
	if (log) {
		o->log_fn = dp_log_fn;
		o->log_ctx = log;
	}
	if (st) {
		o->status_fn = dp_status_fn;
		o->status_ctx = st;
		o->config_fn = dp_config_fn;
		o->config_ctx = st;
	}
}

typedef struct want {
	canary_client *c;
	uint64_t version;
	canary_status status;
} want;

static bool version_reached(void *ctx)
{
	want *w = ctx;

	return canary_client_config_version(w->c) >= w->version;
}

static bool status_reached(void *ctx)
{
	want *w = ctx;

	return canary_client_status(w->c) == w->status;
}

bool dp_wait_version(canary_client *c, uint64_t version)
{
	want w = { c, version, CANARY_STATUS_INITIALIZING };

	return dp_wait(version_reached, &w);
}

bool dp_wait_status(canary_client *c, canary_status status)
{
	want w = { c, 0, status };

	return dp_wait(status_reached, &w);
}

void dp_answers(canary_client *c, char *out, size_t outlen)
{
	static const char *const flags[] = { "f50", "all", "none", "vip", "nope" };
	static const char *const units[] = { "alice", "bob", "carol", "u1", "u2",
		"u3", "u4", "u5", "u6", "u7" };
	size_t i, j, n = 0;

	for (i = 0; i < sizeof(flags) / sizeof(*flags); i++) {
		for (j = 0; j < sizeof(units) / sizeof(*units) && n + 2 < outlen; j++) {
			canary_details d = CANARY_DETAILS_INIT;

			out[n++] = canary_evaluate(c, flags[i], units[j], &d) ?
				'1' : '0';
		}
		if (n + 2 < outlen)
			out[n++] = '|';
	}
	out[n] = '\0';
}

int dp_fixture_setup(void **state)
{
	dp_fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	f->fs = fs_start();
	fs_set_config(f->fs, fs_config_json(1), 1);
	f->dir = dp_tmpdir();
	f->log = dp_log_new();
	*state = f;
	return 0;
}

int dp_fixture_teardown(void **state)
{
	dp_fixture *f = *state;
	int leaked;

	canary_client_free(f->c);
	fs_stop(f->fs);
	/* Whatever happened, the SDK key never reached the log. */
	leaked = dp_log_count(f->log, "sdk-test-key");
	if (leaked)
		dp_log_dump(f->log);
	dp_log_free(f->log);
	dp_tmpdir_free(f->dir);
	free(f);
	return leaked ? -1 : 0;
}
