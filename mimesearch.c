/*
 * mimesearch.c: the SEARCH tests over a parsed message (RFC 3501
 * section 6.4.4): header fields and bodies decoded (RFC 2045 transfer
 * encodings, RFC 2047 encoded words, charsets to UTF-8) and folded for
 * case-insensitive matching, the header fields kept in the structure
 * cache, and the sent date of the Date: field.
 */
#include <ctype.h>
#include <errno.h>
#include <iconv.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "date.h"
#include "imapd.h"
#include "mime.h"
#include "mimeint.h"

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
	return mime_name_is(cs, n, want);
}

/*
 * Appends bytes in charset cs as UTF-8.  Unknown charsets, and
 * conversions that fail, fall back to the raw bytes.
 */
static void
to_utf8(struct buf *o, const char *cs, size_t csn, const char *s, size_t n)
{
	char		 name[64], out[1024], *ip, *op;
	size_t		 il, ol, i, start = o->len;
	iconv_t		 cd;

	if (cs == NULL || csn == 0 || csn >= sizeof name ||
	    cs_is(cs, csn, "utf-8") || cs_is(cs, csn, "us-ascii") ||
	    cs_is(cs, csn, "utf8") || cs_is(cs, csn, "ascii")) {
		buf_add(o, s, n);
		return;
	}
	if (cs_is(cs, csn, "iso-8859-1") || cs_is(cs, csn, "latin1")) {
		char *w;

		if (n > SIZE_MAX / 2 - 1 || buf_reserve(o, 2 * n) == -1) {
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
		buf_add(o, s, n);
		return;
	}
	ip = (char *)s;
	il = n;
	while (il > 0) {
		op = out;
		ol = sizeof out;
		if (iconv(cd, &ip, &il, &op, &ol) == (size_t)-1 &&
		    errno != E2BIG) {
			buf_add(o, out, op - out);
			if (errno == EINVAL)	/* a truncated sequence */
				break;
			/* An invalid byte: keep it and go on. */
			buf_add(o, ip, 1);
			ip++;
			il--;
			continue;
		}
		buf_add(o, out, op - out);
	}
	iconv_close(cd);
	if (o->oom)
		o->len = start;
}

/* One encoded word "=?cs?e?text?=" at p (RFC 2047 2); 0 if not one. */
static size_t
ew_decode(struct buf *o, const char *p, const char *e)
{
	const char	*cs, *q1, *q2, *end, *star;
	struct buf	 raw = { 0 };
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
		buf_add_base64(&raw, q1 + 3, q2 - (q1 + 3), 0);
	else
		buf_add_qp(&raw, q1 + 3, q2 - (q1 + 3), 1);
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
hdr_decode(struct buf *o, const char *v, size_t n)
{
	struct buf	 u = { 0 };
	const char	*p, *e, *ws = NULL;
	size_t		 k, wsat = 0, before;
	int		 after_ew = 0;

	/* Most values hold no encoded word: just unfold them. */
	for (p = v, e = v + n; (p = memchr(p, '=', e - p)) != NULL &&
	    p + 1 < e && p[1] != '?'; p++)
		;
	if (p == NULL || p + 1 >= e) {
		mime_unfold(o, v, n);
		return;
	}
	mime_unfold(&u, v, n);
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
		if (mime_is_wsp((unsigned char)*p)) {
			if (ws == NULL) {
				ws = p;
				wsat = o->len;
			}
		} else {
			const char *q = p + 1;

			/* A run up to the next white space or "=". */
			while (q < e && *q != '=' &&
			    !mime_is_wsp((unsigned char)*q))
				q++;
			buf_add(o, p, q - p);
			p = q;
			after_ew = 0;
			ws = NULL;
			continue;
		}
		buf_add(o, p++, 1);
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
	struct buf	 d = { 0 };
	const char	*n, *v;
	size_t		 nl, vl, nn;
	char		*nd;
	int		 found = 0;

	if ((nd = needle_fold(needle, &nn)) == NULL)
		return 0;
	while (!found && mime_hiter_next(&it, &n, &nl, &v, &vl)) {
		if (!mime_name_is(n, nl, field))
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
	struct buf	 o = { 0 }, d = { 0 };
	const char	*n, *v;
	size_t		 nl, vl, i;
	unsigned char	 idx;
	uint32_t	 len;

	buf_reserve(&o, 0);
	while (!o.oom && !d.oom && mime_hiter_next(&it, &n, &nl, &v, &vl)) {
		for (i = 0; i < NSEARCH_FIELDS; i++)
			if (mime_name_is(n, nl, search_fields[i]))
				break;
		if (i == NSEARCH_FIELDS)
			continue;
		d.len = 0;
		hdr_decode(&d, v, vl);
		fold(d.p, d.len);
		idx = (unsigned char)i;
		len = (uint32_t)d.len;
		buf_add(&o, (const char *)&idx, 1);
		buf_add(&o, (const char *)&len, sizeof len);
		if (d.len > 0)
			buf_add(&o, d.p, d.len);
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
		found = (unsigned char)f[off] == i && (nn == 0 ||
		    contains(f + off + 1 + sizeof len, len, nd, nn));
		off += 1 + sizeof len + len;
	}
	free(nd);
	return found;
}

/*
 * A leaf body, transfer-decoded and in UTF-8, into o. An encoding imapd
 * does not know is searched as it is stored.
 */
static void
body_decode(struct buf *o, const struct mime_part *m)
{
	struct buf	 t = { 0 };
	struct ctype	 ct;
	struct plist	 l = { 0 };
	const char	*cs = NULL;
	size_t		 csn = 0;
	int		 enc = mime_cte(m);

	mime_ctype_get(m, &ct);
	if (ct.rest != NULL && mime_name_is(ct.type, ct.tlen, "text")) {
		mime_params_parse(&l, ct.rest, ct.end);
		cs = mime_param_val(&l, "charset", &csn);
	}
	if (enc == CTE_BASE64)
		buf_add_base64(&t, m->body, m->bodylen, 0);
	else if (enc == CTE_QP)
		buf_add_qp(&t, m->body, m->bodylen, 0);
	if (enc == CTE_BASE64 || enc == CTE_QP)
		to_utf8(o, cs, csn, t.p ? t.p : "", t.len);
	else
		to_utf8(o, cs, csn, m->body, m->bodylen);
	if (t.oom || l.oom)
		o->oom = 1;
	free(t.p);
	mime_plist_free(&l);
}

/*
 * The text SEARCH BODY and TEXT look in, decoded and folded once per
 * message however many keys ask (a 10 MB base64 body decoded again for
 * each of 256 keys took 29 s): one segment for the header of each part
 * and one for each leaf body, in document order. A string matches within
 * a segment, never across two, as when each was decoded for each key.
 */
struct mime_text {
	struct buf	 buf;
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

	if (t->buf.oom || t->oom) {
		t->oom = 1;
		return;
	}
	if ((ns = buf_grow(t->seg, &t->cap, t->nseg, sizeof *ns)) == NULL) {
		t->oom = 1;
		return;
	}
	t->seg = ns;
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

	while (mime_hiter_next(&it, &n, &nl, &v, &vl)) {
		buf_add(&t->buf, n, nl);
		buf_add(&t->buf, ": ", 2);
		hdr_decode(&t->buf, v, vl);
		buf_add(&t->buf, "\n", 1);
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
	buf_add(&t->buf, "", 0);
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

/* Past a separator between date parts: "-", white space, CFWS. */
static const char *
date_gap(const char *p, const char *e)
{
	while (p < e && (*p == '-' || mime_is_wsp((unsigned char)*p) ||
	    *p == '\r' || *p == '\n'))
		p++;
	return mime_skip_cfws(p, e);
}

/* At most max digits as a number; the count read in *nd_r. */
static const char *
date_digits(const char *p, const char *e, int max, int64_t *v_r, int *nd_r)
{
	int	 nd;

	*v_r = 0;
	for (nd = 0; p < e && isdigit((unsigned char)*p) && nd < max;
	    p++, nd++)
		*v_r = *v_r * 10 + (*p - '0');
	*nd_r = nd;
	return p;
}

/* Past an optional day of the week and its comma. */
static const char *
date_weekday(const char *p, const char *e)
{
	p = mime_skip_cfws(p, e);
	if (p >= e || !isalpha((unsigned char)*p))
		return p;
	while (p < e && isalpha((unsigned char)*p))
		p++;
	p = mime_skip_cfws(p, e);
	return p < e && *p == ',' ? mime_skip_cfws(p + 1, e) : p;
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
	const char	*v, *p, *e;
	size_t		 n;
	int64_t		 d, y;
	int		 m, nd;

	if (!mime_hdr_get(root, "date", &v, &n))
		return -1;
	e = v + n;
	p = date_digits(date_weekday(v, e), e, 3, &d, &nd);
	if (nd == 0 || d < 1 || d > 31)
		return -1;
	p = date_gap(p, e);
	if (e - p < 3 || (m = date_month(p)) == 0)
		return -1;
	for (p += 3; p < e && isalpha((unsigned char)*p); p++)
		;	/* a month written out in full */
	p = date_digits(date_gap(p, e), e, 5, &y, &nd);
	if (nd < 2 || (p < e && isdigit((unsigned char)*p)))
		return -1;
	if (nd == 2)
		y += y < 50 ? 2000 : 1900;
	else if (nd == 3)
		y += 1900;
	if (d > date_month_days(y, m))
		return -1;
	*day_r = date_days(y, m, (int)d) * 86400;
	return 0;
}
