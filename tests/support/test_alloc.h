/*
 * test_alloc.h - an allocator for tests: counts allocations, tracks the
 * blocks alive, and can fail the Nth allocation (curl's torture idea).
 * Header-only so that any test program can include it.
 */
#ifndef CANARY_TEST_ALLOC_H
#define CANARY_TEST_ALLOC_H

#include <stdlib.h>

#include "canary/canary.h"

typedef struct test_alloc {
	size_t allocations;   /* successful malloc/realloc calls */
	long live;            /* blocks allocated and not yet freed */
	size_t fail_at;       /* 1-based: fail this call; 0 = never */
	size_t calls;
} test_alloc;

static inline void *test_alloc_malloc(size_t size, void *ctx)
{
	test_alloc *t = ctx;
	void *p;

	if (++t->calls == t->fail_at)
		return NULL;
	p = malloc(size);
	if (p) {
		t->allocations++;
		t->live++;
	}
	return p;
}

static inline void *test_alloc_realloc(void *ptr, size_t size, void *ctx)
{
	test_alloc *t = ctx;
	void *p;

	if (++t->calls == t->fail_at)
		return NULL;
	p = realloc(ptr, size);
	if (p) {
		t->allocations++;
		t->live += ptr == NULL;
	}
	return p;
}

static inline void test_alloc_free(void *ptr, void *ctx)
{
	test_alloc *t = ctx;

	if (ptr)
		t->live--;
	free(ptr);
}

/* A canary_allocator whose hooks report into `t`. */
static inline canary_allocator test_alloc_hooks(test_alloc *t)
{
	canary_allocator a;

	a.malloc_fn = test_alloc_malloc;
	a.realloc_fn = test_alloc_realloc;
	a.free_fn = test_alloc_free;
	a.ctx = t;
	return a;
}

#endif
