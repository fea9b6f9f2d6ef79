/*
 * unknown_flags.h - telling the application about flag keys that are not
 * in the config (a typo answers stable forever, silently, otherwise).
 *
 * The evaluating thread only notes the key: its hash goes into a small set
 * of keys already seen (lock-free, bounded), and a key seen for the first
 * time is copied into one of a few pending slots. Nothing is logged there
 * (evaluation does no I/O): the worker, or canary_client_tick(), reports
 * the pending keys, each once, with the nearest key of the config when one
 * is close (canary__unknown_report()). A flag that IS in the config never
 * reaches any of this. Memory is fixed: CANARY__UNKNOWN_SEEN keys are
 * remembered; past that, new unknown keys are not reported (said once).
 */
#ifndef CANARY_SDK_UNKNOWN_FLAGS_H
#define CANARY_SDK_UNKNOWN_FLAGS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "live.h"
#include "log.h"
#include "snapshot.h"

#define CANARY__UNKNOWN_SEEN 64     /* distinct keys remembered */
#define CANARY__UNKNOWN_PENDING 8   /* waiting to be reported */
#define CANARY__UNKNOWN_KEY_MAX 128 /* bytes of a key kept, with its NUL */
#define CANARY__UNKNOWN_RECENT 4    /* the last reported, for diagnose */

typedef struct canary__unknown_slot {
	atomic_int state;               /* 0 free, 1 being written, 2 ready */
	char key[CANARY__UNKNOWN_KEY_MAX];
} canary__unknown_slot;

typedef struct canary__unknown {
	_Atomic uint32_t seen[CANARY__UNKNOWN_SEEN]; /* key hashes; 0 empty */
	canary__unknown_slot pending[CANARY__UNKNOWN_PENDING];
	atomic_uint lost;               /* first seen with no pending slot */
	/* Reporting side. */
	pthread_mutex_t lock;
	unsigned reported;
	bool full_said;
	char recent[CANARY__UNKNOWN_RECENT][CANARY__UNKNOWN_KEY_MAX + 64];
} canary__unknown;

void canary__unknown_init(canary__unknown *u);
void canary__unknown_destroy(canary__unknown *u);

/* fork(): hold the reporting lock across it, release it in both. */
void canary__unknown_prefork(canary__unknown *u);
void canary__unknown_postfork(canary__unknown *u);

/* First sighting of a key: remember it and queue it (not inline). */
void canary__unknown_add(canary__unknown *u, const char *key, size_t len,
	uint32_t hash, unsigned slot);

/* Evaluation found no flag `key` (hash: canary__snapshot_hash()). A key
 * already seen costs a probe of the set, without a write. */
static inline void canary__unknown_note(canary__unknown *u, const char *key,
	size_t len, uint32_t hash)
{
	uint32_t h = hash ? hash : 1;
	unsigned i = h % CANARY__UNKNOWN_SEEN, n;

	for (n = 0; n < CANARY__UNKNOWN_SEEN; n++) {
		uint32_t v = atomic_load_explicit(&u->seen[i],
			memory_order_relaxed);

		if (v == h)
			return;
		if (v == 0) {
			canary__unknown_add(u, key, len, h, i);
			return;
		}
		i = (i + 1) % CANARY__UNKNOWN_SEEN;
	}
}

/* Log every pending key once, at WARN, with the nearest key of the config
 * in force when one is close. Any thread; not the hot path. */
void canary__unknown_report(canary__unknown *u, canary__live *live,
	const canary__logger *log);

/* The keys reported so far, for canary_client_diagnose(): "" when none. */
void canary__unknown_describe(canary__unknown *u, char *buf, size_t len);

/* The nearest key of `snap` to `key` (edit distance, transpositions
 * counting one), when it is close for a key of its length; else NULL. */
const char *canary__unknown_nearest(const canary__snapshot *snap,
	const char *key);

#endif
