/*
 * rel_support.h - shared by the reliability tests that run the real
 * canary-server (through tests/integration/harness.h).
 */
#ifndef CANARY_TEST_REL_SUPPORT_H
#define CANARY_TEST_REL_SUPPORT_H

#include "harness.h"

/* Start a server and create `flag` at `rollout_bp`. 0, or -1. */
int rel_start_with_flag(srv *s, const char *flag, int rollout_bp);

/* A counter of one arm from GET /v1/admin/flags/{flag}/stats, e.g.
 * ("canary", "exposures"). Fails the test when it cannot be read. */
double rel_arm_count(const srv *s, const char *flag, const char *arm,
	const char *field);

#endif
