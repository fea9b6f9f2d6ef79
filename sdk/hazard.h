/*
 * hazard.h - publish an immutable object to many readers and reclaim the
 * old ones safely, with no lock and no shared write on the read path.
 *
 * Each reader thread owns a cache-line-sized slot per domain in which it
 * leaves a "hazard pointer" to the object it last read. A reader whose slot
 * already names the current object reads it with two plain loads; only
 * after a publish does it store the new pointer and fence once. The writer
 * frees a retired object when no slot names it. An idle thread therefore
 * pins at most one old object, which keeps memory bounded.
 *
 * Threads beyond the slot count (or colliding on a slot) fall back to a
 * sleepable-RCU style pair of counters: still lock-free, but they write a
 * shared line, so keep the number of threads per client under the slots.
 *
 * See docs/design.md, "Snapshot reclamation".
 */
#ifndef CANARY_SDK_HAZARD_H
#define CANARY_SDK_HAZARD_H

#include <stdatomic.h>
#include <stdint.h>

#include "alloc.h"

#define CANARY__HAZARD_SLOTS 64
#define CANARY__CACHE_LINE 64

typedef struct canary__hazard_slot {
	_Alignas(CANARY__CACHE_LINE) _Atomic(void *) ptr;
	atomic_uint owner; /* thread number, 0 = free */
} canary__hazard_slot;

typedef void (*canary__hazard_free_fn)(void *obj, void *ctx);

typedef struct canary__hazard {
	_Alignas(CANARY__CACHE_LINE) _Atomic(void *) current;
	canary__hazard_slot slots[CANARY__HAZARD_SLOTS];
	/* Overflow readers (no slot of their own). */
	_Alignas(CANARY__CACHE_LINE) atomic_uint overflow_phase;
	atomic_uint overflow_count[2];
	/* Writer side: callers serialise writers (the client's mutex). */
	void **retired;
	unsigned retired_count;
	unsigned retired_cap;
	const canary__alloc *alloc; /* for the retire list */
	canary__hazard_free_fn free_fn;
	void *free_ctx;
} canary__hazard;

/* A read in progress: pass to canary__hazard_leave(). */
typedef struct canary__hazard_guard {
	int overflow_idx; /* -1 when the reader used its own slot */
} canary__hazard_guard;

void canary__hazard_init(canary__hazard *h, const canary__alloc *alloc,
	canary__hazard_free_fn free_fn, void *free_ctx);

/* Free the current object and every retired one. No reader may remain. */
void canary__hazard_destroy(canary__hazard *h);

/* This thread's number, 0 until canary__thread_number() gives it one.
 * Initial-exec: read straight from the thread pointer, no call (a few
 * bytes of the static TLS glibc keeps for libraries loaded later). */
#if defined(__GNUC__)
extern _Thread_local unsigned canary__my_thread_number
	__attribute__((tls_model("initial-exec")));
#else
extern _Thread_local unsigned canary__my_thread_number;
#endif

unsigned canary__thread_number_assign(void);

/* This thread's small number (>= 1), recycled when the thread exits. */
static inline unsigned canary__thread_number(void)
{
	unsigned n = canary__my_thread_number;

	return n ? n : canary__thread_number_assign();
}

/* The slow paths of enter and leave (hazard.c). */
void *canary__hazard_enter_slow(canary__hazard *h, canary__hazard_guard *g);
void canary__hazard_leave_overflow(canary__hazard *h, canary__hazard_guard *g);

/* Reader: the current object (may be NULL), protected until leave().
 * Inline, the steady state: this thread owns its slot and its hazard
 * already names the current object (two plain loads, no store). */
static inline void *canary__hazard_enter(canary__hazard *h,
	canary__hazard_guard *g)
{
	unsigned me = canary__thread_number();
	canary__hazard_slot *s = &h->slots[me % CANARY__HAZARD_SLOTS];
	void *p;

	if (atomic_load_explicit(&s->owner, memory_order_relaxed) == me) {
		p = atomic_load_explicit(&h->current, memory_order_acquire);
		if (atomic_load_explicit(&s->ptr, memory_order_relaxed) == p) {
			g->overflow_idx = -1;
			return p;
		}
	}
	return canary__hazard_enter_slow(h, g);
}

static inline void canary__hazard_leave(canary__hazard *h,
	canary__hazard_guard *g)
{
	if (g->overflow_idx >= 0)
		canary__hazard_leave_overflow(h, g);
}

/* Writer: make `obj` current and retire the previous one. Returns 0, or -1
 * when the retire list could not grow (then `obj` is not published and the
 * caller still owns it). */
int canary__hazard_publish(canary__hazard *h, void *obj);

/* Writer: free what no reader can still see. */
void canary__hazard_collect(canary__hazard *h);

/* After fork(), in the child: only the calling thread exists, so every
 * overflow count belongs to a thread that is gone. */
void canary__hazard_postfork_child(canary__hazard *h);


#endif
