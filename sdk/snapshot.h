/*
 * snapshot.h - an immutable, indexed config: what evaluation reads.
 *
 * Built once per config change from a parsed canary__config, then published
 * through the client's hazard domain and never modified. Lookup by flag key
 * is one hash of the key and, almost always, one probe.
 */
#ifndef CANARY_SDK_SNAPSHOT_H
#define CANARY_SDK_SNAPSHOT_H

#include <stdint.h>
#include <string.h>

#include "config.h"
#include "murmur3.h"

#define CANARY__KEY_SEED 0x5bd1e995u

typedef struct canary__snap_entry {
	const char *key;         /* NULL = empty table slot */
	uint32_t key_hash;
	uint32_t key_len;
	canary__murmur3 prefix;  /* murmur3 midstate after "<salt>:" */
	uint32_t rollout_bp;
	uint8_t enabled;
	uint8_t has_lists;       /* allow or deny list non-empty */
	uint32_t index;          /* position of the flag in config->flags */
	const canary__flag *flag;
} canary__snap_entry;

typedef struct canary__snapshot {
	const canary__alloc *alloc;
	canary__config *config;  /* owned */
	uint64_t version;
	uint32_t mask;           /* table size - 1 (a power of two) */
	canary__snap_entry *table;
} canary__snapshot;

/* Build a snapshot that takes ownership of `config` (also on failure). */
int canary__snapshot_new(const canary__alloc *a, canary__config *config,
	canary__snapshot **out);
void canary__snapshot_free(canary__snapshot *snap);

static inline const canary__snap_entry *canary__snapshot_find(
	const canary__snapshot *snap, const char *key, size_t key_len)
{
	uint32_t hash = canary__murmur3_32(key, key_len, CANARY__KEY_SEED);
	uint32_t i = hash & snap->mask;

	for (;; i = (i + 1) & snap->mask) {
		const canary__snap_entry *e = &snap->table[i];

		if (!e->key)
			return NULL;
		if (e->key_hash == hash && e->key_len == key_len &&
		    memcmp(e->key, key, key_len) == 0)
			return e;
	}
}

#endif
