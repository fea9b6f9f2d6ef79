/*
 * test_config_target.c - targeting in the flag config: per-flag
 * constraints, segment names and stickiness, the document's segments;
 * what is accepted and compiled, the message naming each thing that is
 * not, the canonical JSON written back, and every allocation failure.
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

#include "canary/canary.h"
#include "config.h"
#include "config_blob.h"
#include "../support/test_alloc.h"

static const char *const good =
	"{\"version\": 7, \"segments\": ["
	" {\"name\": \"eu-hw-b\", \"constraints\": ["
	"  {\"contextName\": \"region\", \"operator\": \"STR_STARTS_WITH\","
	"   \"values\": [\"eu-\"]},"
	"  {\"contextName\": \"model\", \"operator\": \"IN\","
	"   \"values\": [\"hw-b\", \"hw-b2\"], \"caseInsensitive\": true}]},"
	" {\"name\": \"beta\"}],"
	" \"flags\": ["
	" {\"key\": \"fw\", \"rollout_bp\": 5000,"
	"  \"constraints\": [{\"contextName\": \"firmware\","
	"   \"operator\": \"SEMVER_GTE\", \"value\": \"2.3.0\"}],"
	"  \"segments\": [\"eu-hw-b\"], \"stickiness\": \"device_id\"},"
	" {\"key\": \"plain\", \"rollout_bp\": 100},"
	" {\"key\": \"sticky\", \"rollout_bp\": 1, \"stickiness\": \"device_id\"}]}";

static int parse_with(const canary__alloc *a, const char *json,
	canary__config **out, char *err)
{
	canary__perror e;
	int rc = canary__config_parse(a, json, strlen(json), out, &e);

	if (rc == CANARY_OK)
		err[0] = '\0';
	else
		canary__perror_format(&e, err, CANARY__PERR_TEXT);
	return rc;
}

static int parse(const char *json, canary__config **out, char *err)
{
	return parse_with(canary__alloc_default(), json, out, err);
}

/* One context: the unit and three attributes. */
static bool eligible(const canary__flag *f, const char *fw,
	const char *region, const char *model)
{
	canary__attr attrs[3] = { { "firmware", fw }, { "region", region },
		{ "model", model } };
	canary__context ctx;

	memset(&ctx, 0, sizeof(ctx));
	ctx.user_id = "u1";
	ctx.attrs = attrs;
	ctx.attr_count = 3;
	return canary__rules_match(&f->target.compiled->rules, &ctx);
}

static void test_compiled(void **state)
{
	char err[CANARY__PERR_TEXT];
	const canary__flag *fw, *plain, *sticky;
	canary__config *c;

	(void)state;
	assert_int_equal(parse(good, &c, err), CANARY_OK);
	fw = canary__config_find(c, "fw");
	plain = canary__config_find(c, "plain");
	sticky = canary__config_find(c, "sticky");
	assert_non_null(fw->target.compiled);
	assert_true(fw->target.compiled->has_rules);
	assert_string_equal(fw->target.stickiness, "device_id");
	assert_int_equal(fw->target.compiled->stickiness.len, 9);
	assert_int_equal(fw->target.compiled->stickiness.kind, CANARY__FIELD_ATTR);
	/* The flag's constraint and both of the segment's. */
	assert_true(eligible(fw, "2.3.0", "eu-west-1", "HW-B"));
	assert_true(eligible(fw, "10.0.0", "eu-central-1", "hw-b2"));
	assert_false(eligible(fw, "2.2.9", "eu-west-1", "hw-b"));
	assert_false(eligible(fw, "2.3.0", "us-east-1", "hw-b"));
	assert_false(eligible(fw, "2.3.0", "eu-west-1", "hw-c"));
	assert_false(eligible(fw, "not.a.version", "eu-west-1", "hw-b"));
	assert_false(eligible(fw, NULL, "eu-west-1", "hw-b"));
	/* No targeting: no compiled part, the hot path's NULL. */
	assert_null(plain->target.compiled);
	assert_false(canary__target_is_set(&plain->target));
	/* Stickiness alone: a target without rules. */
	assert_non_null(sticky->target.compiled);
	assert_false(sticky->target.compiled->has_rules);
	assert_int_equal(c->segments.count, 2);
	assert_string_equal(c->segments.items[0].name, "beta");
	assert_string_equal(c->segments.items[0].constraints, "[]");
	assert_non_null(canary__segtable_find(&c->segments, "eu-hw-b"));
	assert_null(canary__segtable_find(&c->segments, "eu"));
	canary__config_free(canary__alloc_default(), c);
}

static void test_round_trip(void **state)
{
	char err[CANARY__PERR_TEXT];
	canary__config *c1, *c2;
	char *t1, *t2;
	cJSON *j;

	(void)state;
	assert_int_equal(parse(good, &c1, err), CANARY_OK);
	j = canary__config_to_json(c1);
	t1 = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	assert_int_equal(parse(t1, &c2, err), CANARY_OK);
	j = canary__config_to_json(c2);
	t2 = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	assert_string_equal(t1, t2);
	assert_non_null(strstr(t1, "\"stickiness\":\"device_id\""));
	assert_non_null(strstr(t1, "\"segments\":[\"eu-hw-b\"]"));
	assert_non_null(strstr(t1, "\"operator\":\"SEMVER_GTE\""));
	/* A plain flag gains no member. */
	assert_non_null(strstr(t1, "\"state\":\"\",\"allow\":[],\"deny\":[],"
		"\"variants\":{\"stable\":\"\",\"canary\":\"\"}},{\"key\":\"sticky\""));
	cJSON_free(t1);
	cJSON_free(t2);
	canary__config_free(canary__alloc_default(), c1);
	canary__config_free(canary__alloc_default(), c2);
}

static void expect_error(const char *json, const char *message)
{
	char err[CANARY__PERR_TEXT];
	canary__config *c = (canary__config *)1;

	assert_int_equal(parse(json, &c, err), CANARY_EPARSE);
	assert_null(c);
	if (strcmp(err, message) != 0)
		fail_msg("%s\n  got:      %s\n  expected: %s", json, err, message);
}

#define FLAG(members) "{\"version\": 1, \"flags\": [{\"key\": \"k\"," \
	" \"rollout_bp\": 0}, {\"key\": \"f\", \"rollout_bp\": 0, " members "}]}"

static void test_errors_name_the_field(void **state)
{
	(void)state;
	expect_error(FLAG("\"constraints\": [{\"contextName\": \"fw\","
		" \"operator\": \"SEMVER_GT\", \"value\": \"2.3\"}]"),
		"flags[1].constraints[0].value: not a semantic version");
	expect_error(FLAG("\"constraints\": [{\"contextName\": \"fw\","
		" \"operator\": \"SEMVER_GT\", \"value\": \"1.0.0\"},"
		" {\"contextName\": \"x\", \"operator\": \"REGEX\","
		" \"value\": \"(?=a)\"}]"),
		"flags[1].constraints[1].value: bad regular expression: "
		"lookahead is not supported");
	expect_error(FLAG("\"constraints\": [{\"contextName\": \"fw\","
		" \"operator\": \"SEMVER_ABOUT\", \"value\": \"1.0.0\"}]"),
		"flags[1].constraints[0].operator: unknown operator \"SEMVER_ABOUT\"");
	expect_error(FLAG("\"constraints\": [{\"operator\": \"IN\"}]"),
		"flags[1].constraints[0].contextName: required");
	expect_error(FLAG("\"constraints\": [{\"contextName\": \"n\","
		" \"operator\": \"NUM_GT\", \"value\": \"0x10\"}]"),
		"flags[1].constraints[0].value: not a number");
	expect_error(FLAG("\"constraints\": [{\"contextName\": \"d\","
		" \"operator\": \"DATE_AFTER\", \"value\": \"2024-02-30\"}]"),
		"flags[1].constraints[0].value: not an RFC 3339 date");
	expect_error(FLAG("\"constraints\": [{\"contextName\": \"ip\","
		" \"operator\": \"IN_CIDR\", \"values\": [\"10.0.0.0/33\"]}]"),
		"flags[1].constraints[0].values[0]: not an IP address or CIDR network");
	expect_error(FLAG("\"constraints\": {}"),
		"flags[1].constraints: must be an array");
	expect_error(FLAG("\"segments\": [\"eu\"]"),
		"flags[1].segments[0]: unknown segment \"eu\"");
	expect_error(FLAG("\"segments\": [\"\"]"),
		"flags[1].segments[0]: must not be empty");
	expect_error(FLAG("\"segments\": [3]"),
		"flags[1].segments[0]: must be a string");
	expect_error(FLAG("\"stickiness\": 1"),
		"flags[1].stickiness: must be a string");
	expect_error("{\"version\": 1, \"flags\": [], \"segments\": [{}]}",
		"segments[0].name: required");
	expect_error("{\"version\": 1, \"flags\": [], \"segments\": ["
		"{\"name\": \"a\"}, {\"name\": \"b\", \"constraints\": ["
		"{\"contextName\": \"v\", \"operator\": \"SEMVER_EQ\","
		" \"value\": \"01.0.0\"}]}]}",
		"segments[1].constraints[0].value: not a semantic version");
	expect_error("{\"version\": 1, \"flags\": [], \"segments\": ["
		"{\"name\": \"a\"}, {\"name\": \"a\"}]}",
		"segments: duplicate segment name \"a\"");
	expect_error("{\"version\": 1, \"flags\": [], \"segments\": {}}",
		"segments: must be an array");
}

/* A flag read alone (an admin request, a stored record): constraints are
 * checked, segment names are names only, nothing compiled is kept; a
 * reader refusing unknown members refuses them inside constraints too. */
static void test_flag_alone(void **state)
{
	const char *ok = "{\"key\": \"f\", \"rollout_bp\": 0, \"segments\": [\"nowhere\"],"
		" \"constraints\": [{\"contextName\": \"a\", \"operator\": \"IN\","
		" \"values\": [\"x\"]}]}";
	const char *bad = "{\"key\": \"f\", \"rollout_bp\": 0, \"constraints\": [{\"contextName\":"
		" \"a\", \"operator\": \"IN\", \"values\": [\"x\"], \"invert\": true}]}";
	char err[CANARY__PERR_TEXT];
	canary__json_reader r;
	canary__perror e;
	canary__flag f;
	cJSON *j;

	(void)state;
	canary__json_reader_init(&r, CANARY__JSON_KNOWN_ONLY, &e);
	j = cJSON_Parse(ok);
	assert_int_equal(canary__flag_from_json(canary__alloc_default(), &r, j,
		"", &f), CANARY_OK);
	assert_null(f.target.compiled);
	assert_true(canary__target_is_set(&f.target));
	assert_string_equal(f.target.constraints,
		"[{\"contextName\":\"a\",\"operator\":\"IN\",\"values\":[\"x\"]}]");
	assert_int_equal(f.target.segments.count, 1);
	canary__flag_clear(canary__alloc_default(), &f);
	cJSON_Delete(j);
	j = cJSON_Parse(bad);
	assert_int_equal(canary__flag_from_json(canary__alloc_default(), &r, j,
		"", &f), CANARY_EPARSE);
	canary__perror_format(&e, err, sizeof(err));
	assert_string_equal(err, "constraints[0].invert: unknown field 'invert'");
	cJSON_Delete(j);
}

/* An admin's write names the member its operator reads: a list operator
 * given "value" would read an empty list (NOT_IN: true for everyone), and
 * a single-valued one given "values" ignores them. Unleash's empty
 * companions ("value": "", "values": []) pass; a config read by the SDK
 * is not held to this. */
static const char *flag_error(const canary__json_reader *r,
	const char *constraint, char *err)
{
	char text[512];
	canary__flag f;
	cJSON *j;
	int rc;

	snprintf(text, sizeof(text), "{\"key\": \"f\", \"rollout_bp\": 0,"
		" \"constraints\": [%s]}", constraint);
	j = cJSON_Parse(text);
	assert_non_null(j);
	canary__perror_clear(r->err);
	rc = canary__flag_from_json(canary__alloc_default(), r, j, "", &f);
	cJSON_Delete(j);
	if (rc == CANARY_OK) {
		canary__flag_clear(canary__alloc_default(), &f);
		return "ok";
	}
	canary__perror_format(r->err, err, CANARY__PERR_TEXT);
	return err;
}

static void test_flag_alone_operand_member(void **state)
{
	char err[CANARY__PERR_TEXT];
	canary__json_reader r;
	canary__perror e;

	(void)state;
	canary__json_reader_init(&r, CANARY__JSON_KNOWN_ONLY, &e);
	assert_string_equal(flag_error(&r, "{\"contextName\": \"r\","
		" \"operator\": \"NOT_IN\", \"value\": \"eu\"}", err),
		"constraints[0].values: required: NOT_IN takes a list of values,"
		" not \"value\"");
	assert_string_equal(flag_error(&r, "{\"contextName\": \"r\","
		" \"operator\": \"IN\"}", err),
		"constraints[0].values: required: IN takes a list of values");
	assert_string_equal(flag_error(&r, "{\"contextName\": \"r\","
		" \"operator\": \"IN_CIDR\", \"values\": [\"10.0.0.0/8\"],"
		" \"value\": \"::1\"}", err),
		"constraints[0].value: IN_CIDR takes \"values\", a list");
	assert_string_equal(flag_error(&r, "{\"contextName\": \"r\","
		" \"operator\": \"NUM_GT\", \"value\": \"3\","
		" \"values\": [\"4\"]}", err),
		"constraints[0].values: NUM_GT takes one \"value\", not a list");
	assert_string_equal(flag_error(&r, "{\"contextName\": \"r\","
		" \"operator\": \"NUM_GT\", \"value\": \"3\","
		" \"values\": []}", err), "ok");
	assert_string_equal(flag_error(&r, "{\"contextName\": \"r\","
		" \"operator\": \"IN\", \"value\": \"\", \"values\": []}",
		err), "ok");
	assert_string_equal(flag_error(&r, "{\"contextName\": \"r\","
		" \"operator\": \"NUM_GT\", \"value\": \"3\","
		" \"values\": null}", err), "ok");
	assert_string_equal(flag_error(&r, "{\"contextName\": \"r\","
		" \"operator\": \"NOT_IN\", \"values\": null}", err),
		"constraints[0].values: required: NOT_IN takes a list of values");
	/* The SDK's reader (no options) still loads what was stored. */
	canary__json_reader_init(&r, 0, &e);
	assert_string_equal(flag_error(&r, "{\"contextName\": \"r\","
		" \"operator\": \"NOT_IN\", \"value\": \"eu\"}", err), "ok");
}

static void test_segment_alone(void **state)
{
	char err[CANARY__PERR_TEXT];
	canary__json_reader r;
	canary__perror e;
	canary__segdef s;
	cJSON *j, *back;
	char *text;

	(void)state;
	canary__json_reader_init(&r, CANARY__JSON_KNOWN_ONLY, &e);
	j = cJSON_Parse("{\"name\": \"eu\", \"constraints\": [{\"contextName\":"
		" \"r\", \"operator\": \"NUM_LT\", \"value\": \"x\"}]}");
	assert_int_equal(canary__segdef_from_json(canary__alloc_default(), &r,
		j, "", &s), CANARY_EPARSE);
	canary__perror_format(&e, err, sizeof(err));
	assert_string_equal(err, "constraints[0].value: not a number");
	cJSON_Delete(j);
	j = cJSON_Parse("{\"name\": \"eu\", \"constraints\": [{\"contextName\":"
		" \"r\", \"operator\": \"NUM_LT\", \"value\": \"3\"}]}");
	assert_int_equal(canary__segdef_from_json(canary__alloc_default(), &r,
		j, "", &s), CANARY_OK);
	back = canary__segdef_to_json(&s);
	text = cJSON_PrintUnformatted(back);
	assert_string_equal(text, "{\"name\":\"eu\",\"constraints\":"
		"[{\"contextName\":\"r\",\"operator\":\"NUM_LT\",\"value\":\"3\"}]}");
	cJSON_free(text);
	cJSON_Delete(back);
	cJSON_Delete(j);
	canary__segdef_clear(canary__alloc_default(), &s);
}

/* The cache's binary form does not carry targeting: such a config is
 * cached as JSON (persist.c then stores no blob). */
static void test_blob_refuses_targeting(void **state)
{
	char err[CANARY__PERR_TEXT];
	canary__config *c;
	unsigned char *blob;
	size_t len;

	(void)state;
	assert_int_equal(parse(good, &c, err), CANARY_OK);
	assert_int_equal(canary__config_blob_encode(canary__alloc_default(), c,
		&blob, &len), CANARY_EINVAL);
	canary__config_free(canary__alloc_default(), c);
}

/* Fail each allocation in turn: a clean ENOMEM, nothing leaked. */
static void test_allocation_failures(void **state)
{
	char err[CANARY__PERR_TEXT];
	test_alloc t = { 0 };
	canary_allocator hooks = test_alloc_hooks(&t);
	canary__alloc a;
	canary__config *c;
	size_t n, total;

	(void)state;
	canary__alloc_init(&a, &hooks);
	assert_int_equal(parse_with(&a, good, &c, err), CANARY_OK);
	canary__config_free(&a, c);
	assert_int_equal(t.live, 0);
	total = t.calls;
	for (n = 1; n <= total; n++) {
		int rc;

		t.calls = 0;
		t.fail_at = n;
		rc = parse_with(&a, good, &c, err);
		assert_int_equal(rc, CANARY_ENOMEM);
		assert_null(c);
		assert_int_equal(t.live, 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_compiled),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_errors_name_the_field),
		cmocka_unit_test(test_flag_alone),
		cmocka_unit_test(test_flag_alone_operand_member),
		cmocka_unit_test(test_segment_alone),
		cmocka_unit_test(test_blob_refuses_targeting),
		cmocka_unit_test(test_allocation_failures),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
