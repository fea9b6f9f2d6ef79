/*
 * canary/canary.h - libcanary, canary releases driven by feature flags.
 *
 * The one header an application includes. It declares the client, its
 * options, flag evaluation, events and errors, and includes the transport
 * hook's types (canary/transport.h). Everything here is C99; the header
 * compiles alone as C99 and as C++.
 *
 * Threading: a canary_client may be shared by any number of threads.
 * canary_enabled() and canary_evaluate() take no lock, do no I/O and
 * allocate nothing. Functions that change the client's configuration may be
 * called from any thread and are serialised internally.
 *
 * Ownership: every string passed in is copied before the call returns unless
 * its documentation says otherwise. What is handed out (canary_details,
 * canary_variant, canary_event_stats) is copied into the caller's struct.
 *
 * Growth: structs the caller fills (canary_options) or libcanary fills
 * (canary_details, canary_variant, canary_event_stats) start with a version field and only
 * ever gain fields at the end. Initialise them with their *_INIT macro or
 * *_init() function; libcanary reads and writes only the fields of the
 * version the caller's struct says it has.
 */
#ifndef CANARY_CANARY_H
#define CANARY_CANARY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "canary/export.h"
#include "canary/transport.h"
#include "canary/version.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------
 * Errors
 * ------------------------------------------------------------------------ */

/**
 * Return codes. 0 is success; errors are small negative numbers whose values
 * are pinned (they never change between releases).
 */
typedef enum canary_error_code {
	CANARY_OK = 0,
	CANARY_EINVAL = -1,    /**< bad argument from the caller */
	CANARY_ENOMEM = -2,    /**< an allocation failed */
	CANARY_ENETWORK = -3,  /**< the flag service could not be reached */
	CANARY_ETIMEOUT = -4,  /**< the operation did not finish in time */
	CANARY_EPARSE = -5,    /**< malformed or invalid input (config JSON) */
	CANARY_ESTORAGE = -6,  /**< the SQLite cache or outbox failed */
	CANARY_EAUTH = -7,     /**< the flag service rejected the SDK key */
	CANARY_ESTATE = -8,    /**< the call is not valid in the client's state */
	CANARY_ENOTSUP = -9    /**< not supported by this build or mode */
} canary_error_code;

/**
 * Describe a return code.
 * @return a static string; never NULL (unknown codes get a generic text).
 */
CANARY_API const char *canary_strerror(int code);

/**
 * The detail of the last error returned by a libcanary call on this thread,
 * e.g. "opts.cache_path: directory /var/lib/app does not exist" or, after
 * canary_client_wait_ready() failed, its cause: "connect to
 * 127.0.0.1:8080: connection refused", "HTTP 404 from
 * http://flags/v1/v1/flags: is server_url the server's root?".
 * @return a thread-local string, valid until the next libcanary call on this
 *         thread; "" when there is none. Never NULL.
 */
CANARY_API const char *canary_error_last(void);

/** The library's run-time version string, e.g. "0.1.0". */
CANARY_API const char *canary_version(void);

/* ------------------------------------------------------------------------
 * Options
 * ------------------------------------------------------------------------ */

/** Log levels passed to canary_log_fn. */
typedef enum canary_log_level {
	CANARY_LOG_DEBUG = 0,
	CANARY_LOG_INFO = 1,
	CANARY_LOG_WARN = 2,
	CANARY_LOG_ERROR = 3,
	CANARY_LOG_OFF = 4     /**< as a threshold: nothing (never a message's) */
} canary_log_level;

/**
 * Log callback. Called from the calling thread or the background worker;
 * `msg` is borrowed for the duration of the call. Never called with a secret
 * (SDK keys are not logged).
 */
typedef void (*canary_log_fn)(canary_log_level level, const char *msg, void *ctx);

/**
 * Allocator hooks for libcanary's own memory: the client, config snapshots,
 * counters, buffers. Memory that the libraries libcanary uses allocate
 * internally does NOT go through them: cJSON (parsing a config), SQLite
 * (the cache and the outbox) and libcurl (HTTP) use their own allocators,
 * whose process-wide settings libcanary never changes. Either all three
 * functions are set or none (NULL means the C library's). `free_fn` must
 * accept NULL.
 */
typedef struct canary_allocator {
	void *(*malloc_fn)(size_t size, void *ctx);
	void *(*realloc_fn)(void *ptr, size_t size, void *ctx);
	void (*free_fn)(void *ptr, void *ctx);
	void *ctx;
} canary_allocator;

/** What to serve once the config is older than max_config_age_ms. */
typedef enum canary_stale_policy {
	CANARY_STALE_KEEP = 0,  /**< keep serving the last config (default) */
	CANARY_STALE_STABLE = 1 /**< send every unit to the stable arm */
} canary_stale_policy;

/** Where the client stands with the flag service (canary_client_status()). */
typedef enum canary_status {
	CANARY_STATUS_INITIALIZING = 0, /**< the first attempt has not finished */
	CANARY_STATUS_READY = 1,        /**< the config in force is current */
	CANARY_STATUS_STALE = 2,        /**< the config is older than
	                                     max_config_age_ms: the stale
	                                     policy applies */
	CANARY_STATUS_OFFLINE = 3,      /**< the service cannot be reached; the
	                                     last good config (if any) is served */
	CANARY_STATUS_AUTH_ERROR = 4    /**< the service rejected the SDK key
	                                     (401/403): no more requests are made */
} canary_status;

/**
 * Status callback: called on every change of canary_client_status(), from
 * the background worker (or from canary_client_tick() in no-thread mode),
 * with no libcanary lock held. It must not call canary_client_free().
 */
typedef void (*canary_status_fn)(canary_status status, void *ctx);

/**
 * Config-changed callback: a new config version is in force (from the
 * service, or canary_client_set_config_json()). Same threading as
 * canary_status_fn.
 */
typedef void (*canary_config_fn)(uint64_t version, void *ctx);

/** Where configs come from (canary_options.source). */
typedef enum canary_source {
	CANARY_SOURCE_LIBCANARY = 0, /**< canary-server's protocol
	                                  (docs/protocol.md) */
	CANARY_SOURCE_UNLEASH = 1    /**< an Unleash server's client API:
	                                  server_url is its API root (as
	                                  Unleash's SDKs take it, e.g.
	                                  "https://unleash.example.com/api"),
	                                  sdk_key a client API token; polling
	                                  with ETags; features are evaluated
	                                  with the _ctx calls; a registration
	                                  and usage metrics are sent in
	                                  Unleash's formats (docs/unleash.md) */
} canary_source;

/** Current version of canary_options; pass it to canary_options_init().
 *  Version 1 ends with outbox_max_bytes; version 2 adds server_urls and
 *  log_stderr; version 3 adds source and app_name; version 4 adds
 *  hostname and unleash_delta. */
#define CANARY_OPTIONS_VERSION 4

/**
 * Client options. Initialise with canary_options_init() or
 * CANARY_OPTIONS_INIT, then set the fields you need: zero means "the
 * default" for every field but log_level and log_stderr (0 is DEBUG in
 * both). Strings are copied by
 * canary_client_new(). Fields are only ever appended.
 */
typedef struct canary_options {
	unsigned int version;        /**< CANARY_OPTIONS_VERSION */

	const char *server_url;      /**< flag service base URL, e.g.
	                                  "https://flags.example.com"; NULL = offline */
	const char *sdk_key;         /**< SDK key sent as a Bearer token; not
	                                  empty, no control bytes (strip a key
	                                  file's newline) */
	const char *cache_path;      /**< SQLite file for the config cache and the
	                                  event outbox; NULL = no persistence */
	const char *bootstrap_path;  /**< a JSON file in the /v1/flags format,
	                                  loaded at start when no newer cache */

	uint32_t connect_timeout_ms; /**< default 2000 */
	uint32_t request_timeout_ms; /**< default 10000 */
	uint32_t poll_interval_ms;   /**< polling period while the stream is down;
	                                  default 30000 */
	uint32_t flush_interval_ms;  /**< event flush period; default 10000 */
	uint64_t max_config_age_ms;  /**< staleness limit; 0 = never stale */
	canary_stale_policy stale_policy;

	canary_log_fn log_fn;        /**< NULL = warnings and errors go to
	                                  stderr (see log_stderr) */
	void *log_ctx;
	canary_log_level log_level;  /**< lowest level passed to log_fn; INFO
	                                  after canary_options_init() (0 is
	                                  DEBUG) */

	canary_allocator allocator;  /**< all NULL = malloc/realloc/free */

	/* Data path (docs/datapath.md). */
	const char *ca_file;         /**< PEM bundle of CAs to trust; NULL =
	                                  the system's */
	const char *ca_path;         /**< directory of CA certificates */
	bool tls_insecure;           /**< DANGER: do not verify the server's
	                                  certificate or host name. For test
	                                  rigs only; logged as a warning */
	bool no_thread;              /**< start no background thread: the
	                                  application calls canary_client_tick() */
	bool no_stream;              /**< never open /v1/stream: poll only */
	size_t max_response_bytes;   /**< largest response accepted (after
	                                  decompression); default 16 MiB,
	                                  at most 64 MiB */
	uint32_t backoff_cap_ms;     /**< longest wait between retries after
	                                  failures; default 60000 */
	uint32_t stream_idle_timeout_ms; /**< drop a stream silent this long
	                                  (the service sends a heartbeat every
	                                  15 s); default 45000 */
	canary_status_fn status_fn;  /**< NULL = none */
	void *status_ctx;
	canary_config_fn config_fn;  /**< NULL = none */
	void *config_ctx;
	canary_transport transport;  /**< request NULL = libcurl (copied) */

	/* Events (docs/events.md). */
	bool no_exposures;           /**< canary_enabled() and canary_evaluate()
	                                  do not count exposures (the record_*
	                                  calls still count) */
	uint32_t outbox_max_batches; /**< batches the outbox holds at most
	                                  before it drops the oldest (counted
	                                  and reported); default 1000 */
	uint64_t outbox_max_bytes;   /**< bytes of batch bodies the outbox holds
	                                  at most; default 64 MiB, at least
	                                  1000; a batch larger than it alone
	                                  is dropped (counted and reported) */

	/* Version 2. */
	const char *const *server_urls; /**< several flag service base URLs,
	                                  a NULL-terminated list, for
	                                  deployments without a load balancer:
	                                  tried in order, the next one after a
	                                  failure, with backoff once each has
	                                  failed in a row; the client stays on
	                                  a server that answers. Copied (at
	                                  most 16). NULL = server_url alone;
	                                  set one of the two, not both */
	canary_log_level log_stderr; /**< without log_fn: the lowest level
	                                  written to stderr (each distinct
	                                  message once, at most 20 lines a
	                                  minute); CANARY_LOG_WARN after
	                                  canary_options_init() (0 is DEBUG),
	                                  CANARY_LOG_OFF for nothing. The
	                                  environment variable CANARY_LOG
	                                  (off, error, warn, info, debug)
	                                  overrides it */

	/* Version 3. */
	canary_source source;        /**< the kind of service server_url
	                                  names; CANARY_SOURCE_LIBCANARY (0)
	                                  by default. canary_client_set_config_json()
	                                  and bootstrap_path take that service's
	                                  format too */
	const char *app_name;        /**< Unleash's appName, sent with every
	                                  request (UNLEASH-APPNAME); NULL =
	                                  "libcanary" (copied) */

	/* Version 4. */
	const char *hostname;        /**< this host's name for Unleash's
	                                  applicationHostname strategy
	                                  (compared case-insensitively with
	                                  its hostNames); NULL = the HOSTNAME
	                                  environment variable when set and
	                                  not empty, else the system's host
	                                  name (gethostname()); "" = none (the
	                                  strategy never matches). At most
	                                  255 bytes (copied) */
	bool unleash_delta;          /**< with an Unleash server: poll its
	                                  delta API (GET /client/delta: the
	                                  changes since the last response)
	                                  instead of whole features
	                                  documents; after any HTTP error or
	                                  a delta that cannot be applied,
	                                  whole documents from then on.
	                                  Default false */
} canary_options;

/**
 * Static initialiser: the same defaults as canary_options_init(opts,
 * CANARY_OPTIONS_VERSION), e.g.
 *   canary_options opts = CANARY_OPTIONS_INIT;
 * Every field is listed, in order, so that it compiles without warnings
 * as C and as C++.
 */
#define CANARY_OPTIONS_INIT { CANARY_OPTIONS_VERSION, \
	NULL, NULL, NULL, NULL,                /* urls, key, paths */ \
	0, 0, 0, 0, 0, CANARY_STALE_KEEP,      /* timings, staleness */ \
	NULL, NULL, CANARY_LOG_INFO,           /* logging */ \
	{ NULL, NULL, NULL, NULL },            /* allocator */ \
	NULL, NULL, false, false, false,       /* TLS, thread, stream */ \
	0, 0, 0,                               /* limits */ \
	NULL, NULL, NULL, NULL,                /* callbacks */ \
	{ NULL, NULL },                        /* transport */ \
	false, 0, 0,                           /* events */ \
	NULL, CANARY_LOG_WARN,                 /* version 2 */ \
	CANARY_SOURCE_LIBCANARY, NULL,         /* version 3 */ \
	NULL, false }                          /* version 4 */

/**
 * Initialise `opts` to the defaults for the given options version: only
 * the fields of that version are written (a program built against an
 * older header passes its own, smaller, version).
 * @return CANARY_OK, or CANARY_EINVAL when opts is NULL or the version is
 *         not one this library knows (1 to 4).
 */
CANARY_API int canary_options_init(canary_options *opts, unsigned int version);

/* ------------------------------------------------------------------------
 * Client
 * ------------------------------------------------------------------------ */

/** Opaque client handle; share one per process (or per flag service). */
typedef struct canary_client canary_client;

/**
 * Create a client. Checks the options first, naming the field of the
 * first bad one in canary_error_last(): a server URL whose scheme is not
 * http or https ("opts.server_url: ..."), a cache_path whose directory
 * does not exist, a bootstrap_path that cannot be read. Loads the config
 * cached at cache_path (and then
 * bootstrap_path, when newer) before any network I/O, so a client that has
 * run before answers at once, online or not; then, with a server_url,
 * starts the background worker that fetches and follows the config (or
 * leaves that to canary_client_tick() with opts.no_thread). A cache file
 * that cannot be used is moved aside and rebuilt, with a log line: it never
 * makes this call fail.
 * @param[out] out   the new client, to be freed with canary_client_free().
 *                   Set to NULL on error.
 * @param opts       options (copied); NULL means all defaults.
 * @return CANARY_OK; CANARY_EINVAL for bad options (a missing
 *         bootstrap_path file included); CANARY_ENOMEM; CANARY_EPARSE when
 *         bootstrap_path holds an invalid config (the detail names the file
 *         and the bad field).
 */
CANARY_API int canary_client_new(canary_client **out, const canary_options *opts);

/**
 * Free a client and everything it owns. Accepts NULL. From the moment it
 * is called no config is applied and no config_fn or status_fn is called
 * (a stream in progress is abandoned at its next piece, however much of
 * it is buffered). It moves the events counted so far into the outbox
 * and, with a worker thread, gives it up to 500 ms to deliver them (what is left stays in the cache_path file
 * for the next client; without a cache_path it is lost). Stops the worker
 * within a bounded time (well under a second) even when the service or DNS
 * hangs: requests in flight are abandoned (a transport hook is asked to
 * stop through its body_fn and is waited for). No other thread may use the
 * client during or after this call, and no callback may make it.
 */
CANARY_API void canary_client_free(canary_client *client);

/**
 * Apply a config delivered out of band (a file, MQTT...), in the /v1/flags
 * JSON format (with opts.source CANARY_SOURCE_UNLEASH: an Unleash features
 * document). The JSON is validated whole before anything changes: on error
 * the previous config stays in force, untouched.
 * @param json  the document (borrowed for the call; need not be
 *              NUL-terminated)
 * @param len   its length in bytes
 * @return CANARY_OK; CANARY_EINVAL for NULL arguments; CANARY_EPARSE with a
 *         detail naming the bad field, e.g. "flags[3].rollout_bp: must be
 *         0..10000"; CANARY_ENOMEM.
 */
CANARY_API int canary_client_set_config_json(canary_client *client,
	const char *json, size_t len);

/**
 * The version of the config in force, or 0 when there is none yet.
 */
CANARY_API uint64_t canary_client_config_version(const canary_client *client);

/**
 * Wait until the client is ready: the service confirmed the config, or the
 * first attempt to reach it failed while a config (cache, bootstrap) is in
 * force, or there is no server_url and a config is in force.
 *
 * In no-thread mode nothing progresses between ticks, so this does not
 * block: it reports the state as of the last canary_client_tick().
 * @param timeout_ms  longest wait
 * @return CANARY_OK (see canary_client_status() for how fresh the config
 *         is); CANARY_ETIMEOUT; CANARY_EAUTH when the SDK key was rejected;
 *         CANARY_EINVAL for a NULL client. On failure canary_error_last()
 *         says why, e.g. "not ready after 2000 ms: connect to
 *         127.0.0.1:1: connection refused" or "HTTP 401 from
 *         http://127.0.0.1:8080/v1/flags: SDK key refused".
 */
CANARY_API int canary_client_wait_ready(canary_client *client,
	uint32_t timeout_ms);

/**
 * The client's status now. Thread-safe and takes no lock (one atomic
 * load), so a health check may call it as often as it likes.
 * CANARY_STATUS_INITIALIZING for a NULL client.
 */
CANARY_API canary_status canary_client_status(canary_client *client);

/** A short upper-case name for a status, e.g. "READY". Never NULL. */
CANARY_API const char *canary_status_name(canary_status status);

/**
 * A summary of the client for a person, several lines of text: the config
 * source and the server in use, the status, the config in force (version,
 * where it came from, how long since the service confirmed it), the last
 * error, the cache, the event outbox, and the unknown flag keys evaluated.
 * Thread-safe; for a support page or a debug log, not a hot path.
 * @param buf  receives the text, NUL-terminated, cut to `len` bytes
 *             (1024 are enough but for very long URLs and paths)
 * @return CANARY_OK; CANARY_EINVAL for a NULL client or buffer or len 0.
 */
CANARY_API int canary_client_diagnose(canary_client *client, char *buf,
	size_t len);

/**
 * No-thread mode: do the client's pending work (start or continue HTTP
 * requests, read the stream, apply and cache configs, update the status)
 * without blocking on the network. Call it regularly (every 10 to 100 ms
 * while the stream is open) from one thread at a time.
 * @param now_ms  a monotonic clock in milliseconds (any origin, never going
 *                back), the same clock on every call
 * @return CANARY_OK; CANARY_EINVAL for a NULL client; CANARY_ESTATE when the
 *         client was not created with opts.no_thread.
 */
CANARY_API int canary_client_tick(canary_client *client, uint64_t now_ms);

/**
 * Call in the child after fork() before using the client there: the child
 * gets fresh connections (the parent's are left alone), a fresh cache
 * connection and, unless in no-thread mode, a new worker thread, and
 * fetches the config at once. Without it the child still evaluates with
 * the config it inherited but never refreshes it (in no-thread mode
 * canary_client_tick() notices the fork and does this itself, and in both
 * modes so do canary_flush() and canary_client_free(): what the child
 * counted before then is forgotten with the parent's counts).
 * In the parent, or when called twice, it does nothing.
 * @return CANARY_OK; CANARY_EINVAL for a NULL client; CANARY_ENOMEM.
 */
CANARY_API int canary_client_postfork(canary_client *client);

/* ------------------------------------------------------------------------
 * Evaluation
 * ------------------------------------------------------------------------ */

/** Which build a unit gets. */
typedef enum canary_arm {
	CANARY_ARM_STABLE = 0,
	CANARY_ARM_CANARY = 1
} canary_arm;

/** Why an evaluation gave its answer (OpenFeature-style reasons). */
typedef enum canary_reason {
	CANARY_REASON_SPLIT = 0,            /**< the rollout percentage decided */
	CANARY_REASON_TARGETING_MATCH = 1,  /**< the allow or deny list decided */
	CANARY_REASON_DISABLED = 2,         /**< the flag is switched off */
	CANARY_REASON_DEFAULT = 3,          /**< no decision possible: stable */
	CANARY_REASON_STALE = 4,            /**< config too old, stale policy applied */
	CANARY_REASON_ERROR = 5,            /**< an error; see error_code */
	CANARY_REASON_INELIGIBLE = 6        /**< the flag's targeting rules
	                                         exclude the unit: stable, and
	                                         counted apart from the stable
	                                         arm (docs/targeting.md) */
} canary_reason;

/** Error codes for CANARY_REASON_ERROR / CANARY_REASON_DEFAULT. */
typedef enum canary_eval_error {
	CANARY_EVAL_OK = 0,
	CANARY_EVAL_FLAG_NOT_FOUND = 1, /**< no flag with that key in the config */
	CANARY_EVAL_NO_UNIT = 2,        /**< the unit (user id) is NULL or empty */
	CANARY_EVAL_NOT_READY = 3,      /**< no config has been loaded yet */
	CANARY_EVAL_INVALID_ARGUMENT = 4/**< NULL client or NULL flag key */
} canary_eval_error;

/** Size of canary_details.variant, with its NUL: variants are at most
 * CANARY_VARIANT_MAX - 1 bytes (the config parser enforces it). */
#define CANARY_VARIANT_MAX 128

/** Current version of canary_details. Version 1 ends with rollout_bp;
 *  version 2 adds rule. */
#define CANARY_DETAILS_VERSION 2

/**
 * The details of one evaluation. Everything is copied into the struct, so
 * it stays valid however the config changes afterwards. Initialise it
 * with CANARY_DETAILS_INIT or canary_details_init(): libcanary fills only
 * the fields of the version it says (0 is read as 1, the first layout, so
 * a zeroed struct works too). Fields are only ever appended.
 */
typedef struct canary_details {
	unsigned int version;       /**< CANARY_DETAILS_VERSION */
	canary_arm arm;
	char variant[CANARY_VARIANT_MAX]; /**< the arm's variant; "" if none */
	canary_reason reason;
	canary_eval_error error_code;
	uint64_t config_version;    /**< 0 when no config */
	uint32_t bucket;            /**< the unit's bucket in [0, 10000), when
	                                 the split decided; else 0 */
	uint32_t rollout_bp;        /**< the flag's rollout in basis points */

	/* Version 2. */
	int32_t rule;               /**< which rule decided, -1 when none:
	                                 INELIGIBLE, the flag's first
	                                 constraint the unit fails (its index;
	                                 past the constraints, the number of
	                                 constraints plus the index of the
	                                 failing segment); a feature from an
	                                 Unleash server: the index of the
	                                 strategy that enabled it */
} canary_details;

/** Static initialiser: `canary_details d = CANARY_DETAILS_INIT;` */
#define CANARY_DETAILS_INIT { CANARY_DETAILS_VERSION, CANARY_ARM_STABLE, \
	{ 0 }, CANARY_REASON_DEFAULT, CANARY_EVAL_OK, 0, 0, 0, -1 }

/**
 * Initialise `details` for the given version (zeroes the fields of that
 * version, sets version; rule is -1).
 * @return CANARY_OK, or CANARY_EINVAL when details is NULL or the version
 *         is not one this library knows (1 or 2).
 */
CANARY_API int canary_details_init(canary_details *details,
	unsigned int version);

/**
 * Is this unit in the canary for this flag?
 *
 * Never fails, never blocks, never allocates: on any problem (NULL client,
 * unknown flag, NULL or empty unit, no config yet) it answers false, the
 * stable build. An unknown flag key is reported once per key by the
 * background worker (or canary_client_tick()), at WARN, with the nearest
 * key of the config when one is close. In a loop, canary_enabled_ref()
 * saves the lookup of the flag key. For a flag of the config in force it counts one exposure
 * for the unit's arm (a relaxed atomic add on a counter of the calling
 * thread's stripe; see "Events" below), unless opts.no_exposures is set.
 * @param flag  flag key (borrowed for the call)
 * @param unit  stickiness value, normally the user id (borrowed)
 */
CANARY_API bool canary_enabled(canary_client *client, const char *flag,
	const char *unit);

/**
 * Like canary_enabled(), and says why. Counts an exposure as
 * canary_enabled() does; canary_evaluate_ex() can opt out per call.
 * @param[out] out  when not NULL, filled in every case (the fields of its
 *                  version; `version` itself is left as it is)
 * @return true when the unit is in the canary
 */
CANARY_API bool canary_evaluate(canary_client *client, const char *flag,
	const char *unit, canary_details *out);

/** canary_evaluate_ex() flag: do not count this evaluation as an exposure
 *  (e.g. a dashboard asking which arm a user is on). */
#define CANARY_EVALUATE_NO_EXPOSURE 0x1u

/**
 * canary_evaluate() with flags (CANARY_EVALUATE_* bits; unknown bits are
 * ignored). canary_enabled() and canary_evaluate() count one exposure per
 * call for a flag of the config in force, unless opts.no_exposures is set;
 * canary_evaluate_ex() with CANARY_EVALUATE_NO_EXPOSURE does not count.
 * Same guarantees as canary_evaluate(): no lock, no I/O, no allocation.
 */
CANARY_API bool canary_evaluate_ex(canary_client *client, const char *flag,
	const char *unit, unsigned int flags, canary_details *out);

/**
 * A flag handle: a flag key resolved once, for hot loops. Owned by its
 * client (freed with it); the same key gives the same handle. It follows
 * config changes: a new config re-resolves it at its first use, a config
 * without the flag answers stable (FLAG_NOT_FOUND) until one has it again.
 */
typedef struct canary_flag_ref canary_flag_ref;

/**
 * The handle of a flag key, for canary_enabled_ref(). The flag need not be
 * in the config yet. Takes a lock and may allocate: call it once, at
 * start-up, not per evaluation.
 * @param flag  the key (copied)
 * @return the handle, valid until canary_client_free(); NULL with
 *         canary_error_last() set for a NULL argument, an empty or too long
 *         key, or out of memory (at most 65536 handles per client).
 */
CANARY_API canary_flag_ref *canary_flag_ref_get(canary_client *client,
	const char *flag);

/**
 * canary_enabled() through a handle: the same answer and the same exposure
 * count, without hashing or looking up the flag key. A handle of another
 * client, or NULL, answers false. No lock, no I/O, no allocation.
 */
CANARY_API bool canary_enabled_ref(canary_client *client,
	canary_flag_ref *ref, const char *unit);

/**
 * canary_evaluate_ex() through a handle.
 * @param flags  CANARY_EVALUATE_* bits
 * @param[out] out  as for canary_evaluate() (may be NULL)
 */
CANARY_API bool canary_evaluate_ref(canary_client *client,
	canary_flag_ref *ref, const char *unit, unsigned int flags,
	canary_details *out);

/** A short upper-case name for a reason, e.g. "SPLIT". Never NULL. */
CANARY_API const char *canary_reason_name(canary_reason reason);

/** A short upper-case name for an evaluation error, e.g. "FLAG_NOT_FOUND". */
CANARY_API const char *canary_eval_error_name(canary_eval_error code);

/**
 * The bucketing contract, exposed for tools and tests: the bucket in
 * [0, 10000) of "<salt>:<unit>" (MurmurHash3 x86_32, seed 0).
 * @param salt, unit  NUL-terminated UTF-8 strings (borrowed); NULL is
 *                    treated as "".
 */
CANARY_API uint32_t canary_bucket(const char *salt, const char *unit);

/* ------------------------------------------------------------------------
 * Targeting: evaluation with a context (docs/targeting.md)
 *
 * A flag may have rules that decide who is eligible for the canary
 * (constraints on attributes such as a firmware version or a region, and
 * named segments of them) and a stickiness attribute (bucket by a device
 * id instead of the user id). A unit its rules exclude gets the stable
 * build with CANARY_REASON_INELIGIBLE, and is counted apart from the
 * stable arm, so that the canary is compared with eligible units only.
 * The *_ctx calls pass the attributes; canary_enabled(c, flag, unit) on
 * such a flag evaluates its rules with the unit alone.
 * ------------------------------------------------------------------------ */

/** One named attribute of a context, e.g. {"firmware", "2.3.1"}. Both
 *  strings are borrowed for the call; a NULL or empty value is an absent
 *  attribute. Numbers, dates and versions are read by the operator that
 *  compares them. */
typedef struct canary_attribute {
	const char *name;
	const char *value;
} canary_attribute;

/** Attribute names a context remembers the position of (see below). */
#define CANARY_CONTEXT_SLOTS 32

/**
 * libcanary's scratch space inside a canary_context: where each attribute
 * name the config's rules use was found in `attrs`, so that a context
 * evaluated for many flags looks each name up once. It is keyed by the
 * config's rules, `attrs` and `attr_count`: values may change between
 * calls, names may not (change `attrs`, or call canary_context_init()
 * again). Opaque; zeroed by the initialisers.
 */
typedef struct canary_context_cache {
	uint64_t id;
	const void *attrs;
	size_t count;
	unsigned char pos[CANARY_CONTEXT_SLOTS];
} canary_context_cache;

/** Current version of canary_context. */
#define CANARY_CONTEXT_VERSION 1

/**
 * Who is asking: the unit and its attributes, all borrowed for the call,
 * nothing copied or allocated. Initialise with CANARY_CONTEXT_INIT or
 * canary_context_init(). Fields are only ever appended.
 *
 * A context is used by one thread at a time: evaluations write its cache.
 */
typedef struct canary_context {
	unsigned int version;           /**< CANARY_CONTEXT_VERSION */
	const char *unit;               /**< the unit, normally the user id:
	                                     allow and deny lists, the split
	                                     (unless the flag's stickiness
	                                     names another attribute);
	                                     Unleash's userId */
	const canary_attribute *attrs;  /**< the attributes (first name wins) */
	size_t attr_count;
	/* Unleash's other well-known fields (NULL: not set; an attribute of
	 * the same name is used then, as in Unleash). */
	const char *session_id;         /**< sessionId */
	const char *remote_address;     /**< remoteAddress, IPv4 or IPv6 */
	const char *environment;        /**< environment */
	const char *app_name;           /**< appName */
	const char *current_time;       /**< currentTime, RFC 3339; NULL: now */
	canary_context_cache cache;     /**< libcanary's; see above */
} canary_context;

/** Static initialiser: `canary_context ctx = CANARY_CONTEXT_INIT;` */
#define CANARY_CONTEXT_INIT { CANARY_CONTEXT_VERSION, NULL, NULL, 0, \
	NULL, NULL, NULL, NULL, NULL, { 0, NULL, 0, { 0 } } }

/**
 * Initialise `ctx` for the given version: zeroed, with its version.
 * @return CANARY_OK, or CANARY_EINVAL when ctx is NULL or the version is
 *         not one this library knows.
 */
CANARY_API int canary_context_init(canary_context *ctx, unsigned int version);

/**
 * canary_enabled() with a context: is ctx->unit in the canary for this
 * flag? The flag's rules (if any) are evaluated with the context's
 * attributes; a unit they exclude gets false (stable). The same
 * guarantees: no lock, no I/O, no allocation, one exposure counted (apart
 * from the stable arm for an excluded unit). A NULL ctx answers false.
 * @param ctx  borrowed for the call; its cache is written (one thread at
 *             a time per context)
 */
CANARY_API bool canary_enabled_ctx(canary_client *client, const char *flag,
	canary_context *ctx);

/**
 * canary_evaluate_ex() with a context: says why, and which rule decided
 * (details version 2: `rule`).
 * @param flags     CANARY_EVALUATE_* bits
 * @param[out] out  as for canary_evaluate() (may be NULL)
 */
CANARY_API bool canary_evaluate_ctx(canary_client *client, const char *flag,
	canary_context *ctx, unsigned int flags, canary_details *out);

/** canary_enabled_ctx() through a flag handle. */
CANARY_API bool canary_enabled_ref_ctx(canary_client *client,
	canary_flag_ref *ref, canary_context *ctx);

/** canary_evaluate_ctx() through a flag handle. */
CANARY_API bool canary_evaluate_ref_ctx(canary_client *client,
	canary_flag_ref *ref, canary_context *ctx, unsigned int flags,
	canary_details *out);

/* ------------------------------------------------------------------------
 * Variants (docs/unleash.md, "Variants through the public API")
 *
 * Which variant of a flag a context gets. With an Unleash server
 * (CANARY_SOURCE_UNLEASH) it is Unleash's getVariant: a weighted choice
 * among the feature's (or the matching strategy's) variants, with an
 * optional payload, and the variant "disabled" (enabled false) when the
 * feature is off, unknown, or has no variants. With canary-server's
 * protocol it is the unit's arm's variant, the same string as
 * canary_details.variant (a flag's "variants": {"stable", "canary"}), and
 * "disabled" when that arm has none; there is no payload.
 * ------------------------------------------------------------------------ */

/** Size of canary_variant.payload_type, with its NUL. */
#define CANARY_PAYLOAD_TYPE_MAX 32

/** canary_variant.truncated bits: a string did not fit where it is
 *  copied, and was cut (at a UTF-8 character boundary). */
#define CANARY_VARIANT_NAME_TRUNCATED 0x1u    /**< name: over 127 bytes */
#define CANARY_VARIANT_TYPE_TRUNCATED 0x2u    /**< payload_type: over 31 */
#define CANARY_VARIANT_PAYLOAD_TRUNCATED 0x4u /**< payload: over the
                                                   caller's buffer */

/** Current version of canary_variant. */
#define CANARY_VARIANT_VERSION 1

/**
 * A variant, copied into the struct (and the caller's payload buffer)
 * while the config is held: it stays valid however the config changes
 * afterwards, and nothing is allocated. Initialise with
 * CANARY_VARIANT_INIT or canary_variant_init(), then point payload_buf
 * at a buffer to receive the payload (or leave it NULL: payload_len still
 * tells its length). Fields are only ever appended.
 */
typedef struct canary_variant {
	unsigned int version;       /**< CANARY_VARIANT_VERSION */
	/* Set by the caller (read, never written, by libcanary). */
	char *payload_buf;          /**< where the payload's value is copied,
	                                 NUL-terminated; NULL: not copied */
	size_t payload_buf_size;    /**< its size in bytes */
	/* Filled by libcanary. */
	char name[CANARY_VARIANT_MAX]; /**< the variant; "disabled" when none */
	bool enabled;               /**< a variant was chosen (name is not
	                                 the "disabled" placeholder) */
	bool feature_enabled;       /**< the flag's answer for the context:
	                                 what canary_enabled_ctx() says */
	bool has_payload;           /**< the variant has a payload */
	char payload_type[CANARY_PAYLOAD_TYPE_MAX]; /**< Unleash's payload
	                                 type ("string", "json", "csv",
	                                 "number"); "" without a payload */
	size_t payload_len;         /**< the payload's whole length in bytes
	                                 (more than was copied when truncated) */
	unsigned int truncated;     /**< CANARY_VARIANT_*_TRUNCATED bits */
	canary_reason reason;       /**< as canary_details.reason */
	canary_eval_error error_code; /**< as canary_details.error_code:
	                                 FLAG_NOT_FOUND, INVALID_ARGUMENT... */
	uint64_t config_version;    /**< 0 when no config */
	int32_t rule;               /**< as canary_details.rule */
} canary_variant;

/** Static initialiser: `canary_variant v = CANARY_VARIANT_INIT;` */
#define CANARY_VARIANT_INIT { CANARY_VARIANT_VERSION, NULL, 0, \
	"disabled", false, false, false, { 0 }, 0, 0, CANARY_REASON_DEFAULT, \
	CANARY_EVAL_OK, 0, -1 }

/**
 * Initialise `variant` for the given version: zeroed but for its version,
 * name "disabled" and rule -1; payload_buf NULL.
 * @return CANARY_OK, or CANARY_EINVAL when variant is NULL or the version
 *         is not one this library knows (1).
 */
CANARY_API int canary_variant_init(canary_variant *variant,
	unsigned int version);

/**
 * The variant of `flag` for a context (see above for what a variant is
 * in each mode). The same guarantees as canary_enabled_ctx(): no lock, no
 * I/O, no allocation, and one exposure counted for the flag's answer
 * (feature_enabled), unless `flags` has CANARY_EVALUATE_NO_EXPOSURE or
 * opts.no_exposures is set. With an Unleash server the variant and the
 * answer come from one evaluation, so they always agree (also for
 * random rollouts); Unleash's per-variant usage counts are not sent.
 * Never fails in a way the caller must handle: on any problem `out`
 * holds the "disabled" variant and says why (reason ERROR and
 * error_code: INVALID_ARGUMENT for a NULL client, flag, ctx or out;
 * FLAG_NOT_FOUND for a flag the config does not have; NOT_READY before
 * the first config), and a NULL argument also sets canary_error_last().
 * @param flag      the flag key (borrowed for the call)
 * @param ctx       borrowed for the call; its cache is written
 * @param flags     CANARY_EVALUATE_* bits
 * @param[out] out  filled in every case but NULL (its payload_buf and
 *                  payload_buf_size are read, `version` is left as it is)
 * @return out->enabled: true when a variant was chosen
 */
CANARY_API bool canary_variant_ctx(canary_client *client, const char *flag,
	canary_context *ctx, unsigned int flags, canary_variant *out);

/* ------------------------------------------------------------------------
 * Events (docs/events.md)
 *
 * Exposures (counted by canary_enabled() and canary_evaluate()), errors,
 * latencies and custom metrics are aggregated in memory per (flag, arm,
 * config version), moved every opts.flush_interval_ms into an outbox
 * (the SQLite file at cache_path, or memory without one), and POSTed to
 * the service's /v1/events. A batch leaves the outbox only after a 2xx,
 * and the service counts a batch id once: delivery is at least once,
 * counting exactly once. What a kill -9 can lose is only what was counted
 * since the last flush.
 *
 * The record calls recompute the unit's arm with the config in force, as
 * canary_enabled() would: the application never carries the arm. They
 * take no lock shared with other threads in the common case (latency and
 * metrics take a lock of the calling thread's stripe), never do I/O and
 * never allocate. Memory is bounded: what does not fit is dropped,
 * counted, and reported to the service in the next batch ("dropped").
 * A record call that returns an error counted nothing; the count of such
 * calls is in canary_event_stats.ignored.
 * ------------------------------------------------------------------------ */

/**
 * Count one error for the unit's arm of `flag`.
 * @param flag, unit  borrowed for the call
 * @return CANARY_OK when counted; CANARY_EINVAL for a NULL argument or an
 *         empty unit; CANARY_ESTATE when no config is in force or `flag` is
 *         not in it; CANARY_ENOMEM when the counter could not be kept (a
 *         bound was hit; reported as dropped).
 */
CANARY_API int canary_record_error(canary_client *client, const char *flag,
	const char *unit);

/**
 * Record one latency in milliseconds for the unit's arm of `flag` (kept in
 * a histogram with 1% relative accuracy; 0 is allowed and counted as 0).
 * @return as canary_record_error(); also CANARY_EINVAL for a NaN, infinite
 *         or negative `ms`.
 */
CANARY_API int canary_record_latency(canary_client *client, const char *flag,
	const char *unit, double ms);

/**
 * Add `value` to the custom metric `name` (count and sum) for the unit's
 * arm of `flag`.
 * @param name  1..64 bytes of [A-Za-z0-9_.-] (borrowed)
 * @return as canary_record_error(); also CANARY_EINVAL for a bad name or
 *         a NaN or infinite value.
 */
CANARY_API int canary_record_metric(canary_client *client, const char *flag,
	const char *unit, const char *name, double value);

/**
 * The record calls with a context, for a flag with targeting rules: the
 * unit's arm is recomputed with the context, as canary_enabled_ctx()
 * would. For a unit the rules exclude an error is counted apart from the
 * stable arm, and a latency or a metric is not kept (CANARY_OK): the
 * canary is compared with eligible units only. Returns as the calls
 * above; CANARY_EINVAL also for a NULL ctx or an empty ctx->unit.
 */
CANARY_API int canary_record_error_ctx(canary_client *client,
	const char *flag, canary_context *ctx);
CANARY_API int canary_record_latency_ctx(canary_client *client,
	const char *flag, canary_context *ctx, double ms);
CANARY_API int canary_record_metric_ctx(canary_client *client,
	const char *flag, canary_context *ctx, const char *name, double value);

/**
 * Move everything counted so far into the outbox, and wait up to
 * `timeout_ms` for the outbox to be delivered. Thread-safe. In no-thread
 * mode, or without a server_url, it only writes the outbox: delivery
 * happens in canary_client_tick() (or never, without a server).
 * @return CANARY_OK when everything counted before the call has left the
 *         outbox (delivered, or dropped as reported); CANARY_ETIMEOUT when
 *         some is still there (it goes out later, and survives a restart
 *         with a cache_path); CANARY_EINVAL for a NULL client;
 *         CANARY_ESTORAGE when the outbox could not be written, or
 *         CANARY_ENOMEM when memory ran out on the way (in both cases what
 *         could not be moved stays in memory for the next try).
 */
CANARY_API int canary_flush(canary_client *client, uint32_t timeout_ms);

/** Current version of canary_event_stats. */
#define CANARY_EVENT_STATS_VERSION 1

/** Event counters of a client (canary_event_stats_get()). Initialise with
 *  CANARY_EVENT_STATS_INIT or canary_event_stats_init(); versioned as
 *  canary_details is. */
typedef struct canary_event_stats {
	unsigned int version;      /**< CANARY_EVENT_STATS_VERSION */
	uint64_t ignored;          /**< record calls refused (bad input,
	                                unknown flag, no config) */
	uint64_t dropped_records;  /**< records lost at a memory bound */
	uint64_t dropped_batches;  /**< batches dropped: outbox bound, or
	                                refused by the service (a 4xx but
	                                401/403/404/405/408/429, which wait) */
	uint64_t batches_written;  /**< batches written to the outbox */
	uint64_t batches_sent;     /**< batches acknowledged (2xx) */
	uint64_t outbox_batches;   /**< batches in the outbox now */
	uint64_t outbox_bytes;     /**< their bytes */
} canary_event_stats;

/** Static initialiser: `canary_event_stats st = CANARY_EVENT_STATS_INIT;` */
#define CANARY_EVENT_STATS_INIT { CANARY_EVENT_STATS_VERSION, \
	0, 0, 0, 0, 0, 0, 0 }

/**
 * Initialise `stats` for the given version (zeroes it, sets version).
 * @return CANARY_OK, or CANARY_EINVAL when stats is NULL or the version is
 *         not one this library knows.
 */
CANARY_API int canary_event_stats_init(canary_event_stats *stats,
	unsigned int version);

/**
 * A snapshot of the client's event counters. Thread-safe.
 * @param[out] out  the fields of its version are filled in; `version`
 *                  is left as it is
 * @return CANARY_OK; CANARY_EINVAL for a NULL argument.
 */
CANARY_API int canary_event_stats_get(canary_client *client,
	canary_event_stats *out);

#ifdef __cplusplus
}
#endif

#endif /* CANARY_CANARY_H */
