/*
 * snapshot.h - an immutable, indexed config: what evaluation reads.
 *
 * Built once per config change from a parsed canary__config, then published
 * through the client's hazard domain and never modified. Lookup by flag key
 * is one hash of the key and, almost always, one probe.
 *
 * The table is open addressing with linear probing, one cache line per
 * slot, at a load factor of at most 2/3: an entry holds everything
 * evaluation reads, the first bytes of the key included (a key up to
 * CANARY__KEY_HEAD bytes is compared without leaving the entry's line),
 * so that finding a flag among 10,000 costs one line in the common case,
 * and the next line (which the hardware fetches along) when it probes on.
 */
#ifndef CANARY_SDK_SNAPSHOT_H
#define CANARY_SDK_SNAPSHOT_H

#include <stdint.h>
#include <string.h>

#include "config.h"
#include "hazard.h"
#include "murmur3.h"

#define CANARY__KEY_SEED 0x5bd1e995u
#define CANARY__KEY_HEAD 24

/* What a flag needs beyond the kill switch and the split (snap_entry.has):
 * a plain flag has none of them, and its evaluation tests one byte. */
#define CANARY__HAS_LISTS 0x1u    /* allow or deny list non-empty */
#define CANARY__HAS_TARGET 0x2u   /* rules or a stickiness (targeting.h) */
#define CANARY__HAS_UNLEASH 0x4u  /* an Unleash feature (targeting.c) */

typedef struct canary__snap_entry {
	_Alignas(CANARY__CACHE_LINE) uint32_t key_hash;
	uint32_t key_len;
	canary__murmur3 prefix;  /* murmur3 midstate after "<salt>:" */
	uint16_t rollout_bp;
	uint8_t enabled;
	uint8_t has;             /* CANARY__HAS_* bits */
	uint32_t index;          /* the flag's position in config->flags,
	                            and its row of counters */
	char key_head[CANARY__KEY_HEAD]; /* the key's first bytes */
	const canary__flag *flag; /* NULL = empty slot */
} canary__snap_entry;

typedef struct canary__snapshot {
	const canary__alloc *alloc;
	canary__config *config;  /* owned */
	uint64_t version;
	uint32_t seq;            /* set by the publisher: flag handles (live.h) */
	uint32_t mask;           /* table size - 1 (a power of two) */
	canary__snap_entry *table; /* cache-line aligned */
} canary__snapshot;

/* Build a snapshot that takes ownership of `config` (also on failure). */
int canary__snapshot_new(const canary__alloc *a, canary__config *config,
	canary__snapshot **out);
void canary__snapshot_free(canary__snapshot *snap);

static inline uint32_t canary__snapshot_hash(const char *key, size_t key_len)
{
	return canary__murmur3_32(key, key_len, CANARY__KEY_SEED);
}

static inline int canary__snap_entry_is(const canary__snap_entry *e,
	const char *key, size_t key_len)
{
	size_t head = key_len < CANARY__KEY_HEAD ? key_len : CANARY__KEY_HEAD;

	return e->key_len == key_len && memcmp(e->key_head, key, head) == 0 &&
		(key_len <= CANARY__KEY_HEAD ||
		 memcmp(e->flag->key + head, key + head, key_len - head) == 0);
}

/* The entry of `key` whose hash (canary__snapshot_hash()) is `hash`. */
static inline const canary__snap_entry *canary__snapshot_find_hashed(
	const canary__snapshot *snap, const char *key, size_t key_len,
	uint32_t hash)
{
	uint32_t i = hash & snap->mask;

	for (;; i = (i + 1) & snap->mask) {
		const canary__snap_entry *e = &snap->table[i];

		if (!e->flag)
			return NULL;
		if (e->key_hash == hash && canary__snap_entry_is(e, key, key_len))
			return e;
	}
}

static inline const canary__snap_entry *canary__snapshot_find(
	const canary__snapshot *snap, const char *key, size_t key_len)
{
	return canary__snapshot_find_hashed(snap, key, key_len,
		canary__snapshot_hash(key, key_len));
}

/* The allow and deny lists of a flag with lists: 1 when `unit` is
 * allowed (canary), 0 when denied (deny wins), -1 when on neither. */
static inline int canary__snap_lists(const canary__flag *f, const char *unit)
{
	if (canary__strlist_contains(&f->deny, unit))
		return 0;
	return canary__strlist_contains(&f->allow, unit) ? 1 : -1;
}

/* An entry's slot in the table (flag handles cache it). */
static inline uint32_t canary__snap_slot(const canary__snapshot *snap,
	const canary__snap_entry *e)
{
	return (uint32_t)(e - snap->table);
}

#endif
