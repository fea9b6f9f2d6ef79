/*
 * store_sqlite_tokens.c - named API tokens in SQLite: the `tokens` table
 * (name, the public id that finds a token, the SHA-256 of its secret, its
 * role), each change audited in its own transaction.
 */
#include "store/store_sqlite.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void copy(char *dst, size_t cap, sqlite3_stmt *st, int col)
{
	snprintf(dst, cap, "%s", cs_sqlite_text(st, col));
}

int cs_sqlite_token_row(sqlite3_stmt *st, void *out)
{
	cs_token *t = out;

	memset(t, 0, sizeof(*t));
	copy(t->name, sizeof(t->name), st, 0);
	copy(t->id, sizeof(t->id), st, 1);
	copy(t->hash, sizeof(t->hash), st, 2);
	copy(t->role, sizeof(t->role), st, 3);
	t->created_ms = sqlite3_column_int64(st, 4);
	copy(t->created_by, sizeof(t->created_by), st, 5);
	return CANARY_OK;
}

void cs_sqlite_bind_token(sqlite3_stmt *st, const cs_token *t)
{
	sqlite3_bind_text(st, 1, t->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, t->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, t->hash, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, t->role, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, t->created_ms);
	sqlite3_bind_text(st, 6, t->created_by, -1, SQLITE_STATIC);
}

/* The record of a token change. */
static int audit_token(struct cs_store_impl *s, const cs_audit *audit,
	const cs_token *before, const cs_token *after)
{
	cs_audit_rec rec;

	memset(&rec, 0, sizeof(rec));
	rec.audit = audit;
	rec.token_before = before;
	rec.token_after = after;
	return cs_sqlite_audit_now(s, &rec);
}

int cs_sqlite_token_add(struct cs_store_impl *s, const cs_token *t,
	const cs_audit *audit)
{
	sqlite3_stmt *st = s->w.st[S_TOKEN_INSERT];
	int rc = cs_sqlite_write_begin(s);

	if (rc != CANARY_OK)
		return rc;
	cs_sqlite_bind_token(st, t);
	switch (sqlite3_step(st)) {
	case SQLITE_DONE:
		break;
	case SQLITE_CONSTRAINT:
		rc = CS_EEXISTS;
		break;
	default:
		rc = CANARY_ESTORAGE;
		break;
	}
	cs_sqlite_reset(st);
	if (rc == CANARY_OK)
		rc = audit_token(s, audit, NULL, t);
	return cs_sqlite_write_end(s, rc);
}

int cs_sqlite_token_find(struct cs_store_impl *s, const char *id,
	cs_token *out)
{
	cs_sqlite_conn *c = cs_sqlite_read_begin(s);
	int rc;

	if (!c)
		return CANARY_ESTORAGE;
	rc = cs_sqlite_lookup(c->st[S_TOKEN_FIND], id, CS_ENOTFOUND,
		cs_sqlite_token_row, out);
	/* CS_ENOTFOUND is an answer, not a failed read. */
	if (cs_sqlite_read_end(s, c, CANARY_OK) != CANARY_OK &&
	    rc == CANARY_OK)
		rc = CANARY_ESTORAGE;
	return rc;
}

int cs_sqlite_token_list(struct cs_store_impl *s, cs_token **out, size_t *n)
{
	return cs_sqlite_collect(s, S_TOKENS_ALL, NULL, NULL,
		cs_sqlite_token_row, sizeof(**out), NULL, (void **)out, n);
}

int cs_sqlite_token_revoke(struct cs_store_impl *s, const char *name,
	const cs_audit *audit, cs_token *revoked)
{
	sqlite3_stmt *st = s->w.st[S_TOKEN_DELETE];
	int rc = cs_sqlite_write_begin(s);

	if (rc != CANARY_OK)
		return rc;
	rc = cs_sqlite_lookup(s->w.st[S_TOKEN_NAMED], name, CS_ENOTFOUND,
		cs_sqlite_token_row, revoked);
	if (rc == CANARY_OK) {
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
		rc = cs_sqlite_done(st);
	}
	if (rc == CANARY_OK)
		rc = audit_token(s, audit, revoked, NULL);
	return cs_sqlite_write_end(s, rc);
}
