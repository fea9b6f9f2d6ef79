/*
 * logline.c - one line per thing the server does, as text or JSON.
 */
#include "logline.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static cs_log_format log_format = CS_LOG_TEXT;
static bool log_quiet;

void cs_log_setup(cs_log_format format, bool quiet)
{
	log_format = format;
	log_quiet = quiet;
}

static const char *level_name(cs_log_level level)
{
	return level == CS_LOG_ERROR ? "error" : level == CS_LOG_WARN ?
		"warn" : "info";
}

/* "2026-05-01T09:10:02.123Z" */
static void now_iso(char *out, size_t len)
{
	struct timespec ts;
	struct tm tm;
	char sec[24];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(sec, sizeof(sec), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, len, "%s.%03dZ", sec, (int)(ts.tv_nsec / 1000000) % 1000);
}

static void json_line(cs_log_level level, const cs_log_about *a,
	const char *msg)
{
	cJSON *o = cJSON_CreateObject();
	char when[48], *text;

	now_iso(when, sizeof(when));
	if (!o)
		return;
	cJSON_AddStringToObject(o, "time", when);
	cJSON_AddStringToObject(o, "level", level_name(level));
	if (a && a->event)
		cJSON_AddStringToObject(o, "event", a->event);
	if (a && a->actor)
		cJSON_AddStringToObject(o, "actor", a->actor);
	if (a && a->flag)
		cJSON_AddStringToObject(o, "flag", a->flag);
	if (a && a->config_version)
		cJSON_AddNumberToObject(o, "config_version",
			(double)a->config_version);
	cJSON_AddStringToObject(o, "msg", msg);
	text = cJSON_PrintUnformatted(o);
	if (text)
		fprintf(stderr, "%s\n", text);
	cJSON_free(text);
	cJSON_Delete(o);
}

void cs_log(cs_log_level level, const cs_log_about *about, const char *fmt,
	...)
{
	char msg[1024];
	va_list ap;

	if (level == CS_LOG_INFO && log_quiet)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (log_format == CS_LOG_JSON)
		json_line(level, about, msg);
	else
		fprintf(stderr, "canary-server: %s\n", msg);
}
