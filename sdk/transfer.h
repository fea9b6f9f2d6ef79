/*
 * transfer.h - HTTP transfers for the data path: libcurl's multi
 * interface, or the application's transport hook (canary/transport.h).
 * Protocol-neutral: what to ask for (URL, headers, body) comes from the
 * config source (source.h) or the event delivery (delivery.h).
 *
 * Nothing here blocks with libcurl: canary__xfer_start() only queues a
 * request, canary__transport_perform() moves every request on as far as it
 * can without waiting, and canary__transport_wait() is the one place that
 * sleeps (until a socket is ready, a timeout, or a wakeup). So the same code
 * serves the background thread and canary_client_tick(). A hook is called
 * synchronously by canary__xfer_start().
 *
 * Secrets: no message produced here contains a request header (the SDK
 * key is in one) or the URL's user part.
 */
#ifndef CANARY_SDK_TRANSFER_H
#define CANARY_SDK_TRANSFER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloc.h"
#include "canary/canary.h"

typedef struct canary__transport canary__transport;
typedef struct canary__xfer canary__xfer;

/* Stream sink: gets the body of a 200 stream as it arrives. Non-zero ends
 * the transfer. */
typedef int (*canary__data_fn)(const char *data, size_t len, void *ctx);

typedef struct canary__transport_opts {
	const char *ca_file, *ca_path; /* borrowed for the transport's life */
	bool insecure;
	uint32_t connect_timeout_ms;
	uint32_t request_timeout_ms;
	size_t max_bytes;            /* largest non-stream body */
	const canary_transport *hook; /* request NULL = libcurl */
	atomic_bool *stop;           /* set = abandon everything */
} canary__transport_opts;

/* The request headers a source gives, as "Name: value" lines. The
 * transfer adds User-Agent (and, for a POST, what libcurl needs). */
#define CANARY__XFER_MAX_HEADERS 6
typedef struct canary__headers {
	const char *line[CANARY__XFER_MAX_HEADERS];
	size_t count;
	char buf[2][CANARY_HTTP_HEADER_MAX + 32]; /* lines built by _addv */
	size_t used;
} canary__headers;

void canary__headers_init(canary__headers *h);
/* Add a line, borrowed until canary__xfer_start() returns. False when
 * the list is full. */
bool canary__headers_add(canary__headers *h, const char *line);
/* Add "name: value" (copied). Only a value that cannot smuggle another
 * header in is added: 1 to CANARY_HTTP_HEADER_MAX - 1 bytes of printable
 * ASCII (an ETag read back from the cache file is outside input). */
bool canary__headers_addv(canary__headers *h, const char *name,
	const char *value);

typedef struct canary__xfer_spec {
	const char *url;
	const canary__headers *headers; /* borrowed until xfer_start returns */
	bool stream;
	canary__data_fn on_data;     /* stream only */
	void *ctx;
	const void *body;            /* non-NULL: a POST of this JSON body,
	                                borrowed until the xfer is freed */
	size_t body_len;
} canary__xfer_spec;

typedef struct canary__xfer_result {
	int rc;            /* CANARY_OK: a response arrived (any status); else
	                      CANARY_ENETWORK, CANARY_ETIMEOUT, CANARY_EPARSE
	                      (too large) or CANARY_ENOTSUP (hook: no stream) */
	long status;       /* HTTP status; 0 when none */
	char etag[CANARY_HTTP_HEADER_MAX];
	char retry_after[CANARY_HTTP_HEADER_MAX];
	char *body;        /* 200 body of a non-stream request, NUL-terminated */
	size_t body_len;
	char key[160];     /* stable description, for "log once" comparisons */
	char detail[256];  /* the same with specifics, for the log */
} canary__xfer_result;

/* `url` as a log line may show it: a user part ("user:password@") is
 * replaced by "***@". */
void canary__url_for_log(const char *url, char *buf, size_t len);

/* `base` (trailing slashes dropped) + `path`, allocated with `a`; NULL
 * when out of memory. */
char *canary__url_join(const canary__alloc *a, const char *base,
	const char *path);

/* The response's Retry-After as a wait in ms (capped at
 * CANARY__RETRY_AFTER_MAX_MS), 0 when it has none or an unusable one. */
uint32_t canary__xfer_retry_after_ms(const canary__xfer_result *r);

/*
 * Parse a Retry-After header value (RFC 9110, 10.2.3): delta-seconds
 * ("120"), or an HTTP-date in any of its three formats (IMF-fixdate
 * "Sun, 06 Nov 1994 08:49:37 GMT", RFC 850 "Sunday, 06-Nov-94 08:49:37
 * GMT", asctime "Sun Nov  6 08:49:37 1994", read by curl_getdate()),
 * relative to `now_unix_s`. A date in the past gives 0; the wait is capped
 * at CANARY__RETRY_AFTER_MAX_MS. Returns true and sets *out_ms, or false
 * for anything else.
 */
bool canary__retry_after_parse(const char *value, int64_t now_unix_s,
	uint32_t *out_ms);

/* Let `easy` (a CURL *) speak http and https only, redirects included:
 * whatever URL it is given, never file://, gopher:// or the like. Every
 * handle of the SDK is set up with it (canaryctl, which may not include
 * sdk/, does the same in ctl_client.c). */
void canary__curl_web_only(void *easy);

int canary__transport_new(canary__transport **out, const canary__alloc *a,
	const canary__transport_opts *opts);

/* Free the transport. Every xfer must have been freed first. */
void canary__transport_free(canary__transport *t);

/* After fork(), in the child: drop the parent's connections without
 * closing or reading them (they are shared with the parent). Their memory
 * is deliberately leaked; `t` itself is freed. */
void canary__transport_abandon(canary__transport *t);

/* True when requests run in the background (libcurl), false for a hook. */
bool canary__transport_is_async(const canary__transport *t);

/* Queue a request (libcurl) or run it now (hook). *out is freed with
 * canary__xfer_free(). Returns CANARY_OK or CANARY_ENOMEM. */
int canary__xfer_start(canary__transport *t, const canary__xfer_spec *spec,
	canary__xfer **out);

bool canary__xfer_done(const canary__xfer *x);
const canary__xfer_result *canary__xfer_outcome(const canary__xfer *x);

/* Cancel if still running, and free. Accepts NULL. */
void canary__xfer_free(canary__xfer *x);

/* Progress every request without blocking. */
void canary__transport_perform(canary__transport *t);

/* Sleep up to timeout_ms, less when a socket needs attention or on wakeup. */
void canary__transport_wait(canary__transport *t, uint32_t timeout_ms);

/* Interrupt canary__transport_wait() from any thread. */
void canary__transport_wakeup(canary__transport *t);

#endif
