/*
 * snapshot.c - build the index of a config (see snapshot.h).
 */
#include "snapshot.h"

#include "bucket.h"
#include "error.h"

static uint32_t table_size_for(size_t count)
{
	uint32_t size = 8;

	/* Load factor at most 1/2 keeps probe chains short. */
	while (size < count * 2)
		size *= 2;
	return size;
}

static void fill_entry(canary__snap_entry *e, const canary__flag *f,
	size_t key_len, uint32_t hash)
{
	e->key_hash = hash;
	e->key_len = (uint32_t)key_len;
	memcpy(e->key_head, f->key,
		key_len < CANARY__KEY_HEAD ? key_len : CANARY__KEY_HEAD);
	canary__bucket_prefix(&e->prefix, f->salt, strlen(f->salt));
	e->rollout_bp = (uint16_t)f->rollout_bp;
	e->enabled = f->enabled;
	e->has_lists = f->allow.count || f->deny.count;
	e->flag = f;
}

static void insert(canary__snapshot *snap, uint32_t index)
{
	const canary__flag *f = &snap->config->flags[index];
	size_t key_len = strlen(f->key);
	uint32_t hash = canary__snapshot_hash(f->key, key_len);
	uint32_t i = hash & snap->mask;

	while (snap->slots[i].entry)
		i = (i + 1) & snap->mask;
	snap->slots[i].hash = hash;
	snap->slots[i].entry = index + 1;
	fill_entry(&snap->entries[index], f, key_len, hash);
}

/* The client's allocator promises malloc's alignment only: align by hand. */
static int alloc_entries(canary__snapshot *snap, size_t count)
{
	uintptr_t p;

	snap->entries_mem = canary__calloc(snap->alloc, count + 1,
		sizeof(canary__snap_entry));
	if (!snap->entries_mem)
		return CANARY_ENOMEM;
	p = (uintptr_t)snap->entries_mem;
	p = (p + CANARY__CACHE_LINE - 1) & ~(uintptr_t)(CANARY__CACHE_LINE - 1);
	snap->entries = (canary__snap_entry *)p;
	return CANARY_OK;
}

int canary__snapshot_new(const canary__alloc *a, canary__config *config,
	canary__snapshot **out)
{
	canary__snapshot *snap;
	uint32_t size;
	size_t i;

	*out = NULL;
	snap = canary__calloc(a, 1, sizeof(*snap));
	size = table_size_for(config->count);
	if (snap) {
		snap->alloc = a;
		snap->slots = canary__calloc(a, size, sizeof(*snap->slots));
	}
	if (!snap || !snap->slots || alloc_entries(snap, config->count) != CANARY_OK) {
		if (snap)
			canary__free(a, snap->slots);
		canary__free(a, snap);
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
	canary__free(snap->alloc, snap->slots);
	canary__free(snap->alloc, snap->entries_mem);
	canary__free(snap->alloc, snap);
}
