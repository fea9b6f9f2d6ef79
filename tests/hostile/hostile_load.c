/*
 * hostile_load.c - the hostile-client attacks at full size, for the
 * figures in docs/reliability.md. Not a ctest: each scenario runs for a
 * while and prints what it saw; nothing is asserted.
 *
 *   hostile_load slowloris [SOCKETS] [SECONDS] [ADDRS] [ui]  unfinished
 *       requests from 127.0.0.2 (or spread over ADDRS addresses from
 *       127.0.0.2 on), a header line each every 10 s (default 4096, 40 s,
 *       1 address); sockets the server closes are opened again
 *   hostile_load streams [STREAMS] [SECONDS] [ADDRS] [ui]  open SSE streams
 *       with the SDK key, likewise
 *       both: /healthz, an admin GET and an SDK fetch from 127.0.0.1 every
 *       5 s (answer or 10 s), and a libcanary client started meanwhile;
 *       with "ui" the server has --ui-listen and /healthz and the admin
 *       GET go there
 *   hostile_load chunked [SECONDS]              an endless chunked body,
 *       without a key (GET /healthz) and with one (POST /v1/events)
 *   hostile_load flagnames [SECONDS]            one SDK key posting distinct
 *       flag names as fast as it can (default 60 s); then /metrics
 *   hostile_load metrics [FLAGS]                /metrics latency at FLAGS
 *       flags with counts (default 10000)
 *   hostile_load poison [BATCHES_PER_S]         can a poisoning client get
 *       a 10 %-error canary promoted (default 10 batches/s)
 *   hostile_load gzipfree [RUNS]                canary_client_free() against
 *       a gzip stream that never ends
 *
 * The server is the plain canary-server with its defaults (except those
 * of the test harness: --window 1, --heartbeat-ms 200, --tick-ms 50).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "canary/canary.h"
#include "dp_support.h"
#include "fault_server.h"
#include "hostile_support.h"

static srv s;

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void start(const char *const *extra)
{
	if (srv_start(&s, extra) != 0) {
		fprintf(stderr, "canary-server did not start\n");
		exit(1);
	}
}

static long rss_kb(pid_t pid)
{
	char path[64], line[256];
	FILE *f;
	long kb = -1;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb;
}

static long long file_bytes(const char *db)
{
	char path[400];
	struct stat st;
	long long n = 0;

	if (stat(db, &st) == 0)
		n += st.st_size;
	snprintf(path, sizeof(path), "%s-wal", db);
	if (stat(path, &st) == 0)
		n += st.st_size;
	return n;
}

static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static int arg(int argc, char **argv, int i, int dflt)
{
	return argc > i ? atoi(argv[i]) : dflt;
}

/* ---- slowloris, streams ------------------------------------------------ */

static srv ui;  /* the dashboard's listener (--ui-listen), when used */

static void probe_round(double t)
{
	static const char *const paths[] = { "/healthz", "/v1/admin/flags",
		"/v1/flags" };
	static const char *const auths[] = { NULL, ADMIN_TOKEN, SDK_KEY };
	long st[3];
	double ms[3];

	if (ui.port) {
		hs_probe_many(&ui, 2, paths, auths, st, ms);
		hs_probe_many(&s, 1, paths + 2, auths + 2, st + 2, ms + 2);
	} else {
		hs_probe_many(&s, 3, paths, auths, st, ms);
	}
	printf("  t=%3.0fs  /healthz %ld in %.0f ms, admin GET %ld in %.0f ms, "
		"SDK fetch %ld in %.0f ms\n", t / 1000, st[0], ms[0], st[1], ms[1],
		st[2], ms[2]);
	fflush(stdout);
}

/* The dashboard listener's address, from the server's log. */
static void find_ui(void)
{
	static const char mark[] = "dashboard on http://127.0.0.1:";
	char log[8192];
	const char *at;

	srv_read_log(&s, log, sizeof(log));
	at = strstr(log, mark);
	if (!at) {
		fprintf(stderr, "no dashboard listener in the log\n");
		exit(1);
	}
	ui = s;
	ui.port = atoi(at + sizeof(mark) - 1);
	snprintf(ui.base, sizeof(ui.base), "http://127.0.0.1:%d", ui.port);
}

/* Hostile socket i: from 127.0.0.(2 + i % addrs), `req` sent. */
static int hostile_socket(int i, int addrs, const char *req)
{
	char from[32];
	int fd;

	snprintf(from, sizeof(from), "127.0.0.%d", 2 + i % addrs);
	fd = raw_connect_from(&s, from);
	if (fd >= 0 && hs_send(fd, req, strlen(req)) != 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* Sockets the server closed are opened again: the attacker keeps up the
 * pressure. Returns how many were reopened. */
static int reopen_closed(int *fds, int n, int addrs, const char *req)
{
	int i, again = 0;

	for (i = 0; i < n; i++) {
		struct pollfd p = { fds[i], POLLIN, 0 };
		char buf[512];

		if (fds[i] >= 0 && (poll(&p, 1, 0) <= 0 ||
		    recv(fds[i], buf, sizeof(buf), MSG_DONTWAIT) > 0))
			continue;
		if (fds[i] >= 0)
			close(fds[i]);
		fds[i] = hostile_socket(i, addrs, req);
		again += fds[i] >= 0;
	}
	return again;
}

static int scenario_flood(bool streams, int n, int seconds, int addrs,
	bool use_ui)
{
	static const char slow[] = "GET /v1/flags HTTP/1.1\r\nHost: x\r\n";
	static const char stream[] = "GET /v1/stream HTTP/1.1\r\nHost: x\r\n"
		"Authorization: Bearer " SDK_KEY "\r\n\r\n";
	static const char *const ui_args[] = { "--ui-listen", "127.0.0.1:0",
		NULL };
	const char *req = streams ? stream : slow;
	int *fds = calloc((size_t)n, sizeof(int)), opened = 0, reopened = 0, i;
	double t0, t, next_probe = 0, next_line = 10000;
	canary_client *c = NULL;
	canary_options o;

	raise_nofile();
	start(use_ui ? ui_args : NULL);
	if (use_ui)
		find_ui();
	hs_flag_create(&s, "f", 5000);
	printf("%s: %d from %d address%s from 127.0.0.2, server defaults "
		"(--max-connections 4096)%s\n", streams ? "SSE streams" :
		"unfinished requests", n, addrs, addrs == 1 ? "" : "es",
		use_ui ? "; /healthz and the admin GET on --ui-listen" : "");
	probe_round(0);
	t0 = now_ms();
	for (i = 0; i < n; i++) {
		fds[i] = hostile_socket(i, addrs, req);
		opened += fds[i] >= 0;
	}
	printf("  opened %d in %.2f s\n", opened, (now_ms() - t0) / 1000);
	canary_options_init(&o, CANARY_OPTIONS_VERSION);
	o.server_url = s.base;
	o.sdk_key = SDK_KEY;
	canary_client_new(&c, &o);
	t0 = now_ms();
	while ((t = now_ms() - t0) < seconds * 1000.0) {
		if (!streams && t >= next_line) {
			for (i = 0; i < n; i++)
				if (fds[i] >= 0)
					hs_send(fds[i], "X-Slow: 1\r\n", 11);
			next_line += 10000;
		}
		reopened += reopen_closed(fds, n, addrs, req);
		if (t >= next_probe) {
			probe_round(t);
			next_probe += 5000;
		} else {
			dp_sleep_ms(100);
		}
	}
	printf("  sockets the server closed and the attacker opened again: "
		"%d\n  a libcanary client started after the flood: %s, config "
		"version %llu\n", reopened,
		canary_status_name(canary_client_status(c)),
		(unsigned long long)canary_client_config_version(c));
	canary_client_free(c);
	for (i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(fds);
	srv_cleanup(&s);
	return 0;
}

/* ---- chunked ----------------------------------------------------------- */

static void endless_for(const char *what, const char *head, int seconds)
{
	static char chunk[8 + 65536 + 2], answer[4096];
	int fd = raw_connect_from(&s, NULL);
	size_t len, off = 0, sent = 0;
	long rss0 = rss_kb(s.pid);
	double t0 = now_ms();
	bool answered = false;

	len = (size_t)snprintf(chunk, sizeof(chunk), "10000\r\n");
	memset(chunk + len, 'a', 65536);
	memcpy(chunk + len + 65536, "\r\n", 2);
	len += 65536 + 2;
	hs_send(fd, head, strlen(head));
	while (now_ms() - t0 < seconds * 1000.0) {
		struct pollfd p = { fd, POLLIN | POLLOUT, 0 };
		ssize_t k;

		if (poll(&p, 1, 1000) <= 0)
			continue;
		if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
			answered = true;
			break;
		}
		k = send(fd, chunk + off, len - off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (k > 0) {
			sent += (size_t)k;
			off = (off + (size_t)k) % len;
		} else if (k < 0 && errno != EAGAIN && errno != EINTR) {
			answered = true;
			break;
		}
	}
	answer[0] = '\0';
	if (answered)
		hs_read(fd, answer, sizeof(answer), "\r\n\r\n");
	close(fd);
	printf("  %s: %.0f MiB sent in %.1f s, answer: %d (0 = none), server "
		"RSS %ld -> %ld kB\n", what, (double)sent / 1048576,
		(now_ms() - t0) / 1000, hs_raw_status(answer), rss0,
		rss_kb(s.pid));
}

static int scenario_chunked(int seconds)
{
	start(NULL);
	printf("endless chunked bodies, %d s each\n", seconds);
	endless_for("GET /healthz, no credential", "GET /healthz HTTP/1.1\r\n"
		"Host: x\r\nTransfer-Encoding: chunked\r\n\r\n", seconds);
	endless_for("POST /v1/events, SDK key", "POST /v1/events HTTP/1.1\r\n"
		"Host: x\r\nAuthorization: Bearer " SDK_KEY "\r\n"
		"Transfer-Encoding: chunked\r\n\r\n", seconds);
	srv_cleanup(&s);
	return 0;
}

/* ---- flagnames, metrics ------------------------------------------------ */

/* POST one batch of n canary windows for the flags <prefix><first..>. */
static long post_names(const char *prefix, long first, int n,
	double version)
{
	char name[64];
	hs_batch b;
	int i;

	hs_batch_begin(&b, "load");
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "%s%ld", prefix, first + i);
		hs_batch_window(&b, name, "canary", version, 10, 1);
	}
	return hs_batch_post(&s, &b);
}

typedef struct timed_get {
	const char *path;
	double ms;
	size_t bytes;
	long status;
} timed_get;

static void *timed_get_main(void *arg)
{
	timed_get *g = arg;
	double t0 = now_ms();
	resp r;

	g->status = http(&s, "GET", g->path, ADMIN_TOKEN, NULL, NULL, &r) == 0 ?
		r.status : 0;
	g->ms = now_ms() - t0;
	g->bytes = r.len;
	resp_free(&r);
	return NULL;
}

/* GET /metrics; meanwhile (50 ms in) one event POST: both timed. */
static void metrics_under_write(double version)
{
	timed_get g = { "/metrics", 0, 0, 0 };
	pthread_t th;
	double t0;
	long st;

	pthread_create(&th, NULL, timed_get_main, &g);
	dp_sleep_ms(50);
	t0 = now_ms();
	st = hs_post_arms(&s, "real", "app", version, 10, 1, 10, 1);
	printf("  an event POST sent 50 ms into it: %ld in %.0f ms\n", st,
		now_ms() - t0);
	pthread_join(th, NULL);
	printf("  GET /metrics: %ld, %zu bytes in %.0f ms; server RSS %ld kB\n",
		g.status, g.bytes, g.ms, rss_kb(s.pid));
}

static int scenario_flagnames(int seconds)
{
	long names = 0, accepted = 0;
	long long before;
	double v, t0;

	start(NULL);
	hs_flag_create(&s, "real", 0);
	v = hs_version(&s);
	before = file_bytes(s.db);
	printf("one SDK key posting distinct flag names for %d s "
		"(5,000 a batch)\n", seconds);
	t0 = now_ms();
	while (now_ms() - t0 < seconds * 1000.0) {
		if (post_names("ghost-", names, 5000, v) == 202)
			accepted += 5000;
		names += 5000;
	}
	printf("  %ld names sent, %ld accepted; database + WAL %lld -> %lld "
		"bytes; server RSS %ld kB\n", names, accepted, before,
		file_bytes(s.db), rss_kb(s.pid));
	metrics_under_write(v);
	srv_cleanup(&s);
	return 0;
}

/* FLAGS rows written straight into the flags table (the server stopped):
 * creating them one by one through the admin API re-renders the config
 * each time, which is the quadratic part of another story. */
static void insert_flags(int flags)
{
	char sql[1024];

	snprintf(sql, sizeof(sql), "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL "
		"SELECT i + 1 FROM n WHERE i < %d) INSERT INTO flags(key, body, "
		"updated_ms) SELECT 'flag-' || i, json_object('key', 'flag-' || i, "
		"'salt', 'flag-' || i, 'rollout_bp', 0, 'enabled', json('true'), "
		"'state', '', 'allow', json('[]'), 'deny', json('[]'), 'variants', "
		"json_object('stable', '', 'canary', '')), 0 FROM n;"
		"UPDATE meta SET value = value + 1 WHERE key = 'config_version';",
		flags - 1);
	hs_sql(s.db, sql);
}

static int scenario_metrics(int flags)
{
	double v, t0, worst = 0, sum = 0;
	long i;
	int k;

	start(NULL);
	hs_flag_create(&s, "real", 0);
	printf("/metrics with %d flags, each with counts on the canary arm\n",
		flags);
	t0 = now_ms();
	srv_stop(&s);
	insert_flags(flags);
	if (srv_restart(&s, NULL) != 0) {
		fprintf(stderr, "canary-server did not restart\n");
		return 1;
	}
	v = hs_version(&s);
	for (i = 0; i < flags; i += 5000)
		post_names("flag-", i, flags - i < 5000 ? (int)(flags - i) : 5000,
			v);
	printf("  set up in %.1f s; server RSS %ld kB\n",
		(now_ms() - t0) / 1000, rss_kb(s.pid));
	for (k = 0; k < 5; k++) {
		timed_get g = { "/metrics", 0, 0, 0 };

		timed_get_main(&g);
		printf("  GET /metrics #%d: %ld, %zu bytes in %.0f ms\n", k + 1,
			g.status, g.bytes, g.ms);
		sum += g.ms;
		if (g.ms > worst)
			worst = g.ms;
	}
	printf("  mean %.0f ms, worst %.0f ms\n", sum / 5, worst);
	metrics_under_write(v);
	srv_cleanup(&s);
	return 0;
}

/* ---- poison ------------------------------------------------------------ */

typedef enum poison_kind {
	P_NONE,       /* control */
	P_UNISSUED,   /* one batch at config version 2^53 - 1 */
	P_ISSUED,     /* stable errors = exposures at the step's version */
	P_INCONSISTENT, /* stable errors 1e12 > exposures at the step's version */
	P_SPLIT       /* both arms at the step's share: stable all errors,
	                 canary none, 100,000 exposures a batch */
} poison_kind;

static void poison_run(const char *flag, poison_kind kind, int rate)
{
	static const char *const names[] = { "no poison (control)",
		"one batch at an unissued version",
		"stable errors = exposures (100,000 a batch) at the step's version",
		"stable errors 1e12 over 1,000 exposures at the step's version",
		"both arms at the step's share, stable all errors, canary none" };
	char body[512], path[256];
	double t0 = now_ms(), last_poison = 0;
	long st;
	cJSON *doc = NULL;

	hs_flag_create(&s, flag, 0);
	if (kind == P_UNISSUED)
		hs_post_arms(&s, flag, "evil", 9007199254740991.0, 1000, 1e12, 0, 0);
	snprintf(body, sizeof(body), "{\"flag\":\"%s\",\"steps\":[50,100],"
		"\"min_soak\":\"100ms\",\"max_step\":\"30s\",\"interval\":"
		"\"100ms\",\"gates\":{\"min_exposures\":200,\"lat_ratio\":"
		"[0,0,0]}}", flag);
	hs_status(&s, "POST", "/v1/admin/rollouts", body);
	snprintf(path, sizeof(path), "/v1/admin/rollouts/%s", flag);
	for (;;) {
		double v, pct, nc;

		cJSON_Delete(doc);
		doc = hs_call(&s, "GET", path, ADMIN_TOKEN, NULL, &st);
		if (strcmp(it_str(doc, "state"), "running") != 0 ||
		    now_ms() - t0 > 30000)
			break;
		v = it_num(doc, "step_config_version");
		pct = it_num(doc, "step_percent");
		nc = 20000 * pct / 100;
		/* The honest fleet: 0.5 % errors on stable, 10 % on canary. */
		hs_post_arms(&s, flag, "app", v, 20000 - nc, (20000 - nc) * 0.005, nc,
			nc * 0.10);
		if (kind >= P_ISSUED && now_ms() - last_poison >= 1000.0 / rate) {
			if (kind == P_ISSUED)
				hs_post_arms(&s, flag, "evil", v, 100000, 100000, 0, 0);
			else if (kind == P_INCONSISTENT)
				hs_post_arms(&s, flag, "evil", v, 1000, 1e12, 0, 0);
			else
				hs_post_arms(&s, flag, "evil", v, 100000 - 1000 * pct,
					100000 - 1000 * pct, 1000 * pct, 0);
			last_poison = now_ms();
		}
		dp_sleep_ms(50);
	}
	printf("  %s: %s after %.1f s (%s)\n", names[kind], it_str(doc, "state"),
		(now_ms() - t0) / 1000, it_str(doc, "reason"));
	cJSON_Delete(doc);
}

static int scenario_poison(int rate)
{
	start(NULL);
	printf("a 10 %%-error canary (stable 0.5 %%), honest batches every "
		"50 ms; poison at up to %d batches/s\n", rate);
	poison_run("control", P_NONE, rate);
	poison_run("unissued", P_UNISSUED, rate);
	poison_run("issued", P_ISSUED, rate);
	poison_run("inconsistent", P_INCONSISTENT, rate);
	poison_run("split", P_SPLIT, rate);
	srv_cleanup(&s);
	return 0;
}

/* ---- gzipfree ---------------------------------------------------------- */

static atomic_int applied;
static atomic_bool freeing;

static void hold_tenth(uint64_t version, void *ctx)
{
	int n = atomic_fetch_add(&applied, 1) + 1, waited;

	(void)version;
	(void)ctx;
	for (waited = 0; n == 10 && !atomic_load(&freeing) && waited < 10000;
	     waited++)
		dp_sleep_ms(1);
}

static int scenario_gzipfree(int runs)
{
	int r;

	printf("canary_client_free() while a gzip stream that never ends is "
		"being applied (the 10th config holds until the free begins)\n");
	for (r = 0; r < runs; r++) {
		fs_server *fs = fs_start();
		canary_options o;
		canary_client *c = NULL;
		double t0;
		int at_free;

		atomic_store(&applied, 0);
		atomic_store(&freeing, false);
		fs_set_config(fs, fs_config_json(1), 1);
		fs_set_stream_mode(fs, FS_GZIP_BOMB);
		dp_options(&o, fs_url(fs), NULL, NULL, NULL);
		o.config_fn = hold_tenth;
		canary_client_new(&c, &o);
		while (atomic_load(&applied) < 10)
			dp_sleep_ms(1);
		at_free = atomic_load(&applied);
		t0 = now_ms();
		atomic_store(&freeing, true);
		canary_client_free(c);
		printf("  run %d: free took %.0f ms; %d configs applied after it "
			"began\n", r + 1, now_ms() - t0,
			atomic_load(&applied) - at_free);
		fs_stop(fs);
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *what = argc > 1 ? argv[1] : "";
	int rc = 2;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (strcmp(what, "slowloris") == 0 || strcmp(what, "streams") == 0)
		rc = scenario_flood(what[1] == 't', arg(argc, argv, 2, 4096),
			arg(argc, argv, 3, 40), arg(argc, argv, 4, 1) < 1 ? 1 :
			arg(argc, argv, 4, 1), argc > 5 &&
			strcmp(argv[5], "ui") == 0);
	else if (strcmp(what, "chunked") == 0)
		rc = scenario_chunked(arg(argc, argv, 2, 15));
	else if (strcmp(what, "flagnames") == 0)
		rc = scenario_flagnames(arg(argc, argv, 2, 60));
	else if (strcmp(what, "metrics") == 0)
		rc = scenario_metrics(arg(argc, argv, 2, 10000));
	else if (strcmp(what, "poison") == 0)
		rc = scenario_poison(arg(argc, argv, 2, 10));
	else if (strcmp(what, "gzipfree") == 0)
		rc = scenario_gzipfree(arg(argc, argv, 2, 5));
	else
		fprintf(stderr, "usage: hostile_load slowloris|streams [N] [S] "
			"[ADDRS] [ui] | "
			"chunked [S] | flagnames [S] | metrics [FLAGS] | "
			"poison [RATE] | gzipfree [RUNS]\n");
	curl_global_cleanup();
	return rc;
}
