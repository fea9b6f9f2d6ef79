/*
 * conns.c - see conns.h. One list per listener under one mutex; a
 * connection's record is its libmicrohttpd socket context.
 */
#include "http/conns.h"

#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

#include "canary/canary.h"

#define PRESSED_WAIT_MS 1000

typedef struct conn {
	struct conn *prev, *next;
	cs_conns *owner;
	int fd;
	uint64_t deadline;  /* monotonic ms; 0 = none */
	uint64_t since;     /* when it began to wait for headers */
	bool waiting;       /* for a request's headers */
	bool shut;          /* shut down already */
} conn;

struct cs_conns {
	pthread_mutex_t lock;
	conn *head;
	uint64_t count;
	uint64_t header_timeout_ms;
	uint64_t pressure;  /* this many open: under pressure */
};

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int cs_conns_new(cs_conns **out, uint64_t header_timeout_ms,
	uint64_t limit)
{
	cs_conns *cs = calloc(1, sizeof(*cs));

	*out = NULL;
	if (!cs)
		return CANARY_ENOMEM;
	pthread_mutex_init(&cs->lock, NULL);
	cs->header_timeout_ms = header_timeout_ms;
	cs->pressure = limit - limit / 4;
	*out = cs;
	return CANARY_OK;
}

void cs_conns_free(cs_conns *cs)
{
	if (!cs)
		return;
	pthread_mutex_destroy(&cs->lock);
	free(cs);
}

static void started(cs_conns *cs, struct MHD_Connection *c, void **ctx)
{
	const union MHD_ConnectionInfo *fd = MHD_get_connection_info(c,
		MHD_CONNECTION_INFO_CONNECTION_FD);
	conn *k = calloc(1, sizeof(*k));

	/* Without a record the connection has no deadline of ours: only
	 * libmicrohttpd's idle timeout. */
	*ctx = k;
	if (!k)
		return;
	k->owner = cs;
	k->fd = fd ? fd->connect_fd : -1;
	k->since = mono_ms();
	k->deadline = k->since + cs->header_timeout_ms;
	k->waiting = true;
	pthread_mutex_lock(&cs->lock);
	k->next = cs->head;
	if (cs->head)
		cs->head->prev = k;
	cs->head = k;
	cs->count++;
	pthread_mutex_unlock(&cs->lock);
}

static void closed(cs_conns *cs, void **ctx)
{
	conn *k = *ctx;

	if (!k)
		return;
	pthread_mutex_lock(&cs->lock);
	if (k->prev)
		k->prev->next = k->next;
	else
		cs->head = k->next;
	if (k->next)
		k->next->prev = k->prev;
	cs->count--;
	pthread_mutex_unlock(&cs->lock);
	free(k);
	*ctx = NULL;
}

void cs_conns_notify(void *cls, struct MHD_Connection *c,
	void **socket_context, enum MHD_ConnectionNotificationCode code)
{
	if (code == MHD_CONNECTION_NOTIFY_STARTED)
		started(cls, c, socket_context);
	else if (code == MHD_CONNECTION_NOTIFY_CLOSED)
		closed(cls, socket_context);
}

void cs_conns_deadline(struct MHD_Connection *c, uint64_t ms, bool waiting)
{
	const union MHD_ConnectionInfo *info = MHD_get_connection_info(c,
		MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	conn *k = info ? info->socket_context : NULL;
	uint64_t now = mono_ms();

	if (!k)
		return;
	pthread_mutex_lock(&k->owner->lock);
	k->deadline = ms ? now + ms : 0;
	k->waiting = waiting;
	k->since = now;
	pthread_mutex_unlock(&k->owner->lock);
}

/* Is `k` past its deadline (pressed: the shorter wait for headers)? */
static bool overdue(const conn *k, uint64_t now, bool pressed)
{
	if (k->shut || k->fd < 0)
		return false;
	if (pressed && k->waiting && now - k->since >= PRESSED_WAIT_MS)
		return true;
	return k->deadline && now >= k->deadline;
}

uint64_t cs_conns_expire(cs_conns *cs)
{
	uint64_t now = mono_ms(), n = 0;
	bool pressed;
	conn *k;

	pthread_mutex_lock(&cs->lock);
	pressed = cs->count >= cs->pressure;
	for (k = cs->head; k; k = k->next) {
		if (!overdue(k, now, pressed))
			continue;
		/* The descriptor is libmicrohttpd's and still open: its close
		 * notification waits for this lock. */
		shutdown(k->fd, SHUT_RDWR);
		k->shut = true;
		n++;
	}
	pthread_mutex_unlock(&cs->lock);
	return n;
}

uint64_t cs_conns_count(cs_conns *cs)
{
	uint64_t n;

	pthread_mutex_lock(&cs->lock);
	n = cs->count;
	pthread_mutex_unlock(&cs->lock);
	return n;
}
