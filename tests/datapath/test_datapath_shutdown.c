/*
 * test_datapath_shutdown.c - canary_client_free() ends the worker while
 * the service hangs: a stalled request, an endless response, a silent
 * stream, a server that accepts nothing. The request and idle timeouts are
 * set to ten minutes, so only the shutdown path can end these requests;
 * ctest's 60 s TIMEOUT on this test is what fails a hang. (A hanging DNS
 * lookup cannot be staged without traffic off this host; libcurl's
 * threaded resolver is abandoned through CURLOPT_QUICK_EXIT.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "canary/canary.h"
#include "dp_support.h"
#include "fault_server.h"

typedef struct waiting {
	fs_server *fs;
	const char *path;
} waiting;

static bool request_arrived(void *ctx)
{
	waiting *w = ctx;

	return fs_count(w->fs, w->path) >= 1;
}

static void free_while_hanging(fs_mode flags, fs_mode stream,
	const char *path)
{
	fs_server *fs = fs_start();
	waiting w = { fs, path };
	canary_options o;
	canary_client *c;
	uint64_t t0;

	fs_set_config(fs, fs_config_json(1), 1);
	fs_set_flags_mode(fs, flags);
	fs_set_stream_mode(fs, stream);
	dp_options(&o, fs_url(fs), NULL, NULL, NULL);
	o.request_timeout_ms = 600000;
	o.connect_timeout_ms = 600000;
	o.stream_idle_timeout_ms = 600000;
	assert_int_equal(canary_client_new(&c, &o), CANARY_OK);
	assert_true(dp_wait(request_arrived, &w));
	dp_sleep_ms(50); /* well inside the hung request */
	t0 = dp_now_ms();
	canary_client_free(c);
	/* Printed for the record, not asserted (no timed assertions). */
	printf("  canary_client_free took %llu ms\n",
		(unsigned long long)(dp_now_ms() - t0));
	fs_stop(fs);
}

static void test_free_during_stalled_fetch(void **state)
{
	(void)state;
	free_while_hanging(FS_STALL, FS_NORMAL, "/v1/flags");
}

static void test_free_during_endless_fetch(void **state)
{
	(void)state;
	free_while_hanging(FS_ENDLESS, FS_NORMAL, "/v1/flags");
}

static void test_free_during_silent_stream(void **state)
{
	(void)state;
	free_while_hanging(FS_NORMAL, FS_STALL, "/v1/stream");
}

static void test_free_during_open_stream(void **state)
{
	(void)state;
	free_while_hanging(FS_NORMAL, FS_NORMAL, "/v1/stream");
}

/* A listening socket nobody accepts on: the connection sits in the
 * backlog, the request is never read. */
static void test_free_when_nothing_answers(void **state)
{
	struct sockaddr_in addr;
	socklen_t len = sizeof(addr);
	canary_options o;
	canary_client *c;
	char url[64];
	int fd;

	(void)state;
	fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	assert_int_equal(listen(fd, 1), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&addr, &len), 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", ntohs(addr.sin_port));
	dp_options(&o, url, NULL, NULL, NULL);
	o.request_timeout_ms = 600000;
	o.connect_timeout_ms = 600000;
	assert_int_equal(canary_client_new(&c, &o), CANARY_OK);
	dp_sleep_ms(100);
	assert_int_equal(canary_client_status(c), CANARY_STATUS_INITIALIZING);
	canary_client_free(c);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_free_during_stalled_fetch),
		cmocka_unit_test(test_free_during_endless_fetch),
		cmocka_unit_test(test_free_during_silent_stream),
		cmocka_unit_test(test_free_during_open_stream),
		cmocka_unit_test(test_free_when_nothing_answers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
