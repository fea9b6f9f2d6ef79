/*
 * peer_ld_c.c - the LaunchDarkly C server SDK (c-server-sdk 2.x) in the
 * peer comparison: flags in LaunchDarkly's flag format (on, fallthrough
 * rollout 5,000 / 95,000 over [true, false], salt = the key), loaded by
 * its file data source (LDFileDataInit) into its in-memory store; events
 * off. Per call: LDUserNew(), LDBoolVariation(), LDUserFree(). (Its file
 * source replaces every flag's salt with "salt", so its 5% is another 5%
 * of the users than the service would pick; the cost is the same.)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <launchdarkly/api.h>
#include <launchdarkly/integrations/file_data.h>

#include "bench_peers.h"

static struct LDClient *client;
static char path[512];

static int write_flags(size_t nflags)
{
	FILE *f = fopen(path, "w");
	size_t i;

	if (!f)
		return -1;
	fprintf(f, "{\"flags\":{");
	for (i = 0; i < nflags; i++)
		fprintf(f, "%s\"flag-%zu\":{\"key\":\"flag-%zu\",\"version\":1,"
			"\"on\":true,\"salt\":\"flag-%zu\",\"variations\":[true,false],"
			"\"offVariation\":1,\"fallthrough\":{\"rollout\":{\"variations\":"
			"[{\"variation\":0,\"weight\":%d},{\"variation\":1,\"weight\":%d}]}},"
			"\"targets\":[],\"rules\":[],\"prerequisites\":[],"
			"\"trackEvents\":false,\"deleted\":false}",
			i ? "," : "", i, i, i, BENCH_PERCENT * 1000,
			100000 - BENCH_PERCENT * 1000);
	fprintf(f, "},\"segments\":{}}");
	return fclose(f) == 0 ? 0 : -1;
}

static void quiet(const LDLogLevel level, const char *const text)
{
	(void)level;
	(void)text;
}

static int setup(size_t nflags, const char *dir, char *err, size_t errlen)
{
	const char *files[1];
	struct LDConfig *config;

	snprintf(path, sizeof(path), "%s/ld-flags.json", dir);
	if (write_flags(nflags) != 0) {
		snprintf(err, errlen, "cannot write %s", path);
		return -1;
	}
	LDConfigureGlobalLogger(LD_LOG_ERROR, quiet);
	files[0] = path;
	config = LDConfigNew("sdk-bench");
	LDConfigSetSendEvents(config, LDBooleanFalse);
	LDConfigSetDataSource(config, LDFileDataInit(1, files));
	client = LDClientInit(config, 10000);
	if (!client || !LDClientIsInitialized(client)) {
		snprintf(err, errlen, "LDClientInit: not initialized");
		return -1;
	}
	return 0;
}

static bool eval(size_t index, const char *key, const char *user)
{
	struct LDUser *u = LDUserNew(user);
	LDBoolean on = LDBoolVariation(client, u, key, LDBooleanFalse, NULL);

	(void)index;
	LDUserFree(u);
	return on;
}

static void teardown(void)
{
	LDClientClose(client);
	client = NULL;
	unlink(path);
}

const bench_peer bench_peer_ld_c = {
	"ld-c", "LDFileDataInit() with LaunchDarkly-format flags; events off; "
	"LDUserNew/LDUserFree per call", setup, eval, teardown
};
