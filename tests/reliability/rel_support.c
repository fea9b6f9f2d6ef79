/*
 * rel_support.c - see rel_support.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include <cjson/cJSON.h>

#include "rel_support.h"

int rel_start_with_flag(srv *s, const char *flag, int rollout_bp)
{
	char body[256];

	if (srv_start(s, NULL) != 0)
		return -1;
	snprintf(body, sizeof(body), "{\"key\":\"%s\",\"rollout_bp\":%d}", flag,
		rollout_bp);
	return http_status(s, "POST", "/v1/admin/flags", ADMIN_TOKEN, body) ==
		201 ? 0 : -1;
}

double rel_arm_count(const srv *s, const char *flag, const char *arm,
	const char *field)
{
	char path[256];
	cJSON *doc, *item;
	double n;
	resp r;

	snprintf(path, sizeof(path), "/v1/admin/flags/%s/stats", flag);
	assert_int_equal(http(s, "GET", path, ADMIN_TOKEN, NULL, NULL, &r), 0);
	assert_int_equal(r.status, 200);
	doc = cJSON_Parse(r.body);
	assert_non_null(doc);
	item = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(doc,
		"arms"), arm), field);
	assert_true(cJSON_IsNumber(item));
	n = cJSON_GetNumberValue(item);
	cJSON_Delete(doc);
	resp_free(&r);
	return n;
}
