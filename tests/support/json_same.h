/*
 * json_same.h - are two cJSON trees the same document: types, member
 * names and order, strings byte for byte, numbers bit for bit (-0 apart
 * from 0)? For comparing proto/json_arena.c's trees with cJSON's.
 * Header-only so that any test program can include it.
 */
#ifndef CANARY_TEST_JSON_SAME_H
#define CANARY_TEST_JSON_SAME_H

#include <math.h>
#include <stdbool.h>
#include <string.h>

#include <cjson/cJSON.h>

static inline bool json_same_text(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static inline bool json_same(const cJSON *a, const cJSON *b);

/* a and b alone, not their siblings. */
static inline bool json_same_node(const cJSON *a, const cJSON *b)
{
	if ((a->type & 0xFF) != (b->type & 0xFF) ||
	    !json_same_text(a->string, b->string))
		return false;
	if (cJSON_IsString(a) && !json_same_text(a->valuestring, b->valuestring))
		return false;
	if (cJSON_IsNumber(a) && (a->valueint != b->valueint ||
	    !(a->valuedouble == b->valuedouble ||
	      (isnan(a->valuedouble) && isnan(b->valuedouble))) ||
	    signbit(a->valuedouble) != signbit(b->valuedouble)))
		return false;
	/* cJSON keeps the last child as the first child's prev. */
	if (a->child && (!a->child->prev || a->child->prev->next != NULL))
		return false;
	return json_same(a->child, b->child);
}

/* a and b and their siblings, in order. */
static inline bool json_same(const cJSON *a, const cJSON *b)
{
	for (; a && b; a = a->next, b = b->next)
		if (!json_same_node(a, b))
			return false;
	return a == NULL && b == NULL;
}

#endif
