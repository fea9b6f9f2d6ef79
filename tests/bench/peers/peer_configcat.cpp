/*
 * peer_configcat.cpp - the ConfigCat C++ SDK in the peer comparison: a
 * config in ConfigCat's config.json v6 format (each flag a boolean with
 * percentage options 5% true / 95% false) read by FileFlagOverrides in
 * LocalOnly mode, manual polling (no network). Per call:
 * ConfigCatUser::create() with the user id, then getValue().
 */
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <unistd.h>

#include <configcat/configcatclient.h>
#include <configcat/configcatoptions.h>
#include <configcat/configcatuser.h>
#include <configcat/fileoverridedatasource.h>
#include <configcat/pollingmode.h>

#include "bench_peers.h"

namespace {

std::shared_ptr<configcat::ConfigCatClient> client;
std::string path;

bool write_config(size_t nflags)
{
	std::ofstream f(path);

	f << "{\"p\":{\"r\":0,\"s\":\"bench\"},\"f\":{";
	for (size_t i = 0; i < nflags; i++)
		f << (i ? "," : "") << "\"flag-" << i << "\":{\"t\":0,\"v\":{\"b\":false},"
		  << "\"i\":\"off\",\"p\":[{\"p\":" << BENCH_PERCENT
		  << ",\"v\":{\"b\":true},\"i\":\"on\"},{\"p\":" << 100 - BENCH_PERCENT
		  << ",\"v\":{\"b\":false},\"i\":\"off\"}]}";
	f << "}}";
	return static_cast<bool>(f);
}

int setup(size_t nflags, const char *dir, char *err, size_t errlen)
{
	path = std::string(dir) + "/configcat.json";
	if (!write_config(nflags)) {
		std::snprintf(err, errlen, "cannot write %s", path.c_str());
		return -1;
	}
	configcat::ConfigCatOptions options;
	options.pollingMode = configcat::PollingMode::manualPoll();
	options.flagOverrides = std::make_shared<configcat::FileFlagOverrides>(
		path, configcat::LocalOnly);
	client = configcat::ConfigCatClient::get(
		"configcat-sdk-1/bench-peers-000000000/bench-peers-000000000", &options);
	return client ? 0 : -1;
}

bool eval(size_t, const char *key, const char *user)
{
	auto u = configcat::ConfigCatUser::create(user);
	return client->getValue(key, false, u);
}

void teardown()
{
	configcat::ConfigCatClient::closeAll();
	client.reset();
	unlink(path.c_str());
}

} // namespace

extern "C" const bench_peer bench_peer_configcat = {
	"configcat",
	"FileFlagOverrides (LocalOnly) of a config.json v6; manual polling; "
	"ConfigCatUser::create per call",
	setup, eval, teardown
};
