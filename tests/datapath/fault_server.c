/*
 * fault_server.c - the data path tests' HTTP server (see fault_server.h).
 */
#define _GNU_SOURCE
#include "fault_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#define MAX_CONNS 4096
#define HEARTBEAT_MS 200

typedef struct request {
	char path[256];
	char auth[512];
	char inm[256];
	char last_id[64];
	char ua[128];
} request;

struct fs_server {
	int listen_fd;
	char url[64];
	pthread_t acceptor;
	pthread_mutex_t lock;
	pthread_cond_t cond;       /* config changes and stop */
	bool stopping;
	char *config;
	uint64_t version;
	fs_mode flags_mode, stream_mode;
	char retry_after[64];
	char key[256];
	int count_flags, count_stream, count_304, streams_open;
	unsigned kick;             /* bumped to end the open streams */
	request last_flags, last_stream;
	int fds[MAX_CONNS];
	pthread_t threads[MAX_CONNS];
	int nconns;
};

typedef struct conn {
	fs_server *s;
	int fd;
} conn;

/* ---- helpers ------------------------------------------------------------ */

static int send_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t k = send(fd, p, n, MSG_NOSIGNAL);

		if (k <= 0) {
			if (k < 0 && errno == EINTR)
				continue;
			return -1;
		}
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

static int send_str(int fd, const char *s)
{
	return send_all(fd, s, strlen(s));
}

/* Wait up to ms for a change; false once the server is stopping. */
static bool nap(fs_server *s, int ms)
{
	struct timespec ts;
	bool going;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&s->lock);
	if (!s->stopping)
		pthread_cond_timedwait(&s->cond, &s->lock, &ts);
	going = !s->stopping;
	pthread_mutex_unlock(&s->lock);
	return going;
}

static void header_value(const char *head, const char *name, char *out,
	size_t outlen)
{
	size_t n = strlen(name);
	const char *p = head;

	out[0] = '\0';
	while ((p = strstr(p, "\r\n"))) {
		p += 2;
		if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
			const char *v = p + n + 1, *e = strstr(v, "\r\n");

			while (*v == ' ')
				v++;
			if (e && (size_t)(e - v) < outlen) {
				memcpy(out, v, (size_t)(e - v));
				out[e - v] = '\0';
			}
			return;
		}
	}
}

static int read_request(fs_server *s, int fd, request *r)
{
	char buf[8192];
	size_t used = 0;
	char *sp;

	memset(r, 0, sizeof(*r));
	buf[0] = '\0';
	while (!strstr(buf, "\r\n\r\n")) {
		struct pollfd p = { fd, POLLIN, 0 };
		ssize_t k;

		if (used + 1 >= sizeof(buf))
			return -1;
		if (poll(&p, 1, 100) == 0) {
			if (!nap(s, 0))
				return -1;
			continue;
		}
		k = recv(fd, buf + used, sizeof(buf) - 1 - used, 0);
		if (k <= 0)
			return -1;
		used += (size_t)k;
		buf[used] = '\0';
	}
	sp = strchr(buf, ' ');
	if (!sp)
		return -1;
	sscanf(sp + 1, "%255[^ ?]", r->path);
	header_value(buf, "Authorization", r->auth, sizeof(r->auth));
	header_value(buf, "If-None-Match", r->inm, sizeof(r->inm));
	header_value(buf, "Last-Event-ID", r->last_id, sizeof(r->last_id));
	header_value(buf, "User-Agent", r->ua, sizeof(r->ua));
	return 0;
}

/* ---- responses ---------------------------------------------------------- */

static void respond(int fd, int status, const char *extra, const char *body)
{
	char head[512];

	snprintf(head, sizeof(head),
		"HTTP/1.1 %d X\r\nContent-Type: application/json\r\n"
		"Content-Length: %zu\r\nConnection: close\r\n%s\r\n",
		status, strlen(body), extra ? extra : "");
	if (send_str(fd, head) == 0)
		send_str(fd, body);
}

static void send_forever(fs_server *s, int fd, bool endless)
{
	static const char start[] = "{\"version\": 999, \"flags\": [";
	char chunk[65536];
	size_t sent = 0;

	send_str(fd, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
		"Connection: close\r\n\r\n");
	send_str(fd, start);
	memset(chunk, ' ', sizeof(chunk));
	while (endless ? nap(s, 20) : sent < 50u * 1024u * 1024u) {
		if (send_all(fd, chunk, endless ? 1 : sizeof(chunk)) != 0)
			return;
		sent += sizeof(chunk);
	}
	send_str(fd, "]}");
}

/* A fault common to both paths; returns true when it handled the request. */
static bool fault(fs_server *s, int fd, fs_mode mode)
{
	char extra[128];

	switch (mode) {
	case FS_500:
		respond(fd, 500, NULL, "{\"error\": \"boom\"}");
		return true;
	case FS_503_RETRY:
		pthread_mutex_lock(&s->lock);
		snprintf(extra, sizeof(extra), "Retry-After: %s\r\n",
			s->retry_after);
		pthread_mutex_unlock(&s->lock);
		respond(fd, 503, extra, "{}");
		return true;
	case FS_401:
		respond(fd, 401, NULL, "{\"error\": \"bad key\"}");
		return true;
	case FS_404:
		respond(fd, 404, NULL, "{}");
		return true;
	case FS_GARBAGE:
		respond(fd, 200, "ETag: \"garbage\"\r\n", "<html>\x01\x02 not json");
		return true;
	case FS_TRUNCATED:
		respond(fd, 200, NULL, "{\"version\": 998, \"flags\": [{\"key\": \"f");
		return true;
	case FS_SHORT:
		send_str(fd, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n"
			"Connection: close\r\n\r\n{\"version\": 997, ");
		return true;
	case FS_HUGE:
	case FS_ENDLESS:
		send_forever(s, fd, mode == FS_ENDLESS);
		return true;
	case FS_STALL:
		while (nap(s, 1000))
			;
		return true;
	default:
		return false;
	}
}

/* "v<version>-<hash of the body>": like canary-server's, an ETag that
 * changes with the content even when the version does not. */
static void tag_of(uint64_t version, const char *body, char *out, size_t len)
{
	uint32_t h = 2166136261u;

	for (; *body; body++)
		h = (h ^ (unsigned char)*body) * 16777619u;
	snprintf(out, len, "\"v%llu-%08x\"", (unsigned long long)version, h);
}

void fs_etag(fs_server *s, char *out, size_t len)
{
	pthread_mutex_lock(&s->lock);
	tag_of(s->version, s->config ? s->config : "{}", out, len);
	pthread_mutex_unlock(&s->lock);
}

static void serve_flags(fs_server *s, int fd, const request *r)
{
	char etag[64], extra[128], *body;
	fs_mode mode;
	uint64_t version;

	pthread_mutex_lock(&s->lock);
	s->count_flags++;
	s->last_flags = *r;
	mode = s->flags_mode;
	if (s->key[0] && strcmp(r->auth + (strncmp(r->auth, "Bearer ", 7) ? 0 : 7),
	    s->key) != 0)
		mode = FS_401;
	version = s->version;
	body = strdup(s->config ? s->config : "{}");
	pthread_mutex_unlock(&s->lock);
	if (!fault(s, fd, mode)) {
		tag_of(version, body, etag, sizeof(etag));
		if (strcmp(r->inm, etag) == 0) {
			pthread_mutex_lock(&s->lock);
			s->count_304++;
			pthread_mutex_unlock(&s->lock);
			send_str(fd, "HTTP/1.1 304 Not Modified\r\nConnection: close\r\n\r\n");
		} else {
			snprintf(extra, sizeof(extra), "ETag: %s\r\n", etag);
			respond(fd, 200, extra, body);
		}
	}
	free(body);
}

/* One event: the config split into data: lines (malloc'd, *len bytes). */
static char *format_event(uint64_t version, const char *json, size_t *len)
{
	size_t cap = strlen(json) * 2 + 64;
	char *ev = malloc(cap), *p;
	const char *line = json;

	if (!ev)
		abort();
	p = ev + sprintf(ev, "id: %llu\n", (unsigned long long)version);
	while (*line) {
		const char *nl = strchr(line, '\n');
		size_t n = nl ? (size_t)(nl - line) : strlen(line);

		p += sprintf(p, "data: %.*s\n", (int)n, line);
		line += n + (nl ? 1 : 0);
	}
	*p++ = '\n';
	*len = (size_t)(p - ev);
	return ev;
}

static int send_event(int fd, uint64_t version, const char *json, bool half)
{
	size_t len;
	char *ev = format_event(version, json, &len);
	int rc = send_all(fd, ev, half ? len / 2 : len);

	free(ev);
	return rc;
}

/* Compress `in` into the gzip stream and send what comes out. */
static int send_deflated(int fd, z_stream *z, const char *in, size_t n,
	int flush)
{
	unsigned char out[16384];

	z->next_in = (unsigned char *)(uintptr_t)in;
	z->avail_in = (uInt)n;
	do {
		z->next_out = out;
		z->avail_out = sizeof(out);
		if (deflate(z, flush) == Z_STREAM_ERROR)
			return -1;
		if (send_all(fd, (const char *)out, sizeof(out) - z->avail_out))
			return -1;
	} while (z->avail_out == 0);
	return 0;
}

/* Config events of rising versions, each followed by a comment line of
 * PAD bytes, compressed in flushed blocks of 256 events. */
#define PAD 16384

static void stream_gzip_bomb(fs_server *s, int fd, uint64_t version)
{
	char *pad = malloc(PAD);
	z_stream z;
	unsigned i;
	int rc;

	memset(&z, 0, sizeof(z));
	if (!pad || deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 9,
		    Z_DEFAULT_STRATEGY) != Z_OK) {
		free(pad);
		return;
	}
	pad[0] = ':';
	memset(pad + 1, 'x', PAD - 2);
	pad[PAD - 1] = '\n';
	rc = send_str(fd, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream"
		"\r\nContent-Encoding: gzip\r\nConnection: close\r\n\r\n");
	for (i = 1; rc == 0 && nap(s, 0); i++) {
		size_t len;
		char *ev = format_event(version + i, fs_config_json(version + i),
			&len);

		rc = send_deflated(fd, &z, ev, len, Z_NO_FLUSH);
		free(ev);
		if (rc == 0)
			rc = send_deflated(fd, &z, pad, PAD,
				i % 256 ? Z_NO_FLUSH : Z_SYNC_FLUSH);
	}
	deflateEnd(&z);
	free(pad);
}

static void stream_events(fs_server *s, int fd, const request *r, bool drop)
{
	uint64_t sent = strtoull(r->last_id, NULL, 10), version;
	unsigned kick;
	char *json;
	int rc = 0;

	pthread_mutex_lock(&s->lock);
	kick = s->kick;
	pthread_mutex_unlock(&s->lock);

	if (send_str(fd, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
	    "Cache-Control: no-cache\r\nConnection: close\r\n\r\n: hello\n\n"))
		return;
	do {
		pthread_mutex_lock(&s->lock);
		if (s->kick != kick) {
			pthread_mutex_unlock(&s->lock);
			return;
		}
		version = s->version;
		json = version != sent && s->config ? strdup(s->config) : NULL;
		pthread_mutex_unlock(&s->lock);
		if (json) {
			rc = send_event(fd, version, json, drop);
			free(json);
			sent = version;
			if (drop)
				return;
		} else {
			rc = send_str(fd, ": heartbeat\n\n");
		}
	} while (rc == 0 && nap(s, HEARTBEAT_MS));
}

static void serve_stream(fs_server *s, int fd, const request *r)
{
	uint64_t version;
	fs_mode mode;

	pthread_mutex_lock(&s->lock);
	s->count_stream++;
	s->last_stream = *r;
	mode = s->stream_mode;
	if (s->key[0] && strcmp(r->auth + (strncmp(r->auth, "Bearer ", 7) ? 0 : 7),
	    s->key) != 0)
		mode = FS_401;
	s->streams_open++;
	version = s->version;
	pthread_mutex_unlock(&s->lock);
	if (mode == FS_GZIP_BOMB)
		stream_gzip_bomb(s, fd, version);
	else if (!fault(s, fd, mode))
		stream_events(s, fd, r, mode == FS_DROP_MID_EVENT);
	pthread_mutex_lock(&s->lock);
	s->streams_open--;
	pthread_mutex_unlock(&s->lock);
}

static void *conn_main(void *arg)
{
	conn *c = arg;
	request r;

	if (read_request(c->s, c->fd, &r) == 0) {
		if (strcmp(r.path, "/v1/flags") == 0)
			serve_flags(c->s, c->fd, &r);
		else if (strcmp(r.path, "/v1/stream") == 0)
			serve_stream(c->s, c->fd, &r);
		else
			respond(c->fd, 404, NULL, "{}");
	}
	shutdown(c->fd, SHUT_WR);
	free(c);
	return NULL;
}

static void *accept_main(void *arg)
{
	fs_server *s = arg;

	while (nap(s, 0)) {
		struct pollfd p = { s->listen_fd, POLLIN, 0 };
		conn *c;
		int fd;

		if (poll(&p, 1, 50) <= 0)
			continue;
		fd = accept(s->listen_fd, NULL, NULL);
		if (fd < 0)
			continue;
		c = malloc(sizeof(*c));
		c->s = s;
		c->fd = fd;
		pthread_mutex_lock(&s->lock);
		if (s->nconns == MAX_CONNS || s->stopping) {
			pthread_mutex_unlock(&s->lock);
			close(fd);
			free(c);
			continue;
		}
		s->fds[s->nconns] = fd;
		if (pthread_create(&s->threads[s->nconns], NULL, conn_main, c) == 0)
			s->nconns++;
		pthread_mutex_unlock(&s->lock);
	}
	return NULL;
}

/* ---- API ---------------------------------------------------------------- */

fs_server *fs_start(void)
{
	struct sockaddr_in addr;
	socklen_t len = sizeof(addr);
	fs_server *s = calloc(1, sizeof(*s));
	int one = 1;

	if (!s)
		abort();
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
	s->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(s->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	addr.sin_port = 0;
	if (bind(s->listen_fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 ||
	    listen(s->listen_fd, 64) != 0 ||
	    getsockname(s->listen_fd, (struct sockaddr *)&addr, &len) != 0)
		abort();
	snprintf(s->url, sizeof(s->url), "http://127.0.0.1:%d",
		ntohs(addr.sin_port));
	if (pthread_create(&s->acceptor, NULL, accept_main, s) != 0)
		abort();
	return s;
}

void fs_stop(fs_server *s)
{
	int i;

	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	s->stopping = true;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
	pthread_join(s->acceptor, NULL);
	close(s->listen_fd);
	for (i = 0; i < s->nconns; i++)
		shutdown(s->fds[i], SHUT_RDWR); /* unblocks a send in progress */
	for (i = 0; i < s->nconns; i++) {
		pthread_join(s->threads[i], NULL);
		close(s->fds[i]);
	}
	free(s->config);
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->cond);
	free(s);
}

const char *fs_url(const fs_server *s)
{
	return s->url;
}

void fs_set_config(fs_server *s, const char *json, uint64_t version)
{
	pthread_mutex_lock(&s->lock);
	free(s->config);
	s->config = strdup(json);
	s->version = version;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
}

void fs_set_flags_mode(fs_server *s, fs_mode mode)
{
	pthread_mutex_lock(&s->lock);
	s->flags_mode = mode;
	pthread_mutex_unlock(&s->lock);
}

void fs_set_stream_mode(fs_server *s, fs_mode mode)
{
	pthread_mutex_lock(&s->lock);
	s->stream_mode = mode;
	pthread_mutex_unlock(&s->lock);
}

void fs_kick_streams(fs_server *s)
{
	pthread_mutex_lock(&s->lock);
	s->kick++;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
}

void fs_set_retry_after(fs_server *s, const char *value)
{
	pthread_mutex_lock(&s->lock);
	snprintf(s->retry_after, sizeof(s->retry_after), "%s", value);
	pthread_mutex_unlock(&s->lock);
}

void fs_require_key(fs_server *s, const char *key)
{
	pthread_mutex_lock(&s->lock);
	snprintf(s->key, sizeof(s->key), "%s", key ? key : "");
	pthread_mutex_unlock(&s->lock);
}

int fs_count(fs_server *s, const char *path)
{
	int n;

	pthread_mutex_lock(&s->lock);
	n = strcmp(path, "/v1/stream") == 0 ? s->count_stream : s->count_flags;
	pthread_mutex_unlock(&s->lock);
	return n;
}

int fs_count_304(fs_server *s)
{
	int n;

	pthread_mutex_lock(&s->lock);
	n = s->count_304;
	pthread_mutex_unlock(&s->lock);
	return n;
}

int fs_streams_open(fs_server *s)
{
	int n;

	pthread_mutex_lock(&s->lock);
	n = s->streams_open;
	pthread_mutex_unlock(&s->lock);
	return n;
}

void fs_last_header(fs_server *s, const char *path, const char *name,
	char *out, size_t outlen)
{
	const request *r;
	const char *v = "";

	pthread_mutex_lock(&s->lock);
	r = strcmp(path, "/v1/stream") == 0 ? &s->last_stream : &s->last_flags;
	if (strcasecmp(name, "Authorization") == 0)
		v = r->auth;
	else if (strcasecmp(name, "If-None-Match") == 0)
		v = r->inm;
	else if (strcasecmp(name, "Last-Event-ID") == 0)
		v = r->last_id;
	else if (strcasecmp(name, "User-Agent") == 0)
		v = r->ua;
	snprintf(out, outlen, "%s", v);
	pthread_mutex_unlock(&s->lock);
}

const char *fs_config_json(uint64_t version)
{
	static _Thread_local char buf[1024];

	snprintf(buf, sizeof(buf),
		"{\n"
		"  \"version\": %llu,\n"
		"  \"flags\": [\n"
		"    {\"key\": \"f50\", \"rollout_bp\": 5000},\n"
		"    {\"key\": \"all\", \"rollout_bp\": 10000},\n"
		"    {\"key\": \"none\", \"rollout_bp\": 0},\n"
		"    {\"key\": \"vip\", \"rollout_bp\": 0, \"allow\": [\"alice\"]},\n"
		"    {\"key\": \"v%llu\", \"rollout_bp\": 10000}\n"
		"  ]\n"
		"}",
		(unsigned long long)version, (unsigned long long)version);
	return buf;
}
