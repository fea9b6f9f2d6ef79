/*
 * sse.c - incremental Server-Sent Events parser (see sse.h).
 */
#include "sse.h"

#include <string.h>

#include "canary/canary.h"

static const unsigned char bom[3] = { 0xEF, 0xBB, 0xBF };

void canary__sse_init(canary__sse *p, const canary__alloc *a,
	size_t max_event)
{
	memset(p, 0, sizeof(*p));
	p->alloc = a;
	p->max_event = max_event ? max_event : 1;
}

void canary__sse_free(canary__sse *p)
{
	if (!p)
		return;
	canary__free(p->alloc, p->line);
	canary__free(p->alloc, p->data);
	p->line = p->data = NULL;
	p->line_cap = p->data_cap = 0;
	p->line_len = p->data_len = 0;
}

static void clear_event(canary__sse *p)
{
	p->data_len = 0;
	p->type[0] = '\0';
	p->event_too_big = false;
}

void canary__sse_reset(canary__sse *p)
{
	clear_event(p);
	p->line_len = 0;
	p->line_too_long = false;
	p->after_cr = false;
	p->started = false;
	p->bom_pos = 0;
}

/* Grow `*buf` to hold `need` bytes, doubling; never beyond `limit`. */
static int reserve(const canary__alloc *a, char **buf, size_t *cap,
	size_t need, size_t limit)
{
	size_t n = *cap ? *cap : 256;
	char *grown;

	if (need <= *cap)
		return 0;
	while (n < need)
		n *= 2;
	if (n > limit)
		n = limit;
	grown = canary__realloc(a, *buf, n);
	if (!grown)
		return CANARY_ENOMEM;
	*buf = grown;
	*cap = n;
	return 0;
}

static int line_putc(canary__sse *p, char ch)
{
	int rc;

	if (p->line_too_long)
		return 0;
	/* A field name and ": " come on top of the data itself. */
	if (p->line_len >= p->max_event + 16) {
		p->line_too_long = true;
		return 0;
	}
	rc = reserve(p->alloc, &p->line, &p->line_cap, p->line_len + 1,
		p->max_event + 16);
	if (rc)
		return rc;
	p->line[p->line_len++] = ch;
	return 0;
}

static int append_data(canary__sse *p, const char *v, size_t n)
{
	int rc;

	if (p->event_too_big)
		return 0;
	/* value + '\n' must fit, plus the NUL written at dispatch. */
	if (p->data_len + n + 1 > p->max_event + 1) {
		p->event_too_big = true;
		return 0;
	}
	rc = reserve(p->alloc, &p->data, &p->data_cap, p->data_len + n + 2,
		p->max_event + 2);
	if (rc)
		return rc;
	memcpy(p->data + p->data_len, v, n);
	p->data_len += n;
	p->data[p->data_len++] = '\n';
	return 0;
}

static void set_retry(canary__sse *p, const char *v, size_t n)
{
	uint64_t ms = 0;
	size_t i;

	if (!n)
		return;
	for (i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return;
		if (ms < 0xFFFFFFFFull)
			ms = ms * 10 + (uint64_t)(v[i] - '0');
	}
	p->retry_ms = ms > 0xFFFFFFFFull ? 0xFFFFFFFFu : (uint32_t)ms;
}

static void copy_field(char *dst, size_t max, const char *v, size_t n)
{
	if (n > max || memchr(v, '\0', n))
		return; /* ignored, as the spec does for an id with NUL */
	memcpy(dst, v, n);
	dst[n] = '\0';
}

static int dispatch(canary__sse *p, canary__sse_fn fn, void *ctx)
{
	canary__sse_event ev;
	int rc;

	if (p->event_too_big) {
		p->dropped++;
		clear_event(p);
		return 0;
	}
	if (p->data_len == 0) {
		clear_event(p);
		return 0;
	}
	p->data[--p->data_len] = '\0'; /* the last '\n' goes */
	ev.type = p->type[0] ? p->type : "message";
	ev.id = p->id;
	ev.data = p->data;
	ev.data_len = p->data_len;
	rc = fn ? fn(&ev, ctx) : 0;
	clear_event(p);
	return rc;
}

static int process_line(canary__sse *p, canary__sse_fn fn, void *ctx)
{
	const char *line = p->line, *colon, *v;
	size_t len = p->line_len, name_len, n;

	if (p->line_too_long) {
		p->event_too_big = true;
		return 0;
	}
	if (len == 0)
		return dispatch(p, fn, ctx);
	if (line[0] == ':') {
		p->comments++;
		return 0;
	}
	colon = memchr(line, ':', len);
	name_len = colon ? (size_t)(colon - line) : len;
	v = colon ? colon + 1 : line + len;
	n = (size_t)(line + len - v);
	if (n && *v == ' ') {
		v++;
		n--;
	}
	if (name_len == 4 && memcmp(line, "data", 4) == 0)
		return append_data(p, v, n);
	if (name_len == 2 && memcmp(line, "id", 2) == 0)
		copy_field(p->id, CANARY__SSE_MAX_ID, v, n);
	else if (name_len == 5 && memcmp(line, "event", 5) == 0)
		copy_field(p->type, CANARY__SSE_MAX_TYPE, v, n);
	else if (name_len == 5 && memcmp(line, "retry", 5) == 0)
		set_retry(p, v, n);
	return 0; /* unknown fields are ignored */
}

static int end_line(canary__sse *p, canary__sse_fn fn, void *ctx)
{
	int rc = process_line(p, fn, ctx);

	p->line_len = 0;
	p->line_too_long = false;
	return rc;
}

/* The stream may start with one UTF-8 BOM, possibly split across feeds.
 * Returns how many bytes of `buf` it consumed. */
static size_t skip_bom(canary__sse *p, const char *buf, size_t len, int *rc)
{
	size_t i = 0;
	unsigned k;

	*rc = 0;
	while (!p->started && i < len) {
		if ((unsigned char)buf[i] == bom[p->bom_pos]) {
			i++;
			if (++p->bom_pos == sizeof(bom))
				p->started = true;
			continue;
		}
		/* Not a BOM after all: the bytes matched so far are text. */
		for (k = 0; k < p->bom_pos && !*rc; k++)
			*rc = line_putc(p, (char)bom[k]);
		p->started = true;
	}
	return i;
}

int canary__sse_feed(canary__sse *p, const char *buf, size_t len,
	canary__sse_fn fn, void *ctx)
{
	size_t i;
	int rc;

	i = skip_bom(p, buf, len, &rc);
	for (; i < len && !rc; i++) {
		char ch = buf[i];

		if (ch == '\n' && p->after_cr) {
			p->after_cr = false;
			continue;
		}
		p->after_cr = (ch == '\r');
		if (ch == '\r' || ch == '\n')
			rc = end_line(p, fn, ctx);
		else
			rc = line_putc(p, ch);
	}
	if (rc == CANARY_ENOMEM)
		canary__sse_reset(p);
	return rc;
}
