/*
 * ev_proxy.c - see ev_proxy.h.
 */
#include "ev_proxy.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

static pthread_mutex_t px_lock = PTHREAD_MUTEX_INITIALIZER;
static char px_base[64];
static px_mode px_current;
static int px_left;
static int px_forwarded;
static uint64_t px_dropped;

void px_target(const srv *s)
{
	pthread_mutex_lock(&px_lock);
	snprintf(px_base, sizeof(px_base), "%s", s->base);
	pthread_mutex_unlock(&px_lock);
}

void px_set(px_mode mode, int count)
{
	pthread_mutex_lock(&px_lock);
	px_current = mode;
	px_left = count;
	pthread_mutex_unlock(&px_lock);
}

int px_posts_forwarded(void)
{
	int n;

	pthread_mutex_lock(&px_lock);
	n = px_forwarded;
	pthread_mutex_unlock(&px_lock);
	return n;
}

uint64_t px_dropped_batches_seen(void)
{
	uint64_t n;

	pthread_mutex_lock(&px_lock);
	n = px_dropped;
	pthread_mutex_unlock(&px_lock);
	return n;
}

void px_reset_counters(void)
{
	pthread_mutex_lock(&px_lock);
	px_forwarded = 0;
	px_dropped = 0;
	pthread_mutex_unlock(&px_lock);
}

/* The mode for this POST (counting it down). */
static px_mode take_mode(void)
{
	px_mode m;

	pthread_mutex_lock(&px_lock);
	m = px_current;
	if (m != PX_FORWARD && px_left > 0 && --px_left == 0)
		px_current = PX_FORWARD;
	pthread_mutex_unlock(&px_lock);
	return m;
}

typedef struct call {
	const canary_http_request *req;
	canary_http_response *resp;
	CURL *easy;
	int stop;
} call;

static size_t on_body(char *p, size_t size, size_t n, void *ctx)
{
	call *cl = ctx;
	long status = 0;

	curl_easy_getinfo(cl->easy, CURLINFO_RESPONSE_CODE, &status);
	cl->resp->status = (int)status;
	if (cl->stop || cl->req->body_fn(p, size * n, cl->req->body_ctx) != 0) {
		cl->stop = 1;
		return 0;
	}
	return size * n;
}

static size_t on_header(char *p, size_t size, size_t n, void *ctx)
{
	call *cl = ctx;
	size_t len = size * n, k;

	if (len > 5 && strncasecmp(p, "ETag:", 5) == 0) {
		p += 5, len -= 5;
		while (len && (*p == ' ' || *p == '\t'))
			p++, len--;
		while (len && (p[len - 1] == '\r' || p[len - 1] == '\n'))
			len--;
		k = len < CANARY_HTTP_HEADER_MAX - 1 ? len : CANARY_HTTP_HEADER_MAX - 1;
		memcpy(cl->resp->etag, p, k);
		cl->resp->etag[k] = '\0';
	}
	return size * n;
}

static int forward(const canary_http_request *req, canary_http_response *out)
{
	const char *path = strchr(req->url + strlen("http://"), '/');
	struct curl_slist *headers = NULL;
	char url[512];
	call cl = { req, out, NULL, 0 };
	CURLcode code;
	size_t i;

	pthread_mutex_lock(&px_lock);
	snprintf(url, sizeof(url), "%s%s", px_base, path ? path : "/");
	pthread_mutex_unlock(&px_lock);
	cl.easy = curl_easy_init();
	if (!cl.easy)
		return CANARY_ENETWORK;
	for (i = 0; i < req->header_count; i++)
		headers = curl_slist_append(headers, req->headers[i]);
	curl_easy_setopt(cl.easy, CURLOPT_URL, url);
	curl_easy_setopt(cl.easy, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(cl.easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(cl.easy, CURLOPT_CONNECTTIMEOUT_MS,
		(long)req->connect_timeout_ms);
	curl_easy_setopt(cl.easy, CURLOPT_TIMEOUT_MS, (long)req->timeout_ms);
	if (strcmp(req->method, "POST") == 0) {
		curl_easy_setopt(cl.easy, CURLOPT_POSTFIELDSIZE_LARGE,
			(curl_off_t)req->body_len);
		curl_easy_setopt(cl.easy, CURLOPT_POSTFIELDS, req->body);
	}
	curl_easy_setopt(cl.easy, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(cl.easy, CURLOPT_WRITEDATA, &cl);
	curl_easy_setopt(cl.easy, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(cl.easy, CURLOPT_HEADERDATA, &cl);
	code = curl_easy_perform(cl.easy);
	if (code == CURLE_OK || cl.stop) {
		long status = 0;

		curl_easy_getinfo(cl.easy, CURLINFO_RESPONSE_CODE, &status);
		out->status = (int)status;
	}
	curl_easy_cleanup(cl.easy);
	curl_slist_free_all(headers);
	return code == CURLE_OK || cl.stop ? CANARY_OK : CANARY_ENETWORK;
}

static void note_post(const canary_http_request *req)
{
	cJSON *root = cJSON_ParseWithLength(req->body, req->body_len);
	const cJSON *d = cJSON_GetObjectItemCaseSensitive(root, "dropped");
	const cJSON *b = cJSON_GetObjectItemCaseSensitive(d, "batches");

	pthread_mutex_lock(&px_lock);
	px_forwarded++;
	if (cJSON_IsNumber(b))
		px_dropped += (uint64_t)b->valuedouble;
	pthread_mutex_unlock(&px_lock);
	cJSON_Delete(root);
}

int px_hook(const canary_http_request *req, canary_http_response *out,
	void *ctx)
{
	px_mode m;
	int rc;

	(void)ctx;
	if (req->stream)
		return CANARY_ENOTSUP;
	if (strcmp(req->method, "POST") != 0)
		return forward(req, out);
	m = take_mode();
	if (m == PX_DOWN)
		return CANARY_ENETWORK;
	if (m == PX_500 || m == PX_404) {
		out->status = m == PX_500 ? 500 : 404;
		return CANARY_OK;
	}
	if (m == PX_DUP && forward(req, out) != CANARY_OK)
		return CANARY_ENETWORK;
	rc = forward(req, out);
	if (rc == CANARY_OK && out->status / 100 == 2)
		note_post(req);
	return rc;
}

void px_options(canary_options *o, const char *cache_path)
{
	canary_options_init(o, CANARY_OPTIONS_VERSION);
	o->server_url = "http://proxy.invalid"; /* the hook decides */
	o->sdk_key = SDK_KEY;
	o->cache_path = cache_path;
	o->transport.request = px_hook;
	o->poll_interval_ms = 200;
	o->flush_interval_ms = 3600000; /* explicit flushes only */
	o->backoff_cap_ms = 200;
	o->request_timeout_ms = 5000;
}

void px_put_flag(const srv *s, const char *flag, int rollout_bp)
{
	char body[64], path[256];
	long st;

	snprintf(body, sizeof(body), "{\"rollout_bp\":%d}", rollout_bp);
	snprintf(path, sizeof(path), "/v1/admin/flags/%s", flag);
	st = http_status(s, "PUT", path, ADMIN_TOKEN, body);
	if (st / 100 != 2) {
		fprintf(stderr, "PUT %s: HTTP %ld\n", path, st);
		abort();
	}
}

static double qnum(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

int px_stats(const srv *s, const char *flag, px_arm out[2])
{
	static const char *const names[2] = { "stable", "canary" };
	char path[256];
	cJSON *root;
	resp r;
	int i;

	memset(out, 0, 2 * sizeof(*out));
	snprintf(path, sizeof(path), "/v1/admin/flags/%s/stats", flag);
	if (http(s, "GET", path, ADMIN_TOKEN, NULL, NULL, &r) != 0)
		return -1;
	root = r.status == 200 ? cJSON_Parse(r.body) : NULL;
	resp_free(&r);
	if (!root)
		return -1;
	for (i = 0; i < 2; i++) {
		const cJSON *arm = cJSON_GetObjectItemCaseSensitive(
			cJSON_GetObjectItemCaseSensitive(root, "arms"), names[i]);
		const cJSON *lat = cJSON_GetObjectItemCaseSensitive(arm, "latency_ms");

		out[i].exposures = (uint64_t)qnum(arm, "exposures");
		out[i].errors = (uint64_t)qnum(arm, "errors");
		out[i].lat_count = (uint64_t)qnum(lat, "count");
		out[i].p50 = qnum(lat, "p50");
		out[i].p95 = qnum(lat, "p95");
		out[i].p99 = qnum(lat, "p99");
	}
	cJSON_Delete(root);
	return 0;
}
