/*
 * daemon.h - start and stop the HTTP(S) listener of a server.
 */
#ifndef CS_DAEMON_H
#define CS_DAEMON_H

#include <stddef.h>

struct cs_server;

/* Bind s->opts->listen (HTTPS with --tls-cert), serve through the router
 * (s->route) on --threads polling threads; sets s->daemon, s->port and
 * s->address. `err` gets a message on failure. */
int cs_daemon_start(struct cs_server *s, char *err, size_t errlen);

/* Stop serving (streams must have been closed first). NULL-safe daemon. */
void cs_daemon_stop(struct cs_server *s);

#endif
