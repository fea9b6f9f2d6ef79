/*
 * pg_testdb.c - the tests' PostgreSQL databases (pg_testdb.h).
 */
#define _POSIX_C_SOURCE 200809L
#include "pg_testdb.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef CS_WITH_POSTGRES
#include <libpq-fe.h>

bool pgt_wanted(void)
{
	const char *b = getenv("CANARY_TEST_BACKEND");

	return b && strcmp(b, "postgres") == 0;
}

static const char *suite_dir(void)
{
	const char *d = getenv("CANARY_TEST_PG_DIR");

	return d && *d ? d : NULL;
}

struct pgt_conn {
	PGconn *db;
};

static void quiet(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

pgt_conn *pgt_open(const char *url)
{
	pgt_conn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->db = PQconnectdb(url);
	if (PQstatus(c->db) != CONNECTION_OK) {
		fprintf(stderr, "pgt: cannot connect: %s", PQerrorMessage(c->db));
		PQfinish(c->db);
		free(c);
		return NULL;
	}
	PQsetNoticeProcessor(c->db, quiet, NULL);
	return c;
}

int pgt_run(pgt_conn *c, const char *sql)
{
	PGresult *r = PQexec(c->db, sql);
	ExecStatusType st = PQresultStatus(r);
	int rc = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? 0 : -1;

	if (rc != 0)
		fprintf(stderr, "pgt: %s: %s", sql, PQerrorMessage(c->db));
	PQclear(r);
	return rc;
}

void pgt_close(pgt_conn *c)
{
	if (!c)
		return;
	PQfinish(c->db);
	free(c);
}

int pgt_exec(const char *url, const char *sql)
{
	pgt_conn *c = pgt_open(url);
	int rc = c ? pgt_run(c, sql) : -1;

	pgt_close(c);
	return rc;
}

static void admin_url(const char *dir, char *out, size_t cap)
{
	snprintf(out, cap, "postgresql:///postgres?host=%s&user=postgres", dir);
}

int pgt_create(const char *dir, char *url, size_t cap)
{
	static unsigned int serial;
	char admin[512], name[64], sql[128];

	if (!dir)
		dir = suite_dir();
	if (!dir) {
		fprintf(stderr, "pgt: CANARY_TEST_PG_DIR is not set\n");
		return -1;
	}
	snprintf(name, sizeof(name), "canary_t_%ld_%u", (long)getpid(),
		serial++);
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s", name);
	admin_url(dir, admin, sizeof(admin));
	if (pgt_exec(admin, sql) != 0)
		return -1;
	snprintf(url, cap, "postgresql:///%s?host=%s&user=postgres", name,
		dir);
	return 0;
}

void pgt_drop(const char *url)
{
	char admin[512], sql[160], name[64] = "", dir[400] = "";
	const char *p = url + strlen("postgresql:///");
	const char *host = strstr(url, "host=");

	snprintf(name, sizeof(name), "%.*s", (int)strcspn(p, "?"), p);
	if (host)
		snprintf(dir, sizeof(dir), "%.*s", (int)strcspn(host + 5, "&"),
			host + 5);
	if (!*name || !*dir)
		return;
	admin_url(dir, admin, sizeof(admin));
	snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)",
		name);
	pgt_exec(admin, sql);
}

int pgt_cluster(const char *cmd, const char *dir)
{
	const char *arg = strchr(cmd, ' ');
	char line[600];

	/* The server goes when this test process does, whatever happens. */
	snprintf(line, sizeof(line), "PG_CLUSTER_WATCH_PID=%ld '%s' %.*s '%s'%s",
		(long)getpid(), CANARY_PG_CLUSTER,
		(int)(arg ? (size_t)(arg - cmd) : strlen(cmd)), cmd, dir,
		arg ? arg : "");
	return system(line) == 0 ? 0 : -1;
}

#else /* no libpq: SQLite only */

bool pgt_wanted(void)
{
	return false;
}

int pgt_create(const char *dir, char *url, size_t cap)
{
	(void)dir;
	(void)url;
	(void)cap;
	return -1;
}

void pgt_drop(const char *url)
{
	(void)url;
}

pgt_conn *pgt_open(const char *url)
{
	(void)url;
	return NULL;
}

int pgt_run(pgt_conn *c, const char *sql)
{
	(void)c;
	(void)sql;
	return -1;
}

void pgt_close(pgt_conn *c)
{
	(void)c;
}

int pgt_exec(const char *url, const char *sql)
{
	(void)url;
	(void)sql;
	return -1;
}

int pgt_cluster(const char *cmd, const char *dir)
{
	(void)cmd;
	(void)dir;
	return -1;
}

#endif
