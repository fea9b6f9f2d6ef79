/*
 * fuzz_retry_after.c - the Retry-After header is outside input too (any
 * server, proxy or captive portal can send one): canary__retry_after_parse
 * (delta-seconds, or an HTTP-date read by curl_getdate()) must never crash
 * or read past the string, and an accepted value is never more than the
 * one-hour cap. The first 5 bytes choose "now" (any time up
 * to year ~36,000), the rest is the header value.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backoff.h"
#include "transfer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int64_t now = 0;
	uint32_t ms = 0;
	char *value;
	size_t i;

	if (size > 4096)
		return 0;
	for (i = 0; i < 5 && i < size; i++)
		now = now * 256 + data[i];
	data += i, size -= i;
	value = malloc(size + 1); /* exact size: ASan sees any over-read */
	if (!value)
		return 0;
	memcpy(value, data, size);
	value[size] = '\0';
	if (canary__retry_after_parse(value, now, &ms) &&
	    ms > CANARY__RETRY_AFTER_MAX_MS)
		abort();
	free(value);
	return 0;
}
