/*
 * rollout_store.h - the rollouts and decisions tables (schema migration 2
 * in store.c). Every function runs inside a transaction the caller opened
 * through cs_store_txn() or cs_store_flag_modify_txn(), so a flag change,
 * the rollout's new state and the decision that caused them commit
 * together or not at all.
 */
#ifndef CS_ROLLOUT_STORE_H
#define CS_ROLLOUT_STORE_H

#include <stdint.h>

#include "rollout/rollout.h"

struct sqlite3;
struct cJSON;

/* Insert a new rollout (r->id and r->rev are set). CS_ECONFLICT when the
 * flag already has an active (running or paused) rollout. */
int cs_rs_insert(struct sqlite3 *db, cs_rollout *r);

/* The flag's most recent rollout (active or not), or CS_ENOROLLOUT. */
int cs_rs_latest(struct sqlite3 *db, const char *flag, cs_rollout *out);

/* Write r's state if nobody changed it since it was read (r->rev), and
 * bump r->rev; CS_ESTALE otherwise. */
int cs_rs_update(struct sqlite3 *db, cs_rollout *r, int64_t now_ms);

/* Call fn for every active rollout, in id order. A non-zero return
 * stops and is returned. */
typedef int (*cs_rs_each_fn)(const cs_rollout *r, void *ctx);
int cs_rs_each_active(struct sqlite3 *db, cs_rs_each_fn fn, void *ctx);

/* Call fn for the most recent rollout of every flag (for /metrics). */
int cs_rs_each_latest(struct sqlite3 *db, cs_rs_each_fn fn, void *ctx);

/* Append a decision (a JSON object, serialised as is). */
int cs_rs_add_decision(struct sqlite3 *db, int64_t rollout_id,
	int64_t time_ms, const struct cJSON *decision);

/* The rollout's last `last` decisions (0 = all), oldest first, appended
 * to the array `out`; *total gets how many there are in all. */
int cs_rs_decisions(struct sqlite3 *db, int64_t rollout_id, uint64_t last,
	struct cJSON *out, uint64_t *total);

#endif
