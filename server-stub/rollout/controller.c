/*
 * controller.c - evaluate active rollouts each interval, apply what the
 * state machine decides, and carry out operators' actions; every change is
 * one store transaction (flag, rollout row, decision).
 */
#include "rollout/controller.h"

#include <cjson/cJSON.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "alloc.h"
#include "logline.h"
#include "rollout/controller_json.h"
#include "rollout/judge_input.h"

/* When each active rollout was last evaluated, and what the last
 * decision the controller stored said when it changed nothing (ticker
 * thread only). */
typedef struct last_eval {
	int64_t id;
	uint64_t at_ms;
	char same[128];      /* its judgement; "" = none to repeat */
	int64_t rev;         /* the rollout's revision after storing it */
	uint64_t repeats;    /* evaluations it stands for */
	int64_t since_ms;    /* the first of them */
	size_t stalled;      /* 1 + the step a stall was announced at; 0:
	                        none */
} last_eval;

struct cs_controller {
	cs_store *store;
	last_eval *last;
	size_t nlast, caplast;
	char holder[128];         /* this server, for the lease */
	cs_lease lease;
	atomic_bool leading;
	int64_t window_ms;        /* stored windows' width */
};

/* A name no other server process has: host, process, and a random part
 * (a restarted process may reuse the pid). */
static void holder_name(char *out, size_t len)
{
	char host[64] = "";
	unsigned int r = (unsigned int)time(NULL) ^ (unsigned int)getpid();
	FILE *f = fopen("/dev/urandom", "rb");

	if (f) {
		if (fread(&r, sizeof(r), 1, f) != 1)
			r ^= (unsigned int)clock();
		fclose(f);
	}
	if (gethostname(host, sizeof(host) - 1) != 0)
		snprintf(host, sizeof(host), "host");
	snprintf(out, len, "%s/%ld/%08x", host, (long)getpid(), r);
}

int cs_controller_new(cs_controller **out, cs_store *store, uint64_t lease_ms,
	uint64_t window_ms)
{
	cs_controller *c = calloc(1, sizeof(*c));

	*out = c;
	if (!c)
		return CANARY_ENOMEM;
	c->store = store;
	holder_name(c->holder, sizeof(c->holder));
	c->lease.name = "controller";
	c->lease.holder = c->holder;
	c->lease.ttl_ms = lease_ms;
	c->window_ms = (int64_t)window_ms;
	return CANARY_OK;
}

bool cs_controller_leading(cs_controller *c)
{
	return atomic_load(&c->leading);
}

void cs_controller_free(cs_controller *c)
{
	if (!c)
		return;
	free(c->last);
	free(c);
}

/* ---- applying a change ----------------------------------------------- */

/* One change of a rollout: its new state, and the flag change if any. */
typedef struct change {
	cs_rollout *r;        /* new state; r->rev is the one we read */
	const cs_rollout *before; /* as read (NULL: a start) */
	int64_t now_ms;
	bool insert;          /* a new rollout (start) */
	bool flag_change;     /* set rollout_bp/state on the flag */
	bool new_step;        /* the step (and its stats) starts over */
	bool replace_last;    /* the decision repeats the last stored one */
	bool recorded;        /* a change worth an audit record and a line */
	uint32_t bp;
	cJSON *decision;      /* borrowed; the store adds "config_version" */
	const cs_lease *lease; /* the controller's decisions: fenced by it */
	const char *actor;    /* "controller", or the operator's token name */
	const char *action;   /* the audit record's ("rollout.widen", ...) */
	cs_modify_fn also;    /* a flag change of the caller's first (the kill
	                         switch's patch), or NULL */
	void *also_ctx;
	bool flag_off;        /* [out] a start found the flag turned off */
} change;

/* Set rollout_bp and state on `cur` into `next`. */
static int set_fields(const canary__flag *cur, canary__flag *next,
	const change *ch)
{
	const canary__alloc *a = canary__alloc_default();
	cJSON *obj = canary__flag_to_json(cur);
	canary__json_reader r;
	int rc;

	/* Through JSON so the copy is validated like any other write. */
	if (!obj || !cJSON_ReplaceItemInObject(obj, "rollout_bp",
		    cJSON_CreateNumber(ch->bp)) ||
	    !(cJSON_GetObjectItem(obj, "state") ?
		    cJSON_ReplaceItemInObject(obj, "state",
			    cJSON_CreateString(cj_status_name(ch->r->status))) :
		    cJSON_AddStringToObject(obj, "state",
			    cj_status_name(ch->r->status)) != NULL)) {
		cJSON_Delete(obj);
		return CANARY_ENOMEM;
	}
	canary__json_reader_init(&r, 0, NULL);
	rc = canary__flag_from_json(a, &r, obj, "flag", next);
	cJSON_Delete(obj);
	return rc;
}

static int set_flag(const canary__flag *cur, canary__flag *next, void *arg)
{
	change *ch = arg;
	canary__flag mid;
	int rc;

	/* A rollout never starts on a flag that is turned off: decided
	 * here, inside the start's transaction. */
	if (ch->insert && !cur->enabled) {
		ch->flag_off = true;
		return CS_ECONFLICT;
	}
	if (!ch->also)
		return set_fields(cur, next, ch);
	memset(&mid, 0, sizeof(mid));
	rc = ch->also(cur, &mid, ch->also_ctx);
	if (rc == CANARY_OK)
		rc = set_fields(&mid, next, ch);
	canary__flag_clear(canary__alloc_default(), &mid);
	return rc;
}

/* The line a change that committed is worth. */
static void say(const change *ch, uint64_t version)
{
	cs_log_about about = { ch->action, ch->actor, ch->r->flag, version };
	const char *verb = strncmp(ch->action, "rollout.", 8) == 0 ?
		ch->action + 8 : NULL;

	if (!verb) {
		cs_log(CS_LOG_INFO, &about, "flag %s turned off (kill switch) "
			"by %s: its rollout rolled back (config version %llu)",
			ch->r->flag, ch->actor, (unsigned long long)version);
		return;
	}
	cs_log(CS_LOG_INFO, &about, "rollout of %s: %s by %s: %s (%s at "
		"%.2f%%, config version %llu)", ch->r->flag, verb, ch->actor,
		ch->r->reason, cj_status_name(ch->r->status),
		ch->r->status == CJ_ROLLED_BACK ? 0 :
		cs_rollout_percent(ch->r, ch->r->step),
		(unsigned long long)version);
}

/* The flag change, the rollout row, the decision and (for a change that
 * moves something) its audit record: one transaction. */
static int write_change(cs_store *store, change *ch)
{
	char *decision = cJSON_PrintUnformatted(ch->decision);
	cs_rollout_change w;
	cs_audit audit;
	uint64_t version = 0;
	int rc;

	if (!decision)
		return CANARY_ENOMEM;
	/* The step that ends is the "before" of a bake. */
	if (ch->new_step && !ch->insert)
		ch->r->prev_step_version = ch->r->step_version;
	memset(&w, 0, sizeof(w));
	w.rollout = ch->r;
	w.before = ch->before;
	w.insert = ch->insert;
	w.new_step = ch->new_step;
	w.modify = ch->flag_change ? set_flag : NULL;
	w.modify_ctx = ch;
	w.now_ms = ch->now_ms;
	w.decision = decision;
	w.lease = ch->lease;
	w.replace_last = ch->replace_last;
	if (ch->recorded) {
		memset(&audit, 0, sizeof(audit));
		audit.actor = ch->actor;
		audit.action = ch->action;
		audit.reason = ch->r->reason;
		audit.event = cs_rollout_event(ch->before, ch->r);
		w.audit = &audit;
	}
	rc = cs_store_rollout_write(store, &w, &version);
	cJSON_free(decision);
	if (rc == CANARY_OK && ch->recorded)
		say(ch, version);
	return rc;
}

static int apply_change(cs_store *store, change *ch)
{
	int rc = write_change(store, ch);

	if (rc == CS_ENOTFOUND && ch->flag_change) {
		/* The flag is gone: nothing left to roll out. */
		ch->flag_change = false;
		ch->new_step = false;
		ch->recorded = true;
		ch->action = "rollout.rollback";
		ch->r->status = CJ_ROLLED_BACK;
		snprintf(ch->r->reason, sizeof(ch->r->reason),
			"the flag was deleted");
		rc = write_change(store, ch);
	}
	return rc;
}

/* "rollout.widen" and the like, for a decision's action. */
static const char *audit_action(const char *action)
{
	static const char *const known[] = { "rollout.start", "rollout.pause",
		"rollout.resume", "rollout.widen", "rollout.promote",
		"rollout.rollback", "rollout.complete", "rollout.hold" };
	size_t i;

	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strcmp(known[i] + strlen("rollout."), action) == 0)
			return known[i];
	return "rollout.change";
}

/* ---- the tick -------------------------------------------------------- */

typedef struct active_list {
	cs_rollout *items;
	size_t n, cap;
} active_list;

static int collect(const cs_rollout *r, void *arg)
{
	active_list *l = arg;

	if (cs_grow((void **)&l->items, &l->cap, l->n, sizeof(*l->items)) !=
	    CANARY_OK)
		return CANARY_ENOMEM;
	l->items[l->n++] = *r;
	return CANARY_OK;
}

/* The rollout's bookkeeping slot, added when new; NULL on ENOMEM. */
static last_eval *slot(cs_controller *c, int64_t id)
{
	size_t i;

	for (i = 0; i < c->nlast; i++)
		if (c->last[i].id == id)
			return &c->last[i];
	if (c->nlast == c->caplast) {
		size_t cap = c->caplast ? c->caplast * 2 : 8;
		last_eval *l = realloc(c->last, cap * sizeof(*l));

		if (!l)
			return NULL;
		c->last = l;
		c->caplast = cap;
	}
	memset(&c->last[c->nlast], 0, sizeof(*c->last));
	c->last[c->nlast].id = id;
	return &c->last[c->nlast++];
}

/* Is the rollout due? Records the evaluation time when it is. */
static bool due(last_eval *l, const cs_rollout *r, uint64_t now)
{
	if (!l)
		return true;
	if (l->at_ms && now - l->at_ms < (uint64_t)r->spec.interval_ms)
		return false;
	l->at_ms = now;
	return true;
}

/*
 * A judgement that changes nothing (a hold, or a paused rollout with
 * nothing to do) and is the one the controller stored last for this
 * rollout (same action, rule, verdict and judge rule, and nobody wrote
 * the rollout since) is not added to the history: it replaces that
 * record, with the latest evidence, how many evaluations it stands for
 * ("repeats") and since when ("since_ms"). The history grows with what
 * happens, not with time.
 */
static bool repeats(last_eval *l, const cs_rollout *r, const cj_decision *d,
	const cj_result *res, int64_t now)
{
	char key[sizeof(l->same)];

	if (!l)
		return false;
	if (d->action != CJ_ACT_NONE && d->action != CJ_ACT_HOLD) {
		l->same[0] = '\0';
		return false;
	}
	snprintf(key, sizeof(key), "%s/%s/%s/%s", cj_action_name(d->action),
		d->rule, cj_verdict_name(res->verdict),
		res->rule ? res->rule : "");
	if (strcmp(key, l->same) == 0 && r->rev == l->rev) {
		l->repeats++;
		return true;
	}
	memcpy(l->same, key, sizeof(key));
	l->repeats = 1;
	l->since_ms = now;
	return false;
}

/* Forget rollouts that are no longer active. */
static void prune_last(cs_controller *c, const active_list *l)
{
	size_t i, j, keep = 0;

	for (i = 0; i < c->nlast; i++) {
		for (j = 0; j < l->n && l->items[j].id != c->last[i].id; j++)
			;
		if (j < l->n)
			c->last[keep++] = c->last[i];
	}
	c->nlast = keep;
}

/* Map the FSM's decision onto the rollout and the change to make. */
static void plan(cs_rollout *r, const cj_decision *d, int64_t now,
	change *ch)
{
	cj_rollout fsm;

	cs_rollout_fsm(r, &fsm);
	cj_fsm_apply(&fsm, d, now);
	ch->flag_change = fsm.status != r->status || fsm.step != r->step;
	ch->new_step = fsm.step != r->step;
	ch->recorded = ch->flag_change;
	ch->action = audit_action(cj_action_name(d->action));
	ch->bp = d->action == CJ_ACT_ROLLBACK ? 0 : d->next_bp;
	r->status = fsm.status;
	r->step = fsm.step;
	r->step_start_ms = fsm.step_start_ms;
	r->pass_since_ms = fsm.pass_since_ms;
	r->alert_since_ms = fsm.alert_since_ms;
	if (ch->flag_change)
		snprintf(r->reason, sizeof(r->reason), "%s", d->reason);
}

/* End a live rollout without the judge: its flag was deleted, or turned
 * off (the kill switch) by a change that did not go through the
 * controller. Rolled back, and said why. */
static int end_rollout(cs_controller *c, cs_rollout *r, int64_t now,
	bool flag_gone, const char *why)
{
	cs_rollout before = *r;
	change ch;
	int rc;

	memset(&ch, 0, sizeof(ch));
	ch.decision = cs_decision_new(r, now, "controller", NULL, "rollback",
		flag_gone ? "flag_deleted" : "kill_switch", why);
	if (!ch.decision)
		return CANARY_ENOMEM;
	ch.r = r;
	ch.before = &before;
	ch.now_ms = now;
	ch.lease = &c->lease;
	ch.actor = "controller";
	ch.action = "rollout.rollback";
	ch.recorded = true;
	ch.flag_change = !flag_gone;
	r->status = CJ_ROLLED_BACK;
	snprintf(r->reason, sizeof(r->reason), "%s", why);
	rc = apply_change(c->store, &ch);
	cJSON_Delete(ch.decision);
	return rc;
}

/* The step's custom metrics, as context in the decision. */
static bool add_custom_metrics(cs_controller *c, const cs_rollout *r,
	cJSON *decision)
{
	cs_stats_filter f;
	cs_metric_sum *m = NULL;
	size_t n = 0;
	bool ok;

	memset(&f, 0, sizeof(f));
	f.min_config_version = r->step_version;
	f.max_config_version = cs_store_published(c->store);
	if (cs_store_metric_sums(c->store, r->flag, &f, &m, &n) != CANARY_OK)
		return true; /* context only: the decision stands without */
	ok = cs_custom_metrics_to_json(decision, m, n);
	free(m);
	return ok;
}

/*
 * A running step that is stuck: the judge raises an alert (sample ratio
 * mismatch, a silent canary, inconsistent evidence), or half its
 * max_step has gone without a PASS. Announced once per step (an audit
 * note and the "stalled" event for webhooks), never acted on here: the
 * state machine pauses or rolls back when its rules say so.
 */
static void stall_alert(cs_controller *c, last_eval *l, const cs_rollout *r,
	const cj_result *res, int64_t now)
{
	char why[512];
	cs_audit audit;
	cs_log_about about = { "rollout.stalled", "controller", r->flag, 0 };
	bool half = now - r->step_start_ms >= r->spec.max_step_ms / 2;

	if (!l || r->status != CJ_RUNNING || (!res->alert && !half) ||
	    l->stalled == r->step + 1)
		return;
	l->stalled = r->step + 1;
	if (res->alert)
		snprintf(why, sizeof(why), "stalled at %.2f%%: %s",
			cs_rollout_percent(r, r->step), res->reason);
	else
		snprintf(why, sizeof(why), "stalled at %.2f%%: half of max_step "
			"spent without a PASS (%s)", cs_rollout_percent(r,
			r->step), res->reason);
	memset(&audit, 0, sizeof(audit));
	audit.actor = "controller";
	audit.action = "rollout.stalled";
	audit.reason = why;
	audit.event = "stalled";
	if (cs_store_audit_note(c->store, r->flag, &audit) == CANARY_OK)
		cs_log(CS_LOG_WARN, &about, "rollout of %s %s", r->flag, why);
}

static int evaluate(cs_controller *c, last_eval *l, cs_rollout *r,
	int64_t now, cs_judge_input *ji)
{
	canary__flag flag;
	cs_rollout before = *r;
	cj_result res;
	cj_rollout fsm;
	cj_decision d;
	change ch;
	bool off;
	int rc;

	rc = cs_store_flag_get(c->store, r->flag, &flag);
	off = rc == CANARY_OK && !flag.enabled;
	canary__flag_clear(canary__alloc_default(), &flag);
	if (rc == CS_ENOTFOUND)
		return end_rollout(c, r, now, true, "the flag was deleted");
	if (off)
		return end_rollout(c, r, now, false, "the flag was turned "
			"off (kill switch)");
	if (rc == CANARY_OK)
		rc = cs_judge_input_read(c->store, r, now, ji);
	if (rc != CANARY_OK)
		return rc;
	cj_evaluate(&r->spec.gates, &ji->in, &res);
	cs_rollout_fsm(r, &fsm);
	memset(&d, 0, sizeof(d));
	cj_fsm_tick(&fsm, &res, now, &d);
	memset(&ch, 0, sizeof(ch));
	ch.replace_last = repeats(l, r, &d, &res, now);
	ch.decision = cs_decision_new(r, now, "controller",
		cj_verdict_name(res.verdict), cj_action_name(d.action), d.rule,
		d.reason);
	if (!ch.decision || !cs_decision_add_judgement(ch.decision, ji->arms,
	    &res) || !cs_decision_add_fsm(ch.decision, &d) ||
	    !add_custom_metrics(c, r, ch.decision) ||
	    (ch.replace_last && (!cJSON_AddNumberToObject(ch.decision,
		    "repeats", (double)l->repeats) ||
		    !cJSON_AddNumberToObject(ch.decision, "since_ms",
		    (double)l->since_ms)))) {
		cJSON_Delete(ch.decision);
		return CANARY_ENOMEM;
	}
	ch.r = r;
	ch.before = &before;
	ch.now_ms = now;
	ch.lease = &c->lease;
	ch.actor = "controller";
	plan(r, &d, now, &ch);
	rc = apply_change(c->store, &ch);
	cJSON_Delete(ch.decision);
	/* What to repeat next time: this record, if it was stored. */
	if (l && rc == CANARY_OK)
		l->rev = r->rev;
	else if (l)
		l->same[0] = '\0';
	if (rc == CANARY_OK && !ch.recorded)
		stall_alert(c, l, r, &res, now);
	return rc;
}

/* Take or renew the lease. A new leader starts every rollout's interval
 * afresh. */
static bool lead(cs_controller *c)
{
	bool now = cs_store_lease(c->store, &c->lease) == CANARY_OK;

	if (now && !atomic_exchange(&c->leading, now))
		c->nlast = 0;
	atomic_store(&c->leading, now);
	return now;
}

void cs_controller_tick(uint64_t now_ms, void *ctx)
{
	cs_controller *c = ctx;
	active_list l = { NULL, 0, 0 };
	cs_judge_input *ji;
	size_t i;
	int rc;

	if (!lead(c))
		return;
	rc = cs_store_rollouts_each(c->store, CS_ROLLOUTS_ACTIVE, collect, &l);
	/* A few hundred KiB: not the stack, and only when there is work. */
	ji = rc == CANARY_OK && l.n ? calloc(1, sizeof(*ji)) : NULL;
	if (rc == CANARY_OK && l.n && !ji)
		rc = CANARY_ENOMEM;
	if (ji)
		ji->window_ms = c->window_ms;
	if (rc != CANARY_OK)
		cs_log(CS_LOG_ERROR, NULL, "controller: cannot read rollouts "
			"(%d)", rc);
	for (i = 0; rc == CANARY_OK && i < l.n; i++) {
		last_eval *le = slot(c, l.items[i].id);
		int erc;

		if (!due(le, &l.items[i], now_ms))
			continue;
		erc = evaluate(c, le, &l.items[i], (int64_t)now_ms, ji);
		/* CS_ESTALE: an operator changed it meanwhile; next tick.
		 * CS_ELEASE: another server took over; it decides now. */
		if (erc == CS_ELEASE) {
			atomic_store(&c->leading, false);
			cs_log(CS_LOG_WARN, NULL, "controller: the lease ran out "
				"before a decision committed; dropped it");
			break;
		}
		if (erc != CANARY_OK && erc != CS_ESTALE)
			cs_log(CS_LOG_ERROR, NULL, "controller: rollout %lld of "
				"a flag: evaluation failed (%d)",
				(long long)l.items[i].id, erc);
	}
	if (rc == CANARY_OK)
		prune_last(c, &l);
	free(l.items);
	free(ji);
}

/* ---- operators ------------------------------------------------------- */

/*
 * At the start: how long the first step will need, from the flag's
 * traffic of the last hour (the judge's estimate, as every later
 * decision gives it), and a larger first step when it would not decide
 * within max_step. Only the estimate is kept: the verdict on traffic
 * from before the rollout means nothing.
 */
static bool add_preview(cs_controller *c, const cs_rollout *r,
	int64_t now, cJSON *decision)
{
	cs_judge_input *ji = calloc(1, sizeof(*ji));
	cj_decision d, est;
	cj_result res;
	cj_rollout fsm;
	bool ok;

	memset(&est, 0, sizeof(est));
	est.decide_ms = -1;
	if (ji && cs_judge_input_preview(c->store, r, now, ji) == CANARY_OK) {
		cj_evaluate(&r->spec.gates, &ji->in, &res);
		cs_rollout_fsm(r, &fsm);
		memset(&d, 0, sizeof(d));
		cj_fsm_tick(&fsm, &res, now, &d);
		est.decide_ms = res.decide_ms;
		est.suggest_bp = d.suggest_bp;
	}
	free(ji);
	ok = cs_decision_add_fsm(decision, &est);
	return ok;
}

/* An operator's decision record, taken at `at`'s step, naming who. */
static cJSON *operator_decision(const cs_rollout *at, int64_t now,
	const char *action, const char *rule, const char *why,
	const char *actor)
{
	cJSON *d = cs_decision_new(at, now, "operator", NULL, action, rule,
		why);

	if (d && !cJSON_AddStringToObject(d, "actor", actor)) {
		cJSON_Delete(d);
		return NULL;
	}
	return d;
}

int cs_controller_start(cs_controller *c, const char *flag,
	const cs_rollout_spec *spec, int64_t now_ms, const char *actor,
	cs_rollout *out, char *why, size_t whylen)
{
	change ch;
	int rc;

	memset(out, 0, sizeof(*out));
	why[0] = '\0';
	snprintf(out->flag, sizeof(out->flag), "%s", flag);
	out->spec = *spec;
	/* A one-step rollout has nowhere to go: it is complete at once. */
	out->status = spec->nsteps > 1 ? CJ_RUNNING : CJ_COMPLETED;
	out->step_start_ms = now_ms;
	out->created_ms = now_ms;
	snprintf(out->reason, sizeof(out->reason), "started at %.2f%%",
		spec->steps_bp[0] / 100.0);
	memset(&ch, 0, sizeof(ch));
	ch.r = out;
	ch.now_ms = now_ms;
	ch.insert = true;
	ch.flag_change = true;
	ch.recorded = true;
	ch.actor = actor;
	ch.action = "rollout.start";
	ch.bp = spec->steps_bp[0];
	ch.decision = operator_decision(out, now_ms, "start", "manual",
		out->reason, actor);
	if (!ch.decision || (out->status == CJ_RUNNING &&
	    !add_preview(c, out, now_ms, ch.decision))) {
		cJSON_Delete(ch.decision);
		return CANARY_ENOMEM;
	}
	rc = write_change(c->store, &ch);
	cJSON_Delete(ch.decision);
	if (rc == CS_ECONFLICT)
		snprintf(why, whylen, ch.flag_off ? "the flag %s is turned off "
			"(kill switch): turn it on before a rollout" :
			"the flag %s already has an active rollout", flag);
	return rc;
}

/* Work out what `op` does to r; CS_ECONFLICT with `why` when it cannot. */
static int op_plan(cs_rollout *r, cs_rollout_op op, int64_t now, change *ch,
	const char **action, char *why, size_t whylen)
{
	cj_rollout fsm;
	size_t last = r->spec.nsteps - 1;

	if (!cs_rollout_live(r)) {
		snprintf(why, whylen, "the rollout is %s",
			cj_status_name(r->status));
		return CS_ECONFLICT;
	}
	ch->bp = r->spec.steps_bp[r->step];
	switch (op) {
	case CS_OP_PAUSE:
		if (r->status != CJ_RUNNING)
			return snprintf(why, whylen, "the rollout is already "
				"paused"), CS_ECONFLICT;
		r->status = CJ_PAUSED;
		*action = "pause";
		snprintf(why, whylen, "paused by an operator");
		break;
	case CS_OP_RESUME:
		cs_rollout_fsm(r, &fsm);
		if (cj_fsm_resume(&fsm, now) != 0)
			return snprintf(why, whylen, "the rollout is not "
				"paused"), CS_ECONFLICT;
		r->status = fsm.status;
		r->step_start_ms = fsm.step_start_ms;
		*action = "resume";
		snprintf(why, whylen, "resumed by an operator");
		break;
	case CS_OP_PROMOTE:
	case CS_OP_PROMOTE_FULL:
		r->step = op == CS_OP_PROMOTE_FULL ? last : r->step + 1;
		r->step_start_ms = now;
		r->status = r->step == last ? CJ_COMPLETED : CJ_RUNNING;
		ch->bp = r->spec.steps_bp[r->step];
		ch->new_step = true;
		*action = r->step == last ? "promote" : "widen";
		snprintf(why, whylen, "promoted by an operator to %.2f%%",
			ch->bp / 100.0);
		break;
	case CS_OP_ROLLBACK:
		r->status = CJ_ROLLED_BACK;
		ch->bp = 0;
		*action = "rollback";
		snprintf(why, whylen, "rolled back by an operator");
		break;
	}
	ch->flag_change = true;
	snprintf(r->reason, sizeof(r->reason), "%s", why);
	return CANARY_OK;
}

/* What an operator asks, once: an operation on the rollout, or (with
 * `kill`) the kill switch's flag change that ends it. */
typedef struct op_request {
	const char *flag;
	cs_rollout_op op;
	const char *actor;
	cs_modify_fn kill;    /* the kill switch's patch, or NULL */
	void *kill_ctx;
	bool forced;
} op_request;

static int op_once(cs_controller *c, const op_request *q, int64_t now,
	cs_rollout *r, char *why, size_t whylen)
{
	cs_rollout before;
	const char *action = "";
	change ch;
	int rc = cs_store_rollout_get(c->store, q->flag, r, NULL);

	if (rc != CANARY_OK)
		return rc;
	if (q->kill && !cs_rollout_live(r))
		return CS_ENOROLLOUT; /* the kill switch alone will do */
	before = *r;
	memset(&ch, 0, sizeof(ch));
	rc = op_plan(r, q->kill ? CS_OP_ROLLBACK : q->op, now, &ch, &action,
		why, whylen);
	if (rc != CANARY_OK)
		return rc;
	if (q->kill) {
		snprintf(why, whylen, "the flag was turned off (kill switch) "
			"by %s", q->actor);
		snprintf(r->reason, sizeof(r->reason), "%s", why);
		ch.also = q->kill;
		ch.also_ctx = q->kill_ctx;
	}
	ch.r = r;
	ch.before = &before;
	ch.now_ms = now;
	ch.recorded = true;
	ch.actor = q->actor;
	ch.action = q->kill ? "flag.kill_switch" : audit_action(action);
	/* The record shows the step the operator acted on. */
	ch.decision = operator_decision(&before, now, action,
		q->kill ? "kill_switch" : "manual", why, q->actor);
	if (!ch.decision)
		return CANARY_ENOMEM;
	if (!cJSON_AddNumberToObject(ch.decision, "to_percent",
		    r->status == CJ_ROLLED_BACK ? 0 : cs_rollout_percent(r, r->step)))
		rc = CANARY_ENOMEM;
	if (rc == CANARY_OK)
		rc = apply_change(c->store, &ch);
	cJSON_Delete(ch.decision);
	return rc;
}

/* Run `q` until it is not raced by the tick. */
static int op_run(cs_controller *c, const op_request *q, int64_t now_ms,
	cs_rollout *out, char *why, size_t whylen)
{
	int rc = CS_ESTALE, tries;

	/* CS_ESTALE: the tick changed the rollout between our read and our
	 * write; read again and decide again. */
	for (tries = 0; tries < 5 && rc == CS_ESTALE; tries++) {
		why[0] = '\0';
		rc = op_once(c, q, now_ms, out, why, whylen);
	}
	if (rc == CS_ESTALE) {
		snprintf(why, whylen, "the rollout kept changing; try again");
		rc = CS_ECONFLICT;
	}
	return rc;
}

int cs_controller_op(cs_controller *c, const char *flag, cs_rollout_op op,
	int64_t now_ms, const char *actor, cs_rollout *out, char *why,
	size_t whylen)
{
	op_request q;

	memset(&q, 0, sizeof(q));
	q.flag = flag;
	q.op = op;
	q.actor = actor;
	return op_run(c, &q, now_ms, out, why, whylen);
}

int cs_controller_kill(cs_controller *c, const char *flag, cs_modify_fn fn,
	void *ctx, int64_t now_ms, const char *actor, char *why,
	size_t whylen)
{
	cs_rollout *r = malloc(sizeof(*r));
	op_request q;
	int rc;

	if (!r)
		return CANARY_ENOMEM;
	memset(&q, 0, sizeof(q));
	q.flag = flag;
	q.actor = actor;
	q.kill = fn;
	q.kill_ctx = ctx;
	rc = op_run(c, &q, now_ms, r, why, whylen);
	free(r);
	return rc;
}

/* One stored decision onto the status document's array. */
static int add_stored_decision(const char *json, size_t len, void *arr)
{
	cJSON *d = cJSON_ParseWithLength(json, len);

	if (!d || !cJSON_AddItemToArray(arr, d)) {
		cJSON_Delete(d);
		return CANARY_ESTORAGE;
	}
	return CANARY_OK;
}

int cs_controller_status(cs_controller *c, const char *flag, uint64_t last,
	cJSON **out)
{
	cs_rollout *r = malloc(sizeof(*r));
	cJSON *decisions = cJSON_CreateArray();
	cs_history h = { last, add_stored_decision, decisions, 0 };
	int rc = r && decisions ? cs_store_rollout_get(c->store, flag, r, &h) :
		CANARY_ENOMEM;
	cJSON *doc = rc == CANARY_OK ? cs_rollout_to_json(r) : NULL;

	*out = NULL;
	free(r);
	if (rc == CANARY_OK && (!doc || !cJSON_AddNumberToObject(doc,
		    "decisions_total", (double)h.total) ||
		    !cJSON_AddItemToObject(doc, "decisions", decisions)))
		rc = CANARY_ENOMEM;
	if (rc != CANARY_OK) {
		cJSON_Delete(doc);
		cJSON_Delete(decisions);
		return rc;
	}
	*out = doc;
	return CANARY_OK;
}

static int list_one(const cs_rollout *r, void *arg)
{
	cJSON *o = cs_rollout_to_json(r);

	if (!o || !cJSON_AddItemToArray(arg, o)) {
		cJSON_Delete(o);
		return CANARY_ENOMEM;
	}
	return CANARY_OK;
}

int cs_controller_list(cs_controller *c, cJSON **out)
{
	int rc;

	*out = cJSON_CreateArray();
	if (!*out)
		return CANARY_ENOMEM;
	rc = cs_store_rollouts_each(c->store, CS_ROLLOUTS_LATEST, list_one,
		*out);
	if (rc != CANARY_OK) {
		cJSON_Delete(*out);
		*out = NULL;
	}
	return rc;
}
