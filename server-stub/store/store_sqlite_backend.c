/*
 * store_sqlite_backend.c - the SQLite backend's table: which function of
 * store_sqlite*.c implements each member of storage_backend.h.
 */
#include "store/store_sqlite.h"

#include <string.h>

/* A file path: anything that is not a URL of another backend's. */
static bool accepts(const char *location)
{
	return strstr(location, "://") == NULL;
}

/* One server per database file: nobody else changes the config. */
static int watch(struct cs_store_impl *s, void (*fn)(uint64_t, void *),
	void *ctx)
{
	(void)s;
	(void)fn;
	(void)ctx;
	return CANARY_OK;
}

/* One server per database file: the lease is always its own. */
static int lease(struct cs_store_impl *s, cs_lease *l)
{
	(void)s;
	l->token = 1;
	return CANARY_OK;
}

const cs_store_backend cs_store_sqlite = {
	.name = "sqlite",
	.accepts = accepts,
	.open = cs_sqlite_open,
	.close = cs_sqlite_close,
	.schema_version = cs_sqlite_schema_version,
	.config = cs_sqlite_config,
	.version_floor = cs_sqlite_version_floor,
	.flag_get = cs_sqlite_flag_get,
	.flag_put = cs_sqlite_flag_put,
	.flag_modify = cs_sqlite_flag_modify,
	.flag_delete = cs_sqlite_flag_delete,
	.segment_get = cs_sqlite_segment_get,
	.segment_list = cs_sqlite_segment_list,
	.segment_put = cs_sqlite_segment_put,
	.segment_delete = cs_sqlite_segment_delete,
	.ingest = cs_sqlite_ingest,
	.stats = cs_sqlite_stats,
	.series = cs_sqlite_series,
	.totals = cs_sqlite_totals,
	.contributions = cs_sqlite_contributions,
	.latency_seen = cs_sqlite_latency_seen,
	.metric_sums = cs_sqlite_metric_sums,
	.rollout_write = cs_sqlite_rollout_write,
	.rollout_get = cs_sqlite_rollout_get,
	.rollouts_each = cs_sqlite_rollouts_each,
	.audit_note = cs_sqlite_audit_note,
	.audit_list = cs_sqlite_audit_list,
	.token_add = cs_sqlite_token_add,
	.token_find = cs_sqlite_token_find,
	.token_list = cs_sqlite_token_list,
	.token_revoke = cs_sqlite_token_revoke,
	.webhook_add = cs_sqlite_webhook_add,
	.webhook_delete = cs_sqlite_webhook_delete,
	.webhook_list = cs_sqlite_webhook_list,
	.deliveries_due = cs_sqlite_deliveries_due,
	.delivery_attempt = cs_sqlite_delivery_attempt,
	.delivery_list = cs_sqlite_delivery_list,
	.prune = cs_sqlite_prune,
	.health = cs_sqlite_health,
	.watch = watch,
	.lease = lease,
	.dump = cs_sqlite_dump,
	.load = cs_sqlite_load,
};
