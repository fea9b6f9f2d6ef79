/*
 * daemon.c - the listening side: resolve a listener's address (--listen,
 * --ui-listen), load TLS from the options, start libmicrohttpd's polling
 * threads (epoll) with the router's callbacks and the connection limits
 * (in all, per address, deadlines: conns.h), report the bound address.
 */
#include "http/daemon.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "http/conns.h"
#include "peer_log.h"
#include "http/router.h"
#include "server.h"

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

static void describe(cs_listener *l, const struct sockaddr_storage *ss)
{
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(l->daemon,
		MHD_DAEMON_INFO_BIND_PORT);
	char ip[INET6_ADDRSTRLEN] = "?";

	l->port = info ? info->port : 0;
	if (ss->ss_family == AF_INET6) {
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ss)->sin6_addr,
			ip, sizeof(ip));
		snprintf(l->address, sizeof(l->address), "[%s]:%u", ip, l->port);
	} else {
		inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr,
			ip, sizeof(ip));
		snprintf(l->address, sizeof(l->address), "%s:%u", ip, l->port);
	}
}

int cs_daemon_start(cs_listener *l, char *err, size_t errlen)
{
	const cs_server *s = l->srv;
	struct sockaddr_storage ss;
	socklen_t sslen = 0;
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
		MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
	struct MHD_OptionItem tls[] = {
		{ MHD_OPTION_HTTPS_MEM_KEY, 0, NULL },
		{ MHD_OPTION_HTTPS_MEM_CERT, 0, NULL },
		{ MHD_OPTION_END, 0, NULL },
	};
	/* A pool only for more than one thread: MHD warns on stderr, past
	 * --quiet, about a size of 0 (the dashboard's listener has one). */
	struct MHD_OptionItem pool[] = {
		{ MHD_OPTION_THREAD_POOL_SIZE, (intptr_t)l->threads, NULL },
		{ MHD_OPTION_END, 0, NULL },
	};
	int rc = resolve(l->listen, &ss, &sslen, err, errlen);

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
	if (l->threads <= 1)
		pool[0].option = MHD_OPTION_END;
	if (!l->conns && cs_conns_new(&l->conns,
		    (uint64_t)s->opts->header_timeout_s * 1000u,
		    s->opts->max_connections) != CANARY_OK) {
		snprintf(err, errlen, "out of memory");
		return CANARY_ENOMEM;
	}
	l->daemon = MHD_start_daemon(flags, 0, NULL, NULL, cs_http_access, l,
		/* first, or MHD warns */
		MHD_OPTION_EXTERNAL_LOGGER, cs_peer_log_mhd, l,
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
		MHD_OPTION_ARRAY, pool,
		MHD_OPTION_CONNECTION_LIMIT, s->opts->max_connections,
		MHD_OPTION_PER_IP_CONNECTION_LIMIT, s->opts->max_per_ip,
		MHD_OPTION_CONNECTION_TIMEOUT, s->opts->connection_timeout_s,
		MHD_OPTION_URI_LOG_CALLBACK, cs_http_uri, l,
		MHD_OPTION_NOTIFY_CONNECTION, cs_conns_notify, l->conns,
		MHD_OPTION_NOTIFY_COMPLETED, cs_http_completed, l,
		MHD_OPTION_ARRAY, tls,
		MHD_OPTION_END);
	if (!l->daemon) {
		snprintf(err, errlen, "cannot listen on %s", l->listen);
		return CANARY_ENETWORK;
	}
	describe(l, &ss);
	return CANARY_OK;
}

void cs_daemon_stop(cs_listener *l)
{
	if (l->daemon)
		MHD_stop_daemon(l->daemon);
	l->daemon = NULL;
	cs_conns_free(l->conns);
	l->conns = NULL;
}
