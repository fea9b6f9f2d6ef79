/*
 * server_main.c - canary-server: parse options, start, wait for SIGINT/SIGTERM,
 * stop cleanly; or run the migrate command (migrate.c).
 */
#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "logline.h"
#include "migrate.h"
#include "server.h"

/* Streams are sockets: let the process use all it may. */
static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* Write atomically (temp + rename) so a reader never sees half a port. */
static int write_port_file(const char *path, unsigned int port)
{
	char tmp[4096];
	FILE *f;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -1;
	f = fopen(tmp, "w");
	if (!f)
		return -1;
	fprintf(f, "%u\n", port);
	if (fclose(f) != 0 || rename(tmp, path) != 0) {
		remove(tmp);
		return -1;
	}
	return 0;
}

static void warn_insecure(void)
{
	fputs("canary-server: ****************************************"
		"****************\n"
		"canary-server: WARNING: --insecure-dev: NO AUTHENTICATION. Any "
		"client may read\n"
		"canary-server: flags, send events and change flags. Never use "
		"this outside a\n"
		"canary-server: development machine.\n"
		"canary-server: ****************************************"
		"****************\n", stderr);
}

int main(int argc, char **argv)
{
	cs_options opts;
	cs_server *srv = NULL;
	char err[512] = "";
	sigset_t sigs;
	int rc, sig = 0, status = 1;

	if (argc > 1 && strcmp(argv[1], "migrate") == 0)
		return cs_migrate_main(argc - 1, argv + 1);
	rc = cs_options_parse(&opts, argc, argv);
	if (rc != 0) {
		cs_options_clear(&opts);
		return rc > 0 ? 0 : 2;
	}
	cs_log_setup(opts.log_json ? CS_LOG_JSON : CS_LOG_TEXT, opts.quiet);
	if (opts.insecure_dev)
		warn_insecure();
	/* Before any thread: the webhook sender speaks HTTP through it. */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "canary-server: cannot initialise libcurl\n");
		cs_options_clear(&opts);
		return 1;
	}
	raise_fd_limit();
	/* Block before any thread starts, so only sigwait() sees them. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (cs_server_new(&srv, &opts, err, sizeof(err)) != CANARY_OK ||
	    cs_server_start(srv, err, sizeof(err)) != CANARY_OK) {
		cs_log(CS_LOG_ERROR, NULL, "%s", err);
		goto done;
	}
	printf("listening on %s\n", srv->api.address);
	if (!opts.no_ui)
		printf("dashboard on %s://%s/ui/\n", opts.tls_cert ? "https" :
			"http", srv->ui.listen ? srv->ui.address :
			srv->api.address);
	fflush(stdout);
	if (opts.port_file && write_port_file(opts.port_file,
		    srv->api.port) != 0) {
		cs_log(CS_LOG_ERROR, NULL, "cannot write %s: %s",
			opts.port_file, strerror(errno));
		goto done;
	}
	sigwait(&sigs, &sig);
	cs_log(CS_LOG_INFO, NULL, "signal %d, stopping", sig);
	status = 0;
done:
	cs_server_free(srv);
	curl_global_cleanup();
	cs_options_clear(&opts);
	return status;
}
