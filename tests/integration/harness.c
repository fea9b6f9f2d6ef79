/*
 * harness.c - process control and HTTP helpers for the integration tests.
 */
#define _GNU_SOURCE
#include "harness.h"
#include "pg_testdb.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_LIVE 8

static pid_t live[MAX_LIVE];
static bool hooked;

static void kill_live(void)
{
	int i;

	for (i = 0; i < MAX_LIVE; i++)
		if (live[i] > 0) {
			kill(live[i], SIGKILL);
			waitpid(live[i], NULL, 0);
			live[i] = 0;
		}
}

static void track(pid_t pid, bool add)
{
	int i;

	if (!hooked) {
		atexit(kill_live);
		hooked = true;
	}
	for (i = 0; i < MAX_LIVE; i++) {
		if (add && live[i] == 0) {
			live[i] = pid;
			return;
		}
		if (!add && live[i] == pid) {
			live[i] = 0;
			return;
		}
	}
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static int read_port(const char *path)
{
	FILE *f = fopen(path, "r");
	int port = 0;

	if (!f)
		return 0;
	if (fscanf(f, "%d", &port) != 1)
		port = 0;
	fclose(f);
	return port;
}

static void exec_server(const srv *s, const char *const *extra)
{
	const char *argv[48];
	char port_file[300], log[300];
	int n = 0, fd;

	snprintf(port_file, sizeof(port_file), "%s/port", s->dir);
	snprintf(log, sizeof(log), "%s/server.log", s->dir);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
	if (fd >= 0) {
		dup2(fd, 1);
		dup2(fd, 2);
		close(fd);
	}
	setenv("CANARY_SDK_KEYS", SDK_KEY, 1);
	setenv("CANARY_ADMIN_TOKEN", ADMIN_TOKEN, 1);
	argv[n++] = CANARY_SERVER_BIN;
	argv[n++] = "--listen";
	argv[n++] = "127.0.0.1:0";
	argv[n++] = "--db";
	argv[n++] = s->db;
	argv[n++] = "--port-file";
	argv[n++] = port_file;
	argv[n++] = "--window";
	argv[n++] = "1";
	argv[n++] = "--heartbeat-ms";
	argv[n++] = "200";
	argv[n++] = "--tick-ms";
	argv[n++] = "50";
	while (extra && *extra && n < 46)
		argv[n++] = *extra++;
	argv[n] = NULL;
	execv(argv[0], (char *const *)argv);
	_exit(127);
}

static int launch(srv *s, const char *const *extra)
{
	char port_file[300];
	int i, status;

	snprintf(port_file, sizeof(port_file), "%s/port", s->dir);
	unlink(port_file);
	s->pid = fork();
	if (s->pid < 0)
		return -1;
	if (s->pid == 0)
		exec_server(s, extra);
	track(s->pid, true);
	/* Wait for the port file (written once listening), up to 20 s. */
	for (i = 0; i < 2000; i++) {
		s->port = read_port(port_file);
		if (s->port > 0)
			break;
		if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
			track(s->pid, false);
			s->pid = 0;
			return -1;
		}
		sleep_ms(10);
	}
	if (s->port <= 0) {
		srv_kill9(s);
		return -1;
	}
	snprintf(s->base, sizeof(s->base), "http://127.0.0.1:%d", s->port);
	return 0;
}

int srv_start_on(srv *s, const char *db, const char *const *extra)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->dir, sizeof(s->dir), "/tmp/canary-it-XXXXXX");
	if (!mkdtemp(s->dir))
		return -1;
	snprintf(s->db, sizeof(s->db), "%s", db);
	return launch(s, extra);
}

int srv_start(srv *s, const char *const *extra)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->dir, sizeof(s->dir), "/tmp/canary-it-XXXXXX");
	if (!mkdtemp(s->dir))
		return -1;
	if (pgt_wanted() && pgt_create(NULL, s->db, sizeof(s->db)) != 0)
		return -1;
	if (!pgt_wanted())
		snprintf(s->db, sizeof(s->db), "%s/canary.db", s->dir);
	s->owns_db = true;
	return launch(s, extra);
}

int srv_restart(srv *s, const char *const *extra)
{
	if (s->pid > 0)
		srv_stop(s);
	return launch(s, extra);
}

int srv_stop(srv *s)
{
	int status = 0, i;

	if (s->pid <= 0)
		return -1;
	kill(s->pid, SIGTERM);
	for (i = 0; i < 1000; i++) {
		if (waitpid(s->pid, &status, WNOHANG) == s->pid)
			break;
		sleep_ms(10);
	}
	if (i == 1000) {
		kill(s->pid, SIGKILL);
		waitpid(s->pid, &status, 0);
	}
	track(s->pid, false);
	s->pid = 0;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void srv_kill9(srv *s)
{
	if (s->pid <= 0)
		return;
	kill(s->pid, SIGKILL);
	waitpid(s->pid, NULL, 0);
	track(s->pid, false);
	s->pid = 0;
}

void srv_cleanup(srv *s)
{
	char cmd[400];

	srv_stop(s);
	if (s->dir[0] && strncmp(s->dir, "/tmp/canary-it-", 15) == 0) {
		/* Keep the log of a failed run readable: print it first. */
		snprintf(cmd, sizeof(cmd), "%s/server.log", s->dir);
		if (getenv("CANARY_TEST_SHOW_LOG")) {
			FILE *f = fopen(cmd, "r");
			int c;

			while (f && (c = fgetc(f)) != EOF)
				fputc(c, stderr);
			if (f)
				fclose(f);
		}
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", s->dir);
		if (system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", s->dir);
	}
	if (s->owns_db && strstr(s->db, "://"))
		pgt_drop(s->db);
	s->owns_db = false;
	s->dir[0] = '\0';
}

srv it_server;

int it_setup(void **state)
{
	(void)state;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	return srv_start(&it_server, NULL);
}

int it_teardown(void **state)
{
	(void)state;
	srv_cleanup(&it_server);
	curl_global_cleanup();
	return 0;
}

size_t srv_read_log(const srv *s, char *buf, size_t cap)
{
	char path[300];
	FILE *f;
	size_t n = 0;

	snprintf(path, sizeof(path), "%s/server.log", s->dir);
	f = fopen(path, "r");
	if (f) {
		n = fread(buf, 1, cap - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
	return n;
}

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	resp *r = arg;
	char *b = realloc(r->body, r->len + size * n + 1);

	if (!b)
		return 0;
	memcpy(b + r->len, p, size * n);
	r->body = b;
	r->len += size * n;
	r->body[r->len] = '\0';
	return size * n;
}

static void copy_header(char *dst, size_t cap, const char *v, size_t n)
{
	while (n && (v[n - 1] == '\r' || v[n - 1] == '\n'))
		n--;
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, v, n);
	dst[n] = '\0';
}

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
	resp *r = arg;
	size_t len = size * n;

	if (len > 6 && strncasecmp(p, "ETag: ", 6) == 0)
		copy_header(r->etag, sizeof(r->etag), p + 6, len - 6);
	if (len > 14 && strncasecmp(p, "Content-Type: ", 14) == 0)
		copy_header(r->content_type, sizeof(r->content_type), p + 14,
			len - 14);
	return len;
}

int http(const srv *s, const char *method, const char *path, const char *auth,
	const char *body, const char *const *headers, resp *out)
{
	CURL *h = curl_easy_init();
	struct curl_slist *hl = NULL;
	char url[512], line[512];
	CURLcode rc;

	memset(out, 0, sizeof(*out));
	out->body = calloc(1, 1);
	if (!h || !out->body)
		return -1;
	snprintf(url, sizeof(url), "%s%s", s->base, path);
	if (auth) {
		snprintf(line, sizeof(line), "Authorization: Bearer %s", auth);
		hl = curl_slist_append(hl, line);
	}
	while (headers && *headers)
		hl = curl_slist_append(hl, *headers++);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, out);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, out);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	if (body) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	}
	rc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &out->status);
	curl_slist_free_all(hl);
	curl_easy_cleanup(h);
	return rc == CURLE_OK ? 0 : -1;
}

void resp_free(resp *r)
{
	free(r->body);
	r->body = NULL;
}

const char *it_str(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItem(o, name);

	return cJSON_IsString(v) ? v->valuestring : "";
}

double it_num(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItem(o, name);

	return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

cJSON *http_json(const srv *s, const char *method, const char *path,
	const char *body, long *status)
{
	const char *auth = strncmp(path, "/v1/admin", 9) == 0 ? ADMIN_TOKEN :
		SDK_KEY;
	cJSON *doc = NULL;
	resp r;

	*status = 0;
	if (http(s, method, path, auth, body, NULL, &r) != 0)
		return NULL;
	*status = r.status;
	doc = cJSON_Parse(r.body);
	resp_free(&r);
	return doc;
}

long http_status(const srv *s, const char *method, const char *path,
	const char *auth, const char *body)
{
	resp r;
	long st;

	if (http(s, method, path, auth, body, NULL, &r) != 0)
		st = -1;
	else
		st = r.status;
	resp_free(&r);
	return st;
}

char *batch_json(const char *batch_id, const char *flag, const char *arm,
	unsigned long long exposures, unsigned long long errors)
{
	char *out = NULL;

	if (asprintf(&out, "{\"batch_id\":\"%s\",\"instance_id\":\"it-1\","
		"\"sdk_version\":\"0.1.0\",\"sent_at_ms\":1764000000000,"
		"\"windows\":[{\"flag\":\"%s\",\"arm\":\"%s\","
		"\"config_version\":2,\"start_ms\":1764000000000,"
		"\"end_ms\":1764000010000,\"exposures\":%llu,\"errors\":%llu,"
		"\"latency_ms\":{\"zero\":1,\"bins\":[[100,3],[200,1]]}}]}",
		batch_id, flag, arm, exposures, errors) < 0)
		return NULL;
	return out;
}

int run_capture(const char *const *argv, const char *const *env, char *out,
	size_t cap)
{
	int fds[2], status;
	size_t len = 0;
	pid_t pid;
	ssize_t n;

	if (pipe(fds) != 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		dup2(fds[1], 1);
		close(fds[0]);
		close(fds[1]);
		while (env && *env)
			putenv((char *)*env++);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(fds[1]);
	while ((n = read(fds[0], out + len, cap - 1 - len)) > 0) {
		len += (size_t)n;
		if (len == cap - 1)
			break;
	}
	out[len] = '\0';
	close(fds[0]);
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int raw_connect(const srv *s)
{
	return raw_connect_from(s, NULL);
}

int raw_connect_from(const srv *s, const char *from)
{
	struct sockaddr_in sa;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	if (from && (inet_pton(AF_INET, from, &sa.sin_addr) != 1 ||
		     bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)) {
		close(fd);
		return -1;
	}
	sa.sin_port = htons((uint16_t)s->port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int srv_stream_open(const srv *s)
{
	static const char req[] = "GET /v1/stream HTTP/1.1\r\n"
		"Host: 127.0.0.1\r\nAuthorization: Bearer " SDK_KEY "\r\n"
		"Accept: text/event-stream\r\n\r\n";
	int fd = raw_connect(s);

	if (fd >= 0 && write(fd, req, sizeof(req) - 1) !=
	    (ssize_t)(sizeof(req) - 1)) {
		close(fd);
		fd = -1;
	}
	return fd;
}

bool read_until(int fd, char *buf, size_t cap, size_t *len,
	const char *needle)
{
	struct pollfd p = { fd, POLLIN, 0 };
	int waited = 0;

	buf[*len] = '\0';
	while (!strstr(buf, needle) && *len < cap - 1 && waited < 10000) {
		ssize_t n;

		if (poll(&p, 1, 100) == 0) {
			waited += 100;
			continue;
		}
		n = read(fd, buf + *len, cap - 1 - *len);
		if (n <= 0)
			break;
		*len += (size_t)n;
		buf[*len] = '\0';
	}
	return strstr(buf, needle) != NULL;
}
