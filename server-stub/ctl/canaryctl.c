/*
 * canaryctl - command-line client for canary-server's admin API.
 *
 *   canaryctl [--server URL] [--token T] [--cacert FILE] [--json] COMMAND ...
 *   canaryctl help [COMMAND] | COMMAND --help
 *
 * Commands by group (ctl_usage.c has their usage): flag and stats
 * (ctl_flags.c), rollout (ctl_rollout.c; wait and --watch in
 * ctl_follow.c), token, audit and webhook (ctl_team.c), segment
 * (ctl_segments.c).
 *
 * The token comes from --token or CANARY_ADMIN_TOKEN (preferred: argv is
 * visible to other users); the CAs an https server is checked against from
 * --cacert or CANARY_CACERT (default: the system's). Exit status: 0 ok, 1 the server refused,
 * 2 usage, 3 network, 4 (rollout wait) paused or timed out. This file
 * reads the global options and hands the command to its group.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "canary/canary.h"
#include "ctl/ctl_commands.h"
#include "ctl/ctl_usage.h"

typedef int (*group_fn)(const ctl *c, int argc, char **argv);

static const struct {
	const char *name;
	group_fn run;
} commands[] = {
	{ "flag", ctl_flag },
	{ "stats", ctl_stats },
	{ "rollout", ctl_rollout },
	{ "token", ctl_token },
	{ "audit", ctl_audit },
	{ "webhook", ctl_webhook },
	{ "segment", ctl_segment },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static int command_index(const char *name)
{
	size_t i;

	for (i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* `help [COMMAND]`. */
static int help(const ctl *c, int argc, char **argv)
{
	if (argc < 2) {
		ctl_usage_all(stdout);
		return 0;
	}
	if (argc > 2 || !ctl_usage_group(argv[1], stdout))
		return ctl_usage_error(c, "unknown command '%s' (canaryctl help "
			"lists them)", argv[1]);
	return 0;
}

/* Is "--help" (or -h) among the command's words? */
static bool wants_help(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return true;
	return false;
}

static int dispatch(const ctl *c, int argc, char **argv)
{
	int k, rc;

	if (argc == 0) {
		ctl_usage_all(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[0], "help") == 0)
		return help(c, argc, argv);
	k = command_index(argv[0]);
	if (k < 0)
		return ctl_usage_error(c, "unknown command '%s' (canaryctl help "
			"lists them)", argv[0]);
	if (wants_help(argc, argv)) {
		ctl_usage_group(argv[0], stdout);
		return 0;
	}
	rc = commands[k].run(c, argc - 1, argv + 1);
	if (rc == CTL_SHOW_USAGE) {
		if (argc < 2 || strncmp(argv[1], "--", 2) == 0)
			ctl_usage_error(c, "%s: what to do? (canaryctl help %s)",
				argv[0], argv[0]);
		else
			ctl_usage_error(c, "unknown or incomplete %s command "
				"'%s' (canaryctl help %s)", argv[0], argv[1],
				argv[0]);
		if (!c->json)
			ctl_usage_group(argv[0], stderr);
		rc = EXIT_USAGE;
	}
	return rc;
}

/* --server: http or https only, without trailing slashes (paths are
 * appended to it). NULL when it is no such URL. */
static char *server_url(const char *given)
{
	char *s;
	size_t n;

	if (strncasecmp(given, "http://", 7) != 0 &&
	    strncasecmp(given, "https://", 8) != 0)
		return NULL;
	s = strdup(given);
	n = s ? strlen(s) : 0;
	while (s && n > 8 && s[n - 1] == '/')
		s[--n] = '\0';
	return s;
}

int main(int argc, char **argv)
{
	ctl c = { getenv("CANARY_SERVER"), getenv("CANARY_ADMIN_TOKEN"),
		getenv("CANARY_CACERT"), false };
	char **rest = calloc((size_t)argc + 1, sizeof(char *)), *server = NULL;
	int i, n = 0, rc;

	if (!rest)
		return EXIT_USAGE;
	/* Global options may appear anywhere; everything else is the command
	 * (whose own --help the command's group answers). */
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			c.json = true;
		else if (strcmp(argv[i], "--server") == 0 && i + 1 < argc)
			c.server = argv[++i];
		else if (strcmp(argv[i], "--token") == 0 && i + 1 < argc)
			c.token = argv[++i];
		else if (strcmp(argv[i], "--cacert") == 0 && i + 1 < argc)
			c.cacert = argv[++i];
		else if ((strcmp(argv[i], "--help") == 0 ||
			  strcmp(argv[i], "-h") == 0) && n == 0)
			return free(rest), ctl_usage_all(stdout), 0;
		else if (strcmp(argv[i], "--version") == 0)
			return free(rest), puts("canaryctl " CANARY_VERSION_STRING), 0;
		else
			rest[n++] = argv[i];
	}
	if (!c.server || !*c.server)
		c.server = "http://127.0.0.1:8080";
	server = server_url(c.server);
	if (!server) {
		rc = ctl_bad_value(&c, "--server", c.server, "must be an "
			"http:// or https:// URL");
		free(rest);
		return rc;
	}
	c.server = server;
	if (c.cacert && !*c.cacert)
		c.cacert = NULL;
	/* Checked here, so that a typo is a usage error that names the
	 * file, not a TLS failure that does not. */
	if (c.cacert && access(c.cacert, R_OK) != 0) {
		rc = ctl_bad_value(&c, "--cacert", c.cacert, "cannot be read");
		free(server);
		free(rest);
		return rc;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		free(server);
		free(rest);
		return EXIT_NETWORK;
	}
	rc = dispatch(&c, n, rest);
	curl_global_cleanup();
	free(server);
	free(rest);
	return rc;
}
