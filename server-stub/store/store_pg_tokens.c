/*
 * store_pg_tokens.c - named API tokens in PostgreSQL: the `tokens` table
 * (name, the public id that finds a token, the SHA-256 of its secret, its
 * role), each change audited in its own transaction.
 */
#include "store/store_pg.h"

#include <stdlib.h>
#include <string.h>

int cs_pg_token_row(const PGresult *r, void *out)
{
	cs_token *t = out;

	memset(t, 0, sizeof(*t));
	cs_pg_copy(t->name, sizeof(t->name), r, 0);
	cs_pg_copy(t->id, sizeof(t->id), r, 1);
	cs_pg_copy(t->hash, sizeof(t->hash), r, 2);
	cs_pg_copy(t->role, sizeof(t->role), r, 3);
	t->created_ms = cs_pg_i64(r, 4);
	cs_pg_copy(t->created_by, sizeof(t->created_by), r, 5);
	return CANARY_OK;
}

void cs_pg_token_params(cs_pg_params *p, const cs_token *t)
{
	cs_pg_params_init(p);
	cs_pg_text(p, t->name);
	cs_pg_text(p, t->id);
	cs_pg_text(p, t->hash);
	cs_pg_text(p, t->role);
	cs_pg_int(p, t->created_ms);
	cs_pg_text(p, t->created_by);
}

typedef struct token_change {
	const cs_token *add;      /* add this */
	const char *name;         /* or revoke this */
	cs_token *revoked;
	const cs_audit *audit;
} token_change;

/* The record of a token change. */
static int record(cs_pg_conn *c, const token_change *tc)
{
	cs_audit_rec rec;

	memset(&rec, 0, sizeof(rec));
	rec.audit = tc->audit;
	rec.token_before = tc->add ? NULL : tc->revoked;
	rec.token_after = tc->add;
	return cs_pg_audit_now(c, &rec);
}

static int add_in(cs_pg_conn *c, void *arg)
{
	token_change *tc = arg;
	cs_pg_params p;
	int rc;

	cs_pg_token_params(&p, tc->add);
	rc = cs_pg_exec(c, P_TOKEN_INSERT, &p, NULL, NULL);
	if (rc == CS_PG_EUNIQUE)
		rc = CS_EEXISTS;
	return rc == CANARY_OK ? record(c, tc) : rc;
}

int cs_pg_token_add(struct cs_store_impl *s, const cs_token *t,
	const cs_audit *audit)
{
	token_change tc = { t, NULL, NULL, audit };

	return cs_pg_transact(s, CS_PG_WRITE, add_in, &tc);
}

/* The token of P_TOKEN_FIND (by id) or P_TOKEN_NAMED (by name). */
static int token_by(cs_pg_conn *c, int which, const char *key, cs_token *out)
{
	cs_pg_params p;
	PGresult *r = NULL;
	int rc;

	cs_pg_params_init(&p);
	cs_pg_text(&p, key);
	rc = cs_pg_exec(c, which, &p, &r, NULL);
	if (rc == CANARY_OK && PQntuples(r) != 1)
		rc = CS_ENOTFOUND;
	if (rc == CANARY_OK)
		cs_pg_token_row(r, out);
	PQclear(r);
	return rc;
}

typedef struct finding {
	const char *id;
	cs_token *out;
} finding;

static int find_in(cs_pg_conn *c, void *arg)
{
	finding *f = arg;

	return token_by(c, P_TOKEN_FIND, f->id, f->out);
}

int cs_pg_token_find(struct cs_store_impl *s, const char *id, cs_token *out)
{
	finding f = { id, out };

	return cs_pg_transact(s, CS_PG_READ, find_in, &f);
}

int cs_pg_token_list(struct cs_store_impl *s, cs_token **out, size_t *n)
{
	return cs_pg_collect(s, P_TOKENS_ALL, NULL, cs_pg_token_row,
		sizeof(**out), NULL, (void **)out, n);
}

static int revoke_in(cs_pg_conn *c, void *arg)
{
	token_change *tc = arg;
	cs_pg_params p;
	int rc = token_by(c, P_TOKEN_NAMED, tc->name, tc->revoked);

	cs_pg_params_init(&p);
	cs_pg_text(&p, tc->name);
	if (rc == CANARY_OK)
		rc = cs_pg_exec(c, P_TOKEN_DELETE, &p, NULL, NULL);
	return rc == CANARY_OK ? record(c, tc) : rc;
}

int cs_pg_token_revoke(struct cs_store_impl *s, const char *name,
	const cs_audit *audit, cs_token *revoked)
{
	token_change tc = { NULL, name, revoked, audit };

	return cs_pg_transact(s, CS_PG_WRITE, revoke_in, &tc);
}
