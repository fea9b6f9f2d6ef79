/*
 * arena.h - a bump allocator for compiled rule sets and flag models.
 *
 * A compiled model is built once, read by many threads, and freed whole:
 * one arena per model makes building cheap (a 10,000-feature document is
 * a few thousand chunk allocations, not hundreds of thousands) and freeing
 * trivial. Resources that are not arena memory (a PCRE2 pattern) register
 * a cleanup that runs when the arena is freed.
 */
#ifndef CANARY_PROTO_ARENA_H
#define CANARY_PROTO_ARENA_H

#include <stddef.h>

#include "canary/canary.h"

typedef struct canary__arena_chunk canary__arena_chunk;
typedef struct canary__arena_cleanup canary__arena_cleanup;

typedef struct canary__arena {
	canary_allocator alloc;        /* complete: all three functions set */
	canary__arena_chunk *chunks;   /* newest first */
	unsigned char *next;           /* free space in the newest chunk */
	size_t left;
	size_t chunk_size;             /* size of the next chunk; doubles */
	canary__arena_cleanup *cleanups;
} canary__arena;

/* `alloc` is copied; NULL (or all three hooks NULL) means the C library's
 * (canary__alloc_default()). A partial allocator is the caller's bug: the
 * C library's is used. */
void canary__arena_init(canary__arena *arena, const canary_allocator *alloc);

/* Zeroed memory aligned for any type, or NULL when the allocator fails.
 * Freed only with the whole arena. */
void *canary__arena_alloc(canary__arena *arena, size_t size);
void *canary__arena_array(canary__arena *arena, size_t count, size_t size);
char *canary__arena_strndup(canary__arena *arena, const char *s, size_t len);

/* Run fn(ptr) when the arena is freed (last registered first).
 * Returns CANARY_OK or CANARY_ENOMEM (then fn has NOT been recorded). */
int canary__arena_defer(canary__arena *arena, void (*fn)(void *), void *ptr);

/* Run the cleanups and release every chunk. The arena may be reused after
 * canary__arena_init(). NULL-safe. */
void canary__arena_free(canary__arena *arena);

#endif
