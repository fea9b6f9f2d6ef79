/*
 * test_team_api.c - the flag service as a team runs it, against the real
 * server (and as test_team_api_pg on PostgreSQL):
 *
 *  - each role (reader, operator, admin: named tokens) against each
 *    endpoint: what the role may do succeeds, the rest is 403; no token
 *    or an SDK key is 401;
 *  - an audit record for every kind of change, the controller's own
 *    widen and rollback included, with filters and pages; a stall
 *    announced once;
 *  - guard rails: 409 naming the rollout for rollout_bp/salt/allow/deny
 *    under a live rollout, "force" audited; no rollout on a disabled flag;
 *    the kill switch ends a live rollout as rolled back; unknown fields
 *    in every admin body are 400 naming the field, and every team body
 *    is bounded;
 *  - a webhook on 127.0.0.1 that checks each signature and fails twice:
 *    the third attempt is delivered, and every attempt is recorded; a
 *    segment change's event names the segment and the flags it affects;
 *    without --webhook-allow-loopback no webhook reaches this host or a
 *    link-local address: refused when registered (a literal address,
 *    localhost) or when connecting (a name or spelling that ends there);
 *  - the metrics token reads /metrics and opens nothing else;
 *  - a log line per change with its actor, never a secret, and as JSON
 *    with --log-format json;
 *  - /metrics, stats and decisions show each arm of a live rollout, the
 *    judge's verdict and the custom metrics.
 *
 * Nothing here asserts on time: each wait is a generous bound (30 s) for
 * an outcome, and fails only if the outcome never comes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define METRICS_TOKEN "metrics-0123456789abcdef"

static const char *const roles[] = { "reader", "operator", "admin" };
static char tokens[3][128];   /* a named token per role */

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* A request with `token`; the reply parsed (NULL when it is not JSON). */
static cJSON *call(const char *token, const char *method, const char *path,
	const char *body, long *status)
{
	cJSON *doc;
	resp r;

	*status = 0;
	if (http(&it_server, method, path, token, body, NULL, &r) != 0)
		return NULL;
	*status = r.status;
	doc = cJSON_Parse(r.body);
	resp_free(&r);
	return doc;
}

static long status_as(const char *token, const char *method,
	const char *path, const char *body)
{
	long st;

	cJSON_Delete(call(token, method, path, body, &st));
	return st;
}

static long admin(const char *method, const char *path, const char *body)
{
	return status_as(ADMIN_TOKEN, method, path, body);
}

/* A named token of `role`, its secret into `out`. */
static void make_token(const char *name, const char *role, char *out,
	size_t cap)
{
	char body[256];
	long st;
	cJSON *doc;

	snprintf(body, sizeof(body), "{\"name\":\"%s\",\"role\":\"%s\"}", name,
		role);
	doc = call(ADMIN_TOKEN, "POST", "/v1/admin/tokens", body, &st);
	assert_int_equal(st, 201);
	assert_true(strncmp(it_str(doc, "token"), "cnry_", 5) == 0);
	snprintf(out, cap, "%s", it_str(doc, "token"));
	cJSON_Delete(doc);
}

static void create_flag(const char *key)
{
	char body[256];

	snprintf(body, sizeof(body), "{\"key\":\"%s\",\"rollout_bp\":0,"
		"\"enabled\":true}", key);
	assert_int_equal(admin("POST", "/v1/admin/flags", body), 201);
}

static void start_rollout(const char *flag, const char *extra)
{
	char body[512];

	snprintf(body, sizeof(body), "{\"flag\":\"%s\"%s%s}", flag,
		*extra ? "," : "", extra);
	assert_int_equal(admin("POST", "/v1/admin/rollouts", body), 201);
}

/* The audit records `query` selects (the "entries"), newest first. */
static cJSON *audit(const char *query)
{
	char path[512];
	long st;
	cJSON *doc, *entries;

	snprintf(path, sizeof(path), "/v1/admin/audit%s", query);
	doc = call(ADMIN_TOKEN, "GET", path, NULL, &st);
	assert_int_equal(st, 200);
	entries = cJSON_DetachItemFromObject(doc, "entries");
	cJSON_Delete(doc);
	assert_non_null(entries);
	return entries;
}

/* The newest record of `action` in `entries`, or NULL. */
static const cJSON *find_action(const cJSON *entries, const char *action)
{
	const cJSON *e;

	cJSON_ArrayForEach(e, entries)
		if (strcmp(it_str(e, "action"), action) == 0)
			return e;
	return NULL;
}

/* ---- roles ------------------------------------------------------------ */

/* One endpoint; %s in the path and body is the role's own resource. */
typedef struct endpoint {
	const char *method, *path, *body;
	int least;           /* 0 reader, 1 operator, 2 admin */
} endpoint;

static const endpoint endpoints[] = {
	{ "GET", "/metrics", NULL, 0 },
	{ "GET", "/v1/admin/whoami", NULL, 0 },
	{ "GET", "/v1/admin/flags", NULL, 0 },
	{ "POST", "/v1/admin/flags", "{\"key\":\"new-%s\",\"rollout_bp\":0}", 2 },
	{ "GET", "/v1/admin/flags/f-%s", NULL, 0 },
	{ "PUT", "/v1/admin/flags/f-%s", "{\"rollout_bp\":0}", 2 },
	{ "PATCH", "/v1/admin/flags/f-%s", "{\"enabled\":true}", 1 },
	{ "PATCH", "/v1/admin/flags/f-%s", "{\"state\":\"by-%s\"}", 2 },
	{ "GET", "/v1/admin/flags/f-%s/stats", NULL, 0 },
	{ "GET", "/v1/admin/rollouts", NULL, 0 },
	{ "POST", "/v1/admin/rollouts", "{\"flag\":\"f-%s\"}", 2 },
	{ "GET", "/v1/admin/rollouts/r-%s", NULL, 0 },
	{ "GET", "/v1/admin/rollouts/r-%s/series", NULL, 0 },
	{ "POST", "/v1/admin/rollouts/r-%s/pause", NULL, 1 },
	{ "POST", "/v1/admin/rollouts/r-%s/resume", NULL, 1 },
	{ "POST", "/v1/admin/rollouts/r-%s/promote", NULL, 1 },
	{ "POST", "/v1/admin/rollouts/r-%s/rollback", NULL, 1 },
	{ "DELETE", "/v1/admin/flags/f-%s", NULL, 2 },
	{ "GET", "/v1/admin/audit", NULL, 0 },
	{ "GET", "/v1/admin/tokens", NULL, 2 },
	{ "POST", "/v1/admin/tokens", "{\"name\":\"t-%s\",\"role\":\"reader\"}",
		2 },
	{ "DELETE", "/v1/admin/tokens/victim-%s", NULL, 2 },
	{ "GET", "/v1/admin/webhooks", NULL, 2 },
	{ "POST", "/v1/admin/webhooks", "{\"url\":\"http://127.0.0.1:9/%s\"}",
		2 },
	{ "GET", "/v1/admin/webhooks/%s/deliveries", NULL, 2 },
	{ "DELETE", "/v1/admin/webhooks/%s", NULL, 2 },
};

#define NENDPOINTS (sizeof(endpoints) / sizeof(endpoints[0]))

/* Each role's own resources: a flag, a live rollout, a token to revoke,
 * a webhook (its id into hook). */
static void prepare(const char *role, char *hook, size_t cap)
{
	char key[64], secret[128];
	long st;
	cJSON *doc;

	snprintf(key, sizeof(key), "f-%s", role);
	create_flag(key);
	snprintf(key, sizeof(key), "r-%s", role);
	create_flag(key);
	start_rollout(key, "\"max_step\":\"1h\",\"interval\":\"1h\"");
	snprintf(key, sizeof(key), "victim-%s", role);
	make_token(key, "reader", secret, sizeof(secret));
	doc = call(ADMIN_TOKEN, "POST", "/v1/admin/webhooks",
		"{\"url\":\"http://127.0.0.1:9/r\"}", &st);
	assert_int_equal(st, 201);
	snprintf(hook, cap, "%.0f", it_num(doc, "id"));
	cJSON_Delete(doc);
}

/* `fmt` with %s (any number of them, at most two) as `value`. */
static void fill(char *out, size_t cap, const char *fmt, const char *value)
{
	snprintf(out, cap, fmt, value, value);
}

static void test_roles(void **state)
{
	char hooks[3][32], path[256], body[256];
	size_t e;
	int r, wrong = 0;

	(void)state;
	for (r = 0; r < 3; r++) {
		char name[32];

		snprintf(name, sizeof(name), "user-%s", roles[r]);
		make_token(name, roles[r], tokens[r], sizeof(tokens[r]));
		prepare(roles[r], hooks[r], sizeof(hooks[r]));
	}
	for (e = 0; e < NENDPOINTS; e++) {
		const endpoint *ep = &endpoints[e];

		for (r = 0; r < 3; r++) {
			const char *own = strstr(ep->path, "webhooks/%s") ?
				hooks[r] : roles[r];
			long st;

			fill(path, sizeof(path), ep->path, own);
			if (ep->body)
				fill(body, sizeof(body), ep->body, roles[r]);
			st = status_as(tokens[r], ep->method, path,
				ep->body ? body : NULL);
			if (r >= ep->least ? st < 200 || st > 299 : st != 403) {
				print_message("%s %s as %s: %ld, wanted %s\n",
					ep->method, path, roles[r], st,
					r >= ep->least ? "2xx" : "403");
				wrong++;
			}
		}
		/* Without a credential, or with an SDK key: who is it? */
		fill(path, sizeof(path), ep->path, "admin");
		if (status_as(NULL, ep->method, path, NULL) != 401 ||
		    status_as(SDK_KEY, ep->method, path, NULL) != 401) {
			print_message("%s %s without an API token: not 401\n",
				ep->method, path);
			wrong++;
		}
	}
	assert_int_equal(wrong, 0);
}

/* whoami says who a named token is; a revoked token opens nothing. */
static void test_whoami_and_revoke(void **state)
{
	char secret[128], *text;
	long st;
	cJSON *doc;

	(void)state;
	make_token("carol", "operator", secret, sizeof(secret));
	doc = call(secret, "GET", "/v1/admin/whoami", NULL, &st);
	assert_int_equal(st, 200);
	assert_string_equal(it_str(doc, "name"), "carol");
	assert_string_equal(it_str(doc, "role"), "operator");
	cJSON_Delete(doc);
	/* Token names are unique; the server's own names are taken. */
	assert_int_equal(admin("POST", "/v1/admin/tokens",
		"{\"name\":\"carol\",\"role\":\"reader\"}"), 409);
	assert_int_equal(admin("POST", "/v1/admin/tokens",
		"{\"name\":\"controller\",\"role\":\"reader\"}"), 400);
	assert_int_equal(admin("POST", "/v1/admin/tokens",
		"{\"name\":\"x\",\"role\":\"root\"}"), 400);
	doc = call(ADMIN_TOKEN, "GET", "/v1/admin/tokens", NULL, &st);
	text = cJSON_PrintUnformatted(doc);
	assert_null(strstr(text, secret));
	assert_null(strstr(text, "\"hash\""));
	cJSON_free(text);
	cJSON_Delete(doc);
	assert_int_equal(admin("DELETE", "/v1/admin/tokens/carol", NULL), 200);
	assert_int_equal(status_as(secret, "GET", "/v1/admin/whoami", NULL),
		401);
	assert_int_equal(admin("DELETE", "/v1/admin/tokens/carol", NULL), 404);
	/* A token's id with another secret opens nothing either. */
	make_token("dave", "admin", secret, sizeof(secret));
	secret[strlen(secret) - 1] ^= 1;
	assert_int_equal(status_as(secret, "GET", "/v1/admin/whoami", NULL),
		401);
}

/* ---- the controller, fed ---------------------------------------------- */

/* One batch at the rollout's step: 20,000 exposures split by `percent`,
 * 0.5 % errors on stable and `canary_err` on the canary, with a custom
 * metric on both arms. */
static void feed(const char *flag, double version, double percent,
	double canary_err)
{
	static unsigned long long seq;
	double nc = 20000 * percent / 100, ns = 20000 - nc;
	char *b = NULL;

	assert_true(asprintf(&b, "{\"batch_id\":\"%016llx%016llx\","
		"\"instance_id\":\"it-team\",\"sdk_version\":\"0.1.0\","
		"\"sent_at_ms\":1,\"windows\":["
		"{\"flag\":\"%s\",\"arm\":\"stable\",\"config_version\":%.0f,"
		"\"start_ms\":1,\"end_ms\":2,\"exposures\":%.0f,\"errors\":%.0f,"
		"\"latency_ms\":{\"bins\":[[270,%.0f]]},"
		"\"metrics\":{\"cart.value\":{\"count\":4,\"sum\":10}}},"
		"{\"flag\":\"%s\",\"arm\":\"canary\",\"config_version\":%.0f,"
		"\"start_ms\":1,\"end_ms\":2,\"exposures\":%.0f,\"errors\":%.0f,"
		"\"latency_ms\":{\"bins\":[[270,%.0f]]},"
		"\"metrics\":{\"cart.value\":{\"count\":2,\"sum\":7}}}]}",
		(unsigned long long)getpid(), ++seq, flag, version, ns,
		ns * 0.005, ns, flag, version, nc, nc * canary_err, nc + 1) > 0);
	assert_int_equal(http_status(&it_server, "POST", "/v1/events", SDK_KEY,
		b), 202);
	free(b);
}

/* Feed the rollout until `action` by the controller is in the audit log
 * (or 30 s pass); the flag's records then. */
static cJSON *feed_until(const char *flag, double canary_err,
	const char *action)
{
	char q[128];
	cJSON *entries = NULL;
	int i;

	snprintf(q, sizeof(q), "?flag=%s&actor=controller", flag);
	for (i = 0; i < 600; i++) {
		char path[128];
		long st;
		cJSON *doc;

		cJSON_Delete(entries);
		entries = audit(q);
		if (find_action(entries, action))
			return entries;
		snprintf(path, sizeof(path), "/v1/admin/rollouts/%s", flag);
		doc = call(ADMIN_TOKEN, "GET", path, NULL, &st);
		if (strcmp(it_str(doc, "state"), "running") == 0)
			feed(flag, it_num(doc, "step_config_version"),
				it_num(doc, "step_percent"), canary_err);
		cJSON_Delete(doc);
		sleep_ms(50);
	}
	return entries;
}

#define FAST "\"min_soak\":\"100ms\",\"max_step\":\"30s\"," \
	"\"interval\":\"100ms\",\"gates\":{\"min_exposures\":200," \
	"\"min_latency\":100}"

/* Every kind of change leaves its record: flags, the kill switch,
 * rollouts and every operator action, tokens, webhooks, and the
 * controller's own widen and rollback. */
static void test_audit_every_change(void **state)
{
	cJSON *all, *ctl;
	const cJSON *e;

	(void)state;
	create_flag("au");
	assert_int_equal(admin("PATCH", "/v1/admin/flags/au",
		"{\"rollout_bp\":100}"), 200);
	assert_int_equal(admin("PATCH", "/v1/admin/flags/au",
		"{\"enabled\":false}"), 200);
	assert_int_equal(admin("PATCH", "/v1/admin/flags/au",
		"{\"enabled\":true}"), 200);
	start_rollout("au", "\"steps\":[5,50,100]," FAST);
	assert_int_equal(admin("POST", "/v1/admin/rollouts/au/pause", NULL),
		200);
	assert_int_equal(admin("POST", "/v1/admin/rollouts/au/resume", NULL),
		200);
	/* The controller widens a healthy canary, then rolls a bad one
	 * back. */
	ctl = feed_until("au", 0.005, "rollout.widen");
	e = find_action(ctl, "rollout.widen");
	assert_non_null(e);
	assert_string_equal(it_str(cJSON_GetObjectItem(cJSON_GetObjectItem(e,
		"rollout"), "after"), "state"), "running");
	assert_true(it_num(cJSON_GetObjectItem(e, "after"), "rollout_bp") > 500);
	assert_string_equal(it_str(e, "event"), "widened");
	cJSON_Delete(ctl);
	ctl = feed_until("au", 0.2, "rollout.rollback");
	e = find_action(ctl, "rollout.rollback");
	assert_non_null(e);
	assert_true(it_num(cJSON_GetObjectItem(e, "after"), "rollout_bp") == 0);
	assert_true(it_num(e, "config_version") > 0);
	cJSON_Delete(ctl);
	assert_int_equal(admin("DELETE", "/v1/admin/flags/au", NULL), 200);

	all = audit("?flag=au&limit=1000");
	e = find_action(all, "flag.update");
	assert_non_null(e);
	assert_string_equal(it_str(e, "actor"), "admin");
	/* The kill switch without a live rollout is named as such too. */
	e = find_action(all, "flag.kill_switch");
	assert_non_null(e);
	assert_string_equal(it_str(e, "actor"), "admin");
	e = find_action(all, "flag.create");
	assert_non_null(e);
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(e, "before")));
	assert_non_null(find_action(all, "flag.delete"));
	assert_non_null(find_action(all, "rollout.start"));
	assert_non_null(find_action(all, "rollout.pause"));
	assert_non_null(find_action(all, "rollout.resume"));
	cJSON_Delete(all);
	/* Paged: two at a time, "next" leads to older records. */
	{
		long st;
		cJSON *p1 = call(ADMIN_TOKEN, "GET",
			"/v1/admin/audit?flag=au&limit=2", NULL, &st), *p2;
		char path[128];

		assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(p1,
			"entries")), 2);
		assert_true(it_num(p1, "next") > 0);
		snprintf(path, sizeof(path), "/v1/admin/audit?flag=au&limit=2"
			"&before=%.0f", it_num(p1, "next"));
		p2 = call(ADMIN_TOKEN, "GET", path, NULL, &st);
		assert_true(it_num(cJSON_GetArrayItem(cJSON_GetObjectItem(p2,
			"entries"), 0), "id") < it_num(p1, "next"));
		cJSON_Delete(p1);
		cJSON_Delete(p2);
	}
	assert_int_equal(admin("GET", "/v1/admin/audit?limit=0", NULL), 400);
	assert_int_equal(admin("GET", "/v1/admin/audit?since=x", NULL), 400);
	all = audit("?since=99999999999999");
	assert_int_equal(cJSON_GetArraySize(all), 0);
	cJSON_Delete(all);
}

/* A step without traffic stalls: announced once (an audit note and the
 * "stalled" event), then paused past max_step. */
static void test_stall_announced(void **state)
{
	cJSON *log = NULL;
	const cJSON *e = NULL;
	int i, notes = 0;

	(void)state;
	create_flag("stuck");
	start_rollout("stuck", "\"min_soak\":\"200ms\",\"max_step\":\"1s\","
		"\"interval\":\"100ms\"");
	for (i = 0; i < 600 && !find_action(log, "rollout.pause"); i++) {
		cJSON_Delete(log);
		sleep_ms(50);
		log = audit("?flag=stuck&actor=controller");
	}
	e = find_action(log, "rollout.stalled");
	assert_non_null(e);
	assert_string_equal(it_str(e, "event"), "stalled");
	assert_non_null(strstr(it_str(e, "reason"), "stalled at 1.00%"));
	assert_non_null(find_action(log, "rollout.pause"));
	cJSON_ArrayForEach(e, log)
		notes += strcmp(it_str(e, "action"), "rollout.stalled") == 0;
	assert_int_equal(notes, 1);
	cJSON_Delete(log);
}

/* ---- guard rails ------------------------------------------------------ */

static void expect_field(const char *method, const char *path,
	const char *body, long want, const char *field)
{
	long st;
	cJSON *doc = call(ADMIN_TOKEN, method, path, body, &st);

	if (st != want || strcmp(it_str(doc, "field"), field) != 0)
		fail_msg("%s %s %s: %ld field '%s', wanted %ld naming '%s'",
			method, path, body, st, it_str(doc, "field"), want, field);
	cJSON_Delete(doc);
}

static void test_guard_rails(void **state)
{
	static const char *const guarded[][2] = {
		{ "{\"rollout_bp\":5000}", "rollout_bp" },
		{ "{\"salt\":\"other\"}", "salt" },
		{ "{\"allow\":[\"u1\"]}", "allow" },
		{ "{\"deny\":[\"u2\"]}", "deny" },
	};
	const cJSON *e;
	cJSON *doc, *log;
	long st;
	size_t i;

	(void)state;
	create_flag("gr");
	start_rollout("gr", "\"max_step\":\"1h\"");
	for (i = 0; i < 4; i++) {
		doc = call(ADMIN_TOKEN, "PATCH", "/v1/admin/flags/gr",
			guarded[i][0], &st);
		assert_int_equal(st, 409);
		assert_string_equal(it_str(doc, "field"), guarded[i][1]);
		assert_non_null(strstr(it_str(doc, "error"), "running rollout"));
		assert_non_null(strstr(it_str(doc, "error"), "gr"));
		cJSON_Delete(doc);
	}
	/* Paused, still guarded; a replacement too; other fields are not. */
	assert_int_equal(admin("POST", "/v1/admin/rollouts/gr/pause", NULL),
		200);
	expect_field("PUT", "/v1/admin/flags/gr", "{\"rollout_bp\":7}", 409,
		"rollout_bp");
	assert_int_equal(admin("PATCH", "/v1/admin/flags/gr",
		"{\"variants\":{\"canary\":\"v2\"}}"), 200);
	/* Forced: done, and the record says so. */
	assert_int_equal(admin("PATCH", "/v1/admin/flags/gr",
		"{\"rollout_bp\":5000,\"force\":true}"), 200);
	log = audit("?flag=gr&limit=1");
	e = cJSON_GetArrayItem(log, 0);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(e, "forced")));
	assert_true(it_num(cJSON_GetObjectItem(e, "after"), "rollout_bp") == 5000);
	cJSON_Delete(log);
	/* The kill switch always works, and ends the rollout. */
	assert_int_equal(admin("POST", "/v1/admin/rollouts/gr/resume", NULL),
		200);
	doc = call(tokens[1][0] ? tokens[1] : ADMIN_TOKEN, "PATCH",
		"/v1/admin/flags/gr", "{\"enabled\":false}", &st);
	assert_int_equal(st, 200);
	assert_false(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetObjectItem(doc,
		"flag"), "enabled")));
	assert_true(it_num(cJSON_GetObjectItem(doc, "flag"), "rollout_bp") == 0);
	cJSON_Delete(doc);
	doc = call(ADMIN_TOKEN, "GET", "/v1/admin/rollouts/gr", NULL, &st);
	assert_string_equal(it_str(doc, "state"), "rolled_back");
	assert_non_null(strstr(it_str(doc, "reason"), "kill switch"));
	cJSON_Delete(doc);
	log = audit("?flag=gr&limit=1");
	e = cJSON_GetArrayItem(log, 0);
	assert_string_equal(it_str(e, "action"), "flag.kill_switch");
	assert_string_equal(it_str(e, "event"), "rolled_back");
	cJSON_Delete(log);
	/* No rollout starts on a disabled flag. */
	doc = call(ADMIN_TOKEN, "POST", "/v1/admin/rollouts",
		"{\"flag\":\"gr\"}", &st);
	assert_int_equal(st, 409);
	assert_non_null(strstr(it_str(doc, "error"), "turned off"));
	cJSON_Delete(doc);
}

static void test_unknown_fields(void **state)
{
	(void)state;
	create_flag("uf");
	expect_field("POST", "/v1/admin/flags",
		"{\"key\":\"x\",\"rollout_bp\":0,\"enabeld\":false}", 400,
		"enabeld");
	expect_field("PUT", "/v1/admin/flags/uf", "{\"rolout_bp\":1}", 400,
		"rolout_bp");
	expect_field("PATCH", "/v1/admin/flags/uf",
		"{\"variants\":{\"stabel\":\"v\"}}", 400, "variants.stabel");
	expect_field("PATCH", "/v1/admin/flags/uf", "{\"force\":\"yes\"}", 400,
		"force");
	expect_field("POST", "/v1/admin/rollouts",
		"{\"flag\":\"uf\",\"colour\":\"red\"}", 400, "colour");
	start_rollout("uf", "\"max_step\":\"1h\"");
	expect_field("POST", "/v1/admin/rollouts/uf/pause", "{\"now\":1}", 400,
		"now");
	expect_field("POST", "/v1/admin/rollouts/uf/promote", "{\"too\":1}",
		400, "too");
	expect_field("POST", "/v1/admin/tokens",
		"{\"name\":\"n\",\"role\":\"reader\",\"ttl\":3}", 400, "ttl");
	expect_field("POST", "/v1/admin/webhooks",
		"{\"url\":\"http://127.0.0.1:9/\",\"secret\":\"x\"}", 400,
		"secret");
	expect_field("POST", "/v1/admin/webhooks", "{\"url\":\"file:///etc\"}",
		400, "url");
	expect_field("POST", "/v1/admin/webhooks", "{\"url\":\"gopher://h/\"}",
		400, "url");
	expect_field("POST", "/v1/admin/webhooks",
		"{\"url\":\"http://h/\",\"events\":[\"exploded\"]}", 400,
		"events[0]");
	/* Strings that are not UTF-8 are refused, named, like flag bodies'. */
	expect_field("POST", "/v1/admin/webhooks",
		"{\"url\":\"http://h/\xff\"}", 400, "url");
	expect_field("POST", "/v1/admin/tokens",
		"{\"name\":\"n\",\"role\":\"read\xc3\"}", 400, "role");
}

/* Every team endpoint bounds its body: 16 KiB for a token or a webhook
 * (the route's, GET included, as for flags), none at all where there is
 * nothing to send. */
static void test_team_bodies(void **state)
{
	static const char *const bodies[][2] = {
		{ "/v1/admin/tokens", "{\"name\":\"b\",\"role\":\"reader\"}" },
		{ "/v1/admin/webhooks", "{\"url\":\"http://10.0.0.1/\"}" },
	};
	char *big = malloc(20000);
	size_t i;

	(void)state;
	assert_non_null(big);
	for (i = 0; i < 2; i++) {
		/* A valid body, then spaces past 16 KiB. */
		memset(big, ' ', 19999);
		big[19999] = '\0';
		memcpy(big, bodies[i][1], strlen(bodies[i][1]));
		assert_int_equal(admin("POST", bodies[i][0], big), 413);
	}
	free(big);
	assert_int_equal(admin("GET", "/v1/admin/audit", "{}"), 413);
	assert_int_equal(admin("DELETE", "/v1/admin/tokens/nobody", "{}"), 413);
	assert_int_equal(admin("DELETE", "/v1/admin/webhooks/1", "{}"), 413);
	assert_int_equal(admin("GET", "/v1/admin/webhooks/1/deliveries", "{}"),
		413);
}

/* ---- a webhook receiver on 127.0.0.1 ---------------------------------- */

typedef struct receiver {
	int fd, port;
	char secret[128];
	atomic_int stop;
	atomic_int requests, good_signatures, bad, ok_sent;
	char ids[8][32];     /* Canary-Webhook-Id of each request */
	char event[32];      /* of the last one */
	char body[4096];     /* of the last one */
	pthread_t thread;
} receiver;

static void header_value(const char *req, const char *name, char *out,
	size_t cap)
{
	const char *p = strcasestr(req, name), *end;

	out[0] = '\0';
	if (!p)
		return;
	p += strlen(name);
	while (*p == ':' || *p == ' ')
		p++;
	end = strstr(p, "\r\n");
	snprintf(out, cap, "%.*s", end ? (int)(end - p) : 0, p);
}

/* Does `sig` ("v1=<hex>") sign "<ts>.<body>" with the secret, from a
 * moment near now? */
static bool signed_by(const receiver *rv, const char *ts, const char *body,
	const char *sig)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0, i;
	char msg[8192], hex[80] = "v1=";
	long age = (long)time(NULL) - atol(ts);

	snprintf(msg, sizeof(msg), "%s.%s", ts, body);
	HMAC(EVP_sha256(), rv->secret, (int)strlen(rv->secret),
		(const unsigned char *)msg, strlen(msg), md, &n);
	for (i = 0; i < n; i++)
		snprintf(hex + 3 + 2 * i, 3, "%02x", md[i]);
	/* A replayed (old) request would be refused. */
	return n == 32 && strcmp(hex, sig) == 0 && age >= -5 && age <= 300;
}

/* One request: read it whole, check it, fail the first two. */
static void serve(receiver *rv, int c)
{
	char req[8192], ts[32], sig[96], id[32], len_text[16];
	size_t got = 0;
	const char *body;
	int k = atomic_load(&rv->requests);
	static const char fail[] = "HTTP/1.1 500 Oops\r\nContent-Length: 0\r\n"
		"Connection: close\r\n\r\n";
	static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n"
		"Connection: close\r\n\r\n";

	for (;;) {
		ssize_t n = read(c, req + got, sizeof(req) - 1 - got);

		if (n <= 0)
			break;
		got += (size_t)n;
		req[got] = '\0';
		body = strstr(req, "\r\n\r\n");
		header_value(req, "Content-Length", len_text, sizeof(len_text));
		if (body && strlen(body + 4) >= (size_t)atol(len_text))
			break;
	}
	req[got] = '\0';
	body = strstr(req, "\r\n\r\n");
	body = body ? body + 4 : "";
	header_value(req, "Canary-Webhook-Timestamp", ts, sizeof(ts));
	header_value(req, "Canary-Webhook-Signature", sig, sizeof(sig));
	header_value(req, "Canary-Webhook-Id", id, sizeof(id));
	header_value(req, "Canary-Webhook-Event", rv->event,
		sizeof(rv->event));
	snprintf(rv->body, sizeof(rv->body), "%s", body);
	if (k < 8)
		snprintf(rv->ids[k], sizeof(rv->ids[k]), "%s", id);
	if (signed_by(rv, ts, body, sig))
		atomic_fetch_add(&rv->good_signatures, 1);
	else
		atomic_fetch_add(&rv->bad, 1);
	atomic_fetch_add(&rv->requests, 1);
	if (k < 2) {
		(void)!write(c, fail, sizeof(fail) - 1);
	} else {
		(void)!write(c, ok, sizeof(ok) - 1);
		atomic_fetch_add(&rv->ok_sent, 1);
	}
}

static void *receive(void *arg)
{
	receiver *rv = arg;

	while (!atomic_load(&rv->stop)) {
		struct pollfd p = { rv->fd, POLLIN, 0 };
		int c;

		if (poll(&p, 1, 50) <= 0)
			continue;
		c = accept(rv->fd, NULL, NULL);
		if (c < 0)
			continue;
		serve(rv, c);
		close(c);
	}
	return NULL;
}

static void receiver_start(receiver *rv)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);

	memset(rv, 0, sizeof(*rv));
	rv->fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(rv->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(rv->fd, 16), 0);
	assert_int_equal(getsockname(rv->fd, (struct sockaddr *)&sa, &len), 0);
	rv->port = ntohs(sa.sin_port);
	assert_int_equal(pthread_create(&rv->thread, NULL, receive, rv), 0);
}

static void receiver_stop(receiver *rv)
{
	atomic_store(&rv->stop, 1);
	pthread_join(rv->thread, NULL);
	close(rv->fd);
}

/* A webhook to the receiver's `path` for `events` (a JSON array): its
 * document (the receiver keeps its secret). */
static cJSON *hook_to(receiver *rv, const char *path, const char *events)
{
	char body[256];
	long st;
	cJSON *doc;

	snprintf(body, sizeof(body), "{\"url\":\"http://127.0.0.1:%d%s\","
		"\"events\":%s}", rv->port, path, events);
	doc = call(ADMIN_TOKEN, "POST", "/v1/admin/webhooks", body, &st);
	assert_int_equal(st, 201);
	snprintf(rv->secret, sizeof(rv->secret), "%s", it_str(doc, "secret"));
	return doc;
}

/* One delivery made it: three attempts (two refused), each signed. */
static void await_delivered(receiver *rv)
{
	int i;

	for (i = 0; i < 600 && atomic_load(&rv->ok_sent) < 1; i++)
		sleep_ms(50);
	assert_int_equal(atomic_load(&rv->ok_sent), 1);
	assert_int_equal(atomic_load(&rv->requests), 3);
	assert_int_equal(atomic_load(&rv->good_signatures), 3);
	assert_int_equal(atomic_load(&rv->bad), 0);
}

static void test_webhook_delivery(void **state)
{
	receiver rv;
	char body[256], path[128], log[65536];
	long st;
	cJSON *doc, *other, *payload;
	const cJSON *d;
	int i;

	(void)state;
	receiver_start(&rv);
	doc = hook_to(&rv, "/hook?k=v", "[\"started\",\"rolled_back\"]");
	assert_true(strncmp(rv.secret, "whsec_", 6) == 0);
	snprintf(path, sizeof(path), "/v1/admin/webhooks/%.0f/deliveries",
		it_num(doc, "id"));
	cJSON_Delete(doc);
	/* A webhook that wants another event hears nothing of this one. */
	snprintf(body, sizeof(body), "{\"url\":\"http://127.0.0.1:%d/other\","
		"\"events\":[\"completed\"]}", rv.port);
	other = call(ADMIN_TOKEN, "POST", "/v1/admin/webhooks", body, &st);
	assert_int_equal(st, 201);

	create_flag("wh");
	start_rollout("wh", "\"max_step\":\"1h\"");
	/* Three attempts of one delivery, each signed, the same id. */
	await_delivered(&rv);
	assert_string_equal(rv.ids[0], rv.ids[2]);
	assert_string_equal(rv.event, "started");
	payload = cJSON_Parse(rv.body);
	assert_string_equal(it_str(payload, "event"), "started");
	assert_string_equal(it_str(payload, "flag"), "wh");
	assert_string_equal(it_str(payload, "actor"), "admin");
	assert_string_equal(it_str(payload, "action"), "rollout.start");
	cJSON_Delete(payload);
	/* Each attempt was recorded: delivered on the third. */
	for (i = 0; i < 100; i++) {
		doc = call(ADMIN_TOKEN, "GET", path, NULL, &st);
		d = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "deliveries"), 0);
		if (strcmp(it_str(d, "state"), "delivered") == 0)
			break;
		cJSON_Delete(doc);
		doc = NULL;
		sleep_ms(50);
	}
	assert_non_null(doc);
	assert_string_equal(it_str(d, "event"), "started");
	assert_true(it_num(d, "attempts") == 3);
	assert_true(it_num(d, "last_status") == 200);
	cJSON_Delete(doc);
	snprintf(path, sizeof(path), "/v1/admin/webhooks/%.0f/deliveries",
		it_num(other, "id"));
	doc = call(ADMIN_TOKEN, "GET", path, NULL, &st);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(doc,
		"deliveries")), 0);
	cJSON_Delete(doc);
	cJSON_Delete(other);
	receiver_stop(&rv);
	/* The failures are in the log; never the secret. */
	srv_read_log(&it_server, log, sizeof(log));
	assert_non_null(strstr(log, "failed (attempt 1): HTTP 500"));
	assert_null(strstr(log, rv.secret));
	assert_null(strstr(log, "k=v"));
}

/* A segment change raises its event: the payload names the segment and
 * the flags that name it. */
static void test_segment_webhook(void **state)
{
	receiver rv;
	cJSON *payload;

	(void)state;
	receiver_start(&rv);
	cJSON_Delete(hook_to(&rv, "/seg", "[\"segment_updated\"]"));
	assert_int_equal(admin("PUT", "/v1/admin/segments/wh-eu",
		"{\"constraints\":[{\"contextName\":\"region\",\"operator\":"
		"\"IN\",\"values\":[\"eu-1\"]}]}"), 201);
	assert_int_equal(admin("PUT", "/v1/admin/flags/wh-seg",
		"{\"key\":\"wh-seg\",\"rollout_bp\":100,\"segments\":"
		"[\"wh-eu\"]}"), 201);
	assert_int_equal(admin("PUT", "/v1/admin/segments/wh-eu",
		"{\"constraints\":[{\"contextName\":\"region\",\"operator\":"
		"\"IN\",\"values\":[\"eu-2\"]}]}"), 200);
	/* Only the update: the webhook did not ask for the creation. */
	await_delivered(&rv);
	assert_string_equal(rv.event, "segment_updated");
	payload = cJSON_Parse(rv.body);
	assert_string_equal(it_str(payload, "event"), "segment_updated");
	assert_string_equal(it_str(payload, "action"), "segment.update");
	assert_string_equal(it_str(payload, "segment"), "wh-eu");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(payload,
		"flags")), 1);
	assert_string_equal(cJSON_GetArrayItem(cJSON_GetObjectItem(payload,
		"flags"), 0)->valuestring, "wh-seg");
	cJSON_Delete(payload);
	receiver_stop(&rv);
}

/* Where a webhook may not point, on a server without
 * --webhook-allow-loopback. */
static void test_webhook_targets(void **state)
{
	static const char *const refused[] = { "http://127.0.0.1:9/h",
		"http://127.1.2.3/h", "http://localhost:9/h",
		"http://LocalHost./h", "http://a.localhost/h", "http://[::1]:9/h",
		"http://[::ffff:127.0.0.1]/h", "http://0.0.0.0:9/h",
		"http://169.254.169.254/latest/meta-data",
		"http://[fe80::1]/h", "https://user:pw@127.0.0.1/h" };
	const char *extra[] = { "--webhook-retry-ms", "100", NULL };
	srv plain;
	receiver rv;
	char body[256], path[128];
	const cJSON *d = NULL;
	cJSON *doc;
	size_t i;
	long st;

	(void)state;
	receiver_start(&rv);
	assert_int_equal(srv_start(&plain, extra), 0);
	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		snprintf(body, sizeof(body), "{\"url\":\"%s\"}", refused[i]);
		if (http_status(&plain, "POST", "/v1/admin/webhooks",
			    ADMIN_TOKEN, body) != 400)
			fail_msg("%s: not refused", refused[i]);
	}
	/* A private network is where a team's receivers are. */
	assert_int_equal(http_status(&plain, "POST", "/v1/admin/webhooks",
		ADMIN_TOKEN, "{\"url\":\"http://10.1.2.3/h\"}"), 201);
	assert_int_equal(http_status(&plain, "DELETE", "/v1/admin/webhooks/1",
		ADMIN_TOKEN, NULL), 200);
	/* 127.0.0.1 spelled as one number passes the literal check; the
	 * sender refuses the address it resolves to. */
	snprintf(body, sizeof(body), "{\"url\":\"http://2130706433:%d/h\"}",
		rv.port);
	assert_int_equal(http_status(&plain, "POST", "/v1/admin/webhooks",
		ADMIN_TOKEN, body), 201);
	assert_int_equal(http_status(&plain, "POST", "/v1/admin/flags",
		ADMIN_TOKEN, "{\"key\":\"tg\",\"rollout_bp\":0}"), 201);
	assert_int_equal(http_status(&plain, "POST", "/v1/admin/rollouts",
		ADMIN_TOKEN, "{\"flag\":\"tg\",\"max_step\":\"1h\"}"), 201);
	snprintf(path, sizeof(path), "/v1/admin/webhooks/2/deliveries");
	for (i = 0; i < 600; i++) {
		doc = http_json(&plain, "GET", path, NULL, &st);
		d = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "deliveries"), 0);
		if (d && it_num(d, "attempts") >= 1)
			break;
		cJSON_Delete(doc);
		doc = NULL;
		sleep_ms(50);
	}
	assert_non_null(doc);
	assert_non_null(strstr(it_str(d, "last_error"), "loopback"));
	cJSON_Delete(doc);
	assert_int_equal(atomic_load(&rv.requests), 0);
	st = srv_stop(&plain);
	srv_cleanup(&plain);
	receiver_stop(&rv);
	assert_int_equal(st, 0);
}

/* The metrics token reads /metrics and nothing else; an SDK key not even
 * that. */
static void test_metrics_token(void **state)
{
	(void)state;
	assert_int_equal(status_as(METRICS_TOKEN, "GET", "/metrics", NULL),
		200);
	assert_int_equal(status_as(tokens[0], "GET", "/metrics", NULL), 200);
	assert_int_equal(status_as(SDK_KEY, "GET", "/metrics", NULL), 401);
	assert_int_equal(status_as(METRICS_TOKEN, "GET", "/v1/admin/whoami",
		NULL), 401);
	assert_int_equal(status_as(METRICS_TOKEN, "GET", "/v1/admin/flags",
		NULL), 401);
	assert_int_equal(status_as(METRICS_TOKEN, "GET", "/v1/admin/audit",
		NULL), 401);
	assert_int_equal(status_as(METRICS_TOKEN, "POST", "/v1/admin/tokens",
		"{\"name\":\"m\",\"role\":\"admin\"}"), 401);
	assert_int_equal(status_as(METRICS_TOKEN, "GET", "/v1/flags", NULL),
		401);
}

/* ---- what the server says --------------------------------------------- */

static void test_log_lines(void **state)
{
	static char log[1 << 20];
	char secret[128];
	srv js;
	const char *json_log[] = { "--log-format", "json", NULL };
	char *line, *save = NULL;
	int lines = 0, events = 0;

	(void)state;
	make_token("erin", "operator", secret, sizeof(secret));
	create_flag("lg");
	/* A PUT and a PATCH that change nothing: no version, no line. */
	assert_int_equal(admin("PUT", "/v1/admin/flags/lg",
		"{\"rollout_bp\":0,\"enabled\":true}"), 200);
	assert_int_equal(admin("PATCH", "/v1/admin/flags/lg",
		"{\"rollout_bp\":0}"), 200);
	assert_int_equal(status_as(secret, "PATCH", "/v1/admin/flags/lg",
		"{\"enabled\":false}"), 200);
	srv_read_log(&it_server, log, sizeof(log));
	assert_null(strstr(log, "flag lg replaced"));
	assert_null(strstr(log, "flag lg updated"));
	assert_non_null(strstr(log, "token erin (operator) created by admin"));
	assert_non_null(strstr(log, "flag lg created by admin"));
	assert_non_null(strstr(log, "flag lg turned off by erin"));
	assert_non_null(strstr(log, "rollout of au: widen by controller"));
	assert_non_null(strstr(log, "rollout of au: rollback by controller"));
	/* No secret, ever: not the bootstrap token, a named token, or a
	 * named token's secret part. */
	assert_null(strstr(log, ADMIN_TOKEN));
	assert_null(strstr(log, secret));
	/* (cnry_<id>_<key>: the key is base64url, which has '_' too.) */
	assert_null(strstr(log, strchr(strchr(secret, '_') + 1, '_') + 1));
	assert_null(strstr(log, SDK_KEY));

	/* --log-format json: every line one object; changes with their
	 * event and actor. */
	assert_int_equal(srv_start(&js, json_log), 0);
	assert_int_equal(http_status(&js, "POST", "/v1/admin/flags",
		ADMIN_TOKEN, "{\"key\":\"j\",\"rollout_bp\":0}"), 201);
	srv_stop(&js);
	srv_read_log(&js, log, sizeof(log));
	srv_cleanup(&js);
	for (line = strtok_r(log, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		cJSON *o;

		if (strncmp(line, "listening on", 12) == 0 ||
		    strncmp(line, "dashboard on", 12) == 0)
			continue; /* stdout */
		o = cJSON_Parse(line);
		if (!cJSON_IsObject(o))
			fail_msg("not JSON: %s", line);
		lines++;
		if (strcmp(it_str(o, "event"), "flag.create") == 0 &&
		    strcmp(it_str(o, "actor"), "admin") == 0 &&
		    strcmp(it_str(o, "flag"), "j") == 0)
			events++;
		cJSON_Delete(o);
	}
	assert_true(lines >= 2);
	assert_int_equal(events, 1);
}

/* /metrics, stats and the decisions show a live rollout's arms, the
 * judge's last verdict and the custom metrics. */
static void test_rollout_visible(void **state)
{
	char path[128];
	long st;
	cJSON *doc;
	const cJSON *d;
	resp r;
	int i;

	(void)state;
	create_flag("mx");
	start_rollout("mx", "\"steps\":[50,100],\"min_soak\":\"1h\","
		"\"max_step\":\"2h\",\"interval\":\"100ms\"");
	for (i = 0; i < 600; i++) {
		doc = call(ADMIN_TOKEN, "GET", "/v1/admin/rollouts/mx?last=1",
			NULL, &st);
		feed("mx", it_num(doc, "step_config_version"), 50, 0.005);
		d = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "decisions"), 0);
		if (cJSON_GetObjectItem(d, "custom_metrics") &&
		    it_num(cJSON_GetObjectItem(cJSON_GetObjectItem(
			    cJSON_GetObjectItem(d, "custom_metrics"), "canary"),
			    "cart.value"), "count") > 0)
			break;
		cJSON_Delete(doc);
		doc = NULL;
		sleep_ms(50);
	}
	assert_non_null(doc);
	cJSON_Delete(doc);
	assert_int_equal(http(&it_server, "GET", "/metrics", ADMIN_TOKEN, NULL,
		NULL, &r), 0);
	assert_non_null(strstr(r.body, "canary_rollout_exposures{flag=\"mx\","
		"arm=\"canary\"} "));
	assert_non_null(strstr(r.body, "canary_rollout_errors{flag=\"mx\","
		"arm=\"stable\"} "));
	assert_non_null(strstr(r.body, "canary_rollout_latency_ms{flag=\"mx\","
		"arm=\"canary\",quantile=\"0.95\"} "));
	assert_non_null(strstr(r.body, "canary_rollout_verdict{flag=\"mx\","
		"verdict=\"INCONCLUSIVE\"} "));
	assert_non_null(strstr(r.body, "canary_rollout_metric_count{flag=\"mx\","
		"arm=\"canary\",name=\"cart.value\"} "));
	assert_non_null(strstr(r.body, "canary_rollout_metric_sum{flag=\"mx\","
		"arm=\"stable\",name=\"cart.value\"} "));
	resp_free(&r);
	snprintf(path, sizeof(path), "/v1/admin/flags/mx/stats");
	doc = call(ADMIN_TOKEN, "GET", path, NULL, &st);
	assert_int_equal(st, 200);
	d = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(doc,
		"custom_metrics"), "stable"), "cart.value");
	assert_true(it_num(d, "count") > 0);
	assert_true(it_num(d, "mean") == 2.5);
	cJSON_Delete(doc);
}

/* The suite's server retries a failed webhook delivery after 100 ms,
 * reaches receivers on 127.0.0.1 and has a metrics token. */
static int team_setup(void **state)
{
	const char *extra[] = { "--webhook-retry-ms", "100",
		"--webhook-allow-loopback", "--metrics-token", METRICS_TOKEN,
		NULL };

	(void)state;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	return srv_start(&it_server, extra);
}

/* The server must stop cleanly: under a sanitizer (the TSan pass runs
 * this suite for the webhook sender's thread) a report makes it exit
 * non-zero. */
static int team_teardown(void **state)
{
	int rc = srv_stop(&it_server);

	if (rc != 0)
		print_error("canary-server exited with %d "
			"(CANARY_TEST_SHOW_LOG=1 prints its log)\n", rc);
	it_teardown(state);
	return rc != 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roles),
		cmocka_unit_test(test_whoami_and_revoke),
		cmocka_unit_test(test_audit_every_change),
		cmocka_unit_test(test_stall_announced),
		cmocka_unit_test(test_guard_rails),
		cmocka_unit_test(test_unknown_fields),
		cmocka_unit_test(test_team_bodies),
		cmocka_unit_test(test_webhook_delivery),
		cmocka_unit_test(test_segment_webhook),
		cmocka_unit_test(test_webhook_targets),
		cmocka_unit_test(test_metrics_token),
		cmocka_unit_test(test_log_lines),
		cmocka_unit_test(test_rollout_visible),
	};

	return cmocka_run_group_tests(tests, team_setup, team_teardown);
}
