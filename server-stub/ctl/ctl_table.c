/*
 * ctl_table.c - print rows in aligned columns, header first; every cell
 * made safe for a terminal (ctl_safe).
 */
#include "ctl/ctl_table.h"

#include <stdlib.h>
#include <string.h>

#include "ctl/ctl_client.h"

void ctl_table_init(ctl_table *t, size_t cols, const char *const *head)
{
	size_t i;

	memset(t, 0, sizeof(*t));
	t->cols = cols > CTL_TABLE_MAX_COLS ? CTL_TABLE_MAX_COLS : cols;
	for (i = 0; i < t->cols; i++)
		t->head[i] = head[i];
}

void ctl_table_row(ctl_table *t, const char *const *cells)
{
	size_t i;

	if (t->failed)
		return;
	if (t->rows == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		char **c = realloc(t->cells, cap * t->cols * sizeof(*c));

		if (!c) {
			t->failed = 1;
			return;
		}
		t->cells = c;
		t->cap = cap;
	}
	for (i = 0; i < t->cols; i++) {
		/* Cells hold the server's strings: safe for the terminal. */
		t->cells[t->rows * t->cols + i] = ctl_safe(cells[i] ? cells[i] :
			"");
		if (!t->cells[t->rows * t->cols + i])
			t->failed = 1;
	}
	t->rows++;
}

static void print_row(const ctl_table *t, const size_t *width,
	const char *const *cells, FILE *out)
{
	size_t i;

	for (i = 0; i < t->cols; i++) {
		const char *c = cells[i] ? cells[i] : "";

		if (i + 1 == t->cols)
			fprintf(out, "%s\n", c);
		else
			fprintf(out, "%-*s  ", (int)width[i], c);
	}
}

void ctl_table_print(const ctl_table *t, FILE *out)
{
	size_t width[CTL_TABLE_MAX_COLS], r, i;

	for (i = 0; i < t->cols; i++)
		width[i] = strlen(t->head[i]);
	for (r = 0; r < t->rows; r++)
		for (i = 0; i < t->cols; i++) {
			const char *c = t->cells[r * t->cols + i];
			size_t n = c ? strlen(c) : 0;

			if (n > width[i])
				width[i] = n;
		}
	print_row(t, width, t->head, out);
	for (r = 0; r < t->rows; r++)
		print_row(t, width, (const char *const *)&t->cells[r * t->cols],
			out);
}

void ctl_table_free(ctl_table *t)
{
	size_t i;

	for (i = 0; t->cells && i < t->rows * t->cols; i++)
		free(t->cells[i]);
	free(t->cells);
	memset(t, 0, sizeof(*t));
}
