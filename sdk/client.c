/*
 * client.c - client lifetime, options, and applying configs.
 */
#include "client.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "config_blob.h"
#include "error.h"

#define FINAL_FLUSH_MS 500 /* canary_client_free() waits this long at most */

int canary_options_init(canary_options *opts, unsigned int version)
{
	if (!opts)
		return canary__error_set(CANARY_EINVAL, "opts is NULL");
	if (version != CANARY_OPTIONS_VERSION)
		return canary__error_set(CANARY_EINVAL,
			"options version %u is not supported (this library knows %d)",
			version, CANARY_OPTIONS_VERSION);
	memset(opts, 0, sizeof(*opts));
	opts->version = version;
	opts->log_level = CANARY_LOG_INFO;
	return CANARY_OK;
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

static void snapshot_free_cb(void *obj, void *ctx)
{
	canary_client *c = ctx;

	/* No reader is left: the snapshot's last counts go to the batch. */
	if (c->events)
		canary__events_retire(c->events, obj);
	canary__snapshot_free(obj);
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
	char err[CANARY__ERRBUF];
	char *json;
	size_t len = 0;
	int rc;

	rc = read_file(c, c->bootstrap_path, &json, &len);
	if (rc != CANARY_OK)
		return rc;
	rc = canary__config_parse(&c->alloc, json, len, &config, err,
		sizeof(err));
	canary__free(&c->alloc, json);
	if (rc != CANARY_OK)
		return canary__error_set(rc, "%s: %s", c->bootstrap_path, err);
	rc = canary__client_apply(c, config, "bootstrap file");
	/* Older than the cache: the cache wins (apply logged why). */
	return rc == CANARY_ESTATE ? CANARY_OK : rc;
}

/* The cached config from its binary form when that is there and sound
 * (no JSON parse: the cold start of docs/datapath.md), else from its JSON. */
static int cache_config(canary_client *c, const canary__cached *cached,
	canary__config **config, char *err, size_t errlen)
{
	int rc = CANARY_EPARSE;

	if (cached->parsed)
		rc = canary__config_blob_decode(&c->alloc, cached->parsed,
			cached->parsed_len, config);
	if (rc == CANARY_OK && (*config)->version != cached->version) {
		canary__config_free(&c->alloc, *config);
		*config = NULL;
		rc = CANARY_EPARSE;
	}
	if (rc == CANARY_OK || rc == CANARY_ENOMEM)
		return rc;
	canary__log(c, CANARY_LOG_DEBUG,
		"cache %s: %s binary form; parsing the JSON", c->cache_path,
		cached->parsed ? "unusable" : "no");
	return canary__config_parse(&c->alloc, cached->body, cached->body_len,
		config, err, errlen);
}

/* The cached config, before any network I/O. A cache that cannot be used
 * is logged and skipped: it never stops the client from starting. */
static int load_cache(canary_client *c, canary__cached *cached,
	canary__worker_start *start)
{
	canary__config *config;
	char note[512], err[CANARY__ERRBUF];
	int64_t now;
	int rc;

	rc = canary__store_open(&c->store, &c->alloc, c->cache_path, cached,
		note, sizeof(note));
	if (note[0])
		canary__log(c, rc == CANARY_OK ? CANARY_LOG_WARN : CANARY_LOG_ERROR,
			"%s", note);
	if (rc == CANARY_ENOMEM)
		return rc;
	if (rc != CANARY_OK || !cached->body)
		return CANARY_OK;
	rc = cache_config(c, cached, &config, err, sizeof(err));
	if (rc == CANARY_ENOMEM)
		return rc;
	if (rc != CANARY_OK) {
		canary__log(c, CANARY_LOG_WARN,
			"cache %s: the cached config is invalid (%s); discarded",
			c->cache_path, err);
		canary__store_clear(c->store);
		return CANARY_OK;
	}
	rc = canary__client_apply(c, config, "cache");
	if (rc != CANARY_OK)
		return rc;
	start->etag = cached->etag;
	/* fetched_at_ms is whatever the file holds: a subtraction could
	 * overflow. From the future counts as fresh; the age is capped at
	 * 2^50 ms (35,000 years) so the worker's clock arithmetic cannot
	 * overflow either. */
	now = canary__wall_ms();
	if (cached->fetched_at_ms >= now)
		start->config_age_ms = 0;
	else if (cached->fetched_at_ms < now - ((int64_t)1 << 50))
		start->config_age_ms = (int64_t)1 << 50;
	else
		start->config_age_ms = now - cached->fetched_at_ms;
	return CANARY_OK;
}

/* After the cache: a cache file that was unusable has been replaced. */
static int open_outbox(canary_client *c)
{
	char note[512];
	int rc;

	rc = canary__events_open_outbox(c->events,
		c->store ? c->cache_path : NULL, note, sizeof(note));
	if (note[0])
		canary__log(c, rc == CANARY_OK ? CANARY_LOG_WARN : CANARY_LOG_ERROR,
			"%s%s", note, rc == CANARY_OK ? "; events are kept in memory" : "");
	return rc;
}

static int start_data_path(canary_client *c)
{
	canary__worker_start start = { NULL, 0 };
	canary__cached cached;
	uint64_t cached_version;
	int rc = CANARY_OK;

	memset(&cached, 0, sizeof(cached));
	if (c->cache_path)
		rc = load_cache(c, &cached, &start);
	cached_version = canary_client_config_version(c);
	if (rc == CANARY_OK)
		rc = open_outbox(c);
	if (rc == CANARY_OK && c->bootstrap_path)
		rc = load_bootstrap(c);
	if (canary_client_config_version(c) != cached_version)
		start.etag = NULL, start.config_age_ms = 0; /* bootstrap won */
	if (rc == CANARY_OK)
		rc = canary__worker_new(&c->worker, c, &start);
	canary__cached_clear(&c->alloc, &cached);
	if (rc != CANARY_OK)
		return rc;
	if (c->opts.tls_insecure && c->server_url)
		canary__log(c, CANARY_LOG_WARN,
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
	canary__hazard_init(&c->snapshots, &c->alloc, snapshot_free_cb, c);
	atomic_init(&c->serve_stable, 0);
	c->count_exposures = !opts->no_exposures;
	pthread_mutex_init(&c->write_lock, NULL);
	rc = copy_strings(c, opts);
	if (rc == CANARY_OK)
		rc = canary__events_new(&c->events, c);
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
		canary__log(c, CANARY_LOG_WARN, "final event flush: %s",
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
	/* The worker first: it uses everything below. */
	canary__worker_free(c->worker);
	canary__store_close(c->store);
	canary__hazard_destroy(&c->snapshots);
	canary__events_free(c->events);
	pthread_mutex_destroy(&c->write_lock);
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

int canary__client_apply(canary_client *c, canary__config *config,
	const char *source)
{
	canary__snapshot *snap, *cur;
	canary__hazard_guard g;
	uint64_t version = config->version, in_force = 0;
	int rc;

	rc = canary__snapshot_new(&c->alloc, config, &snap);
	if (rc != CANARY_OK)
		return rc;
	pthread_mutex_lock(&c->write_lock);
	canary__events_attach(c->events, snap);
	cur = canary__hazard_enter(&c->snapshots, &g);
	if (cur)
		in_force = cur->version;
	canary__hazard_leave(&c->snapshots, &g);
	if (cur && version < in_force) {
		rc = canary__error_set(CANARY_ESTATE,
			"%s: config version %llu is older than the version in force (%llu); ignored",
			source, (unsigned long long)version,
			(unsigned long long)in_force);
	} else if (canary__hazard_publish(&c->snapshots, snap) != 0) {
		rc = canary__error_set(CANARY_ENOMEM, "out of memory");
	}
	if (rc != CANARY_OK)
		canary__events_detach(c->events, snap);
	pthread_mutex_unlock(&c->write_lock);
	if (rc != CANARY_OK) {
		canary__log(c, CANARY_LOG_WARN, "%s", canary_error_last());
		canary__snapshot_free(snap);
		return rc;
	}
	canary__log(c, CANARY_LOG_INFO, "config version %llu applied from %s",
		(unsigned long long)version, source);
	return CANARY_OK;
}

int canary_client_set_config_json(canary_client *c, const char *json,
	size_t len)
{
	canary__config *config;
	char err[CANARY__ERRBUF];
	int rc;

	if (!c || !json)
		return canary__error_set(CANARY_EINVAL, "%s is NULL",
			c ? "json" : "client");
	rc = canary__config_parse(&c->alloc, json, len, &config, err,
		sizeof(err));
	if (rc != CANARY_OK)
		return canary__error_set(rc, "%s", err);
	rc = canary__client_apply(c, config, "canary_client_set_config_json");
	if (rc != CANARY_OK)
		return rc;
	canary__error_clear();
	if (c->worker)
		canary__worker_config_set(c->worker);
	if (c->opts.config_fn)
		c->opts.config_fn(canary_client_config_version(c),
			c->opts.config_ctx);
	return CANARY_OK;
}

uint64_t canary_client_config_version(const canary_client *c)
{
	canary__hazard_guard g;
	canary__snapshot *snap;
	uint64_t version;

	if (!c)
		return 0;
	/* The domain is logically const: entering only marks a hazard. */
	snap = canary__hazard_enter((canary__hazard *)&c->snapshots, &g);
	version = snap ? snap->version : 0;
	canary__hazard_leave((canary__hazard *)&c->snapshots, &g);
	return version;
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

const char *canary_status_name(canary_status status)
{
	static const char *const names[] = {
		"INITIALIZING", "READY", "STALE", "OFFLINE", "AUTH_ERROR"
	};

	if ((unsigned)status >= sizeof(names) / sizeof(names[0]))
		return "UNKNOWN";
	return names[status];
}

int canary_client_tick(canary_client *c, uint64_t now_ms)
{
	if (!c)
		return canary__error_set(CANARY_EINVAL, "client is NULL");
	if (!c->opts.no_thread)
		return canary__error_set(CANARY_ESTATE,
			"canary_client_tick: the client has a worker thread (opts.no_thread is not set)");
	if (now_ms > (uint64_t)INT64_MAX)
		return canary__error_set(CANARY_EINVAL, "now_ms out of range");
	return canary__worker_tick(c->worker, (int64_t)now_ms);
}

int canary_client_postfork(canary_client *c)
{
	if (!c)
		return canary__error_set(CANARY_EINVAL, "client is NULL");
	return canary__worker_postfork(c->worker);
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

int canary_event_stats_get(canary_client *c, canary_event_stats *out)
{
	if (!c || !out)
		return canary__error_set(CANARY_EINVAL, "%s is NULL",
			c ? "out" : "client");
	canary__events_stats(c->events, out);
	return CANARY_OK;
}
