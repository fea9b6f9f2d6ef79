/*
 * flags_cache.c - render the config once per version; serve it and its
 * 304 from shared, prebuilt responses.
 */
#include "publish/flags_cache.h"

#include <cjson/cJSON.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "murmur3.h"

struct cs_flags_cache {
	pthread_mutex_t lock;
	uint64_t version;
	size_t bytes;           /* the rendered config's */
	bool have;
	char etag[48];
	struct MHD_Response *ok;
	struct MHD_Response *not_modified;
};

int cs_flags_cache_new(cs_flags_cache **out)
{
	*out = calloc(1, sizeof(**out));
	if (!*out)
		return CANARY_ENOMEM;
	pthread_mutex_init(&(*out)->lock, NULL);
	return CANARY_OK;
}

void cs_flags_cache_free(cs_flags_cache *c)
{
	if (!c)
		return;
	if (c->ok)
		MHD_destroy_response(c->ok);
	if (c->not_modified)
		MHD_destroy_response(c->not_modified);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

static bool add_common_headers(struct MHD_Response *r, const char *etag)
{
	/* no-cache: intermediaries must revalidate, which costs a 304. */
	return MHD_add_response_header(r, MHD_HTTP_HEADER_ETAG, etag) ==
		       MHD_YES &&
	       MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL,
		       "no-cache") == MHD_YES;
}

/* Build both responses for `body` (taken over: freed by MHD or here). */
static int build(char *body, size_t len, const char *etag,
	struct MHD_Response **ok, struct MHD_Response **nm)
{
	*ok = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	*nm = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
	if (!*ok)
		free(body);
	if (*ok && *nm && add_common_headers(*ok, etag) &&
	    add_common_headers(*nm, etag) &&
	    MHD_add_response_header(*ok, MHD_HTTP_HEADER_CONTENT_TYPE,
		    "application/json") == MHD_YES)
		return CANARY_OK;
	if (*ok)
		MHD_destroy_response(*ok);
	if (*nm)
		MHD_destroy_response(*nm);
	*ok = *nm = NULL;
	return CANARY_ENOMEM;
}

static char *render(const canary__config *config, size_t *len)
{
	cJSON *root = canary__config_to_json(config);
	char *s = root ? cJSON_PrintUnformatted(root) : NULL;
	char *copy = NULL;

	cJSON_Delete(root);
	if (!s)
		return NULL;
	*len = strlen(s);
	/* MHD frees with free(): hand it memory from malloc, not cJSON's. */
	copy = malloc(*len + 1);
	if (copy)
		memcpy(copy, s, *len + 1);
	cJSON_free(s);
	return copy;
}

int cs_flags_cache_set(cs_flags_cache *c, const canary__config *config,
	char **json, size_t *len)
{
	struct MHD_Response *ok, *nm, *old_ok, *old_nm;
	char etag[48], *body, *copy;
	int rc;

	*json = NULL;
	*len = 0;
	body = render(config, len);
	if (!body)
		return CANARY_ENOMEM;
	copy = malloc(*len + 1);
	if (!copy) {
		free(body);
		return CANARY_ENOMEM;
	}
	memcpy(copy, body, *len + 1);
	/* Strong ETag: the version, plus a hash so a recreated database
	 * that reuses a version number still gets a different tag. */
	snprintf(etag, sizeof(etag), "\"%llu-%08x\"",
		(unsigned long long)config->version,
		canary__murmur3_32(body, *len, 0));
	rc = build(body, *len, etag, &ok, &nm);
	if (rc != CANARY_OK) {
		free(copy);
		return rc;
	}
	pthread_mutex_lock(&c->lock);
	if (c->have && config->version < c->version) {
		pthread_mutex_unlock(&c->lock);
		MHD_destroy_response(ok);
		MHD_destroy_response(nm);
		free(copy);
		return CANARY_OK;
	}
	old_ok = c->ok;
	old_nm = c->not_modified;
	c->ok = ok;
	c->not_modified = nm;
	c->version = config->version;
	c->bytes = *len;
	c->have = true;
	memcpy(c->etag, etag, sizeof(etag));
	pthread_mutex_unlock(&c->lock);
	/* Connections still sending the old body hold their own reference. */
	if (old_ok)
		MHD_destroy_response(old_ok);
	if (old_nm)
		MHD_destroy_response(old_nm);
	*json = copy;
	return CANARY_OK;
}

uint64_t cs_flags_cache_version(cs_flags_cache *c)
{
	uint64_t v;

	pthread_mutex_lock(&c->lock);
	v = c->version;
	pthread_mutex_unlock(&c->lock);
	return v;
}

size_t cs_flags_cache_bytes(cs_flags_cache *c)
{
	size_t n;

	pthread_mutex_lock(&c->lock);
	n = c->bytes;
	pthread_mutex_unlock(&c->lock);
	return n;
}

/* Compare one entity tag (weak prefix ignored) with `etag`. */
static bool tag_equal(const char *tag, size_t len, const char *etag)
{
	if (len >= 2 && tag[0] == 'W' && tag[1] == '/') {
		tag += 2;
		len -= 2;
	}
	return len == strlen(etag) && memcmp(tag, etag, len) == 0;
}

int cs_etag_matches(const char *inm, const char *etag)
{
	const char *p = inm;

	if (!inm)
		return 0;
	while (*p) {
		size_t len;

		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (!*p)
			break;
		len = strcspn(p, ",");
		while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if ((len == 1 && *p == '*') || tag_equal(p, len, etag))
			return 1;
		p += strcspn(p, ",");
	}
	return 0;
}

unsigned int cs_flags_cache_serve(cs_flags_cache *c,
	struct MHD_Connection *conn, const char *if_none_match)
{
	unsigned int status = 0;

	pthread_mutex_lock(&c->lock);
	if (c->ok) {
		/* Queueing takes MHD's own reference under our lock, so a
		 * concurrent publish cannot free the response under us. */
		if (cs_etag_matches(if_none_match, c->etag))
			status = MHD_queue_response(conn, MHD_HTTP_NOT_MODIFIED,
				c->not_modified) == MHD_YES ? 304 : 0;
		else
			status = MHD_queue_response(conn, MHD_HTTP_OK, c->ok) ==
				MHD_YES ? 200 : 0;
	}
	pthread_mutex_unlock(&c->lock);
	return status;
}
