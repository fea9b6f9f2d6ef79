/*
 * test_constraint.c - the targeting engine of proto/: every operator's
 * edge cases beyond Unleash's specification, both compile modes, the
 * error paths, segments, and no allocation while evaluating.
 */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <cjson/cJSON.h>

#include "cidr.h"
#include "datetime.h"
#include "decimal.h"
#include "rules.h"
#include "semver.h"
#include "../support/test_alloc.h"

/* ---- fixture: compile {"constraints": [...], "segments": [...]} --------- */

static test_alloc counts;

typedef struct fixture {
	canary__arena arena;
	canary__segments segs;
	canary__rules rules;
	canary__rule_build b;
	canary__perror e;
	char err[CANARY__PERR_TEXT];  /* e as "field: message" */
	int rc;
} fixture;

static fixture *compile_with(const char *rules_json, const char *segs_json,
	bool lenient, unsigned reader_opts);

/* `rules_json` is the rule object; `segs_json` a segment array or NULL. */
static fixture *compile(const char *rules_json, const char *segs_json,
	bool lenient)
{
	return compile_with(rules_json, segs_json, lenient, 0);
}

/* The same, read with CANARY__JSON_* `reader_opts` (the admin API's
 * CANARY__JSON_KNOWN_ONLY). */
static fixture *compile_with(const char *rules_json, const char *segs_json,
	bool lenient, unsigned reader_opts)
{
	fixture *f = calloc(1, sizeof(*f));
	cJSON *rules = cJSON_Parse(rules_json);
	cJSON *segs = segs_json ? cJSON_Parse(segs_json) : NULL;

	canary_allocator hooks = test_alloc_hooks(&counts);

	assert_non_null(f);
	if (!rules || (segs_json && !segs))
		fail_msg("test JSON does not parse: %s", rules_json);
	canary__arena_init(&f->arena, &hooks);
	canary__rule_build_init(&f->b, &f->arena, lenient, &f->e);
	f->b.rd.opts = reader_opts;
	f->rc = canary__segments_compile(&f->b, segs, "segments", &f->segs);
	if (f->rc == CANARY_OK)
		f->rc = canary__rules_compile(&f->b, rules, "rule", &f->segs,
			&f->rules);
	canary__perror_format(&f->e, f->err, sizeof(f->err));
	cJSON_Delete(rules);
	cJSON_Delete(segs);
	return f;
}

static void release(fixture *f)
{
	canary__arena_free(&f->arena);
	free(f);
}

/* After each test: the arenas gave back every block they took. */
static int no_leak(void **state)
{
	(void)state;
	assert_int_equal(counts.live, 0);
	return 0;
}

/* One constraint, strict; `value_json` is e.g. "\"value\": \"1.2.3\"". */
static fixture *one(const char *field, const char *op, const char *extra)
{
	char json[8192];
	fixture *f;

	snprintf(json, sizeof(json), "{\"constraints\": [{\"contextName\": \"%s\","
		" \"operator\": \"%s\"%s%s}]}", field, op, *extra ? ", " : "", extra);
	f = compile(json, NULL, false);
	if (f->rc != CANARY_OK)
		fail_msg("%s: %s", json, f->err);
	return f;
}

static bool with_attr(const fixture *f, const char *name, const char *value)
{
	canary__attr a = { name, value };
	canary__context ctx;

	memset(&ctx, 0, sizeof(ctx));
	ctx.attrs = &a;
	ctx.attr_count = 1;
	return canary__rules_match(&f->rules, &ctx);
}

static bool with_nothing(const fixture *f)
{
	canary__context ctx;

	memset(&ctx, 0, sizeof(ctx));
	return canary__rules_match(&f->rules, &ctx);
}

/* ---- semantic versions ------------------------------------------------- */

static int semver_cmp(const char *a, const char *b)
{
	canary__semver x, y;

	if (!canary__semver_parse(a, strlen(a), &x) ||
	    !canary__semver_parse(b, strlen(b), &y))
		fail_msg("not a version: %s or %s", a, b);
	return canary__semver_cmp(&x, &y);
}

static void test_semver_precedence(void **state)
{
	/* semver.org's own example chain, in increasing order. */
	static const char *const chain[] = {
		"1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta",
		"1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.0.1",
		"1.1.0", "2.0.0", "10.0.0", "99999999999999999999999.0.0"
	};
	size_t i, j, n = sizeof(chain) / sizeof(chain[0]);

	(void)state;
	for (i = 0; i < n; i++)
		for (j = 0; j < n; j++) {
			int c = semver_cmp(chain[i], chain[j]);

			if ((i < j && c >= 0) || (i == j && c != 0) || (i > j && c <= 0))
				fail_msg("%s vs %s gave %d", chain[i], chain[j], c);
		}
	/* Build metadata does not count; numeric identifiers sort first. */
	assert_int_equal(semver_cmp("1.2.3+build.1", "1.2.3+other"), 0);
	assert_int_equal(semver_cmp("1.2.3-rc.1+b", "1.2.3-rc.1"), 0);
	assert_true(semver_cmp("1.0.0-1", "1.0.0-a") < 0);
	assert_true(semver_cmp("1.0.0-a-b", "1.0.0-a") > 0);
	assert_true(semver_cmp("1.0.0-A", "1.0.0-a") < 0);   /* ASCII order */
}

static void test_semver_grammar(void **state)
{
	static const char *const bad[] = {
		"", "1", "1.2", "1.2.3.4", "v1.2.3", "=1.2.3", " 1.2.3", "1.2.3 ",
		"01.2.3", "1.02.3", "1.2.03", "1.2.3-", "1.2.3-01", "1.2.3-a..b",
		"1.2.3+", "1.2.3+a..b", "1.2.3-a+", "1.2.3-@", "-1.2.3", "1.2.x",
		"1.2.3\n"
	};
	static const char *const good[] = {
		"0.0.0", "1.2.3-0", "1.2.3-0a", "1.2.3-a.0.b", "1.2.3+001",
		"1.2.3-x-y-z.--", "1.2.3+exp.sha.5114f85"
	};
	canary__semver v;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (canary__semver_parse(bad[i], strlen(bad[i]), &v))
			fail_msg("accepted \"%s\"", bad[i]);
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (!canary__semver_parse(good[i], strlen(good[i]), &v))
			fail_msg("rejected \"%s\"", good[i]);
	/* A NUL inside the given length is not part of any identifier (the
	 * constraint's scan of a C string stops there; a length-bounded parse
	 * must not accept it either). */
	assert_false(canary__semver_parse("1.2.3-a\0b", 9, &v));
	assert_false(canary__semver_parse("1.2.3+b\0c", 9, &v));
	assert_false(canary__semver_parse("1.2.3\0", 6, &v));
	assert_false(canary__semver_parse("1.2.3-a\0", 8, &v));
}

static void test_semver_operators(void **state)
{
	fixture *gte = one("firmware", "SEMVER_GTE", "\"value\": \"2.3.0\"");
	fixture *lt = one("firmware", "SEMVER_LT", "\"value\": \"2.3.0-rc.1\"");
	fixture *eq = one("firmware", "SEMVER_EQ", "\"value\": \"2.3.0+a\"");

	(void)state;
	assert_true(with_attr(gte, "firmware", "2.3.0"));
	assert_true(with_attr(gte, "firmware", "2.10.0"));
	assert_false(with_attr(gte, "firmware", "2.3.0-rc.9"));
	assert_false(with_attr(gte, "firmware", "v2.3.0"));  /* not a version */
	assert_true(with_attr(lt, "firmware", "2.3.0-beta.7"));
	assert_false(with_attr(lt, "firmware", "2.3.0-rc.1"));
	assert_true(with_attr(eq, "firmware", "2.3.0+b"));
	assert_false(with_nothing(eq));
	release(gte);
	release(lt);
	release(eq);
}

/* The constraint's fast comparison (canary__semver_order: integers
 * read while scanning) must say what the full parse and precedence say,
 * on the same texts: every grammar edge, numbers at and past 18 digits,
 * pre-releases and build metadata on either side. */
static void test_semver_text_equals_parse(void **state)
{
	static const char *const texts[] = {
		"", "0", "1", "1.2", "1.2.", "1..3", ".1.2", "1.2.3", "0.0.0",
		"1.2.0", "1.2.4", "1.3.0", "2.0.0", "0.9.9", "01.2.3", "1.02.3",
		"1.2.03", "1.2.00", "00.0.0", "1.2.3.4", "1.2.3-", "1.2.3+",
		"1.2.3-rc.1", "1.2.3-rc.2", "1.2.3-rc.01", "1.2.3-0", "1.2.3-00",
		"1.2.3-rc..1", "1.2.3+b..1", "1.2.3-rc.1+b.7", "1.2.3+b-7.x",
		"1.2.3-rc.1+", "1.2.3-+b", "1.2.3 ", " 1.2.3", "v1.2.3", "1.2.3x",
		"1.2.3-r@c", "1.2.-3", "1.2.3\xff", "1.2.3-\xc3\xa4", "1.2.3-1",
		"1.2.3-a-b", "1.2.3-A", "1.2.3-alpha", "1.2.3-alpha.beta",
		"1.2.3-beta.11", "1.2.3-beta.2", "1.2.3+build", "2.3.0", "2.10.0",
		"10.0.0", "1.0.0-0",
		"999999999999999999.0.0",          /* 18 digits: integers */
		"1000000000000000000.0.0",         /* 19: digit strings */
		"99999999999999999999999.0.0",
		"18446744073709551616.0.0",        /* 2^64: no wrap-around */
		"0.0.18446744073709551617",
		"1.999999999999999999.1-rc.1",
		"1.2.0123456789012345678901",
	};
	static const char *const keys[] = {
		"1.2.3", "1.2.3-rc.1", "1.2.3-alpha.beta", "1.2.3+build", "0.0.0",
		"2.3.0", "1.2.3-1", "1.0.0-0", "999999999999999999.0.0",
		"99999999999999999999999.0.0", "18446744073709551616.0.0",
		"0.0.18446744073709551617", "1.999999999999999999.1-rc.1",
	};
	size_t i, j;

	(void)state;
	for (j = 0; j < sizeof(keys) / sizeof(keys[0]); j++) {
		canary__semver_key k;

		if (!canary__semver_key_init(&k, keys[j], strlen(keys[j])))
			fail_msg("key \"%s\" rejected", keys[j]);
		for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
			canary__semver t;
			bool valid = canary__semver_parse(texts[i], strlen(texts[i]), &t);
			int want = valid ? canary__semver_cmp(&t, &k.v) : 0;
			int order = canary__semver_order(texts[i], &k);
			bool ok = order != CANARY__SEMVER_NONE;
			int got = order - 1;

			if (ok != valid || (valid && got != (want > 0) - (want < 0)))
				fail_msg("\"%s\" vs \"%s\": %s %d, the parse: %s %d",
					texts[i], keys[j], ok ? "version" : "not one", got,
					valid ? "version" : "not one", want);
		}
	}
	assert_false(canary__semver_key_init(&(canary__semver_key){ 0 }, "1.2", 3));
}

/* ---- dates --------------------------------------------------------------- */

static int64_t ms(const char *s)
{
	int64_t t;

	if (!canary__datetime_parse(s, strlen(s), &t))
		fail_msg("not a date: %s", s);
	return t;
}

static void test_dates(void **state)
{
	static const char *const bad[] = {
		"", "2022", "2022-1-01", "2022-13-01", "2022-00-10", "2022-02-29",
		"2021-04-31", "2022-01-01T24:00:00Z", "2022-01-01T12:60:00Z",
		"2022-01-01T12:00:60Z", "2022-01-01T12:00:00.Z", "2022-01-01T12Z",
		"2022-01-01X12:00:00Z", "2022-01-01T12:00:00+2", "2022-01-01T12:00:00+24:00",
		"2022-01-01T12:00:00Zjunk", "yesterday"
	};
	int64_t t;
	size_t i;

	(void)state;
	assert_int_equal(ms("1970-01-01T00:00:00Z"), 0);
	assert_int_equal(ms("1970-01-01"), 0);
	assert_int_equal(ms("2000-02-29T00:00:00.001Z"), 951782400001LL);
	assert_int_equal(ms("2022-01-22T13:00:00.000+02:00"),
		ms("2022-01-22T11:00:00Z"));
	assert_int_equal(ms("2022-01-22T13:00:00-0530"), ms("2022-01-22T18:30:00Z"));
	assert_int_equal(ms("2022-01-22t13:00:00z"), ms("2022-01-22T13:00:00Z"));
	assert_int_equal(ms("2022-01-22 13:00"), ms("2022-01-22T13:00:00Z"));
	assert_int_equal(ms("2022-01-22T13:00:00.123456789Z"),
		ms("2022-01-22T13:00:00.123Z"));     /* truncated to ms */
	assert_int_equal(ms("2022-01-22T13:00:00"), ms("2022-01-22T13:00:00Z"));
	assert_true(ms("1969-12-31T23:59:59Z") < 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (canary__datetime_parse(bad[i], strlen(bad[i]), &t))
			fail_msg("accepted \"%s\"", bad[i]);
}

static void test_date_operators(void **state)
{
	fixture *after = one("currentTime", "DATE_AFTER",
		"\"value\": \"2022-01-22T13:00:00+02:00\"");
	fixture *before = one("currentTime", "DATE_BEFORE",
		"\"value\": \"2999-01-01T00:00:00Z\"");
	fixture *field = one("installedAt", "DATE_BEFORE",
		"\"value\": \"2022-01-01\"");
	canary__context ctx;

	(void)state;
	memset(&ctx, 0, sizeof(ctx));
	ctx.current_time = "2022-01-22T11:00:00.001Z";
	assert_true(canary__rules_match(&after->rules, &ctx));
	ctx.current_time = "2022-01-22T11:00:00Z";      /* exclusive */
	assert_false(canary__rules_match(&after->rules, &ctx));
	ctx.current_time = "not a date";
	assert_false(canary__rules_match(&after->rules, &ctx));
	/* No currentTime: the clock (it is after 2022 and before 2999). */
	assert_true(with_nothing(after));
	assert_true(with_nothing(before));
	/* Another field has no clock default: absent is false. */
	assert_false(with_nothing(field));
	assert_true(with_attr(field, "installedAt", "2021-12-31T23:59:59Z"));
	release(after);
	release(before);
	release(field);
}

/* ---- numbers -------------------------------------------------------------- */

static int num_cmp(const char *a, const char *b)
{
	canary__decimal x, y;

	if (!canary__decimal_parse(a, strlen(a), &x) ||
	    !canary__decimal_parse(b, strlen(b), &y))
		fail_msg("not a number: \"%s\" or \"%s\"", a, b);
	return canary__decimal_cmp(&x, &y);
}

static void test_numbers(void **state)
{
	static const char *const bad[] = {
		"", "   ", "-", "+", ".", "e3", "1e", "1e+", "0x10", "inf", "NaN",
		"1,5", "1.2.3", "--1", "1 2", "12abc"
	};
	canary__decimal d;
	size_t i;

	(void)state;
	assert_int_equal(num_cmp("1e3", "1000"), 0);
	assert_int_equal(num_cmp("-0", "0"), 0);
	assert_int_equal(num_cmp("-0.000", "+0e5"), 0);
	assert_int_equal(num_cmp(" 5", "5"), 0);
	assert_int_equal(num_cmp("5\t\n", "5.0"), 0);
	assert_int_equal(num_cmp("12", "12.0"), 0);
	assert_int_equal(num_cmp("0012.50", "12.5"), 0);
	assert_int_equal(num_cmp(".5", "0.5"), 0);
	assert_int_equal(num_cmp("5.", "5"), 0);
	assert_int_equal(num_cmp("1.2E1", "12"), 0);
	assert_true(num_cmp("1e-3", "0.01") < 0);
	assert_true(num_cmp("-1", "0") < 0);
	assert_true(num_cmp("-2", "-1") < 0);
	assert_true(num_cmp("-1.5", "-1.25") < 0);
	assert_true(num_cmp("0.1", "0.09999999999999999999") > 0);
	assert_true(num_cmp("9007199254740993", "9007199254740992") > 0);
	assert_true(num_cmp("1e999999999999", "1e99") > 0);   /* clamped, ordered */
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (canary__decimal_parse(bad[i], strlen(bad[i]), &d))
			fail_msg("accepted \"%s\"", bad[i]);
}

static void test_number_operators(void **state)
{
	fixture *gt = one("n", "NUM_GT", "\"value\": \"1e3\"");
	fixture *eq = one("n", "NUM_EQ", "\"value\": \"0\"");
	fixture *inv = one("n", "NUM_EQ", "\"value\": \"5\", \"inverted\": true");

	(void)state;
	assert_true(with_attr(gt, "n", "1000.5"));
	assert_false(with_attr(gt, "n", "1000"));
	assert_false(with_attr(gt, "n", "abc"));
	assert_true(with_attr(eq, "n", "-0"));
	/* "" is absent, not zero (JavaScript's Number("") would say 0). */
	assert_false(with_attr(eq, "n", ""));
	assert_false(with_attr(eq, "n", " "));     /* present, not a number */
	/* inverted: not a number and absent both give true. */
	assert_true(with_attr(inv, "n", "x"));
	assert_true(with_nothing(inv));
	assert_false(with_attr(inv, "n", " 5 "));
	release(gt);
	release(eq);
	release(inv);
}

/* ---- CIDR ----------------------------------------------------------------- */

static bool contains(const char *net, const char *ip)
{
	canary__cidr c;
	canary__ipaddr a;

	if (!canary__cidr_parse(net, strlen(net), &c))
		fail_msg("not a network: %s", net);
	if (!canary__ipaddr_parse(ip, strlen(ip), &a))
		fail_msg("not an address: %s", ip);
	return canary__cidr_contains(&c, &a);
}

static void test_cidr(void **state)
{
	static const char *const bad[] = {
		"", "1.2.3", "1.2.3.4.5", "256.0.0.1", "010.0.0.1", "1.2.3.4/33",
		"1.2.3.4/", "1.2.3.4/-1", "1.2.3.4/08", "::1/129", ":::", "1::2::3",
		"1:2:3:4:5:6:7:8:9", "12345::", "fe80::1%eth0", "[::1]", "1:", ":1",
		"::ffff:1.2.3", "g::1", "1.2.3.4 "
	};
	canary__cidr c;
	size_t i;

	(void)state;
	/* /0 of each family. */
	assert_true(contains("0.0.0.0/0", "255.255.255.255"));
	assert_false(contains("0.0.0.0/0", "2001:db8::1"));
	assert_true(contains("::/0", "2001:db8::1"));
	assert_true(contains("::/0", "10.0.0.1"));      /* IPv4 is mapped */
	/* /32 and /128 are one host. */
	assert_true(contains("192.0.2.7/32", "192.0.2.7"));
	assert_false(contains("192.0.2.7/32", "192.0.2.8"));
	assert_true(contains("2001:db8::1/128", "2001:db8:0:0:0:0:0:1"));
	assert_false(contains("2001:db8::1/128", "2001:db8::2"));
	/* Odd prefixes, host bits in the network, mapped addresses. */
	assert_true(contains("10.1.2.3/8", "10.200.0.1"));
	assert_true(contains("172.16.0.0/12", "172.31.255.255"));
	assert_false(contains("172.16.0.0/12", "172.32.0.0"));
	assert_true(contains("10.0.0.0/8", "::ffff:10.1.2.3"));
	assert_true(contains("2001:db8::/31", "2001:db9::1"));
	assert_false(contains("2001:db8::/32", "2001:db9::1"));
	assert_true(contains("::ffff:0:0/96", "192.0.2.1"));
	assert_true(contains("1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:102:304"));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (canary__cidr_parse(bad[i], strlen(bad[i]), &c))
			fail_msg("accepted \"%s\"", bad[i]);
}

static void test_cidr_operator(void **state)
{
	fixture *f = one("remoteAddress", "IN_CIDR",
		"\"values\": [\"10.0.0.0/8\", \"2001:db8::/32\"]");
	fixture *bad;
	canary__context ctx;

	(void)state;
	memset(&ctx, 0, sizeof(ctx));
	ctx.remote_address = "10.9.8.7";
	assert_true(canary__rules_match(&f->rules, &ctx));
	ctx.remote_address = "2001:db8:1::";
	assert_true(canary__rules_match(&f->rules, &ctx));
	ctx.remote_address = "not an address";
	assert_false(canary__rules_match(&f->rules, &ctx));
	release(f);
	/* Strict mode names the bad entry; lenient keeps the good ones. */
	bad = compile("{\"constraints\": [{\"contextName\": \"remoteAddress\","
		" \"operator\": \"IN_CIDR\", \"values\": [\"10.0.0.0/8\", \"10.0.0/8\"]}]}",
		NULL, false);
	assert_int_equal(bad->rc, CANARY_EPARSE);
	assert_string_equal(bad->err, "rule.constraints[0].values[1]: not an IP "
		"address or CIDR network");
	release(bad);
}

/* ---- strings, lists, case ------------------------------------------------- */

static void test_case_insensitive_in(void **state)
{
	fixture *in = one("region", "IN",
		"\"values\": [\"EU-West\", \"us-east\"], \"caseInsensitive\": true");
	fixture *not_in = one("region", "NOT_IN",
		"\"values\": [\"EU-West\"], \"caseInsensitive\": true");
	fixture *exact = one("region", "IN", "\"values\": [\"EU-West\"]");

	(void)state;
	assert_true(with_attr(in, "region", "eu-west"));
	assert_true(with_attr(in, "region", "US-EAST"));
	assert_false(with_attr(in, "region", "eu-west-1"));
	assert_false(with_attr(not_in, "region", "EU-WEST"));
	assert_true(with_attr(not_in, "region", "ap-south"));
	assert_true(with_nothing(not_in));
	assert_false(with_attr(exact, "region", "eu-west"));
	/* Non-ASCII letters are compared exactly (no Unicode folding). */
	release(in);
	in = one("city", "IN", "\"values\": [\"\xC3\x84rhus\"], \"caseInsensitive\": true");
	assert_true(with_attr(in, "city", "\xC3\x84RHUS"));
	assert_false(with_attr(in, "city", "\xC3\xA4rhus"));
	release(in);
	release(not_in);
	release(exact);
}

static void test_string_operators(void **state)
{
	fixture *sw = one("model", "STR_STARTS_WITH", "\"values\": [\"rev-B\", \"\"]");
	fixture *ew = one("model", "STR_ENDS_WITH",
		"\"values\": [\"-EU\"], \"caseInsensitive\": true");
	fixture *co = one("model", "STR_CONTAINS", "\"values\": []");

	(void)state;
	assert_true(with_attr(sw, "model", "rev-B2"));
	assert_true(with_attr(sw, "model", "anything"));   /* "" prefixes all */
	assert_true(with_attr(ew, "model", "gw-eu"));
	assert_false(with_attr(ew, "model", "eu-gw"));
	assert_false(with_attr(co, "model", "x"));         /* no values: false */
	release(sw);
	release(ew);
	release(co);
}

/* Does hay contain needle, byte by byte (ASCII-folded with caseless)? */
static bool naive_contains(const char *hay, const char *needle, bool caseless)
{
	size_t h = strlen(hay), n = strlen(needle), at, i;

	for (at = 0; at + n <= h; at++) {
		for (i = 0; i < n; i++) {
			char a = hay[at + i], b = needle[i];

			if (caseless && a >= 'A' && a <= 'Z')
				a = (char)(a - 'A' + 'a');
			if (caseless && b >= 'A' && b <= 'Z')
				b = (char)(b - 'A' + 'a');
			if (a != b)
				break;
		}
		if (i == n)
			return true;
	}
	return false;
}

/* STR_CONTAINS searches with a border table (each subject byte read
 * once): it must find exactly what a byte-by-byte search finds, for
 * needles that overlap themselves ("abab", "aab", "aaaa") in subjects of
 * few letters, with and without caseInsensitive. */
static void test_contains_equals_naive(void **state)
{
	static const char *const needles[] = { "a", "ab", "aab", "abab",
		"aaaa", "abaab", "babba", "AbA" };
	char json[128], hay[24];
	unsigned seed = 12345;
	size_t n, t, i, len;
	int fold;

	(void)state;
	for (n = 0; n < sizeof(needles) / sizeof(needles[0]); n++)
		for (fold = 0; fold < 2; fold++) {
			fixture *f;

			snprintf(json, sizeof(json), "\"values\": [\"%s\"]%s",
				needles[n], fold ? ", \"caseInsensitive\": true" : "");
			f = one("model", "STR_CONTAINS", json);
			for (t = 0; t < 2000; t++) {
				seed = seed * 1103515245u + 12345u;
				len = 1 + (seed >> 16) % (sizeof(hay) - 1);
				for (i = 0; i < len; i++) {
					seed = seed * 1103515245u + 12345u;
					hay[i] = "abAB"[(seed >> 16) % (fold ? 4 : 2)];
				}
				hay[len] = '\0';
				if (with_attr(f, "model", hay) !=
				    naive_contains(hay, needles[n], fold))
					fail_msg("\"%s\" in \"%s\"%s: %d", needles[n], hay,
						fold ? " (caseless)" : "",
						with_attr(f, "model", hay));
			}
			release(f);
		}
}

/* IN and STR_STARTS_WITH compare a word at a time: a value that differs
 * from a listed one in any single byte, or in its length, must not match,
 * at every length around the word size. */
static void test_in_and_prefix_every_byte(void **state)
{
	static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123";
	char json[4096], value[32];
	size_t at = 0, n, j;
	fixture *in, *not_in, *caseless, *prefix;

	(void)state;
	at += (size_t)snprintf(json + at, sizeof(json) - at, "\"values\": [");
	for (n = 1; n <= 24; n++)
		at += (size_t)snprintf(json + at, sizeof(json) - at, "%s\"%.*s\"",
			n > 1 ? ", " : "", (int)n, alphabet);
	snprintf(json + at, sizeof(json) - at, "]");
	in = one("k", "IN", json);
	not_in = one("k", "NOT_IN", json);
	prefix = one("k", "STR_STARTS_WITH", "\"values\": [\"abcdefghij\", \"xy\"]");
	snprintf(json + at, sizeof(json) - at, "], \"caseInsensitive\": true");
	caseless = one("k", "IN", json);
	for (n = 1; n <= 25; n++) {
		memcpy(value, alphabet, n);
		value[n] = '\0';
		if (with_attr(in, "k", value) != (n <= 24) ||
		    with_attr(not_in, "k", value) != (n > 24))
			fail_msg("IN / NOT_IN \"%s\"", value);
		if (with_attr(prefix, "k", value) != (n >= 10))
			fail_msg("STR_STARTS_WITH \"%s\"", value);
		value[n - 1] = (char)(value[n - 1] - 'a' + 'A');
		if (n <= 24 && isalpha((unsigned char)alphabet[n - 1]) &&
		    (with_attr(in, "k", value) || !with_attr(caseless, "k", value)))
			fail_msg("IN, case of \"%s\"", value);
		value[n - 1] = alphabet[n - 1];
		for (j = 0; j < n; j++) {
			value[j] = '#';
			if (with_attr(in, "k", value) || !with_attr(not_in, "k", value) ||
			    with_attr(caseless, "k", value))
				fail_msg("IN matched \"%s\"", value);
			if (with_attr(prefix, "k", value) != (n >= 10 && j >= 10))
				fail_msg("STR_STARTS_WITH \"%s\"", value);
			value[j] = alphabet[j];
		}
	}
	assert_true(with_attr(prefix, "k", "xy"));
	assert_false(with_attr(prefix, "k", "x"));
	assert_false(with_attr(prefix, "k", "xY"));
	release(in);
	release(not_in);
	release(caseless);
	release(prefix);
}

static void test_inverted_missing(void **state)
{
	static const char *const ops[][2] = {
		{ "IN", "\"values\": [\"a\"]" },
		{ "STR_CONTAINS", "\"values\": [\"a\"]" },
		{ "NUM_GT", "\"value\": \"1\"" },
		{ "SEMVER_EQ", "\"value\": \"1.0.0\"" },
		{ "DATE_AFTER", "\"value\": \"2020-01-01\"" },
		{ "REGEX", "\"value\": \"a\"" },
		{ "IN_CIDR", "\"values\": [\"10.0.0.0/8\"]" },
	};
	char extra[128];
	size_t i;

	(void)state;
	/* Absent field: the operator is false, so inverted it is true... */
	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		fixture *plain = one("missing", ops[i][0], ops[i][1]);
		fixture *inv;

		snprintf(extra, sizeof(extra), "%s, \"inverted\": true", ops[i][1]);
		inv = one("missing", ops[i][0], extra);
		if (with_nothing(plain) || !with_nothing(inv))
			fail_msg("%s on a missing field", ops[i][0]);
		release(plain);
		release(inv);
	}
	/* ...except NOT_IN, true when absent and false inverted. */
	{
		fixture *f = one("missing", "NOT_IN",
			"\"values\": [\"a\"], \"inverted\": true");

		assert_false(with_nothing(f));
		release(f);
	}
}

/* ---- regex ---------------------------------------------------------------- */

static void test_regex(void **state)
{
	fixture *f = one("user", "REGEX", "\"value\": \"^(a+)+$\"");
	fixture *ci = one("user", "REGEX",
		"\"value\": \"^rev-[a-c]\\\\d$\", \"caseInsensitive\": true");
	fixture *dollar = one("user", "REGEX", "\"value\": \"^abc$\"");
	char subject[64];

	(void)state;
	/* Catastrophic backtracking is cut off by the match limit: the call
	 * returns (no match) instead of running for minutes. */
	memset(subject, 'a', 40);
	subject[40] = 'b';
	subject[41] = '\0';
	assert_false(with_attr(f, "user", subject));
	assert_true(with_attr(f, "user", "aaaa"));
	assert_true(with_attr(ci, "user", "REV-B7"));
	assert_false(with_attr(ci, "user", "rev-d7"));
	/* RE2's '$': no match before a trailing newline. */
	assert_false(with_attr(dollar, "user", "abc\n"));
	/* Invalid UTF-8 in the subject is no error. */
	assert_false(with_attr(dollar, "user", "ab\xFF"));
	release(f);
	release(ci);
	release(dollar);
}

static void expect_regex_error(const char *pattern, const char *why)
{
	char json[512];
	fixture *f;

	snprintf(json, sizeof(json), "{\"constraints\": [{\"contextName\": \"u\","
		" \"operator\": \"REGEX\", \"value\": \"%s\"}]}", pattern);
	f = compile(json, NULL, false);
	assert_int_equal(f->rc, CANARY_EPARSE);
	if (!strstr(f->err, why) || strncmp(f->err,
	    "rule.constraints[0].value: bad regular expression: ", 51) != 0)
		fail_msg("%s: got \"%s\"", pattern, f->err);
	release(f);
}

static void test_regex_rejects_non_re2(void **state)
{
	(void)state;
	expect_regex_error("(abc", "missing closing parenthesis");
	expect_regex_error("^(?=a)b", "lookahead");
	expect_regex_error("(?<!a)b", "lookbehind");
	expect_regex_error("(a)\\\\1", "backreferences");
	expect_regex_error("(?<n>a)\\\\k<n>", "backreferences");
	expect_regex_error("(?>a+)b", "atomic");
	expect_regex_error("a++", "possessive");
	expect_regex_error("(*SKIP)a", "verbs");
	expect_regex_error("(?R)", "not supported");
	expect_regex_error("\\\\C", "not supported");
}

/*
 * Escapes PCRE2 gives a meaning and RE2 refuses: an admin's write (a
 * reader refusing unknown members) is refused naming the escape, an
 * Unleash document's constraint never matches, and our own config read
 * by the SDK still loads (a pattern stored before must not make clients
 * refuse the whole config).
 */
static void test_regex_re2_escapes(void **state)
{
	static const struct {
		const char *pattern, *why;
	} cases[] = {
		{ "a\\\\Z", "\\Z is not supported" },
		{ "a\\\\Kb", "\\K is not supported" },
		{ "\\\\Ga", "\\G is not supported" },
		{ "\\\\R", "\\R is not supported" },
		{ "\\\\X", "\\X is not supported" },
		{ "\\\\N", "\\N is not supported" },
		{ "\\\\cA", "control escapes" },
		{ "a\\\\hb", "\\V are not supported" },
	};
	char json[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fixture *f;

		snprintf(json, sizeof(json), "{\"constraints\": [{\"contextName\":"
			" \"u\", \"operator\": \"REGEX\", \"value\": \"%s\"}]}",
			cases[i].pattern);
		f = compile_with(json, NULL, false, CANARY__JSON_KNOWN_ONLY);
		assert_int_equal(f->rc, CANARY_EPARSE);
		if (!strstr(f->err, cases[i].why))
			fail_msg("%s: got \"%s\"", cases[i].pattern, f->err);
		release(f);
		f = compile(json, NULL, true);
		assert_int_equal(f->rc, CANARY_OK);
		assert_int_equal(f->b.downgraded, 1);
		assert_false(with_attr(f, "u", "a"));
		release(f);
		f = compile(json, NULL, false);
		assert_int_equal(f->rc, CANARY_OK);
		release(f);
	}
}

/* ---- big lists, unknown operators, validation --------------------------- */

/* Short lists are placed one value a slot, longer ones probe: around the
 * boundary every listed value is found and no other, values listed twice
 * included, in either case of a caseless list. */
static void test_in_list_sizes(void **state)
{
	static const size_t sizes[] = { 1, 2, 3, 20, 63, 64, 65, 66, 200 };
	char json[8192], value[32];
	size_t k, i, at;

	(void)state;
	for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		fixture *in, *caseless;

		at = (size_t)snprintf(json, sizeof(json), "\"values\": [");
		for (i = 0; i < sizes[k]; i++)   /* every third value twice */
			at += (size_t)snprintf(json + at, sizeof(json) - at,
				"%s\"v%zu\"%s", i ? ", " : "", i,
				i % 3 ? "" : ", \"v0\"");
		snprintf(json + at, sizeof(json) - at, "]");
		in = one("k", "IN", json);
		snprintf(json + at, sizeof(json) - at, "], \"caseInsensitive\": true");
		caseless = one("k", "IN", json);
		for (i = 0; i < sizes[k] + 3; i++) {
			snprintf(value, sizeof(value), "v%zu", i);
			if (with_attr(in, "k", value) != (i < sizes[k]))
				fail_msg("%zu values: IN \"%s\"", sizes[k], value);
			value[0] = 'V';
			if (with_attr(caseless, "k", value) != (i < sizes[k]) ||
			    with_attr(in, "k", value))
				fail_msg("%zu values: caseless IN \"%s\"", sizes[k], value);
		}
		release(in);
		release(caseless);
	}
}

static void test_huge_in_list(void **state)
{
	size_t n = CANARY__RULE_MAX_VALUES, i, len = 0;
	char *json = malloc(n * 16 + 256);
	fixture *f;

	(void)state;
	assert_non_null(json);
	len += (size_t)sprintf(json, "{\"constraints\": [{\"contextName\": \"id\","
		" \"operator\": \"IN\", \"values\": [");
	for (i = 0; i < n; i++)
		len += (size_t)sprintf(json + len, "%s\"d%zu\"", i ? "," : "", i * 7);
	strcpy(json + len, "]}]}");
	f = compile(json, NULL, false);
	assert_int_equal(f->rc, CANARY_OK);
	assert_true(with_attr(f, "id", "d0"));
	assert_true(with_attr(f, "id", "d699993"));
	assert_true(with_attr(f, "id", "d349993"));
	assert_false(with_attr(f, "id", "d8"));
	assert_false(with_attr(f, "id", "d"));
	release(f);
	/* One more value is over the limit. */
	strcpy(json + len, ",\"x\"]}]}");
	f = compile(json, NULL, false);
	assert_int_equal(f->rc, CANARY_EPARSE);
	assert_string_equal(f->err,
		"rule.constraints[0].values: more than 100000 entries");
	release(f);
	free(json);
}

static void test_unknown_operator(void **state)
{
	const char *json = "{\"constraints\": [{\"contextName\": \"a\","
		" \"operator\": \"SOUNDS_LIKE\", \"values\": [\"x\"], \"inverted\": true}]}";
	fixture *strict = compile(json, NULL, false);
	fixture *lenient = compile(json, NULL, true);

	(void)state;
	assert_int_equal(strict->rc, CANARY_EPARSE);
	assert_string_equal(strict->err,
		"rule.constraints[0].operator: unknown operator \"SOUNDS_LIKE\"");
	assert_int_equal(lenient->rc, CANARY_OK);
	assert_int_equal(lenient->b.downgraded, 1);
	assert_string_equal(lenient->b.note, strict->err);
	/* Never matches, inverted or not, present or not. */
	assert_false(with_nothing(lenient));
	assert_false(with_attr(lenient, "a", "y"));
	release(strict);
	release(lenient);
	/* The same for a known operator whose value is bad. */
	lenient = compile("{\"constraints\": [{\"contextName\": \"a\","
		" \"operator\": \"SEMVER_GT\", \"value\": \"1.x\","
		" \"inverted\": true}]}", NULL, true);
	assert_int_equal(lenient->b.downgraded, 1);
	assert_false(with_nothing(lenient));
	assert_false(with_attr(lenient, "a", "2.0.0"));
	assert_false(with_attr(lenient, "a", "0.1.0"));
	release(lenient);
}

static void expect_error(const char *rules, const char *segs, const char *want)
{
	fixture *f = compile(rules, segs, false);

	if (f->rc != CANARY_EPARSE || strcmp(f->err, want) != 0)
		fail_msg("%s\n  got %d \"%s\"\n want \"%s\"", rules, f->rc, f->err,
			want);
	release(f);
}

static void test_validation_errors(void **state)
{
	(void)state;
	expect_error("{\"constraints\": [{\"operator\": \"IN\"}]}", NULL,
		"rule.constraints[0].contextName: required");
	expect_error("{\"constraints\": [{\"contextName\": \"\", \"operator\": \"IN\"}]}",
		NULL, "rule.constraints[0].contextName: required");
	expect_error("{\"constraints\": [{\"contextName\": \"a\"}]}", NULL,
		"rule.constraints[0].operator: required");
	expect_error("{\"constraints\": {}}", NULL,
		"rule.constraints: must be an array");
	expect_error("{\"constraints\": [7]}", NULL,
		"rule.constraints[0]: must be an object");
	expect_error("{\"constraints\": [{\"contextName\": \"a\", \"operator\": \"IN\","
		" \"values\": \"x\"}]}", NULL, "rule.constraints[0].values: must be an array");
	expect_error("{\"constraints\": [{\"contextName\": \"a\", \"operator\": \"IN\","
		" \"values\": [\"x\", \"y\", 3]}]}", NULL,
		"rule.constraints[0].values[2]: must be a string");
	expect_error("{\"constraints\": [{\"contextName\": \"a\", \"operator\": \"IN\","
		" \"inverted\": \"yes\"}]}", NULL,
		"rule.constraints[0].inverted: must be true or false");
	expect_error("{\"constraints\": [{}, {\"contextName\": \"fw\","
		" \"operator\": \"SEMVER_GT\", \"value\": \"2.3\"}]}", NULL,
		"rule.constraints[0].contextName: required");
	expect_error("{\"constraints\": [{\"contextName\": \"fw\","
		" \"operator\": \"IN\"}, {\"contextName\": \"fw\","
		" \"operator\": \"SEMVER_GT\", \"value\": \"2.3\"}]}", NULL,
		"rule.constraints[1].value: not a semantic version");
	expect_error("{\"constraints\": [{\"contextName\": \"n\","
		" \"operator\": \"NUM_LT\", \"value\": \"ten\"}]}", NULL,
		"rule.constraints[0].value: not a number");
	expect_error("{\"constraints\": [{\"contextName\": \"n\","
		" \"operator\": \"NUM_LT\", \"value\": 10}]}", NULL,
		"rule.constraints[0].value: must be a string");
	expect_error("{\"constraints\": [{\"contextName\": \"t\","
		" \"operator\": \"DATE_AFTER\", \"value\": \"2022-02-30\"}]}", NULL,
		"rule.constraints[0].value: not an RFC 3339 date");
	expect_error("{\"constraints\": [{\"contextName\": \"t\","
		" \"operator\": \"DATE_AFTER\"}]}", NULL,
		"rule.constraints[0].value: required");
	expect_error("{\"segments\": [\"eu\"]}", "[{\"name\": \"us\"}]",
		"rule.segments[0]: unknown segment \"eu\"");
	expect_error("{\"segments\": [3]}", NULL,
		"rule.segments[0]: unknown segment 3");
	expect_error("{\"segments\": [true]}", NULL,
		"rule.segments[0]: must be a segment id or name");
	expect_error("{}", "[{\"id\": 1}, {\"id\": 1}]",
		"segments: duplicate segment id 1");
	expect_error("{}", "[{\"name\": \"eu\"}, {\"name\": \"eu\"}]",
		"segments: duplicate segment name \"eu\"");
	expect_error("{}", "[{\"constraints\": []}]",
		"segments[0]: needs an id or a name");
	expect_error("{}", "[{\"id\": 1.5}]",
		"segments[0].id: must be a non-negative integer");
	expect_error("{}", "[{\"name\": \"eu\", \"constraints\": [{\"contextName\":"
		" \"v\", \"operator\": \"SEMVER_EQ\", \"value\": \"x\"}]}]",
		"segments[0].constraints[0].value: not a semantic version");
}

/* ---- segments, context lookups -------------------------------------------- */

static void test_segments(void **state)
{
	const char *segs = "[{\"name\": \"eu-hw-b\", \"constraints\": ["
		"{\"contextName\": \"region\", \"operator\": \"STR_STARTS_WITH\","
		" \"values\": [\"eu-\"]},"
		"{\"contextName\": \"hw\", \"operator\": \"IN\", \"values\": [\"B\"]}]},"
		"{\"id\": 7, \"constraints\": [{\"contextName\": \"appName\","
		" \"operator\": \"IN\", \"values\": [\"shop\"]}]}]";
	fixture *f = compile("{\"constraints\": [{\"contextName\": \"fw\","
		" \"operator\": \"SEMVER_GTE\", \"value\": \"2.3.0\"}],"
		" \"segments\": [\"eu-hw-b\", 7]}", segs, false);
	fixture *missing = compile("{\"segments\": [7, 8]}", segs, true);
	canary__attr attrs[] = { { "region", "eu-west" }, { "hw", "B" },
		{ "fw", "2.4.1" } };
	canary__context ctx;

	(void)state;
	assert_int_equal(f->rc, CANARY_OK);
	memset(&ctx, 0, sizeof(ctx));
	ctx.attrs = attrs;
	ctx.attr_count = 3;
	ctx.app_name = "shop";
	assert_true(canary__rules_match(&f->rules, &ctx));
	attrs[1].value = "A";
	assert_false(canary__rules_match(&f->rules, &ctx));
	attrs[1].value = "B";
	ctx.app_name = "admin";
	assert_false(canary__rules_match(&f->rules, &ctx));
	/* Lenient: a missing segment makes the rule set never match. */
	assert_int_equal(missing->rc, CANARY_OK);
	assert_int_equal(missing->b.downgraded, 1);
	ctx.app_name = "shop";
	assert_false(canary__rules_match(&missing->rules, &ctx));
	release(f);
	release(missing);
}

static void test_context_lookup(void **state)
{
	canary__attr attrs[] = { { "userId", "from-attrs" }, { "tier", "" },
		{ "tier", "gold" }, { NULL, "x" }, { "plan", NULL } };
	canary__context ctx;
	canary__field f;

	(void)state;
	memset(&ctx, 0, sizeof(ctx));
	ctx.attrs = attrs;
	ctx.attr_count = 5;
	canary__field_init(&f, "userId", 6);
	assert_int_equal(f.kind, CANARY__FIELD_USER_ID);
	/* A well-known field not set falls back to an attribute. */
	assert_string_equal(canary__context_value(&ctx, &f), "from-attrs");
	ctx.user_id = "u1";
	assert_string_equal(canary__context_value(&ctx, &f), "u1");
	ctx.user_id = "";                      /* empty = not set */
	assert_string_equal(canary__context_value(&ctx, &f), "from-attrs");
	/* The first attribute of a name wins, even when it is empty. */
	canary__field_init(&f, "tier", 4);
	assert_null(canary__context_value(&ctx, &f));
	canary__field_init(&f, "plan", 4);
	assert_null(canary__context_value(&ctx, &f));
	canary__field_init(&f, "userI", 5);
	assert_int_equal(f.kind, CANARY__FIELD_ATTR);
	assert_null(canary__context_value(&ctx, &f));
}

/* ---- no allocation while evaluating ------------------------------------- */

static void test_evaluation_allocates_nothing(void **state)
{
	fixture *f = compile("{\"constraints\": ["
		"{\"contextName\": \"fw\", \"operator\": \"SEMVER_GTE\", \"value\": \"2.3.0\"},"
		"{\"contextName\": \"region\", \"operator\": \"IN\", \"values\": [\"eu\", \"us\"],"
		" \"caseInsensitive\": true},"
		"{\"contextName\": \"model\", \"operator\": \"STR_CONTAINS\", \"values\": [\"-B\"]},"
		"{\"contextName\": \"n\", \"operator\": \"NUM_LTE\", \"value\": \"1e3\"},"
		"{\"contextName\": \"currentTime\", \"operator\": \"DATE_AFTER\","
		" \"value\": \"2020-01-01T00:00:00Z\"},"
		"{\"contextName\": \"remoteAddress\", \"operator\": \"IN_CIDR\","
		" \"values\": [\"10.0.0.0/8\"]},"
		"{\"contextName\": \"email\", \"operator\": \"REGEX\","
		" \"value\": \"^[^@]+@example\\\\.(com|org)$\", \"caseInsensitive\": true}],"
		" \"segments\": [\"s\"]}",
		"[{\"name\": \"s\", \"constraints\": [{\"contextName\": \"n\","
		" \"operator\": \"NUM_GT\", \"value\": \"0\"}]}]", false);
	canary__attr attrs[] = { { "fw", "2.4.0-rc.1" }, { "region", "EU" },
		{ "model", "gw-B3" }, { "n", "42" }, { "email", "Ann@Example.org" } };
	canary__context ctx;
	const canary__constraint *re = &f->rules.constraints[6];
	int i;

	(void)state;
	assert_int_equal(f->rc, CANARY_OK);
	memset(&ctx, 0, sizeof(ctx));
	ctx.attrs = attrs;
	ctx.attr_count = 5;
	ctx.remote_address = "10.1.1.1";
	counts.allocations = 0;
	for (i = 0; i < 10000; i++) {
		attrs[3].value = i % 2 ? "42" : "4200";
		if (canary__rules_match(&f->rules, &ctx) != (i % 2 == 1))
			fail_msg("round %d", i);
	}
	/* PCRE2 without JIT needs its frame vector per match (documented);
	 * with JIT (every Debian architecture that matters) nothing. */
	if (re->u.regex.jit)
		assert_int_equal(counts.allocations, 0);
	else
		print_message("PCRE2 JIT unavailable: %zu allocations\n",
			counts.allocations);
	release(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_semver_precedence, no_leak),
		cmocka_unit_test_teardown(test_semver_grammar, no_leak),
		cmocka_unit_test_teardown(test_semver_operators, no_leak),
		cmocka_unit_test_teardown(test_semver_text_equals_parse, no_leak),
		cmocka_unit_test_teardown(test_dates, no_leak),
		cmocka_unit_test_teardown(test_date_operators, no_leak),
		cmocka_unit_test_teardown(test_numbers, no_leak),
		cmocka_unit_test_teardown(test_number_operators, no_leak),
		cmocka_unit_test_teardown(test_cidr, no_leak),
		cmocka_unit_test_teardown(test_cidr_operator, no_leak),
		cmocka_unit_test_teardown(test_case_insensitive_in, no_leak),
		cmocka_unit_test_teardown(test_string_operators, no_leak),
		cmocka_unit_test_teardown(test_contains_equals_naive, no_leak),
		cmocka_unit_test_teardown(test_in_and_prefix_every_byte, no_leak),
		cmocka_unit_test_teardown(test_inverted_missing, no_leak),
		cmocka_unit_test_teardown(test_regex, no_leak),
		cmocka_unit_test_teardown(test_regex_rejects_non_re2, no_leak),
		cmocka_unit_test_teardown(test_regex_re2_escapes, no_leak),
		cmocka_unit_test_teardown(test_in_list_sizes, no_leak),
		cmocka_unit_test_teardown(test_huge_in_list, no_leak),
		cmocka_unit_test_teardown(test_unknown_operator, no_leak),
		cmocka_unit_test_teardown(test_validation_errors, no_leak),
		cmocka_unit_test_teardown(test_segments, no_leak),
		cmocka_unit_test_teardown(test_context_lookup, no_leak),
		cmocka_unit_test_teardown(test_evaluation_allocates_nothing, no_leak),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
