/*
 * perror.h - a request parse error: which field, and what is wrong with it.
 *
 * Every 400 the server sends carries both, as {"error": message,
 * "field": field}, so a client can tell which of ten thousand windows was
 * wrong without guessing.
 */
#ifndef CS_PERROR_H
#define CS_PERROR_H

#include <stddef.h>

#include "error.h"

typedef struct cs_perror {
	char field[160];   /* e.g. "windows[2].exposures"; "" = whole body */
	char message[256]; /* e.g. "must be an integer 0..9007199254740991" */
} cs_perror;

/* Record a field and message; returns CANARY_EPARSE for `return cs_fail()`. */
int cs_fail(cs_perror *e, const char *field, const char *fmt, ...)
	CANARY__PRINTF(3, 4);

/* Record "out of memory"; returns CANARY_ENOMEM. */
int cs_oom(cs_perror *e);

/*
 * Split a config.c message of the form "path.to.field: message" into a
 * cs_perror. A leading '.' (config.c's empty path prefix) is dropped.
 */
int cs_fail_from_config(cs_perror *e, const char *msg);

#endif
