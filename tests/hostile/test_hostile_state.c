/*
 * test_hostile_state.c - state that lies:
 *
 *  08  the README's backup/restore procedure, followed literally, must not
 *      make the config version repeat or go back, and an SDK that saw the
 *      versions issued after the backup must still obey the kill switch
 *      set after the restore;
 *  09  /healthz says whether writes can succeed: not "ok" with the
 *      database deleted, the disk full, or the database corrupt;
 *  10  the admin API refuses a change whose config the SDK could not take
 *      (over its 16 MiB default), so the fleet keeps updating;
 *  12  unknown fields in flag bodies are refused with 400 naming them, and
 *      nothing is written.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "canary/canary.h"
#include "dp_support.h"
#include "hostile_support.h"

/* ---- 08 ---------------------------------------------------------------- */

/* The README's backup: sqlite3 DB ".backup FILE" (the C API's online
 * backup, the same operation, when the CLI is not installed). */
static void backup(const char *db, const char *to)
{
#ifdef SQLITE3_CLI
	char cmd[700], out[256];
	const char *argv[] = { SQLITE3_CLI, db, cmd, NULL };

	snprintf(cmd, sizeof(cmd), ".backup '%s'", to);
	assert_int_equal(run_capture(argv, NULL, out, sizeof(out)), 0);
#else
	sqlite3 *src = NULL, *dst = NULL;
	sqlite3_backup *b;

	assert_int_equal(sqlite3_open(db, &src), SQLITE_OK);
	assert_int_equal(sqlite3_open(to, &dst), SQLITE_OK);
	b = sqlite3_backup_init(dst, "main", src, "main");
	assert_non_null(b);
	assert_int_equal(sqlite3_backup_step(b, -1), SQLITE_DONE);
	sqlite3_backup_finish(b);
	sqlite3_close(dst);
	sqlite3_close(src);
#endif
}

static void copy_file(const char *from, const char *to)
{
	char buf[65536];
	int in = open(from, O_RDONLY), out;
	ssize_t n;

	assert_true(in >= 0);
	out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(out >= 0);
	while ((n = read(in, buf, sizeof(buf))) > 0)
		assert_int_equal(write(out, buf, (size_t)n), n);
	close(in);
	close(out);
}

/* Units of 200 that the client puts in promo's canary. */
static int in_canary(canary_client *c)
{
	return hs_canary_units(c, "promo");
}

/* A polling client (every 100 ms): the path where an equal version with
 * other content reaches the cache. */
static canary_client *sdk_client(const char *cache, dp_log *log)
{
	canary_options o;
	canary_client *c = NULL;

	dp_options(&o, hs_server.base, cache, log, NULL);
	o.sdk_key = SDK_KEY;
	o.no_stream = true;
	assert_int_equal(canary_client_new(&c, &o), CANARY_OK);
	return c;
}

static bool kill_switch_obeyed(void *ctx)
{
	return in_canary(ctx) == 0;
}

static void test_item08_restore_keeps_versions_moving(void **state)
{
	char copy[300], cache[300], listen[64];
	const char *extra[] = { "--listen", listen, NULL };
	double before, restored, killed, zeroed;
	canary_client *c, *offline;
	canary_options o;
	dp_log *log = dp_log_new();
	int canary_before, canary_after, canary_cached;
	bool obeyed;

	(void)state;
	hs_start(NULL);
	snprintf(copy, sizeof(copy), "%s/backup.db", hs_server.dir);
	snprintf(cache, sizeof(cache), "%s/sdk-cache.db", hs_server.dir);
	hs_flag_create(&hs_server, "promo", 10000);
	backup(hs_server.db, copy);
	/* Changes after the backup; an SDK sees them. */
	assert_int_equal(hs_status(&hs_server, "PATCH", "/v1/admin/flags/promo",
		"{\"rollout_bp\":5000}"), 200);
	assert_int_equal(hs_status(&hs_server, "PATCH", "/v1/admin/flags/promo",
		"{\"salt\":\"s2\"}"), 200);
	before = hs_version(&hs_server);
	c = sdk_client(cache, log);
	assert_true(dp_wait_version(c, (uint64_t)before));
	canary_before = in_canary(c);
	/* Restore: stop the server, put the file back, start it. */
	assert_int_equal(srv_stop(&hs_server), 0);
	hs_remove_db(hs_server.db);
	copy_file(copy, hs_server.db);
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", hs_server.port);
	assert_int_equal(srv_restart(&hs_server, extra), 0);
	restored = hs_version(&hs_server);
	/* The operator pulls the kill switch, then sets rollout 0. */
	assert_int_equal(hs_status(&hs_server, "PATCH", "/v1/admin/flags/promo",
		"{\"enabled\":false}"), 200);
	killed = hs_version(&hs_server);
	assert_int_equal(hs_status(&hs_server, "PATCH", "/v1/admin/flags/promo",
		"{\"rollout_bp\":0}"), 200);
	zeroed = hs_version(&hs_server);
	obeyed = hs_wait(kill_switch_obeyed, c);
	canary_after = in_canary(c);
	print_message("versions: %.0f before the restore, %.0f after it, kill "
		"switch %.0f, rollout 0 %.0f; the SDK holds %llu (%s) and puts "
		"%d then %d of 200 units in the canary\n", before, restored,
		killed, zeroed,
		(unsigned long long)canary_client_config_version(c),
		canary_status_name(canary_client_status(c)), canary_before,
		canary_after);
	canary_client_free(c);
	/* What the SDK cached must be what it served. */
	dp_options(&o, NULL, cache, NULL, NULL);
	assert_int_equal(canary_client_new(&offline, &o), CANARY_OK);
	canary_cached = in_canary(offline);
	canary_client_free(offline);
	print_message("a client started from that SDK's cache puts %d of 200 "
		"units in the canary\n", canary_cached);
	dp_log_free(log);
	assert_true(restored > before);
	assert_true(obeyed);
	assert_int_equal(canary_cached, canary_after);
}

/* ---- 09 ---------------------------------------------------------------- */

static long post_one(void)
{
	hs_batch b;

	hs_batch_begin(&b, "app");
	hs_batch_window(&b, "h", "canary", 2, 10, 1);
	return hs_batch_post(&hs_server, &b);
}

/* A write is tried, then /healthz asked. */
static void assert_unhealthy(const char *what)
{
	long events = post_one(), health = hs_probe(&hs_server, "/healthz",
		NULL);

	print_message("%s: POST /v1/events %ld, /healthz %ld\n", what, events,
		health);
	assert_int_not_equal(events, 202);
	assert_int_not_equal(health, 200);
}

static void test_item09_health_database_deleted(void **state)
{
	(void)state;
	hs_start(NULL);
	hs_flag_create(&hs_server, "h", 0);
	assert_int_equal(post_one(), 202);
	hs_remove_db(hs_server.db);
	assert_unhealthy("database file deleted");
}

static void test_item09_health_disk_full(void **state)
{
	struct rlimit none = { 0, 0 };

	(void)state;
	/* Ignored in the server too (inherited through exec): a write past
	 * the limit fails with EFBIG, as on a full disk. */
	signal(SIGXFSZ, SIG_IGN);
	hs_start(NULL);
	signal(SIGXFSZ, SIG_DFL);
	hs_flag_create(&hs_server, "h", 0);
	assert_int_equal(post_one(), 202);
	assert_int_equal(prlimit(hs_server.pid, RLIMIT_FSIZE, &none, NULL), 0);
	assert_unhealthy("no byte may be written (RLIMIT_FSIZE 0)");
}

/* Overwrite the root page of `table` with garbage (server stopped). */
static void corrupt_table(const char *db_path, const char *table)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	long long root = 0, page = 0;
	char garbage[65536];
	int fd;

	assert_int_equal(sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY,
		NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT rootpage, "
		"(SELECT page_size FROM pragma_page_size) FROM sqlite_schema "
		"WHERE name = ?1", -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	root = sqlite3_column_int64(st, 0);
	page = sqlite3_column_int64(st, 1);
	sqlite3_finalize(st);
	sqlite3_close(db);
	assert_true(root > 1 && page > 0 && page <= (long long)sizeof(garbage));
	memset(garbage, 0xa5, sizeof(garbage));
	fd = open(db_path, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, garbage, (size_t)page,
		(off_t)((root - 1) * page)), page);
	close(fd);
}

static void test_item09_health_database_corrupt(void **state)
{
	(void)state;
	hs_start(NULL);
	hs_flag_create(&hs_server, "h", 0);
	assert_int_equal(post_one(), 202);
	assert_int_equal(srv_stop(&hs_server), 0);
	corrupt_table(hs_server.db, "windows");
	if (srv_restart(&hs_server, NULL) != 0) {
		print_message("corrupt database: the server refused to start\n");
		return; /* also honest: it never said "ok" */
	}
	assert_unhealthy("events table corrupt");
}

/* ---- 10 ---------------------------------------------------------------- */

#define SDK_LIMIT (16u * 1024u * 1024u) /* the SDK's max_response_bytes */

/* A flag whose allow list makes its body about 3.7 MB (admin limit 4 MiB). */
static char *big_flag(int n)
{
	size_t cap = 3800u * 1010u + 256, len;
	char *b = malloc(cap), pad[1001];
	int i;

	assert_non_null(b);
	memset(pad, 'x', 990);
	pad[990] = '\0';
	len = (size_t)snprintf(b, cap, "{\"key\":\"big%d\",\"rollout_bp\":0,"
		"\"allow\":[", n);
	for (i = 0; i < 3700; i++)
		len += (size_t)snprintf(b + len, cap - len, "%s\"%05d%s\"",
			i ? "," : "", i, pad);
	snprintf(b + len, cap - len, "]}");
	return b;
}

typedef struct target {
	canary_client *c;
	uint64_t version;
} target;

static bool sdk_current(void *ctx)
{
	const target *t = ctx;

	return canary_client_config_version(t->c) == t->version;
}

static void test_item10_config_over_sdk_limit_refused(void **state)
{
	canary_options o;
	target t;
	long st[5];
	size_t size;
	bool current;
	resp r;
	int i, refused = -1;

	(void)state;
	hs_start(NULL);
	for (i = 0; i < 5; i++) {
		char *b = big_flag(i);

		st[i] = hs_status(&hs_server, "POST", "/v1/admin/flags", b);
		free(b);
		if (st[i] != 201) {
			refused = i;
			break;
		}
	}
	assert_int_equal(http(&hs_server, "GET", "/v1/flags", SDK_KEY, NULL,
		NULL, &r), 0);
	size = r.len;
	resp_free(&r);
	/* A client with the default limits must reach the current config. */
	canary_options_init(&o, CANARY_OPTIONS_VERSION);
	o.server_url = hs_server.base;
	o.sdk_key = SDK_KEY;
	o.no_stream = true; /* the stream sends the same whole config */
	o.poll_interval_ms = 1000;
	o.backoff_cap_ms = 1000;
	t.version = (uint64_t)hs_version(&hs_server);
	assert_int_equal(canary_client_new(&t.c, &o), CANARY_OK);
	current = hs_wait(sdk_current, &t);
	print_message("5 flags of ~3.7 MB: first refusal at #%d; /v1/flags is "
		"%zu bytes (SDK limit %u); the default SDK holds version %llu of "
		"%llu (%s)\n", refused, size, SDK_LIMIT,
		(unsigned long long)canary_client_config_version(t.c),
		(unsigned long long)t.version,
		canary_status_name(canary_client_status(t.c)));
	canary_client_free(t.c);
	assert_true(refused >= 0);
	assert_true(st[refused] >= 400 && st[refused] < 500);
	assert_true(size <= SDK_LIMIT);
	assert_true(current);
}

/* ---- 12 ---------------------------------------------------------------- */

/* A request that must be refused with 400 naming `field`; returns whether
 * it was, and prints what happened when not. */
static bool refused_naming(const char *method, const char *path,
	const char *body, const char *field)
{
	long st;
	cJSON *doc = hs_call(&hs_server, method, path, ADMIN_TOKEN, body, &st);
	const cJSON *f = cJSON_GetObjectItem(doc, "field");
	bool ok = st == 400 && cJSON_IsString(f) &&
		strcmp(f->valuestring, field) == 0;

	if (!ok)
		print_message("%s %s %s -> %ld, field %s (wanted 400 naming "
			"%s)\n", method, path, body, st,
			cJSON_IsString(f) ? f->valuestring : "none", field);
	cJSON_Delete(doc);
	return ok;
}

static void test_item12_unknown_admin_fields_refused(void **state)
{
	double v;
	int bad = 0;

	(void)state;
	hs_start(NULL);
	hs_flag_create(&hs_server, "y", 0);
	v = hs_version(&hs_server);
	bad += !refused_naming("POST", "/v1/admin/flags",
		"{\"key\":\"x\",\"rollout_bp\":0,\"enabeld\":false}", "enabeld");
	bad += !refused_naming("PATCH", "/v1/admin/flags/y",
		"{\"rollout_pb\":5000}", "rollout_pb");
	bad += !refused_naming("PUT", "/v1/admin/flags/y",
		"{\"rollout_bp\":0,\"enabeld\":false}", "enabeld");
	bad += !refused_naming("POST", "/v1/admin/flags",
		"{\"key\":\"z\",\"rollout_bp\":0,\"variants\":{\"stabel\":\"v\"}}",
		"variants.stabel");
	print_message("%d of 4 requests with an unknown field not refused; "
		"config version %.0f -> %.0f\n", bad, v, hs_version(&hs_server));
	assert_int_equal(bad, 0);
	assert_true(hs_version(&hs_server) == v);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_item08_restore_keeps_versions_moving, hs_setup,
			hs_teardown),
		cmocka_unit_test_setup_teardown(
			test_item09_health_database_deleted, hs_setup, hs_teardown),
		cmocka_unit_test_setup_teardown(test_item09_health_disk_full,
			hs_setup, hs_teardown),
		cmocka_unit_test_setup_teardown(
			test_item09_health_database_corrupt, hs_setup, hs_teardown),
		cmocka_unit_test_setup_teardown(
			test_item10_config_over_sdk_limit_refused, hs_setup,
			hs_teardown),
		cmocka_unit_test_setup_teardown(
			test_item12_unknown_admin_fields_refused, hs_setup,
			hs_teardown),
	};

	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
