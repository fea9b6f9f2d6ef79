/*
 * segment_use.c - which flags name which segments (see segment_use.h).
 */
#include "store/segment_use.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/storage.h"

bool cs_flag_uses_segment(const canary__flag *f, const char *name)
{
	return canary__strlist_contains(&f->target.segments, name);
}

void cs_segment_user_add(char *out, size_t len, const char *key)
{
	size_t n = strlen(out);

	if (n + 1 < len)
		snprintf(out + n, len - n, "%s%s", n ? ", " : "", key);
}

int cs_flag_keys_add(cs_flag_keys *k, const char *key)
{
	char *copy = strdup(key);
	int rc = copy ? cs_grow((void **)&k->keys, &k->cap, k->n,
		sizeof(*k->keys)) : CANARY_ENOMEM;

	if (rc != CANARY_OK) {
		free(copy);
		return rc;
	}
	k->keys[k->n++] = copy;
	return CANARY_OK;
}

void cs_flag_keys_clear(cs_flag_keys *k)
{
	size_t i;

	for (i = 0; i < k->n; i++)
		free(k->keys[i]);
	free(k->keys);
	memset(k, 0, sizeof(*k));
}

static bool used(const canary__config *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->count; i++)
		if (cs_flag_uses_segment(&c->flags[i], name))
			return true;
	return false;
}

int cs_segments_keep_used(canary__config *c, canary__segdef *all, size_t n)
{
	size_t i, kept = 0;

	for (i = 0; i < n; i++) {
		if (used(c, all[i].name))
			all[kept++] = all[i];
		else
			canary__segdef_clear(canary__alloc_default(), &all[i]);
	}
	if (!kept) {
		free(all);
		return CANARY_OK;
	}
	c->segments.items = all;
	c->segments.count = kept;
	return CANARY_OK;
}

int cs_flag_segments_exist(const canary__flag *f, cs_segment_exists_fn exists,
	void *ctx)
{
	size_t i;
	int rc;

	for (i = 0; i < f->target.segments.count; i++) {
		rc = exists(ctx, f->target.segments.items[i]);
		if (rc != CANARY_OK)
			return rc == CS_ENOTFOUND ? CS_ENOSEGMENT : rc;
	}
	return CANARY_OK;
}
