/*
 * records.h - the stored text of flags, rollouts and decisions, defined
 * once for every storage backend.
 *
 * A flag is stored as its canonical JSON, a rollout spec as the JSON
 * cs_rollout_spec_to_json() writes, a decision as the JSON object the
 * controller built. Reading a record back validates it with the same
 * parsers that checked the request, so a stored record can never be one
 * the API would have refused; a record that fails is CANARY_ESTORAGE
 * (a flag's: CS_EUNREADABLE).
 * Text returned here is freed with cJSON_free().
 */
#ifndef CS_RECORDS_H
#define CS_RECORDS_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "rollout/rollout.h"
#include "store/storage.h"

int cs_record_flag_write(const canary__flag *flag, char **out);
int cs_record_flag_read(const char *text, size_t len, canary__flag *out);
/* Would `a` and `b` be stored as the same record? (Out of memory: no.) */
bool cs_record_flag_same(const canary__flag *a, const canary__flag *b);

/*
 * Flag rows that cannot be read back (edited by hand, or written by a
 * bug): a full read of the flags skips them rather than fail, so one bad
 * row can neither stop the server nor hide the other flags, while a read
 * of that flag alone still fails (500) and a PUT or DELETE repairs it. A
 * backend notes what each full read skipped here: health() reports it,
 * and the log says so whenever that number changes.
 */
typedef struct cs_unreadable {
	pthread_mutex_t lock;
	uint64_t count;          /* skipped by the last full read */
	char example[96];        /* the key of one of them */
} cs_unreadable;

void cs_unreadable_init(cs_unreadable *u);
void cs_unreadable_destroy(cs_unreadable *u);
/* A full read ended having skipped `count` rows, one of them `key`. */
void cs_unreadable_note(cs_unreadable *u, uint64_t count, const char *key);
/* CS_HEALTH_DEGRADED (why says which) while the last read skipped rows. */
cs_health cs_unreadable_health(cs_unreadable *u, char *why, size_t whylen);

int cs_record_spec_write(const cs_rollout_spec *spec, char **out);

/* A rollout row as a backend reads it (strings borrowed). */
typedef struct cs_rollout_row {
	int64_t id;
	const char *flag;
	const char *spec;
	const char *state;       /* cj_status_name() */
	int64_t step;
	int64_t step_start_ms;
	uint64_t step_version;
	const char *reason;
	int64_t created_ms, updated_ms;
	int64_t rev;
	int64_t pass_since_ms, alert_since_ms;
	uint64_t prev_step_version;
} cs_rollout_row;

int cs_record_rollout_read(const cs_rollout_row *row, cs_rollout *out);

/* The decision to store for a change that committed `config_version`:
 * `decision` (a JSON object) with "config_version" added. */
int cs_record_decision_write(const char *decision, uint64_t config_version,
	char **out);

#endif
