/*
 * ctl_client.c - canaryctl's admin API client: one libcurl request per
 * call, the server's errors printed (as text or JSON), JSON answers parsed
 * and read, server strings made safe for a terminal.
 */
#include "ctl/ctl_client.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "canary/canary.h"

#define MAX_RESPONSE (64u * 1024u * 1024u)

/* A body over MAX_RESPONSE, or memory running out, fails the transfer. */
static size_t on_data(char *ptr, size_t size, size_t n, void *arg)
{
	canary__buf *b = arg;
	size_t len = size * n;

	if (len > MAX_RESPONSE - b->len)
		return 0;
	canary__buf_put(b, ptr, len);
	return b->failed ? 0 : len;
}

static bool safe_strings(cJSON *item);

/* An error as JSON on stderr: {"error", "field" (when given), "status"
 * (when there is one)}, its strings safe for a terminal. */
static void json_error(const char *message, const char *field, long status)
{
	cJSON *o = cJSON_CreateObject();
	char *text;

	if (!o)
		return;
	cJSON_AddStringToObject(o, "error", message);
	if (field)
		cJSON_AddStringToObject(o, "field", field);
	if (status)
		cJSON_AddNumberToObject(o, "status", (double)status);
	text = safe_strings(o) ? cJSON_PrintUnformatted(o) : NULL;
	if (text)
		fprintf(stderr, "%s\n", text);
	cJSON_free(text);
	cJSON_Delete(o);
}

/* Perform one request; *status gets the HTTP status, *out the body. */
static int request(const ctl *c, const char *method, const char *path,
	const char *body, long *status, canary__buf *out)
{
	CURL *h = curl_easy_init();
	struct curl_slist *hdrs = NULL;
	char url[2048], auth[1024];
	CURLcode rc;

	canary__buf_init(out, NULL);
	if (!h)
		return EXIT_NETWORK;
	snprintf(url, sizeof(url), "%s%s", c->server, path);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s",
		c->token ? c->token : "");
	hdrs = curl_slist_append(hdrs, auth);
	hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
	curl_easy_setopt(h, CURLOPT_URL, url);
	/* The web only, whatever --server says (checked at start too),
	 * redirects included: never file://, gopher:// and the like. */
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(h, CURLOPT_PROTOCOLS, CURLPROTO_HTTP | CURLPROTO_HTTPS);
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS,
		CURLPROTO_HTTP | CURLPROTO_HTTPS);
#endif
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "canaryctl/" CANARY_VERSION_STRING);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, out);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 30000L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	/* Verification stays on (libcurl's default): --cacert only says
	 * whom to trust. */
	if (c->cacert)
		curl_easy_setopt(h, CURLOPT_CAINFO, c->cacert);
	if (body)
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	rc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(h);
	if (rc != CURLE_OK) {
		char msg[512];

		snprintf(msg, sizeof(msg), "%s: %s", c->server,
			curl_easy_strerror(rc));
		if (c->json)
			json_error(msg, NULL, 0);
		else
			fprintf(stderr, "canaryctl: %s\n", ctl_safe_tmp(msg));
		return EXIT_NETWORK;
	}
	return 0;
}

/* Print a server error {"error", "field"} and return EXIT_REFUSED. */
static int refused(const ctl *c, long status, const canary__buf *b)
{
	cJSON *doc = b->data ? cJSON_Parse(b->data) : NULL;
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(doc, "error");
	const cJSON *f = cJSON_GetObjectItemCaseSensitive(doc, "field");

	if (c->json) {
		json_error(cJSON_IsString(e) ? e->valuestring : "refused",
			cJSON_IsString(f) ? f->valuestring : NULL, status);
		cJSON_Delete(doc);
		return EXIT_REFUSED;
	}
	fprintf(stderr, "canaryctl: server said %ld", status);
	if (cJSON_IsString(f)) {
		fputs(": ", stderr);
		ctl_put(f->valuestring, stderr);
	}
	if (cJSON_IsString(e)) {
		fputs(": ", stderr);
		ctl_put(e->valuestring, stderr);
	}
	fputc('\n', stderr);
	cJSON_Delete(doc);
	return EXIT_REFUSED;
}

/* Request, check for 2xx, parse JSON into *doc (may be NULL). */
int ctl_call(const ctl *c, const char *method, const char *path,
	const char *body, cJSON **doc)
{
	long status = 0;
	canary__buf b;
	int rc = request(c, method, path, body, &status, &b);

	*doc = NULL;
	if (rc == 0 && (status < 200 || status > 299))
		rc = refused(c, status, &b);
	if (rc == 0) {
		*doc = b.data ? cJSON_Parse(b.data) : NULL;
		if (!*doc && c->json) {
			json_error("malformed response", NULL, status);
			rc = EXIT_REFUSED;
		} else if (!*doc) {
			fprintf(stderr, "canaryctl: malformed response\n");
			rc = EXIT_REFUSED;
		}
	}
	canary__buf_free(&b);
	return rc;
}

char *ctl_escape(const char *key)
{
	CURL *h = curl_easy_init();
	char *e = h ? curl_easy_escape(h, key, 0) : NULL;
	char *copy = e ? strdup(e) : NULL;

	curl_free(e);
	curl_easy_cleanup(h);
	return copy;
}

void ctl_path_init(ctl_path *p)
{
	p->s[0] = '\0';
	p->len = 0;
	p->overflow = false;
}

void ctl_path_add(ctl_path *p, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (p->overflow)
		return;
	va_start(ap, fmt);
	n = vsnprintf(p->s + p->len, sizeof(p->s) - p->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(p->s) - p->len) {
		p->overflow = true;
		p->s[p->len] = '\0'; /* what fitted before stays whole */
		return;
	}
	p->len += (size_t)n;
}

bool ctl_path_key(ctl_path *p, const char *key)
{
	char *k = ctl_escape(key);

	if (!k)
		return false;
	ctl_path_add(p, "%s", k);
	free(k);
	return true;
}

bool ctl_percent(const char *s, double *bp)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= 0 && v <= 100))
		return false;
	*bp = round(v * 100);
	return fabs(*bp - v * 100) < 1e-6; /* at most 0.01% steps */
}

bool ctl_uint(const char *s)
{
	size_t n = strlen(s);

	/* 9007199254740991 has 16 digits. */
	return n > 0 && n <= 16 && strspn(s, "0123456789") == n &&
		strtoull(s, NULL, 10) <= 9007199254740991ull;
}

/* The length of the UTF-8 sequence at p (1..4), or 0 if there is none. */
static size_t utf8_len(const unsigned char *p)
{
	size_t n, i;
	uint32_t cp;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2, cp = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3, cp = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4, cp = p[0] & 0x07;
	else
		return 0;
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return n;
}

char *ctl_safe(const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	char *out = malloc(strlen((const char *)p) * 4 + 1), *o = out;

	if (!out)
		return NULL;
	while (*p) {
		size_t n = utf8_len(p);
		bool control = (n == 1 && ((*p < 0x20 && *p != '\t') ||
			*p == 0x7f)) || (n == 2 && p[0] == 0xc2 && p[1] <= 0x9f);

		if (n == 0 || control) {
			/* The first byte shown; a C1's second byte with it. */
			o += sprintf(o, "\\x%02x", *p++);
			if (control && n == 2)
				o += sprintf(o, "\\x%02x", *p++);
			continue;
		}
		memcpy(o, p, n);
		o += n;
		p += n;
	}
	*o = '\0';
	return out;
}

void ctl_put(const char *s, FILE *out)
{
	char *safe = ctl_safe(s);

	fputs(safe ? safe : "?", out);
	free(safe);
}

/* Every string of `item` (member names too) made safe, in place. */
static bool safe_strings(cJSON *item)
{
	cJSON *it;
	char *safe;

	for (it = item; it; it = it->next) {
		if (it->string) {
			if (!(safe = ctl_safe(it->string)))
				return false;
			cJSON_free(it->string);
			it->string = safe;
		}
		if (cJSON_IsString(it)) {
			if (!(safe = ctl_safe(it->valuestring)))
				return false;
			cJSON_free(it->valuestring);
			it->valuestring = safe;
		}
		if (it->child && !safe_strings(it->child))
			return false;
	}
	return true;
}

void ctl_print_json(const cJSON *doc)
{
	cJSON *copy = cJSON_Duplicate(doc, 1);
	char *s = copy && safe_strings(copy) ? cJSON_Print(copy) : NULL;

	if (s)
		puts(s);
	else
		fprintf(stderr, "canaryctl: out of memory\n");
	cJSON_free(s);
	cJSON_Delete(copy);
}

const char *ctl_str(const cJSON *obj, const char *name, const char *dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);

	return cJSON_IsString(v) ? v->valuestring : dflt;
}

double ctl_num(const cJSON *obj, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);

	return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

const char *ctl_safe_tmp(const char *s)
{
	static char *ring[8];
	static unsigned int next;
	char **slot = &ring[next++ % 8];

	free(*slot);
	*slot = ctl_safe(s);
	return *slot ? *slot : "?";
}

int ctl_usage_error(const ctl *c, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (c && c->json)
		json_error(msg, NULL, 0);
	else
		fprintf(stderr, "canaryctl: %s\n", ctl_safe_tmp(msg));
	return EXIT_USAGE;
}

int ctl_bad_value(const ctl *c, const char *option, const char *value,
	const char *rule)
{
	if (!value)
		return ctl_usage_error(c, "%s: needs a value (%s)", option, rule);
	return ctl_usage_error(c, "%s %.200s: %s", option, value, rule);
}

bool ctl_uint_opt(const ctl *c, const char *option, const char *value,
	uint64_t min, uint64_t max, uint64_t *out, int *rc)
{
	char rule[96];
	unsigned long long v;

	snprintf(rule, sizeof(rule), "must be an integer %llu..%llu",
		(unsigned long long)min, (unsigned long long)max);
	if (!value || !ctl_uint(value)) {
		*rc = ctl_bad_value(c, option, value, rule);
		return false;
	}
	v = strtoull(value, NULL, 10);
	if (v < min || v > max) {
		*rc = ctl_bad_value(c, option, value, rule);
		return false;
	}
	*out = v;
	return true;
}
