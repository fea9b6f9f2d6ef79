/*
 * fuzz_fetch.c - the whole fetch path with the service's answers chosen by
 * the fuzzer: a no-thread client whose transport hook plays a sequence of
 * responses (status, ETag, Retry-After, body handed over in pieces of a
 * fuzzed size) to every request it makes: config polls, and the event
 * batches its evaluations produce. Each canary_client_tick() runs on a clock moved an hour on,
 * past any backoff. Must hold whatever the service says:
 *   - no crash, no leak;
 *   - the config version never goes back;
 *   - after a 401 or 403 to a config request the hook is never called
 *     again (AUTH_ERROR);
 *   - evaluation always answers.
 *
 * Input: records of [status selector][etag len][etag][retry-after len]
 * [retry-after][body len: 2 bytes][body][piece size].
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "canary/canary.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct player {
	const uint8_t *p;
	size_t left;
	int calls;
	int auth_failed;
} player;

static const int statuses[] = { 200, 200, 200, 304, 401, 403, 404, 429,
	500, 503, 204, 301 };

static size_t take(player *pl, size_t n, const uint8_t **out)
{
	if (n > pl->left)
		n = pl->left;
	*out = pl->p;
	pl->p += n, pl->left -= n;
	return n;
}

static unsigned take_byte(player *pl)
{
	const uint8_t *b;

	return take(pl, 1, &b) ? b[0] : 0;
}

static void copy_header(char *dst, player *pl)
{
	const uint8_t *b;
	size_t n = take(pl, take_byte(pl) % CANARY_HTTP_HEADER_MAX, &b);

	memcpy(dst, b, n);
	dst[n] = '\0'; /* a NUL inside is fine: C strings stop there */
}

static int play(const canary_http_request *req, canary_http_response *resp,
	void *ctx)
{
	player *pl = ctx;
	const uint8_t *body;
	size_t len, piece, off;

	if (pl->auth_failed)
		abort(); /* 401/403 must stop all requests */
	pl->calls++;
	if (!pl->left || req->stream)
		return req->stream ? CANARY_ENOTSUP : CANARY_ENETWORK;
	resp->status = statuses[take_byte(pl) % (sizeof(statuses) /
		sizeof(*statuses))];
	copy_header(resp->etag, pl);
	copy_header(resp->retry_after, pl);
	len = take_byte(pl) << 8;
	len |= take_byte(pl);
	len = take(pl, len, &body);
	piece = take_byte(pl) + 1;
	for (off = 0; off < len; off += piece)
		if (req->body_fn(body + off, len - off < piece ? len - off : piece,
		    req->body_ctx) != 0)
			break;
	/* A config request refused for the key stops the client; an event
	 * POST refused that way keeps its batch for later (docs/events.md). */
	if ((resp->status == 401 || resp->status == 403) &&
	    strcmp(req->method, "GET") == 0)
		pl->auth_failed = 1;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	canary_options o;
	canary_client *c = NULL;
	canary_details d = CANARY_DETAILS_INIT;
	player pl = { data, size, 0, 0 };
	uint64_t now = 1000, version = 0;
	int i;

	if (size > 1 << 18)
		return 0;
	canary_options_init(&o, CANARY_OPTIONS_VERSION);
	o.server_url = "http://127.0.0.1:9"; /* never contacted: the hook */
	o.sdk_key = "sdk-key-fuzz";
	o.no_thread = true;
	o.max_response_bytes = 1 << 16;
	o.transport.request = play;
	o.transport.ctx = &pl;
	if (canary_client_new(&c, &o) != CANARY_OK)
		abort();
	for (i = 0; i < 64 && (pl.left || i < 2); i++) {
		if (canary_client_tick(c, now) != CANARY_OK)
			abort();
		if (canary_client_config_version(c) < version)
			abort(); /* never downgrade */
		version = canary_client_config_version(c);
		(void)canary_enabled(c, "f", "u1");
		(void)canary_evaluate(c, "g", "u2", &d);
		if (pl.auth_failed &&
		    canary_client_status(c) != CANARY_STATUS_AUTH_ERROR)
			abort();
		now += 3600001; /* past any backoff and Retry-After */
	}
	canary_client_free(c);
	return 0;
}
