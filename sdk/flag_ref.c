/*
 * flag_ref.c - the client's flag handles (see flag_ref.h).
 */
#include "flag_ref.h"

#include "config.h"
#include "error.h"

void canary__flag_refs_init(canary__flag_refs *r, const canary__alloc *a)
{
	pthread_mutex_init(&r->lock, NULL);
	r->alloc = a;
	r->head = NULL;
	r->count = 0;
}

void canary__flag_refs_destroy(canary__flag_refs *r)
{
	struct canary_flag_ref *ref = r->head, *next;

	for (; ref; ref = next) {
		next = ref->next;
		canary__free(r->alloc, ref);
	}
	r->head = NULL;
	pthread_mutex_destroy(&r->lock);
}

static struct canary_flag_ref *find(canary__flag_refs *r, const char *key,
	size_t len)
{
	struct canary_flag_ref *ref;

	for (ref = r->head; ref; ref = ref->next)
		if (ref->key_len == len && memcmp(ref->key, key, len) == 0)
			return ref;
	return NULL;
}

static struct canary_flag_ref *make(canary__flag_refs *r, const void *owner,
	const char *key, size_t len)
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
	ref->key_hash = canary__snapshot_hash(key, len);
	ref->key_len = (uint32_t)len;
	memcpy(ref->key, key, len + 1);
	ref->next = r->head;
	r->head = ref;
	r->count++;
	return ref;
}

struct canary_flag_ref *canary__flag_refs_get(canary__flag_refs *r,
	const void *owner, const char *key)
{
	struct canary_flag_ref *ref;
	size_t len = strlen(key);

	if (len == 0 || len > CANARY__MAX_KEY_LEN) {
		canary__error_set(CANARY_EINVAL,
			"flag: a key is 1..%d bytes", CANARY__MAX_KEY_LEN);
		return NULL;
	}
	pthread_mutex_lock(&r->lock);
	ref = find(r, key, len);
	if (!ref)
		ref = make(r, owner, key, len);
	pthread_mutex_unlock(&r->lock);
	return ref;
}
