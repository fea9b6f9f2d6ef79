/*
 * datetime.h - RFC 3339 timestamps for DATE_AFTER / DATE_BEFORE.
 *
 * Accepted: YYYY-MM-DD, optionally followed by 'T' (or 't' or a space),
 * hh:mm[:ss[.fraction]] and a zone: 'Z', +hh:mm, -hh:mm or +hhmm. A date
 * alone is midnight UTC; a time without a zone is read as UTC (not the
 * machine's local time, which would make a rule mean different things on
 * different devices). Fractions are truncated to milliseconds. Calendar
 * dates are checked (no February 30th, no hour 24, no leap second 60).
 */
#ifndef CANARY_PROTO_DATETIME_H
#define CANARY_PROTO_DATETIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Milliseconds since 1970-01-01T00:00:00Z. */
bool canary__datetime_parse(const char *s, size_t len, int64_t *ms);

/* Days since 1970-01-01 of a proleptic Gregorian date (month 1..12). */
int64_t canary__days_from_civil(int64_t y, int64_t m, int64_t d);

#endif
