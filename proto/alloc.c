/*
 * alloc.c - allocator hooks with the C library as the default.
 */
#include "alloc.h"

#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void *libc_malloc(size_t size, void *ctx)
{
	(void)ctx;
	return malloc(size);
}

static void *libc_realloc(void *ptr, size_t size, void *ctx)
{
	(void)ctx;
	return realloc(ptr, size);
}

static void libc_free(void *ptr, void *ctx)
{
	(void)ctx;
	free(ptr);
}

static const canary__alloc default_alloc = {
	{ libc_malloc, libc_realloc, libc_free, NULL }
};

const canary__alloc *canary__alloc_default(void)
{
	return &default_alloc;
}

int canary__alloc_init(canary__alloc *out, const canary_allocator *user)
{
	int set;

	if (!user || (!user->malloc_fn && !user->realloc_fn && !user->free_fn)) {
		*out = default_alloc;
		return CANARY_OK;
	}
	set = (user->malloc_fn != NULL) + (user->realloc_fn != NULL) +
	      (user->free_fn != NULL);
	if (set != 3)
		return CANARY_EINVAL;
	out->fns = *user;
	return CANARY_OK;
}

void *canary__malloc(const canary__alloc *a, size_t size)
{
	/* malloc(0) may return NULL; callers treat NULL as failure. */
	return a->fns.malloc_fn(size ? size : 1, a->fns.ctx);
}

void *canary__calloc(const canary__alloc *a, size_t count, size_t size)
{
	void *p;

	if (size && count > SIZE_MAX / size)
		return NULL;
	p = canary__malloc(a, count * size);
	if (p)
		memset(p, 0, count * size);
	return p;
}

void *canary__realloc(const canary__alloc *a, void *ptr, size_t size)
{
	return a->fns.realloc_fn(ptr, size ? size : 1, a->fns.ctx);
}

void canary__free(const canary__alloc *a, void *ptr)
{
	if (ptr)
		a->fns.free_fn(ptr, a->fns.ctx);
}

char *canary__strndup(const canary__alloc *a, const char *s, size_t len)
{
	char *copy = canary__malloc(a, len + 1);

	if (!copy)
		return NULL;
	memcpy(copy, s, len);
	copy[len] = '\0';
	return copy;
}

char *canary__strdup(const canary__alloc *a, const char *s)
{
	return s ? canary__strndup(a, s, strlen(s)) : NULL;
}

void *canary__calloc_aligned(const canary__alloc *a, size_t size,
	size_t align)
{
	unsigned char *raw, *p;

	if (align <= alignof(max_align_t))
		return canary__calloc(a, 1, size);
	if (size > SIZE_MAX - align - sizeof(void *))
		return NULL;
	raw = canary__malloc(a, size + align + sizeof(void *));
	if (!raw)
		return NULL;
	p = raw + sizeof(void *);
	p += (align - (uintptr_t)p % align) % align;
	memcpy(p - sizeof(void *), &raw, sizeof(raw));
	memset(p, 0, size);
	return p;
}

void canary__free_aligned(const canary__alloc *a, void *ptr, size_t align)
{
	unsigned char *raw;

	if (!ptr || align <= alignof(max_align_t)) {
		canary__free(a, ptr);
		return;
	}
	memcpy(&raw, (unsigned char *)ptr - sizeof(void *), sizeof(raw));
	canary__free(a, raw);
}
