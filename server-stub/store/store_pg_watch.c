/*
 * store_pg_watch.c - other servers' config changes, and whether the
 * database can be reached.
 *
 * A thread keeps one connection of its own LISTENing on CS_PG_CHANNEL,
 * where every config change announces its version at commit (NOTIFY is
 * transactional: a rolled-back change says nothing). On a notification it
 * hands the version to the front end, which publishes the new config if
 * it is newer than what it has. Notifications are not stored: one sent
 * while this connection was down is lost. So after every (re)connection,
 * and every second without news, the thread reads the version itself; a
 * missed notification costs at most a second, never a stale server. The
 * same read is the health check: /healthz reports the database down from
 * the first failed read until a read succeeds again.
 */
#include "store/store_pg.h"

#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "logline.h"

#define CHECK_EVERY_MS 1000
#define RECONNECT_MS 250

struct cs_pg_watch {
	struct cs_store_impl *s;
	pthread_t thread;
	int wake[2];                /* a byte on wake[1] stops the thread */
	void (*fn)(uint64_t version, void *ctx);
	void *ctx;
	PGconn *db;
};

/* Read the version on the watch connection; false if it failed. */
static bool read_version(struct cs_pg_watch *w, uint64_t *version)
{
	PGresult *r = PQexecPrepared(w->db, "watch_version", 0, NULL, NULL,
		NULL, 0);
	bool ok = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;

	if (ok)
		*version = strtoull(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	return ok;
}

static bool listen_on(struct cs_pg_watch *w)
{
	PGresult *r = PQexec(w->db, "LISTEN " CS_PG_CHANNEL);
	bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;

	PQclear(r);
	if (!ok)
		return false;
	r = PQprepare(w->db, "watch_version", cs_pg_sql(P_VERSION_GET), 0,
		NULL);
	ok = PQresultStatus(r) == PGRES_COMMAND_OK;
	PQclear(r);
	return ok;
}

static bool connect_watch(struct cs_pg_watch *w)
{
	PQfinish(w->db);
	w->db = cs_pg_connect(w->s->location);
	if (w->db && PQstatus(w->db) == CONNECTION_OK && listen_on(w))
		return true;
	PQfinish(w->db);
	w->db = NULL;
	return false;
}

/* Check the version and hand it over; false when the database is gone. */
static bool check(struct cs_pg_watch *w)
{
	uint64_t v = 0;
	bool ok = read_version(w, &v);

	cs_pg_note_reachable(w->s, ok);
	if (ok)
		w->fn(v, w->ctx);
	return ok;
}

/* Wait up to `ms` for the connection or the stop byte; true to stop. */
static bool wait_for(struct cs_pg_watch *w, int ms, bool *readable)
{
	struct pollfd p[2] = { { w->wake[0], POLLIN, 0 },
		{ w->db ? PQsocket(w->db) : -1, POLLIN, 0 } };

	*readable = false;
	if (poll(p, w->db ? 2 : 1, ms) < 0)
		return false;
	if (p[0].revents)
		return true;
	*readable = w->db && p[1].revents;
	return false;
}

/* The notifications that arrived: the highest version announced. */
static bool drain(struct cs_pg_watch *w, uint64_t *version)
{
	PGnotify *n;
	bool any = false;

	*version = 0;
	if (!PQconsumeInput(w->db))
		return false;
	while ((n = PQnotifies(w->db)) != NULL) {
		uint64_t v = strtoull(n->extra, NULL, 10);

		if (v > *version)
			*version = v;
		any = true;
		PQfreemem(n);
	}
	return any;
}

static void *run(void *arg)
{
	struct cs_pg_watch *w = arg;
	bool readable, connected = false;
	uint64_t v;

	for (;;) {
		if (!connected) {
			connected = connect_watch(w) && check(w);
			if (!connected) {
				cs_pg_note_reachable(w->s, false);
				if (wait_for(w, RECONNECT_MS, &readable))
					break;
				continue;
			}
		}
		if (wait_for(w, CHECK_EVERY_MS, &readable))
			break;
		if (!readable)
			connected = check(w);
		else if (drain(w, &v))
			w->fn(v, w->ctx);
		else if (PQstatus(w->db) != CONNECTION_OK)
			connected = false;
	}
	PQfinish(w->db);
	w->db = NULL;
	return NULL;
}

int cs_pg_watch_start(struct cs_store_impl *s,
	void (*fn)(uint64_t version, void *ctx), void *ctx)
{
	struct cs_pg_watch *w;

	if (s->watch)
		return CANARY_OK;
	w = calloc(1, sizeof(*w));
	if (!w)
		return CANARY_ENOMEM;
	w->s = s;
	w->fn = fn;
	w->ctx = ctx;
	if (pipe(w->wake) != 0) {
		free(w);
		return CANARY_ESTORAGE;
	}
	fcntl(w->wake[0], F_SETFD, FD_CLOEXEC);
	fcntl(w->wake[1], F_SETFD, FD_CLOEXEC);
	if (pthread_create(&w->thread, NULL, run, w) != 0) {
		close(w->wake[0]);
		close(w->wake[1]);
		free(w);
		return CANARY_ENOMEM;
	}
	s->watch = w;
	return CANARY_OK;
}

void cs_pg_watch_stop(struct cs_store_impl *s)
{
	struct cs_pg_watch *w = s->watch;
	char byte = 1;

	if (!w)
		return;
	if (write(w->wake[1], &byte, 1) != 1)
		cs_log(CS_LOG_ERROR, NULL, "postgresql: cannot stop the watch "
			"thread");
	pthread_join(w->thread, NULL);
	close(w->wake[0]);
	close(w->wake[1]);
	free(w);
	s->watch = NULL;
}

cs_health cs_pg_health(struct cs_store_impl *s, char *why, size_t whylen)
{
	cs_health h = CS_HEALTH_OK;

	if (atomic_load(&s->down)) {
		snprintf(why, whylen, "database unavailable");
		return CS_HEALTH_FAILING;
	}
	pthread_mutex_lock(&s->lock);
	if (s->write_error[0]) {
		snprintf(why, whylen, "%s", s->write_error);
		h = CS_HEALTH_FAILING;
	}
	pthread_mutex_unlock(&s->lock);
	return h == CS_HEALTH_OK ? cs_unreadable_health(&s->unreadable, why,
		whylen) : h;
}
