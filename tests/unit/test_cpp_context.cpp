/*
 * test_cpp_context.cpp - the C++ wrapper's targeting calls (canary.hpp):
 * canary::Context (attributes held in the object, replaced by name, the
 * bound), Client::enabled/evaluate and Flag::enabled/evaluate with a
 * context, Evaluation::rule, and Client::variant() (the arm's variant
 * here; Unleash's getVariant in tests/unleash).
 */
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "canary/canary.hpp"

static int failures;

#define CHECK(cond) \
	do { \
		if (!(cond)) { \
			std::fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #cond); \
			failures++; \
		} \
	} while (0)

static const char config[] =
	"{\"version\": 2, \"flags\": [{\"key\": \"ota\", \"rollout_bp\": 10000,"
	" \"constraints\": [{\"contextName\": \"firmware\","
	" \"operator\": \"SEMVER_GTE\", \"value\": \"2.3.0\"},"
	" {\"contextName\": \"model\", \"operator\": \"IN\","
	" \"values\": [\"hw-b\"]}],"
	" \"variants\": {\"stable\": \"v1\", \"canary\": \"v2\"}}]}";

int main()
{
	canary::Options opts;
	opts.log_stderr(CANARY_LOG_OFF);
	canary::Client client(opts);
	CHECK(canary_client_set_config_json(client.get(), config,
		std::strlen(config)) == CANARY_OK);

	canary::Context ctx("user-1");
	CHECK(ctx.set("firmware", "2.4.0"));
	CHECK(ctx.set("model", "hw-b"));
	CHECK(client.enabled("ota", ctx));
	canary::Evaluation e = client.evaluate("ota", ctx);
	CHECK(e.canary && e.reason == CANARY_REASON_SPLIT && e.rule == -1);

	canary::Variant v = client.variant("ota", ctx);
	CHECK(v.name == "v2" && v.enabled && v.feature_enabled);
	CHECK(!v.has_payload && v.payload.empty() && v.truncated == 0);
	v = client.variant(std::string("nope"), ctx);
	CHECK(v.name == "disabled" && !v.enabled &&
		v.error_code == CANARY_EVAL_FLAG_NOT_FOUND);

	/* The same name again replaces its value. */
	CHECK(ctx.set("firmware", "2.2.0"));
	CHECK(ctx.get()->attr_count == 2);
	e = client.evaluate("ota", ctx);
	CHECK(!e.canary && e.reason == CANARY_REASON_INELIGIBLE && e.rule == 0);

	ctx.set("firmware", "3.0.0");
	ctx.set("model", "hw-a");
	canary::Flag ota = client.flag("ota");
	CHECK(!ota.enabled(ctx));
	CHECK(ota.evaluate(ctx).rule == 1);
	ctx.set("model", "hw-b");
	CHECK(ota.enabled(ctx));

	/* The bound: no allocation, so a fixed number of attributes. */
	canary::Context full("u");
	static char names[canary::Context::max_attributes + 1][8];
	for (size_t i = 0; i <= canary::Context::max_attributes; i++) {
		std::snprintf(names[i], sizeof(names[i]), "a%zu", i);
		CHECK(full.set(names[i], "v") == (i < canary::Context::max_attributes));
	}
	return failures ? EXIT_FAILURE : EXIT_SUCCESS;
}
