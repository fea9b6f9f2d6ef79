/*
 * pg_testdb.h - the tests' PostgreSQL: whether a test runs against it, a
 * fresh database per test in the server the suite started
 * (tests/support/pg_cluster.sh, run by a ctest fixture), SQL of the
 * tests' own, and servers of their own for tests that restart one.
 *
 * A test registered for PostgreSQL runs with CANARY_TEST_BACKEND=postgres
 * and CANARY_TEST_PG_DIR (the server's directory, where its socket is).
 * Built without libpq, pgt_wanted() is false and the rest fails.
 */
#ifndef CANARY_PG_TESTDB_H
#define CANARY_PG_TESTDB_H

#include <stdbool.h>
#include <stddef.h>

/* Does this test run against PostgreSQL? */
bool pgt_wanted(void);

/* Create a fresh, empty database in the suite's server (or the one in
 * `dir`, when not NULL); its URL into `url`. 0, or -1 with a message. */
int pgt_create(const char *dir, char *url, size_t cap);

/* Drop the database `url` names (made by pgt_create), connections and
 * all. */
void pgt_drop(const char *url);

/* A connection of the test's own, to run SQL with (e.g. to hold a lock
 * while the code under test reads). */
typedef struct pgt_conn pgt_conn;
pgt_conn *pgt_open(const char *url);
int pgt_run(pgt_conn *c, const char *sql); /* 0 when it succeeded */
void pgt_close(pgt_conn *c);

/* Run SQL once on `url`'s database; 0 when it succeeded. */
int pgt_exec(const char *url, const char *sql);

/* pg_cluster.sh `cmd` (start, stop, or "restart 3": down for 3 s) on a
 * server of the test's own in `dir`; 0 when it succeeded. */
int pgt_cluster(const char *cmd, const char *dir);

#endif
