/*
 * store_pg_flags.c - flags and the config version in PostgreSQL: the
 * `flags` table (one canonical JSON body per flag, records.h) and the
 * version in `meta`. A config change locks the version row first, so
 * changes from every server run one at a time, then bumps it and
 * announces the new version on CS_PG_CHANNEL at commit.
 */
#include "store/store_pg.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "clock.h"
#include "store/records.h"
#include "store/segment_use.h"

int cs_pg_version(cs_pg_conn *c, uint64_t *out)
{
	PGresult *r = NULL;
	int rc = cs_pg_exec(c, P_VERSION_GET, NULL, &r, NULL);

	if (rc == CANARY_OK && PQntuples(r) != 1)
		rc = CANARY_ESTORAGE;
	*out = rc == CANARY_OK ? cs_pg_u64(r, 0) : 0;
	PQclear(r);
	return rc;
}

int cs_pg_lock_version(cs_pg_conn *c)
{
	return cs_pg_exec(c, P_VERSION_LOCK, NULL, NULL, NULL);
}

int cs_pg_size_ok(cs_pg_conn *c, uint64_t max, bool segment_added)
{
	PGresult *r = NULL;
	int rc;

	if (!cs_config_limits_apply(max, segment_added))
		return CANARY_OK;
	rc = cs_pg_exec(c, P_CONFIG_BYTES, NULL, &r, NULL);
	if (rc == CANARY_OK && PQntuples(r) != 1)
		rc = CANARY_ESTORAGE;
	if (rc == CANARY_OK)
		rc = cs_config_limits(max, cs_pg_u64(r, 0),
			strtoull(PQgetvalue(r, 0, 1), NULL, 10), cs_pg_u64(r, 2),
			strtoull(PQgetvalue(r, 0, 3), NULL, 10), segment_added);
	PQclear(r);
	return rc;
}

/* Run `which` (the bump, or the floor with `p`), report the version it
 * made and announce it. */
static int new_version(cs_pg_conn *c, int which, const cs_pg_params *bound,
	uint64_t *version)
{
	cs_pg_params p;
	PGresult *r = NULL;
	int rc = cs_pg_exec(c, which, bound, &r, NULL);

	*version = 0;
	if (rc == CANARY_OK && PQntuples(r) != 1)
		rc = CANARY_ESTORAGE;
	if (rc == CANARY_OK) {
		*version = cs_pg_u64(r, 0);
		cs_pg_params_init(&p);
		cs_pg_text(&p, PQgetvalue(r, 0, 0));
		rc = cs_pg_exec(c, P_NOTIFY, &p, NULL, NULL);
	}
	PQclear(r);
	return rc;
}

int cs_pg_bump_in(cs_pg_conn *c, uint64_t *version)
{
	return new_version(c, P_VERSION_BUMP, NULL, version);
}

typedef struct flooring {
	uint64_t floor, version;
} flooring;

static int floor_in(cs_pg_conn *c, void *arg)
{
	flooring *f = arg;
	cs_pg_params p;
	int rc = cs_pg_lock_version(c);

	cs_pg_params_init(&p);
	cs_pg_uint(&p, f->floor);
	if (rc == CANARY_OK)
		rc = new_version(c, P_VERSION_FLOOR, &p, &f->version);
	return rc;
}

int cs_pg_version_floor(struct cs_store_impl *s, uint64_t floor,
	uint64_t *version)
{
	flooring f = { floor, 0 };
	int rc = cs_pg_transact(s, CS_PG_WRITE, floor_in, &f);

	if (version)
		*version = rc == CANARY_OK ? f.version : 0;
	return rc;
}

/* One flag by key into `out` (zeroed), or CS_ENOTFOUND. */
static int flag_get_on(cs_pg_conn *c, const char *key, canary__flag *out)
{
	cs_pg_params p;
	PGresult *r = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	cs_pg_params_init(&p);
	cs_pg_text(&p, key);
	rc = cs_pg_exec(c, P_FLAG_GET, &p, &r, NULL);
	if (rc == CANARY_OK && PQntuples(r) == 0)
		rc = CS_ENOTFOUND;
	else if (rc == CANARY_OK)
		rc = cs_record_flag_read(PQgetvalue(r, 0, 0),
			(size_t)PQgetlength(r, 0, 0), out);
	PQclear(r);
	return rc;
}

/* ---- reads ----------------------------------------------------------- */

typedef struct loading {
	canary__config *c;
	size_t cap;
	uint64_t bad;                     /* rows that cannot be read */
	char key[CANARY__MAX_KEY_LEN + 1]; /* one of them */
} loading;

static int append_flag(const PGresult *r, void *arg)
{
	loading *l = arg;
	canary__config *c = l->c;
	int rc;

	if (c->count == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 16;
		canary__flag *f = realloc(c->flags, ncap * sizeof(*f));

		if (!f)
			return CANARY_ENOMEM;
		c->flags = f;
		l->cap = ncap;
	}
	rc = cs_record_flag_read(PQgetvalue(r, 0, 0), (size_t)PQgetlength(r, 0,
		0), &c->flags[c->count]);
	if (rc == CANARY_ENOMEM)
		return rc;
	if (rc != CANARY_OK) {
		/* Skipped (records.h); health() reports it. */
		if (!l->bad++)
			snprintf(l->key, sizeof(l->key), "%s", cs_pg_str(r, 1));
		return CANARY_OK;
	}
	c->count++;
	return CANARY_OK;
}

static int load_config(cs_pg_conn *c, void *arg)
{
	loading *l = arg;
	const canary__alloc *a = canary__alloc_default();
	canary__segdef *all = NULL;
	size_t n = 0;
	int rc;

	/* A retry starts from nothing. */
	canary__config_free(a, l->c);
	l->c = calloc(1, sizeof(*l->c));
	l->cap = 0;
	l->bad = 0;
	if (!l->c)
		return CANARY_ENOMEM;
	rc = cs_pg_version(c, &l->c->version);
	if (rc == CANARY_OK)
		rc = cs_pg_rows(c, P_FLAGS_ALL, NULL, append_flag, l);
	/* The segments its flags name, from the same snapshot. */
	if (rc == CANARY_OK)
		rc = cs_pg_segments_on(c, &all, &n);
	if (rc == CANARY_OK)
		rc = cs_segments_keep_used(l->c, all, n);
	return rc;
}

int cs_pg_config(struct cs_store_impl *s, canary__config **out)
{
	loading l;
	int rc;

	memset(&l, 0, sizeof(l));
	rc = cs_pg_transact(s, CS_PG_READ, load_config, &l);
	*out = NULL;
	if (rc != CANARY_OK) {
		canary__config_free(canary__alloc_default(), l.c);
		return rc;
	}
	cs_unreadable_note(&s->unreadable, l.bad, l.key);
	*out = l.c;
	return CANARY_OK;
}

typedef struct getting {
	const char *key;
	canary__flag *out;
} getting;

static int get_one(cs_pg_conn *c, void *arg)
{
	getting *g = arg;

	canary__flag_clear(canary__alloc_default(), g->out);
	return flag_get_on(c, g->key, g->out);
}

int cs_pg_flag_get(struct cs_store_impl *s, const char *key,
	canary__flag *out)
{
	getting g = { key, out };
	int rc;

	memset(out, 0, sizeof(*out));
	rc = cs_pg_transact(s, CS_PG_READ, get_one, &g);
	if (rc != CANARY_OK)
		canary__flag_clear(canary__alloc_default(), out);
	return rc;
}

/* ---- changes --------------------------------------------------------- */

int cs_pg_write_flag(cs_pg_conn *c, const canary__flag *f)
{
	cs_pg_params p;
	char *body = NULL;
	int rc = cs_record_flag_write(f, &body);

	if (rc != CANARY_OK)
		return rc;
	cs_pg_params_init(&p);
	cs_pg_text(&p, f->key);
	cs_pg_text(&p, body);
	cs_pg_uint(&p, (uint64_t)canary__wall_ms());
	rc = cs_pg_exec(c, P_FLAG_UPSERT, &p, NULL, NULL);
	cJSON_free(body);
	return rc;
}

int cs_pg_modify_in(cs_pg_conn *c, const char *key, cs_modify_fn fn,
	void *ctx, canary__flag *cur, canary__flag *next)
{
	int rc;

	memset(next, 0, sizeof(*next));
	rc = flag_get_on(c, key, cur);
	if (rc == CANARY_OK)
		rc = fn(cur, next, ctx);
	if (rc == CANARY_OK && cs_record_flag_same(cur, next))
		rc = CS_EUNCHANGED;
	if (rc == CANARY_OK)
		rc = cs_pg_write_flag(c, next);
	return rc;
}

/* One config change: its arguments, what it did, the version it made. */
typedef struct change {
	uint64_t max_bytes;         /* of the config (0: no limit) */
	const canary__flag *flag;   /* put */
	cs_put_mode mode;
	const char *key;            /* modify, delete */
	cs_modify_fn fn;
	void *ctx;
	const cs_audit *audit;
	bool created;
	uint64_t version;
} change;

/* The tail of every config change: check the size, bump, record what
 * changed. `unreadable`: the flag's row was there but could not be read
 * (no "before"). */
static int record(cs_pg_conn *c, change *ch, int rc, const char *key,
	const canary__flag *before, const canary__flag *after,
	bool unreadable)
{
	cs_audit_rec rec;

	if (rc == CANARY_OK && after)
		rc = cs_pg_size_ok(c, ch->max_bytes, false);
	if (rc == CANARY_OK)
		rc = cs_pg_bump_in(c, &ch->version);
	if (rc != CANARY_OK)
		return rc;
	memset(&rec, 0, sizeof(rec));
	rec.audit = ch->audit;
	rec.time_ms = canary__wall_ms();
	rec.flag = key;
	rec.config_version = ch->version;
	rec.flag_before = before;
	rec.flag_unreadable = unreadable;
	rec.flag_after = after;
	return cs_pg_audit_in(c, &rec);
}

static int put_in(cs_pg_conn *c, void *arg)
{
	change *ch = arg;
	canary__flag old;
	int rc = cs_pg_lock_version(c), exists = CS_ENOTFOUND;

	memset(&old, 0, sizeof(old));
	if (rc == CANARY_OK)
		exists = flag_get_on(c, ch->flag->key, &old);
	if (rc != CANARY_OK)
		; /* no lock */
	else if (exists == CANARY_OK && ch->mode == CS_PUT_UPSERT &&
	    cs_record_flag_same(&old, ch->flag))
		rc = CS_EUNCHANGED; /* nothing to write */
	else if (exists == CANARY_OK && ch->mode == CS_PUT_CREATE)
		rc = CS_EEXISTS;
	else if (exists == CANARY_OK)
		rc = cs_pg_guard_in(c, ch->audit, &old, ch->flag);
	/* A row that cannot be read back is there: an upsert repairs it
	 * (no rollout can guard what no one can read). */
	else if (exists == CS_EUNREADABLE)
		rc = ch->mode == CS_PUT_CREATE ? CS_EEXISTS : CANARY_OK;
	else if (exists != CS_ENOTFOUND)
		rc = exists;
	if (rc == CANARY_OK)
		rc = cs_pg_segments_exist(c, ch->flag);
	if (rc == CANARY_OK)
		rc = cs_pg_write_flag(c, ch->flag);
	rc = record(c, ch, rc, ch->flag->key, exists == CANARY_OK ? &old :
		NULL, ch->flag, exists == CS_EUNREADABLE);
	canary__flag_clear(canary__alloc_default(), &old);
	ch->created = exists == CS_ENOTFOUND;
	return rc;
}

static int modify_in(cs_pg_conn *c, void *arg)
{
	const canary__alloc *a = canary__alloc_default();
	change *ch = arg;
	canary__flag cur, next;
	int rc = cs_pg_lock_version(c);

	memset(&cur, 0, sizeof(cur));
	memset(&next, 0, sizeof(next));
	if (rc == CANARY_OK)
		rc = cs_pg_modify_in(c, ch->key, ch->fn, ch->ctx, &cur, &next);
	if (rc == CANARY_OK)
		rc = cs_pg_guard_in(c, ch->audit, &cur, &next);
	if (rc == CANARY_OK)
		rc = cs_pg_segments_exist(c, &next);
	rc = record(c, ch, rc, ch->key, &cur, &next, false);
	canary__flag_clear(a, &cur);
	canary__flag_clear(a, &next);
	return rc;
}

static int delete_in(cs_pg_conn *c, void *arg)
{
	change *ch = arg;
	canary__flag old;
	cs_pg_params p;
	uint64_t n = 0;
	int rc = cs_pg_lock_version(c), exists = CS_ENOTFOUND;

	memset(&old, 0, sizeof(old));
	if (rc == CANARY_OK)
		exists = flag_get_on(c, ch->key, &old);
	/* A row that cannot be read back can be deleted (its record then
	 * has no "before"). */
	if (rc == CANARY_OK && exists != CANARY_OK &&
	    exists != CS_EUNREADABLE)
		rc = exists;
	cs_pg_params_init(&p);
	cs_pg_text(&p, ch->key);
	if (rc == CANARY_OK)
		rc = cs_pg_exec(c, P_FLAG_DELETE, &p, NULL, &n);
	if (rc == CANARY_OK && n == 0)
		rc = CS_ENOTFOUND;
	rc = record(c, ch, rc, ch->key, exists == CANARY_OK ? &old : NULL,
		NULL, exists == CS_EUNREADABLE);
	canary__flag_clear(canary__alloc_default(), &old);
	return rc;
}

static int read_version(cs_pg_conn *c, void *arg)
{
	return cs_pg_version(c, arg);
}

int cs_pg_run_change(struct cs_store_impl *s, cs_pg_work_fn fn, void *ctx,
	uint64_t *made, uint64_t *version)
{
	int rc = cs_pg_transact(s, CS_PG_WRITE, fn, ctx);

	/* Nothing written (rolled back): the version as it is. */
	if (rc == CS_EUNCHANGED)
		rc = cs_pg_transact(s, CS_PG_READ, read_version, made);
	if (version)
		*version = rc == CANARY_OK ? *made : 0;
	return rc;
}

/* Run a flag change; report its version (0 when it failed). */
static int run_change(struct cs_store_impl *s, cs_pg_work_fn fn, change *ch,
	uint64_t *version)
{
	ch->max_bytes = s->max_config_bytes;
	return cs_pg_run_change(s, fn, ch, &ch->version, version);
}

int cs_pg_flag_put(struct cs_store_impl *s, const canary__flag *f,
	cs_put_mode mode, const cs_audit *audit, bool *created,
	uint64_t *version)
{
	change ch;
	int rc;

	memset(&ch, 0, sizeof(ch));
	ch.flag = f;
	ch.mode = mode;
	ch.audit = audit;
	rc = run_change(s, put_in, &ch, version);
	if (rc == CANARY_OK && created)
		*created = ch.created;
	return rc;
}

int cs_pg_flag_modify(struct cs_store_impl *s, const char *key,
	cs_modify_fn fn, void *ctx, const cs_audit *audit, uint64_t *version)
{
	change ch;

	memset(&ch, 0, sizeof(ch));
	ch.key = key;
	ch.fn = fn;
	ch.ctx = ctx;
	ch.audit = audit;
	return run_change(s, modify_in, &ch, version);
}

int cs_pg_flag_delete(struct cs_store_impl *s, const char *key,
	const cs_audit *audit, uint64_t *version)
{
	change ch;

	memset(&ch, 0, sizeof(ch));
	ch.key = key;
	ch.audit = audit;
	return run_change(s, delete_in, &ch, version);
}
