/*
 * segment_use.h - which flags name which segments, the same in every
 * storage backend: the segments a config carries, the flags a segment
 * change or deletion touches, and whether a flag's segments exist.
 */
#ifndef CS_SEGMENT_USE_H
#define CS_SEGMENT_USE_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

/* Does flag `f` name segment `name`? */
bool cs_flag_uses_segment(const canary__flag *f, const char *name);

/* Append `key` to the comma-separated list `out` (cut at `len`). */
void cs_segment_user_add(char *out, size_t len, const char *key);

/* The keys of the flags a segment change touches, for its audit record
 * (a list of keys: a key may hold any character). */
typedef struct cs_flag_keys {
	char **keys;
	size_t n, cap;
} cs_flag_keys;

/* Append a copy of `key`: CANARY_OK or CANARY_ENOMEM. */
int cs_flag_keys_add(cs_flag_keys *k, const char *key);
/* Free the keys; `k` is empty again. */
void cs_flag_keys_clear(cs_flag_keys *k);

/*
 * Give config `c` (its flags read) the segments of `all` (an array of
 * `n` from cs_store_segment_list's order, by name; taken over: those no
 * flag names are freed) that its flags name.
 */
int cs_segments_keep_used(canary__config *c, canary__segdef *all, size_t n);

/* CANARY_OK when every segment `f` names exists (`exists` says, for the
 * backend: CANARY_OK, CS_ENOTFOUND or an error), else CS_ENOSEGMENT. */
typedef int (*cs_segment_exists_fn)(void *ctx, const char *name);
int cs_flag_segments_exist(const canary__flag *f, cs_segment_exists_fn exists,
	void *ctx);

#endif
