/*
 * bench_server.c - load canary-server on loopback and print
 *   1. requests/s of GET /v1/flags answered 304 (If-None-Match current),
 *   2. event windows/s ingested by POST /v1/events (durable, 202),
 *   3. with --replicas 2 or more: how long a change made through the
 *      first replica takes to reach streams open on the others;
 * and with 1 and 2 the servers' CPU time per request or window (a
 * database in another process not counted), which a busy machine
 * disturbs far less than the rates.
 *
 * Clients are threads with one keep-alive connection each, sending one
 * request at a time (no pipelining), spread over the replicas; each
 * client reports as its own SDK instance. The servers are the real
 * binary, started here on 127.0.0.1:0 with a temporary SQLite database (or
 * all on the empty database given with --db, e.g. a PostgreSQL URL) and
 * stopped at the end. Nothing is asserted: results go to
 * docs/benchmarks.md.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SDK "bench-sdk-key-000001"
#define ADMIN "bench-admin-token-0123456789"

#define MAX_REPLICAS 8

static int ports[MAX_REPLICAS];
static pid_t pids[MAX_REPLICAS];
static int replicas = 1;
static const char *db_location;   /* --db; NULL: a SQLite file of our own */
static char etag[128];
static int seconds = 5, clients = 4, server_threads = 2, per_batch = 500;
static atomic_bool stop;
static atomic_ullong done_requests, done_windows, failures;
static atomic_ullong batch_seq;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int connect_server(int replica)
{
	struct sockaddr_in sa;
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)ports[replica % replicas]);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

static bool write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w <= 0)
			return false;
		p += w;
		n -= (size_t)w;
	}
	return true;
}

/* Read one response; returns the status, copies headers into hdr. */
static int read_response(int fd, char *buf, size_t cap, char *hdr,
	size_t hcap)
{
	size_t len = 0, body = 0, need;
	char *end = NULL, *cl;
	int status = 0;

	while (!end) {
		ssize_t n = read(fd, buf + len, cap - 1 - len);

		if (n <= 0)
			return -1;
		len += (size_t)n;
		buf[len] = '\0';
		end = strstr(buf, "\r\n\r\n");
	}
	sscanf(buf, "HTTP/1.1 %d", &status);
	cl = strcasestr(buf, "Content-Length:");
	if (cl && cl < end)
		body = strtoul(cl + 15, NULL, 10);
	if (hdr) {
		size_t h = (size_t)(end - buf) < hcap - 1 ? (size_t)(end - buf) :
			hcap - 1;

		memcpy(hdr, buf, h);
		hdr[h] = '\0';
	}
	need = (size_t)(end + 4 - buf) + body;
	while (len < need) { /* bodies here are small: discard */
		ssize_t n = read(fd, buf, cap - 1 < need - len ? cap - 1 :
			need - len);

		if (n <= 0)
			return -1;
		len += (size_t)n;
	}
	return status;
}

static int request(int fd, const char *req, size_t n, char *hdr, size_t hcap)
{
	static __thread char buf[65536];

	if (!write_all(fd, req, n))
		return -1;
	return read_response(fd, buf, sizeof(buf), hdr, hcap);
}

static void *flags_client(void *arg)
{
	char req[512];
	int fd = connect_server((int)(intptr_t)arg);
	size_t n;

	n = (size_t)snprintf(req, sizeof(req), "GET /v1/flags HTTP/1.1\r\n"
		"Host: 127.0.0.1\r\nAuthorization: Bearer " SDK "\r\n"
		"If-None-Match: %s\r\n\r\n", etag);
	while (fd >= 0 && !atomic_load(&stop)) {
		if (request(fd, req, n, NULL, 0) != 304) {
			atomic_fetch_add(&failures, 1);
			break;
		}
		atomic_fetch_add(&done_requests, 1);
	}
	if (fd >= 0)
		close(fd);
	return NULL;
}

/* A batch of per_batch windows over 10 flags, each with 8 latency bins,
 * from SDK instance `client`. */
static char *make_batch(int client, size_t *len)
{
	size_t cap = (size_t)per_batch * 400 + 512, n;
	char *b = malloc(cap);
	unsigned long long id = atomic_fetch_add(&batch_seq, 1);
	int i;

	if (!b)
		return NULL;
	n = (size_t)snprintf(b, cap, "{\"batch_id\":\"%016llx%016llx\","
		"\"instance_id\":\"bench-%d\",\"sdk_version\":\"0.1.0\","
		"\"sent_at_ms\":1764000000000,\"windows\":[",
		0xbe7cull, id, client);
	for (i = 0; i < per_batch; i++)
		n += (size_t)snprintf(b + n, cap - n, "%s{\"flag\":\"flag-%d\","
			"\"arm\":\"%s\",\"config_version\":%d,\"start_ms\":"
			"1764000000000,\"end_ms\":1764000010000,\"exposures\":1000,"
			"\"errors\":3,\"latency_ms\":{\"zero\":0,\"bins\":[[200,5],"
			"[210,40],[220,300],[230,400],[240,200],[250,40],[300,10],"
			"[400,5]]}}", i ? "," : "", i % 10, i % 2 ? "canary" :
			"stable", 1 + i / 20);
	n += (size_t)snprintf(b + n, cap - n, "]}");
	*len = n;
	return b;
}

static void *events_client(void *arg)
{
	int client = (int)(intptr_t)arg, fd = connect_server(client);

	while (fd >= 0 && !atomic_load(&stop)) {
		size_t blen = 0, hlen;
		char *body = make_batch(client, &blen), head[256], *req;

		if (!body)
			break;
		hlen = (size_t)snprintf(head, sizeof(head), "POST /v1/events "
			"HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " SDK
			"\r\nContent-Type: application/json\r\nContent-Length: %zu"
			"\r\n\r\n", blen);
		req = malloc(hlen + blen);
		if (!req) {
			free(body);
			break;
		}
		memcpy(req, head, hlen);
		memcpy(req + hlen, body, blen);
		free(body);
		if (request(fd, req, hlen + blen, NULL, 0) != 202) {
			atomic_fetch_add(&failures, 1);
			free(req);
			break;
		}
		free(req);
		atomic_fetch_add(&done_windows, (unsigned long long)per_batch);
		atomic_fetch_add(&done_requests, 1);
	}
	if (fd >= 0)
		close(fd);
	return NULL;
}

static double run_phase(void *(*fn)(void *))
{
	pthread_t t[256];
	double t0;
	int i;

	atomic_store(&stop, false);
	atomic_store(&done_requests, 0);
	atomic_store(&done_windows, 0);
	t0 = now_s();
	for (i = 0; i < clients; i++)
		pthread_create(&t[i], NULL, fn, (void *)(intptr_t)i);
	sleep((unsigned int)seconds);
	atomic_store(&stop, true);
	for (i = 0; i < clients; i++)
		pthread_join(t[i], NULL);
	return now_s() - t0;
}

/* Start replica `r` on the database; false if it did not come up. */
static bool start_server(const char *dir, int r)
{
	char db[300], pf[300], threads[16];
	int i;

	snprintf(db, sizeof(db), "%s/bench.db", dir);
	snprintf(pf, sizeof(pf), "%s/port-%d", dir, r);
	snprintf(threads, sizeof(threads), "%d", server_threads);
	pids[r] = fork();
	if (pids[r] == 0) {
		setenv("CANARY_SDK_KEYS", SDK, 1);
		setenv("CANARY_ADMIN_TOKEN", ADMIN, 1);
		execl(CANARY_SERVER_BIN, CANARY_SERVER_BIN, "--listen",
			"127.0.0.1:0", "--db", db_location ? db_location : db,
			"--port-file", pf, "--threads", threads, "--quiet",
			/* The bench measures the server, not its budgets. */
			"--events-rate", "0", "--events-windows-rate", "0",
			(char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 1000 && ports[r] <= 0; i++) {
		FILE *f = fopen(pf, "r");

		if (f) {
			if (fscanf(f, "%d", &ports[r]) != 1)
				ports[r] = 0;
			fclose(f);
		}
		usleep(10000);
	}
	return ports[r] > 0;
}

/* GET /v1/flags from replica `r`: the status, the ETag into `tag` (128
 * bytes). */
static int get_flags(int r, char *tag)
{
	char req[256], hdr[2048], *e;
	int fd = connect_server(r), st;
	size_t n = (size_t)snprintf(req, sizeof(req), "GET /v1/flags HTTP/1.1"
		"\r\nHost: x\r\nAuthorization: Bearer " SDK "\r\n\r\n");

	if (fd < 0)
		return -1;
	hdr[0] = '\0';
	st = request(fd, req, n, hdr, sizeof(hdr));
	close(fd);
	e = strcasestr(hdr, "ETag: ");
	tag[0] = '\0';
	if (e)
		sscanf(e + 6, "%127[^\r\n]", tag);
	return st;
}

/* Every replica serves the same config (the ETag of replica 0). */
static bool replicas_agree(void)
{
	char tag[128];
	int r, tries;

	for (tries = 0; tries < 500; tries++) {
		for (r = 1; r < replicas; r++)
			if (get_flags(r, tag) != 200 ||
			    strcmp(tag, etag) != 0)
				break;
		if (r == replicas)
			return true;
		usleep(10000);
	}
	return false;
}

static bool setup_flags(void)
{
	char req[512];
	int fd = connect_server(0), i;
	size_t n;

	for (i = 0; fd >= 0 && i < 10; i++) {
		char body[96];
		int bl = snprintf(body, sizeof(body),
			"{\"key\":\"flag-%d\",\"rollout_bp\":%d}", i, 100 * (i + 1));

		n = (size_t)snprintf(req, sizeof(req), "POST /v1/admin/flags "
			"HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " ADMIN "\r\n"
			"Content-Length: %d\r\n\r\n%s", bl, body);
		if (request(fd, req, n, NULL, 0) != 201)
			return false;
	}
	if (fd < 0)
		return false;
	close(fd);
	return get_flags(0, etag) == 200 && etag[0] &&
		replicas_agree();
}

/* ---- a change through replica 0, seen on the others' streams -------- */

#define STREAMS_PER_REPLICA 50
#define CHANGES 20

static int open_stream(int r)
{
	static const char req[] = "GET /v1/stream HTTP/1.1\r\nHost: x\r\n"
		"Authorization: Bearer " SDK "\r\n\r\n";
	int fd = connect_server(r);

	if (fd >= 0 && !write_all(fd, req, sizeof(req) - 1)) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* The largest "id: <version>" line in buf, 0 when none; a line not yet
 * ended (an id may straddle reads) does not count. */
static uint64_t newest_id(const char *buf)
{
	uint64_t newest = 0;
	const char *p;

	for (p = strstr(buf, "id: "); p; p = strstr(p + 4, "id: ")) {
		char *end;
		uint64_t v = strtoull(p + 4, &end, 10);

		if (*end == '\n' && v > newest)
			newest = v;
	}
	return newest;
}

/* Read `fd` until an event of a version above `after` has gone by (config
 * versions are the server's clock in milliseconds, not a count); that
 * version, or 0 on EOF or after 10 s. */
static uint64_t wait_event(int fd, uint64_t after)
{
	char buf[8192];
	size_t len = 0;
	double until = now_s() + 10;

	while (now_s() < until) {
		struct pollfd pfd = { fd, POLLIN, 0 };
		uint64_t seen;
		ssize_t n;

		if (poll(&pfd, 1, 100) <= 0)
			continue;
		n = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (n <= 0)
			return 0;
		len += (size_t)n;
		buf[len] = '\0';
		seen = newest_id(buf);
		if (seen > after)
			return seen;
		if (len > sizeof(buf) / 2) {
			memmove(buf, buf + len - 64, 64);
			len = 64;
		}
	}
	return 0;
}

static int by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* CHANGES changes through replica 0; for each, the time until the last
 * of the other replicas' streams has it. Prints median and worst. */
static void propagation(void)
{
	int fds[MAX_REPLICAS * STREAMS_PER_REPLICA], nfd = 0, i, c, r;
	double ms[CHANGES];
	uint64_t version = 0, seen;

	/* Each stream starts with the config in force. */
	for (r = 1; r < replicas; r++)
		for (i = 0; i < STREAMS_PER_REPLICA; i++)
			if ((fds[nfd] = open_stream(r)) >= 0 &&
			    (seen = wait_event(fds[nfd], 0)) != 0) {
				if (seen > version)
					version = seen;
				nfd++;
			}
	for (c = 0; c < CHANGES; c++) {
		char req[512], body[64];
		int fd = connect_server(0), bl;
		size_t n;
		double t0;

		bl = snprintf(body, sizeof(body), "{\"rollout_bp\":%d}", c + 1);
		n = (size_t)snprintf(req, sizeof(req), "PATCH /v1/admin/flags/"
			"flag-0 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
			ADMIN "\r\nContent-Length: %d\r\n\r\n%s", bl, body);
		t0 = now_s();
		if (fd < 0 || request(fd, req, n, NULL, 0) != 200)
			atomic_fetch_add(&failures, 1);
		if (fd >= 0)
			close(fd);
		for (i = 0, seen = version; i < nfd; i++) {
			uint64_t v = wait_event(fds[i], version);

			if (!v)
				atomic_fetch_add(&failures, 1);
			else if (v > seen)
				seen = v;
		}
		version = seen;
		ms[c] = (now_s() - t0) * 1000;
		usleep(50000);
	}
	qsort(ms, CHANGES, sizeof(ms[0]), by_value);
	printf("change through replica 1 on %d streams of the other %d "
		"replica(s): median %.1f ms, worst %.1f ms (%d changes)\n", nfd,
		replicas - 1, ms[CHANGES / 2], ms[CHANGES - 1], CHANGES);
	for (i = 0; i < nfd; i++)
		close(fds[i]);
}

/* User and system CPU seconds the replicas have used so far (from
 * /proc: their CPU time is steadier than a rate on a shared machine). */
static double servers_cpu_s(void)
{
	unsigned long long ut, st, ticks = 0;
	char path[64], buf[1024], *p;
	int r;

	for (r = 0; r < replicas; r++) {
		FILE *f;
		size_t n;

		snprintf(path, sizeof(path), "/proc/%d/stat", (int)pids[r]);
		if (!(f = fopen(path, "r")))
			continue;
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[n] = '\0';
		/* Fields 14 and 15, counted after the name's closing ')'. */
		p = strrchr(buf, ')');
		if (p && sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u"
		    " %*u %llu %llu", &ut, &st) == 2)
			ticks += ut + st;
	}
	return (double)ticks / (double)sysconf(_SC_CLK_TCK);
}

/* CPU seconds as microseconds per item; 0 with no items. */
static double us_each(double cpu_s, unsigned long long n)
{
	return n ? cpu_s * 1e6 / (double)n : 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: bench_server [--seconds N] [--clients N] "
		"[--server-threads N] [--windows-per-batch N]\n"
		"                    [--db LOCATION --replicas N]\n"
		"  --db: an empty database all replicas share (e.g. "
		"postgresql://...);\n  default: a temporary SQLite file (one "
		"replica)\n");
	exit(2);
}

static void stop_servers(void)
{
	int r;

	for (r = 0; r < replicas; r++)
		if (pids[r] > 0) {
			kill(pids[r], SIGTERM);
			waitpid(pids[r], NULL, 0);
		}
}

int main(int argc, char **argv)
{
	char dir[] = "/tmp/canary-bench-XXXXXX", cmd[128];
	double el, cpu;
	bool up = true;
	int i;

	for (i = 1; i + 1 < argc; i += 2) {
		int v = atoi(argv[i + 1]);

		if (strcmp(argv[i], "--db") == 0) {
			db_location = argv[i + 1];
			continue;
		}
		if (v <= 0)
			usage();
		if (strcmp(argv[i], "--replicas") == 0 && v <= MAX_REPLICAS)
			replicas = v;
		else if (strcmp(argv[i], "--seconds") == 0)
			seconds = v;
		else if (strcmp(argv[i], "--clients") == 0 && v <= 256)
			clients = v;
		else if (strcmp(argv[i], "--server-threads") == 0)
			server_threads = v;
		else if (strcmp(argv[i], "--windows-per-batch") == 0 && v <= 10000)
			per_batch = v;
		else
			usage();
	}
	if (i != argc || (replicas > 1 && !db_location) || !mkdtemp(dir))
		usage();
	signal(SIGPIPE, SIG_IGN);
	for (i = 0; up && i < replicas; i++)
		up = start_server(dir, i);
	if (!up || !setup_flags()) {
		fprintf(stderr, "bench_server: a server did not start\n");
		stop_servers();
		return 1;
	}
	printf("canary-server bench: %d replica(s) on %s, %d client "
		"connections, %d server threads each, %d s per phase\n",
		replicas, db_location ? "the given database" : "SQLite", clients,
		server_threads, seconds);
	cpu = servers_cpu_s();
	el = run_phase(flags_client);
	cpu = servers_cpu_s() - cpu;
	printf("GET /v1/flags 304: %.0f req/s (%llu requests, %llu failures), "
		"server CPU %.2f us per request\n",
		(double)atomic_load(&done_requests) / el,
		(unsigned long long)atomic_load(&done_requests),
		(unsigned long long)atomic_load(&failures),
		us_each(cpu, atomic_load(&done_requests)));
	cpu = servers_cpu_s();
	el = run_phase(events_client);
	cpu = servers_cpu_s() - cpu;
	printf("POST /v1/events: %.0f windows/s, %.1f batches/s of %d windows "
		"(%llu failures), server CPU %.2f us per window\n",
		(double)atomic_load(&done_windows) / el,
		(double)atomic_load(&done_requests) / el, per_batch,
		(unsigned long long)atomic_load(&failures),
		us_each(cpu, atomic_load(&done_windows)));
	if (replicas > 1)
		propagation();
	stop_servers();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		return 1;
	return atomic_load(&failures) ? 1 : 0;
}
