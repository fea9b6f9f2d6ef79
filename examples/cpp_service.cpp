/*
 * cpp_service.cpp - a C++17 service using the header-only RAII wrapper
 * canary/canary.hpp: the client is a move-only object built from an
 * Options builder, construction errors are exceptions, enabled() picks the
 * code path per request through a flag handle (canary::Flag: the key is
 * looked up once, not per request), a ScopedTimer records each request's latency
 * (and its error, if any) for the rollout controller, evaluate() says why,
 * and a bad config pushed out of band is refused with the field named
 * while the old one stays.
 *
 *   cpp_service https://flags.example.com [REQUESTS]   key from $CANARY_SDK_KEY
 *   cpp_service flags.json [REQUESTS]                  offline
 */
#include <canary/canary.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

namespace {

struct Response {
	int status;
	std::string body;
};

Response checkout_v1(std::string_view user) { return {200, "v1 cart for " + std::string(user)}; }
Response checkout_v2(std::string_view user)
{
	/* The new build fails for some carts. */
	if (user.size() > 1 && user.back() == '7' && user[user.size() - 2] == '7')
		return {500, "v2 failed"};
	return {200, "v2 cart for " + std::string(user)};
}

class Service {
public:
	explicit Service(canary::Client flags)
		: flags_(std::move(flags)), checkout_(flags_.flag("checkout-v2")) {}

	Response handle(const std::string &user)
	{
		canary::ScopedTimer timer(flags_, "checkout-v2", user);
		Response r;

		if (checkout_.enabled(user)) {
			canary_++;
			r = checkout_v2(user);
		} else {
			stable_++;
			r = checkout_v1(user);
		}
		if (r.status >= 500)
			timer.fail();
		return r;
	}

	canary::Client &flags() { return flags_; }
	unsigned long canary() const { return canary_; }
	unsigned long stable() const { return stable_; }

private:
	canary::Client flags_;
	canary::Flag checkout_; /* after flags_: made from it */
	unsigned long canary_ = 0, stable_ = 0;
};

canary::Options options_from(const char *where)
{
	canary::Options o;
	if (std::strncmp(where, "http://", 7) == 0 || std::strncmp(where, "https://", 8) == 0)
		o.server_url(where).sdk_key(std::getenv("CANARY_SDK_KEY"));
	else
		o.bootstrap_path(where);
	return o;
}

} // namespace

int main(int argc, char **argv)
{
	if (argc < 2) {
		std::fprintf(stderr, "usage: %s SERVER_URL|CONFIG.json [REQUESTS]\n", argv[0]);
		return 2;
	}
	long requests = argc > 2 ? std::atol(argv[2]) : 1000;

	try {
		Service svc{canary::Client(options_from(argv[1]))};
		if (!svc.flags().wait_ready(std::chrono::seconds(2)))
			std::fprintf(stderr, "cpp_service: no config yet, serving stable\n%s",
				svc.flags().diagnose().c_str());

		for (long i = 0; i < requests; i++)
			svc.handle("user-" + std::to_string(i));
		std::printf("served %ld requests: %lu canary, %lu stable (config version %llu)\n",
			requests, svc.canary(), svc.stable(),
			static_cast<unsigned long long>(svc.flags().config_version()));

		/* Offline this only moves the counts to the (memory) outbox. */
		svc.flags().flush(std::chrono::milliseconds(500));
		canary_event_stats st = svc.flags().event_stats();
		std::printf("events: %llu batches written, %llu records ignored\n",
			static_cast<unsigned long long>(st.batches_written),
			static_cast<unsigned long long>(st.ignored));

		canary::Evaluation e = svc.flags().evaluate("checkout-v2", "user-3");
		std::printf("user-3: %s, variant \"%s\", reason %s\n",
			e.canary ? "canary" : "stable", e.variant.c_str(), e.reason_name());

		try {
			svc.flags().set_config_json(R"({"version": 99, "flags": [{"key": "x", "rollout_bp": 20000}]})");
		} catch (const canary::Error &err) {
			std::printf("bad config refused (code %d): %s\n", err.code(), err.what());
		}
		std::printf("config version still %llu\n",
			static_cast<unsigned long long>(svc.flags().config_version()));
	} catch (const canary::Error &err) {
		std::fprintf(stderr, "cpp_service: %s\n", err.what());
		return 1;
	}
	return 0;
}
