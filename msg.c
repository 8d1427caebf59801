/*
 * msg.c: one message of the selected mailbox as FETCH and SEARCH read
 * it: its bytes read and parsed only as far as an item needs, and its
 * structure blob, cached by the store.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "imapd.h"
#include "mime.h"
#include "log.h"
#include "msg.h"
#include "session.h"

/* Where the header ends: after the first empty line, or the whole text. */
size_t
msg_header_len(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (p[i] != '\n')
			continue;
		if (i + 1 < n && p[i + 1] == '\n')
			return i + 2;
		if (i + 2 < n && p[i + 1] == '\r' && p[i + 2] == '\n')
			return i + 3;
	}
	return n;
}

/* The bytes are read only when an item needs them (store_data copies). */
void
msg_init(struct msgctx *m, uint32_t seq)
{
	memset(m, 0, sizeof *m);
	m->seq = seq;
}

/*
 * Read the message, or at least its first max bytes. A header tree made
 * from a prefix points into bytes that a longer read replaces, so it
 * goes first.
 */
static void
msg_read(struct msgctx *m, size_t max)
{
	if (m->p != NULL && (m->whole || m->len >= max))
		return;
	mime_free(m->hroot);
	m->hroot = NULL;
	if ((m->p = store_data(S.mb, m->seq, max, &m->len)) == NULL) {
		m->p = "";
		m->len = 0;
	}
	m->whole = max == SIZE_MAX || m->len < max;
}

void
msg_bytes(struct msgctx *m)
{
	msg_read(m, SIZE_MAX);
}

void
msg_done(struct msgctx *m)
{
	mime_free(m->root);
	mime_free(m->hroot);
	free(m->blob);
	mime_text_free(m->text);
	m->root = NULL;
	m->hroot = NULL;
	m->blob = NULL;
	m->text = NULL;
}

const struct mime_part *
msg_root(struct msgctx *m)
{
	msg_bytes(m);
	if (m->root == NULL && (m->root = mime_parse(m->p, m->len)) == NULL)
		log_die(EXIT_TEMP, "out of memory");
	return m->root;
}

/* Decoded once, however many BODY and TEXT keys a SEARCH has. */
const struct mime_text *
msg_text(struct msgctx *m)
{
	if (m->text == NULL && (m->text = mime_text(msg_root(m))) == NULL)
		log_die(EXIT_TEMP, "out of memory");
	return m->text;
}

/*
 * What the header-only functions of mime.c need: most headers are in the
 * first HEAD_READ bytes, so SEARCH FROM does not read whole messages.
 */
#define HEAD_READ	4096

const struct mime_part *
msg_header(struct msgctx *m)
{
	if (m->root != NULL)
		return m->root;
	if (m->hroot != NULL)
		return m->hroot;
	msg_read(m, HEAD_READ);
	if (!m->whole && msg_header_len(m->p, m->len) == m->len)
		msg_bytes(m);	/* the header goes on past the prefix */
	if ((m->hroot = mime_parse_header(m->p, m->len)) == NULL)
		log_die(EXIT_TEMP, "out of memory");
	return m->hroot;
}

/*
 * The structure blob of a message: the lengths of its ENVELOPE, BODY and
 * BODYSTRUCTURE texts and of its header search fields (mime.c), 4 x
 * uint32, then those. It comes from the store's cache or is made here and
 * cached.
 */
#define BLOB_HEAD	(B_ITEMS * sizeof(uint32_t))

static int
blob_ok(const char *b, size_t n)
{
	uint32_t len[B_ITEMS];
	uint64_t sum = BLOB_HEAD;
	int i;

	if (n < BLOB_HEAD)
		return 0;
	memcpy(len, b, sizeof len);
	for (i = 0; i < B_ITEMS; i++)
		sum += len[i];
	return sum == n;
}

/* The blob if the cache has it; NULL, not made, if not. */
const char *
msg_cached_blob(struct msgctx *m)
{
	const char *c;
	size_t n;

	if (m->blob != NULL)
		return m->blob;
	if ((c = store_cache_get(S.mb, m->seq, &n)) != NULL && blob_ok(c, n))
		return c;
	return NULL;
}

const char *
msg_blob(struct msgctx *m)
{
	const char *c;
	char *t[B_ITEMS];
	size_t l[B_ITEMS], i, n = BLOB_HEAD, off = BLOB_HEAD;
	uint32_t len;

	if ((c = msg_cached_blob(m)) != NULL)
		return c;
	t[B_ENVELOPE] = mime_envelope(msg_root(m), &l[B_ENVELOPE]);
	t[B_BODY] = mime_bodystructure(msg_root(m), 0, &l[B_BODY]);
	t[B_BODYSTRUCTURE] = mime_bodystructure(msg_root(m), 1,
	    &l[B_BODYSTRUCTURE]);
	t[B_SEARCH] = mime_search_fields(msg_root(m), &l[B_SEARCH]);
	for (i = 0; i < B_ITEMS; i++) {
		if (t[i] == NULL)
			log_die(EXIT_TEMP, "out of memory");
		n += l[i];
	}
	if ((m->blob = malloc(n)) == NULL)
		log_die(EXIT_TEMP, "out of memory");
	for (i = 0; i < B_ITEMS; i++) {
		len = (uint32_t)l[i];
		memcpy(m->blob + i * sizeof len, &len, sizeof len);
		memcpy(m->blob + off, t[i], l[i]);
		off += l[i];
		free(t[i]);
	}
	store_cache_put(S.mb, m->seq, m->blob, n);
	return m->blob;
}

/* One item of a blob: where it starts and its length. */
const char *
msg_blob_item(const char *b, int item, size_t *n_r)
{
	const char *p = b + BLOB_HEAD;
	uint32_t len[B_ITEMS];
	int i;

	memcpy(len, b, sizeof len);
	for (i = 0; i < item; i++)
		p += len[i];
	*n_r = len[item];
	return p;
}
