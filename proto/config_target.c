/*
 * config_target.c - targeting in the flag config (see config_target.h).
 */
#include "config_target.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

struct canary__target_arena {
	canary__arena arena;        /* compiled segments, rules, targets */
	canary__segments segments;
	canary__field_slots slots;  /* the attribute names the rules use */
};

/* A strict rule compiler reading with `r`'s options and error, so that an
 * admin request refuses unknown members inside constraints too. */
static void build_init(canary__rule_build *b, canary__arena *arena,
	const canary__json_reader *r)
{
	canary__rule_build_init(b, arena, false, r->err);
	b->rd.opts = r->opts;
}

static int compiled_of(const canary__alloc *a, canary__segtable *table,
	const canary__json_reader *r)
{
	if (table->compiled)
		return CANARY_OK;
	table->compiled = canary__new(a, canary__target_arena);
	if (!table->compiled)
		return canary__perror_oom(r->err);
	canary__arena_init(&table->compiled->arena, &a->fns);
	return CANARY_OK;
}

/* `arr` as canonical JSON text with `a`'s memory (cJSON prints with its
 * own allocator). */
static int print_copy(const canary__alloc *a, const canary__json_reader *r,
	const cJSON *arr, char **out)
{
	char *text = cJSON_PrintUnformatted(arr);

	*out = text ? canary__strdup(a, text) : NULL;
	cJSON_free(text);
	return *out ? CANARY_OK : canary__perror_oom(r->err);
}

/* Compile `arr` (the member "constraints" of `path`) in a scratch arena:
 * the check of a flag or a segment read alone. */
static int check_constraints(const canary__alloc *a,
	const canary__json_reader *r, const cJSON *arr, const char *path)
{
	char sub[CANARY__PERR_FIELD];
	canary__constraint *items;
	canary__rule_build b;
	canary__arena scratch;
	uint32_t n;
	int rc;

	canary__path_member(sub, sizeof(sub), path, "constraints");
	canary__arena_init(&scratch, &a->fns);
	build_init(&b, &scratch, r);
	rc = canary__constraints_compile(&b, arr, sub, &items, &n);
	canary__arena_free(&scratch);
	return rc;
}

/* ---- a flag's targeting ---------------------------------------------- */

void canary__target_clear(const canary__alloc *a, canary__target *t)
{
	if (!t)
		return;
	canary__free(a, t->stickiness);
	canary__free(a, t->constraints);
	canary__strlist_clear(a, &t->segments);
	memset(t, 0, sizeof(*t));
}

bool canary__target_is_set(const canary__target *t)
{
	return t->constraints || t->segments.count ||
		(t->stickiness && t->stickiness[0]);
}

/* The flag's compiled targeting, in the table's arena. */
static int compile(const canary__json_reader *r, const cJSON *constraints,
	const cJSON *segments, const char *path, canary__target_arena *ta,
	canary__target *out)
{
	canary__target_rules *t;
	canary__rule_build b;
	char *name;
	int rc;

	t = canary__arena_alloc(&ta->arena, sizeof(*t));
	if (!t)
		return canary__perror_oom(r->err);
	if (constraints || segments) {
		build_init(&b, &ta->arena, r);
		b.slots = &ta->slots;
		rc = canary__rules_compile_members(&b, constraints, segments,
			path, &ta->segments, &t->rules);
		if (rc != CANARY_OK)
			return rc;
		t->has_rules = true;
	}
	if (out->stickiness[0]) {
		name = canary__arena_strndup(&ta->arena, out->stickiness,
			strlen(out->stickiness));
		if (!name)
			return canary__perror_oom(r->err);
		canary__field_init(&t->stickiness, name, strlen(name));
	}
	out->compiled = t;
	return CANARY_OK;
}

int canary__target_read(const canary__alloc *a, const canary__json_reader *r,
	const canary__target_members *m, const char *path,
	canary__segtable *table, canary__target *out)
{
	const cJSON *constraints = NULL, *segments = NULL;
	const char *stick = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = canary__json_string(r, m->stickiness, path, "stickiness",
		CANARY__RULE_MAX_NAME, &stick);
	if (rc == CANARY_OK && !(out->stickiness = canary__strdup(a,
	    stick ? stick : "")))
		rc = canary__perror_oom(r->err);
	if (rc == CANARY_OK)
		rc = canary__json_array(r, m->constraints, path, "constraints",
			&constraints);
	if (rc == CANARY_OK)
		rc = canary__strlist_read(a, r, m->segments, path, "segments",
			CANARY__RULE_MAX_NAME, &out->segments);
	if (rc != CANARY_OK)
		return rc;
	if (constraints && cJSON_GetArraySize(constraints) == 0)
		constraints = NULL;
	if (constraints && (rc = print_copy(a, r, constraints,
	    &out->constraints)) != CANARY_OK)
		return rc;
	if (out->segments.count)
		segments = m->segments;
	if (!table)
		return constraints ? check_constraints(a, r, constraints, path) :
			CANARY_OK;
	if (!canary__target_is_set(out))
		return CANARY_OK;
	rc = compiled_of(a, table, r);
	if (rc != CANARY_OK)
		return rc;
	return compile(r, constraints, segments, path, table->compiled, out);
}

bool canary__target_to_json(const canary__target *t, cJSON *obj)
{
	cJSON *arr;

	if (t->stickiness && t->stickiness[0] &&
	    !cJSON_AddStringToObject(obj, "stickiness", t->stickiness))
		return false;
	if (t->constraints) {
		if (!(arr = cJSON_Parse(t->constraints)))
			return false;
		cJSON_AddItemToObject(obj, "constraints", arr);
	}
	if (t->segments.count) {
		if (!(arr = canary__strlist_to_json(&t->segments)))
			return false;
		cJSON_AddItemToObject(obj, "segments", arr);
	}
	return true;
}

/* ---- segments -------------------------------------------------------- */

void canary__segdef_clear(const canary__alloc *a, canary__segdef *seg)
{
	if (!seg)
		return;
	canary__free(a, seg->name);
	canary__free(a, seg->constraints);
	memset(seg, 0, sizeof(*seg));
}

/* A segment's members; `check`: compile its constraints to validate them
 * (a segment read alone; a config compiles them all at once). */
static int segdef_read(const canary__alloc *a, const canary__json_reader *r,
	const cJSON *obj, const char *path, bool check, canary__segdef *out)
{
	static const char *const names[] = { "name", "constraints" };
	const cJSON *m[2], *arr = NULL;
	const char *name;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = canary__json_members(r, obj, path, names, 2, m);
	if (rc == CANARY_OK)
		rc = canary__json_name(r, m[0], path, "name",
			CANARY__RULE_MAX_NAME, &name);
	if (rc == CANARY_OK && !(out->name = canary__strdup(a, name)))
		rc = canary__perror_oom(r->err);
	if (rc == CANARY_OK)
		rc = canary__json_array(r, m[1], path, "constraints", &arr);
	if (rc == CANARY_OK && check && arr)
		rc = check_constraints(a, r, arr, path);
	if (rc == CANARY_OK) {
		if (arr)
			rc = print_copy(a, r, arr, &out->constraints);
		else if (!(out->constraints = canary__strdup(a, "[]")))
			rc = canary__perror_oom(r->err);
	}
	if (rc != CANARY_OK)
		canary__segdef_clear(a, out);
	return rc;
}

int canary__segdef_from_json(const canary__alloc *a,
	const canary__json_reader *r, const cJSON *obj, const char *path,
	canary__segdef *out)
{
	return segdef_read(a, r, obj, path, true, out);
}

cJSON *canary__segdef_to_json(const canary__segdef *seg)
{
	cJSON *obj = cJSON_CreateObject();
	cJSON *arr = cJSON_Parse(seg->constraints);

	if (!obj || !arr || !cJSON_AddStringToObject(obj, "name", seg->name)) {
		cJSON_Delete(obj);
		cJSON_Delete(arr);
		return NULL;
	}
	cJSON_AddItemToObject(obj, "constraints", arr);
	return obj;
}

static int cmp_segdef(const void *x, const void *y)
{
	return strcmp(((const canary__segdef *)x)->name,
		((const canary__segdef *)y)->name);
}

static int read_segdefs(const canary__alloc *a, const canary__json_reader *r,
	const cJSON *arr, canary__segtable *t)
{
	const cJSON *obj;
	size_t n = (size_t)cJSON_GetArraySize(arr), i;

	if (n > CANARY__MAX_SEGMENTS)
		return canary__perror_set(r->err, "segments",
			"more than %d segments", CANARY__MAX_SEGMENTS);
	t->items = canary__calloc(a, n, sizeof(*t->items));
	if (!t->items)
		return canary__perror_oom(r->err);
	cJSON_ArrayForEach(obj, arr) {
		char path[32];
		int rc;

		canary__path_index(path, sizeof(path), "segments", t->count);
		rc = segdef_read(a, r, obj, path, false, &t->items[t->count]);
		if (rc != CANARY_OK)
			return rc;
		t->count++;
	}
	qsort(t->items, n, sizeof(*t->items), cmp_segdef);
	for (i = 1; i < n; i++)
		if (strcmp(t->items[i - 1].name, t->items[i].name) == 0)
			return canary__perror_set(r->err, "segments",
				"duplicate segment name \"%s\"", t->items[i].name);
	return CANARY_OK;
}

int canary__segtable_read(const canary__alloc *a,
	const canary__json_reader *r, const cJSON *item, canary__segtable *t)
{
	const cJSON *arr;
	canary__rule_build b;
	int rc = canary__json_array(r, item, "", "segments", &arr);

	if (rc != CANARY_OK || !arr || cJSON_GetArraySize(arr) == 0)
		return rc;
	rc = read_segdefs(a, r, arr, t);
	if (rc == CANARY_OK)
		rc = compiled_of(a, t, r);
	if (rc != CANARY_OK)
		return rc;
	build_init(&b, &t->compiled->arena, r);
	b.slots = &t->compiled->slots;
	return canary__segments_compile(&b, arr, "segments",
		&t->compiled->segments);
}

void canary__segtable_clear(const canary__alloc *a, canary__segtable *t)
{
	size_t i;

	if (!t)
		return;
	for (i = 0; i < t->count; i++)
		canary__segdef_clear(a, &t->items[i]);
	canary__free(a, t->items);
	if (t->compiled) {
		canary__arena_free(&t->compiled->arena);
		canary__delete(a, t->compiled, canary__target_arena);
	}
	memset(t, 0, sizeof(*t));
}

const canary__segdef *canary__segtable_find(const canary__segtable *t,
	const char *name)
{
	size_t lo = 0, hi = t ? t->count : 0;

	while (name && lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(name, t->items[mid].name);

		if (c == 0)
			return &t->items[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

const canary__field_slots *canary__segtable_slots(const canary__segtable *t)
{
	return t->compiled ? &t->compiled->slots : NULL;
}

cJSON *canary__segtable_to_json(const canary__segtable *t)
{
	cJSON *arr = cJSON_CreateArray();
	size_t i;

	for (i = 0; arr && i < t->count; i++) {
		cJSON *seg = canary__segdef_to_json(&t->items[i]);

		if (!seg) {
			cJSON_Delete(arr);
			return NULL;
		}
		cJSON_AddItemToArray(arr, seg);
	}
	return arr;
}
