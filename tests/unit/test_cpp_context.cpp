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
#include <string>
#include <type_traits>
#include <utility>

#include "canary/canary.hpp"

static int failures;

/* Can a Context's attribute be set from a T? A temporary std::string
 * must not compile (the context borrows: it would dangle). */
template <typename T, typename = void>
struct settable : std::false_type {};
template <typename T>
struct settable<T, decltype(void(std::declval<canary::Context &>().set(
	"x", std::declval<T>())))> : std::true_type {};
static_assert(settable<const char *>::value, "a C string");
static_assert(settable<const std::string &>::value, "a string that lives");
static_assert(settable<std::string &>::value, "a string that lives");
static_assert(!settable<std::string>::value, "a temporary would dangle");
static_assert(!std::is_constructible<canary::Context, std::string>::value,
	"a temporary unit would dangle");
static_assert(std::is_constructible<canary::Context, const std::string &>::value,
	"a unit that lives");

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

	/* std::string values and units, borrowed. */
	{
		std::string fw("2.4.0"), unit("user-1");
		canary::Context sctx(unit);

		CHECK(sctx.set("firmware", fw) && sctx.set("model", "hw-b"));
		CHECK(sctx.get()->unit == unit.c_str());
		CHECK(client.enabled("ota", sctx));
		fw = "2.2.0";   /* the caller's string, read at each call */
		sctx.set("firmware", fw);
		CHECK(!client.enabled("ota", sctx));
		sctx.unit(unit);
		CHECK(sctx.get()->unit == unit.c_str());
	}

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
