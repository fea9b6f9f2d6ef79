/*
 * known.c - see known.h. The keys of a config come sorted (the config's
 * order), so a lookup is a binary search under a read lock.
 */
#include "publish/known.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct cs_known {
	pthread_rwlock_t lock;
	uint64_t version;
	char **keys;        /* sorted, owned */
	size_t n;
};

int cs_known_new(cs_known **out)
{
	cs_known *k = calloc(1, sizeof(*k));

	*out = k;
	if (!k)
		return CANARY_ENOMEM;
	pthread_rwlock_init(&k->lock, NULL);
	return CANARY_OK;
}

static void free_keys(char **keys, size_t n)
{
	size_t i;

	for (i = 0; keys && i < n; i++)
		free(keys[i]);
	free(keys);
}

void cs_known_free(cs_known *k)
{
	if (!k)
		return;
	free_keys(k->keys, k->n);
	pthread_rwlock_destroy(&k->lock);
	free(k);
}

int cs_known_set(cs_known *k, const canary__config *c)
{
	char **keys = calloc(c->count ? c->count : 1, sizeof(*keys)), **old;
	size_t i, n;

	if (!keys)
		return CANARY_ENOMEM;
	for (i = 0; i < c->count; i++) {
		keys[i] = strdup(c->flags[i].key);
		if (!keys[i]) {
			free_keys(keys, i);
			return CANARY_ENOMEM;
		}
	}
	pthread_rwlock_wrlock(&k->lock);
	old = k->keys;
	n = k->n;
	k->keys = keys;
	k->n = c->count;
	if (c->version > k->version)
		k->version = c->version;
	pthread_rwlock_unlock(&k->lock);
	free_keys(old, n);
	return CANARY_OK;
}

uint64_t cs_known_version(cs_known *k)
{
	uint64_t v;

	pthread_rwlock_rdlock(&k->lock);
	v = k->version;
	pthread_rwlock_unlock(&k->lock);
	return v;
}

static int cmp_key(const void *key, const void *elem)
{
	return strcmp(key, *(char *const *)elem);
}

bool cs_known_flag(cs_known *k, const char *key)
{
	bool found;

	pthread_rwlock_rdlock(&k->lock);
	found = k->n && bsearch(key, k->keys, k->n, sizeof(*k->keys),
		cmp_key) != NULL;
	pthread_rwlock_unlock(&k->lock);
	return found;
}
