/*
 * peer_unleash.cpp - the Unleash C++ client (unleash-client-cpp) in the
 * peer comparison: a features document of flexibleRollout strategies
 * (rollout 5, stickiness userId, groupId = the flag's name: the bucketing
 * libcanary shares), handed in by an ApiClient of ours instead of its
 * HTTP client, never refreshed during the run. Per call: a Context with
 * the user id, then isEnabled().
 */
#include <climits>
#include <cstdio>
#include <memory>
#include <string>

#include <unleash/api/apiclient.h>
#include <unleash/context.h>
#include <unleash/unleashclient.h>

#include "bench_peers.h"

namespace {

class Features : public unleash::ApiClient {
public:
	explicit Features(std::string json) : json_(std::move(json)) {}
	std::string features() override { return json_; }
	bool registration(unsigned int) override { return true; }

private:
	std::string json_;
};

unleash::UnleashClient *client;

int setup(size_t nflags, const char *, char *err, size_t errlen)
{
	std::string json = "{\"version\":1,\"features\":[";

	for (size_t i = 0; i < nflags; i++) {
		std::string name = "flag-" + std::to_string(i);
		json += (i ? "," : "");
		json += "{\"name\":\"" + name + "\",\"enabled\":true,\"strategies\":"
			"[{\"name\":\"flexibleRollout\",\"parameters\":{\"rollout\":\"" +
			std::to_string(BENCH_PERCENT) + "\",\"stickiness\":\"userId\","
			"\"groupId\":\"" + name + "\"}}]}";
	}
	json += "]}";
	try {
		client = new unleash::UnleashClient(
			unleash::UnleashClient::create("bench_peers", "http://127.0.0.1:1")
				.apiClient(std::make_shared<Features>(json))
				.refreshInterval(UINT_MAX));
		client->initializeClient();
	} catch (const std::exception &e) {
		std::snprintf(err, errlen, "%s", e.what());
		return -1;
	}
	return 0;
}

bool eval(size_t, const char *key, const char *user)
{
	unleash::Context ctx;

	ctx.userId = user;
	return client->isEnabled(key, ctx);
}

void teardown()
{
	delete client;
	client = nullptr;
}

} // namespace

extern "C" const bench_peer bench_peer_unleash = {
	"unleash",
	"features JSON from an ApiClient of ours; Context built per call",
	setup, eval, teardown
};
