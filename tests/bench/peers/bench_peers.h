/*
 * bench_peers.h - the peer comparison (docs/benchmarks.md, "Against
 * other flag SDKs"): one workload, the same for every SDK, and one small
 * driver per SDK that loads the flags into it and asks it one question.
 */
#ifndef CANARY_BENCH_PEERS_H
#define CANARY_BENCH_PEERS_H

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The flags every SDK gets: "flag-<k>" for k < nflags, each a boolean
 * flag on for BENCH_PERCENT % of users by a percentage rollout on the
 * user key (the SDK's own bucketing). */
#define BENCH_PERCENT 5

typedef struct bench_peer {
	const char *name;
	/* How the SDK is fed, for the table. */
	const char *fed;
	/* Make a client holding the flags; `dir` is a scratch directory for
	 * files the SDK reads. 0, or -1 with `err` filled in. */
	int (*setup)(size_t nflags, const char *dir, char *err, size_t errlen);
	/* Is flag number `index` (key `key`) on for `user`? */
	bool (*eval)(size_t index, const char *key, const char *user);
	void (*teardown)(void);
} bench_peer;

/* Each driver; the ones whose SDK was not found are not built. */
extern const bench_peer bench_peer_libcanary;
extern const bench_peer bench_peer_libcanary_ref;
extern const bench_peer bench_peer_libcanary_noexp;
extern const bench_peer bench_peer_unleash;
extern const bench_peer bench_peer_ld_c;
extern const bench_peer bench_peer_ld_cpp;
extern const bench_peer bench_peer_configcat;

/* Allocation counting (malloc_count.c): calls of the malloc family made
 * by the calling thread while counting is on. */
void bench_count_allocs(bool on);
void bench_allocs(unsigned long *calls, unsigned long *bytes);

#ifdef __cplusplus
}
#endif

#endif
