/*
 * test_concurrency_variant.c - canary_variant_ctx() while another thread
 * replaces the config (label concurrency: run under ThreadSanitizer, and
 * under AddressSanitizer a read of a freed config would be caught): every
 * answer is whole, the name, payload type and payload of one and the same
 * config, and valid after the call returns.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <cmocka.h>

#include "canary/canary.h"

#define READERS 3
#define SWAPS 300

static atomic_bool done;

/* Config `v`: feature "f" with one variant named for `v`, its payload
 * the same number. */
static void set_config(canary_client *c, unsigned v)
{
	char doc[512];
	int n = snprintf(doc, sizeof(doc),
		"{\"version\": 2, \"features\": [{\"name\": \"f\", \"enabled\": true,"
		" \"strategies\": [{\"name\": \"default\"}], \"variants\": ["
		" {\"name\": \"v%u\", \"weight\": 1000, \"payload\":"
		"  {\"type\": \"number\", \"value\": \"%u\"}}]}]}", v, v);

	if (canary_client_set_config_json(c, doc, (size_t)n) != CANARY_OK)
		fail_msg("config %u: %s", v, canary_error_last());
}

static void *reader(void *arg)
{
	canary_client *c = arg;
	canary_context ctx = CANARY_CONTEXT_INIT;
	char payload[16];
	long bad = 0;

	ctx.unit = "u1";
	while (!atomic_load(&done)) {
		canary_variant v = CANARY_VARIANT_INIT;

		v.payload_buf = payload;
		v.payload_buf_size = sizeof(payload);
		if (!canary_variant_ctx(c, "f", &ctx, 0, &v) ||
		    strcmp(v.name + 1, payload) != 0 ||
		    strcmp(v.payload_type, "number") != 0)
			bad++;
	}
	return (void *)bad;
}

static void test_variants_across_swaps(void **state)
{
	pthread_t t[READERS];
	canary_options o;
	canary_client *c;
	unsigned v;
	int i;

	(void)state;
	canary_options_init(&o, CANARY_OPTIONS_VERSION);
	o.source = CANARY_SOURCE_UNLEASH;
	o.log_stderr = CANARY_LOG_OFF;
	assert_int_equal(canary_client_new(&c, &o), CANARY_OK);
	set_config(c, 0);
	for (i = 0; i < READERS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, reader, c), 0);
	for (v = 1; v <= SWAPS; v++)
		set_config(c, v);
	atomic_store(&done, true);
	for (i = 0; i < READERS; i++) {
		void *bad;

		assert_int_equal(pthread_join(t[i], &bad), 0);
		assert_int_equal((long)bad, 0);
	}
	canary_client_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_variants_across_swaps),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
