/*
 * webhook_sender.c - deliver queued webhook events with libcurl, one
 * attempt at a time, and record each attempt in the store.
 */
#include "notify/webhook_sender.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "canary/canary.h"
#include "clock.h"
#include "http/credential.h"
#include "logline.h"
#include "notify/webhook_target.h"

#define BATCH 16                 /* deliveries read per pass */
#define MAX_BACKOFF_MS 3600000   /* an hour */

struct cs_webhook_sender {
	cs_store *store;
	cs_may_send_fn may_send;
	void *ctx;
	uint64_t poll_ms, retry_ms;
	bool allow_loopback;         /* webhook_target.h */
	pthread_t thread;
	bool started, stop;
	pthread_mutex_t lock;        /* guards stop */
	pthread_cond_t wake;
};

int cs_webhook_signature(const char *secret, const char *timestamp,
	const char *body, char out[68])
{
	size_t tl = strlen(timestamp), bl = strlen(body);
	char *msg = malloc(tl + 1 + bl), hex[65];
	int rc;

	if (!msg)
		return CANARY_ENOMEM;
	memcpy(msg, timestamp, tl);
	msg[tl] = '.';
	memcpy(msg + tl + 1, body, bl);
	rc = cs_hmac_sha256_hex(secret, msg, tl + 1 + bl, hex);
	free(msg);
	if (rc == CANARY_OK)
		snprintf(out, 68, "v1=%s", hex);
	return rc;
}

/* Replies are read and dropped: only the status matters. */
static size_t discard(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return size * n;
}

/* What the socket callback was told, and why it refused an address. */
typedef struct target {
	bool allow_loopback;
	const char *refused;
} target;

/* Every address libcurl connects to (whatever the name resolved to) is
 * checked against webhook_target.h's rule before the socket is made. */
static curl_socket_t open_socket(void *arg, curlsocktype purpose,
	struct curl_sockaddr *a)
{
	target *t = arg;
	const char *why = cs_webhook_addr_refused(&a->addr, t->allow_loopback);

	(void)purpose;
	if (why) {
		t->refused = why;
		return CURL_SOCKET_BAD;
	}
	return socket(a->family, a->socktype, a->protocol);
}

/* Add "Name: value" to the list; NULL (the whole list freed) on ENOMEM. */
static struct curl_slist *header(struct curl_slist *l, const char *name,
	const char *value)
{
	char line[256];
	struct curl_slist *n;

	snprintf(line, sizeof(line), "%s: %s", name, value);
	n = curl_slist_append(l, line);
	if (!n)
		curl_slist_free_all(l);
	return n;
}

/* One POST of `d`; *status gets the HTTP status (0: none), `err` why it
 * failed. true on a 2xx. */
static bool post(const cs_webhook_sender *s, const cs_delivery *d,
	long *status, char *err, size_t len)
{
	target t = { s->allow_loopback, NULL };
	CURL *h = curl_easy_init();
	struct curl_slist *hdrs = NULL;
	char ts[32], id[32], sig[68];
	CURLcode rc;

	*status = 0;
	snprintf(ts, sizeof(ts), "%lld", (long long)time(NULL));
	snprintf(id, sizeof(id), "%lld", (long long)d->id);
	if (!h || cs_webhook_signature(d->secret, ts, d->payload, sig) !=
	    CANARY_OK) {
		curl_easy_cleanup(h);
		snprintf(err, len, "out of memory");
		return false;
	}
	hdrs = header(hdrs, "Content-Type", "application/json");
	hdrs = hdrs ? header(hdrs, "Canary-Webhook-Id", id) : NULL;
	hdrs = hdrs ? header(hdrs, "Canary-Webhook-Event", d->event) : NULL;
	hdrs = hdrs ? header(hdrs, "Canary-Webhook-Timestamp", ts) : NULL;
	hdrs = hdrs ? header(hdrs, "Canary-Webhook-Signature", sig) : NULL;
	curl_easy_setopt(h, CURLOPT_URL, d->url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, d->payload);
	curl_easy_setopt(h, CURLOPT_USERAGENT,
		"canary-server/" CANARY_VERSION_STRING);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 10000L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, open_socket);
	curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, &t);
	rc = hdrs ? curl_easy_perform(h) : CURLE_OUT_OF_MEMORY;
	if (rc == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(h);
	if (rc != CURLE_OK && t.refused)
		snprintf(err, len, "refused to connect to %s", t.refused);
	else if (rc != CURLE_OK)
		snprintf(err, len, "%s", curl_easy_strerror(rc));
	else if (*status < 200 || *status > 299)
		snprintf(err, len, "HTTP %ld", *status);
	else
		err[0] = '\0';
	return rc == CURLE_OK && *status >= 200 && *status <= 299;
}

/* The wait before attempt `attempts` + 1: retry_ms, doubling. */
static int64_t backoff(const cs_webhook_sender *s, int64_t attempts)
{
	uint64_t ms = s->retry_ms;

	while (attempts-- > 1 && ms < MAX_BACKOFF_MS)
		ms *= 2;
	return (int64_t)(ms < MAX_BACKOFF_MS ? ms : MAX_BACKOFF_MS);
}

static void deliver(cs_webhook_sender *s, const cs_delivery *d)
{
	cs_log_about about = { "webhook.delivery", NULL, d->flag, 0 };
	char err[256];
	long status;
	bool ok = post(s, d, &status, err, sizeof(err));
	int64_t now = canary__wall_ms(), tries = d->attempts + 1;
	cs_attempt a;

	memset(&a, 0, sizeof(a));
	a.now_ms = now;
	a.status = status;
	a.error = err;
	a.state = ok ? "delivered" : tries >= CS_WEBHOOK_ATTEMPTS ? "failed" :
		"pending";
	a.next_ms = ok ? now : now + backoff(s, tries);
	if (cs_store_delivery_attempt(s->store, d->id, &a) != CANARY_OK)
		cs_log(CS_LOG_ERROR, &about, "webhook %lld: cannot record "
			"delivery %lld", (long long)d->webhook_id,
			(long long)d->id);
	else if (ok)
		cs_log(CS_LOG_INFO, &about, "webhook %lld: delivered %s "
			"(delivery %lld, attempt %lld)",
			(long long)d->webhook_id, d->event, (long long)d->id,
			(long long)tries);
	else
		cs_log(CS_LOG_WARN, &about, "webhook %lld: delivery %lld of "
			"%s failed (attempt %lld): %s; %s",
			(long long)d->webhook_id, (long long)d->id, d->event,
			(long long)tries, err, *a.state == 'f' ? "given up" :
			"will retry");
}

/* Send what is due now; true when a full batch was read (more may be). */
static bool drain(cs_webhook_sender *s)
{
	cs_delivery *d = NULL;
	size_t n = 0, i;

	if (cs_store_deliveries_due(s->store, canary__wall_ms(), BATCH, &d,
		    &n) != CANARY_OK)
		return false;
	for (i = 0; i < n; i++)
		deliver(s, &d[i]);
	cs_deliveries_free(d, n);
	return n == BATCH;
}

static bool stopping(cs_webhook_sender *s)
{
	bool stop;

	pthread_mutex_lock(&s->lock);
	stop = s->stop;
	pthread_mutex_unlock(&s->lock);
	return stop;
}

static void *run(void *arg)
{
	cs_webhook_sender *s = arg;
	struct timespec until;

	while (!stopping(s)) {
		if (s->may_send(s->ctx) && drain(s))
			continue;
		pthread_mutex_lock(&s->lock);
		until = canary__deadline((uint32_t)(s->poll_ms < UINT32_MAX ?
			s->poll_ms : UINT32_MAX));
		if (!s->stop)
			pthread_cond_timedwait(&s->wake, &s->lock, &until);
		pthread_mutex_unlock(&s->lock);
	}
	return NULL;
}

int cs_sender_new(cs_webhook_sender **out, cs_store *store,
	cs_may_send_fn may_send, void *ctx, uint64_t poll_ms,
	uint64_t retry_ms, bool allow_loopback)
{
	cs_webhook_sender *s = calloc(1, sizeof(*s));

	*out = s;
	if (!s)
		return CANARY_ENOMEM;
	s->store = store;
	s->may_send = may_send;
	s->ctx = ctx;
	s->poll_ms = poll_ms;
	s->retry_ms = retry_ms;
	s->allow_loopback = allow_loopback;
	pthread_mutex_init(&s->lock, NULL);
	canary__cond_init(&s->wake);
	return CANARY_OK;
}

int cs_sender_start(cs_webhook_sender *s)
{
	if (pthread_create(&s->thread, NULL, run, s) != 0)
		return CANARY_ENOMEM;
	s->started = true;
	return CANARY_OK;
}

void cs_sender_free(cs_webhook_sender *s)
{
	if (!s)
		return;
	if (s->started) {
		pthread_mutex_lock(&s->lock);
		s->stop = true;
		pthread_cond_signal(&s->wake);
		pthread_mutex_unlock(&s->lock);
		pthread_join(s->thread, NULL);
	}
	pthread_cond_destroy(&s->wake);
	pthread_mutex_destroy(&s->lock);
	free(s);
}
