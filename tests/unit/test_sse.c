/*
 * test_sse.c - the Server-Sent Events parser: fields, line endings, chunk
 * boundaries anywhere, size limits, ids across events, BOM, comments.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "canary/canary.h"
#include "sse.h"

#define MAX_EVENTS 16

typedef struct got {
	int n;
	char type[MAX_EVENTS][64];
	char id[MAX_EVENTS][256];
	char data[MAX_EVENTS][512];
	size_t len[MAX_EVENTS];
	int stop_after; /* return 1 after this many events; 0 = never */
} got;

static int collect(const canary__sse_event *ev, void *ctx)
{
	got *g = ctx;

	assert_true(g->n < MAX_EVENTS);
	snprintf(g->type[g->n], sizeof(g->type[0]), "%s", ev->type);
	snprintf(g->id[g->n], sizeof(g->id[0]), "%s", ev->id);
	assert_true(ev->data_len < sizeof(g->data[0]));
	memcpy(g->data[g->n], ev->data, ev->data_len + 1);
	assert_int_equal(ev->data[ev->data_len], '\0');
	g->len[g->n] = ev->data_len;
	g->n++;
	return g->stop_after && g->n >= g->stop_after ? 1 : 0;
}

/* Feed `s` in pieces of `chunk` bytes (0 = all at once). */
static void feed(canary__sse *p, const char *s, size_t chunk, got *g)
{
	size_t len = strlen(s), off = 0;

	if (!chunk)
		chunk = len ? len : 1;
	while (off < len) {
		size_t n = len - off < chunk ? len - off : chunk;

		assert_int_equal(canary__sse_feed(p, s + off, n, collect, g), 0);
		off += n;
	}
}

static const char stream[] =
	": heartbeat\n"
	"id: 7\n"
	"data: {\"version\": 7,\n"
	"data:  \"flags\": []}\n"
	"\n"
	"event: config\r\n"
	"data:x\r\n"
	"\r\n"
	"data\r"
	"\r"
	"id: 9\n"
	"retry: 1500\n"
	"unknown: field\n"
	"data: last\n"
	"\n";

static void check_stream(const got *g, const canary__sse *p)
{
	assert_int_equal(g->n, 4);
	assert_string_equal(g->type[0], "message");
	assert_string_equal(g->id[0], "7");
	assert_string_equal(g->data[0], "{\"version\": 7,\n \"flags\": []}");
	assert_string_equal(g->type[1], "config");
	assert_string_equal(g->data[1], "x");
	assert_string_equal(g->id[1], "7"); /* the id persists */
	assert_string_equal(g->data[2], ""); /* "data" alone: one empty line */
	assert_int_equal(g->len[2], 0);
	assert_string_equal(g->id[3], "9");
	assert_string_equal(g->data[3], "last");
	assert_int_equal(p->retry_ms, 1500);
	assert_int_equal(p->comments, 1);
}

static void test_every_chunk_size(void **state)
{
	size_t chunk;

	(void)state;
	for (chunk = 0; chunk <= sizeof(stream); chunk++) {
		canary__sse p;
		got g;

		memset(&g, 0, sizeof(g));
		canary__sse_init(&p, canary__alloc_default(), 4096);
		feed(&p, stream, chunk, &g);
		check_stream(&g, &p);
		canary__sse_free(&p);
	}
}

static void test_no_data_no_event(void **state)
{
	canary__sse p;
	got g;

	(void)state;
	memset(&g, 0, sizeof(g));
	canary__sse_init(&p, canary__alloc_default(), 4096);
	feed(&p, "id: 3\n\n: only a comment\n\nevent: x\n\n", 0, &g);
	assert_int_equal(g.n, 0);
	assert_string_equal(p.id, "3");
	/* An incomplete event is not delivered. */
	feed(&p, "data: partial", 0, &g);
	assert_int_equal(g.n, 0);
	canary__sse_reset(&p);
	feed(&p, "\n", 0, &g);
	assert_int_equal(g.n, 0); /* the partial line was dropped by reset */
	feed(&p, "data: whole\n\n", 0, &g);
	assert_int_equal(g.n, 1);
	assert_string_equal(g.data[0], "whole");
	assert_string_equal(g.id[0], "3"); /* reset keeps the last id */
	canary__sse_free(&p);
}

static void test_size_limits(void **state)
{
	char big[200];
	canary__sse p;
	got g;

	(void)state;
	memset(&g, 0, sizeof(g));
	canary__sse_init(&p, canary__alloc_default(), 64);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	feed(&p, "data: ", 0, &g);
	feed(&p, big, 7, &g);
	feed(&p, "\n\ndata: ok\n\n", 0, &g);
	assert_int_equal(g.n, 1);
	assert_string_equal(g.data[0], "ok");
	assert_int_equal(p.dropped, 1);
	/* Many short lines adding up past the limit: dropped whole. */
	memset(&g, 0, sizeof(g));
	feed(&p, "data: 0123456789\ndata: 0123456789\ndata: 0123456789\n"
		"data: 0123456789\ndata: 0123456789\ndata: 0123456789\n\n", 0, &g);
	assert_int_equal(g.n, 0);
	assert_int_equal(p.dropped, 2);
	/* Exactly at the limit is fine. */
	memset(big, 'b', 64);
	big[64] = '\0';
	feed(&p, "data:", 0, &g);
	feed(&p, big, 0, &g);
	feed(&p, "\n\n", 0, &g);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.len[0], 64);
	canary__sse_free(&p);
}

static void test_bom_and_fields(void **state)
{
	canary__sse p;
	got g;

	(void)state;
	memset(&g, 0, sizeof(g));
	canary__sse_init(&p, canary__alloc_default(), 4096);
	feed(&p, "\xEF\xBB\xBF" "data: a\n\n", 1, &g);
	assert_int_equal(g.n, 1);
	assert_string_equal(g.data[0], "a");
	/* Only one leading BOM is skipped; no colon = empty value. */
	canary__sse_free(&p);
	memset(&g, 0, sizeof(g));
	canary__sse_init(&p, canary__alloc_default(), 4096);
	feed(&p, "\xEF\xBB" "x: y\ndata:  two spaces\nretry: 12a\n\n", 1, &g);
	assert_int_equal(g.n, 1);
	assert_string_equal(g.data[0], " two spaces");
	assert_int_equal(p.retry_ms, 0);
	canary__sse_free(&p);
}

static void test_callback_stops(void **state)
{
	canary__sse p;
	got g;
	const char *s = "data: 1\n\ndata: 2\n\n";

	(void)state;
	memset(&g, 0, sizeof(g));
	g.stop_after = 1;
	canary__sse_init(&p, canary__alloc_default(), 4096);
	assert_int_equal(canary__sse_feed(&p, s, strlen(s), collect, &g), 1);
	assert_int_equal(g.n, 1);
	canary__sse_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_chunk_size),
		cmocka_unit_test(test_no_data_no_event),
		cmocka_unit_test(test_size_limits),
		cmocka_unit_test(test_bom_and_fields),
		cmocka_unit_test(test_callback_stops),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
