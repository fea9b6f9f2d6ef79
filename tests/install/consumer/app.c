/* An outside program built against the installed libcanary. */
#include <canary/canary.h>
#include <stdio.h>
#include <string.h>

int main(void)
{
	const char *json = "{\"version\":1,\"flags\":[{\"key\":\"f\",\"rollout_bp\":10000}]}";
	canary_client *c;

	if (canary_client_new(&c, NULL) != CANARY_OK ||
	    canary_client_set_config_json(c, json, strlen(json)) != CANARY_OK)
		return 1;
	printf("canary %d\n", canary_enabled(c, "f", "user-1"));
	canary_client_free(c);
	return !CANARY_VERSION_AT_LEAST(0, 1, 0);
}
