/*
 * test_events_kill.c - kill -9 after a flush loses nothing: a child
 * process counts exposures and errors, flushes them into the outbox of its
 * cache file while the service is unreachable, counts a little more (not
 * flushed), and is killed with SIGKILL. A new client on the same cache
 * file delivers exactly what was flushed to the real canary-server; what
 * was counted after the flush is the documented loss. And fork(): the
 * child does not send the parent's counts again, also when it frees the
 * client without calling canary_client_postfork().
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "canary/canary.h"
#include "ev_proxy.h"
#include "harness.h"

static srv server;
static char dir[64];
static char cache[128];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/canary-evkill-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(cache, sizeof(cache), "%s/cache.db", dir);
	if (srv_start(&server, NULL) != 0) {
		fprintf(stderr, "could not start canary-server\n");
		return -1;
	}
	px_put_flag(&server, "ev-kill", 5000);
	px_put_flag(&server, "ev-fork", 5000);
	px_put_flag(&server, "ev-fork-nopf", 5000);
	px_target(&server);
	return 0;
}

static int teardown(void **state)
{
	char path[160];

	(void)state;
	srv_cleanup(&server);
	snprintf(path, sizeof(path), "%s-wal", cache);
	unlink(path);
	snprintf(path, sizeof(path), "%s-journal", cache);
	unlink(path);
	unlink(cache);
	rmdir(dir);
	return 0;
}

static void count(canary_client *c, const char *tag, int n, uint64_t v[4])
{
	char unit[32];
	int i, arm;

	for (i = 0; i < n; i++) {
		snprintf(unit, sizeof(unit), "%s-%d", tag, i);
		arm = canary_enabled(c, "ev-kill", unit);
		v[arm]++;
		if (i % 3 == 0 && canary_record_error(c, "ev-kill", unit) == 0)
			v[2 + arm]++;
	}
}

/* The child: count, flush to disk, count more, report, wait for death. */
static void child(int fd)
{
	uint64_t v[4] = { 0, 0, 0, 0 }, later[4] = { 0, 0, 0, 0 };
	canary_options o;
	canary_client *c;

	px_set(PX_DOWN, 0);
	px_options(&o, cache);
	if (canary_client_new(&c, &o) != CANARY_OK ||
	    canary_client_wait_ready(c, 20000) != CANARY_OK)
		_exit(2);
	count(c, "flushed", 2000, v);
	if (canary_flush(c, 0) != CANARY_ETIMEOUT)
		_exit(3);
	count(c, "lost", 500, later);
	if (write(fd, v, sizeof(v)) != (ssize_t)sizeof(v))
		_exit(4);
	for (;;)
		pause();
}

static void test_sigkill_after_flush_then_restart(void **state)
{
	uint64_t v[4];
	canary_options o;
	canary_client *c;
	px_arm arms[2];
	int fds[2], status;
	pid_t pid;

	(void)state;
	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		child(fds[1]);
	}
	close(fds[1]);
	assert_int_equal(read(fds[0], v, sizeof(v)), (ssize_t)sizeof(v));
	close(fds[0]);
	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	assert_int_equal(px_stats(&server, "ev-kill", arms), 0);
	assert_int_equal(arms[0].exposures + arms[1].exposures, 0);

	px_set(PX_FORWARD, 0);
	px_options(&o, cache);
	assert_int_equal(canary_client_new(&c, &o), CANARY_OK);
	assert_int_equal(canary_client_wait_ready(c, 20000), CANARY_OK);
	assert_int_equal(canary_flush(c, 30000), CANARY_OK);
	assert_int_equal(px_stats(&server, "ev-kill", arms), 0);
	assert_int_equal(arms[0].exposures, v[0]);
	assert_int_equal(arms[1].exposures, v[1]);
	assert_int_equal(arms[0].errors, v[2]);
	assert_int_equal(arms[1].errors, v[3]);
	canary_client_free(c);
}

/* fork() with counts in memory: the child forgets the parent's (the
 * parent sends them), counts its own, and both arrive exactly once. */
static void count_fork(canary_client *c, const char *tag, int n,
	uint64_t v[2])
{
	char unit[32];
	int i;

	for (i = 0; i < n; i++) {
		snprintf(unit, sizeof(unit), "%s-%d", tag, i);
		v[canary_enabled(c, "ev-fork", unit)]++;
	}
}

/* A client of the forwarding proxy with the config in force. */
static canary_client *ready_client(void)
{
	canary_options o;
	canary_client *c;

	px_set(PX_FORWARD, 0);
	px_options(&o, NULL);
	assert_int_equal(canary_client_new(&c, &o), CANARY_OK);
	assert_int_equal(canary_client_wait_ready(c, 20000), CANARY_OK);
	return c;
}

static void test_fork_counts_once(void **state)
{
	uint64_t v[2] = { 0, 0 }, cv[2] = { 0, 0 };
	canary_client *c;
	px_arm arms[2];
	int fds[2], status;
	pid_t pid;

	(void)state;
	c = ready_client();
	count_fork(c, "before", 300, v);
	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		if (canary_client_postfork(c) != CANARY_OK)
			_exit(2);
		count_fork(c, "child", 200, cv);
		if (canary_flush(c, 20000) != CANARY_OK)
			_exit(3);
		if (write(fds[1], cv, sizeof(cv)) != (ssize_t)sizeof(cv))
			_exit(4);
		canary_client_free(c);
		_exit(0);
	}
	close(fds[1]);
	assert_int_equal(read(fds[0], cv, sizeof(cv)), (ssize_t)sizeof(cv));
	close(fds[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	count_fork(c, "after", 100, v);
	assert_int_equal(canary_flush(c, 20000), CANARY_OK);
	assert_int_equal(px_stats(&server, "ev-fork", arms), 0);
	assert_int_equal(arms[0].exposures, v[0] + cv[0]);
	assert_int_equal(arms[1].exposures, v[1] + cv[1]);
	canary_client_free(c);
}

/* A child that never calls canary_client_postfork() and frees the client
 * (a worker's exit path): its canary_client_free() does the postfork
 * itself, so the parent's counts are not sent twice and the parent's
 * flush still waits for its own batch. What the child counted before
 * that is forgotten with the parent's: it cannot be told apart. */
static void test_fork_child_frees_without_postfork(void **state)
{
	uint64_t v[2] = { 0, 0 };
	canary_client *c;
	canary_event_stats st = CANARY_EVENT_STATS_INIT;
	px_arm arms[2];
	int status, i;
	pid_t pid;

	(void)state;
	c = ready_client();
	for (i = 0; i < 300; i++)
		v[canary_enabled(c, "ev-fork-nopf", "before")]++;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		for (i = 0; i < 200; i++)
			(void)canary_enabled(c, "ev-fork-nopf", "child");
		canary_client_free(c);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	for (i = 0; i < 100; i++)
		v[canary_enabled(c, "ev-fork-nopf", "after")]++;
	assert_int_equal(canary_flush(c, 20000), CANARY_OK);
	assert_int_equal(canary_event_stats_get(c, &st), CANARY_OK);
	assert_int_equal(st.outbox_batches, 0);
	assert_int_equal(px_stats(&server, "ev-fork-nopf", arms), 0);
	assert_int_equal(arms[0].exposures + arms[1].exposures, v[0] + v[1]);
	canary_client_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sigkill_after_flush_then_restart),
		cmocka_unit_test(test_fork_counts_once),
		cmocka_unit_test(test_fork_child_frees_without_postfork),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
