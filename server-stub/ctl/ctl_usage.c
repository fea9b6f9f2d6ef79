/*
 * ctl_usage.c - the usage text of every canaryctl command group.
 */
#include "ctl/ctl_usage.h"

#include <string.h>

static const char head[] =
"usage: canaryctl [--server URL] [--token T] [--cacert FILE] [--json] COMMAND\n"
"       canaryctl --help | --version | help COMMAND | COMMAND --help\n";

static const struct {
	const char *name;
	const char *lines;    /* the commands, as in the whole usage */
	const char *options;  /* the group's options (may be "") */
} groups[] = {
	{ "flag",
"  flag list\n"
"  flag get KEY\n"
"  flag create KEY [options]   create a flag (rollout 0%, enabled, by default)\n"
"  flag set KEY [options]      change only the given fields\n"
"  flag delete KEY\n",
"flag options:\n"
"  --rollout PCT | --rollout-bp N   canary share (0..100 percent in steps of\n"
"                                   0.01, or 0..10000 basis points)\n"
"  --enable | --disable             kill switch (disabled = all stable; an\n"
"                                   operator may do this, the rest needs admin)\n"
"  --salt S  --state S  --stable-variant V  --canary-variant V\n"
"  --allow a,b,c  --deny a,b,c      unit lists (\"\" empties a list)\n"
"  --rule 'ATTR [not] OP[/i] VALUE'  targeting: who is eligible; repeatable,\n"
"                                   replaces the flag's rules (docs/targeting.md)\n"
"  --no-rules                       remove the flag's rules\n"
"  --segment NAME                   the flag's units must be in this named\n"
"                                   segment too; repeatable, replaces the\n"
"                                   flag's segments (canaryctl help segment)\n"
"  --no-segments                    remove the flag's segments\n"
"  --stickiness ATTR                split by this attribute (\"\": the unit)\n"
"  --force                          change rollout_bp, salt, allow, deny or\n"
"                                   the rules or segments under a live\n"
"                                   rollout (audited as forced)\n" },
	{ "segment",
"  segment list                    named segments and the flags naming each\n"
"  segment show NAME\n"
"  segment set NAME --rule R [--rule R ...] [--force]\n"
"                                  create or replace its rules\n"
"  segment delete NAME             refused while a flag names it\n",
"segment options:\n"
"  --rule 'ATTR [not] OP[/i] VALUE'  as for a flag; at least one\n"
"  --force                          change a segment a flag under a live\n"
"                                   rollout names (audited as forced)\n" },
	{ "stats",
"  stats FLAG [--config-version N] [--since MS]\n",
"  per arm: exposures, errors, latency quantiles and custom metrics\n" },
	{ "rollout",
"  rollout start FLAG [rollout options]\n"
"  rollout status FLAG [--last N] [--watch]  state and decision history\n"
"  rollout list\n"
"  rollout pause|resume|rollback FLAG\n"
"  rollout promote FLAG [--full]   next step, or the last one\n"
"  rollout wait FLAG [--timeout D] exit 0 completed, 1 rolled back,\n"
"                                  4 paused or timed out\n",
"rollout options:\n"
"  --steps 1,5,25,50,100  --min-soak 5m  --max-step 1h  --interval 1m\n"
"  --on-fail rollback|pause        pause = dry run (record, do not roll back)\n"
"  --sustain 2m  --grace 3m  --bake 30m  --max-wait 8h\n"
"  --on-stall rollback|pause       what an alert that outlasts --grace does\n"
"  --widen-undecided 5             at --max-step without a PASS, widen to the\n"
"                                  next step if it is at most 5% (up to 50;\n"
"                                  not the last, not in a dry run)\n"
"  --gate NAME=VALUE               judge gate, repeatable (docs/server.md)\n"
"  --watch                         redraw the status as decisions arrive\n"
"  --timeout D                     give up waiting after D (500ms, 30s, 10m, 2h)\n" },
	{ "token",
"  token create NAME --role reader|operator|admin  prints the token, once\n"
"  token list\n"
"  token revoke NAME\n",
"" },
	{ "audit",
"  audit [FLAG] [--segment NAME] [--actor NAME] [--since MS] [--until MS]\n"
"        [--limit N] [--before ID] who changed what, newest first\n",
"" },
	{ "webhook",
"  webhook add URL [--events E,E]  prints its signing secret, once\n"
"  webhook list\n"
"  webhook delete ID\n"
"  webhook deliveries ID [--limit N]\n",
"  events: started widened paused resumed rolled_back completed stalled\n"
"          segment_created segment_updated segment_deleted\n" },
	{ "help",
"  help [COMMAND]                  this, or one command's usage\n",
"" },
};

static const char tail[] =
"environment: CANARY_SERVER (default http://127.0.0.1:8080),\n"
"             CANARY_ADMIN_TOKEN (any API token: an admin's, or a named one),\n"
"             CANARY_CACERT (CAs to trust for https, as --cacert)\n"
"exit status: 0 ok, 1 the server refused, 2 usage, 3 network,\n"
"             4 rollout wait: paused or timed out\n";

#define NGROUPS (sizeof(groups) / sizeof(groups[0]))

void ctl_usage_all(FILE *out)
{
	size_t i;

	fputs(head, out);
	for (i = 0; i < NGROUPS; i++)
		fputs(groups[i].lines, out);
	for (i = 0; i < NGROUPS; i++)
		if (strncmp(groups[i].options, "  ", 2) != 0)
			fputs(groups[i].options, out);
	fputs(tail, out);
}

bool ctl_usage_group(const char *group, FILE *out)
{
	size_t i;

	for (i = 0; i < NGROUPS; i++) {
		if (strcmp(groups[i].name, group) != 0)
			continue;
		fputs(head, out);
		fputs(groups[i].lines, out);
		fputs(groups[i].options, out);
		return true;
	}
	return false;
}
