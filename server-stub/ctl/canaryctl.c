/*
 * canaryctl - command-line client for canary-server's admin API.
 *
 *   canaryctl [--server URL] [--token T] [--json] flag list
 *   canaryctl ... flag get KEY
 *   canaryctl ... flag create KEY [flag options]
 *   canaryctl ... flag set KEY [flag options]      (changes only those given)
 *   canaryctl ... flag delete KEY
 *   canaryctl ... stats FLAG [--config-version N] [--since MS]
 *   canaryctl ... rollout start|status|list|pause|resume|promote|rollback
 *
 * The token comes from --token or CANARY_ADMIN_TOKEN (preferred: argv is
 * visible to other users). Exit status: 0 ok, 1 the server refused,
 * 2 usage, 3 network. This file reads the global options and hands the
 * command to its group (ctl_flags.c, ctl_rollout.c).
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "canary/canary.h"
#include "ctl/ctl_commands.h"

static void usage(FILE *out)
{
	fputs(
"usage: canaryctl [--server URL] [--token T] [--json] COMMAND\n"
"       canaryctl --help | --version\n"
"  flag list\n"
"  flag get KEY\n"
"  flag create KEY [options]   create a flag (rollout 0%, enabled, by default)\n"
"  flag set KEY [options]      change only the given fields\n"
"  flag delete KEY\n"
"  stats FLAG [--config-version N] [--since MS]\n"
"  rollout start FLAG [rollout options]\n"
"  rollout status FLAG [--last N]  state and decision history\n"
"  rollout list\n"
"  rollout pause|resume|rollback FLAG\n"
"  rollout promote FLAG [--full]   next step, or the last one\n"
"rollout options:\n"
"  --steps 1,5,25,50,100  --min-soak 5m  --max-step 1h  --interval 1m\n"
"  --on-fail rollback|pause        pause = dry run (record, do not roll back)\n"
"  --sustain 2m  --grace 3m  --bake 30m  --max-wait 8h\n"
"  --on-stall rollback|pause       what an alert that outlasts --grace does\n"
"  --gate NAME=VALUE               judge gate, repeatable (docs/server.md)\n"
"flag options:\n"
"  --rollout PCT | --rollout-bp N   canary share (percent, or 0..10000 bp)\n"
"  --enable | --disable             kill switch (disabled = all stable)\n"
"  --salt S  --state S  --stable-variant V  --canary-variant V\n"
"  --allow a,b,c  --deny a,b,c      unit lists (\"\" empties a list)\n"
"environment: CANARY_SERVER (default http://127.0.0.1:8080),\n"
"             CANARY_ADMIN_TOKEN\n", out);
}

static int dispatch(const ctl *c, int argc, char **argv)
{
	int rc = CTL_SHOW_USAGE;

	if (argc >= 2 && strcmp(argv[0], "flag") == 0)
		rc = ctl_flag(c, argc - 1, argv + 1);
	else if (argc >= 2 && strcmp(argv[0], "stats") == 0)
		rc = ctl_stats(c, argc - 1, argv + 1);
	else if (argc >= 2 && strcmp(argv[0], "rollout") == 0)
		rc = ctl_rollout(c, argc - 1, argv + 1);
	if (rc == CTL_SHOW_USAGE) {
		usage(stderr);
		rc = EXIT_USAGE;
	}
	return rc;
}

int main(int argc, char **argv)
{
	ctl c = { getenv("CANARY_SERVER"), getenv("CANARY_ADMIN_TOKEN"), false };
	char **rest = calloc((size_t)argc + 1, sizeof(char *));
	int i, n = 0, rc;

	if (!rest)
		return EXIT_USAGE;
	/* Global options may appear anywhere; everything else is the command. */
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			c.json = true;
		else if (strcmp(argv[i], "--server") == 0 && i + 1 < argc)
			c.server = argv[++i];
		else if (strcmp(argv[i], "--token") == 0 && i + 1 < argc)
			c.token = argv[++i];
		else if (strcmp(argv[i], "--help") == 0 ||
			 strcmp(argv[i], "-h") == 0)
			return free(rest), usage(stdout), 0;
		else if (strcmp(argv[i], "--version") == 0)
			return free(rest), puts("canaryctl " CANARY_VERSION_STRING), 0;
		else
			rest[n++] = argv[i];
	}
	if (!c.server || !*c.server)
		c.server = "http://127.0.0.1:8080";
	/* Only the web: a file:// or gopher:// server is a mistake (or a
	 * trap), never something to read. */
	if (strncasecmp(c.server, "http://", 7) != 0 &&
	    strncasecmp(c.server, "https://", 8) != 0) {
		fprintf(stderr, "canaryctl: --server must be an http:// or "
			"https:// URL\n");
		free(rest);
		return EXIT_USAGE;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		free(rest);
		return EXIT_NETWORK;
	}
	rc = dispatch(&c, n, rest);
	curl_global_cleanup();
	free(rest);
	return rc;
}
