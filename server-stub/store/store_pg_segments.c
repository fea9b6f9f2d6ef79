/*
 * store_pg_segments.c - named segments in PostgreSQL: the `segments`
 * table (one canonical JSON body per segment, records.h). Writing or
 * deleting one is a config change: it locks the version first (so it
 * runs one at a time with every server's flag changes), checks the flags
 * that name it inside its transaction, bumps, announces and is audited.
 */
#include "store/store_pg.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "clock.h"
#include "store/records.h"
#include "store/segment_use.h"

/* One segment by name into `out` (zeroed), or CS_ENOTFOUND. */
static int get_on(cs_pg_conn *c, const char *name, canary__segdef *out)
{
	cs_pg_params p;
	PGresult *r = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	cs_pg_params_init(&p);
	cs_pg_text(&p, name);
	rc = cs_pg_exec(c, P_SEGMENT_GET, &p, &r, NULL);
	if (rc == CANARY_OK && PQntuples(r) == 0)
		rc = CS_ENOTFOUND;
	else if (rc == CANARY_OK)
		rc = cs_record_segment_read(PQgetvalue(r, 0, 0),
			(size_t)PQgetlength(r, 0, 0), out);
	PQclear(r);
	return rc;
}

typedef struct listing {
	canary__segdef *items;
	size_t n, cap;
} listing;

static int append_segment(const PGresult *r, void *arg)
{
	listing *l = arg;
	int rc = cs_grow((void **)&l->items, &l->cap, l->n, sizeof(*l->items));

	if (rc == CANARY_OK)
		rc = cs_record_segment_read(PQgetvalue(r, 0, 0),
			(size_t)PQgetlength(r, 0, 0), &l->items[l->n]);
	if (rc == CANARY_OK)
		l->n++;
	return rc;
}

int cs_pg_segments_on(cs_pg_conn *c, canary__segdef **out, size_t *n)
{
	listing l = { NULL, 0, 0 };
	int rc = cs_pg_rows(c, P_SEGMENTS_ALL, NULL, append_segment, &l);

	if (rc != CANARY_OK) {
		cs_segdefs_free(l.items, l.n);
		l.items = NULL;
		l.n = 0;
	}
	*out = l.items;
	*n = l.n;
	return rc;
}

typedef struct reading {
	const char *name;
	canary__segdef *one;
	canary__segdef *all;
	size_t n;
} reading;

static int read_in(cs_pg_conn *c, void *arg)
{
	reading *g = arg;

	/* A retry starts from nothing. */
	if (g->one) {
		canary__segdef_clear(canary__alloc_default(), g->one);
		return get_on(c, g->name, g->one);
	}
	cs_segdefs_free(g->all, g->n);
	g->all = NULL;
	g->n = 0;
	return cs_pg_segments_on(c, &g->all, &g->n);
}

int cs_pg_segment_get(struct cs_store_impl *s, const char *name,
	canary__segdef *out)
{
	reading g = { name, out, NULL, 0 };
	int rc;

	memset(out, 0, sizeof(*out));
	rc = cs_pg_transact(s, CS_PG_READ, read_in, &g);
	if (rc != CANARY_OK)
		canary__segdef_clear(canary__alloc_default(), out);
	return rc;
}

int cs_pg_segment_list(struct cs_store_impl *s, canary__segdef **out,
	size_t *n)
{
	reading g = { NULL, NULL, NULL, 0 };
	int rc = cs_pg_transact(s, CS_PG_READ, read_in, &g);

	if (rc != CANARY_OK) {
		cs_segdefs_free(g.all, g.n);
		g.all = NULL;
		g.n = 0;
	}
	*out = g.all;
	*n = g.n;
	return rc;
}

static int exists_in(void *arg, const char *name)
{
	canary__segdef seg;
	int rc = get_on(arg, name, &seg);

	canary__segdef_clear(canary__alloc_default(), &seg);
	return rc;
}

int cs_pg_segments_exist(cs_pg_conn *c, const canary__flag *f)
{
	return cs_flag_segments_exist(f, exists_in, c);
}

int cs_pg_write_segment(cs_pg_conn *c, const canary__segdef *seg)
{
	cs_pg_params p;
	char *body = NULL;
	int rc = cs_record_segment_write(seg, &body);

	if (rc != CANARY_OK)
		return rc;
	cs_pg_params_init(&p);
	cs_pg_text(&p, seg->name);
	cs_pg_text(&p, body);
	cs_pg_uint(&p, (uint64_t)canary__wall_ms());
	rc = cs_pg_exec(c, P_SEGMENT_UPSERT, &p, NULL, NULL);
	cJSON_free(body);
	return rc;
}

/* A segment change: its arguments, what it did, the version it made. */
typedef struct change {
	uint64_t max_bytes;
	const canary__segdef *seg;   /* put */
	const char *name;            /* delete */
	const cs_audit *audit;
	char *users;                 /* delete: the flags that name it */
	size_t userslen;
	cs_flag_keys keys;           /* put: the flags that name it */
	bool created;
	uint64_t version;
} change;

/* Flag `f`, which names the segment: may it see it change? */
static int guard_user(cs_pg_conn *c, const cs_audit *audit,
	const canary__flag *f)
{
	cs_pg_params p;
	PGresult *r = NULL;
	cs_rollout *live = malloc(sizeof(*live));
	int rc;

	if (!live)
		return CANARY_ENOMEM;
	cs_pg_params_init(&p);
	cs_pg_text(&p, f->key);
	rc = cs_pg_exec(c, P_ROLLOUT_LIVE, &p, &r, NULL);
	if (rc == CANARY_OK && PQntuples(r) == 1 &&
	    cs_pg_rollout_row(r, live) == CANARY_OK)
		rc = cs_record_segment_guard(audit, live, f->key);
	PQclear(r);
	free(live);
	return rc;
}

typedef struct scanning {
	cs_pg_conn *c;
	const char *name;
	const cs_audit *audit;       /* guard their live rollouts */
	char *users;                 /* list them */
	size_t userslen;
	cs_flag_keys *keys;          /* or keep their keys */
	bool any;
} scanning;

/* Row `i` of the flags. */
static int scan_flag(const PGresult *r, int i, scanning *sc)
{
	canary__flag f;
	int rc = CANARY_OK;

	/* A row that cannot be read names nothing we can see. */
	if (cs_record_flag_read(PQgetvalue(r, i, 0),
		    (size_t)PQgetlength(r, i, 0), &f) != CANARY_OK)
		return CANARY_OK;
	if (cs_flag_uses_segment(&f, sc->name)) {
		sc->any = true;
		if (sc->users)
			cs_segment_user_add(sc->users, sc->userslen, f.key);
		if (sc->keys)
			rc = cs_flag_keys_add(sc->keys, f.key);
		if (rc == CANARY_OK && sc->audit)
			rc = guard_user(sc->c, sc->audit, &f);
	}
	canary__flag_clear(canary__alloc_default(), &f);
	return rc;
}

/*
 * The flags that name segment `name`: with `audit` (a guarded change),
 * their live rollouts' guard; with `users`, CS_EINUSE when any, listed;
 * with `keys`, their keys kept (for the change's record).
 * The flags are read with cs_pg_exec (not streamed): the guard runs
 * statements of its own on the connection.
 */
static int users_of(cs_pg_conn *c, const char *name, const cs_audit *audit,
	char *users, size_t userslen, cs_flag_keys *keys)
{
	scanning sc = { c, name, NULL, users, userslen, keys, false };
	PGresult *r = NULL;
	int rc = cs_pg_exec(c, P_FLAGS_ALL, NULL, &r, NULL), i;

	if (audit && audit->guard && !audit->forced)
		sc.audit = audit;
	for (i = 0; rc == CANARY_OK && i < PQntuples(r); i++)
		rc = scan_flag(r, i, &sc);
	PQclear(r);
	return rc == CANARY_OK && users && sc.any ? CS_EINUSE : rc;
}

/* The tail of a segment change: check the size, bump, record. */
static int record(cs_pg_conn *c, change *ch, int rc,
	const canary__segdef *before, const canary__segdef *after)
{
	cs_audit_rec rec;

	if (rc == CANARY_OK && after)
		rc = cs_pg_size_ok(c, ch->max_bytes, !before);
	if (rc == CANARY_OK)
		rc = cs_pg_bump_in(c, &ch->version);
	if (rc != CANARY_OK)
		return rc;
	memset(&rec, 0, sizeof(rec));
	rec.audit = ch->audit;
	rec.time_ms = canary__wall_ms();
	rec.config_version = ch->version;
	rec.segment_before = before;
	rec.segment_after = after;
	rec.segment_users = &ch->keys;
	return cs_pg_audit_in(c, &rec);
}

static int put_in(cs_pg_conn *c, void *arg)
{
	change *ch = arg;
	canary__segdef old;
	int rc = cs_pg_lock_version(c), exists = CS_ENOTFOUND;

	memset(&old, 0, sizeof(old));
	cs_flag_keys_clear(&ch->keys); /* a retry lists them again */
	if (rc == CANARY_OK)
		exists = get_on(c, ch->seg->name, &old);
	if (rc != CANARY_OK)
		; /* no lock */
	else if (exists == CANARY_OK &&
	    strcmp(old.constraints, ch->seg->constraints) == 0)
		rc = CS_EUNCHANGED; /* nothing to write */
	else if (exists == CANARY_OK)
		rc = users_of(c, ch->seg->name, ch->audit, NULL, 0,
			&ch->keys);
	else if (exists != CS_ENOTFOUND)
		rc = exists;
	if (rc == CANARY_OK)
		rc = cs_pg_write_segment(c, ch->seg);
	rc = record(c, ch, rc, exists == CANARY_OK ? &old : NULL, ch->seg);
	canary__segdef_clear(canary__alloc_default(), &old);
	ch->created = exists == CS_ENOTFOUND;
	return rc;
}

static int delete_in(cs_pg_conn *c, void *arg)
{
	change *ch = arg;
	canary__segdef old;
	cs_pg_params p;
	int rc = cs_pg_lock_version(c);

	memset(&old, 0, sizeof(old));
	ch->users[0] = '\0'; /* a retry lists them again */
	if (rc == CANARY_OK)
		rc = get_on(c, ch->name, &old);
	if (rc == CANARY_OK)
		rc = users_of(c, ch->name, NULL, ch->users, ch->userslen,
			NULL);
	cs_pg_params_init(&p);
	cs_pg_text(&p, ch->name);
	if (rc == CANARY_OK)
		rc = cs_pg_exec(c, P_SEGMENT_DELETE, &p, NULL, NULL);
	rc = record(c, ch, rc, &old, NULL);
	canary__segdef_clear(canary__alloc_default(), &old);
	return rc;
}

/* Run a segment change; report its version (0 when it failed). */
static int run_change(struct cs_store_impl *s, cs_pg_work_fn fn, change *ch,
	uint64_t *version)
{
	ch->max_bytes = s->max_config_bytes;
	return cs_pg_run_change(s, fn, ch, &ch->version, version);
}

int cs_pg_segment_put(struct cs_store_impl *s, const canary__segdef *seg,
	const cs_audit *audit, bool *created, uint64_t *version)
{
	change ch;
	int rc;

	memset(&ch, 0, sizeof(ch));
	ch.seg = seg;
	ch.audit = audit;
	rc = run_change(s, put_in, &ch, version);
	if (rc == CANARY_OK && created)
		*created = ch.created;
	cs_flag_keys_clear(&ch.keys);
	return rc;
}

int cs_pg_segment_delete(struct cs_store_impl *s, const char *name,
	const cs_audit *audit, char *users, size_t userslen,
	uint64_t *version)
{
	change ch;

	memset(&ch, 0, sizeof(ch));
	ch.name = name;
	ch.audit = audit;
	ch.users = users;
	ch.userslen = userslen;
	return run_change(s, delete_in, &ch, version);
}
