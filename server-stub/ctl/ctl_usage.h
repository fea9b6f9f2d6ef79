/*
 * ctl_usage.h - canaryctl's usage, one text per command group, defined
 * once: `canaryctl --help` prints them all, `canaryctl help GROUP` and
 * `canaryctl GROUP --help` that group's.
 */
#ifndef CTL_USAGE_H
#define CTL_USAGE_H

#include <stdbool.h>
#include <stdio.h>

/* The whole usage (every group, the options, the environment). */
void ctl_usage_all(FILE *out);

/* One group's usage ("flag", "rollout", ...); false when there is no
 * such group. */
bool ctl_usage_group(const char *group, FILE *out);

#endif
