/*
 * context.c - field names resolved once, values looked up without
 * allocation.
 */
#include "context.h"

#include <stdbool.h>
#include <string.h>

#include "murmur3.h"

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
	field->slot = 0;
	for (i = 0; i < sizeof(well_known) / sizeof(well_known[0]); i++) {
		if (strlen(well_known[i]) == len &&
		    memcmp(well_known[i], name, len) == 0) {
			field->kind = (uint8_t)i;
			return;
		}
	}
}

/* Two murmur3 hashes of the names, each with its length: equal tables,
 * equal ids. */
static uint64_t slots_id(const canary__field_slots *s)
{
	canary__murmur3 a, b;
	uint32_t i;

	canary__mm3_init(&a, 0x243f6a88u);
	canary__mm3_init(&b, 0x85a308d3u);
	for (i = 0; i < s->count; i++) {
		canary__mm3_update(&a, &s->lens[i], sizeof(s->lens[i]));
		canary__mm3_update(&a, s->names[i], s->lens[i]);
		canary__mm3_update(&b, s->names[i], s->lens[i]);
		canary__mm3_update(&b, &s->lens[i], sizeof(s->lens[i]));
	}
	return (uint64_t)canary__mm3_final(&a) << 32 |
		canary__mm3_final(&b);
}

void canary__field_slot(canary__field_slots *slots, canary__field *field)
{
	uint32_t i;

	if (field->kind != CANARY__FIELD_ATTR)
		return;
	for (i = 0; i < slots->count; i++) {
		if (slots->lens[i] == field->len &&
		    memcmp(slots->names[i], field->name, field->len) == 0) {
			field->slot = (uint8_t)(i + 1);
			return;
		}
	}
	if (slots->count == CANARY_CONTEXT_SLOTS)
		return;
	slots->names[i] = field->name;
	slots->lens[i] = field->len;
	slots->count++;
	slots->id = slots_id(slots);
	field->slot = (uint8_t)(i + 1);
}

/* Is the NUL-terminated n equal to name[0..len)? Byte by byte: n may be
 * shorter than len, so memcmp could read past its end. When name is
 * NUL-terminated there (a compiled field's is), strcmp does it faster. */
static bool same_name(const char *n, const char *name, size_t len)
{
	size_t k;

	if (name[len] == '\0')
		return strcmp(n, name) == 0;
	for (k = 0; k < len; k++)
		if (n[k] != name[k])
			return false;   /* also stops at n's NUL */
	return n[len] == '\0';
}

/* The position of the attribute called name[0..len), or attr_count. */
static size_t find_attr(const canary__context *ctx, const char *name,
	size_t len)
{
	size_t i;

	for (i = 0; len && i < ctx->attr_count; i++) {
		const char *n = ctx->attrs[i].name;

		if (n && n[0] == name[0] && same_name(n, name, len))
			return i;
	}
	return ctx->attr_count;
}

static const char *value_at(const canary__context *ctx, size_t i)
{
	const char *v;

	if (i >= ctx->attr_count)
		return NULL;
	v = ctx->attrs[i].value;
	return v && *v ? v : NULL;
}

const char *canary__context_attr(const canary__context *ctx,
	const char *name, size_t len)
{
	return value_at(ctx, find_attr(ctx, name, len));
}

/* An attribute with a slot, through the context's binding: looked up at
 * the first use, read by position after that. */
static const char *bound_attr(const canary__context *ctx,
	const canary__field *field)
{
	uint8_t *pos = &ctx->bind->pos[field->slot - 1];
	size_t i;

	if (*pos == CANARY__SLOT_ABSENT)
		return NULL;
	if (*pos != CANARY__SLOT_UNKNOWN)
		return value_at(ctx, *pos - 1u);
	i = find_attr(ctx, field->name, field->len);
	if (i == ctx->attr_count)
		*pos = CANARY__SLOT_ABSENT;
	else if (i < CANARY__SLOT_ABSENT - 1) /* else: scanned every time */
		*pos = (uint8_t)(i + 1);
	return value_at(ctx, i);
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
	if (field->slot && ctx->bind)
		return bound_attr(ctx, field);
	return canary__context_attr(ctx, field->name, field->len);
}
