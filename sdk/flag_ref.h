/*
 * flag_ref.h - flag handles (canary_flag_ref): a flag key resolved once,
 * for hot loops.
 *
 * A handle keeps its key, the key's hash and one atomic word caching where
 * the flag is in one snapshot: (snapshot seq << 32) | (table slot + 1),
 * 0 for "not in that snapshot". An evaluation whose snapshot has the
 * cached seq reads the entry directly: no hash of the flag key, no probe.
 * After a config change the first evaluation through the handle finds the
 * flag again by its stored hash and caches the new word; threads racing to
 * do so write the same value, and a reader only trusts a word whose seq
 * is the snapshot it holds, so a stale word costs a lookup, never a wrong
 * answer. A flag deleted by a config answers stable (FLAG_NOT_FOUND) and
 * comes back when a config has it again.
 *
 * Handles belong to the client: one per key (asking again gives the same
 * handle), freed with the client, at most CANARY__MAX_FLAG_REFS of them.
 */
#ifndef CANARY_SDK_FLAG_REF_H
#define CANARY_SDK_FLAG_REF_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "alloc.h"
#include "snapshot.h"

#define CANARY__MAX_FLAG_REFS 65536

struct canary_flag_ref {
	_Atomic uint64_t where;       /* seq << 32 | (slot + 1); 0 unknown */
	const void *owner;            /* the client: a handle is refused by
	                                 any other */
	uint32_t key_hash;
	uint32_t key_len;
	struct canary_flag_ref *next; /* the registry's bucket */
	char key[];
};

#define CANARY__FLAG_REF_BUCKETS 256

typedef struct canary__flag_refs {
	pthread_mutex_t lock;
	const canary__alloc *alloc;
	struct canary_flag_ref *bucket[CANARY__FLAG_REF_BUCKETS]; /* by hash */
	unsigned count;
} canary__flag_refs;

void canary__flag_refs_init(canary__flag_refs *r, const canary__alloc *a);
/* Frees every handle. */
void canary__flag_refs_destroy(canary__flag_refs *r);

/* fork(): hold the registry's lock across it, release it in both. */
void canary__flag_refs_prefork(canary__flag_refs *r);
void canary__flag_refs_postfork(canary__flag_refs *r);

/* The handle of `key` for `owner`: the existing one, or a new one. NULL
 * with canary_error_last() set when out of memory or past the limit. */
struct canary_flag_ref *canary__flag_refs_get(canary__flag_refs *r,
	const void *owner, const char *key);

/* Where the handle's flag is in `snap`, which the caller holds: its
 * entry, or NULL when the config has no such flag. */
static inline const canary__snap_entry *canary__flag_ref_entry(
	struct canary_flag_ref *ref, const canary__snapshot *snap)
{
	uint64_t where = atomic_load_explicit(&ref->where, memory_order_relaxed);
	const canary__snap_entry *e;

	if ((uint32_t)(where >> 32) == snap->seq)
		return (uint32_t)where ? &snap->table[(uint32_t)where - 1] : NULL;
	e = canary__snapshot_find_hashed(snap, ref->key, ref->key_len,
		ref->key_hash);
	where = (uint64_t)snap->seq << 32 |
		(e ? canary__snap_slot(snap, e) + 1u : 0u);
	atomic_store_explicit(&ref->where, where, memory_order_relaxed);
	return e;
}

#endif
