/*
 * hazard.c - hazard-pointer publication and reclamation (see hazard.h).
 *
 * All accesses that order a reader against the writer are sequentially
 * consistent: the reader stores its hazard and re-reads `current`, the
 * writer swaps `current` and reads every hazard. Whichever goes second sees
 * the other, so the writer never frees an object a reader may still use.
 * (ThreadSanitizer understands this form; it does not understand fences.)
 */
#include "hazard.h"

#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <string.h>

/* ---- thread numbers ---------------------------------------------------- */

#define MAX_THREAD_NUMBERS 4096u
#define NO_NUMBER UINT_MAX /* more live threads than numbers: overflow path */

static pthread_mutex_t numbers_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned numbers_fresh = 1;          /* next never-used number */
static unsigned numbers_free[MAX_THREAD_NUMBERS];
static unsigned numbers_free_top;
static pthread_key_t numbers_key;
static pthread_once_t numbers_once = PTHREAD_ONCE_INIT;
_Thread_local unsigned canary__my_thread_number; /* 0 until first use */

static void number_release(void *value)
{
	unsigned n = (unsigned)(uintptr_t)value;

	pthread_mutex_lock(&numbers_lock);
	numbers_free[numbers_free_top++] = n;
	pthread_mutex_unlock(&numbers_lock);
}

static void numbers_prefork(void)
{
	pthread_mutex_lock(&numbers_lock);
}

static void numbers_postfork_parent(void)
{
	pthread_mutex_unlock(&numbers_lock);
}

/* In the child only this thread lives on: every other number is free.
 * This thread took the lock in numbers_prefork(), so it unlocks it (a
 * re-init of a held mutex leaves ThreadSanitizer believing it held). */
static void numbers_postfork_child(void)
{
	unsigned n;

	numbers_free_top = 0;
	for (n = 1; n < numbers_fresh; n++)
		if (n != canary__my_thread_number)
			numbers_free[numbers_free_top++] = n;
	pthread_mutex_unlock(&numbers_lock);
}

static void numbers_setup(void)
{
	pthread_key_create(&numbers_key, number_release);
	pthread_atfork(numbers_prefork, numbers_postfork_parent,
		numbers_postfork_child);
}

unsigned canary__thread_number_assign(void)
{
	unsigned n;

	if (canary__my_thread_number)
		return canary__my_thread_number;
	pthread_once(&numbers_once, numbers_setup);
	pthread_mutex_lock(&numbers_lock);
	if (numbers_free_top)
		n = numbers_free[--numbers_free_top];
	else if (numbers_fresh <= MAX_THREAD_NUMBERS)
		n = numbers_fresh++;
	else
		n = NO_NUMBER;
	pthread_mutex_unlock(&numbers_lock);
	canary__my_thread_number = n;
	if (n != NO_NUMBER)
		pthread_setspecific(numbers_key, (void *)(uintptr_t)n);
	return n;
}

/* ---- domain ------------------------------------------------------------ */

void canary__hazard_init(canary__hazard *h, const canary__alloc *alloc,
	canary__hazard_free_fn free_fn, void *free_ctx)
{
	unsigned i;

	memset(h, 0, sizeof(*h));
	atomic_init(&h->current, NULL);
	for (i = 0; i < CANARY__HAZARD_SLOTS; i++) {
		atomic_init(&h->slots[i].ptr, NULL);
		atomic_init(&h->slots[i].owner, 0);
	}
	atomic_init(&h->overflow_phase, 0);
	atomic_init(&h->overflow_count[0], 0);
	atomic_init(&h->overflow_count[1], 0);
	h->alloc = alloc;
	h->free_fn = free_fn;
	h->free_ctx = free_ctx;
}

static void *overflow_enter(canary__hazard *h, canary__hazard_guard *g)
{
	unsigned idx = atomic_load(&h->overflow_phase) & 1u;

	atomic_fetch_add(&h->overflow_count[idx], 1);
	g->overflow_idx = (int)idx;
	return atomic_load(&h->current);
}

static bool claim_slot(canary__hazard_slot *s, unsigned me)
{
	unsigned expected = 0;

	if (atomic_load_explicit(&s->owner, memory_order_relaxed) == me)
		return true;
	if (me == NO_NUMBER)
		return false;
	return atomic_compare_exchange_strong(&s->owner, &expected, me);
}

void *canary__hazard_enter_slow(canary__hazard *h, canary__hazard_guard *g)
{
	unsigned me = canary__thread_number();
	canary__hazard_slot *s = &h->slots[me % CANARY__HAZARD_SLOTS];
	void *p, *q;

	if (!claim_slot(s, me))
		return overflow_enter(h, g);
	g->overflow_idx = -1;
	/* Fast path: our hazard already names the current object. The hazard
	 * was validated against `current` when it was stored, so the writer
	 * has seen it and will not free this object while it stays there. */
	p = atomic_load_explicit(&h->current, memory_order_acquire);
	if (atomic_load_explicit(&s->ptr, memory_order_relaxed) == p)
		return p;
	for (;;) {
		atomic_store(&s->ptr, p);
		q = atomic_load(&h->current);
		if (q == p)
			return p;
		p = q;
	}
}

void canary__hazard_leave_overflow(canary__hazard *h,
	canary__hazard_guard *g)
{
	atomic_fetch_sub(&h->overflow_count[g->overflow_idx], 1);
}

/* Wait until no overflow reader that could hold a retired object remains:
 * flip the phase twice, draining the old counter each time (SRCU). */
static void overflow_synchronize(canary__hazard *h)
{
	int round;

	for (round = 0; round < 2; round++) {
		unsigned idx = atomic_load(&h->overflow_phase) & 1u;

		atomic_store(&h->overflow_phase, idx ^ 1u);
		while (atomic_load(&h->overflow_count[idx]) != 0)
			sched_yield();
	}
}

static bool is_hazard(canary__hazard *h, void *obj)
{
	unsigned i;

	for (i = 0; i < CANARY__HAZARD_SLOTS; i++)
		if (atomic_load(&h->slots[i].ptr) == obj)
			return true;
	return false;
}

void canary__hazard_collect(canary__hazard *h)
{
	unsigned i, kept = 0;

	if (!h->retired_count)
		return;
	overflow_synchronize(h);
	for (i = 0; i < h->retired_count; i++) {
		void *obj = h->retired[i];

		if (is_hazard(h, obj))
			h->retired[kept++] = obj;
		else
			h->free_fn(obj, h->free_ctx);
	}
	h->retired_count = kept;
}

static int retire(canary__hazard *h, void *obj)
{
	if (h->retired_count == h->retired_cap) {
		unsigned cap = h->retired_cap ? h->retired_cap * 2 : 8;
		void **grown = canary__realloc(h->alloc, h->retired,
			cap * sizeof(void *));

		if (!grown)
			return -1;
		h->retired = grown;
		h->retired_cap = cap;
	}
	h->retired[h->retired_count++] = obj;
	return 0;
}

int canary__hazard_publish(canary__hazard *h, void *obj)
{
	void *old;

	/* Reserve the retire entry first so that publishing cannot fail
	 * after the swap. */
	if (retire(h, NULL) != 0)
		return -1;
	h->retired_count--;
	old = atomic_exchange(&h->current, obj);
	if (old)
		h->retired[h->retired_count++] = old;
	canary__hazard_collect(h);
	return 0;
}

void canary__hazard_destroy(canary__hazard *h)
{
	unsigned i;
	void *cur = atomic_load(&h->current);

	for (i = 0; i < h->retired_count; i++)
		h->free_fn(h->retired[i], h->free_ctx);
	if (cur)
		h->free_fn(cur, h->free_ctx);
	canary__free(h->alloc, h->retired);
	h->retired = NULL;
	h->retired_count = h->retired_cap = 0;
	atomic_store(&h->current, NULL);
}

void canary__hazard_postfork_child(canary__hazard *h)
{
	unsigned me = canary__thread_number();
	unsigned i;

	for (i = 0; i < CANARY__HAZARD_SLOTS; i++) {
		if (atomic_load(&h->slots[i].owner) == me)
			continue;
		atomic_store(&h->slots[i].owner, 0);
		atomic_store(&h->slots[i].ptr, NULL);
	}
	atomic_store(&h->overflow_count[0], 0);
	atomic_store(&h->overflow_count[1], 0);
	canary__hazard_collect(h);
}
