/*
 * clock.h - the clocks the SDK and the server use, and timed waits on them.
 *
 * Waits use CLOCK_MONOTONIC so that a wall-clock jump never stretches or
 * cuts a timeout; the wall clock is for timestamps (the cache's, event
 * windows', stored rows') and date rules.
 */
#ifndef CANARY_PROTO_CLOCK_H
#define CANARY_PROTO_CLOCK_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>

int64_t canary__wall_ms(void);  /* ms since the epoch */
int64_t canary__mono_ms(void);  /* ms on CLOCK_MONOTONIC */

/* A condition variable whose timed waits run on CLOCK_MONOTONIC. */
void canary__cond_init(pthread_cond_t *cond);

/* The CLOCK_MONOTONIC time `ms` from now, for pthread_cond_timedwait(). */
struct timespec canary__deadline(uint32_t ms);

#endif
