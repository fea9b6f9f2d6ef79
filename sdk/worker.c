/*
 * worker.c - the data path's state machine and its two drivers (see
 * worker.h and docs/datapath.md).
 *
 * Everything below "driver state" is touched only by the thread driving
 * the machine (the worker thread, or the caller of canary_client_tick()
 * under tick_lock). What other threads read (status, readiness) is under
 * `lock`, which is never held while waiting or calling back.
 */
#define _GNU_SOURCE /* pthread_setname_np */
#include "worker.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backoff.h"
#include "client.h"
#include "clock.h"
#include "config_blob.h"
#include "sse.h"
#include "store.h"
#include "transport.h"

#define BACKOFF_BASE_MS 1000u
#define STREAM_STABLE_MS 10000     /* a stream up this long resets its backoff */
#define CONFIRM_PERSIST_MS 60000   /* write "still current" to the cache at most this often */
#define MAX_WAIT_MS 1000u          /* the thread looks around at least this often */
#define KEY_LEN 160

enum op { OP_NONE, OP_FETCH, OP_STREAM };

struct canary__worker {
	canary_client *c;
	canary__transport *t;
	char *flags_url;
	char *stream_url;
	atomic_bool stop;
	pthread_t thread;
	bool running;
	pid_t pid;
	pthread_mutex_t tick_lock;
	canary__worker *next;       /* in the fork registry */

	/* Shared with API threads: under `lock`. */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	canary_status status;
	bool ready;                 /* wait_ready may return */
	bool woken;                 /* sleep() without a transport */
	atomic_bool config_set;

	/* Driver state. */
	int64_t now;
	canary__xfer *xfer;
	enum op op;
	bool has_server;
	bool stream_enabled;
	bool need_fetch;
	int64_t next_at;
	int64_t stream_retry_at;
	int64_t fetch_not_before;   /* the fetch backoff, while failing */
	int64_t stream_opened_at;
	int64_t stream_last_byte;
	bool clock_set;
	int64_t initial_age_ms;
	int64_t confirmed_at;       /* config last known current (driver clock) */
	int64_t persisted_wall;     /* ... as last written to the cache (wall) */
	bool attempted;
	bool connected;
	bool auth_failed;
	uint64_t ignored_version;   /* last downgrade logged */
	canary__backoff fetch_bo;
	canary__backoff stream_bo;
	canary__sse sse;
	char etag[CANARY__ETAG_MAX + 1];
	char fail_key[KEY_LEN];     /* failure being reported: log once */
	char stream_key[KEY_LEN];

	/* Events: flush timer and delivery of the outbox (docs/events.md). */
	char *events_url;
	atomic_bool deliver_now;    /* canary_flush() asks for a try now */
	bool flush_armed;
	int64_t flush_at;
	canary__xfer *ev_xfer;
	int64_t ev_seq;
	char *ev_body;
	int64_t ev_next_at;         /* the delivery backoff */
	canary__backoff ev_bo;
	char ev_key[KEY_LEN];
	char poison_key[KEY_LEN];
};

/* ---- fork registry ------------------------------------------------------- */

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static canary__worker *registry;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

/* Hold every lock across fork() so the child inherits consistent state:
 * no config half-published, no status half-written. */
static void prefork(void)
{
	canary__worker *w;

	pthread_mutex_lock(&registry_lock);
	for (w = registry; w; w = w->next) {
		pthread_mutex_lock(&w->c->write_lock);
		canary__events_prefork(w->c->events);
		pthread_mutex_lock(&w->lock);
	}
}

static void postfork_unlock(void)
{
	canary__worker *w;

	for (w = registry; w; w = w->next) {
		pthread_mutex_unlock(&w->lock);
		canary__events_postfork_unlock(w->c->events);
		pthread_mutex_unlock(&w->c->write_lock);
	}
	pthread_mutex_unlock(&registry_lock);
}

static void atfork_setup(void)
{
	pthread_atfork(prefork, postfork_unlock, postfork_unlock);
}

static void registry_add(canary__worker *w)
{
	pthread_once(&atfork_once, atfork_setup);
	pthread_mutex_lock(&registry_lock);
	w->next = registry;
	registry = w;
	pthread_mutex_unlock(&registry_lock);
}

static void registry_remove(canary__worker *w)
{
	canary__worker **p;

	pthread_mutex_lock(&registry_lock);
	for (p = &registry; *p; p = &(*p)->next) {
		if (*p == w) {
			*p = w->next;
			break;
		}
	}
	pthread_mutex_unlock(&registry_lock);
}

/* ---- logging: a repeated failure is logged once --------------------------- */

static void report(canary__worker *w, char slot[KEY_LEN],
	canary_log_level level, const char *what, const char *key,
	const char *detail)
{
	if (strncmp(slot, key, KEY_LEN - 1) == 0) {
		canary__log(w->c, CANARY_LOG_DEBUG, "%s: %s (again)", what, detail);
		return;
	}
	snprintf(slot, KEY_LEN, "%s", key);
	canary__log(w->c, level, "%s: %s", what, detail);
}

static void report_clear(canary__worker *w, char slot[KEY_LEN],
	const char *what)
{
	if (!slot[0])
		return;
	canary__log(w->c, CANARY_LOG_INFO, "%s: working again", what);
	slot[0] = '\0';
}

/* ---- status ---------------------------------------------------------------- */

static bool has_config(canary__worker *w)
{
	return canary_client_config_version(w->c) > 0;
}

static bool is_stale(canary__worker *w)
{
	uint64_t max_age = w->c->opts.max_config_age_ms;

	if (!max_age || !has_config(w))
		return false;
	if (!w->clock_set)
		return w->initial_age_ms > 0 && (uint64_t)w->initial_age_ms > max_age;
	return w->now - w->confirmed_at > 0 &&
		(uint64_t)(w->now - w->confirmed_at) > max_age;
}

static canary_status compute_status(canary__worker *w, bool stale)
{
	if (w->auth_failed)
		return CANARY_STATUS_AUTH_ERROR;
	if (stale)
		return CANARY_STATUS_STALE;
	if (!w->attempted)
		return CANARY_STATUS_INITIALIZING;
	if (w->connected)
		return has_config(w) || w->has_server ? CANARY_STATUS_READY :
			CANARY_STATUS_INITIALIZING;
	return CANARY_STATUS_OFFLINE;
}

static void update_status(canary__worker *w)
{
	bool stale = is_stale(w);
	canary_status s = compute_status(w, stale);
	bool changed;

	atomic_store(&w->c->serve_stable, stale &&
		w->c->opts.stale_policy == CANARY_STALE_STABLE);
	pthread_mutex_lock(&w->lock);
	changed = s != w->status;
	w->status = s;
	w->ready = s == CANARY_STATUS_READY || s == CANARY_STATUS_AUTH_ERROR ||
		(w->attempted && has_config(w));
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
	if (!changed)
		return;
	canary__log(w->c, s == CANARY_STATUS_READY ? CANARY_LOG_INFO :
		CANARY_LOG_WARN, "status: %s", canary_status_name(s));
	if (w->c->opts.status_fn)
		w->c->opts.status_fn(s, w->c->opts.status_ctx);
}

/* ---- configs ---------------------------------------------------------------- */

static void persist_confirmed(canary__worker *w)
{
	int64_t wall = canary__wall_ms();
	uint64_t version;

	if (!w->c->store || wall - w->persisted_wall < CONFIRM_PERSIST_MS)
		return;
	version = canary_client_config_version(w->c);
	if (canary__store_touch(w->c->store, version, wall) == CANARY_OK)
		w->persisted_wall = wall;
}

/* The service said, one way or another, that our config is current. */
static void confirmed(canary__worker *w)
{
	w->confirmed_at = w->now;
	w->connected = true;
	w->attempted = true;
	persist_confirmed(w);
}

/* Cache the JSON and, beside it in the same row, the parsed config's
 * binary form, which the next cold start decodes instead of parsing the
 * JSON. A NULL blob (no memory to encode it) caches the JSON alone. */
static void save_blob(canary__worker *w, uint64_t version, const char *body,
	size_t len, const unsigned char *blob, size_t blob_len)
{
	int64_t wall = canary__wall_ms();
	int rc;

	if (!w->c->store)
		return;
	rc = canary__store_save_parsed(w->c->store, version, w->etag, wall,
		body, len, blob, blob_len);
	if (rc == CANARY_OK)
		w->persisted_wall = wall;
	else
		canary__log(w->c, CANARY_LOG_WARN, "%s", canary_error_last());
}

static void save(canary__worker *w, const canary__config *config,
	const char *body, size_t len)
{
	unsigned char *blob = NULL;
	size_t blob_len = 0;

	if (!w->c->store)
		return;
	(void)canary__config_blob_encode(&w->c->alloc, config, &blob, &blob_len);
	save_blob(w, config->version, body, len, blob, blob_len);
	canary__free(&w->c->alloc, blob);
}

/*
 * Validate and apply a config from the service, then cache it. Returns
 * CANARY_OK when it is in force (new or unchanged), CANARY_ESTATE for a
 * downgrade (ignored), or an error with `why` filled in.
 */
static int accept_config(canary__worker *w, const char *body, size_t len,
	const char *etag, const char *source, char *why, size_t whylen)
{
	canary__config *config;
	char err[CANARY__ERRBUF];
	unsigned char *blob = NULL;
	size_t blob_len = 0;
	uint64_t version, in_force;
	int rc;

	rc = canary__config_parse(&w->c->alloc, body, len, &config, err,
		sizeof(err));
	if (rc != CANARY_OK) {
		snprintf(why, whylen, "invalid config: %s", err);
		return rc;
	}
	version = config->version;
	in_force = canary_client_config_version(w->c);
	if (version <= in_force) {
		if (version == in_force) {
			if (etag && etag[0] && strcmp(etag, w->etag) != 0) {
				snprintf(w->etag, sizeof(w->etag), "%s", etag);
				save(w, config, body, len);
			}
			canary__config_free(&w->c->alloc, config);
			return CANARY_OK;
		}
		canary__config_free(&w->c->alloc, config);
		if (w->ignored_version != version)
			canary__log(w->c, CANARY_LOG_WARN,
				"%s: config version %" PRIu64 " is older than the version in force (%" PRIu64 "); ignored",
				source, version, in_force);
		w->ignored_version = version;
		return CANARY_ESTATE;
	}
	/* Encode before apply, which takes the config. */
	if (w->c->store)
		(void)canary__config_blob_encode(&w->c->alloc, config, &blob, &blob_len);
	rc = canary__client_apply(w->c, config, source);
	if (rc != CANARY_OK) {
		canary__free(&w->c->alloc, blob);
		snprintf(why, whylen, "%s", canary_error_last());
		return rc;
	}
	snprintf(w->etag, sizeof(w->etag), "%s", etag ? etag : "");
	save_blob(w, version, body, len, blob, blob_len);
	canary__free(&w->c->alloc, blob);
	if (w->c->opts.config_fn)
		w->c->opts.config_fn(version, w->c->opts.config_ctx);
	return CANARY_OK;
}

/* ---- scheduling ---------------------------------------------------------------- */

static void schedule_after_success(canary__worker *w)
{
	int64_t now = w->now;

	if (w->stream_enabled && now >= w->stream_retry_at) {
		w->need_fetch = false;
		w->next_at = now;
		return;
	}
	w->need_fetch = true;
	w->next_at = now + w->c->opts.poll_interval_ms;
	if (w->stream_enabled && w->stream_retry_at < w->next_at) {
		w->need_fetch = false;
		w->next_at = w->stream_retry_at;
	}
}

static uint32_t retry_after_ms(const canary__xfer_result *r)
{
	uint32_t ms = 0;

	if (r->retry_after[0])
		canary__retry_after_parse(r->retry_after,
			canary__wall_ms() / 1000, &ms);
	return ms;
}

static void fetch_failed(canary__worker *w, const char *key,
	const char *detail, uint32_t retry_ms)
{
	uint32_t delay = canary__backoff_next(&w->fetch_bo, retry_ms);

	w->connected = false;
	w->attempted = true;
	report(w, w->fail_key, CANARY_LOG_WARN, "GET /v1/flags", key, detail);
	w->next_at = w->fetch_not_before = w->now + delay;
	/* The stream sends the whole config when it connects: when it is due
	 * by then, try it instead of fetching again. */
	w->need_fetch = !(w->stream_enabled && w->stream_retry_at <= w->next_at);
}

static void auth_failed(canary__worker *w, long status)
{
	w->auth_failed = true;
	w->attempted = true;
	w->connected = false;
	canary__log(w->c, CANARY_LOG_ERROR,
		"the flag service rejected the SDK key (HTTP %ld); no more requests will be made",
		status);
}

static void fetch_done(canary__worker *w, const canary__xfer_result *r)
{
	char key[KEY_LEN], why[CANARY__ERRBUF + 32];
	int rc;

	if (r->rc != CANARY_OK) {
		fetch_failed(w, r->key, r->detail, 0);
		return;
	}
	if (canary__http_status_is_fatal(r->status)) {
		auth_failed(w, r->status);
		return;
	}
	if (r->status == 200) {
		rc = accept_config(w, r->body ? r->body : "", r->body_len,
			r->etag, "GET /v1/flags", why, sizeof(why));
		if (rc != CANARY_OK && rc != CANARY_ESTATE) {
			fetch_failed(w, why, why, 0);
			return;
		}
	} else if (r->status != 304) {
		snprintf(key, sizeof(key), "HTTP %ld", r->status);
		fetch_failed(w, key, key, retry_after_ms(r));
		return;
	}
	canary__backoff_reset(&w->fetch_bo);
	w->fetch_not_before = 0;
	report_clear(w, w->fail_key, "GET /v1/flags");
	confirmed(w);
	schedule_after_success(w);
}

/* The stream is over, for whatever reason: poll until it can come back. */
static void stream_over(canary__worker *w, const char *key,
	const char *detail, uint32_t retry_ms)
{
	if (w->now - w->stream_opened_at >= STREAM_STABLE_MS)
		canary__backoff_reset(&w->stream_bo);
	w->stream_retry_at = w->now + canary__backoff_next(&w->stream_bo,
		retry_ms);
	report(w, w->stream_key, CANARY_LOG_INFO, "GET /v1/stream", key, detail);
	/* Catch up on anything missed while the stream was down, as soon as
	 * the fetch backoff allows. */
	w->need_fetch = true;
	w->next_at = w->now > w->fetch_not_before ? w->now : w->fetch_not_before;
}

static void stream_done(canary__worker *w, const canary__xfer_result *r)
{
	char key[KEY_LEN];

	if (r->rc == CANARY_ENOTSUP) {
		canary__log(w->c, CANARY_LOG_INFO,
			"transport hook cannot stream; polling every %u ms",
			w->c->opts.poll_interval_ms);
		w->stream_enabled = false;
		w->need_fetch = true;
		w->next_at = w->now;
		return;
	}
	if (r->rc == CANARY_OK && canary__http_status_is_fatal(r->status)) {
		auth_failed(w, r->status);
		return;
	}
	if (r->rc != CANARY_OK) {
		stream_over(w, r->key, r->detail, 0);
		return;
	}
	if (r->status != 200)
		snprintf(key, sizeof(key), "HTTP %ld", r->status);
	else
		snprintf(key, sizeof(key), "closed by the service");
	stream_over(w, key, key, retry_after_ms(r));
}

static int on_event(const canary__sse_event *ev, void *ctx)
{
	canary__worker *w = ctx;
	char why[CANARY__ERRBUF + 32];

	if (strcmp(ev->type, "message") != 0 && strcmp(ev->type, "config") != 0)
		return 0; /* some future kind of event */
	if (accept_config(w, ev->data, ev->data_len, "", "GET /v1/stream",
	    why, sizeof(why)) == CANARY_ENOMEM)
		return CANARY_ENOMEM;
	return 0;
}

static int on_stream_data(const char *data, size_t len, void *ctx)
{
	canary__worker *w = ctx;
	int rc;

	/* A hook streams synchronously, inside one step: keep time moving. */
	if (!canary__transport_is_async(w->t))
		w->now = canary__mono_ms();
	w->stream_last_byte = w->now;
	if (w->stream_key[0])
		report_clear(w, w->stream_key, "GET /v1/stream");
	/* Bytes on the stream, heartbeats included, say we are current. */
	confirmed(w);
	canary__backoff_reset(&w->fetch_bo);
	rc = canary__sse_feed(&w->sse, data, len, on_event, w);
	if (!canary__transport_is_async(w->t))
		update_status(w);
	return rc;
}

static void start_op(canary__worker *w)
{
	canary__xfer_spec spec;
	char last_id[24];
	uint64_t version;
	int rc;

	memset(&spec, 0, sizeof(spec));
	if (w->need_fetch || !w->stream_enabled) {
		w->op = OP_FETCH;
		spec.url = w->flags_url;
		spec.etag = w->etag;
	} else {
		w->op = OP_STREAM;
		canary__sse_reset(&w->sse);
		version = canary_client_config_version(w->c);
		snprintf(last_id, sizeof(last_id), "%" PRIu64, version);
		spec.url = w->stream_url;
		spec.last_event_id = version ? last_id : w->sse.id;
		spec.stream = true;
		spec.on_data = on_stream_data;
		spec.ctx = w;
		w->stream_opened_at = w->stream_last_byte = w->now;
	}
	rc = canary__xfer_start(w->t, &spec, &w->xfer);
	if (rc != CANARY_OK) {
		w->op = OP_NONE;
		fetch_failed(w, "out of memory", "out of memory", 0);
	}
}

static void finish_op(canary__worker *w)
{
	const canary__xfer_result *r = canary__xfer_outcome(w->xfer);

	if (w->op == OP_FETCH)
		fetch_done(w, r);
	else
		stream_done(w, r);
	canary__xfer_free(w->xfer);
	w->xfer = NULL;
	w->op = OP_NONE;
}

static void check_stream_idle(canary__worker *w)
{
	uint32_t idle = w->c->opts.stream_idle_timeout_ms;
	char key[KEY_LEN];

	if (w->op != OP_STREAM || w->now - w->stream_last_byte <= (int64_t)idle)
		return;
	canary__xfer_free(w->xfer);
	w->xfer = NULL;
	w->op = OP_NONE;
	snprintf(key, sizeof(key), "no data for %u ms", idle);
	stream_over(w, key, key, 0);
}

/* ---- events: flush on a timer, deliver the outbox oldest first -------------- */

static void ev_start(canary__worker *w)
{
	canary__xfer_spec spec;
	size_t len = 0;
	int rc;

	rc = canary__events_oldest(w->c->events, &w->ev_seq, &w->ev_body, &len);
	if (rc != CANARY_OK) {
		if (rc != CANARY_ESTATE) /* storage trouble: not in a loop */
			w->ev_next_at = w->now + canary__backoff_next(&w->ev_bo, 0);
		return;
	}
	memset(&spec, 0, sizeof(spec));
	spec.url = w->events_url;
	spec.body = w->ev_body;
	spec.body_len = len;
	if (canary__xfer_start(w->t, &spec, &w->ev_xfer) != CANARY_OK) {
		canary__free(&w->c->alloc, w->ev_body);
		w->ev_body = NULL;
		w->ev_next_at = w->now + canary__backoff_next(&w->ev_bo, 0);
	}
}

/* 4xx other than 408 and 429: sending it again cannot help. */
static bool is_poison(long status)
{
	return status >= 400 && status < 500 && status != 408 &&
		status != 429 && !canary__http_status_is_fatal(status);
}

static void ev_finish(canary__worker *w)
{
	const canary__xfer_result *r = canary__xfer_outcome(w->ev_xfer);
	char key[KEY_LEN];

	if (r->rc == CANARY_OK && r->status >= 200 && r->status < 300) {
		canary__events_done(w->c->events, w->ev_seq, true);
		canary__backoff_reset(&w->ev_bo);
		report_clear(w, w->ev_key, "POST /v1/events");
		w->ev_next_at = w->now;
	} else if (r->rc == CANARY_OK && is_poison(r->status)) {
		snprintf(key, sizeof(key), "HTTP %ld: batch refused and dropped (counted)",
			r->status);
		canary__events_done(w->c->events, w->ev_seq, false);
		report(w, w->poison_key, CANARY_LOG_ERROR, "POST /v1/events",
			key, key);
		w->ev_next_at = w->now;
	} else {
		if (r->rc == CANARY_OK)
			snprintf(key, sizeof(key), "HTTP %ld", r->status);
		else
			snprintf(key, sizeof(key), "%s", r->key);
		report(w, w->ev_key, CANARY_LOG_WARN, "POST /v1/events", key,
			r->rc == CANARY_OK ? key : r->detail);
		w->ev_next_at = w->now + canary__backoff_next(&w->ev_bo,
			retry_after_ms(r));
	}
	canary__xfer_free(w->ev_xfer);
	w->ev_xfer = NULL;
	canary__free(&w->c->alloc, w->ev_body);
	w->ev_body = NULL;
}

static void events_step(canary__worker *w)
{
	if (!w->flush_armed) {
		w->flush_at = w->now + w->c->opts.flush_interval_ms;
		w->flush_armed = true;
	}
	if (w->now >= w->flush_at) {
		if (canary__events_flush(w->c->events, NULL) != CANARY_OK)
			canary__log(w->c, CANARY_LOG_WARN, "event flush: %s",
				canary_error_last());
		w->flush_at = w->now + w->c->opts.flush_interval_ms;
	}
	if (atomic_exchange(&w->deliver_now, false))
		w->ev_next_at = w->now;
	if (w->ev_xfer) {
		canary__transport_perform(w->t);
		if (canary__xfer_done(w->ev_xfer))
			ev_finish(w);
	}
	if (!w->ev_xfer && w->t && w->has_server && !w->auth_failed &&
	    w->now >= w->ev_next_at && !atomic_load(&w->stop) &&
	    canary__events_pending(w->c->events)) {
		ev_start(w);
		if (w->ev_xfer && canary__xfer_done(w->ev_xfer))
			ev_finish(w);
	}
}

/* The driver's clock went back (an RTC corrected on a device, a tick
 * caller's bug): move every deadline and timestamp back with it, so each
 * wait keeps its remaining length instead of becoming as long as the
 * jump, and the config's age is unchanged. */
static void shift_clock(canary__worker *w, int64_t delta)
{
	w->next_at += delta;
	w->stream_retry_at += delta;
	w->fetch_not_before += delta;
	w->stream_opened_at += delta;
	w->stream_last_byte += delta;
	w->confirmed_at += delta;
	w->flush_at += delta;
	w->ev_next_at += delta;
}

/* One bounded step of the machine at time `now` (driver clock). */
static void step(canary__worker *w, int64_t now)
{
	if (w->clock_set && now < w->now)
		shift_clock(w, now - w->now);
	w->now = now;
	if (!w->clock_set) {
		w->confirmed_at = now - w->initial_age_ms;
		w->clock_set = true;
	}
	if (atomic_exchange(&w->config_set, false))
		w->confirmed_at = now;
	if (w->xfer) {
		canary__transport_perform(w->t);
		if (canary__xfer_done(w->xfer))
			finish_op(w);
		else
			check_stream_idle(w);
	}
	if (!w->xfer && w->t && w->has_server && !w->auth_failed &&
	    now >= w->next_at && !atomic_load(&w->stop)) {
		start_op(w);
		/* A hook runs synchronously: its result is there already. */
		if (w->xfer && canary__xfer_done(w->xfer))
			finish_op(w);
	}
	events_step(w);
	update_status(w);
}

static int64_t next_deadline(canary__worker *w)
{
	int64_t d = w->now + MAX_WAIT_MS;
	uint64_t max_age = w->c->opts.max_config_age_ms;

	if (!w->xfer && w->has_server && !w->auth_failed && w->next_at < d)
		d = w->next_at;
	if (w->op == OP_STREAM) {
		int64_t idle = w->stream_last_byte +
			w->c->opts.stream_idle_timeout_ms + 1;

		if (idle < d)
			d = idle;
	}
	if (w->flush_armed && w->flush_at < d)
		d = w->flush_at > w->now ? w->flush_at : w->now + 1;
	if (!w->ev_xfer && w->t && w->has_server && !w->auth_failed &&
	    w->ev_next_at < d && canary__events_pending(w->c->events))
		d = w->ev_next_at > w->now ? w->ev_next_at : w->now + 1;
	if (max_age && max_age < (uint64_t)INT64_MAX / 2 &&
	    w->confirmed_at + (int64_t)max_age + 1 > w->now &&
	    w->confirmed_at + (int64_t)max_age + 1 < d)
		d = w->confirmed_at + (int64_t)max_age + 1;
	return d;
}

/* Without a server there is no transport to wait on. */
static void sleep_ms(canary__worker *w, uint32_t ms)
{
	struct timespec ts;

	if (w->t) {
		canary__transport_wait(w->t, ms);
		return;
	}
	ts = canary__deadline(ms);
	pthread_mutex_lock(&w->lock);
	while (!w->woken &&
	       pthread_cond_timedwait(&w->cond, &w->lock, &ts) == 0)
		;
	w->woken = false;
	pthread_mutex_unlock(&w->lock);
}

static void wakeup(canary__worker *w)
{
	if (w->t) {
		canary__transport_wakeup(w->t);
		return;
	}
	pthread_mutex_lock(&w->lock);
	w->woken = true;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

static void *thread_main(void *arg)
{
	canary__worker *w = arg;

	while (!atomic_load(&w->stop)) {
		int64_t wait;

		step(w, canary__mono_ms());
		if (atomic_load(&w->stop))
			break;
		wait = next_deadline(w) - canary__mono_ms();
		if (wait < 1)
			wait = 1;
		sleep_ms(w, (uint32_t)wait);
	}
	return NULL;
}

/* ---- lifetime ---------------------------------------------------------------- */

static int new_transport(canary__worker *w)
{
	canary_client *c = w->c;
	canary__transport_opts o;

	memset(&o, 0, sizeof(o));
	o.sdk_key = c->sdk_key;
	o.ca_file = c->ca_file;
	o.ca_path = c->ca_path;
	o.insecure = c->opts.tls_insecure;
	o.connect_timeout_ms = c->opts.connect_timeout_ms;
	o.request_timeout_ms = c->opts.request_timeout_ms;
	o.max_bytes = c->opts.max_response_bytes;
	o.hook = &c->opts.transport;
	o.stop = &w->stop;
	return canary__transport_new(&w->t, &c->alloc, &o);
}

static char *join_url(const canary__alloc *a, const char *base,
	const char *path)
{
	size_t n = strlen(base), m = strlen(path);
	char *s;

	while (n && base[n - 1] == '/')
		n--;
	s = canary__malloc(a, n + m + 1);
	if (!s)
		return NULL;
	memcpy(s, base, n);
	memcpy(s + n, path, m + 1);
	return s;
}

static void init_locks(canary__worker *w)
{
	pthread_mutex_init(&w->lock, NULL);
	pthread_mutex_init(&w->tick_lock, NULL);
	canary__cond_init(&w->cond);
}

static uint64_t seed_for(const canary__worker *w)
{
	return (uint64_t)canary__wall_ms() * 6364136223846793005ull ^
		(uint64_t)(uintptr_t)w ^ ((uint64_t)getpid() << 32);
}

static void reset_driver(canary__worker *w)
{
	uint32_t cap = w->c->opts.backoff_cap_ms;

	canary__backoff_init(&w->fetch_bo, BACKOFF_BASE_MS, cap, seed_for(w));
	canary__backoff_init(&w->stream_bo, BACKOFF_BASE_MS, cap,
		seed_for(w) ^ 0x5555);
	canary__backoff_init(&w->ev_bo, BACKOFF_BASE_MS, cap,
		seed_for(w) ^ 0xaaaa);
	w->ev_xfer = NULL; /* after fork: the parent's, leaked untouched */
	w->ev_body = NULL;
	w->ev_next_at = 0;
	w->flush_armed = false;
	canary__sse_reset(&w->sse);
	w->xfer = NULL;
	w->op = OP_NONE;
	w->need_fetch = true;
	w->next_at = w->now;
	w->stream_retry_at = 0;
	w->fetch_not_before = 0;
}

int canary__worker_new(canary__worker **out, canary_client *c,
	const canary__worker_start *start)
{
	canary__worker *w;
	int rc = CANARY_OK;

	*out = NULL;
	w = canary__calloc(&c->alloc, 1, sizeof(*w));
	if (!w)
		return canary__error_set(CANARY_ENOMEM, "out of memory");
	w->c = c;
	w->pid = getpid();
	atomic_init(&w->stop, false);
	atomic_init(&w->config_set, false);
	atomic_init(&w->deliver_now, false);
	init_locks(w);
	canary__sse_init(&w->sse, &c->alloc, c->opts.max_response_bytes);
	reset_driver(w);
	w->has_server = c->server_url != NULL;
	w->stream_enabled = w->has_server && !c->opts.no_stream &&
		!(c->opts.no_thread && c->opts.transport.request);
	w->attempted = !w->has_server;
	w->connected = !w->has_server;
	w->initial_age_ms = start->config_age_ms > 0 ? start->config_age_ms : 0;
	w->persisted_wall = canary__wall_ms() - w->initial_age_ms;
	if (start->etag)
		snprintf(w->etag, sizeof(w->etag), "%s", start->etag);
	w->status = CANARY_STATUS_INITIALIZING;
	if (is_stale(w)) {
		w->status = CANARY_STATUS_STALE;
		atomic_store(&c->serve_stable,
			c->opts.stale_policy == CANARY_STALE_STABLE);
	}
	if (w->has_server) {
		w->flags_url = join_url(&c->alloc, c->server_url, "/v1/flags");
		w->stream_url = join_url(&c->alloc, c->server_url, "/v1/stream");
		w->events_url = join_url(&c->alloc, c->server_url, "/v1/events");
		if (!w->flags_url || !w->stream_url || !w->events_url)
			rc = canary__error_set(CANARY_ENOMEM, "out of memory");
	}
	if (rc == CANARY_OK && w->has_server)
		rc = new_transport(w);
	if (rc != CANARY_OK) {
		canary__worker_free(w);
		return rc;
	}
	registry_add(w);
	*out = w;
	return CANARY_OK;
}

/* Without a server the only job is watching the config's age. */
static bool wants_thread(const canary__worker *w)
{
	return !w->c->opts.no_thread &&
		(w->has_server || w->c->opts.max_config_age_ms);
}

static int start_thread(canary__worker *w)
{
	if (!wants_thread(w))
		return CANARY_OK;
#ifdef CANARY_NO_THREADS
	/* Unreachable: canary_client_new() insists on opts.no_thread. */
	(void)thread_main;
	return canary__error_set(CANARY_ENOTSUP, "built with CANARY_NO_THREADS");
#else
	atomic_store(&w->stop, false);
	if (pthread_create(&w->thread, NULL, thread_main, w) != 0)
		return canary__error_set(CANARY_ENOMEM,
			"could not start the worker thread");
	pthread_setname_np(w->thread, "canary-worker");
	w->running = true;
	return CANARY_OK;
#endif
}

int canary__worker_run(canary__worker *w)
{
	if (!w->c->opts.no_thread && !wants_thread(w)) {
		/* An offline client: its status is known now, and changes
		 * only through canary__worker_config_set(). */
		step(w, canary__mono_ms());
		return CANARY_OK;
	}
	return start_thread(w);
}

void canary__worker_free(canary__worker *w)
{
	if (!w)
		return;
	if (w->running) {
		atomic_store(&w->stop, true);
		wakeup(w);
		pthread_join(w->thread, NULL);
	}
	registry_remove(w);
	canary__xfer_free(w->xfer);
	canary__xfer_free(w->ev_xfer);
	canary__free(&w->c->alloc, w->ev_body);
	canary__free(&w->c->alloc, w->events_url);
	canary__transport_free(w->t);
	canary__sse_free(&w->sse);
	pthread_mutex_destroy(&w->lock);
	pthread_mutex_destroy(&w->tick_lock);
	pthread_cond_destroy(&w->cond);
	canary__free(&w->c->alloc, w->flags_url);
	canary__free(&w->c->alloc, w->stream_url);
	canary__free(&w->c->alloc, w);
}

int canary__worker_tick(canary__worker *w, int64_t now_ms)
{
	int rc = CANARY_OK;

	if (getpid() != w->pid)
		rc = canary__worker_postfork(w);
	pthread_mutex_lock(&w->tick_lock);
	step(w, now_ms);
	pthread_mutex_unlock(&w->tick_lock);
	return rc;
}

canary_status canary__worker_status(canary__worker *w)
{
	canary_status s;

	pthread_mutex_lock(&w->lock);
	s = w->status;
	pthread_mutex_unlock(&w->lock);
	return s;
}

static int ready_code(canary__worker *w)
{
	if (w->status == CANARY_STATUS_AUTH_ERROR)
		return canary__error_set(CANARY_EAUTH,
			"the flag service rejected the SDK key");
	return w->ready ? CANARY_OK : CANARY_ETIMEOUT;
}

int canary__worker_wait_ready(canary__worker *w, uint32_t timeout_ms)
{
	struct timespec ts = canary__deadline(timeout_ms);
	int rc;

	pthread_mutex_lock(&w->lock);
	while (!w->ready && w->running &&
	       pthread_cond_timedwait(&w->cond, &w->lock, &ts) == 0)
		;
	rc = ready_code(w);
	pthread_mutex_unlock(&w->lock);
	if (rc == CANARY_ETIMEOUT)
		canary__error_set(rc, "not ready after %u ms", timeout_ms);
	return rc;
}

void canary__worker_config_set(canary__worker *w)
{
	atomic_store(&w->config_set, true);
	if (w->running) {
		wakeup(w);
	} else if (!w->c->opts.no_thread) {
		/* Nobody drives this client: bring the status up to date. */
		pthread_mutex_lock(&w->tick_lock);
		step(w, canary__mono_ms());
		pthread_mutex_unlock(&w->tick_lock);
	}
}

int canary__worker_postfork(canary__worker *w)
{
	canary_client *c = w->c;
	char note[512];
	int rc;

	if (getpid() == w->pid)
		return CANARY_OK;
	/* Only this thread exists in the child: the worker thread is gone,
	 * and with it any lock it held. */
	w->pid = getpid();
	w->running = false;
	init_locks(w);
	w->status = CANARY_STATUS_INITIALIZING;
	canary__transport_abandon(w->t);
	w->t = NULL;
	w->xfer = NULL; /* the parent's request: leaked, never touched */
	pthread_mutex_lock(&c->write_lock);
	canary__hazard_postfork_child(&c->snapshots);
	pthread_mutex_unlock(&c->write_lock);
	if (c->store) {
		canary__store_abandon(c->store);
		c->store = NULL;
		rc = canary__store_open(&c->store, &c->alloc, c->cache_path, NULL,
			note, sizeof(note));
		if (note[0])
			canary__log(c, rc == CANARY_OK ? CANARY_LOG_WARN :
				CANARY_LOG_ERROR, "%s", note);
	}
	rc = canary__events_postfork_child(c->events);
	if (rc != CANARY_OK)
		canary__log(c, CANARY_LOG_ERROR, "event outbox after fork: %s",
			canary_error_last());
	reset_driver(w);
	rc = w->has_server ? new_transport(w) : CANARY_OK;
	if (rc == CANARY_OK)
		rc = start_thread(w);
	return rc;
}

bool canary__worker_deliver_now(canary__worker *w)
{
	if (!w || !w->running || !w->has_server)
		return false;
	atomic_store(&w->deliver_now, true);
	wakeup(w);
	return true;
}
