/*
 * test_unleash_spec.c - run Unleash's client specification (the npm
 * package @unleash/client-specification, installed as test data by
 * scripts/deps.sh) against the Unleash evaluator: every file listed in
 * its index.json, every `tests` (isEnabled) and `variantTests`
 * (getVariant) case, on the model compiled from the state's text. Both
 * kinds of case run a second time through the public API: a client in
 * Unleash mode (opts.source) given the state with
 * canary_client_set_config_json(), asked with canary_enabled_ctx() and
 * canary_variant_ctx(). Prints "unleash spec: N/M passed" (and the
 * client's counts) and the name of each failing case; exits 77 (skipped)
 * when the package is not there.
 *
 *   test_unleash_spec [SPEC_DIR]
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unleash.h"

#define SKIP 77
#define MAX_ATTRS 64

static int passed, total;
static int client_passed, client_total;
static int variant_passed, variant_total;

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
	    fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n + 1)) &&
	    fread(buf, 1, (size_t)n, f) == (size_t)n) {
		buf[n] = '\0';
		*len = (size_t)n;
	} else {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

static cJSON *read_json(const char *dir, const char *name)
{
	char path[4096];
	size_t len;
	char *text;
	cJSON *doc;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	text = read_file(path, &len);
	if (!text)
		return NULL;
	doc = cJSON_ParseWithLength(text, len);
	free(text);
	return doc;
}

/* A context value as the application would pass it: strings as they are,
 * numbers and booleans as their text, null as absent. */
static const char *text_of(const cJSON *v, char *buf, size_t len)
{
	if (cJSON_IsString(v))
		return v->valuestring;
	if (cJSON_IsNumber(v)) {
		snprintf(buf, len, "%.17g", v->valuedouble);
		return buf;
	}
	if (cJSON_IsBool(v))
		return cJSON_IsTrue(v) ? "true" : "false";
	return NULL;
}

typedef struct ctx_store {
	canary__context ctx;
	canary__attr attrs[MAX_ATTRS];
	char bufs[MAX_ATTRS][32];
} ctx_store;

static void add_attr(ctx_store *s, const cJSON *item)
{
	size_t n = s->ctx.attr_count;

	if (n == MAX_ATTRS)
		return;
	s->attrs[n].name = item->string;
	s->attrs[n].value = text_of(item, s->bufs[n], sizeof(s->bufs[n]));
	s->ctx.attr_count++;
}

/* The spec's context object: the well-known fields, then any other field
 * and the properties as attributes (top-level fields first, as Unleash
 * looks them up). */
static void make_context(const cJSON *json, ctx_store *s)
{
	static const char *const known[] = {
		"userId", "sessionId", "remoteAddress", "environment", "appName",
		"currentTime"
	};
	const char **slots[6];
	const cJSON *item, *props = cJSON_GetObjectItemCaseSensitive(json,
		"properties");
	size_t i;

	memset(s, 0, sizeof(*s));
	s->ctx.attrs = s->attrs;
	slots[0] = &s->ctx.user_id;
	slots[1] = &s->ctx.session_id;
	slots[2] = &s->ctx.remote_address;
	slots[3] = &s->ctx.environment;
	slots[4] = &s->ctx.app_name;
	slots[5] = &s->ctx.current_time;
	cJSON_ArrayForEach(item, json) {
		if (item == props)
			continue;
		for (i = 0; i < 6; i++) {
			if (strcmp(item->string, known[i]) == 0) {
				*slots[i] = cJSON_IsString(item) ? item->valuestring : NULL;
				break;
			}
		}
		if (i == 6)
			add_attr(s, item);
	}
	cJSON_ArrayForEach(item, props)
		add_attr(s, item);
}

static void report(const char *file, const cJSON *tc, bool ok,
	const char *got)
{
	const cJSON *d = cJSON_GetObjectItemCaseSensitive(tc, "description");

	total++;
	if (ok) {
		passed++;
		return;
	}
	printf("FAIL %s: %s (got %s)\n", file,
		cJSON_IsString(d) ? d->valuestring : "?", got);
}

/* The case's context as an application passes it to the public API. */
static void public_context(const ctx_store *s, canary_context *ctx)
{
	canary_context_init(ctx, CANARY_CONTEXT_VERSION);
	ctx->unit = s->ctx.user_id;
	ctx->session_id = s->ctx.session_id;
	ctx->remote_address = s->ctx.remote_address;
	ctx->environment = s->ctx.environment;
	ctx->app_name = s->ctx.app_name;
	ctx->current_time = s->ctx.current_time;
	ctx->attrs = s->attrs;
	ctx->attr_count = s->ctx.attr_count;
}

/* The same case through libcanary's public API. */
static bool client_enabled(canary_client *c, const char *name,
	const ctx_store *s)
{
	canary_context ctx;

	public_context(s, &ctx);
	return canary_enabled_ctx(c, name, &ctx);
}

static void run_enabled(const char *file, const canary__unleash_model *m,
	canary_client *c, const cJSON *tc)
{
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(tc, "toggleName");
	const cJSON *want = cJSON_GetObjectItemCaseSensitive(tc, "expectedResult");
	ctx_store s;
	bool got;

	make_context(cJSON_GetObjectItemCaseSensitive(tc, "context"), &s);
	got = m && cJSON_IsString(name) && canary__unleash_enabled(m,
		name->valuestring, strlen(name->valuestring), &s.ctx, NULL);
	report(file, tc, cJSON_IsBool(want) && got == (cJSON_IsTrue(want) != 0),
		got ? "true" : "false");
	if (!c || !cJSON_IsString(name))
		return;
	client_total++;
	if (client_enabled(c, name->valuestring, &s) == got)
		client_passed++;
	else
		printf("FAIL %s through the client: %s\n", file, name->valuestring);
}

static bool same_string(const cJSON *want, const char *got)
{
	if (!want || cJSON_IsNull(want))
		return got == NULL;
	return cJSON_IsString(want) && got && strcmp(want->valuestring, got) == 0;
}

static bool same_bool(const cJSON *want, bool got)
{
	return !want || (cJSON_IsBool(want) && (cJSON_IsTrue(want) != 0) == got);
}

/* Does a variant match the case's expectedResult? */
static bool variant_as_expected(const cJSON *want, const char *name,
	bool enabled, bool feature_enabled, const char *type,
	const char *value)
{
	const cJSON *payload = cJSON_GetObjectItemCaseSensitive(want, "payload");
	const cJSON *fe = cJSON_GetObjectItemCaseSensitive(want, "feature_enabled");

	if (!fe)
		fe = cJSON_GetObjectItemCaseSensitive(want, "featureEnabled");
	return same_string(cJSON_GetObjectItemCaseSensitive(want, "name"), name) &&
	       same_bool(cJSON_GetObjectItemCaseSensitive(want, "enabled"), enabled) &&
	       same_bool(fe, feature_enabled) &&
	       same_string(cJSON_GetObjectItemCaseSensitive(payload, "type"), type) &&
	       same_string(cJSON_GetObjectItemCaseSensitive(payload, "value"), value);
}

/* The same case through canary_variant_ctx(). */
static void client_variant(const char *file, canary_client *c,
	const char *name, const ctx_store *s, const cJSON *want)
{
	static char payload[1 << 16];
	canary_variant v = CANARY_VARIANT_INIT;
	canary_context ctx;

	public_context(s, &ctx);
	v.payload_buf = payload;
	v.payload_buf_size = sizeof(payload);
	canary_variant_ctx(c, name, &ctx, 0, &v);
	variant_total++;
	if (v.truncated == 0 && variant_as_expected(want, v.name, v.enabled,
	    v.feature_enabled, v.has_payload ? v.payload_type : NULL,
	    v.has_payload ? payload : NULL))
		variant_passed++;
	else
		printf("FAIL %s through the client: variant of %s (got %s "
			"enabled=%d feature_enabled=%d)\n", file, name, v.name,
			v.enabled, v.feature_enabled);
}

static void run_variant(const char *file, const canary__unleash_model *m,
	canary_client *c, const cJSON *tc)
{
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(tc, "toggleName");
	const cJSON *want = cJSON_GetObjectItemCaseSensitive(tc, "expectedResult");
	canary__unleash_variant v = { "disabled", NULL, NULL, false, false };
	char got[512];
	ctx_store s;
	bool ok;

	make_context(cJSON_GetObjectItemCaseSensitive(tc, "context"), &s);
	if (m && cJSON_IsString(name))
		canary__unleash_get_variant(m, name->valuestring,
			strlen(name->valuestring), &s.ctx, &v);
	ok = variant_as_expected(want, v.name, v.enabled, v.feature_enabled,
		v.payload_type, v.payload_value);
	snprintf(got, sizeof(got), "%s enabled=%d feature_enabled=%d payload=%s:%s",
		v.name, v.enabled, v.feature_enabled,
		v.payload_type ? v.payload_type : "-",
		v.payload_value ? v.payload_value : "-");
	report(file, tc, ok, got);
	if (c && cJSON_IsString(name))
		client_variant(file, c, name->valuestring, &s, want);
}

/* A client in Unleash mode, without a server, given `state`. */
static canary_client *client_of(const char *file, const cJSON *state)
{
	canary_options o;
	canary_client *c = NULL;
	char *text = cJSON_PrintUnformatted(state);

	canary_options_init(&o, CANARY_OPTIONS_VERSION);
	o.source = CANARY_SOURCE_UNLEASH;
	o.no_exposures = true;
	o.log_stderr = CANARY_LOG_OFF;
	if (!text || canary_client_new(&c, &o) != CANARY_OK ||
	    canary_client_set_config_json(c, text, strlen(text)) != CANARY_OK) {
		printf("FAIL %s: the client refused the state: %s\n", file,
			canary_error_last());
		canary_client_free(c);
		c = NULL;
	}
	cJSON_free(text);
	return c;
}

/* The spec's state is a features document, or a list of delta events. */
static canary__unleash_model *compile_state(const char *file,
	const cJSON *state, canary_client **client)
{
	canary__unleash_model *m = NULL;
	cJSON *built = NULL;
	char err[CANARY__PERR_TEXT], *text;
	canary__perror e;
	int rc = CANARY_OK;

	canary__perror_clear(&e);
	if (cJSON_GetObjectItemCaseSensitive(state, "events")) {
		built = cJSON_CreateObject();
		rc = built ? canary__unleash_delta_apply(built, state, &e) :
			CANARY_ENOMEM;
		state = built;
	}
	/* As a source loads it: from the text (unleash_parse.c's reader). */
	text = rc == CANARY_OK ? cJSON_PrintUnformatted(state) : NULL;
	if (rc == CANARY_OK)
		rc = text ? canary__unleash_compile(NULL, text, strlen(text), NULL,
			&m, &e) : CANARY_ENOMEM;
	cJSON_free(text);
	if (rc == CANARY_OK)
		*client = client_of(file, state);
	if (rc != CANARY_OK)
		printf("FAIL %s: state rejected: %s\n", file,
			canary__perror_format(&e, err, sizeof(err)));
	cJSON_Delete(built);
	return m;
}

static int run_file(const char *dir, const char *file)
{
	cJSON *doc = read_json(dir, file);
	canary__unleash_model *m;
	canary_client *c = NULL;
	const cJSON *tc;

	if (!doc) {
		printf("FAIL %s: cannot read or parse the file\n", file);
		total++;
		return -1;
	}
	m = compile_state(file, cJSON_GetObjectItemCaseSensitive(doc, "state"),
		&c);
	cJSON_ArrayForEach(tc, cJSON_GetObjectItemCaseSensitive(doc, "tests"))
		run_enabled(file, m, c, tc);
	cJSON_ArrayForEach(tc, cJSON_GetObjectItemCaseSensitive(doc, "variantTests"))
		run_variant(file, m, c, tc);
	canary__unleash_free(m);
	canary_client_free(c);
	cJSON_Delete(doc);
	return 0;
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : CANARY_UNLEASH_SPEC_DIR;
	cJSON *index = read_json(dir, "index.json");
	const cJSON *file;

	if (!index) {
		printf("unleash spec: SKIPPED: %s/index.json not found; "
			"scripts/deps.sh installs @unleash/client-specification\n", dir);
		return SKIP;
	}
	cJSON_ArrayForEach(file, index)
		if (cJSON_IsString(file))
			run_file(dir, file->valuestring);
	cJSON_Delete(index);
	printf("unleash spec: %d/%d passed\n", passed, total);
	printf("unleash spec through libcanary's Unleash mode: %d/%d isEnabled "
		"cases passed\n", client_passed, client_total);
	printf("unleash spec through libcanary's Unleash mode: %d/%d getVariant "
		"cases passed (canary_variant_ctx)\n", variant_passed,
		variant_total);
	return passed == total && total > 0 && client_passed == client_total &&
		client_total > 0 && variant_passed == variant_total &&
		variant_total > 0 ? 0 : 1;
}
