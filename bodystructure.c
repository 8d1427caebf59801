/*
 * bodystructure.c: BODY and BODYSTRUCTURE (RFC 3501 section 7.4.2) of a
 * parsed message: media types, parameters (RFC 2231 continuations
 * joined), disposition, language and sizes, as Dovecot writes them
 * where RFC 3501 leaves a choice.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mime.h"
#include "mimeint.h"

static int
base_eq(const struct param *a, const struct param *b)
{
	return a->blen == b->blen &&
	    strncasecmp(a->name, b->name, a->blen) == 0;
}

/* Opens a parenthesized list before its first item. */
static void
list_item(struct buf *b, int *any)
{
	buf_adds(b, *any ? " " : "(");
	*any = 1;
}

/*
 * Joins the RFC 2231 sections 0, 1, ... of the parameter at i into v
 * (each section once, by number) and marks all its sections used.
 * Returns how many were joined; *bn_r is the name of section 0 and
 * *ext_r whether any section was extended.
 */
static int
cont_join(struct plist *l, size_t i, struct buf *v, const char **bn_r,
    int *ext_r)
{
	size_t	 j, k;
	int	 sec;

	*ext_r = 0;
	*bn_r = l->p[i].name;
	for (sec = 0; ; sec++) {
		k = l->n;
		for (j = i; j < l->n; j++)
			if (!l->p[j].used && l->p[j].sec == sec &&
			    base_eq(&l->p[i], &l->p[j])) {
				k = j;
				break;
			}
		if (k == l->n)
			break;
		l->p[k].used = 1;
		if (sec == 0)
			*bn_r = l->p[k].name;
		*ext_r |= l->p[k].ext;
		buf_add(v, l->p[k].val ? l->p[k].val : "", l->p[k].vlen);
	}
	/* Sections past a gap are dropped (RFC 2231 has no gaps). */
	for (j = i; j < l->n; j++)
		if (l->p[j].sec >= 0 && base_eq(&l->p[i], &l->p[j]))
			l->p[j].used = 1;
	return sec;
}

/* A joined parameter's name: the base name, "name*" when extended. */
static void
cont_name(struct buf *b, const char *bn, size_t blen, int ext)
{
	struct buf	 nm = { 0 };

	buf_add(&nm, bn, blen);
	if (ext)
		buf_add(&nm, "*", 1);
	if (nm.oom)
		b->oom = 1;
	mime_string(b, nm.p ? nm.p : "", nm.len, 0);
	free(nm.p);
}

/* The RFC 2231 continuation whose first section seen is at i. */
static void
cont_write(struct buf *b, struct plist *l, size_t i, int *any)
{
	struct buf	 v = { 0 };
	const char	*bn;
	int		 ext, sec;

	sec = cont_join(l, i, &v, &bn, &ext);
	if (v.oom)
		b->oom = 1;
	if (v.len == 0 && v.p == NULL && sec == 0) {
		free(v.p);
		return;
	}
	list_item(b, any);
	cont_name(b, bn, l->p[i].blen, ext);
	buf_add(b, " ", 1);
	mime_string(b, v.p ? v.p : "", v.len, 0);
	free(v.p);
}

/*
 * Writes the list as body-fld-param.  Plain parameters come first, in
 * order; then RFC 2231 continuations, each joined in section order
 * under its base name ("name*" when any section is extended, whose
 * charset'language' prefix and %XX escapes are kept as Dovecot does).
 * A text part gets charset=us-ascii when it has none (RFC 2045 5.2).
 */
static void
write_params(struct buf *b, struct plist *l, int add_charset)
{
	size_t	 i, dummy;
	int	 any = 0;

	for (i = 0; i < l->n; i++)
		l->p[i].used = 0;
	for (i = 0; i < l->n; i++) {
		if (l->p[i].sec >= 0)
			continue;
		list_item(b, &any);
		mime_string(b, l->p[i].name, l->p[i].nlen, 0);
		buf_add(b, " ", 1);
		mime_string(b, l->p[i].val ? l->p[i].val : "", l->p[i].vlen, 0);
	}
	for (i = 0; i < l->n; i++)
		if (l->p[i].sec >= 0 && !l->p[i].used)
			cont_write(b, l, i, &any);
	if (add_charset && mime_param_val(l, "charset", &dummy) == NULL) {
		list_item(b, &any);
		buf_adds(b, "\"charset\" \"us-ascii\"");
	}
	buf_adds(b, any ? ")" : "NIL");
}

/* ------------------------------------------------------ bodystructure */

/* An unstructured field as nstring (Content-ID, -Description, ...). */
static void
field_nstring(struct buf *o, const struct mime_part *m, const char *name)
{
	env_text(o, m, name, 0, 0);
}

/* Content-Disposition: ("type" (params)) or NIL (RFC 2183). */
static void
disposition(struct buf *o, const struct mime_part *m)
{
	struct plist	 l = { 0 };
	const char	*v, *p, *e, *s;
	size_t		 n;

	if (!mime_hdr_get(m, "content-disposition", &v, &n)) {
		buf_adds(o, "NIL");
		return;
	}
	e = v + n;
	s = p = mime_skip_cfws(v, e);
	while (p < e && mime_is_token((unsigned char)*p))
		p++;
	if (p == s) {
		buf_adds(o, "NIL");
		return;
	}
	buf_add(o, "(", 1);
	mime_string(o, s, p - s, 0);
	buf_add(o, " ", 1);
	mime_params_parse(&l, p, e);
	if (l.oom)
		o->oom = 1;
	write_params(o, &l, 0);
	mime_plist_free(&l);
	buf_add(o, ")", 1);
}

static void
language(struct buf *o, const struct mime_part *m)
{
	const char	*v, *p, *e, *s;
	size_t		 n;
	int		 any = 0;

	if (!mime_hdr_get(m, "content-language", &v, &n)) {
		buf_adds(o, "NIL");
		return;
	}
	e = v + n;
	for (p = v;;) {
		p = mime_skip_cfws(p, e);
		while (p < e && *p == ',')
			p = mime_skip_cfws(p + 1, e);
		if (p >= e)
			break;
		for (s = p; p < e && *p != ',' && *p != '(' &&
		    !mime_is_wsp((unsigned char)*p) && *p != '\r' &&
		    *p != '\n'; p++)
			;
		list_item(o, &any);
		mime_string(o, s, p - s, 0);
	}
	buf_adds(o, any ? ")" : "NIL");
}

/* The extension data after md5 or the multipart's parameters. */
static void
ext_single(struct buf *o, const struct mime_part *m)
{
	disposition(o, m);
	buf_add(o, " ", 1);
	language(o, m);
	buf_add(o, " ", 1);
	field_nstring(o, m, "content-location");
}

static void bodystructure(struct buf *, const struct mime_part *, int);

/* The media type's parameters as body-fld-param. */
static void
type_params(struct buf *o, const struct ctype *ct, int add_charset)
{
	struct plist	 l = { 0 };

	if (ct->rest != NULL)
		mime_params_parse(&l, ct->rest, ct->end);
	if (l.oom)
		o->oom = 1;
	write_params(o, &l, add_charset);
	mime_plist_free(&l);
}

/* A multipart: its parts, subtype, and the extension data. */
static void
bs_multi(struct buf *o, const struct mime_part *m, const struct ctype *ct,
    int ext)
{
	const struct mime_part	*k;

	buf_add(o, "(", 1);
	for (k = m->child; k != NULL; k = k->next)
		bodystructure(o, k, ext);
	buf_add(o, " ", 1);
	mime_string(o, ct->sub, ct->slen, 0);
	if (ext) {
		buf_add(o, " ", 1);
		type_params(o, ct, 0);
		buf_add(o, " ", 1);
		ext_single(o, m);
	}
	buf_add(o, ")", 1);
}

static void
bs_type(struct buf *o, const struct mime_part *m, const struct ctype *ct)
{
	if (m->kind == MK_MESSAGE)
		buf_adds(o, "\"message\" \"rfc822\"");	/* as Dovecot */
	else if (m->opaque)
		buf_adds(o, "\"application\" \"octet-stream\"");
	else {
		mime_string(o, ct->type, ct->tlen, 0);
		buf_add(o, " ", 1);
		mime_string(o, ct->sub, ct->slen, 0);
	}
}

/* Content-Transfer-Encoding's token, "7bit" without one. */
static void
bs_encoding(struct buf *o, const struct mime_part *m)
{
	const char	*v;
	size_t		 n;

	if (mime_hdr_get(m, "content-transfer-encoding", &v, &n) && n > 0) {
		const char *e = v + n, *s = mime_skip_cfws(v, e), *p = s;
		while (p < e && mime_is_token((unsigned char)*p))
			p++;
		if (p > s)
			mime_string(o, s, p - s, 0);
		else
			buf_adds(o, "\"7bit\"");
	} else
		buf_adds(o, "\"7bit\"");
}

/* What follows a message/rfc822 part's size: its message and lines. */
static void
bs_message(struct buf *o, const struct mime_part *m, int ext)
{
	buf_add(o, " ", 1);
	env_write(o, m->child);
	buf_add(o, " ", 1);
	bodystructure(o, m->child, ext);
	buf_add(o, " ", 1);
	buf_addu(o, m->lines);
}

static void
bodystructure(struct buf *o, const struct mime_part *m, int ext)
{
	struct ctype	 ct;
	int		 text;

	mime_ctype_get(m, &ct);
	if (m->kind == MK_MULTI) {
		bs_multi(o, m, &ct, ext);
		return;
	}
	text = !m->opaque && mime_name_is(ct.type, ct.tlen, "text");
	buf_add(o, "(", 1);
	bs_type(o, m, &ct);
	buf_add(o, " ", 1);
	type_params(o, &ct, text);
	buf_add(o, " ", 1);
	field_nstring(o, m, "content-id");
	buf_add(o, " ", 1);
	field_nstring(o, m, "content-description");
	buf_add(o, " ", 1);
	bs_encoding(o, m);
	buf_add(o, " ", 1);
	/* Octets as sent: Dovecot sends a bare LF as CRLF. */
	buf_addu(o, m->bodylen + m->bare);
	if (m->kind == MK_MESSAGE && m->child != NULL)
		bs_message(o, m, ext);
	else if (text) {
		buf_add(o, " ", 1);
		buf_addu(o, m->lines);
	}
	if (ext) {
		buf_add(o, " ", 1);
		field_nstring(o, m, "content-md5");
		buf_add(o, " ", 1);
		ext_single(o, m);
	}
	buf_add(o, ")", 1);
}

char *
mime_bodystructure(const struct mime_part *root, int extended, size_t *len_r)
{
	struct buf	 o = { 0 };

	bodystructure(&o, root, extended);
	return buf_finish(&o, len_r);
}
