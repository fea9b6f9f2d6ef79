/*
 * ctl_rollout.c - canaryctl rollout start|status|list|pause|resume|
 * promote|rollback (wait and status --watch: ctl_follow.c).
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

/* "500ms", "2s", "5m", "1h": a positive integer and a unit. */
static bool is_duration(const char *s)
{
	size_t n = strspn(s, "0123456789");

	return n > 0 && n <= 12 && *s != '0' && (strcmp(s + n, "ms") == 0 ||
		strcmp(s + n, "s") == 0 || strcmp(s + n, "m") == 0 ||
		strcmp(s + n, "h") == 0);
}

/* One start option with its value: 0, or what main returns. */
static int start_option(const ctl *c, cJSON *body, cJSON *gates,
	const char *opt, const char *val)
{
	static const char *const durs[][2] = {
		{ "--min-soak", "min_soak" }, { "--max-step", "max_step" },
		{ "--interval", "interval" }, { "--sustain", "sustain" },
		{ "--grace", "grace" }, { "--bake", "bake" },
		{ "--max-wait", "max_wait" },
	};
	cJSON *steps;
	size_t i;

	if (strcmp(opt, "--steps") == 0) {
		steps = val ? number_list(val) : NULL;
		if (!steps || !cJSON_GetArraySize(steps)) {
			cJSON_Delete(steps);
			return ctl_bad_value(c, opt, val, "must be percents, e.g. "
				"1,5,25,50,100");
		}
		cJSON_DeleteItemFromObject(body, "steps");
		return cJSON_AddItemToObject(body, "steps", steps) ? 0 :
			EXIT_USAGE;
	}
	if (strcmp(opt, "--widen-undecided") == 0) {
		double bp;

		if (!val || !ctl_percent(val, &bp) || bp > 5000)
			return ctl_bad_value(c, opt, val, "must be 0..50 in "
				"steps of 0.01 (0: off)");
		cJSON_DeleteItemFromObject(body, "widen_undecided");
		return cJSON_AddNumberToObject(body, "widen_undecided",
			bp / 100.0) ? 0 : EXIT_USAGE;
	}
	if (strcmp(opt, "--gate") == 0)
		return val && add_gate(gates, val) ? 0 : ctl_bad_value(c, opt,
			val, "must be NAME=NUMBER, or lat_ratio=P50,P95,P99");
	if (strcmp(opt, "--on-fail") == 0 || strcmp(opt, "--on-stall") == 0) {
		const char *name = opt[5] == 'f' ? "on_fail" : "on_stall";

		if (!val || (strcmp(val, "rollback") != 0 &&
			     strcmp(val, "pause") != 0))
			return ctl_bad_value(c, opt, val, "must be rollback or "
				"pause");
		cJSON_DeleteItemFromObject(body, name);
		return cJSON_AddStringToObject(body, name, val) ? 0 :
			EXIT_USAGE;
	}
	for (i = 0; i < sizeof(durs) / sizeof(durs[0]); i++) {
		if (strcmp(opt, durs[i][0]) != 0)
			continue;
		if (!val || !is_duration(val))
			return ctl_bad_value(c, opt, val, "must be a positive "
				"integer and a unit: 500ms, 2s, 5m, 1h");
		cJSON_DeleteItemFromObject(body, durs[i][1]);
		return cJSON_AddStringToObject(body, durs[i][1], val) ? 0 :
			EXIT_USAGE;
	}
	return ctl_usage_error(c, "unknown rollout option %s (canaryctl help "
		"rollout)", opt);
}

/* The body of POST /v1/admin/rollouts; NULL after saying why (*rc). */
static char *start_body(const ctl *c, const char *flag, int argc,
	char **argv, int *rc)
{
	cJSON *body = cJSON_CreateObject(), *gates = cJSON_CreateObject();
	char *text = NULL;
	int i;

	*rc = body && gates && cJSON_AddStringToObject(body, "flag", flag) ?
		0 : EXIT_USAGE;
	for (i = 0; *rc == 0 && i < argc; i += 2)
		*rc = start_option(c, body, gates, argv[i], i + 1 < argc ?
			argv[i + 1] : NULL);
	if (*rc == 0 && cJSON_GetArraySize(gates) > 0) {
		*rc = cJSON_AddItemToObject(body, "gates", gates) ? 0 :
			EXIT_USAGE;
		gates = *rc ? gates : NULL;
	}
	if (*rc == 0)
		text = cJSON_PrintUnformatted(body);
	if (*rc == 0 && !text)
		*rc = EXIT_USAGE;
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
	printf("flag %s  state %s  step %.0f/%.0f  canary %s\nreason: %s\n",
		ctl_safe_tmp(ctl_str(doc, "flag", "?")),
		ctl_safe_tmp(ctl_str(doc, "state", "?")),
		ctl_num(doc, "step") + 1, ctl_num(doc, "steps_total"), pct,
		ctl_safe_tmp(ctl_str(doc, "reason", "")));
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

void ctl_print_status(const cJSON *doc)
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
	int rc;
	char *body = start_body(c, flag, argc, argv, &rc);

	if (!body)
		return rc;
	rc = rollout_call(c, "POST", NULL, NULL, body, print_summary);
	cJSON_free(body);
	return rc;
}

/* rollout status FLAG [--last N] [--watch] */
static int cmd_status(const ctl *c, const char *flag, int argc, char **argv)
{
	char q[40] = "";
	bool watch = false;
	uint64_t last;
	int i, rc = 0;

	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--watch") == 0) {
			watch = true;
		} else if (strcmp(argv[i], "--last") == 0) {
			if (!ctl_uint_opt(c, "--last", i + 1 < argc ?
				    argv[i + 1] : NULL, 1, 1000000, &last, &rc))
				return rc;
			snprintf(q, sizeof(q), "?last=%llu",
				(unsigned long long)last);
			i++;
		} else {
			return ctl_usage_error(c, "unknown status option %s "
				"(canaryctl help rollout)", argv[i]);
		}
	}
	if (watch)
		return ctl_rollout_watch(c, flag, q);
	return rollout_call(c, "GET", flag, q[0] ? q : NULL, NULL,
		ctl_print_status);
}

int ctl_rollout(const ctl *c, int argc, char **argv)
{
	const char *sub = argc ? argv[0] : "";

	if (strcmp(sub, "list") == 0 && argc == 1)
		return rollout_call(c, "GET", NULL, NULL, NULL, print_list);
	if (argc < 2 || argv[1][0] == '-')
		return CTL_SHOW_USAGE;
	if (strcmp(sub, "start") == 0)
		return cmd_start(c, argv[1], argc - 2, argv + 2);
	if (strcmp(sub, "status") == 0)
		return cmd_status(c, argv[1], argc - 2, argv + 2);
	if (strcmp(sub, "wait") == 0)
		return ctl_rollout_wait(c, argv[1], argc - 2, argv + 2);
	if (strcmp(sub, "promote") == 0 && (argc == 2 ||
	    (argc == 3 && strcmp(argv[2], "--full") == 0)))
		return rollout_call(c, "POST", argv[1], "promote",
			argc == 3 ? "{\"to\":\"full\"}" : "", print_summary);
	if ((strcmp(sub, "pause") == 0 || strcmp(sub, "resume") == 0 ||
	     strcmp(sub, "rollback") == 0) && argc == 2)
		return rollout_call(c, "POST", argv[1], sub, "", print_summary);
	return CTL_SHOW_USAGE;
}
