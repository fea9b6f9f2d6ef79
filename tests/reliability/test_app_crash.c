/*
 * test_app_crash.c - the application killed with SIGKILL at random points
 * while it records events and flushes them, in a loop. Each round a child
 * process opens a client (outbox in a cache file shared by all rounds) on
 * the real canary-server, records errors in steps and flushes now and
 * then, telling the parent through a pipe, before each step, how many it
 * is about to have recorded ("R n") and after each successful flush how
 * many were delivered ("F n"). The parent kills it at a random moment,
 * then opens a client on the same cache file, which delivers what the
 * child left in the outbox. After every round, summed over the rounds:
 *
 *   delivered (F) <= counted by the server <= recorded (R)
 *
 * so nothing acknowledged is lost and nothing is counted twice (the
 * outbox replays batches the server may already have counted: the batch
 * id makes that a no-op). What is lost is only what was counted in memory
 * since the last flush (docs/events.md).
 *
 * 10 rounds by default; CANARY_APP_CRASH_ROUNDS=N for more.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "canary/canary.h"
#include "dp_support.h"
#include "rel_support.h"

#define FLAG "crashy"

static srv server;
static char *dir;

static void client_options(canary_options *o)
{
	dp_options(o, server.base, dp_path(dir, "app.db"), NULL, NULL);
	o->sdk_key = SDK_KEY;
	o->flush_interval_ms = 20; /* the worker flushes on its own too */
	o->log_fn = NULL;
}

static void say(int fd, char kind, unsigned long long n)
{
	char line[64];
	int len = snprintf(line, sizeof(line), "%c %llu\n", kind, n);

	if (write(fd, line, (size_t)len) != len)
		_exit(4);
}

/* The child: record in steps of 10, flush every 5th step. Never returns. */
static void child_main(int fd)
{
	canary_options o;
	canary_client *c = NULL;
	unsigned long long recorded = 0, step;
	int i;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	client_options(&o);
	if (canary_client_new(&c, &o) != CANARY_OK ||
	    canary_client_wait_ready(c, DP_PATIENCE_MS) != CANARY_OK ||
	    !canary_enabled(c, FLAG, "u"))
		_exit(3);
	for (step = 1;; step++) {
		say(fd, 'R', recorded + 10);
		for (i = 0; i < 10; i++)
			if (canary_record_error(c, FLAG, "u") == CANARY_OK)
				recorded++;
		if (step % 5 == 0 && canary_flush(c, DP_PATIENCE_MS) == CANARY_OK)
			say(fd, 'F', recorded);
	}
}

/* The last R and F values the child sent. */
static void read_reports(int fd, unsigned long long *r,
	unsigned long long *f)
{
	static char buf[1 << 20];
	size_t len = 0;
	ssize_t n;
	char *line;

	*r = *f = 0;
	while ((n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)n;
	buf[len] = '\0';
	for (line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
		if (line[0] == 'R')
			*r = strtoull(line + 2, NULL, 10);
		else if (line[0] == 'F')
			*f = strtoull(line + 2, NULL, 10);
	}
}

/* A new client on the same file sends what the dead one left. */
static void deliver_leftovers(void)
{
	canary_options o;
	canary_client *c = NULL;
	canary_event_stats st = CANARY_EVENT_STATS_INIT;

	client_options(&o);
	assert_int_equal(canary_client_new(&c, &o), CANARY_OK);
	assert_int_equal(canary_flush(c, DP_PATIENCE_MS), CANARY_OK);
	assert_int_equal(canary_event_stats_get(c, &st), CANARY_OK);
	assert_true(st.outbox_batches == 0);
	canary_client_free(c);
}

static void test_kill9_while_recording(void **state)
{
	const char *env = getenv("CANARY_APP_CRASH_ROUNDS");
	int rounds = env ? atoi(env) : 10, round, fds[2], status;
	unsigned long long low = 0, high = 0, r, f;
	unsigned seed = (unsigned)time(NULL);
	double counted = 0;
	pid_t pid;

	(void)state;
	print_message("seed %u, %d rounds\n", seed, rounds);
	srand(seed);
	for (round = 0; round < rounds; round++) {
		assert_int_equal(pipe(fds), 0);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			close(fds[0]);
			child_main(fds[1]);
		}
		close(fds[1]);
		dp_sleep_ms(100 + (unsigned)(rand() % 400));
		kill(pid, SIGKILL);
		assert_int_equal(waitpid(pid, &status, 0), pid);
		if (!WIFSIGNALED(status))
			fail_msg("round %d: the child exited with %d before the "
				"kill", round, WEXITSTATUS(status));
		read_reports(fds[0], &r, &f);
		close(fds[0]);
		low += f;
		high += r;
		deliver_leftovers();
		counted = rel_arm_count(&server, FLAG, "canary", "errors");
		if (counted < (double)low || counted > (double)high)
			fail_msg("round %d: server counted %.0f, delivered %llu, "
				"recorded at most %llu", round, counted, low, high);
	}
	print_message("%d kills: %.0f errors counted, %llu delivered by "
		"completed flushes, at most %llu recorded\n", rounds, counted,
		low, high);
	assert_true(low > 0);
}

static int setup(void **state)
{
	(void)state;
	dir = dp_tmpdir();
	return rel_start_with_flag(&server, FLAG, 10000);
}

static int teardown(void **state)
{
	(void)state;
	srv_cleanup(&server);
	dp_tmpdir_free(dir);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kill9_while_recording),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
