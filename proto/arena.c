/*
 * arena.c - chunked bump allocation with cleanups run at free.
 */
#include "arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"

#define FIRST_CHUNK 4096u
#define MAX_CHUNK (1024u * 1024u)

/* Every block is aligned as malloc would align it. */
typedef union arena_align {
	long double ld;
	void *p;
	long long ll;
	void (*fn)(void);
} arena_align;

#define ALIGN sizeof(arena_align)

struct canary__arena_chunk {
	canary__arena_chunk *next;
	arena_align data[1];
};

struct canary__arena_cleanup {
	canary__arena_cleanup *next;
	void (*fn)(void *);
	void *ptr;
};

void canary__arena_init(canary__arena *arena, const canary_allocator *alloc)
{
	memset(arena, 0, sizeof(*arena));
	if (alloc && alloc->malloc_fn && alloc->realloc_fn && alloc->free_fn)
		arena->alloc = *alloc;
	else
		arena->alloc = canary__alloc_default()->fns;
	arena->chunk_size = FIRST_CHUNK;
}

/* A new chunk with room for at least `size` bytes. */
static int grow(canary__arena *arena, size_t size)
{
	size_t header = offsetof(canary__arena_chunk, data);
	size_t room = arena->chunk_size;
	canary__arena_chunk *c;

	if (size > SIZE_MAX - header - ALIGN)
		return -1;
	if (room < size)
		room = size;
	c = arena->alloc.malloc_fn(header + room, arena->alloc.ctx);
	if (!c)
		return -1;
	c->next = arena->chunks;
	arena->chunks = c;
	arena->next = (unsigned char *)c->data;
	arena->left = room;
	if (arena->chunk_size < MAX_CHUNK)
		arena->chunk_size *= 2;
	return 0;
}

void *canary__arena_alloc(canary__arena *arena, size_t size)
{
	void *p;

	if (size == 0)
		size = 1;
	if (size > SIZE_MAX - ALIGN)
		return NULL;
	size = (size + ALIGN - 1) / ALIGN * ALIGN;
	if (arena->left < size && grow(arena, size) != 0)
		return NULL;
	p = arena->next;
	arena->next += size;
	arena->left -= size;
	memset(p, 0, size);
	return p;
}

void *canary__arena_array(canary__arena *arena, size_t count, size_t size)
{
	if (size && count > SIZE_MAX / size)
		return NULL;
	return canary__arena_alloc(arena, count * size);
}

char *canary__arena_strndup(canary__arena *arena, const char *s, size_t len)
{
	char *copy;

	if (len == SIZE_MAX)
		return NULL;
	copy = canary__arena_alloc(arena, len + 1);
	if (copy && len)
		memcpy(copy, s, len);
	return copy;
}

int canary__arena_defer(canary__arena *arena, void (*fn)(void *), void *ptr)
{
	canary__arena_cleanup *c = canary__arena_alloc(arena, sizeof(*c));

	if (!c)
		return CANARY_ENOMEM;
	c->fn = fn;
	c->ptr = ptr;
	c->next = arena->cleanups;
	arena->cleanups = c;
	return CANARY_OK;
}

void canary__arena_free(canary__arena *arena)
{
	canary__arena_cleanup *c;

	if (!arena)
		return;
	/* Cleanups live in the chunks: run them all before freeing any. */
	for (c = arena->cleanups; c; c = c->next)
		c->fn(c->ptr);
	while (arena->chunks) {
		canary__arena_chunk *next = arena->chunks->next;

		arena->alloc.free_fn(arena->chunks, arena->alloc.ctx);
		arena->chunks = next;
	}
	arena->cleanups = NULL;
	arena->next = NULL;
	arena->left = 0;
}
