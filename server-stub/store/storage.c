/*
 * storage.c - the store's front end: pick a backend, call its table, and
 * keep the rules every backend shares.
 *
 * Config changes go one at a time through `change_lock`, which covers the
 * write and the publication of its result, so the change hook sees the
 * versions in order and never a config older than one it already saw.
 * Writes that leave the config alone (ingest, pruning, a rollout change
 * without a flag change) and all reads do not take it.
 *
 * On a database shared by several servers, another server's change
 * arrives through the backend's watch (its own thread): it takes
 * `change_lock` too and publishes only a version newer than `published`,
 * so each version reaches the hook once, in order, whoever made it.
 */
#include "store/storage_backend.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "logline.h"
#include "peer_log.h"
#include "saturate.h"

/* Tried in order: the first whose accepts() takes the location. */
static const cs_store_backend *const backends[] = {
#ifdef CS_WITH_POSTGRES
	&cs_store_pg,
#endif
	&cs_store_sqlite,
};

struct cs_store {
	const cs_store_backend *be;
	struct cs_store_impl *impl;
	pthread_mutex_t change_lock;  /* guards the three below */
	cs_store_change_fn on_change;
	void *on_change_ctx;
	uint64_t published;           /* the last version handed to the hook */
	bool watching;
};

static const cs_store_backend *backend_for(const char *location)
{
	size_t i;

	for (i = 0; i < sizeof(backends) / sizeof(backends[0]); i++)
		if (backends[i]->accepts(location))
			return backends[i];
	return NULL;
}

int cs_grow(void **arr, size_t *cap, size_t n, size_t size)
{
	size_t ncap;
	void *p;

	if (n < *cap)
		return CANARY_OK;
	ncap = *cap ? *cap * 2 : 16;
	p = realloc(*arr, ncap * size);
	if (!p)
		return CANARY_ENOMEM;
	*arr = p;
	*cap = ncap;
	return CANARY_OK;
}

void cs_store_describe(const char *loc, char *out, size_t outlen)
{
	const char *sep = strstr(loc, "://"), *auth, *host;
	size_t authlen, i;

	if (!sep) {
		snprintf(out, outlen, "%s", loc);
		return;
	}
	auth = sep + 3;
	/* As libpq reads it: credentials run to an '@' before the first '/',
	 * whatever they hold ('?' included: "u:pw?x@host" is the password
	 * "pw?x"), so hide everything up to the last such '@'. */
	authlen = strcspn(auth, "/");
	host = auth;
	for (i = 0; i < authlen; i++)
		if (auth[i] == '@')
			host = auth + i + 1;
	snprintf(out, outlen, "%.*s%.*s", (int)(auth - loc), loc,
		(int)strcspn(host, "?"), host);
}

int cs_store_open(cs_store **out, const cs_store_options *o, char *err,
	size_t errlen)
{
	cs_store *s;
	int rc;

	*out = NULL;
	if (!o->location || !*o->location) {
		snprintf(err, errlen, "no database given");
		return CANARY_EINVAL;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return CANARY_ENOMEM;
	}
	s->be = backend_for(o->location);
	if (!s->be) {
		char where[256];

		cs_store_describe(o->location, where, sizeof(where));
		snprintf(err, errlen, "no storage backend for %s (this server "
			"was built without it)", where);
		free(s);
		return CANARY_EINVAL;
	}
	rc = s->be->open(&s->impl, o, err, errlen);
	if (rc != CANARY_OK) {
		free(s);
		return rc;
	}
	pthread_mutex_init(&s->change_lock, NULL);
	*out = s;
	return CANARY_OK;
}

void cs_store_close(cs_store *s)
{
	if (!s)
		return;
	s->be->close(s->impl);
	pthread_mutex_destroy(&s->change_lock);
	free(s);
}

int cs_store_schema_version(cs_store *s)
{
	return s->be->schema_version(s->impl);
}

const char *cs_store_backend_name(cs_store *s)
{
	return s->be->name;
}

cs_health cs_store_health(cs_store *s, char *why, size_t whylen)
{
	char ignored[8];

	if (!why || !whylen) {
		why = ignored;
		whylen = sizeof(ignored);
	}
	why[0] = '\0';
	return s->be->health(s->impl, why, whylen);
}

/* Hand the config in the store to the hook if it is newer than the last
 * one handed over (change_lock held). */
static int publish(cs_store *s)
{
	canary__config *c = NULL;
	int rc;

	if (!s->on_change)
		return CANARY_OK;
	rc = s->be->config(s->impl, &c);
	if (rc == CANARY_OK && c->version > s->published) {
		s->published = c->version;
		s->on_change(c, s->on_change_ctx);
	} else if (rc != CANARY_OK) {
		/* A client's newer tag makes us read (at most every 100 ms). */
		cs_peer_log("cannot read the config", "", "cannot read the "
			"config to publish it (%d)", rc);
	}
	canary__config_free(canary__alloc_default(), c);
	return rc;
}

/* The backend's watch: another server may have changed the config. */
static void on_remote(uint64_t version, void *arg)
{
	cs_store *s = arg;

	pthread_mutex_lock(&s->change_lock);
	if (version > s->published)
		publish(s);
	pthread_mutex_unlock(&s->change_lock);
}

void cs_store_on_change(cs_store *s, cs_store_change_fn fn, void *ctx)
{
	bool start;

	pthread_mutex_lock(&s->change_lock);
	s->on_change = fn;
	s->on_change_ctx = ctx;
	start = fn && !s->watching;
	s->watching = s->watching || start;
	pthread_mutex_unlock(&s->change_lock);
	if (start && s->be->watch(s->impl, on_remote, s) != CANARY_OK)
		cs_log(CS_LOG_ERROR, NULL, "cannot watch the database for "
			"other servers' changes");
}

uint64_t cs_store_published(cs_store *s)
{
	uint64_t v;

	pthread_mutex_lock(&s->change_lock);
	v = s->published;
	pthread_mutex_unlock(&s->change_lock);
	return v;
}

int cs_store_refresh(cs_store *s)
{
	int rc;

	pthread_mutex_lock(&s->change_lock);
	rc = publish(s);
	pthread_mutex_unlock(&s->change_lock);
	return rc;
}

/* The tail of every config change: publish what committed, let the next
 * change in. */
static int changed(cs_store *s, int rc)
{
	if (rc == CANARY_OK)
		publish(s);
	pthread_mutex_unlock(&s->change_lock);
	return rc;
}

int cs_store_version_floor(cs_store *s, uint64_t floor, uint64_t *version)
{
	pthread_mutex_lock(&s->change_lock);
	return changed(s, s->be->version_floor(s->impl, floor, version));
}

int cs_store_config(cs_store *s, canary__config **out)
{
	return s->be->config(s->impl, out);
}

int cs_store_flag_get(cs_store *s, const char *key, canary__flag *out)
{
	return s->be->flag_get(s->impl, key, out);
}

int cs_store_flag_put(cs_store *s, const canary__flag *f, cs_put_mode mode,
	const cs_audit *audit, bool *created, uint64_t *version)
{
	pthread_mutex_lock(&s->change_lock);
	return changed(s, s->be->flag_put(s->impl, f, mode, audit, created,
		version));
}

/* A caller's modification, held to the rule that it keeps the key. */
typedef struct keep_key {
	const char *key;
	cs_modify_fn fn;
	void *ctx;
} keep_key;

static int modify_keeping_key(const canary__flag *cur, canary__flag *next,
	void *arg)
{
	const keep_key *k = arg;
	int rc = k->fn(cur, next, k->ctx);

	if (rc == CANARY_OK && (!next->key || strcmp(next->key, k->key) != 0))
		rc = CANARY_EINVAL; /* a modify may not rename */
	return rc;
}

int cs_store_flag_modify(cs_store *s, const char *key, cs_modify_fn fn,
	void *ctx, const cs_audit *audit, uint64_t *version)
{
	keep_key k = { key, fn, ctx };

	pthread_mutex_lock(&s->change_lock);
	return changed(s, s->be->flag_modify(s->impl, key, modify_keeping_key,
		&k, audit, version));
}

int cs_store_flag_delete(cs_store *s, const char *key, const cs_audit *audit,
	uint64_t *version)
{
	pthread_mutex_lock(&s->change_lock);
	return changed(s, s->be->flag_delete(s->impl, key, audit, version));
}

int cs_store_segment_get(cs_store *s, const char *name, canary__segdef *out)
{
	memset(out, 0, sizeof(*out));
	return s->be->segment_get(s->impl, name, out);
}

int cs_store_segment_list(cs_store *s, canary__segdef **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	return s->be->segment_list(s->impl, out, n);
}

void cs_segdefs_free(canary__segdef *segs, size_t n)
{
	size_t i;

	for (i = 0; segs && i < n; i++)
		canary__segdef_clear(canary__alloc_default(), &segs[i]);
	free(segs);
}

int cs_store_segment_put(cs_store *s, const canary__segdef *seg,
	const cs_audit *audit, bool *created, uint64_t *version)
{
	pthread_mutex_lock(&s->change_lock);
	return changed(s, s->be->segment_put(s->impl, seg, audit, created,
		version));
}

int cs_store_segment_delete(cs_store *s, const char *name,
	const cs_audit *audit, char *users, size_t userslen,
	uint64_t *version)
{
	char ignored[8];

	if (!users || !userslen) {
		users = ignored;
		userslen = sizeof(ignored);
	}
	users[0] = '\0';
	pthread_mutex_lock(&s->change_lock);
	return changed(s, s->be->segment_delete(s->impl, name, audit, users,
		userslen, version));
}

int cs_store_ingest(cs_store *s, const canary__ev_batch *b, uint64_t now_ms,
	uint64_t width_ms, bool *duplicate)
{
	return s->be->ingest(s->impl, b, now_ms, width_ms, duplicate);
}

static int by_key(const void *a, const void *b)
{
	const canary__ev_window *x = *(const canary__ev_window *const *)a;
	const canary__ev_window *y = *(const canary__ev_window *const *)b;
	int d = strcmp(x->flag, y->flag);

	if (d)
		return d;
	if (x->arm != y->arm)
		return x->arm < y->arm ? -1 : 1;
	if (x->config_version != y->config_version)
		return x->config_version < y->config_version ? -1 : 1;
	/* qsort is not stable: the batch's own order breaks ties. */
	return x < y ? -1 : x > y;
}

int cs_batch_order(const canary__ev_batch *b, const canary__ev_window ***out)
{
	const canary__ev_window **order = malloc((b->count ? b->count : 1) *
		sizeof(*order));
	size_t k;

	*out = order;
	if (!order)
		return CANARY_ENOMEM;
	for (k = 0; k < b->count; k++)
		order[k] = &b->windows[k];
	qsort(order, b->count, sizeof(*order), by_key);
	return CANARY_OK;
}

size_t cs_batch_totals(const canary__ev_window *const *order, size_t n,
	size_t from, uint64_t *exposures, uint64_t *errors, uint64_t *latency)
{
	const canary__ev_window *w = order[from];
	size_t k;

	*exposures = *errors = *latency = 0;
	for (k = from; k < n && order[k]->arm == w->arm &&
	     strcmp(order[k]->flag, w->flag) == 0; k++) {
		*exposures = canary__sat_count(*exposures, order[k]->exposures);
		*errors = canary__sat_count(*errors, order[k]->errors);
		*latency = canary__sat_count(*latency,
			cs_window_latency(order[k]));
	}
	return k;
}

int cs_store_stats(cs_store *s, const char *flag, const cs_stats_filter *f,
	cs_arm_stats out[CANARY__ARMS])
{
	memset(out, 0, sizeof(*out) * CANARY__ARMS);
	canary__hist_init(&out[CANARY_ARM_STABLE].latency);
	canary__hist_init(&out[CANARY_ARM_CANARY].latency);
	return s->be->stats(s->impl, flag, f, out);
}

int cs_store_series(cs_store *s, const char *flag, const cs_stats_filter *f,
	cs_series_fn fn, void *ctx)
{
	cs_series_point *p = malloc(sizeof(*p)); /* two histograms: ~18 KiB */
	int rc;

	if (!p)
		return CANARY_ENOMEM;
	cs_series_point_reset(p, 0);
	rc = s->be->series(s->impl, flag, f, p, fn, ctx);
	free(p);
	return rc;
}

int cs_store_contributions(cs_store *s, const char *flag,
	uint64_t min_version, uint64_t max_version, cs_contributions *out)
{
	size_t i;
	int a;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < CS_TOP_CONTRIBUTORS; i++)
		for (a = 0; a < CANARY__ARMS; a++)
			canary__hist_init(&out->top[i].arm[a].latency);
	return s->be->contributions(s->impl, flag, min_version, max_version,
		out);
}

int cs_store_latency_seen(cs_store *s, const char *flag, bool *seen)
{
	*seen = false;
	return s->be->latency_seen(s->impl, flag, seen);
}

void cs_contributions_pick(const cs_contrib_size *sizes, size_t n,
	cs_contributions *out)
{
	size_t i, reporting = 0;
	long top[CANARY__ARMS] = { -1, -1 };
	int a;

	out->ntop = 0;
	out->instances = 0;
	for (i = 0; i < n; i++) {
		reporting++;
		if (!sizes[i].instance[0])
			continue; /* the rest: never a top contributor */
		out->instances++;
		for (a = 0; a < CANARY__ARMS; a++)
			if (top[a] < 0 || sizes[i].exposures[a] >
			    sizes[top[a]].exposures[a])
				top[a] = (long)i;
	}
	if (reporting < 2)
		return;
	/* The most canary exposures first, then the most stable ones. */
	if (top[CANARY_ARM_CANARY] >= 0)
		snprintf(out->top[out->ntop++].instance,
			sizeof(out->top[0].instance), "%s",
			sizes[top[CANARY_ARM_CANARY]].instance);
	if (top[CANARY_ARM_STABLE] >= 0 &&
	    top[CANARY_ARM_STABLE] != top[CANARY_ARM_CANARY])
		snprintf(out->top[out->ntop++].instance,
			sizeof(out->top[0].instance), "%s",
			sizes[top[CANARY_ARM_STABLE]].instance);
}

cs_arm_stats *cs_contributions_top(cs_contributions *c,
	const char *instance, canary_arm arm)
{
	size_t i;

	for (i = 0; instance[0] && i < c->ntop; i++)
		if (strcmp(c->top[i].instance, instance) == 0)
			return &c->top[i].arm[arm];
	return NULL;
}

/* A stored sketch (wire form; none when empty) into regs[]. */
static int merge_sketch(uint8_t *regs, const uint8_t *in, size_t len)
{
	canary__hll h = { CANARY__HLL_P, regs };

	if (!in || !len)
		return CANARY_OK;
	return canary__hll_merge_encoded(&h, in, len, NULL, 0) == CANARY_OK ?
		CANARY_OK : CANARY_ESTORAGE;
}

/* A part's sketches and figures into `u`; nothing from a part without
 * sketches (v1 windows only). */
static int add_users(cs_arm_users *u, const cs_contrib_part *p)
{
	if (!p->units_len && !p->error_units_len)
		return CANARY_OK;
	u->any = true;
	u->sketched_exposures = canary__sat_count(u->sketched_exposures,
		p->sketched_exposures);
	u->sketched_errors = canary__sat_count(u->sketched_errors,
		p->sketched_errors);
	u->error_sq = canary__sat_count(u->error_sq, p->error_sq);
	u->errors_unmapped = canary__sat_count(u->errors_unmapped,
		p->errors_unmapped);
	if (p->error_max > u->error_max)
		u->error_max = p->error_max;
	if (merge_sketch(u->units, p->units, p->units_len) != CANARY_OK ||
	    merge_sketch(u->error_units, p->error_units,
	    p->error_units_len) != CANARY_OK)
		return CANARY_ESTORAGE;
	return CANARY_OK;
}

int cs_contributions_add(cs_arm_users *all, cs_arm_stats *a,
	const cs_contrib_part *p)
{
	int rc = all ? add_users(all, p) : CANARY_OK;

	if (rc != CANARY_OK || !a)
		return rc;
	a->exposures = canary__sat_count(a->exposures, p->exposures);
	a->errors = canary__sat_count(a->errors, p->errors);
	a->windows++;
	return add_users(&a->users, p);
}

int cs_store_totals(cs_store *s, cs_totals_fn fn, void *ctx)
{
	return s->be->totals(s->impl, fn, ctx);
}

int cs_store_metric_sums(cs_store *s, const char *flag,
	const cs_stats_filter *f, cs_metric_sum **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	return s->be->metric_sums(s->impl, flag, f, out, n);
}

int cs_store_rollout_write(cs_store *s, const cs_rollout_change *change,
	uint64_t *version)
{
	cs_rollout_change ch = *change;
	keep_key k = { change->rollout->flag, change->modify,
		change->modify_ctx };

	if (!change->modify)
		return s->be->rollout_write(s->impl, change, version);
	ch.modify = modify_keeping_key;
	ch.modify_ctx = &k;
	pthread_mutex_lock(&s->change_lock);
	return changed(s, s->be->rollout_write(s->impl, &ch, version));
}

int cs_store_rollout_get(cs_store *s, const char *flag, cs_rollout *out,
	cs_history *history)
{
	if (history)
		history->total = 0;
	return s->be->rollout_get(s->impl, flag, out, history);
}

int cs_store_rollouts_each(cs_store *s, cs_rollout_set set, cs_rollout_fn fn,
	void *ctx)
{
	return s->be->rollouts_each(s->impl, set, fn, ctx);
}

/* ---- the audit log, tokens, webhooks: straight to the backend -------- */

int cs_store_audit_note(cs_store *s, const char *flag, const cs_audit *audit)
{
	return s->be->audit_note(s->impl, flag, audit);
}

int cs_store_audit_list(cs_store *s, const cs_audit_query *q,
	cs_audit_row **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	return s->be->audit_list(s->impl, q, out, n);
}

void cs_audit_rows_free(cs_audit_row *rows, size_t n)
{
	size_t i;

	for (i = 0; rows && i < n; i++)
		free(rows[i].json);
	free(rows);
}

int cs_store_token_add(cs_store *s, const cs_token *t, const cs_audit *audit)
{
	return s->be->token_add(s->impl, t, audit);
}

int cs_store_token_find(cs_store *s, const char *id, cs_token *out)
{
	memset(out, 0, sizeof(*out));
	return s->be->token_find(s->impl, id, out);
}

int cs_store_token_list(cs_store *s, cs_token **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	return s->be->token_list(s->impl, out, n);
}

int cs_store_token_revoke(cs_store *s, const char *name,
	const cs_audit *audit, cs_token *revoked)
{
	cs_token ignored;

	return s->be->token_revoke(s->impl, name, audit,
		revoked ? revoked : &ignored);
}

int cs_store_webhook_add(cs_store *s, cs_webhook *w, const cs_audit *audit)
{
	return s->be->webhook_add(s->impl, w, audit);
}

int cs_store_webhook_delete(cs_store *s, int64_t id, const cs_audit *audit)
{
	return s->be->webhook_delete(s->impl, id, audit);
}

int cs_store_webhook_list(cs_store *s, cs_webhook **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	return s->be->webhook_list(s->impl, out, n);
}

void cs_deliveries_free(cs_delivery *d, size_t n)
{
	size_t i;

	for (i = 0; d && i < n; i++) {
		free(d[i].payload);
		free(d[i].url);
		free(d[i].secret);
	}
	free(d);
}

int cs_store_deliveries_due(cs_store *s, int64_t now_ms, size_t limit,
	cs_delivery **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	return s->be->deliveries_due(s->impl, now_ms, limit, out, n);
}

int cs_store_delivery_attempt(cs_store *s, int64_t id, const cs_attempt *a)
{
	return s->be->delivery_attempt(s->impl, id, a);
}

int cs_store_delivery_list(cs_store *s, int64_t webhook_id, size_t limit,
	cs_delivery **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	return s->be->delivery_list(s->impl, webhook_id, limit, out, n);
}

int cs_store_prune(cs_store *s, const cs_retention *r, uint64_t *removed)
{
	if (removed)
		*removed = 0;
	return s->be->prune(s->impl, r, removed);
}

int cs_store_lease(cs_store *s, cs_lease *lease)
{
	lease->token = 0;
	return s->be->lease(s->impl, lease);
}

/* load()'s feed: the source's whole dump, into the destination. */
static int feed_from(const cs_copy_sink *into, void *arg)
{
	cs_store *from = arg;

	return from->be->dump(from->impl, into);
}

int cs_store_copy(cs_store *from, cs_store *to, uint64_t skip_versions,
	cs_copy_counts *counts)
{
	cs_copy_counts ignored;

	if (!counts)
		counts = &ignored;
	memset(counts, 0, sizeof(*counts));
	return to->be->load(to->impl, feed_from, from, skip_versions, counts);
}
