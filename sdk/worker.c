/*
 * worker.c - the data path's state machine and its two drivers (see
 * worker.h and docs/datapath.md).
 *
 * Everything below "driver state" is touched only by the thread driving
 * the machine (the worker thread, or the caller of canary_client_tick()
 * under tick_lock). What other threads wait on (readiness) is under
 * `lock`, which is never held while waiting or calling back; the status
 * they read is an atomic.
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
#include "clock.h"
#include "delivery.h"
#include "error.h"
#include "transfer.h"

#define BACKOFF_BASE_MS 1000u
#define STREAM_STABLE_MS 10000     /* a stream up this long resets its backoff */
#define MAX_WAIT_MS 1000u          /* the thread looks around at least this often */

enum op { OP_NONE, OP_FETCH, OP_STREAM };

struct canary__worker {
	canary__worker_env env;
	const canary_options *opts;
	canary__transport *t;
	canary__delivery *delivery;
	atomic_bool stop;
	atomic_bool closing;        /* canary__worker_closing() */
	pthread_t thread;
	bool running;
	pthread_mutex_t tick_lock;

	/* Shared with API threads. */
	pthread_mutex_t lock;       /* ready, woken; cond */
	pthread_cond_t cond;
	atomic_int status;          /* canary_status; written under lock */
	bool ready;                 /* wait_ready may return */
	bool woken;                 /* sleep() without a transport */
	atomic_bool config_set;
	char last_error[400];       /* the latest failure, said plainly */
	int64_t last_error_at;      /* canary__mono_ms(); 0 = none */
	int64_t confirmed_mono;     /* canary__mono_ms() of the last
	                               confirmation; 0 = none */
	size_t server_shown;        /* server_i, for other threads */
	bool stream_shown;

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
	bool attempted;
	bool connected;
	bool auth_failed;
	size_t server_count;        /* servers in opts->server_urls */
	size_t server_i;            /* the one in use */
	unsigned failed_in_row;     /* fetches failed since the last success */
	char req_url[256];          /* of the request in flight, for messages */
	uint64_t ignored_version;   /* last downgrade logged */
	canary__backoff fetch_bo;
	canary__backoff stream_bo;
	char etag[CANARY__ETAG_MAX + 1];
	canary__log_slot fail_slot; /* failure being reported: log once */
	canary__log_slot stream_slot;
	char stream_why[CANARY__PERR_TEXT + 32]; /* why we ended the stream */
};

static const char *fetch_what(const canary__worker *w)
{
	return w->env.source->ops->fetch_what;
}

static const char *stream_what(const canary__worker *w)
{
	return w->env.source->ops->stream_what;
}

/* ---- status ---------------------------------------------------------------- */

const char *canary_status_name(canary_status status)
{
	static const char *const names[] = {
		"INITIALIZING", "READY", "STALE", "OFFLINE", "AUTH_ERROR"
	};

	if ((unsigned)status >= sizeof(names) / sizeof(names[0]))
		return "UNKNOWN";
	return names[status];
}

static bool has_config(canary__worker *w)
{
	return canary__live_version(w->env.live) > 0;
}

static bool is_stale(canary__worker *w)
{
	uint64_t max_age = w->opts->max_config_age_ms;

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

	canary__live_serve_stable(w->env.live, stale &&
		w->opts->stale_policy == CANARY_STALE_STABLE);
	pthread_mutex_lock(&w->lock);
	changed = s != (canary_status)atomic_load(&w->status);
	atomic_store(&w->status, (int)s);
	w->ready = s == CANARY_STATUS_READY || s == CANARY_STATUS_AUTH_ERROR ||
		(w->attempted && has_config(w));
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
	if (!changed || atomic_load(&w->closing))
		return;
	canary__log(w->env.log, s == CANARY_STATUS_READY ? CANARY_LOG_INFO :
		CANARY_LOG_WARN, "status: %s", canary_status_name(s));
	if (w->opts->status_fn)
		w->opts->status_fn(s, w->opts->status_ctx);
}

/* ---- configs ---------------------------------------------------------------- */

/* The service said, one way or another, that our config is current. */
static void confirmed(canary__worker *w)
{
	w->confirmed_at = w->now;
	w->connected = true;
	w->attempted = true;
	pthread_mutex_lock(&w->lock);
	w->confirmed_mono = canary__mono_ms();
	pthread_mutex_unlock(&w->lock);
	canary__persist_confirmed(w->env.persist,
		canary__live_version(w->env.live));
}

/* Cache `body` as the document of `version` (the source's whole
 * document instead, when it has one: source.h, document). */
static void cache_config(canary__worker *w, uint64_t version,
	const char *body, size_t len, canary__blob *blob)
{
	const canary__source *src = w->env.source;
	char *doc = NULL;
	size_t doc_len = 0;

	if (src->ops->document && canary__persist_usable(w->env.persist) &&
	    src->ops->document(src->state, &doc, &doc_len) != CANARY_OK) {
		canary__log(w->env.log, CANARY_LOG_WARN,
			"%s: out of memory; the config is not cached", fetch_what(w));
		canary__free(w->env.alloc, blob->data);
		return;
	}
	canary__persist_save(w->env.persist, version, w->etag,
		doc ? doc : body, doc ? doc_len : len, blob);
	canary__free(w->env.alloc, doc);
}

/* The same config again (number and content): nothing changes but a
 * new ETag, cached. */
static void same_version(canary__worker *w, const canary__config *config,
	const char *body, size_t len, const char *etag)
{
	canary__blob blob;

	if (!etag || !etag[0] || strcmp(etag, w->etag) == 0)
		return;
	snprintf(w->etag, sizeof(w->etag), "%s", etag);
	canary__persist_encode(w->env.persist, config, &blob);
	cache_config(w, config->version, body, len, &blob);
}

/*
 * A document from the service: parse it with the source, apply it and
 * cache it. Returns CANARY_OK when it is in force (new or unchanged),
 * CANARY_ESTATE for a downgrade (ignored), or an error with `why` filled in.
 */
static int accept_config(canary__worker *w, const char *body, size_t len,
	const char *etag, const char *what, char *why, size_t whylen)
{
	const canary__source *src = w->env.source;
	canary__config *config;
	char err[CANARY__PERR_TEXT];
	canary__perror e;
	canary__blob blob;
	uint64_t version, in_force;
	int rc;

	if (atomic_load(&w->closing))
		return CANARY_ESTATE; /* nothing is applied once free begins */
	canary__perror_clear(&e);
	rc = src->ops->parse(src->state, body, len, &config, &e);
	if (rc != CANARY_OK) {
		snprintf(why, whylen, "invalid config: %s",
			canary__perror_format(&e, err, sizeof(err)));
		return rc;
	}
	version = config->version;
	in_force = canary__live_version(w->env.live);
	if (version == in_force && canary__live_same(w->env.live, config)) {
		same_version(w, config, body, len, etag);
		canary__config_free(w->env.alloc, config);
		return CANARY_OK;
	}
	if (version < in_force) {
		canary__config_free(w->env.alloc, config);
		if (w->ignored_version != version)
			canary__log(w->env.log, CANARY_LOG_WARN,
				"%s: config version %" PRIu64 " is older than the version in force (%" PRIu64 "); ignored",
				what, version, in_force);
		w->ignored_version = version;
		return CANARY_ESTATE;
	}
	/* The same number, other content: the service's history changed
	 * (a database restored or recreated). What it serves now is what it
	 * means: apply it. */
	if (version == in_force)
		canary__log(w->env.log, CANARY_LOG_WARN,
			"%s: config version %" PRIu64 " changed content: the service's history changed; applying it",
			what, version);
	/* Encode before apply, which takes the config. */
	canary__persist_encode(w->env.persist, config, &blob);
	rc = canary__live_apply(w->env.live, config, what);
	if (rc != CANARY_OK) {
		canary__free(w->env.alloc, blob.data);
		snprintf(why, whylen, "%s", canary_error_last());
		return rc;
	}
	snprintf(w->etag, sizeof(w->etag), "%s", etag ? etag : "");
	cache_config(w, version, body, len, &blob);
	canary__live_notify(w->env.live, version);
	return CANARY_OK;
}

/* ---- failures ---------------------------------------------------------------- */

/* Keep the latest failure for wait_ready() and diagnose. */
static void note_error(canary__worker *w, const char *text)
{
	pthread_mutex_lock(&w->lock);
	snprintf(w->last_error, sizeof(w->last_error), "%s", text);
	w->last_error_at = canary__mono_ms();
	pthread_mutex_unlock(&w->lock);
}

/* An HTTP status the worker does not expect, with what it usually means. */
static void status_text(const canary__worker *w, long status, char *buf,
	size_t len)
{
	const char *hint = status == 404 ? ": is server_url the server's root?" :
		status == 401 || status == 403 ? ": SDK key refused" :
		status == 429 ? ": rate limited" :
		status >= 500 ? ": server error" : "";

	snprintf(buf, len, "HTTP %ld from %s%s", status, w->req_url, hint);
}

/* Use server `i` from the next request on. */
static void select_server(canary__worker *w, size_t i)
{
	const canary__source *src = w->env.source;

	w->server_i = i;
	src->ops->select(src->state, i);
	pthread_mutex_lock(&w->lock);
	w->server_shown = i;
	pthread_mutex_unlock(&w->lock);
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
	w->next_at = now + w->opts->poll_interval_ms;
	if (w->stream_enabled && w->stream_retry_at < w->next_at) {
		w->need_fetch = false;
		w->next_at = w->stream_retry_at;
	}
}

/* With several servers the next one is tried at once; the backoff starts
 * once each has failed in a row. */
static void fetch_failed(canary__worker *w, const char *key,
	const char *detail, uint32_t retry_ms)
{
	uint32_t delay = 0;

	w->connected = false;
	w->attempted = true;
	note_error(w, detail);
	canary__log_failure(w->env.log, w->fail_slot, CANARY_LOG_WARN,
		fetch_what(w), key, detail);
	w->failed_in_row++;
	if (w->server_count > 1)
		select_server(w, (w->server_i + 1) % w->server_count);
	if (w->failed_in_row % (w->server_count ? w->server_count : 1) == 0)
		delay = canary__backoff_next(&w->fetch_bo, retry_ms);
	w->next_at = w->fetch_not_before = w->now + delay;
	/* Connecting to the stream catches up (source.h): when it is due by
	 * then, try it instead of fetching again. */
	w->need_fetch = !(w->stream_enabled && w->stream_retry_at <= w->next_at);
}

static void auth_failed(canary__worker *w, long status)
{
	char text[384];

	w->auth_failed = true;
	w->attempted = true;
	w->connected = false;
	status_text(w, status, text, sizeof(text));
	note_error(w, text);
	canary__log(w->env.log, CANARY_LOG_ERROR,
		"%s; no more requests will be made",
		text);
}

static void fetch_done(canary__worker *w, const canary__xfer_result *r)
{
	const canary__source *src = w->env.source;
	char key[384], why[CANARY__PERR_TEXT + 32];
	int rc;

	if (src->ops->fetched)
		src->ops->fetched(src->state, r->rc, r->status);
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
			r->etag, fetch_what(w), why, sizeof(why));
		if (rc != CANARY_OK && rc != CANARY_ESTATE) {
			fetch_failed(w, why, why, 0);
			return;
		}
	} else if (r->status != 304) {
		status_text(w, r->status, key, sizeof(key));
		fetch_failed(w, key, key, canary__xfer_retry_after_ms(r));
		return;
	}
	w->failed_in_row = 0;
	canary__backoff_reset(&w->fetch_bo);
	w->fetch_not_before = 0;
	canary__log_recovered(w->env.log, w->fail_slot, fetch_what(w));
	confirmed(w);
	schedule_after_success(w);
}

/* The stream is over, for whatever reason: poll until it can come back. */
static void stream_over(canary__worker *w, const char *key,
	const char *detail, uint32_t retry_ms)
{
	pthread_mutex_lock(&w->lock);
	w->stream_shown = false;
	pthread_mutex_unlock(&w->lock);
	if (w->now - w->stream_opened_at >= STREAM_STABLE_MS)
		canary__backoff_reset(&w->stream_bo);
	w->stream_retry_at = w->now + canary__backoff_next(&w->stream_bo,
		retry_ms);
	canary__log_failure(w->env.log, w->stream_slot, CANARY_LOG_INFO,
		stream_what(w), key, detail);
	/* Catch up on anything missed while the stream was down, as soon as
	 * the fetch backoff allows. */
	w->need_fetch = true;
	w->next_at = w->now > w->fetch_not_before ? w->now : w->fetch_not_before;
}

static void stream_done(canary__worker *w, const canary__xfer_result *r)
{
	char key[384];

	if (r->rc == CANARY_ENOTSUP) {
		canary__log(w->env.log, CANARY_LOG_INFO,
			"transport hook cannot stream; polling every %u ms",
			w->opts->poll_interval_ms);
		w->stream_enabled = false;
		w->need_fetch = true;
		w->next_at = w->now;
		return;
	}
	if (r->rc == CANARY_OK && canary__http_status_is_fatal(r->status)) {
		auth_failed(w, r->status);
		return;
	}
	if (w->stream_why[0]) {
		/* We ended it: what it sent was not valid. Fetch now. */
		stream_over(w, w->stream_why, w->stream_why, 0);
		return;
	}
	if (r->rc != CANARY_OK) {
		stream_over(w, r->key, r->detail, 0);
		return;
	}
	if (r->status != 200)
		status_text(w, r->status, key, sizeof(key));
	else
		snprintf(key, sizeof(key), "closed by the service");
	stream_over(w, key, key, canary__xfer_retry_after_ms(r));
}

/* A whole config document on the stream. One that is not valid ends the
 * stream (non-zero): stream_done() then fetches, whose rules say what an
 * invalid config means, and the stream comes back after its backoff. */
static int on_stream_doc(const char *doc, size_t len, void *ctx)
{
	canary__worker *w = ctx;
	int rc;

	if (atomic_load(&w->closing))
		return CANARY_ESTATE; /* parse no further */
	rc = accept_config(w, doc, len, "", stream_what(w), w->stream_why,
		sizeof(w->stream_why));
	if (rc == CANARY_OK || rc == CANARY_ESTATE)
		return 0;
	return rc == CANARY_ENOMEM ? rc : CANARY_EPARSE;
}

static int on_stream_data(const char *data, size_t len, void *ctx)
{
	canary__worker *w = ctx;
	const canary__source *src = w->env.source;
	int rc;

	/* Once free begins a piece is not even parsed: one piece of a
	 * compressed stream may hold thousands of events. */
	if (atomic_load(&w->stop) || atomic_load(&w->closing))
		return CANARY_ESTATE;
	/* A hook streams synchronously, inside one step: keep time moving. */
	if (!canary__transport_is_async(w->t))
		w->now = canary__mono_ms();
	w->stream_last_byte = w->now;
	canary__log_recovered(w->env.log, w->stream_slot, stream_what(w));
	canary__backoff_reset(&w->fetch_bo);
	w->failed_in_row = 0;
	rc = src->ops->stream_feed(src->state, data, len, on_stream_doc, w);
	if (rc == CANARY_EPARSE) {
		/* An invalid config, or an event over the size limit (the
		 * source says which): never dropped in silence. */
		if (!w->stream_why[0])
			snprintf(w->stream_why, sizeof(w->stream_why), "%s",
				canary_error_last());
		canary__log_failure(w->env.log, w->stream_slot,
			CANARY_LOG_WARN, stream_what(w), w->stream_why,
			w->stream_why);
	} else if (has_config(w)) {
		/* Bytes on the stream, heartbeats included, say the config in
		 * force is current: once there is one (a client with none is
		 * not ready before the stream's first document is in). */
		confirmed(w);
	}
	if (!canary__transport_is_async(w->t))
		update_status(w);
	return rc;
}

static void start_op(canary__worker *w)
{
	const canary__source *src = w->env.source;
	canary__xfer_spec spec;
	canary__headers h;
	int rc;

	memset(&spec, 0, sizeof(spec));
	canary__headers_init(&h);
	if (w->need_fetch || !w->stream_enabled) {
		w->op = OP_FETCH;
		src->ops->fetch(src->state, w->etag, &spec, &h);
	} else {
		w->op = OP_STREAM;
		src->ops->stream(src->state, canary__live_version(w->env.live),
			&spec, &h);
		spec.on_data = on_stream_data;
		spec.ctx = w;
		w->stream_why[0] = '\0';
		w->stream_opened_at = w->stream_last_byte = w->now;
	}
	spec.headers = &h;
	canary__url_for_log(spec.url, w->req_url, sizeof(w->req_url));
	pthread_mutex_lock(&w->lock);
	w->stream_shown = w->op == OP_STREAM;
	pthread_mutex_unlock(&w->lock);
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
	uint32_t idle = w->opts->stream_idle_timeout_ms;
	char key[CANARY__LOG_KEY_LEN];

	if (w->op != OP_STREAM || w->now - w->stream_last_byte <= (int64_t)idle)
		return;
	canary__xfer_free(w->xfer);
	w->xfer = NULL;
	w->op = OP_NONE;
	snprintf(key, sizeof(key), "no data for %u ms", idle);
	stream_over(w, key, key, 0);
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
	canary__delivery_shift(w->delivery, delta);
}

/* Requests may start: a service, a key it has not rejected. */
static bool may_request(canary__worker *w)
{
	return w->t && w->has_server && !w->auth_failed;
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
	if (!w->xfer && may_request(w) && now >= w->next_at &&
	    !atomic_load(&w->stop) && !atomic_load(&w->closing)) {
		start_op(w);
		/* A hook runs synchronously: its result is there already. */
		if (w->xfer && canary__xfer_done(w->xfer))
			finish_op(w);
	}
	canary__delivery_step(w->delivery, w->t, w->now,
		may_request(w) && !atomic_load(&w->stop));
	update_status(w);
	canary__unknown_report(w->env.unknown, w->env.live, w->env.log);
}

static int64_t next_deadline(canary__worker *w)
{
	int64_t d = w->now + MAX_WAIT_MS;
	uint64_t max_age = w->opts->max_config_age_ms;

	if (!w->xfer && w->has_server && !w->auth_failed && w->next_at < d)
		d = w->next_at;
	if (w->op == OP_STREAM) {
		int64_t idle = w->stream_last_byte +
			w->opts->stream_idle_timeout_ms + 1;

		if (idle < d)
			d = idle;
	}
	d = canary__delivery_deadline(w->delivery, d, w->now, may_request(w));
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
	const canary_options *opts = w->opts;
	canary__transport_opts o;

	memset(&o, 0, sizeof(o));
	o.ca_file = opts->ca_file;
	o.ca_path = opts->ca_path;
	o.insecure = opts->tls_insecure;
	o.connect_timeout_ms = opts->connect_timeout_ms;
	o.request_timeout_ms = opts->request_timeout_ms;
	o.max_bytes = opts->max_response_bytes;
	o.hook = &opts->transport;
	o.stop = &w->stop;
	return canary__transport_new(&w->t, w->env.alloc, &o);
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
	uint32_t cap = w->opts->backoff_cap_ms;

	canary__backoff_init(&w->fetch_bo, BACKOFF_BASE_MS, cap, seed_for(w));
	canary__backoff_init(&w->stream_bo, BACKOFF_BASE_MS, cap,
		seed_for(w) ^ 0x5555);
	w->xfer = NULL;
	w->op = OP_NONE;
	w->need_fetch = true;
	w->next_at = w->now;
	w->stream_retry_at = 0;
	w->fetch_not_before = 0;
}

static int new_delivery(canary__worker *w)
{
	canary__delivery_env d;

	d.alloc = w->env.alloc;
	d.log = w->env.log;
	d.events = w->env.events;
	d.source = w->env.source;
	d.flush_interval_ms = w->opts->flush_interval_ms;
	d.backoff_cap_ms = w->opts->backoff_cap_ms;
	return canary__delivery_new(&w->delivery, &d, seed_for(w) ^ 0xaaaa);
}

int canary__worker_new(canary__worker **out, const canary__worker_env *env,
	const canary__persist_start *start)
{
	const canary_options *opts = env->opts;
	canary__worker *w;
	int rc;

	*out = NULL;
	w = canary__new(env->alloc, canary__worker);
	if (!w)
		return canary__error_set(CANARY_ENOMEM, "out of memory");
	w->env = *env;
	w->opts = opts;
	atomic_init(&w->stop, false);
	atomic_init(&w->closing, false);
	atomic_init(&w->config_set, false);
	atomic_init(&w->status, CANARY_STATUS_INITIALIZING);
	init_locks(w);
	reset_driver(w);
	while (opts->server_urls && opts->server_urls[w->server_count])
		w->server_count++;
	w->has_server = w->server_count > 0;
	w->stream_enabled = w->has_server && !opts->no_stream &&
		env->source->ops->stream &&
		!(opts->no_thread && opts->transport.request);
	w->attempted = !w->has_server;
	w->connected = !w->has_server;
	w->initial_age_ms = start->age_ms > 0 ? start->age_ms : 0;
	snprintf(w->etag, sizeof(w->etag), "%s", start->etag);
	if (is_stale(w)) {
		atomic_store(&w->status, CANARY_STATUS_STALE);
		canary__live_serve_stable(env->live,
			opts->stale_policy == CANARY_STALE_STABLE);
	}
	rc = new_delivery(w);
	if (rc == CANARY_OK && w->has_server)
		rc = new_transport(w);
	if (rc != CANARY_OK) {
		canary__worker_free(w);
		return rc;
	}
	*out = w;
	return CANARY_OK;
}

/* Without a server the only job is watching the config's age. */
static bool wants_thread(const canary__worker *w)
{
	return !w->opts->no_thread &&
		(w->has_server || w->opts->max_config_age_ms);
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
	if (!w->opts->no_thread && !wants_thread(w)) {
		/* An offline client: its status is known now, and changes
		 * only through canary__worker_config_set(). */
		step(w, canary__mono_ms());
		return CANARY_OK;
	}
	return start_thread(w);
}

void canary__worker_closing(canary__worker *w)
{
	if (w)
		atomic_store(&w->closing, true);
}

void canary__worker_stop(canary__worker *w)
{
	if (!w || !w->running)
		return;
	atomic_store(&w->stop, true);
	wakeup(w);
	pthread_join(w->thread, NULL);
	w->running = false;
}

void canary__worker_free(canary__worker *w)
{
	if (!w)
		return;
	canary__worker_stop(w);
	canary__xfer_free(w->xfer);
	canary__delivery_free(w->delivery);
	canary__transport_free(w->t);
	pthread_mutex_destroy(&w->lock);
	pthread_mutex_destroy(&w->tick_lock);
	pthread_cond_destroy(&w->cond);
	canary__delete(w->env.alloc, w, canary__worker);
}

int canary__worker_tick(canary__worker *w, int64_t now_ms)
{
	pthread_mutex_lock(&w->tick_lock);
	step(w, now_ms);
	pthread_mutex_unlock(&w->tick_lock);
	return CANARY_OK;
}

canary_status canary__worker_status(canary__worker *w)
{
	return (canary_status)atomic_load(&w->status);
}

/* Under w->lock. */
static int ready_code(canary__worker *w, uint32_t timeout_ms)
{
	const char *base = w->opts->server_urls ? w->opts->server_urls[0] : NULL;
	char shown[256] = "";

	if (atomic_load(&w->status) == CANARY_STATUS_AUTH_ERROR)
		return canary__error_set(CANARY_EAUTH, "%s", w->last_error[0] ?
			w->last_error : "the flag service rejected the SDK key");
	if (w->ready)
		return CANARY_OK;
	if (w->last_error[0])
		return canary__error_set(CANARY_ETIMEOUT,
			"not ready after %u ms: %s", timeout_ms, w->last_error);
	if (base)
		canary__url_for_log(base, shown, sizeof(shown));
	return canary__error_set(CANARY_ETIMEOUT,
		"not ready after %u ms: %s%s", timeout_ms,
		base ? "no answer yet from " : "no config (no server, no cache, no bootstrap file)",
		shown);
}

int canary__worker_wait_ready(canary__worker *w, uint32_t timeout_ms)
{
	struct timespec ts = canary__deadline(timeout_ms);
	int rc;

	pthread_mutex_lock(&w->lock);
	while (!w->ready && w->running &&
	       pthread_cond_timedwait(&w->cond, &w->lock, &ts) == 0)
		;
	rc = ready_code(w, timeout_ms);
	pthread_mutex_unlock(&w->lock);
	return rc;
}

void canary__worker_info_get(canary__worker *w, canary__worker_info *out)
{
	int64_t now = canary__mono_ms();

	memset(out, 0, sizeof(*out));
	out->status = canary__worker_status(w);
	out->server_count = w->server_count;
	pthread_mutex_lock(&w->lock);
	out->server_index = w->server_shown;
	out->stream_open = w->stream_shown;
	snprintf(out->last_error, sizeof(out->last_error), "%s", w->last_error);
	out->last_error_age_ms = w->last_error_at ? now - w->last_error_at : -1;
	out->confirmed_age_ms = w->confirmed_mono ? now - w->confirmed_mono : -1;
	pthread_mutex_unlock(&w->lock);
}

void canary__worker_config_set(canary__worker *w)
{
	atomic_store(&w->config_set, true);
	if (w->running) {
		wakeup(w);
	} else if (!w->opts->no_thread) {
		/* Nobody drives this client: bring the status up to date. */
		pthread_mutex_lock(&w->tick_lock);
		step(w, canary__mono_ms());
		pthread_mutex_unlock(&w->tick_lock);
	}
}

void canary__worker_prefork(canary__worker *w)
{
	pthread_mutex_lock(&w->lock);
}

void canary__worker_postfork_unlock(canary__worker *w)
{
	pthread_mutex_unlock(&w->lock);
}

int canary__worker_postfork_child(canary__worker *w)
{
	int rc;

	/* Only this thread exists in the child: the worker thread is gone,
	 * and with it any lock it held. */
	w->running = false;
	init_locks(w);
	atomic_store(&w->status, CANARY_STATUS_INITIALIZING);
	canary__transport_abandon(w->t);
	w->t = NULL;
	reset_driver(w); /* the parent's request: leaked, never touched */
	canary__delivery_postfork(w->delivery, seed_for(w) ^ 0xaaaa);
	rc = w->has_server ? new_transport(w) : CANARY_OK;
	if (rc == CANARY_OK)
		rc = start_thread(w);
	return rc;
}

bool canary__worker_deliver_now(canary__worker *w)
{
	if (!w || !w->running || !w->has_server)
		return false;
	canary__delivery_ask(w->delivery);
	wakeup(w);
	return true;
}
