/*
 * peer_ld_cpp.cpp - the LaunchDarkly C++ server SDK (cpp-sdks, server-sdk
 * 3.x) in the peer comparison: flags in LaunchDarkly's flag format (on,
 * fallthrough rollout 5,000 / 95,000 over [true, false], salt = the key),
 * fetched once by its polling data source from a small HTTP responder of
 * ours on 127.0.0.1 (its offline mode evaluates against an empty store),
 * so they sit in its in-memory store as after a poll; events off; poll
 * interval an hour. Per call: a Context of kind "user" with the id, then
 * BoolVariation().
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <sstream>
#include <string>
#include <thread>

#include <launchdarkly/context_builder.hpp>
#include <launchdarkly/server_side/client.hpp>
#include <launchdarkly/server_side/config/config_builder.hpp>

#include "bench_peers.h"

namespace {

using namespace launchdarkly;
using namespace launchdarkly::server_side;

std::unique_ptr<Client> client;
int listener = -1;
std::thread responder;

std::string flags_document(size_t nflags)
{
	std::string j = "{\"flags\":{";

	for (size_t i = 0; i < nflags; i++) {
		std::string k = "flag-" + std::to_string(i);
		j += (i ? "," : "");
		j += "\"" + k + "\":{\"key\":\"" + k + "\",\"version\":1,\"on\":true,"
			"\"salt\":\"" + k + "\",\"variations\":[true,false],"
			"\"offVariation\":1,\"fallthrough\":{\"rollout\":{\"variations\":"
			"[{\"variation\":0,\"weight\":" + std::to_string(BENCH_PERCENT * 1000) +
			"},{\"variation\":1,\"weight\":" +
			std::to_string(100000 - BENCH_PERCENT * 1000) + "}]}},"
			"\"targets\":[],\"rules\":[],\"prerequisites\":[],"
			"\"trackEvents\":false,\"deleted\":false}";
	}
	return j + "},\"segments\":{}}";
}

/* Answers every request on the listener with the document, then closes
 * the connection (enough for one poll). */
void respond(std::string body)
{
	for (;;) {
		int fd = accept(listener, nullptr, nullptr);
		char buf[4096];

		if (fd < 0)
			return;
		(void)read(fd, buf, sizeof(buf));
		std::string r = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
			"Connection: close\r\nContent-Length: " +
			std::to_string(body.size()) + "\r\n\r\n" + body;
		for (size_t off = 0; off < r.size();) {
			ssize_t n = write(fd, r.data() + off, r.size() - off);
			if (n <= 0)
				break;
			off += static_cast<size_t>(n);
		}
		close(fd);
	}
}

int listen_local(unsigned short *port)
{
	sockaddr_in a{};
	socklen_t len = sizeof(a);

	listener = socket(AF_INET, SOCK_STREAM, 0);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (listener < 0 || bind(listener, reinterpret_cast<sockaddr *>(&a), sizeof(a)) != 0 ||
	    listen(listener, 8) != 0 ||
	    getsockname(listener, reinterpret_cast<sockaddr *>(&a), &len) != 0)
		return -1;
	*port = ntohs(a.sin_port);
	return 0;
}

void teardown();

int setup(size_t nflags, const char *, char *err, size_t errlen)
{
	unsigned short port;

	if (listen_local(&port) != 0) {
		std::snprintf(err, errlen, "cannot listen on 127.0.0.1");
		return -1;
	}
	responder = std::thread(respond, flags_document(nflags));
	ConfigBuilder b("sdk-bench");
	b.Events().Disable();
	std::string url = "http://127.0.0.1:" + std::to_string(port);
	b.ServiceEndpoints().PollingBaseUrl(url).StreamingBaseUrl(url).EventsBaseUrl(url);
	using Sync = launchdarkly::server_side::config::builders::DataSystemBuilder::BackgroundSync;
	b.DataSystem().Method(Sync().Synchronizer(
		Sync::Polling().PollInterval(std::chrono::seconds(3600))));
	auto built = b.Build();
	if (!built) {
		std::ostringstream why;
		why << built.error();
		std::snprintf(err, errlen, "config: %s", why.str().c_str());
		teardown();
		return -1;
	}
	client = std::make_unique<Client>(std::move(*built));
	auto started = client->StartAsync();
	if (started.wait_for(std::chrono::seconds(10)) != std::future_status::ready ||
	    !started.get()) {
		std::snprintf(err, errlen, "not initialized");
		teardown();
		return -1;
	}
	return 0;
}

bool eval(size_t, const char *key, const char *user)
{
	auto ctx = ContextBuilder().Kind("user", user).Build();
	return client->BoolVariation(ctx, key, false);
}

void teardown()
{
	client.reset();
	shutdown(listener, SHUT_RDWR);
	close(listener);
	if (responder.joinable())
		responder.join();
}

} // namespace

extern "C" const bench_peer bench_peer_ld_cpp = {
	"ld-cpp",
	"polled once from an HTTP responder of ours on 127.0.0.1 (LaunchDarkly-format "
	"flags); events off; Context built per call",
	setup, eval, teardown
};
