/*
 * ctl_client.h - what canaryctl's command files share: the connection
 * settings, the admin API call, reading fields of its JSON answers, and
 * the exit statuses.
 */
#ifndef CTL_CLIENT_H
#define CTL_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "attributes.h" /* CANARY__PRINTF */

struct cJSON;

#define EXIT_REFUSED 1  /* the server refused (its error is printed) */
#define EXIT_USAGE 2
#define EXIT_NETWORK 3

typedef struct ctl {
	const char *server;
	const char *token;
	bool json;
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

/* An integer option: digits only, 0..2^53-1 (what JSON holds exactly). */
bool ctl_uint(const char *s);

/*
 * A string from the server (or anyone) made safe for a terminal, in a
 * fresh string (NULL when out of memory): C0 controls but tab, DEL, C1
 * controls (U+0080..U+009F) and bytes that are not UTF-8 become \xNN.
 */
char *ctl_safe(const char *s);
/* fputs() of ctl_safe(s). */
void ctl_put(const char *s, FILE *out);

/* The document as JSON, every string in it safe for a terminal. */
void ctl_print_json(const struct cJSON *doc);

/* obj[name] when it is a string, else `dflt`. */
const char *ctl_str(const struct cJSON *obj, const char *name,
	const char *dflt);

/* obj[name] when it is a number, else NAN. */
double ctl_num(const struct cJSON *obj, const char *name);

#endif
