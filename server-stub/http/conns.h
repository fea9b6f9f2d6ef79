/*
 * conns.h - a listener's open connections, each with an absolute deadline
 * for the phase it is in.
 *
 * libmicrohttpd's connection timeout is an idle timeout: any byte resets
 * it, so a client that sends a header line every few seconds holds its
 * socket for ever, and enough of them hold every socket the server has.
 * Here a connection gets a deadline that no byte moves:
 *
 *   accepted, until its request's headers are complete   --header-timeout
 *   its body being read                                  --body-timeout
 *   its answer being made and sent (a stream too)        none (the idle
 *                                                        timeout still
 *                                                        applies)
 *   kept alive between two requests                      the idle timeout
 *
 * Under pressure (three quarters of the connection limit open), a
 * connection that waits for a request's headers (a new one, or one kept
 * alive between requests) gets one second at most: a real client sends
 * its headers at once, and an attacker spread over many addresses then
 * has to reconnect every second instead of every --header-timeout, so
 * that what comes in is served within about a second.
 *
 * cs_conns_expire() shuts down the socket of every connection past its
 * deadline; libmicrohttpd then finds its peer gone and closes it as it
 * would any other. The socket is shut down, never closed, and only under
 * the list's lock, which libmicrohttpd's close notification also takes
 * before the descriptor is closed: a descriptor number that was reused
 * can never be hit.
 */
#ifndef CS_CONNS_H
#define CS_CONNS_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct cs_conns cs_conns;

/* `limit`: the listener's connection limit (pressure is 3/4 of it). */
int cs_conns_new(cs_conns **out, uint64_t header_timeout_ms,
	uint64_t limit);
/* After the daemon has stopped (every connection is gone by then). */
void cs_conns_free(cs_conns *cs);

/* MHD_NotifyConnectionCallback; `cls` is the cs_conns. A new connection
 * gets the header deadline. */
void cs_conns_notify(void *cls, struct MHD_Connection *c,
	void **socket_context, enum MHD_ConnectionNotificationCode code);

/* The connection's deadline from now: `ms` from now, or none (0);
 * `waiting`: it waits for a request's headers (kept alive). */
void cs_conns_deadline(struct MHD_Connection *c, uint64_t ms, bool waiting);

/* Shut down every connection past its deadline; how many were. */
uint64_t cs_conns_expire(cs_conns *cs);

/* Connections open now. */
uint64_t cs_conns_count(cs_conns *cs);

#endif
