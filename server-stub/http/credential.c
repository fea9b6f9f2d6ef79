/*
 * credential.c - making and checking named tokens and webhook secrets,
 * with OpenSSL's libcrypto (its random source, SHA-256, HMAC and
 * constant-time comparison).
 */
#include "http/credential.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>

#define ID_BYTES 6      /* 12 hex digits: finds the row, is no secret */
#define SECRET_BYTES 32 /* 256 bits */

static void hex(const unsigned char *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

/* base64url without padding: 32 bytes become 43 characters. */
static void base64url(const unsigned char *in, size_t n, char *out)
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		"abcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t i, o = 0;
	unsigned int acc = 0, bits = 0;

	for (i = 0; i < n; i++) {
		acc = (acc << 8) | in[i];
		bits += 8;
		while (bits >= 6) {
			bits -= 6;
			out[o++] = alphabet[(acc >> bits) & 63];
		}
	}
	if (bits)
		out[o++] = alphabet[(acc << (6 - bits)) & 63];
	out[o] = '\0';
}

static bool sha256(const void *data, size_t len,
	unsigned char md[EVP_MAX_MD_SIZE])
{
	unsigned int n = 0;

	return EVP_Digest(data, len, md, &n, EVP_sha256(), NULL) == 1 &&
	       n == 32;
}

int cs_credential_new(char secret[CS_TOKEN_SECRET_SIZE], cs_token *t)
{
	unsigned char id[ID_BYTES], key[SECRET_BYTES], md[EVP_MAX_MD_SIZE];
	char key64[44];

	if (RAND_bytes(id, sizeof(id)) != 1 ||
	    RAND_bytes(key, sizeof(key)) != 1)
		return CANARY_ESTORAGE;
	hex(id, sizeof(id), t->id);
	base64url(key, sizeof(key), key64);
	OPENSSL_cleanse(key, sizeof(key));
	snprintf(secret, CS_TOKEN_SECRET_SIZE, CS_TOKEN_PREFIX "%.12s_%.43s", t->id,
		key64);
	OPENSSL_cleanse(key64, sizeof(key64));
	if (!sha256(secret, strlen(secret), md))
		return CANARY_ESTORAGE;
	hex(md, 32, t->hash);
	return CANARY_OK;
}

bool cs_credential_id(const char *token, size_t len,
	char id[CS_TOKEN_ID_MAX + 1])
{
	size_t p = sizeof(CS_TOKEN_PREFIX) - 1;

	if (len < p + 2 * ID_BYTES + 2 ||
	    memcmp(token, CS_TOKEN_PREFIX, p) != 0 ||
	    token[p + 2 * ID_BYTES] != '_' ||
	    strspn(token + p, "0123456789abcdef") < 2 * ID_BYTES)
		return false;
	memcpy(id, token + p, 2 * ID_BYTES);
	id[2 * ID_BYTES] = '\0';
	return true;
}

bool cs_credential_matches(const char *token, size_t len, const char *hash)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	char got[65];

	if (strlen(hash) != 64 || !sha256(token, len, md))
		return false;
	hex(md, 32, got);
	return CRYPTO_memcmp(got, hash, 64) == 0;
}

int cs_credential_webhook_secret(char out[CS_WEBHOOK_SECRET_SIZE])
{
	unsigned char key[SECRET_BYTES];
	char key64[44];

	if (RAND_bytes(key, sizeof(key)) != 1)
		return CANARY_ESTORAGE;
	base64url(key, sizeof(key), key64);
	OPENSSL_cleanse(key, sizeof(key));
	snprintf(out, CS_WEBHOOK_SECRET_SIZE, "whsec_%.43s", key64);
	OPENSSL_cleanse(key64, sizeof(key64));
	return CANARY_OK;
}

int cs_hmac_sha256_hex(const char *key, const void *msg, size_t len,
	char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (!HMAC(EVP_sha256(), key, (int)strlen(key), msg, len, md, &n) ||
	    n != 32)
		return CANARY_ENOMEM;
	hex(md, 32, out);
	return CANARY_OK;
}
