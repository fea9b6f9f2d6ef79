/*
 * records.h - the stored text of flags, segments, rollouts, decisions,
 * audit records and webhook payloads, defined once for every storage
 * backend.
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
#include "store/segment_use.h"
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

/*
 * What an audit record says. The backend fills what it has in hand inside
 * the change's transaction: the flag before and after (NULL: it did not
 * exist / no longer does / not a flag change), the rollout before and
 * after (NULL: none moved), or the token or webhook created (after) or
 * removed (before). Borrowed.
 */
typedef struct cs_audit_rec {
	const cs_audit *audit;
	int64_t time_ms;
	const char *flag;                /* NULL: about no flag */
	uint64_t config_version;         /* the change committed (or the
	                                    current one) */
	const canary__flag *flag_before, *flag_after;
	bool flag_unreadable;            /* there was a flag row, but it could
	                                    not be read: no "before" */
	const cs_rollout *rollout_before, *rollout_after;
	const cs_token *token_before, *token_after;
	const cs_webhook *webhook_before, *webhook_after;
	const canary__segdef *segment_before, *segment_after;
	const cs_flag_keys *segment_users; /* a segment change: the flags
	                                    that name it (NULL: none) */
} cs_audit_rec;

/* The record's action: the audit's, or the flag or segment operation's
 * own ("flag.create", "flag.update", "flag.delete", "segment.create",
 * ...), or "note". */
const char *cs_record_audit_action(const cs_audit_rec *rec);

/* The segment the record is about ("" when none): its audit column. */
const char *cs_record_audit_segment(const cs_audit_rec *rec);

/* The webhook event the record raises, or NULL: the audit's, or a
 * segment change's own ("segment_created", "segment_updated",
 * "segment_deleted"). */
const char *cs_record_audit_event(const cs_audit_rec *rec);

/*
 * The record as JSON: {"time_ms", "actor", "action", "flag",
 * "config_version", "segment" and "flags" (a segment change: the flags
 * that name it), "forced" (when forced), "reason", "event" (when it
 * raises one), "before", "after" (the flag fields that changed, the
 * segment, or the token or webhook without its secret), "rollout": {"id", "before", "after"}
 * (state, step, percent; when a rollout moved)}.
 */
int cs_record_audit_write(const cs_audit_rec *rec, char **out);

/*
 * The guard of a live rollout, the same in every backend: `live` (the
 * flag's live rollout, read inside the change's transaction) refuses a
 * change of a field it guards unless the audit says forced. CANARY_OK,
 * or CS_EGUARDED with audit->guard filled.
 */
int cs_record_guard(const cs_audit *audit, const cs_rollout *live,
	const canary__flag *cur, const canary__flag *next);

/*
 * A named segment is stored as its canonical JSON ({"name",
 * "constraints"}); reading it back validates it with the admin API's
 * compiler (a record that fails: CANARY_ESTORAGE).
 */
int cs_record_segment_write(const canary__segdef *seg, char **out);
int cs_record_segment_read(const char *text, size_t len,
	canary__segdef *out);

/* The same guard for a change of a segment that flag `flag` names:
 * `live` (its live rollout, read in the change's transaction) refuses
 * any change of the segment unless forced; audit->guard says so, its
 * field "segments". */
int cs_record_segment_guard(const cs_audit *audit, const cs_rollout *live,
	const char *flag);

/* A webhook's payload for the audit record `json` stored as `id`: the
 * record with "id" added. */
int cs_record_payload_write(const char *json, int64_t id, char **out);

#endif
