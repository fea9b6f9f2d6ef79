/*
 * hostile_support.h - shared by the hostile-client tests: each test starts
 * its own canary-server (tests/integration/harness.h: 127.0.0.1, ephemeral
 * port, temp database, always stopped) and attacks it from outside.
 *
 * Hostile sockets connect from another loopback address (127.0.0.2), so
 * that the test's own, well-behaved requests from 127.0.0.1 are a
 * different client as far as the server can tell.
 *
 * Nothing here measures time: a wait is a generous bound for an outcome
 * (HS_PATIENCE_MS), and fails only if the outcome never comes.
 */
#ifndef CANARY_TEST_HOSTILE_SUPPORT_H
#define CANARY_TEST_HOSTILE_SUPPORT_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "harness.h"

#define HS_PATIENCE_MS 10000
#define HS_HOSTILE_ADDR "127.0.0.2"

/* The test's server (one per test) and cmocka setup/teardown for it.
 * hs_setup starts it with no extra arguments. */
extern srv hs_server;
int hs_setup(void **state);
int hs_teardown(void **state);

/* Start hs_server with extra arguments (NULL-terminated; may be NULL);
 * fails the test when it does not start. */
void hs_start(const char *const *extra);

/*
 * One request with a bearer token (NULL: none); the body parsed as JSON
 * (NULL when it is not JSON); *status 0 when no HTTP response came.
 */
cJSON *hs_call(const srv *s, const char *method, const char *path,
	const char *auth, const char *body, long *status);
/* The status only; the admin token for /v1/admin/ paths, the SDK key for
 * the other /v1/ paths, none elsewhere. */
long hs_status(const srv *s, const char *method, const char *path,
	const char *body);

/* GET path from 127.0.0.1 within HS_PATIENCE_MS: the status, or 0 when
 * no answer came in time. */
long hs_probe(const srv *s, const char *path, const char *auth);
/* The same for n paths at once (auth[i] may be NULL): status[i], and
 * the time each took in ms[i] (ms may be NULL). */
void hs_probe_many(const srv *s, int n, const char *const *path,
	const char *const *auth, long *status, double *ms);

/* Create a flag (asserts 201). */
void hs_flag_create(const srv *s, const char *key, int rollout_bp);
/* The config version the admin API reports. */
double hs_version(const srv *s);

/* Members of JSON objects: it_str() and it_num() (harness.h). */

/* A fresh batch id (32 lowercase hex digits) in out[33]. */
void hs_batch_id(char out[33]);
/* POST /v1/events with the SDK key; returns the status. */
long hs_post_events(const srv *s, const char *body);

/* An event batch, built a window at a time (times are placeholders: the
 * server files a window under its receive time). */
typedef struct hs_batch {
	char *json;
	size_t len, cap;
	int windows;
} hs_batch;
/* Begin a batch from `instance`, with a fresh id. */
void hs_batch_begin(hs_batch *b, const char *instance);
void hs_batch_window(hs_batch *b, const char *flag, const char *arm,
	double config_version, double exposures, double errors);
/* The batch's JSON text; the caller frees it. */
char *hs_batch_end(hs_batch *b);
/* End the batch, POST it with the SDK key, free it: the status. */
long hs_batch_post(const srv *s, hs_batch *b);
/* POST a batch of one stable (exposures ns, errors es) and one canary
 * window (nc, ec) of `flag` from `instance`: the status. */
long hs_post_arms(const srv *s, const char *flag, const char *instance,
	double version, double ns, double es, double nc, double ec);

/* Of 200 units "u0".."u199", how many `c` puts in `flag`'s canary. */
struct canary_client;
int hs_canary_units(struct canary_client *c, const char *flag);

/* Hostile sockets: raw_connect_from(s, HS_HOSTILE_ADDR) (harness.h). */
/* Send all of p[0..n) (MSG_NOSIGNAL); 0, or -1. */
int hs_send(int fd, const void *p, size_t n);
/*
 * Read what arrives on fd into buf (NUL-terminated) until the peer closes,
 * `needle` appears (NULL: only a close ends it), the buffer is full, or
 * HS_PATIENCE_MS pass. Returns the bytes held.
 */
size_t hs_read(int fd, char *buf, size_t cap, const char *needle);
/* Connect from 127.0.0.1, send `req` as is, and read the answer until the
 * server closes (or `needle` appears). Returns the bytes held. */
size_t hs_raw(const srv *s, const char *req, size_t len, char *buf,
	size_t cap, const char *needle);
/* The status code of the first response in buf, or 0. */
int hs_raw_status(const char *buf);

/* Poll `cond` until it holds; false if it did not within HS_PATIENCE_MS. */
bool hs_wait(bool (*cond)(void *ctx), void *ctx);

/* Lines of the server's log that contain `needle`. */
int hs_log_count(const srv *s, const char *needle);

/* Run an SQL script on a database file (the server must be stopped);
 * fails the test on an SQL error. */
void hs_sql(const char *db_path, const char *script);
/* The integer a query returns (first column of the first row), read-only. */
long long hs_sql_int(const char *db_path, const char *query);
/* Remove a database file and its -wal and -shm files. */
void hs_remove_db(const char *db_path);

#endif
