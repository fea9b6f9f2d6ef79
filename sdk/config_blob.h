/*
 * config_blob.h - a compact binary form of a validated canary__config,
 * stored in the cache next to its JSON so a cold start skips the JSON
 * parse (docs/datapath.md, "The cache").
 *
 * The blob comes from a file, so it is outside input: decoding checks
 * every length against the bytes left and the limits of config.h, and
 * that keys and lists are sorted and unique, exactly as the JSON parser
 * would have left them. Anything else is refused and the caller falls
 * back to the JSON.
 */
#ifndef CANARY_SDK_CONFIG_BLOB_H
#define CANARY_SDK_CONFIG_BLOB_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

#define CANARY__BLOB_FORMAT 1 /* first byte of every blob this code writes */

/* Encode `config` (as canary__config_parse returns it). On success *out
 * is a buffer to free with canary__free(a, ...). CANARY_ENOMEM, or
 * CANARY_EINVAL for a config that breaks the model's invariants or has
 * targeting or an engine (config.h): such a config is cached as its JSON
 * alone. */
int canary__config_blob_encode(const canary__alloc *a,
	const canary__config *config, unsigned char **out, size_t *len);

/* Decode into a config equal to what the JSON parse gives, with all its
 * strings in one allocation (config->arena). CANARY_EPARSE for a blob of
 * another format or that fails any check, CANARY_ENOMEM. */
int canary__config_blob_decode(const canary__alloc *a, const void *blob,
	size_t len, canary__config **out);

#endif
