/*
 * ctl_client.h - what canaryctl's command files share: the connection
 * settings, the admin API call, reading fields of its JSON answers, and
 * the exit statuses.
 */
#ifndef CTL_CLIENT_H
#define CTL_CLIENT_H

#include <stdbool.h>

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

void ctl_print_json(const struct cJSON *doc);

/* obj[name] when it is a string, else `dflt`. */
const char *ctl_str(const struct cJSON *obj, const char *name,
	const char *dflt);

/* obj[name] when it is a number, else NAN. */
double ctl_num(const struct cJSON *obj, const char *name);

#endif
