/*
 * ctl_commands.h - canaryctl's command groups; main() (canaryctl.c) picks
 * one by the first word. argv[0] is the word after the group's name
 * (argc may be 0).
 */
#ifndef CTL_COMMANDS_H
#define CTL_COMMANDS_H

#include <stdbool.h>
#include <stdint.h>

#include "ctl/ctl_client.h"

/* Not a command the group knows, or incomplete: main says so and prints
 * the group's usage (EXIT_USAGE). A bad value is refused by the group
 * itself (ctl_bad_value). */
#define CTL_SHOW_USAGE (-1)

/* flag list | get KEY | delete KEY | create KEY [opts] | set KEY [opts] */
int ctl_flag(const ctl *c, int argc, char **argv);

/* stats FLAG [--config-version N] [--since MS] */
int ctl_stats(const ctl *c, int argc, char **argv);

/* rollout start|status|list|pause|resume|promote|rollback|wait ... */
int ctl_rollout(const ctl *c, int argc, char **argv);

/* token create NAME --role R | list | revoke NAME (ctl_team.c) */
int ctl_token(const ctl *c, int argc, char **argv);

/* audit [FLAG] [--actor A] [--since MS] [--until MS] [--limit N]
 * [--before ID] (ctl_team.c) */
int ctl_audit(const ctl *c, int argc, char **argv);

/* webhook add URL [--events E,E] | list | delete ID | deliveries ID
 * (ctl_team.c) */
int ctl_webhook(const ctl *c, int argc, char **argv);

/* ctl_follow.c: rollout wait FLAG [--timeout D]; rollout status FLAG
 * --watch (`query` "" or "?last=N"). */
int ctl_rollout_wait(const ctl *c, const char *flag, int argc, char **argv);
int ctl_rollout_watch(const ctl *c, const char *flag, const char *query);

/* segment list | show NAME | delete NAME | set NAME --rule R [--rule R]
 * [--force] (ctl_segments.c) */
int ctl_segment(const ctl *c, int argc, char **argv);

/* ctl_flags.c: "ATTR [not] OP[/i] VALUE" as a constraint object (NULL
 * when it is not of that shape); one more of them appended to the
 * "constraints" array of `obj` (false: not of that shape). */
struct cJSON *ctl_parse_rule(const char *text);
/* A constraint object as --rule writes it, "region not IN/i eu-1,eu-2"
 * (cut to `len`; not yet made safe for a terminal). */
void ctl_rule_text(const struct cJSON *con, char *out, size_t len);
/* The strings of a JSON array, comma-separated ("..." when cut). */
void ctl_join_list(const struct cJSON *arr, char *out, size_t len);
bool ctl_add_rule(struct cJSON *obj, const char *text);

/* ctl_rollout.c: print a rollout's status document as a table. */
void ctl_print_status(const struct cJSON *doc);

#endif
