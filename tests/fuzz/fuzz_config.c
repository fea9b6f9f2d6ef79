/*
 * fuzz_config.c - the /v1/flags config parser (canary__config_parse): it
 * must never crash or leak, and whatever it accepts must keep the model's
 * invariants, survive a JSON round trip unchanged, and index into a
 * snapshot where every flag is found.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "config.h"
#include "snapshot.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_list(const canary__strlist *l)
{
	size_t i;

	if (l->count > CANARY__MAX_LIST_LEN)
		abort();
	for (i = 1; i < l->count; i++)
		if (strcmp(l->items[i - 1], l->items[i]) >= 0)
			abort(); /* sorted and unique */
}

static void check(const canary__config *c)
{
	size_t i;

	if (c->version > CANARY__MAX_VERSION || c->count > CANARY__MAX_FLAGS)
		abort();
	for (i = 0; i < c->count; i++) {
		const canary__flag *f = &c->flags[i];

		if (!f->key || !f->key[0] || !f->salt || !f->variant_stable ||
		    !f->variant_canary || !f->state || f->rollout_bp > 10000)
			abort();
		check_list(&f->allow);
		check_list(&f->deny);
	}
}

static void round_trip(const canary__alloc *a, const canary__config *c)
{
	canary__config *again = NULL;
	canary__perror e;
	cJSON *json = canary__config_to_json(c);
	char *text;
	size_t i;

	if (!json)
		return; /* out of memory */
	text = cJSON_PrintUnformatted(json);
	cJSON_Delete(json);
	if (!text)
		return;
	if (canary__config_parse(a, text, strlen(text), &again, &e) != 0)
		abort(); /* we must accept what we write */
	if (again->version != c->version || again->count != c->count)
		abort();
	for (i = 0; i < c->count; i++)
		if (!canary__config_find(again, c->flags[i].key) ||
		    canary__config_find(again, c->flags[i].key)->rollout_bp !=
		    c->flags[i].rollout_bp)
			abort();
	canary__config_free(a, again);
	cJSON_free(text);
}

static void index_all(const canary__alloc *a, canary__config *c)
{
	canary__snapshot *snap;
	size_t i;

	if (canary__snapshot_new(a, c, &snap) != 0)
		return; /* took ownership, freed */
	for (i = 0; i < snap->config->count; i++) {
		const char *key = snap->config->flags[i].key;

		if (!canary__snapshot_find(snap, key, strlen(key)))
			abort();
	}
	canary__snapshot_free(snap);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const canary__alloc *a = canary__alloc_default();
	canary__config *c = NULL;
	canary__perror e;

	if (canary__config_parse(a, (const char *)data, size, &c, &e) != 0) {
		if (c || !e.message[0])
			abort(); /* an error always explains itself */
		return 0;
	}
	check(c);
	round_trip(a, c);
	index_all(a, c);
	return 0;
}
