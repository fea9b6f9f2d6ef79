/*
 * client.c - client lifetime and options, and the public calls other than
 * evaluation: each is a thin layer over the module that does the work.
 */
#include "client.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "error.h"
#include "transfer.h"

#define FINAL_FLUSH_MS 500 /* canary_client_free() waits this long at most */
#define MAX_SERVERS 16
/* The smallest outbox_max_bytes: a batch carrying only a drop report
 * (ids, version, two counts: under 500 bytes) must fit, or each flush
 * drops the previous report for being too large and the service never
 * hears of any drop. */
#define MIN_OUTBOX_BYTES 1000u

/* The size of canary_options and canary_details in each version. */
#define OPTIONS_V1_SIZE offsetof(canary_options, server_urls)
#define OPTIONS_V2_SIZE offsetof(canary_options, source)
#define OPTIONS_V3_SIZE offsetof(canary_options, hostname)
#define DETAILS_V1_SIZE offsetof(canary_details, rule)

static size_t options_size(unsigned int version)
{
	return version == 1 ? OPTIONS_V1_SIZE :
		version == 2 ? OPTIONS_V2_SIZE :
		version == 3 ? OPTIONS_V3_SIZE :
		version == 4 ? sizeof(canary_options) : 0;
}

/* The public structs that grow: zeroed, with their version. */
int canary__init_versioned(void *p, size_t size, unsigned int version,
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

/* Only the fields of the caller's version: an older program's struct is
 * smaller. */
int canary_options_init(canary_options *opts, unsigned int version)
{
	size_t size = options_size(version);
	int rc = canary__init_versioned(opts, size ? size : sizeof(*opts),
		version, size ? version : CANARY_OPTIONS_VERSION, "options");

	if (rc != CANARY_OK)
		return rc;
	opts->log_level = CANARY_LOG_INFO;
	if (version >= 2)
		opts->log_stderr = CANARY_LOG_WARN;
	return CANARY_OK;
}

/* The caller's options as the current version: the fields its version
 * lacks get their defaults. */
static int read_options(const canary_options *in, canary_options *out)
{
	size_t size = options_size(in->version);

	if (!size)
		return canary__error_set(CANARY_EINVAL,
			"opts.version: %u is not supported; call canary_options_init()",
			in->version);
	canary_options_init(out, CANARY_OPTIONS_VERSION);
	memcpy(out, in, size);
	out->version = CANARY_OPTIONS_VERSION;
	return CANARY_OK;
}

int canary_details_init(canary_details *details, unsigned int version)
{
	size_t size = version == 1 ? DETAILS_V1_SIZE : sizeof(*details);
	int rc = canary__init_versioned(details, size, version,
		version == 1 ? 1 : CANARY_DETAILS_VERSION, "details");

	if (rc != CANARY_OK)
		return rc;
	details->reason = CANARY_REASON_DEFAULT;
	if (version >= 2)
		details->rule = -1;
	return CANARY_OK;
}

int canary_context_init(canary_context *ctx, unsigned int version)
{
	return canary__init_versioned(ctx, sizeof(*ctx), version,
		CANARY_CONTEXT_VERSION, "context");
}

int canary_event_stats_init(canary_event_stats *stats, unsigned int version)
{
	return canary__init_versioned(stats, sizeof(*stats), version,
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

/* The index of the first control byte (C0 or DEL) of s[0..n), or n. */
static size_t control_at(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] == 0x7f)
			break;
	return i;
}

/* libcanary appends /v1/flags (and the others) to a base URL: after a
 * query or a fragment that makes a URL of another path (a 404 that also
 * drops every event batch), and a query may hold a secret the logs would
 * show, so neither is accepted, nor a space or control byte. Only what
 * comes before them is shown. */
static int check_url_tail(const char *field, const char *url,
	const char *shown)
{
	size_t n = strcspn(url, "?# "), i = control_at(url, n);

	if (i == n && !url[n])
		return CANARY_OK;
	return canary__error_set(CANARY_EINVAL,
		"%s: \"%.*s\" is followed by %s: give the server's root URL",
		field, (int)strcspn(shown, "?# \t\r\n"), shown,
		i < n ? "a control character" : url[n] == '?' ? "a query" :
		url[n] == '#' ? "a fragment" : "a space");
}

/* A flag service URL: http or https, with a host, nothing after its
 * path. */
static int check_url(const char *field, const char *url)
{
	const char *sep = strstr(url, "://");
	char shown[256];
	size_t n;

	canary__url_for_log(url, shown, sizeof(shown));
	if (!sep)
		return canary__error_set(CANARY_EINVAL,
			"%s: \"%s\" has no scheme: write http://%s or https://%s",
			field, shown, shown, shown);
	n = (size_t)(sep - url);
	if (!((n == 4 && strncasecmp(url, "http", 4) == 0) ||
	      (n == 5 && strncasecmp(url, "https", 5) == 0)))
		return canary__error_set(CANARY_EINVAL,
			"%s: scheme \"%.*s\" is not supported (\"%s\"): use http:// or https://",
			field, (int)(n < 16 ? n : 16), url, shown);
	if (!sep[3] || sep[3] == '/')
		return canary__error_set(CANARY_EINVAL, "%s: no host in \"%s\"",
			field, shown);
	return check_url_tail(field, url, shown);
}

static int check_servers(const canary_options *o)
{
	char field[32];
	size_t i;
	int rc;

	if (o->server_url && o->server_urls)
		return canary__error_set(CANARY_EINVAL,
			"opts.server_urls: set server_url or server_urls, not both");
	if (o->server_url)
		return check_url("opts.server_url", o->server_url);
	if (!o->server_urls)
		return CANARY_OK;
	for (i = 0; o->server_urls[i]; i++) {
		if (i == MAX_SERVERS)
			return canary__error_set(CANARY_EINVAL,
				"opts.server_urls: at most %d", MAX_SERVERS);
		snprintf(field, sizeof(field), "opts.server_urls[%zu]", i);
		rc = check_url(field, o->server_urls[i]);
		if (rc != CANARY_OK)
			return rc;
	}
	if (i == 0)
		return canary__error_set(CANARY_EINVAL,
			"opts.server_urls: empty (NULL for none)");
	return CANARY_OK;
}

/* The cache file may not exist yet; its directory must. */
static int check_cache_path(const char *path)
{
	const char *slash = strrchr(path, '/');
	char dir[4096];
	struct stat st;

	if (!*path)
		return canary__error_set(CANARY_EINVAL, "opts.cache_path: empty");
	if (!slash)
		return CANARY_OK; /* the working directory */
	if ((size_t)(slash - path) >= sizeof(dir))
		return canary__error_set(CANARY_EINVAL, "opts.cache_path: too long");
	memcpy(dir, path, (size_t)(slash - path));
	dir[slash - path] = '\0';
	if (!dir[0])
		return CANARY_OK; /* "/file" */
	if (stat(dir, &st) != 0)
		return canary__error_set(CANARY_EINVAL,
			"opts.cache_path: directory %s does not exist (%s)", dir,
			strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return canary__error_set(CANARY_EINVAL,
			"opts.cache_path: %s is not a directory", dir);
	return CANARY_OK;
}

/* A header value with a control byte (a key file's trailing newline, a
 * CR LF) would end the header early or inject others into every request:
 * refuse it here, where the field can be named. */
static bool header_value_ok(const char *s)
{
	size_t n = strlen(s);

	return control_at(s, n) == n;
}

/* The key and the app name go into request headers. The key itself is
 * never shown: it is a secret. */
static int check_header_fields(const canary_options *o)
{
	if (o->sdk_key && (!*o->sdk_key || !header_value_ok(o->sdk_key)))
		return canary__error_set(CANARY_EINVAL,
			"opts.sdk_key: %s", *o->sdk_key ?
			"contains a control character (a trailing newline?)" :
			"empty");
	if (o->app_name && !header_value_ok(o->app_name))
		return canary__error_set(CANARY_EINVAL,
			"opts.app_name: contains a control character");
	return CANARY_OK;
}

static int check_options(const canary_options *o)
{
	int rc;

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
	if (o->log_level > CANARY_LOG_OFF)
		return canary__error_set(CANARY_EINVAL,
			"opts.log_level: unknown value %d", (int)o->log_level);
	if (o->log_stderr > CANARY_LOG_OFF)
		return canary__error_set(CANARY_EINVAL,
			"opts.log_stderr: unknown value %d", (int)o->log_stderr);
	if (o->source != CANARY_SOURCE_LIBCANARY &&
	    o->source != CANARY_SOURCE_UNLEASH)
		return canary__error_set(CANARY_EINVAL,
			"opts.source: unknown value %d", (int)o->source);
	rc = check_servers(o);
	if (rc != CANARY_OK)
		return rc;
	if (o->hostname && strlen(o->hostname) > CANARY__MAX_HOSTNAME)
		return canary__error_set(CANARY_EINVAL,
			"opts.hostname: at most %d bytes", CANARY__MAX_HOSTNAME);
	if ((o->server_url || o->server_urls) && !o->sdk_key)
		return canary__error_set(CANARY_EINVAL,
			"opts.sdk_key: required when %s is set",
			o->server_url ? "server_url" : "server_urls");
	if ((rc = check_header_fields(o)) != CANARY_OK)
		return rc;
	if (o->cache_path && (rc = check_cache_path(o->cache_path)) != CANARY_OK)
		return rc;
	if (o->outbox_max_bytes && o->outbox_max_bytes < MIN_OUTBOX_BYTES)
		return canary__error_set(CANARY_EINVAL,
			"opts.outbox_max_bytes: at least %u (a drop report must fit)",
			MIN_OUTBOX_BYTES);
	if (o->max_response_bytes > CANARY__MAX_CONFIG_BYTES)
		return canary__error_set(CANARY_EINVAL,
			"opts.max_response_bytes: at most %u", CANARY__MAX_CONFIG_BYTES);
	if (!o->transport.request && o->transport.ctx)
		return canary__error_set(CANARY_EINVAL,
			"opts.transport: ctx set without a request function");
	return CANARY_OK;
}

/* The server list, server_url alone or server_urls, copied. */
static int copy_servers(canary_client *c, const canary_options *o)
{
	const char *one[2] = { o->server_url, NULL };
	const char *const *list = o->server_urls ? o->server_urls : one;
	size_t n = 0, i;

	while (list[n])
		n++;
	if (!n)
		return CANARY_OK;
	c->server_urls = canary__calloc(&c->alloc, n + 1, sizeof(char *));
	if (!c->server_urls)
		return canary__error_set(CANARY_ENOMEM, "out of memory");
	for (i = 0; i < n; i++) {
		c->server_urls[i] = canary__strdup(&c->alloc, list[i]);
		if (!c->server_urls[i])
			return canary__error_set(CANARY_ENOMEM, "out of memory");
		c->server_count++;
	}
	c->opts.server_urls = (const char *const *)c->server_urls;
	return CANARY_OK;
}

/* A base URL that ends in /v1 (or /v1/flags) gets /v1/flags appended
 * after it, a 404: say so at once. */
static void warn_url_path(canary_client *c)
{
	size_t i;

	for (i = 0; i < c->server_count; i++) {
		const char *u = c->server_urls[i];
		size_t n = strlen(u);
		char shown[256];

		while (n && u[n - 1] == '/')
			n--;
		if (!((n >= 3 && strncmp(u + n - 3, "/v1", 3) == 0) ||
		      (n >= 9 && strncmp(u + n - 9, "/v1/flags", 9) == 0)))
			continue;
		canary__url_for_log(u, shown, sizeof(shown));
		canary__log(&c->log, CANARY_LOG_WARN,
			"server URL \"%s\" ends in /v1: give the server's root (libcanary adds /v1/flags)",
			shown);
	}
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
	c->app_name = canary__strdup(a, o->app_name);
	c->hostname = canary__strdup(a, o->hostname);
	if ((o->app_name && !c->app_name) || (o->hostname && !c->hostname) ||
	    (o->server_url && !c->server_url) || (o->sdk_key && !c->sdk_key) ||
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
	c->opts.app_name = c->app_name;
	c->opts.hostname = c->hostname;
	c->opts.server_urls = NULL;
	return copy_servers(c, o);
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
		return canary__error_set(CANARY_EINVAL,
			"opts.bootstrap_path: cannot read %s: %s", path,
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
	rc = c->source.ops->parse(c->source.state, json, len, &config, &e);
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

/* The config source (source.h), as opts.source says. */
static int open_source(canary_client *c)
{
	const canary__source_ops *ops =
		c->opts.source == CANARY_SOURCE_UNLEASH ? &canary__source_unleash :
		&canary__source_libcanary;
	canary__source_env env;

	env.alloc = &c->alloc;
	env.server_urls = (const char *const *)c->server_urls;
	env.server_count = c->server_count;
	env.sdk_key = c->sdk_key;
	env.max_bytes = c->opts.max_response_bytes;
	env.app_name = c->app_name;
	env.hostname = c->hostname;
	env.delta = c->opts.unleash_delta;
	env.instance_id = canary__events_instance_id(c->events);
	env.flush_interval_ms = c->opts.flush_interval_ms;
	if (ops->open(&c->source.state, &env) != CANARY_OK)
		return canary__error_set(CANARY_ENOMEM, "out of memory");
	c->source.ops = ops;
	if (ops->encode)
		canary__events_set_encoder(c->events, ops->encode, c->source.state);
	return CANARY_OK;
}

/* The source's hello (Unleash's registration), first in the outbox. Not
 * having sent it is not the client's failure: logged. */
static void send_hello(canary_client *c)
{
	char *body = NULL;
	size_t len = 0;
	int rc;

	if (!c->source.ops->hello || !c->server_count)
		return;
	rc = c->source.ops->hello(c->source.state, &body, &len);
	if (rc == CANARY_OK && body)
		rc = canary__events_put_body(c->events, body, len);
	if (rc != CANARY_OK)
		canary__log(&c->log, CANARY_LOG_WARN,
			"%s: the registration was not queued (%s)",
			c->source.ops->name, canary_strerror(rc));
	canary__free(&c->alloc, body);
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

/* fork(): every lock of the client, in the order they are taken (the
 * handle registry, the unknown keys' and the log's are leaves). */
static void client_prefork(void *ctx)
{
	canary_client *c = ctx;

	canary__flag_refs_prefork(&c->refs);
	canary__live_prefork(&c->live);
	canary__events_prefork(c->events);
	canary__worker_prefork(c->worker);
	canary__unknown_prefork(&c->unknown);
	canary__log_prefork(&c->log);
}

static void client_postfork_unlock(void *ctx)
{
	canary_client *c = ctx;

	canary__log_postfork(&c->log);
	canary__unknown_postfork(&c->unknown);
	canary__worker_postfork_unlock(c->worker);
	canary__events_postfork_unlock(c->events);
	canary__live_postfork_unlock(&c->live);
	canary__flag_refs_postfork(&c->refs);
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
	env.unknown = &c->unknown;
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
	if (rc == CANARY_OK)
		send_hello(c);
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
	if (c->opts.tls_insecure && c->server_count)
		canary__log(&c->log, CANARY_LOG_WARN,
			"opts.tls_insecure is set: the flag service's certificate is NOT verified");
	return canary__worker_run(c->worker);
}

int canary_client_new(canary_client **out, const canary_options *in)
{
	canary_options full, *opts = &full;
	canary__alloc alloc;
	canary_client *c;
	int rc;

	if (!out)
		return canary__error_set(CANARY_EINVAL, "out is NULL");
	*out = NULL;
	if (!in)
		canary_options_init(&full, CANARY_OPTIONS_VERSION);
	else if ((rc = read_options(in, &full)) != CANARY_OK)
		return rc;
	rc = check_options(opts);
	if (rc != CANARY_OK)
		return rc;
	if (canary__alloc_init(&alloc, &opts->allocator) != CANARY_OK)
		return canary__error_set(CANARY_EINVAL,
			"opts.allocator: set all three functions or none");
	c = canary__new(&alloc, canary_client);
	if (!c)
		return canary__error_set(CANARY_ENOMEM, "out of memory");
	c->alloc = alloc;
	c->opts = *opts;
	apply_defaults(&c->opts);
	canary__log_setup(&c->log, &c->log_sink, opts->log_fn, opts->log_ctx,
		opts->log_level, opts->log_stderr);
	c->pid = getpid();
	canary__live_init(&c->live, &c->alloc, &c->log, &c->opts);
	canary__unknown_init(&c->unknown);
	canary__flag_refs_init(&c->refs, &c->alloc);
	rc = copy_strings(c, opts);
	if (rc == CANARY_OK)
		warn_url_path(c);
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

/* In a child that did not call canary_client_postfork(): do it now,
 * before the counts reach the outbox. Otherwise they (the parent's too,
 * which the parent sends) would be written through the parent's SQLite
 * connection, counted twice, and the parent's outbox bookkeeping would
 * lose track of its own batch. */
static int follow_fork(canary_client *c)
{
	return getpid() == c->pid ? CANARY_OK : canary_client_postfork(c);
}

void canary_client_free(canary_client *c)
{
	const canary__alloc *a;
	canary__alloc alloc;
	size_t i;

	if (!c)
		return;
	(void)follow_fork(c);
	/* First: no config applied, no callback called from here on. */
	canary__worker_closing(c->worker);
	final_flush(c);
	/* The worker first: it uses everything below. Its thread is stopped
	 * before the client leaves the fork registry, whose handlers take its
	 * locks. */
	canary__worker_stop(c->worker);
	if (c->forkable)
		canary__fork_unregister(&c->fork);
	/* A client without a thread may not have said it yet. */
	canary__unknown_report(&c->unknown, &c->live, &c->log);
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
	canary__free(a, c->app_name);
	canary__free(a, c->hostname);
	for (i = 0; i < c->server_count; i++)
		canary__free(a, c->server_urls[i]);
	canary__free(a, c->server_urls);
	canary__flag_refs_destroy(&c->refs);
	canary__unknown_destroy(&c->unknown);
	canary__log_teardown(&c->log);
	canary__delete(a, c, canary_client);
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
	/* The source's format: a features document in Unleash mode. */
	rc = c->source.ops->parse(c->source.state, json, len, &config, &e);
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

/* ---- diagnose ------------------------------------------------------------- */

/* A duration for a person: "850 ms", "12 s", "3 min", "5 h", "2 days". */
static void human_age(int64_t ms, char *buf, size_t len)
{
	if (ms < 1000)
		snprintf(buf, len, "%" PRId64 " ms", ms);
	else if (ms < 120000)
		snprintf(buf, len, "%" PRId64 " s", ms / 1000);
	else if (ms < 2 * 3600000)
		snprintf(buf, len, "%" PRId64 " min", ms / 60000);
	else if (ms < (int64_t)2 * 86400000)
		snprintf(buf, len, "%" PRId64 " h", ms / 3600000);
	else
		snprintf(buf, len, "%" PRId64 " days", ms / (int64_t)86400000);
}

typedef struct text {
	char *buf;
	size_t len, used;
} text;

static void add(text *t, const char *fmt, ...) CANARY__PRINTF(2, 3);
static void add(text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (t->used >= t->len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(t->buf + t->used, t->len - t->used, fmt, ap);
	va_end(ap);
	if (n > 0)
		t->used += (size_t)n;
}

static void diagnose_server(canary_client *c, text *t,
	const canary__worker_info *wi)
{
	char shown[256];

	if (!c->server_count) {
		add(t, "server: none (configs from the cache, bootstrap_path or canary_client_set_config_json())\n");
		return;
	}
	canary__url_for_log(c->server_urls[wi->server_index], shown,
		sizeof(shown));
	add(t, "server: %s", shown);
	if (c->server_count > 1)
		add(t, " (%zu of %zu)", wi->server_index + 1, c->server_count);
	add(t, "%s\n", wi->stream_open ? ", stream open" :
		c->opts.no_stream ? ", polling" : "");
}

static void diagnose_config(canary_client *c, text *t,
	const canary__worker_info *wi)
{
	uint64_t version = canary__live_version(&c->live);
	int64_t applied = 0;
	const char *from = canary__live_source(&c->live, &applied);
	char age[32];

	if (!version) {
		add(t, "config: none yet: every evaluation answers stable\n");
		return;
	}
	human_age(canary__wall_ms() - applied, age, sizeof(age));
	add(t, "config: version %" PRIu64 " from %s, applied %s ago", version,
		from ? from : "?", age);
	if (wi->confirmed_age_ms >= 0) {
		human_age(wi->confirmed_age_ms, age, sizeof(age));
		add(t, "; confirmed by the service %s ago", age);
	} else if (c->server_count) {
		add(t, "; not confirmed by the service yet");
	}
	add(t, "\n");
}

static void diagnose_storage(canary_client *c, text *t)
{
	canary_event_stats st;

	if (!c->cache_path)
		add(t, "cache: none (no cache_path): a restart without the service starts with no config\n");
	else if (canary__persist_usable(c->persist))
		add(t, "cache: %s\n", c->cache_path);
	else
		add(t, "cache: %s NOT in use (see the log): running without a cache\n",
			c->cache_path);
	canary__events_stats(c->events, &st);
	add(t, "outbox: %" PRIu64 " batches (%" PRIu64 " bytes) waiting%s; %"
		PRIu64 " written, %" PRIu64 " sent, %" PRIu64 " dropped; %"
		PRIu64 " records dropped, %" PRIu64 " record calls ignored\n",
		st.outbox_batches, st.outbox_bytes,
		canary__persist_usable(c->persist) ? " in the cache file" : " in memory",
		st.batches_written, st.batches_sent, st.dropped_batches,
		st.dropped_records, st.ignored);
}

int canary_client_diagnose(canary_client *c, char *buf, size_t len)
{
	canary__worker_info wi;
	char unknown[1024], age[32];
	text t;

	if (!c || !buf || !len)
		return canary__error_set(CANARY_EINVAL, "%s",
			!c ? "client is NULL" : "buf is NULL or len is 0");
	t.buf = buf;
	t.len = len;
	t.used = 0;
	buf[0] = '\0';
	canary__unknown_report(&c->unknown, &c->live, &c->log);
	canary__worker_info_get(c->worker, &wi);
	add(&t, "libcanary %s, config source: %s\n", canary_version(),
		c->source.ops->name);
	diagnose_server(c, &t, &wi);
	add(&t, "status: %s\n", canary_status_name(wi.status));
	diagnose_config(c, &t, &wi);
	if (wi.last_error[0]) {
		human_age(wi.last_error_age_ms, age, sizeof(age));
		add(&t, "last error: %s (%s ago)\n", wi.last_error, age);
	} else {
		add(&t, "last error: none\n");
	}
	diagnose_storage(c, &t);
	canary__unknown_describe(&c->unknown, unknown, sizeof(unknown));
	add(&t, "unknown flag keys: %s\n", unknown[0] ? unknown : "none");
	canary__error_clear();
	return CANARY_OK;
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
	rc = follow_fork(c);
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
	rc = follow_fork(c);
	if (rc != CANARY_OK)
		return rc;
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
