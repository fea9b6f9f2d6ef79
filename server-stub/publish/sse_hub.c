/*
 * sse_hub.c - the SSE hub: shared event buffers, per-stream cursors,
 * suspend when idle, resume on publish or heartbeat.
 *
 * Invariants (all under hub->lock):
 *  - a stream is suspended iff s->suspended; only the reader suspends and
 *    only wake_all() resumes, clearing the flag first, so a connection is
 *    never resumed twice or resumed while running.
 *  - the reader decides to suspend and suspends under the lock, so a
 *    publish cannot slip between "nothing to send" and "suspended".
 *  - streams unlink themselves in the response's free callback, which MHD
 *    calls once the connection is done with the response.
 */
#include "publish/sse_hub.h"

#include <microhttpd.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "canary/canary.h"
#include "clock.h"

/* One published event, shared by every stream sending it. */
typedef struct evbuf {
	unsigned int refs;
	uint64_t version;
	size_t len;
	char data[];
} evbuf;

typedef struct stream {
	struct stream *prev, *next;
	struct stream *wake_next; /* on a wake list, while being resumed */
	cs_stream_hub *hub;
	struct MHD_Connection *conn;
	bool suspended;
	bool sent_any;          /* sent_version is meaningful */
	uint64_t sent_version;
	uint64_t hb_seen;
	evbuf *cur;             /* event being written, with a reference */
	size_t off;
	char small[32];         /* retry line or heartbeat being written */
	size_t small_len, small_off;
} stream;

struct cs_stream_hub {
	pthread_mutex_t lock;
	pthread_cond_t gone;    /* a stream was freed */
	stream *head;
	uint64_t count, max;
	evbuf *current;         /* latest config event, or NULL */
	uint64_t hb_seq;
	bool closing;
};

static const char heartbeat[] = ": hb\n\n";
/* Tells EventSource clients how soon to reconnect; also makes the first
 * body bytes flush the response headers at once. */
static const char hello[] = "retry: 3000\n\n";

int cs_hub_new(cs_stream_hub **out, uint64_t max_streams)
{
	cs_stream_hub *h = calloc(1, sizeof(*h));

	*out = NULL;
	if (!h)
		return CANARY_ENOMEM;
	h->max = max_streams;
	pthread_mutex_init(&h->lock, NULL);
	canary__cond_init(&h->gone);
	*out = h;
	return CANARY_OK;
}

static void evbuf_release(evbuf *b)
{
	if (b && --b->refs == 0)
		free(b);
}

void cs_hub_free(cs_stream_hub *h)
{
	if (!h)
		return;
	evbuf_release(h->current);
	pthread_cond_destroy(&h->gone);
	pthread_mutex_destroy(&h->lock);
	free(h);
}

/*
 * Take every suspended stream off suspension (under the lock) and return
 * them as a list to resume with resume_list() after unlocking. A suspended
 * connection cannot make progress or be freed until it is resumed, so the
 * list stays valid without the lock; resuming unlocked keeps libmicrohttpd's
 * own mutexes out of our lock order.
 */
static stream *wake_all(cs_stream_hub *h)
{
	stream *s, *list = NULL;

	for (s = h->head; s; s = s->next) {
		if (s->suspended) {
			s->suspended = false;
			s->wake_next = list;
			list = s;
		}
	}
	return list;
}

static void resume_list(stream *list)
{
	while (list) {
		stream *next = list->wake_next;

		/* After this call `list` may run and be freed at any time. */
		MHD_resume_connection(list->conn);
		list = next;
	}
}

int cs_hub_publish(cs_stream_hub *h, uint64_t version, const char *json,
	size_t len)
{
	char head[64];
	int n = snprintf(head, sizeof(head), "id: %llu\nevent: config\ndata: ",
		(unsigned long long)version);
	evbuf *b = malloc(sizeof(*b) + (size_t)n + len + 2);
	stream *list;

	if (!b)
		return CANARY_ENOMEM;
	b->refs = 1;
	b->version = version;
	memcpy(b->data, head, (size_t)n);
	memcpy(b->data + n, json, len);
	memcpy(b->data + (size_t)n + len, "\n\n", 2);
	b->len = (size_t)n + len + 2;
	pthread_mutex_lock(&h->lock);
	if (h->current && h->current->version > version) {
		pthread_mutex_unlock(&h->lock);
		free(b);
		return CANARY_OK;
	}
	evbuf_release(h->current);
	h->current = b;
	list = wake_all(h);
	pthread_mutex_unlock(&h->lock);
	resume_list(list);
	return CANARY_OK;
}

void cs_hub_heartbeat(cs_stream_hub *h)
{
	stream *list;

	pthread_mutex_lock(&h->lock);
	h->hb_seq++;
	list = wake_all(h);
	pthread_mutex_unlock(&h->lock);
	resume_list(list);
}

void cs_hub_close(cs_stream_hub *h)
{
	stream *list;

	pthread_mutex_lock(&h->lock);
	h->closing = true;
	list = wake_all(h);
	pthread_mutex_unlock(&h->lock);
	resume_list(list);
}

void cs_hub_drain(cs_stream_hub *h, unsigned int timeout_ms)
{
	struct timespec ts = canary__deadline(timeout_ms);

	pthread_mutex_lock(&h->lock);
	while (h->head) {
		stream *list = wake_all(h);

		if (list) {
			pthread_mutex_unlock(&h->lock);
			resume_list(list);
			pthread_mutex_lock(&h->lock);
			continue;
		}
		if (pthread_cond_timedwait(&h->gone, &h->lock, &ts) != 0)
			break;
	}
	pthread_mutex_unlock(&h->lock);
}

uint64_t cs_hub_count(cs_stream_hub *h)
{
	uint64_t n;

	pthread_mutex_lock(&h->lock);
	n = h->count;
	pthread_mutex_unlock(&h->lock);
	return n;
}

/* Copy pending bytes into buf; returns how many. */
static size_t drain_pending(stream *s, char *buf, size_t max)
{
	size_t n = 0, k;

	if (s->small_off < s->small_len) {
		k = s->small_len - s->small_off;
		if (k > max)
			k = max;
		memcpy(buf, s->small + s->small_off, k);
		s->small_off += k;
		n += k;
	}
	if (s->cur && n < max) {
		k = s->cur->len - s->off;
		if (k > max - n)
			k = max - n;
		memcpy(buf + n, s->cur->data + s->off, k);
		s->off += k;
		n += k;
		if (s->off == s->cur->len) {
			evbuf_release(s->cur);
			s->cur = NULL;
		}
	}
	return n;
}

/* Queue what is due: the current config, else a heartbeat. */
static bool take_due(cs_stream_hub *h, stream *s)
{
	if (h->current && (!s->sent_any ||
			   s->sent_version != h->current->version)) {
		s->cur = h->current;
		s->cur->refs++;
		s->off = 0;
		s->sent_any = true;
		s->sent_version = h->current->version;
		return true;
	}
	if (s->hb_seen != h->hb_seq) {
		s->hb_seen = h->hb_seq;
		memcpy(s->small, heartbeat, sizeof(heartbeat) - 1);
		s->small_len = sizeof(heartbeat) - 1;
		s->small_off = 0;
		return true;
	}
	return false;
}

static ssize_t reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	stream *s = cls;
	cs_stream_hub *h = s->hub;
	ssize_t n;

	(void)pos;
	pthread_mutex_lock(&h->lock);
	n = (ssize_t)drain_pending(s, buf, max);
	if (n == 0 && !h->closing && take_due(h, s))
		n = (ssize_t)drain_pending(s, buf, max);
	if (n == 0 && h->closing) {
		pthread_mutex_unlock(&h->lock);
		return MHD_CONTENT_READER_END_OF_STREAM;
	}
	if (n == 0) {
		/* Nothing due: park the connection until wake_all(). */
		s->suspended = true;
		MHD_suspend_connection(s->conn);
	}
	pthread_mutex_unlock(&h->lock);
	return n;
}

static void stream_free(void *cls)
{
	stream *s = cls;
	cs_stream_hub *h = s->hub;

	pthread_mutex_lock(&h->lock);
	if (s->prev)
		s->prev->next = s->next;
	else
		h->head = s->next;
	if (s->next)
		s->next->prev = s->prev;
	h->count--;
	evbuf_release(s->cur);
	pthread_cond_broadcast(&h->gone);
	pthread_mutex_unlock(&h->lock);
	free(s);
}

/* Parse Last-Event-ID; false when absent or not a plain number. */
static bool parse_id(const char *v, uint64_t *out)
{
	unsigned long long n = 0;

	if (!v || !*v)
		return false;
	for (; *v; v++) {
		if (*v < '0' || *v > '9' || n > 1000000000000000000ull)
			return false;
		n = n * 10 + (unsigned long long)(*v - '0');
	}
	*out = n;
	return true;
}

/* The stream's headers on `r` (NULL-safe); NULL when they cannot be set
 * (r destroyed). */
static struct MHD_Response *with_headers(struct MHD_Response *r)
{
	if (!r)
		return NULL;
	if (MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
		    "text/event-stream") != MHD_YES ||
	    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL,
		    "no-cache") != MHD_YES ||
	    MHD_add_response_header(r, "X-Accel-Buffering", "no") != MHD_YES) {
		MHD_destroy_response(r); /* a stream's calls stream_free */
		return NULL;
	}
	return r;
}

/* A HEAD request gets these headers and no body: a stream's response,
 * a content reader of unknown size, would send the chunked ending. */
struct MHD_Response *cs_hub_head(void)
{
	return with_headers(MHD_create_response_from_buffer(0, NULL,
		MHD_RESPMEM_PERSISTENT));
}

int cs_hub_open(cs_stream_hub *h, struct MHD_Connection *conn,
	const char *last_event_id, struct MHD_Response **out)
{
	stream *s = calloc(1, sizeof(*s));
	struct MHD_Response *r;
	uint64_t id;

	*out = NULL;
	if (!s)
		return CANARY_ENOMEM;
	s->hub = h;
	s->conn = conn;
	memcpy(s->small, hello, sizeof(hello) - 1);
	s->small_len = sizeof(hello) - 1;
	pthread_mutex_lock(&h->lock);
	if (h->closing || h->count >= h->max) {
		int rc = h->closing ? CANARY_ESTATE : CS_HUB_FULL;

		pthread_mutex_unlock(&h->lock);
		free(s);
		return rc;
	}
	s->hb_seen = h->hb_seq;
	if (parse_id(last_event_id, &id) && h->current &&
	    id == h->current->version) {
		s->sent_any = true; /* the client is up to date */
		s->sent_version = id;
	}
	s->next = h->head;
	if (h->head)
		h->head->prev = s;
	h->head = s;
	h->count++;
	pthread_mutex_unlock(&h->lock);
	r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, reader,
		s, stream_free);
	if (!r) {
		stream_free(s); /* unlinks it */
		return CANARY_ENOMEM;
	}
	*out = with_headers(r);
	return *out ? CANARY_OK : CANARY_ENOMEM;
}
