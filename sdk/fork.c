/*
 * fork.c - the process-wide registry of clients for fork() (see fork.h).
 */
#include "fork.h"

#include <pthread.h>
#include <stddef.h>

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static canary__fork_entry *registry;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

/* The registry lock is held from prefork() to the release, so no client
 * comes or goes while its locks are held. */
static void prefork(void)
{
	canary__fork_entry *e;

	pthread_mutex_lock(&registry_lock);
	for (e = registry; e; e = e->next)
		e->prepare(e->ctx);
}

static void postfork(void)
{
	canary__fork_entry *e;

	for (e = registry; e; e = e->next)
		e->release(e->ctx);
	pthread_mutex_unlock(&registry_lock);
}

static void atfork_setup(void)
{
	pthread_atfork(prefork, postfork, postfork);
}

void canary__fork_register(canary__fork_entry *e)
{
	pthread_once(&atfork_once, atfork_setup);
	pthread_mutex_lock(&registry_lock);
	e->next = registry;
	registry = e;
	pthread_mutex_unlock(&registry_lock);
}

void canary__fork_unregister(canary__fork_entry *e)
{
	canary__fork_entry **p;

	pthread_mutex_lock(&registry_lock);
	for (p = &registry; *p; p = &(*p)->next) {
		if (*p == e) {
			*p = e->next;
			break;
		}
	}
	pthread_mutex_unlock(&registry_lock);
}
