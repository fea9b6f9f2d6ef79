/*
 * ctl_team.c - canaryctl token, audit and webhook: named tokens (the
 * token and a webhook's secret are printed once, when made), the audit
 * log as a table (newest first, one line per change, what changed before
 * and after), webhooks and their deliveries.
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl/ctl_commands.h"
#include "ctl/ctl_table.h"

/* "2026-05-01 09:10:02" (UTC) of a time in ms, or "-". */
static void fmt_time(double ms, char *out, size_t len)
{
	time_t sec = (time_t)(ms / 1000);
	struct tm tm;

	if (isnan(ms) || !gmtime_r(&sec, &tm))
		snprintf(out, len, "-");
	else
		strftime(out, len, "%Y-%m-%d %H:%M:%S", &tm);
}

/* Call, then print JSON or the table `print` makes. */
static int call_print(const ctl *c, const char *method, const char *path,
	const char *body, void (*print)(const cJSON *doc))
{
	cJSON *doc = NULL;
	int rc = ctl_call(c, method, path, body, &doc);

	if (rc == 0 && c->json)
		ctl_print_json(doc);
	else if (rc == 0)
		print(doc);
	cJSON_Delete(doc);
	return rc;
}

/* ---- token ------------------------------------------------------------ */

static void print_created_token(const cJSON *doc)
{
	printf("token %s (%s):\n%s\nThis is the only time it is shown: keep "
		"it now (CANARY_ADMIN_TOKEN).\n",
		ctl_safe_tmp(ctl_str(doc, "name", "?")),
		ctl_safe_tmp(ctl_str(doc, "role", "?")),
		ctl_safe_tmp(ctl_str(doc, "token", "?")));
}

static void print_tokens(const cJSON *doc)
{
	static const char *const head[] = { "NAME", "ROLE", "ID", "CREATED",
		"BY" };
	const cJSON *t;
	ctl_table tab;

	ctl_table_init(&tab, 5, head);
	cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(doc, "tokens")) {
		char when[32];
		const char *cells[5];

		fmt_time(ctl_num(t, "created_ms"), when, sizeof(when));
		cells[0] = ctl_str(t, "name", "");
		cells[1] = ctl_str(t, "role", "");
		cells[2] = ctl_str(t, "id", "");
		cells[3] = when;
		cells[4] = ctl_str(t, "created_by", "");
		ctl_table_row(&tab, cells);
	}
	ctl_table_print(&tab, stdout);
	ctl_table_free(&tab);
}

static void print_revoked(const cJSON *doc)
{
	printf("revoked %s (%s)\n", ctl_safe_tmp(ctl_str(doc, "name", "?")),
		ctl_safe_tmp(ctl_str(doc, "role", "?")));
}

static int token_create(const ctl *c, const char *name, int argc,
	char **argv)
{
	cJSON *body;
	char *text;
	int rc;

	if (argc < 1 || strcmp(argv[0], "--role") != 0 || argc > 2)
		return ctl_usage_error(c, "token create NAME --role "
			"reader|operator|admin");
	if (argc < 2 || (strcmp(argv[1], "reader") != 0 &&
			 strcmp(argv[1], "operator") != 0 &&
			 strcmp(argv[1], "admin") != 0))
		return ctl_bad_value(c, "--role", argc < 2 ? NULL : argv[1],
			"must be reader, operator or admin");
	body = cJSON_CreateObject();
	if (!body || !cJSON_AddStringToObject(body, "name", name) ||
	    !cJSON_AddStringToObject(body, "role", argv[1]) ||
	    !(text = cJSON_PrintUnformatted(body))) {
		cJSON_Delete(body);
		return EXIT_USAGE;
	}
	rc = call_print(c, "POST", "/v1/admin/tokens", text,
		print_created_token);
	cJSON_free(text);
	cJSON_Delete(body);
	return rc;
}

int ctl_token(const ctl *c, int argc, char **argv)
{
	const char *sub = argc ? argv[0] : "";
	ctl_path path;

	if (strcmp(sub, "list") == 0 && argc == 1)
		return call_print(c, "GET", "/v1/admin/tokens", NULL,
			print_tokens);
	if (strcmp(sub, "create") == 0 && argc >= 2 && argv[1][0] != '-')
		return token_create(c, argv[1], argc - 2, argv + 2);
	if (strcmp(sub, "revoke") != 0 || argc != 2)
		return CTL_SHOW_USAGE;
	ctl_path_init(&path);
	ctl_path_add(&path, "/v1/admin/tokens/");
	if (!ctl_path_key(&path, argv[1]))
		return EXIT_USAGE;
	if (path.overflow)
		return ctl_usage_error(c, "the request would be too long");
	return call_print(c, "DELETE", path.s, NULL, print_revoked);
}

/* ---- audit ------------------------------------------------------------ */

/* `v` as short text: a string as itself, anything else as JSON. */
static void value_text(const cJSON *v, char *out, size_t len)
{
	char *j;

	if (cJSON_IsString(v)) {
		snprintf(out, len, "%s", *v->valuestring ? v->valuestring :
			"\"\"");
		return;
	}
	j = v ? cJSON_PrintUnformatted(v) : NULL;
	snprintf(out, len, "%s", j ? j : "-");
	cJSON_free(j);
}

/* "rollout running 5% -> running 25%", or "rollout started at 5%". */
static size_t rollout_text(const cJSON *ro, const char *sep, char *out,
	size_t len)
{
	const cJSON *b = cJSON_GetObjectItemCaseSensitive(ro, "before");
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(ro, "after");

	if (!cJSON_IsObject(b))
		return (size_t)snprintf(out, len, "%srollout %s at %g%%", sep,
			ctl_str(a, "state", "-"), ctl_num(a, "percent"));
	return (size_t)snprintf(out, len, "%srollout %s %g%% -> %s %g%%", sep,
		ctl_str(b, "state", "-"), ctl_num(b, "percent"),
		ctl_str(a, "state", "-"), ctl_num(a, "percent"));
}

/* What changed: "rollout_bp 100 -> 2500, state running -> paused", the
 * rollout's move, a token or webhook made or removed, "forced". */
static void change_text(const cJSON *e, char *out, size_t len)
{
	const cJSON *before = cJSON_GetObjectItemCaseSensitive(e, "before");
	const cJSON *after = cJSON_GetObjectItemCaseSensitive(e, "after");
	const cJSON *ro = cJSON_GetObjectItemCaseSensitive(e, "rollout");
	const cJSON *m;
	size_t n = 0;
	char a[128], b[128];

	out[0] = '\0';
	if (cJSON_IsObject(before) && cJSON_IsObject(after)) {
		cJSON_ArrayForEach(m, after) {
			const cJSON *was = cJSON_GetObjectItemCaseSensitive(
				before, m->string);

			/* A segment's record has all of it: say what moved. */
			if (was && cJSON_Compare(was, m, 1))
				continue;
			value_text(was, a, sizeof(a));
			value_text(m, b, sizeof(b));
			n += (size_t)snprintf(out + n, n < len ? len - n : 0,
				"%s%s %s -> %s", n ? ", " : "", m->string, a, b);
		}
	} else if (cJSON_IsObject(after) || cJSON_IsObject(before)) {
		const cJSON *x = cJSON_IsObject(after) ? after : before;

		n += (size_t)snprintf(out, len, "%s %s",
			cJSON_IsObject(after) ? "made" : "removed",
			ctl_str(x, "name", ctl_str(x, "url", ctl_str(x, "key",
			""))));
	}
	if (cJSON_IsObject(ro) && n < len)
		n += rollout_text(ro, n ? "; " : "", out + n, len - n);
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "forced")) &&
	    n < len)
		snprintf(out + n, len - n, " (forced)");
}

/* What a record is about: its flag, "segment NAME", or "-". */
static const char *subject_text(const cJSON *e, char *out, size_t len)
{
	const char *seg = ctl_str(e, "segment", NULL);

	if (!seg)
		return ctl_str(e, "flag", "-");
	snprintf(out, len, "segment %s", seg);
	return out;
}

static void print_audit(const cJSON *doc)
{
	static const char *const head[] = { "ID", "TIME", "ACTOR", "ACTION",
		"SUBJECT", "VERSION", "CHANGE" };
	const cJSON *e;
	ctl_table t;

	ctl_table_init(&t, 7, head);
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(doc,
		"entries")) {
		char id[24], when[32], ver[24], what[512], subject[300];
		const char *cells[7];

		snprintf(id, sizeof(id), "%.0f", ctl_num(e, "id"));
		fmt_time(ctl_num(e, "time_ms"), when, sizeof(when));
		snprintf(ver, sizeof(ver), "%.0f", ctl_num(e, "config_version"));
		change_text(e, what, sizeof(what));
		cells[0] = id;
		cells[1] = when;
		cells[2] = ctl_str(e, "actor", "");
		cells[3] = ctl_str(e, "action", "");
		cells[4] = subject_text(e, subject, sizeof(subject));
		cells[5] = ver;
		cells[6] = what[0] ? what : ctl_str(e, "reason", "");
		ctl_table_row(&t, cells);
	}
	ctl_table_print(&t, stdout);
	ctl_table_free(&t);
	if (!isnan(ctl_num(doc, "next")))
		printf("(more: --before %.0f)\n", ctl_num(doc, "next"));
}

/* Append "&name=value" (URL-escaped) to the query. */
static bool add_query(char *q, size_t cap, const char *name,
	const char *value)
{
	char *v = ctl_escape(value);
	size_t n = strlen(q);
	bool ok = v && (size_t)snprintf(q + n, cap - n, "%c%s=%s",
		n ? '&' : '?', name, v) < cap - n;

	free(v);
	return ok;
}

int ctl_audit(const ctl *c, int argc, char **argv)
{
	static const struct {
		const char *opt, *name;
		uint64_t min, max;
	} nums[] = {
		{ "--since", "since", 0, 9007199254740991ull },
		{ "--until", "until", 0, 9007199254740991ull },
		{ "--limit", "limit", 1, 1000 },
		{ "--before", "before", 1, 9007199254740991ull },
	};
	static const struct {
		const char *opt, *name, *what;
	} strs[] = {
		{ "--actor", "actor", "a token's name, or controller" },
		{ "--segment", "segment", "a segment's name" },
	};
	char q[1200] = "", path[1300], num[24];
	uint64_t v;
	size_t k;
	int i, rc = 0;

	for (i = 0; i < argc; i++) {
		const char *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (argv[i][0] != '-' && i == 0) {
			if (!add_query(q, sizeof(q), "flag", argv[i]))
				return ctl_usage_error(c, "audit: too long");
			continue;
		}
		for (k = 0; k < sizeof(strs) / sizeof(strs[0]) &&
		     strcmp(argv[i], strs[k].opt) != 0; k++)
			;
		if (k < sizeof(strs) / sizeof(strs[0])) {
			if (!val)
				return ctl_bad_value(c, strs[k].opt, val,
					strs[k].what);
			if (!add_query(q, sizeof(q), strs[k].name, val))
				return ctl_usage_error(c, "audit: too long");
			i++;
			continue;
		}
		for (k = 0; k < sizeof(nums) / sizeof(nums[0]) &&
		     strcmp(argv[i], nums[k].opt) != 0; k++)
			;
		if (k == sizeof(nums) / sizeof(nums[0]))
			return ctl_usage_error(c, "unknown audit option %s "
				"(canaryctl help audit)", argv[i]);
		if (!ctl_uint_opt(c, nums[k].opt, val, nums[k].min, nums[k].max,
			    &v, &rc))
			return rc;
		snprintf(num, sizeof(num), "%llu", (unsigned long long)v);
		add_query(q, sizeof(q), nums[k].name, num);
		i++;
	}
	snprintf(path, sizeof(path), "/v1/admin/audit%s", q);
	return call_print(c, "GET", path, NULL, print_audit);
}

/* ---- webhook ---------------------------------------------------------- */

static void join_events(const cJSON *arr, char *out, size_t len)
{
	const cJSON *e;
	size_t n = 0;

	out[0] = '\0';
	cJSON_ArrayForEach(e, arr)
		if (cJSON_IsString(e) && n < len)
			n += (size_t)snprintf(out + n, len - n, "%s%s",
				n ? "," : "", e->valuestring);
}

static void print_added_hook(const cJSON *doc)
{
	printf("webhook %.0f to %s\nsigning secret (shown once: keep it "
		"now):\n%s\n", ctl_num(doc, "id"),
		ctl_safe_tmp(ctl_str(doc, "url", "?")),
		ctl_safe_tmp(ctl_str(doc, "secret", "?")));
}

static void print_hooks(const cJSON *doc)
{
	static const char *const head[] = { "ID", "URL", "EVENTS", "CREATED",
		"BY" };
	const cJSON *w;
	ctl_table t;

	ctl_table_init(&t, 5, head);
	cJSON_ArrayForEach(w, cJSON_GetObjectItemCaseSensitive(doc,
		"webhooks")) {
		char id[24], events[256], when[32];
		const char *cells[5];

		snprintf(id, sizeof(id), "%.0f", ctl_num(w, "id"));
		join_events(cJSON_GetObjectItemCaseSensitive(w, "events"),
			events, sizeof(events));
		fmt_time(ctl_num(w, "created_ms"), when, sizeof(when));
		cells[0] = id;
		cells[1] = ctl_str(w, "url", "");
		cells[2] = events;
		cells[3] = when;
		cells[4] = ctl_str(w, "created_by", "");
		ctl_table_row(&t, cells);
	}
	ctl_table_print(&t, stdout);
	ctl_table_free(&t);
}

static void print_deleted_hook(const cJSON *doc)
{
	printf("deleted webhook %.0f\n", ctl_num(doc, "id"));
}

static void print_deliveries(const cJSON *doc)
{
	static const char *const head[] = { "ID", "EVENT", "FLAG", "STATE",
		"ATTEMPTS", "LAST", "UPDATED" };
	const cJSON *d;
	ctl_table t;

	ctl_table_init(&t, 7, head);
	cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(doc,
		"deliveries")) {
		char id[24], tries[24], last[300], when[32];
		const char *cells[7];

		snprintf(id, sizeof(id), "%.0f", ctl_num(d, "id"));
		snprintf(tries, sizeof(tries), "%.0f", ctl_num(d, "attempts"));
		if (*ctl_str(d, "last_error", ""))
			snprintf(last, sizeof(last), "%s",
				ctl_str(d, "last_error", ""));
		else
			snprintf(last, sizeof(last), "HTTP %.0f",
				ctl_num(d, "last_status"));
		fmt_time(ctl_num(d, "updated_ms"), when, sizeof(when));
		cells[0] = id;
		cells[1] = ctl_str(d, "event", "");
		cells[2] = ctl_str(d, "flag", "");
		cells[3] = ctl_str(d, "state", "");
		cells[4] = tries;
		cells[5] = ctl_num(d, "attempts") > 0 ? last : "-";
		cells[6] = when;
		ctl_table_row(&t, cells);
	}
	ctl_table_print(&t, stdout);
	ctl_table_free(&t);
}

static int webhook_add(const ctl *c, const char *url, int argc, char **argv)
{
	cJSON *body = cJSON_CreateObject(), *events = NULL;
	char *text = NULL;
	int rc = EXIT_USAGE;

	if (argc == 2 && strcmp(argv[0], "--events") == 0) {
		events = cJSON_CreateArray();
		for (const char *p = argv[1]; events && *p;) {
			size_t n = strcspn(p, ",");
			char name[64];

			snprintf(name, sizeof(name), "%.*s", (int)n, p);
			if (!n || !cJSON_AddItemToArray(events,
				    cJSON_CreateString(name))) {
				cJSON_Delete(events);
				cJSON_Delete(body);
				return ctl_bad_value(c, "--events", argv[1],
					"must be event names, comma-separated");
			}
			p += n + (p[n] == ',');
		}
	} else if (argc != 0) {
		cJSON_Delete(body);
		return ctl_usage_error(c, "webhook add URL [--events E,E]");
	}
	if (body && cJSON_AddStringToObject(body, "url", url) &&
	    (!events || cJSON_AddItemToObject(body, "events", events)))
		text = cJSON_PrintUnformatted(body);
	else
		cJSON_Delete(events);
	if (text)
		rc = call_print(c, "POST", "/v1/admin/webhooks", text,
			print_added_hook);
	cJSON_free(text);
	cJSON_Delete(body);
	return rc;
}

int ctl_webhook(const ctl *c, int argc, char **argv)
{
	const char *sub = argc ? argv[0] : "";
	char path[200];
	uint64_t id, limit = 50;
	int rc = 0;

	if (strcmp(sub, "list") == 0 && argc == 1)
		return call_print(c, "GET", "/v1/admin/webhooks", NULL,
			print_hooks);
	if (strcmp(sub, "add") == 0 && argc >= 2)
		return webhook_add(c, argv[1], argc - 2, argv + 2);
	if (argc < 2 || (strcmp(sub, "delete") != 0 &&
			 strcmp(sub, "deliveries") != 0))
		return CTL_SHOW_USAGE;
	if (!ctl_uint_opt(c, "ID", argv[1], 1, 9007199254740991ull, &id, &rc))
		return rc;
	if (strcmp(sub, "delete") == 0) {
		if (argc != 2)
			return CTL_SHOW_USAGE;
		snprintf(path, sizeof(path), "/v1/admin/webhooks/%llu",
			(unsigned long long)id);
		return call_print(c, "DELETE", path, NULL, print_deleted_hook);
	}
	if (argc == 4 && strcmp(argv[2], "--limit") == 0 &&
	    !ctl_uint_opt(c, "--limit", argv[3], 1, 1000, &limit, &rc))
		return rc;
	if (argc != 2 && argc != 4)
		return CTL_SHOW_USAGE;
	snprintf(path, sizeof(path), "/v1/admin/webhooks/%llu/deliveries"
		"?limit=%llu", (unsigned long long)id,
		(unsigned long long)limit);
	return call_print(c, "GET", path, NULL, print_deliveries);
}
