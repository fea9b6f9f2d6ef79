/*
 * ctl_segments.c - canaryctl segment list|show|set|delete: named
 * segments, the constraints flags share (docs/targeting.md). Rules are
 * written as for a flag (--rule 'ATTR [not] OP[/i] VALUE') and shown the
 * same way.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/ctl_commands.h"
#include "ctl/ctl_table.h"

static void print_list(const cJSON *segs)
{
	static const char *const head[] = { "NAME", "RULES", "FLAGS" };
	const cJSON *s;
	ctl_table t;

	ctl_table_init(&t, 3, head);
	cJSON_ArrayForEach(s, segs) {
		char rules[16], flags[256];
		const char *cells[3];

		snprintf(rules, sizeof(rules), "%d", cJSON_GetArraySize(
			cJSON_GetObjectItemCaseSensitive(s, "constraints")));
		ctl_join_list(cJSON_GetObjectItemCaseSensitive(s, "flags"), flags,
			sizeof(flags));
		cells[0] = ctl_str(s, "name", "");
		cells[1] = rules;
		cells[2] = flags;
		ctl_table_row(&t, cells);
	}
	ctl_table_print(&t, stdout);
	ctl_table_free(&t);
}

/* A {"version", "segment"} document: its rules, one a line. */
static void print_one(const cJSON *doc)
{
	const cJSON *seg = cJSON_GetObjectItemCaseSensitive(doc, "segment");
	const cJSON *con;
	char line[1024], flags[1024];

	printf("segment %s\n", ctl_safe_tmp(ctl_str(seg, "name", "")));
	cJSON_ArrayForEach(con, cJSON_GetObjectItemCaseSensitive(seg,
		"constraints")) {
		ctl_rule_text(con, line, sizeof(line));
		printf("  rule  %s\n", ctl_safe_tmp(line));
	}
	ctl_join_list(cJSON_GetObjectItemCaseSensitive(seg, "flags"), flags,
		sizeof(flags));
	printf("flags %s\nconfig version %.0f\n", flags[0] ?
		ctl_safe_tmp(flags) : "-", ctl_num(doc, "version"));
}

/* /v1/admin/segments/NAME into `path`; false when it does not fit. */
static bool segment_path(ctl_path *path, const char *name)
{
	ctl_path_init(path);
	ctl_path_add(path, "/v1/admin/segments/");
	return ctl_path_key(path, name) && !path->overflow;
}

/* GET, DELETE or PUT (with `body`) one segment. */
static int cmd_one(const ctl *c, const char *method, const char *name,
	const char *body)
{
	cJSON *doc = NULL;
	ctl_path path;
	int rc;

	if (!segment_path(&path, name))
		return CTL_SHOW_USAGE;
	rc = ctl_call(c, method, path.s, body, &doc);
	if (rc == 0 && c->json)
		ctl_print_json(doc);
	else if (rc == 0 && strcmp(method, "DELETE") == 0)
		printf("deleted segment %s (config version %.0f)\n",
			ctl_safe_tmp(name), ctl_num(doc, "version"));
	else if (rc == 0)
		print_one(doc);
	cJSON_Delete(doc);
	return rc;
}

static int cmd_list(const ctl *c)
{
	cJSON *doc = NULL;
	int rc = ctl_call(c, "GET", "/v1/admin/segments", NULL, &doc);

	if (rc == 0 && c->json) {
		ctl_print_json(doc);
	} else if (rc == 0) {
		print_list(cJSON_GetObjectItemCaseSensitive(doc, "segments"));
		printf("config version %.0f\n", ctl_num(doc, "version"));
	}
	cJSON_Delete(doc);
	return rc;
}

/* segment set NAME --rule R [--rule R ...] [--force] */
static int cmd_set(const ctl *c, const char *name, int argc, char **argv)
{
	cJSON *body = cJSON_CreateObject();
	char *text = NULL;
	int i, rc = 0;

	for (i = 0; body && rc == 0 && i < argc; i++) {
		if (strcmp(argv[i], "--force") == 0)
			rc = cJSON_AddTrueToObject(body, "force") ? 0 : EXIT_USAGE;
		else if (strcmp(argv[i], "--rule") == 0 && i + 1 < argc)
			rc = ctl_add_rule(body, argv[++i]) ? 0 : ctl_bad_value(c,
				"--rule", argv[i], "'ATTRIBUTE [not] "
				"OPERATOR[/i] VALUE'");
		else if (strcmp(argv[i], "--rule") == 0)
			rc = ctl_bad_value(c, "--rule", NULL, "'ATTRIBUTE [not] "
				"OPERATOR[/i] VALUE'");
		else
			rc = ctl_usage_error(c, "unknown segment option %s "
				"(canaryctl help segment)", argv[i]);
	}
	if (rc == 0 && body &&
	    !cJSON_GetObjectItemCaseSensitive(body, "constraints"))
		rc = ctl_usage_error(c, "segment set needs at least one --rule");
	if (rc == 0 && !(text = body ? cJSON_PrintUnformatted(body) : NULL))
		rc = EXIT_USAGE;
	if (rc == 0)
		rc = cmd_one(c, "PUT", name, text);
	cJSON_free(text);
	cJSON_Delete(body);
	return rc;
}

int ctl_segment(const ctl *c, int argc, char **argv)
{
	const char *sub = argc ? argv[0] : "";

	if (strcmp(sub, "list") == 0 && argc == 1)
		return cmd_list(c);
	if (strcmp(sub, "show") == 0 && argc == 2)
		return cmd_one(c, "GET", argv[1], NULL);
	if (strcmp(sub, "delete") == 0 && argc == 2)
		return cmd_one(c, "DELETE", argv[1], NULL);
	if (strcmp(sub, "set") == 0 && argc >= 2)
		return cmd_set(c, argv[1], argc - 2, argv + 2);
	return CTL_SHOW_USAGE;
}
