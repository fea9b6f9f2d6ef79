/*
 * ctl_commands.h - canaryctl's command groups; main() (canaryctl.c) picks
 * one by the first word. argv[0] is the word after the group's name.
 */
#ifndef CTL_COMMANDS_H
#define CTL_COMMANDS_H

#include "ctl/ctl_client.h"

/* Not a command the group knows, or malformed: main prints the usage and
 * exits with EXIT_USAGE. */
#define CTL_SHOW_USAGE (-1)

/* flag list | get KEY | delete KEY | create KEY [opts] | set KEY [opts] */
int ctl_flag(const ctl *c, int argc, char **argv);

/* stats FLAG [--config-version N] [--since MS] */
int ctl_stats(const ctl *c, int argc, char **argv);

/* rollout start|status|list|pause|resume|promote|rollback ... */
int ctl_rollout(const ctl *c, int argc, char **argv);

#endif
