/*
 * test_hostile_ctl.c - canaryctl against hostile input: its own argv, and
 * a server (or anything at the URL it is given) that sends what it likes.
 *
 *  14  a --since too long for the request path is a usage error, not a
 *      stack overflow; strings from the server never reach the terminal
 *      as control sequences (table, errors); only http and https URLs are
 *      used (a file:// or gopher:// --server is a usage error).
 *
 * The "server" for the escape-sequence case is a few lines here that
 * answer every request with the same crafted response, so the test does
 * not depend on what canary-server lets an admin store.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dp_support.h"
#include "hostile_support.h"

/*
 * Run canaryctl with `args` (NULL-terminated), the admin token in the
 * environment; stdout and stderr together in out. Returns the exit status,
 * or 128 + the signal that killed it.
 */
static int ctl_run(const char *const *args, char *out, size_t cap)
{
	const char *argv[16];
	int fds[2], status, n = 0;
	size_t len = 0;
	ssize_t k;
	pid_t pid;

	argv[n++] = CANARYCTL_BIN;
	while (*args && n < 15)
		argv[n++] = *args++;
	argv[n] = NULL;
	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(fds[1], 1);
		dup2(fds[1], 2);
		close(fds[0]);
		close(fds[1]);
		setenv("CANARY_ADMIN_TOKEN", ADMIN_TOKEN, 1);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(fds[1]);
	while (len + 1 < cap && (k = read(fds[0], out + len, cap - 1 - len)) > 0)
		len += (size_t)k;
	out[len] = '\0';
	close(fds[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) :
		128 + WTERMSIG(status);
}

static char *digits(size_t n, char d)
{
	char *s = malloc(n + 1);

	assert_non_null(s);
	memset(s, d, n);
	s[n] = '\0';
	return s;
}

static void test_item14_since_overflows_the_path(void **state)
{
	char *a = digits(1190, '1'), *b = digits(3000, '2'), out[8192];
	const char *args[] = { "--server", NULL, "stats", "F", "--since", a,
		"--since", b, NULL };
	int rc;

	(void)state;
	hs_start(NULL);
	args[1] = hs_server.base;
	rc = ctl_run(args, out, sizeof(out));
	print_message("canaryctl stats F --since <1190 digits> --since <3000 "
		"digits>: exit %d (2 = usage; above 128: killed by signal %d)\n",
		rc, rc > 128 ? rc - 128 : 0);
	free(a);
	free(b);
	assert_int_equal(rc, 2);
}

/* ---- a server that answers every request with `answer` ---------------- */

typedef struct fake {
	int fd, port;
	const char *answer;
	pthread_t thread;
	atomic_int stop;
} fake;

static void *fake_main(void *arg)
{
	fake *f = arg;

	while (!atomic_load(&f->stop)) {
		struct pollfd p = { f->fd, POLLIN, 0 };
		char req[8192];
		int c;

		if (poll(&p, 1, 50) <= 0)
			continue;
		c = accept(f->fd, NULL, NULL);
		if (c < 0)
			continue;
		hs_read(c, req, sizeof(req), "\r\n\r\n");
		hs_send(c, f->answer, strlen(f->answer));
		close(c);
	}
	return NULL;
}

static void fake_start(fake *f, const char *answer)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);

	memset(f, 0, sizeof(*f));
	atomic_init(&f->stop, 0);
	f->answer = answer;
	f->fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(f->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(f->fd, 16), 0);
	assert_int_equal(getsockname(f->fd, (struct sockaddr *)&sa, &len), 0);
	f->port = ntohs(sa.sin_port);
	assert_int_equal(pthread_create(&f->thread, NULL, fake_main, f), 0);
}

static void fake_stop(fake *f)
{
	atomic_store(&f->stop, 1);
	pthread_join(f->thread, NULL);
	close(f->fd);
}

/* Terminal control bytes in s: C0 but \n and \t, DEL, and C1 (as UTF-8
 * U+0080..U+009F, e.g. U+009B, the one-byte CSI). */
static int control_bytes(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	int n = 0;

	for (; *p; p++) {
		if ((*p < 0x20 && *p != '\n' && *p != '\t') || *p == 0x7f)
			n++;
		else if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
			n++;
	}
	return n;
}

#define CRAFTED_FLAG "{\"key\":\"k\\u001b]0;owned\\u0007\",\"salt\":\"s\"," \
	"\"rollout_bp\":0,\"enabled\":true,\"state\":\"\\u001b[2J\"," \
	"\"allow\":[\"\\u009b31m\"],\"deny\":[],\"variants\":{\"stable\":\"\"," \
	"\"canary\":\"\"}}"

static int escapes_printed(const char *answer, const char *const *cmd,
	const char *what)
{
	char url[64], out[8192];
	const char *args[8] = { "--server", url };
	int i, rc, found;
	fake f;

	fake_start(&f, answer);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", f.port);
	for (i = 0; cmd[i] && i < 5; i++)
		args[2 + i] = cmd[i];
	args[2 + i] = NULL;
	rc = ctl_run(args, out, sizeof(out));
	fake_stop(&f);
	found = control_bytes(out);
	print_message("%s: exit %d, %d control bytes printed\n", what, rc,
		found);
	return found;
}

static void test_item14_server_strings_escaped(void **state)
{
	static const char list[] = "HTTP/1.1 200 OK\r\nContent-Type: "
		"application/json\r\nConnection: close\r\n\r\n{\"version\":1,"
		"\"flags\":[" CRAFTED_FLAG "]}";
	static const char refusal[] = "HTTP/1.1 400 Bad Request\r\n"
		"Content-Type: application/json\r\nConnection: close\r\n\r\n"
		"{\"error\":\"\\u001b[2Jno\",\"field\":\"\\u001b]0;x\\u0007\"}";
	static const char *const flag_list[] = { "flag", "list", NULL };
	static const char *const flag_get[] = { "flag", "get", "x", NULL };
	static const char *const flag_json[] = { "--json", "flag", "list",
		NULL };
	int found;

	(void)state;
	found = escapes_printed(list, flag_list, "flag list (table) from a "
		"server whose strings hold ESC ] 0, ESC [ 2J and U+009B");
	found += escapes_printed(refusal, flag_get, "a 400 whose error and "
		"field hold escape sequences");
	found += escapes_printed(list, flag_json, "the same flag list with "
		"--json (JSON escapes C0 controls, not DEL or C1)");
	assert_int_equal(found, 0);
}

static void test_item14_only_http_schemes(void **state)
{
	char dir[] = "/tmp/canary-ctl-XXXXXX", path[128], url[160], out[4096];
	const char *args[] = { "--server", url, "flag", "list", NULL };
	FILE *f;
	int file_rc, gopher_rc;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/v1", dir);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/v1/admin", dir);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/v1/admin/flags", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("{\"version\":9,\"flags\":[]}", f);
	fclose(f);
	snprintf(url, sizeof(url), "file://%s", dir);
	file_rc = ctl_run(args, out, sizeof(out));
	print_message("--server %s: exit %d: %s", url, file_rc, out);
	snprintf(url, sizeof(url), "gopher://127.0.0.1:1");
	gopher_rc = ctl_run(args, out, sizeof(out));
	print_message("--server %s: exit %d: %s", url, gopher_rc, out);
	unlink(path);
	snprintf(path, sizeof(path), "%s/v1/admin", dir);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/v1", dir);
	rmdir(path);
	rmdir(dir);
	assert_int_equal(file_rc, 2);
	assert_int_equal(gopher_rc, 2);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_item14_since_overflows_the_path, hs_setup, hs_teardown),
		cmocka_unit_test(test_item14_server_strings_escaped),
		cmocka_unit_test(test_item14_only_http_schemes),
	};

	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
