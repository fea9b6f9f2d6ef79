/*
 * who.c - who is in the canary? Loads a flag config file (the /v1/flags
 * format) as a bootstrap, with no server, and prints, for each flag, the
 * arm and the reason for a range of users, then the share in the canary.
 *
 *   canary-who CONFIG.json [USERS]
 */
#include <canary/canary.h>
#include <stdio.h>
#include <stdlib.h>

static const char *const sample_flags[] = { "checkout-v2", "search-ranker",
	"new-header", "unknown-flag" };

static void show_flag(canary_client *client, const char *flag, long users)
{
	unsigned long in_canary = 0;
	canary_details d = CANARY_DETAILS_INIT;
	char unit[32];
	long i;

	for (i = 0; i < users; i++) {
		snprintf(unit, sizeof(unit), "user-%ld", i);
		if (canary_evaluate(client, flag, unit, &d))
			in_canary++;
		if (i < 5)
			printf("  %-10s %-7s %-16s bucket %4u  variant \"%s\"%s%s\n",
				unit, d.arm == CANARY_ARM_CANARY ? "canary" : "stable",
				canary_reason_name(d.reason), d.bucket, d.variant,
				d.error_code ? "  error " : "",
				canary_eval_error_name(d.error_code));
	}
	printf("  ... %lu of %ld users in the canary (%.2f%%, rollout %.2f%%)\n\n",
		in_canary, users, 100.0 * (double)in_canary / (double)users,
		d.rollout_bp / 100.0);
}

int main(int argc, char **argv)
{
	canary_options opts = CANARY_OPTIONS_INIT;
	canary_client *client;
	long users = argc > 2 ? atol(argv[2]) : 10000;
	size_t i;
	int rc;

	if (argc < 2 || users <= 0) {
		fprintf(stderr, "usage: %s CONFIG.json [USERS]\n", argv[0]);
		return 2;
	}
	opts.bootstrap_path = argv[1];
	rc = canary_client_new(&client, &opts);
	if (rc != CANARY_OK) {
		fprintf(stderr, "canary-who: %s: %s\n", canary_strerror(rc),
			canary_error_last());
		return 1;
	}
	printf("libcanary %s, config version %llu\n\n", canary_version(),
		(unsigned long long)canary_client_config_version(client));
	for (i = 0; i < sizeof(sample_flags) / sizeof(sample_flags[0]); i++) {
		printf("%s\n", sample_flags[i]);
		show_flag(client, sample_flags[i], users);
	}
	canary_client_free(client);
	return 0;
}
