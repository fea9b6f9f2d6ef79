/*
 * test_dashboard.c - the dashboard in a real browser (ctest label
 * browser). A test server runs a compressed rollout fed by the demo fleet
 * (fleet-sim); headless Chromium, driven through chromedriver
 * (webdriver.h), signs in, and the assertions read the page's DOM: the
 * overview lists the flags in the right state, attention first; the
 * rollout's chart has both arms' data and a marker per step change; its
 * decision table is the API's history; "Roll back" (admin token, which an
 * operator's role also allows) rolls the flag back, as the API then says;
 * a reader sees no active button; markup in a flag stays text; a flag's
 * rules, segments and stickiness and the segments page show what the API
 * holds, markup in a rule's values as text.
 *
 * The reader signs in with a named token of the reader role, made through
 * the API (POST /v1/admin/tokens): the dashboard's role gate trusts
 * nothing but what whoami says of that token, and the server refuses
 * the reader's actions anyway (tests/integration/test_team_api.c).
 *
 * Screenshots (overview, a rolled-back rollout, the flags as a reader, a
 * flag's targeting, the segments) go
 * to the build tree's tests/browser/artifacts/. Without chromium or
 * chromedriver (Debian packages chromium, chromium-driver) or the charting
 * library (libjs-dygraphs) the test is skipped, saying so.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "webdriver.h"

#define FLAG "checkout-ui"      /* the rollout the fleet drives */
#define DONE_FLAG "checkout-done" /* a rollout completed at once */
#define LIVE_FLAG "checkout-live" /* a running rollout without traffic */
#define MARKUP_FLAG "markup-check"
#define TARGETED_FLAG "ota-targeted" /* rules, a segment, stickiness */
#define SEGMENT "eu-hw-b"
/* Markup that would run a script if it were ever parsed as HTML. */
#define XSS_IMG "<img src=x onerror=\\\"document.title='pwned'\\\">"

static wd browser;
static pid_t fleet;
static const char *chromedriver, *chromium;
static char ui_url[128];
static double paused_at;          /* the share FLAG was paused at, % */

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* ---- the API ------------------------------------------------------------ */

static cJSON *api(const char *method, const char *path, const char *body,
	long want)
{
	resp r;
	cJSON *doc;

	assert_int_equal(http(&it_server, method, path, ADMIN_TOKEN, body,
		NULL, &r), 0);
	if (r.status != want)
		fail_msg("%s %s: HTTP %ld: %s", method, path, r.status, r.body);
	doc = cJSON_Parse(r.body);
	resp_free(&r);
	assert_non_null(doc);
	return doc;
}

static void api_do(const char *method, const char *path, const char *body,
	long want)
{
	cJSON_Delete(api(method, path, body, want));
}

static cJSON *rollout(const char *flag)
{
	char path[200];

	snprintf(path, sizeof(path), "/v1/admin/rollouts/%s", flag);
	return api("GET", path, NULL, 200);
}

/* The rollout of `flag`, or NULL while it has none. */
static cJSON *rollout_if_any(const char *flag)
{
	char path[200];
	resp r;
	cJSON *doc;

	snprintf(path, sizeof(path), "/v1/admin/rollouts/%s", flag);
	assert_int_equal(http(&it_server, "GET", path, ADMIN_TOKEN, NULL, NULL,
		&r), 0);
	doc = r.status == 200 ? cJSON_Parse(r.body) : NULL;
	if (r.status != 200 && r.status != 404)
		fail_msg("GET %s: HTTP %ld", path, r.status);
	resp_free(&r);
	return doc;
}

static const char *str(const cJSON *o, const char *name)
{
	const char *s = cJSON_GetStringValue(cJSON_GetObjectItem(o, name));

	return s ? s : "";
}

static double number(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItem(o, name);

	return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

/* ---- the fleet ---------------------------------------------------------- */

static const char spec[] = "{\"steps\": [1, 5, 25, 50, 100], "
	"\"min_soak\": \"2s\", \"interval\": \"500ms\", \"max_step\": \"60s\", "
	"\"gates\": {\"min_exposures\": 1000, \"min_latency\": 500}}";

static void start_fleet(void)
{
	char log[300];
	int fd;

	snprintf(log, sizeof(log), "%s/fleet.log", it_server.dir);
	fleet = fork();
	assert_true(fleet >= 0);
	if (fleet == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
			close(fd);
		}
		setenv("CANARY_SDK_KEY", SDK_KEY, 1);
		setenv("CANARY_ADMIN_TOKEN", ADMIN_TOKEN, 1);
		execl(FLEET_SIM, FLEET_SIM, "--server", it_server.base, "--flag",
			FLAG, "--names", "v2.3.1,v2.4.0", "--instances", "2",
			"--rate", "50000", "--stable-errors", "0.002",
			"--canary-errors", "0.002", "--stable-ms", "120",
			"--canary-ms", "125", "--flush-ms", "250", "--timeout",
			"120", "--rollout", spec, (char *)NULL);
		_exit(127);
	}
}

/* Wait up to ms for the fleet to exit by itself, then make it. */
static void stop_fleet(long ms)
{
	long waited;

	if (fleet <= 0)
		return;
	for (waited = 0; waited < ms; waited += 50) {
		if (waitpid(fleet, NULL, WNOHANG) == fleet) {
			fleet = 0;
			return;
		}
		sleep_ms(50);
	}
	kill(fleet, SIGKILL);
	waitpid(fleet, NULL, 0);
	fleet = 0;
}

/*
 * Let the fleet widen the rollout twice (to 25%), then pause it through
 * the API: it stays where it is, with step changes and decisions to show.
 * The fleet sees the pause and stops (flushing what it has).
 */
static void run_rollout_to_25_percent_and_pause(void)
{
	long waited;
	cJSON *doc;

	start_fleet();
	for (waited = 0; waited < 90000; waited += 100) {
		char state[32];
		double step;

		doc = rollout_if_any(FLAG);
		step = number(doc, "step");
		snprintf(state, sizeof(state), "%s", doc ? str(doc, "state") :
			"running");
		cJSON_Delete(doc);
		if (strcmp(state, "running") != 0)
			fail_msg("the rollout ended (%s) before the test paused "
				"it", state);
		if (step >= 2)
			break;
		sleep_ms(100);
	}
	assert_true(waited < 90000);
	doc = api("POST", "/v1/admin/rollouts/" FLAG "/pause", NULL, 200);
	paused_at = number(doc, "percent");
	cJSON_Delete(doc);
	stop_fleet(20000);
}

/* ---- the browser -------------------------------------------------------- */

/* A script's value as a cJSON tree, failing the test when it threw. */
static cJSON *page(const char *script)
{
	cJSON *v = wd_exec(&browser, script, NULL);

	if (!v)
		fail_msg("script failed: %s: %s", browser.error, script);
	return v;
}

static bool page_true(const char *script)
{
	cJSON *v = page(script);
	bool yes = cJSON_IsTrue(v);

	cJSON_Delete(v);
	return yes;
}

static void wait_page(const char *script, int ms)
{
	if (!wd_wait_for(&browser, script, ms))
		fail_msg("%s", browser.error);
}

static void go(const char *fragment)
{
	char url[300];

	snprintf(url, sizeof(url), "%s%s", ui_url, fragment);
	if (wd_navigate(&browser, url) != 0)
		fail_msg("navigate %s: %s", url, browser.error);
}

static void click(const char *css)
{
	if (wd_click(&browser, css) != 0)
		fail_msg("click %s: %s", css, browser.error);
}

static void screenshot(const char *name)
{
	char path[600];

	mkdir(CANARY_BROWSER_ARTIFACTS, 0755);
	snprintf(path, sizeof(path), "%s/%s", CANARY_BROWSER_ARTIFACTS, name);
	assert_int_equal(wd_screenshot(&browser, path), 0);
	printf("screenshot: %s\n", path);
}

/* No script error and no refusal by the Content-Security-Policy. */
static void console_is_clean(void)
{
	char *log = wd_console(&browser);

	if (!log)
		return; /* this chromedriver does not keep the console */
	if (strstr(log, "Content Security Policy") || strstr(log, "Uncaught"))
		fail_msg("the browser's console: %s", log);
	free(log);
}

/* ---- setup -------------------------------------------------------------- */

static int setup(void **state)
{
	resp r;

	(void)state;
	if (it_setup(state) != 0)
		return -1;
	snprintf(ui_url, sizeof(ui_url), "%s/ui/", it_server.base);
	if (http(&it_server, "POST", "/v1/admin/flags", ADMIN_TOKEN,
		"{\"key\": \"" DONE_FLAG "\", \"rollout_bp\": 0,"
		" \"enabled\": true}", NULL, &r) != 0 ||
	    r.status != 201) {
		fprintf(stderr, "cannot create a flag: %ld %s\n", r.status,
			r.body ? r.body : "");
		return -1;
	}
	resp_free(&r);
	if (wd_start(&browser, chromedriver, chromium, 1280, 1000) != 0) {
		fprintf(stderr, "cannot start the browser: %s\n", browser.error);
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	stop_fleet(0);
	wd_stop(&browser);
	return it_teardown(state);
}

/* ---- the tests ---------------------------------------------------------- */

static void test_sign_in(void **state)
{
	cJSON *args = cJSON_CreateArray(), *v;

	(void)state;
	go("");
	wait_page("return !document.getElementById('login').hidden", 10000);
	/* A wrong token is refused and forgotten. */
	assert_int_equal(wd_type(&browser, "#token", "not-the-token-at-all"), 0);
	click("#login-form button[type=submit]");
	wait_page("return document.getElementById('login-error').textContent"
		".includes('refused')", 10000);
	assert_true(page_true("return sessionStorage.length === 0"));
	assert_int_equal(wd_type(&browser, "#token", ADMIN_TOKEN), 0);
	click("#login-form button[type=submit]");
	wait_page("return document.getElementById('who-text').textContent"
		" === 'Signed in as admin (admin)'", 10000);
	/* The token is in this tab's session storage only, in no URL the
	 * page asked for, in no cookie. */
	cJSON_AddItemToArray(args, cJSON_CreateString(ADMIN_TOKEN));
	v = wd_exec(&browser, "const t = arguments[0];"
		" return sessionStorage.length === 1 && localStorage.length === 0"
		" && document.cookie === '' && !location.href.includes(t) &&"
		" !performance.getEntriesByType('resource').some("
		"e => e.name.includes(t))", args);
	assert_true(cJSON_IsTrue(v));
	cJSON_Delete(v);
}

static void test_overview(void **state)
{
	cJSON *rows;
	char script[300];

	(void)state;
	api_do("POST", "/v1/admin/rollouts",
		"{\"flag\": \"" DONE_FLAG "\", \"steps\": [100]}", 201);
	api_do("POST", "/v1/admin/flags", "{\"key\": \"" FLAG "\", "
		"\"rollout_bp\": 0, \"enabled\": true, \"variants\": "
		"{\"stable\": \"v2.3.1\", \"canary\": \"v2.4.0\"}}", 201);
	run_rollout_to_25_percent_and_pause();
	go("#/rollouts");
	wait_page("return document.querySelectorAll('#rollouts-body tr')"
		".length === 2 && !!document.querySelector('#rollouts-body"
		" tr[data-flag=\"" FLAG "\"] .spark canvas')", 20000);
	/* Attention first: the paused rollout above the completed one. */
	rows = page("return [...document.querySelectorAll('#rollouts-body tr')]"
		".map(tr => tr.getAttribute('data-flag') + ' ' +"
		" tr.querySelector('td.state').textContent)");
	assert_string_equal(cJSON_GetStringValue(cJSON_GetArrayItem(rows, 0)),
		FLAG " paused");
	assert_string_equal(cJSON_GetStringValue(cJSON_GetArrayItem(rows, 1)),
		DONE_FLAG " completed");
	cJSON_Delete(rows);
	snprintf(script, sizeof(script), "return document.querySelector("
		"'#rollouts-body tr[data-flag=\"" FLAG "\"]').cells[3].textContent"
		" === '%g%%'", paused_at);
	assert_true(page_true(script));
	screenshot("overview.png");
}

/* The API's decisions, newest first, as the table shows them:
 * "action rule verdict source" per row. */
static char *api_decision_rows(size_t *steps)
{
	cJSON *doc = rollout(FLAG), *d;
	cJSON *list = cJSON_GetObjectItem(doc, "decisions");
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	int i;

	*steps = 0;
	for (i = cJSON_GetArraySize(list) - 1; i >= 0; i--) {
		const char *action, *verdict;

		d = cJSON_GetArrayItem(list, i);
		action = str(d, "action");
		verdict = str(d, "verdict");
		fprintf(f, "%s %s %s %s\n", action, str(d, "rule"),
			*verdict ? verdict : "–", str(d, "source"));
		if (!strcmp(action, "start") || !strcmp(action, "widen") ||
		    !strcmp(action, "promote") || !strcmp(action, "rollback"))
			(*steps)++;
	}
	fclose(f);
	cJSON_Delete(doc);
	return out;
}

static char *page_decision_rows(void)
{
	cJSON *v = page("return [...document.querySelectorAll("
		"'#decisions-body tr')].map(tr => [3, 4, 2, 7].map(i =>"
		" tr.cells[i].textContent).join(' ') + '\\n').join('')");
	char *out = strdup(cJSON_GetStringValue(v) ? v->valuestring : "");

	cJSON_Delete(v);
	return out;
}

static void test_rollout_page(void **state)
{
	char *want = NULL, *got = NULL, script[300];
	size_t steps = 0;
	long waited;
	cJSON *v;

	(void)state;
	go("#/rollouts/" FLAG);
	wait_page("return !!document.querySelector('#chart-errors canvas') &&"
		" document.querySelectorAll('#decisions-body tr').length > 0",
		20000);
	/* The table follows the API (the page asks again every 2 s; a paused
	 * rollout may still record a new judgement). */
	for (waited = 0; waited < 20000; waited += 250) {
		free(want);
		free(got);
		want = api_decision_rows(&steps);
		got = page_decision_rows();
		if (strcmp(want, got) == 0)
			break;
		sleep_ms(250);
	}
	assert_string_equal(got, want);
	free(want);
	free(got);
	/* start, widen to 5%, widen to 25% at least: one marker each. */
	assert_true(steps >= 3);
	snprintf(script, sizeof(script), "return document.querySelectorAll("
		"'#chart-errors .dygraph-annotation.step-marker').length === %zu",
		steps);
	wait_page(script, 10000);
	/* Both arms have data in the chart. */
	v = page("return [...document.querySelectorAll('#data-errors tbody tr')]"
		".filter(tr => tr.querySelector('[data-arm=stable]').textContent"
		" !== '–' && tr.querySelector('[data-arm=canary]').textContent"
		" !== '–').length");
	assert_true(cJSON_IsNumber(v) && v->valuedouble >= 3);
	cJSON_Delete(v);
	assert_true(page_true("return !!document.querySelector("
		"'#chart-latency canvas') && !!document.querySelector("
		"'#chart-exposures canvas')"));
	/* The judge's evidence, and what it waits for. */
	assert_true(page_true("return document.getElementById('waiting')"
		".textContent.startsWith('Paused') && document.querySelectorAll("
		"'#evidence-table tbody tr').length >= 4"));
}

static void test_roll_back(void **state)
{
	cJSON *doc;
	long waited;

	(void)state;
	wait_page("return !!document.querySelector('button[data-action="
		"rollback]:not([disabled])')", 10000);
	click("button[data-action=rollback]");
	wait_page("return document.getElementById('confirm').open", 5000);
	assert_true(page_true("return document.getElementById('confirm-title')"
		".textContent.includes('" FLAG "') && document.getElementById("
		"'confirm-ok').textContent === 'Roll back " FLAG "'"));
	click("#confirm-ok");
	for (waited = 0; waited < 10000; waited += 100) {
		doc = rollout(FLAG);
		if (strcmp(str(doc, "state"), "rolled_back") == 0)
			break;
		cJSON_Delete(doc);
		doc = NULL;
		sleep_ms(100);
	}
	assert_non_null(doc);
	assert_string_equal(str(doc, "reason"), "rolled back by an operator");
	assert_true(number(doc, "percent") == 0);
	cJSON_Delete(doc);
	wait_page("return document.getElementById('rollout-state').textContent"
		" === 'rolled back' && [...document.querySelectorAll("
		"'button[data-action]')].every(b => b.disabled) &&"
		" document.querySelector('#decisions-body tr').textContent"
		".includes('rollback')", 10000);
	screenshot("rollout-rolled-back.png");
}

static void test_reader_sees_no_active_button(void **state)
{
	char reader[128];
	cJSON *doc;

	(void)state;
	api_do("POST", "/v1/admin/flags", "{\"key\": \"" LIVE_FLAG "\", "
		"\"rollout_bp\": 0, \"enabled\": true}", 201);
	api_do("POST", "/v1/admin/rollouts", "{\"flag\": \"" LIVE_FLAG "\"}",
		201);
	/* The admin may act on the running rollout and the kill switch... */
	go("#/rollouts/" LIVE_FLAG);
	wait_page("return document.querySelectorAll('button[data-action]')"
		".length === 5 && !document.querySelector('button[data-action="
		"pause]').disabled", 10000);
	/* ...a reader may not: sign out, and in again with a reader's
	 * token. */
	doc = api("POST", "/v1/admin/tokens", "{\"name\": \"test-reader\","
		" \"role\": \"reader\"}", 201);
	snprintf(reader, sizeof(reader), "%s", str(doc, "token"));
	cJSON_Delete(doc);
	click("#sign-out");
	wait_page("return !document.getElementById('login').hidden", 10000);
	assert_int_equal(wd_type(&browser, "#token", reader), 0);
	click("#login-form button[type=submit]");
	go("#/rollouts/" LIVE_FLAG);
	wait_page("return document.getElementById('who-text').textContent"
		" === 'Signed in as test-reader (reader)' &&"
		" document.querySelectorAll('button[data-action]').length === 5",
		10000);
	assert_true(page_true("return [...document.querySelectorAll("
		"'button[data-action]')].every(b => b.disabled &&"
		" b.title.includes('reader'))"));
	go("#/flags");
	wait_page("return document.querySelectorAll('#flags-body tr').length"
		" === 3", 10000);
	assert_true(page_true("return [...document.querySelectorAll("
		"'button')].filter(b => !b.disabled).every(b => !b.hasAttribute("
		"'data-action')) && document.querySelectorAll("
		"'button[data-action=kill_switch]').length === 3"));
	screenshot("flags-as-reader.png");
}

static void test_markup_stays_text(void **state)
{
	(void)state;
	api_do("POST", "/v1/admin/flags", "{\"key\": \"" MARKUP_FLAG "\","
		" \"rollout_bp\": 0, \"enabled\": true, \"variants\": {\"stable\": \"" "<img src=x onerror=\\\""
		"document.title='pwned'\\\">" "\", \"canary\": \"<b>bold</b>\"}}",
		201);
	go("#/flags/" MARKUP_FLAG);
	wait_page("return !!document.getElementById('flag-facts')", 10000);
	assert_true(page_true("const t = document.getElementById('flag-facts')"
		".textContent; return t.includes('" "<img src=x" "') &&"
		" t.includes('<b>bold</b>') && !document.querySelector('#view img,"
		" #view b') && document.title !== 'pwned'"));
	console_is_clean();
}

/* A flag's rules, segments and stickiness on its page and in the list,
 * and the segments page, as the API holds them; markup in a rule's
 * values stays text. */
static void test_targeting_shown(void **state)
{
	(void)state;
	api_do("PUT", "/v1/admin/segments/" SEGMENT, "{\"constraints\": ["
		"{\"contextName\": \"region\", \"operator\": \"STR_STARTS_WITH\","
		" \"values\": [\"eu-\"]}, {\"contextName\": \"model\","
		" \"operator\": \"IN\", \"values\": [\"" XSS_IMG "\", \"hw-b\"]}]}",
		201);
	api_do("POST", "/v1/admin/flags", "{\"key\": \"" TARGETED_FLAG "\","
		" \"rollout_bp\": 500, \"enabled\": true, \"constraints\": ["
		"{\"contextName\": \"firmware\", \"operator\": \"SEMVER_GTE\","
		" \"value\": \"2.3.0\"}, {\"contextName\": \"board\", \"operator\":"
		" \"IN\", \"values\": [\"<b>b</b>\", \"rev-a\"], \"inverted\": true,"
		" \"caseInsensitive\": true}], \"segments\": [\"" SEGMENT "\"],"
		" \"stickiness\": \"device_id\"}", 201);
	go("#/flags/" TARGETED_FLAG);
	wait_page("return !!document.getElementById('flag-rules')", 10000);
	assert_true(page_true("const r = [...document.querySelectorAll("
		"'#flag-rules li')].map(li => li.textContent); return r.length"
		" === 2 && r[0] === 'firmware SEMVER_GTE 2.3.0' && r[1] ==="
		" 'board not IN/i <b>b</b>,rev-a' && document.querySelector("
		"'#flag-segments a[data-segment=\"" SEGMENT "\"]').getAttribute("
		"'href') === '#/segments/" SEGMENT "' && document.getElementById("
		"'flag-stickiness').textContent === 'device_id'"));
	screenshot("flag-targeting.png");
	go("#/flags");
	wait_page("return !!document.querySelector('#flags-body"
		" tr[data-flag=\"" TARGETED_FLAG "\"]')", 10000);
	assert_true(page_true("return document.querySelector('#flags-body"
		" tr[data-flag=\"" TARGETED_FLAG "\"] td.targeting').textContent"
		" === '2 rules; segments " SEGMENT "; by device_id'"));
	go("#/segments");
	wait_page("return !!document.querySelector('#segments-body"
		" tr[data-segment=\"" SEGMENT "\"]')", 10000);
	assert_true(page_true("const tr = document.querySelector("
		"'#segments-body tr[data-segment=\"" SEGMENT "\"]'); const r ="
		" [...tr.querySelectorAll('.rules-cell li')].map(li =>"
		" li.textContent); return r.length === 2 && r[0] === 'region"
		" STR_STARTS_WITH eu-' && r[1].startsWith('model IN <img src=x')"
		" && !!tr.querySelector('.flags-cell a[data-flag=\""
		TARGETED_FLAG "\"]')"));
	screenshot("segments.png");
	go("#/segments/" SEGMENT);
	wait_page("return !!document.getElementById('segment-rules') &&"
		" document.getElementById('segment-flags').textContent === '"
		TARGETED_FLAG "'", 10000);
	/* Markup stayed text everywhere it went. */
	assert_true(page_true("return !document.querySelector('#view img,"
		" #view b') && document.title !== 'pwned'"));
	console_is_clean();
}

int main(void)
{
	static const char *const drivers[] = { "/usr/bin/chromedriver",
		"/usr/lib/chromium/chromedriver", NULL };
	static const char *const browsers[] = { "/usr/bin/chromium",
		"/usr/lib/chromium/chromium", NULL };
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sign_in),
		cmocka_unit_test(test_overview),
		cmocka_unit_test(test_rollout_page),
		cmocka_unit_test(test_roll_back),
		cmocka_unit_test(test_reader_sees_no_active_button),
		cmocka_unit_test(test_markup_stays_text),
		cmocka_unit_test(test_targeting_shown),
	};
	struct stat st;

	chromedriver = wd_find_program("CANARY_CHROMEDRIVER", drivers);
	chromium = wd_find_program("CANARY_CHROMIUM", browsers);
	if (!chromedriver || !chromium) {
		printf("SKIP: the browser tests need chromium and chromedriver "
			"(Debian packages chromium and chromium-driver; "
			"scripts/deps.sh installs them)\n");
		return 77;
	}
	if (stat(CANARY_DYGRAPHS, &st) != 0) {
		printf("SKIP: the dashboard's charting library is missing: %s "
			"(Debian package libjs-dygraphs; scripts/deps.sh installs "
			"it)\n", CANARY_DYGRAPHS);
		return 77;
	}
	return cmocka_run_group_tests(tests, setup, teardown);
}
