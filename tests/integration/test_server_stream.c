/*
 * test_server_stream.c - /v1/stream: delivery of a change, Last-Event-ID,
 * heartbeats, and a thousand idle streams that do not block anything.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "harness.h"

#define MANY 1000


/* The current config version, from /v1/flags. */
static long current_version(void)
{
	resp r;
	long v = -1;

	assert_int_equal(http(&it_server, "GET", "/v1/flags", SDK_KEY, NULL, NULL,
		&r), 0);
	assert_int_equal(r.status, 200);
	assert_int_equal(sscanf(r.body, "{\"version\":%ld", &v), 1);
	resp_free(&r);
	return v;
}

static int open_stream(const char *last_event_id)
{
	char req[512];
	int fd = raw_connect(&it_server);
	size_t n;

	assert_true(fd >= 0);
	n = (size_t)snprintf(req, sizeof(req), "GET /v1/stream HTTP/1.1\r\n"
		"Host: 127.0.0.1\r\nAuthorization: Bearer " SDK_KEY "\r\n"
		"Accept: text/event-stream\r\n%s%s%s\r\n",
		last_event_id ? "Last-Event-ID: " : "",
		last_event_id ? last_event_id : "", last_event_id ? "\r\n" : "");
	assert_int_equal(write(fd, req, n), (ssize_t)n);
	return fd;
}

static void change_rollout(const char *flag, int bp)
{
	char body[64], path[128];

	snprintf(body, sizeof(body), "{\"rollout_bp\":%d}", bp);
	snprintf(path, sizeof(path), "/v1/admin/flags/%s", flag);
	assert_int_equal(http_status(&it_server, "PUT", path, ADMIN_TOKEN, body) /
		100, 2);
}

static void test_delivers_change(void **state)
{
	char buf[16384], needle[64];
	size_t len = 0;
	long v;
	int fd;

	(void)state;
	change_rollout("streamed", 100);
	v = current_version();
	fd = open_stream(NULL);
	assert_true(read_until(fd, buf, sizeof(buf), &len, "200 OK"));
	assert_true(read_until(fd, buf, sizeof(buf), &len, "text/event-stream"));
	snprintf(needle, sizeof(needle), "id: %ld\nevent: config\ndata: {", v);
	assert_true(read_until(fd, buf, sizeof(buf), &len, needle));

	change_rollout("streamed", 4200);
	snprintf(needle, sizeof(needle), "id: %ld\n", v + 1);
	assert_true(read_until(fd, buf, sizeof(buf), &len, needle));
	assert_true(read_until(fd, buf, sizeof(buf), &len,
		"\"rollout_bp\":4200"));
	/* Heartbeats keep coming (every 200 ms in the tests). */
	assert_true(read_until(fd, buf, sizeof(buf), &len, ": hb\n\n"));
	close(fd);
}

static void test_last_event_id(void **state)
{
	char buf[16384], id[32], needle[64];
	size_t len = 0;
	long v;
	int fd;

	(void)state;
	v = current_version();
	/* Up to date: nothing but the hello and heartbeats until a change. */
	snprintf(id, sizeof(id), "%ld", v);
	fd = open_stream(id);
	assert_true(read_until(fd, buf, sizeof(buf), &len, ": hb\n\n"));
	assert_null(strstr(buf, "event: config"));
	change_rollout("lei", 1);
	snprintf(needle, sizeof(needle), "id: %ld\n", v + 1);
	assert_true(read_until(fd, buf, sizeof(buf), &len, needle));
	close(fd);

	/* Behind: the current config at once, before any heartbeat. */
	snprintf(id, sizeof(id), "%ld", v);
	len = 0;
	fd = open_stream(id);
	snprintf(needle, sizeof(needle), "id: %ld\n", v + 1);
	assert_true(read_until(fd, buf, sizeof(buf), &len, needle));
	assert_null(strstr(buf, ": hb"));
	close(fd);
}

static void raise_fd_limit(void)
{
	struct rlimit rl;

	assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
	if (rl.rlim_cur < MANY + 64)
		skip();
}

static void test_thousand_streams(void **state)
{
	static int fds[MANY];
	static char buf[8192];
	char id[32], needle[64];
	const char *p;
	size_t len;
	long v;
	int i;
	resp r;

	(void)state;
	raise_fd_limit();
	v = current_version();
	snprintf(id, sizeof(id), "%ld", v);
	for (i = 0; i < MANY; i++) {
		fds[i] = open_stream(id);
		len = 0;
		assert_true(read_until(fds[i], buf, sizeof(buf), &len, "retry:"));
	}
	/* 1,000 idle streams take no thread: ordinary requests still flow. */
	for (i = 0; i < 20; i++)
		assert_int_equal(http_status(&it_server, "GET", "/v1/flags", SDK_KEY,
			NULL), 200);
	assert_int_equal(http(&it_server, "GET", "/metrics", ADMIN_TOKEN, NULL,
		NULL, &r), 0);
	/* Streams closed by earlier tests may linger until their next write
	 * fails, so at least MANY. */
	p = strstr(r.body, "\ncanary_streams_open ");
	assert_non_null(p);
	if (atol(p + strlen("\ncanary_streams_open ")) < MANY)
		fail_msg("%.40s", p);
	resp_free(&r);
	/* And a change reaches every one of them. */
	change_rollout("many", 777);
	snprintf(needle, sizeof(needle), "id: %ld\n", v + 1);
	for (i = 0; i < MANY; i++) {
		len = 0;
		if (!read_until(fds[i], buf, sizeof(buf), &len, needle))
			fail_msg("stream %d did not get version %ld", i, v + 1);
		assert_non_null(strstr(buf, "\"rollout_bp\":777"));
	}
	for (i = 0; i < MANY; i++)
		close(fds[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_delivers_change),
		cmocka_unit_test(test_last_event_id),
		cmocka_unit_test(test_thousand_streams),
	};

	return cmocka_run_group_tests(tests, it_setup, it_teardown);
}
