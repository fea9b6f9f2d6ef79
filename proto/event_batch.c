/*
 * event_batch.c - the POST /v1/events batch: encoder and strict decoder
 * (see event_batch.h and docs/protocol.md, "Events").
 */
#include "event_batch.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "base64.h"
#include "json_read.h"

bool canary__ev_metric_name_ok(const char *name)
{
	size_t i;

	for (i = 0; name[i]; i++) {
		char c = name[i];

		if (i >= CANARY__EV_METRIC_NAME_MAX ||
		    !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
			return false;
	}
	return i > 0;
}

const char *canary__arm_name(canary_arm arm)
{
	return arm == CANARY_ARM_CANARY ? "canary" : "stable";
}

/* ---- encoder ------------------------------------------------------------ */

static uint64_t wire_count(uint64_t n)
{
	return n > CANARY__JSON_MAX_INT ? CANARY__JSON_MAX_INT : n;
}

static void put_latency(canary__buf *b, const canary__ev_window *w)
{
	size_t i;

	canary__buf_printf(b, ",\"latency_ms\":{\"zero\":%" PRIu64 ",\"bins\":[",
		wire_count(w->latency_zero));
	for (i = 0; i < w->nbins; i++)
		canary__buf_printf(b, "%s[%" PRId32 ",%" PRIu64 "]", i ? "," : "",
			w->bins[i].index, wire_count(w->bins[i].count));
	canary__buf_puts(b, "]}");
}

static void put_metrics(canary__buf *b, const canary__ev_window *w)
{
	size_t i;

	canary__buf_puts(b, ",\"metrics\":{");
	for (i = 0; i < w->nmetrics; i++) {
		const canary__ev_metric *m = &w->metrics[i];

		if (i)
			canary__buf_puts(b, ",");
		canary__buf_json_string(b, m->name);
		canary__buf_printf(b, ":{\"count\":%" PRIu64, wire_count(m->count));
		if (fabs(m->sum) <= CANARY__EV_MAX_SUM) /* false for NaN */
			canary__buf_printf(b, ",\"sum\":%.17g", m->sum);
		canary__buf_puts(b, "}");
	}
	canary__buf_puts(b, "}");
}

static void put_sketch(canary__buf *b, const char *name,
	const canary__ev_sketch *s)
{
	canary__buf_printf(b, ",\"%s\":\"", name);
	canary__base64_put(b, s->bytes, s->len);
	canary__buf_puts(b, "\"");
}

static void put_users(canary__buf *b, const canary__ev_users *u)
{
	put_sketch(b, "units", &u->units);
	put_sketch(b, "error_units", &u->error_units);
	canary__buf_printf(b, ",\"error_units_mapped\":%" PRIu64
		",\"error_sq\":%" PRIu64 ",\"error_max\":%" PRIu64
		",\"errors_unmapped\":%" PRIu64,
		wire_count(u->error_units_mapped), wire_count(u->error_sq),
		wire_count(u->error_max), wire_count(u->errors_unmapped));
}

static void put_window(canary__buf *b, const canary__ev_window *w)
{
	canary__buf_puts(b, "{\"flag\":");
	canary__buf_json_string(b, w->flag);
	canary__buf_printf(b, ",\"arm\":\"%s\",\"config_version\":%" PRIu64
		",\"start_ms\":%" PRIu64 ",\"end_ms\":%" PRIu64
		",\"exposures\":%" PRIu64 ",\"errors\":%" PRIu64,
		canary__arm_name(w->arm), wire_count(w->config_version),
		wire_count(w->start_ms), wire_count(w->end_ms),
		wire_count(w->exposures), wire_count(w->errors));
	if (w->ineligible || w->ineligible_errors)
		canary__buf_printf(b, ",\"ineligible\":%" PRIu64
			",\"ineligible_errors\":%" PRIu64, wire_count(w->ineligible),
			wire_count(w->ineligible_errors));
	if (w->latency_zero || w->nbins)
		put_latency(b, w);
	if (w->nmetrics)
		put_metrics(b, w);
	if (w->has_users)
		put_users(b, &w->users);
	canary__buf_puts(b, "}");
}

/* Everything before the first window. */
static void put_head(canary__buf *b, const canary__ev_batch *h,
	const char *id, uint64_t dropped_batches, uint64_t dropped_windows)
{
	canary__buf_puts(b, "{\"batch_id\":");
	canary__buf_json_string(b, id);
	canary__buf_puts(b, ",\"instance_id\":");
	canary__buf_json_string(b, h->instance_id);
	canary__buf_puts(b, ",\"sdk_version\":");
	canary__buf_json_string(b, h->sdk_version);
	canary__buf_printf(b, ",\"sent_at_ms\":%" PRIu64,
		wire_count(h->sent_at_ms));
	if (dropped_batches || dropped_windows)
		canary__buf_printf(b, ",\"dropped\":{\"batches\":%" PRIu64
			",\"windows\":%" PRIu64 "}", wire_count(dropped_batches),
			wire_count(dropped_windows));
	canary__buf_puts(b, ",\"windows\":[");
}

int canary__ev_batch_encode(const canary__ev_batch *b, canary__buf *out)
{
	size_t i;

	put_head(out, b, b->batch_id, b->dropped_batches, b->dropped_windows);
	for (i = 0; i < b->count; i++) {
		if (i)
			canary__buf_puts(out, ",");
		put_window(out, &b->windows[i]);
	}
	canary__buf_puts(out, "]}");
	return out->failed ? CANARY_ENOMEM : CANARY_OK;
}

void canary__ev_bodies_free(const canary__alloc *a, canary__ev_body *b,
	size_t n)
{
	size_t i;

	if (!b)
		return;
	for (i = 0; i < n; i++)
		canary__free(a, b[i].body);
	canary__free(a, b);
}

/* Start body `out`; the first one reports the drops. */
static void body_open(const canary__ev_batch *head, canary__buf *buf,
	canary__ev_body *out, bool first, canary__ev_new_id new_id, void *ctx)
{
	new_id(ctx, out->id);
	out->dropped_batches = first ? head->dropped_batches : 0;
	out->dropped_windows = first ? head->dropped_windows : 0;
	put_head(buf, head, out->id, out->dropped_batches,
		out->dropped_windows);
}

/* Close the body into `out`; false when memory ran out along the way. */
static bool body_close(canary__buf *buf, canary__ev_body *out)
{
	canary__buf_puts(buf, "]}");
	out->body = canary__buf_take(buf, &out->len);
	return out->body != NULL;
}

/* Room for one more body after `n`. */
static bool grow(const canary__alloc *a, canary__ev_body **b, size_t *cap,
	size_t n)
{
	canary__ev_body *grown;

	if (n < *cap)
		return true;
	grown = canary__realloc(a, *b, *cap * 2 * sizeof(**b));
	if (!grown)
		return false;
	memset(grown + *cap, 0, *cap * sizeof(**b));
	*b = grown;
	*cap *= 2;
	return true;
}

int canary__ev_batches_build(const canary__alloc *a,
	const canary__ev_batch *head, const canary__ev_window *w, size_t n,
	size_t soft_bytes, canary__ev_new_id new_id, void *ctx,
	canary__ev_body **out, size_t *nout)
{
	size_t nb = 1, cap = n / 64 + 2, i, in_batch = 0;
	canary__ev_body *b;
	canary__buf buf;
	bool ok = true;

	*out = NULL;
	*nout = 0;
	b = canary__calloc(a, cap, sizeof(*b));
	if (!b)
		return CANARY_ENOMEM;
	canary__buf_init(&buf, a);
	body_open(head, &buf, &b[0], true, new_id, ctx);
	for (i = 0; i < n && ok; i++) {
		if (in_batch && (buf.len > soft_bytes ||
		    in_batch == CANARY__EV_MAX_WINDOWS)) {
			ok = body_close(&buf, &b[nb - 1]) && grow(a, &b, &cap, nb);
			if (!ok)
				break;
			body_open(head, &buf, &b[nb++], false, new_id, ctx);
			in_batch = 0;
		}
		if (in_batch)
			canary__buf_puts(&buf, ",");
		put_window(&buf, &w[i]);
		in_batch++;
	}
	/* A closed body is the array's: freeing the array frees them all. */
	if (ok)
		ok = body_close(&buf, &b[nb - 1]);
	canary__buf_free(&buf);
	if (!ok) {
		canary__ev_bodies_free(a, b, nb);
		return CANARY_ENOMEM;
	}
	*out = b;
	*nout = nb;
	return CANARY_OK;
}

/* ---- decoder ------------------------------------------------------------ */

/* The decoder's state: its reader, where memory comes from, and
 * registers to check a sketch in (allocated at the first one). */
typedef struct dec {
	canary__json_reader r;
	const canary__alloc *a;
	canary__hll regs;
} dec;

/* A string member of 1..max bytes, copied into out[max + 1]. */
static int get_text(dec *d, const cJSON *item, const char *path,
	const char *name, size_t max, char *out)
{
	const char *s;
	int rc = canary__json_name(&d->r, item, path, name, max, &s);

	if (rc == CANARY_OK)
		memcpy(out, s, strlen(s) + 1);
	return rc;
}

static int get_batch_id(dec *d, const cJSON *item, canary__ev_batch *b)
{
	size_t i;
	int rc = get_text(d, item, "", "batch_id", CANARY__EV_ID_LEN,
		b->batch_id);

	if (rc != CANARY_OK)
		return rc;
	for (i = 0; b->batch_id[i]; i++)
		if (!((b->batch_id[i] >= '0' && b->batch_id[i] <= '9') ||
		      (b->batch_id[i] >= 'a' && b->batch_id[i] <= 'f')))
			break;
	if (i != CANARY__EV_ID_LEN || b->batch_id[i] != '\0')
		return canary__perror_set(d->r.err, "batch_id",
			"must be 32 lowercase hex digits");
	return CANARY_OK;
}

static int get_dropped(dec *d, const cJSON *item, canary__ev_batch *b)
{
	static const char *const names[] = { "batches", "windows" };
	const cJSON *obj, *m[2];
	int rc = canary__json_object(&d->r, item, "", "dropped", &obj);

	if (rc != CANARY_OK || !obj)
		return rc;
	rc = canary__json_members(&d->r, obj, "dropped", names, 2, m);
	if (rc == CANARY_OK)
		rc = canary__json_uint(&d->r, m[0], "dropped", "batches",
			CANARY__JSON_MAX_INT, false, &b->dropped_batches);
	if (rc == CANARY_OK)
		rc = canary__json_uint(&d->r, m[1], "dropped", "windows",
			CANARY__JSON_MAX_INT, false, &b->dropped_windows);
	return rc;
}

/* An exact integer in [min, max] (doubles: the wire is JSON). */
static bool int_in(const cJSON *item, double min, double max, double *out)
{
	double v;

	if (!cJSON_IsNumber(item))
		return false;
	v = item->valuedouble;
	if (!(v >= min && v <= max) || floor(v) != v)
		return false;
	*out = v;
	return true;
}

/* Pair `i` of the array at `path` (".../bins"), into w->bins[i]. */
static int get_bin(dec *d, const cJSON *pair, const char *path, size_t i,
	canary__ev_window *w)
{
	char at[CANARY__PERR_FIELD];
	double vi, vc;

	canary__path_index(at, sizeof(at), path, i);
	if (!cJSON_IsArray(pair) || cJSON_GetArraySize(pair) != 2)
		return canary__perror_set(d->r.err, at, "must be [index, count]");
	if (!int_in(pair->child, CANARY__HIST_MIN_INDEX, CANARY__HIST_MAX_INDEX,
	    &vi))
		return canary__perror_at_index(d->r.err, at, 0,
			"must be an integer %d..%d", CANARY__HIST_MIN_INDEX,
			CANARY__HIST_MAX_INDEX);
	if (i > 0 && (int32_t)vi <= w->bins[i - 1].index)
		return canary__perror_at_index(d->r.err, at, 0,
			"indices must be strictly increasing");
	if (!int_in(pair->child->next, 1, (double)CANARY__JSON_MAX_INT, &vc))
		return canary__perror_at_index(d->r.err, at, 1,
			"must be an integer 1..%llu",
			(unsigned long long)CANARY__JSON_MAX_INT);
	w->bins[i].index = (int32_t)vi;
	w->bins[i].count = (uint64_t)vc;
	return CANARY_OK;
}

/* "latency_ms": {"zero": n, "bins": [[index, count], ...]}; "bins" is
 * required (may be empty), "zero" is optional. */
static int get_latency(dec *d, const cJSON *item, const char *path,
	canary__ev_window *w)
{
	static const char *const names[] = { "zero", "bins" };
	char at[CANARY__PERR_FIELD], bins_at[CANARY__PERR_FIELD];
	const cJSON *obj, *m[2], *arr, *pair;
	size_t n;
	int rc = canary__json_object(&d->r, item, path, "latency_ms", &obj);

	if (rc != CANARY_OK || !obj)
		return rc;
	canary__path_member(at, sizeof(at), path, "latency_ms");
	rc = canary__json_members(&d->r, obj, at, names, 2, m);
	if (rc == CANARY_OK)
		rc = canary__json_uint(&d->r, m[0], at, "zero",
			CANARY__JSON_MAX_INT, false, &w->latency_zero);
	if (rc == CANARY_OK)
		rc = canary__json_required(&d->r, m[1], at, "bins");
	if (rc == CANARY_OK)
		rc = canary__json_array(&d->r, m[1], at, "bins", &arr);
	if (rc != CANARY_OK)
		return rc;
	n = (size_t)cJSON_GetArraySize(arr);
	if (n > CANARY__HIST_BINS)
		return canary__perror_at(d->r.err, at, "bins",
			"more than %d bins", CANARY__HIST_BINS);
	if (n == 0)
		return CANARY_OK;
	w->bins = canary__calloc(d->a, n, sizeof(*w->bins));
	if (!w->bins)
		return canary__perror_oom(d->r.err);
	canary__path_member(bins_at, sizeof(bins_at), at, "bins");
	cJSON_ArrayForEach(pair, arr) {
		rc = get_bin(d, pair, bins_at, w->nbins, w);
		if (rc != CANARY_OK)
			return rc;
		w->nbins++;
	}
	return CANARY_OK;
}

static int get_metric(dec *d, const cJSON *m, const char *path,
	canary__ev_window *w)
{
	static const char *const names[] = { "count", "sum" };
	canary__ev_metric *out = &w->metrics[w->nmetrics];
	char at[CANARY__PERR_FIELD];
	const cJSON *f[2];
	size_t i;
	int rc;

	if (!canary__ev_metric_name_ok(m->string))
		return canary__perror_at(d->r.err, path, m->string,
			"name must be 1..%d of [A-Za-z0-9_.-]",
			CANARY__EV_METRIC_NAME_MAX);
	/* A repeated name would be counted twice by the store. */
	for (i = 0; i < w->nmetrics; i++)
		if (strcmp(w->metrics[i].name, m->string) == 0)
			return canary__perror_at(d->r.err, path, NULL,
				"duplicate metric \"%s\"", m->string);
	canary__path_member(at, sizeof(at), path, m->string);
	rc = canary__json_members(&d->r, m, at, names, 2, f);
	if (rc == CANARY_OK)
		rc = canary__json_uint(&d->r, f[0], at, "count",
			CANARY__JSON_MAX_INT, true, &out->count);
	if (rc == CANARY_OK)
		rc = canary__json_number(&d->r, f[1], at, "sum", &out->sum);
	if (rc == CANARY_OK && !(fabs(out->sum) <= CANARY__EV_MAX_SUM))
		rc = canary__perror_at(d->r.err, at, "sum",
			"must be a finite number");
	if (rc == CANARY_OK)
		memcpy(out->name, m->string, strlen(m->string) + 1);
	return rc;
}

static int get_metrics(dec *d, const cJSON *item, const char *path,
	canary__ev_window *w)
{
	char at[CANARY__PERR_FIELD];
	const cJSON *obj, *m;
	size_t n;
	int rc = canary__json_object(&d->r, item, path, "metrics", &obj);

	if (rc != CANARY_OK || !obj)
		return rc;
	n = (size_t)cJSON_GetArraySize(obj);
	if (n > CANARY__EV_MAX_METRICS)
		return canary__perror_at(d->r.err, path, "metrics",
			"more than %d metrics", CANARY__EV_MAX_METRICS);
	if (n == 0)
		return CANARY_OK;
	w->metrics = canary__calloc(d->a, n, sizeof(*w->metrics));
	if (!w->metrics)
		return canary__perror_oom(d->r.err);
	canary__path_member(at, sizeof(at), path, "metrics");
	cJSON_ArrayForEach(m, obj) {
		rc = get_metric(d, m, at, w);
		if (rc != CANARY_OK)
			return rc;
		w->nmetrics++;
	}
	return CANARY_OK;
}

static int get_arm(dec *d, const cJSON *item, const char *path,
	canary__ev_window *w)
{
	const char *arm;
	int rc = canary__json_name(&d->r, item, path, "arm", 16, &arm);

	if (rc != CANARY_OK)
		return rc;
	if (strcmp(arm, "stable") == 0)
		w->arm = CANARY_ARM_STABLE;
	else if (strcmp(arm, "canary") == 0)
		w->arm = CANARY_ARM_CANARY;
	else
		return canary__perror_at(d->r.err, path, "arm",
			"must be \"stable\" or \"canary\"");
	return CANARY_OK;
}

/* A base64 sketch of units: canonical text, a well-formed sketch at
 * CANARY__HLL_P. */
static int get_sketch(dec *d, const cJSON *item, const char *path,
	const char *name, canary__ev_sketch *out)
{
	size_t max = canary__base64_len(CANARY__EV_MAX_SKETCH), len;
	char why[96];
	const char *text;
	int rc = canary__json_string(&d->r, item, path, name, max, &text);

	if (rc != CANARY_OK)
		return rc;
	len = strlen(text);
	out->bytes = canary__malloc(d->a, len / 4 * 3 + 1);
	if (!out->bytes)
		return canary__perror_oom(d->r.err);
	if (canary__base64_decode(text, len, out->bytes, &out->len) != 0)
		return canary__perror_at(d->r.err, path, name,
			"must be base64 (RFC 4648, padded)");
	if (!d->regs.reg && !(d->regs.reg = canary__malloc(d->a,
	    CANARY__HLL_REGS(CANARY__HLL_P))))
		return canary__perror_oom(d->r.err);
	d->regs.p = CANARY__HLL_P;
	if (canary__hll_decode(&d->regs, out->bytes, out->len, why,
	    sizeof(why)) != CANARY_OK)
		return canary__perror_at(d->r.err, path, name, "%s", why);
	return CANARY_OK;
}

/* The members of a window, in the order get_window() reads them; the
 * user-level ones (W_UNITS..) come together or not at all. */
enum { W_FLAG, W_ARM, W_VERSION, W_START, W_END, W_EXPOSURES, W_ERRORS,
	W_INELIGIBLE, W_INELIGIBLE_ERRORS, W_LATENCY, W_METRICS, W_UNITS,
	W_ERROR_UNITS, W_MAPPED, W_SQ, W_MAX, W_UNMAPPED, W_COUNT };
static const char *const window_names[W_COUNT] = { "flag", "arm",
	"config_version", "start_ms", "end_ms", "exposures", "errors",
	"ineligible", "ineligible_errors", "latency_ms", "metrics", "units",
	"error_units", "error_units_mapped", "error_sq", "error_max",
	"errors_unmapped" };

static int get_users(dec *d, const cJSON *const m[W_COUNT],
	const char *path, canary__ev_window *w)
{
	uint64_t *num[4] = { &w->users.error_units_mapped, &w->users.error_sq,
		&w->users.error_max, &w->users.errors_unmapped };
	int k, present = 0, rc = CANARY_OK;

	for (k = W_UNITS; k < W_COUNT; k++)
		present += m[k] != NULL;
	if (present == 0)
		return CANARY_OK;
	for (k = W_UNITS; k < W_COUNT; k++)
		if (!m[k])
			return canary__perror_at(d->r.err, path, window_names[k],
				"is required with the other user-level fields "
				"(units, error_units, error_units_mapped, "
				"error_sq, error_max, errors_unmapped)");
	w->has_users = true;
	rc = get_sketch(d, m[W_UNITS], path, "units", &w->users.units);
	if (rc == CANARY_OK)
		rc = get_sketch(d, m[W_ERROR_UNITS], path, "error_units",
			&w->users.error_units);
	for (k = W_MAPPED; rc == CANARY_OK && k < W_COUNT; k++)
		rc = canary__json_uint(&d->r, m[k], path, window_names[k],
			CANARY__JSON_MAX_INT, true, num[k - W_MAPPED]);
	return rc;
}

/* The integer members, W_VERSION..W_INELIGIBLE_ERRORS. */
static uint64_t *window_int(canary__ev_window *w, int k)
{
	switch (k) {
	case W_VERSION: return &w->config_version;
	case W_START: return &w->start_ms;
	case W_END: return &w->end_ms;
	case W_EXPOSURES: return &w->exposures;
	case W_ERRORS: return &w->errors;
	case W_INELIGIBLE: return &w->ineligible;
	default: return &w->ineligible_errors;
	}
}

static int get_window(dec *d, const cJSON *win, const char *path,
	canary__ev_window *w)
{
	const cJSON *m[W_COUNT];
	int k, rc = canary__json_members(&d->r, win, path, window_names,
		W_COUNT, m);

	if (rc == CANARY_OK)
		rc = get_text(d, m[W_FLAG], path, "flag", CANARY__MAX_KEY_LEN,
			w->flag);
	if (rc == CANARY_OK)
		rc = get_arm(d, m[W_ARM], path, w);
	/* The counts of units outside the targeting are optional: an SDK
	 * without targeting never sends them. */
	for (k = W_VERSION; rc == CANARY_OK && k <= W_INELIGIBLE_ERRORS; k++)
		rc = canary__json_uint(&d->r, m[k], path, window_names[k],
			CANARY__JSON_MAX_INT, k <= W_ERRORS, window_int(w, k));
	if (rc == CANARY_OK && w->end_ms < w->start_ms)
		rc = canary__perror_at(d->r.err, path, "end_ms",
			"must not be before start_ms");
	if (rc == CANARY_OK)
		rc = get_latency(d, m[W_LATENCY], path, w);
	if (rc == CANARY_OK)
		rc = get_metrics(d, m[W_METRICS], path, w);
	if (rc == CANARY_OK)
		rc = get_users(d, m, path, w);
	return rc;
}

static int get_windows(dec *d, const cJSON *item, canary__ev_batch *b)
{
	const cJSON *arr, *win;
	size_t n;
	int rc = canary__json_required(&d->r, item, "", "windows");

	if (rc == CANARY_OK)
		rc = canary__json_array(&d->r, item, "", "windows", &arr);
	if (rc != CANARY_OK)
		return rc;
	n = (size_t)cJSON_GetArraySize(arr);
	if (n > CANARY__EV_MAX_WINDOWS)
		return canary__perror_set(d->r.err, "windows",
			"more than %d windows", CANARY__EV_MAX_WINDOWS);
	b->windows = canary__calloc(d->a, n ? n : 1, sizeof(*b->windows));
	if (!b->windows)
		return canary__perror_oom(d->r.err);
	cJSON_ArrayForEach(win, arr) {
		char path[32];

		canary__path_index(path, sizeof(path), "windows", b->count);
		rc = get_window(d, win, path, &b->windows[b->count]);
		b->count++; /* so that a partial window is freed too */
		if (rc != CANARY_OK)
			return rc;
	}
	return CANARY_OK;
}

enum { B_ID, B_INSTANCE, B_SDK, B_SENT, B_DROPPED, B_WINDOWS, B_COUNT };
static const char *const batch_names[B_COUNT] = { "batch_id",
	"instance_id", "sdk_version", "sent_at_ms", "dropped", "windows" };

static int get_batch(dec *d, const cJSON *root, canary__ev_batch *b)
{
	const cJSON *m[B_COUNT];
	int rc = canary__json_members(&d->r, root, "", batch_names, B_COUNT,
		m);

	if (rc == CANARY_OK)
		rc = get_batch_id(d, m[B_ID], b);
	if (rc == CANARY_OK)
		rc = get_text(d, m[B_INSTANCE], "", "instance_id",
			CANARY__EV_MAX_INSTANCE_ID, b->instance_id);
	if (rc == CANARY_OK)
		rc = get_text(d, m[B_SDK], "", "sdk_version",
			CANARY__EV_MAX_SDK_VERSION, b->sdk_version);
	if (rc == CANARY_OK)
		rc = canary__json_uint(&d->r, m[B_SENT], "", "sent_at_ms",
			CANARY__JSON_MAX_INT, true, &b->sent_at_ms);
	if (rc == CANARY_OK)
		rc = get_dropped(d, m[B_DROPPED], b);
	if (rc == CANARY_OK)
		rc = get_windows(d, m[B_WINDOWS], b);
	return rc;
}

int canary__ev_batch_decode(const canary__alloc *a, const char *body,
	size_t len, unsigned opts, canary__ev_batch *out, canary__perror *e)
{
	cJSON *root = NULL;
	dec d;
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&d, 0, sizeof(d));
	d.a = a;
	out->owner = a;
	canary__json_reader_init(&d.r, opts & ~CANARY__JSON_KNOWN_ONLY, e);
	rc = canary__json_parse(&d.r, body, len, CANARY__EV_MAX_BODY, NULL,
		&root);
	if (rc == CANARY_OK)
		rc = get_batch(&d, root, out);
	cJSON_Delete(root);
	canary__free(a, d.regs.reg);
	if (rc != CANARY_OK)
		canary__ev_batch_clear(out);
	return rc;
}

void canary__ev_batch_clear(canary__ev_batch *b)
{
	size_t i;

	if (!b)
		return;
	for (i = 0; b->owner && i < b->count; i++) {
		canary__free(b->owner, b->windows[i].bins);
		canary__free(b->owner, b->windows[i].metrics);
		canary__free(b->owner, b->windows[i].users.units.bytes);
		canary__free(b->owner, b->windows[i].users.error_units.bytes);
	}
	if (b->owner)
		canary__free(b->owner, b->windows);
	memset(b, 0, sizeof(*b));
}
