/*
 * peer_libcanary.c - libcanary in the peer comparison: the flags as a
 * /v1/flags document applied with canary_client_set_config_json() (what
 * the worker does with a fetched one), a client without a server. Three
 * rows: canary_enabled() (exposure counting on, the default), through
 * flag handles, and with counting off.
 */
#include <stdio.h>
#include <stdlib.h>

#include "bench_peers.h"
#include "canary/canary.h"

static canary_client *client;
static canary_flag_ref **refs;

static int make(size_t nflags, bool exposures, bool handles, char *err,
	size_t errlen)
{
	canary_options o = CANARY_OPTIONS_INIT;
	size_t cap = 64 + nflags * 64, len = 0, i;
	char *json = malloc(cap);

	o.no_thread = true;
	o.no_exposures = !exposures;
	if (!json || canary_client_new(&client, &o) != CANARY_OK) {
		snprintf(err, errlen, "canary_client_new: %s", canary_error_last());
		free(json);
		return -1;
	}
	len += (size_t)snprintf(json + len, cap - len, "{\"version\":1,\"flags\":[");
	for (i = 0; i < nflags; i++)
		len += (size_t)snprintf(json + len, cap - len,
			"%s{\"key\":\"flag-%zu\",\"rollout_bp\":%d}", i ? "," : "", i,
			BENCH_PERCENT * 100);
	len += (size_t)snprintf(json + len, cap - len, "]}");
	if (canary_client_set_config_json(client, json, len) != CANARY_OK) {
		snprintf(err, errlen, "config: %s", canary_error_last());
		free(json);
		return -1;
	}
	free(json);
	if (!handles)
		return 0;
	refs = calloc(nflags, sizeof(*refs));
	for (i = 0; refs && i < nflags; i++) {
		char key[32];

		snprintf(key, sizeof(key), "flag-%zu", i);
		refs[i] = canary_flag_ref_get(client, key);
	}
	return refs ? 0 : -1;
}

static int setup(size_t nflags, const char *dir, char *err, size_t errlen)
{
	(void)dir;
	return make(nflags, true, false, err, errlen);
}

static int setup_ref(size_t nflags, const char *dir, char *err, size_t errlen)
{
	(void)dir;
	return make(nflags, true, true, err, errlen);
}

static int setup_noexp(size_t nflags, const char *dir, char *err,
	size_t errlen)
{
	(void)dir;
	return make(nflags, false, false, err, errlen);
}

static bool eval(size_t index, const char *key, const char *user)
{
	(void)index;
	return canary_enabled(client, key, user);
}

static bool eval_ref(size_t index, const char *key, const char *user)
{
	(void)key;
	return canary_enabled_ref(client, refs[index], user);
}

static void teardown(void)
{
	canary_client_free(client);
	client = NULL;
	free(refs);
	refs = NULL;
}

#define FED "canary_client_set_config_json(), no server"
const bench_peer bench_peer_libcanary = {
	"libcanary", FED, setup, eval, teardown
};
const bench_peer bench_peer_libcanary_ref = {
	"libcanary-ref", FED "; canary_enabled_ref()", setup_ref, eval_ref,
	teardown
};
const bench_peer bench_peer_libcanary_noexp = {
	"libcanary-noexp", FED "; no_exposures", setup_noexp, eval, teardown
};
