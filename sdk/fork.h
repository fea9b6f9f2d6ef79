/*
 * fork.h - the process-wide registry of clients for fork().
 *
 * pthread_atfork() handlers cannot be unregistered, so they are installed
 * once and walk this registry: before fork() every registered entry's
 * `prepare` takes its client's locks (so the child never inherits a config
 * half-published or a lock held by a thread that does not exist there),
 * and after fork() `release` gives them back, in the parent and in the
 * child. What the child then does is canary_client_postfork()'s.
 */
#ifndef CANARY_SDK_FORK_H
#define CANARY_SDK_FORK_H

typedef struct canary__fork_entry {
	void (*prepare)(void *ctx);  /* take the locks */
	void (*release)(void *ctx);  /* give them back (both processes) */
	void *ctx;
	struct canary__fork_entry *next;
} canary__fork_entry;

/* `e` (prepare, release, ctx set) stays registered until unregistered. */
void canary__fork_register(canary__fork_entry *e);
/* Accepts an entry that is not registered. */
void canary__fork_unregister(canary__fork_entry *e);

#endif
