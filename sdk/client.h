/*
 * client.h - the client structure: the parts a client is made of. Only
 * client.c (lifetime, the public calls that are not evaluation) and
 * evaluate.c (the hot path) see it; every other module gets the parts it
 * needs, so no module below depends on the client.
 */
#ifndef CANARY_SDK_CLIENT_H
#define CANARY_SDK_CLIENT_H

#include <sys/types.h>

#include "alloc.h"
#include "canary/canary.h"
#include "counters.h"
#include "events.h"
#include "flag_ref.h"
#include "fork.h"
#include "live.h"
#include "log.h"
#include "persist.h"
#include "source.h"
#include "unknown_flags.h"
#include "worker.h"

struct canary_client {
	/* Read by every evaluation: first (live.h). */
	canary__live live;

	canary__unknown unknown;  /* unknown flag keys (evaluation notes) */
	canary__flag_refs refs;   /* flag handles */

	canary__alloc alloc;
	canary__logger log;
	canary__log_sink log_sink;
	canary_options opts;      /* strings below replace the caller's;
	                             every field of the current version */
	char *server_url;
	char **server_urls;       /* server_url, or opts.server_urls, copied */
	size_t server_count;
	char *sdk_key;
	char *cache_path;
	char *bootstrap_path;
	char *ca_file;
	char *ca_path;
	char *app_name;
	char *hostname;

	canary__source source;      /* where configs come from */
	canary__persist *persist;   /* the config cache */
	canary__counters *counters; /* counting (counters.c) */
	canary__events *events;     /* batches and the outbox (events.c) */
	canary__worker *worker;     /* the data path (worker.c) */
	canary__fork_entry fork;    /* in the fork registry while registered */
	bool forkable;
	pid_t pid;                  /* postfork() notices a new process */
};

/* Zero the public struct at `p` (`size` bytes) and set its version, when
 * `version` is `current`; `what` names it in the error otherwise
 * (CANARY_EINVAL). For the *_init() functions. */
int canary__init_versioned(void *p, size_t size, unsigned int version,
	unsigned int current, const char *what);

#endif
