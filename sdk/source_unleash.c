/*
 * source_unleash.c - an Unleash server's client API as a config source
 * (docs/unleash.md, "The Unleash config source"): GET
 * <server_url>/client/features with If-None-Match, polling only; the
 * features document compiled by the Unleash evaluator (sdk/unleash) into
 * a config whose flags are its features. Authorization: <client token>.
 *
 * Unleash documents have no revision number, so the source derives the
 * config version from the wall clock in milliseconds, never going back
 * within the process (a service without versions, source.h): a cached
 * document read at start gets a version above the one it was cached
 * with, as long as the clock has not gone back.
 */
#include "source.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "unleash.h"
#include "unleash_model.h"

typedef struct ul_state {
	const canary__alloc *a;
	char **features_urls;        /* one per server; NULL without a server */
	size_t count;
	const char *cur;             /* the one in use */
	char *auth;                  /* "Authorization: <token>" */
	char *app;                   /* "UNLEASH-APPNAME: <app_name>" */
	/* The last version handed out: the worker and
	 * canary_client_set_config_json() may parse at once. */
	_Atomic uint64_t last;
} ul_state;

/* Variants and state of a feature: none. */
static char empty[1];

static void ul_close(void *state)
{
	ul_state *st = state;
	size_t i;

	if (!st)
		return;
	for (i = 0; st->features_urls && i < st->count; i++)
		canary__free(st->a, st->features_urls[i]);
	canary__free(st->a, st->features_urls);
	canary__free(st->a, st->auth);
	canary__free(st->a, st->app);
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

	st->features_urls = canary__calloc(st->a, env->server_count,
		sizeof(char *));
	if (!st->features_urls)
		return CANARY_ENOMEM;
	st->count = env->server_count;
	for (i = 0; i < st->count; i++)
		if (!(st->features_urls[i] = canary__url_join(st->a,
		    env->server_urls[i], "/client/features")))
			return CANARY_ENOMEM;
	st->cur = st->features_urls[0];
	st->auth = header(st->a, "Authorization", env->sdk_key ? env->sdk_key :
		"");
	st->app = header(st->a, "UNLEASH-APPNAME", env->app_name &&
		*env->app_name ? env->app_name : "libcanary");
	return st->auth && st->app ? CANARY_OK : CANARY_ENOMEM;
}

static int ul_open(void **state, const canary__source_env *env)
{
	ul_state *st;

	*state = NULL;
	st = canary__new(env->alloc, ul_state);
	if (!st)
		return CANARY_ENOMEM;
	st->a = env->alloc;
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
		st->cur = st->features_urls[index];
}

static void ul_fetch(void *state, const char *etag, canary__xfer_spec *spec,
	canary__headers *h)
{
	ul_state *st = state;

	spec->url = st->cur;
	canary__headers_add(h, st->auth);
	canary__headers_add(h, st->app);
	canary__headers_add(h, "Accept: application/json");
	canary__headers_addv(h, "If-None-Match", etag);
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

static int ul_parse(void *state, const char *doc, size_t len,
	canary__config **out, canary__perror *e)
{
	ul_state *st = state;
	canary__unleash_model *m;
	int rc;

	*out = NULL;
	rc = canary__unleash_compile(&st->a->fns, doc, len, NULL, &m, e);
	if (rc != CANARY_OK)
		return rc;
	return config_of(st, m, out, e);
}

const canary__source_ops canary__source_unleash = {
	"unleash",
	"GET /client/features",
	NULL,
	NULL,
	ul_open,
	ul_close,
	ul_select,
	ul_fetch,
	ul_parse,
	NULL,           /* stream: polling only */
	NULL,
	NULL,           /* events: usage metrics are not sent (docs/unleash.md) */
};
