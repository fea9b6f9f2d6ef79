/*
 * outbox.h - the event outbox: batches waiting to be POSTed to
 * /v1/events, in SQLite (the cache_path file, through a connection of its
 * own) or, without a cache_path, in an in-memory SQLite database with the
 * same code and the same bounds.
 *
 * Layout: component "outbox" (version 1) in canary_schema, table `outbox`
 * with one row per batch, oldest first by `seq`. A row leaves only when
 * it was acknowledged (2xx), refused for good (4xx other than 408/429),
 * or evicted at the bound (oldest first); evictions are counted, and the
 * counts of what the evicted batch itself reported are carried forward,
 * so nothing disappears without being reported.
 *
 * Thread-safe: every call takes the outbox's mutex (the flusher may be an
 * application thread calling canary_flush() while the worker delivers).
 */
#ifndef CANARY_SDK_OUTBOX_H
#define CANARY_SDK_OUTBOX_H

#include <stddef.h>
#include <stdint.h>

#include "alloc.h"

#define CANARY__OUTBOX_SCHEMA 1

typedef struct canary__outbox canary__outbox;

/* One batch to store: its id and JSON body, and the drops it reports. */
typedef struct canary__outbox_item {
	const char *batch_id;
	const char *body;
	size_t len;
	uint64_t dropped_batches;
	uint64_t dropped_windows;
} canary__outbox_item;

/* What eviction at the bound removed, to report in a later batch. */
typedef struct canary__outbox_evicted {
	uint64_t batches;        /* the evicted batches themselves */
	uint64_t carried_batches; /* drops they were reporting */
	uint64_t carried_windows;
} canary__outbox_evicted;

/* `path` NULL: in memory. `note` says what went wrong on failure. */
int canary__outbox_open(canary__outbox **out, const canary__alloc *a,
	const char *path, uint32_t max_rows, uint64_t max_bytes,
	char *note, size_t notelen);
void canary__outbox_close(canary__outbox *ob);

/* After fork(), in the child: forget the parent's connection untouched
 * and open a fresh one on the same file (or an empty memory outbox). */
int canary__outbox_postfork(canary__outbox *ob);

/*
 * Store `n` batches in one transaction, evicting the oldest rows first
 * when the bounds require it (`evicted` is added to). *last_seq is the
 * seq of the last row stored. A batch larger than max_bytes on its own is
 * not stored and counts as evicted.
 * Returns CANARY_OK or CANARY_ESTORAGE (nothing stored).
 */
int canary__outbox_put(canary__outbox *ob, const canary__outbox_item *items,
	size_t n, canary__outbox_evicted *evicted, int64_t *last_seq);

/* The oldest batch: CANARY_OK with *body (free with the allocator), or
 * CANARY_ESTATE when the outbox is empty, or CANARY_ESTORAGE/ENOMEM. */
int canary__outbox_oldest(canary__outbox *ob, int64_t *seq, char **body,
	size_t *len);

/* Remove the batch `seq` (acknowledged or refused). CANARY_ESTATE when it
 * is not there (evicted while it was being sent: counted then). */
int canary__outbox_remove(canary__outbox *ob, int64_t seq);

/* The seq of the newest row (0: empty). */
int64_t canary__outbox_newest(canary__outbox *ob);

/* Rows and bytes held now. */
void canary__outbox_usage(canary__outbox *ob, uint64_t *rows,
	uint64_t *bytes);

#endif
