/*
 * canary/canary.hpp - header-only C++ wrapper of libcanary (canary.h).
 *
 * canary::Client owns one canary_client: it is move-only, frees the client
 * in its destructor, and its constructor throws canary::Error (with the
 * CANARY_E* code and canary_error_last()) when the client cannot be made.
 * Evaluation never throws: enabled() and evaluate() are the C calls, with
 * the same guarantees (no lock, no I/O, no allocation in enabled()).
 * record_error(), record_latency() and ScopedTimer report how each arm
 * does (canary_record_*()), for the rollout controller to judge.
 *
 *   canary::Client flags(canary::Options()
 *       .server_url("https://flags.example.com")
 *       .sdk_key(std::getenv("CANARY_SDK_KEY"))
 *       .cache_path("/var/lib/myapp/canary.db"));
 *   if (!flags.wait_ready(std::chrono::seconds(2)))
 *       std::cerr << flags.diagnose();       // why not: status, last error...
 *   if (flags.enabled("checkout-v2", user_id)) ...
 *
 *   canary::Flag checkout = flags.flag("checkout-v2"); // for hot loops
 *   for (auto &u : users) if (checkout.enabled(u)) ...
 *
 * Needs C++11; nothing here needs a newer standard, so the wrapper builds
 * wherever the C header does (the examples use C++17). Threading is the C
 * API's: one Client may be shared by any number of threads.
 */
#ifndef CANARY_CANARY_HPP
#define CANARY_CANARY_HPP

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "canary/canary.h"

namespace canary {

/** A libcanary call failed: code() is the CANARY_E* value, what() says
 *  which call and carries canary_error_last(). */
class Error : public std::runtime_error {
public:
	Error(int code, const std::string &what)
		: std::runtime_error(what), code_(code) {}
	int code() const noexcept { return code_; }

private:
	int code_;
};

namespace detail {
inline void check(int rc, const char *call)
{
	if (rc == CANARY_OK)
		return;
	std::string what(call);
	what += ": ";
	what += canary_strerror(rc);
	const char *detail = canary_error_last();
	if (detail && *detail) {
		what += ": ";
		what += detail;
	}
	throw Error(rc, what);
}

inline uint32_t to_ms32(std::chrono::milliseconds ms)
{
	if (ms.count() <= 0)
		return 0;
	if (ms.count() > 0xffffffffLL)
		return 0xffffffffu;
	return static_cast<uint32_t>(ms.count());
}
} // namespace detail

/**
 * Client options, as a builder. Holds its own copies of the strings, so a
 * temporary Options may be passed straight to Client. Unset fields keep
 * libcanary's defaults (canary_options_init()).
 */
class Options {
public:
	Options() { detail::check(canary_options_init(&o_, CANARY_OPTIONS_VERSION), "canary_options_init"); }

	Options &server_url(const std::string &v) { return set(server_url_, v); }
	/** Several replicas, tried in order (canary_options.server_urls);
	 *  instead of server_url. */
	Options &server_urls(const std::vector<std::string> &v)
	{
		server_urls_ = v;
		return *this;
	}
	Options &sdk_key(const char *v) { return set(sdk_key_, v ? v : ""); }
	Options &sdk_key(const std::string &v) { return set(sdk_key_, v); }
	Options &cache_path(const std::string &v) { return set(cache_path_, v); }
	Options &bootstrap_path(const std::string &v) { return set(bootstrap_path_, v); }
	Options &ca_file(const std::string &v) { return set(ca_file_, v); }

	Options &poll_interval(std::chrono::milliseconds v) { o_.poll_interval_ms = detail::to_ms32(v); return *this; }
	Options &flush_interval(std::chrono::milliseconds v) { o_.flush_interval_ms = detail::to_ms32(v); return *this; }
	Options &connect_timeout(std::chrono::milliseconds v) { o_.connect_timeout_ms = detail::to_ms32(v); return *this; }
	Options &request_timeout(std::chrono::milliseconds v) { o_.request_timeout_ms = detail::to_ms32(v); return *this; }
	/** Past `age` without a confirmed config, apply `policy`. */
	Options &max_config_age(std::chrono::milliseconds age, canary_stale_policy policy)
	{
		o_.max_config_age_ms = age.count() > 0 ? static_cast<uint64_t>(age.count()) : 0;
		o_.stale_policy = policy;
		return *this;
	}
	/** Where flags come from: CANARY_SOURCE_UNLEASH for an Unleash
	 *  server's client API (server_url its API root, sdk_key a client
	 *  token). */
	Options &source(canary_source v) { o_.source = v; return *this; }
	Options &app_name(const std::string &v) { return set(app_name_, v); }
	Options &no_thread(bool v = true) { o_.no_thread = v; return *this; }
	Options &no_stream(bool v = true) { o_.no_stream = v; return *this; }
	/** `fn` is called from libcanary's threads; `ctx` is borrowed. */
	Options &log(canary_log_fn fn, void *ctx, canary_log_level level = CANARY_LOG_INFO)
	{
		o_.log_fn = fn;
		o_.log_ctx = ctx;
		o_.log_level = level;
		return *this;
	}

	/** Without a log callback: the lowest level written to stderr
	 *  (CANARY_LOG_OFF for nothing; CANARY_LOG in the environment wins). */
	Options &log_stderr(canary_log_level level) { o_.log_stderr = level; return *this; }

	/** Every other field of the C struct (allocator, transport, callbacks). */
	canary_options &raw() { return o_; }

	/** The C options, pointing into this object: valid while it lives
	 *  unchanged (and c_options() is not called again). */
	canary_options c_options() const
	{
		canary_options o = o_;
		url_ptrs_.clear();
		for (const std::string &u : server_urls_)
			url_ptrs_.push_back(u.c_str());
		url_ptrs_.push_back(nullptr);
		o.server_urls = server_urls_.empty() ? nullptr : url_ptrs_.data();
		o.server_url = opt(server_url_);
		o.sdk_key = opt(sdk_key_);
		o.cache_path = opt(cache_path_);
		o.bootstrap_path = opt(bootstrap_path_);
		o.ca_file = opt(ca_file_);
		o.app_name = opt(app_name_);
		return o;
	}

private:
	Options &set(std::string &field, const std::string &v)
	{
		field = v;
		return *this;
	}
	static const char *opt(const std::string &s) { return s.empty() ? nullptr : s.c_str(); }

	canary_options o_;
	std::string server_url_, sdk_key_, cache_path_, bootstrap_path_, ca_file_,
		app_name_;
	std::vector<std::string> server_urls_;
	mutable std::vector<const char *> url_ptrs_;
};

/** The answer of Client::evaluate(): canary_details, with names. */
struct Evaluation {
	bool canary;                  /**< true: the canary build */
	canary_arm arm;
	std::string variant;          /**< the arm's variant; "" if none */
	canary_reason reason;
	canary_eval_error error_code;
	uint64_t config_version;
	uint32_t bucket;
	uint32_t rollout_bp;
	int32_t rule;                 /**< the rule that decided, -1: none
	                                   (canary_details.rule) */

	const char *reason_name() const { return canary_reason_name(reason); }
	const char *error_name() const { return canary_eval_error_name(error_code); }
};

namespace detail {
inline Evaluation evaluation(bool in, const canary_details &d)
{
	Evaluation e;
	e.canary = in;
	e.arm = d.arm;
	e.variant = d.variant;
	e.reason = d.reason;
	e.error_code = d.error_code;
	e.config_version = d.config_version;
	e.bucket = d.bucket;
	e.rollout_bp = d.rollout_bp;
	e.rule = d.rule;
	return e;
}
} // namespace detail

/** The answer of Client::variant(): canary_variant, its payload in a
 *  std::string. */
struct Variant {
	std::string name;             /**< "disabled" when none */
	bool enabled;                 /**< a variant was chosen */
	bool feature_enabled;         /**< the flag's answer (enabled()) */
	bool has_payload;
	std::string payload_type;     /**< "" without a payload */
	std::string payload;          /**< at most Client::variant()'s
	                                   max_payload bytes */
	unsigned int truncated;       /**< CANARY_VARIANT_*_TRUNCATED bits */
	canary_reason reason;
	canary_eval_error error_code;
	uint64_t config_version;
	int32_t rule;

	const char *reason_name() const { return canary_reason_name(reason); }
	const char *error_name() const { return canary_eval_error_name(error_code); }
};

/**
 * A context for flags with targeting rules (canary_context): the unit and
 * up to max_attributes named attributes, held in the object (no
 * allocation). Every string is borrowed: it must outlive the evaluations.
 * Used by one thread at a time (evaluations write its cache); not
 * copyable, since the C struct points into it.
 */
class Context {
public:
	static const size_t max_attributes = 16;

	explicit Context(const char *unit) noexcept
	{
		canary_context_init(&c_, CANARY_CONTEXT_VERSION);
		c_.unit = unit;
		c_.attrs = attrs_;
	}
	/** The unit borrowed from a string that outlives the context (a
	 *  temporary would dangle: that overload is deleted). */
	explicit Context(const std::string &unit) noexcept
		: Context(unit.c_str()) {}
	explicit Context(std::string &&) = delete;
	Context(const Context &) = delete;
	Context &operator=(const Context &) = delete;

	/** Set attribute `name` (its value replaced if set already). False
	 *  when max_attributes are set already. */
	bool set(const char *name, const char *value) noexcept
	{
		for (size_t i = 0; i < c_.attr_count; i++)
			if (std::strcmp(attrs_[i].name, name) == 0) {
				attrs_[i].value = value;
				return true;
			}
		if (c_.attr_count == max_attributes)
			return false;
		attrs_[c_.attr_count].name = name;
		attrs_[c_.attr_count].value = value;
		c_.attr_count++;
		return true;
	}
	/** The same, the value borrowed from a string that outlives the
	 *  context and is not changed meanwhile (not a temporary: deleted). */
	bool set(const char *name, const std::string &value) noexcept
	{
		return set(name, value.c_str());
	}
	bool set(const char *name, std::string &&value) = delete;
	void unit(const char *v) noexcept { c_.unit = v; }
	void unit(const std::string &v) noexcept { c_.unit = v.c_str(); }
	void unit(std::string &&) = delete;
	void remote_address(const char *v) noexcept { c_.remote_address = v; }
	void session_id(const char *v) noexcept { c_.session_id = v; }
	/** The C context, for the C calls. */
	canary_context *get() noexcept { return &c_; }

private:
	canary_context c_;
	canary_attribute attrs_[max_attributes];
};

/**
 * A flag handle (canary_flag_ref), from Client::flag(): the key resolved
 * once, for hot loops. Cheap to copy; valid while its Client lives (and is
 * not moved from). Evaluation never throws.
 */
class Flag {
public:
	/** canary_enabled_ref(): no lock, no I/O, no allocation. */
	bool enabled(const char *unit) const noexcept
	{
		return canary_enabled_ref(c_, ref_, unit);
	}
	bool enabled(const std::string &unit) const noexcept
	{
		return canary_enabled_ref(c_, ref_, unit.c_str());
	}
	/** enabled() and why. */
	Evaluation evaluate(const std::string &unit) const
	{
		canary_details d = CANARY_DETAILS_INIT;
		bool in = canary_evaluate_ref(c_, ref_, unit.c_str(), 0, &d);
		return detail::evaluation(in, d);
	}
	/** With a context: canary_enabled_ref_ctx(). */
	bool enabled(Context &ctx) const noexcept
	{
		return canary_enabled_ref_ctx(c_, ref_, ctx.get());
	}
	Evaluation evaluate(Context &ctx) const
	{
		canary_details d = CANARY_DETAILS_INIT;
		bool in = canary_evaluate_ref_ctx(c_, ref_, ctx.get(), 0, &d);
		return detail::evaluation(in, d);
	}
	canary_flag_ref *get() const noexcept { return ref_; }

private:
	friend class Client;
	Flag(canary_client *c, canary_flag_ref *ref) noexcept : c_(c), ref_(ref) {}
	canary_client *c_;
	canary_flag_ref *ref_;
};

/** One libcanary client, owned. Move-only; the moved-from object holds no
 *  client (evaluations on it answer stable, like a NULL canary_client). */
class Client {
public:
	explicit Client(const Options &opts) { make(opts.c_options()); }
	explicit Client(const canary_options &opts) { make(opts); }
	/** Take ownership of a client made with canary_client_new(). */
	static Client adopt(canary_client *c) noexcept { return Client(c); }

	Client(Client &&other) noexcept : c_(other.c_) { other.c_ = nullptr; }
	Client &operator=(Client &&other) noexcept
	{
		if (this != &other) {
			canary_client_free(c_);
			c_ = other.c_;
			other.c_ = nullptr;
		}
		return *this;
	}
	Client(const Client &) = delete;
	Client &operator=(const Client &) = delete;
	~Client() { canary_client_free(c_); }

	/** Is `unit` in the canary for `flag`? Never throws, never blocks. */
	bool enabled(const char *flag, const char *unit) const noexcept
	{
		return canary_enabled(c_, flag, unit);
	}
	bool enabled(const std::string &flag, const std::string &unit) const noexcept
	{
		return canary_enabled(c_, flag.c_str(), unit.c_str());
	}

	/** enabled() and why. Never throws except std::bad_alloc for the
	 *  variant string. */
	Evaluation evaluate(const char *flag, const char *unit) const
	{
		canary_details d = CANARY_DETAILS_INIT;
		bool in = canary_evaluate(c_, flag, unit, &d);
		return detail::evaluation(in, d);
	}
	Evaluation evaluate(const std::string &flag, const std::string &unit) const
	{
		return evaluate(flag.c_str(), unit.c_str());
	}

	/** With a context, for flags with targeting rules
	 *  (canary_enabled_ctx(), canary_evaluate_ctx()). Never throw but
	 *  std::bad_alloc for the variant string. */
	bool enabled(const char *flag, Context &ctx) const noexcept
	{
		return canary_enabled_ctx(c_, flag, ctx.get());
	}
	Evaluation evaluate(const char *flag, Context &ctx) const
	{
		canary_details d = CANARY_DETAILS_INIT;
		bool in = canary_evaluate_ctx(c_, flag, ctx.get(), 0, &d);
		return detail::evaluation(in, d);
	}

	/** The variant of `flag` for a context (canary_variant_ctx()): one
	 *  exposure counted, as enabled() counts. The payload is copied into
	 *  a buffer of max_payload bytes (allocated here; cut beyond it,
	 *  `truncated` says so). Never throws but std::bad_alloc. */
	Variant variant(const char *flag, Context &ctx,
		size_t max_payload = 4096) const
	{
		canary_variant v = CANARY_VARIANT_INIT;
		Variant out;
		out.payload.resize(max_payload + 1);
		v.payload_buf = &out.payload[0];
		v.payload_buf_size = out.payload.size();
		canary_variant_ctx(c_, flag, ctx.get(), 0, &v);
		out.payload.resize(std::strlen(out.payload.c_str()));
		out.name = v.name;
		out.enabled = v.enabled;
		out.feature_enabled = v.feature_enabled;
		out.has_payload = v.has_payload;
		out.payload_type = v.payload_type;
		out.truncated = v.truncated;
		out.reason = v.reason;
		out.error_code = v.error_code;
		out.config_version = v.config_version;
		out.rule = v.rule;
		return out;
	}
	Variant variant(const std::string &flag, Context &ctx,
		size_t max_payload = 4096) const
	{
		return variant(flag.c_str(), ctx, max_payload);
	}

	/** The handle of `flag` (canary_flag_ref_get()): call once, use in
	 *  loops. Throws Error for an empty or too long key. */
	Flag flag(const std::string &key)
	{
		canary_flag_ref *ref = canary_flag_ref_get(c_, key.c_str());
		if (!ref)
			detail::check(c_ ? CANARY_EINVAL : CANARY_ESTATE, "canary_flag_ref_get");
		return Flag(c_, ref);
	}

	/** canary_client_diagnose(): a summary for a person (several lines). */
	std::string diagnose() const
	{
		char buf[4096];
		if (canary_client_diagnose(c_, buf, sizeof(buf)) != CANARY_OK)
			return std::string("no client\n");
		return std::string(buf);
	}

	/** Apply a /v1/flags document delivered out of band; throws Error
	 *  (CANARY_EPARSE naming the field) and keeps the old config. */
	void set_config_json(const std::string &json)
	{
		detail::check(canary_client_set_config_json(c_, json.data(), json.size()),
			"canary_client_set_config_json");
	}

	/** Wait for a config: true when ready, false on timeout (then
	 *  canary_error_last() or diagnose() says why); throws Error when the
	 *  SDK key was rejected. */
	bool wait_ready(std::chrono::milliseconds timeout)
	{
		int rc = canary_client_wait_ready(c_, detail::to_ms32(timeout));
		if (rc == CANARY_ETIMEOUT)
			return false;
		detail::check(rc, "canary_client_wait_ready");
		return true;
	}

	/* Events: each call counts for the unit's arm, recomputed the way
	 * enabled() does. They return false when nothing was counted (bad
	 * input, unknown flag, no config, a memory bound); they never throw. */

	bool record_error(const char *flag, const char *unit) noexcept
	{
		return canary_record_error(c_, flag, unit) == CANARY_OK;
	}
	bool record_error(const std::string &flag, const std::string &unit) noexcept
	{
		return record_error(flag.c_str(), unit.c_str());
	}
	bool record_latency(const char *flag, const char *unit, double ms) noexcept
	{
		return canary_record_latency(c_, flag, unit, ms) == CANARY_OK;
	}
	bool record_latency(const std::string &flag, const std::string &unit, double ms) noexcept
	{
		return record_latency(flag.c_str(), unit.c_str(), ms);
	}
	template <class Rep, class Period>
	bool record_latency(const std::string &flag, const std::string &unit,
		std::chrono::duration<Rep, Period> d) noexcept
	{
		return record_latency(flag, unit,
			std::chrono::duration<double, std::milli>(d).count());
	}
	bool record_metric(const std::string &flag, const std::string &unit,
		const std::string &name, double value) noexcept
	{
		return canary_record_metric(c_, flag.c_str(), unit.c_str(),
			name.c_str(), value) == CANARY_OK;
	}

	/** Send what was counted: true when it left the outbox in time, false
	 *  on timeout (it goes later); throws Error otherwise. */
	bool flush(std::chrono::milliseconds timeout)
	{
		int rc = canary_flush(c_, detail::to_ms32(timeout));
		if (rc == CANARY_ETIMEOUT)
			return false;
		detail::check(rc, "canary_flush");
		return true;
	}

	canary_event_stats event_stats() const noexcept
	{
		canary_event_stats st = CANARY_EVENT_STATS_INIT;
		canary_event_stats_get(c_, &st);
		return st;
	}

	/** No-thread mode: see canary_client_tick(). */
	void tick(uint64_t now_ms) { detail::check(canary_client_tick(c_, now_ms), "canary_client_tick"); }
	/** In the child after fork(): see canary_client_postfork(). */
	void postfork() { detail::check(canary_client_postfork(c_), "canary_client_postfork"); }

	canary_status status() const noexcept { return canary_client_status(c_); }
	uint64_t config_version() const noexcept { return canary_client_config_version(c_); }

	/** The C handle, still owned by this object (for the rest of canary.h). */
	canary_client *get() const noexcept { return c_; }
	explicit operator bool() const noexcept { return c_ != nullptr; }

private:
	explicit Client(canary_client *c) noexcept : c_(c) {}
	void make(const canary_options &o)
	{
		detail::check(canary_client_new(&c_, &o), "canary_client_new");
	}

	canary_client *c_ = nullptr;
};

/**
 * Records the latency of a scope for a unit's arm of a flag when it ends
 * (destructor), and an error too if fail() was called:
 *
 *   canary::ScopedTimer t(flags, "checkout-v2", user_id);
 *   if (!charge(card)) t.fail();
 *
 * The client must outlive the timer. Not copyable.
 */
class ScopedTimer {
public:
	ScopedTimer(Client &client, std::string flag, std::string unit)
		: client_(client), flag_(std::move(flag)), unit_(std::move(unit)),
		  start_(std::chrono::steady_clock::now()) {}
	ScopedTimer(const ScopedTimer &) = delete;
	ScopedTimer &operator=(const ScopedTimer &) = delete;
	~ScopedTimer()
	{
		if (!armed_)
			return;
		client_.record_latency(flag_, unit_, elapsed_ms());
		if (failed_)
			client_.record_error(flag_, unit_);
	}

	/** Count an error for this request as well. */
	void fail() noexcept { failed_ = true; }
	/** Record nothing (e.g. the request was not served after all). */
	void cancel() noexcept { armed_ = false; }
	double elapsed_ms() const noexcept
	{
		return std::chrono::duration<double, std::milli>(
			std::chrono::steady_clock::now() - start_).count();
	}

private:
	Client &client_;
	std::string flag_, unit_;
	std::chrono::steady_clock::time_point start_;
	bool armed_ = true, failed_ = false;
};

} // namespace canary

#endif /* CANARY_CANARY_HPP */
