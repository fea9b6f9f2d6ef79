/*
 * dp_support.h - shared by the data path tests: temporary directories,
 * waiting for a condition (with a generous limit, never a timed
 * assertion), a log capture, and test-friendly client options.
 */
#ifndef CANARY_TEST_DP_SUPPORT_H
#define CANARY_TEST_DP_SUPPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "canary/canary.h"

/* How long a test waits for something that must happen before it gives
 * up and fails. Generous: sanitizers and valgrind are slow. */
#define DP_PATIENCE_MS 30000

/* A fresh directory under /tmp, removed by dp_tmpdir_free(). */
char *dp_tmpdir(void);
void dp_tmpdir_free(char *dir);
/* "<dir>/<name>" in a static per-thread buffer. */
const char *dp_path(const char *dir, const char *name);

/* Sleep `ms` milliseconds (to let time pass, not to measure it). */
void dp_sleep_ms(unsigned ms);
uint64_t dp_now_ms(void);

/* Poll `cond` every few ms until it holds; false if it never did within
 * DP_PATIENCE_MS. */
bool dp_wait(bool (*cond)(void *ctx), void *ctx);

/* Log capture: every message is kept (thread-safe). */
typedef struct dp_log dp_log;
dp_log *dp_log_new(void);
void dp_log_free(dp_log *log);
void dp_log_fn(canary_log_level level, const char *msg, void *ctx);
/* Lines containing `needle`. */
int dp_log_count(dp_log *log, const char *needle);
void dp_log_dump(dp_log *log);

/* Status callback recorder. */
typedef struct dp_status {
	int changes;
	canary_status last;
	uint64_t last_version;   /* from the config callback */
	int config_changes;
} dp_status;
void dp_status_fn(canary_status status, void *ctx);
void dp_config_fn(uint64_t version, void *ctx);

/* Options for a client of `url` with short timeouts and backoff, a log
 * capture and callbacks (both may be NULL). */
void dp_options(canary_options *o, const char *url, const char *cache_path,
	dp_log *log, dp_status *st);

/* Wait for the client's config version to reach `version`. */
bool dp_wait_version(canary_client *c, uint64_t version);
/* Wait for the client's status to be `status`. */
bool dp_wait_status(canary_client *c, canary_status status);

/* The usual fixture of a data path test: a fault server serving
 * fs_config_json(1), a temp directory, a log capture, a status recorder,
 * and the client under test (freed by the teardown, when set). The
 * teardown fails the test if the SDK key ("sdk-test-key") was logged. */
struct fs_server;
typedef struct dp_fixture {
	struct fs_server *fs;
	char *dir;
	dp_log *log;
	dp_status st;
	canary_client *c;
} dp_fixture;
int dp_fixture_setup(void **state);
int dp_fixture_teardown(void **state);

/* The answers a client gives for a fixed set of (flag, unit) pairs, as
 * one string, so two clients can be compared. */
void dp_answers(canary_client *c, char *out, size_t outlen);

#endif
