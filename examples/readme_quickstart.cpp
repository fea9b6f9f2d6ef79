// The README's C++ quickstart: one client per process, and a request
// handler that picks the build per user and reports how the request went.
#include <canary/canary.hpp>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <string>

static bool checkout_v1(const std::string &user_id) { return !user_id.empty(); }
static bool checkout_v2(const std::string &user_id) { return !user_id.empty(); }

static void handle(canary::Client &flags, const std::string &user_id)
{
	canary::ScopedTimer timer(flags, "checkout-v2", user_id); // latency recorded at scope exit
	bool ok = flags.enabled("checkout-v2", user_id) ? checkout_v2(user_id)
	                                                : checkout_v1(user_id); // never throws
	if (!ok)
		timer.fail(); // and an error for this arm
}

int main()
{
	const char *server = std::getenv("CANARY_SERVER"); // e.g. https://flags.example.com
	canary::Options opts;

	if (server)
		opts.server_url(server).sdk_key(std::getenv("CANARY_SDK_KEY"));
	else
		opts.bootstrap_path("examples/data/flags.json");
	try {
		canary::Client flags(opts); // throws canary::Error
		flags.wait_ready(std::chrono::seconds(2));
		handle(flags, "user-3");
		canary::Evaluation e = flags.evaluate("checkout-v2", "user-3");
		std::cout << "user-3 gets " << e.variant << " (" << e.reason_name() << ")\n";
	} catch (const canary::Error &err) {
		std::cerr << err.what() << '\n';
		return 1;
	}
	return 0;
}
