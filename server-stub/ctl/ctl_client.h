/*
 * ctl_client.h - what canaryctl's command files share: the connection
 * settings, the admin API call, reading fields of its JSON answers,
 * printing server strings safely, refusing a bad command line, and the
 * exit statuses.
 */
#ifndef CTL_CLIENT_H
#define CTL_CLIENT_H

#include <stdbool.h>
#include <stdint.h>

#include "attributes.h"

struct cJSON;

#define EXIT_REFUSED 1  /* the server refused (its error is printed) */
#define EXIT_USAGE 2
#define EXIT_NETWORK 3
#define EXIT_WAITING 4  /* rollout wait: paused, or timed out */

typedef struct ctl {
	const char *server;   /* without a trailing slash */
	const char *token;
	bool json;            /* answers, and errors, as JSON */
} ctl;

/* One admin request; on a 2xx *doc is the parsed body, otherwise the
 * server's error is printed and EXIT_REFUSED returned. */
int ctl_call(const ctl *c, const char *method, const char *path,
	const char *body, struct cJSON **doc);

/* URL-escape a flag key (caller frees), NULL on ENOMEM. */
char *ctl_escape(const char *key);

void ctl_print_json(const struct cJSON *doc);

/* obj[name] when it is a string, else `dflt`. */
const char *ctl_str(const struct cJSON *obj, const char *name,
	const char *dflt);

/* obj[name] when it is a number, else NAN. */
double ctl_num(const struct cJSON *obj, const char *name);

/*
 * `s` fit for a terminal: control characters (C0 but tab, DEL, and C1 as
 * UTF-8) as \xNN, so a string from the server can never move the cursor,
 * set a title or clear the screen. The result lives until the 8th call
 * after (a ring of buffers; a long string is cut).
 */
const char *ctl_safe(const char *s);

/* Refuse the command line: "canaryctl: MESSAGE" (with --json,
 * {"error": MESSAGE}) on stderr. Returns EXIT_USAGE. */
int ctl_usage_error(const ctl *c, const char *fmt, ...) CANARY__PRINTF(2, 3);

/* A bad value, named with its rule: "--rollout 150: must be 0..100". */
int ctl_bad_value(const ctl *c, const char *option, const char *value,
	const char *rule);

/* `value` of `option` as a decimal integer min..max (no sign, no
 * spaces); otherwise it is refused (ctl_bad_value) and *rc set. */
bool ctl_uint_opt(const ctl *c, const char *option, const char *value,
	uint64_t min, uint64_t max, uint64_t *out, int *rc);

#endif
