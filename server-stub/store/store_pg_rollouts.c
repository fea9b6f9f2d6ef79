/*
 * store_pg_rollouts.c - rollouts, their decisions and the controller's
 * lease in PostgreSQL.
 *
 * A rollout change is one transaction: the lease check (for the
 * controller), the flag change and version bump, the rollout row guarded
 * by its revision, the decision. The lease check reads the lease row FOR
 * SHARE, so a server taking the lease over (an UPDATE of that row) waits
 * until the transaction that checked it has ended: a decision commits
 * only while its server holds the lease, never after another took it.
 */
#include "store/store_pg.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "store/records.h"

int cs_pg_rollout_row(const PGresult *r, cs_rollout *out)
{
	cs_rollout_row row;

	row.id = cs_pg_i64(r, 0);
	row.flag = cs_pg_str(r, 1);
	row.spec = cs_pg_str(r, 2);
	row.state = cs_pg_str(r, 3);
	row.step = cs_pg_i64(r, 4);
	row.step_start_ms = cs_pg_i64(r, 5);
	row.step_version = cs_pg_u64(r, 6);
	row.reason = cs_pg_str(r, 7);
	row.created_ms = cs_pg_i64(r, 8);
	row.updated_ms = cs_pg_i64(r, 9);
	row.rev = cs_pg_i64(r, 10);
	row.pass_since_ms = cs_pg_i64(r, 11);
	row.alert_since_ms = cs_pg_i64(r, 12);
	row.prev_step_version = cs_pg_u64(r, 13);
	return cs_record_rollout_read(&row, out);
}

/* ---- the lease ------------------------------------------------------- */

/* The lease's name and holder, and a third parameter. */
static void lease_params(cs_pg_params *p, const cs_lease *l, int64_t third)
{
	cs_pg_params_init(p);
	cs_pg_text(p, l->name);
	cs_pg_text(p, l->holder);
	cs_pg_int(p, third);
}

static int take_lease(cs_pg_conn *c, void *arg)
{
	cs_lease *l = arg;
	cs_pg_params p;
	PGresult *r = NULL;
	int rc;

	lease_params(&p, l, l->ttl_ms > INT64_MAX ? INT64_MAX :
		(int64_t)l->ttl_ms);
	rc = cs_pg_exec(c, P_LEASE_TAKE, &p, &r, NULL);
	if (rc == CANARY_OK)
		l->token = PQntuples(r) == 1 ? cs_pg_i64(r, 0) : 0;
	PQclear(r);
	return rc;
}

int cs_pg_lease(struct cs_store_impl *s, cs_lease *l)
{
	/* Taking or renewing twice is the same as once. */
	int rc = cs_pg_transact(s, CS_PG_WRITE | CS_PG_IDEMPOTENT, take_lease,
		l);

	if (rc == CANARY_OK && l->token == 0)
		rc = CS_ELEASE;
	return rc;
}

static int check_lease(cs_pg_conn *c, const cs_lease *l)
{
	cs_pg_params p;
	PGresult *r = NULL;
	int rc;

	lease_params(&p, l, l->token);
	rc = cs_pg_exec(c, P_LEASE_CHECK, &p, &r, NULL);
	if (rc == CANARY_OK && PQntuples(r) != 1)
		rc = CS_ELEASE;
	PQclear(r);
	return rc;
}

/* ---- writing a change ------------------------------------------------ */

void cs_pg_rollout_params(cs_pg_params *p, const cs_rollout *r,
	const char *spec)
{
	cs_pg_params_init(p);
	cs_pg_text(p, r->flag);
	cs_pg_text(p, spec);
	cs_pg_text(p, cj_status_name(r->status));
	cs_pg_uint(p, r->step);
	cs_pg_int(p, r->step_start_ms);
	cs_pg_uint(p, r->step_version);
	cs_pg_text(p, r->reason);
	cs_pg_int(p, r->created_ms);
	cs_pg_int(p, r->pass_since_ms);
	cs_pg_int(p, r->alert_since_ms);
	cs_pg_uint(p, r->prev_step_version);
}

static int insert_row(cs_pg_conn *c, cs_rollout *r)
{
	cs_pg_params p;
	PGresult *res = NULL;
	char *spec = NULL;
	int rc = cs_record_spec_write(&r->spec, &spec);

	if (rc != CANARY_OK)
		return rc;
	cs_pg_rollout_params(&p, r, spec);
	rc = cs_pg_exec(c, P_ROLLOUT_INSERT, &p, &res, NULL);
	if (rc == CS_PG_EUNIQUE)
		rc = CS_ECONFLICT; /* the partial unique index: one active */
	if (rc == CANARY_OK) {
		r->id = cs_pg_i64(res, 0);
		r->updated_ms = r->created_ms;
		r->rev = 1;
	}
	PQclear(res);
	cJSON_free(spec);
	return rc;
}

/* Write r's state if nobody changed it since it was read (r->rev). */
static int update_row(cs_pg_conn *c, cs_rollout *r, int64_t now_ms)
{
	cs_pg_params p;
	uint64_t n = 0;
	int rc;

	cs_pg_params_init(&p);
	cs_pg_text(&p, cj_status_name(r->status));
	cs_pg_uint(&p, r->step);
	cs_pg_int(&p, r->step_start_ms);
	cs_pg_uint(&p, r->step_version);
	cs_pg_text(&p, r->reason);
	cs_pg_int(&p, now_ms);
	cs_pg_int(&p, r->id);
	cs_pg_int(&p, r->rev);
	cs_pg_int(&p, r->pass_since_ms);
	cs_pg_int(&p, r->alert_since_ms);
	cs_pg_uint(&p, r->prev_step_version);
	rc = cs_pg_exec(c, P_ROLLOUT_UPDATE, &p, NULL, &n);
	if (rc == CANARY_OK && n != 1)
		rc = CS_ESTALE;
	if (rc == CANARY_OK) {
		r->rev++;
		r->updated_ms = now_ms;
	}
	return rc;
}

/* Append the decision (or replace the last one); with `version`, the
 * config version it committed. */
static int add_decision(cs_pg_conn *c, int64_t rollout_id, int64_t time_ms,
	const char *decision, const uint64_t *version, bool replace)
{
	cs_pg_params p;
	char *body = NULL;
	int rc = version ? cs_record_decision_write(decision, *version,
		&body) : CANARY_OK;

	if (rc != CANARY_OK)
		return rc;
	cs_pg_params_init(&p);
	cs_pg_int(&p, rollout_id);
	cs_pg_int(&p, time_ms);
	cs_pg_text(&p, body ? body : decision);
	rc = cs_pg_exec(c, replace ? P_DECISION_REPLACE : P_DECISION_INSERT,
		&p, NULL, NULL);
	cJSON_free(body);
	return rc;
}

typedef struct writing {
	const cs_rollout_change *ch;
	cs_rollout next;
	uint64_t v;
	uint64_t max_bytes;   /* of the config (0: no limit) */
	canary__flag cur, flag;   /* the flag before and after */
	bool changed;         /* the flag changed (and the version with it) */
} writing;

/* The flag change and version bump, or the current version. */
static int version_part(cs_pg_conn *c, writing *w)
{
	const cs_rollout_change *ch = w->ch;
	int rc;

	w->changed = false;
	if (!ch->modify)
		return cs_pg_version(c, &w->v);
	rc = cs_pg_lock_version(c);
	if (rc == CANARY_OK)
		rc = cs_pg_modify_in(c, w->next.flag, ch->modify,
			ch->modify_ctx, &w->cur, &w->flag);
	if (rc == CANARY_OK)
		rc = cs_pg_size_ok(c, w->max_bytes, false);
	w->changed = rc == CANARY_OK;
	if (rc == CANARY_OK)
		rc = cs_pg_bump_in(c, &w->v);
	else if (rc == CS_EUNCHANGED) /* the flag already says so */
		rc = cs_pg_version(c, &w->v);
	return rc;
}

/* The change's audit record. */
static int record(cs_pg_conn *c, writing *w)
{
	const cs_rollout_change *ch = w->ch;
	cs_audit_rec rec;

	memset(&rec, 0, sizeof(rec));
	rec.audit = ch->audit;
	rec.time_ms = ch->now_ms;
	rec.flag = w->next.flag;
	rec.config_version = w->v;
	rec.flag_before = w->changed ? &w->cur : NULL;
	rec.flag_after = w->changed ? &w->flag : NULL;
	rec.rollout_before = ch->insert ? NULL : ch->before;
	rec.rollout_after = &w->next;
	return cs_pg_audit_in(c, &rec);
}

static int write_in(cs_pg_conn *c, void *arg)
{
	const canary__alloc *a = canary__alloc_default();
	writing *w = arg;
	const cs_rollout_change *ch = w->ch;
	int rc = CANARY_OK;

	w->next = *ch->rollout; /* a retry starts from what was read */
	w->v = 0;
	canary__flag_clear(a, &w->cur);
	canary__flag_clear(a, &w->flag);
	memset(&w->cur, 0, sizeof(w->cur));
	memset(&w->flag, 0, sizeof(w->flag));
	if (ch->lease)
		rc = check_lease(c, ch->lease);
	if (rc == CANARY_OK)
		rc = version_part(c, w);
	if (rc != CANARY_OK)
		return rc;
	if (ch->insert || ch->new_step)
		w->next.step_version = w->v;
	rc = ch->insert ? insert_row(c, &w->next) :
		update_row(c, &w->next, ch->now_ms);
	if (rc == CANARY_OK)
		rc = add_decision(c, w->next.id, ch->now_ms, ch->decision,
			ch->modify ? &w->v : NULL, ch->replace_last && !ch->insert);
	if (rc == CANARY_OK)
		rc = record(c, w);
	return rc;
}

int cs_pg_rollout_write(struct cs_store_impl *s, const cs_rollout_change *ch,
	uint64_t *version)
{
	writing *w = malloc(sizeof(*w));
	int rc;

	if (!w)
		return CANARY_ENOMEM;
	memset(w, 0, sizeof(*w));
	w->ch = ch;
	w->max_bytes = s->max_config_bytes;
	rc = cs_pg_transact(s, CS_PG_WRITE, write_in, w);
	if (rc == CANARY_OK) {
		*ch->rollout = w->next;
		if (version)
			*version = w->v;
	}
	canary__flag_clear(canary__alloc_default(), &w->cur);
	canary__flag_clear(canary__alloc_default(), &w->flag);
	free(w);
	return rc;
}

/* ---- reads ----------------------------------------------------------- */

/* Rows of a read, kept until it has committed: a retried read must not
 * hand the caller a row twice. */
typedef struct kept {
	char **text;
	size_t *len;
	cs_rollout *rollouts;
	size_t n, cap;
} kept;

static void forget(kept *k)
{
	size_t i;

	for (i = 0; k->text && i < k->n; i++)
		free(k->text[i]);
	k->n = 0;
}

static void kept_free(kept *k)
{
	forget(k);
	free(k->text);
	free(k->len);
	free(k->rollouts);
}

static int grow(kept *k, bool rollouts)
{
	size_t cap = k->cap ? k->cap * 2 : 16;
	void *p;

	if (k->n < k->cap)
		return CANARY_OK;
	if (rollouts) {
		p = realloc(k->rollouts, cap * sizeof(*k->rollouts));
		if (!p)
			return CANARY_ENOMEM;
		k->rollouts = p;
	} else {
		p = realloc(k->text, cap * sizeof(*k->text));
		if (!p)
			return CANARY_ENOMEM;
		k->text = p;
		p = realloc(k->len, cap * sizeof(*k->len));
		if (!p)
			return CANARY_ENOMEM;
		k->len = p;
	}
	k->cap = cap;
	return CANARY_OK;
}

static int keep_text(const PGresult *r, void *arg)
{
	kept *k = arg;
	size_t len = (size_t)PQgetlength(r, 0, 0);

	if (grow(k, false) != CANARY_OK)
		return CANARY_ENOMEM;
	k->text[k->n] = malloc(len + 1);
	if (!k->text[k->n])
		return CANARY_ENOMEM;
	memcpy(k->text[k->n], PQgetvalue(r, 0, 0), len + 1);
	k->len[k->n++] = len;
	return CANARY_OK;
}

static int keep_rollout(const PGresult *r, void *arg)
{
	kept *k = arg;

	if (grow(k, true) != CANARY_OK)
		return CANARY_ENOMEM;
	/* A corrupt row is skipped, not fatal to the others. */
	if (cs_pg_rollout_row(r, &k->rollouts[k->n]) == CANARY_OK)
		k->n++;
	return CANARY_OK;
}

typedef struct getting {
	const char *flag;
	cs_rollout *out;
	cs_history *h;
	uint64_t total;
	kept k;
} getting;

static int latest(cs_pg_conn *c, const char *flag, cs_rollout *out)
{
	cs_pg_params p;
	PGresult *r = NULL;
	int rc;

	cs_pg_params_init(&p);
	cs_pg_text(&p, flag);
	rc = cs_pg_exec(c, P_ROLLOUT_LATEST, &p, &r, NULL);
	if (rc == CANARY_OK)
		rc = PQntuples(r) == 1 ? cs_pg_rollout_row(r, out) :
			CS_ENOROLLOUT;
	PQclear(r);
	return rc;
}

static int history_in(cs_pg_conn *c, getting *g)
{
	cs_pg_params p;
	PGresult *r = NULL;
	int rc;

	cs_pg_params_init(&p);
	cs_pg_int(&p, g->out->id);
	rc = cs_pg_exec(c, P_DECISIONS_COUNT, &p, &r, NULL);
	if (rc == CANARY_OK)
		g->total = cs_pg_u64(r, 0);
	PQclear(r);
	if (g->h->last)
		cs_pg_uint(&p, g->h->last);
	else
		cs_pg_text(&p, NULL); /* LIMIT NULL: all of them */
	if (rc == CANARY_OK)
		rc = cs_pg_rows(c, P_DECISIONS_LAST, &p, keep_text, &g->k);
	return rc;
}

static int get_in(cs_pg_conn *c, void *arg)
{
	getting *g = arg;
	int rc = latest(c, g->flag, g->out);

	forget(&g->k);
	if (rc == CANARY_OK && g->h)
		rc = history_in(c, g);
	return rc;
}

int cs_pg_rollout_get(struct cs_store_impl *s, const char *flag,
	cs_rollout *out, cs_history *history)
{
	getting g;
	size_t i;
	int rc;

	memset(&g, 0, sizeof(g));
	g.flag = flag;
	g.out = out;
	g.h = history;
	rc = cs_pg_transact(s, CS_PG_READ, get_in, &g);
	if (rc == CANARY_OK && history) {
		history->total = g.total;
		for (i = 0; rc == CANARY_OK && i < g.k.n; i++)
			rc = history->fn(g.k.text[i], g.k.len[i], history->ctx);
	}
	kept_free(&g.k);
	return rc;
}

typedef struct listing {
	int which;
	kept k;
} listing;

static int each_in(cs_pg_conn *c, void *arg)
{
	listing *l = arg;

	forget(&l->k);
	return cs_pg_rows(c, l->which, NULL, keep_rollout, &l->k);
}

int cs_pg_rollouts_each(struct cs_store_impl *s, cs_rollout_set set,
	cs_rollout_fn fn, void *ctx)
{
	listing l;
	size_t i;
	int rc;

	memset(&l, 0, sizeof(l));
	l.which = set == CS_ROLLOUTS_ACTIVE ? P_ROLLOUTS_ACTIVE :
		P_ROLLOUTS_LATEST_ALL;
	rc = cs_pg_transact(s, CS_PG_READ, each_in, &l);
	for (i = 0; rc == CANARY_OK && i < l.k.n; i++)
		rc = fn(&l.k.rollouts[i], ctx);
	kept_free(&l.k);
	return rc;
}
