/*
 * source.h - the config SOURCE interface: where configs come from and what
 * they look like on the wire.
 *
 * The worker (worker.c) decides WHEN: fetch, stream, poll, back off, what
 * an HTTP status means, what a new config's arrival means (apply it unless
 * older, cache it, notify). A source decides WHERE and HOW: the URLs and
 * headers of its requests, and how a response body becomes a validated
 * canary__config (config.h). Like a TLS backend of curl, a source is a
 * table of functions filled by one file, sdk/source_<name>.c, declared
 * below and chosen by the client (client.c, open_source(), by
 * opts.source): source_libcanary.c, the libcanary protocol
 * (docs/protocol.md), and source_unleash.c, an Unleash server's client API
 * (docs/unleash.md).
 *
 * What a source implements (canary__source_ops):
 *
 *   open, close   its state, from the client's settings (canary__source_env:
 *                 base URLs, SDK key, size limit). open must work without a
 *                 server URL: the cache is still parsed with the source.
 *   select        use server `index` of the env's list for the requests
 *                 that follow (fetch, stream, events); 0 after open. The
 *                 worker moves to the next server after a failure: the
 *                 servers are replicas of one service, with the same
 *                 versions and ETags, so the config in force stays valid.
 *   fetch         the poll request: URL and headers. `etag` is the ETag of
 *                 the config in force ("" if none), for If-None-Match; a
 *                 304 means "unchanged", a 200 carries a body for parse.
 *   parse         one whole document (a 200 body, a stream event's
 *                 document, or the body kept in the cache) into a config.
 *                 Strict: a bad document is CANARY_EPARSE with `e`
 *                 naming the field, never a partial config. The config's
 *                 `version` must grow with every change the service makes
 *                 (the worker never applies an older version); a service
 *                 without versions needs the source to derive one.
 *   stream        optional (NULL: the source polls only): the request of a
 *                 response that does not end. `version` is the version in
 *                 force (0: none), for resuming. Documents are whole
 *                 configs, and connecting catches up: the service sends
 *                 the config in force at once unless the client already
 *                 has it (the worker relies on that to try a due stream
 *                 instead of one more fetch).
 *   stream_feed   the stream's body as it arrives, in pieces of any size:
 *                 call `doc` for each whole document in it (the worker
 *                 parses it with `parse`); a partial one is kept for the
 *                 next piece, and dropped by the next `stream` (a new
 *                 connection). A document it had to discard (over the
 *                 size limit) is CANARY_EPARSE with the error set: the
 *                 worker logs it, ends the stream and fetches.
 *   events        optional (NULL: counts are kept in the outbox and never
 *                 sent): the POST of one body of the outbox (docs/events.md),
 *                 given to choose the URL by.
 *   encode        optional (NULL: the libcanary event batch, event_batch.h):
 *                 the outbox bodies of the windows harvested at a flush, in
 *                 the service's own format (canary__ev_batches_build()'s
 *                 contract; none at all is fine).
 *   hello         optional: a body to put in the outbox once, when the
 *                 client starts with a service (Unleash's registration).
 *   fetched       optional: how the last fetch request ended (`rc` the
 *                 transfer's, `status` the HTTP status when rc is
 *                 CANARY_OK), before the worker acts on it.
 *   document      optional (NULL: the body as received): the whole
 *                 document to cache for the config `parse` gave last,
 *                 for a source whose responses are changes to apply
 *                 (Unleash's delta API). CANARY_OK with *out NULL also
 *                 means the body; *out is the client allocator's.
 *   *_what        how requests are named in the log ("GET /v1/flags").
 *
 * HTTP is the worker's and the transfer's: status codes (200, 304, 401/403
 * final, the rest retried with backoff and Retry-After), timeouts, size
 * limits, TLS. A source never does I/O itself and never blocks; all its
 * calls come from the thread driving the worker (or from client creation).
 */
#ifndef CANARY_SDK_SOURCE_H
#define CANARY_SDK_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloc.h"
#include "config.h"
#include "event_batch.h"
#include "transfer.h"

/* The longest host name opts.hostname may give (POSIX allows 255). */
#define CANARY__MAX_HOSTNAME 255

/* What a source is opened with; borrowed for the source's life. */
typedef struct canary__source_env {
	const canary__alloc *alloc;
	const char *const *server_urls; /* base URLs, replicas of one service */
	size_t server_count;         /* 0: no service */
	const char *sdk_key;         /* NULL without a server */
	size_t max_bytes;            /* largest document */
	const char *app_name;        /* the application's name (opts.app_name;
	                                NULL: none given) */
	const char *hostname;        /* opts.hostname (NULL: none given) */
	bool delta;                  /* opts.unleash_delta */
	const char *instance_id;     /* this process (events.h) */
	uint32_t flush_interval_ms;  /* how often counts are sent */
} canary__source_env;

/* A whole document found in a stream. Non-zero stops the stream (the
 * value is returned by stream_feed). */
typedef int (*canary__source_doc_fn)(const char *doc, size_t len, void *ctx);

typedef struct canary__source_ops {
	const char *name;            /* "libcanary" */
	const char *fetch_what;      /* for the log: "GET /v1/flags" */
	const char *stream_what;
	const char *events_what;

	/* CANARY_OK or CANARY_ENOMEM. */
	int (*open)(void **state, const canary__source_env *env);
	void (*close)(void *state);
	void (*select)(void *state, size_t index);

	void (*fetch)(void *state, const char *etag, canary__xfer_spec *spec,
		canary__headers *headers);
	int (*parse)(void *state, const char *doc, size_t len,
		canary__config **out, canary__perror *e);

	void (*stream)(void *state, uint64_t version, canary__xfer_spec *spec,
		canary__headers *headers);
	int (*stream_feed)(void *state, const char *data, size_t len,
		canary__source_doc_fn doc, void *ctx);

	void (*events)(void *state, const char *body, size_t len,
		canary__xfer_spec *spec, canary__headers *headers);
	int (*encode)(void *state, const canary__ev_batch *head,
		const canary__ev_window *w, size_t n, size_t soft_bytes,
		canary__ev_new_id new_id, void *ctx, canary__ev_body **out,
		size_t *nout);
	/* CANARY_OK with *body NULL for none, or CANARY_ENOMEM. */
	int (*hello)(void *state, char **body, size_t *len);
	void (*fetched)(void *state, int rc, long status);
	int (*document)(void *state, char **out, size_t *len);
} canary__source_ops;

/* An open source. */
typedef struct canary__source {
	const canary__source_ops *ops;  /* NULL: not open */
	void *state;
} canary__source;

/* The sources this library has. The client chooses one (client.c,
 * open_source(), by opts.source). */
extern const canary__source_ops canary__source_libcanary;
extern const canary__source_ops canary__source_unleash;

#endif
