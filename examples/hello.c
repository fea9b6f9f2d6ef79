/*
 * hello.c - the smallest correct libcanary program: create a client, wait
 * until it has a config, ask whether one user is in the canary, free it.
 *
 *   hello https://flags.example.com [USER]   key from $CANARY_SDK_KEY
 *   hello flags.json [USER]                  offline, from a config file
 *   hello                                    the URL from $CANARY_SERVER
 *
 * The flag is "checkout-v2". Offline it reads a /v1/flags JSON file as the
 * bootstrap config and needs no network at all.
 */
#include <canary/canary.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
	canary_options opts = CANARY_OPTIONS_INIT;
	canary_client *client = NULL;
	const char *where = argc > 1 ? argv[1] : getenv("CANARY_SERVER");
	const char *user = argc > 2 ? argv[2] : "user-42";
	int rc;

	if (!where) {
		fprintf(stderr, "usage: %s SERVER_URL|CONFIG.json [USER]\n", argv[0]);
		return 2;
	}
	if (strncmp(where, "http://", 7) == 0 || strncmp(where, "https://", 8) == 0) {
		opts.server_url = where;
		opts.sdk_key = getenv("CANARY_SDK_KEY");
	} else {
		opts.bootstrap_path = where;
	}

	rc = canary_client_new(&client, &opts);
	if (rc != CANARY_OK) {
		fprintf(stderr, "hello: %s: %s\n", canary_strerror(rc), canary_error_last());
		return 1;
	}
	/* Not required: without a config canary_enabled() answers stable. */
	rc = canary_client_wait_ready(client, 2000);
	if (rc != CANARY_OK)
		fprintf(stderr, "hello: not ready (%s), answering stable\n",
			canary_strerror(rc));

	printf("checkout-v2 for %s: %s\n", user,
		canary_enabled(client, "checkout-v2", user) ? "canary" : "stable");

	canary_client_free(client);
	return 0;
}
