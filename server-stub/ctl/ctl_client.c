/*
 * ctl_client.c - canaryctl's admin API client: one libcurl request per
 * call, the server's errors printed, JSON answers parsed and read.
 */
#include "ctl/ctl_client.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <math.h>
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
		fprintf(stderr, "canaryctl: %s: %s\n", c->server,
			curl_easy_strerror(rc));
		return EXIT_NETWORK;
	}
	return 0;
}

/* Print a server error {"error", "field"} and return EXIT_REFUSED. */
static int refused(long status, const canary__buf *b)
{
	cJSON *doc = b->data ? cJSON_Parse(b->data) : NULL;
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(doc, "error");
	const cJSON *f = cJSON_GetObjectItemCaseSensitive(doc, "field");

	fprintf(stderr, "canaryctl: server said %ld", status);
	if (cJSON_IsString(f))
		fprintf(stderr, ": %s", f->valuestring);
	if (cJSON_IsString(e))
		fprintf(stderr, ": %s", e->valuestring);
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
		rc = refused(status, &b);
	if (rc == 0) {
		*doc = b.data ? cJSON_Parse(b.data) : NULL;
		if (!*doc) {
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
