/*
 * ctl_flags.c - canaryctl flag list|get|create|set|delete and stats: the
 * request bodies built from options (a bad value is refused naming its
 * rule), the answers printed as tables.
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/ctl_commands.h"
#include "ctl/ctl_table.h"

void ctl_join_list(const cJSON *arr, char *out, size_t len)
{
	const cJSON *it;
	size_t n = 0;

	out[0] = '\0';
	cJSON_ArrayForEach(it, arr) {
		if (!cJSON_IsString(it))
			continue;
		n += (size_t)snprintf(out + n, n < len ? len - n : 0, "%s%s",
			n ? "," : "", it->valuestring);
		if (n >= len) {
			if (len > 4)
				memcpy(out + len - 4, "...", 4);
			return;
		}
	}
}

static void flag_row(ctl_table *t, const cJSON *f)
{
	char rollout[32], allow[64], deny[64];
	const cJSON *en = cJSON_GetObjectItemCaseSensitive(f, "enabled");
	const char *cells[6];

	snprintf(rollout, sizeof(rollout), "%.2f%%", ctl_num(f, "rollout_bp") / 100);
	ctl_join_list(cJSON_GetObjectItemCaseSensitive(f, "allow"), allow,
		sizeof(allow));
	ctl_join_list(cJSON_GetObjectItemCaseSensitive(f, "deny"), deny,
		sizeof(deny));
	cells[0] = ctl_str(f, "key", "");
	cells[1] = cJSON_IsTrue(en) ? "yes" : "no";
	cells[2] = rollout;
	cells[3] = ctl_str(f, "state", "");
	cells[4] = allow;
	cells[5] = deny;
	ctl_table_row(t, cells);
}

static void print_flags(const cJSON *flags)
{
	static const char *const head[] = { "KEY", "ENABLED", "ROLLOUT",
		"STATE", "ALLOW", "DENY" };
	const cJSON *f;
	ctl_table t;

	ctl_table_init(&t, 6, head);
	cJSON_ArrayForEach(f, flags)
		flag_row(&t, f);
	ctl_table_print(&t, stdout);
	ctl_table_free(&t);
}

/* Table for a {"version", "flag"} document. */
/* Who a flag's canary is for, below its row: the attribute it buckets
 * by, its rules as --rule writes them, the segments it names. */
static void print_targeting(const cJSON *flag)
{
	const cJSON *con, *seg;
	const char *stick = ctl_str(flag, "stickiness", "");
	char line[1024];

	if (*stick)
		printf("  stickiness  %s\n", ctl_safe_tmp(stick));
	cJSON_ArrayForEach(con, cJSON_GetObjectItemCaseSensitive(flag,
	    "constraints")) {
		ctl_rule_text(con, line, sizeof(line));
		printf("  rule        %s\n", ctl_safe_tmp(line));
	}
	cJSON_ArrayForEach(seg, cJSON_GetObjectItemCaseSensitive(flag,
	    "segments"))
		if (cJSON_IsString(seg))
			printf("  segment     %s\n", ctl_safe_tmp(seg->valuestring));
}

static void print_flag_doc(const cJSON *doc)
{
	cJSON *one = cJSON_CreateArray();
	const cJSON *flag = cJSON_GetObjectItemCaseSensitive(doc, "flag");

	if (flag && one)
		cJSON_AddItemReferenceToArray(one, (cJSON *)flag);
	print_flags(one);
	if (flag)
		print_targeting(flag);
	printf("config version %.0f\n", ctl_num(doc, "version"));
	cJSON_Delete(one);
}

static int cmd_list(const ctl *c)
{
	cJSON *doc;
	int rc = ctl_call(c, "GET", "/v1/admin/flags", NULL, &doc);

	if (rc == 0) {
		if (c->json) {
			ctl_print_json(doc);
		} else {
			print_flags(cJSON_GetObjectItemCaseSensitive(doc, "flags"));
			printf("config version %.0f\n", ctl_num(doc, "version"));
		}
	}
	cJSON_Delete(doc);
	return rc;
}

/* GET or DELETE one flag. */
static int cmd_one(const ctl *c, const char *method, const char *key)
{
	cJSON *doc = NULL;
	ctl_path path;
	int rc;

	ctl_path_init(&path);
	ctl_path_add(&path, "/v1/admin/flags/");
	if (!ctl_path_key(&path, key) || path.overflow)
		return CTL_SHOW_USAGE;
	rc = ctl_call(c, method, path.s, NULL, &doc);
	if (rc == 0 && c->json) {
		ctl_print_json(doc);
	} else if (rc == 0 && strcmp(method, "DELETE") == 0) {
		printf("deleted %s (config version %.0f)\n", ctl_safe_tmp(key),
			ctl_num(doc, "version"));
	} else if (rc == 0) {
		print_flag_doc(doc);
	}
	cJSON_Delete(doc);
	return rc;
}

/* Comma-separated entries as a JSON array of strings, empty entries
 * left out; with `trim`, each entry without its leading and trailing
 * spaces. */
static cJSON *split_csv(const char *csv, bool trim)
{
	cJSON *arr = cJSON_CreateArray();
	const char *p = csv;

	while (arr && *p) {
		size_t n = strcspn(p, ","), lead = 0, len = n;
		char *item;

		while (trim && lead < n && p[lead] == ' ')
			lead++;
		while (trim && len > lead && p[len - 1] == ' ')
			len--;
		item = strndup(p + lead, len - lead);
		if (!item || (len > lead && !cJSON_AddItemToArray(arr,
				cJSON_CreateString(item)))) {
			free(item);
			cJSON_Delete(arr);
			return NULL;
		}
		free(item);
		p += n;
		if (*p == ',')
			p++;
	}
	return arr;
}

static cJSON *split_list(const char *csv)
{
	return split_csv(csv, false);
}

/* A rule's values: entries trimmed ("hw-b, hw-b2" is two models, not
 * " hw-b2"); NULL when none is left, as a list of nothing matches no
 * one (NOT_IN: everyone) and is a slip of the command line, not a rule. */
static cJSON *split_values(const char *csv)
{
	cJSON *arr = split_csv(csv, true);

	if (arr && !arr->child) {
		cJSON_Delete(arr);
		return NULL;
	}
	return arr;
}

static bool add_variant(cJSON *obj, const char *arm, const char *value)
{
	cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, "variants");

	if (!v)
		v = cJSON_AddObjectToObject(obj, "variants");
	return v && cJSON_AddStringToObject(v, arm, value);
}

/* Operators whose value is a list (comma-separated on the command line);
 * the others take one value. */
static bool list_operator(const char *op)
{
	static const char *const lists[] = { "IN", "NOT_IN", "STR_CONTAINS",
		"STR_STARTS_WITH", "STR_ENDS_WITH", "IN_CIDR" };
	size_t i;

	for (i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
		if (strcmp(op, lists[i]) == 0)
			return true;
	return false;
}

/* The next word of *p (space-separated) into word[cap]; false if none or
 * too long. */
static bool next_word(const char **p, char *word, size_t cap)
{
	size_t n;

	*p += strspn(*p, " ");
	n = strcspn(*p, " ");
	if (n == 0 || n >= cap)
		return false;
	memcpy(word, *p, n);
	word[n] = '\0';
	*p += n;
	return true;
}

/* "ATTRIBUTE [not] OPERATOR[/i] VALUE" as a constraint (docs/targeting.md):
 * "not" inverts it, "/i" makes it case-insensitive; the server validates
 * the operator and the value. NULL when it is not of that shape. */
/* A constraint as --rule writes it (ctl_parse_rule() reads it back):
 * "region not IN/i eu-1,eu-2". */
void ctl_rule_text(const cJSON *con, char *out, size_t len)
{
	const cJSON *values = cJSON_GetObjectItemCaseSensitive(con, "values");
	const cJSON *v;
	size_t n;

	n = (size_t)snprintf(out, len, "%s %s%s%s ", ctl_str(con,
		"contextName", "?"), cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
		con, "inverted")) ? "not " : "", ctl_str(con, "operator", "?"),
		cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(con,
			"caseInsensitive")) ? "/i" : "");
	if (!cJSON_IsArray(values)) {
		if (n < len)
			snprintf(out + n, len - n, "%s", ctl_str(con, "value", ""));
		return;
	}
	cJSON_ArrayForEach(v, values) {
		if (n >= len)
			return;
		n += (size_t)snprintf(out + n, len - n, "%s%s", v == values->child ?
			"" : ",", cJSON_IsString(v) ? v->valuestring : "");
	}
}

cJSON *ctl_parse_rule(const char *text)
{
	char attr[257], op[64];
	const char *p = text;
	bool inverted = false, fold = false;
	size_t n;
	cJSON *c;

	if (!next_word(&p, attr, sizeof(attr)) || !next_word(&p, op, sizeof(op)))
		return NULL;
	if (strcmp(op, "not") == 0) {
		inverted = true;
		if (!next_word(&p, op, sizeof(op)))
			return NULL;
	}
	n = strlen(op);
	if (n > 2 && strcmp(op + n - 2, "/i") == 0) {
		fold = true;
		op[n - 2] = '\0';
	}
	p += strspn(p, " ");
	if (!*p || !(c = cJSON_CreateObject()))
		return NULL;
	if (!cJSON_AddStringToObject(c, "contextName", attr) ||
	    !cJSON_AddStringToObject(c, "operator", op) ||
	    (list_operator(op) ?
		!cJSON_AddItemToObject(c, "values", split_values(p)) :
		!cJSON_AddStringToObject(c, "value", p)) ||
	    (inverted && !cJSON_AddTrueToObject(c, "inverted")) ||
	    (fold && !cJSON_AddTrueToObject(c, "caseInsensitive"))) {
		cJSON_Delete(c);
		return NULL;
	}
	return c;
}

/* Append `item` (consumed) to the array member `name` of `obj`, made
 * when it is not an array yet (a null that removed it, or none). */
static bool append_to(cJSON *obj, const char *name, cJSON *item)
{
	cJSON *arr = cJSON_GetObjectItemCaseSensitive(obj, name);

	if (!item)
		return false;
	if (!cJSON_IsArray(arr)) {
		cJSON_DeleteItemFromObject(obj, name);
		arr = cJSON_AddArrayToObject(obj, name);
	}
	if (!arr || !cJSON_AddItemToArray(arr, item)) {
		cJSON_Delete(item);
		return false;
	}
	return true;
}

bool ctl_add_rule(cJSON *obj, const char *text)
{
	return append_to(obj, "constraints", ctl_parse_rule(text));
}

/* A member set once: a repeated option's last value wins. */
static cJSON *replace(cJSON *obj, const char *name, cJSON *item)
{
	cJSON_DeleteItemFromObjectCaseSensitive(obj, name);
	return item && cJSON_AddItemToObject(obj, name, item) ? item : NULL;
}

/* One flag option with its value into the request body: 0, or what
 * main returns after refusing it. */
static int flag_option(const ctl *c, cJSON *obj, const char *opt,
	const char *val)
{
	static const char *const strs[] = { "--salt", "--state",
		"--stickiness" };
	double bp;
	uint64_t n;
	size_t i;
	int rc = 0;

	if (strcmp(opt, "--rollout") == 0) {
		if (!val || !ctl_percent(val, &bp))
			return ctl_bad_value(c, opt, val, "must be 0..100 in steps "
				"of 0.01");
		return replace(obj, "rollout_bp", cJSON_CreateNumber(bp)) ? 0 :
			EXIT_USAGE;
	}
	if (strcmp(opt, "--rollout-bp") == 0) {
		if (!ctl_uint_opt(c, opt, val, 0, 10000, &n, &rc))
			return rc;
		return replace(obj, "rollout_bp",
			cJSON_CreateNumber((double)n)) ? 0 : EXIT_USAGE;
	}
	for (i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		if (strcmp(opt, strs[i]) == 0)
			return !val ? ctl_bad_value(c, opt, val, "a string") :
				replace(obj, opt + 2, cJSON_CreateString(val)) ?
				0 : EXIT_USAGE;
	if (strcmp(opt, "--stable-variant") == 0 ||
	    strcmp(opt, "--canary-variant") == 0)
		return !val ? ctl_bad_value(c, opt, val, "a variant name") :
			add_variant(obj, opt[2] == 's' ? "stable" : "canary",
				val) ? 0 : EXIT_USAGE;
	if (strcmp(opt, "--rule") == 0)
		return !val || !ctl_add_rule(obj, val) ? ctl_bad_value(c, opt,
			val, "'ATTRIBUTE [not] OPERATOR[/i] VALUE'") : 0;
	if (strcmp(opt, "--segment") == 0)
		return !val || !*val || !append_to(obj, "segments",
			cJSON_CreateString(val)) ? ctl_bad_value(c, opt, val,
			"a segment's name") : 0;
	if (strcmp(opt, "--allow") == 0 || strcmp(opt, "--deny") == 0)
		return !val ? ctl_bad_value(c, opt, val, "comma-separated "
			"units, \"\" for none") : replace(obj, opt + 2,
			split_list(val)) ? 0 : EXIT_USAGE;
	return ctl_usage_error(c, "unknown flag option %s (canaryctl help "
		"flag)", opt);
}

/* Build the body of create/set from argv[0..argc); NULL after saying
 * why (*rc: the exit status). */
static cJSON *flag_body(const ctl *c, const char *key, bool create, int argc,
	char **argv, int *rc)
{
	cJSON *obj = cJSON_CreateObject();
	int i;

	*rc = EXIT_USAGE;
	if (!obj || (create && (!cJSON_AddStringToObject(obj, "key", key) ||
		       !cJSON_AddNumberToObject(obj, "rollout_bp", 0))))
		goto bad;
	for (i = 0; i < argc; i++) {
		bool on = strcmp(argv[i], "--enable") == 0;

		if (on || strcmp(argv[i], "--disable") == 0) {
			if (!replace(obj, "enabled", cJSON_CreateBool(on)))
				goto bad;
			continue;
		}
		if (strcmp(argv[i], "--force") == 0) {
			if (!replace(obj, "force", cJSON_CreateTrue()))
				goto bad;
			continue;
		}
		if (strcmp(argv[i], "--no-rules") == 0 ||
		    strcmp(argv[i], "--no-segments") == 0) {
			const char *name = argv[i][5] == 'r' ? "constraints" :
				"segments";

			/* null removes them (a merge patch); a new flag has none. */
			cJSON_DeleteItemFromObject(obj, name);
			if (!create && !cJSON_AddNullToObject(obj, name))
				goto bad;
			continue;
		}
		*rc = flag_option(c, obj, argv[i], i + 1 < argc ? argv[i + 1] :
			NULL);
		if (*rc)
			goto bad;
		i++;
	}
	*rc = 0;
	return obj;
bad:
	cJSON_Delete(obj);
	return NULL;
}

static int cmd_write(const ctl *c, bool create, const char *key, int argc,
	char **argv)
{
	int rc;
	cJSON *body = flag_body(c, key, create, argc, argv, &rc), *doc = NULL;
	char *text = body ? cJSON_PrintUnformatted(body) : NULL;
	ctl_path path;

	if (body && !text)
		rc = EXIT_USAGE;
	ctl_path_init(&path);
	ctl_path_add(&path, "/v1/admin/flags");
	if (!create) {
		ctl_path_add(&path, "/");
		if (text && !ctl_path_key(&path, key)) {
			cJSON_free(text);
			text = NULL;
			rc = EXIT_USAGE;
		}
	}
	if (text && path.overflow)
		rc = EXIT_USAGE;
	else if (text)
		rc = ctl_call(c, create ? "POST" : "PATCH", path.s, text, &doc);
	if (text && rc == 0 && c->json)
		ctl_print_json(doc);
	else if (text && rc == 0)
		print_flag_doc(doc);
	cJSON_Delete(body);
	cJSON_Delete(doc);
	cJSON_free(text);
	return rc;
}

static void fmt_ms(const cJSON *lat, const char *q, char *out, size_t len)
{
	double v = ctl_num(lat, q);

	if (isnan(v))
		snprintf(out, len, "-");
	else
		snprintf(out, len, "%.3g", v);
}

static void stats_row(ctl_table *t, const char *arm, const cJSON *a)
{
	const cJSON *lat = cJSON_GetObjectItemCaseSensitive(a, "latency_ms");
	char exp[32], err[32], rate[32], p50[32], p95[32], p99[32];
	const char *cells[7];
	double r = ctl_num(a, "error_rate");

	snprintf(exp, sizeof(exp), "%.0f", ctl_num(a, "exposures"));
	snprintf(err, sizeof(err), "%.0f", ctl_num(a, "errors"));
	if (isnan(r))
		snprintf(rate, sizeof(rate), "-");
	else
		snprintf(rate, sizeof(rate), "%.3f%%", r * 100);
	fmt_ms(lat, "p50", p50, sizeof(p50));
	fmt_ms(lat, "p95", p95, sizeof(p95));
	fmt_ms(lat, "p99", p99, sizeof(p99));
	cells[0] = arm;
	cells[1] = exp;
	cells[2] = err;
	cells[3] = rate;
	cells[4] = p50;
	cells[5] = p95;
	cells[6] = p99;
	ctl_table_row(t, cells);
}

/* The custom metrics of both arms: NAME, ARM, COUNT, MEAN. */
static void print_custom(const cJSON *custom)
{
	static const char *const head[] = { "METRIC", "ARM", "COUNT", "MEAN" };
	static const char *const arms[] = { "stable", "canary" };
	const cJSON *m;
	ctl_table t;
	int a;

	if (!cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(custom,
		    "stable")) && !cJSON_GetArraySize(
		    cJSON_GetObjectItemCaseSensitive(custom, "canary")))
		return;
	ctl_table_init(&t, 4, head);
	for (a = 0; a < 2; a++)
		cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(custom,
			arms[a])) {
			char count[32], mean[32];
			const char *cells[4];

			snprintf(count, sizeof(count), "%.0f",
				ctl_num(m, "count"));
			snprintf(mean, sizeof(mean), "%.4g", ctl_num(m, "mean"));
			cells[0] = m->string;
			cells[1] = arms[a];
			cells[2] = count;
			cells[3] = isnan(ctl_num(m, "mean")) ? "-" : mean;
			ctl_table_row(&t, cells);
		}
	putchar('\n');
	ctl_table_print(&t, stdout);
	ctl_table_free(&t);
}

static int cmd_stats(const ctl *c, const char *key, int argc, char **argv)
{
	static const char *const head[] = { "ARM", "EXPOSURES", "ERRORS",
		"ERROR%", "P50_MS", "P95_MS", "P99_MS" };
	cJSON *doc = NULL;
	const cJSON *arms;
	ctl_path path;
	ctl_table t;
	int i, rc = 0;

	ctl_path_init(&path);
	ctl_path_add(&path, "/v1/admin/flags/");
	if (!ctl_path_key(&path, key))
		return EXIT_USAGE;
	ctl_path_add(&path, "/stats");
	for (i = 0; i < argc; i += 2) {
		const char *name = strcmp(argv[i], "--config-version") == 0 ?
			"config_version" : strcmp(argv[i], "--since") == 0 ?
			"since" : NULL;
		uint64_t v;

		if (!name)
			return ctl_usage_error(c, "unknown stats option %s "
				"(canaryctl help stats)", argv[i]);
		if (!ctl_uint_opt(c, argv[i], i + 1 < argc ? argv[i + 1] : NULL,
			    0, 9007199254740991ull, &v, &rc))
			return rc;
		ctl_path_add(&path, "%c%s=%llu", i ? '&' : '?', name,
			(unsigned long long)v);
	}
	if (path.overflow)
		return ctl_usage_error(c, "the request would be too long");
	rc = ctl_call(c, "GET", path.s, NULL, &doc);
	if (rc == 0 && c->json) {
		ctl_print_json(doc);
	} else if (rc == 0) {
		arms = cJSON_GetObjectItemCaseSensitive(doc, "arms");
		ctl_table_init(&t, 7, head);
		stats_row(&t, "stable", cJSON_GetObjectItemCaseSensitive(arms,
			"stable"));
		stats_row(&t, "canary", cJSON_GetObjectItemCaseSensitive(arms,
			"canary"));
		ctl_table_print(&t, stdout);
		ctl_table_free(&t);
		print_custom(cJSON_GetObjectItemCaseSensitive(doc,
			"custom_metrics"));
	}
	cJSON_Delete(doc);
	return rc;
}

int ctl_flag(const ctl *c, int argc, char **argv)
{
	const char *sub = argc ? argv[0] : "";

	if (strcmp(sub, "list") == 0 && argc == 1)
		return cmd_list(c);
	if (strcmp(sub, "get") == 0 && argc == 2)
		return cmd_one(c, "GET", argv[1]);
	if (strcmp(sub, "delete") == 0 && argc == 2)
		return cmd_one(c, "DELETE", argv[1]);
	if (strcmp(sub, "create") == 0 && argc >= 2)
		return cmd_write(c, true, argv[1], argc - 2, argv + 2);
	if (strcmp(sub, "set") == 0 && argc >= 2)
		return cmd_write(c, false, argv[1], argc - 2, argv + 2);
	return CTL_SHOW_USAGE;
}

int ctl_stats(const ctl *c, int argc, char **argv)
{
	if (argc < 1 || argv[0][0] == '-')
		return CTL_SHOW_USAGE;
	return cmd_stats(c, argv[0], argc - 1, argv + 1);
}
