/*
 * head_check.c - see head_check.h.
 */
#include "http/head_check.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "utf8.h"

typedef struct framing {
	int lengths;            /* Content-Length headers */
	bool lengths_differ;
	const char *length;     /* the first one's value */
	int encodings;          /* Transfer-Encoding headers */
	bool not_chunked;       /* one of them is not exactly "chunked" */
	bool nul;               /* a NUL inside a name or a value */
} framing;

static enum MHD_Result look(void *cls, enum MHD_ValueKind kind,
	const char *key, size_t key_size, const char *value,
	size_t value_size)
{
	framing *f = cls;

	if (strlen(key) != key_size || (value && strlen(value) != value_size))
		f->nul = true;
	if (kind != MHD_HEADER_KIND || !value)
		return MHD_YES;
	if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0) {
		if (f->lengths++ && strcmp(f->length, value) != 0)
			f->lengths_differ = true;
		else if (f->lengths == 1)
			f->length = value;
	} else if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0) {
		f->encodings++;
		if (strcasecmp(value, "chunked") != 0)
			f->not_chunked = true;
	}
	return MHD_YES;
}

/*
 * Header values are C strings in libmicrohttpd 0.9.75: a NUL byte inside
 * one ends it where we can see, and what follows is dropped unseen
 * ("Bearer <token>\0junk" reads as "Bearer <token>"). It parses the head
 * in place, so the head's bytes [method, method + size) hold every name
 * and value; any other byte after the request line must be a separator
 * it blanked (the colon, CR, LF: now NUL) or the blanks around a value. A
 * byte that is none of these was hidden behind a NUL. (Names or values
 * that are not in that block, as a later version might copy them, are
 * not checked here; later versions refuse a NUL themselves.)
 */
typedef struct marks {
	const char *block;
	size_t size;
	unsigned char *seen;
	size_t first;   /* offset of the first header line */
} marks;

static void mark(marks *m, const char *p, size_t n)
{
	if (p < m->block || p >= m->block + m->size ||
	    n > (size_t)(m->block + m->size - p))
		return;
	memset(m->seen + (p - m->block), 1, n);
}

static enum MHD_Result mark_header(void *cls, enum MHD_ValueKind kind,
	const char *key, size_t key_size, const char *value,
	size_t value_size)
{
	marks *m = cls;

	(void)kind;
	if (key >= m->block && key < m->block + m->size &&
	    (size_t)(key - m->block) < m->first)
		m->first = (size_t)(key - m->block);
	mark(m, key, key_size);
	if (value)
		mark(m, value, value_size);
	return MHD_YES;
}

static bool hidden_bytes(struct MHD_Connection *c, const char *method)
{
	const union MHD_ConnectionInfo *info = MHD_get_connection_info(c,
		MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);
	marks m;
	size_t i;
	bool hidden = false;

	if (!info || !method || info->header_size == 0)
		return false;
	m.block = method;
	m.size = info->header_size;
	m.first = m.size;
	m.seen = calloc(1, m.size);
	if (!m.seen)
		return false;
	MHD_get_connection_values_n(c, MHD_HEADER_KIND, mark_header, &m);
	for (i = m.first; i < m.size && !hidden; i++)
		hidden = !m.seen[i] && m.block[i] != '\0' && m.block[i] != ' ' &&
			m.block[i] != '\t';
	free(m.seen);
	return hidden;
}

const char *cs_head_problem(struct MHD_Connection *c, const char *method)
{
	framing f;

	memset(&f, 0, sizeof(f));
	MHD_get_connection_values_n(c, MHD_HEADER_KIND | MHD_GET_ARGUMENT_KIND,
		look, &f);
	if (f.nul || hidden_bytes(c, method))
		return "a NUL byte inside a header or query value";
	if (f.lengths_differ)
		return "ambiguous message framing: Content-Length headers "
			"that differ";
	if (f.encodings && f.lengths)
		return "ambiguous message framing: Content-Length with "
			"Transfer-Encoding";
	if (f.encodings > 1 || f.not_chunked)
		return "unsupported Transfer-Encoding (only chunked is)";
	return NULL;
}

bool cs_head_has_body(struct MHD_Connection *c)
{
	const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
		MHD_HTTP_HEADER_CONTENT_LENGTH);

	if (MHD_lookup_connection_value(c, MHD_HEADER_KIND,
		    MHD_HTTP_HEADER_TRANSFER_ENCODING))
		return true;
	return cl && strspn(cl, "0") != strlen(cl);
}

static int hex(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

bool cs_pct_decode(const char *raw, size_t len, char **out, size_t *out_len)
{
	char *s = malloc(len + 1);
	size_t i, n = 0;

	*out = NULL;
	*out_len = 0;
	if (!s)
		return false;
	for (i = 0; i < len; i++) {
		int hi, lo;

		if (raw[i] != '%') {
			s[n++] = raw[i];
			continue;
		}
		if (i + 2 >= len)
			goto bad;
		hi = hex(raw[i + 1]);
		lo = hex(raw[i + 2]);
		if (hi < 0 || lo < 0)
			goto bad;
		s[n++] = (char)(hi << 4 | lo);
		i += 2;
	}
	s[n] = '\0';
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			goto bad;
	if (!canary__utf8_valid(s, n))
		goto bad;
	*out = s;
	*out_len = n;
	return true;
bad:
	free(s);
	return false;
}
