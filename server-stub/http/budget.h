/*
 * budget.h - how much one SDK key may write: event batches and event
 * windows per second, each a token bucket per key that holds a second's
 * worth.
 *
 * An SDK key ships inside applications, so whoever unpacks one may post
 * as fast as the network lets them; a budget bounds what they make the
 * server parse, write and keep. A key is shared by a whole fleet: size
 * the budgets to it (instances over their flush interval). Over budget
 * the answer is 429 with Retry-After, which the SDK honours (it keeps the
 * batch and sends it again then).
 */
#ifndef CS_BUDGET_H
#define CS_BUDGET_H

#include <stddef.h>
#include <stdint.h>

typedef struct cs_budget cs_budget;

/* `keys` buckets of each kind; a rate of 0 is no limit. */
int cs_budget_new(cs_budget **out, size_t keys, double batches_per_s,
	double windows_per_s);
void cs_budget_free(cs_budget *b);

/* Take `batches` batches and `windows` windows from key `key`'s budget
 * (its index among the SDK keys): 0 when there was room (and they are
 * taken), else the whole seconds until there will be (nothing taken). */
unsigned cs_budget_take(cs_budget *b, size_t key, uint64_t batches,
	uint64_t windows);

#endif
