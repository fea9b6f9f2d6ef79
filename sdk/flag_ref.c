/*
 * flag_ref.c - the client's flag handles (see flag_ref.h).
 */
#include "flag_ref.h"

#include "config.h"
#include "error.h"

void canary__flag_refs_init(canary__flag_refs *r, const canary__alloc *a)
{
	memset(r, 0, sizeof(*r));
	pthread_mutex_init(&r->lock, NULL);
	r->alloc = a;
}

void canary__flag_refs_destroy(canary__flag_refs *r)
{
	struct canary_flag_ref *ref, *next;
	unsigned b;

	for (b = 0; b < CANARY__FLAG_REF_BUCKETS; b++) {
		for (ref = r->bucket[b]; ref; ref = next) {
			next = ref->next;
			canary__free(r->alloc, ref);
		}
		r->bucket[b] = NULL;
	}
	pthread_mutex_destroy(&r->lock);
}

void canary__flag_refs_prefork(canary__flag_refs *r)
{
	pthread_mutex_lock(&r->lock);
}

void canary__flag_refs_postfork(canary__flag_refs *r)
{
	pthread_mutex_unlock(&r->lock);
}

static struct canary_flag_ref **bucket_of(canary__flag_refs *r,
	uint32_t hash)
{
	return &r->bucket[hash % CANARY__FLAG_REF_BUCKETS];
}

static struct canary_flag_ref *find(canary__flag_refs *r, const char *key,
	size_t len, uint32_t hash)
{
	struct canary_flag_ref *ref;

	for (ref = *bucket_of(r, hash); ref; ref = ref->next)
		if (ref->key_hash == hash && ref->key_len == len &&
		    memcmp(ref->key, key, len) == 0)
			return ref;
	return NULL;
}

static struct canary_flag_ref *make(canary__flag_refs *r, const void *owner,
	const char *key, size_t len, uint32_t hash)
{
	struct canary_flag_ref *ref;

	if (r->count >= CANARY__MAX_FLAG_REFS) {
		canary__error_set(CANARY_ENOMEM,
			"flag handles: at most %u per client", CANARY__MAX_FLAG_REFS);
		return NULL;
	}
	ref = canary__calloc(r->alloc, 1, sizeof(*ref) + len + 1);
	if (!ref) {
		canary__error_set(CANARY_ENOMEM, "out of memory");
		return NULL;
	}
	atomic_init(&ref->where, 0);
	ref->owner = owner;
	ref->key_hash = hash;
	ref->key_len = (uint32_t)len;
	memcpy(ref->key, key, len + 1);
	ref->next = *bucket_of(r, hash);
	*bucket_of(r, hash) = ref;
	r->count++;
	return ref;
}

struct canary_flag_ref *canary__flag_refs_get(canary__flag_refs *r,
	const void *owner, const char *key)
{
	struct canary_flag_ref *ref;
	size_t len = strlen(key);
	uint32_t hash;

	if (len == 0 || len > CANARY__MAX_KEY_LEN) {
		canary__error_set(CANARY_EINVAL,
			"flag: a key is 1..%d bytes", CANARY__MAX_KEY_LEN);
		return NULL;
	}
	hash = canary__snapshot_hash(key, len);
	pthread_mutex_lock(&r->lock);
	ref = find(r, key, len, hash);
	if (!ref)
		ref = make(r, owner, key, len, hash);
	pthread_mutex_unlock(&r->lock);
	return ref;
}
