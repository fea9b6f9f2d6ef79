/*
 * harness.h - start the real canary-server on 127.0.0.1 with an ephemeral
 * port and a temporary database, talk to it, and always stop it.
 *
 * Every server started here is killed by srv_stop(), by the cmocka
 * teardown that calls it even when an assertion fails, by an atexit hook
 * as a last resort, and by PR_SET_PDEATHSIG if the test process dies.
 */
#ifndef CANARY_TEST_HARNESS_H
#define CANARY_TEST_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define SDK_KEY "sdk-key-for-tests-0001"
#define ADMIN_TOKEN "admin-token-for-tests-0123456789"

typedef struct srv {
	pid_t pid;
	int port;
	char dir[256];     /* temp dir: canary.db, port, server.log */
	char db[300];      /* --db: the SQLite file, or the PostgreSQL URL */
	bool owns_db;      /* a database of its own, dropped by srv_cleanup */
	char base[64];     /* "http://127.0.0.1:PORT" */
} srv;

/* The suite's shared server and cmocka group setup/teardown that start
 * and always stop it (teardown runs even after a failed assertion). */
extern srv it_server;
int it_setup(void **state);
int it_teardown(void **state);

/* Read the server's log (stdout + stderr) into buf; returns its length. */
size_t srv_read_log(const srv *s, char *buf, size_t cap);

/* Create a temp dir and start a server on it, with a database of its own:
 * a SQLite file in the dir, or (when the test runs as its _pg variant) a
 * fresh PostgreSQL database. `extra` is a NULL-terminated list of extra
 * arguments (may be NULL). Returns 0, or -1 (see log). */
int srv_start(srv *s, const char *const *extra);

/* The same on database `db` (another server's `db`: several servers on
 * one database), which srv_cleanup leaves alone. */
int srv_start_on(srv *s, const char *db, const char *const *extra);

/* Start again on the same directory/database. */
int srv_restart(srv *s, const char *const *extra);

/* SIGTERM and wait (SIGKILL after 10 s). Returns the exit status or -1. */
int srv_stop(srv *s);

/* SIGKILL at once and reap. */
void srv_kill9(srv *s);

/* Stop if running and remove the temp dir. */
void srv_cleanup(srv *s);

typedef struct resp {
	long status;
	char *body;       /* NUL-terminated, may be "" */
	size_t len;
	char etag[128];
	char content_type[128];
} resp;

/*
 * One HTTP request to the server. `auth` is the bearer token (NULL: no
 * header). `headers` NULL-terminated extra header lines (may be NULL).
 * Returns 0 when an HTTP response arrived.
 */
int http(const srv *s, const char *method, const char *path, const char *auth,
	const char *body, const char *const *headers, resp *out);
void resp_free(resp *r);

/* The body parsed as JSON (NULL if it is not), the status in *status;
 * the admin token for /v1/admin paths, the SDK key for the others. */
struct cJSON *http_json(const srv *s, const char *method, const char *path,
	const char *body, long *status);

/* A string member of a JSON object ("" when absent or not a string), a
 * number member (-1 when absent or not a number). */
const char *it_str(const struct cJSON *o, const char *name);
double it_num(const struct cJSON *o, const char *name);

/* Convenience: the status only (body discarded). */
long http_status(const srv *s, const char *method, const char *path,
	const char *auth, const char *body);

/* An event batch with one window. */
char *batch_json(const char *batch_id, const char *flag, const char *arm,
	unsigned long long exposures, unsigned long long errors);

/* Run a program, capture stdout (up to cap bytes) into out; returns the
 * exit status, or -1. `env` entries NAME=VALUE are added (may be NULL). */
int run_capture(const char *const *argv, const char *const *env, char *out,
	size_t cap);

/* A connected raw socket to the server (for streams), or -1. */
int raw_connect(const srv *s);
/* The same from source address `from` (e.g. "127.0.0.2", another client
 * as far as the server can tell; NULL: any). */
int raw_connect_from(const srv *s, const char *from);

/* A raw socket on which GET /v1/stream was sent (with the SDK key), or
 * -1. */
int srv_stream_open(const srv *s);

/* Read from fd into buf until `needle` appears or 10 s pass. Returns
 * bytes held (buf NUL-terminated), and whether the needle was seen. */
bool read_until(int fd, char *buf, size_t cap, size_t *len,
	const char *needle);

#endif
