/*
 * known.h - what this server has published: the config version and the
 * flags' keys, to check what clients report against.
 *
 * A client's event window names a flag and a config version; both are
 * used as filters (stats, the rollout controller), so neither is taken on
 * trust: a window counts only for a flag the server has and a version it
 * has issued (none above the current one, which a client could otherwise
 * stamp to make its window count in every later rollout step). Updated by
 * the server's change hook, read by every event POST without a query.
 */
#ifndef CS_KNOWN_H
#define CS_KNOWN_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"

typedef struct cs_known cs_known;

int cs_known_new(cs_known **out);
void cs_known_free(cs_known *k);

/* The config just published (its keys are copied). */
int cs_known_set(cs_known *k, const canary__config *config);

/* The version last published (0 before the first). */
uint64_t cs_known_version(cs_known *k);

/* Does the published config have flag `key`? */
bool cs_known_flag(cs_known *k, const char *key);

#endif
