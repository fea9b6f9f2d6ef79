/*
 * test_hostile_dos.c - denial of service without credentials (or with
 * only the SDK key every application carries), small versions of the
 * attacks; hostile_load runs them at full size and prints the figures.
 *
 *  04a sockets that never finish their headers, more than the server's
 *      connection limit, from one address: /healthz, the admin API and
 *      SDK fetches from another address must still be answered;
 *  04b the same with open SSE streams;
 *  04c with the per-address cap lifted: sockets that trickle header lines
 *      (never idle) are closed at the header deadline;
 *  04d with the per-address cap lifted: streams leave a reserve of
 *      connections to everything else;
 *  04e the same as 04c with a long header deadline: under pressure a
 *      connection waiting for its headers gets a second;
 *  05  an endless chunked body is cut with 413 (with and without a key);
 *  06  with --quiet, clients that hang up on their streams are not logged;
 *  07  /metrics is not served to a client without a credential, nor to
 *      one that holds only an SDK key.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dp_support.h"
#include "hostile_support.h"

#define LIMIT "32"        /* --max-connections for the flood tests */
#define HOSTILE_CONNS 40  /* more than LIMIT */
#define STREAM_REQ "GET /v1/stream HTTP/1.1\r\nHost: x\r\n" \
	"Authorization: Bearer " SDK_KEY "\r\n\r\n"

/* Open `n` connections from the hostile address, each sending `req`;
 * returns how many were opened. */
static int flood(int *fds, int n, const char *req)
{
	int i, opened = 0;

	for (i = 0; i < n; i++) {
		fds[i] = raw_connect_from(&hs_server, HS_HOSTILE_ADDR);
		if (fds[i] >= 0 && hs_send(fds[i], req, strlen(req)) == 0)
			opened++;
	}
	return opened;
}

static void close_all(int *fds, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

/* /healthz, an admin GET and an SDK fetch from 127.0.0.1 are answered. */
static void assert_service_answers(const char *what, int opened)
{
	static const char *const paths[] = { "/healthz", "/v1/admin/flags",
		"/v1/flags" };
	static const char *const auths[] = { NULL, ADMIN_TOKEN, SDK_KEY };
	long st[3];

	hs_probe_many(&hs_server, 3, paths, auths, st, NULL);
	print_message("%d %s from " HS_HOSTILE_ADDR " (limit " LIMIT "): "
		"/healthz %ld, admin GET %ld, SDK fetch %ld (0 = no answer in "
		"%d ms)\n", opened, what, st[0], st[1], st[2], HS_PATIENCE_MS);
	assert_int_equal(st[0], 200);
	assert_int_equal(st[1], 200);
	assert_int_equal(st[2], 200);
}

static void test_item04a_slow_headers_starve_service(void **state)
{
	static const char *const extra[] = { "--max-connections", LIMIT, NULL };
	int fds[HOSTILE_CONNS], opened;

	(void)state;
	hs_start(extra);
	assert_service_answers("(control) hostile connections", 0);
	/* A request line and one header, and then nothing: the headers
	 * never end. */
	opened = flood(fds, HOSTILE_CONNS,
		"GET /v1/flags HTTP/1.1\r\nHost: x\r\n");
	assert_service_answers("unfinished requests", opened);
	close_all(fds, HOSTILE_CONNS);
}

static void test_item04b_streams_starve_service(void **state)
{
	static const char *const extra[] = { "--max-connections", LIMIT, NULL };
	int fds[HOSTILE_CONNS], opened;

	(void)state;
	hs_start(extra);
	assert_service_answers("(control) hostile streams", 0);
	opened = flood(fds, HOSTILE_CONNS, STREAM_REQ);
	assert_service_answers("SSE streams", opened);
	close_all(fds, HOSTILE_CONNS);
}

/* Probe until /healthz, an admin GET and an SDK fetch all answer 200,
 * calling `between` (may be NULL) between rounds; false if they never
 * did within HS_PATIENCE_MS. */
static bool service_comes_back(void (*between)(void))
{
	static const char *const paths[] = { "/healthz", "/v1/admin/flags",
		"/v1/flags" };
	static const char *const auths[] = { NULL, ADMIN_TOKEN, SDK_KEY };
	long st[3] = { 0, 0, 0 };
	int waited;

	for (waited = 0; waited < HS_PATIENCE_MS; waited += 200) {
		hs_probe_many(&hs_server, 3, paths, auths, st, NULL);
		if (st[0] == 200 && st[1] == 200 && st[2] == 200)
			return true;
		if (between)
			between();
		dp_sleep_ms(200);
	}
	print_message("after %d ms: /healthz %ld, admin GET %ld, SDK fetch "
		"%ld\n", waited, st[0], st[1], st[2]);
	return false;
}

static int trickled[HOSTILE_CONNS];

/* One more header line on every hostile socket: each is never idle. */
static void trickle(void)
{
	int i;

	for (i = 0; i < HOSTILE_CONNS; i++)
		if (trickled[i] >= 0)
			hs_send(trickled[i], "X-Slow: 1\r\n", 11);
}

/* The per-address cap lifted and --header-timeout `timeout`: headers
 * that never end, from enough sockets to fill every connection and each
 * trickling a header line more often than any idle timeout: does the
 * service answer again? */
static bool trickling_cut(const char *timeout)
{
	const char *const extra[] = { "--max-connections", LIMIT,
		"--max-connections-per-ip", LIMIT, "--header-timeout", timeout,
		NULL };
	int opened;
	bool back;

	hs_start(extra);
	opened = flood(trickled, HOSTILE_CONNS,
		"GET /v1/flags HTTP/1.1\r\nHost: x\r\n");
	back = service_comes_back(trickle);
	print_message("%d trickling unfinished requests, --header-timeout %s: "
		"the service answers again: %s\n", opened, timeout,
		back ? "yes" : "no");
	close_all(trickled, HOSTILE_CONNS);
	return back;
}

/* They are cut by the header deadline. */
static void test_item04c_header_deadline(void **state)
{
	(void)state;
	assert_true(trickling_cut("1"));
}

/* With a long header deadline: once three quarters of the connections
 * are open, one that waits for its headers gets a second. */
static void test_item04e_pressure(void **state)
{
	(void)state;
	assert_true(trickling_cut("3600"));
}

/* The per-address cap is lifted: streams may not take the connections
 * that fetches, /healthz and the admin API need. */
static void test_item04d_stream_reserve(void **state)
{
	static const char *const extra[] = { "--max-connections", LIMIT,
		"--max-connections-per-ip", LIMIT, NULL };
	int fds[HOSTILE_CONNS], opened;

	(void)state;
	hs_start(extra);
	opened = flood(fds, HOSTILE_CONNS, STREAM_REQ);
	assert_service_answers("SSE streams, no per-address cap", opened);
	close_all(fds, HOSTILE_CONNS);
}

#define UPLOAD_MAX (64u * 1024u * 1024u)

/*
 * Send `head`, then a chunked body that never ends, until the server
 * answers or UPLOAD_MAX bytes went out; returns the answer's status (0:
 * none) and the bytes sent in *sent.
 */
static int endless_upload(const char *head, size_t *sent)
{
	static char chunk[8 + 65536 + 2], answer[4096];
	size_t off = 0, len;
	int fd = raw_connect_from(&hs_server, NULL);

	assert_true(fd >= 0);
	len = (size_t)snprintf(chunk, sizeof(chunk), "10000\r\n");
	memset(chunk + len, 'a', 65536);
	memcpy(chunk + len + 65536, "\r\n", 2);
	len += 65536 + 2;
	*sent = 0;
	assert_int_equal(hs_send(fd, head, strlen(head)), 0);
	while (*sent < UPLOAD_MAX) {
		struct pollfd p = { fd, POLLIN | POLLOUT, 0 };
		ssize_t k;

		if (poll(&p, 1, HS_PATIENCE_MS) <= 0 ||
		    (p.revents & (POLLIN | POLLHUP | POLLERR)))
			break;
		k = send(fd, chunk + off, len - off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (k < 0 && errno != EAGAIN && errno != EINTR)
			break;
		if (k > 0) {
			*sent += (size_t)k;
			off = (off + (size_t)k) % len;
		}
	}
	hs_read(fd, answer, sizeof(answer), "\r\n\r\n");
	close(fd);
	return hs_raw_status(answer);
}

static void test_item05_endless_chunked_body(void **state)
{
	size_t anon_sent, sdk_sent;
	int anon, sdk;

	(void)state;
	hs_start(NULL);
	/* No credential at all: /healthz takes no body. */
	anon = endless_upload("GET /healthz HTTP/1.1\r\nHost: x\r\n"
		"Transfer-Encoding: chunked\r\n\r\n", &anon_sent);
	/* The SDK key: /v1/events takes 1 MiB at most. */
	sdk = endless_upload("POST /v1/events HTTP/1.1\r\nHost: x\r\n"
		"Authorization: Bearer " SDK_KEY "\r\n"
		"Transfer-Encoding: chunked\r\n\r\n", &sdk_sent);
	print_message("endless chunked GET /healthz: status %d after %zu KiB "
		"sent; POST /v1/events: status %d after %zu KiB (0 = no answer; "
		"the test stops at %u MiB)\n", anon, anon_sent / 1024, sdk,
		sdk_sent / 1024, UPLOAD_MAX >> 20);
	assert_int_equal(anon, 413);
	assert_int_equal(sdk, 413);
}

/* canary_streams_open from /metrics, or -1 when it cannot be read. */
static long streams_open(void)
{
	const char *p;
	long n = -1;
	resp r;

	if (http(&hs_server, "GET", "/metrics", ADMIN_TOKEN, NULL, NULL,
		    &r) == 0 && r.status == 200 &&
	    (p = strstr(r.body, "\ncanary_streams_open ")))
		n = strtol(p + 21, NULL, 10);
	resp_free(&r);
	return n;
}

static void test_item06_quiet_stream_disconnects(void **state)
{
	static const char *const extra[] = { "--quiet", NULL };
	char buf[4096];
	int fds[20], i, waited;
	long open = -1;

	(void)state;
	hs_start(extra);
	for (i = 0; i < 20; i++) {
		fds[i] = raw_connect_from(&hs_server, NULL);
		assert_true(fds[i] >= 0);
		assert_int_equal(hs_send(fds[i], STREAM_REQ,
			strlen(STREAM_REQ)), 0);
		hs_read(fds[i], buf, sizeof(buf), "retry:");
		assert_non_null(strstr(buf, "retry:"));
	}
	close_all(fds, 20);
	/* The server sees each hang-up at its next heartbeat (200 ms). */
	for (waited = 0; waited < HS_PATIENCE_MS; waited += 100) {
		open = streams_open();
		if (open <= 0)
			break;
		dp_sleep_ms(100);
	}
	if (open < 0)
		dp_sleep_ms(2000); /* no /metrics: a few heartbeats */
	print_message("20 streams closed by their clients under --quiet: "
		"%d log lines about /v1/stream, %d lines from the server\n",
		hs_log_count(&hs_server, "/v1/stream"),
		hs_log_count(&hs_server, "canary-server"));
	assert_int_equal(hs_log_count(&hs_server, "canary-server"), 0);
}

static void test_item07_metrics_need_a_credential(void **state)
{
	long anon, sdk;

	(void)state;
	hs_start(NULL);
	anon = hs_probe(&hs_server, "/metrics", NULL);
	sdk = hs_probe(&hs_server, "/metrics", SDK_KEY);
	print_message("GET /metrics on the SDK listener: no credential %ld, "
		"SDK key %ld\n", anon, sdk);
	assert_int_not_equal(anon, 200);
	assert_int_not_equal(sdk, 200);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_item04a_slow_headers_starve_service, hs_setup,
			hs_teardown),
		cmocka_unit_test_setup_teardown(
			test_item04b_streams_starve_service, hs_setup, hs_teardown),
		cmocka_unit_test_setup_teardown(test_item04c_header_deadline,
			hs_setup, hs_teardown),
		cmocka_unit_test_setup_teardown(test_item04d_stream_reserve,
			hs_setup, hs_teardown),
		cmocka_unit_test_setup_teardown(test_item04e_pressure,
			hs_setup, hs_teardown),
		cmocka_unit_test_setup_teardown(test_item05_endless_chunked_body,
			hs_setup, hs_teardown),
		cmocka_unit_test_setup_teardown(
			test_item06_quiet_stream_disconnects, hs_setup,
			hs_teardown),
		cmocka_unit_test_setup_teardown(
			test_item07_metrics_need_a_credential, hs_setup,
			hs_teardown),
	};

	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
