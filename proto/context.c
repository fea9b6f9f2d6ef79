/*
 * context.c - field names resolved once, values looked up without
 * allocation.
 */
#include "context.h"

#include <stdbool.h>
#include <string.h>

static const char *const well_known[] = {
	"userId", "sessionId", "remoteAddress", "environment", "appName",
	"currentTime"
};

void canary__field_init(canary__field *field, const char *name, size_t len)
{
	size_t i;

	field->name = name;
	field->len = (uint32_t)len;
	field->kind = CANARY__FIELD_ATTR;
	for (i = 0; i < sizeof(well_known) / sizeof(well_known[0]); i++) {
		if (strlen(well_known[i]) == len &&
		    memcmp(well_known[i], name, len) == 0) {
			field->kind = (uint8_t)i;
			return;
		}
	}
}

/* Is the NUL-terminated n equal to name[0..len)? Byte by byte: n may be
 * shorter than len, so memcmp could read past its end. */
static bool same_name(const char *n, const char *name, size_t len)
{
	size_t k;

	for (k = 0; k < len; k++)
		if (n[k] != name[k])
			return false;   /* also stops at n's NUL */
	return n[len] == '\0';
}

const char *canary__context_attr(const canary__context *ctx,
	const char *name, size_t len)
{
	size_t i;

	if (len == 0)
		return NULL;
	for (i = 0; i < ctx->attr_count; i++) {
		const char *n = ctx->attrs[i].name;
		const char *v = ctx->attrs[i].value;

		if (n && n[0] == name[0] && same_name(n, name, len))
			return v && *v ? v : NULL;
	}
	return NULL;
}

const char *canary__context_value(const canary__context *ctx,
	const canary__field *field)
{
	const char *v = NULL;

	switch (field->kind) {
	case CANARY__FIELD_USER_ID: v = ctx->user_id; break;
	case CANARY__FIELD_SESSION_ID: v = ctx->session_id; break;
	case CANARY__FIELD_REMOTE_ADDRESS: v = ctx->remote_address; break;
	case CANARY__FIELD_ENVIRONMENT: v = ctx->environment; break;
	case CANARY__FIELD_APP_NAME: v = ctx->app_name; break;
	case CANARY__FIELD_CURRENT_TIME: v = ctx->current_time; break;
	default: break;
	}
	if (v && *v)
		return v;
	return canary__context_attr(ctx, field->name, field->len);
}
