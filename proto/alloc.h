/*
 * alloc.h - the allocator hooks: every allocation in sdk/ and proto/ goes
 * through one (the client's, or the C library's where there is no client:
 * the server, the tools).
 */
#ifndef CANARY_PROTO_ALLOC_H
#define CANARY_PROTO_ALLOC_H

#include <stddef.h>
#include "canary/canary.h"

/* A complete allocator: never has NULL function pointers. */
typedef struct canary__alloc {
	canary_allocator fns;
} canary__alloc;

/* Fill `out` from the user's hooks, or the C library's when none are set.
 * Returns CANARY_EINVAL when only some hooks are set. */
int canary__alloc_init(canary__alloc *out, const canary_allocator *user);

/* The C library's allocator, for code with no client (the server, tools),
 * and the default of an arena. */
const canary__alloc *canary__alloc_default(void);

void *canary__malloc(const canary__alloc *a, size_t size);
void *canary__calloc(const canary__alloc *a, size_t count, size_t size);
void *canary__realloc(const canary__alloc *a, void *ptr, size_t size);
void canary__free(const canary__alloc *a, void *ptr);
char *canary__strndup(const canary__alloc *a, const char *s, size_t len);
char *canary__strdup(const canary__alloc *a, const char *s);

/*
 * A zeroed block aligned to `align` (a power of two). A hook, like
 * malloc, promises alignof(max_align_t) at most (16 bytes on x86-64);
 * above that the block is over-allocated and the hook's pointer kept
 * just before it. Free with canary__free_aligned() and the same `align`.
 */
void *canary__calloc_aligned(const canary__alloc *a, size_t size,
	size_t align);
void canary__free_aligned(const canary__alloc *a, void *ptr, size_t align);

/* Every struct is allocated with these, so that a member declared with
 * _Alignas (a cache line) makes its struct's allocations aligned with
 * nothing else to change. */
#define canary__new(a, T) \
	((T *)canary__calloc_aligned((a), sizeof(T), _Alignof(T)))
#define canary__delete(a, ptr, T) \
	canary__free_aligned((a), (ptr), _Alignof(T))

#endif
