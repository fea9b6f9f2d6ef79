/*
 * client.c - client lifetime and options, and the public calls other than
 * evaluation: each is a thin layer over the module that does the work.
 */
#include "client.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "error.h"

#define FINAL_FLUSH_MS 500 /* canary_client_free() waits this long at most */

/* The public structs that grow: zeroed, with their version. */
static int init_versioned(void *p, size_t size, unsigned int version,
	unsigned int current, const char *what)
{
	if (!p)
		return canary__error_set(CANARY_EINVAL, "%s is NULL", what);
	if (version != current)
		return canary__error_set(CANARY_EINVAL,
			"%s version %u is not supported (this library knows %u)",
			what, version, current);
	memset(p, 0, size);
	*(unsigned int *)p = version; /* the first field of each */
	return CANARY_OK;
}

int canary_options_init(canary_options *opts, unsigned int version)
{
	int rc = init_versioned(opts, sizeof(*opts), version,
		CANARY_OPTIONS_VERSION, "options");

	if (rc == CANARY_OK)
		opts->log_level = CANARY_LOG_INFO;
	return rc;
}

int canary_details_init(canary_details *details, unsigned int version)
{
	int rc = init_versioned(details, sizeof(*details), version,
		CANARY_DETAILS_VERSION, "details");

	if (rc == CANARY_OK)
		details->reason = CANARY_REASON_DEFAULT;
	return rc;
}

int canary_event_stats_init(canary_event_stats *stats, unsigned int version)
{
	return init_versioned(stats, sizeof(*stats), version,
		CANARY_EVENT_STATS_VERSION, "event stats");
}

/* Zero means default: fill every default in one place. */
static void apply_defaults(canary_options *o)
{
	if (!o->connect_timeout_ms)
		o->connect_timeout_ms = 2000;
	if (!o->request_timeout_ms)
		o->request_timeout_ms = 10000;
	if (!o->poll_interval_ms)
		o->poll_interval_ms = 30000;
	if (!o->flush_interval_ms)
		o->flush_interval_ms = 10000;
	if (!o->max_response_bytes)
		o->max_response_bytes = 16u * 1024u * 1024u;
	if (!o->backoff_cap_ms)
		o->backoff_cap_ms = 60000;
	if (!o->stream_idle_timeout_ms)
		o->stream_idle_timeout_ms = 45000;
	if (!o->outbox_max_batches)
		o->outbox_max_batches = 1000;
	if (!o->outbox_max_bytes)
		o->outbox_max_bytes = 64u * 1024u * 1024u;
}

static int check_options(const canary_options *o)
{
	if (o->version != CANARY_OPTIONS_VERSION)
		return canary__error_set(CANARY_EINVAL,
			"opts.version: %u is not supported; call canary_options_init()",
			o->version);
#ifdef CANARY_NO_THREADS
	if (!o->no_thread)
		return canary__error_set(CANARY_ENOTSUP,
			"opts.no_thread: this library was built with CANARY_NO_THREADS; "
			"set no_thread and call canary_client_tick()");
#endif
	if (o->stale_policy != CANARY_STALE_KEEP &&
	    o->stale_policy != CANARY_STALE_STABLE)
		return canary__error_set(CANARY_EINVAL,
			"opts.stale_policy: unknown value %d", (int)o->stale_policy);
	if (o->log_level > CANARY_LOG_ERROR)
		return canary__error_set(CANARY_EINVAL,
			"opts.log_level: unknown value %d", (int)o->log_level);
	if (o->server_url && !o->sdk_key)
		return canary__error_set(CANARY_EINVAL,
			"opts.sdk_key: required when server_url is set");
	if (o->max_response_bytes > CANARY__MAX_CONFIG_BYTES)
		return canary__error_set(CANARY_EINVAL,
			"opts.max_response_bytes: at most %u", CANARY__MAX_CONFIG_BYTES);
	if (!o->transport.request && o->transport.ctx)
		return canary__error_set(CANARY_EINVAL,
			"opts.transport: ctx set without a request function");
	return CANARY_OK;
}

static int copy_strings(canary_client *c, const canary_options *o)
{
	const canary__alloc *a = &c->alloc;

	c->server_url = canary__strdup(a, o->server_url);
	c->sdk_key = canary__strdup(a, o->sdk_key);
	c->cache_path = canary__strdup(a, o->cache_path);
	c->bootstrap_path = canary__strdup(a, o->bootstrap_path);
	c->ca_file = canary__strdup(a, o->ca_file);
	c->ca_path = canary__strdup(a, o->ca_path);
	if ((o->server_url && !c->server_url) || (o->sdk_key && !c->sdk_key) ||
	    (o->cache_path && !c->cache_path) ||
	    (o->bootstrap_path && !c->bootstrap_path) ||
	    (o->ca_file && !c->ca_file) || (o->ca_path && !c->ca_path))
		return canary__error_set(CANARY_ENOMEM, "out of memory");
	/* The copy in opts must never point at the caller's memory. */
	c->opts.server_url = c->server_url;
	c->opts.sdk_key = c->sdk_key;
	c->opts.cache_path = c->cache_path;
	c->opts.bootstrap_path = c->bootstrap_path;
	c->opts.ca_file = c->ca_file;
	c->opts.ca_path = c->ca_path;
	return CANARY_OK;
}

/* Read a whole file with the client's allocator. */
static int read_file(canary_client *c, const char *path, char **out,
	size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, used = 0;
	int rc = CANARY_OK;

	*out = NULL;
	if (!f)
		return canary__error_set(CANARY_EINVAL, "%s: %s", path,
			strerror(errno));
	for (;;) {
		size_t got;

		if (used == cap) {
			char *grown;

			if (cap >= CANARY__MAX_CONFIG_BYTES) {
				rc = canary__error_set(CANARY_EPARSE,
					"%s: larger than %u bytes", path,
					CANARY__MAX_CONFIG_BYTES);
				break;
			}
			cap = cap ? cap * 2 : 65536;
			grown = canary__realloc(&c->alloc, buf, cap);
			if (!grown) {
				rc = canary__error_set(CANARY_ENOMEM, "out of memory");
				break;
			}
			buf = grown;
		}
		got = fread(buf + used, 1, cap - used, f);
		used += got;
		if (got == 0) {
			if (ferror(f))
				rc = canary__error_set(CANARY_EINVAL, "%s: read error",
					path);
			break;
		}
	}
	fclose(f);
	if (rc != CANARY_OK) {
		canary__free(&c->alloc, buf);
		return rc;
	}
	*out = buf;
	*len = used;
	return CANARY_OK;
}

static int load_bootstrap(canary_client *c)
{
	canary__config *config;
	char err[CANARY__PERR_TEXT];
	canary__perror e;
	char *json;
	size_t len = 0;
	int rc;

	rc = read_file(c, c->bootstrap_path, &json, &len);
	if (rc != CANARY_OK)
		return rc;
	rc = canary__config_parse(&c->alloc, json, len, &config, &e);
	canary__free(&c->alloc, json);
	if (rc != CANARY_OK)
		return canary__error_set(rc, "%s: %s", c->bootstrap_path,
			canary__perror_format(&e, err, sizeof(err)));
	rc = canary__live_apply(&c->live, config, "bootstrap file");
	/* Older than the cache: the cache wins (apply logged why). */
	return rc == CANARY_ESTATE ? CANARY_OK : rc;
}

/* After the cache: a cache file that was unusable has been replaced. */
static int open_outbox(canary_client *c)
{
	char note[512];
	int rc;

	rc = canary__events_open_outbox(c->events,
		canary__persist_usable(c->persist) ? c->cache_path : NULL, note,
		sizeof(note));
	if (note[0])
		canary__log(&c->log, rc == CANARY_OK ? CANARY_LOG_WARN : CANARY_LOG_ERROR,
			"%s%s", note, rc == CANARY_OK ? "; events are kept in memory" : "");
	return rc;
}

/* The config source (source.h). One today; an option choosing among
 * several goes here. */
static int open_source(canary_client *c)
{
	const canary__source_ops *ops = &canary__source_libcanary;
	canary__source_env env;

	env.alloc = &c->alloc;
	env.server_url = c->server_url;
	env.sdk_key = c->sdk_key;
	env.max_bytes = c->opts.max_response_bytes;
	if (ops->open(&c->source.state, &env) != CANARY_OK)
		return canary__error_set(CANARY_ENOMEM, "out of memory");
	c->source.ops = ops;
	return CANARY_OK;
}

/* The cached config, before any network I/O. */
static int load_cache(canary_client *c, canary__persist_start *start)
{
	canary__config *config;
	int rc;

	rc = canary__persist_open(&c->persist, &c->alloc, &c->log,
		c->cache_path, &c->source, &config, start);
	if (rc == CANARY_OK && config)
		rc = canary__live_apply(&c->live, config, "cache");
	return rc;
}

/* fork(): every lock of the client, in the order they are taken. */
static void client_prefork(void *ctx)
{
	canary_client *c = ctx;

	canary__live_prefork(&c->live);
	canary__events_prefork(c->events);
	canary__worker_prefork(c->worker);
}

static void client_postfork_unlock(void *ctx)
{
	canary_client *c = ctx;

	canary__worker_postfork_unlock(c->worker);
	canary__events_postfork_unlock(c->events);
	canary__live_postfork_unlock(&c->live);
}

static int new_worker(canary_client *c, const canary__persist_start *start)
{
	canary__worker_env env;

	env.opts = &c->opts;
	env.alloc = &c->alloc;
	env.log = &c->log;
	env.live = &c->live;
	env.persist = c->persist;
	env.events = c->events;
	env.source = &c->source;
	return canary__worker_new(&c->worker, &env, start);
}

static int start_data_path(canary_client *c)
{
	canary__persist_start start;
	uint64_t cached_version;
	int rc;

	rc = open_source(c);
	if (rc == CANARY_OK)
		rc = load_cache(c, &start);
	cached_version = canary__live_version(&c->live);
	if (rc == CANARY_OK)
		rc = open_outbox(c);
	if (rc == CANARY_OK && c->bootstrap_path)
		rc = load_bootstrap(c);
	if (canary__live_version(&c->live) != cached_version)
		start.etag[0] = '\0', start.age_ms = 0; /* bootstrap won */
	if (rc == CANARY_OK)
		rc = new_worker(c, &start);
	if (rc != CANARY_OK)
		return rc;
	c->fork.prepare = client_prefork;
	c->fork.release = client_postfork_unlock;
	c->fork.ctx = c;
	canary__fork_register(&c->fork);
	c->forkable = true;
	if (c->opts.tls_insecure && c->server_url)
		canary__log(&c->log, CANARY_LOG_WARN,
			"opts.tls_insecure is set: the flag service's certificate is NOT verified");
	return canary__worker_run(c->worker);
}

int canary_client_new(canary_client **out, const canary_options *opts)
{
	canary_options defaults;
	canary__alloc alloc;
	canary_client *c;
	int rc;

	if (!out)
		return canary__error_set(CANARY_EINVAL, "out is NULL");
	*out = NULL;
	if (!opts) {
		canary_options_init(&defaults, CANARY_OPTIONS_VERSION);
		opts = &defaults;
	}
	rc = check_options(opts);
	if (rc != CANARY_OK)
		return rc;
	if (canary__alloc_init(&alloc, &opts->allocator) != CANARY_OK)
		return canary__error_set(CANARY_EINVAL,
			"opts.allocator: set all three functions or none");
	c = canary__calloc(&alloc, 1, sizeof(*c));
	if (!c)
		return canary__error_set(CANARY_ENOMEM, "out of memory");
	c->alloc = alloc;
	c->opts = *opts;
	apply_defaults(&c->opts);
	c->log.fn = opts->log_fn;
	c->log.ctx = opts->log_ctx;
	c->log.level = opts->log_level;
	c->pid = getpid();
	canary__live_init(&c->live, &c->alloc, &c->log, &c->opts);
	rc = copy_strings(c, opts);
	if (rc == CANARY_OK)
		rc = canary__counters_new(&c->counters, &c->alloc, &c->log,
			&c->live.ev_reg);
	if (rc == CANARY_OK)
		rc = canary__events_new(&c->events, &c->alloc, &c->log,
			c->counters, c->opts.outbox_max_batches,
			c->opts.outbox_max_bytes);
	if (rc == CANARY_OK)
		canary__live_set_events(&c->live, c->counters, c->events);
	if (rc == CANARY_OK)
		rc = start_data_path(c);
	if (rc != CANARY_OK) {
		canary_client_free(c);
		return rc;
	}
	canary__error_clear();
	*out = c;
	return CANARY_OK;
}

/* What was counted goes to the outbox, and gets a short chance to be
 * delivered: with a cache_path, what is not delivered goes out at the
 * next start. */
static void final_flush(canary_client *c)
{
	int64_t seq = 0;

	if (!c->events || !c->worker)
		return;
	if (canary__events_flush(c->events, &seq) != CANARY_OK)
		canary__log(&c->log, CANARY_LOG_WARN, "final event flush: %s",
			canary_error_last());
	if (canary__worker_deliver_now(c->worker))
		canary__events_wait(c->events, seq, FINAL_FLUSH_MS);
}

void canary_client_free(canary_client *c)
{
	const canary__alloc *a;
	canary__alloc alloc;

	if (!c)
		return;
	final_flush(c);
	/* The worker first: it uses everything below. Its thread is stopped
	 * before the client leaves the fork registry, whose handlers take its
	 * locks. */
	canary__worker_stop(c->worker);
	if (c->forkable)
		canary__fork_unregister(&c->fork);
	canary__worker_free(c->worker);
	canary__persist_close(c->persist);
	canary__live_destroy(&c->live);
	canary__events_free(c->events);
	canary__counters_free(c->counters);
	if (c->source.ops)
		c->source.ops->close(c->source.state);
	/* The allocator lives inside the client: copy it before freeing. */
	alloc = c->alloc;
	a = &alloc;
	canary__free(a, c->server_url);
	canary__free(a, c->sdk_key);
	canary__free(a, c->cache_path);
	canary__free(a, c->bootstrap_path);
	canary__free(a, c->ca_file);
	canary__free(a, c->ca_path);
	canary__free(a, c);
}

int canary_client_set_config_json(canary_client *c, const char *json,
	size_t len)
{
	canary__config *config;
	char err[CANARY__PERR_TEXT];
	canary__perror e;
	int rc;

	if (!c || !json)
		return canary__error_set(CANARY_EINVAL, "%s is NULL",
			c ? "json" : "client");
	rc = canary__config_parse(&c->alloc, json, len, &config, &e);
	if (rc != CANARY_OK)
		return canary__error_set(rc, "%s",
			canary__perror_format(&e, err, sizeof(err)));
	rc = canary__live_apply(&c->live, config, "canary_client_set_config_json");
	if (rc != CANARY_OK)
		return rc;
	canary__error_clear();
	if (c->worker)
		canary__worker_config_set(c->worker);
	canary__live_notify(&c->live, canary__live_version(&c->live));
	return CANARY_OK;
}

uint64_t canary_client_config_version(const canary_client *c)
{
	return c ? canary__live_version(&c->live) : 0;
}

const char *canary_version(void)
{
	return CANARY_VERSION_STRING;
}

/* ---- data path: readiness, status, tick, fork ------------------------- */

int canary_client_wait_ready(canary_client *c, uint32_t timeout_ms)
{
	if (!c)
		return canary__error_set(CANARY_EINVAL, "client is NULL");
	return canary__worker_wait_ready(c->worker, timeout_ms);
}

canary_status canary_client_status(canary_client *c)
{
	return c ? canary__worker_status(c->worker) :
		CANARY_STATUS_INITIALIZING;
}

int canary_client_tick(canary_client *c, uint64_t now_ms)
{
	int rc = CANARY_OK;

	if (!c)
		return canary__error_set(CANARY_EINVAL, "client is NULL");
	if (!c->opts.no_thread)
		return canary__error_set(CANARY_ESTATE,
			"canary_client_tick: the client has a worker thread (opts.no_thread is not set)");
	if (now_ms > (uint64_t)INT64_MAX)
		return canary__error_set(CANARY_EINVAL, "now_ms out of range");
	if (getpid() != c->pid)
		rc = canary_client_postfork(c);
	canary__worker_tick(c->worker, (int64_t)now_ms);
	return rc;
}

/* In the child, the parts in the order they are used: the config in
 * force, its cache, the counts, then the worker that uses them all. */
int canary_client_postfork(canary_client *c)
{
	if (!c)
		return canary__error_set(CANARY_EINVAL, "client is NULL");
	if (getpid() == c->pid)
		return CANARY_OK;
	c->pid = getpid();
	canary__live_postfork_child(&c->live);
	canary__persist_postfork(c->persist);
	if (canary__events_postfork_child(c->events) != CANARY_OK)
		canary__log(&c->log, CANARY_LOG_ERROR, "event outbox after fork: %s",
			canary_error_last());
	return canary__worker_postfork_child(c->worker);
}

/* ---- events ------------------------------------------------------------ */

int canary_flush(canary_client *c, uint32_t timeout_ms)
{
	int64_t seq = 0;
	int rc;

	if (!c)
		return canary__error_set(CANARY_EINVAL, "client is NULL");
	rc = canary__events_flush(c->events, &seq);
	if (rc != CANARY_OK)
		return rc;
	if (!canary__worker_deliver_now(c->worker))
		return CANARY_OK; /* no-thread mode, or no server: the outbox */
	if (!canary__events_wait(c->events, seq, timeout_ms))
		return canary__error_set(CANARY_ETIMEOUT,
			"events not delivered within %u ms; they stay in the outbox",
			timeout_ms);
	canary__error_clear();
	return CANARY_OK;
}

/* Only the fields of the caller's version are written: the first layout's
 * are in every version (0 and unknown values included); a field added
 * later is copied only when out->version has it. */
int canary_event_stats_get(canary_client *c, canary_event_stats *out)
{
	canary_event_stats st;

	if (!c || !out)
		return canary__error_set(CANARY_EINVAL, "%s is NULL",
			c ? "out" : "client");
	canary__events_stats(c->events, &st);
	out->ignored = st.ignored;
	out->dropped_records = st.dropped_records;
	out->dropped_batches = st.dropped_batches;
	out->batches_written = st.batches_written;
	out->batches_sent = st.batches_sent;
	out->outbox_batches = st.outbox_batches;
	out->outbox_bytes = st.outbox_bytes;
	return CANARY_OK;
}
