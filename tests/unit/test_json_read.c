/*
 * test_json_read.c - the strict JSON readers every parser uses
 * (proto/json_read.c), their one error type (proto/parse_error.c), and the
 * small helpers of proto/: the growable buffer, little-endian codecs,
 * saturating counts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "json_read.h"
#include "le_codec.h"
#include "parse_error.h"
#include "saturate.h"
#include "../support/test_alloc.h"

/* The error as "field: message". */
static const char *text_of(const canary__perror *e)
{
	static char text[CANARY__PERR_TEXT];

	return canary__perror_format(e, text, sizeof(text));
}

static cJSON *parse_ok(canary__json_reader *r, const char *json)
{
	cJSON *root = NULL;

	assert_int_equal(canary__json_parse(r, json, strlen(json), 1000, "doc",
		&root), CANARY_OK);
	return root;
}

static void expect_parse_error(const char *json, size_t len,
	const char *want)
{
	canary__json_reader r;
	canary__perror e;
	cJSON *root = (cJSON *)1;

	canary__json_reader_init(&r, 0, &e);
	assert_int_equal(canary__json_parse(&r, json, len, 20, "doc", &root),
		CANARY_EPARSE);
	assert_null(root);
	assert_string_equal(text_of(&e), want);
}

static void test_document(void **state)
{
	(void)state;
	expect_parse_error(NULL, 0, "doc: empty document");
	expect_parse_error("{}", 0, "doc: empty document");
	expect_parse_error("{\"a\": \"0123456789abcdef\"}", 25,
		"doc: larger than 20 bytes");
	expect_parse_error("{\"a\": ", 6, "doc: malformed JSON");
	expect_parse_error("{} []", 5, "doc: trailing data after the JSON value");
	expect_parse_error("[1]", 3, "doc: must be a JSON object");
	expect_parse_error("\"s\"", 3, "doc: must be a JSON object");
	/* White space after the value is fine; only `len` bytes are read. */
	{
		canary__json_reader r;
		cJSON *root;

		canary__json_reader_init(&r, 0, NULL);
		assert_int_equal(canary__json_parse(&r, "{} \r\n\tjunk", 6, 20,
			NULL, &root), CANARY_OK);
		assert_false(r.nul_escaped);
		cJSON_Delete(root);
	}
}

/* One pass finds every member; the first of a repeat wins unless the
 * reader is strict, which also names members it does not know. */
static void test_members(void **state)
{
	static const char *const names[] = { "key", "rollout_bp", "enabled" };
	const char *json = "{\"key\": \"k\", \"enabeld\": false, \"key\": \"x\"}";
	const cJSON *m[3];
	canary__json_reader r;
	canary__perror e;
	cJSON *root;

	(void)state;
	canary__json_reader_init(&r, 0, &e);
	root = parse_ok(&r, json);
	assert_int_equal(canary__json_members(&r, root, "", names, 3, m),
		CANARY_OK);
	assert_string_equal(m[0]->valuestring, "k");
	assert_null(m[1]);
	assert_null(m[2]);
	canary__json_reader_init(&r, CANARY__JSON_KNOWN_ONLY, &e);
	assert_int_equal(canary__json_members(&r, root, "", names, 3, m),
		CANARY_EPARSE);
	assert_string_equal(e.field, "enabeld");
	assert_string_equal(e.message, "unknown field 'enabeld'");
	assert_int_equal(canary__json_members(&r, root->child->next, "v",
		names, 3, m), CANARY_EPARSE);
	assert_string_equal(text_of(&e), "v: must be an object");
	cJSON_Delete(root);
	root = parse_ok(&r, "{\"variants\": {\"stable\": \"a\", \"stable\": \"b\"}}");
	assert_int_equal(canary__json_members(&r, root->child, "variants",
		names, 0, m), CANARY_EPARSE);
	assert_string_equal(text_of(&e),
		"variants.stable: unknown field 'stable'");
	{
		static const char *const v[] = { "stable" };

		assert_int_equal(canary__json_members(&r, root->child,
			"variants", v, 1, m), CANARY_EPARSE);
		assert_string_equal(text_of(&e),
			"variants.stable: appears twice");
	}
	cJSON_Delete(root);
}

static void expect_read(int rc, const canary__perror *e, const char *want)
{
	assert_int_equal(rc, CANARY_EPARSE);
	assert_string_equal(text_of(e), want);
}

static void test_typed_reads(void **state)
{
	const char *json = "{\"s\": \"abc\", \"n\": 7, \"f\": 1.5, \"neg\": -1,"
		" \"b\": true, \"z\": null, \"a\": [\"x\", 2], \"o\": {},"
		" \"e\": \"\", \"big\": 1e400}";
	canary__json_reader r;
	canary__perror e;
	const char *s = "untouched";
	const cJSON *root, *sub;
	uint64_t u = 42;
	double d = 0;
	bool b = false;
	cJSON *doc;

	(void)state;
	canary__json_reader_init(&r, 0, &e);
	doc = parse_ok(&r, json);
	root = doc;
#define M(name) cJSON_GetObjectItemCaseSensitive(root, name)
	assert_int_equal(canary__json_string(&r, M("s"), "p", "s", 3, &s),
		CANARY_OK);
	assert_string_equal(s, "abc");
	expect_read(canary__json_string(&r, M("s"), "p", "s", 2, &s), &e,
		"p.s: longer than 2 bytes");
	expect_read(canary__json_string(&r, M("n"), "", "n", 9, &s), &e,
		"n: must be a string");
	assert_int_equal(canary__json_string(&r, M("z"), "", "z", 9, &s),
		CANARY_OK);
	assert_null(s); /* null is absent */
	assert_int_equal(canary__json_string(&r, NULL, "", "x", 9, &s),
		CANARY_OK);
	assert_null(s);
	expect_read(canary__json_name(&r, M("e"), "", "e", 9, &s), &e,
		"e: required");
	expect_read(canary__json_name(&r, NULL, "q", "x", 9, &s), &e,
		"q.x: required");

	assert_int_equal(canary__json_uint(&r, M("n"), "", "n", 7, true, &u),
		CANARY_OK);
	assert_true(u == 7);
	assert_int_equal(canary__json_uint(&r, NULL, "", "n", 7, false, &u),
		CANARY_OK);
	assert_true(u == 7); /* absent: left as it was */
	expect_read(canary__json_uint(&r, NULL, "", "n", 7, true, &u), &e,
		"n: required");
	expect_read(canary__json_uint(&r, M("n"), "", "n", 6, true, &u), &e,
		"n: must be an integer 0..6");
	expect_read(canary__json_uint(&r, M("f"), "", "f", 9, true, &u), &e,
		"f: must be an integer 0..9");
	expect_read(canary__json_uint(&r, M("neg"), "", "neg", 9, true, &u), &e,
		"neg: must be an integer 0..9");
	expect_read(canary__json_uint(&r, M("s"), "", "s", 9, true, &u), &e,
		"s: must be an integer 0..9");
	expect_read(canary__json_uint(&r, M("big"), "", "big",
		CANARY__JSON_MAX_INT, true, &u), &e,
		"big: must be an integer 0..9007199254740991");

	assert_int_equal(canary__json_bool(&r, M("b"), "", "b", &b), CANARY_OK);
	assert_true(b);
	expect_read(canary__json_bool(&r, M("n"), "", "n", &b), &e,
		"n: must be true or false");
	assert_int_equal(canary__json_number(&r, M("f"), "", "f", &d),
		CANARY_OK);
	assert_true(d == 1.5);
	expect_read(canary__json_number(&r, M("big"), "", "big", &d), &e,
		"big: must be a finite number");

	assert_int_equal(canary__json_array(&r, M("a"), "", "a", &sub),
		CANARY_OK);
	assert_non_null(sub);
	expect_read(canary__json_array(&r, M("o"), "", "o", &sub), &e,
		"o: must be an array");
	assert_int_equal(canary__json_object(&r, M("o"), "", "o", &sub),
		CANARY_OK);
	expect_read(canary__json_object(&r, M("a"), "", "a", &sub), &e,
		"a: must be an object");
	assert_int_equal(canary__json_string_at(&r, M("a")->child, "a", 0, 9,
		&s), CANARY_OK);
	expect_read(canary__json_string_at(&r, M("a")->child->next, "a", 1, 9,
		&s), &e, "a[1]: must be a string");
	expect_read(canary__json_required(&r, M("z"), "", "z"), &e,
		"z: required");
#undef M
	cJSON_Delete(doc);
}

/* \u0000 would cut a string short in cJSON: every reader refuses it; an
 * escaped backslash before "u0000" is ordinary text. */
static void test_nul_escapes(void **state)
{
	const char *json = "{\"k\": \"a\\u0000b\", \"t\": \"a\\\\u0000\","
		" \"key\\u0000x\": 1, \"l\": [\"\\u0000\"]}";
	static const char *const names[] = { "key" };
	canary__json_reader r;
	canary__perror e;
	const cJSON *m[1];
	const char *s;
	cJSON *doc;

	(void)state;
	canary__json_reader_init(&r, 0, &e);
	doc = parse_ok(&r, json);
	assert_true(r.nul_escaped);
	expect_read(canary__json_string(&r, cJSON_GetObjectItem(doc, "k"), "",
		"k", 99, &s), &e, "k: must not contain \\u0000");
	assert_int_equal(canary__json_string(&r, cJSON_GetObjectItem(doc, "t"),
		"", "t", 99, &s), CANARY_OK);
	assert_string_equal(s, "a\\u0000");
	expect_read(canary__json_string_at(&r,
		cJSON_GetObjectItem(doc, "l")->child, "l", 0, 99, &s), &e,
		"l[0]: must not contain \\u0000");
	/* "key\u0000x" is not "key". */
	assert_int_equal(canary__json_members(&r, doc, "", names, 1, m),
		CANARY_OK);
	assert_null(m[0]);
	cJSON_Delete(doc);
}

static void test_utf8_option(void **state)
{
	const char *json = "{\"ok\": \"caf\xc3\xa9\", \"bad\": \"a\xed\xa0\x80\"}";
	canary__json_reader r;
	canary__perror e;
	const char *s;
	cJSON *doc;

	(void)state;
	canary__json_reader_init(&r, 0, &e);
	doc = parse_ok(&r, json);
	assert_int_equal(canary__json_string(&r, cJSON_GetObjectItem(doc, "bad"),
		"", "bad", 99, &s), CANARY_OK);
	canary__json_reader_init(&r, CANARY__JSON_UTF8, &e);
	assert_int_equal(canary__json_string(&r, cJSON_GetObjectItem(doc, "ok"),
		"", "ok", 99, &s), CANARY_OK);
	expect_read(canary__json_string(&r, cJSON_GetObjectItem(doc, "bad"),
		"x", "bad", 99, &s), &e, "x.bad: must be UTF-8");
	expect_read(canary__json_check_string(&r, "\xff", "x", "name", 9), &e,
		"x.name: must be UTF-8");
	cJSON_Delete(doc);
}

static void test_errors_and_paths(void **state)
{
	canary__perror e;
	char path[12], text[16];

	(void)state;
	assert_int_equal(canary__perror_set(NULL, "f", "x"), CANARY_EPARSE);
	assert_int_equal(canary__perror_set(&e, NULL, "whole %d", 1),
		CANARY_EPARSE);
	assert_string_equal(text_of(&e), "whole 1");
	canary__perror_at(&e, "windows[2]", "latency_ms", "m");
	assert_string_equal(e.field, "windows[2].latency_ms");
	canary__perror_at(&e, "", "root", "m");
	assert_string_equal(e.field, "root");
	canary__perror_at(&e, "p", NULL, "m");
	assert_string_equal(e.field, "p");
	canary__perror_at_index(&e, "bins", 40, "m");
	assert_string_equal(e.field, "bins[40]");
	assert_int_equal(canary__perror_oom(&e), CANARY_ENOMEM);
	assert_string_equal(text_of(&e), "out of memory");
	canary__perror_set(&e, "field", "message");
	assert_string_equal(canary__perror_format(&e, text, sizeof(text)),
		"field: message");
	canary__perror_format(&e, text, 5);
	assert_string_equal(text, "fiel");
	/* Paths are clipped, never overrun. */
	canary__path_member(path, sizeof(path), "flags[3]", "rollout_bp");
	assert_string_equal(path, "flags[3].ro");
	canary__path_index(path, sizeof(path), "features", 123456);
	assert_string_equal(path, "features[12");
	canary__perror_clear(&e);
	assert_string_equal(text_of(&e), "");
}

static void test_buf(void **state)
{
	test_alloc t = { 0 };
	canary_allocator hooks = test_alloc_hooks(&t);
	canary__alloc a;
	canary__buf b;
	size_t len, i;
	char *text;

	(void)state;
	assert_int_equal(canary__alloc_init(&a, &hooks), CANARY_OK);
	canary__buf_init(&b, &a);
	canary__buf_puts(&b, "[");
	for (i = 0; i < 2000; i++)
		canary__buf_printf(&b, "%s%zu", i ? "," : "", i);
	canary__buf_puts(&b, "]");
	canary__buf_json_string(&b, "q\"b\\c\x01\x1f\xc3\xa9");
	text = canary__buf_take(&b, &len);
	assert_non_null(text);
	assert_int_equal(strlen(text), len);
	assert_string_equal(text + len - 23,
		"\"q\\\"b\\\\c\\u0001\\u001f\xc3\xa9\"");
	canary__free(&a, text);
	/* Nothing written: an empty string, not NULL. */
	text = canary__buf_take(&b, &len);
	assert_string_equal(text, "");
	canary__free(&a, text);
	/* Out of memory: reported once, at the end; nothing leaked. */
	t.fail_at = t.calls + 2;
	for (i = 0; i < 3000; i++)
		canary__buf_printf(&b, "%zu,", i);
	assert_true(b.failed);
	assert_null(canary__buf_take(&b, &len));
	assert_int_equal(len, 0);
	canary__buf_free(&b);
	assert_int_equal(t.live, 0);
}

static void test_small_helpers(void **state)
{
	unsigned char bytes[8];

	(void)state;
	assert_ptr_equal(canary__le_put(bytes, 0x0102030405060708ull, 8),
		bytes + 8);
	assert_int_equal(bytes[0], 0x08);
	assert_int_equal(bytes[7], 0x01);
	assert_true(canary__le_get(bytes, 8) == 0x0102030405060708ull);
	assert_true(canary__le_get(bytes, 3) == 0x060708);
	assert_true(canary__le32(bytes) == 0x05060708u);
	assert_true(canary__le64(bytes) == 0x0102030405060708ull);
	canary__le_put(bytes, 0xabcd, 2);
	assert_true(canary__le_get(bytes, 2) == 0xabcd);
	assert_true(canary__sat_add(1, 2) == 3);
	assert_true(canary__sat_add(UINT64_MAX - 1, 1) == UINT64_MAX);
	assert_true(canary__sat_add(UINT64_MAX, UINT64_MAX) == UINT64_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_document),
		cmocka_unit_test(test_members),
		cmocka_unit_test(test_typed_reads),
		cmocka_unit_test(test_nul_escapes),
		cmocka_unit_test(test_utf8_option),
		cmocka_unit_test(test_errors_and_paths),
		cmocka_unit_test(test_buf),
		cmocka_unit_test(test_small_helpers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
