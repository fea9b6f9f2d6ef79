/*
 * persist.c - config persistence (see persist.h).
 */
#include "persist.h"

#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "config_blob.h"
#include "error.h"

#define CONFIRM_PERSIST_MS 60000 /* write "still current" at most this often */

struct canary__persist {
	const canary__alloc *a;
	const canary__logger *log;
	const char *path;           /* borrowed */
	canary__store *store;       /* NULL: no cache, or unusable */
	int64_t persisted_wall;     /* confirmation as last written (wall) */
};

static int open_store(canary__persist *p, canary__cached *cached)
{
	char note[512];
	int rc;

	rc = canary__store_open(&p->store, p->a, p->path, cached, note,
		sizeof(note));
	if (note[0])
		canary__log(p->log, rc == CANARY_OK ? CANARY_LOG_WARN :
			CANARY_LOG_ERROR, "%s", note);
	return rc;
}

/* The cached config from its binary form when that is there and sound
 * (no JSON parse: the cold start of docs/datapath.md), else from its body. */
static int decode(canary__persist *p, const canary__cached *cached,
	const canary__source *src, canary__config **config, canary__perror *e)
{
	int rc = CANARY_EPARSE;

	if (cached->parsed)
		rc = canary__config_blob_decode(p->a, cached->parsed,
			cached->parsed_len, config);
	if (rc == CANARY_OK && (*config)->version != cached->version) {
		canary__config_free(p->a, *config);
		*config = NULL;
		rc = CANARY_EPARSE;
	}
	if (rc == CANARY_OK || rc == CANARY_ENOMEM)
		return rc;
	canary__log(p->log, CANARY_LOG_DEBUG,
		"cache %s: %s binary form; parsing the JSON", p->path,
		cached->parsed ? "unusable" : "no");
	return src->ops->parse(src->state, cached->body, cached->body_len,
		config, e);
}

/* fetched_at_ms is whatever the file holds: a subtraction could overflow.
 * From the future counts as fresh; the age is capped at 2^50 ms (35,000
 * years) so the worker's clock arithmetic cannot overflow either. */
static int64_t age_of(int64_t fetched_at_ms, int64_t now)
{
	if (fetched_at_ms >= now)
		return 0;
	if (fetched_at_ms < now - ((int64_t)1 << 50))
		return (int64_t)1 << 50;
	return now - fetched_at_ms;
}

static int load(canary__persist *p, const canary__source *src,
	canary__config **config, canary__persist_start *start)
{
	canary__cached cached;
	char err[CANARY__PERR_TEXT];
	canary__perror e;
	int rc;

	memset(&cached, 0, sizeof(cached));
	rc = open_store(p, &cached);
	if (rc != CANARY_OK || !cached.body)
		goto done;
	canary__perror_clear(&e);
	rc = decode(p, &cached, src, config, &e);
	if (rc == CANARY_ENOMEM)
		goto done;
	if (rc != CANARY_OK) {
		canary__log(p->log, CANARY_LOG_WARN,
			"cache %s: the cached config is invalid (%s); discarded",
			p->path, canary__perror_format(&e, err, sizeof(err)));
		canary__store_clear(p->store);
		rc = CANARY_OK;
		goto done;
	}
	snprintf(start->etag, sizeof(start->etag), "%s", cached.etag);
	start->age_ms = age_of(cached.fetched_at_ms, canary__wall_ms());
	p->persisted_wall = canary__wall_ms() - start->age_ms;
done:
	canary__cached_clear(p->a, &cached);
	/* An unusable file is not the client's failure (logged above). */
	return rc == CANARY_ENOMEM ? rc : CANARY_OK;
}

int canary__persist_open(canary__persist **out, const canary__alloc *a,
	const canary__logger *log, const char *path, const canary__source *src,
	canary__config **config, canary__persist_start *start)
{
	canary__persist *p;
	int rc = CANARY_OK;

	*out = NULL;
	*config = NULL;
	memset(start, 0, sizeof(*start));
	p = canary__new(a, canary__persist);
	if (!p)
		return canary__error_set(CANARY_ENOMEM, "out of memory");
	p->a = a;
	p->log = log;
	p->path = path;
	p->persisted_wall = canary__wall_ms();
	if (path)
		rc = load(p, src, config, start);
	if (rc != CANARY_OK) {
		canary__persist_close(p);
		return canary__error_set(rc, "out of memory");
	}
	*out = p;
	return CANARY_OK;
}

void canary__persist_close(canary__persist *p)
{
	if (!p)
		return;
	canary__store_close(p->store);
	canary__delete(p->a, p, canary__persist);
}

bool canary__persist_usable(const canary__persist *p)
{
	return p && p->store;
}

void canary__persist_encode(canary__persist *p, const canary__config *config,
	canary__blob *out)
{
	out->data = NULL;
	out->len = 0;
	if (p->store)
		(void)canary__config_blob_encode(p->a, config, &out->data,
			&out->len);
}

void canary__persist_save(canary__persist *p, uint64_t version,
	const char *etag, const char *body, size_t len, canary__blob *blob)
{
	int64_t wall = canary__wall_ms();
	int rc;

	if (p->store) {
		rc = canary__store_save_parsed(p->store, version, etag, wall,
			body, len, blob->data, blob->len);
		if (rc == CANARY_OK)
			p->persisted_wall = wall;
		else
			canary__log(p->log, CANARY_LOG_WARN, "%s",
				canary_error_last());
	}
	canary__free(p->a, blob->data);
	blob->data = NULL;
	blob->len = 0;
}

void canary__persist_confirmed(canary__persist *p, uint64_t version)
{
	int64_t wall = canary__wall_ms();

	if (!p->store || wall - p->persisted_wall < CONFIRM_PERSIST_MS)
		return;
	if (canary__store_touch(p->store, version, wall) == CANARY_OK)
		p->persisted_wall = wall;
}

void canary__persist_postfork(canary__persist *p)
{
	if (!p->store)
		return;
	canary__store_abandon(p->store);
	p->store = NULL;
	(void)open_store(p, NULL);
}
