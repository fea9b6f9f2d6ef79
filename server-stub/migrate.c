/*
 * migrate.c - canary-server migrate: open both stores (each migrated to
 * this server's schema), copy everything from one snapshot of the source
 * into the empty destination in one transaction (cs_store_copy), and say
 * what was copied. Locations are printed without their passwords.
 */
#include "migrate.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/storage.h"

typedef struct migrate_args {
	const char *from, *to;
	uint64_t skip;
} migrate_args;

static int usage(void)
{
	fputs("usage: canary-server migrate --from FILE|URL --to FILE|URL "
		"[--skip-versions N]\n"
		"  copies every flag, rollout, decision, event window, total, "
		"batch id,\n"
		"  token, audit record, webhook and delivery into an empty "
		"database;\n"
		"  stop the servers of the source first\n", stderr);
	return 2;
}

static int parse(migrate_args *a, int argc, char **argv)
{
	int i;

	memset(a, 0, sizeof(*a));
	for (i = 1; i + 1 < argc; i += 2) {
		char *end;

		if (strcmp(argv[i], "--from") == 0) {
			a->from = argv[i + 1];
		} else if (strcmp(argv[i], "--to") == 0) {
			a->to = argv[i + 1];
		} else if (strcmp(argv[i], "--skip-versions") == 0) {
			errno = 0;
			a->skip = strtoull(argv[i + 1], &end, 10);
			if (errno || *end || argv[i + 1][0] == '-' ||
			    a->skip > UINT32_MAX)
				return -1;
		} else {
			return -1;
		}
	}
	return i == argc && a->from && a->to ? 0 : -1;
}

static cs_store *open_store(const char *location, bool must_exist)
{
	cs_store_options o;
	cs_store *s = NULL;
	char err[512] = "", where[256];

	memset(&o, 0, sizeof(o));
	o.location = location;
	o.readers = 1;
	o.must_exist = must_exist;
	if (cs_store_open(&s, &o, err, sizeof(err)) != CANARY_OK) {
		cs_store_describe(location, where, sizeof(where));
		fprintf(stderr, "canary-server: migrate: %s: %s\n", where, err);
		return NULL;
	}
	return s;
}

static void report(const migrate_args *a, const cs_copy_counts *n)
{
	char from[256], to[256];

	cs_store_describe(a->from, from, sizeof(from));
	cs_store_describe(a->to, to, sizeof(to));
	printf("copied %s to %s: %llu flags, %llu rollouts, %llu decisions, "
		"%llu windows, %llu totals, %llu batch ids, %llu tokens, "
		"%llu segments, %llu audit records, %llu webhooks, "
		"%llu deliveries\n", from, to,
		(unsigned long long)n->flags, (unsigned long long)n->rollouts,
		(unsigned long long)n->decisions, (unsigned long long)n->windows,
		(unsigned long long)n->totals, (unsigned long long)n->batches,
		(unsigned long long)n->tokens, (unsigned long long)n->segments,
		(unsigned long long)n->audit,
		(unsigned long long)n->webhooks,
		(unsigned long long)n->deliveries);
}

int cs_migrate_main(int argc, char **argv)
{
	migrate_args a;
	cs_copy_counts n;
	cs_store *from = NULL, *to = NULL;
	int rc, status = 1;

	if (parse(&a, argc, argv) != 0)
		return usage();
	if (strcmp(a.from, a.to) == 0) {
		fprintf(stderr, "canary-server: migrate: --from and --to are "
			"the same database\n");
		return 2;
	}
	/* The source is read, never made: a missing file is a mistake. */
	from = open_store(a.from, true);
	to = from ? open_store(a.to, false) : NULL;
	if (!to)
		goto done;
	rc = cs_store_copy(from, to, a.skip, &n);
	if (rc == CS_ECONFLICT)
		fprintf(stderr, "canary-server: migrate: the destination is not "
			"empty (it has flags, rollouts, events or a config "
			"version above 1); nothing was copied\n");
	else if (rc != CANARY_OK)
		fprintf(stderr, "canary-server: migrate: copy failed (%d); "
			"nothing was copied\n", rc);
	if (rc == CANARY_OK) {
		report(&a, &n);
		status = 0;
	}
done:
	cs_store_close(to);
	cs_store_close(from);
	return status;
}
