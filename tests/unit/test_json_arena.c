/*
 * test_json_arena.c - JSON text into a tree in an arena
 * (proto/json_arena.c): the same tree as cJSON's for valid documents,
 * RFC 8259's grammar enforced where cJSON is lenient, every error with
 * its place, every allocation failure survived without a leak.
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

#include "json_arena.h"
#include "../support/json_same.h"
#include "../support/test_alloc.h"

static const char *text_of(const canary__perror *e)
{
	static char text[CANARY__PERR_TEXT];

	return canary__perror_format(e, text, sizeof(text));
}

/* Parsed here and by cJSON (through canary__json_parse): the same tree. */
static void expect_same(const char *json)
{
	canary__json_reader r, rc;
	canary__arena arena;
	const cJSON *mine;
	cJSON *theirs;
	canary__perror e;

	canary__arena_init(&arena, NULL);
	canary__json_reader_init(&r, 0, &e);
	canary__json_reader_init(&rc, 0, NULL);
	if (canary__json_parse_arena(&r, &arena, json, strlen(json), 100000,
	    "doc", NULL, &mine) != CANARY_OK)
		fail_msg("%s: %s", json, text_of(&e));
	assert_int_equal(canary__json_parse(&rc, json, strlen(json), 100000,
		"doc", &theirs), CANARY_OK);
	if (!json_same(mine, theirs))
		fail_msg("not the same tree as cJSON's: %s", json);
	assert_int_equal(r.nul_escaped, rc.nul_escaped);
	cJSON_Delete(theirs);
	canary__arena_free(&arena);
}

static void expect_error(const char *json, const char *want)
{
	canary__json_reader r;
	canary__arena arena;
	const cJSON *root = (const cJSON *)1;
	canary__perror e;

	canary__arena_init(&arena, NULL);
	canary__json_reader_init(&r, 0, &e);
	assert_int_equal(canary__json_parse_arena(&r, &arena, json,
		strlen(json), 1000, "doc", NULL, &root), CANARY_EPARSE);
	assert_null(root);
	if (strcmp(text_of(&e), want) != 0)
		fail_msg("%s\n  got  \"%s\"\n want \"%s\"", json, text_of(&e), want);
	canary__arena_free(&arena);
}

static void test_same_as_cjson(void **state)
{
	(void)state;
	expect_same("{}");
	expect_same(" \t\r\n{ \"a\" : [ ] , \"b\" : { } }\n");
	expect_same("{\"a\": [1, -0, 0, -1, 2.5, 1e3, 1E-3, -2.5e+2, 0.1,"
		" 9007199254740993, 123456789012345, 1234567890123456789012,"
		" 1e400, -1e400, 2147483648, -2147483649]}");
	expect_same("{\"t\": true, \"f\": false, \"n\": null, \"s\": \"\"}");
	expect_same("{\"esc\": \"\\\" \\\\ \\/ \\b \\f \\n \\r \\t\"}");
	expect_same("{\"u\": \"\\u0041\\u00e9\\u20AC\\ud83d\\ude00 caf\xc3\xa9\"}");
	expect_same("{\"k\\u00e9y\": 1, \"a\": 1, \"a\": 2}"); /* both kept */
	expect_same("{\"nul\": \"a\\u0000b\", \"\\u0000\": 0}");
	expect_same("{\"deep\": [[[{\"x\": [[], {}, [1, [2, [3]]]]}]]]}");
}

static void test_nul_escape(void **state)
{
	const char *nul = "{\"a\": \"x\\u0000y\"}";
	canary__json_reader r;
	canary__arena arena;
	const cJSON *root;

	(void)state;
	canary__arena_init(&arena, NULL);
	canary__json_reader_init(&r, 0, NULL);
	assert_int_equal(canary__json_parse_arena(&r, &arena, "{\"a\": \"x\"}",
		10, 100, NULL, NULL, &root), CANARY_OK);
	assert_false(r.nul_escaped);
	assert_int_equal(canary__json_parse_arena(&r, &arena, nul, strlen(nul),
		100, NULL, NULL, &root), CANARY_OK);
	assert_true(r.nul_escaped);
	assert_string_equal(root->child->valuestring,
		"x" CANARY__JSON_NUL_MARK "y");
	canary__arena_free(&arena);
}

static void test_malformed(void **state)
{
	(void)state;
	expect_error("", "doc: empty document");
	expect_error("{\"features\": [",
		"doc: malformed JSON: unexpected end of the text at line 1, "
		"column 15");
	expect_error("{\n  \"a\": 1,\n  \"b\" 2\n}",
		"doc: malformed JSON: expected ':' at line 3, column 7");
	expect_error("{\"a\": [1,]}",
		"doc: malformed JSON: expected a value at line 1, column 10");
	expect_error("{\"a\": 1,}",
		"doc: malformed JSON: expected a member name at line 1, column 9");
	expect_error("{\"a\": [1 2]}",
		"doc: malformed JSON: expected ',' or ']' at line 1, column 10");
	expect_error("{\"a\": 1 \"b\": 2}",
		"doc: malformed JSON: expected ',' or '}' at line 1, column 9");
	expect_error("{'a': 1}",
		"doc: malformed JSON: expected a member name at line 1, column 2");
	expect_error("{\"a\": tru}",
		"doc: malformed JSON: invalid literal at line 1, column 7");
	expect_error("{\"a\": nul}",
		"doc: malformed JSON: invalid literal at line 1, column 7");
	expect_error("{\"a\": \"x}",
		"doc: malformed JSON: unterminated string at line 1, column 7");
	expect_error("{\"a\": \"x\\q\"}",
		"doc: malformed JSON: invalid escape in a string at line 1, "
		"column 9");
	expect_error("{\"a\": \"\\u12G4\"}",
		"doc: malformed JSON: invalid \\u escape at line 1, column 8");
	expect_error("{\"a\": \"\\ud83d\"}",
		"doc: malformed JSON: unpaired surrogate in a \\u escape at line 1, "
		"column 8");
	expect_error("{\"a\": \"\\ude00\\ud83d\"}",
		"doc: malformed JSON: unpaired surrogate in a \\u escape at line 1, "
		"column 8");
	expect_error("{\"a\": \"\\ud83d\\u0041\"}",
		"doc: malformed JSON: unpaired surrogate in a \\u escape at line 1, "
		"column 8");
	/* Where cJSON is lenient. */
	expect_error("{\"a\": \"tab\there\"}",
		"doc: malformed JSON: control character in a string at line 1, "
		"column 11");
	expect_error("{\"a\": \"\xc3\x28\"}",
		"doc: malformed JSON: a string that is not UTF-8 at line 1, "
		"column 8");
	expect_error("{\"a\": \"\xed\xa0\x80\"}", /* an encoded surrogate */
		"doc: malformed JSON: a string that is not UTF-8 at line 1, "
		"column 8");
	expect_error("{\"a\": 01}",
		"doc: malformed JSON: expected ',' or '}' at line 1, column 8");
	expect_error("{\"a\": +1}",
		"doc: malformed JSON: expected a value at line 1, column 7");
	expect_error("{\"a\": 1.}",
		"doc: malformed JSON: invalid number at line 1, column 7");
	expect_error("{\"a\": .5}",
		"doc: malformed JSON: expected a value at line 1, column 7");
	expect_error("{\"a\": 1e}",
		"doc: malformed JSON: invalid number at line 1, column 7");
	expect_error("{\"a\": -}",
		"doc: malformed JSON: invalid number at line 1, column 7");
	expect_error("{\"a\": 1111111111111111111111111111111111111111111111111111"
		"111111111111}",
		"doc: malformed JSON: a number longer than 63 characters at line 1, "
		"column 7");
	expect_error("\xef\xbb\xbf{}",
		"doc: malformed JSON: expected a value at line 1, column 1");
	expect_error("{}\x0c", "doc: trailing data after the JSON value");
	expect_error("{} {}", "doc: trailing data after the JSON value");
	expect_error("[{}]", "doc: must be a JSON object");
	expect_error("42", "doc: must be a JSON object");
}

/* The root's first "features" array is checked, not built; its elements
 * are built one by one from their spans. */
static void test_lazy(void **state)
{
	const char *json = "{\"x\": {\"features\": [1]}, \"features\": null,"
		" \"features\": [ {\"name\": \"a\"} , [2, \"\\u00e9\"],\n3 ],"
		" \"features\": [4]}";
	canary__json_lazy lazy = { "features", NULL, NULL, 0 };
	const char *want[] = { "{\"name\": \"a\"}", "[2, \"\\u00e9\"]", "3" };
	canary__json_reader r;
	canary__arena arena;
	const cJSON *root, *m, *item;
	size_t i, n = 0;

	(void)state;
	canary__arena_init(&arena, NULL);
	canary__json_reader_init(&r, 0, NULL);
	assert_int_equal(canary__json_parse_arena(&r, &arena, json, strlen(json),
		1000, "doc", &lazy, &root), CANARY_OK);
	/* The nested one and the null are built; the last array too. */
	assert_int_equal(root->child->child->child->valueint, 1);
	for (m = root->child; m; m = m->next)
		n += m->string && strcmp(m->string, "features") == 0;
	assert_int_equal(n, 3);
	assert_non_null(lazy.array);
	assert_null(lazy.array->child);
	assert_ptr_equal(lazy.array, root->child->next->next);
	assert_int_equal(root->child->next->next->next->child->valueint, 4);
	assert_int_equal(lazy.count, 3);
	for (i = 0; i < 3; i++) {
		assert_int_equal(lazy.items[i].end - lazy.items[i].start,
			strlen(want[i]));
		assert_memory_equal(json + lazy.items[i].start, want[i],
			strlen(want[i]));
		assert_int_equal(canary__json_parse_span(&r, &arena, json,
			lazy.items[i], &item), CANARY_OK);
	}
	assert_string_equal(item->string ? "" : "ok", "ok");
	assert_int_equal(item->valueint, 3);
	/* An empty array: deferred, no elements. */
	assert_int_equal(canary__json_parse_arena(&r, &arena, "{\"features\":[]}",
		15, 1000, "doc", &lazy, &root), CANARY_OK);
	assert_non_null(lazy.array);
	assert_int_equal(lazy.count, 0);
	canary__arena_free(&arena);
}

/* cJSON's nesting bound: 1000 open containers, not one more. */
static void test_depth(void **state)
{
	char *json = malloc(2 * 1001 + 4);
	canary__json_reader r;
	canary__arena arena;
	const cJSON *root;
	canary__perror e;
	size_t n;

	(void)state;
	for (n = 1000; n <= 1001; n++) {
		cJSON *theirs;

		json[0] = '{';
		memcpy(json + 1, "\"a\":", 4);
		memset(json + 5, '[', n - 1);
		memset(json + 4 + n, ']', n - 1);
		json[2 * n + 3] = '}';
		canary__arena_init(&arena, NULL);
		canary__json_reader_init(&r, 0, &e);
		assert_int_equal(canary__json_parse_arena(&r, &arena, json,
			2 * n + 4, 100000, "doc", NULL, &root),
			n == 1000 ? CANARY_OK : CANARY_EPARSE);
		if (n == 1001)
			assert_non_null(strstr(text_of(&e), "nested more than 1000"));
		canary__arena_free(&arena);
		theirs = cJSON_ParseWithLength(json, 2 * n + 4);
		assert_true((theirs != NULL) == (n == 1000));
		cJSON_Delete(theirs);
	}
	free(json);
}

/* Every allocation failing in turn: ENOMEM, nothing leaked. */
static void test_allocation_failures(void **state)
{
	const char *json = "{\"features\": [{\"name\": \"a\", \"values\": ["
		"\"x\", \"y\\u00e9\"], \"n\": 1.5}]}";
	test_alloc t;
	size_t n;
	int rc = CANARY_ENOMEM;

	(void)state;
	for (n = 1; rc == CANARY_ENOMEM; n++) {
		canary_allocator a;
		canary__json_reader r;
		canary__arena arena;
		const cJSON *root;
		canary__perror e;

		memset(&t, 0, sizeof(t));
		t.fail_at = n;
		a = test_alloc_hooks(&t);
		canary__arena_init(&arena, &a);
		canary__json_reader_init(&r, 0, &e);
		rc = canary__json_parse_arena(&r, &arena, json, strlen(json),
			1000, "doc", NULL, &root);
		if (rc == CANARY_ENOMEM)
			assert_string_equal(text_of(&e), "out of memory");
		canary__arena_free(&arena);
		assert_int_equal(t.live, 0);
	}
	assert_int_equal(rc, CANARY_OK);
	assert_true(n > 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_as_cjson),
		cmocka_unit_test(test_nul_escape),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_lazy),
		cmocka_unit_test(test_depth),
		cmocka_unit_test(test_allocation_failures),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
