/*
 * transport.h - HTTP for the data path: libcurl's multi interface, or the
 * application's transport hook (canary_transport).
 *
 * Nothing here blocks with libcurl: canary__xfer_start() only queues a
 * request, canary__transport_perform() moves every request on as far as it
 * can without waiting, and canary__transport_wait() is the one place that
 * sleeps (until a socket is ready, a timeout, or a wakeup). So the same code
 * serves the background thread and canary_client_tick(). A hook is called
 * synchronously by canary__xfer_start().
 *
 * Secrets: the SDK key only ever goes into the Authorization header; no
 * message produced here contains a header or the URL's user part.
 */
#ifndef CANARY_SDK_TRANSPORT_H
#define CANARY_SDK_TRANSPORT_H

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
	const char *sdk_key;         /* borrowed for the transport's life */
	const char *ca_file, *ca_path;
	bool insecure;
	uint32_t connect_timeout_ms;
	uint32_t request_timeout_ms;
	size_t max_bytes;            /* largest non-stream body */
	const canary_transport *hook; /* request NULL = libcurl */
	atomic_bool *stop;           /* set = abandon everything */
} canary__transport_opts;

typedef struct canary__xfer_spec {
	const char *url;
	const char *etag;            /* If-None-Match; NULL or "" = none */
	const char *last_event_id;   /* NULL or "" = none */
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
	char key[96];      /* stable description, for "log once" comparisons */
	char detail[256];  /* the same with specifics, for the log */
} canary__xfer_result;

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
