/*
 * backoff.c - exponential backoff with full jitter; Retry-After parsing.
 */
#include "backoff.h"

#include <string.h>

void canary__backoff_init(canary__backoff *b, uint32_t base_ms,
	uint32_t cap_ms, uint64_t seed)
{
	b->cap_ms = cap_ms < CANARY__BACKOFF_FLOOR_MS ?
		CANARY__BACKOFF_FLOOR_MS : cap_ms;
	b->base_ms = base_ms < CANARY__BACKOFF_FLOOR_MS ?
		CANARY__BACKOFF_FLOOR_MS : base_ms;
	if (b->base_ms > b->cap_ms)
		b->base_ms = b->cap_ms;
	b->attempt = 0;
	b->rng = seed ? seed : 0x9E3779B97F4A7C15ull;
}

void canary__backoff_reset(canary__backoff *b)
{
	b->attempt = 0;
}

static uint64_t next_random(canary__backoff *b)
{
	uint64_t x = b->rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	b->rng = x;
	return x * 0x2545F4914F6CDD1Dull;
}

uint32_t canary__backoff_next(canary__backoff *b, uint32_t retry_after_ms)
{
	uint64_t ceiling = b->base_ms;
	uint64_t span, wait;
	unsigned i;

	for (i = 0; i < b->attempt && ceiling < b->cap_ms; i++)
		ceiling *= 2;
	if (ceiling > b->cap_ms)
		ceiling = b->cap_ms;
	if (b->attempt < 64)
		b->attempt++;
	span = ceiling - CANARY__BACKOFF_FLOOR_MS + 1;
	wait = CANARY__BACKOFF_FLOOR_MS + (next_random(b) >> 11) % span;
	if (retry_after_ms > CANARY__RETRY_AFTER_MAX_MS)
		retry_after_ms = CANARY__RETRY_AFTER_MAX_MS;
	if (wait < retry_after_ms)
		wait = retry_after_ms;
	return (uint32_t)wait;
}

/* ---- Retry-After -------------------------------------------------------- */

static bool parse_digits(const char *s, size_t n, int64_t *out)
{
	int64_t v = 0;
	size_t i;

	if (n == 0 || n > 12)
		return false;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Hinnant's method). */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* "Sun, 06 Nov 1994 08:49:37 GMT" -> seconds since the epoch. */
static bool parse_imf_fixdate(const char *s, int64_t *out)
{
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	int64_t day, year, hh, mm, ss, mon;
	const char *m;

	if (strlen(s) != 29 || s[3] != ',' || s[4] != ' ' || s[7] != ' ' ||
	    s[11] != ' ' || s[16] != ' ' || s[19] != ':' || s[22] != ':' ||
	    strcmp(s + 25, " GMT") != 0)
		return false;
	m = strstr(months, (char[4]){ s[8], s[9], s[10], '\0' });
	if (!m || (m - months) % 3)
		return false;
	mon = (m - months) / 3 + 1;
	if (!parse_digits(s + 5, 2, &day) || !parse_digits(s + 12, 4, &year) ||
	    !parse_digits(s + 17, 2, &hh) || !parse_digits(s + 20, 2, &mm) ||
	    !parse_digits(s + 23, 2, &ss))
		return false;
	if (day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 60)
		return false;
	*out = days_from_civil(year, mon, day) * 86400 + hh * 3600 + mm * 60 + ss;
	return true;
}

bool canary__retry_after_parse(const char *value, int64_t now_unix_s,
	uint32_t *out_ms)
{
	int64_t secs, when;

	if (!value)
		return false;
	while (*value == ' ' || *value == '\t')
		value++;
	if (parse_digits(value, strlen(value), &secs)) {
		/* fall through to the clamp below */
	} else if (parse_imf_fixdate(value, &when)) {
		secs = when > now_unix_s ? when - now_unix_s : 0;
	} else {
		return false;
	}
	if (secs > CANARY__RETRY_AFTER_MAX_MS / 1000)
		secs = CANARY__RETRY_AFTER_MAX_MS / 1000;
	*out_ms = (uint32_t)(secs * 1000);
	return true;
}
