/*
 * credential.h - named API tokens and webhook secrets: making them from
 * the system's random source, what is stored of a token (its public id
 * and a SHA-256 of it, never the token), checking a presented token in
 * constant time, and the HMAC-SHA256 that signs a webhook's payload.
 *
 * A named token is "cnry_" + 12 hex digits (its id: what finds it in the
 * store) + "_" + 43 characters of base64url (256 random bits). The
 * server keeps only the id and the hash: a stolen database yields no
 * token, and a token is shown once, when it is made.
 */
#ifndef CS_CREDENTIAL_H
#define CS_CREDENTIAL_H

#include <stdbool.h>
#include <stddef.h>

#include "store/storage.h"

#define CS_TOKEN_PREFIX "cnry_"
/* A whole token and its NUL. */
#define CS_TOKEN_SECRET_SIZE 64
/* "whsec_" + 43 characters of base64url, and the NUL. */
#define CS_WEBHOOK_SECRET_SIZE 52

/* A new token: the token itself into `secret` (show it once, then forget
 * it), its id and hash into t->id and t->hash. CANARY_OK, or
 * CANARY_ESTORAGE when the random source fails. */
int cs_credential_new(char secret[CS_TOKEN_SECRET_SIZE], cs_token *t);

/* The id of a presented token shaped like a named token, or false. */
bool cs_credential_id(const char *token, size_t len,
	char id[CS_TOKEN_ID_MAX + 1]);

/* Does the presented token hash to `hash` (hex, as stored)? Constant
 * time in the token's contents. */
bool cs_credential_matches(const char *token, size_t len, const char *hash);

/* A new webhook secret (the HMAC key), to show once. */
int cs_credential_webhook_secret(char out[CS_WEBHOOK_SECRET_SIZE]);

/* HMAC-SHA256 of `msg` with `key`, as 64 lowercase hex digits. */
int cs_hmac_sha256_hex(const char *key, const void *msg, size_t len,
	char out[65]);

#endif
