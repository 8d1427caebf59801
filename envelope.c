/*
 * envelope.c: ENVELOPE (RFC 3501 section 7.4.2) of a parsed message:
 * its address lists (RFC 5322 3.4 and the obsolete forms of 4.4) and
 * its unstructured fields, as Dovecot writes them where RFC 3501
 * leaves a choice.
 */
#include <stdlib.h>
#include <string.h>

#include "mime.h"
#include "mimeint.h"


/*
 * A subject or display name: the value unfolded (RFC 5322 2.2.3: only
 * the line breaks go), sent as a literal when it was folded, as
 * Dovecot does (also for one holding a quote or backslash).  Dovecot
 * also squeezes and trims white space there;
 * RFC 3501 7.4.2 asks for the value as it is, so that is not copied.
 */
static void
env_human(struct buf *b, const char *s, size_t n)
{
	struct buf	 t = { 0 };
	size_t		 i;
	int		 folded = 0;

	for (i = 0; i < n; i++)
		if (s[i] == '\r' || s[i] == '\n' || s[i] == '"' ||
		    s[i] == '\\')
			folded = 1;
	if (!folded) {
		mime_string(b, s, n, 0);
		return;
	}
	mime_unfold(&t, s, n);
	if (t.oom)
		b->oom = 1;
	mime_string(b, t.p ? t.p : "", t.len, 1);
	free(t.p);
}

/* ---------------------------------------------------------- addresses */

struct addr {
	struct buf	 name, adl, mbox, host;
	int		 has_name, has_adl, has_mbox, has_host;
};

struct alex {
	const char	*p, *e;
	struct buf	 comment;	/* the last comment seen */
	int		 has_comment;
};

static void
alex_ws(struct alex *a)
{
	const char	*p = a->p, *e = a->e;
	int		 depth;

	for (;;) {
		while (p < e && (mime_is_wsp((unsigned char)*p) || *p == '\r' ||
		    *p == '\n'))
			p++;
		if (p >= e || *p != '(')
			break;
		a->comment.len = 0;
		a->has_comment = 1;
		depth = 0;
		for (; p < e; p++) {
			if (*p == '\\' && p + 1 < e) {
				buf_add(&a->comment, ++p, 1);
				continue;
			}
			if (*p == '(' && depth++ == 0)
				continue;
			if (*p == ')' && --depth == 0) {
				p++;
				break;
			}
			buf_add(&a->comment, p, 1);
		}
	}
	a->p = p;
}

static int
is_atext(int c)
{
	return c >= 0x80 || (c > ' ' && c != 0x7f &&
	    strchr("()<>[]:;@\\,.\"", c) == NULL);
}

/*
 * A phrase or local part: words (atoms, quoted strings, dots) into
 * b, a single space where the source had white space between them.
 */
static int
alex_words(struct alex *a, struct buf *b, int spaces)
{
	int	 n = 0;
	const char *before;

	for (;;) {
		before = a->p;
		alex_ws(a);
		if (a->p >= a->e)
			break;
		if (*a->p != '"' && *a->p != '.' &&
		    !is_atext((unsigned char)*a->p))
			break;
		if (n > 0 && spaces && a->p != before)
			buf_add(b, " ", 1);
		if (*a->p == '"') {
			for (a->p++; a->p < a->e && *a->p != '"'; a->p++) {
				if (*a->p == '\\' && a->p + 1 < a->e)
					a->p++;
				if (*a->p != '\r' && *a->p != '\n')
					buf_add(b, a->p, 1);
			}
			if (a->p < a->e)
				a->p++;
		} else if (*a->p == '.')
			buf_add(b, a->p++, 1);
		else {
			const char *s = a->p;
			while (a->p < a->e && is_atext((unsigned char)*a->p))
				a->p++;
			buf_add(b, s, a->p - s);
		}
		n++;
	}
	return n;
}

/* A domain: dot-atoms or a [domain literal]. */
static void
alex_domain(struct alex *a, struct buf *b)
{
	for (;;) {
		alex_ws(a);
		if (a->p >= a->e)
			return;
		if (*a->p == '[') {
			const char *s = a->p;
			while (a->p < a->e && *a->p != ']')
				a->p++;
			if (a->p < a->e)
				a->p++;
			buf_add(b, s, a->p - s);
		} else if (*a->p == '.' || is_atext((unsigned char)*a->p)) {
			const char *s = a->p++;
			while (a->p < a->e && is_atext((unsigned char)*a->p))
				a->p++;
			buf_add(b, s, a->p - s);
		} else
			return;
	}
}

static void
addr_write(struct buf *o, struct addr *ad)
{
	buf_add(o, "(", 1);
	if (ad->has_name)
		env_human(o, ad->name.p ? ad->name.p : "", ad->name.len);
	else
		buf_adds(o, "NIL");
	buf_add(o, " ", 1);
	mime_nstring(o, ad->has_adl ? (ad->adl.p ? ad->adl.p : "") : NULL,
	    ad->adl.len);
	buf_add(o, " ", 1);
	mime_nstring(o, ad->has_mbox ? (ad->mbox.p ? ad->mbox.p : "") : NULL,
	    ad->mbox.len);
	buf_add(o, " ", 1);
	mime_nstring(o, ad->has_host ? (ad->host.p ? ad->host.p : "") : NULL,
	    ad->host.len);
	buf_add(o, ")", 1);
	if (ad->name.oom || ad->adl.oom || ad->mbox.oom || ad->host.oom)
		o->oom = 1;
	free(ad->name.p);
	free(ad->adl.p);
	free(ad->mbox.p);
	free(ad->host.p);
	memset(ad, 0, sizeof *ad);
}

/* mailbox and host, with Dovecot's placeholders for missing ones. */
static void
addr_spec(struct alex *a, struct addr *ad)
{
	if (ad->mbox.len == 0)
		buf_adds(&ad->mbox, "MISSING_MAILBOX");
	ad->has_mbox = 1;
	alex_ws(a);
	if (a->p < a->e && *a->p == '@') {
		a->p++;
		alex_domain(a, &ad->host);
	}
	if (ad->host.len == 0)
		buf_adds(&ad->host, "MISSING_DOMAIN");
	ad->has_host = 1;
}

/*
 * Where an address list stands.  Like Dovecot, an empty element
 * between separators is kept as an address with both parts missing;
 * an empty group or a trailing comma is not.
 */
enum {
	AL_START,	/* at the start of the list or a group */
	AL_COMMA,	/* after a comma */
	AL_ADDR		/* after an address */
};

struct alist {
	struct alex	 a;
	struct buf	*o;
	size_t		 count;		/* addresses written */
	int		 ingroup;
	int		 state;		/* AL_* */
};

/* Opens the list before its first address. */
static void
alist_next(struct alist *l)
{
	buf_adds(l->o, l->count++ ? "" : "(");
}

/*
 * A separator at the lexer: ',' between addresses, or ';' that ends a
 * group.  Returns 0 when something else is there.
 */
static int
alist_separator(struct alist *l)
{
	char	 c = *l->a.p;

	if (c != ',' && c != ';')
		return 0;
	if ((c == ',' && l->state != AL_ADDR) ||
	    (c == ';' && l->ingroup && l->state == AL_COMMA)) {
		alist_next(l);
		buf_adds(l->o, "(NIL NIL \"MISSING_MAILBOX\" "
		    "\"MISSING_DOMAIN\")");
	}
	l->a.p++;
	if (c == ',') {
		l->state = AL_COMMA;
		return 1;
	}
	if (l->ingroup) {
		alist_next(l);
		buf_adds(l->o, "(NIL NIL NIL NIL)");
		l->ingroup = 0;
	}
	l->state = AL_ADDR;
	return 1;
}

/* "phrase:" opens a group: its start marker (RFC 3501 7.4.2). */
static void
alist_group(struct alist *l, struct buf *words)
{
	l->a.p++;
	alist_next(l);
	buf_adds(l->o, "(NIL NIL ");
	mime_string(l->o, words->p, words->len, 0);
	buf_adds(l->o, " NIL)");
	free(words->p);
	l->ingroup = 1;
	l->state = AL_START;
}

/* obs-route: "@a,@b:" before the mailbox, kept as the adl. */
static void
addr_route(struct alex *a, struct addr *ad)
{
	const char	*s = a->p;

	while (a->p < a->e && *a->p != ':' && *a->p != '>')
		a->p++;
	if (a->p < a->e && *a->p == ':') {
		buf_add(&ad->adl, s, a->p - s);
		ad->has_adl = 1;
		a->p++;
	} else
		a->p = s;
}

/* name-addr at '<': the phrase before it is the display name. */
static void
addr_angle(struct alex *a, struct addr *ad, struct buf *words, int nw)
{
	a->p++;
	if (nw > 0) {
		ad->name = *words;
		ad->has_name = 1;
	} else
		free(words->p);
	alex_ws(a);
	if (a->p < a->e && *a->p == '@')
		addr_route(a, ad);
	alex_words(a, &ad->mbox, 0);
	addr_spec(a, ad);
	while (a->p < a->e && *a->p != '>' && *a->p != ',')
		a->p++;
	if (a->p < a->e && *a->p == '>')
		a->p++;
}

/* addr-spec: a comment after it is the display name. */
static void
addr_bare(struct alex *a, struct addr *ad)
{
	alex_words(a, &ad->mbox, 0);
	addr_spec(a, ad);
	alex_ws(a);
	if (a->has_comment) {
		buf_add(&ad->name, a->comment.p ? a->comment.p : "",
		    a->comment.len);
		ad->has_name = 1;
	}
}

/* Junk up to the next separator is skipped; the list always moves on. */
static void
alex_skip(struct alex *a, const char *start)
{
	alex_ws(a);
	while (a->p < a->e && *a->p != ',' && *a->p != ';') {
		if (a->p == start)
			break;
		a->p++;
	}
	if (a->p == start)
		a->p++;
}

/* One element of the list: an address, or the start of a group. */
static void
alist_element(struct alist *l)
{
	struct alex	*a = &l->a;
	struct addr	 ad;
	struct buf	 words = { 0 };
	const char	*start = a->p;
	int		 nw;

	l->state = AL_ADDR;
	nw = alex_words(a, &words, 1);
	alex_ws(a);
	if (a->p < a->e && *a->p == ':' && !l->ingroup && nw > 0) {
		alist_group(l, &words);
		return;
	}
	memset(&ad, 0, sizeof ad);
	if (a->p < a->e && *a->p == '<')
		addr_angle(a, &ad, &words, nw);
	else {
		/* addr-spec: the words were the local part. */
		free(words.p);
		a->p = start;
		addr_bare(a, &ad);
	}
	alist_next(l);
	addr_write(l->o, &ad);
	alex_skip(a, start);
}

/*
 * An address list (RFC 5322 3.4, with the obsolete forms of 4.4) as
 * the IMAP list of addresses; groups become the start and end markers
 * of RFC 3501 7.4.2.  Returns the number of addresses written.
 */
static size_t
addr_list(struct buf *o, const char *v, size_t n)
{
	struct alist	 l = { { v, v + n, { 0 }, 0 }, o, 0, 0, AL_START };

	while (l.a.p < l.a.e && !o->oom) {
		l.a.has_comment = 0;
		alex_ws(&l.a);
		if (l.a.p >= l.a.e)
			break;
		if (!alist_separator(&l))
			alist_element(&l);
	}
	if (l.ingroup) {
		alist_next(&l);
		buf_adds(o, "(NIL NIL NIL NIL)");
	}
	free(l.a.comment.p);
	if (l.count > 0)
		buf_add(o, ")", 1);
	return l.count;
}

/* ----------------------------------------------------------- envelope */

void
env_text(struct buf *o, const struct mime_part *m, const char *name,
    int env, int human)
{
	struct buf	 t = { 0 };
	const char	*v;
	size_t		 n;

	if (!(env ? mime_hdr_get_last : mime_hdr_get)(m, name, &v, &n)) {
		buf_adds(o, "NIL");
		return;
	}
	if (human) {
		env_human(o, v, n);
		return;
	}
	mime_unfold(&t, v, n);
	if (t.oom)
		o->oom = 1;
	mime_string(o, t.p ? t.p : "", t.len, 0);
	free(t.p);
}

/* Writes the list, or NIL; returns 0 when there was no address. */
static int
env_addr(struct buf *o, const struct mime_part *m, const char *name)
{
	const char	*v;
	size_t		 n;

	if (mime_hdr_get_last(m, name, &v, &n) && addr_list(o, v, n) > 0)
		return 1;
	return 0;
}

void
env_write(struct buf *o, const struct mime_part *m)
{
	size_t	 at;

	buf_add(o, "(", 1);
	env_text(o, m, "date", 1, 0);
	buf_add(o, " ", 1);
	env_text(o, m, "subject", 1, 1);
	buf_add(o, " ", 1);
	/* RFC 3501 7.4.2: sender and reply-to default to from. */
	{
		struct buf from = { 0 };
		if (!env_addr(&from, m, "from"))
			buf_adds(&from, "NIL");
		if (from.oom)
			o->oom = 1;
		buf_add(o, from.p, from.len);
		buf_add(o, " ", 1);
		at = o->len;
		if (!env_addr(o, m, "sender")) {
			o->len = at;
			buf_add(o, from.p, from.len);
		}
		buf_add(o, " ", 1);
		at = o->len;
		if (!env_addr(o, m, "reply-to")) {
			o->len = at;
			buf_add(o, from.p, from.len);
		}
		free(from.p);
	}
	buf_add(o, " ", 1);
	if (!env_addr(o, m, "to"))
		buf_adds(o, "NIL");
	buf_add(o, " ", 1);
	if (!env_addr(o, m, "cc"))
		buf_adds(o, "NIL");
	buf_add(o, " ", 1);
	if (!env_addr(o, m, "bcc"))
		buf_adds(o, "NIL");
	buf_add(o, " ", 1);
	env_text(o, m, "in-reply-to", 1, 0);
	buf_add(o, " ", 1);
	env_text(o, m, "message-id", 1, 0);
	buf_add(o, ")", 1);
}

char *
mime_envelope(const struct mime_part *root, size_t *len_r)
{
	struct buf	 o = { 0 };

	env_write(&o, root);
	return buf_finish(&o, len_r);
}
