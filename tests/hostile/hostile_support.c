/*
 * hostile_support.c - see hostile_support.h.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <errno.h>
#include <poll.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "canary/canary.h"
#include "hostile_support.h"

srv hs_server;

int hs_setup(void **state)
{
	(void)state;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	memset(&hs_server, 0, sizeof(hs_server));
	return 0;
}

int hs_teardown(void **state)
{
	(void)state;
	srv_cleanup(&hs_server);
	curl_global_cleanup();
	return 0;
}

void hs_start(const char *const *extra)
{
	if (srv_start(&hs_server, extra) != 0)
		fail_msg("canary-server did not start (log in %s)", hs_server.dir);
}

cJSON *hs_call(const srv *s, const char *method, const char *path,
	const char *auth, const char *body, long *status)
{
	cJSON *doc;
	resp r;

	*status = 0;
	if (http(s, method, path, auth, body, NULL, &r) != 0 && r.status == 0) {
		resp_free(&r);
		return NULL;
	}
	*status = r.status;
	doc = cJSON_Parse(r.body);
	resp_free(&r);
	return doc;
}

long hs_status(const srv *s, const char *method, const char *path,
	const char *body)
{
	const char *auth = strncmp(path, "/v1/admin/", 10) == 0 ? ADMIN_TOKEN :
		strncmp(path, "/v1/", 4) == 0 ? SDK_KEY : NULL;
	long st;

	cJSON_Delete(hs_call(s, method, path, auth, body, &st));
	return st;
}

static size_t discard(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return size * n;
}

static CURL *probe_handle(const srv *s, const char *path, const char *auth,
	struct curl_slist **hl)
{
	CURL *h = curl_easy_init();
	char url[512], line[512];

	if (!h)
		return NULL;
	snprintf(url, sizeof(url), "%s%s", s->base, path);
	if (auth) {
		snprintf(line, sizeof(line), "Authorization: Bearer %s", auth);
		*hl = curl_slist_append(NULL, line);
	}
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, *hl);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)HS_PATIENCE_MS);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	return h;
}

void hs_probe_many(const srv *s, int n, const char *const *path,
	const char *const *auth, long *status, double *ms)
{
	CURLM *m = curl_multi_init();
	CURL *h[8];
	struct curl_slist *hl[8];
	CURLMsg *msg;
	int i, running = 1, left;

	assert_true(m && n <= 8);
	for (i = 0; i < n; i++) {
		hl[i] = NULL;
		status[i] = 0;
		h[i] = probe_handle(s, path[i], auth[i], &hl[i]);
		assert_non_null(h[i]);
		curl_multi_add_handle(m, h[i]);
	}
	while (running) {
		curl_multi_perform(m, &running);
		if (running)
			curl_multi_poll(m, NULL, 0, 100, NULL);
	}
	while ((msg = curl_multi_info_read(m, &left)))
		for (i = 0; i < n; i++)
			if (msg->msg == CURLMSG_DONE && msg->easy_handle == h[i] &&
			    msg->data.result == CURLE_OK)
				curl_easy_getinfo(h[i], CURLINFO_RESPONSE_CODE,
					&status[i]);
	for (i = 0; i < n; i++) {
		double t = 0;

		curl_easy_getinfo(h[i], CURLINFO_TOTAL_TIME, &t);
		if (ms)
			ms[i] = t * 1000;
		curl_multi_remove_handle(m, h[i]);
		curl_easy_cleanup(h[i]);
		curl_slist_free_all(hl[i]);
	}
	curl_multi_cleanup(m);
}

long hs_probe(const srv *s, const char *path, const char *auth)
{
	long status;

	hs_probe_many(s, 1, &path, &auth, &status, NULL);
	return status;
}

void hs_flag_create(const srv *s, const char *key, int rollout_bp)
{
	char body[512];

	snprintf(body, sizeof(body), "{\"key\":\"%s\",\"rollout_bp\":%d}", key,
		rollout_bp);
	assert_int_equal(hs_status(s, "POST", "/v1/admin/flags", body), 201);
}

double hs_version(const srv *s)
{
	long st;
	cJSON *doc = hs_call(s, "GET", "/v1/admin/flags", ADMIN_TOKEN, NULL,
		&st);
	const cJSON *v = cJSON_GetObjectItem(doc, "version");
	double n;

	assert_int_equal(st, 200);
	assert_true(cJSON_IsNumber(v));
	n = v->valuedouble;
	cJSON_Delete(doc);
	return n;
}

void hs_batch_id(char out[33])
{
	static unsigned long long seq;

	snprintf(out, 33, "%016llx%016llx", (unsigned long long)getpid(),
		++seq);
}

long hs_post_events(const srv *s, const char *body)
{
	long st;

	cJSON_Delete(hs_call(s, "POST", "/v1/events", SDK_KEY, body, &st));
	return st;
}

/* Append printf-style to the batch's text, growing it. */
static void batch_put(hs_batch *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void batch_put(hs_batch *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->json + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		assert_true(n >= 0);
		if ((size_t)n < b->cap - b->len)
			break;
		b->cap = (b->cap + (size_t)n + 1) * 2;
		b->json = realloc(b->json, b->cap);
		assert_non_null(b->json);
	}
	b->len += (size_t)n;
}

void hs_batch_begin(hs_batch *b, const char *instance)
{
	char id[33];

	memset(b, 0, sizeof(*b));
	hs_batch_id(id);
	batch_put(b, "{\"batch_id\":\"%s\",\"instance_id\":\"%s\","
		"\"sdk_version\":\"0.1.0\",\"sent_at_ms\":1,\"windows\":[", id,
		instance);
}

void hs_batch_window(hs_batch *b, const char *flag, const char *arm,
	double config_version, double exposures, double errors)
{
	batch_put(b, "%s{\"flag\":\"%s\",\"arm\":\"%s\",\"config_version\":"
		"%.0f,\"start_ms\":1,\"end_ms\":2,\"exposures\":%.0f,"
		"\"errors\":%.0f}", b->windows++ ? "," : "", flag, arm,
		config_version, exposures, errors);
}

char *hs_batch_end(hs_batch *b)
{
	char *json;

	batch_put(b, "]}");
	json = b->json;
	memset(b, 0, sizeof(*b));
	return json;
}

long hs_batch_post(const srv *s, hs_batch *b)
{
	char *json = hs_batch_end(b);
	long st = hs_post_events(s, json);

	free(json);
	return st;
}

long hs_post_arms(const srv *s, const char *flag, const char *instance,
	double version, double ns, double es, double nc, double ec)
{
	hs_batch b;

	hs_batch_begin(&b, instance);
	hs_batch_window(&b, flag, "stable", version, ns, es);
	hs_batch_window(&b, flag, "canary", version, nc, ec);
	return hs_batch_post(s, &b);
}

int hs_canary_units(canary_client *c, const char *flag)
{
	char unit[16];
	int i, n = 0;

	for (i = 0; i < 200; i++) {
		snprintf(unit, sizeof(unit), "u%d", i);
		n += canary_enabled(c, flag, unit);
	}
	return n;
}

int hs_send(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n) {
		ssize_t k = send(fd, c, n, MSG_NOSIGNAL);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		c += k;
		n -= (size_t)k;
	}
	return 0;
}

size_t hs_read(int fd, char *buf, size_t cap, const char *needle)
{
	struct pollfd p = { fd, POLLIN, 0 };
	size_t len = 0;
	int waited = 0;

	buf[0] = '\0';
	while (len < cap - 1 && waited < HS_PATIENCE_MS &&
	       !(needle && strstr(buf, needle))) {
		ssize_t n;

		if (poll(&p, 1, 100) == 0) {
			waited += 100;
			continue;
		}
		n = recv(fd, buf + len, cap - 1 - len, 0);
		if (n <= 0)
			break;
		len += (size_t)n;
		buf[len] = '\0';
	}
	return len;
}

size_t hs_raw(const srv *s, const char *req, size_t len, char *buf,
	size_t cap, const char *needle)
{
	int fd = raw_connect_from(s, NULL);
	size_t n = 0;

	buf[0] = '\0';
	if (fd < 0)
		return 0;
	if (hs_send(fd, req, len) == 0)
		n = hs_read(fd, buf, cap, needle);
	close(fd);
	return n;
}

int hs_raw_status(const char *buf)
{
	int status = 0;

	if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1)
		return 0;
	return status;
}

bool hs_wait(bool (*cond)(void *ctx), void *ctx)
{
	struct timespec pause = { 0, 20 * 1000 * 1000 };
	int waited;

	for (waited = 0; waited < HS_PATIENCE_MS; waited += 20) {
		if (cond(ctx))
			return true;
		nanosleep(&pause, NULL);
	}
	return cond(ctx);
}

int hs_log_count(const srv *s, const char *needle)
{
	static char log[1 << 20];
	const char *p = log;
	int n = 0;

	srv_read_log(s, log, sizeof(log));
	while ((p = strstr(p, needle))) {
		n++;
		p = strchr(p, '\n');
		if (!p)
			break;
	}
	return n;
}

void hs_sql(const char *db_path, const char *script)
{
	sqlite3 *db = NULL;
	char *err = NULL;

	if (sqlite3_open(db_path, &db) != SQLITE_OK)
		fail_msg("cannot open %s", db_path);
	if (sqlite3_exec(db, script, NULL, NULL, &err) != SQLITE_OK) {
		print_error("SQL failed: %s\n", err ? err : "?");
		sqlite3_free(err);
		sqlite3_close(db);
		fail();
	}
	sqlite3_close(db);
}

long long hs_sql_int(const char *db_path, const char *query)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	long long n;

	if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL) !=
	    SQLITE_OK || sqlite3_prepare_v2(db, query, -1, &st, NULL) !=
	    SQLITE_OK || sqlite3_step(st) != SQLITE_ROW) {
		print_error("%s: %s\n", query, sqlite3_errmsg(db));
		sqlite3_finalize(st);
		sqlite3_close(db);
		fail();
	}
	n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}

void hs_remove_db(const char *db_path)
{
	char path[400];

	unlink(db_path);
	snprintf(path, sizeof(path), "%s-wal", db_path);
	unlink(path);
	snprintf(path, sizeof(path), "%s-shm", db_path);
	unlink(path);
}
