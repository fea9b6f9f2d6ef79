/*
 * store_pg_evidence.c - the user-level evidence in PostgreSQL: one row per
 * window an instance sent with it (table `evidence`), its sketches in
 * their wire form; reads merge them in C (register maximum), for the
 * windows a stats filter selects and per instance for a step's
 * contributions (CS_MAX_CONTRIBUTORS named per flag and config version,
 * the rest as ""). Appending, not merging in an upsert, keeps ingest a
 * plain INSERT in the batch's pipeline.
 */
#include "store/store_pg.h"

#include <stdlib.h>
#include <string.h>

#include "saturate.h"

/* "\x" and two hex digits a byte: a bytea parameter in text form. */
static char *hex_of(const uint8_t *b, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	char *out = malloc(2 * n + 3), *p = out;
	size_t i;

	if (!out)
		return NULL;
	*p++ = '\\';
	*p++ = 'x';
	for (i = 0; i < n; i++) {
		*p++ = digits[b[i] >> 4];
		*p++ = digits[b[i] & 15];
	}
	*p = '\0';
	return out;
}

int cs_pg_bytea(const PGresult *r, int col, uint8_t **out, size_t *len)
{
	const char *s = cs_pg_str(r, col);
	unsigned char *raw;

	*out = NULL;
	*len = 0;
	if (s[0] != '\\' || s[1] != 'x')
		return CANARY_ESTORAGE; /* not bytea's hex output */
	raw = PQunescapeBytea((const unsigned char *)s, len);
	if (!raw)
		return CANARY_ENOMEM;
	*out = malloc(*len ? *len : 1);
	if (*out)
		memcpy(*out, raw, *len);
	PQfreemem(raw);
	return *out ? CANARY_OK : CANARY_ENOMEM;
}

int cs_pg_add_evidence(cs_pg_conn *c, const canary__ev_window *w,
	uint64_t window_ms, const char *instance, uint64_t last_ms, int *sent)
{
	const canary__ev_users *u = &w->users;
	char *idx = cs_pg_array_bins(w->bins, w->nbins, false);
	char *cnt = cs_pg_array_bins(w->bins, w->nbins, true);
	char *units = hex_of(u->units.bytes, u->units.len);
	char *eunits = hex_of(u->error_units.bytes, u->error_units.len);
	cs_pg_params p;
	int rc = idx && cnt && units && eunits ? CANARY_OK : CANARY_ENOMEM;

	if (rc == CANARY_OK) {
		cs_pg_params_init(&p);
		cs_pg_text(&p, w->flag);
		cs_pg_int(&p, (int64_t)w->arm);
		cs_pg_uint(&p, w->config_version);
		if (window_ms)
			cs_pg_uint(&p, window_ms);
		else
			cs_pg_text(&p, NULL);
		cs_pg_text(&p, instance);
		cs_pg_uint(&p, last_ms);
		cs_pg_uint(&p, w->exposures);
		cs_pg_uint(&p, w->errors);
		cs_pg_uint(&p, w->latency_zero);
		cs_pg_text(&p, idx);
		cs_pg_text(&p, cnt);
		cs_pg_text(&p, units);
		cs_pg_text(&p, eunits);
		cs_pg_uint(&p, u->error_sq);
		cs_pg_uint(&p, u->errors_unmapped);
		cs_pg_uint(&p, u->error_max);
		cs_pg_int(&p, CS_MAX_CONTRIBUTORS);
		if (sent) {
			(*sent)++;
			rc = cs_pg_send(c, P_EVIDENCE_INSERT, &p);
		} else {
			rc = cs_pg_exec(c, P_EVIDENCE_INSERT, &p, NULL, NULL);
		}
	}
	free(idx);
	free(cnt);
	free(units);
	free(eunits);
	return rc;
}

/* Two bytea columns from `col` on, as sketches, with the figures after
 * them (error_sq, errors_unmapped, error_max), into `all` and `a`. */
static int add_row(const PGresult *r, int counts, int col,
	cs_arm_users *all, cs_arm_stats *a)
{
	uint8_t *units = NULL, *eunits = NULL;
	size_t ulen = 0, elen = 0;
	int rc = cs_pg_bytea(r, col, &units, &ulen);

	if (rc == CANARY_OK)
		rc = cs_pg_bytea(r, col + 1, &eunits, &elen);
	if (rc == CANARY_OK)
		rc = cs_contributions_add(all, a, cs_pg_u64(r, counts),
			cs_pg_u64(r, counts + 1), units, ulen, eunits, elen,
			cs_pg_u64(r, col + 2), cs_pg_u64(r, col + 3),
			cs_pg_u64(r, col + 4));
	free(units);
	free(eunits);
	return rc;
}

typedef struct users_sum {
	cs_arm_stats *out;
} users_sum;

/* P_EVIDENCE_WINDOWS: arm, exposures, errors, units, error_units, ... */
static int window_users(const PGresult *r, void *arg)
{
	users_sum *m = arg;
	int64_t arm = cs_pg_i64(r, 0);

	if (arm < 0 || arm >= CANARY__ARMS)
		return CANARY_OK;
	return add_row(r, 1, 3, &m->out[arm].users, NULL);
}

int cs_pg_stats_users(cs_pg_conn *c, const char *flag,
	const cs_stats_filter *f, cs_arm_stats out[CANARY__ARMS])
{
	users_sum m = { out };
	cs_pg_params p;

	cs_pg_params_init(&p);
	cs_pg_text(&p, flag);
	if (f->has_config_version)
		cs_pg_uint(&p, f->config_version);
	else
		cs_pg_text(&p, NULL);
	cs_pg_uint(&p, f->since_ms);
	cs_pg_uint(&p, f->until_ms);
	cs_pg_uint(&p, f->min_config_version);
	cs_pg_uint(&p, f->max_config_version);
	return cs_pg_rows(c, P_EVIDENCE_WINDOWS, &p, window_users, &m);
}

typedef struct contributing {
	const char *flag;
	uint64_t min, max;
	cs_contributions *out;
	cs_contrib_size *sizes;
	char **names;
	size_t n, cap;
} contributing;

static void range(cs_pg_params *p, const contributing *k)
{
	cs_pg_params_init(p);
	cs_pg_text(p, k->flag);
	cs_pg_uint(p, k->min);
	cs_pg_uint(p, k->max);
}

/* P_CONTRIB_SIZES: instance, arm, exposures. */
static int size_row(const PGresult *r, void *arg)
{
	contributing *k = arg;
	const char *inst = cs_pg_str(r, 0);
	int64_t arm = cs_pg_i64(r, 1);
	size_t i;

	for (i = 0; i < k->n && strcmp(k->names[i], inst) != 0; i++)
		;
	if (i == k->n) {
		if (k->n == k->cap) {
			size_t grown = k->cap ? 2 * k->cap : 16;
			cs_contrib_size *s = realloc(k->sizes,
				grown * sizeof(*s));
			char **nm;

			if (!s)
				return CANARY_ENOMEM;
			k->sizes = s;
			nm = realloc(k->names, grown * sizeof(*nm));
			if (!nm)
				return CANARY_ENOMEM;
			k->names = nm;
			k->cap = grown;
		}
		if (!(k->names[k->n] = strdup(inst)))
			return CANARY_ENOMEM;
		memset(&k->sizes[k->n], 0, sizeof(k->sizes[0]));
		k->sizes[k->n].instance = k->names[k->n];
		k->n++;
	}
	if (arm >= 0 && arm < CANARY__ARMS)
		k->sizes[i].exposures[arm] = canary__sat_count(
			k->sizes[i].exposures[arm], cs_pg_u64(r, 2));
	return CANARY_OK;
}

/* P_CONTRIB_ROWS: instance, arm, then EVIDENCE_COLS. */
static int contrib_row(const PGresult *r, void *arg)
{
	contributing *k = arg;
	int64_t arm = cs_pg_i64(r, 1);
	cs_arm_stats *a;
	canary__ev_window w;
	size_t i;
	int rc;

	if (arm < 0 || arm >= CANARY__ARMS)
		return CANARY_OK;
	a = cs_contributions_top(k->out, cs_pg_str(r, 0), (canary_arm)arm);
	rc = add_row(r, 2, 7, &k->out->all[arm], a);
	if (rc != CANARY_OK || !a)
		return rc;
	memset(&w, 0, sizeof(w));
	rc = cs_pg_read_bins(r, 5, 6, &w);
	a->latency.zero = canary__sat_count(a->latency.zero,
		cs_pg_u64(r, 4));
	a->latency.total = canary__sat_count(a->latency.total,
		cs_pg_u64(r, 4));
	for (i = 0; rc == CANARY_OK && i < w.nbins; i++)
		if (canary__hist_add_bin(&a->latency, w.bins[i].index,
		    w.bins[i].count) != CANARY_OK)
			rc = CANARY_ESTORAGE;
	free(w.bins);
	return rc;
}

static int contributions_in(cs_pg_conn *c, void *arg)
{
	contributing *k = arg;
	cs_pg_params p;
	int rc;

	range(&p, k);
	rc = cs_pg_rows(c, P_CONTRIB_SIZES, &p, size_row, k);
	if (rc != CANARY_OK)
		return rc;
	cs_contributions_pick(k->sizes, k->n, k->out);
	range(&p, k);
	return cs_pg_rows(c, P_CONTRIB_ROWS, &p, contrib_row, k);
}

int cs_pg_contributions(struct cs_store_impl *s, const char *flag,
	uint64_t min_version, uint64_t max_version, cs_contributions *out)
{
	contributing k;
	size_t i;
	int rc;

	memset(&k, 0, sizeof(k));
	k.flag = flag;
	k.min = min_version;
	k.max = max_version;
	k.out = out;
	rc = cs_pg_transact(s, CS_PG_READ, contributions_in, &k);
	for (i = 0; i < k.n; i++)
		free(k.names[i]);
	free(k.names);
	free(k.sizes);
	return rc;
}

typedef struct seeing {
	const char *flag;
	bool *seen;
} seeing;

static int seen_row(const PGresult *r, void *arg)
{
	(void)r;
	*((seeing *)arg)->seen = true;
	return CANARY_OK;
}

static int seen_in(cs_pg_conn *c, void *arg)
{
	seeing *k = arg;
	cs_pg_params p;

	*k->seen = false;
	cs_pg_params_init(&p);
	cs_pg_text(&p, k->flag);
	return cs_pg_rows(c, P_LATENCY_SEEN, &p, seen_row, k);
}

int cs_pg_latency_seen(struct cs_store_impl *s, const char *flag,
	bool *seen)
{
	seeing k = { flag, seen };

	return cs_pg_transact(s, CS_PG_READ, seen_in, &k);
}

/* P_DUMP_EVIDENCE: flag, arm, config_version, instance, last_ms, then
 * EVIDENCE_COLS. */
static int dump_row(const PGresult *r, void *arg)
{
	const cs_copy_sink *to = arg;
	canary__ev_window w;
	cs_contribution_row row;
	uint8_t *units = NULL, *eunits = NULL;
	int rc;

	cs_pg_window_head(r, 5, cs_pg_u64(r, 4), &w);
	w.has_users = true;
	w.users.error_sq = cs_pg_u64(r, 12);
	w.users.errors_unmapped = cs_pg_u64(r, 13);
	w.users.error_max = cs_pg_u64(r, 14);
	rc = cs_pg_read_bins(r, 8, 9, &w);
	if (rc == CANARY_OK)
		rc = cs_pg_bytea(r, 10, &units, &w.users.units.len);
	if (rc == CANARY_OK)
		rc = cs_pg_bytea(r, 11, &eunits, &w.users.error_units.len);
	w.users.units.bytes = units;
	w.users.error_units.bytes = eunits;
	row.w = &w;
	row.instance = cs_pg_str(r, 3);
	row.last_ms = cs_pg_u64(r, 4);
	if (rc == CANARY_OK)
		rc = to->contribution(to->ctx, &row);
	free(units);
	free(eunits);
	free(w.bins);
	return rc;
}

int cs_pg_dump_evidence(cs_pg_conn *c, const cs_copy_sink *to)
{
	return cs_pg_rows(c, P_DUMP_EVIDENCE, NULL, dump_row, (void *)to);
}
