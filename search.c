/*
 * search.c: SEARCH: its keys parsed into a tree, and matched against
 * each message of the selected mailbox; its result options (RFC 4731
 * ESEARCH, RFC 5182 SAVE) and its answer.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "imapd.h"
#include "buf.h"
#include "mime.h"
#include "command.h"
#include "io.h"
#include "msg.h"
#include "reply.h"
#include "session.h"

enum {
	SK_ALL, SK_FLAG, SK_UNFLAG, SK_KEYWORD, SK_UNKEYWORD, SK_NEW, SK_OLD,
	SK_RECENT, SK_BEFORE, SK_ON, SK_SINCE, SK_LARGER, SK_SMALLER, SK_UID,
	SK_SEQ, SK_NOT, SK_OR, SK_AND, SK_HEADER, SK_BODY, SK_TEXT,
	SK_SENTBEFORE, SK_SENTON, SK_SENTSINCE, SK_MODSEQ,
	SK_SAVEDBEFORE, SK_SAVEDON, SK_SAVEDSINCE, SK_EMAILID, SK_THREADID
};

struct skey {
	int		 op;
	uint32_t	 flag;
	int		 bit;		/* keyword (-1: unknown) */
	int64_t		 t;
	uint64_t	 n;
	struct seqset	 set;
	const char	*field;		/* SK_HEADER: the field name */
	const char	*str;		/* SK_HEADER, SK_BODY, SK_TEXT */
	struct skey	*a, *b;		/* operands of NOT, OR, AND */
};

static void
skey_free(struct skey *k)
{
	if (k == NULL)
		return;
	skey_free(k->a);
	skey_free(k->b);
	parse_seqset_free(&k->set);
	free(k);
}

static const struct {
	const char	*name;
	int		 op;
	uint32_t	 flag;
} skeys_simple[] = {
	{ "ALL", SK_ALL, 0 },
	{ "ANSWERED", SK_FLAG, FL_ANSWERED },
	{ "DELETED", SK_FLAG, FL_DELETED },
	{ "DRAFT", SK_FLAG, FL_DRAFT },
	{ "FLAGGED", SK_FLAG, FL_FLAGGED },
	{ "SEEN", SK_FLAG, FL_SEEN },
	{ "UNANSWERED", SK_UNFLAG, FL_ANSWERED },
	{ "UNDELETED", SK_UNFLAG, FL_DELETED },
	{ "UNDRAFT", SK_UNFLAG, FL_DRAFT },
	{ "UNFLAGGED", SK_UNFLAG, FL_FLAGGED },
	{ "UNSEEN", SK_UNFLAG, FL_SEEN },
	{ "NEW", SK_NEW, 0 },
	{ "OLD", SK_OLD, 0 },
	{ "RECENT", SK_RECENT, 0 },
	/*
	 * RFC 8514 4.3: every mailbox keeps save dates (an older store's
	 * messages are searched by INTERNALDATE, imapd(8)).
	 */
	{ "SAVEDATESUPPORTED", SK_ALL, 0 },
}, skeys_arg[] = {
	{ "BEFORE", SK_BEFORE, 0 },
	{ "ON", SK_ON, 0 },
	{ "SINCE", SK_SINCE, 0 },
	{ "LARGER", SK_LARGER, 0 },
	{ "SMALLER", SK_SMALLER, 0 },
	{ "KEYWORD", SK_KEYWORD, 0 },
	{ "UNKEYWORD", SK_UNKEYWORD, 0 },
	{ "UID", SK_UID, 0 },
	{ "SENTBEFORE", SK_SENTBEFORE, 0 },
	{ "SENTON", SK_SENTON, 0 },
	{ "SENTSINCE", SK_SENTSINCE, 0 },
	{ "SAVEDBEFORE", SK_SAVEDBEFORE, 0 },
	{ "SAVEDON", SK_SAVEDON, 0 },
	{ "SAVEDSINCE", SK_SAVEDSINCE, 0 },
	{ "EMAILID", SK_EMAILID, 0 },
	{ "THREADID", SK_THREADID, 0 },
	{ "BODY", SK_BODY, 0 },
	{ "TEXT", SK_TEXT, 0 },
	{ "FROM", SK_HEADER, 0 },
	{ "TO", SK_HEADER, 0 },
	{ "CC", SK_HEADER, 0 },
	{ "BCC", SK_HEADER, 0 },
	{ "SUBJECT", SK_HEADER, 0 },
};

static struct skey *search_key(const struct arg **, int);

/* A key with one argument; *ap points at the key, moves past the value. */
static int
search_arg_key(struct skey *k, const struct arg *v)
{
	time_t t;

	if (v == NULL || v->type == ARG_LIST)
		return -1;
	switch (k->op) {
	case SK_HEADER:
	case SK_BODY:
	case SK_TEXT:
		/*
		 * A NUL cannot be in a string (RFC 3501 section 9, CHAR8);
		 * cut there, the string would match what it does not say.
		 */
		return (k->str = session_astring(v)) == NULL ? -1 : 0;
	case SK_BEFORE:
	case SK_ON:
	case SK_SINCE:
	case SK_SENTBEFORE:
	case SK_SENTON:
	case SK_SENTSINCE:
	case SK_SAVEDBEFORE:
	case SK_SAVEDON:
	case SK_SAVEDSINCE:
		if (parse_date(v->s, &t) == -1)
			return -1;
		k->t = t;
		return 0;
	case SK_LARGER:
	case SK_SMALLER:
		return parse_number64(v->s, &k->n);
	case SK_EMAILID:
	case SK_THREADID:
		/* RFC 8474 7: objectid = 1*255(ALPHA / DIGIT / "_" / "-") */
		if (v->type != ARG_ATOM || v->len == 0 || v->len > 255 ||
		    strspn(v->s, OBJECTID_CHARS) != v->len)
			return -1;
		k->str = v->s;
		return 0;
	case SK_KEYWORD:
	case SK_UNKEYWORD:
		if (!parse_is_atom(v->s, v->len))
			return -1;
		/* An unknown keyword is set on no message. */
		k->bit = store_keyword(S.mb, v->s, 0);
		return 0;
	default:	/* SK_UID; "$" too (RFC 5182 2.2, example 3) */
		return session_uidset(v->s, session_last_uid(), &k->set);
	}
}

/*
 * MODSEQ [entry-name entry-type-req] mod-sequence-valzer (RFC 7162
 * 3.1.5); *ap is what follows MODSEQ, moved past the key. A message has
 * one MODSEQ, so the entry name and type are checked and then ignored,
 * as the RFC says.
 */
static int
search_modseq(const struct arg **ap, struct skey *k)
{
	const struct arg *v = *ap;

	k->op = SK_MODSEQ;
	if (v != NULL && v->type == ARG_STRING) {
		/* entry-flag-name: "/flags/" attr-flag */
		if (v->len < 8 || strncasecmp(v->s, "/flags/", 7) != 0 ||
		    strlen(v->s) != v->len || v->next == NULL ||
		    (!parse_keyword_is(v->next, "priv") &&
		    !parse_keyword_is(v->next, "shared") &&
		    !parse_keyword_is(v->next, "all")))
			return -1;
		v = v->next->next;
	}
	if (session_modseq_arg(v, 1, &k->n) == -1)
		return -1;
	*ap = v->next;
	return 0;
}

static struct skey *
search_atom_key(const struct arg **ap, struct skey *k, int depth)
{
	const struct arg *a = *ap;
	size_t i;

	for (i = 0; i < sizeof skeys_simple / sizeof skeys_simple[0]; i++)
		if (strcasecmp(a->s, skeys_simple[i].name) == 0) {
			/* RFC 9051 section 9: no \Recent, no keys on it. */
			if (S.rev2 && (skeys_simple[i].op == SK_NEW ||
			    skeys_simple[i].op == SK_OLD ||
			    skeys_simple[i].op == SK_RECENT))
				goto fail;
			k->op = skeys_simple[i].op;
			k->flag = skeys_simple[i].flag;
			*ap = a->next;
			return k;
		}
	if (strcasecmp(a->s, "HEADER") == 0) {
		/* HEADER field-name string (RFC 3501 6.4.4) */
		if ((k->field = session_astring(a->next)) == NULL)
			goto fail;
		a = a->next;
		k->op = SK_HEADER;
		if (search_arg_key(k, a->next) == -1)
			goto fail;
		*ap = a->next->next;
		return k;
	}
	for (i = 0; i < sizeof skeys_arg / sizeof skeys_arg[0]; i++)
		if (strcasecmp(a->s, skeys_arg[i].name) == 0) {
			k->op = skeys_arg[i].op;
			/* FROM, TO, CC, BCC, SUBJECT search their field. */
			k->field = skeys_arg[i].name;
			if (search_arg_key(k, a->next) == -1)
				break;
			*ap = a->next->next;
			return k;
		}
	if (i < sizeof skeys_arg / sizeof skeys_arg[0])
		goto fail;
	if (strcasecmp(a->s, "MODSEQ") == 0) {
		*ap = a->next;
		if (search_modseq(ap, k) == -1)
			goto fail;
		return k;
	}
	if (strcasecmp(a->s, "NOT") == 0 || strcasecmp(a->s, "OR") == 0) {
		k->op = a->s[0] == 'N' || a->s[0] == 'n' ? SK_NOT : SK_OR;
		*ap = a->next;
		if ((k->a = search_key(ap, depth + 1)) == NULL ||
		    (k->op == SK_OR &&
		    (k->b = search_key(ap, depth + 1)) == NULL))
			goto fail;
		return k;
	}
	/* "$" alone: the saved result's UIDs (RFC 5182 2.2, example 3). */
	if (strcmp(a->s, "$") == 0 &&
	    session_uidset(a->s, 0, &k->set) == 0) {
		k->op = SK_UID;
		*ap = a->next;
		return k;
	}
	if (parse_seqset(a->s, &k->set) == 0) {
		k->op = SK_SEQ;
		parse_seqset_resolve(&k->set, store_exists(S.mb));
		*ap = a->next;
		return k;
	}
fail:
	skey_free(k);
	return NULL;
}

/* A list of keys is their AND (RFC 3501 6.4.4). */
static struct skey *
search_keys(const struct arg *a, int depth)
{
	struct skey *all = NULL, *k, *and;

	while (a != NULL) {
		if ((k = search_key(&a, depth)) == NULL)
			goto fail;
		if (all == NULL) {
			all = k;
			continue;
		}
		if ((and = calloc(1, sizeof *and)) == NULL) {
			skey_free(k);
			goto fail;
		}
		and->op = SK_AND;
		and->a = all;
		and->b = k;
		all = and;
	}
	return all;
fail:
	skey_free(all);
	return NULL;
}

static struct skey *
search_key(const struct arg **ap, int depth)
{
	const struct arg *a = *ap;
	struct skey *k;

	if (a == NULL || depth > SEARCH_DEPTH_MAX)
		return NULL;
	if (a->type == ARG_LIST) {
		*ap = a->next;
		return a->child ? search_keys(a->child, depth + 1) : NULL;
	}
	if (a->type != ARG_ATOM || (k = calloc(1, sizeof *k)) == NULL)
		return NULL;
	return search_atom_key(ap, k, depth);
}

/*
 * FROM, TO, CC, BCC and SUBJECT are answered from the structure cache
 * where it holds the message (as after a FETCH ENVELOPE); the rest, and
 * messages not cached, from the message's header.
 */
static int
search_header(struct msgctx *m, const char *field, const char *needle)
{
	const char *b = msg_cached_blob(m), *f;
	size_t n;
	int r;

	if (b != NULL) {
		f = msg_blob_item(b, B_SEARCH, &n);
		if ((r = mime_search_cached(f, n, field, needle)) != -1)
			return r;
	}
	return mime_search_header(msg_header(m), field, needle);
}

static int
sent_day(struct msgctx *m, int64_t *day_r)
{
	return mime_sent_date(msg_header(m), day_r);
}

/* The start of t's day, UTC ("disregarding time and timezone"). */
static int64_t
utc_day(int64_t t)
{
	int64_t day = t - t % 86400;

	if (t < 0 && t % 86400)
		day -= 86400;
	return day;
}

/*
 * SAVEDBEFORE, SAVEDON, SAVEDSINCE (RFC 8514 4.3), by INTERNALDATE
 * where the message has no save date (an older store's; as 4.3 says
 * for a mailbox without them), EMAILID and THREADID (RFC 8474 6; no
 * message has a THREADID).
 */
static int
search_match_ids(const struct skey *k, const struct rec *r)
{
	char id[OBJECTID_SIZE];
	int64_t day = store_savedate(r);

	day = utc_day(day != -1 ? day : r->internaldate);
	switch (k->op) {
	case SK_SAVEDBEFORE:
		return day < k->t;
	case SK_SAVEDON:
		return day == k->t;
	case SK_SAVEDSINCE:
		return day >= k->t;
	case SK_EMAILID:
		store_emailid(S.mb, r, id);
		return strcmp(id, k->str) == 0;
	default:	/* SK_THREADID */
		return 0;
	}
}

/* Keyword bit of the selected mailbox on record r (-1: none is). */
static int
has_keyword(const struct rec *r, int bit)
{
	struct kwset kw;

	if (bit < 64)
		return bit >= 0 && ((r->keywords >> bit) & 1);
	if (!(r->flags & FL_KWMORE))
		return 0;
	session_keywords(r, &kw);
	return kwset_has(&kw, (size_t)bit);
}

static int
search_match(const struct skey *k, struct msgctx *m)
{
	uint32_t seq = m->seq;
	const struct rec r = *session_rec(seq);
	int64_t sent;
	int64_t day = utc_day(r.internaldate);

	switch (k->op) {
	case SK_ALL:
		return 1;
	case SK_FLAG:
		return (r.flags & k->flag) != 0;
	case SK_UNFLAG:
		return (r.flags & k->flag) == 0;
	case SK_KEYWORD:
		return has_keyword(&r, k->bit);
	case SK_UNKEYWORD:
		return !has_keyword(&r, k->bit);
	case SK_NEW:
		return store_is_recent(S.mb, seq) && !(r.flags & FL_SEEN);
	case SK_OLD:
		return !store_is_recent(S.mb, seq);
	case SK_RECENT:
		return store_is_recent(S.mb, seq);
	case SK_BEFORE:
		return day < k->t;
	case SK_ON:
		return day == k->t;
	case SK_SINCE:
		return day >= k->t;
	case SK_LARGER:
		return r.size > k->n;
	case SK_SMALLER:
		return r.size < k->n;
	case SK_UID:
		return parse_seqset_has(&k->set, r.uid);
	case SK_SEQ:
		return parse_seqset_has(&k->set, seq);
	case SK_HEADER:
		return search_header(m, k->field, k->str);
	case SK_BODY:
	case SK_TEXT:
		return mime_text_search(msg_text(m), k->str, k->op == SK_BODY);
	case SK_SENTBEFORE:
		return sent_day(m, &sent) == 0 && sent < k->t;
	case SK_SENTON:
		return sent_day(m, &sent) == 0 && sent == k->t;
	case SK_SENTSINCE:
		return sent_day(m, &sent) == 0 && sent >= k->t;
	case SK_MODSEQ:
		return r.modseq >= k->n;
	case SK_SAVEDBEFORE:
	case SK_SAVEDON:
	case SK_SAVEDSINCE:
	case SK_EMAILID:
	case SK_THREADID:
		return search_match_ids(k, &r);
	case SK_NOT:
		return !search_match(k->a, m);
	case SK_OR:
		return search_match(k->a, m) || search_match(k->b, m);
	default:	/* SK_AND */
		return search_match(k->a, m) && search_match(k->b, m);
	}
}

/* Does the search use MODSEQ (RFC 7162 3.1.6)? */
static int
skey_modseq(const struct skey *k)
{
	return k != NULL && (k->op == SK_MODSEQ || skey_modseq(k->a) ||
	    skey_modseq(k->b));
}


/*
 * Result options (RFC 4466 2.6, RFC 4731 3.1, RFC 5182): RET_ESEARCH
 * answers with ESEARCH instead of SEARCH.
 */
enum {
	RET_MIN = 0x01, RET_MAX = 0x02, RET_ALL = 0x04, RET_COUNT = 0x08,
	RET_SAVE = 0x10, RET_ESEARCH = 0x20
};

static const struct {
	const char	*name;
	int		 bit;
} retopts[] = {
	{ "MIN", RET_MIN }, { "MAX", RET_MAX }, { "ALL", RET_ALL },
	{ "COUNT", RET_COUNT }, { "SAVE", RET_SAVE }
};

/*
 * RETURN (option ...) before the criteria; *ap moves past it. An
 * unknown option is BAD (RFC 9051 6.4.4). "RETURN ()" is "(ALL)" (RFC
 * 4731 3.1); SAVE alone answers no ESEARCH (RFC 9051 6.4.4), so it adds
 * no ALL. IMAP4rev2 answers ESEARCH to every SEARCH (RFC 9051 6.4.4).
 */
static int
search_return(const struct arg **ap, int *ret_r)
{
	const struct arg *a = *ap, *o;
	size_t i;

	*ret_r = S.rev2 ? RET_ESEARCH | RET_ALL : 0;
	if (!parse_keyword_is(a, "RETURN"))
		return 0;
	if (a->next == NULL || a->next->type != ARG_LIST)
		return -1;
	*ret_r = RET_ESEARCH;
	for (o = a->next->child; o != NULL; o = o->next) {
		for (i = 0; i < sizeof retopts / sizeof retopts[0]; i++)
			if (parse_keyword_is(o, retopts[i].name))
				break;
		if (i == sizeof retopts / sizeof retopts[0])
			return -1;
		*ret_r |= retopts[i].bit;
	}
	if (a->next->child == NULL)
		*ret_r |= RET_ALL;
	*ap = a->next->next;
	return 0;
}

/* CHARSET name (RFC 3501 6.4.4); *ap moves past it. RES_OK or the reply. */
static int
search_charset(const struct arg **ap)
{
	const struct arg *a = *ap;
	const char *cs;

	if (!parse_keyword_is(a, "CHARSET"))
		return RES_OK;
	/* RFC 6855 3: the client said UTF-8 already; a charset conflicts. */
	if (S.utf8 && !S.rev2)
		return reply_bad("SEARCH CHARSET is not allowed after "
		    "ENABLE UTF8=ACCEPT");
	/* RFC 3501 6.4.4: strings are compared as UTF-8. */
	if ((cs = session_astring(a->next)) == NULL)
		return reply_bad_args();
	if (strcasecmp(cs, "US-ASCII") != 0 && strcasecmp(cs, "UTF-8") != 0)
		return reply_no("[BADCHARSET (US-ASCII UTF-8)] "
		    "Unsupported charset");
	*ap = a->next->next;
	return RES_OK;
}

/* The messages found, ascending sequence numbers. */
struct found {
	uint32_t	*v;
	size_t		 n, cap;
};

static int
search_one(const struct skey *k, uint32_t seq)
{
	struct msgctx m;
	int r;

	msg_init(&m, seq);
	r = search_match(k, &m);
	msg_done(&m);
	return r;
}

static int
found_add(struct found *f, uint32_t seq)
{
	uint32_t *v;

	if ((v = buf_grow(f->v, &f->cap, f->n, sizeof *v)) == NULL)
		return -1;
	f->v = v;
	f->v[f->n++] = seq;
	return 0;
}

/*
 * What the search returns. MIN and MAX without ALL and COUNT need only
 * the first match from each end (RFC 4731 5), and then only those are
 * returned, saved (RFC 5182 2.4) and give the MODSEQ (RFC 4731 3.2).
 */
static int
search_find(const struct skey *k, int ret, struct found *f)
{
	uint32_t seq, lo = 0, n = store_exists(S.mb);

	if ((ret & (RET_MIN | RET_MAX)) == 0 || (ret & (RET_ALL | RET_COUNT))) {
		for (seq = 1; seq <= n; seq++)
			if (search_one(k, seq) && found_add(f, seq) == -1)
				return -1;
		return 0;
	}
	if (ret & RET_MIN) {
		for (seq = 1; seq <= n && lo == 0; seq++)
			if (search_one(k, seq))
				lo = seq;
		if (lo == 0)
			return 0;
		if (found_add(f, lo) == -1)
			return -1;
	}
	/* Above the MIN only: MIN and MAX may be one message. */
	for (seq = n; (ret & RET_MAX) && seq > lo; seq--)
		if (search_one(k, seq))
			return found_add(f, seq);
	return 0;
}

/*
 * SAVE: "$" becomes the messages found (RFC 5182 2.1), kept as UID
 * ranges, one for each run of consecutive messages. A range covers no
 * other message, ever: no message lies between, and new ones get higher
 * UIDs. So an expunged message leaves "$" by itself.
 */
static int
search_save(const struct found *f)
{
	struct seqrange *r;
	size_t i, j, runs = 0;

	parse_seqset_free(&S.saved);
	for (i = 0; i < f->n; i = session_run_end(f->v, i, f->n) + 1)
		runs++;
	if ((r = calloc(runs + 1, sizeof *r)) == NULL)
		return -1;
	for (i = 0, runs = 0; i < f->n; i = j + 1, runs++) {
		j = session_run_end(f->v, i, f->n);
		r[runs].lo = session_rec(f->v[i])->uid;
		r[runs].hi = session_rec(f->v[j])->uid;
	}
	S.saved.r = r;
	S.saved.n = runs;
	return 0;
}

/* The highest MODSEQ of the messages returned (RFC 7162 3.1.5-6). */
static uint64_t
found_modseq(const struct found *f)
{
	uint64_t top = 0;
	size_t i;

	for (i = 0; i < f->n; i++)
		if (session_rec(f->v[i])->modseq > top)
			top = session_rec(f->v[i])->modseq;
	return top;
}

/* The numbers the client reads: UIDs for UID SEARCH, in place. */
static void
found_to_uids(struct found *f)
{
	size_t i;

	for (i = 0; S.uid && i < f->n; i++)
		f->v[i] = session_rec(f->v[i])->uid;
}

/*
 * ESEARCH (RFC 4731 3.1): MIN, MAX and ALL when something was found,
 * COUNT always, ALL as a compact sequence set; MODSEQ when the criteria
 * held MODSEQ and something was found (RFC 7162 3.1.10).
 */
static void
out_esearch(int ret, const struct found *f, uint64_t modseq)
{
	size_t i, j;

	io_outf("* ESEARCH (TAG \"%s\")%s", parse_tag(S.parser),
	    S.uid ? " UID" : "");
	if ((ret & RET_MIN) && f->n > 0)
		io_outf(" MIN %u", f->v[0]);
	if ((ret & RET_MAX) && f->n > 0)
		io_outf(" MAX %u", f->v[f->n - 1]);
	if (ret & RET_COUNT)
		io_outf(" COUNT %zu", f->n);
	if ((ret & RET_ALL) && f->n > 0) {
		io_outs(" ALL ");
		for (i = 0; i < f->n; i = j + 1) {
			j = session_run_end(f->v, i, f->n);
			io_outf(i ? ",%u" : "%u", f->v[i]);
			if (j > i)
				io_outf(":%u", f->v[j]);
		}
	}
	if (modseq > 0)
		io_outf(" MODSEQ %llu", (unsigned long long)modseq);
	io_outs("\r\n");
}

/* SEARCH (RFC 3501 7.2.5), with (MODSEQ n) after (RFC 7162 3.1.6). */
static void
out_search(const struct found *f, uint64_t modseq)
{
	size_t i;

	io_outs("* SEARCH");
	for (i = 0; i < f->n; i++)
		io_outf(" %u", f->v[i]);
	if (modseq > 0)
		io_outf(" (MODSEQ %llu)", (unsigned long long)modseq);
	io_outs("\r\n");
}

/*
 * The search, the saved result and the answer. SAVE alone answers no
 * ESEARCH (RFC 9051 6.4.4); a SAVE that fails leaves "$" empty (RFC
 * 5182 2.1).
 */
static int
search_run(const struct skey *k, int ret)
{
	struct found f = { NULL, 0, 0 };
	uint64_t modseq = 0;

	if (search_find(k, ret, &f) == -1) {
		free(f.v);
		return reply_no("[SERVERBUG] Out of memory");
	}
	if ((ret & RET_SAVE) && search_save(&f) == -1) {
		free(f.v);
		return reply_no("[NOTSAVED] Out of memory");
	}
	if (skey_modseq(k))
		modseq = found_modseq(&f);
	found_to_uids(&f);
	if (!(ret & RET_ESEARCH))
		out_search(&f, modseq);
	else if (ret & (RET_MIN | RET_MAX | RET_ALL | RET_COUNT))
		out_esearch(ret, &f, modseq);
	free(f.v);
	return RES_OK;
}

/*
 * SEARCH [RETURN (options)] [CHARSET name] criteria. A BAD leaves "$"
 * as it was; a NO to a SEARCH with SAVE empties it (RFC 5182 2.1).
 */
int
cmd_search(struct arg *arg)
{
	const struct arg *a = arg;
	struct skey *k;
	int ret, r;

	if (search_return(&a, &ret) == -1)
		return reply_bad("Invalid RETURN option");
	if ((r = search_charset(&a)) != RES_OK) {
		if (r == RES_NO && (ret & RET_SAVE))
			parse_seqset_free(&S.saved);
		return r;
	}
	if (a == NULL || (k = search_keys(a, 0)) == NULL)
		return reply_bad("Invalid search criteria");
	/* RFC 7162 3.1: SEARCH MODSEQ enables CONDSTORE. */
	if (skey_modseq(k))
		session_condstore();
	r = search_run(k, ret);
	if (r == RES_NO && (ret & RET_SAVE))
		parse_seqset_free(&S.saved);
	skey_free(k);
	return r;
}
