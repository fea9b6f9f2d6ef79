/*
 * store_sqlite_backend.c - the SQLite backend's table: which function of
 * store_sqlite*.c implements each member of storage_backend.h.
 */
#include "store/store_sqlite.h"

/* A file path: SQLite takes whatever no other backend claimed. */
static bool accepts(const char *location)
{
	(void)location;
	return true;
}

const cs_store_backend cs_store_sqlite = {
	.name = "sqlite",
	.accepts = accepts,
	.open = cs_sqlite_open,
	.close = cs_sqlite_close,
	.schema_version = cs_sqlite_schema_version,
	.config = cs_sqlite_config,
	.flag_get = cs_sqlite_flag_get,
	.flag_put = cs_sqlite_flag_put,
	.flag_modify = cs_sqlite_flag_modify,
	.flag_delete = cs_sqlite_flag_delete,
	.ingest = cs_sqlite_ingest,
	.stats = cs_sqlite_stats,
	.series = cs_sqlite_series,
	.totals = cs_sqlite_totals,
	.rollout_write = cs_sqlite_rollout_write,
	.rollout_get = cs_sqlite_rollout_get,
	.rollouts_each = cs_sqlite_rollouts_each,
	.prune = cs_sqlite_prune,
};
