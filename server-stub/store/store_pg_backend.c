/*
 * store_pg_backend.c - the PostgreSQL backend's table: which function of
 * store_pg*.c implements each member of storage_backend.h.
 */
#include "store/store_pg.h"

#include <string.h>

/* libpq's URL forms. */
static bool accepts(const char *location)
{
	return strncmp(location, "postgresql://", 13) == 0 ||
		strncmp(location, "postgres://", 11) == 0;
}

const cs_store_backend cs_store_pg = {
	.name = "postgresql",
	.accepts = accepts,
	.open = cs_pg_open,
	.close = cs_pg_close,
	.schema_version = cs_pg_schema_version,
	.config = cs_pg_config,
	.version_floor = cs_pg_version_floor,
	.flag_get = cs_pg_flag_get,
	.flag_put = cs_pg_flag_put,
	.flag_modify = cs_pg_flag_modify,
	.flag_delete = cs_pg_flag_delete,
	.segment_get = cs_pg_segment_get,
	.segment_list = cs_pg_segment_list,
	.segment_put = cs_pg_segment_put,
	.segment_delete = cs_pg_segment_delete,
	.ingest = cs_pg_ingest,
	.stats = cs_pg_stats,
	.series = cs_pg_series,
	.totals = cs_pg_totals,
	.contributions = cs_pg_contributions,
	.latency_seen = cs_pg_latency_seen,
	.metric_sums = cs_pg_metric_sums,
	.rollout_write = cs_pg_rollout_write,
	.rollout_get = cs_pg_rollout_get,
	.rollouts_each = cs_pg_rollouts_each,
	.audit_note = cs_pg_audit_note,
	.audit_list = cs_pg_audit_list,
	.token_add = cs_pg_token_add,
	.token_find = cs_pg_token_find,
	.token_list = cs_pg_token_list,
	.token_revoke = cs_pg_token_revoke,
	.webhook_add = cs_pg_webhook_add,
	.webhook_delete = cs_pg_webhook_delete,
	.webhook_list = cs_pg_webhook_list,
	.deliveries_due = cs_pg_deliveries_due,
	.delivery_attempt = cs_pg_delivery_attempt,
	.delivery_list = cs_pg_delivery_list,
	.prune = cs_pg_prune,
	.health = cs_pg_health,
	.watch = cs_pg_watch_start,
	.lease = cs_pg_lease,
	.dump = cs_pg_dump,
	.load = cs_pg_load,
};
