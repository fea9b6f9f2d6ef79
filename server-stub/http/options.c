/*
 * options.c - parse canary-server's flags and environment.
 *
 * Secrets may come from flags or the environment; the environment is the
 * recommended way because argv is visible to every user via ps(1). Keys
 * are never echoed back, not even in errors.
 */
#include "http/options.h"

#include "canary/version.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIN_ADMIN_TOKEN 16
#define MIN_SDK_KEY 8

void cs_options_usage(FILE *out)
{
	fputs(
"usage: canary-server --db FILE|URL [options]\n"
"       canary-server migrate --from FILE|URL --to FILE|URL [--skip-versions N]\n"
"  --listen HOST:PORT     address to bind (default 127.0.0.1:8080; port 0 =\n"
"                         ephemeral; IPv6 as [::1]:8080)\n"
"  --db FILE|URL          SQLite database file, or postgresql://... (libpq's\n"
"                         URL; PG* variables and ~/.pgpass fill the rest);\n"
"                         created and migrated on start\n"
"  --port-file PATH       write the bound port to PATH once listening\n"
"  --sdk-key KEY          accept KEY on /v1/flags, /v1/stream, /v1/events\n"
"                         (repeatable; env CANARY_SDK_KEYS=k1,k2)\n"
"  --admin-token TOKEN    token for /v1/admin/ and /metrics (env\n"
"                         CANARY_ADMIN_TOKEN)\n"
"  --metrics-token TOKEN  a token that may read /metrics only (env\n"
"                         CANARY_METRICS_TOKEN)\n"
"  --insecure-dev         start without keys and accept any (development only)\n"
"  --window SECONDS       event aggregation window (default 10)\n"
"  --heartbeat-ms MS      SSE heartbeat period (default 15000)\n"
"  --tick-ms MS           period of the server's ticker (default 1000)\n"
"  --batch-retention-hours H  remember batch ids this long (default 168)\n"
"  --window-retention-days D  keep event windows this long (default 0: for ever)\n"
"  --decision-retention-days D  keep the decisions of ended rollouts this\n"
"                         long (default 30)\n"
"  --audit-retention-days D  keep audit records and finished webhook\n"
"                         deliveries this long (default 0: for ever)\n"
"  --webhook-retry-ms MS  first retry of a failed webhook delivery (doubling,\n"
"                         at most 1 h; 10 attempts; default 1000)\n"
"  --webhook-allow-loopback  webhooks may reach this host (127.0.0.1, ::1,\n"
"                         localhost); link-local addresses never\n"
"  --events-rate N        event batches a second one SDK key may post\n"
"                         (default 1000; 0: no limit; then 429)\n"
"  --events-windows-rate N  event windows a second one SDK key may post\n"
"                         (default 100000; 0: no limit)\n"
"  --max-config-bytes N   refuse a change whose config would be larger\n"
"                         (default 16777216, the SDK's default limit)\n"
"  --lease-ms MS          controller lease between servers (default 10000)\n"
"  --threads N            HTTP polling threads (default 2)\n"
"  --max-connections N    open connections incl. streams (default 4096)\n"
"  --max-connections-per-ip N  from one address (default a quarter of\n"
"                         --max-connections)\n"
"  --max-streams N        open streams (default --max-connections less\n"
"                         a twentieth, at least 16)\n"
"  --header-timeout S     a request's headers must arrive within S\n"
"                         seconds of its connection (default 10)\n"
"  --body-timeout S       and its body within S seconds more (default 30)\n"
"  --sync full|normal     SQLite synchronous mode (default full)\n"
"  --tls-cert FILE        serve HTTPS with this PEM certificate (chain)\n"
"  --tls-key FILE         ... and this PEM private key (both or neither)\n"
"  --ui-listen HOST:PORT  serve the dashboard (/ui/ and the admin API it\n"
"                         calls) there instead of on --listen\n"
"  --ui-lib-dir DIR       the charting library's files (default\n"
"                         " CS_UI_LIB_DIR ")\n"
"  --no-ui                no dashboard\n"
"  --quiet                log errors only\n"
"  --log-format text|json one line per change and decision, as text\n"
"                         (default) or one JSON object per line\n"
"  --help, --version\n", out);
}

static int bad(const char *what, const char *value)
{
	fprintf(stderr, "canary-server: invalid %s: %s\n", what, value);
	return -1;
}

static bool parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (!s || *s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return false;
	*out = v;
	return true;
}

/* An unsigned option in min..max. */
static int set_uint(const char *name, const char *v, uint64_t min,
	uint64_t max, unsigned int *out)
{
	uint64_t n;

	if (!parse_u64(v, min, max, &n)) {
		fprintf(stderr, "canary-server: invalid %s (%llu..%llu): %s\n",
			name, (unsigned long long)min, (unsigned long long)max, v);
		return -1;
	}
	*out = (unsigned int)n;
	return 0;
}

static int add_sdk_key(cs_options *o, const char *key, size_t len)
{
	if (len == 0)
		return 0;
	if (o->sdk_key_count == CS_MAX_KEYS) {
		fprintf(stderr, "canary-server: more than %d SDK keys\n",
			CS_MAX_KEYS);
		return -1;
	}
	o->sdk_keys[o->sdk_key_count] = strndup(key, len);
	if (!o->sdk_keys[o->sdk_key_count])
		return -1;
	o->sdk_key_count++;
	return 0;
}

static int add_sdk_key_list(cs_options *o, const char *list)
{
	const char *p = list;

	while (*p) {
		size_t len = strcspn(p, ",");

		if (add_sdk_key(o, p, len) != 0)
			return -1;
		p += len;
		if (*p == ',')
			p++;
	}
	return 0;
}

static int set_str(char **dst, const char *value)
{
	free(*dst);
	*dst = strdup(value);
	return *dst ? 0 : -1;
}

/* Read a whole PEM file (at most 1 MiB) into a NUL-terminated string. */
static int read_pem(char **dst, const char *what, const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0;

	if (f) {
		buf = malloc(1 << 20);
		len = buf ? fread(buf, 1, (1 << 20) - 1, f) : 0;
		fclose(f);
	}
	if (!buf || len == 0 || len == (1 << 20) - 1) {
		free(buf);
		fprintf(stderr, "canary-server: %s %s: cannot read (or empty, "
			"or over 1 MiB)\n", what, path);
		return -1;
	}
	buf[len] = '\0';
	free(*dst);
	*dst = buf;
	return 0;
}

static void defaults(cs_options *o)
{
	memset(o, 0, sizeof(*o));
	o->window_ms = 10000;
	o->heartbeat_ms = 15000;
	o->tick_ms = 1000;
	o->batch_retention_ms = 168ull * 3600 * 1000;
	o->decision_retention_ms = 30ull * 24 * 3600 * 1000;
	o->max_config_bytes = 16u << 20;
	o->events_rate = 1000;
	o->events_windows_rate = 100000;
	o->lease_ms = 10000;
	o->threads = 2;
	o->max_connections = 4096;
	o->connection_timeout_s = 60;
	o->header_timeout_s = 10;
	o->body_timeout_s = 30;
	o->sync = CS_SYNC_FULL;
	o->webhook_retry_ms = 1000;
}

/* A retention in days (0..36500, 0: keep everything) into ms. */
static int set_days(uint64_t *ms, const char *name, const char *v)
{
	char what[64];
	uint64_t n;

	if (!parse_u64(v, 0, 3650 * 10, &n)) {
		snprintf(what, sizeof(what), "%s (0..36500)", name);
		return bad(what, v);
	}
	*ms = n * 24 * 3600 * 1000;
	return 0;
}

/* One "--name value" option; returns 0, or -1 for an unknown name/value. */
static int set_option(cs_options *o, const char *name, const char *v)
{
	uint64_t n;

	if (strcmp(name, "--listen") == 0)
		return set_str(&o->listen, v);
	if (strcmp(name, "--db") == 0)
		return set_str(&o->db_path, v);
	if (strcmp(name, "--port-file") == 0)
		return set_str(&o->port_file, v);
	if (strcmp(name, "--sdk-key") == 0)
		return add_sdk_key(o, v, strlen(v));
	if (strcmp(name, "--admin-token") == 0)
		return set_str(&o->admin_token, v);
	if (strcmp(name, "--metrics-token") == 0)
		return set_str(&o->metrics_token, v);
	if (strcmp(name, "--ui-listen") == 0)
		return set_str(&o->ui_listen, v);
	if (strcmp(name, "--ui-lib-dir") == 0)
		return set_str(&o->ui_lib_dir, v);
	if (strcmp(name, "--tls-cert") == 0)
		return read_pem(&o->tls_cert, name, v);
	if (strcmp(name, "--tls-key") == 0)
		return read_pem(&o->tls_key, name, v);
	if (strcmp(name, "--window") == 0) {
		if (!parse_u64(v, 1, 86400, &n))
			return bad("--window (1..86400 seconds)", v);
		o->window_ms = n * 1000;
		return 0;
	}
	if (strcmp(name, "--heartbeat-ms") == 0)
		return parse_u64(v, 10, 3600000, &o->heartbeat_ms) ? 0 :
			bad("--heartbeat-ms (10..3600000)", v);
	if (strcmp(name, "--tick-ms") == 0)
		return parse_u64(v, 10, 3600000, &o->tick_ms) ? 0 :
			bad("--tick-ms (10..3600000)", v);
	if (strcmp(name, "--batch-retention-hours") == 0) {
		if (!parse_u64(v, 1, 24 * 3650, &n))
			return bad("--batch-retention-hours", v);
		o->batch_retention_ms = n * 3600 * 1000;
		return 0;
	}
	if (strcmp(name, "--window-retention-days") == 0)
		return set_days(&o->window_retention_ms, name, v);
	if (strcmp(name, "--audit-retention-days") == 0)
		return set_days(&o->audit_retention_ms, name, v);
	if (strcmp(name, "--webhook-retry-ms") == 0)
		return parse_u64(v, 10, 3600000, &o->webhook_retry_ms) ? 0 :
			bad("--webhook-retry-ms (10..3600000)", v);
	if (strcmp(name, "--log-format") == 0) {
		if (strcmp(v, "text") != 0 && strcmp(v, "json") != 0)
			return bad("--log-format (text|json)", v);
		o->log_json = strcmp(v, "json") == 0;
		return 0;
	}
	if (strcmp(name, "--decision-retention-days") == 0) {
		if (!parse_u64(v, 1, 3650 * 10, &n))
			return bad("--decision-retention-days (1..36500)", v);
		o->decision_retention_ms = n * 24 * 3600 * 1000;
		return 0;
	}
	if (strcmp(name, "--events-rate") == 0)
		return parse_u64(v, 0, 10000000, &o->events_rate) ? 0 :
			bad("--events-rate (0..10000000)", v);
	if (strcmp(name, "--events-windows-rate") == 0)
		return parse_u64(v, 0, 1000000000, &o->events_windows_rate) ?
			0 : bad("--events-windows-rate (0..1000000000)", v);
	if (strcmp(name, "--max-config-bytes") == 0)
		return parse_u64(v, 1024, 64u << 20, &o->max_config_bytes) ? 0 :
			bad("--max-config-bytes (1024..67108864)", v);
	if (strcmp(name, "--lease-ms") == 0)
		return parse_u64(v, 100, 3600000, &o->lease_ms) ? 0 :
			bad("--lease-ms (100..3600000)", v);
	if (strcmp(name, "--threads") == 0)
		return set_uint(name, v, 1, 64, &o->threads);
	if (strcmp(name, "--max-connections") == 0)
		return set_uint(name, v, 16, 1000000, &o->max_connections);
	if (strcmp(name, "--max-connections-per-ip") == 0)
		return set_uint(name, v, 1, 1000000, &o->max_per_ip);
	if (strcmp(name, "--max-streams") == 0)
		return set_uint(name, v, 1, 1000000, &o->max_streams);
	if (strcmp(name, "--header-timeout") == 0)
		return set_uint(name, v, 1, 3600, &o->header_timeout_s);
	if (strcmp(name, "--body-timeout") == 0)
		return set_uint(name, v, 1, 3600, &o->body_timeout_s);
	if (strcmp(name, "--sync") == 0) {
		if (strcmp(v, "full") == 0)
			o->sync = CS_SYNC_FULL;
		else if (strcmp(v, "normal") == 0)
			o->sync = CS_SYNC_NORMAL;
		else
			return bad("--sync (full|normal)", v);
		return 0;
	}
	fprintf(stderr, "canary-server: unknown option %s\n", name);
	return -1;
}

static int from_env(cs_options *o)
{
	const char *keys = getenv("CANARY_SDK_KEYS");
	const char *token = getenv("CANARY_ADMIN_TOKEN");
	const char *scrape = getenv("CANARY_METRICS_TOKEN");

	if (keys && add_sdk_key_list(o, keys) != 0)
		return -1;
	if (token && *token && !o->admin_token &&
	    set_str(&o->admin_token, token) != 0)
		return -1;
	if (scrape && *scrape && !o->metrics_token)
		return set_str(&o->metrics_token, scrape);
	return 0;
}

/* Refuse weak or missing secrets unless --insecure-dev. */
static int check_secrets(cs_options *o)
{
	size_t i;

	if (o->insecure_dev)
		return 0;
	if (o->sdk_key_count == 0 || !o->admin_token) {
		fprintf(stderr, "canary-server: refusing to start without SDK "
			"keys and an admin token (set CANARY_SDK_KEYS and "
			"CANARY_ADMIN_TOKEN, or pass --insecure-dev for local "
			"development)\n");
		return -1;
	}
	if (strlen(o->admin_token) < MIN_ADMIN_TOKEN) {
		fprintf(stderr, "canary-server: the admin token must be at "
			"least %d bytes\n", MIN_ADMIN_TOKEN);
		return -1;
	}
	for (i = 0; i < o->sdk_key_count; i++) {
		if (strlen(o->sdk_keys[i]) < MIN_SDK_KEY) {
			fprintf(stderr, "canary-server: SDK key #%zu is shorter "
				"than %d bytes\n", i + 1, MIN_SDK_KEY);
			return -1;
		}
		/* One secret must never open both doors. */
		if (strcmp(o->sdk_keys[i], o->admin_token) == 0 ||
		    (o->metrics_token &&
		     strcmp(o->sdk_keys[i], o->metrics_token) == 0)) {
			fprintf(stderr, "canary-server: the admin and metrics "
				"tokens must differ from every SDK key\n");
			return -1;
		}
	}
	if (o->metrics_token && strlen(o->metrics_token) < MIN_ADMIN_TOKEN) {
		fprintf(stderr, "canary-server: the metrics token must be at "
			"least %d bytes\n", MIN_ADMIN_TOKEN);
		return -1;
	}
	return 0;
}

/*
 * Limits that follow from --max-connections unless given: a quarter of
 * it from one address, and streams up to all of it but a reserve (a
 * twentieth, at least 16, at most half), so that streams can never take
 * the connections that fetches, event posts, /healthz and the admin API
 * need.
 */
static int connection_shares(cs_options *o)
{
	unsigned int reserve = o->max_connections / 20;

	if (reserve < 16)
		reserve = 16;
	if (reserve > o->max_connections / 2)
		reserve = o->max_connections / 2;
	if (!o->max_per_ip)
		o->max_per_ip = o->max_connections / 4;
	if (!o->max_streams)
		o->max_streams = o->max_connections - reserve;
	if (o->max_streams >= o->max_connections) {
		fprintf(stderr, "canary-server: --max-streams must be below "
			"--max-connections\n");
		return -1;
	}
	return 0;
}

int cs_options_parse(cs_options *o, int argc, char **argv)
{
	int i;

	defaults(o);
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			cs_options_usage(stdout);
			return 1;
		} else if (strcmp(a, "--version") == 0) {
			printf("canary-server %s\n", CANARY_VERSION_STRING);
			return 1;
		} else if (strcmp(a, "--insecure-dev") == 0) {
			o->insecure_dev = true;
		} else if (strcmp(a, "--quiet") == 0) {
			o->quiet = true;
		} else if (strcmp(a, "--no-ui") == 0) {
			o->no_ui = true;
		} else if (strcmp(a, "--webhook-allow-loopback") == 0) {
			o->webhook_allow_loopback = true;
		} else if (i + 1 < argc && strncmp(a, "--", 2) == 0) {
			if (set_option(o, a, argv[++i]) != 0)
				return -1;
		} else {
			fprintf(stderr, "canary-server: unknown or incomplete "
				"option %s\n", a);
			cs_options_usage(stderr);
			return -1;
		}
	}
	if (from_env(o) != 0)
		return -1;
	if (!o->db_path) {
		fprintf(stderr, "canary-server: --db FILE is required\n");
		return -1;
	}
	/* Renewed every tick: a lease no longer than two ticks would lapse
	 * between renewals. */
	if (o->lease_ms <= 2 * o->tick_ms) {
		fprintf(stderr, "canary-server: --lease-ms must be more than "
			"twice --tick-ms\n");
		return -1;
	}
	if (!o->tls_cert != !o->tls_key) {
		fprintf(stderr, "canary-server: --tls-cert and --tls-key go "
			"together\n");
		return -1;
	}
	if (!o->listen && set_str(&o->listen, "127.0.0.1:8080") != 0)
		return -1;
	if (o->no_ui && o->ui_listen) {
		fprintf(stderr, "canary-server: --no-ui and --ui-listen "
			"contradict each other\n");
		return -1;
	}
	if (!o->ui_lib_dir && set_str(&o->ui_lib_dir, CS_UI_LIB_DIR) != 0)
		return -1;
	if (connection_shares(o) != 0)
		return -1;
	return check_secrets(o);
}

void cs_options_clear(cs_options *o)
{
	size_t i;

	if (!o)
		return;
	free(o->listen);
	free(o->db_path);
	free(o->port_file);
	for (i = 0; i < o->sdk_key_count; i++)
		free(o->sdk_keys[i]);
	free(o->admin_token);
	free(o->metrics_token);
	free(o->tls_cert);
	free(o->tls_key);
	free(o->ui_listen);
	free(o->ui_lib_dir);
	memset(o, 0, sizeof(*o));
}
