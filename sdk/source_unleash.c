/*
 * source_unleash.c - an Unleash server's client API as a config source
 * (docs/unleash.md, "The Unleash config source"): GET
 * <server_url>/client/features with If-None-Match, polling only; the
 * features document compiled by the Unleash evaluator (sdk/unleash) into
 * a config whose flags are its features. Authorization: <client token>.
 * Usage goes back in Unleash's formats: a registration (POST
 * <server_url>/client/register) first, then per flush the metrics of the
 * features evaluated (POST <server_url>/client/metrics: per feature "yes"
 * for the canary arm, "no" for the others, excluded units included),
 * through the same outbox as libcanary's event batches.
 *
 * With opts.unleash_delta the source polls GET <server_url>/client/delta
 * instead: each answer is a list of changes (Unleash's delta API events)
 * applied to the whole document kept here, which is what gets compiled
 * and cached (source.h, document). The first delta request of a process
 * sends no ETag, so the server starts with a hydration (everything). An
 * HTTP error on a delta request, or a delta that cannot be applied or
 * compiled, turns the delta API off for the client's life: whole
 * documents from the next fetch on.
 *
 * The applicationHostname strategy compares this host's name, given to
 * the compiler: opts.hostname, else the HOSTNAME environment variable,
 * else gethostname(), as Unleash's SDKs read it; resolved once, at open.
 *
 * Unleash documents have no revision number, so the source derives the
 * config version from the wall clock in milliseconds, never going back
 * within the process (a service without versions, source.h): a cached
 * document read at start gets a version above the one it was cached
 * with, as long as the clock has not gone back.
 */
#define _GNU_SOURCE /* memmem, gmtime_r */
#include "source.h"

#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "json_read.h"
#include "unleash.h"
#include "unleash_model.h"

/* The URLs of one server. */
typedef struct ul_server {
	char *features, *delta, *metrics, *register_;
} ul_server;

typedef struct ul_state {
	const canary__alloc *a;
	ul_server *servers;          /* NULL without a server */
	size_t count;
	const ul_server *cur;        /* the one in use */
	char app_name[128];          /* Unleash's appName */
	char instance_id[128];
	char hostname[CANARY__MAX_HOSTNAME + 1]; /* "": none */
	uint32_t interval_ms;        /* how often metrics are sent */
	char *auth;                  /* "Authorization: <token>" */
	char *app;                   /* "UNLEASH-APPNAME: <app_name>" */
	/* The last version handed out: the worker and
	 * canary_client_set_config_json() may parse at once. */
	_Atomic uint64_t last;

	/* The delta API (opts.unleash_delta). */
	bool keep_doc;               /* the option: doc is kept */
	atomic_bool delta;           /* fetch deltas (until one fails) */
	bool delta_asked;            /* the fetch in flight is a delta's */
	atomic_bool delta_synced;    /* a delta was applied: send the ETag */
	pthread_mutex_t doc_lock;    /* doc: the worker and set_config_json */
	cJSON *doc;                  /* the whole document in force */
} ul_state;

/* Variants and state of a feature: none. */
static char empty[1];

static void ul_close(void *state)
{
	ul_state *st = state;
	size_t i;

	if (!st)
		return;
	for (i = 0; st->servers && i < st->count; i++) {
		canary__free(st->a, st->servers[i].features);
		canary__free(st->a, st->servers[i].delta);
		canary__free(st->a, st->servers[i].metrics);
		canary__free(st->a, st->servers[i].register_);
	}
	canary__free(st->a, st->servers);
	canary__free(st->a, st->auth);
	canary__free(st->a, st->app);
	if (st->keep_doc) {
		cJSON_Delete(st->doc);
		pthread_mutex_destroy(&st->doc_lock);
	}
	canary__free(st->a, st);
}

static char *header(const canary__alloc *a, const char *name,
	const char *value)
{
	size_t n = strlen(name) + strlen(value) + 3;
	char *s = canary__malloc(a, n);

	if (s)
		snprintf(s, n, "%s: %s", name, value);
	return s;
}

static int open_servers(ul_state *st, const canary__source_env *env)
{
	size_t i;

	st->servers = canary__calloc(st->a, env->server_count,
		sizeof(*st->servers));
	if (!st->servers)
		return CANARY_ENOMEM;
	st->count = env->server_count;
	for (i = 0; i < st->count; i++) {
		ul_server *s = &st->servers[i];

		s->features = canary__url_join(st->a, env->server_urls[i],
			"/client/features");
		s->delta = canary__url_join(st->a, env->server_urls[i],
			"/client/delta");
		s->metrics = canary__url_join(st->a, env->server_urls[i],
			"/client/metrics");
		s->register_ = canary__url_join(st->a, env->server_urls[i],
			"/client/register");
		if (!s->features || !s->delta || !s->metrics || !s->register_)
			return CANARY_ENOMEM;
	}
	st->cur = &st->servers[0];
	st->auth = header(st->a, "Authorization", env->sdk_key ? env->sdk_key :
		"");
	st->app = header(st->a, "UNLEASH-APPNAME", env->app_name &&
		*env->app_name ? env->app_name : "libcanary");
	return st->auth && st->app ? CANARY_OK : CANARY_ENOMEM;
}

/* This host's name for applicationHostname: `given` (opts.hostname),
 * else $HOSTNAME when set and not empty, else the system's. */
static void resolve_hostname(ul_state *st, const char *given)
{
	const char *env = getenv("HOSTNAME");

	if (!given && env && *env)
		given = env;
	if (given)
		snprintf(st->hostname, sizeof(st->hostname), "%s", given);
	else if (gethostname(st->hostname, sizeof(st->hostname)) != 0)
		st->hostname[0] = '\0';
	st->hostname[sizeof(st->hostname) - 1] = '\0';
}

static int ul_open(void **state, const canary__source_env *env)
{
	ul_state *st;

	*state = NULL;
	st = canary__new(env->alloc, ul_state);
	if (!st)
		return CANARY_ENOMEM;
	st->a = env->alloc;
	snprintf(st->app_name, sizeof(st->app_name), "%s", env->app_name &&
		*env->app_name ? env->app_name : "libcanary");
	snprintf(st->instance_id, sizeof(st->instance_id), "%s",
		env->instance_id ? env->instance_id : "");
	st->interval_ms = env->flush_interval_ms;
	resolve_hostname(st, env->hostname);
	st->keep_doc = env->delta;
	atomic_init(&st->delta, env->delta);
	atomic_init(&st->delta_synced, false);
	if (st->keep_doc && pthread_mutex_init(&st->doc_lock, NULL) != 0) {
		st->keep_doc = false;
		ul_close(st);
		return CANARY_ENOMEM;
	}
	if (env->server_count && open_servers(st, env) != CANARY_OK) {
		ul_close(st);
		return CANARY_ENOMEM;
	}
	*state = st;
	return CANARY_OK;
}

static void ul_select(void *state, size_t index)
{
	ul_state *st = state;

	if (index < st->count)
		st->cur = &st->servers[index];
}

static void ul_fetch(void *state, const char *etag, canary__xfer_spec *spec,
	canary__headers *h)
{
	ul_state *st = state;

	st->delta_asked = atomic_load(&st->delta);
	spec->url = st->delta_asked ? st->cur->delta : st->cur->features;
	canary__headers_add(h, st->auth);
	canary__headers_add(h, st->app);
	canary__headers_add(h, "Accept: application/json");
	/* A delta answers the ETag it is sent: only one of a delta. */
	if (!st->delta_asked || atomic_load(&st->delta_synced))
		canary__headers_addv(h, "If-None-Match", etag);
}

/* A delta request that got an HTTP error: whole documents from now on
 * (a server without the delta API answers 404). */
static void ul_fetched(void *state, int rc, long status)
{
	ul_state *st = state;

	if (st->delta_asked && rc == CANARY_OK && status != 200 &&
	    status != 304)
		atomic_store(&st->delta, false);
}

/* The wall clock in ms, or one more than the last version. */
static uint64_t next_version(ul_state *st)
{
	uint64_t now = (uint64_t)canary__wall_ms();
	uint64_t last = atomic_load(&st->last), v;

	do
		v = now > last ? now : last + 1;
	while (!atomic_compare_exchange_weak(&st->last, &last, v));
	return v;
}

static int cmp_flag_key(const void *x, const void *y)
{
	return strcmp(((const canary__flag *)x)->key,
		((const canary__flag *)y)->key);
}

static void engine_free(void *engine)
{
	canary__unleash_free(engine);
}

/* A feature as a flag: its name is the key (and the salt, unused), the
 * evaluator decides (enabled here; a disabled feature is the
 * evaluator's answer). The strings are the model's (config.h). */
static void feature_flag(const canary__unleash_feature *f, canary__flag *out)
{
	out->key = (char *)f->name;
	out->salt = out->key;
	out->rollout_bp = 0;
	out->enabled = true;
	out->variant_stable = out->variant_canary = out->state = empty;
	out->unleash = f;
}

/* The config of a compiled model: one flag per feature whose name has no
 * NUL byte (no C caller could name it). */
static int config_of(ul_state *st, canary__unleash_model *m,
	canary__config **out, canary__perror *e)
{
	uint32_t i, n = canary__unleash_feature_count(m);
	canary__config *c = canary__new(st->a, canary__config);

	if (!c || (n && !(c->flags = canary__calloc(st->a, n,
	    sizeof(*c->flags))))) {
		canary__delete(st->a, c, canary__config);
		canary__unleash_free(m);
		return canary__perror_oom(e);
	}
	for (i = 0; i < n; i++) {
		const canary__unleash_feature *f = &m->features[i];

		if (strlen(f->name) == f->name_len)
			feature_flag(f, &c->flags[c->count++]);
	}
	qsort(c->flags, c->count, sizeof(*c->flags), cmp_flag_key);
	c->engine = m;
	c->engine_free = engine_free;
	c->slots_id = canary__unleash_slots_id(m);
	c->version = next_version(st);
	*out = c;
	return CANARY_OK;
}

/* Is `root` a delta ({"events": [...]}) rather than a document? */
static bool is_delta(const cJSON *root)
{
	return cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(root, "events")) &&
	       !cJSON_GetObjectItemCaseSensitive(root, "features");
}

/* Delta mode: `root` (consumed), a document or a delta applied to a copy
 * of the kept document, compiled; the result is kept on success. */
static int compile_kept(ul_state *st, cJSON *root,
	const canary__unleash_options *opts, canary__unleash_model **m,
	canary__perror *e)
{
	bool delta = is_delta(root);
	cJSON *next = root;
	int rc = CANARY_OK;

	pthread_mutex_lock(&st->doc_lock);
	if (delta) {
		next = st->doc ? cJSON_Duplicate(st->doc, 1) : cJSON_CreateObject();
		rc = next ? canary__unleash_delta_apply(next, root, e) :
			canary__perror_oom(e);
		cJSON_Delete(root);
	}
	if (rc == CANARY_OK)
		rc = canary__unleash_compile_tree(&st->a->fns, next, opts, m, e);
	if (rc == CANARY_OK) {
		cJSON_Delete(st->doc);
		st->doc = next;
		if (delta)
			atomic_store(&st->delta_synced, true);
	} else {
		cJSON_Delete(next);
		if (delta)
			atomic_store(&st->delta, false);
	}
	pthread_mutex_unlock(&st->doc_lock);
	return rc;
}

static int ul_parse(void *state, const char *doc, size_t len,
	canary__config **out, canary__perror *e)
{
	ul_state *st = state;
	canary__unleash_options opts = { NULL, NULL, NULL };
	canary__unleash_model *m;
	canary__json_reader r;
	cJSON *root;
	int rc;

	*out = NULL;
	opts.hostname = st->hostname[0] ? st->hostname : NULL;
	if (!st->keep_doc) {
		rc = canary__unleash_compile(&st->a->fns, doc, len, &opts, &m, e);
	} else {
		canary__json_reader_init(&r, 0, e);
		rc = canary__json_parse(&r, doc, len, CANARY__UNLEASH_MAX_BYTES,
			"document", &root);
		if (rc == CANARY_OK)
			rc = compile_kept(st, root, &opts, &m, e);
	}
	if (rc != CANARY_OK)
		return rc;
	return config_of(st, m, out, e);
}

/* ---- usage: registration and metrics ------------------------------- */

/* A registration body is the only one with "started" (ul_hello). */
static bool is_registration(const char *body, size_t len)
{
	static const char mark[] = "\"started\"";

	return len >= sizeof(mark) - 1 && memmem(body, len, mark,
		sizeof(mark) - 1) != NULL;
}

static void ul_events(void *state, const char *body, size_t len,
	canary__xfer_spec *spec, canary__headers *h)
{
	ul_state *st = state;

	spec->url = is_registration(body, len) ? st->cur->register_ :
		st->cur->metrics;
	canary__headers_add(h, st->auth);
	canary__headers_add(h, st->app);
	canary__headers_add(h, "Content-Type: application/json");
}

/* An instant as Unleash writes it: "2026-12-01T10:00:00.000Z". */
static void iso_time(uint64_t ms, char out[64])
{
	time_t s = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&s, &tm);
	snprintf(out, 64, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ",
		tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		tm.tm_min, tm.tm_sec, (unsigned)(ms % 1000));
}

/* `text` (cJSON's, freed) copied into the client's memory. */
static int text_of(ul_state *st, char *text, char **out, size_t *len)
{
	*out = NULL;
	if (!text)
		return CANARY_ENOMEM;
	*len = strlen(text);
	*out = canary__malloc(st->a, *len + 1);
	if (*out)
		memcpy(*out, text, *len + 1);
	cJSON_free(text);
	return *out ? CANARY_OK : CANARY_ENOMEM;
}

/* `root` (consumed) as one outbox body, copied into the client's memory. */
static int body_of(ul_state *st, cJSON *root, char **out, size_t *len)
{
	char *text = root ? cJSON_PrintUnformatted(root) : NULL;

	cJSON_Delete(root);
	return text_of(st, text, out, len);
}

/* Delta mode: the kept document, for the cache. */
static int ul_document(void *state, char **out, size_t *len)
{
	ul_state *st = state;
	char *text = NULL;
	bool have;

	*out = NULL;
	if (!st->keep_doc)
		return CANARY_OK;
	pthread_mutex_lock(&st->doc_lock);
	have = st->doc != NULL;
	if (have)
		text = cJSON_PrintUnformatted(st->doc);
	pthread_mutex_unlock(&st->doc_lock);
	return have ? text_of(st, text, out, len) : CANARY_OK;
}

/* POST /client/register: who this client is, once at start. */
static int ul_hello(void *state, char **body, size_t *len)
{
	ul_state *st = state;
	static const char *const strategies[] = { "default", "userWithId",
		"gradualRolloutUserId", "gradualRolloutSessionId",
		"gradualRolloutRandom", "flexibleRollout", "remoteAddress",
		"applicationHostname" };
	cJSON *root = cJSON_CreateObject(), *arr;
	char started[64], sdk[64];
	size_t i;

	iso_time((uint64_t)canary__wall_ms(), started);
	snprintf(sdk, sizeof(sdk), "libcanary:%s", canary_version());
	if (!root || !cJSON_AddStringToObject(root, "appName", st->app_name) ||
	    !cJSON_AddStringToObject(root, "instanceId", st->instance_id) ||
	    !cJSON_AddStringToObject(root, "sdkVersion", sdk) ||
	    !(arr = cJSON_AddArrayToObject(root, "strategies")) ||
	    !cJSON_AddStringToObject(root, "started", started) ||
	    !cJSON_AddNumberToObject(root, "interval", st->interval_ms)) {
		cJSON_Delete(root);
		return CANARY_ENOMEM;
	}
	for (i = 0; i < sizeof(strategies) / sizeof(strategies[0]); i++)
		if (!cJSON_AddItemToArray(arr, cJSON_CreateString(strategies[i]))) {
			cJSON_Delete(root);
			return CANARY_ENOMEM;
		}
	return body_of(st, root, body, len);
}

/* One feature's counts in the bucket's "toggles". */
static bool add_counts(cJSON *toggles, const canary__ev_window *w)
{
	cJSON *t = cJSON_GetObjectItemCaseSensitive(toggles, w->flag);
	double yes = w->arm == CANARY_ARM_CANARY ? (double)w->exposures : 0;
	double no = w->arm == CANARY_ARM_CANARY ? 0 :
		(double)w->exposures + (double)w->ineligible;

	if (!t && (!(t = cJSON_AddObjectToObject(toggles, w->flag)) ||
	    !cJSON_AddNumberToObject(t, "yes", 0) ||
	    !cJSON_AddNumberToObject(t, "no", 0) ||
	    !cJSON_AddObjectToObject(t, "variants")))
		return false;
	cJSON_SetNumberValue(cJSON_GetObjectItemCaseSensitive(t, "yes"),
		cJSON_GetObjectItemCaseSensitive(t, "yes")->valuedouble + yes);
	cJSON_SetNumberValue(cJSON_GetObjectItemCaseSensitive(t, "no"),
		cJSON_GetObjectItemCaseSensitive(t, "no")->valuedouble + no);
	return true;
}

/* POST /client/metrics: the windows of a flush as one bucket (Unleash
 * has no errors, latencies or metrics of ours: those are left out). */
static int ul_encode(void *state, const canary__ev_batch *head,
	const canary__ev_window *w, size_t n, size_t soft_bytes,
	canary__ev_new_id new_id, void *ctx, canary__ev_body **out,
	size_t *nout)
{
	ul_state *st = state;
	uint64_t start = UINT64_MAX, stop = 0;
	cJSON *root, *bucket, *toggles;
	char from[64], to[64];
	canary__ev_body *b;
	size_t i;
	int rc;

	(void)head;
	(void)soft_bytes;
	*out = NULL;
	*nout = 0;
	if (n == 0)
		return CANARY_OK;
	root = cJSON_CreateObject();
	bucket = root ? cJSON_AddObjectToObject(root, "bucket") : NULL;
	toggles = bucket ? cJSON_AddObjectToObject(bucket, "toggles") : NULL;
	for (i = 0; toggles && i < n; i++) {
		start = w[i].start_ms < start ? w[i].start_ms : start;
		stop = w[i].end_ms > stop ? w[i].end_ms : stop;
		if (!add_counts(toggles, &w[i]))
			toggles = NULL;
	}
	iso_time(start, from);
	iso_time(stop, to);
	if (!toggles || !cJSON_AddStringToObject(root, "appName", st->app_name) ||
	    !cJSON_AddStringToObject(root, "instanceId", st->instance_id) ||
	    !cJSON_AddStringToObject(bucket, "start", from) ||
	    !cJSON_AddStringToObject(bucket, "stop", to)) {
		cJSON_Delete(root);
		return CANARY_ENOMEM;
	}
	b = canary__calloc(st->a, 1, sizeof(*b));
	if (!b) {
		cJSON_Delete(root);
		return CANARY_ENOMEM;
	}
	rc = body_of(st, root, &b->body, &b->len);
	if (rc != CANARY_OK) {
		canary__free(st->a, b);
		return rc;
	}
	new_id(ctx, b->id);
	*out = b;
	*nout = 1;
	return CANARY_OK;
}

const canary__source_ops canary__source_unleash = {
	"unleash",
	"GET /client/features",
	NULL,
	"POST /client/metrics",
	ul_open,
	ul_close,
	ul_select,
	ul_fetch,
	ul_parse,
	NULL,           /* stream: polling only */
	NULL,
	ul_events,
	ul_encode,
	ul_hello,
	ul_fetched,
	ul_document,
};
