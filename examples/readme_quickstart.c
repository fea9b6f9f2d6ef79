/* The README's quickstart: is user-3 in the canary of checkout-v2? */
#include <canary/canary.h>
#include <stdio.h>

int main(void)
{
	canary_options opts;
	canary_client *c;
	int rc;

	canary_options_init(&opts, CANARY_OPTIONS_VERSION);
	opts.bootstrap_path = "examples/data/flags.json"; /* or server_url + sdk_key */
	rc = canary_client_new(&c, &opts);
	if (rc != CANARY_OK) {
		fprintf(stderr, "canary_client_new: %s: %s\n", canary_strerror(rc),
			canary_error_last());
		return 1;
	}
	if (canary_client_wait_ready(c, 2000) != CANARY_OK) /* says why, e.g. */
		fprintf(stderr, "no config yet (%s): everyone gets the stable build\n",
			canary_error_last()); /* "connect to ...: connection refused" */
	printf("user-3 gets %s\n",
		canary_enabled(c, "checkout-v2", "user-3") ? "v2.4.0" : "v2.3.1");
	canary_client_free(c);
	return 0;
}
