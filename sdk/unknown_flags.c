/*
 * unknown_flags.c - noting unknown flag keys and reporting them once (see
 * unknown_flags.h).
 */
#include "unknown_flags.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "snapshot.h"

void canary__unknown_init(canary__unknown *u)
{
	memset(u, 0, sizeof(*u));
	pthread_mutex_init(&u->lock, NULL);
}

void canary__unknown_destroy(canary__unknown *u)
{
	pthread_mutex_destroy(&u->lock);
}

void canary__unknown_prefork(canary__unknown *u)
{
	pthread_mutex_lock(&u->lock);
}

void canary__unknown_postfork(canary__unknown *u)
{
	pthread_mutex_unlock(&u->lock);
}

static void queue(canary__unknown *u, const char *key, size_t len)
{
	unsigned i;

	if (len >= CANARY__UNKNOWN_KEY_MAX)
		len = CANARY__UNKNOWN_KEY_MAX - 1;
	for (i = 0; i < CANARY__UNKNOWN_PENDING; i++) {
		canary__unknown_slot *s = &u->pending[i];
		int free_state = 0;

		if (!atomic_compare_exchange_strong(&s->state, &free_state, 1))
			continue;
		memcpy(s->key, key, len);
		s->key[len] = '\0';
		atomic_store_explicit(&s->state, 2, memory_order_release);
		return;
	}
	atomic_fetch_add(&u->lost, 1);
}

void canary__unknown_add(canary__unknown *u, const char *key, size_t len,
	uint32_t hash, unsigned slot)
{
	unsigned n;

	for (n = 0; n < CANARY__UNKNOWN_SEEN; n++) {
		uint32_t v = 0;

		if (atomic_compare_exchange_strong(&u->seen[slot], &v, hash)) {
			queue(u, key, len);
			return;
		}
		if (v == hash)
			return; /* another thread noted it first */
		slot = (slot + 1) % CANARY__UNKNOWN_SEEN;
	}
}

/* Optimal string alignment distance, given up past `limit`. */
static unsigned distance(const char *a, size_t n, const char *b, size_t m,
	unsigned limit)
{
	unsigned rows[3][CANARY__UNKNOWN_KEY_MAX + 1];
	unsigned *prev2 = rows[0], *prev = rows[1], *cur = rows[2], *t;
	size_t i, j;

	if (n >= CANARY__UNKNOWN_KEY_MAX || m >= CANARY__UNKNOWN_KEY_MAX)
		return limit + 1;
	for (j = 0; j <= m; j++)
		prev[j] = (unsigned)j;
	for (i = 1; i <= n; i++) {
		unsigned best;

		cur[0] = best = (unsigned)i;
		for (j = 1; j <= m; j++) {
			unsigned cost = a[i - 1] != b[j - 1];
			unsigned d = prev[j] + 1;

			if (cur[j - 1] + 1 < d)
				d = cur[j - 1] + 1;
			if (prev[j - 1] + cost < d)
				d = prev[j - 1] + cost;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && prev2[j - 2] + 1 < d)
				d = prev2[j - 2] + 1;
			cur[j] = d;
			if (d < best)
				best = d;
		}
		if (best > limit)
			return limit + 1;
		t = prev2;
		prev2 = prev;
		prev = cur;
		cur = t;
	}
	return prev[m];
}

const char *canary__unknown_nearest(const canary__snapshot *snap,
	const char *key)
{
	size_t n = strlen(key), i;
	/* About one edit in four characters: "chekout" is "checkout", "a"
	 * is not "b". */
	unsigned limit = n < 4 ? 1 : n < 16 ? (unsigned)(n + 3) / 4 : 4;
	unsigned best = limit + 1;
	const char *nearest = NULL;

	for (i = 0; i < snap->config->count; i++) {
		const char *k = snap->config->flags[i].key;
		size_t m = strlen(k);
		unsigned d;

		if (best == 0)
			break;
		if ((m > n ? m - n : n - m) > best - 1)
			continue;
		d = distance(key, n, k, m, best - 1);
		if (d < best) {
			best = d;
			nearest = k;
		}
	}
	return best <= limit ? nearest : NULL;
}

static void report_one(canary__unknown *u, const char *key,
	canary__snapshot *snap, const canary__logger *log)
{
	const char *near = snap ? canary__unknown_nearest(snap, key) : NULL;
	char hint[CANARY__UNKNOWN_KEY_MAX + 40] = "";

	if (near)
		snprintf(hint, sizeof(hint), "; did you mean \"%.*s\"?",
			CANARY__UNKNOWN_KEY_MAX - 1, near);
	canary__log(log, CANARY_LOG_WARN,
		"flag \"%s\" is not in the config (version %" PRIu64
		"): it answers stable%s", key, snap ? snap->version : 0, hint);
	pthread_mutex_lock(&u->lock);
	snprintf(u->recent[u->reported % CANARY__UNKNOWN_RECENT],
		sizeof(u->recent[0]), "\"%s\"%s%s%s", key,
		near ? " (did you mean \"" : "", near ? near : "", near ? "\"?)" : "");
	u->reported++;
	pthread_mutex_unlock(&u->lock);
}

void canary__unknown_report(canary__unknown *u, canary__live *live,
	const canary__logger *log)
{
	canary__hazard_guard g;
	canary__snapshot *snap = NULL;
	bool entered = false;
	unsigned i;

	for (i = 0; i < CANARY__UNKNOWN_PENDING; i++) {
		canary__unknown_slot *s = &u->pending[i];

		if (atomic_load_explicit(&s->state, memory_order_acquire) != 2)
			continue;
		if (!entered) {
			snap = canary__hazard_enter(&live->snapshots, &g);
			entered = true;
		}
		report_one(u, s->key, snap, log);
		atomic_store_explicit(&s->state, 0, memory_order_release);
	}
	if (entered)
		canary__hazard_leave(&live->snapshots, &g);
	pthread_mutex_lock(&u->lock);
	if (!u->full_said && (atomic_load(&u->lost) ||
	    atomic_load_explicit(&u->seen[CANARY__UNKNOWN_SEEN - 1],
	    memory_order_relaxed))) {
		unsigned used = 0;

		for (i = 0; i < CANARY__UNKNOWN_SEEN; i++)
			used += atomic_load_explicit(&u->seen[i],
				memory_order_relaxed) != 0;
		if (used == CANARY__UNKNOWN_SEEN || atomic_load(&u->lost)) {
			u->full_said = true;
			canary__log(log, CANARY_LOG_WARN,
				"more unknown flag keys than this client remembers (%d): further ones are not reported",
				CANARY__UNKNOWN_SEEN);
		}
	}
	pthread_mutex_unlock(&u->lock);
}

void canary__unknown_describe(canary__unknown *u, char *buf, size_t len)
{
	size_t used = 0;
	unsigned i, first;

	buf[0] = '\0';
	pthread_mutex_lock(&u->lock);
	first = u->reported > CANARY__UNKNOWN_RECENT ?
		u->reported - CANARY__UNKNOWN_RECENT : 0;
	if (u->reported)
		used = (size_t)snprintf(buf, len, "%u", u->reported);
	for (i = first; i < u->reported && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s",
			i == first ? ": " : ", ",
			u->recent[i % CANARY__UNKNOWN_RECENT]);
	if (u->reported > CANARY__UNKNOWN_RECENT && used < len)
		snprintf(buf + used, len - used, " (the last %d)",
			CANARY__UNKNOWN_RECENT);
	pthread_mutex_unlock(&u->lock);
}
