/*
 * test_load_server.c - canary-server under load on loopback: N open
 * /v1/stream connections (each drained as it goes, every one must keep
 * receiving heartbeats) and a steady event load (a batch every 20 ms,
 * every answer a 202), while the server's resident memory and open file
 * descriptors are sampled. File descriptors must be flat (the same at the
 * end as once all streams were open); memory is printed as a curve (not
 * asserted: under ASan it measures the quarantine).
 *
 *   CANARY_LOAD_STREAMS=1000 CANARY_LOAD_SECONDS=600 test_load_server
 *
 * is the 10-minute run of docs/reliability.md. Default: 50 streams
 * for 3 s.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>
#include <cmocka.h>

#include "dp_support.h"
#include "rel_support.h"

#define FLAG "loaded"

static srv server;
static atomic_bool stop;
static atomic_long posted, accepted;
static atomic_long bad_status;

static unsigned env_or(const char *name, unsigned dflt)
{
	const char *v = getenv(name);

	return v && *v ? (unsigned)strtoul(v, NULL, 10) : dflt;
}

static long server_fds(void)
{
	char path[64];
	struct dirent *e;
	DIR *d;
	long n = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)server.pid);
	d = opendir(path);
	if (!d)
		return -1;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

static long server_rss_kb(void)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)server.pid);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb;
}

static void *poster(void *arg)
{
	char id[40], *body;
	long seq = 0, status;

	(void)arg;
	while (!atomic_load(&stop)) {
		snprintf(id, sizeof(id), "%016x%016lx", 0x10adu, (unsigned long)seq++);
		body = batch_json(id, FLAG, seq % 2 ? "canary" : "stable", 10, 1);
		status = body ? http_status(&server, "POST", "/v1/events", SDK_KEY,
			body) : -1;
		free(body);
		atomic_fetch_add(&posted, 1);
		if (status == 202)
			atomic_fetch_add(&accepted, 1);
		else
			atomic_store(&bad_status, status);
		dp_sleep_ms(20);
	}
	return NULL;
}

static int open_stream(void)
{
	static const char req[] = "GET /v1/stream HTTP/1.1\r\n"
		"Host: 127.0.0.1\r\nAuthorization: Bearer " SDK_KEY "\r\n"
		"Accept: text/event-stream\r\n\r\n";
	char buf[4096];
	size_t len = 0;
	int fd = raw_connect(&server);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, req, sizeof(req) - 1),
		(ssize_t)(sizeof(req) - 1));
	assert_true(read_until(fd, buf, sizeof(buf), &len, "\r\n\r\n"));
	assert_non_null(strstr(buf, " 200"));
	return fd;
}

/* Read what every stream has; count streams that got bytes. */
static int drain(struct pollfd *p, int n, bool *alive)
{
	char buf[8192];
	int i, got = 0;

	if (poll(p, (nfds_t)n, 50) <= 0)
		return 0;
	for (i = 0; i < n; i++) {
		if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		ssize_t r = read(p[i].fd, buf, sizeof(buf));

		if (r <= 0)
			fail_msg("stream %d closed by the server (%zd, %s)", i, r,
				strerror(errno));
		if (!alive[i])
			got++;
		alive[i] = true;
	}
	return got;
}

static void test_streams_and_events(void **state)
{
	unsigned streams = env_or("CANARY_LOAD_STREAMS", 50);
	unsigned seconds = env_or("CANARY_LOAD_SECONDS", 3);
	struct pollfd *p = calloc(streams, sizeof(*p));
	bool *alive = calloc(streams, sizeof(*alive));
	long fds_start, fds_end, rss_start, rss_end;
	uint64_t start, next_sample, sample_ms;
	pthread_t t;
	unsigned i;
	int seen;

	(void)state;
	assert_non_null(p);
	assert_non_null(alive);
	for (i = 0; i < streams; i++) {
		p[i].fd = open_stream();
		p[i].events = POLLIN;
	}
	fds_start = server_fds();
	rss_start = server_rss_kb();
	assert_int_equal(pthread_create(&t, NULL, poster, NULL), 0);
	start = dp_now_ms();
	sample_ms = seconds >= 60 ? 30000 : 1000;
	next_sample = start + sample_ms;
	print_message("%u streams; server fds %ld, RSS %ld kB\n", streams,
		fds_start, rss_start);
	while (dp_now_ms() - start < seconds * 1000ull) {
		(void)drain(p, (int)streams, alive);
		if (dp_now_ms() >= next_sample) {
			/* Every stream must have had bytes (heartbeats) since the
			 * last sample. */
			for (i = 0, seen = 0; i < streams; i++)
				seen += alive[i];
			print_message("t=%4lus fds=%ld rss=%ld kB batches=%ld "
				"live streams=%d/%u\n", (unsigned long)((dp_now_ms() -
				start) / 1000), server_fds(), server_rss_kb(),
				atomic_load(&accepted), seen, streams);
			assert_int_equal(seen, (int)streams);
			memset(alive, 0, streams * sizeof(*alive));
			next_sample += sample_ms;
		}
	}
	atomic_store(&stop, true);
	pthread_join(t, NULL);
	fds_end = server_fds();
	rss_end = server_rss_kb();
	print_message("end: fds %ld (start %ld), RSS %ld kB (start %ld), "
		"%ld batches posted, %ld accepted\n", fds_end, fds_start, rss_end,
		rss_start, atomic_load(&posted), atomic_load(&accepted));
	assert_int_equal(atomic_load(&bad_status), 0);
	assert_true(atomic_load(&accepted) > 0);
	/* The poster's connection may still be closing: one fd of slack. */
	assert_true(fds_end <= fds_start + 1);
	assert_true(rel_arm_count(&server, FLAG, "canary", "exposures") > 0);
	for (i = 0; i < streams; i++)
		close(p[i].fd);
	free(p);
	free(alive);
}

static int setup(void **state)
{
	struct rlimit rl;

	(void)state;
	/* Our side of 1,000 streams needs the descriptors too. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	return rel_start_with_flag(&server, FLAG, 5000);
}

static int teardown(void **state)
{
	(void)state;
	srv_cleanup(&server);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_streams_and_events),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
