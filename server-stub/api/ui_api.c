/*
 * ui_api.c - /ui/: the dashboard. Its own files are built into the binary
 * (ui_assets.h); the charting library's come from --ui-lib-dir (Debian's
 * libjs-dygraphs) as /ui/lib/NAME and /ui/lib/extras/NAME. Neither needs a credential: the page
 * asks for a token once and sends it with each API call, in a header,
 * never in a URL.
 *
 * Every answer carries a strict Content-Security-Policy: scripts, styles
 * and requests of this origin only, nothing inline, no plugins, no
 * framing (frame-ancestors 'none', and X-Frame-Options for older
 * browsers), so text from the API that slipped into markup could not run.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/api.h"
#include "api/ui_assets.h"
#include "http/reply.h"
#include "server.h"

static const char policy[] =
	"default-src 'self'; script-src 'self'; style-src 'self'; "
	"img-src 'self'; connect-src 'self'; object-src 'none'; "
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/* The headers of every /ui/ answer. */
static bool guard(struct MHD_Response *resp, const char *type,
	const char *cache)
{
	return MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
			type) == MHD_YES &&
		MHD_add_response_header(resp,
			"Content-Security-Policy", policy) == MHD_YES &&
		MHD_add_response_header(resp,
			"X-Content-Type-Options", "nosniff") == MHD_YES &&
		MHD_add_response_header(resp, "X-Frame-Options", "DENY") ==
			MHD_YES &&
		MHD_add_response_header(resp, "Referrer-Policy",
			"no-referrer") == MHD_YES &&
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
			cache) == MHD_YES;
}

static enum MHD_Result answer(cs_request *r, struct MHD_Connection *c,
	struct MHD_Response *resp, const char *type, const char *cache)
{
	if (resp && !guard(resp, type, cache)) {
		MHD_destroy_response(resp);
		resp = NULL;
	}
	return cs_reply(r, c, MHD_HTTP_OK, resp);
}

static enum MHD_Result not_found(cs_request *r, struct MHD_Connection *c)
{
	return cs_reply_status(r, c, MHD_HTTP_NOT_FOUND, "not found", NULL,
		NULL);
}

/* The Content-Type of a library file, or NULL for one we do not serve. */
static const char *lib_type(const char *name)
{
	const char *dot = strrchr(name, '.');

	if (!dot)
		return NULL;
	if (strcmp(dot, ".js") == 0)
		return "text/javascript; charset=utf-8";
	if (strcmp(dot, ".css") == 0)
		return "text/css; charset=utf-8";
	if (strcmp(dot, ".map") == 0)
		return "application/json";
	return NULL;
}

/* A plain file name: letters, digits, '.', '-', '_', not starting with a
 * dot; so no path leaves the directory. */
static bool plain_name(const char *name)
{
	size_t n = strspn(name, "abcdefghijklmnopqrstuvwxyz"
		"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-");

	return n > 0 && n <= 128 && name[n] == '\0' && name[0] != '.';
}

/* /ui/lib/NAME or /ui/lib/extras/NAME: a file of the charting library's
 * directory or of its extras (dygraphs' shapes and synchronizer). */
static enum MHD_Result lib_file(cs_request *r, struct MHD_Connection *c,
	const char *name)
{
	const char *base = strncmp(name, "extras/", 7) == 0 ? name + 7 : name;
	const char *type = plain_name(base) ? lib_type(base) : NULL;
	char path[4096];
	struct stat st;
	struct MHD_Response *resp;
	int fd;

	if (!type || snprintf(path, sizeof(path), "%s/%s",
		    r->srv->opts->ui_lib_dir, name) >= (int)sizeof(path))
		return not_found(r, c);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return not_found(r, c);
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return not_found(r, c);
	}
	/* The response owns fd from here, also when it fails. */
	resp = MHD_create_response_from_fd64((uint64_t)st.st_size, fd);
	if (!resp)
		close(fd);
	/* A package upgrade changes it: an hour of caching is enough. */
	return answer(r, c, resp, type, "max-age=3600");
}

static const cs_ui_asset *asset(const char *name)
{
	size_t i;

	for (i = 0; i < cs_ui_asset_count; i++)
		if (strcmp(cs_ui_assets[i].name, name) == 0)
			return &cs_ui_assets[i];
	return NULL;
}

enum MHD_Result cs_handle_ui(cs_request *r, struct MHD_Connection *c)
{
	const char *path = r->url + 3; /* after "/ui"; routes.c checked */
	const cs_ui_asset *a;
	struct MHD_Response *resp;

	if (*path == '\0') {
		resp = MHD_create_response_from_buffer(0, NULL,
			MHD_RESPMEM_PERSISTENT);
		if (resp && MHD_add_response_header(resp,
			    MHD_HTTP_HEADER_LOCATION, "/ui/") != MHD_YES) {
			MHD_destroy_response(resp);
			resp = NULL;
		}
		return cs_reply(r, c, MHD_HTTP_MOVED_PERMANENTLY, resp);
	}
	path++;
	if (strncmp(path, "lib/", 4) == 0)
		return lib_file(r, c, path + 4);
	a = asset(*path ? path : "index.html");
	if (!a)
		return not_found(r, c);
	resp = MHD_create_response_from_buffer(a->len, (void *)a->data,
		MHD_RESPMEM_PERSISTENT);
	/* Always asked again: a new server brings its own dashboard. */
	return answer(r, c, resp, a->type, "no-cache");
}
