/*
 * store_pg_evidence.c - what each SDK instance sent, in PostgreSQL (table
 * `evidence`, migration 4): a row per window and instance, with the
 * window's counts and latency and, when it carried them, its sketches in
 * their wire form. Reads merge the sketches in C (register maximum): for
 * the windows a stats filter selects, and per instance for a step's
 * contributions (CS_MAX_CONTRIBUTORS named per flag and config version,
 * the rest as ""). Appending, not merging in an upsert, keeps ingest a
 * plain INSERT in the batch's pipeline; every minute the rows of closed
 * windows are merged (cs_pg_settle_evidence) into one row per window
 * (its whole evidence, instance NULL) and one per instance (its whole
 * contribution, window_ms NULL), so the table holds a minute of rows per
 * instance, not a day.
 */
#include "store/store_pg.h"

#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "saturate.h"

#define REGS CANARY__HLL_REGS(CANARY__HLL_P)

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
	if (!s[0])
		return CANARY_OK; /* NULL: no sketch */
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

static void sketch_param(cs_pg_params *p, const char *hex)
{
	cs_pg_text(p, hex); /* NULL: SQL NULL */
}

int cs_pg_add_evidence(cs_pg_conn *c, const canary__ev_window *w,
	const cs_pg_evidence_key *k, int *sent)
{
	const canary__ev_users *u = &w->users;
	char *idx = cs_pg_array_bins(w->bins, w->nbins, false);
	char *cnt = cs_pg_array_bins(w->bins, w->nbins, true);
	char *units = w->has_users ? hex_of(u->units.bytes, u->units.len) :
		NULL;
	char *eunits = w->has_users ? hex_of(u->error_units.bytes,
		u->error_units.len) : NULL;
	cs_pg_params p;
	int rc = idx && cnt && (!w->has_users || (units && eunits)) ?
		CANARY_OK : CANARY_ENOMEM;

	if (rc == CANARY_OK) {
		cs_pg_params_init(&p);
		cs_pg_text(&p, w->flag);
		cs_pg_int(&p, (int64_t)w->arm);
		cs_pg_uint(&p, w->config_version);
		if (k->window_ms)
			cs_pg_uint(&p, k->window_ms);
		else
			cs_pg_text(&p, NULL);
		cs_pg_text(&p, k->instance);
		cs_pg_uint(&p, k->last_ms);
		cs_pg_uint(&p, w->exposures);
		cs_pg_uint(&p, w->errors);
		cs_pg_uint(&p, w->latency_zero);
		cs_pg_text(&p, idx);
		cs_pg_text(&p, cnt);
		sketch_param(&p, units);
		sketch_param(&p, eunits);
		cs_pg_uint(&p, w->has_users ? u->error_sq : 0);
		cs_pg_uint(&p, w->has_users ? u->errors_unmapped : 0);
		cs_pg_uint(&p, w->has_users ? u->error_max : 0);
		cs_pg_uint(&p, w->has_users ? k->sketched_exposures : 0);
		cs_pg_uint(&p, w->has_users ? k->sketched_errors : 0);
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

/* ---- reading rows ------------------------------------------------------ */

/* A row's EVIDENCE_COLS from `col` on: the part, its sketches (malloc'd
 * into *units and *eunits, NULL when none) and its histogram into `w`
 * (bins malloc'd; NULL: not wanted). */
static int read_part(const PGresult *r, int col, cs_contrib_part *p,
	uint8_t **units, uint8_t **eunits, canary__ev_window *w)
{
	int rc;

	memset(p, 0, sizeof(*p));
	*units = *eunits = NULL;
	p->exposures = cs_pg_u64(r, col);
	p->errors = cs_pg_u64(r, col + 1);
	p->error_sq = cs_pg_u64(r, col + 7);
	p->errors_unmapped = cs_pg_u64(r, col + 8);
	p->error_max = cs_pg_u64(r, col + 9);
	p->sketched_exposures = cs_pg_u64(r, col + 10);
	p->sketched_errors = cs_pg_u64(r, col + 11);
	rc = cs_pg_bytea(r, col + 5, units, &p->units_len);
	if (rc == CANARY_OK)
		rc = cs_pg_bytea(r, col + 6, eunits, &p->error_units_len);
	p->units = *units;
	p->error_units = *eunits;
	if (rc == CANARY_OK && w) {
		w->latency_zero = cs_pg_u64(r, col + 2);
		rc = cs_pg_read_bins(r, col + 3, col + 4, w);
	}
	return rc;
}

/* A part's latency into `a`. */
static int add_latency(cs_arm_stats *a, const canary__ev_window *w)
{
	a->latency.zero = canary__sat_count(a->latency.zero, w->latency_zero);
	a->latency.total = canary__sat_count(a->latency.total,
		w->latency_zero);
	return canary__hist_add_bins(&a->latency, w->bins, w->nbins) ==
		CANARY_OK ? CANARY_OK : CANARY_ESTORAGE;
}

/* ---- the windows' evidence --------------------------------------------- */

/* P_EVIDENCE_WINDOWS: arm, sketched_exposures, sketched_errors, units,
 * error_units, error_sq, errors_unmapped, error_max. */
static int window_users(const PGresult *r, void *arg)
{
	cs_arm_stats *out = arg;
	int64_t arm = cs_pg_i64(r, 0);
	uint8_t *units = NULL, *eunits = NULL;
	cs_contrib_part p;
	int rc;

	if (arm < 0 || arm >= CANARY__ARMS)
		return CANARY_OK;
	memset(&p, 0, sizeof(p));
	p.sketched_exposures = cs_pg_u64(r, 1);
	p.sketched_errors = cs_pg_u64(r, 2);
	p.error_sq = cs_pg_u64(r, 5);
	p.errors_unmapped = cs_pg_u64(r, 6);
	p.error_max = cs_pg_u64(r, 7);
	rc = cs_pg_bytea(r, 3, &units, &p.units_len);
	if (rc == CANARY_OK)
		rc = cs_pg_bytea(r, 4, &eunits, &p.error_units_len);
	p.units = units;
	p.error_units = eunits;
	if (rc == CANARY_OK)
		rc = cs_contributions_add(&out[arm].users, NULL, &p);
	free(units);
	free(eunits);
	return rc;
}

int cs_pg_stats_users(cs_pg_conn *c, const char *flag,
	const cs_stats_filter *f, cs_arm_stats out[CANARY__ARMS])
{
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
	return cs_pg_rows(c, P_EVIDENCE_WINDOWS, &p, window_users, out);
}

/* ---- contributions ----------------------------------------------------- */

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

/* The slot of instance `inst`, added when new; NULL on ENOMEM. */
static cs_contrib_size *size_of(contributing *k, const char *inst)
{
	size_t i;

	for (i = 0; i < k->n; i++)
		if (strcmp(k->names[i], inst) == 0)
			return &k->sizes[i];
	if (k->n == k->cap) {
		size_t grown = k->cap ? 2 * k->cap : 16;
		cs_contrib_size *s = realloc(k->sizes, grown * sizeof(*s));
		char **nm;

		if (!s)
			return NULL;
		k->sizes = s;
		nm = realloc(k->names, grown * sizeof(*nm));
		if (!nm)
			return NULL;
		k->names = nm;
		k->cap = grown;
	}
	if (!(k->names[k->n] = strdup(inst)))
		return NULL;
	memset(&k->sizes[k->n], 0, sizeof(k->sizes[0]));
	k->sizes[k->n].instance = k->names[k->n];
	return &k->sizes[k->n++];
}

/* P_CONTRIB_SIZES: instance, arm, exposures. */
static int size_row(const PGresult *r, void *arg)
{
	cs_contrib_size *s = size_of(arg, cs_pg_str(r, 0));
	int64_t arm = cs_pg_i64(r, 1);

	if (!s)
		return CANARY_ENOMEM;
	if (arm >= 0 && arm < CANARY__ARMS)
		s->exposures[arm] = canary__sat_count(s->exposures[arm],
			cs_pg_u64(r, 2));
	return CANARY_OK;
}

/* P_CONTRIB_ROWS: instance, arm, then EVIDENCE_COLS. */
static int contrib_row(const PGresult *r, void *arg)
{
	contributing *k = arg;
	int64_t arm = cs_pg_i64(r, 1);
	uint8_t *units, *eunits;
	canary__ev_window w;
	cs_contrib_part p;
	cs_arm_stats *a;
	int rc;

	if (arm < 0 || arm >= CANARY__ARMS)
		return CANARY_OK;
	a = cs_contributions_top(k->out, cs_pg_str(r, 0), (canary_arm)arm);
	memset(&w, 0, sizeof(w));
	rc = read_part(r, 2, &p, &units, &eunits, a ? &w : NULL);
	if (rc == CANARY_OK)
		rc = cs_contributions_add(&k->out->all[arm], a, &p);
	if (rc == CANARY_OK && a)
		rc = add_latency(a, &w);
	free(units);
	free(eunits);
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

/* ---- merging closed windows --------------------------------------------- */

/* One merged row in the making: its key and sums. */
typedef struct merging {
	char flag[CANARY__MAX_KEY_LEN + 1];
	int arm;
	uint64_t version;
	uint64_t window_ms;                 /* 0: an instance's contribution */
	char instance[CANARY__EV_MAX_INSTANCE_ID + 1]; /* window rows: "" */
	uint64_t last_ms;
	cs_arm_stats s;
} merging;

typedef struct settling {
	merging **m;
	size_t n, cap;
	bool failed;
} settling;

/* The merged row of this key, added when new; NULL on ENOMEM. */
static merging *merged_of(settling *st, const PGresult *r, bool by_window)
{
	const char *inst = by_window ? "" : cs_pg_str(r, 4);
	uint64_t window = by_window ? cs_pg_u64(r, 3) : 0;
	int arm = (int)cs_pg_i64(r, 1);
	uint64_t version = cs_pg_u64(r, 2);
	merging *m;
	size_t i;

	for (i = 0; i < st->n; i++) {
		m = st->m[i];
		if (m->arm == arm && m->version == version &&
		    m->window_ms == window && strcmp(m->instance, inst) == 0 &&
		    strcmp(m->flag, cs_pg_str(r, 0)) == 0)
			return m;
	}
	if (st->n == st->cap) {
		size_t grown = st->cap ? 2 * st->cap : 16;
		merging **g = realloc(st->m, grown * sizeof(*g));

		if (!g)
			return NULL;
		st->m = g;
		st->cap = grown;
	}
	m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	snprintf(m->flag, sizeof(m->flag), "%s", cs_pg_str(r, 0));
	snprintf(m->instance, sizeof(m->instance), "%s", inst);
	m->arm = arm;
	m->version = version;
	m->window_ms = window;
	canary__hist_init(&m->s.latency);
	st->m[st->n++] = m;
	return m;
}

/* A taken row (P_EVIDENCE_SETTLE, P_EVIDENCE_TAKE: flag, arm, version,
 * window_ms, instance, last_ms, EVIDENCE_COLS) into its merged rows: its
 * instance's contribution, and (with sketches) its window's evidence. */
static int settle_row(const PGresult *r, void *arg)
{
	settling *st = arg;
	uint8_t *units, *eunits;
	canary__ev_window w;
	cs_contrib_part p;
	merging *m;
	int rc;

	memset(&w, 0, sizeof(w));
	rc = read_part(r, 6, &p, &units, &eunits, &w);
	m = rc == CANARY_OK ? merged_of(st, r, false) : NULL;
	if (rc == CANARY_OK && !m)
		rc = CANARY_ENOMEM;
	if (rc == CANARY_OK)
		rc = cs_contributions_add(NULL, &m->s, &p);
	if (rc == CANARY_OK)
		rc = add_latency(&m->s, &w);
	if (rc == CANARY_OK && cs_pg_u64(r, 5) > m->last_ms)
		m->last_ms = cs_pg_u64(r, 5);
	/* A window's row (window_ms set) with sketches also goes to its
	 * window's whole evidence (what the windows' reads use: the
	 * sketches and the counts they cover). */
	if (rc == CANARY_OK && p.units_len && cs_pg_str(r, 3)[0]) {
		m = merged_of(st, r, true);
		rc = m ? cs_contributions_add(NULL, &m->s, &p) :
			CANARY_ENOMEM;
		if (m && cs_pg_u64(r, 5) > m->last_ms)
			m->last_ms = cs_pg_u64(r, 5);
	}
	free(units);
	free(eunits);
	free(w.bins);
	return rc;
}

/* A merged row back as one evidence row. */
static int put_merged(cs_pg_conn *c, const merging *m)
{
	uint8_t ubuf[CANARY__HLL_MAX_ENCODED], ebuf[CANARY__HLL_MAX_ENCODED];
	canary__hll hu = { CANARY__HLL_P, (uint8_t *)m->s.users.units };
	canary__hll he = { CANARY__HLL_P, (uint8_t *)m->s.users.error_units };
	const cs_arm_users *u = &m->s.users;
	cs_pg_evidence_key k;
	canary__ev_window w;
	int rc;

	memset(&w, 0, sizeof(w));
	snprintf(w.flag, sizeof(w.flag), "%s", m->flag);
	w.arm = m->arm == CANARY_ARM_CANARY ? CANARY_ARM_CANARY :
		CANARY_ARM_STABLE;
	w.config_version = m->version;
	w.exposures = m->s.exposures;
	w.errors = m->s.errors;
	w.latency_zero = m->s.latency.zero;
	w.has_users = u->any;
	if (u->any) {
		w.users.units.bytes = ubuf;
		w.users.units.len = canary__hll_encode(&hu, ubuf, sizeof(ubuf));
		w.users.error_units.bytes = ebuf;
		w.users.error_units.len = canary__hll_encode(&he, ebuf,
			sizeof(ebuf));
		w.users.error_sq = u->error_sq;
		w.users.errors_unmapped = u->errors_unmapped;
		w.users.error_max = u->error_max;
	}
	rc = canary__hist_to_bins(canary__alloc_default(), &m->s.latency,
		&w.bins, &w.nbins);
	if (rc != CANARY_OK)
		return rc;
	memset(&k, 0, sizeof(k));
	k.window_ms = m->window_ms;
	k.instance = m->window_ms ? NULL : m->instance;
	k.last_ms = m->last_ms;
	k.sketched_exposures = u->sketched_exposures;
	k.sketched_errors = u->sketched_errors;
	rc = cs_pg_add_evidence(c, &w, &k, NULL);
	canary__free(canary__alloc_default(), w.bins);
	return rc;
}

/* Every instance's contribution so far joins what settles now. */
static int take_contributions(cs_pg_conn *c, settling *st)
{
	size_t i, n = st->n;
	cs_pg_params p;
	int rc = CANARY_OK;

	for (i = 0; rc == CANARY_OK && i < n; i++) {
		const merging *m = st->m[i];

		if (m->window_ms)
			continue;
		cs_pg_params_init(&p);
		cs_pg_text(&p, m->flag);
		cs_pg_int(&p, m->arm);
		cs_pg_uint(&p, m->version);
		cs_pg_text(&p, m->instance);
		rc = cs_pg_rows(c, P_EVIDENCE_TAKE, &p, settle_row, st);
	}
	return rc;
}

int cs_pg_settle_evidence(cs_pg_conn *c, uint64_t before_ms)
{
	settling st;
	cs_pg_params p;
	size_t i;
	int rc;

	if (!before_ms)
		return CANARY_OK;
	memset(&st, 0, sizeof(st));
	cs_pg_params_init(&p);
	cs_pg_uint(&p, before_ms);
	rc = cs_pg_rows(c, P_EVIDENCE_SETTLE, &p, settle_row, &st);
	if (rc == CANARY_OK)
		rc = take_contributions(c, &st);
	for (i = 0; rc == CANARY_OK && i < st.n; i++)
		rc = put_merged(c, st.m[i]);
	for (i = 0; i < st.n; i++)
		free(st.m[i]);
	free(st.m);
	return rc;
}

/* ---- migrate ------------------------------------------------------------ */

/* P_DUMP_EVIDENCE: flag, arm, config_version, instance, last_ms, then
 * EVIDENCE_COLS. */
static int dump_row(const PGresult *r, void *arg)
{
	const cs_copy_sink *to = arg;
	uint8_t *units, *eunits;
	canary__ev_window w;
	cs_contribution_row row;
	cs_contrib_part p;
	int rc;

	cs_pg_window_head(r, 5, cs_pg_u64(r, 4), &w);
	rc = read_part(r, 5, &p, &units, &eunits, &w);
	w.has_users = p.units_len || p.error_units_len;
	w.users.units.bytes = units;
	w.users.units.len = p.units_len;
	w.users.error_units.bytes = eunits;
	w.users.error_units.len = p.error_units_len;
	w.users.error_sq = p.error_sq;
	w.users.errors_unmapped = p.errors_unmapped;
	w.users.error_max = p.error_max;
	row.w = &w;
	row.instance = cs_pg_str(r, 3);
	row.last_ms = cs_pg_u64(r, 4);
	row.sketched_exposures = p.sketched_exposures;
	row.sketched_errors = p.sketched_errors;
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
