/*
 * store_sqlite_evidence.c - the user-level evidence in SQLite: a window's
 * sketches and dispersion figures bound for the windows upsert, each
 * instance's sums (`contributions`, bounded by CS_MAX_CONTRIBUTORS per
 * flag and config version, kept for a flag under a rollout or a window
 * with sketches), the read of a step's contributions, and whether a flag
 * ever had a latency sample.
 */
#include "store/store_sqlite.h"

#include <stdlib.h>
#include <string.h>

#include "saturate.h"

#include "store/hist_blob.h"

void cs_sqlite_bind_users(sqlite3_stmt *st, int first,
	const canary__ev_window *w)
{
	const canary__ev_users *u = &w->users;

	int k;

	if (!w->has_users) {
		sqlite3_bind_null(st, first);
		sqlite3_bind_null(st, first + 1);
		for (k = 2; k < 7; k++)
			sqlite3_bind_int64(st, first + k, 0);
		return;
	}
	sqlite3_bind_blob64(st, first, u->units.bytes, u->units.len,
		SQLITE_STATIC);
	sqlite3_bind_blob64(st, first + 1, u->error_units.bytes,
		u->error_units.len, SQLITE_STATIC);
	sqlite3_bind_int64(st, first + 2, (sqlite3_int64)w->exposures);
	sqlite3_bind_int64(st, first + 3, (sqlite3_int64)w->errors);
	sqlite3_bind_int64(st, first + 4, (sqlite3_int64)u->error_sq);
	sqlite3_bind_int64(st, first + 5, (sqlite3_int64)u->errors_unmapped);
	sqlite3_bind_int64(st, first + 6, (sqlite3_int64)u->error_max);
}

static int found(sqlite3_stmt *st, void *out)
{
	(void)st;
	*(bool *)out = true;
	return CANARY_OK;
}

int cs_sqlite_rollout_live(cs_sqlite_conn *c, const char *flag, bool *live)
{
	*live = false;
	return cs_sqlite_lookup(c->st[S_ROLLOUT_LIVE], flag, CANARY_OK, found,
		live);
}

/* The name the instance's contribution to the window's (flag, version)
 * is kept under: its own or "the rest" (S_CONTRIB_NAMED). */
static int contributor(cs_sqlite_conn *c, const char *instance,
	const canary__ev_window *w, const char **name)
{
	sqlite3_stmt *st = c->st[S_CONTRIB_NAMED];
	int step;

	sqlite3_bind_text(st, 1, w->flag, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)w->config_version);
	sqlite3_bind_text(st, 3, instance, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 4, CS_MAX_CONTRIBUTORS);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW)
		*name = sqlite3_column_int(st, 0) ? instance : "";
	cs_sqlite_reset(st);
	return step == SQLITE_ROW ? CANARY_OK : CANARY_ESTORAGE;
}

int cs_sqlite_contribute(cs_sqlite_conn *c, const char *instance,
	const canary__ev_window *w, uint64_t last_ms,
	uint64_t sketched_exposures, uint64_t sketched_errors, bool live)
{
	sqlite3_stmt *st = c->st[S_CONTRIB_UPSERT];
	bool sketched = w->has_users && w->users.units.bytes;
	const char *name = instance;
	unsigned char *blob = NULL;
	size_t blen = 0;
	int rc;

	/* Only what the judge can read. */
	if (!sketched && !live)
		return CANARY_OK;
	rc = contributor(c, instance, w, &name);
	if (rc == CANARY_OK)
		rc = cs_hist_blob_encode(w->bins, w->nbins, &blob, &blen);
	if (rc != CANARY_OK)
		return rc;
	sqlite3_bind_text(st, 1, w->flag, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, (int)w->arm);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)w->config_version);
	sqlite3_bind_text(st, 4, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)last_ms);
	sqlite3_bind_int64(st, 6, (sqlite3_int64)w->exposures);
	sqlite3_bind_int64(st, 7, (sqlite3_int64)w->errors);
	sqlite3_bind_int64(st, 8, (sqlite3_int64)w->latency_zero);
	if (blob)
		sqlite3_bind_blob64(st, 9, blob, blen, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 9);
	if (w->has_users) {
		sqlite3_bind_blob64(st, 10, w->users.units.bytes,
			w->users.units.len, SQLITE_STATIC);
		sqlite3_bind_blob64(st, 11, w->users.error_units.bytes,
			w->users.error_units.len, SQLITE_STATIC);
	} else {
		sqlite3_bind_null(st, 10);
		sqlite3_bind_null(st, 11);
	}
	sqlite3_bind_int64(st, 12, (sqlite3_int64)w->users.error_sq);
	sqlite3_bind_int64(st, 13, (sqlite3_int64)w->users.errors_unmapped);
	sqlite3_bind_int64(st, 14, (sqlite3_int64)w->users.error_max);
	sqlite3_bind_int64(st, 15, (sqlite3_int64)sketched_exposures);
	sqlite3_bind_int64(st, 16, (sqlite3_int64)sketched_errors);
	rc = cs_sqlite_done(st);
	free(blob);
	return rc;
}

int cs_sqlite_add_contribution(sqlite3_stmt *st, int col, cs_arm_users *all,
	cs_arm_stats *a)
{
	cs_contrib_part p;
	int rc;

	p.exposures = cs_sqlite_count(st, col);
	p.errors = cs_sqlite_count(st, col + 1);
	p.units = sqlite3_column_blob(st, col + 4);
	p.units_len = (size_t)sqlite3_column_bytes(st, col + 4);
	p.error_units = sqlite3_column_blob(st, col + 5);
	p.error_units_len = (size_t)sqlite3_column_bytes(st, col + 5);
	p.error_sq = cs_sqlite_count(st, col + 6);
	p.errors_unmapped = cs_sqlite_count(st, col + 7);
	p.error_max = cs_sqlite_u64(st, col + 8);
	p.sketched_exposures = cs_sqlite_count(st, col + 9);
	p.sketched_errors = cs_sqlite_count(st, col + 10);
	rc = cs_contributions_add(all, a, &p);

	if (rc != CANARY_OK || !a)
		return rc;
	a->latency.zero = canary__sat_count(a->latency.zero,
		cs_sqlite_count(st, col + 2));
	a->latency.total = canary__sat_count(a->latency.total,
		cs_sqlite_count(st, col + 2));
	return cs_hist_blob_add_to(sqlite3_column_blob(st, col + 3),
		(size_t)sqlite3_column_bytes(st, col + 3), &a->latency);
}

static void bind_range(sqlite3_stmt *st, const char *flag, uint64_t min,
	uint64_t max)
{
	sqlite3_bind_text(st, 1, flag, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)min);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)max);
}

/* Each instance's exposures per arm (bounded by CS_MAX_CONTRIBUTORS per
 * version; the versions of a step are few), then the top ones named. */
static int pick(cs_sqlite_conn *c, const char *flag, uint64_t min,
	uint64_t max, cs_contributions *out)
{
	sqlite3_stmt *st = c->st[S_CONTRIB_SIZES];
	cs_contrib_size *sizes = NULL;
	char **names = NULL;
	size_t n = 0, cap = 0, i;
	int step = SQLITE_DONE, rc = CANARY_OK;

	bind_range(st, flag, min, max);
	while (rc == CANARY_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
		const char *inst = cs_sqlite_text(st, 0);
		int arm = sqlite3_column_int(st, 1);

		for (i = 0; i < n && strcmp(names[i], inst) != 0; i++)
			;
		if (i == n && n == cap) {
			size_t grown = cap ? 2 * cap : 16;
			cs_contrib_size *s2 = realloc(sizes, grown * sizeof(*s2));
			char **n2 = s2 ? realloc(names, grown * sizeof(*n2)) : NULL;

			if (s2)
				sizes = s2;
			if (n2)
				names = n2;
			if (!s2 || !n2) {
				rc = CANARY_ENOMEM;
				break;
			}
			cap = grown;
		}
		if (i == n) {
			if (!(names[n] = strdup(inst))) {
				rc = CANARY_ENOMEM;
				break;
			}
			memset(&sizes[n], 0, sizeof(sizes[n]));
			sizes[n].instance = names[n];
			n++;
		}
		if (arm >= 0 && arm < CANARY__ARMS)
			sizes[i].exposures[arm] = canary__sat_count(
				sizes[i].exposures[arm], cs_sqlite_count(st, 2));
	}
	if (rc == CANARY_OK && step != SQLITE_DONE)
		rc = CANARY_ESTORAGE;
	cs_sqlite_reset(st);
	if (rc == CANARY_OK)
		cs_contributions_pick(sizes, n, out);
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	free(sizes);
	return rc;
}

static int sum_rows(cs_sqlite_conn *c, const char *flag, uint64_t min,
	uint64_t max, cs_contributions *out)
{
	sqlite3_stmt *st = c->st[S_CONTRIB_ROWS];
	int step = SQLITE_DONE, rc = CANARY_OK;

	bind_range(st, flag, min, max);
	while (rc == CANARY_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
		int arm = sqlite3_column_int(st, 1);

		if (arm < 0 || arm >= CANARY__ARMS)
			continue;
		rc = cs_sqlite_add_contribution(st, 2, &out->all[arm],
			cs_contributions_top(out, cs_sqlite_text(st, 0),
			(canary_arm)arm));
	}
	cs_sqlite_reset(st);
	if (rc != CANARY_OK)
		return rc;
	return step == SQLITE_DONE ? CANARY_OK : CANARY_ESTORAGE;
}

int cs_sqlite_contributions(struct cs_store_impl *s, const char *flag,
	uint64_t min_version, uint64_t max_version, cs_contributions *out)
{
	cs_sqlite_conn *c = cs_sqlite_read_begin(s);
	int rc;

	if (!c)
		return CANARY_ESTORAGE;
	rc = pick(c, flag, min_version, max_version, out);
	if (rc == CANARY_OK)
		rc = sum_rows(c, flag, min_version, max_version, out);
	return cs_sqlite_read_end(s, c, rc);
}

int cs_sqlite_latency_seen(struct cs_store_impl *s, const char *flag,
	bool *seen)
{
	cs_sqlite_conn *c = cs_sqlite_read_begin(s);

	*seen = false;
	if (!c)
		return CANARY_ESTORAGE;
	return cs_sqlite_read_end(s, c, cs_sqlite_lookup(c->st[S_LATENCY_SEEN],
		flag, CANARY_OK, found, seen));
}
