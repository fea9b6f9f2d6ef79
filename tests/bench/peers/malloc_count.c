/*
 * malloc_count.c - counting the allocations of the evaluating thread: the
 * program's own malloc family, forwarding to glibc's (__libc_*), so that
 * every allocation an SDK makes (C++ new goes through malloc) is seen.
 * Built only into bench_peers, never with a sanitizer.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <malloc.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "bench_peers.h"

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);

/* The build hides symbols by default; these must serve the shared
 * libraries too. */
#define EXPORTED __attribute__((visibility("default")))

static _Thread_local bool counting;
static _Thread_local unsigned long count_calls, count_bytes;

static void note(size_t n)
{
	if (counting) {
		count_calls++;
		count_bytes += n;
	}
}

void bench_count_allocs(bool on)
{
	if (on)
		count_calls = count_bytes = 0;
	counting = on;
}

void bench_allocs(unsigned long *calls, unsigned long *bytes)
{
	*calls = count_calls;
	*bytes = count_bytes;
}

EXPORTED void *malloc(size_t n)
{
	note(n);
	return __libc_malloc(n);
}

EXPORTED void *calloc(size_t k, size_t n)
{
	note(k * n);
	return __libc_calloc(k, n);
}

EXPORTED void *realloc(void *p, size_t n)
{
	note(n);
	return __libc_realloc(p, n);
}

EXPORTED void free(void *p)
{
	__libc_free(p);
}

EXPORTED void *memalign(size_t align, size_t n)
{
	note(n);
	return __libc_memalign(align, n);
}

EXPORTED void *aligned_alloc(size_t align, size_t n)
{
	note(n);
	return __libc_memalign(align, n);
}

EXPORTED int posix_memalign(void **out, size_t align, size_t n)
{
	void *p;

	note(n);
	p = __libc_memalign(align, n);
	if (!p)
		return ENOMEM;
	*out = p;
	return 0;
}
