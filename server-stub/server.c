/*
 * server.c - wire the parts together: store → published config → streams,
 * the ticker, and the libmicrohttpd daemon.
 *
 * Threads: libmicrohttpd's internal polling threads (epoll, --threads of
 * them) run every request; no thread per connection, so an idle stream is
 * a suspended connection, not a blocked thread. One ticker thread runs
 * periodic tasks. Handlers that write block their polling thread for the
 * commit; with two or more threads the others keep serving, and reads
 * (stats, /metrics, rollout status) never wait for a commit.
 */
#include "server.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "alloc.h"
#include "rollout/controller.h"
#include "http/router.h"

/* Store change hook: publish to /v1/flags, then to the streams. */
static void on_config(const canary__config *config, void *ctx)
{
	cs_server *s = ctx;
	char *json = NULL;
	size_t len = 0;

	if (cs_flags_cache_set(s->cache, config, &json, &len) != CANARY_OK) {
		fprintf(stderr, "canary-server: cannot publish config version "
			"%llu (out of memory)\n",
			(unsigned long long)config->version);
		return;
	}
	if (json && cs_hub_publish(s->hub, config->version, json, len) !=
	    CANARY_OK)
		fprintf(stderr, "canary-server: cannot stream config version "
			"%llu (out of memory)\n",
			(unsigned long long)config->version);
	free(json);
}

static void tick_heartbeat(uint64_t now, void *ctx)
{
	(void)now;
	cs_hub_heartbeat(((cs_server *)ctx)->hub);
}

static void tick_prune(uint64_t now, void *ctx)
{
	cs_server *s = ctx;
	cs_retention r = { 0 };

	if (now <= s->opts->batch_retention_ms)
		return;
	r.batches_before_ms = now - s->opts->batch_retention_ms;
	if (cs_store_prune(s->store, &r, NULL) != CANARY_OK)
		fprintf(stderr, "canary-server: pruning batch ids failed\n");
}

static int publish_initial(cs_server *s)
{
	canary__config *cfg = NULL;
	int rc = cs_store_config(s->store, &cfg);

	if (rc == CANARY_OK)
		on_config(cfg, s);
	canary__config_free(canary__alloc_default(), cfg);
	return rc;
}

int cs_server_new(cs_server **out, const cs_options *o, char *err,
	size_t errlen)
{
	cs_server *s = calloc(1, sizeof(*s));
	cs_store_options store;
	int rc;

	*out = NULL;
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return CANARY_ENOMEM;
	}
	memset(&store, 0, sizeof(store));
	s->opts = o;
	s->auth.sdk_keys = (const char *const *)o->sdk_keys;
	s->auth.sdk_key_count = o->sdk_key_count;
	s->auth.admin_token = o->admin_token;
	s->auth.insecure_dev = o->insecure_dev;
	store.location = o->db_path;
	store.sync = o->sync;
	/* A reader for every thread that reads: the HTTP threads, the ticker. */
	store.readers = (o->threads > 1 ? o->threads : 1) + 1;
	rc = cs_store_open(&s->store, &store, err, errlen);
	if (rc == CANARY_OK)
		rc = cs_flags_cache_new(&s->cache);
	if (rc == CANARY_OK)
		rc = cs_hub_new(&s->hub);
	if (rc == CANARY_OK)
		rc = cs_metrics_new(&s->metrics);
	if (rc == CANARY_OK)
		rc = cs_ticker_new(&s->ticker, o->tick_ms);
	if (rc == CANARY_OK) {
		cs_store_on_change(s->store, on_config, s);
		rc = publish_initial(s);
		if (rc != CANARY_OK)
			snprintf(err, errlen, "cannot load the flags from %s",
				o->db_path);
	}
	if (rc == CANARY_OK)
		rc = cs_ticker_add(s->ticker, "heartbeat", o->heartbeat_ms,
			tick_heartbeat, s);
	if (rc == CANARY_OK)
		rc = cs_ticker_add(s->ticker, "prune-batches", 3600u * 1000u,
			tick_prune, s);
	/* Every tick; each rollout is evaluated on its own interval. */
	if (rc == CANARY_OK)
		rc = cs_controller_new(&s->controller, s->store);
	if (rc == CANARY_OK)
		rc = cs_ticker_add(s->ticker, "controller", o->tick_ms,
			cs_controller_tick, s->controller);
	if (rc != CANARY_OK) {
		if (!*err)
			snprintf(err, errlen, "cannot initialise (%d)", rc);
		cs_server_free(s);
		return rc;
	}
	*out = s;
	return CANARY_OK;
}

cs_ticker *cs_server_ticker(cs_server *s)
{
	return s->ticker;
}

/* "host:port" or "[v6]:port" → sockaddr (numeric or resolvable host). */
static int resolve(const char *listen, struct sockaddr_storage *ss,
	socklen_t *sslen, char *err, size_t errlen)
{
	char host[256], *colon;
	const char *port;
	struct addrinfo hints, *res = NULL;
	size_t n = strlen(listen);

	if (n >= sizeof(host) || !(colon = strrchr(listen, ':'))) {
		snprintf(err, errlen, "--listen must be HOST:PORT");
		return CANARY_EINVAL;
	}
	memcpy(host, listen, n + 1);
	colon = host + (colon - listen);
	*colon = '\0';
	port = colon + 1;
	if (host[0] == '[' && colon > host + 1 && colon[-1] == ']') {
		colon[-1] = '\0';
		memmove(host, host + 1, strlen(host + 1) + 1);
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if (getaddrinfo(host, port, &hints, &res) != 0 || !res) {
		snprintf(err, errlen, "cannot resolve --listen %s", listen);
		return CANARY_EINVAL;
	}
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*sslen = res->ai_addrlen;
	freeaddrinfo(res);
	return CANARY_OK;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	fputs("canary-server: http: ", stderr);
	vfprintf(stderr, fmt, ap);
}

static void describe(cs_server *s, const struct sockaddr_storage *ss)
{
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->daemon,
		MHD_DAEMON_INFO_BIND_PORT);
	char ip[INET6_ADDRSTRLEN] = "?";

	s->port = info ? info->port : 0;
	if (ss->ss_family == AF_INET6) {
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ss)->sin6_addr,
			ip, sizeof(ip));
		snprintf(s->address, sizeof(s->address), "[%s]:%u", ip, s->port);
	} else {
		inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr,
			ip, sizeof(ip));
		snprintf(s->address, sizeof(s->address), "%s:%u", ip, s->port);
	}
}

int cs_server_start(cs_server *s, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sslen = 0;
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
		MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
	struct MHD_OptionItem tls[] = {
		{ MHD_OPTION_HTTPS_MEM_KEY, 0, NULL },
		{ MHD_OPTION_HTTPS_MEM_CERT, 0, NULL },
		{ MHD_OPTION_END, 0, NULL },
	};
	int rc = resolve(s->opts->listen, &ss, &sslen, err, errlen);

	if (rc != CANARY_OK)
		return rc;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	if (s->opts->tls_cert) {
		/* The PEM text lives in the options until the server ends. */
		flags |= MHD_USE_TLS;
		tls[0].value = 0, tls[0].ptr_value = s->opts->tls_key;
		tls[1].value = 0, tls[1].ptr_value = s->opts->tls_cert;
	} else {
		tls[0].option = MHD_OPTION_END;
	}
	s->daemon = MHD_start_daemon(flags, 0, NULL, NULL, cs_http_access, s,
		MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s, /* first, or MHD warns */
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
		MHD_OPTION_THREAD_POOL_SIZE,
		(unsigned int)(s->opts->threads > 1 ? s->opts->threads : 0),
		MHD_OPTION_CONNECTION_LIMIT, s->opts->max_connections,
		MHD_OPTION_CONNECTION_TIMEOUT, s->opts->connection_timeout_s,
		MHD_OPTION_NOTIFY_COMPLETED, cs_http_completed, s,
		MHD_OPTION_ARRAY, tls,
		MHD_OPTION_END);
	if (!s->daemon) {
		snprintf(err, errlen, "cannot listen on %s", s->opts->listen);
		return CANARY_ENETWORK;
	}
	describe(s, &ss);
	if (cs_ticker_start(s->ticker) != CANARY_OK) {
		snprintf(err, errlen, "cannot start the ticker thread");
		return CANARY_ENOMEM;
	}
	return CANARY_OK;
}

void cs_server_free(cs_server *s)
{
	if (!s)
		return;
	cs_ticker_free(s->ticker);
	if (s->hub) {
		/* MHD_stop_daemon must not find suspended connections. */
		cs_hub_close(s->hub);
		cs_hub_drain(s->hub, 2000);
	}
	if (s->daemon)
		MHD_stop_daemon(s->daemon);
	cs_hub_free(s->hub);
	cs_flags_cache_free(s->cache);
	cs_metrics_free(s->metrics);
	cs_controller_free(s->controller);
	cs_store_close(s->store);
	free(s);
}
