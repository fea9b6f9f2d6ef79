/*
 * webdriver.h - drive a headless Chromium from C through chromedriver's
 * WebDriver HTTP API (the W3C protocol: JSON over HTTP on 127.0.0.1),
 * with libcurl and cJSON. Debian's `chromium` and `chromium-driver`
 * packages are all it needs: no npm code, no downloaded browser.
 *
 * wd_start() starts chromedriver on an ephemeral port in a process group
 * of its own, and a session (a Chromium with a fresh profile directory);
 * wd_stop() ends the session (Chromium quits), stops chromedriver, kills
 * whatever is left of its process group and removes the profile. An
 * atexit hook and PR_SET_PDEATHSIG cover a test that dies on the way.
 */
#ifndef CANARY_WEBDRIVER_H
#define CANARY_WEBDRIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct cJSON;

typedef struct wd {
	pid_t driver;          /* chromedriver, leader of its process group */
	char dir[256];         /* temp dir: profile/, driver.log */
	char base[64];         /* "http://127.0.0.1:PORT" of chromedriver */
	char session[128];     /* the session id */
	char error[512];       /* the last failure, for assertion messages */
	void *curl;
} wd;

/* The first of the candidate executables that exists and runs, or NULL:
 * `env` (a variable's name) first, then `paths` (NULL-terminated). */
const char *wd_find_program(const char *env, const char *const *paths);

/* Start chromedriver and a headless Chromium session (window w x h).
 * `chromium` may be NULL (chromedriver's default). 0, or -1 (w->error). */
int wd_start(wd *w, const char *chromedriver, const char *chromium,
	int width, int height);

/* End everything wd_start() started; safe to call twice. */
void wd_stop(wd *w);

/* One WebDriver command: `path` is under the session ("/url") unless it
 * starts with "//" (then under the server root, minus one slash). `body`
 * is consumed (NULL: no body). Returns the reply's "value" (caller
 * frees), or NULL with w->error set. */
struct cJSON *wd_call(wd *w, const char *method, const char *path,
	struct cJSON *body);

int wd_navigate(wd *w, const char *url);

/* Run `script` (a function body; `arguments` holds `args`, consumed,
 * may be NULL) in the page. Returns its value (caller frees), or NULL
 * with w->error set when it threw. */
struct cJSON *wd_exec(wd *w, const char *script, struct cJSON *args);

/* Run `script` until it returns true, for at most timeout_ms. */
bool wd_wait_for(wd *w, const char *script, int timeout_ms);

/* The element matching `css`, as an id in `id` (size 128); 0 or -1. */
int wd_find(wd *w, const char *css, char id[128]);

int wd_click(wd *w, const char *css);
int wd_type(wd *w, const char *css, const char *text);

/* A screenshot of the page as a PNG file. */
int wd_screenshot(wd *w, const char *path);

/* The browser's console since the last call, one message a line
 * (caller frees), or NULL when chromedriver cannot say. */
char *wd_console(wd *w);

#endif
