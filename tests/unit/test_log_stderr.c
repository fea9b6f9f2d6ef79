/*
 * test_log_stderr.c - without a log callback, warnings and errors go to
 * stderr: each distinct message once, at most CANARY__LOG_BURST lines at a
 * time (the rest counted and said), at the level opts.log_stderr or the
 * environment variable CANARY_LOG chooses.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "canary/canary.h"
#include "log.h"

static const char config[] =
	"{\"version\": 7, \"flags\": [{\"key\": \"checkout-v2\", \"rollout_bp\": 5000}]}";

/* stderr into a file while `capture` runs. */
static char captured[16384];
static int saved_fd = -1;
static FILE *tmp;

static void capture_start(void)
{
	fflush(stderr);
	tmp = tmpfile();
	assert_non_null(tmp);
	saved_fd = dup(2);
	assert_true(dup2(fileno(tmp), 2) >= 0);
}

static const char *capture_end(void)
{
	size_t n;

	fflush(stderr);
	assert_true(dup2(saved_fd, 2) >= 0);
	close(saved_fd);
	rewind(tmp);
	n = fread(captured, 1, sizeof(captured) - 1, tmp);
	captured[n] = '\0';
	fclose(tmp);
	return captured;
}

static int count(const char *text, const char *needle)
{
	int n = 0;

	for (; (text = strstr(text, needle)); text += strlen(needle))
		n++;
	return n;
}

/* An offline client, no callback: the unknown key is said once. */
static void run_client(canary_log_level level)
{
	canary_options o = CANARY_OPTIONS_INIT;
	canary_client *c;
	int i;

	o.log_stderr = level;
	assert_int_equal(canary_client_new(&c, &o), CANARY_OK);
	assert_int_equal(canary_client_set_config_json(c, config,
		strlen(config)), CANARY_OK);
	for (i = 0; i < 1000; i++)
		assert_false(canary_enabled(c, "chekout-v2", "user-1"));
	canary_client_free(c);
}

static void test_client_warns_on_stderr(void **state)
{
	const char *out;

	(void)state;
	unsetenv("CANARY_LOG");
	capture_start();
	run_client(CANARY_LOG_WARN);
	out = capture_end();
	assert_int_equal(count(out, "libcanary: warn: flag \"chekout-v2\" is not in the config (version 7): it answers stable; did you mean \"checkout-v2\"?\n"), 1);
	/* INFO ("config version 7 applied") is below the default level. */
	assert_int_equal(count(out, "applied"), 0);
	assert_int_equal(count(out, "libcanary: "), 1);
}

static void test_option_and_environment(void **state)
{
	(void)state;
	unsetenv("CANARY_LOG");
	capture_start();
	run_client(CANARY_LOG_OFF);
	assert_string_equal(capture_end(), "");

	/* The environment overrides the option. */
	setenv("CANARY_LOG", "warn", 1);
	capture_start();
	run_client(CANARY_LOG_OFF);
	assert_int_equal(count(capture_end(), "is not in the config"), 1);

	setenv("CANARY_LOG", "OFF", 1);
	capture_start();
	run_client(CANARY_LOG_WARN);
	assert_string_equal(capture_end(), "");

	setenv("CANARY_LOG", "info", 1);
	capture_start();
	run_client(CANARY_LOG_WARN);
	assert_int_equal(count(capture_end(),
		"libcanary: info: config version 7 applied from canary_client_set_config_json\n"), 1);

	setenv("CANARY_LOG", "loud", 1);
	capture_start();
	run_client(CANARY_LOG_WARN);
	assert_int_equal(count(capture_end(),
		"libcanary: warn: CANARY_LOG=\"loud\" is not one of off, error, warn, info, debug: ignored\n"), 1);
	unsetenv("CANARY_LOG");
}

static void test_once_and_rate_limited(void **state)
{
	canary__log_sink sink;
	canary__logger log;
	const char *out;
	int i;

	(void)state;
	unsetenv("CANARY_LOG");
	capture_start();
	canary__log_setup(&log, &sink, NULL, NULL, CANARY_LOG_INFO,
		CANARY_LOG_WARN);
	canary__log(&log, CANARY_LOG_INFO, "below the level");
	for (i = 0; i < 5; i++)
		canary__log(&log, CANARY_LOG_ERROR, "the same cause");
	for (i = 0; i < 30; i++)
		canary__log(&log, CANARY_LOG_WARN, "cause number %d", i);
	canary__log_teardown(&log);
	out = capture_end();
	assert_int_equal(count(out, "below the level"), 0);
	assert_int_equal(count(out, "libcanary: error: the same cause\n"), 1);
	/* 1 + 19 lines pass the burst; the other 11 are held back. */
	assert_int_equal(count(out, "libcanary: "), CANARY__LOG_BURST);
	assert_int_equal(count(out, "cause number 18\n"), 1);
	assert_int_equal(count(out, "cause number 19"), 0);
}

static void test_held_back_counted(void **state)
{
	canary__log_sink sink;
	canary__logger log;
	const char *out;
	int i;

	(void)state;
	capture_start();
	canary__log_setup(&log, &sink, NULL, NULL, CANARY_LOG_INFO,
		CANARY_LOG_WARN);
	for (i = 0; i < CANARY__LOG_BURST + 3; i++)
		canary__log(&log, CANARY_LOG_WARN, "message %d", i);
	/* As if the budget had been refilled: the next line says how many
	 * were held back. */
	sink.refilled_at -= CANARY__LOG_REFILL_MS;
	canary__log(&log, CANARY_LOG_WARN, "after the pause");
	canary__log_teardown(&log);
	out = capture_end();
	assert_int_equal(count(out,
		"libcanary: warn: after the pause (and 3 earlier messages held back)\n"), 1);
}

static void test_level_names(void **state)
{
	canary_log_level l;

	(void)state;
	assert_true(canary__log_level_parse("debug", &l));
	assert_int_equal(l, CANARY_LOG_DEBUG);
	assert_true(canary__log_level_parse("Error", &l));
	assert_int_equal(l, CANARY_LOG_ERROR);
	assert_true(canary__log_level_parse("warning", &l));
	assert_int_equal(l, CANARY_LOG_WARN);
	assert_false(canary__log_level_parse("verbose", &l));
	assert_false(canary__log_level_parse("", &l));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_client_warns_on_stderr),
		cmocka_unit_test(test_option_and_environment),
		cmocka_unit_test(test_once_and_rate_limited),
		cmocka_unit_test(test_held_back_counted),
		cmocka_unit_test(test_level_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
