/*
 * sse_hub.h - GET /v1/stream: Server-Sent Events without a thread per
 * connection.
 *
 * Each stream is a libmicrohttpd response whose content reader writes what
 * is due (a config event, a heartbeat comment) and, when nothing is due,
 * suspends its connection and returns 0. An idle stream therefore costs a
 * socket and a small struct, not a thread and not a poll wakeup. Publishing
 * a new config or a heartbeat resumes every suspended stream; each one
 * writes its event and suspends again.
 */
#ifndef CS_STREAM_H
#define CS_STREAM_H

#include <stddef.h>
#include <stdint.h>

struct MHD_Connection;
struct MHD_Response;
typedef struct cs_stream_hub cs_stream_hub;

/* At most `max_streams` streams at once (cs_hub_open). */
int cs_hub_new(cs_stream_hub **out, uint64_t max_streams);

/* cs_hub_open's answer when max_streams are open. */
#define CS_HUB_FULL (-200)

/* Free after the daemon has stopped (every stream is gone by then). */
void cs_hub_free(cs_stream_hub *hub);

/*
 * The new config, as "id: <version>\nevent: config\ndata: <json>\n\n".
 * `json` must be one line (cJSON's unformatted output is). Wakes every
 * stream at once.
 */
int cs_hub_publish(cs_stream_hub *hub, uint64_t version, const char *json,
	size_t len);

/* Ask every stream to send a heartbeat comment (": hb"). */
void cs_hub_heartbeat(cs_stream_hub *hub);

/* End every stream (they finish their response) and refuse new ones; call
 * before MHD_stop_daemon, which must not find suspended connections. */
void cs_hub_close(cs_stream_hub *hub);

/* Wait up to `timeout_ms` until no stream is suspended or open. */
void cs_hub_drain(cs_stream_hub *hub, unsigned int timeout_ms);

uint64_t cs_hub_count(cs_stream_hub *hub);

/*
 * A stream response for `conn` in *out. `last_event_id` is the client's
 * Last-Event-ID header (NULL when absent): if it names the current version
 * nothing is sent until the next change, otherwise the current config is
 * sent at once. Returns CANARY_OK, CS_HUB_FULL, CANARY_ESTATE when
 * closing, or CANARY_ENOMEM.
 */
int cs_hub_open(cs_stream_hub *hub, struct MHD_Connection *conn,
	const char *last_event_id, struct MHD_Response **out);

/* The headers of a stream's response without its body (HEAD), or NULL. */
struct MHD_Response *cs_hub_head(void);

#endif
