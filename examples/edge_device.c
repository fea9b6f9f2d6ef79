/*
 * edge_device.c - libcanary on a small device: no background thread (the
 * device's own main loop calls canary_client_tick()), an offline start
 * from the SQLite cache of the last good config, a config file delivered
 * out of band (USB stick, MQTT, a provisioning tool) applied with
 * canary_client_set_config_json() whenever it changes, and memory bounded
 * by an allocator hook with a hard budget.
 *
 *   edge_device CACHE.db [--config FILE] [--server URL] [--loops N]
 *
 * $CANARY_SDK_KEY is the key when --server is given. Each loop ticks the
 * client, re-reads FILE if it changed (mtime, inode or size), and routes
 * this device's sensor reading through the canary build or the stable one.
 *
 * The cache holds what the service sent (a device that was online once
 * starts with it offline); a file applied out of band is not cached, so
 * the device applies it again at each start, as this loop does.
 *
 * The budget covers libcanary's own memory only: cJSON (while a config
 * is parsed), SQLite and libcurl allocate with their own allocators, so a
 * device budgets for them separately.
 */
#define _POSIX_C_SOURCE 200809L
#include <canary/canary.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define MEMORY_BUDGET (4u * 1024 * 1024)  /* bytes libcanary itself may hold */
#define CONFIG_FILE_MAX (256u * 1024)

/* A size header before each block lets free() and realloc() account. */
typedef struct budget {
	size_t used, peak, refused;
} budget;

typedef union block_head {
	size_t size;
	max_align_t align;
} block_head;

static void *budget_realloc(void *ptr, size_t size, void *ctx)
{
	budget *b = ctx;
	block_head *h = ptr ? (block_head *)ptr - 1 : NULL;
	size_t old = h ? h->size : 0;

	if (size > MEMORY_BUDGET || b->used - old + size > MEMORY_BUDGET) {
		b->refused++;
		return NULL;  /* libcanary handles ENOMEM: answers stay stable */
	}
	h = realloc(h, sizeof(*h) + size);
	if (!h)
		return NULL;
	b->used = b->used - old + size;
	if (b->used > b->peak)
		b->peak = b->used;
	h->size = size;
	return h + 1;
}

static void *budget_malloc(size_t size, void *ctx)
{
	return budget_realloc(NULL, size, ctx);
}

static void budget_free(void *ptr, void *ctx)
{
	budget *b = ctx;
	block_head *h;

	if (!ptr)
		return;
	h = (block_head *)ptr - 1;
	b->used -= h->size;
	free(h);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* What tells one version of the config file from the next: its mtime to
 * the nanosecond, and its inode and size, since a file replaced twice in
 * the same second, or renamed into place with its mtime kept (rsync -t,
 * cp -p, tar), has the same st_mtime in seconds. */
typedef struct file_seen {
	struct timespec mtime;
	ino_t ino;
	off_t size;
} file_seen;

static bool file_changed(const struct stat *st, file_seen *seen)
{
	file_seen now = { st->st_mtim, st->st_ino, st->st_size };

	if (now.mtime.tv_sec == seen->mtime.tv_sec &&
	    now.mtime.tv_nsec == seen->mtime.tv_nsec &&
	    now.ino == seen->ino && now.size == seen->size)
		return false;
	*seen = now;
	return true;
}

/* Apply FILE when it changed since last time; a bad file is refused
 * whole and the config in force stays. */
static void apply_config_file(canary_client *client, const char *path,
	file_seen *seen)
{
	struct stat st;
	char *json = NULL;
	FILE *f = NULL;
	size_t len;
	int rc;

	if (!path || stat(path, &st) != 0 || !file_changed(&st, seen))
		return;
	if (st.st_size <= 0 || (size_t)st.st_size > CONFIG_FILE_MAX) {
		fprintf(stderr, "edge: %s: empty or larger than %u bytes\n", path,
			CONFIG_FILE_MAX);
		return;
	}
	json = malloc((size_t)st.st_size);
	f = fopen(path, "rb");
	if (!json || !f)
		goto done;
	len = fread(json, 1, (size_t)st.st_size, f);
	rc = canary_client_set_config_json(client, json, len);
	if (rc == CANARY_OK)
		printf("edge: applied %s, config version %llu\n", path,
			(unsigned long long)canary_client_config_version(client));
	else
		printf("edge: refused %s: %s; keeping version %llu\n", path,
			canary_error_last(),
			(unsigned long long)canary_client_config_version(client));
done:
	if (f)
		fclose(f);
	free(json);
}

int main(int argc, char **argv)
{
	budget mem = { 0, 0, 0 };
	canary_options opts;
	canary_client *client = NULL;
	const char *config_file = NULL, *device = "device-0042";
	file_seen seen = { { 0, 0 }, 0, 0 };
	long loops = 20, i;
	int rc, a;

	if (argc < 2) {
		fprintf(stderr, "usage: %s CACHE.db [--config FILE] [--server URL] "
			"[--loops N]\n", argv[0]);
		return 2;
	}
	canary_options_init(&opts, CANARY_OPTIONS_VERSION);
	opts.cache_path = argv[1];
	for (a = 2; a + 1 < argc; a += 2) {
		if (strcmp(argv[a], "--config") == 0)
			config_file = argv[a + 1];
		else if (strcmp(argv[a], "--server") == 0)
			opts.server_url = argv[a + 1];
		else if (strcmp(argv[a], "--loops") == 0)
			loops = atol(argv[a + 1]);
	}
	opts.sdk_key = getenv("CANARY_SDK_KEY");
	opts.no_thread = true;
	opts.poll_interval_ms = 5000;
	/* A device offline for a day serves stable rather than a stale split. */
	opts.max_config_age_ms = 24u * 3600u * 1000u;
	opts.stale_policy = CANARY_STALE_STABLE;
	opts.allocator.malloc_fn = budget_malloc;
	opts.allocator.realloc_fn = budget_realloc;
	opts.allocator.free_fn = budget_free;
	opts.allocator.ctx = &mem;

	rc = canary_client_new(&client, &opts);
	if (rc != CANARY_OK) {
		fprintf(stderr, "edge: %s: %s\n", canary_strerror(rc), canary_error_last());
		return 1;
	}
	printf("edge: started, config version %llu from the cache\n",
		(unsigned long long)canary_client_config_version(client));

	for (i = 0; i < loops; i++) {
		canary_client_tick(client, now_ms());
		apply_config_file(client, config_file, &seen);
		/* The device's real work: one reading through the chosen build. */
		if (i == 0 || i == loops - 1) {
			canary_details d = CANARY_DETAILS_INIT;
			bool on = canary_evaluate(client, "checkout-v2", device, &d);
			printf("edge: loop %ld status %s: %s uses the %s build (%s)\n", i,
				canary_status_name(canary_client_status(client)), device,
				on ? "canary" : "stable", canary_reason_name(d.reason));
		}
		sleep_ms(50);
	}

	canary_client_free(client);
	printf("edge: memory peak %zu bytes (budget %u), %zu allocations refused, "
		"%zu bytes leaked\n", mem.peak, MEMORY_BUDGET, mem.refused, mem.used);
	return mem.used == 0 ? 0 : 1;
}
