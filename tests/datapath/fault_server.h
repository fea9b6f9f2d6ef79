/*
 * fault_server.h - a small HTTP/1.1 server for the data path tests. It
 * serves /v1/flags and /v1/stream like canary-server does, and can be told
 * to misbehave in every way the SDK must survive. Listens on 127.0.0.1 with
 * an ephemeral port; one thread per connection; fs_stop() ends them all.
 */
#ifndef CANARY_TEST_FAULT_SERVER_H
#define CANARY_TEST_FAULT_SERVER_H

#include <stddef.h>
#include <stdint.h>

typedef enum fs_mode {
	FS_NORMAL = 0,     /* flags: 200 + ETag, 304 on If-None-Match;
	                      stream: events on change, heartbeats */
	FS_500,            /* 500 with a small body */
	FS_503_RETRY,      /* 503 with Retry-After: fs_set_retry_after() */
	FS_401,
	FS_404,
	FS_GARBAGE,        /* 200 with a body that is not JSON */
	FS_TRUNCATED,      /* 200 with a cut JSON document (correct length) */
	FS_SHORT,          /* Content-Length larger than the body sent */
	FS_HUGE,           /* 200, no length, a 50 MB body */
	FS_ENDLESS,        /* 200, no length, a byte every 20 ms forever */
	FS_STALL,          /* read the request, never answer */
	FS_DROP_MID_EVENT, /* stream: half an event, then close */
	FS_GZIP_BOMB       /* stream: a gzip body that never ends, config
	                      events of rising versions each padded with a
	                      16 KiB comment (about 300:1), flushed in
	                      blocks of 256 events, as fast as the client
	                      reads */
} fs_mode;

typedef struct fs_server fs_server;

/* Start; aborts the test on failure. */
fs_server *fs_start(void);

/* Stop and free: closes every connection, joins every thread. */
void fs_stop(fs_server *s);

/* "http://127.0.0.1:PORT" */
const char *fs_url(const fs_server *s);

/* The config served: `json` (copied) must hold "version": version. The
 * JSON is sent over the stream split on its newlines into data: lines. */
void fs_set_config(fs_server *s, const char *json, uint64_t version);

void fs_set_flags_mode(fs_server *s, fs_mode mode);
void fs_set_stream_mode(fs_server *s, fs_mode mode);
void fs_set_retry_after(fs_server *s, const char *value);
/* End every open stream (clients reconnect, under the modes now set). */
void fs_kick_streams(fs_server *s);
/* Require "Authorization: Bearer <key>" (NULL = accept anything). */
void fs_require_key(fs_server *s, const char *key);

/* The ETag /v1/flags sends for the config served now. */
void fs_etag(fs_server *s, char *out, size_t len);

/* Counters. */
int fs_count(fs_server *s, const char *path);   /* requests for path */
int fs_count_304(fs_server *s);
int fs_streams_open(fs_server *s);
/* Copy of a header of the last request for `path` ("" if none). */
void fs_last_header(fs_server *s, const char *path, const char *name,
	char *out, size_t outlen);

/* A config document for tests: flags "f50" (50%), "all" (100%), "none"
 * (0%) and "vip" (0% but allow-listed "alice"), pretty-printed over several
 * lines. Returns a static buffer (per thread). */
const char *fs_config_json(uint64_t version);

#endif
