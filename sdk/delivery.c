/*
 * delivery.c - flush on a timer, deliver the outbox oldest first (see
 * delivery.h and docs/events.md).
 */
#include "delivery.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "backoff.h"
#include "error.h"

#define BACKOFF_BASE_MS 1000u

struct canary__delivery {
	canary__delivery_env env;
	atomic_bool asked;          /* canary_flush() asks for a try now */
	bool flush_armed;
	int64_t flush_at;
	canary__xfer *xfer;         /* the POST in flight */
	int64_t seq;                /* ... of this outbox row */
	char *body;
	int64_t next_at;            /* the delivery backoff */
	canary__backoff bo;
	canary__log_slot fail_slot;
	canary__log_slot refused_slot;
};

static void reset(canary__delivery *d, uint64_t seed)
{
	canary__backoff_init(&d->bo, BACKOFF_BASE_MS, d->env.backoff_cap_ms,
		seed);
	d->xfer = NULL;
	d->body = NULL;
	d->next_at = 0;
	d->flush_armed = false;
}

int canary__delivery_new(canary__delivery **out,
	const canary__delivery_env *env, uint64_t seed)
{
	canary__delivery *d;

	*out = NULL;
	d = canary__new(env->alloc, canary__delivery);
	if (!d)
		return canary__error_set(CANARY_ENOMEM, "out of memory");
	d->env = *env;
	atomic_init(&d->asked, false);
	reset(d, seed);
	*out = d;
	return CANARY_OK;
}

void canary__delivery_free(canary__delivery *d)
{
	if (!d)
		return;
	canary__xfer_free(d->xfer);
	canary__free(d->env.alloc, d->body);
	canary__delete(d->env.alloc, d, canary__delivery);
}

void canary__delivery_postfork(canary__delivery *d, uint64_t seed)
{
	/* The parent's request and body: leaked, never touched. */
	reset(d, seed);
}

static const char *what(const canary__delivery *d)
{
	return d->env.source->ops->events_what;
}

static void start(canary__delivery *d, canary__transport *t, int64_t now)
{
	const canary__source *src = d->env.source;
	canary__xfer_spec spec;
	canary__headers h;
	size_t len = 0;
	int rc;

	rc = canary__events_oldest(d->env.events, &d->seq, &d->body, &len);
	if (rc != CANARY_OK) {
		if (rc != CANARY_ESTATE) /* storage trouble: not in a loop */
			d->next_at = now + canary__backoff_next(&d->bo, 0);
		return;
	}
	memset(&spec, 0, sizeof(spec));
	canary__headers_init(&h);
	src->ops->events(src->state, d->body, len, &spec, &h);
	spec.headers = &h;
	spec.body = d->body;
	spec.body_len = len;
	if (canary__xfer_start(t, &spec, &d->xfer) != CANARY_OK) {
		canary__free(d->env.alloc, d->body);
		d->body = NULL;
		d->next_at = now + canary__backoff_next(&d->bo, 0);
	}
}

/*
 * 4xx other than 408 and 429: sending this batch again cannot help. Not
 * 404 and 405 either: they say the events endpoint is not there (a wrong
 * base path, a proxy that does not route it), which is true of every
 * batch and may be fixed; dropping would lose all of them. Such a batch
 * stays and is retried with backoff (the outbox's bounds still hold).
 */
static bool is_refusal(long status)
{
	return status >= 400 && status < 500 && status != 404 &&
		status != 405 && status != 408 && status != 429 &&
		!canary__http_status_is_fatal(status);
}

static void finish(canary__delivery *d, int64_t now)
{
	const canary__xfer_result *r = canary__xfer_outcome(d->xfer);
	char key[CANARY__LOG_KEY_LEN];

	if (r->rc == CANARY_OK && r->status >= 200 && r->status < 300) {
		canary__events_done(d->env.events, d->seq, true);
		canary__backoff_reset(&d->bo);
		canary__log_recovered(d->env.log, d->fail_slot, what(d));
		d->next_at = now;
	} else if (r->rc == CANARY_OK && is_refusal(r->status)) {
		snprintf(key, sizeof(key), "HTTP %ld: batch refused and dropped (counted)",
			r->status);
		canary__events_done(d->env.events, d->seq, false);
		canary__log_failure(d->env.log, d->refused_slot, CANARY_LOG_ERROR,
			what(d), key, key);
		d->next_at = now;
	} else {
		if (r->rc == CANARY_OK)
			snprintf(key, sizeof(key), "HTTP %ld", r->status);
		else
			snprintf(key, sizeof(key), "%s", r->key);
		canary__log_failure(d->env.log, d->fail_slot, CANARY_LOG_WARN,
			what(d), key, r->rc == CANARY_OK ? key : r->detail);
		d->next_at = now + canary__backoff_next(&d->bo,
			canary__xfer_retry_after_ms(r));
	}
	canary__xfer_free(d->xfer);
	d->xfer = NULL;
	canary__free(d->env.alloc, d->body);
	d->body = NULL;
}

static bool can_send(const canary__delivery *d, bool may_send)
{
	return may_send && d->env.source->ops->events;
}

void canary__delivery_step(canary__delivery *d, canary__transport *t,
	int64_t now, bool may_send)
{
	if (!d->flush_armed) {
		d->flush_at = now + d->env.flush_interval_ms;
		d->flush_armed = true;
	}
	if (now >= d->flush_at) {
		if (canary__events_flush(d->env.events, NULL) != CANARY_OK)
			canary__log(d->env.log, CANARY_LOG_WARN, "event flush: %s",
				canary_error_last());
		d->flush_at = now + d->env.flush_interval_ms;
	}
	if (atomic_exchange(&d->asked, false))
		d->next_at = now;
	if (d->xfer) {
		canary__transport_perform(t);
		if (canary__xfer_done(d->xfer))
			finish(d, now);
	}
	if (!d->xfer && can_send(d, may_send) && now >= d->next_at &&
	    canary__events_pending(d->env.events)) {
		start(d, t, now);
		/* A hook runs synchronously: its result is there already. */
		if (d->xfer && canary__xfer_done(d->xfer))
			finish(d, now);
	}
}

int64_t canary__delivery_deadline(canary__delivery *d, int64_t deadline,
	int64_t now, bool may_send)
{
	if (d->flush_armed && d->flush_at < deadline)
		deadline = d->flush_at > now ? d->flush_at : now + 1;
	if (!d->xfer && can_send(d, may_send) && d->next_at < deadline &&
	    canary__events_pending(d->env.events))
		deadline = d->next_at > now ? d->next_at : now + 1;
	return deadline;
}

void canary__delivery_shift(canary__delivery *d, int64_t delta)
{
	d->flush_at += delta;
	d->next_at += delta;
}

void canary__delivery_ask(canary__delivery *d)
{
	atomic_store(&d->asked, true);
}
