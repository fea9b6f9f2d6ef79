/*
 * controller.h - the rollout controller inside canary-server.
 *
 * A ticker task (cs_controller_tick) looks at every active rollout once per
 * its interval: it sums the flag's windows per arm since the step started
 * (config version >= the step's, so both arms cover the same windows under
 * the step's split), runs the judge (judge.h) and the state machine
 * (controller_fsm.h), and applies the action through the store: a widen
 * or a rollback is a flag change, so the config version bumps and every
 * stream carries it at once. Every decision is stored with the numbers it
 * saw and the rule that fired.
 *
 * All state is in the store (storage.h): a restarted server resumes
 * every rollout where it was. The admin operations below may run on HTTP
 * threads at the same time as the tick; each change is one transaction
 * guarded by the rollout's revision, so a tick that raced an operator's
 * pause is dropped, not applied over it.
 *
 * Of several servers sharing a database, only the holder of the store's
 * "controller" lease (cs_store_lease) evaluates: each tick takes or
 * renews it, and each decision commits only while it is still held. When
 * the holder dies, its lease runs out after `lease_ms` and the next
 * server to tick takes over from the stored state. Operators' actions
 * need no lease: any server carries them out.
 */
#ifndef CS_CONTROLLER_H
#define CS_CONTROLLER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rollout/rollout.h"
#include "store/storage.h"

struct cJSON;

typedef struct cs_controller cs_controller;

/* `lease_ms`: how long the lease outlives this server's last renewal
 * (renewed every tick; longer than a tick, or it lapses between two).
 * `window_ms`: the width of the stored windows (--window): a recent
 * window of a step is never narrower. */
int cs_controller_new(cs_controller **out, cs_store *store,
	uint64_t lease_ms, uint64_t window_ms);
void cs_controller_free(cs_controller *c);

/* The ticker task (cs_tick_fn): take or renew the lease, and while this
 * server holds it, evaluate the rollouts that are due. */
void cs_controller_tick(uint64_t now_ms, void *ctx);

/* Does this server hold the controller lease (as of its last tick)? */
bool cs_controller_leading(cs_controller *c);

/*
 * Start a rollout of `flag` at its first step, for `actor` (a token's
 * name: the audit record's). CS_ENOTFOUND: no such flag; CS_ECONFLICT
 * (`why` says which): the flag already has an active rollout, or it is
 * turned off (the kill switch).
 */
int cs_controller_start(cs_controller *c, const char *flag,
	const cs_rollout_spec *spec, int64_t now_ms, const char *actor,
	cs_rollout *out, char *why, size_t whylen);

typedef enum cs_rollout_op {
	CS_OP_PAUSE,
	CS_OP_RESUME,
	CS_OP_PROMOTE,       /* next step */
	CS_OP_PROMOTE_FULL,  /* the last step: completes */
	CS_OP_ROLLBACK
} cs_rollout_op;

/*
 * An operator's action. CS_ENOROLLOUT: the flag never had a rollout;
 * CS_ECONFLICT: not possible in the rollout's state (`why` says so).
 */
int cs_controller_op(cs_controller *c, const char *flag, cs_rollout_op op,
	int64_t now_ms, const char *actor, cs_rollout *out, char *why,
	size_t whylen);

/*
 * The kill switch under a live rollout: in one change, `fn` (the flag
 * change that turns the flag off, as cs_store_flag_modify() runs it), the
 * canary share to 0 and the rollout ended as rolled back, audited as
 * "flag.kill_switch" by `actor`. CS_ENOROLLOUT when the flag has no live
 * rollout (the caller changes the flag alone); CS_ENOTFOUND without the
 * flag; fn's own code.
 */
int cs_controller_kill(cs_controller *c, const char *flag, cs_modify_fn fn,
	void *ctx, int64_t now_ms, const char *actor, char *why,
	size_t whylen);

/* The flag's latest rollout with its decision history (the last `last`
 * decisions, 0 = all): {"flag", "state", "step", "percent", ...,
 * "decisions_total": n, "decisions": [...]}. */
int cs_controller_status(cs_controller *c, const char *flag, uint64_t last,
	struct cJSON **out);

/* The latest rollout of every flag, without history: [{...}, ...]. */
int cs_controller_list(cs_controller *c, struct cJSON **out);

#endif
