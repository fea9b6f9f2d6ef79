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

/* An error as JSON on stderr: {"error", "field" (when given), "status"
 * (when there is one)}. */
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
	text = cJSON_PrintUnformatted(o);
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
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "canaryctl/" CANARY_VERSION_STRING);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, out);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 30000L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
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
			fprintf(stderr, "canaryctl: %s\n", ctl_safe(msg));
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
	if (cJSON_IsString(f))
		fprintf(stderr, ": %s", ctl_safe(f->valuestring));
	if (cJSON_IsString(e))
		fprintf(stderr, ": %s", ctl_safe(e->valuestring));
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

void ctl_print_json(const cJSON *doc)
{
	char *s = cJSON_Print(doc);

	if (s)
		puts(s);
	cJSON_free(s);
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

const char *ctl_safe(const char *s)
{
	static char ring[8][2048];
	static unsigned int next;
	char *out = ring[next++ % 8];
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t n = 0, cap = sizeof(ring[0]) - 5;

	for (; *p && n < cap; p++) {
		bool c1 = p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f;

		if ((*p < 0x20 && *p != '\t') || *p == 0x7f || c1) {
			if (c1)
				p++;
			n += (size_t)snprintf(out + n, 5, "\\x%02x", *p);
		} else {
			out[n++] = (char)*p;
		}
	}
	out[n] = '\0';
	return out;
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
		fprintf(stderr, "canaryctl: %s\n", ctl_safe(msg));
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
	char *end;
	unsigned long long v;

	snprintf(rule, sizeof(rule), "must be an integer %llu..%llu",
		(unsigned long long)min, (unsigned long long)max);
	if (!value || *value < '0' || *value > '9' || strlen(value) > 20) {
		*rc = ctl_bad_value(c, option, value, rule);
		return false;
	}
	errno = 0;
	v = strtoull(value, &end, 10);
	if (errno || *end || v < min || v > max) {
		*rc = ctl_bad_value(c, option, value, rule);
		return false;
	}
	*out = v;
	return true;
}
