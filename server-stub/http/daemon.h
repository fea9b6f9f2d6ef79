/*
 * daemon.h - start and stop the HTTP(S) listeners of a server.
 */
#ifndef CS_DAEMON_H
#define CS_DAEMON_H

#include <stddef.h>

struct cs_listener;

/* Bind l->listen (HTTPS with --tls-cert), serve l->route through the
 * router on --threads polling threads; sets l->daemon, l->port and
 * l->address. `err` gets a message on failure. */
int cs_daemon_start(struct cs_listener *l, char *err, size_t errlen);

/* Stop serving (streams must have been closed first). NULL-safe daemon. */
void cs_daemon_stop(struct cs_listener *l);

#endif
