/*
 * snapshot.c - build the index of a config (see snapshot.h).
 */
#include "snapshot.h"

#include "bucket.h"
#include "error.h"

static uint32_t table_size_for(size_t count)
{
	uint32_t size = 8;

	/* Load factor at most 2/3 keeps probe chains short. */
	while (size * 2 < count * 3)
		size *= 2;
	return size;
}

static void insert(canary__snapshot *snap, uint32_t index)
{
	const canary__flag *f = &snap->config->flags[index];
	size_t key_len = strlen(f->key);
	uint32_t hash = canary__snapshot_hash(f->key, key_len);
	uint32_t i = hash & snap->mask;
	canary__snap_entry *e;

	while (snap->table[i].flag)
		i = (i + 1) & snap->mask;
	e = &snap->table[i];
	e->key_hash = hash;
	e->key_len = (uint32_t)key_len;
	memcpy(e->key_head, f->key,
		key_len < CANARY__KEY_HEAD ? key_len : CANARY__KEY_HEAD);
	canary__bucket_prefix(&e->prefix, f->salt, strlen(f->salt));
	e->rollout_bp = (uint16_t)f->rollout_bp;
	e->enabled = f->enabled;
	e->has = (uint8_t)((f->allow.count || f->deny.count ? CANARY__HAS_LISTS : 0) |
		(f->target.compiled ? CANARY__HAS_TARGET : 0) |
		(f->unleash ? CANARY__HAS_UNLEASH : 0));
	e->index = index;
	e->flag = f;
}

/* The client's allocator promises malloc's alignment only: the table
 * is allocated aligned to a cache line. */
static int alloc_table(canary__snapshot *snap, uint32_t size)
{
	snap->table = canary__calloc_aligned(snap->alloc,
		(size_t)size * sizeof(canary__snap_entry), CANARY__CACHE_LINE);
	return snap->table ? CANARY_OK : CANARY_ENOMEM;
}

int canary__snapshot_new(const canary__alloc *a, canary__config *config,
	canary__snapshot **out)
{
	canary__snapshot *snap;
	uint32_t size;
	size_t i;

	*out = NULL;
	snap = canary__new(a, canary__snapshot);
	size = table_size_for(config->count);
	if (snap)
		snap->alloc = a;
	if (!snap || alloc_table(snap, size) != CANARY_OK) {
		canary__delete(a, snap, canary__snapshot);
		canary__config_free(a, config);
		return canary__error_set(CANARY_ENOMEM, "snapshot: out of memory");
	}
	snap->config = config;
	snap->version = config->version;
	snap->mask = size - 1;
	for (i = 0; i < config->count; i++)
		insert(snap, (uint32_t)i);
	*out = snap;
	return CANARY_OK;
}

void canary__snapshot_free(canary__snapshot *snap)
{
	if (!snap)
		return;
	canary__config_free(snap->alloc, snap->config);
	canary__free_aligned(snap->alloc, snap->table, CANARY__CACHE_LINE);
	canary__delete(snap->alloc, snap, canary__snapshot);
}
