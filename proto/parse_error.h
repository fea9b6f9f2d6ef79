/*
 * parse_error.h - what is wrong with a document, and where: the one error
 * type of every parser of outside input (configs, event batches, admin
 * requests, rollout specs, targeting rules, Unleash documents).
 *
 * The field is a JSON path ("flags[3].rollout_bp",
 * "windows[2].latency_ms.bins[4][1]"), or the document's name or "" when
 * the whole document is wrong; the message says what is wrong ("must be
 * an integer 0..10000"). canary-server answers a 400 with both
 * ({"error": message, "field": field}) so a client can tell which of ten
 * thousand windows was wrong; the SDK logs canary__perror_format()'s
 * "field: message". The two parts are never joined into one string and
 * split again.
 */
#ifndef CANARY_PROTO_PARSE_ERROR_H
#define CANARY_PROTO_PARSE_ERROR_H

#include <stddef.h>

#include "attributes.h"
#include "canary/canary.h"

#define CANARY__PERR_FIELD 192
#define CANARY__PERR_MESSAGE 256
/* Room for canary__perror_format(): "field: message". */
#define CANARY__PERR_TEXT (CANARY__PERR_FIELD + CANARY__PERR_MESSAGE + 2)

typedef struct canary__perror {
	char field[CANARY__PERR_FIELD];
	char message[CANARY__PERR_MESSAGE];
} canary__perror;

/* Empty: no field, no message. */
void canary__perror_clear(canary__perror *e);

/*
 * Record `field` (NULL: "") and the message; return CANARY_EPARSE, so that
 * a parser can `return canary__perror_set(e, ...)`. `e` may be NULL (the
 * caller only wants the code).
 */
int canary__perror_set(canary__perror *e, const char *field,
	const char *fmt, ...) CANARY__PRINTF(3, 4);

/* The same for the member `name` of the object at `path`: the field is
 * "path.name" ("name" when path is ""; path alone when name is NULL). */
int canary__perror_at(canary__perror *e, const char *path, const char *name,
	const char *fmt, ...) CANARY__PRINTF(4, 5);

/* The same for element `i` of the array at `path`: "path[i]". */
int canary__perror_at_index(canary__perror *e, const char *path, size_t i,
	const char *fmt, ...) CANARY__PRINTF(4, 5);

/* "out of memory" for the whole document; returns CANARY_ENOMEM. */
int canary__perror_oom(canary__perror *e);

/* "field: message", or the message alone when there is no field, into
 * out[0..len) (clipped, NUL-terminated). Returns out. */
const char *canary__perror_format(const canary__perror *e, char *out,
	size_t len);

/*
 * JSON paths: out = parent + "." + key (key alone at the root), or
 * parent + "[i]". Clipped to len: a path only ever appears in a message.
 * Built by hand, not with snprintf: a 10,000-feature document builds
 * 150,000 of them.
 */
void canary__path_member(char *out, size_t len, const char *parent,
	const char *key);
void canary__path_index(char *out, size_t len, const char *parent, size_t i);

#endif
