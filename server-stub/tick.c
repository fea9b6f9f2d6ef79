/*
 * tick.c - a single thread that runs registered tasks on their periods.
 */
#include "tick.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "canary/canary.h"
#include "clock.h"

#define MAX_TASKS 16

typedef struct task {
	const char *name;
	uint64_t interval_ms, next_ms;
	cs_tick_fn fn;
	void *ctx;
} task;

struct cs_ticker {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;  /* signalled on stop */
	bool running, stop;
	uint64_t resolution_ms;
	task tasks[MAX_TASKS];
	int count;
};

/* Wall-clock milliseconds since the epoch, as the tasks are given it. */
static uint64_t now_ms(void)
{
	return (uint64_t)canary__wall_ms();
}

int cs_ticker_new(cs_ticker **out, uint64_t resolution_ms)
{
	cs_ticker *t = calloc(1, sizeof(*t));

	*out = NULL;
	if (!t)
		return CANARY_ENOMEM;
	pthread_mutex_init(&t->lock, NULL);
	/* Monotonic waits: a clock step must not stall the heartbeats. */
	canary__cond_init(&t->cond);
	t->resolution_ms = resolution_ms ? resolution_ms : 1000;
	*out = t;
	return CANARY_OK;
}

int cs_ticker_add(cs_ticker *t, const char *name, uint64_t interval_ms,
	cs_tick_fn fn, void *ctx)
{
	if (t->running || t->count == MAX_TASKS || !fn || interval_ms == 0)
		return CANARY_EINVAL;
	t->tasks[t->count].name = name;
	t->tasks[t->count].interval_ms = interval_ms;
	t->tasks[t->count].next_ms = now_ms() + interval_ms;
	t->tasks[t->count].fn = fn;
	t->tasks[t->count].ctx = ctx;
	t->count++;
	return CANARY_OK;
}

/* Sleep until the earliest due task or the resolution, whichever first. */
static void wait_a_tick(cs_ticker *t, uint64_t now)
{
	uint64_t sleep_ms = t->resolution_ms;
	struct timespec ts;
	int i;

	for (i = 0; i < t->count; i++)
		if (t->tasks[i].next_ms > now &&
		    t->tasks[i].next_ms - now < sleep_ms)
			sleep_ms = t->tasks[i].next_ms - now;
	ts = canary__deadline((uint32_t)sleep_ms);
	if (!t->stop)
		pthread_cond_timedwait(&t->cond, &t->lock, &ts);
}

static void *run(void *arg)
{
	cs_ticker *t = arg;
	int i;

	pthread_mutex_lock(&t->lock);
	while (!t->stop) {
		uint64_t now = now_ms();

		for (i = 0; i < t->count && !t->stop; i++) {
			task *k = &t->tasks[i];

			if (now < k->next_ms)
				continue;
			k->next_ms = now + k->interval_ms;
			/* Tasks run unlocked so stop() never waits on a lock
			 * held across a long task. */
			pthread_mutex_unlock(&t->lock);
			k->fn(now, k->ctx);
			pthread_mutex_lock(&t->lock);
		}
		wait_a_tick(t, now_ms());
	}
	pthread_mutex_unlock(&t->lock);
	return NULL;
}

int cs_ticker_start(cs_ticker *t)
{
	if (t->running)
		return CANARY_ESTATE;
	t->stop = false;
	if (pthread_create(&t->thread, NULL, run, t) != 0)
		return CANARY_ENOMEM;
	t->running = true;
	return CANARY_OK;
}

void cs_ticker_stop(cs_ticker *t)
{
	if (!t || !t->running)
		return;
	pthread_mutex_lock(&t->lock);
	t->stop = true;
	pthread_cond_signal(&t->cond);
	pthread_mutex_unlock(&t->lock);
	pthread_join(t->thread, NULL);
	t->running = false;
}

void cs_ticker_free(cs_ticker *t)
{
	if (!t)
		return;
	cs_ticker_stop(t);
	pthread_cond_destroy(&t->cond);
	pthread_mutex_destroy(&t->lock);
	free(t);
}
