/*
 * test_hostile_store.c - what the server does with the database it is
 * given, and how much it writes there:
 *
 *  17a one flag row the server cannot read does not stop it from starting
 *      and serving the others;
 *  17b a SQLite file that is not a canary-server database is refused, and
 *      left as it was;
 *  17c the decision history of a rollout that holds does not grow by a
 *      record every interval.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dp_support.h"
#include "hostile_support.h"

/* The last line of the server's log (for the report). */
static const char *last_log_line(void)
{
	static char log[65536];
	size_t n = srv_read_log(&hs_server, log, sizeof(log));
	char *p;

	while (n && log[n - 1] == '\n')
		log[--n] = '\0';
	p = strrchr(log, '\n');
	return p ? p + 1 : log;
}

static void test_item17a_bad_flag_row(void **state)
{
	bool started, served = false;
	resp r;

	(void)state;
	hs_start(NULL);
	hs_flag_create(&hs_server, "good", 0);
	hs_flag_create(&hs_server, "bad", 0);
	assert_int_equal(srv_stop(&hs_server), 0);
	/* A row no server would have written: rollout_bp out of range. */
	hs_sql(hs_server.db, "UPDATE flags SET body = "
		"'{\"key\":\"bad\",\"rollout_bp\":99999}' WHERE key = 'bad'");
	started = srv_restart(&hs_server, NULL) == 0;
	if (started) {
		assert_int_equal(http(&hs_server, "GET", "/v1/flags", SDK_KEY, NULL,
			NULL, &r), 0);
		served = r.status == 200 && strstr(r.body, "\"good\"");
		resp_free(&r);
	}
	print_message("one bad flag row: server started: %s, serves the good "
		"flag: %s; last log line: %s\n", started ? "yes" : "no",
		served ? "yes" : "no", last_log_line());
	assert_true(started);
	assert_true(served);
}

static void test_item17b_foreign_database_refused(void **state)
{
	long long before, after;
	bool started;

	(void)state;
	hs_start(NULL);
	assert_int_equal(srv_stop(&hs_server), 0);
	hs_remove_db(hs_server.db);
	hs_sql(hs_server.db, "CREATE TABLE customers(id INTEGER PRIMARY KEY,"
		" name TEXT NOT NULL); INSERT INTO customers(name) VALUES('alice');");
	before = hs_sql_int(hs_server.db, "SELECT count(*) FROM sqlite_schema");
	started = srv_restart(&hs_server, NULL) == 0;
	srv_stop(&hs_server);
	after = hs_sql_int(hs_server.db, "SELECT count(*) FROM sqlite_schema");
	print_message("another application's SQLite file as --db: server "
		"started: %s; schema objects %lld -> %lld; last log line: %s\n",
		started ? "yes" : "no", before, after, last_log_line());
	assert_false(started);
	assert_int_equal(after, before);
}

static void test_item17c_holding_rollout_history(void **state)
{
	long st;
	double total;
	char *last;
	cJSON *doc;

	(void)state;
	hs_start(NULL);
	hs_flag_create(&hs_server, "held", 0);
	/* No traffic: every evaluation is the same INCONCLUSIVE hold. */
	assert_int_equal(hs_status(&hs_server, "POST", "/v1/admin/rollouts",
		"{\"flag\":\"held\",\"steps\":[50,100],\"min_soak\":\"1h\","
		"\"max_step\":\"2h\",\"interval\":\"50ms\",\"gates\":"
		"{\"min_exposures\":200,\"lat_ratio\":[0,0,0]}}"), 201);
	dp_sleep_ms(3000); /* about 60 intervals pass */
	doc = hs_call(&hs_server, "GET", "/v1/admin/rollouts/held?last=1",
		ADMIN_TOKEN, NULL, &st);
	assert_int_equal(st, 200);
	total = cJSON_GetObjectItem(doc, "decisions_total")->valuedouble;
	last = cJSON_PrintUnformatted(cJSON_GetArrayItem(cJSON_GetObjectItem(doc,
		"decisions"), 0));
	assert_non_null(last);
	print_message("a rollout holding for 3 s at a 50 ms interval: %.0f "
		"decision records of about %zu bytes each\n", total, strlen(last));
	cJSON_free(last);
	cJSON_Delete(doc);
	assert_true(total <= 10);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_item17a_bad_flag_row,
			hs_setup, hs_teardown),
		cmocka_unit_test_setup_teardown(
			test_item17b_foreign_database_refused, hs_setup,
			hs_teardown),
		cmocka_unit_test_setup_teardown(
			test_item17c_holding_rollout_history, hs_setup, hs_teardown),
	};

	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
