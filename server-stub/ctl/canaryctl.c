/*
 * canaryctl - command-line client for canary-server's admin API.
 *
 *   canaryctl [--server URL] [--token T] [--json] flag list
 *   canaryctl ... flag get KEY
 *   canaryctl ... flag create KEY [flag options]
 *   canaryctl ... flag set KEY [flag options]      (changes only those given)
 *   canaryctl ... flag delete KEY
 *   canaryctl ... stats FLAG [--config-version N] [--since MS]
 *
 * The token comes from --token or CANARY_ADMIN_TOKEN (preferred: argv is
 * visible to other users). Exit status: 0 ok, 1 the server refused,
 * 2 usage, 3 network.
 */
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "canary/canary.h"
#include "ctl/ctl_client.h"
#include "ctl/ctl_table.h"

#define MAX_RESPONSE (64u * 1024u * 1024u)

typedef struct buf {
	char *data;
	size_t len;
	bool overflow;
} buf;

static void usage(FILE *out)
{
	fputs(
"usage: canaryctl [--server URL] [--token T] [--json] COMMAND\n"
"       canaryctl --help | --version\n"
"  flag list\n"
"  flag get KEY\n"
"  flag create KEY [options]   create a flag (rollout 0%, enabled, by default)\n"
"  flag set KEY [options]      change only the given fields\n"
"  flag delete KEY\n"
"  stats FLAG [--config-version N] [--since MS]\n"
"  rollout start FLAG [rollout options]\n"
"  rollout status FLAG [--last N]  state and decision history\n"
"  rollout list\n"
"  rollout pause|resume|rollback FLAG\n"
"  rollout promote FLAG [--full]   next step, or the last one\n"
"rollout options:\n"
"  --steps 1,5,25,50,100  --min-soak 5m  --max-step 1h  --interval 1m\n"
"  --on-fail rollback|pause        pause = dry run (record, do not roll back)\n"
"  --gate NAME=VALUE               judge gate, repeatable (docs/server.md)\n"
"flag options:\n"
"  --rollout PCT | --rollout-bp N   canary share (percent, or 0..10000 bp)\n"
"  --enable | --disable             kill switch (disabled = all stable)\n"
"  --salt S  --state S  --stable-variant V  --canary-variant V\n"
"  --allow a,b,c  --deny a,b,c      unit lists (\"\" empties a list)\n"
"environment: CANARY_SERVER (default http://127.0.0.1:8080),\n"
"             CANARY_ADMIN_TOKEN\n", out);
}

static size_t on_data(char *ptr, size_t size, size_t n, void *arg)
{
	buf *b = arg;
	size_t len = size * n;
	char *d;

	if (b->len + len > MAX_RESPONSE) {
		b->overflow = true;
		return 0;
	}
	d = realloc(b->data, b->len + len + 1);
	if (!d)
		return 0;
	memcpy(d + b->len, ptr, len);
	b->data = d;
	b->len += len;
	b->data[b->len] = '\0';
	return len;
}

/* Perform one request; *status gets the HTTP status, *out the body. */
static int request(const ctl *c, const char *method, const char *path,
	const char *body, long *status, buf *out)
{
	CURL *h = curl_easy_init();
	struct curl_slist *hdrs = NULL;
	char url[2048], auth[1024];
	CURLcode rc;

	memset(out, 0, sizeof(*out));
	if (!h)
		return EXIT_NETWORK;
	snprintf(url, sizeof(url), "%s%s", c->server, path);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s",
		c->token ? c->token : "");
	hdrs = curl_slist_append(hdrs, auth);
	hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "canaryctl/" CANARY_VERSION_STRING);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, out);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 30000L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	if (body)
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	rc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(h);
	if (rc != CURLE_OK) {
		fprintf(stderr, "canaryctl: %s: %s\n", c->server,
			curl_easy_strerror(rc));
		return EXIT_NETWORK;
	}
	return 0;
}

/* Print a server error {"error", "field"} and return EXIT_REFUSED. */
static int refused(long status, const buf *b)
{
	cJSON *doc = b->data ? cJSON_Parse(b->data) : NULL;
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(doc, "error");
	const cJSON *f = cJSON_GetObjectItemCaseSensitive(doc, "field");

	fprintf(stderr, "canaryctl: server said %ld", status);
	if (cJSON_IsString(f))
		fprintf(stderr, ": %s", f->valuestring);
	if (cJSON_IsString(e))
		fprintf(stderr, ": %s", e->valuestring);
	fputc('\n', stderr);
	cJSON_Delete(doc);
	return EXIT_REFUSED;
}

/* Request, check for 2xx, parse JSON into *doc (may be NULL). */
int ctl_call(const ctl *c, const char *method, const char *path,
	const char *body, cJSON **doc)
{
	long status = 0;
	buf b;
	int rc = request(c, method, path, body, &status, &b);

	*doc = NULL;
	if (rc == 0 && (status < 200 || status > 299))
		rc = refused(status, &b);
	if (rc == 0) {
		*doc = b.data ? cJSON_Parse(b.data) : NULL;
		if (!*doc) {
			fprintf(stderr, "canaryctl: malformed response\n");
			rc = EXIT_REFUSED;
		}
	}
	free(b.data);
	return rc;
}

char *ctl_escape(const char *key)
{
	CURL *h = curl_easy_init();
	char *e = h ? curl_easy_escape(h, key, 0) : NULL;
	char *copy = e ? strdup(e) : NULL;

	curl_free(e);
	curl_easy_cleanup(h);
	return copy;
}

void ctl_print_json(const cJSON *doc)
{
	char *s = cJSON_Print(doc);

	if (s)
		puts(s);
	cJSON_free(s);
}

static const char *str(const cJSON *obj, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);

	return cJSON_IsString(v) ? v->valuestring : "";
}

static double num(const cJSON *obj, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);

	return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static void join_list(const cJSON *arr, char *out, size_t len)
{
	const cJSON *it;
	size_t n = 0;

	out[0] = '\0';
	cJSON_ArrayForEach(it, arr) {
		if (!cJSON_IsString(it))
			continue;
		n += (size_t)snprintf(out + n, n < len ? len - n : 0, "%s%s",
			n ? "," : "", it->valuestring);
		if (n >= len) {
			if (len > 4)
				memcpy(out + len - 4, "...", 4);
			return;
		}
	}
}

static void flag_row(ctl_table *t, const cJSON *f)
{
	char rollout[32], allow[64], deny[64];
	const cJSON *en = cJSON_GetObjectItemCaseSensitive(f, "enabled");
	const char *cells[6];

	snprintf(rollout, sizeof(rollout), "%.2f%%", num(f, "rollout_bp") / 100);
	join_list(cJSON_GetObjectItemCaseSensitive(f, "allow"), allow,
		sizeof(allow));
	join_list(cJSON_GetObjectItemCaseSensitive(f, "deny"), deny,
		sizeof(deny));
	cells[0] = str(f, "key");
	cells[1] = cJSON_IsTrue(en) ? "yes" : "no";
	cells[2] = rollout;
	cells[3] = str(f, "state");
	cells[4] = allow;
	cells[5] = deny;
	ctl_table_row(t, cells);
}

static void print_flags(const cJSON *flags)
{
	static const char *const head[] = { "KEY", "ENABLED", "ROLLOUT",
		"STATE", "ALLOW", "DENY" };
	const cJSON *f;
	ctl_table t;

	ctl_table_init(&t, 6, head);
	cJSON_ArrayForEach(f, flags)
		flag_row(&t, f);
	ctl_table_print(&t, stdout);
	ctl_table_free(&t);
}

/* Table for a {"version", "flag"} document. */
static void print_flag_doc(const cJSON *doc)
{
	cJSON *one = cJSON_CreateArray();
	const cJSON *flag = cJSON_GetObjectItemCaseSensitive(doc, "flag");

	if (flag && one)
		cJSON_AddItemReferenceToArray(one, (cJSON *)flag);
	print_flags(one);
	printf("config version %.0f\n", num(doc, "version"));
	cJSON_Delete(one);
}

static int cmd_list(const ctl *c)
{
	cJSON *doc;
	int rc = ctl_call(c, "GET", "/v1/admin/flags", NULL, &doc);

	if (rc == 0) {
		if (c->json) {
			ctl_print_json(doc);
		} else {
			print_flags(cJSON_GetObjectItemCaseSensitive(doc, "flags"));
			printf("config version %.0f\n", num(doc, "version"));
		}
	}
	cJSON_Delete(doc);
	return rc;
}

/* GET or DELETE one flag. */
static int cmd_one(const ctl *c, const char *method, const char *key)
{
	char *k = ctl_escape(key), path[1024];
	cJSON *doc = NULL;
	int rc;

	if (!k)
		return EXIT_USAGE;
	snprintf(path, sizeof(path), "/v1/admin/flags/%s", k);
	free(k);
	rc = ctl_call(c, method, path, NULL, &doc);
	if (rc == 0 && c->json)
		ctl_print_json(doc);
	else if (rc == 0 && strcmp(method, "DELETE") == 0)
		printf("deleted %s (config version %.0f)\n", key,
			num(doc, "version"));
	else if (rc == 0)
		print_flag_doc(doc);
	cJSON_Delete(doc);
	return rc;
}

static cJSON *split_list(const char *csv)
{
	cJSON *arr = cJSON_CreateArray();
	const char *p = csv;

	while (arr && *p) {
		size_t n = strcspn(p, ",");
		char *item = strndup(p, n);

		if (!item || (n && !cJSON_AddItemToArray(arr,
				cJSON_CreateString(item)))) {
			free(item);
			cJSON_Delete(arr);
			return NULL;
		}
		free(item);
		p += n;
		if (*p == ',')
			p++;
	}
	return arr;
}

static bool parse_percent(const char *s, double *bp)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || !(v >= 0 && v <= 100))
		return false;
	*bp = round(v * 100);
	return fabs(*bp - v * 100) < 1e-6; /* at most 0.01% steps */
}

static bool parse_bp(const char *s, double *bp)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || *s < '0' || *s > '9' || v > 10000)
		return false;
	*bp = (double)v;
	return true;
}

static bool add_variant(cJSON *obj, const char *arm, const char *value)
{
	cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, "variants");

	if (!v)
		v = cJSON_AddObjectToObject(obj, "variants");
	return v && cJSON_AddStringToObject(v, arm, value);
}

/* One flag option with its value into the request body. */
static bool flag_option(cJSON *obj, const char *opt, const char *val)
{
	double bp;

	if (strcmp(opt, "--rollout") == 0)
		return parse_percent(val, &bp) &&
		       cJSON_AddNumberToObject(obj, "rollout_bp", bp);
	if (strcmp(opt, "--rollout-bp") == 0)
		return parse_bp(val, &bp) &&
		       cJSON_AddNumberToObject(obj, "rollout_bp", bp);
	if (strcmp(opt, "--salt") == 0 || strcmp(opt, "--state") == 0)
		return cJSON_AddStringToObject(obj, opt + 2, val) != NULL;
	if (strcmp(opt, "--stable-variant") == 0)
		return add_variant(obj, "stable", val);
	if (strcmp(opt, "--canary-variant") == 0)
		return add_variant(obj, "canary", val);
	if (strcmp(opt, "--allow") == 0 || strcmp(opt, "--deny") == 0) {
		cJSON *arr = split_list(val);

		return arr && cJSON_AddItemToObject(obj, opt + 2, arr);
	}
	return false;
}

/* Build the body of create/set from argv[i..]. */
static cJSON *flag_body(const char *key, bool create, int argc, char **argv)
{
	cJSON *obj = cJSON_CreateObject();
	int i = 0;

	if (!obj)
		return NULL;
	if (create && (!cJSON_AddStringToObject(obj, "key", key) ||
		       !cJSON_AddNumberToObject(obj, "rollout_bp", 0)))
		goto bad;
	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--enable") == 0 ||
		    strcmp(argv[i], "--disable") == 0) {
			cJSON_DeleteItemFromObject(obj, "enabled");
			if (!cJSON_AddBoolToObject(obj, "enabled",
				strcmp(argv[i], "--enable") == 0))
				goto bad;
			continue;
		}
		if (i + 1 >= argc)
			goto bad;
		if (strstr(argv[i], "rollout"))
			cJSON_DeleteItemFromObject(obj, "rollout_bp");
		if (!flag_option(obj, argv[i], argv[i + 1]))
			goto bad;
		i++;
	}
	return obj;
bad:
	fprintf(stderr, "canaryctl: bad flag option%s%s\n",
		i < argc ? " " : "", i < argc ? argv[i] : "");
	cJSON_Delete(obj);
	return NULL;
}

static int cmd_write(const ctl *c, bool create, const char *key, int argc,
	char **argv)
{
	cJSON *body = flag_body(key, create, argc, argv), *doc = NULL;
	char *text = body ? cJSON_PrintUnformatted(body) : NULL;
	char *k = ctl_escape(key), path[1024];
	int rc = EXIT_USAGE;

	if (text && k) {
		if (create)
			snprintf(path, sizeof(path), "/v1/admin/flags");
		else
			snprintf(path, sizeof(path), "/v1/admin/flags/%s", k);
		rc = ctl_call(c, create ? "POST" : "PATCH", path, text, &doc);
	}
	if (rc == 0 && c->json)
		ctl_print_json(doc);
	else if (rc == 0)
		print_flag_doc(doc);
	cJSON_Delete(body);
	cJSON_Delete(doc);
	cJSON_free(text);
	free(k);
	return rc;
}

static void fmt_ms(const cJSON *lat, const char *q, char *out, size_t len)
{
	double v = num(lat, q);

	if (isnan(v))
		snprintf(out, len, "-");
	else
		snprintf(out, len, "%.3g", v);
}

static void stats_row(ctl_table *t, const char *arm, const cJSON *a)
{
	const cJSON *lat = cJSON_GetObjectItemCaseSensitive(a, "latency_ms");
	char exp[32], err[32], rate[32], p50[32], p95[32], p99[32];
	const char *cells[7];
	double r = num(a, "error_rate");

	snprintf(exp, sizeof(exp), "%.0f", num(a, "exposures"));
	snprintf(err, sizeof(err), "%.0f", num(a, "errors"));
	if (isnan(r))
		snprintf(rate, sizeof(rate), "-");
	else
		snprintf(rate, sizeof(rate), "%.3f%%", r * 100);
	fmt_ms(lat, "p50", p50, sizeof(p50));
	fmt_ms(lat, "p95", p95, sizeof(p95));
	fmt_ms(lat, "p99", p99, sizeof(p99));
	cells[0] = arm;
	cells[1] = exp;
	cells[2] = err;
	cells[3] = rate;
	cells[4] = p50;
	cells[5] = p95;
	cells[6] = p99;
	ctl_table_row(t, cells);
}

static int cmd_stats(const ctl *c, const char *key, int argc, char **argv)
{
	static const char *const head[] = { "ARM", "EXPOSURES", "ERRORS",
		"ERROR%", "P50_MS", "P95_MS", "P99_MS" };
	char *k = ctl_escape(key), path[1200];
	size_t n;
	cJSON *doc = NULL;
	const cJSON *arms;
	ctl_table t;
	int i, rc;

	if (!k)
		return EXIT_USAGE;
	n = (size_t)snprintf(path, sizeof(path), "/v1/admin/flags/%s/stats", k);
	free(k);
	for (i = 0; i + 1 < argc; i += 2) {
		const char *name = strcmp(argv[i], "--config-version") == 0 ?
			"config_version" : strcmp(argv[i], "--since") == 0 ?
			"since" : NULL;

		if (!name || strspn(argv[i + 1], "0123456789") !=
		    strlen(argv[i + 1]))
			return usage(stderr), EXIT_USAGE;
		n += (size_t)snprintf(path + n, sizeof(path) - n, "%c%s=%s",
			i ? '&' : '?', name, argv[i + 1]);
	}
	if (i != argc || n >= sizeof(path))
		return usage(stderr), EXIT_USAGE;
	rc = ctl_call(c, "GET", path, NULL, &doc);
	if (rc == 0 && c->json) {
		ctl_print_json(doc);
	} else if (rc == 0) {
		arms = cJSON_GetObjectItemCaseSensitive(doc, "arms");
		ctl_table_init(&t, 7, head);
		stats_row(&t, "stable", cJSON_GetObjectItemCaseSensitive(arms,
			"stable"));
		stats_row(&t, "canary", cJSON_GetObjectItemCaseSensitive(arms,
			"canary"));
		ctl_table_print(&t, stdout);
		ctl_table_free(&t);
	}
	cJSON_Delete(doc);
	return rc;
}

static int dispatch(const ctl *c, int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[0], "flag") == 0) {
		const char *sub = argv[1];

		if (strcmp(sub, "list") == 0 && argc == 2)
			return cmd_list(c);
		if (argc >= 3 && strcmp(sub, "get") == 0 && argc == 3)
			return cmd_one(c, "GET", argv[2]);
		if (argc >= 3 && strcmp(sub, "delete") == 0 && argc == 3)
			return cmd_one(c, "DELETE", argv[2]);
		if (argc >= 3 && strcmp(sub, "create") == 0)
			return cmd_write(c, true, argv[2], argc - 3, argv + 3);
		if (argc >= 3 && strcmp(sub, "set") == 0)
			return cmd_write(c, false, argv[2], argc - 3, argv + 3);
	}
	if (argc >= 2 && strcmp(argv[0], "stats") == 0)
		return cmd_stats(c, argv[1], argc - 2, argv + 2);
	if (argc >= 2 && strcmp(argv[0], "rollout") == 0) {
		int rc = ctl_rollout(c, argc - 1, argv + 1);

		if (rc != EXIT_USAGE)
			return rc;
	}
	usage(stderr);
	return EXIT_USAGE;
}

int main(int argc, char **argv)
{
	ctl c = { getenv("CANARY_SERVER"), getenv("CANARY_ADMIN_TOKEN"), false };
	char **rest = calloc((size_t)argc + 1, sizeof(char *));
	int i, n = 0, rc;

	if (!rest)
		return EXIT_USAGE;
	/* Global options may appear anywhere; everything else is the command. */
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			c.json = true;
		else if (strcmp(argv[i], "--server") == 0 && i + 1 < argc)
			c.server = argv[++i];
		else if (strcmp(argv[i], "--token") == 0 && i + 1 < argc)
			c.token = argv[++i];
		else if (strcmp(argv[i], "--help") == 0 ||
			 strcmp(argv[i], "-h") == 0)
			return free(rest), usage(stdout), 0;
		else if (strcmp(argv[i], "--version") == 0)
			return free(rest), puts("canaryctl " CANARY_VERSION_STRING), 0;
		else
			rest[n++] = argv[i];
	}
	if (!c.server || !*c.server)
		c.server = "http://127.0.0.1:8080";
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		free(rest);
		return EXIT_NETWORK;
	}
	rc = dispatch(&c, n, rest);
	curl_global_cleanup();
	free(rest);
	return rc;
}
