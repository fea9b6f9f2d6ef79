/*
 * transfer.c - libcurl multi transfers and the transport hook (see
 * transfer.h).
 */
#define _POSIX_C_SOURCE 200809L
#include "transfer.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "backoff.h"
#include "buf.h"
#include "canary/version.h"
#include "clock.h"
#include "error.h"

#define MAX_HEADERS (CANARY__XFER_MAX_HEADERS + 2)
#define USER_AGENT "libcanary/" CANARY_VERSION_STRING

struct canary__transport {
	const canary__alloc *alloc;
	canary__transport_opts o;
	canary_transport hook;
	CURLM *multi;                /* NULL with a hook */
	/* Hook mode has no sockets to wait on: a condition variable. */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool woken;
};

struct canary__xfer {
	canary__transport *t;
	CURL *easy;                  /* NULL with a hook, or once done */
	struct curl_slist *headers;
	bool stream;
	bool done;
	bool too_big;
	bool sink_stopped;
	long hook_status;
	canary__data_fn on_data;
	void *ctx;
	canary__buf body;            /* res.body while it arrives */
	char errbuf[CURL_ERROR_SIZE];
	canary__xfer_result res;
};

/* ---- curl_global_init, counted ---------------------------------------- */

static pthread_mutex_t global_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned global_users;

static int global_acquire(void)
{
	int rc = CANARY_OK;

	pthread_mutex_lock(&global_lock);
	if (global_users == 0 && curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
		rc = CANARY_ENOMEM;
	else
		global_users++;
	pthread_mutex_unlock(&global_lock);
	return rc;
}

static void global_release(void)
{
	pthread_mutex_lock(&global_lock);
	if (global_users && --global_users == 0)
		curl_global_cleanup();
	pthread_mutex_unlock(&global_lock);
}

/* ---- transport --------------------------------------------------------- */

int canary__transport_new(canary__transport **out, const canary__alloc *a,
	const canary__transport_opts *opts)
{
	canary__transport *t;

	*out = NULL;
	t = canary__new(a, canary__transport);
	if (!t)
		return CANARY_ENOMEM;
	t->alloc = a;
	t->o = *opts;
	if (opts->hook && opts->hook->request)
		t->hook = *opts->hook;
	pthread_mutex_init(&t->lock, NULL);
	canary__cond_init(&t->cond);
	if (!t->hook.request) {
		if (global_acquire() != CANARY_OK)
			goto oom;
		t->multi = curl_multi_init();
		if (!t->multi) {
			global_release();
			goto oom;
		}
		curl_multi_setopt(t->multi, CURLMOPT_MAXCONNECTS, 4L);
	}
	*out = t;
	return CANARY_OK;
oom:
	pthread_mutex_destroy(&t->lock);
	pthread_cond_destroy(&t->cond);
	canary__delete(a, t, canary__transport);
	return canary__error_set(CANARY_ENOMEM, "out of memory");
}

static void free_shell(canary__transport *t)
{
	pthread_mutex_destroy(&t->lock);
	pthread_cond_destroy(&t->cond);
	canary__delete(t->alloc, t, canary__transport);
}

void canary__transport_free(canary__transport *t)
{
	if (!t)
		return;
	if (t->multi) {
		curl_multi_cleanup(t->multi);
		global_release();
	}
	free_shell(t);
}

void canary__transport_abandon(canary__transport *t)
{
	if (!t)
		return;
	/* The multi handle and its connections are the parent's too: closing
	 * them here could send a TLS close_notify on the parent's socket. */
	t->multi = NULL;
	/* The locks may have been held by a thread that no longer exists,
	 * and the condition variable may still count the parent's worker as
	 * a waiter (destroying it as is would wait for that thread forever). */
	pthread_mutex_init(&t->lock, NULL);
	canary__cond_init(&t->cond);
	free_shell(t);
}

bool canary__transport_is_async(const canary__transport *t)
{
	return t->multi != NULL;
}

/* ---- responses ---------------------------------------------------------- */

/* Returns false to abort the transfer. */
static bool deliver(canary__xfer *x, const char *p, size_t n, long status)
{
	canary__xfer_result *r = &x->res;

	/* Every piece, not only between reads (the progress callback): one
	 * read of a compressed body can decompress to many pieces. */
	if (atomic_load(x->t->o.stop))
		return false;
	if (x->stream) {
		if (status != 200 || n == 0)
			return true; /* an error body: ignored */
		if (x->on_data(p, n, x->ctx) != 0) {
			x->sink_stopped = true;
			return false;
		}
		return true;
	}
	if (status != 200)
		return true;
	if (n > x->t->o.max_bytes - x->body.len) {
		x->too_big = true;
		return false;
	}
	canary__buf_put(&x->body, p, n);
	r->body = x->body.data;
	r->body_len = x->body.len;
	return !x->body.failed;
}

/* Header values are kept only when printable ASCII: an ETag goes back out
 * in If-None-Match, so it must not be able to inject a header. */
static void copy_header_value(char *dst, const char *v, size_t n)
{
	size_t i;

	while (n && (*v == ' ' || *v == '\t')) {
		v++;
		n--;
	}
	while (n && (v[n - 1] == '\r' || v[n - 1] == '\n' || v[n - 1] == ' ' ||
	       v[n - 1] == '\t'))
		n--;
	if (n >= CANARY_HTTP_HEADER_MAX)
		return;
	for (i = 0; i < n; i++)
		if ((unsigned char)v[i] < 0x20 || (unsigned char)v[i] > 0x7e)
			return;
	memcpy(dst, v, n);
	dst[n] = '\0';
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *ctx)
{
	canary__xfer *x = ctx;
	size_t n = size * nmemb;

	if (n >= 5 && memcmp(p, "HTTP/", 5) == 0) {
		/* A new response (after a 100 Continue): forget the last. */
		x->res.etag[0] = x->res.retry_after[0] = '\0';
	} else if (n > 5 && strncasecmp(p, "ETag:", 5) == 0) {
		copy_header_value(x->res.etag, p + 5, n - 5);
	} else if (n > 12 && strncasecmp(p, "Retry-After:", 12) == 0) {
		copy_header_value(x->res.retry_after, p + 12, n - 12);
	}
	return n;
}

static size_t on_write(char *p, size_t size, size_t nmemb, void *ctx)
{
	canary__xfer *x = ctx;
	long status = 0;

	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
	return deliver(x, p, size * nmemb, status) ? size * nmemb : 0;
}

static int on_progress(void *ctx, curl_off_t dt, curl_off_t dn,
	curl_off_t ut, curl_off_t un)
{
	canary__xfer *x = ctx;

	(void)dt; (void)dn; (void)ut; (void)un;
	return atomic_load(x->t->o.stop) ? 1 : 0;
}

/* ---- requests ----------------------------------------------------------- */

void canary__headers_init(canary__headers *h)
{
	h->count = 0;
	h->used = 0;
}

bool canary__headers_add(canary__headers *h, const char *line)
{
	if (h->count == CANARY__XFER_MAX_HEADERS)
		return false;
	h->line[h->count++] = line;
	return true;
}

static bool value_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	size_t i;

	if (n == 0 || n >= CANARY_HTTP_HEADER_MAX)
		return false;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			return false;
	return true;
}

bool canary__headers_addv(canary__headers *h, const char *name,
	const char *value)
{
	char *buf;

	if (!value_ok(value) || h->used == sizeof(h->buf) / sizeof(h->buf[0]) ||
	    strlen(name) > 30)
		return false;
	buf = h->buf[h->used];
	snprintf(buf, sizeof(h->buf[0]), "%s: %s", name, value);
	if (!canary__headers_add(h, buf))
		return false;
	h->used++;
	return true;
}

/* The request headers: the source's, then the transfer's own. */
static size_t build_headers(const canary__xfer_spec *spec,
	const char *lines[MAX_HEADERS])
{
	size_t n = 0, i;

	for (i = 0; spec->headers && i < spec->headers->count; i++)
		lines[n++] = spec->headers->line[i];
	lines[n++] = "User-Agent: " USER_AGENT;
	if (spec->body)
		lines[n++] = "Expect:"; /* no 100-continue round trip */
	return n;
}

void canary__curl_web_only(void *easy)
{
	CURL *e = easy;

#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(e, CURLOPT_PROTOCOLS, CURLPROTO_HTTP | CURLPROTO_HTTPS);
	curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS,
		CURLPROTO_HTTP | CURLPROTO_HTTPS);
#endif
}

static void set_curl_options(canary__xfer *x, const canary__xfer_spec *spec)
{
	const canary__transport_opts *o = &x->t->o;
	CURL *e = x->easy;

	curl_easy_setopt(e, CURLOPT_URL, spec->url);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->headers);
	curl_easy_setopt(e, CURLOPT_PRIVATE, x);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	canary__curl_web_only(e);
#if LIBCURL_VERSION_NUM >= 0x075700
	/* Do not wait for a hung DNS resolver thread when cancelling. */
	curl_easy_setopt(e, CURLOPT_QUICK_EXIT, 1L);
#endif
	curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)o->connect_timeout_ms);
	if (!spec->stream) {
		curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)o->request_timeout_ms);
		curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE,
			(curl_off_t)o->max_bytes);
	}
	if (spec->body) {
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
			(curl_off_t)spec->body_len);
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, spec->body);
	}
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(e, CURLOPT_XFERINFODATA, x);
	curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
	if (o->ca_file)
		curl_easy_setopt(e, CURLOPT_CAINFO, o->ca_file);
	if (o->ca_path)
		curl_easy_setopt(e, CURLOPT_CAPATH, o->ca_path);
	if (o->insecure) {
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	/* Proxies: libcurl reads http_proxy, https_proxy and no_proxy itself. */
}

static int start_curl(canary__xfer *x, const canary__xfer_spec *spec)
{
	const char *lines[MAX_HEADERS];
	size_t n, i;

	x->easy = curl_easy_init();
	if (!x->easy)
		return CANARY_ENOMEM;
	n = build_headers(spec, lines);
	for (i = 0; i < n; i++) {
		struct curl_slist *l = curl_slist_append(x->headers, lines[i]);

		if (!l)
			return CANARY_ENOMEM;
		x->headers = l;
	}
	set_curl_options(x, spec);
	if (curl_multi_add_handle(x->t->multi, x->easy) != CURLM_OK)
		return CANARY_ENOMEM;
	return CANARY_OK;
}

static int hook_body(const void *data, size_t len, void *ctx)
{
	canary__xfer *x = ctx;

	if (atomic_load(x->t->o.stop) || x->too_big || x->sink_stopped)
		return 1;
	if (len == 0)
		return 0;
	return deliver(x, data, len, x->hook_status) ? 0 : 1;
}

static void finish(canary__xfer *x, int rc, const char *key,
	const char *detail);

/* The hook fills a public response struct: status first, then the body. */
typedef struct hook_call {
	canary__xfer *x;
	canary_http_response resp;
} hook_call;

static int hook_body_first(const void *data, size_t len, void *ctx)
{
	hook_call *hc = ctx;

	hc->x->hook_status = hc->resp.status;
	return hook_body(data, len, hc->x);
}

static void run_hook(canary__xfer *x, const canary__xfer_spec *spec)
{
	canary__transport *t = x->t;
	const char *lines[MAX_HEADERS];
	canary_http_request req;
	hook_call hc;
	int rc;

	memset(&req, 0, sizeof(req));
	memset(&hc, 0, sizeof(hc));
	hc.x = x;
	req.method = spec->body ? "POST" : "GET";
	req.body = spec->body;
	req.body_len = spec->body ? spec->body_len : 0;
	req.url = spec->url;
	req.headers = lines;
	req.header_count = build_headers(spec, lines);
	req.connect_timeout_ms = t->o.connect_timeout_ms;
	req.timeout_ms = spec->stream ? 0 : t->o.request_timeout_ms;
	req.stream = spec->stream;
	req.body_fn = hook_body_first;
	req.body_ctx = &hc;
	rc = t->hook.request(&req, &hc.resp, t->hook.ctx);
	x->res.status = hc.resp.status;
	memcpy(x->res.etag, hc.resp.etag, sizeof(x->res.etag));
	x->res.etag[sizeof(x->res.etag) - 1] = '\0';
	copy_header_value(x->res.retry_after, hc.resp.retry_after,
		strnlen(hc.resp.retry_after, sizeof(hc.resp.retry_after)));
	if (x->too_big)
		finish(x, CANARY_EPARSE, "response too large", "");
	else if (rc == CANARY_OK)
		finish(x, CANARY_OK, "", "");
	else if (rc == CANARY_ENOTSUP)
		finish(x, CANARY_ENOTSUP, "transport hook: not supported", "");
	else
		finish(x, rc == CANARY_ETIMEOUT ? CANARY_ETIMEOUT : CANARY_ENETWORK,
			rc == CANARY_ETIMEOUT ? "transport hook: timed out" :
			"transport hook: no response", "");
}

int canary__xfer_start(canary__transport *t, const canary__xfer_spec *spec,
	canary__xfer **out)
{
	canary__xfer *x;
	int rc = CANARY_OK;

	*out = NULL;
	x = canary__new(t->alloc, canary__xfer);
	if (!x)
		return CANARY_ENOMEM;
	x->t = t;
	canary__buf_init(&x->body, t->alloc);
	x->stream = spec->stream;
	x->on_data = spec->on_data;
	x->ctx = spec->ctx;
	if (t->multi)
		rc = start_curl(x, spec);
	else
		run_hook(x, spec);
	if (rc != CANARY_OK) {
		canary__xfer_free(x);
		return canary__error_set(rc, "out of memory");
	}
	*out = x;
	return CANARY_OK;
}

static void finish(canary__xfer *x, int rc, const char *key,
	const char *detail)
{
	canary__xfer_result *r = &x->res;

	x->done = true;
	r->rc = rc;
	if (rc == CANARY_EPARSE) {
		snprintf(r->key, sizeof(r->key), "response larger than %zu bytes",
			x->t->o.max_bytes);
		snprintf(r->detail, sizeof(r->detail), "%s", r->key);
		return;
	}
	snprintf(r->key, sizeof(r->key), "%s", key);
	if (detail[0])
		/* Precisions keep the pair within r->detail (256 bytes). */
		snprintf(r->detail, sizeof(r->detail), "%.120s (%.120s)", key,
			detail);
	else
		snprintf(r->detail, sizeof(r->detail), "%s", key);
}

/* The authority of a URL: where it starts (after "scheme://"), where it
 * ends, and its '@' (NULL without a user part). */
static const char *url_authority(const char *url, const char **end,
	const char **at)
{
	const char *p = strstr(url, "://");

	p = p ? p + 3 : url;
	*end = p + strcspn(p, "/?#");
	*at = memchr(p, '@', (size_t)(*end - p));
	return p;
}

/* "host:port" of a URL, the port made explicit. */
static void url_host_port(const char *url, char *buf, size_t len)
{
	const char *end, *at, *p = url_authority(url, &end, &at);
	bool https = strncasecmp(url, "https", 5) == 0;
	size_t n;

	if (at)
		p = at + 1;
	n = (size_t)(end - p);
	if (memchr(p, ':', n) && !(p[0] == '[' && p[n - 1] == ']'))
		snprintf(buf, len, "%.*s", (int)n, p);
	else
		snprintf(buf, len, "%.*s:%d", (int)n, p, https ? 443 : 80);
}

/* A system error as a lower-case phrase: "connection refused". */
static void errno_text(long err, char *buf, size_t len)
{
	snprintf(buf, len, "%s", err ? strerror((int)err) : "failed");
	if (buf[0] && isupper((unsigned char)buf[0]) &&
	    !(buf[1] && isupper((unsigned char)buf[1])))
		buf[0] = (char)tolower((unsigned char)buf[0]);
}

/* The failures a person meets first, said plainly: "connect to
 * 127.0.0.1:1: connection refused". Returns false for the others. */
static bool plain_failure(canary__xfer *x, CURLcode code, char *key,
	size_t len)
{
	char where[160], why[96];
	char *url = NULL;
	long err = 0;

	curl_easy_getinfo(x->easy, CURLINFO_EFFECTIVE_URL, &url);
	if (!url)
		return false;
	url_host_port(url, where, sizeof(where));
	switch (code) {
	case CURLE_COULDNT_CONNECT:
		curl_easy_getinfo(x->easy, CURLINFO_OS_ERRNO, &err);
		errno_text(err, why, sizeof(why));
		snprintf(key, len, "connect to %.100s: %.40s", where, why);
		return true;
	case CURLE_COULDNT_RESOLVE_HOST:
		*strrchr(where, ':') = '\0';
		snprintf(key, len, "resolve host %.100s: not found", where);
		return true;
	case CURLE_OPERATION_TIMEDOUT:
		snprintf(key, len, "%.100s: timed out", where);
		return true;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
		snprintf(key, len, "TLS with %.80s: %.60s", where,
			curl_easy_strerror(code));
		return true;
	default:
		return false;
	}
}

static void finish_curl(canary__xfer *x, CURLcode code)
{
	canary__xfer_result *r = &x->res;
	char key[sizeof(r->key)];
	int rc;

	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &r->status);
	if (code == CURLE_OK)
		rc = CANARY_OK;
	else if (x->too_big || code == CURLE_FILESIZE_EXCEEDED)
		rc = CANARY_EPARSE;
	else if (code == CURLE_OPERATION_TIMEDOUT)
		rc = CANARY_ETIMEOUT;
	else
		rc = CANARY_ENETWORK;
	if (code != CURLE_OK && rc != CANARY_EPARSE &&
	    plain_failure(x, code, key, sizeof(key)))
		finish(x, rc, key, code == CURLE_COULDNT_CONNECT ||
			code == CURLE_COULDNT_RESOLVE_HOST ? "" : x->errbuf);
	else
		finish(x, rc, code == CURLE_OK ? "" : curl_easy_strerror(code),
			x->errbuf);
	curl_multi_remove_handle(x->t->multi, x->easy);
	curl_easy_cleanup(x->easy);
	x->easy = NULL;
}

void canary__transport_perform(canary__transport *t)
{
	CURLMsg *msg;
	int running, left;

	if (!t->multi)
		return;
	curl_multi_perform(t->multi, &running);
	while ((msg = curl_multi_info_read(t->multi, &left))) {
		char *priv = NULL;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
		if (priv)
			finish_curl((canary__xfer *)(void *)priv, msg->data.result);
	}
}

void canary__transport_wait(canary__transport *t, uint32_t timeout_ms)
{
	struct timespec ts;

	if (t->multi) {
		curl_multi_poll(t->multi, NULL, 0, (int)timeout_ms, NULL);
		return;
	}
	ts = canary__deadline(timeout_ms);
	pthread_mutex_lock(&t->lock);
	while (!t->woken) {
		if (pthread_cond_timedwait(&t->cond, &t->lock, &ts) != 0)
			break;
	}
	t->woken = false;
	pthread_mutex_unlock(&t->lock);
}

void canary__transport_wakeup(canary__transport *t)
{
	if (t->multi) {
		curl_multi_wakeup(t->multi);
		return;
	}
	pthread_mutex_lock(&t->lock);
	t->woken = true;
	pthread_cond_signal(&t->cond);
	pthread_mutex_unlock(&t->lock);
}

bool canary__xfer_done(const canary__xfer *x)
{
	return x->done;
}

const canary__xfer_result *canary__xfer_outcome(const canary__xfer *x)
{
	return &x->res;
}

void canary__xfer_free(canary__xfer *x)
{
	if (!x)
		return;
	if (x->easy) {
		curl_multi_remove_handle(x->t->multi, x->easy);
		curl_easy_cleanup(x->easy);
	}
	curl_slist_free_all(x->headers);
	canary__buf_free(&x->body);
	canary__delete(x->t->alloc, x, canary__xfer);
}

void canary__url_for_log(const char *url, char *buf, size_t len)
{
	const char *end, *at, *p = url_authority(url, &end, &at);

	if (!at) {
		snprintf(buf, len, "%s", url);
		return;
	}
	/* user:password@ never reaches a log line. */
	snprintf(buf, len, "%.*s***%s", (int)(p - url), url, at);
}

char *canary__url_join(const canary__alloc *a, const char *base,
	const char *path)
{
	size_t n = strlen(base), m = strlen(path);
	char *s;

	while (n && base[n - 1] == '/')
		n--;
	s = canary__malloc(a, n + m + 1);
	if (!s)
		return NULL;
	memcpy(s, base, n);
	memcpy(s + n, path, m + 1);
	return s;
}

/* ---- Retry-After ---------------------------------------------------------- */

static bool parse_seconds(const char *s, int64_t *out)
{
	int64_t v = 0;
	size_t i, n = strlen(s);

	if (n == 0 || n > 12)
		return false;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

bool canary__retry_after_parse(const char *value, int64_t now_unix_s,
	uint32_t *out_ms)
{
	int64_t secs;
	time_t when;

	if (!value)
		return false;
	while (*value == ' ' || *value == '\t')
		value++;
	if (!parse_seconds(value, &secs)) {
		/* curl_getdate() also reads looser forms than RFC 9110's
		 * three; a server's lower bound on the wait, capped below,
		 * is all it can give. -1 is its "cannot parse" (and the last
		 * second of 1969, which is in the past anyway). */
		if (!value[0] || (when = curl_getdate(value, NULL)) == -1)
			return false;
		secs = (int64_t)when > now_unix_s ? (int64_t)when - now_unix_s : 0;
	}
	if (secs > CANARY__RETRY_AFTER_MAX_MS / 1000)
		secs = CANARY__RETRY_AFTER_MAX_MS / 1000;
	*out_ms = (uint32_t)(secs * 1000);
	return true;
}

uint32_t canary__xfer_retry_after_ms(const canary__xfer_result *r)
{
	uint32_t ms = 0;

	if (r->retry_after[0])
		canary__retry_after_parse(r->retry_after,
			canary__wall_ms() / 1000, &ms);
	return ms;
}
