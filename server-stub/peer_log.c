/*
 * peer_log.c - see peer_log.h. A small table of line kinds, each with the
 * time of its last line and how many were left out since; the lines that
 * pass go out through cs_log (logline.h), in the --log-format chosen.
 */
#include "peer_log.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "logline.h"

#define KINDS 64
#define QUIET_FOR_MS 60000u

typedef struct kind {
	const char *key;
	uint64_t last_ms;
	uint64_t left_out;
} kind;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static kind kinds[KINDS];
static bool sum_aborts = true;
static atomic_uint_fast64_t aborts;
static uint64_t aborts_said, aborts_said_ms;

/* libmicrohttpd's lines that only say a client went away (0.9.75's
 * wording; "Application reported internal error" is our own refusal of
 * a request, which returns MHD_NO). */
static const char *const hang_ups[] = {
	"Connection was closed by remote side",
	"Socket has been disconnected when reading",
	"Connection socket is closed when reading",
	"Failed to send ",
	"Application reported internal error",
};

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void cs_peer_log_init(bool quiet)
{
	sum_aborts = !quiet;
}

/* The slot of `key` (a free one, or the oldest when the table is full);
 * under the lock. */
static kind *slot_of(const char *key)
{
	kind *oldest = &kinds[0];
	int i;

	for (i = 0; i < KINDS; i++) {
		if (kinds[i].key == key || !kinds[i].key) {
			kinds[i].key = key;
			return &kinds[i];
		}
		if (kinds[i].last_ms < oldest->last_ms)
			oldest = &kinds[i];
	}
	oldest->key = key;
	oldest->last_ms = 0;
	oldest->left_out = 0;
	return oldest;
}

void cs_peer_vlog(const char *key, const char *prefix, const char *fmt,
	va_list ap)
{
	uint64_t now = mono_ms(), left_out;
	kind *k;
	size_t n;
	char line[512];

	pthread_mutex_lock(&lock);
	k = slot_of(key);
	if (k->last_ms && now - k->last_ms < QUIET_FOR_MS) {
		k->left_out++;
		pthread_mutex_unlock(&lock);
		return;
	}
	k->last_ms = now;
	left_out = k->left_out;
	k->left_out = 0;
	pthread_mutex_unlock(&lock);
	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	while (n && line[n - 1] == '\n')
		line[--n] = '\0';
	if (left_out)
		cs_log(CS_LOG_WARN, NULL, "%s%s (and %llu more like it in the "
			"last minute)", prefix, line, (unsigned long long)left_out);
	else
		cs_log(CS_LOG_WARN, NULL, "%s%s", prefix, line);
}

void cs_peer_log(const char *key, const char *prefix, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cs_peer_vlog(key, prefix, fmt, ap);
	va_end(ap);
}

/* A hang-up: counted; without --quiet, a line a minute sums them up. */
static void hang_up(void)
{
	uint64_t total = atomic_fetch_add(&aborts, 1) + 1, now = mono_ms();

	if (!sum_aborts)
		return;
	pthread_mutex_lock(&lock);
	if (aborts_said_ms && now - aborts_said_ms < QUIET_FOR_MS) {
		pthread_mutex_unlock(&lock);
		return;
	}
	aborts_said_ms = now;
	cs_log(CS_LOG_INFO, NULL, "http: %llu connections closed by their "
		"clients mid-request or mid-answer since the last such line "
		"(not an error)", (unsigned long long)(total - aborts_said));
	aborts_said = total;
	pthread_mutex_unlock(&lock);
}

void cs_peer_log_mhd(void *cls, const char *fmt, va_list ap)
{
	size_t i;

	(void)cls;
	for (i = 0; i < sizeof(hang_ups) / sizeof(hang_ups[0]); i++) {
		if (strncmp(fmt, hang_ups[i], strlen(hang_ups[i])) == 0) {
			hang_up();
			return;
		}
	}
	cs_peer_vlog(fmt, "http: ", fmt, ap);
}

uint64_t cs_peer_log_aborts(void)
{
	return atomic_load(&aborts);
}
