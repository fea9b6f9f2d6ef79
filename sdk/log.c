/*
 * log.c - the client's log: callback or stderr (see log.h).
 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "clock.h"
#include "murmur3.h"

static const char *const level_names[] = {
	"debug", "info", "warn", "error", "off"
};

bool canary__log_level_parse(const char *s, canary_log_level *out)
{
	unsigned i;

	for (i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
		if (strcasecmp(s, level_names[i]) == 0) {
			*out = (canary_log_level)i;
			return true;
		}
	if (strcasecmp(s, "warning") == 0) {
		*out = CANARY_LOG_WARN;
		return true;
	}
	return false;
}

void canary__log_setup(canary__logger *log, canary__log_sink *sink,
	canary_log_fn fn, void *ctx, canary_log_level fn_level,
	canary_log_level stderr_level)
{
	const char *env = getenv("CANARY_LOG");

	memset(sink, 0, sizeof(*sink));
	pthread_mutex_init(&sink->lock, NULL);
	sink->tokens = CANARY__LOG_BURST;
	sink->refilled_at = canary__mono_ms();
	log->fn = fn;
	log->ctx = ctx;
	log->sink = sink;
	log->level = fn ? fn_level : stderr_level;
	if (fn || !env || !*env)
		return;
	if (!canary__log_level_parse(env, &log->level))
		fprintf(stderr, "libcanary: warn: CANARY_LOG=\"%.40s\" is not one of "
			"off, error, warn, info, debug: ignored\n", env);
}

void canary__log_teardown(canary__logger *log)
{
	if (log->sink)
		pthread_mutex_destroy(&log->sink->lock);
	log->sink = NULL;
}

void canary__log_prefork(canary__logger *log)
{
	if (log->sink)
		pthread_mutex_lock(&log->sink->lock);
}

void canary__log_postfork(canary__logger *log)
{
	if (log->sink)
		pthread_mutex_unlock(&log->sink->lock);
}

/* Under the sink's lock: written recently? If not, remember it now. */
static bool seen_recently(canary__log_sink *k, uint32_t h, int64_t now)
{
	unsigned i;

	for (i = 0; i < CANARY__LOG_SEEN; i++)
		if (k->seen_at[i] && k->seen_hash[i] == h &&
		    now - k->seen_at[i] < CANARY__LOG_REPEAT_MS)
			return true;
	k->seen_hash[k->seen_next] = h;
	k->seen_at[k->seen_next] = now ? now : 1;
	k->seen_next = (k->seen_next + 1) % CANARY__LOG_SEEN;
	return false;
}

static bool take_token(canary__log_sink *k, int64_t now)
{
	int64_t earned = (now - k->refilled_at) / CANARY__LOG_REFILL_MS;

	if (earned > 0) {
		k->tokens = earned >= CANARY__LOG_BURST ? CANARY__LOG_BURST :
			k->tokens + (unsigned)earned > CANARY__LOG_BURST ?
			CANARY__LOG_BURST : k->tokens + (unsigned)earned;
		k->refilled_at += earned * CANARY__LOG_REFILL_MS;
	}
	if (!k->tokens)
		return false;
	k->tokens--;
	return true;
}

static void to_stderr(canary__log_sink *k, canary_log_level level,
	const char *msg)
{
	int64_t now = canary__mono_ms();
	unsigned held = 0;
	bool write;

	pthread_mutex_lock(&k->lock);
	write = !seen_recently(k, canary__murmur3_32(msg, strlen(msg), 0), now);
	if (write && !take_token(k, now)) {
		k->held_back++;
		write = false;
	}
	if (write) {
		held = k->held_back;
		k->held_back = 0;
		/* One fprintf per line: lines of two threads never mix. */
		if (held)
			fprintf(stderr, "libcanary: %s: %s (and %u earlier messages held back)\n",
				level_names[level], msg, held);
		else
			fprintf(stderr, "libcanary: %s: %s\n", level_names[level], msg);
	}
	pthread_mutex_unlock(&k->lock);
}

void canary__log(const canary__logger *log, canary_log_level level,
	const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (!log || !log->sink || level < log->level || level >= CANARY_LOG_OFF)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (log->fn)
		log->fn(level, msg, log->ctx);
	else
		to_stderr(log->sink, level, msg);
}

void canary__log_failure(const canary__logger *log, canary__log_slot slot,
	canary_log_level level, const char *what, const char *key,
	const char *detail)
{
	if (strncmp(slot, key, CANARY__LOG_KEY_LEN - 1) == 0) {
		canary__log(log, CANARY_LOG_DEBUG, "%s: %s (again)", what, detail);
		return;
	}
	snprintf(slot, CANARY__LOG_KEY_LEN, "%s", key);
	canary__log(log, level, "%s: %s", what, detail);
}

void canary__log_recovered(const canary__logger *log, canary__log_slot slot,
	const char *what)
{
	if (!slot[0])
		return;
	canary__log(log, CANARY_LOG_INFO, "%s: working again", what);
	slot[0] = '\0';
}
