/*
 * test_hostile_http.c - what the server makes of the request's bytes:
 *
 *  13  a flag key with '/' can be read, changed and deleted (or is refused
 *      when created); %00 in a path and a NUL in a token do not cut them
 *      short (DELETE .../prod-flag%00x must not delete prod-flag);
 *  17d two different Content-Length headers, or Content-Length with
 *      Transfer-Encoding, are refused (400), never guessed at;
 *  17e HEAD /v1/stream (and every other GET route) answers headers only;
 *  17f a request without credentials is told 401 before it learns which
 *      methods a path allows (405).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostile_support.h"

static void test_item13_slash_in_key(void **state)
{
	static const char *const path = "/v1/admin/flags/promo%2Fstats";
	long created, got, patched, deleted;
	bool listed;
	resp r;

	(void)state;
	hs_start(NULL);
	created = hs_status(&hs_server, "POST", "/v1/admin/flags",
		"{\"key\":\"promo/stats\",\"rollout_bp\":0}");
	if (created == 400) {
		print_message("a key with '/' is refused at creation\n");
		return;
	}
	assert_int_equal(created, 201);
	got = hs_status(&hs_server, "GET", path, NULL);
	patched = hs_status(&hs_server, "PATCH", path, "{\"enabled\":false}");
	deleted = hs_status(&hs_server, "DELETE", path, NULL);
	assert_int_equal(http(&hs_server, "GET", "/v1/admin/flags", ADMIN_TOKEN,
		NULL, NULL, &r), 0);
	listed = strstr(r.body, "\"promo/stats\"") != NULL;
	resp_free(&r);
	print_message("flag \"promo/stats\" created; %s: GET %ld, PATCH %ld, "
		"DELETE %ld; still listed: %s\n", path, got, patched, deleted,
		listed ? "yes" : "no");
	assert_int_equal(got, 200);
	assert_int_equal(patched, 200);
	assert_int_equal(deleted, 200);
	assert_false(listed);
}

/* GET `path` with "Authorization: Bearer <secret>\0zzz" (a NUL inside). */
static int status_with_nul_token(const char *path, const char *secret)
{
	char req[512], buf[4096];
	int n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: x\r\n"
		"Authorization: Bearer %s", path, secret);

	memcpy(req + n, "\0zzz\r\nConnection: close\r\n\r\n", 27);
	hs_raw(&hs_server, req, (size_t)n + 27, buf, sizeof(buf), NULL);
	return hs_raw_status(buf);
}

static void test_item13_nul_cuts_paths_and_tokens(void **state)
{
	long deleted, still, control;
	int admin, sdk;

	(void)state;
	hs_start(NULL);
	hs_flag_create(&hs_server, "prod-flag", 0);
	/* The same class at creation: a key with a control character. */
	control = hs_status(&hs_server, "POST", "/v1/admin/flags",
		"{\"key\":\"prod\\u001b[2J\",\"rollout_bp\":0}");
	deleted = hs_status(&hs_server, "DELETE",
		"/v1/admin/flags/prod-flag%00x", NULL);
	still = hs_status(&hs_server, "GET", "/v1/admin/flags/prod-flag", NULL);
	admin = status_with_nul_token("/v1/admin/flags", ADMIN_TOKEN);
	sdk = status_with_nul_token("/v1/flags", SDK_KEY);
	print_message("DELETE .../prod-flag%%00x: %ld, then GET prod-flag: "
		"%ld; admin token + NUL + junk: %d; SDK key + NUL + junk: %d; "
		"a key with ESC: %ld\n", deleted, still, admin, sdk, control);
	assert_true(deleted == 400 || deleted == 404);
	assert_int_equal(still, 200);
	assert_true(admin == 400 || admin == 401);
	assert_true(sdk == 400 || sdk == 401);
	assert_int_equal(control, 400);
}

/* A valid batch, as a string. */
static char *valid_batch(void)
{
	hs_batch b;

	hs_batch_begin(&b, "app");
	hs_batch_window(&b, "cl", "canary", 2, 1, 0);
	return hs_batch_end(&b);
}

static int post_framed(const char *framing, const char *body)
{
	char *req = NULL, buf[4096];
	int n = asprintf(&req, "POST /v1/events HTTP/1.1\r\nHost: x\r\n"
		"Authorization: Bearer " SDK_KEY "\r\n%sConnection: close\r\n"
		"\r\n%s", framing, body);

	assert_true(n > 0);
	hs_raw(&hs_server, req, (size_t)n, buf, sizeof(buf), NULL);
	free(req);
	return hs_raw_status(buf);
}

static void test_item17d_ambiguous_framing_refused(void **state)
{
	char framing[256], *body, *chunked = NULL;
	size_t len;
	int control, two_lengths, both;

	(void)state;
	hs_start(NULL);
	hs_flag_create(&hs_server, "cl", 0); /* config version 2 */
	body = valid_batch();
	len = strlen(body);
	snprintf(framing, sizeof(framing), "Content-Length: %zu\r\n", len);
	control = post_framed(framing, body);
	free(body);
	body = valid_batch();
	snprintf(framing, sizeof(framing), "Content-Length: %zu\r\n"
		"Content-Length: %zu\r\n", len, len + 7);
	two_lengths = post_framed(framing, body);
	free(body);
	body = valid_batch();
	assert_true(asprintf(&chunked, "%zx\r\n%s\r\n0\r\n\r\n", len, body) > 0);
	snprintf(framing, sizeof(framing), "Content-Length: %zu\r\n"
		"Transfer-Encoding: chunked\r\n", len);
	both = post_framed(framing, chunked);
	free(chunked);
	free(body);
	print_message("one Content-Length: %d; two different ones: %d; "
		"Content-Length and chunked: %d\n", control, two_lengths, both);
	assert_int_equal(control, 202);
	assert_int_equal(two_lengths, 400);
	assert_int_equal(both, 400);
}

/* The first n bytes of s with CR and LF shown as \r and \n. */
static const char *shown(const char *s, size_t n)
{
	static char out[64];
	size_t i, o = 0;

	for (i = 0; i < n && s[i] && o + 3 < sizeof(out); i++) {
		if (s[i] == '\r' || s[i] == '\n') {
			out[o++] = '\\';
			out[o++] = s[i] == '\r' ? 'r' : 'n';
		} else {
			out[o++] = s[i];
		}
	}
	out[o] = '\0';
	return out;
}

/* HEAD `path` pipelined with GET /healthz: whether the bytes after the
 * HEAD answer's headers are the next answer. */
static bool head_is_headers_only(const char *path, const char *token)
{
	char req[512], buf[8192];
	const char *end;

	snprintf(req, sizeof(req), "HEAD %s HTTP/1.1\r\nHost: x\r\n"
		"%s%s%s"
		"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
		path, token ? "Authorization: Bearer " : "", token ? token : "",
		token ? "\r\n\r\n" : "\r\n");
	hs_raw(&hs_server, req, strlen(req), buf, sizeof(buf), "\"status\"");
	end = strstr(buf, "\r\n\r\n");
	print_message("HEAD %s: %.12s...; after its headers came: \"%s\"\n",
		path, buf, end ? shown(end + 4, 16) : "(no end of headers)");
	return end && strncmp(end + 4, "HTTP/1.1 ", 9) == 0;
}

static void test_item17e_head_stream_has_no_body(void **state)
{
	static const char *const gets[][2] = {
		{ "/v1/stream", SDK_KEY }, { "/v1/flags", SDK_KEY },
		{ "/healthz", NULL }, { "/metrics", ADMIN_TOKEN },
		{ "/v1/admin/flags", ADMIN_TOKEN },
		{ "/v1/admin/whoami", ADMIN_TOKEN },
		{ "/v1/admin/rollouts", ADMIN_TOKEN },
	};
	size_t i;
	int wrong = 0;

	(void)state;
	hs_start(NULL);
	/* Pipelined: the bytes after each HEAD answer's headers must be the
	 * next answer, for every GET route (the stream's answer is the one
	 * that never ends). */
	for (i = 0; i < sizeof(gets) / sizeof(gets[0]); i++)
		wrong += !head_is_headers_only(gets[i][0], gets[i][1]);
	assert_int_equal(wrong, 0);
}

static void test_item17f_401_before_405(void **state)
{
	static const char *const probes[][2] = {
		{ "DELETE", "/v1/flags" }, { "PUT", "/v1/events" },
		{ "POST", "/v1/stream" }, { "DELETE", "/v1/admin/rollouts/x" },
		{ "POST", "/v1/admin/flags/x/stats" },
	};
	size_t i;
	int wrong = 0;

	(void)state;
	hs_start(NULL);
	for (i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
		long st;

		cJSON_Delete(hs_call(&hs_server, probes[i][0], probes[i][1], NULL,
			NULL, &st));
		if (st != 401) {
			print_message("%s %s without credentials: %ld\n",
				probes[i][0], probes[i][1], st);
			wrong++;
		}
	}
	assert_int_equal(wrong, 0);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_item13_slash_in_key,
			hs_setup, hs_teardown),
		cmocka_unit_test_setup_teardown(
			test_item13_nul_cuts_paths_and_tokens, hs_setup,
			hs_teardown),
		cmocka_unit_test_setup_teardown(
			test_item17d_ambiguous_framing_refused, hs_setup,
			hs_teardown),
		cmocka_unit_test_setup_teardown(
			test_item17e_head_stream_has_no_body, hs_setup, hs_teardown),
		cmocka_unit_test_setup_teardown(test_item17f_401_before_405,
			hs_setup, hs_teardown),
	};

	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
