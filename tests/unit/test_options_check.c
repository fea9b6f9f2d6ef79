/*
 * test_options_check.c - canary_client_new() refuses what cannot work,
 * naming the field: a URL scheme other than http/https, a URL without a
 * scheme or host, a query, fragment, space or control byte after it,
 * server_url and server_urls together, a cache_path whose
 * directory does not exist, a bootstrap_path that cannot be read, a key or
 * app name with a control byte (header injection). And the
 * options' versions: a version-1 struct (an older program's) is read as
 * such, and canary_options_init() writes no byte past its version.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "canary/canary.h"

static void assert_contains(const char *text, const char *needle)
{
	if (!strstr(text, needle))
		fail_msg("\"%s\"\n  does not contain\n\"%s\"", text, needle);
}

/* canary_client_new() with `o` fails with `code`, saying `want`. */
static void refused(canary_options *o, int code, const char *want)
{
	canary_client *c = (canary_client *)&c;

	assert_int_equal(canary_client_new(&c, o), code);
	assert_null(c);
	assert_contains(canary_error_last(), want);
}

static void test_url_scheme(void **state)
{
	canary_options o = CANARY_OPTIONS_INIT;

	(void)state;
	o.sdk_key = "k";
	o.server_url = "ftp://flags.example.com";
	refused(&o, CANARY_EINVAL,
		"opts.server_url: scheme \"ftp\" is not supported (\"ftp://flags.example.com\"): use http:// or https://");
	o.server_url = "localhost:8080";
	refused(&o, CANARY_EINVAL,
		"opts.server_url: \"localhost:8080\" has no scheme: write http://localhost:8080 or https://localhost:8080");
	o.server_url = "http://";
	refused(&o, CANARY_EINVAL, "opts.server_url: no host in \"http://\"");
	/* Credentials in a URL never reach a message. */
	o.server_url = "gopher://user:secret@flags";
	refused(&o, CANARY_EINVAL, "gopher://***@flags");
	assert_null(strstr(canary_error_last(), "secret"));
}

/* A query or fragment would come before the /v1/... libcanary appends;
 * a query's secret is not repeated in the message. */
static void test_url_tail(void **state)
{
	canary_options o = CANARY_OPTIONS_INIT;

	(void)state;
	o.sdk_key = "k";
	o.server_url = "https://flags.example/?token=secret";
	refused(&o, CANARY_EINVAL,
		"opts.server_url: \"https://flags.example/\" is followed by a query: give the server's root URL");
	assert_null(strstr(canary_error_last(), "secret"));
	o.server_url = "https://flags.example/base#top";
	refused(&o, CANARY_EINVAL, "is followed by a fragment");
	o.server_url = "https://flags.example\n";
	refused(&o, CANARY_EINVAL,
		"\"https://flags.example\" is followed by a control character");
	o.server_url = "https://flags.example/ x";
	refused(&o, CANARY_EINVAL, "is followed by a space");
}

static void test_server_urls_checked(void **state)
{
	const char *urls[] = { "http://a.example", "HTTPS://b.example",
		"ftp://c.example", NULL };
	const char *none[] = { NULL };
	canary_options o = CANARY_OPTIONS_INIT;

	(void)state;
	o.sdk_key = "k";
	o.server_urls = urls;
	refused(&o, CANARY_EINVAL, "opts.server_urls[2]: scheme \"ftp\" is not supported");
	o.server_url = "http://a.example";
	refused(&o, CANARY_EINVAL,
		"opts.server_urls: set server_url or server_urls, not both");
	o.server_url = NULL;
	o.server_urls = none;
	refused(&o, CANARY_EINVAL, "opts.server_urls: empty");
	urls[2] = NULL;
	o.server_urls = urls;
	o.sdk_key = NULL;
	refused(&o, CANARY_EINVAL, "opts.sdk_key: required when server_urls is set");
}

static void test_cache_directory_missing(void **state)
{
	canary_options o = CANARY_OPTIONS_INIT;

	(void)state;
	o.cache_path = "/nonexistent-canary-dir/sub/cache.db";
	refused(&o, CANARY_EINVAL,
		"opts.cache_path: directory /nonexistent-canary-dir/sub does not exist");
	o.cache_path = CANARY_TEST_DATA "/flags_small.json/cache.db";
	refused(&o, CANARY_EINVAL, "is not a directory");
}

static void test_bootstrap_missing(void **state)
{
	canary_options o = CANARY_OPTIONS_INIT;

	(void)state;
	o.bootstrap_path = "/nonexistent-canary-dir/flags.json";
	refused(&o, CANARY_EINVAL,
		"opts.bootstrap_path: cannot read /nonexistent-canary-dir/flags.json: No such file or directory");
}

static void test_log_levels_checked(void **state)
{
	canary_options o = CANARY_OPTIONS_INIT;

	(void)state;
	o.log_stderr = (canary_log_level)9;
	refused(&o, CANARY_EINVAL, "opts.log_stderr: unknown value 9");
}

/* An outbox smaller than a drop report dropped every batch, then every
 * report of it, at each flush: nothing ever reached the service. */
static void test_outbox_bytes_floor(void **state)
{
	canary_options o = CANARY_OPTIONS_INIT;

	(void)state;
	o.outbox_max_bytes = 999;
	refused(&o, CANARY_EINVAL,
		"opts.outbox_max_bytes: at least 1000 (a drop report must fit)");
}

/* A key or app name that would break or inject request headers; the
 * key (a secret) is not repeated in the message. */
static void test_header_fields_checked(void **state)
{
	canary_options o = CANARY_OPTIONS_INIT;

	(void)state;
	o.server_url = "http://flags.example";
	o.sdk_key = "secret\n";
	refused(&o, CANARY_EINVAL,
		"opts.sdk_key: contains a control character (a trailing newline?)");
	assert_null(strstr(canary_error_last(), "secret"));
	o.sdk_key = "secret\r\nX-Injected: 1";
	refused(&o, CANARY_EINVAL, "opts.sdk_key: contains a control character");
	o.sdk_key = "";
	refused(&o, CANARY_EINVAL, "opts.sdk_key: empty");
	o.sdk_key = "k";
	o.source = CANARY_SOURCE_UNLEASH;
	o.app_name = "app\r\nX-Injected: 1";
	refused(&o, CANARY_EINVAL, "opts.app_name: contains a control character");
}

/* An older program's struct: version 1, smaller. */
static void test_options_version_1(void **state)
{
	unsigned char buf[sizeof(canary_options) + 16];
	canary_options *o = (canary_options *)(void *)buf;
	size_t v1 = offsetof(canary_options, server_urls), i;
	canary_client *c;

	(void)state;
	memset(buf, 0xa5, sizeof(buf));
	assert_int_equal(canary_options_init(o, 1), CANARY_OK);
	assert_int_equal(o->version, 1);
	assert_int_equal(o->log_level, CANARY_LOG_INFO);
	for (i = v1; i < sizeof(buf); i++)
		assert_int_equal(buf[i], 0xa5);
	/* The fields it lacks are never read: the 0xa5 bytes there would be
	 * refused as a log level or used as a pointer. */
	assert_int_equal(canary_client_new(&c, o), CANARY_OK);
	canary_client_free(c);
	assert_int_equal(canary_options_init(o, 5), CANARY_EINVAL);
	assert_int_equal(canary_options_init(o, 0), CANARY_EINVAL);
	o->version = 5;
	refused(o, CANARY_EINVAL, "opts.version: 5 is not supported");
}

/* An older version of `size` bytes: the same. */
static void older_version(unsigned int version, size_t size)
{
	unsigned char buf[sizeof(canary_options) + 16];
	canary_options *o = (canary_options *)(void *)buf;
	canary_client *c;
	size_t i;

	memset(buf, 0xa5, sizeof(buf));
	assert_int_equal(canary_options_init(o, version), CANARY_OK);
	assert_int_equal(o->log_stderr, CANARY_LOG_WARN);
	for (i = size; i < sizeof(buf); i++)
		assert_int_equal(buf[i], 0xa5);
	assert_int_equal(canary_client_new(&c, o), CANARY_OK);
	canary_client_free(c);
}

/* Version 2 (before the config source) and 3 (before hostname and
 * unleash_delta). */
static void test_options_versions_2_and_3(void **state)
{
	(void)state;
	older_version(2, offsetof(canary_options, source));
	older_version(3, offsetof(canary_options, hostname));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_url_scheme),
		cmocka_unit_test(test_url_tail),
		cmocka_unit_test(test_server_urls_checked),
		cmocka_unit_test(test_cache_directory_missing),
		cmocka_unit_test(test_bootstrap_missing),
		cmocka_unit_test(test_log_levels_checked),
		cmocka_unit_test(test_header_fields_checked),
		cmocka_unit_test(test_outbox_bytes_floor),
		cmocka_unit_test(test_options_version_1),
		cmocka_unit_test(test_options_versions_2_and_3),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
