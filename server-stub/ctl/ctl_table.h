/*
 * ctl_table.h - canaryctl's plain-text tables (columns sized to content).
 */
#ifndef CTL_TABLE_H
#define CTL_TABLE_H

#include <stddef.h>
#include <stdio.h>

#define CTL_TABLE_MAX_COLS 8

typedef struct ctl_table {
	size_t cols;
	const char *head[CTL_TABLE_MAX_COLS];
	char **cells;   /* rows * cols, owned */
	size_t rows, cap;
	int failed;     /* out of memory: print what we have */
} ctl_table;

void ctl_table_init(ctl_table *t, size_t cols, const char *const *head);

/* Append one row of `cols` cells (copied). */
void ctl_table_row(ctl_table *t, const char *const *cells);

void ctl_table_print(const ctl_table *t, FILE *out);
void ctl_table_free(ctl_table *t);

#endif
