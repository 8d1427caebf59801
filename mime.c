/*
 * mime.c: the MIME structure of a stored message (RFC 5322, 2045, 2046,
 * 2047, 2231), the header, parameter and media type readers that
 * envelope.c and bodystructure.c render it with (RFC 3501 section
 * 7.4.2), section lookup (6.4.5) and the SEARCH tests over headers,
 * bodies and the Date: field (6.4.4).
 *
 * The tree points into the caller's buffer; nothing of the message is
 * copied.  Parsing is one forward pass: every line start is looked at
 * once against the stack of open boundaries (innermost first, so that
 * an inner boundary that extends an outer one still wins), and every
 * entity ends at the first boundary line of any enclosing multipart.
 * Depth and part count are capped; past a cap the rest is one opaque
 * leaf, and nothing recurses deeper than MIME_DEPTH_MAX.
 *
 * Where RFC 3501 leaves a choice, the output follows what Dovecot
 * writes, so that clients see the same answers from both.
 */
#include <ctype.h>
#include <errno.h>
#include <iconv.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imapd.h"
#include "mime.h"
#include "mimeint.h"

/* ------------------------------------------------------------ buffers */

/* Room for n more bytes and a NUL; -1 when out of memory. */
static int
sb_reserve(struct sb *b, size_t n)
{
	char	*np;
	size_t	 ncap;

	if (b->oom)
		return -1;
	if (b->cap - b->len > n)
		return 0;
	ncap = b->cap ? b->cap : 256;
	while (ncap - b->len <= n) {
		if (ncap > SIZE_MAX / 2) {
			b->oom = 1;
			return -1;
		}
		ncap *= 2;
	}
	if ((np = realloc(b->p, ncap)) == NULL) {
		b->oom = 1;
		return -1;
	}
	b->p = np;
	b->cap = ncap;
	return 0;
}

void
sb_add(struct sb *b, const char *s, size_t n)
{
	if (sb_reserve(b, n) == -1)
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void
sb_str(struct sb *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

void
sb_num(struct sb *b, size_t n)
{
	char	 t[32];

	snprintf(t, sizeof t, "%zu", n);
	sb_str(b, t);
}

char *
sb_finish(struct sb *b, size_t *len_r)
{
	if (b->p == NULL)
		sb_add(b, "", 0);	/* an empty result is still a string */
	if (b->oom) {
		free(b->p);
		return NULL;
	}
	if (len_r != NULL)
		*len_r = b->len;
	return b->p;
}

/*
 * An IMAP string (RFC 3501 section 4.3): quoted when that is plain,
 * else a literal.  Dovecot's choice is followed: a literal for CR, LF
 * and 8-bit bytes, for more than four characters to escape, and when
 * "force" is set (a folded subject or name).  A literal cannot
 * carry NUL either, so NULs are dropped.
 */
void
sb_string(struct sb *b, const char *s, size_t n, int force)
{
	size_t	 i, nul = 0, esc = 0;
	int	 lit = force;
	char	 t[32];

	for (i = 0; i < n; i++) {
		unsigned char c = s[i];
		if (c == '\0')
			nul++;
		else if (c == '"' || c == '\\')
			esc++;
		else if (c == '\r' || c == '\n' || c >= 0x80)
			lit = 1;
	}
	if (esc > 4)
		lit = 1;
	if (!lit) {
		sb_add(b, "\"", 1);
		for (i = 0; i < n; i++) {
			if (s[i] == '\0')
				continue;
			if (s[i] == '"' || s[i] == '\\')
				sb_add(b, "\\", 1);
			sb_add(b, s + i, 1);
		}
		sb_add(b, "\"", 1);
		return;
	}
	snprintf(t, sizeof t, "{%zu}\r\n", n - nul);
	sb_str(b, t);
	if (nul == 0) {
		sb_add(b, s, n);
		return;
	}
	for (i = 0; i < n; i++)
		if (s[i] != '\0')
			sb_add(b, s + i, 1);
}

void
sb_nstring(struct sb *b, const char *s, size_t n)
{
	if (s == NULL)
		sb_str(b, "NIL");
	else
		sb_string(b, s, n, 0);
}

/* ------------------------------------------------------------ headers */

int
is_wsp(int c)
{
	return c == ' ' || c == '\t';
}

/* Iterates over the fields of a header block. */
struct hiter {
	const char	*p, *e;
};

/*
 * The next field: its name and its raw value (folding kept, leading
 * white space and the final line break dropped).  Lines without a
 * colon are skipped, as a forgiving reader would.
 */
static int
hiter_next(struct hiter *it, const char **name_r, size_t *nlen_r,
    const char **val_r, size_t *vlen_r)
{
	const char	*p, *e, *colon, *nl, *fe;
	size_t		 nlen;

	for (;;) {
		p = it->p;
		e = it->e;
		if (p >= e || *p == '\n' || (*p == '\r' && p + 1 < e &&
		    p[1] == '\n'))
			return 0;
		/* The field runs to a line break not followed by WSP. */
		fe = p;
		for (;;) {
			nl = memchr(fe, '\n', e - fe);
			if (nl == NULL) {
				fe = e;
				it->p = e;
				break;
			}
			if (nl + 1 < e && is_wsp((unsigned char)nl[1])) {
				fe = nl + 1;
				continue;
			}
			it->p = nl + 1;
			fe = nl;
			if (fe > p && fe[-1] == '\r')
				fe--;
			break;
		}
		colon = memchr(p, ':', fe - p);
		if (colon == NULL || colon == p)
			continue;
		nlen = colon - p;
		while (nlen > 0 && is_wsp((unsigned char)p[nlen - 1]))
			nlen--;	/* RFC 5322 4.5.3: WSP before colon */
		colon++;
		while (colon < fe && (is_wsp((unsigned char)*colon) ||
		    *colon == '\r' || *colon == '\n'))
			colon++;
		*name_r = p;
		*nlen_r = nlen;
		*val_r = colon;
		*vlen_r = fe - colon;
		return 1;
	}
}

int
name_is(const char *n, size_t len, const char *want)
{
	return strlen(want) == len && strncasecmp(n, want, len) == 0;
}

/* The raw value of the first field called name, or 0. */
int
hdr_get(const struct mime_part *m, const char *name, const char **v_r,
    size_t *n_r)
{
	struct hiter	 it = { m->hdr, m->hdr + m->hdrlen };
	const char	*n;
	size_t		 nl;

	while (hiter_next(&it, &n, &nl, v_r, n_r))
		if (name_is(n, nl, name))
			return 1;
	return 0;
}

/*
 * The last field called name: ENVELOPE takes the last of repeated
 * fields, as Dovecot does (RFC 5322 3.6 allows only one of each).
 */
int
hdr_get_last(const struct mime_part *m, const char *name, const char **v_r,
    size_t *n_r)
{
	struct hiter	 it = { m->hdr, m->hdr + m->hdrlen };
	const char	*n, *v;
	size_t		 nl, vl;
	int		 found = 0;

	while (hiter_next(&it, &n, &nl, &v, &vl))
		if (name_is(n, nl, name)) {
			*v_r = v;
			*n_r = vl;
			found = 1;
		}
	return found;
}

/* Unfolds into b: CR and LF go, the white space after them stays. */
void
unfold(struct sb *b, const char *v, size_t n)
{
	size_t	 i, s = 0;

	for (i = 0; i < n; i++)
		if (v[i] == '\r' || v[i] == '\n' || v[i] == '\0') {
			sb_add(b, v + s, i - s);
			s = i + 1;
		}
	sb_add(b, v + s, n - s);
}
/* --------------------------------------------------------- parameters */

#define PARAMS_MAX	64	/* per field: bounds the joining below */

void
plist_free(struct plist *l)
{
	size_t	 i;

	for (i = 0; i < l->n; i++)
		free(l->p[i].val);
	free(l->p);
	l->p = NULL;
	l->n = l->cap = 0;
}

static int
is_tspecial(int c)
{
	return strchr("()<>@,;:\\\"/[]?=", c) != NULL;
}

int
is_token(int c)
{
	return c > ' ' && c != 0x7f && !is_tspecial(c);
}

/* Skips white space, line breaks and (nested) comments. */
const char *
skip_cfws(const char *p, const char *e)
{
	int	 depth;

	for (;;) {
		while (p < e && (is_wsp((unsigned char)*p) || *p == '\r' ||
		    *p == '\n'))
			p++;
		if (p >= e || *p != '(')
			return p;
		depth = 0;
		for (; p < e; p++) {
			if (*p == '\\' && p + 1 < e)
				p++;
			else if (*p == '(')
				depth++;
			else if (*p == ')' && --depth == 0) {
				p++;
				break;
			}
		}
	}
}

/* A token (or, leniently, any run up to ';') or a quoted string. */
static const char *
read_value(struct sb *b, const char *p, const char *e)
{
	if (p < e && *p == '"') {
		for (p++; p < e && *p != '"'; p++) {
			if (*p == '\\' && p + 1 < e)
				p++;
			if (*p != '\r' && *p != '\n')
				sb_add(b, p, 1);
		}
		return p < e ? p + 1 : p;
	}
	while (p < e && *p != ';' && !is_wsp((unsigned char)*p) &&
	    *p != '\r' && *p != '\n' && *p != '(')
		sb_add(b, p++, 1);
	return p;
}

/* RFC 2231 section 3: "name*N" or "name*N*". */
static void
param_split(struct param *pa)
{
	size_t	 n = pa->nlen, d;
	int	 ext = 0, sec = 0;

	pa->sec = -1;
	pa->blen = n;
	if (n > 0 && pa->name[n - 1] == '*') {
		ext = 1;
		n--;
	}
	for (d = n; d > 0 && isdigit((unsigned char)pa->name[d - 1]); d--)
		;
	if (d == n || d < 2 || pa->name[d - 1] != '*' || n - d > 4)
		return;
	pa->blen = d - 1;
	for (; d < n; d++)
		sec = sec * 10 + (pa->name[d] - '0');
	pa->sec = sec;
	pa->ext = ext;
}

/* Parses "; a=b; c="d"" after the media type or disposition. */
void
params_parse(struct plist *l, const char *p, const char *e)
{
	struct sb	 v;
	struct param	*np;
	const char	*n;

	for (;;) {
		while (p < e && *p != ';')
			p++;
		if (p >= e)
			return;
		p = skip_cfws(p + 1, e);
		for (n = p; p < e && is_token((unsigned char)*p) &&
		    *p != '='; p++)
			;
		if (p == n)
			continue;
		{
			const char *ne = p;
			p = skip_cfws(p, e);
			if (p >= e || *p != '=')
				continue;
			p = skip_cfws(p + 1, e);
			memset(&v, 0, sizeof v);
			p = read_value(&v, p, e);
			if (v.oom) {
				l->oom = 1;
				free(v.p);
				return;
			}
			if (l->n == PARAMS_MAX) {
				free(v.p);	/* no one needs more */
				return;
			}
			if (l->n == l->cap) {
				size_t nc = l->cap ? l->cap * 2 : 8;
				np = realloc(l->p, nc * sizeof *np);
				if (np == NULL) {
					l->oom = 1;
					free(v.p);
					return;
				}
				l->p = np;
				l->cap = nc;
			}
			np = &l->p[l->n++];
			memset(np, 0, sizeof *np);
			np->name = n;
			np->nlen = ne - n;
			np->val = v.p;
			np->vlen = v.len;
			param_split(np);
		}
	}
}

const char *
param_val(const struct plist *l, const char *name, size_t *n_r)
{
	size_t	 i;

	for (i = 0; i < l->n; i++)
		if (l->p[i].sec < 0 &&
		    name_is(l->p[i].name, l->p[i].nlen, name)) {
			*n_r = l->p[i].vlen;
			return l->p[i].val ? l->p[i].val : "";
		}
	return NULL;
}

/* --------------------------------------------------------- media type */

/*
 * The Content-Type of a part, or its default (RFC 2045 5.2; RFC 2046
 * 5.1.5 for multipart/digest).  A malformed field counts as absent.
 */
void
ctype_get(const struct mime_part *m, struct ctype *ct)
{
	const char	*v, *p, *e;
	size_t		 n;

	memset(ct, 0, sizeof *ct);
	if (hdr_get(m, "content-type", &v, &n)) {
		e = v + n;
		p = skip_cfws(v, e);
		ct->type = p;
		while (p < e && is_token((unsigned char)*p))
			p++;
		ct->tlen = p - ct->type;
		p = skip_cfws(p, e);
		if (ct->tlen > 0 && p < e && *p == '/') {
			p = skip_cfws(p + 1, e);
			ct->sub = p;
			while (p < e && is_token((unsigned char)*p))
				p++;
			ct->slen = p - ct->sub;
			/*
			 * Dovecot shows "text" "" for "text"; RFC 2045 5.2
			 * makes an invalid field the default instead.
			 */
			if (ct->slen > 0) {
				ct->rest = p;
				ct->end = e;
				return;
			}
		}
	}
	if (m->defmsg) {
		ct->type = "message";
		ct->sub = "rfc822";
		ct->tlen = 7;
		ct->slen = 6;
	} else {
		ct->type = "text";
		ct->sub = "plain";
		ct->tlen = 4;
		ct->slen = 5;
	}
	ct->rest = ct->end = NULL;
}

static int
ct_is(const struct ctype *ct, const char *t, const char *s)
{
	return name_is(ct->type, ct->tlen, t) &&
	    (s == NULL || name_is(ct->sub, ct->slen, s));
}

/* ------------------------------------------------------------- parser */

struct bnd {
	const char	*s;
	size_t		 n;
};

struct pctx {
	const char	*end;
	size_t		 nparts;
	struct bnd	 stack[MIME_DEPTH_MAX + 2];
	size_t		 nb;
	/* stack index of the last boundary */
	size_t		 hit;
	int		 close;		/* it was "--b--" */
	int		 oom;
	/* mime_parse_header: stop at the body */
	int		 hdronly;
};

/* Whether the line at p is "--b" for an open boundary (innermost first). */
static int
is_boundary(struct pctx *c, const char *p)
{
	size_t	 i, left = c->end - p;

	if (left < 3 || p[0] != '-' || p[1] != '-')
		return 0;
	for (i = c->nb; i-- > 0; ) {
		/* A prefix match, as Dovecot does: trailing junk is allowed. */
		if (left - 2 >= c->stack[i].n &&
		    memcmp(p + 2, c->stack[i].s, c->stack[i].n) == 0) {
			c->hit = i;
			c->close = left - 2 - c->stack[i].n >= 2 &&
			    p[2 + c->stack[i].n] == '-' &&
			    p[3 + c->stack[i].n] == '-';
			return 1;
		}
	}
	return 0;
}

static const char *
next_line(const struct pctx *c, const char *p)
{
	const char	*nl = memchr(p, '\n', c->end - p);

	return nl ? nl + 1 : c->end;
}

/* The first boundary line at or after the line start p, or the end. */
static const char *
find_boundary(struct pctx *c, const char *p)
{
	if (c->nb == 0)
		return c->end;
	while (p < c->end) {
		if (*p == '-' && is_boundary(c, p))
			return p;
		p = next_line(c, p);
	}
	return p;
}

static struct mime_part *
part_new(struct pctx *c, struct mime_part *parent)
{
	struct mime_part	*m, **pp;

	if ((m = calloc(1, sizeof *m)) == NULL) {
		c->oom = 1;
		return NULL;
	}
	c->nparts++;
	m->parent = parent;
	if (parent != NULL) {
		for (pp = &parent->child; *pp != NULL; pp = &(*pp)->next)
			;
		*pp = m;
	}
	return m;
}

/* The boundary parameter, unquoted, as a string of its own. */
static char *
boundary_get(struct ctype *ct)
{
	struct plist	 l = { 0 };
	const char	*v;
	char		*r = NULL;
	size_t		 n;

	if (ct->rest == NULL)
		return NULL;
	params_parse(&l, ct->rest, ct->end);
	v = param_val(&l, "boundary", &n);
	if (v != NULL && n > 0 && n <= 200 && (r = malloc(n + 1)) != NULL) {
		memcpy(r, v, n);
		r[n] = '\0';
	}
	plist_free(&l);
	return r;
}

static const char *entity_scan(struct pctx *, struct mime_part *,
    const char *, int);

/*
 * The parts of a multipart body (RFC 2046 5.1.1).  The preamble and
 * epilogue are skipped; a missing close delimiter lets the last part
 * run to the end of the enclosing entity.  Returns where the enclosing
 * entity goes on (a boundary line of an outer multipart, or the end).
 */
static const char *
multipart_scan(struct pctx *c, struct mime_part *m, const char *p, int depth,
    const char **floor_r)
{
	struct mime_part	*k = NULL;
	size_t			 me = c->nb;

	*floor_r = m->body;
	if (m->boundary == NULL) {
		p = find_boundary(c, p);
		goto empty;
	}
	c->stack[c->nb].s = m->boundary;
	c->stack[c->nb].n = strlen(m->boundary);
	c->nb++;
	p = find_boundary(c, p);
	while (p < c->end && c->hit == me && !c->close) {
		p = next_line(c, p);
		if (c->nparts >= MIME_PARTS_MAX) {
			/* Over the cap: skip the part without looking in. */
			p = find_boundary(c, p);
			continue;
		}
		if ((k = part_new(c, m)) == NULL)
			break;
		k->defmsg = m->defmsg == 2;
		p = entity_scan(c, k, p, depth + 1);
		if (c->oom)
			break;
	}
	c->nb--;
	/*
	 * Where the part may end: not inside the close delimiter line or
	 * the last part (their line breaks are theirs, as in Dovecot).
	 */
	if (k != NULL)
		*floor_r = k->body + k->bodylen;
	if (p < c->end && c->hit == me) {	/* the epilogue */
		p = next_line(c, p);
		*floor_r = p;
		p = find_boundary(c, p);
	}
empty:
	/* BODYSTRUCTURE needs one part at least: an empty text/plain. */
	if (m->child == NULL && !c->oom && (k = part_new(c, m)) != NULL) {
		k->hdr = k->body = m->body;
		k->kind = MK_LEAF;
	}
	return p;
}

static void
count_lines(struct mime_part *m)
{
	const char	*p = m->body, *e = m->body + m->bodylen, *nl;

	m->lines = m->bare = 0;
	while ((nl = memchr(p, '\n', e - p)) != NULL) {
		m->lines++;
		if (nl == m->body || nl[-1] != '\r')
			m->bare++;
		p = nl + 1;
	}
}

/*
 * RFC 3501 6.4.5: a message that is not multipart has one part, its
 * body, numbered 1; "1.MIME" is the message's header and "1.HEADER"
 * only means something when that body is a message itself.  The view
 * is that part 1: the same ranges, but a part rather than a message.
 */
static int
add_view(struct pctx *c, struct mime_part *m)
{
	struct mime_part	*v;

	if ((v = malloc(sizeof *v)) == NULL) {
		c->oom = 1;
		return -1;
	}
	*v = *m;
	v->parent = m;
	v->next = NULL;
	v->boundary = NULL;
	v->view = NULL;
	v->isview = 1;
	m->view = v;
	return 0;
}

/*
 * An entity's header from s: to the first empty line, or to a boundary
 * line, or the end.
 */
static void
header_scan(struct pctx *c, struct mime_part *m, const char *s)
{
	const char	*p = s;

	m->hdr = s;
	for (;;) {
		if (p >= c->end) {
			m->body = p;
			break;
		}
		if (*p == '\n' || (*p == '\r' && p + 1 < c->end &&
		    p[1] == '\n')) {
			m->body = p + (*p == '\r' ? 2 : 1);
			break;
		}
		if (*p == '-' && c->nb > 0 && is_boundary(c, p)) {
			/*
			 * A header cut short by a boundary: its last line
			 * break is shown as the boundary's (as Dovecot does),
			 * though it still counts in an enclosing part's size.
			 */
			m->body = p;
			if (p > s && p[-1] == '\n')
				m->hdrcut = p - 1 > s && p[-2] == '\r' ? 2 : 1;
			break;
		}
		p = next_line(c, p);
	}
	m->hdrlen = m->body - s;
}

/*
 * An entity's body by its type: the parts of a multipart, the message
 * inside a message/rfc822, or a leaf.  Returns the start of the
 * boundary line that ended it, or the end; NULL when out of memory.
 * *floor_r is where the body may end at the earliest.
 */
static const char *
body_scan(struct pctx *c, struct mime_part *m, int depth,
    const char **floor_r)
{
	struct ctype		 ct;
	struct mime_part	*k;

	*floor_r = m->body;
	ctype_get(m, &ct);
	if (depth < MIME_DEPTH_MAX && ct_is(&ct, "multipart", NULL)) {
		m->kind = MK_MULTI;
		m->defmsg = ct_is(&ct, "multipart", "digest") ? 2 : 0;
		/*
		 * Without a boundary there are no parts to find: like
		 * Dovecot, show one empty text/plain part.
		 */
		m->boundary = boundary_get(&ct);
		return multipart_scan(c, m, m->body, depth, floor_r);
	}
	if (depth < MIME_DEPTH_MAX && ct_is(&ct, "message", "rfc822") &&
	    c->nparts < MIME_PARTS_MAX) {
		m->kind = MK_MESSAGE;
		if ((k = part_new(c, m)) == NULL)
			return NULL;
		return entity_scan(c, k, m->body, depth + 1);
	}
	/*
	 * Past the depth cap a container is shown as Dovecot shows
	 * it there: application/octet-stream with its parameters.
	 */
	m->opaque = ct_is(&ct, "multipart", NULL) ||
	    ct_is(&ct, "message", "rfc822");
	return find_boundary(c, m->body);
}

/*
 * The line break before a boundary belongs to the boundary (RFC
 * 2046 5.1.1), but not when it ends a header line: an encapsulated
 * message ends where its own body or header does (Dovecot's sizes).
 */
static void
body_end(struct pctx *c, struct mime_part *m, const char *stop,
    const char *floor)
{
	const char	*p;

	if (m->kind == MK_MESSAGE)
		p = m->child->body + m->child->bodylen;
	else {
		p = stop;
		if (p < c->end && p > floor && p[-1] == '\n') {
			p--;
			if (p > floor && p[-1] == '\r')
				p--;
		}
	}
	m->bodylen = p > m->body ? (size_t)(p - m->body) : 0;
}

/*
 * One entity from s: its header, then its body by its type.  Returns
 * the start of the boundary line that ended it, or the end.
 */
static const char *
entity_scan(struct pctx *c, struct mime_part *m, const char *s, int depth)
{
	const char	*stop, *floor;

	header_scan(c, m, s);
	m->kind = MK_LEAF;
	if (c->hdronly) {
		m->bodylen = (size_t)(c->end - m->body);
		return c->end;
	}
	if ((stop = body_scan(c, m, depth, &floor)) == NULL)
		return c->end;
	body_end(c, m, stop, floor);
	count_lines(m);
	if (m->kind != MK_MULTI &&
	    (m->parent == NULL || m->parent->kind == MK_MESSAGE) &&
	    add_view(c, m) == -1)
		return c->end;
	return stop;
}

static struct mime_part *
message_scan(const char *msg, size_t len, int hdronly)
{
	struct pctx		 c;
	struct mime_part	*root;

	memset(&c, 0, sizeof c);
	c.end = msg + len;
	c.hdronly = hdronly;
	if ((root = part_new(&c, NULL)) == NULL)
		return NULL;
	entity_scan(&c, root, msg, 1);	/* the message is level 1 */
	if (c.oom) {
		mime_free(root);
		return NULL;
	}
	return root;
}

struct mime_part *
mime_parse(const char *msg, size_t len)
{
	return message_scan(msg, len, 0);
}

/*
 * The top-level header only, for the functions that read nothing else
 * (mime_envelope, mime_search_header, mime_sent_date): SEARCH FROM need
 * not find every boundary of every message.
 */
struct mime_part *
mime_parse_header(const char *msg, size_t len)
{
	return message_scan(msg, len, 1);
}

void
mime_free(struct mime_part *m)
{
	struct mime_part	*k, *next;

	/* Depth is bounded by MIME_DEPTH_MAX, so recursion is too. */
	if (m == NULL)
		return;
	if (!m->isview)
		for (k = m->child; k != NULL; k = next) {
			next = k->next;
			mime_free(k);
		}
	mime_free(m->view);
	free(m->boundary);
	free(m);
}

/* ------------------------------------------------------------ sections */

/*
 * RFC 3501 6.4.5: the parts of a multipart are 1..n; a message that
 * is not multipart has one part, its body; a message/rfc822 part's
 * numbers go into the encapsulated message.
 */
const struct mime_part *
mime_find(const struct mime_part *root, const uint32_t *path, size_t depth)
{
	const struct mime_part	*p = root, *k;
	size_t			 i;
	uint32_t		 n;
	int			 msg = 1;

	for (i = 0; i < depth && p != NULL; i++) {
		if (!msg && p->kind == MK_MESSAGE && p->child != NULL) {
			p = p->child;
			msg = 1;
		}
		if (p->kind == MK_MULTI) {
			for (k = p->child, n = 1; k != NULL && n < path[i];
			    k = k->next)
				n++;
			p = path[i] == 0 ? NULL : k;
		} else if (!msg || path[i] != 1)
			p = NULL;
		else if (p->view != NULL)
			p = p->view;
		msg = 0;
	}
	return p;
}

const struct mime_part *
mime_message(const struct mime_part *m)
{
	if (m == NULL)
		return NULL;
	if (m->parent == NULL)
		return m;
	if (m->kind == MK_MESSAGE)
		return m->child;
	return NULL;
}

void
mime_header(const struct mime_part *m, const char **p_r, size_t *n_r)
{
	*p_r = m->hdr;
	*n_r = m->hdrlen - m->hdrcut;
}

void
mime_body(const struct mime_part *m, const char **p_r, size_t *n_r)
{
	*p_r = m->body;
	*n_r = m->bodylen;
}

/* ------------------------------------------------------------- search */

/*
 * Case folding for search, done the same way on both sides: ASCII,
 * and in UTF-8 the capitals of Latin-1, Greek and Cyrillic.  Every
 * mapping keeps the length, so it is done in place.
 */
static void
fold(char *s, size_t n)
{
	unsigned char	*p = (unsigned char *)s, *e = p + n;

	for (; p < e; p++) {
		if (*p >= 'A' && *p <= 'Z')
			*p += 'a' - 'A';
		else if (*p < 0xc0 || p + 1 >= e)
			continue;
		else if (*p == 0xc3 && p[1] >= 0x80 && p[1] <= 0x9e &&
		    p[1] != 0x97)
			p[1] += 0x20;		/* U+00C0..U+00DE */
		else if (*p == 0xce && p[1] >= 0x91 && p[1] <= 0x9f)
			p[1] += 0x20;		/* Greek Alpha..Omicron */
		else if (*p == 0xce && p[1] >= 0xa0 && p[1] <= 0xab &&
		    p[1] != 0xa2) {
			/* Pi..Upsilon with dialytika */
			p[0] = 0xcf;
			p[1] -= 0x20;
		} else if (*p == 0xd0 && p[1] >= 0x90 && p[1] <= 0x9f)
			p[1] += 0x20;		/* Cyrillic A..Pe */
		else if (*p == 0xd0 && p[1] >= 0xa0 && p[1] <= 0xaf) {
			p[0] = 0xd1;		/* Er..Ya */
			p[1] -= 0x20;
		} else if (*p == 0xd0 && p[1] >= 0x80 && p[1] <= 0x8f) {
			p[0] = 0xd1;		/* Io..Dzhe */
			p[1] += 0x10;
		}
	}
}

static int
contains(const char *h, size_t hn, const char *nd, size_t nn)
{
	const char	*p, *e;

	if (nn == 0)
		return 1;
	if (hn < nn)
		return 0;
	e = h + (hn - nn) + 1;
	for (p = h; (p = memchr(p, nd[0], e - p)) != NULL; p++)
		if (memcmp(p, nd, nn) == 0)
			return 1;
	return 0;
}

static int
cs_is(const char *cs, size_t n, const char *want)
{
	return name_is(cs, n, want);
}

/*
 * Appends bytes in charset cs as UTF-8.  Unknown charsets, and
 * conversions that fail, fall back to the raw bytes.
 */
static void
to_utf8(struct sb *o, const char *cs, size_t csn, const char *s, size_t n)
{
	char		 name[64], out[1024], *ip, *op;
	size_t		 il, ol, i, start = o->len;
	iconv_t		 cd;

	if (cs == NULL || csn == 0 || csn >= sizeof name ||
	    cs_is(cs, csn, "utf-8") || cs_is(cs, csn, "us-ascii") ||
	    cs_is(cs, csn, "utf8") || cs_is(cs, csn, "ascii")) {
		sb_add(o, s, n);
		return;
	}
	if (cs_is(cs, csn, "iso-8859-1") || cs_is(cs, csn, "latin1")) {
		char *w;

		if (n > SIZE_MAX / 2 - 1 || sb_reserve(o, 2 * n) == -1) {
			o->oom = 1;
			return;
		}
		w = o->p + o->len;
		for (i = 0; i < n; i++) {
			unsigned char c = s[i];
			if (c < 0x80)
				*w++ = (char)c;
			else {
				*w++ = (char)(0xc0 | c >> 6);
				*w++ = (char)(0x80 | (c & 0x3f));
			}
		}
		o->len = w - o->p;
		o->p[o->len] = '\0';
		return;
	}
	memcpy(name, cs, csn);
	name[csn] = '\0';
	if ((cd = iconv_open("UTF-8", name)) == (iconv_t)-1) {
		sb_add(o, s, n);
		return;
	}
	ip = (char *)s;
	il = n;
	while (il > 0) {
		op = out;
		ol = sizeof out;
		if (iconv(cd, &ip, &il, &op, &ol) == (size_t)-1 &&
		    errno != E2BIG) {
			sb_add(o, out, op - out);
			if (errno == EINVAL)	/* a truncated sequence */
				break;
			/* An invalid byte: keep it and go on. */
			sb_add(o, ip, 1);
			ip++;
			il--;
			continue;
		}
		sb_add(o, out, op - out);
	}
	iconv_close(cd);
	if (o->oom)
		o->len = start;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static void
b64_decode(struct sb *o, const char *s, size_t n)
{
	static const char	 a[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	static signed char	 val[256];
	unsigned long		 acc = 0;
	size_t			 i;
	char			*w;
	int			 bits = 0, v;

	if (val['B'] == 0) {
		memset(val, -1, sizeof val);
		for (i = 0; i < 64; i++)
			val[(unsigned char)a[i]] = (signed char)i;
	}
	if (sb_reserve(o, n / 4 * 3 + 3) == -1)
		return;
	w = o->p + o->len;
	/* Anything outside the alphabet (line breaks, "=") is skipped. */
	for (i = 0; i < n; i++) {
		if ((v = val[(unsigned char)s[i]]) < 0)
			continue;
		acc = (acc << 6 | (unsigned long)v) & 0xffffff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			*w++ = (char)(acc >> bits & 0xff);
		}
	}
	o->len = w - o->p;
	o->p[o->len] = '\0';
}

/* RFC 2045 6.7; with q set, RFC 2047 4.2's Q ("_" is a space). */
static void
qp_decode(struct sb *o, const char *s, size_t n, int q)
{
	size_t	 i, st = 0;
	int	 h, l;
	char	 t;

	for (i = 0; i < n; i++) {
		if (s[i] == '_' && q) {
			sb_add(o, s + st, i - st);
			sb_add(o, " ", 1);
			st = i + 1;
		} else if (s[i] == '=') {
			sb_add(o, s + st, i - st);
			if (i + 2 < n &&
			    (h = hexval((unsigned char)s[i + 1])) >= 0 &&
			    (l = hexval((unsigned char)s[i + 2])) >= 0) {
				t = (char)(h << 4 | l);
				sb_add(o, &t, 1);
				i += 2;
			} else if (i + 1 < n && s[i + 1] == '\n')
				/* soft line break */
				i += 1;
			else if (i + 2 < n && s[i + 1] == '\r' &&
			    s[i + 2] == '\n')
				i += 2;
			else
				sb_add(o, "=", 1);
			st = i + 1;
		}
	}
	sb_add(o, s + st, n - st);
}

/* One encoded word "=?cs?e?text?=" at p (RFC 2047 2); 0 if not one. */
static size_t
ew_decode(struct sb *o, const char *p, const char *e)
{
	const char	*cs, *q1, *q2, *end, *star;
	struct sb	 raw = { 0 };
	int		 enc;

	if (e - p < 8 || p[0] != '=' || p[1] != '?')
		return 0;
	cs = p + 2;
	if ((q1 = memchr(cs, '?', e - cs)) == NULL || q1 + 3 >= e ||
	    q1[2] != '?')
		return 0;
	enc = toupper((unsigned char)q1[1]);
	if (enc != 'B' && enc != 'Q')
		return 0;
	for (q2 = q1 + 3; q2 + 1 < e; q2++)
		if (q2[0] == '?' && q2[1] == '=')
			break;
		else if (q2[0] == ' ' || q2[0] == '\t' || q2[0] == '\n')
			return 0;
	if (q2 + 1 >= e)
		return 0;
	end = q2 + 2;
	if (enc == 'B')
		b64_decode(&raw, q1 + 3, q2 - (q1 + 3));
	else
		qp_decode(&raw, q1 + 3, q2 - (q1 + 3), 1);
	/* RFC 2231 5: "charset*language". */
	star = memchr(cs, '*', q1 - cs);
	to_utf8(o, cs, (star ? star : q1) - cs, raw.p ? raw.p : "", raw.len);
	if (raw.oom)
		o->oom = 1;
	free(raw.p);
	return end - p;
}

/*
 * A header value unfolded and with its encoded words decoded; white
 * space between two encoded words goes (RFC 2047 6.2).
 */
static void
hdr_decode(struct sb *o, const char *v, size_t n)
{
	struct sb	 u = { 0 };
	const char	*p, *e, *ws = NULL;
	size_t		 k, wsat = 0, before;
	int		 after_ew = 0;

	/* Most values hold no encoded word: just unfold them. */
	for (p = v, e = v + n; (p = memchr(p, '=', e - p)) != NULL &&
	    p + 1 < e && p[1] != '?'; p++)
		;
	if (p == NULL || p + 1 >= e) {
		unfold(o, v, n);
		return;
	}
	unfold(&u, v, n);
	p = u.p ? u.p : "";
	e = p + u.len;
	while (p < e) {
		before = o->len;
		if (*p == '=' && p + 1 < e && p[1] == '?' &&
		    (k = ew_decode(o, p, e)) > 0) {
			if (after_ew && ws != NULL && !o->oom) {
				/* Drop the white space between the words. */
				memmove(o->p + wsat, o->p + before,
				    o->len - before);
				o->len = wsat + (o->len - before);
			}
			p += k;
			after_ew = 1;
			ws = NULL;
			continue;
		}
		if (is_wsp((unsigned char)*p)) {
			if (ws == NULL) {
				ws = p;
				wsat = o->len;
			}
		} else {
			const char *q = p + 1;

			/* A run up to the next white space or "=". */
			while (q < e && *q != '=' && !is_wsp((unsigned char)*q))
				q++;
			sb_add(o, p, q - p);
			p = q;
			after_ew = 0;
			ws = NULL;
			continue;
		}
		sb_add(o, p++, 1);
	}
	if (u.oom)
		o->oom = 1;
	free(u.p);
}

static char *
needle_fold(const char *needle, size_t *n_r)
{
	char	*s;

	*n_r = strlen(needle);
	if ((s = malloc(*n_r + 1)) == NULL)
		return NULL;
	memcpy(s, needle, *n_r + 1);
	fold(s, *n_r);
	return s;
}

int
mime_search_header(const struct mime_part *root, const char *field,
    const char *needle)
{
	struct hiter	 it = { root->hdr, root->hdr + root->hdrlen };
	struct sb	 d = { 0 };
	const char	*n, *v;
	size_t		 nl, vl, nn;
	char		*nd;
	int		 found = 0;

	if ((nd = needle_fold(needle, &nn)) == NULL)
		return 0;
	while (!found && hiter_next(&it, &n, &nl, &v, &vl)) {
		if (!name_is(n, nl, field))
			continue;
		if (nn == 0) {
			found = 1;
			break;
		}
		d.len = 0;
		hdr_decode(&d, v, vl);
		if (d.oom)
			break;
		fold(d.p, d.len);
		found = contains(d.p, d.len, nd, nn);
	}
	free(d.p);
	free(nd);
	return found;
}

/*
 * The header fields SEARCH FROM, TO, CC, BCC and SUBJECT read, for
 * imapd's structure cache: every value of each, decoded and folded as
 * mime_search_header compares them, as a record of the field's place in
 * search_fields (one byte), a 32-bit length and the text. With it cached,
 * those keys need not read the message again.
 */
static const char *const search_fields[] = {
	"FROM", "TO", "CC", "BCC", "SUBJECT"
};
#define NSEARCH_FIELDS	(sizeof search_fields / sizeof search_fields[0])

char *
mime_search_fields(const struct mime_part *root, size_t *len_r)
{
	struct hiter	 it = { root->hdr, root->hdr + root->hdrlen };
	struct sb	 o = { 0 }, d = { 0 };
	const char	*n, *v;
	size_t		 nl, vl, i;
	unsigned char	 idx;
	uint32_t	 len;

	sb_reserve(&o, 0);
	while (!o.oom && !d.oom && hiter_next(&it, &n, &nl, &v, &vl)) {
		for (i = 0; i < NSEARCH_FIELDS; i++)
			if (name_is(n, nl, search_fields[i]))
				break;
		if (i == NSEARCH_FIELDS)
			continue;
		d.len = 0;
		hdr_decode(&d, v, vl);
		fold(d.p, d.len);
		idx = (unsigned char)i;
		len = (uint32_t)d.len;
		sb_add(&o, (const char *)&idx, 1);
		sb_add(&o, (const char *)&len, sizeof len);
		if (d.len > 0)
			sb_add(&o, d.p, d.len);
	}
	free(d.p);
	if (o.oom || d.oom) {
		free(o.p);
		return NULL;
	}
	*len_r = o.len;
	return o.p;
}

/*
 * mime_search_header over what mime_search_fields made: 1 or 0, or -1
 * for a field that is not there to be read.
 */
int
mime_search_cached(const char *f, size_t n, const char *field,
    const char *needle)
{
	size_t		 i, nn, off = 0;
	uint32_t	 len;
	char		*nd;
	int		 found = 0;

	for (i = 0; i < NSEARCH_FIELDS; i++)
		if (strcasecmp(field, search_fields[i]) == 0)
			break;
	if (i == NSEARCH_FIELDS || (nd = needle_fold(needle, &nn)) == NULL)
		return -1;
	while (!found && n - off > sizeof len) {
		memcpy(&len, f + off + 1, sizeof len);
		if (len > n - off - 1 - sizeof len)
			break;
		found = (unsigned char)f[off] == i &&
		    (nn == 0 || contains(f + off + 1 + sizeof len, len, nd, nn));
		off += 1 + sizeof len + len;
	}
	free(nd);
	return found;
}

/* A leaf body, transfer-decoded and in UTF-8, into o. */
static void
body_decode(struct sb *o, const struct mime_part *m)
{
	struct sb	 t = { 0 };
	struct ctype	 ct;
	struct plist	 l = { 0 };
	const char	*v, *cs = NULL, *s, *p, *e;
	size_t		 n, csn = 0;
	int		 enc = 0;

	if (hdr_get(m, "content-transfer-encoding", &v, &n)) {
		e = v + n;
		s = p = skip_cfws(v, e);
		while (p < e && is_token((unsigned char)*p))
			p++;
		if (name_is(s, p - s, "base64"))
			enc = 'B';
		else if (name_is(s, p - s, "quoted-printable"))
			enc = 'Q';
	}
	ctype_get(m, &ct);
	if (ct.rest != NULL && name_is(ct.type, ct.tlen, "text")) {
		params_parse(&l, ct.rest, ct.end);
		cs = param_val(&l, "charset", &csn);
	}
	if (enc == 'B')
		b64_decode(&t, m->body, m->bodylen);
	else if (enc == 'Q')
		qp_decode(&t, m->body, m->bodylen, 0);
	if (enc != 0)
		to_utf8(o, cs, csn, t.p ? t.p : "", t.len);
	else
		to_utf8(o, cs, csn, m->body, m->bodylen);
	if (t.oom || l.oom)
		o->oom = 1;
	free(t.p);
	plist_free(&l);
}

/*
 * The text SEARCH BODY and TEXT look in, decoded and folded once per
 * message however many keys ask (a 10 MB base64 body decoded again for
 * each of 256 keys took 29 s): one segment for the header of each part
 * and one for each leaf body, in document order. A string matches within
 * a segment, never across two, as when each was decoded for each key.
 */
struct mime_text {
	struct sb	 buf;
	struct tseg {
		size_t	 off, len;
		int	 body;
	}		*seg;
	size_t		 nseg, cap;
	int		 oom;
};

/* The bytes added to t->buf since off become a segment, folded. */
static void
text_seg(struct mime_text *t, size_t off, int body)
{
	struct tseg	*ns;
	size_t		 nc;

	if (t->buf.oom || t->oom) {
		t->oom = 1;
		return;
	}
	if (t->nseg == t->cap) {
		nc = t->cap ? t->cap * 2 : 8;
		if ((ns = realloc(t->seg, nc * sizeof *ns)) == NULL) {
			t->oom = 1;
			return;
		}
		t->seg = ns;
		t->cap = nc;
	}
	fold(t->buf.p + off, t->buf.len - off);
	t->seg[t->nseg].off = off;
	t->seg[t->nseg].len = t->buf.len - off;
	t->seg[t->nseg++].body = body;
}

static void
text_part(struct mime_text *t, const struct mime_part *m)
{
	struct hiter		 it = { m->hdr, m->hdr + m->hdrlen };
	const struct mime_part	*k;
	const char		*n, *v;
	size_t			 nl, vl, off = t->buf.len;

	while (hiter_next(&it, &n, &nl, &v, &vl)) {
		sb_add(&t->buf, n, nl);
		sb_add(&t->buf, ": ", 2);
		hdr_decode(&t->buf, v, vl);
		sb_add(&t->buf, "\n", 1);
	}
	text_seg(t, off, 0);
	if (m->kind == MK_LEAF) {
		off = t->buf.len;
		body_decode(&t->buf, m);
		text_seg(t, off, 1);
		return;
	}
	for (k = m->child; k != NULL && !t->oom; k = k->next)
		text_part(t, k);
}

/* NULL only when out of memory for the structure itself. */
struct mime_text *
mime_text(const struct mime_part *root)
{
	struct mime_text	*t;

	if ((t = calloc(1, sizeof *t)) == NULL)
		return NULL;
	sb_add(&t->buf, "", 0);
	text_part(t, root);
	return t;
}

/*
 * BODY looks in the leaf bodies, TEXT in the headers too (RFC 3501
 * 6.4.4), case-insensitively. Text that could not be made in memory
 * matches nothing.
 */
int
mime_text_search(const struct mime_text *t, const char *needle,
    int body_only)
{
	size_t		 i, nn;
	char		*nd;
	int		 found = 0;

	if (t->oom || (nd = needle_fold(needle, &nn)) == NULL)
		return 0;
	for (i = 0; !found && i < t->nseg; i++)
		if (t->seg[i].body || !body_only)
			found = contains(t->buf.p + t->seg[i].off,
			    t->seg[i].len, nd, nn);
	free(nd);
	return found;
}

void
mime_text_free(struct mime_text *t)
{
	if (t == NULL)
		return;
	free(t->buf.p);
	free(t->seg);
	free(t);
}

/* ----------------------------------------------------------- sent date */

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t	 era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/*
 * RFC 5322 3.3 and 4.3: [day-of-week ","] day month year ...; the
 * time and zone do not matter here (RFC 3501 6.4.4 SENTON and so on
 * compare the date as written).  Two-digit years are 19xx from 50 on
 * and 20xx below, three-digit ones add 1900.
 */
int
mime_sent_date(const struct mime_part *root, int64_t *day_r)
{
	static const char	 mon[] =
	    "janfebmaraprmayjunjulaugsepoctnovdec";
	const char		*v, *p, *e, *s;
	size_t			 n, i;
	int64_t			 y = 0;
	int			 d = 0, m = 0, nd;

	if (!hdr_get(root, "date", &v, &n))
		return -1;
	e = v + n;
	p = skip_cfws(v, e);
	if (p < e && isalpha((unsigned char)*p)) {
		while (p < e && isalpha((unsigned char)*p))
			p++;
		p = skip_cfws(p, e);
		if (p < e && *p == ',')
			p = skip_cfws(p + 1, e);
	}
	for (nd = 0; p < e && isdigit((unsigned char)*p) && nd < 3; p++, nd++)
		d = d * 10 + (*p - '0');
	if (nd == 0 || d < 1 || d > 31)
		return -1;
	while (p < e && (*p == '-' || is_wsp((unsigned char)*p) ||
	    *p == '\r' || *p == '\n'))
		p++;
	p = skip_cfws(p, e);
	if (e - p < 3)
		return -1;
	for (i = 0; i < 12; i++)
		if (strncasecmp(p, mon + 3 * i, 3) == 0)
			break;
	if (i == 12)
		return -1;
	m = (int)i + 1;
	for (p += 3; p < e && isalpha((unsigned char)*p); p++)
		;	/* a month written out in full */
	while (p < e && (*p == '-' || is_wsp((unsigned char)*p) ||
	    *p == '\r' || *p == '\n'))
		p++;
	p = skip_cfws(p, e);
	for (s = p; p < e && isdigit((unsigned char)*p) && p - s < 5; p++)
		y = y * 10 + (*p - '0');
	if (p - s < 2 || (p < e && isdigit((unsigned char)*p)))
		return -1;
	if (p - s == 2)
		y += y < 50 ? 2000 : 1900;
	else if (p - s == 3)
		y += 1900;
	if (d > 28) {
		static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31,
		    30, 31, 30, 31 };
		int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
		if (d > mdays[m - 1] || (m == 2 && d == 29 && !leap))
			return -1;
	}
	*day_r = days_from_civil(y, m, d) * 86400;
	return 0;
}
