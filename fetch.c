/*
 * fetch.c: FETCH: its attributes parsed (sections, partial ranges,
 * macros), and each message's answer written, with \Seen set where a
 * body is fetched without .PEEK; BINARY's decoded parts (RFC 3516).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "buf.h"
#include "date.h"
#include "imapd.h"
#include "mime.h"
#include "command.h"
#include "io.h"
#include "log.h"
#include "msg.h"
#include "reply.h"
#include "session.h"

enum {
	FA_FLAGS, FA_UID, FA_INTERNALDATE, FA_SIZE, FA_MODSEQ, FA_BODY,
	FA_ENVELOPE, FA_STRUCTURE, FA_BODYSTRUCTURE, FA_EMAILID, FA_THREADID,
	FA_SAVEDATE, FA_BINARY, FA_BINARY_SIZE
};
enum { SEC_ALL, SEC_HEADER, SEC_TEXT, SEC_FIELDS, SEC_FIELDS_NOT, SEC_MIME };

struct fatt {
	int	 kind;
	int	 peek;		/* does not set \Seen */
	int	 section;
	uint32_t path[MIME_DEPTH_MAX];	/* part numbers, RFC 3501 6.4.5 */
	size_t	 depth;
	char	**fields;
	size_t	 nfields;
	int	 partial;
	uint32_t origin, count;
	char	 name[64];	/* as the response names it, before '[' */
};


/* "<origin.count>" after a section (RFC 3501 6.4.5). */
static int
fetch_partial(const char *s, struct fatt *f)
{
	char num[32], *dot;
	size_t n = strlen(s);

	if (n == 0)
		return 0;
	if (n < 5 || s[0] != '<' || s[n - 1] != '>' || n - 2 >= sizeof num)
		return -1;
	memcpy(num, s + 1, n - 2);
	num[n - 2] = '\0';
	if ((dot = strchr(num, '.')) == NULL)
		return -1;
	*dot = '\0';
	if (parse_number(num, &f->origin) == -1 ||
	    parse_number(dot + 1, &f->count) == -1 || f->count == 0)
		return -1;
	f->partial = 1;
	return 0;
}

/*
 * The part numbers at the start of a section ("1.2." of "1.2.MIME"):
 * returns how many bytes they take, with the dot after the last one.
 */
static size_t
section_path(const char *s, size_t n, struct fatt *f)
{
	size_t i = 0, start;
	char num[11];

	while (i < n && isdigit((unsigned char)s[i])) {
		for (start = i; i < n && isdigit((unsigned char)s[i]); i++)
			;
		if (i - start >= sizeof num || f->depth == MIME_DEPTH_MAX)
			return (size_t)-1;
		memcpy(num, s + start, i - start);
		num[i - start] = '\0';
		if (parse_number(num, &f->path[f->depth]) == -1 ||
		    f->path[f->depth] == 0)
			return (size_t)-1;
		f->depth++;
		if (i == n)
			return i;
		if (s[i++] != '.' || i == n)
			return (size_t)-1;
	}
	return i;
}

/* The text between '[' and ']' of BODY[...]. */
static int
fetch_section(const char *s, size_t n, struct fatt *f)
{
	static const struct {
		const char	*name;
		int		 section;
	} secs[] = {
		{ "HEADER.FIELDS.NOT ", SEC_FIELDS_NOT },
		{ "HEADER.FIELDS ", SEC_FIELDS },
		{ "HEADER", SEC_HEADER },
		{ "TEXT", SEC_TEXT },
	};
	size_t i, l;
	char *fields;
	int r;

	if ((l = section_path(s, n, f)) == (size_t)-1)
		return -1;
	s += l;
	n -= l;
	if (n == 0) {
		f->section = SEC_ALL;
		return 0;
	}
	if (f->depth > 0 && n == 4 && strncasecmp(s, "MIME", 4) == 0) {
		f->section = SEC_MIME;
		return 0;
	}
	for (i = 0; i < sizeof secs / sizeof secs[0]; i++) {
		l = strlen(secs[i].name);
		if (n < l || strncasecmp(s, secs[i].name, l) != 0)
			continue;
		f->section = secs[i].section;
		if (f->section != SEC_FIELDS && f->section != SEC_FIELDS_NOT)
			return n == l ? 0 : -1;
		if ((fields = strndup(s + l, n - l)) == NULL)
			return -1;
		r = parse_section_fields(fields, &f->fields, &f->nfields);
		free(fields);
		/* Field names match in any case; the echo is upper case. */
		for (i = 0; r == 0 && i < f->nfields; i++)
			for (fields = f->fields[i]; *fields; fields++)
				*fields = (char)toupper((unsigned char)*fields);
		return r;
	}
	return -1;
}

/*
 * BINARY[part]<partial>, BINARY.PEEK[...] and BINARY.SIZE[part] (RFC
 * 3516 4.2): part numbers only (section-binary), no partial for SIZE.
 */
static int
fetch_binary_att(const char *s, size_t plen, const char *sec, size_t n,
    const char *partial, struct fatt *f)
{
	f->kind = FA_BINARY;
	if (plen == 11 && strncasecmp(s, "BINARY.PEEK", 11) == 0)
		f->peek = 1;
	else if (plen == 11 && strncasecmp(s, "BINARY.SIZE", 11) == 0)
		f->kind = FA_BINARY_SIZE;
	else if (plen != 6 || strncasecmp(s, "BINARY", 6) != 0)
		return -1;
	snprintf(f->name, sizeof f->name, "%s",
	    f->kind == FA_BINARY ? "BINARY" : "BINARY.SIZE");
	if (section_path(sec, n, f) != n)
		return -1;
	if (f->kind == FA_BINARY_SIZE && *partial != '\0')
		return -1;
	return fetch_partial(partial, f);
}

static int
fetch_body_att(const char *s, struct fatt *f)
{
	const char *lb = strchr(s, '['), *rb;
	size_t plen = lb ? (size_t)(lb - s) : strlen(s);

	f->kind = FA_BODY;
	if (lb == NULL || (rb = strrchr(lb, ']')) == NULL)
		return -1;
	if (plen >= 6 && strncasecmp(s, "BINARY", 6) == 0)
		return fetch_binary_att(s, plen, lb + 1, (size_t)(rb - lb - 1),
		    rb + 1, f);
	if (plen == 9 && strncasecmp(s, "BODY.PEEK", 9) == 0)
		f->peek = 1;
	else if (plen != 4 || strncasecmp(s, "BODY", 4) != 0)
		return -1;
	snprintf(f->name, sizeof f->name, "BODY");
	if (fetch_section(lb + 1, (size_t)(rb - lb - 1), f) == -1)
		return -1;
	return fetch_partial(rb + 1, f);
}

static int
fetch_att(const struct arg *a, struct fatt *f)
{
	/* rev1: RFC 3501 only; RFC 9051 section 9 has no RFC822 items. */
	static const struct {
		const char	*name;
		int		 kind, section, peek, rev1;
	} simple[] = {
		{ "FLAGS", FA_FLAGS, 0, 0, 0 },
		{ "UID", FA_UID, 0, 0, 0 },
		{ "INTERNALDATE", FA_INTERNALDATE, 0, 0, 0 },
		{ "RFC822.SIZE", FA_SIZE, 0, 0, 0 },
		{ "MODSEQ", FA_MODSEQ, 0, 0, 0 },
		{ "RFC822", FA_BODY, SEC_ALL, 0, 1 },
		{ "RFC822.HEADER", FA_BODY, SEC_HEADER, 1, 1 },
		{ "RFC822.TEXT", FA_BODY, SEC_TEXT, 0, 1 },
		{ "ENVELOPE", FA_ENVELOPE, 0, 0, 0 },
		{ "BODY", FA_STRUCTURE, 0, 0, 0 },
		{ "BODYSTRUCTURE", FA_BODYSTRUCTURE, 0, 0, 0 },
		{ "EMAILID", FA_EMAILID, 0, 0, 0 },
		{ "THREADID", FA_THREADID, 0, 0, 0 },
		{ "SAVEDATE", FA_SAVEDATE, 0, 0, 0 },
	};
	size_t i;

	memset(f, 0, sizeof *f);
	if (a->type != ARG_ATOM)
		return -1;
	for (i = 0; i < sizeof simple / sizeof simple[0]; i++)
		if (strcasecmp(a->s, simple[i].name) == 0) {
			if (S.rev2 && simple[i].rev1)
				return -1;
			f->kind = simple[i].kind;
			f->section = simple[i].section;
			f->peek = simple[i].peek;
			snprintf(f->name, sizeof f->name, "%s", simple[i].name);
			return 0;
		}
	return fetch_body_att(a->s, f);
}

static void
fatts_free(struct fatt *f, size_t n)
{
	size_t i, j;

	for (i = 0; i < n; i++) {
		for (j = 0; j < f[i].nfields; j++)
			free(f[i].fields[j]);
		free(f[i].fields);
	}
	free(f);
}

/* The attributes of a FETCH, macros expanded (RFC 3501 6.4.5). */
static int
fetch_atts(const struct arg *a, struct fatt **f_r, size_t *n_r)
{
	static const struct arg macro[] = {
		{ ARG_ATOM, 0, "FLAGS", 5, NULL, (struct arg *)&macro[1] },
		{ ARG_ATOM, 0, "INTERNALDATE", 12, NULL,
		    (struct arg *)&macro[2] },
		{ ARG_ATOM, 0, "RFC822.SIZE", 11, NULL,
		    (struct arg *)&macro[3] },
		{ ARG_ATOM, 0, "ENVELOPE", 8, NULL, (struct arg *)&macro[4] },
		{ ARG_ATOM, 0, "BODY", 4, NULL, NULL },
	};
	const struct arg *it = a;
	struct fatt *f;
	size_t n = 1, i;

	if (a->type == ARG_LIST) {
		it = a->child;
		n = session_nargs(it);
	} else if (parse_keyword_is(a, "FAST")) {
		it = macro;
		n = 3;
	} else if (parse_keyword_is(a, "ALL")) {
		it = macro;
		n = 4;
	} else if (parse_keyword_is(a, "FULL")) {
		it = macro;
		n = 5;
	}
	if (n == 0 || (f = calloc(n, sizeof *f)) == NULL)
		return -1;
	for (i = 0; i < n; i++, it = it->next)
		if (fetch_att(it, &f[i]) == -1) {
			fatts_free(f, i + 1);
			return -1;
		}
	*f_r = f;
	*n_r = n;
	return 0;
}

static void
out_internaldate(int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL)
		memset(&tm, 0, sizeof tm);
	io_outf("\"%02d-%s-%04d %02d:%02d:%02d +0000\"", tm.tm_mday,
	    date_month_name[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
	    tm.tm_sec);
}

/*
 * EMAILID and THREADID (RFC 8474 5.3; THREADID is NIL: no threads are
 * computed, see imapd(8)), SAVEDATE (RFC 8514 4.2; NIL where the store
 * has none, a message of an older store).
 */
static void
out_objectid_savedate(int kind, const struct rec *r)
{
	char id[OBJECTID_SIZE];
	int64_t t;

	if (kind == FA_EMAILID) {
		store_emailid(S.mb, r, id);
		io_outf("EMAILID (%s)", id);
	} else if (kind == FA_THREADID)
		io_outs("THREADID NIL");
	else if ((t = store_savedate(r)) == -1)
		io_outs("SAVEDATE NIL");
	else {
		io_outs("SAVEDATE ");
		out_internaldate(t);
	}
}

static int
field_listed(const struct fatt *f, const char *line, size_t n)
{
	size_t i, l;

	for (i = 0; i < f->nfields; i++) {
		l = strlen(f->fields[i]);
		if (l < n && line[l] == ':' &&
		    strncasecmp(line, f->fields[i], l) == 0)
			return 1;
	}
	return 0;
}

/*
 * HEADER.FIELDS and HEADER.FIELDS.NOT: the header lines of the named
 * fields (folded lines kept with their field), then the empty line.
 */
static char *
header_fields(const struct fatt *f, const char *p, size_t hlen, size_t *n_r)
{
	char *buf = malloc(hlen + 3);
	size_t i = 0, n = 0;
	int keep = 0;

	if (buf == NULL)
		return NULL;
	while (i < hlen) {
		const char *nl = memchr(p + i, '\n', hlen - i);
		size_t l = nl ? (size_t)(nl - (p + i)) + 1 : hlen - i;
		if (l <= 2 && (p[i] == '\n' || p[i] == '\r'))
			break;
		if (p[i] != ' ' && p[i] != '\t')
			keep = field_listed(f, p + i, l) ==
			    (f->section == SEC_FIELDS);
		if (keep) {
			memcpy(buf + n, p + i, l);
			n += l;
		}
		i += l;
	}
	memcpy(buf + n, "\r\n", 2);
	*n_r = n + 2;
	return buf;
}

static void
out_section_name(const struct fatt *f)
{
	static const char *const names[] = {
		"", "HEADER", "TEXT", "HEADER.FIELDS", "HEADER.FIELDS.NOT",
		"MIME"
	};
	size_t i;

	io_outf("%s[", f->name);
	for (i = 0; i < f->depth; i++)
		io_outf("%u%s", f->path[i],
		    i + 1 < f->depth || f->section != SEC_ALL ? "." : "");
	io_outs(names[f->section]);
	if (f->nfields) {
		io_outs(" (");
		for (i = 0; i < f->nfields; i++) {
			if (i)
				io_outs(" ");
			io_astring(f->fields[i]);
		}
		io_outs(")");
	}
	io_outs("]");
	if (f->partial)
		io_outf("<%u>", f->origin);
}

static void
out_structure(struct msgctx *m, int item)
{
	const char *p;
	size_t n;

	p = msg_blob_item(msg_blob(m), item, &n);
	io_out(p, n);
}

/* The bytes of a section inside a part (RFC 3501 6.4.5). */
static int
section_bytes(const struct fatt *f, struct msgctx *m, const char **p_r,
    size_t *n_r)
{
	const struct mime_part *part, *msg;

	if (f->depth == 0 && f->section != SEC_FIELDS &&
	    f->section != SEC_FIELDS_NOT) {
		/* The whole message, its header or text: no parsing. */
		size_t hlen;

		msg_bytes(m);
		hlen = msg_header_len(m->p, m->len);
		*p_r = m->p + (f->section == SEC_TEXT ? hlen : 0);
		*n_r = f->section == SEC_HEADER ? hlen :
		    f->section == SEC_TEXT ? m->len - hlen : m->len;
		return 0;
	}
	if ((part = mime_find(msg_root(m), f->path, f->depth)) == NULL)
		return -1;
	if (f->section == SEC_ALL) {
		mime_body(part, p_r, n_r);
		return 0;
	}
	if (f->section == SEC_MIME) {
		mime_header(part, p_r, n_r);
		return 0;
	}
	/* HEADER, TEXT, HEADER.FIELDS: of a message/rfc822 part's message. */
	if ((msg = mime_message(part)) == NULL)
		return -1;
	if (f->section == SEC_TEXT)
		mime_body(msg, p_r, n_r);
	else
		mime_header(msg, p_r, n_r);
	return 0;
}

static void
out_body(const struct fatt *f, struct msgctx *m)
{
	const char *p;
	char *sel = NULL;
	size_t n;

	if (f->name[0] == 'B')
		out_section_name(f);
	else
		io_outs(f->name);
	io_outs(" ");
	if (section_bytes(f, m, &p, &n) == -1) {
		/* No such part: an empty string (RFC 3501 6.4.5). */
		p = "";
		n = 0;
	}
	if ((f->section == SEC_FIELDS || f->section == SEC_FIELDS_NOT) &&
	    (p = sel = header_fields(f, p, n, &n)) == NULL)
		log_die(EXIT_TEMP, "out of memory");
	if (f->partial) {
		size_t o = f->origin < n ? f->origin : n;
		p += o;
		n = n - o < f->count ? n - o : f->count;
	}
	io_text_literal(p, n);
	free(sel);
}

/* The part BINARY names; NULL for the whole message or no such part. */
static const struct mime_part *
binary_part(const struct fatt *f, struct msgctx *m)
{
	return f->depth == 0 ? NULL : mime_find(msg_root(m), f->path, f->depth);
}

/*
 * BINARY[...] and BINARY.SIZE[...]: the part decoded (checked before
 * by binary_check). BINARY[] is the whole message as stored: a message
 * as a whole has no transfer encoding to remove. No such part is an
 * empty string, as for BODY.
 */
static void
out_binary(const struct fatt *f, struct msgctx *m)
{
	const struct mime_part *part = binary_part(f, m);
	struct buf d = { 0 };
	const char *p = "";
	size_t n = 0, o;

	if (f->depth == 0) {
		msg_bytes(m);
		p = m->p;
		n = m->len;
	} else if (part != NULL) {
		mime_binary(part, &d);
		if (d.oom)
			log_die(EXIT_TEMP, "out of memory");
		p = d.p ? d.p : "";
		n = d.len;
	}
	out_section_name(f);
	io_outs(" ");
	if (f->kind == FA_BINARY_SIZE)
		io_outu(n);
	else {
		if (f->partial) {
			o = f->origin < n ? f->origin : n;
			p += o;
			n = n - o < f->count ? n - o : f->count;
		}
		io_binary_literal(p, n);
	}
	buf_free(&d);
}

/*
 * Whether every BINARY item can be answered for every message, before
 * any is answered: a part imapd cannot decode fails the whole command
 * (RFC 3516 4.3), and so does one that is no leaf (RFC 9051 6.4.5).
 */
static int
binary_check(const uint32_t *seqs, size_t n, const struct fatt *f,
    size_t nf)
{
	const struct mime_part *part;
	struct msgctx m;
	size_t i, j;
	int r = 0;

	for (i = 0; i < n && r == 0; i++) {
		msg_init(&m, seqs[i]);
		for (j = 0; j < nf && r == 0; j++)
			if ((f[j].kind == FA_BINARY ||
			    f[j].kind == FA_BINARY_SIZE) &&
			    (part = binary_part(&f[j], &m)) != NULL)
				r = mime_binary(part, NULL);
		msg_done(&m);
	}
	if (r == MIME_UNKNOWN_CTE)
		return reply_no("[UNKNOWN-CTE] Cannot decode the "
		    "Content-Transfer-Encoding of a part");
	if (r == MIME_NOT_LEAF)
		return reply_no("BINARY of a multipart or message part");
	return RES_OK;
}

/*
 * uid_first: UID FETCH without UID asked (RFC 3501 6.4.8); modseq_first:
 * MODSEQ not asked but CONDSTORE enabled (RFC 7162 3.1, as example 12
 * places it).
 */
static void
fetch_one(uint32_t seq, const struct fatt *f, size_t n, int seen_added,
    int uid_first, int modseq_first)
{
	const struct rec r = *session_rec(seq);
	struct msgctx m;
	int flags_done = 0;
	size_t i;

	msg_init(&m, seq);
	io_outs("* ");
	io_outu(seq);
	io_outs(" FETCH (");
	/* RFC 3501 6.4.8: UID FETCH answers always carry the UID. */
	if (uid_first) {
		io_outs("UID ");
		io_outu(r.uid);
		io_outs(" ");
	}
	if (modseq_first) {
		io_outs("MODSEQ (");
		session_out_modseq_value(r.modseq);
		io_outs(") ");
	}
	for (i = 0; i < n; i++) {
		if (i > 0)
			io_outs(" ");
		switch (f[i].kind) {
		case FA_FLAGS:
			session_out_flags(seq);
			flags_done = 1;
			break;
		case FA_UID:
			io_outs("UID ");
			io_outu(r.uid);
			break;
		case FA_INTERNALDATE:
			io_outs("INTERNALDATE ");
			out_internaldate(r.internaldate);
			break;
		case FA_SIZE:
			io_outs("RFC822.SIZE ");
			io_outu(r.size);
			break;
		case FA_MODSEQ:
			io_outs("MODSEQ (");
			io_outu(r.modseq);
			io_outs(")");
			break;
		case FA_ENVELOPE:
			io_outs("ENVELOPE ");
			out_structure(&m, B_ENVELOPE);
			break;
		case FA_STRUCTURE:
			io_outs("BODY ");
			out_structure(&m, B_BODY);
			break;
		case FA_BODYSTRUCTURE:
			io_outs("BODYSTRUCTURE ");
			out_structure(&m, B_BODYSTRUCTURE);
			break;
		case FA_EMAILID:
		case FA_THREADID:
		case FA_SAVEDATE:
			out_objectid_savedate(f[i].kind, &r);
			break;
		case FA_BINARY:
		case FA_BINARY_SIZE:
			out_binary(&f[i], &m);
			break;
		default:
			out_body(&f[i], &m);
		}
	}
	msg_done(&m);
	if (seen_added && !flags_done) {
		io_outs(" ");
		session_out_flags(seq);
	}
	io_outs(")\r\n");
}

/* RFC 3501 6.4.5: fetching a body without .PEEK sets \Seen. */
static int
set_seen(const uint32_t *seqs, size_t n, uint8_t *added)
{
	uint32_t *v;
	size_t i, m = 0;
	int r;

	if ((v = calloc(n ? n : 1, sizeof *v)) == NULL)
		return -1;
	for (i = 0; i < n; i++)
		if (!(session_rec(seqs[i])->flags & FL_SEEN)) {
			v[m++] = seqs[i];
			added[i] = 1;
		}
	r = m ? store_flags(S.mb, v, m, STORE_ADD, FL_SEEN, 0) : 0;
	free(v);
	return r;
}

/* The fetch modifiers imapd knows (RFC 4466 2.4). */
struct fmods {
	int		 changedsince, vanished;
	uint64_t	 since;
};

/*
 * CHANGEDSINCE (RFC 7162 3.1.4.1) and VANISHED (3.2.6), each once, in
 * any order. -1 for what is no valid modifier list.
 */
static int
fetch_modifiers(const struct arg *m, struct fmods *fm)
{
	const struct arg *it;

	memset(fm, 0, sizeof *fm);
	if (m == NULL)
		return 0;
	if (m->type != ARG_LIST || m->child == NULL)
		return -1;
	for (it = m->child; it != NULL; it = it->next)
		if (parse_keyword_is(it, "CHANGEDSINCE") && !fm->changedsince) {
			if (session_modseq_arg(it->next, 0, &fm->since) == -1)
				return -1;
			fm->changedsince = 1;
			it = it->next;
		} else if (parse_keyword_is(it, "VANISHED") && !fm->vanished)
			fm->vanished = 1;
		else
			return -1;
	return 0;
}

/* The reply to modifiers that are valid alone but not here, or RES_OK. */
static int
fetch_modifiers_check(const struct fmods *fm)
{
	if (!fm->vanished)
		return RES_OK;
	if (!S.qresync)
		return reply_bad("QRESYNC is not enabled");	/* 3.2.6 */
	if (!S.uid)
		return reply_bad("VANISHED is for UID FETCH only");
	if (!fm->changedsince)
		return reply_bad("VANISHED needs CHANGEDSINCE");
	return RES_OK;
}

/*
 * CHANGEDSINCE: only the messages with a greater MODSEQ are answered,
 * those the store finds (store_changed_since) within the requested set
 * (both ascending).
 */
static int
changed_since(uint32_t *seqs, size_t *n, uint64_t since)
{
	uint32_t *ch;
	size_t i, j = 0, k = 0, nch;

	if (store_changed_since(S.mb, since, &ch, &nch) == -1)
		return -1;
	for (i = 0; i < *n && j < nch; i++) {
		while (j < nch && ch[j] < seqs[i])
			j++;
		if (j < nch && ch[j] == seqs[i])
			seqs[k++] = seqs[i];
	}
	*n = k;
	free(ch);
	return 0;
}

/*
 * UID FETCH (VANISHED): VANISHED (EARLIER) before the FETCHes (RFC 7162
 * 3.2.6), for the UIDs of the set. There "*" is the highest UID the
 * mailbox gave, not the highest it holds, so that "n:*" covers expunged
 * messages above the last one.
 */
static int
fetch_vanished(const char *text, uint64_t since)
{
	struct seqset set;
	uint32_t max = store_uidnext(S.mb) - 1;
	int r;

	if (max < session_last_uid())
		max = session_last_uid();
	if (session_uidset(text, max, &set) == -1)
		return -1;
	r = session_vanished_since(since, &set);
	parse_seqset_free(&set);
	return r;
}

int
cmd_fetch(struct arg *a)
{
	struct fatt *f;
	struct fmods fm;
	uint32_t *seqs;
	uint8_t *added;
	size_t i, n, nf;
	int seen = 0, has_uid = 0, modseq = 0, binary = 0, r;

	if (fetch_modifiers(a->next->next, &fm) == -1)
		return reply_bad("Invalid FETCH modifier");
	if ((r = fetch_modifiers_check(&fm)) != RES_OK)
		return r;
	if (session_seqs(session_astring(a), S.uid, &seqs, &n) == -1)
		return reply_bad("Invalid sequence set");
	if (fetch_atts(a->next, &f, &nf) == -1) {
		free(seqs);
		return reply_bad("Invalid FETCH attributes");
	}
	for (i = 0; i < nf; i++) {
		has_uid |= f[i].kind == FA_UID;
		modseq |= f[i].kind == FA_MODSEQ;
		seen |= (f[i].kind == FA_BODY || f[i].kind == FA_BINARY) &&
		    !f[i].peek;
		binary |= f[i].kind == FA_BINARY || f[i].kind == FA_BINARY_SIZE;
	}
	if (binary && (r = binary_check(seqs, n, f, nf)) != RES_OK) {
		free(seqs);
		fatts_free(f, nf);
		return r;
	}
	/* RFC 7162 3.1: MODSEQ and CHANGEDSINCE enable CONDSTORE. */
	if (modseq || fm.changedsince)
		session_condstore();
	if ((added = calloc(n ? n : 1, 1)) == NULL ||
	    (fm.vanished &&
	    fetch_vanished(session_astring(a), fm.since) == -1) ||
	    (fm.changedsince && changed_since(seqs, &n, fm.since) == -1) ||
	    (seen && !S.readonly && set_seen(seqs, n, added) == -1)) {
		free(added);
		free(seqs);
		fatts_free(f, nf);
		return reply_no_store(0);
	}
	/* RFC 7162 3.2.4: with QRESYNC, a FETCH that sets \Seen tells UIDs. */
	for (i = 0; i < n; i++)
		fetch_one(seqs[i], f, nf, added[i], !has_uid &&
		    (S.uid || (S.qresync && added[i])), S.condstore && !modseq);
	free(added);
	free(seqs);
	fatts_free(f, nf);
	return RES_OK;
}

