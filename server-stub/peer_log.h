/*
 * peer_log.h - the log of what remote peers cause.
 *
 * Anything a client can make happen at will (hang up, send garbage, fill
 * the connection limit, make a statement fail) must not be able to fill
 * the log, whichever part of the server writes the line (http/, store/):
 * each kind of line is written at most once a minute, and the next one
 * says how many were left out meanwhile (through logline.h, so in the
 * --log-format chosen). A client that hangs up
 * is not an error at all: libmicrohttpd's lines about it are counted
 * (canary_http_client_aborts_total), never written one by one; without
 * --quiet one line a minute says how many there were.
 */
#ifndef CS_PEER_LOG_H
#define CS_PEER_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include "attributes.h" /* CANARY__PRINTF */

/* Whether lines about hang-ups are summed up once a minute (not --quiet).
 * Set before the first line. */
void cs_peer_log_init(bool quiet);

/*
 * Log "<prefix><message>" (a warning) unless a line of the same
 * `kind` (a string literal: its address is the key) was written less
 * than a minute ago.
 */
void cs_peer_log(const char *kind, const char *prefix, const char *fmt, ...)
	CANARY__PRINTF(3, 4);
void cs_peer_vlog(const char *kind, const char *prefix, const char *fmt,
	va_list ap);

/* libmicrohttpd's logger (MHD_OPTION_EXTERNAL_LOGGER): hang-ups counted,
 * the rest through cs_peer_vlog keyed by the format. */
void cs_peer_log_mhd(void *cls, const char *fmt, va_list ap);

/* Client hang-ups seen so far. */
uint64_t cs_peer_log_aborts(void);

#endif
