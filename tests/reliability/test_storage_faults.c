/*
 * test_storage_faults.c - the disk fills up under a running client. The
 * file size limit (RLIMIT_FSIZE, which binds root too, with SIGXFSZ
 * ignored) makes every write that grows a file fail with EFBIG, as a full
 * disk does, for SQLite's cache, its journal and the event outbox.
 *
 * While the disk is "full" the client keeps applying and serving new
 * configs from the service (READY), says once in the log that the cache
 * could not be written, records events and flushes without crashing; once
 * space is back, the next config is cached again and a new client starts
 * from it offline.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <cmocka.h>

#include "canary/canary.h"
#include "dp_support.h"
#include "fault_server.h"

static void disk_full(bool full, struct rlimit *saved)
{
	struct rlimit lim;

	if (full) {
		assert_int_equal(getrlimit(RLIMIT_FSIZE, saved), 0);
		lim = *saved;
		lim.rlim_cur = 1; /* no file may grow past one byte */
		assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	} else {
		assert_int_equal(setrlimit(RLIMIT_FSIZE, saved), 0);
	}
}

static void record_some(canary_client *c)
{
	int i;

	for (i = 0; i < 50; i++)
		(void)canary_record_error(c, "all", "u1");
}

static void test_disk_full(void **state)
{
	fs_server *fs = fs_start();
	char *dir = dp_tmpdir();
	const char *cache = dp_path(dir, "cache.db");
	char cache_copy[512];
	dp_log *log = dp_log_new();
	canary_client *c = NULL;
	canary_options o;
	struct rlimit saved;
	int rc;

	(void)state;
	snprintf(cache_copy, sizeof(cache_copy), "%s", cache);
	signal(SIGXFSZ, SIG_IGN);
	fs_set_config(fs, fs_config_json(11), 11);
	dp_options(&o, fs_url(fs), cache_copy, log, NULL);
	assert_int_equal(canary_client_new(&c, &o), CANARY_OK);
	assert_true(dp_wait_version(c, 11));
	/* READY comes after the config was cached (worker order). */
	assert_true(dp_wait_status(c, CANARY_STATUS_READY));
	assert_int_equal(dp_log_count(log, "save"), 0);

	disk_full(true, &saved);
	fs_set_config(fs, fs_config_json(12), 12);
	assert_true(dp_wait_version(c, 12));       /* applied all the same */
	assert_true(dp_wait_status(c, CANARY_STATUS_READY));
	assert_true(canary_enabled(c, "all", "u1"));
	record_some(c);
	rc = canary_flush(c, 1000);
	assert_true(rc == CANARY_OK || rc == CANARY_ESTORAGE ||
		rc == CANARY_ETIMEOUT);
	disk_full(false, &saved);
	if (dp_log_count(log, "save") == 0) {
		dp_log_dump(log);
		fail_msg("the failed cache write was not logged");
	}

	/* Space is back: the next config is cached, events flow again. */
	fs_set_config(fs, fs_config_json(13), 13);
	assert_true(dp_wait_version(c, 13));
	record_some(c);
	rc = canary_flush(c, 1000);
	assert_true(rc == CANARY_OK || rc == CANARY_ETIMEOUT);
	canary_client_free(c);
	c = NULL;

	/* A new client, offline, starts from what was cached. */
	dp_options(&o, NULL, cache_copy, NULL, NULL);
	o.sdk_key = NULL;
	assert_int_equal(canary_client_new(&c, &o), CANARY_OK);
	assert_int_equal(canary_client_config_version(c), 13);
	canary_client_free(c);
	if (getenv("CANARY_TEST_SHOW_LOG"))
		dp_log_dump(log);
	dp_log_free(log);
	dp_tmpdir_free(dir);
	fs_stop(fs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_disk_full),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
