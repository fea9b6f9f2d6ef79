/*
 * webdriver.c - chromedriver and a headless Chromium, driven over the W3C
 * WebDriver protocol with libcurl and cJSON.
 */
#include "webdriver.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* The drivers still running, for the atexit hook. */
static pid_t live[4];

static void kill_groups(void)
{
	size_t i;

	for (i = 0; i < sizeof(live) / sizeof(live[0]); i++)
		if (live[i] > 0) {
			kill(-live[i], SIGKILL);
			waitpid(live[i], NULL, 0);
			live[i] = 0;
		}
}

static void track(pid_t pid, bool add)
{
	static bool hooked;
	size_t i;

	if (!hooked) {
		atexit(kill_groups);
		hooked = true;
	}
	for (i = 0; i < sizeof(live) / sizeof(live[0]); i++)
		if (add ? live[i] == 0 : live[i] == pid) {
			live[i] = add ? pid : 0;
			return;
		}
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

const char *wd_find_program(const char *env, const char *const *paths)
{
	const char *p = env ? getenv(env) : NULL;

	if (p && *p)
		return access(p, X_OK) == 0 ? p : NULL;
	for (; paths && *paths; paths++)
		if (access(*paths, X_OK) == 0)
			return *paths;
	return NULL;
}

/* ---- HTTP --------------------------------------------------------------- */

typedef struct body {
	char *data;
	size_t len;
} body;

static size_t collect(char *p, size_t size, size_t n, void *ctx)
{
	body *b = ctx;
	size_t add = size * n;
	char *grown = realloc(b->data, b->len + add + 1);

	if (!grown)
		return 0;
	memcpy(grown + b->len, p, add);
	b->data = grown;
	b->len += add;
	b->data[b->len] = '\0';
	return add;
}

/* The reply's "value"; a WebDriver error goes to w->error. */
static cJSON *value_of(wd *w, const char *text, long status)
{
	cJSON *doc = cJSON_Parse(text ? text : "");
	cJSON *value = cJSON_DetachItemFromObject(doc, "value");
	const char *msg;

	if (status == 200 && value) {
		cJSON_Delete(doc);
		return value;
	}
	msg = cJSON_GetStringValue(cJSON_GetObjectItem(value, "message"));
	snprintf(w->error, sizeof(w->error), "HTTP %ld: %.400s", status,
		msg ? msg : text ? text : "no reply");
	cJSON_Delete(value);
	cJSON_Delete(doc);
	return NULL;
}

cJSON *wd_call(wd *w, const char *method, const char *path, cJSON *json)
{
	char url[1024], *text = json ? cJSON_PrintUnformatted(json) : NULL;
	struct curl_slist *hdr = curl_slist_append(NULL,
		"Content-Type: application/json; charset=utf-8");
	body b = { NULL, 0 };
	long status = 0;
	cJSON *value;
	CURL *c = w->curl;

	cJSON_Delete(json);
	if (strncmp(path, "//", 2) == 0)
		snprintf(url, sizeof(url), "%s%s", w->base, path + 1);
	else
		snprintf(url, sizeof(url), "%s/session/%s%s", w->base,
			w->session, path);
	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 120L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	if (strcmp(method, "POST") == 0)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, text ? text : "{}");
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	value = value_of(w, b.data, status);
	curl_slist_free_all(hdr);
	cJSON_free(text);
	free(b.data);
	return value;
}

/* A command whose value does not matter: 0, or -1 (w->error). */
static int command(wd *w, const char *method, const char *path, cJSON *json)
{
	cJSON *v = wd_call(w, method, path, json);

	if (!v)
		return -1;
	cJSON_Delete(v);
	return 0;
}

/* ---- the driver and the session ----------------------------------------- */

static void exec_driver(const wd *w, const char *chromedriver)
{
	char log[300];
	int fd;

	setpgid(0, 0);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	snprintf(log, sizeof(log), "%s/driver.log", w->dir);
	fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd >= 0) {
		dup2(fd, 1);
		dup2(fd, 2);
		close(fd);
	}
	execl(chromedriver, chromedriver, "--port=0", (char *)NULL);
	_exit(127);
}

/* chromedriver says "... started successfully on port N." once ready. */
static int driver_port(wd *w)
{
	char log[300], text[4096];
	int i, port = 0;

	snprintf(log, sizeof(log), "%s/driver.log", w->dir);
	for (i = 0; i < 300 && port == 0; i++) {
		FILE *f = fopen(log, "r");
		size_t n = f ? fread(text, 1, sizeof(text) - 1, f) : 0;
		const char *at;

		if (f)
			fclose(f);
		text[n] = '\0';
		at = strstr(text, "successfully on port ");
		if (at)
			port = atoi(at + strlen("successfully on port "));
		if (waitpid(w->driver, NULL, WNOHANG) == w->driver) {
			track(w->driver, false);
			w->driver = 0;
			snprintf(w->error, sizeof(w->error),
				"chromedriver exited: %.400s", text);
			return -1;
		}
		if (port == 0)
			sleep_ms(50);
	}
	if (port == 0)
		snprintf(w->error, sizeof(w->error), "chromedriver did not "
			"say its port");
	return port ? port : -1;
}

/* The capabilities of a headless Chromium that runs as root, talks to
 * nobody but the test server, and keeps nothing. */
static cJSON *capabilities(const wd *w, const char *chromium, int width,
	int height)
{
	static const char *const flags[] = { "--headless=new", "--no-sandbox",
		"--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update",
		"--disable-sync", "--disable-dev-shm-usage",
		"--disable-extensions", "--no-default-browser-check" };
	char arg[400];
	cJSON *root = cJSON_CreateObject();
	cJSON *first = cJSON_AddObjectToObject(
		cJSON_AddObjectToObject(root, "capabilities"), "alwaysMatch");
	cJSON *opts = cJSON_AddObjectToObject(first, "goog:chromeOptions");
	cJSON *args = cJSON_AddArrayToObject(opts, "args");
	size_t i;

	cJSON_AddStringToObject(first, "browserName", "chrome");
	cJSON_AddStringToObject(cJSON_AddObjectToObject(first,
		"goog:loggingPrefs"), "browser", "ALL");
	if (chromium)
		cJSON_AddStringToObject(opts, "binary", chromium);
	for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
		cJSON_AddItemToArray(args, cJSON_CreateString(flags[i]));
	snprintf(arg, sizeof(arg), "--user-data-dir=%s/profile", w->dir);
	cJSON_AddItemToArray(args, cJSON_CreateString(arg));
	snprintf(arg, sizeof(arg), "--window-size=%d,%d", width, height);
	cJSON_AddItemToArray(args, cJSON_CreateString(arg));
	return root;
}

int wd_start(wd *w, const char *chromedriver, const char *chromium,
	int width, int height)
{
	cJSON *v;
	const char *id;
	int port;

	memset(w, 0, sizeof(*w));
	snprintf(w->dir, sizeof(w->dir), "/tmp/canary-wd-XXXXXX");
	w->curl = curl_easy_init();
	if (!mkdtemp(w->dir) || !w->curl) {
		snprintf(w->error, sizeof(w->error), "no temp dir or curl");
		return -1;
	}
	w->driver = fork();
	if (w->driver < 0)
		return -1;
	if (w->driver == 0)
		exec_driver(w, chromedriver);
	setpgid(w->driver, w->driver);
	track(w->driver, true);
	port = driver_port(w);
	if (port < 0)
		return -1;
	snprintf(w->base, sizeof(w->base), "http://127.0.0.1:%d", port);
	v = wd_call(w, "POST", "//session", capabilities(w, chromium, width,
		height));
	id = cJSON_GetStringValue(cJSON_GetObjectItem(v, "sessionId"));
	if (id)
		snprintf(w->session, sizeof(w->session), "%s", id);
	cJSON_Delete(v);
	return id ? 0 : -1;
}

static int remove_entry(const char *path, const struct stat *st, int flag,
	struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

void wd_stop(wd *w)
{
	int i;

	if (w->session[0])
		command(w, "DELETE", "", NULL); /* Chromium quits */
	w->session[0] = '\0';
	if (w->driver > 0) {
		kill(w->driver, SIGTERM);
		for (i = 0; i < 200 && waitpid(w->driver, NULL, WNOHANG) !=
		     w->driver; i++)
			sleep_ms(10);
		/* Whatever the driver left behind is in its process group. */
		kill(-w->driver, SIGKILL);
		if (i == 200)
			waitpid(w->driver, NULL, 0);
		track(w->driver, false);
		w->driver = 0;
	}
	if (w->curl)
		curl_easy_cleanup(w->curl);
	w->curl = NULL;
	if (w->dir[0])
		nftw(w->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	w->dir[0] = '\0';
}

/* ---- commands ----------------------------------------------------------- */

int wd_navigate(wd *w, const char *url)
{
	cJSON *b = cJSON_CreateObject();

	cJSON_AddStringToObject(b, "url", url);
	return command(w, "POST", "/url", b);
}

cJSON *wd_exec(wd *w, const char *script, cJSON *args)
{
	cJSON *b = cJSON_CreateObject();

	cJSON_AddStringToObject(b, "script", script);
	cJSON_AddItemToObject(b, "args", args ? args : cJSON_CreateArray());
	return wd_call(w, "POST", "/execute/sync", b);
}

bool wd_wait_for(wd *w, const char *script, int timeout_ms)
{
	int waited;

	for (waited = 0; waited <= timeout_ms; waited += 100) {
		cJSON *v = wd_exec(w, script, NULL);
		bool yes = cJSON_IsTrue(v);

		cJSON_Delete(v);
		if (yes)
			return true;
		sleep_ms(100);
	}
	snprintf(w->error, sizeof(w->error), "not true in %d ms: %.400s",
		timeout_ms, script);
	return false;
}

int wd_find(wd *w, const char *css, char id[128])
{
	cJSON *b = cJSON_CreateObject(), *v, *item;

	cJSON_AddStringToObject(b, "using", "css selector");
	cJSON_AddStringToObject(b, "value", css);
	v = wd_call(w, "POST", "/element", b);
	/* The element reference's key is fixed by the W3C protocol. */
	item = cJSON_GetObjectItem(v, "element-6066-11e4-a52e-4f735466cecf");
	if (!cJSON_IsString(item)) {
		cJSON_Delete(v);
		return -1;
	}
	snprintf(id, 128, "%s", item->valuestring);
	cJSON_Delete(v);
	return 0;
}

int wd_click(wd *w, const char *css)
{
	char id[128], path[200];

	if (wd_find(w, css, id) != 0)
		return -1;
	snprintf(path, sizeof(path), "/element/%s/click", id);
	return command(w, "POST", path, cJSON_CreateObject());
}

int wd_type(wd *w, const char *css, const char *text)
{
	char id[128], path[200];
	cJSON *b;

	if (wd_find(w, css, id) != 0)
		return -1;
	b = cJSON_CreateObject();
	cJSON_AddStringToObject(b, "text", text);
	snprintf(path, sizeof(path), "/element/%s/value", id);
	return command(w, "POST", path, b);
}

/* Standard base64 (RFC 4648) into `out` (at least 3/4 of the input). */
static size_t unbase64(const char *in, unsigned char *out)
{
	static const char abc[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	unsigned int acc = 0, bits = 0;
	size_t n = 0;

	for (; *in && *in != '='; in++) {
		const char *p = strchr(abc, *in);

		if (!p)
			continue;
		acc = (acc << 6) | (unsigned int)(p - abc);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (unsigned char)(acc >> bits);
		}
	}
	return n;
}

int wd_screenshot(wd *w, const char *path)
{
	cJSON *v = wd_call(w, "GET", "/screenshot", NULL);
	const char *b64 = cJSON_GetStringValue(v);
	unsigned char *png = b64 ? malloc(strlen(b64)) : NULL;
	size_t n = png ? unbase64(b64, png) : 0;
	FILE *f = n ? fopen(path, "wb") : NULL;
	int rc = f && fwrite(png, 1, n, f) == n ? 0 : -1;

	if (f && fclose(f) != 0)
		rc = -1;
	free(png);
	cJSON_Delete(v);
	return rc;
}

char *wd_console(wd *w)
{
	cJSON *b = cJSON_CreateObject(), *v, *e;
	char *out = NULL;
	size_t len = 0;
	FILE *f;

	cJSON_AddStringToObject(b, "type", "browser");
	v = wd_call(w, "POST", "/se/log", b);
	if (!cJSON_IsArray(v) || !(f = open_memstream(&out, &len))) {
		cJSON_Delete(v);
		return NULL;
	}
	cJSON_ArrayForEach(e, v) {
		const char *level = cJSON_GetStringValue(
			cJSON_GetObjectItem(e, "level"));
		const char *msg = cJSON_GetStringValue(
			cJSON_GetObjectItem(e, "message"));

		fprintf(f, "%s %s\n", level ? level : "?", msg ? msg : "");
	}
	fclose(f);
	cJSON_Delete(v);
	return out;
}
