/*
 * ctl_client.h - what canaryctl's command files share: the connection
 * settings, the admin API call, reading fields of its JSON answers,
 * printing server strings safely, refusing a bad command line, and the
 * exit statuses.
 */
#ifndef CTL_CLIENT_H
#define CTL_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "attributes.h" /* CANARY__PRINTF */

struct cJSON;

#define EXIT_REFUSED 1  /* the server refused (its error is printed) */
#define EXIT_USAGE 2
#define EXIT_NETWORK 3
#define EXIT_WAITING 4  /* rollout wait: paused, or timed out */

typedef struct ctl {
	const char *server;   /* without a trailing slash */
	const char *token;
	const char *cacert;   /* PEM bundle of CAs to trust; NULL: the
	                         system's (verification is never off) */
	bool json;            /* answers, and errors, as JSON */
} ctl;

/* One admin request; on a 2xx *doc is the parsed body, otherwise the
 * server's error is printed and EXIT_REFUSED returned. */
int ctl_call(const ctl *c, const char *method, const char *path,
	const char *body, struct cJSON **doc);

/* URL-escape a flag key (caller frees), NULL on ENOMEM. */
char *ctl_escape(const char *key);

/*
 * A request path built in a fixed buffer: what would not fit is not
 * written, and `overflow` says so (the command is then a usage error).
 */
typedef struct ctl_path {
	char s[2048];
	size_t len;
	bool overflow;
} ctl_path;

void ctl_path_init(ctl_path *p);
void ctl_path_add(ctl_path *p, const char *fmt, ...) CANARY__PRINTF(2, 3);
/* A flag key, escaped; false when out of memory. */
bool ctl_path_key(ctl_path *p, const char *key);

/* A percent 0..100 in steps of 0.01 (no sign, no spaces), as basis
 * points in *bp; false otherwise. */
bool ctl_percent(const char *s, double *bp);

/* An integer option: digits only, 0..2^53-1 (what JSON holds exactly). */
bool ctl_uint(const char *s);
/* `value` of `option` as a decimal integer min..max (max at most
 * 2^53-1; no sign, no spaces); otherwise it is refused (ctl_bad_value)
 * and *rc set. */
bool ctl_uint_opt(const ctl *c, const char *option, const char *value,
	uint64_t min, uint64_t max, uint64_t *out, int *rc);

/*
 * A string from the server (or anyone) made safe for a terminal, in a
 * fresh string (NULL when out of memory; NULL is ""): C0 controls but
 * tab, DEL, C1 controls (U+0080..U+009F) and bytes that are not UTF-8
 * become \xNN, so it can never move the cursor, set a title or clear
 * the screen.
 */
char *ctl_safe(const char *s);
/* fputs() of ctl_safe(s). */
void ctl_put(const char *s, FILE *out);
/* ctl_safe(s) for a printf argument: the result lives until the 8th call
 * after (a ring of them; "?" when out of memory). */
const char *ctl_safe_tmp(const char *s);

/* The document as JSON, every string in it safe for a terminal. */
void ctl_print_json(const struct cJSON *doc);

/* obj[name] when it is a string, else `dflt`. */
const char *ctl_str(const struct cJSON *obj, const char *name,
	const char *dflt);

/* obj[name] when it is a number, else NAN. */
double ctl_num(const struct cJSON *obj, const char *name);


/* Refuse the command line: "canaryctl: MESSAGE" (with --json,
 * {"error": MESSAGE}) on stderr. Returns EXIT_USAGE. */
int ctl_usage_error(const ctl *c, const char *fmt, ...) CANARY__PRINTF(2, 3);

/* A bad value, named with its rule: "--rollout 150: must be 0..100". */
int ctl_bad_value(const ctl *c, const char *option, const char *value,
	const char *rule);

#endif
