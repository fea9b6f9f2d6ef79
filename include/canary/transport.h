/*
 * canary/transport.h - the transport hook: libcanary's HTTP requests made
 * by the application instead of libcurl (devices without libcurl, a
 * company HTTP stack, tests). Set canary_options.transport; see
 * docs/datapath.md, "Transport hook".
 *
 * Included by canary/canary.h; it compiles alone as C99 and as C++.
 */
#ifndef CANARY_TRANSPORT_H
#define CANARY_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Body callback handed to a transport hook in canary_http_request: pass it
 * each piece of the response body, in order. A call with len 0 is a
 * liveness check. It returns 0 to go on, non-zero when libcanary wants the
 * request to end (the client is shutting down, the body is too large, or
 * the stream must be dropped): the hook should then return promptly.
 */
typedef int (*canary_http_body_fn)(const void *data, size_t len, void *body_ctx);

/** One HTTP request libcanary asks a transport hook to make. Borrowed for
 *  the duration of the hook call. */
typedef struct canary_http_request {
	const char *method;          /**< "GET" (or "POST" for events) */
	const char *url;             /**< absolute URL */
	const char *const *headers;  /**< "Name: value" lines, header_count of
	                                  them; includes Authorization: never
	                                  log them */
	size_t header_count;
	const void *body;            /**< request body (NULL for GET) */
	size_t body_len;
	uint32_t connect_timeout_ms;
	uint32_t timeout_ms;         /**< whole request; 0 = none (a stream) */
	int stream;                  /**< non-zero: the config stream
	                                  (GET /v1/stream), a response that
	                                  does not end; deliver the body as
	                                  it arrives */
	canary_http_body_fn body_fn; /**< where the body goes */
	void *body_ctx;              /**< pass to body_fn */
} canary_http_request;

/** Size of the header buffers in canary_http_response. */
#define CANARY_HTTP_HEADER_MAX 256

/** What a transport hook reports back. Zeroed by libcanary before the call. */
typedef struct canary_http_response {
	int status;                                /**< HTTP status code */
	char etag[CANARY_HTTP_HEADER_MAX];         /**< ETag header; "" if none */
	char retry_after[CANARY_HTTP_HEADER_MAX];  /**< Retry-After header; "" if none */
} canary_http_response;

/**
 * Transport hook, for devices without libcurl: libcanary makes every HTTP
 * request through `request` instead. The hook is called from the worker
 * thread (or from canary_client_tick() in no-thread mode, where it should
 * honour timeout_ms, since the tick lasts as long as the call; in
 * no-thread mode a hook is only used for polling, never for the stream).
 * Fill `resp` (status and headers before the first body_fn call).
 * @return 0 when a response was received (whatever its status);
 *         CANARY_ENETWORK or CANARY_ETIMEOUT when none was; CANARY_ENOTSUP
 *         for a stream the hook cannot do (libcanary then polls).
 */
typedef struct canary_transport {
	int (*request)(const canary_http_request *req,
		canary_http_response *resp, void *ctx);
	void *ctx;                   /**< passed to request */
} canary_transport;

#ifdef __cplusplus
}
#endif

#endif /* CANARY_TRANSPORT_H */
