/*
 * bucket.c - the public form of the bucketing contract.
 */
#include "bucket.h"

#include "canary/canary.h"

uint32_t canary_bucket(const char *salt, const char *unit)
{
	canary__murmur3 prefix;

	if (!salt)
		salt = "";
	if (!unit)
		unit = "";
	canary__bucket_prefix(&prefix, salt, strlen(salt));
	return canary__bucket_unit(&prefix, unit, strlen(unit));
}
