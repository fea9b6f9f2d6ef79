/*
 * ui_assets.h - the dashboard's files (server-stub/ui/), built into the
 * binary: cmake/CanaryEmbed.cmake writes the table at build time, so the
 * server stays one file and its dashboard always matches it.
 */
#ifndef CS_UI_ASSETS_H
#define CS_UI_ASSETS_H

#include <stddef.h>

typedef struct cs_ui_asset {
	const char *name;            /* "index.html", "app.js", ... */
	const char *type;            /* its Content-Type */
	const unsigned char *data;   /* len bytes (and a NUL after them) */
	size_t len;
} cs_ui_asset;

extern const cs_ui_asset cs_ui_assets[];
extern const size_t cs_ui_asset_count;

#endif
