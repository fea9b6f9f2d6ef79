/*
 * ctl_follow.c - canaryctl follows a rollout: `rollout wait FLAG
 * [--timeout D]` for a release pipeline (exit 0 completed, 1 rolled back,
 * 4 paused or timed out), and `rollout status FLAG --watch`, which redraws
 * the status whenever a decision arrives. Both ask the server every half
 * second and end when the rollout does.
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctl/ctl_commands.h"

#define POLL_MS 500
/* A network error is retried (a pipeline outlives a blip), less often. */
#define RETRY_MS 2000

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* "500ms", "30s", "10m", "2h" to ms; -1 when malformed. */
static int64_t duration_ms(const char *s)
{
	static const struct {
		const char *unit;
		int64_t ms;
	} units[] = { { "ms", 1 }, { "s", 1000 }, { "m", 60000 },
		{ "h", 3600000 } };
	size_t n = strspn(s, "0123456789"), i;

	if (n == 0 || n > 9)
		return -1;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strcmp(s + n, units[i].unit) == 0)
			return strtoll(s, NULL, 10) * units[i].ms;
	return -1;
}

/* GET /v1/admin/rollouts/FLAG[QUERY] into *doc. */
static int fetch(const ctl *c, const char *flag, const char *query,
	cJSON **doc)
{
	ctl_path path;

	*doc = NULL;
	ctl_path_init(&path);
	ctl_path_add(&path, "/v1/admin/rollouts/");
	if (!ctl_path_key(&path, flag))
		return EXIT_USAGE;
	ctl_path_add(&path, "%s", query);
	if (path.overflow)
		return ctl_usage_error(c, "the request would be too long");
	return ctl_call(c, "GET", path.s, NULL, doc);
}

/* What wait says when it ends in `state` (NULL: still running). */
static int outcome(const char *state)
{
	if (strcmp(state, "completed") == 0)
		return 0;
	if (strcmp(state, "rolled_back") == 0)
		return 1;
	if (strcmp(state, "paused") == 0)
		return EXIT_WAITING;
	return -1;
}

/* One line per change of state or share, with the time (UTC). */
static void progress(const cJSON *doc, char *said, size_t len)
{
	char now[16], line[600];
	time_t t = time(NULL);
	struct tm tm;

	snprintf(line, sizeof(line), "%s %s at %g%%: %s",
		ctl_safe_tmp(ctl_str(doc, "flag", "?")),
		ctl_safe_tmp(ctl_str(doc, "state", "?")), ctl_num(doc, "percent"),
		ctl_safe_tmp(ctl_str(doc, "reason", "")));
	if (strcmp(line, said) == 0)
		return;
	snprintf(said, len, "%s", line);
	gmtime_r(&t, &tm);
	strftime(now, sizeof(now), "%H:%M:%S", &tm);
	printf("%s  %s\n", now, line);
	fflush(stdout);
}

static int parse_timeout(const ctl *c, int argc, char **argv, int64_t *ms)
{
	*ms = 0;
	if (argc == 0)
		return 0;
	if (strcmp(argv[0], "--timeout") != 0 || argc > 2)
		return ctl_usage_error(c, "rollout wait takes only --timeout D "
			"(canaryctl help rollout)");
	*ms = argc == 2 ? duration_ms(argv[1]) : -1;
	if (*ms <= 0)
		return ctl_bad_value(c, "--timeout", argc == 2 ? argv[1] : NULL,
			"must be a positive integer and a unit: 500ms, 30s, 10m, "
			"2h");
	return 0;
}

int ctl_rollout_wait(const ctl *c, const char *flag, int argc, char **argv)
{
	char said[600] = "";
	cJSON *doc = NULL;
	int64_t timeout, end;
	int rc = parse_timeout(c, argc, argv, &timeout);

	if (rc)
		return rc;
	end = timeout ? now_ms() + timeout : 0;
	for (;;) {
		cJSON_Delete(doc);
		rc = fetch(c, flag, "?last=1", &doc);
		if (rc == EXIT_NETWORK && (!end || now_ms() < end)) {
			sleep_ms(RETRY_MS);
			continue;
		}
		if (rc)
			break;
		if (!c->json)
			progress(doc, said, sizeof(said));
		rc = outcome(ctl_str(doc, "state", ""));
		if (rc >= 0)
			break;
		if (end && now_ms() >= end) {
			if (!c->json)
				printf("timed out after %s: still %s\n", argv[1],
					ctl_safe_tmp(ctl_str(doc, "state", "?")));
			rc = EXIT_WAITING;
			break;
		}
		sleep_ms(POLL_MS);
	}
	if (doc && c->json)
		ctl_print_json(doc);
	cJSON_Delete(doc);
	return rc;
}

/* Redraw: a terminal is cleared first; a pipe gets the table again. */
static void redraw(const ctl *c, const cJSON *doc, bool tty)
{
	if (c->json) {
		char *line = cJSON_PrintUnformatted(doc);

		if (line)
			puts(line);
		cJSON_free(line);
	} else {
		if (tty)
			fputs("\033[H\033[2J", stdout);
		ctl_print_status(doc);
		if (tty)
			puts("(watching: Ctrl-C to stop)");
		else
			putchar('\n');
	}
	fflush(stdout);
}

int ctl_rollout_watch(const ctl *c, const char *flag, const char *query)
{
	bool tty = isatty(STDOUT_FILENO) == 1;
	double shown = -1;
	char state[32] = "";
	cJSON *doc = NULL;
	int rc;

	for (;;) {
		double total;

		cJSON_Delete(doc);
		rc = fetch(c, flag, query, &doc);
		if (rc == EXIT_NETWORK) {
			sleep_ms(RETRY_MS);
			continue;
		}
		if (rc)
			break;
		total = ctl_num(doc, "decisions_total");
		if (total != shown || strcmp(state, ctl_str(doc, "state", "")))
			redraw(c, doc, tty);
		shown = total;
		snprintf(state, sizeof(state), "%s", ctl_str(doc, "state", ""));
		if (strcmp(state, "running") != 0 && strcmp(state, "paused") != 0)
			break;
		sleep_ms(POLL_MS);
	}
	cJSON_Delete(doc);
	return rc;
}
