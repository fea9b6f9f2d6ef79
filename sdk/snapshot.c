/*
 * snapshot.c - build the open-addressing index of a config.
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

static void insert(canary__snapshot *snap, const canary__flag *f,
	uint32_t index)
{
	size_t key_len = strlen(f->key);
	uint32_t hash = canary__murmur3_32(f->key, key_len, CANARY__KEY_SEED);
	uint32_t i = hash & snap->mask;
	canary__snap_entry *e;

	while (snap->table[i].key)
		i = (i + 1) & snap->mask;
	e = &snap->table[i];
	e->key = f->key;
	e->key_hash = hash;
	e->key_len = (uint32_t)key_len;
	canary__bucket_prefix(&e->prefix, f->salt, strlen(f->salt));
	e->rollout_bp = f->rollout_bp;
	e->enabled = f->enabled;
	e->has_lists = f->allow.count || f->deny.count;
	e->index = index;
	e->flag = f;
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
		snap->table = canary__calloc(a, size, sizeof(*snap->table));
	if (!snap || !snap->table) {
		canary__delete(a, snap, canary__snapshot);
		canary__config_free(a, config);
		return canary__error_set(CANARY_ENOMEM, "snapshot: out of memory");
	}
	snap->alloc = a;
	snap->config = config;
	snap->version = config->version;
	snap->mask = size - 1;
	for (i = 0; i < config->count; i++)
		insert(snap, &config->flags[i], (uint32_t)i);
	*out = snap;
	return CANARY_OK;
}

void canary__snapshot_free(canary__snapshot *snap)
{
	if (!snap)
		return;
	canary__config_free(snap->alloc, snap->config);
	canary__free(snap->alloc, snap->table);
	canary__delete(snap->alloc, snap, canary__snapshot);
}
