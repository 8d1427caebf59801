/*
 * mime.c: the MIME structure of a stored message (RFC 5322, 2045, 2046,
 * 2047, 2231), the header, parameter and media type readers that
 * envelope.c and bodystructure.c render it with (RFC 3501 section
 * 7.4.2), and section lookup (6.4.5). The SEARCH tests over it are in
 * mimesearch.c.
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
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "imapd.h"
#include "mime.h"
#include "mimeint.h"

/*
 * An IMAP string (RFC 3501 section 4.3): quoted when that is plain,
 * else a literal.  Dovecot's choice is followed: a literal for CR, LF
 * and 8-bit bytes, for more than four characters to escape, and when
 * "force" is set (a folded subject or name).  A literal cannot
 * carry NUL either, so NULs are dropped.
 */
void
mime_string(struct buf *b, const char *s, size_t n, int force)
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
		buf_add(b, "\"", 1);
		for (i = 0; i < n; i++) {
			if (s[i] == '\0')
				continue;
			if (s[i] == '"' || s[i] == '\\')
				buf_add(b, "\\", 1);
			buf_add(b, s + i, 1);
		}
		buf_add(b, "\"", 1);
		return;
	}
	snprintf(t, sizeof t, "{%zu}\r\n", n - nul);
	buf_adds(b, t);
	if (nul == 0) {
		buf_add(b, s, n);
		return;
	}
	for (i = 0; i < n; i++)
		if (s[i] != '\0')
			buf_add(b, s + i, 1);
}

void
mime_nstring(struct buf *b, const char *s, size_t n)
{
	if (s == NULL)
		buf_adds(b, "NIL");
	else
		mime_string(b, s, n, 0);
}

/* ------------------------------------------------------------ headers */

/*
 * The next field: its name and its raw value (folding kept, leading
 * white space and the final line break dropped).  Lines without a
 * colon are skipped, as a forgiving reader would.
 */
int
mime_hiter_next(struct hiter *it, const char **name_r, size_t *nlen_r,
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
			if (nl + 1 < e && mime_is_wsp((unsigned char)nl[1])) {
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
		while (nlen > 0 && mime_is_wsp((unsigned char)p[nlen - 1]))
			nlen--;	/* RFC 5322 4.5.3: WSP before colon */
		colon++;
		while (colon < fe && (mime_is_wsp((unsigned char)*colon) ||
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
mime_name_is(const char *n, size_t len, const char *want)
{
	return strlen(want) == len && strncasecmp(n, want, len) == 0;
}

/* The raw value of the first field called name, or 0. */
int
mime_hdr_get(const struct mime_part *m, const char *name,
    const char **v_r, size_t *n_r)
{
	struct hiter	 it = { m->hdr, m->hdr + m->hdrlen };
	const char	*n;
	size_t		 nl;

	while (mime_hiter_next(&it, &n, &nl, v_r, n_r))
		if (mime_name_is(n, nl, name))
			return 1;
	return 0;
}

/*
 * The last field called name: ENVELOPE takes the last of repeated
 * fields, as Dovecot does (RFC 5322 3.6 allows only one of each).
 */
int
mime_hdr_get_last(const struct mime_part *m, const char *name,
    const char **v_r, size_t *n_r)
{
	struct hiter	 it = { m->hdr, m->hdr + m->hdrlen };
	const char	*n, *v;
	size_t		 nl, vl;
	int		 found = 0;

	while (mime_hiter_next(&it, &n, &nl, &v, &vl))
		if (mime_name_is(n, nl, name)) {
			*v_r = v;
			*n_r = vl;
			found = 1;
		}
	return found;
}

/* Unfolds into b: CR and LF go, the white space after them stays. */
void
mime_unfold(struct buf *b, const char *v, size_t n)
{
	size_t	 i, s = 0;

	for (i = 0; i < n; i++)
		if (v[i] == '\r' || v[i] == '\n' || v[i] == '\0') {
			buf_add(b, v + s, i - s);
			s = i + 1;
		}
	buf_add(b, v + s, n - s);
}
/* --------------------------------------------------------- parameters */

void
mime_plist_free(struct plist *l)
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
mime_is_token(int c)
{
	return c > ' ' && c != 0x7f && !is_tspecial(c);
}

/* Skips white space, line breaks and (nested) comments. */
const char *
mime_skip_cfws(const char *p, const char *e)
{
	int	 depth;

	for (;;) {
		while (p < e && (mime_is_wsp((unsigned char)*p) || *p == '\r' ||
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
read_value(struct buf *b, const char *p, const char *e)
{
	if (p < e && *p == '"') {
		for (p++; p < e && *p != '"'; p++) {
			if (*p == '\\' && p + 1 < e)
				p++;
			if (*p != '\r' && *p != '\n')
				buf_add(b, p, 1);
		}
		return p < e ? p + 1 : p;
	}
	while (p < e && *p != ';' && !mime_is_wsp((unsigned char)*p) &&
	    *p != '\r' && *p != '\n' && *p != '(')
		buf_add(b, p++, 1);
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
mime_params_parse(struct plist *l, const char *p, const char *e)
{
	struct buf	 v;
	struct param	*np;
	const char	*n;

	for (;;) {
		while (p < e && *p != ';')
			p++;
		if (p >= e)
			return;
		p = mime_skip_cfws(p + 1, e);
		for (n = p; p < e && mime_is_token((unsigned char)*p) &&
		    *p != '='; p++)
			;
		if (p == n)
			continue;
		{
			const char *ne = p;
			p = mime_skip_cfws(p, e);
			if (p >= e || *p != '=')
				continue;
			p = mime_skip_cfws(p + 1, e);
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
			np = buf_grow(l->p, &l->cap, l->n, sizeof *np);
			if (np == NULL) {
				l->oom = 1;
				free(v.p);
				return;
			}
			l->p = np;
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
mime_param_val(const struct plist *l, const char *name, size_t *n_r)
{
	size_t	 i;

	for (i = 0; i < l->n; i++)
		if (l->p[i].sec < 0 &&
		    mime_name_is(l->p[i].name, l->p[i].nlen, name)) {
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
mime_ctype_get(const struct mime_part *m, struct ctype *ct)
{
	const char	*v, *p, *e;
	size_t		 n;

	memset(ct, 0, sizeof *ct);
	if (mime_hdr_get(m, "content-type", &v, &n)) {
		e = v + n;
		p = mime_skip_cfws(v, e);
		ct->type = p;
		while (p < e && mime_is_token((unsigned char)*p))
			p++;
		ct->tlen = p - ct->type;
		p = mime_skip_cfws(p, e);
		if (ct->tlen > 0 && p < e && *p == '/') {
			p = mime_skip_cfws(p + 1, e);
			ct->sub = p;
			while (p < e && mime_is_token((unsigned char)*p))
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
	return mime_name_is(ct->type, ct->tlen, t) &&
	    (s == NULL || mime_name_is(ct->sub, ct->slen, s));
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
	mime_params_parse(&l, ct->rest, ct->end);
	v = mime_param_val(&l, "boundary", &n);
	if (v != NULL && n > 0 && n <= 200 && (r = malloc(n + 1)) != NULL) {
		memcpy(r, v, n);
		r[n] = '\0';
	}
	mime_plist_free(&l);
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
	mime_ctype_get(m, &ct);
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

/*
 * The Content-Transfer-Encoding of a part (RFC 2045 6.1), by its first
 * token, as SEARCH always read it: absent is 7bit; 7bit, 8bit and binary
 * are identities (6.2).
 */
int
mime_cte(const struct mime_part *m)
{
	const char	*v, *s, *p, *e;
	size_t		 n;

	if (!mime_hdr_get(m, "content-transfer-encoding", &v, &n))
		return CTE_IDENTITY;
	e = v + n;
	s = p = mime_skip_cfws(v, e);
	while (p < e && mime_is_token((unsigned char)*p))
		p++;
	if (mime_name_is(s, p - s, "base64"))
		return CTE_BASE64;
	if (mime_name_is(s, p - s, "quoted-printable"))
		return CTE_QP;
	if (mime_name_is(s, p - s, "7bit") || mime_name_is(s, p - s, "8bit") ||
	    mime_name_is(s, p - s, "binary"))
		return CTE_IDENTITY;
	return CTE_UNKNOWN;
}

/* Bare LF in b from byte start on become CRLF. */
static void
crlf_from(struct buf *b, size_t start)
{
	struct buf	 t = { 0 };
	size_t		 i, s = start;

	for (i = start; i < b->len; i++)
		if (b->p[i] == '\n' && (i == 0 || b->p[i - 1] != '\r')) {
			if (t.p == NULL)
				buf_add(&t, b->p, start);
			buf_add(&t, b->p + s, i - s);
			buf_add(&t, "\r", 1);
			s = i;
		}
	if (t.p == NULL)
		return;
	buf_add(&t, b->p + s, b->len - s);
	if (t.oom)
		b->oom = 1;
	free(b->p);
	*b = t;
}

/*
 * A leaf part's body with its transfer encoding removed, appended to o
 * (FETCH BINARY, RFC 3516 4.2; RFC 9051 6.4.5). Text goes out with CRLF
 * line ends, however it was stored or encoded (RFC 3516 6). With o
 * NULL, only whether it can be done. Returns 0, MIME_NOT_LEAF for a
 * multipart or message part, MIME_UNKNOWN_CTE for an encoding imapd
 * cannot undo.
 */
int
mime_binary(const struct mime_part *m, struct buf *o)
{
	struct ctype	 ct;
	size_t		 start;
	int		 cte;

	if (m->kind != MK_LEAF)
		return MIME_NOT_LEAF;
	if ((cte = mime_cte(m)) == CTE_UNKNOWN)
		return MIME_UNKNOWN_CTE;
	if (o == NULL)
		return 0;
	start = o->len;
	if (cte == CTE_BASE64)
		buf_add_base64(o, m->body, m->bodylen, 0);
	else if (cte == CTE_QP)
		buf_add_qp(o, m->body, m->bodylen, 0);
	else
		buf_add(o, m->body, m->bodylen);
	mime_ctype_get(m, &ct);
	if (mime_name_is(ct.type, ct.tlen, "text"))
		crlf_from(o, start);
	return 0;
}
