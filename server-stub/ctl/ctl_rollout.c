/*
 * ctl_rollout.c - canaryctl rollout start|status|list|pause|resume|
 * promote|rollback.
 *
 * `status` prints the decision history as a table, one row per decision:
 *   TIME      STEP  ERRORS (canary vs stable)  P95 (canary vs stable) ...
 *   09:20:01  25%   errors 0.21% vs 0.19%      p95 250ms vs 248ms  PASS  widen
 * Times are UTC.
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl/ctl_commands.h"
#include "ctl/ctl_table.h"

/* "1,5,25" → [1, 5, 25]; NULL when a number is malformed. */
static cJSON *number_list(const char *csv)
{
	cJSON *arr = cJSON_CreateArray();
	const char *p = csv;

	while (arr && *p) {
		char *end;
		double v = strtod(p, &end);

		if (end == p || (*end && *end != ',') ||
		    !cJSON_AddItemToArray(arr, cJSON_CreateNumber(v))) {
			cJSON_Delete(arr);
			return NULL;
		}
		p = *end ? end + 1 : end;
	}
	return arr;
}

/* --gate NAME=VALUE (VALUE a number, or a list for lat_ratio). */
static bool add_gate(cJSON *gates, const char *spec)
{
	const char *eq = strchr(spec, '=');
	char name[64];
	cJSON *v;

	if (!eq || eq == spec || (size_t)(eq - spec) >= sizeof(name))
		return false;
	memcpy(name, spec, (size_t)(eq - spec));
	name[eq - spec] = '\0';
	v = number_list(eq + 1);
	if (v && strcmp(name, "lat_ratio") != 0) {
		/* A scalar gate: the list must hold exactly one number. */
		cJSON *one = cJSON_GetArraySize(v) == 1 ?
			cJSON_DetachItemFromArray(v, 0) : NULL;

		cJSON_Delete(v);
		v = one;
	}
	if (!v)
		return false;
	cJSON_DeleteItemFromObject(gates, name);
	return cJSON_AddItemToObject(gates, name, v);
}

static bool start_option(cJSON *body, cJSON *gates, const char *opt,
	const char *val)
{
	static const char *const durs[][2] = {
		{ "--min-soak", "min_soak" }, { "--max-step", "max_step" },
		{ "--interval", "interval" }, { "--on-fail", "on_fail" },
		{ "--sustain", "sustain" }, { "--grace", "grace" },
		{ "--on-stall", "on_stall" }, { "--bake", "bake" },
		{ "--max-wait", "max_wait" },
	};
	size_t i;

	if (strcmp(opt, "--steps") == 0) {
		cJSON *steps = number_list(val);

		return steps && cJSON_AddItemToObject(body, "steps", steps);
	}
	if (strcmp(opt, "--gate") == 0)
		return add_gate(gates, val);
	for (i = 0; i < sizeof(durs) / sizeof(durs[0]); i++)
		if (strcmp(opt, durs[i][0]) == 0)
			return cJSON_AddStringToObject(body, durs[i][1], val) != NULL;
	return false;
}

static char *start_body(const char *flag, int argc, char **argv)
{
	cJSON *body = cJSON_CreateObject(), *gates = cJSON_CreateObject();
	char *text = NULL;
	bool ok = body && gates && cJSON_AddStringToObject(body, "flag", flag);
	int i;

	for (i = 0; ok && i < argc; i += 2)
		ok = i + 1 < argc && start_option(body, gates, argv[i],
			argv[i + 1]);
	if (ok && cJSON_GetArraySize(gates) > 0) {
		ok = cJSON_AddItemToObject(body, "gates", gates);
		gates = ok ? NULL : gates;
	}
	if (ok)
		text = cJSON_PrintUnformatted(body);
	cJSON_Delete(gates);
	cJSON_Delete(body);
	return text;
}

static void fmt_pct(double p, char *out, size_t len)
{
	if (isnan(p))
		snprintf(out, len, "-");
	else
		snprintf(out, len, "%g%%", p);
}

static void fmt_ms(double v, char *out, size_t len)
{
	if (isnan(v))
		snprintf(out, len, "-");
	else
		snprintf(out, len, v >= 10 ? "%.0fms" : "%.3gms", v);
}

/* What the last decision estimated the step still needs (decide_ms), and
 * a step that would decide sooner; nothing when the rollout is over or
 * no decision estimated it. */
static void print_decide(const cJSON *doc)
{
	const cJSON *all = cJSON_GetObjectItemCaseSensitive(doc, "decisions");
	const cJSON *last = cJSON_GetArrayItem(all, cJSON_GetArraySize(all) - 1);
	double ms = ctl_num(last, "decide_ms");
	double suggest = ctl_num(last, "suggest_percent");
	const char *state = ctl_str(doc, "state", "");

	if (!last || isnan(ms) || (strcmp(state, "running") != 0 &&
	    strcmp(state, "paused") != 0))
		return;
	if (ms < 0)
		fputs("time to decide: unknown (no traffic yet)", stdout);
	else if (ms == 0)
		fputs("time to decide: now", stdout);
	else if (ms < 120000)
		printf("time to decide: about %.0f s at the observed traffic",
			ms / 1000);
	else
		printf("time to decide: about %.0f min at the observed traffic",
			ms / 60000);
	if (!isnan(suggest))
		printf(" (a step of %g%% would decide within max_step)",
			suggest);
	fputc('\n', stdout);
}

static void print_summary(const cJSON *doc)
{
	char pct[32];

	fmt_pct(ctl_num(doc, "percent"), pct, sizeof(pct));
	fputs("flag ", stdout);
	ctl_put(ctl_str(doc, "flag", "?"), stdout);
	fputs("  state ", stdout);
	ctl_put(ctl_str(doc, "state", "?"), stdout);
	printf("  step %.0f/%.0f  canary %s\nreason: ", ctl_num(doc, "step") + 1,
		ctl_num(doc, "steps_total"), pct);
	ctl_put(ctl_str(doc, "reason", ""), stdout);
	fputc('\n', stdout);
	print_decide(doc);
}

/* One decision → the table row. */
static void decision_row(ctl_table *t, const cJSON *d)
{
	const cJSON *arms = cJSON_GetObjectItemCaseSensitive(d, "arms");
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(arms, "stable");
	const cJSON *cn = cJSON_GetObjectItemCaseSensitive(arms, "canary");
	char when[16] = "-", step[32], errs[64] = "-", p95[64] = "-";
	char a[24], b[24];
	double ms = ctl_num(d, "time_ms");
	time_t sec = (time_t)(ms / 1000);
	struct tm tm;
	const char *cells[7];

	if (!isnan(ms) && gmtime_r(&sec, &tm))
		strftime(when, sizeof(when), "%H:%M:%S", &tm);
	fmt_pct(ctl_num(d, "percent"), step, sizeof(step));
	if (arms) {
		snprintf(a, sizeof(a), "%.2f%%", 100 * ctl_num(cn, "error_rate"));
		snprintf(b, sizeof(b), "%.2f%%", 100 * ctl_num(s, "error_rate"));
		snprintf(errs, sizeof(errs), "errors %s vs %s",
			isnan(ctl_num(cn, "error_rate")) ? "-" : a,
			isnan(ctl_num(s, "error_rate")) ? "-" : b);
		fmt_ms(ctl_num(cn, "p95_ms"), a, sizeof(a));
		fmt_ms(ctl_num(s, "p95_ms"), b, sizeof(b));
		snprintf(p95, sizeof(p95), "p95 %s vs %s", a, b);
	}
	cells[0] = when;
	cells[1] = step;
	cells[2] = errs;
	cells[3] = p95;
	cells[4] = ctl_str(d, "verdict", "-");
	cells[5] = ctl_str(d, "action", "?");
	cells[6] = ctl_str(d, "rule", "");
	ctl_table_row(t, cells);
}

static void print_status(const cJSON *doc)
{
	static const char *const head[] = { "TIME", "STEP",
		"ERRORS (canary vs stable)", "P95 (canary vs stable)", "VERDICT",
		"ACTION", "RULE" };
	const cJSON *d;
	ctl_table t;

	print_summary(doc);
	if (ctl_num(doc, "decisions_total") >
	    cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(doc,
		    "decisions")))
		printf("(last %d of %.0f decisions)\n", cJSON_GetArraySize(
			cJSON_GetObjectItemCaseSensitive(doc, "decisions")),
			ctl_num(doc, "decisions_total"));
	ctl_table_init(&t, 7, head);
	cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(doc,
		"decisions"))
		decision_row(&t, d);
	ctl_table_print(&t, stdout);
	ctl_table_free(&t);
}

static void print_list(const cJSON *doc)
{
	static const char *const head[] = { "FLAG", "STATE", "STEP",
		"CANARY", "REASON" };
	const cJSON *r;
	ctl_table t;

	ctl_table_init(&t, 5, head);
	cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(doc,
		"rollouts")) {
		char step[32], pct[32];
		const char *cells[5];

		snprintf(step, sizeof(step), "%.0f/%.0f", ctl_num(r, "step") + 1,
			ctl_num(r, "steps_total"));
		fmt_pct(ctl_num(r, "percent"), pct, sizeof(pct));
		cells[0] = ctl_str(r, "flag", "?");
		cells[1] = ctl_str(r, "state", "?");
		cells[2] = step;
		cells[3] = pct;
		cells[4] = ctl_str(r, "reason", "");
		ctl_table_row(&t, cells);
	}
	ctl_table_print(&t, stdout);
	ctl_table_free(&t);
}

/* METHOD /v1/admin/rollouts[/FLAG[/OP or ?QUERY]], then print. */
static int rollout_call(const ctl *c, const char *method, const char *flag,
	const char *op, const char *body, void (*print)(const cJSON *))
{
	cJSON *doc = NULL;
	ctl_path path;
	int rc;

	ctl_path_init(&path);
	ctl_path_add(&path, "/v1/admin/rollouts");
	if (flag) {
		ctl_path_add(&path, "/");
		if (!ctl_path_key(&path, flag))
			return CTL_SHOW_USAGE;
	}
	if (op)
		ctl_path_add(&path, "%s%s", op[0] != '?' ? "/" : "", op);
	if (path.overflow)
		return CTL_SHOW_USAGE;
	rc = ctl_call(c, method, path.s, body, &doc);
	if (rc == 0) {
		if (c->json)
			ctl_print_json(doc);
		else
			print(doc);
	}
	cJSON_Delete(doc);
	return rc;
}

static int cmd_start(const ctl *c, const char *flag, int argc, char **argv)
{
	char *body = start_body(flag, argc, argv);
	int rc;

	if (!body)
		return CTL_SHOW_USAGE;
	rc = rollout_call(c, "POST", NULL, NULL, body, print_summary);
	cJSON_free(body);
	return rc;
}

int ctl_rollout(const ctl *c, int argc, char **argv)
{
	const char *sub = argv[0];

	if (strcmp(sub, "list") == 0 && argc == 1)
		return rollout_call(c, "GET", NULL, NULL, NULL, print_list);
	if (argc < 2)
		return CTL_SHOW_USAGE;
	if (strcmp(sub, "start") == 0)
		return cmd_start(c, argv[1], argc - 2, argv + 2);
	if (strcmp(sub, "status") == 0 && argc == 2)
		return rollout_call(c, "GET", argv[1], NULL, NULL, print_status);
	if (strcmp(sub, "status") == 0 && argc == 4 &&
	    strcmp(argv[2], "--last") == 0) {
		char q[40];

		if (!ctl_uint(argv[3]))
			return CTL_SHOW_USAGE;
		snprintf(q, sizeof(q), "?last=%s", argv[3]);
		return rollout_call(c, "GET", argv[1], q, NULL, print_status);
	}
	if (strcmp(sub, "promote") == 0 && (argc == 2 ||
	    (argc == 3 && strcmp(argv[2], "--full") == 0)))
		return rollout_call(c, "POST", argv[1], "promote",
			argc == 3 ? "{\"to\":\"full\"}" : "", print_summary);
	if ((strcmp(sub, "pause") == 0 || strcmp(sub, "resume") == 0 ||
	     strcmp(sub, "rollback") == 0) && argc == 2)
		return rollout_call(c, "POST", argv[1], sub, "", print_summary);
	return CTL_SHOW_USAGE;
}
