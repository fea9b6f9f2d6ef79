/*
 * budget.c - see budget.h. Buckets refill continuously on the monotonic
 * clock; one lock for all (a take is a few arithmetic operations).
 */
#include "http/budget.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "canary/canary.h"

typedef struct bucket {
	double tokens, rate;  /* capacity: one second's worth (rate) */
	double at;            /* when tokens was computed (s, monotonic) */
} bucket;

struct cs_budget {
	pthread_mutex_t lock;
	size_t keys;
	bucket *batches, *windows;
};

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int cs_budget_new(cs_budget **out, size_t keys, double batches_per_s,
	double windows_per_s)
{
	cs_budget *b = calloc(1, sizeof(*b));
	size_t i;

	*out = NULL;
	if (!b)
		return CANARY_ENOMEM;
	b->keys = keys ? keys : 1;
	b->batches = calloc(b->keys, sizeof(*b->batches));
	b->windows = calloc(b->keys, sizeof(*b->windows));
	if (!b->batches || !b->windows) {
		cs_budget_free(b);
		return CANARY_ENOMEM;
	}
	for (i = 0; i < b->keys; i++) {
		b->batches[i].tokens = b->batches[i].rate = batches_per_s;
		b->windows[i].tokens = b->windows[i].rate = windows_per_s;
	}
	pthread_mutex_init(&b->lock, NULL);
	*out = b;
	return CANARY_OK;
}

void cs_budget_free(cs_budget *b)
{
	if (!b)
		return;
	if (b->batches && b->windows)
		pthread_mutex_destroy(&b->lock);
	free(b->batches);
	free(b->windows);
	free(b);
}

static void refill(bucket *k, double now)
{
	k->tokens += (now - k->at) * k->rate;
	if (k->tokens > k->rate)
		k->tokens = k->rate;
	k->at = now;
}

/* Seconds until `n` tokens are there (0: they are). A request larger
 * than a second's worth waits for a full bucket and may then go. */
static double wait_for(const bucket *k, double n)
{
	if (k->rate <= 0)
		return 0;
	if (n > k->rate)
		n = k->rate;
	return k->tokens >= n ? 0 : (n - k->tokens) / k->rate;
}

static void take(bucket *k, double n)
{
	if (k->rate > 0)
		k->tokens -= n > k->rate ? k->rate : n;
}

unsigned cs_budget_take(cs_budget *b, size_t key, uint64_t batches,
	uint64_t windows)
{
	double now = mono_s(), wait;
	bucket *kb, *kw;

	if (key >= b->keys)
		key = b->keys - 1;
	pthread_mutex_lock(&b->lock);
	kb = &b->batches[key];
	kw = &b->windows[key];
	refill(kb, now);
	refill(kw, now);
	wait = fmax(wait_for(kb, (double)batches), wait_for(kw,
		(double)windows));
	if (wait == 0) {
		take(kb, (double)batches);
		take(kw, (double)windows);
	}
	pthread_mutex_unlock(&b->lock);
	return wait == 0 ? 0 : (unsigned)ceil(wait);
}
