/*
 * datetime.c - RFC 3339 to Unix milliseconds, without the C library's
 * time zone machinery (timegm is not standard, mktime is local time).
 */
#include "datetime.h"

/* n decimal digits at p, or -1. */
static int digits(const char *p, const char *end, int n)
{
	int v = 0;

	if (end - p < n)
		return -1;
	for (; n; n--, p++) {
		if (*p < '0' || *p > '9')
			return -1;
		v = v * 10 + (*p - '0');
	}
	return v;
}

static bool leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int month_days(int y, int m)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	return m == 2 && leap(y) ? 29 : days[m - 1];
}

/* The well-known era-based civil-to-days algorithm. */
int64_t canary__days_from_civil(int64_t y, int64_t m, int64_t d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* "Z", "+hh:mm", "-hh:mm", "+hhmm": the offset east of UTC in minutes. */
static bool parse_zone(const char *p, const char *end, int *minutes)
{
	int sign, hh, mm;

	if (p == end) {
		*minutes = 0;
		return true;
	}
	if ((*p == 'Z' || *p == 'z') && end - p == 1) {
		*minutes = 0;
		return true;
	}
	if (*p != '+' && *p != '-')
		return false;
	sign = *p++ == '-' ? -1 : 1;
	hh = digits(p, end, 2);
	p += 2;
	if (p < end && *p == ':')
		p++;
	mm = digits(p, end, 2);
	if (hh < 0 || hh > 23 || mm < 0 || mm > 59 || p + 2 != end)
		return false;
	*minutes = sign * (hh * 60 + mm);
	return true;
}

/* "hh:mm[:ss[.fff...]]" then the zone. */
static bool parse_time(const char *p, const char *end, int64_t *ms_of_day)
{
	int hh = digits(p, end, 2), mm, ss = 0, ms = 0, scale = 100, zone;

	if (hh < 0 || hh > 23 || end - p < 5 || p[2] != ':')
		return false;
	mm = digits(p + 3, end, 2);
	if (mm < 0 || mm > 59)
		return false;
	p += 5;
	if (p < end && *p == ':') {
		ss = digits(p + 1, end, 2);
		if (ss < 0 || ss > 59)
			return false;
		p += 3;
		if (p < end && *p == '.') {
			if (++p == end || *p < '0' || *p > '9')
				return false;
			for (; p < end && *p >= '0' && *p <= '9'; p++, scale /= 10)
				ms += (*p - '0') * scale;
		}
	}
	if (!parse_zone(p, end, &zone))
		return false;
	*ms_of_day = ((int64_t)hh * 3600 + mm * 60 + ss - (int64_t)zone * 60) *
		1000 + ms;
	return true;
}

bool canary__datetime_parse(const char *s, size_t len, int64_t *ms)
{
	const char *end = s + len;
	int y, m, d;
	int64_t tod = 0;

	if (!s || len < 10 || s[4] != '-' || s[7] != '-')
		return false;
	y = digits(s, end, 4);
	m = digits(s + 5, end, 2);
	d = digits(s + 8, end, 2);
	if (y < 0 || m < 1 || m > 12 || d < 1 || d > month_days(y, m))
		return false;
	if (len > 10) {
		if ((s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
		    !parse_time(s + 11, end, &tod))
			return false;
	}
	*ms = canary__days_from_civil(y, m, d) * 86400000 + tod;
	return true;
}
