/*
 * store_pg_pool.c - the PostgreSQL backend's connections: a small pool of
 * sessions with every statement prepared, statements run with text
 * parameters, and transactions that survive a restart of the database.
 *
 * A connection is made when first needed and made again after it failed,
 * so the server starts serving its cache while the database is down and
 * comes back by itself. A transaction that failed because its connection
 * went away (the database restarted, a proxy dropped it) is run again on a
 * fresh one with a growing pause, for a few seconds; then the caller gets
 * CS_EUNAVAILABLE (HTTP 503) and the SDK retries later.
 */
#include "store/store_pg.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "logline.h"
#include "peer_log.h"

/* How long a transaction keeps trying, and its first pause. */
#define RETRY_FOR_MS 3000
#define RETRY_FIRST_MS 25
#define RETRY_MAX_MS 500

/* The server's notices ("relation already exists, skipping", "terminating
 * connection due to administrator command") would go to stderr as they
 * come; what matters is logged by the backend, once. */
static void quiet(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

PGconn *cs_pg_connect(const char *location)
{
	/* Our defaults come before the location ("dbname", expanded), which
	 * overrides them; the encoding comes after: every text we store is
	 * UTF-8. libpq's environment fills what neither sets. */
	const char *keys[8], *vals[8];
	PGconn *db;
	int n = 0;

	if (!getenv("PGAPPNAME")) {
		keys[n] = "application_name";
		vals[n++] = "canary-server";
	}
	if (!getenv("PGCONNECT_TIMEOUT")) {
		keys[n] = "connect_timeout";
		vals[n++] = "5";
	}
	keys[n] = "keepalives_idle";
	vals[n++] = "10";
	keys[n] = "keepalives_interval";
	vals[n++] = "5";
	keys[n] = "dbname";
	vals[n++] = location;
	keys[n] = "client_encoding";
	vals[n++] = "UTF8";
	keys[n] = NULL;
	vals[n] = NULL;
	db = PQconnectdbParams(keys, vals, 1);
	if (db)
		PQsetNoticeProcessor(db, quiet, NULL);
	return db;
}

int cs_pg_prepare_all(PGconn *db)
{
	char name[16];
	int i;

	for (i = 0; i < P_COUNT; i++) {
		PGresult *r;
		bool ok;

		snprintf(name, sizeof(name), "cs%d", i);
		r = PQprepare(db, name, cs_pg_sql(i), 0, NULL);
		ok = PQresultStatus(r) == PGRES_COMMAND_OK;
		if (!ok)
			cs_log(CS_LOG_ERROR, NULL, "postgresql: preparing "
				"statement %d: %s", i, PQerrorMessage(db));
		PQclear(r);
		if (!ok)
			return CANARY_ESTORAGE;
	}
	return CANARY_OK;
}

/* ---- the pool -------------------------------------------------------- */

int cs_pg_pool_open(struct cs_store_impl *s, unsigned int size)
{
	unsigned int i;

	s->conns = calloc(size, sizeof(*s->conns));
	s->idle = calloc(size, sizeof(*s->idle));
	if (!s->conns || !s->idle)
		return CANARY_ENOMEM;
	s->nconns = size;
	for (i = 0; i < size; i++)
		s->idle[s->nidle++] = &s->conns[i];
	return CANARY_OK;
}

void cs_pg_pool_close(struct cs_store_impl *s)
{
	unsigned int i;

	for (i = 0; s->conns && i < s->nconns; i++)
		PQfinish(s->conns[i].db);
	free(s->conns);
	free(s->idle);
	s->conns = NULL;
	s->idle = NULL;
}

static cs_pg_conn *take(struct cs_store_impl *s)
{
	cs_pg_conn *c;

	pthread_mutex_lock(&s->lock);
	while (s->nidle == 0)
		pthread_cond_wait(&s->freed, &s->lock);
	c = s->idle[--s->nidle];
	pthread_mutex_unlock(&s->lock);
	return c;
}

static void give_back(struct cs_store_impl *s, cs_pg_conn *c)
{
	pthread_mutex_lock(&s->lock);
	s->idle[s->nidle++] = c;
	pthread_cond_signal(&s->freed);
	pthread_mutex_unlock(&s->lock);
}

static void drop(cs_pg_conn *c)
{
	PQfinish(c->db);
	c->db = NULL;
	c->ready = false;
}

/* Make `c` usable: connect and prepare if it is not. */
static int ready(struct cs_store_impl *s, cs_pg_conn *c)
{
	if (c->ready && PQstatus(c->db) == CONNECTION_OK)
		return CANARY_OK;
	drop(c);
	c->db = cs_pg_connect(s->location);
	if (!c->db)
		return CANARY_ENOMEM;
	if (PQstatus(c->db) != CONNECTION_OK ||
	    cs_pg_prepare_all(c->db) != CANARY_OK) {
		drop(c);
		return CS_PG_ELOST;
	}
	c->ready = true;
	return CANARY_OK;
}

void cs_pg_note_reachable(struct cs_store_impl *s, bool reachable)
{
	bool was_down = atomic_exchange(&s->down, !reachable);
	uint64_t now = (uint64_t)canary__wall_ms();

	if (reachable && was_down) {
		cs_log(CS_LOG_INFO, NULL, "postgresql: %s is reachable again",
			s->where);
	} else if (!reachable && (!was_down ||
		   now - atomic_load(&s->said_down_ms) > 60000)) {
		/* Once when it goes, then once a minute. */
		atomic_store(&s->said_down_ms, now);
		cs_log(CS_LOG_ERROR, NULL, "postgresql: %s cannot be reached; "
			"retrying", s->where);
	}
}

/* ---- statements ------------------------------------------------------ */

void cs_pg_params_init(cs_pg_params *p)
{
	p->n = 0;
}

void cs_pg_text(cs_pg_params *p, const char *s)
{
	if (p->n < CS_PG_MAX_PARAMS)
		p->v[p->n++] = s;
}

void cs_pg_int(cs_pg_params *p, int64_t v)
{
	if (p->n >= CS_PG_MAX_PARAMS)
		return;
	snprintf(p->num[p->n], sizeof(p->num[p->n]), "%" PRId64, v);
	p->v[p->n] = p->num[p->n];
	p->n++;
}

void cs_pg_uint(cs_pg_params *p, uint64_t v)
{
	cs_pg_int(p, v > INT64_MAX ? INT64_MAX : (int64_t)v);
}

void cs_pg_double(cs_pg_params *p, double v)
{
	if (p->n >= CS_PG_MAX_PARAMS)
		return;
	snprintf(p->num[p->n], sizeof(p->num[p->n]), "%.17g", v);
	p->v[p->n] = p->num[p->n];
	p->n++;
}

/* What a failed result means for the transaction. */
static int classify(PGconn *db, const PGresult *r)
{
	const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;

	if (PQstatus(db) != CONNECTION_OK || !state)
		return CS_PG_ELOST;
	/* 08: connection exception; 57P01..03: the server is shutting down
	 * or starting up. */
	if (strncmp(state, "08", 2) == 0 || strncmp(state, "57P0", 4) == 0)
		return CS_PG_ELOST;
	if (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0)
		return CS_PG_ERETRY;
	if (strcmp(state, "23505") == 0)
		return CS_PG_EUNIQUE;
	return CANARY_ESTORAGE;
}

/* The SQLSTATE of a failure, for transact()'s account of writes. */
static void keep_state(cs_pg_conn *c, const PGresult *r)
{
	const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;

	snprintf(c->state, sizeof(c->state), "%s", state ? state : "");
}

/* Log a statement's failure: its number and the error, never its
 * parameters (flag bodies are not secret, but keep logs short). */
static void log_failure(int which, const PGresult *r, int rc)
{
	const char *state, *msg;

	if (rc == CS_PG_ELOST || rc == CS_PG_ERETRY || rc == CS_PG_EUNIQUE)
		return; /* expected: retried or answered */
	state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	msg = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	/* A client can make statements fail at will: a line a minute. */
	cs_peer_log("postgresql statement failed", "postgresql: ",
		"statement %d failed: %s (%s)", which, msg ? msg : "no result",
		state ? state : "-");
}

static int result_ok(const PGresult *r)
{
	ExecStatusType st = PQresultStatus(r);

	return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ||
		st == PGRES_SINGLE_TUPLE;
}

int cs_pg_exec(cs_pg_conn *c, int which, const cs_pg_params *p,
	PGresult **res, uint64_t *changed)
{
	char name[16];
	PGresult *r;
	int rc = CANARY_OK;

	if (res)
		*res = NULL;
	snprintf(name, sizeof(name), "cs%d", which);
	r = PQexecPrepared(c->db, name, p ? p->n : 0, p ? p->v : NULL, NULL,
		NULL, 0);
	if (!result_ok(r)) {
		rc = classify(c->db, r);
		keep_state(c, r);
		log_failure(which, r, rc);
	} else if (changed) {
		*changed = strtoull(PQcmdTuples(r), NULL, 10);
	}
	if (res && rc == CANARY_OK)
		*res = r;
	else
		PQclear(r);
	return rc;
}

int cs_pg_rows(cs_pg_conn *c, int which, const cs_pg_params *p,
	cs_pg_row_fn fn, void *ctx)
{
	char name[16];
	PGresult *r;
	int rc = CANARY_OK, failed = CANARY_OK;

	snprintf(name, sizeof(name), "cs%d", which);
	if (!PQsendQueryPrepared(c->db, name, p ? p->n : 0, p ? p->v : NULL,
		    NULL, NULL, 0) || !PQsetSingleRowMode(c->db))
		return classify(c->db, NULL);
	/* Read every result to the end, even after fn stopped: the
	 * connection must be idle again before the next statement. */
	while ((r = PQgetResult(c->db)) != NULL) {
		if (PQresultStatus(r) == PGRES_SINGLE_TUPLE) {
			if (rc == CANARY_OK)
				rc = fn(r, ctx);
		} else if (!result_ok(r) && failed == CANARY_OK) {
			failed = classify(c->db, r);
			log_failure(which, r, failed);
		}
		PQclear(r);
	}
	return failed != CANARY_OK ? failed : rc;
}

int cs_pg_pipe_begin(cs_pg_conn *c)
{
	return PQenterPipelineMode(c->db) ? CANARY_OK : classify(c->db, NULL);
}

int cs_pg_send(cs_pg_conn *c, int which, const cs_pg_params *p)
{
	char name[16];

	snprintf(name, sizeof(name), "cs%d", which);
	return PQsendQueryPrepared(c->db, name, p ? p->n : 0, p ? p->v : NULL,
		NULL, NULL, 0) ? CANARY_OK : classify(c->db, NULL);
}

/* One statement's answer in the pipeline: its result, then the NULL that
 * ends it. */
static int pipe_result(cs_pg_conn *c)
{
	PGresult *r = PQgetResult(c->db);
	int rc = CANARY_OK;

	if (!r)
		return classify(c->db, NULL);
	if (PQresultStatus(r) == PGRES_PIPELINE_ABORTED)
		rc = CANARY_ESTORAGE; /* an earlier one failed: it says why */
	else if (!result_ok(r)) {
		rc = classify(c->db, r);
		log_failure(-1, r, rc);
	}
	PQclear(r);
	while ((r = PQgetResult(c->db)) != NULL)
		PQclear(r);
	return rc;
}

int cs_pg_pipe_end(cs_pg_conn *c, int sent)
{
	PGresult *r;
	int rc = PQpipelineSync(c->db) ? CANARY_OK : classify(c->db, NULL);
	int i, first = CANARY_OK;

	for (i = 0; rc == CANARY_OK && i < sent; i++) {
		int one = pipe_result(c);

		if (one == CS_PG_ELOST)
			return one;
		if (first == CANARY_OK)
			first = one; /* the ones after it were aborted */
	}
	/* The sync's own answer, then out of pipeline mode. */
	if (rc == CANARY_OK) {
		r = PQgetResult(c->db);
		if (!r || PQresultStatus(r) != PGRES_PIPELINE_SYNC)
			rc = classify(c->db, NULL);
		PQclear(r);
	}
	if (rc == CANARY_OK && !PQexitPipelineMode(c->db))
		rc = classify(c->db, NULL);
	return rc != CANARY_OK ? rc : first;
}

uint64_t cs_pg_u64(const PGresult *r, int col)
{
	const char *v = PQgetvalue(r, 0, col);

	return v && *v && *v != '-' ? strtoull(v, NULL, 10) : 0;
}

int64_t cs_pg_i64(const PGresult *r, int col)
{
	const char *v = PQgetvalue(r, 0, col);

	return v && *v ? strtoll(v, NULL, 10) : 0;
}

const char *cs_pg_str(const PGresult *r, int col)
{
	return PQgetisnull(r, 0, col) ? "" : PQgetvalue(r, 0, col);
}

/* ---- lists ----------------------------------------------------------- */

typedef struct collecting {
	int which;
	const cs_pg_params *p;
	cs_pg_item_fn row;
	size_t size;
	void (*clear)(void *item);
	void *items;
	size_t n, cap;
} collecting;

static void forget_items(collecting *k)
{
	size_t i;

	for (i = 0; k->clear && i < k->n; i++)
		k->clear((char *)k->items + i * k->size);
	k->n = 0;
}

static int collect_row(const PGresult *r, void *arg)
{
	collecting *k = arg;
	char *item;
	int rc = cs_grow(&k->items, &k->cap, k->n, k->size);

	if (rc != CANARY_OK)
		return rc;
	item = (char *)k->items + k->n * k->size;
	memset(item, 0, k->size);
	rc = k->row(r, item);
	if (rc == CANARY_OK)
		k->n++;
	return rc;
}

static int collect_in(cs_pg_conn *c, void *arg)
{
	collecting *k = arg;

	forget_items(k); /* a retry starts from nothing */
	return cs_pg_rows(c, k->which, k->p, collect_row, k);
}

int cs_pg_collect(struct cs_store_impl *s, int which, const cs_pg_params *p,
	cs_pg_item_fn row, size_t size, void (*clear)(void *item), void **out,
	size_t *n)
{
	collecting k = { which, p, row, size, clear, NULL, 0, 0 };
	int rc = cs_pg_transact(s, CS_PG_READ, collect_in, &k);

	if (rc != CANARY_OK) {
		forget_items(&k);
		free(k.items);
		k.items = NULL;
	}
	*out = k.items;
	*n = k.n;
	return rc;
}

/* ---- transactions ---------------------------------------------------- */

static void pause_ms(uint64_t ms)
{
	struct timespec ts = { (time_t)(ms / 1000),
		(long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* A write ended: remember a failure of the database's own (class 53,
 * insufficient resources: a full disk; 58, system error: I/O; XX001 and
 * XX002, corrupt data), forget it on success. */
static void note_write(struct cs_store_impl *s, int rc, const char *state)
{
	pthread_mutex_lock(&s->lock);
	if (rc == CANARY_OK)
		s->write_error[0] = '\0';
	else if (strncmp(state, "53", 2) == 0 || strncmp(state, "58", 2) == 0 ||
		 strcmp(state, "XX001") == 0 || strcmp(state, "XX002") == 0)
		snprintf(s->write_error, sizeof(s->write_error), "the last "
			"write failed (SQLSTATE %s)", state);
	pthread_mutex_unlock(&s->lock);
}

/* One attempt; *committing says whether the COMMIT was sent. */
static int attempt(struct cs_store_impl *s, cs_pg_conn *c, int flags,
	cs_pg_work_fn fn, void *ctx, bool *committing)
{
	int rc = ready(s, c);

	*committing = false;
	if (rc == CANARY_OK)
		rc = cs_pg_exec(c, flags & CS_PG_READ ? P_BEGIN_READ :
			P_BEGIN_WRITE, NULL, NULL, NULL);
	if (rc != CANARY_OK)
		return rc;
	rc = fn(c, ctx);
	if (rc == CANARY_OK) {
		*committing = true;
		return cs_pg_exec(c, P_COMMIT, NULL, NULL, NULL);
	}
	if (rc != CS_PG_ELOST && cs_pg_exec(c, P_ROLLBACK, NULL, NULL, NULL) ==
	    CS_PG_ELOST)
		rc = CS_PG_ELOST;
	return rc;
}

static bool again(int rc, bool committing, int flags)
{
	if (flags & CS_PG_NO_RETRY)
		return false;
	if (rc == CS_PG_ERETRY)
		return true;
	return rc == CS_PG_ELOST && (!committing || (flags & CS_PG_IDEMPOTENT));
}

int cs_pg_transact(struct cs_store_impl *s, int flags, cs_pg_work_fn fn,
	void *ctx)
{
	uint64_t start = (uint64_t)canary__wall_ms(), wait = RETRY_FIRST_MS;
	bool committing = false;
	int rc;

	for (;;) {
		cs_pg_conn *c = take(s);

		c->state[0] = '\0';
		rc = attempt(s, c, flags, fn, ctx, &committing);
		if (!(flags & CS_PG_READ))
			note_write(s, rc, c->state);
		if (rc == CS_PG_ELOST)
			drop(c);
		give_back(s, c);
		if (rc != CS_PG_ELOST)
			cs_pg_note_reachable(s, true);
		if (!again(rc, committing, flags) ||
		    (uint64_t)canary__wall_ms() - start + wait > RETRY_FOR_MS)
			break;
		pause_ms(wait);
		wait = wait * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : wait * 2;
	}
	if (rc == CS_PG_ELOST) {
		cs_pg_note_reachable(s, false);
		return CS_EUNAVAILABLE;
	}
	if (rc == CS_PG_ERETRY || rc == CS_PG_EUNIQUE)
		return CANARY_ESTORAGE;
	return rc;
}
