/*
 * options.h - canary-server's command line and environment.
 */
#ifndef CS_OPTIONS_H
#define CS_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "store/storage.h"

#define CS_MAX_KEYS 64

/* Where Debian's libjs-dygraphs installs the charting library. */
#ifndef CS_UI_LIB_DIR
#define CS_UI_LIB_DIR "/usr/share/javascript/dygraphs"
#endif

typedef struct cs_options {
	char *listen;              /* "HOST:PORT", "[V6]:PORT"; default 127.0.0.1:8080 */
	char *db_path;             /* required: a SQLite file or a
	                              postgresql:// URL (may hold a password:
	                              never log it whole) */
	char *port_file;           /* optional: write the bound port here */
	char *sdk_keys[CS_MAX_KEYS];
	size_t sdk_key_count;
	char *admin_token;
	char *metrics_token;       /* may read /metrics only (optional) */
	bool insecure_dev;         /* no keys: accept anything (loudly) */
	uint64_t window_ms;        /* event aggregation width; default 10 s */
	uint64_t heartbeat_ms;     /* SSE comment heartbeat; default 15 s */
	uint64_t tick_ms;          /* ticker resolution; default 1 s */
	uint64_t batch_retention_ms; /* how long batch ids are remembered */
	uint64_t window_retention_ms; /* how long event windows are kept;
	                                 0 = for ever */
	uint64_t decision_retention_ms; /* decisions of ended rollouts are
	                                   kept this long; default 30 days */
	uint64_t max_config_bytes; /* refuse a change whose config would be
	                              larger; default 16 MiB (the SDK's) */
	uint64_t events_rate;      /* event batches per second per SDK key;
	                              default 1000; 0: no limit */
	uint64_t events_windows_rate; /* event windows per second per SDK
	                                 key; default 100000; 0: no limit */
	uint64_t lease_ms;         /* controller lease; default 10 s */
	unsigned int threads;      /* MHD polling threads; default 2 */
	unsigned int max_connections; /* default 4096 */
	unsigned int max_per_ip;   /* connections from one address; default
	                              a quarter of max_connections */
	unsigned int max_streams;  /* open streams; default max_connections
	                              less a reserve (cs_options_parse) */
	unsigned int connection_timeout_s; /* idle non-stream; default 60 */
	unsigned int header_timeout_s; /* a request's headers must be in
	                                  within this of the connection;
	                                  default 10 */
	unsigned int body_timeout_s; /* and its body within this of its
	                                headers; default 30 */
	cs_sync_mode sync;
	bool quiet;                /* no info lines on stderr */
	char *tls_cert;            /* --tls-cert: PEM certificate chain, read at
	                              start; set with tls_key: serve HTTPS */
	char *tls_key;             /* --tls-key: PEM private key (contents) */
	char *ui_listen;           /* --ui-listen: the dashboard on a listener
	                              of its own (NULL: on --listen) */
	char *ui_lib_dir;          /* --ui-lib-dir: the charting library's
	                              files (default CS_UI_LIB_DIR) */
	bool no_ui;                /* --no-ui: no dashboard at all */
	uint64_t audit_retention_ms; /* audit records (and finished webhook
	                                deliveries) kept this long; 0 = for
	                                ever */
	uint64_t webhook_retry_ms; /* first retry of a failed delivery after
	                              this, doubling; default 1 s */
	bool webhook_allow_loopback; /* --webhook-allow-loopback: webhooks
	                                may reach this host */
	bool log_json;             /* --log-format json */
} cs_options;

/*
 * Fill `o` from argv and the environment (CANARY_SDK_KEYS, comma-separated;
 * CANARY_ADMIN_TOKEN). Returns 0, 1 after printing help or the version
 * (exit 0), or -1 after printing an error (exit 2).
 */
int cs_options_parse(cs_options *o, int argc, char **argv);
void cs_options_clear(cs_options *o);
void cs_options_usage(FILE *out);

#endif
