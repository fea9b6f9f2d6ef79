/*
 * test_team_ctl.c - canaryctl for a team and its pipeline, against the
 * real server (and as test_team_ctl_pg on PostgreSQL): token create (the
 * token printed once, and it works), list, revoke; the audit log as a
 * table and as JSON; webhooks; `rollout wait` exits 0 when the rollout
 * completes, 1 when it is rolled back, 4 when it is paused or the wait
 * times out; `rollout status --watch` redraws until the rollout ends;
 * help per command, an unknown command named, a bad value named with its
 * rule, a --server with a trailing slash, errors as JSON with --json.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

static char out[65536];

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* canaryctl --server BASE [args], the token `token` in the environment;
 * stdout in out. Returns the exit status. */
static int ctl_as(const char *token, const char *const *args)
{
	const char *argv[24] = { CANARYCTL_BIN, "--server", it_server.base };
	char env[256];
	const char *envp[] = { env, NULL };
	int n = 3;

	while (*args && n < 23)
		argv[n++] = *args++;
	argv[n] = NULL;
	snprintf(env, sizeof(env), "CANARY_ADMIN_TOKEN=%s", token);
	return run_capture(argv, envp, out, sizeof(out));
}

#define CTL(...) ctl_as(ADMIN_TOKEN, (const char *const[]){ __VA_ARGS__, NULL })

/* canaryctl in the background, stdout and stderr into `file`. */
static pid_t ctl_spawn(const char *file, const char *const *args)
{
	const char *argv[24] = { CANARYCTL_BIN, "--server", it_server.base };
	int n = 3;
	pid_t pid;

	while (*args && n < 23)
		argv[n++] = *args++;
	argv[n] = NULL;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		dup2(fd, 1);
		dup2(fd, 2);
		setenv("CANARY_ADMIN_TOKEN", ADMIN_TOKEN, 1);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	return pid;
}

/* Its exit status (killed after 30 s: a wait that never ends). */
static int ctl_reap(pid_t pid)
{
	int status = 0, i;

	for (i = 0; i < 600; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
		sleep_ms(50);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return -1;
}

static void read_file(const char *file, char *buf, size_t cap)
{
	FILE *f = fopen(file, "r");
	size_t n = f ? fread(buf, 1, cap - 1, f) : 0;

	buf[n] = '\0';
	if (f)
		fclose(f);
}

/* Wait until `file` holds `needle` (30 s at most). */
static void await_text(const char *file, const char *needle)
{
	char text[32768];
	int i;

	for (i = 0; i < 600; i++) {
		read_file(file, text, sizeof(text));
		if (strstr(text, needle))
			return;
		sleep_ms(50);
	}
	fail_msg("%s never said '%s'", file, needle);
}

/* canaryctl [args] with the admin token; what it says (stdout and
 * stderr) into err. Returns the exit status. */
static int ctl_stderr(const char *const *args, char *err, size_t cap)
{
	char file[300];
	int rc;

	snprintf(file, sizeof(file), "%s/stderr.out", it_server.dir);
	rc = ctl_reap(ctl_spawn(file, args));
	read_file(file, err, cap);
	return rc;
}

static long admin(const char *method, const char *path, const char *body)
{
	return http_status(&it_server, method, path, ADMIN_TOKEN, body);
}

static void flag_with_rollout(const char *key)
{
	char body[256];

	snprintf(body, sizeof(body), "{\"key\":\"%s\",\"rollout_bp\":0}", key);
	assert_int_equal(admin("POST", "/v1/admin/flags", body), 201);
	snprintf(body, sizeof(body), "{\"flag\":\"%s\",\"steps\":[10,50,100],"
		"\"max_step\":\"1h\",\"min_soak\":\"1h\"}", key);
	assert_int_equal(admin("POST", "/v1/admin/rollouts", body), 201);
}

static void test_tokens(void **state)
{
	char secret[128], *line;
	cJSON *doc;

	(void)state;
	assert_int_equal(CTL("token", "create", "ci-pipeline", "--role",
		"operator"), 0);
	line = strstr(out, "cnry_");
	assert_non_null(line);
	snprintf(secret, sizeof(secret), "%.*s", (int)strcspn(line, "\n"),
		line);
	assert_non_null(strstr(out, "only time"));
	/* The token works, as what it is. */
	assert_int_equal(ctl_as(secret, (const char *const[]){ "--json", "flag",
		"list", NULL }), 0);
	assert_int_equal(ctl_as(secret, (const char *const[]){ "token", "list",
		NULL }), 1);
	assert_int_equal(CTL("token", "list"), 0);
	assert_non_null(strstr(out, "NAME"));
	assert_non_null(strstr(out, "ci-pipeline"));
	assert_non_null(strstr(out, "operator"));
	assert_null(strstr(out, secret));
	assert_int_equal(CTL("--json", "token", "list"), 0);
	doc = cJSON_Parse(out);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(doc, "tokens")),
		1);
	cJSON_Delete(doc);
	assert_int_equal(CTL("token", "create", "x", "--role", "root"), 2);
	assert_int_equal(CTL("token", "revoke", "ci-pipeline"), 0);
	assert_non_null(strstr(out, "revoked ci-pipeline"));
	assert_int_equal(ctl_as(secret, (const char *const[]){ "flag", "list",
		NULL }), 1);
	assert_int_equal(CTL("token", "revoke", "ci-pipeline"), 1);
}

static void test_audit_command(void **state)
{
	cJSON *doc;

	(void)state;
	assert_int_equal(CTL("flag", "create", "ck", "--rollout", "5"), 0);
	assert_int_equal(CTL("flag", "set", "ck", "--rollout", "25"), 0);
	assert_int_equal(CTL("audit", "ck"), 0);
	assert_non_null(strstr(out, "ACTOR"));
	assert_non_null(strstr(out, "flag.update"));
	assert_non_null(strstr(out, "rollout_bp 500 -> 2500"));
	assert_non_null(strstr(out, "flag.create"));
	assert_int_equal(CTL("--json", "audit", "ck", "--limit", "1"), 0);
	doc = cJSON_Parse(out);
	assert_non_null(doc);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(doc,
		"entries")), 1);
	assert_true(cJSON_IsNumber(cJSON_GetObjectItem(doc, "next")));
	cJSON_Delete(doc);
	assert_int_equal(CTL("audit", "--actor", "controller"), 0);
	assert_null(strstr(out, "flag.update"));
	assert_int_equal(CTL("audit", "--limit", "0"), 2);
	assert_int_equal(CTL("audit", "--colour"), 2);
}

static void test_webhook_commands(void **state)
{
	cJSON *doc;
	char id[16];

	(void)state;
	assert_int_equal(CTL("webhook", "add", "https://hooks.example/deploys",
		"--events", "rolled_back,completed"), 0);
	assert_non_null(strstr(out, "whsec_"));
	assert_int_equal(CTL("--json", "webhook", "list"), 0);
	doc = cJSON_Parse(out);
	snprintf(id, sizeof(id), "%.0f", cJSON_GetObjectItem(cJSON_GetArrayItem(
		cJSON_GetObjectItem(doc, "webhooks"), 0), "id")->valuedouble);
	assert_null(strstr(out, "whsec_"));
	cJSON_Delete(doc);
	assert_int_equal(CTL("webhook", "list"), 0);
	assert_non_null(strstr(out, "rolled_back,completed"));
	assert_int_equal(CTL("webhook", "deliveries", id), 0);
	assert_non_null(strstr(out, "EVENT"));
	assert_int_equal(CTL("webhook", "add", "ftp://x/"), 1);
	assert_int_equal(CTL("webhook", "add", "https://h/", "--events", ",,"),
		2);
	assert_int_equal(CTL("webhook", "delete", id), 0);
	assert_int_equal(CTL("webhook", "delete", id), 1);
	assert_int_equal(CTL("webhook", "delete", "x"), 2);
}

/* rollout wait: 0 completed, 1 rolled back, 4 paused or timed out. */
static void test_rollout_wait(void **state)
{
	static const struct {
		const char *flag, *op, *body;
		int want;
	} cases[] = {
		{ "w-done", "promote", "{\"to\":\"full\"}", 0 },
		{ "w-back", "rollback", NULL, 1 },
		{ "w-held", "pause", NULL, 4 },
	};
	char file[300], text[8192], path[128];
	cJSON *doc;
	size_t i;
	pid_t pid;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		flag_with_rollout(cases[i].flag);
		snprintf(file, sizeof(file), "%s/wait.out", it_server.dir);
		pid = ctl_spawn(file, (const char *const[]){ "rollout", "wait",
			cases[i].flag, "--timeout", "30s", NULL });
		await_text(file, "running");
		snprintf(path, sizeof(path), "/v1/admin/rollouts/%s/%s",
			cases[i].flag, cases[i].op);
		assert_int_equal(admin("POST", path, cases[i].body), 200);
		assert_int_equal(ctl_reap(pid), cases[i].want);
		read_file(file, text, sizeof(text));
		assert_non_null(strstr(text, cases[i].want == 0 ? "completed" :
			cases[i].want == 1 ? "rolled_back" : "paused"));
	}
	/* Timed out: 4, and it says so. */
	flag_with_rollout("w-slow");
	assert_int_equal(CTL("rollout", "wait", "w-slow", "--timeout",
		"300ms"), 4);
	assert_non_null(strstr(out, "timed out"));
	assert_int_equal(CTL("--json", "rollout", "wait", "w-slow",
		"--timeout", "100ms"), 4);
	doc = cJSON_Parse(out);
	assert_string_equal(cJSON_GetObjectItem(doc, "state")->valuestring,
		"running");
	cJSON_Delete(doc);
	assert_int_equal(CTL("rollout", "wait", "w-slow", "--timeout", "soon"),
		2);
	/* No rollout: the server's refusal. */
	assert_int_equal(CTL("rollout", "wait", "no-such-flag"), 1);
}

static void test_status_watch(void **state)
{
	char file[300], text[32768];
	pid_t pid;

	(void)state;
	flag_with_rollout("watched");
	snprintf(file, sizeof(file), "%s/watch.out", it_server.dir);
	pid = ctl_spawn(file, (const char *const[]){ "rollout", "status",
		"watched", "--watch", NULL });
	await_text(file, "state running");
	assert_int_equal(admin("POST", "/v1/admin/rollouts/watched/pause",
		NULL), 200);
	await_text(file, "state paused");
	assert_int_equal(admin("POST", "/v1/admin/rollouts/watched/promote",
		"{\"to\":\"full\"}"), 200);
	assert_int_equal(ctl_reap(pid), 0);
	read_file(file, text, sizeof(text));
	/* Drawn again as each decision arrived, the last one complete. */
	assert_non_null(strstr(text, "state running"));
	assert_non_null(strstr(text, "state paused"));
	assert_non_null(strstr(text, "state completed"));
	assert_non_null(strstr(text, "TIME"));
}

static void test_helpful(void **state)
{
	const char *slash[] = { CANARYCTL_BIN, "--server", NULL, "--token",
		ADMIN_TOKEN, "flag", "list", NULL };
	char base[96];
	cJSON *doc;
	char err[2048];

	(void)state;
	assert_int_equal(CTL("help", "rollout"), 0);
	assert_non_null(strstr(out, "rollout wait FLAG"));
	assert_null(strstr(out, "token create"));
	assert_int_equal(CTL("token", "--help"), 0);
	assert_non_null(strstr(out, "token create NAME"));
	assert_null(strstr(out, "rollout start"));
	assert_int_equal(CTL("help"), 0);
	assert_non_null(strstr(out, "webhook add URL"));
	assert_int_equal(CTL("help", "frobnicate"), 2);
	assert_int_equal(CTL("frobnicate"), 2);
	/* A trailing slash on --server is fine. */
	snprintf(base, sizeof(base), "%s/", it_server.base);
	slash[2] = base;
	assert_int_equal(run_capture(slash, NULL, out, sizeof(out)), 0);
	assert_non_null(strstr(out, "config version"));

	/* Bad values and unknown commands say what and why, on stderr; as
	 * JSON with --json. */
	assert_int_equal(ctl_stderr((const char *const[]){ "--json", "flag",
		"set", "x", "--rollout", "150", NULL }, err, sizeof(err)), 2);
	doc = cJSON_Parse(err);
	assert_non_null(doc);
	assert_string_equal(cJSON_GetObjectItem(doc, "error")->valuestring,
		"--rollout 150: must be 0..100 in steps of 0.01");
	cJSON_Delete(doc);
	assert_int_equal(ctl_stderr((const char *const[]){ "--json", "flag",
		"get", "nope", NULL }, err, sizeof(err)), 1);
	doc = cJSON_Parse(err);
	assert_non_null(doc);
	assert_int_equal(cJSON_GetObjectItem(doc, "status")->valuedouble, 404);
	cJSON_Delete(doc);
	assert_int_equal(ctl_stderr((const char *const[]){ "frobnicate",
		NULL }, err, sizeof(err)), 2);
	assert_non_null(strstr(err, "unknown command 'frobnicate'"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tokens),
		cmocka_unit_test(test_audit_command),
		cmocka_unit_test(test_webhook_commands),
		cmocka_unit_test(test_rollout_wait),
		cmocka_unit_test(test_status_watch),
		cmocka_unit_test(test_helpful),
	};

	return cmocka_run_group_tests(tests, it_setup, it_teardown);
}
