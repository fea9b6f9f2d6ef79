/*
 * migrate.h - canary-server migrate: copy a whole store into an empty one
 * (SQLite to PostgreSQL, or back, or between two databases of one kind).
 */
#ifndef CS_MIGRATE_H
#define CS_MIGRATE_H

/* `canary-server migrate --from LOC --to LOC [--skip-versions N]`, argv[0]
 * being "migrate". Returns the exit status: 0 copied, 1 failed, 2 usage. */
int cs_migrate_main(int argc, char **argv);

#endif
