/*
 * canary/canary.h - libcanary, canary releases driven by feature flags.
 *
 * The one header an application includes. It declares the client, its
 * options, flag evaluation, and errors. Everything here is C99; the header
 * compiles alone as C99 and as C++.
 *
 * Threading: a canary_client may be shared by any number of threads.
 * canary_enabled() and canary_evaluate() take no lock, do no I/O and
 * allocate nothing. Functions that change the client's configuration may be
 * called from any thread and are serialised internally.
 *
 * Ownership: every string passed in is copied before the call returns unless
 * its documentation says otherwise. Strings handed out (canary_details) are
 * borrowed and valid as documented on the field.
 */
#ifndef CANARY_CANARY_H
#define CANARY_CANARY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "canary/export.h"
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
 * The detail of the last error returned by a libcanary call on this thread.
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
	CANARY_LOG_ERROR = 3
} canary_log_level;

/**
 * Log callback. Called from the calling thread or the background worker;
 * `msg` is borrowed for the duration of the call. Never called with a secret
 * (SDK keys are not logged).
 */
typedef void (*canary_log_fn)(canary_log_level level, const char *msg, void *ctx);

/**
 * Allocator hooks. All of the client's memory goes through these. Either
 * all three functions are set or none (NULL means the C library's).
 * `free_fn` must accept NULL.
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

/** Current version of canary_options; pass it to canary_options_init(). */
#define CANARY_OPTIONS_VERSION 1

/**
 * Client options. Initialise with canary_options_init(), then set the
 * fields you need: zero means "the default" for every field. Strings are
 * copied by canary_client_new(). Fields are only ever appended.
 */
typedef struct canary_options {
	unsigned int version;        /**< CANARY_OPTIONS_VERSION */

	const char *server_url;      /**< flag service base URL, e.g.
	                                  "https://flags.example.com"; NULL = offline */
	const char *sdk_key;         /**< SDK key sent as a Bearer token */
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

	canary_log_fn log_fn;        /**< NULL = no logging */
	void *log_ctx;
	canary_log_level log_level;  /**< lowest level passed to log_fn; default INFO */

	canary_allocator allocator;  /**< all NULL = malloc/realloc/free */
} canary_options;

/**
 * Initialise `opts` to the defaults for the given options version.
 * @return CANARY_OK, or CANARY_EINVAL when opts is NULL or the version is
 *         not one this library knows.
 */
CANARY_API int canary_options_init(canary_options *opts, unsigned int version);

/* ------------------------------------------------------------------------
 * Client
 * ------------------------------------------------------------------------ */

/** Opaque client handle; share one per process (or per flag service). */
typedef struct canary_client canary_client;

/**
 * Create a client.
 * @param[out] out   the new client, to be freed with canary_client_free().
 *                   Set to NULL on error.
 * @param opts       options (copied); NULL means all defaults.
 * @return CANARY_OK; CANARY_EINVAL for bad options; CANARY_ENOMEM;
 *         CANARY_EPARSE when bootstrap_path holds an invalid config (the
 *         detail names the file and the bad field).
 */
CANARY_API int canary_client_new(canary_client **out, const canary_options *opts);

/**
 * Free a client and everything it owns. Accepts NULL. No other thread may
 * use the client during or after this call.
 */
CANARY_API void canary_client_free(canary_client *client);

/**
 * Apply a config delivered out of band (a file, MQTT...), in the /v1/flags
 * JSON format. The JSON is validated whole before anything changes: on error
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
	CANARY_REASON_ERROR = 5             /**< an error; see error_code */
} canary_reason;

/** Error codes for CANARY_REASON_ERROR / CANARY_REASON_DEFAULT. */
typedef enum canary_eval_error {
	CANARY_EVAL_OK = 0,
	CANARY_EVAL_FLAG_NOT_FOUND = 1, /**< no flag with that key in the config */
	CANARY_EVAL_NO_UNIT = 2,        /**< the unit (user id) is NULL or empty */
	CANARY_EVAL_NOT_READY = 3,      /**< no config has been loaded yet */
	CANARY_EVAL_INVALID_ARGUMENT = 4/**< NULL client or NULL flag key */
} canary_eval_error;

/**
 * The details of one evaluation. `variant` is borrowed from the config in
 * force: it is valid until the config changes or the client is freed, so
 * copy it to keep it.
 */
typedef struct canary_details {
	canary_arm arm;
	const char *variant;        /**< the arm's variant string; "" if none */
	canary_reason reason;
	canary_eval_error error_code;
	uint64_t config_version;    /**< 0 when no config */
	uint32_t bucket;            /**< the unit's bucket in [0, 10000), when
	                                 the split decided; else 0 */
	uint32_t rollout_bp;        /**< the flag's rollout in basis points */
} canary_details;

/**
 * Is this unit in the canary for this flag?
 *
 * Never fails, never blocks, never allocates: on any problem (NULL client,
 * unknown flag, NULL or empty unit, no config yet) it answers false, the
 * stable build.
 * @param flag  flag key (borrowed for the call)
 * @param unit  stickiness value, normally the user id (borrowed)
 */
CANARY_API bool canary_enabled(canary_client *client, const char *flag,
	const char *unit);

/**
 * Like canary_enabled(), and says why.
 * @param[out] out  filled in every case when not NULL
 * @return true when the unit is in the canary
 */
CANARY_API bool canary_evaluate(canary_client *client, const char *flag,
	const char *unit, canary_details *out);

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

#ifdef __cplusplus
}
#endif

#endif /* CANARY_CANARY_H */
