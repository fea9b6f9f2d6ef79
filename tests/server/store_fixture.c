/*
 * store_fixture.c - the storage tests' temporary store, flags and batches.
 */
#define _POSIX_C_SOURCE 200809L
#include "store_fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "alloc.h"
#include "parse/admin_parse.h"

char fx_db_path[512];
static char dir[256];

int fx_setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/canary-test-storage-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(fx_db_path, sizeof(fx_db_path), "%s/canary.db", dir);
	return 0;
}

int fx_teardown(void **state)
{
	char cmd[400];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

cs_store *fx_open(void)
{
	cs_store_options o;
	cs_store *s = NULL;
	char err[256] = "";

	memset(&o, 0, sizeof(o));
	o.location = fx_db_path;
	o.sync = CS_SYNC_NORMAL; /* the tests need no fsync per commit */
	if (cs_store_open(&s, &o, err, sizeof(err)) != CANARY_OK)
		fail_msg("cs_store_open: %s", err);
	return s;
}

void fx_flag(const char *key, uint32_t rollout_bp, canary__flag *out)
{
	char body[256];
	cs_perror e;
	int n = snprintf(body, sizeof(body), "{\"key\": \"%s\", "
		"\"rollout_bp\": %u}", key, rollout_bp);

	if (cs_admin_parse_flag(body, (size_t)n, NULL, out, &e) != CANARY_OK)
		fail_msg("flag %s: %s: %s", key, e.field, e.message);
}

void fx_create(cs_store *s, const char *key)
{
	canary__flag f;

	fx_flag(key, 0, &f);
	assert_int_equal(cs_store_flag_put(s, &f, CS_PUT_CREATE, NULL, NULL),
		CANARY_OK);
	canary__flag_clear(canary__alloc_default(), &f);
}

void fx_batch(unsigned int id, const char *flag, const char *arm,
	uint64_t cv, uint64_t exposures, uint64_t errors, cs_batch *out)
{
	char body[1024];
	cs_perror e;
	int n = snprintf(body, sizeof(body), "{\"batch_id\": \"%032x\", "
		"\"instance_id\": \"i-1\", \"sdk_version\": \"test\", "
		"\"sent_at_ms\": 1, \"windows\": [{\"flag\": \"%s\", "
		"\"arm\": \"%s\", \"config_version\": %llu, \"start_ms\": 1, "
		"\"end_ms\": 2, \"exposures\": %llu, \"errors\": %llu, "
		"\"latency_ms\": {\"zero\": 0, \"bins\": [[100, 1], [200, 1]]}}]}",
		id, flag, arm, (unsigned long long)cv,
		(unsigned long long)exposures, (unsigned long long)errors);

	if (cs_events_parse(body, (size_t)n, out, &e) != CANARY_OK)
		fail_msg("batch %u: %s: %s", id, e.field, e.message);
}
