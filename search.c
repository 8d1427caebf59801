/*
 * search.c: SEARCH: its keys parsed into a tree, and matched against
 * each message of the selected mailbox.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "imapd.h"
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
	SK_SENTBEFORE, SK_SENTON, SK_SENTSINCE, SK_MODSEQ
};

struct skey {
	int		 op;
	uint32_t	 flag;
	uint64_t	 bits;		/* keywords (0: unknown) */
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
	int b;

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
		if (parse_date(v->s, &t) == -1)
			return -1;
		k->t = t;
		return 0;
	case SK_LARGER:
	case SK_SMALLER:
		return parse_number64(v->s, &k->n);
	case SK_KEYWORD:
	case SK_UNKEYWORD:
		if (!parse_is_atom(v->s, v->len))
			return -1;
		/* An unknown keyword is set on no message. */
		b = store_keyword(S.mb, v->s, 0);
		k->bits = b >= 0 ? (uint64_t)1 << b : 0;
		return 0;
	default:	/* SK_UID */
		if (parse_seqset(v->s, &k->set) == -1)
			return -1;
		parse_seqset_resolve(&k->set, session_last_uid());
		return 0;
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

static int
search_match(const struct skey *k, struct msgctx *m)
{
	uint32_t seq = m->seq;
	const struct rec r = *session_rec(seq);
	int64_t sent;
	int64_t day = r.internaldate - r.internaldate % 86400;

	if (r.internaldate < 0 && r.internaldate % 86400)
		day -= 86400;
	switch (k->op) {
	case SK_ALL:
		return 1;
	case SK_FLAG:
		return (r.flags & k->flag) != 0;
	case SK_UNFLAG:
		return (r.flags & k->flag) == 0;
	case SK_KEYWORD:
		return (r.keywords & k->bits) != 0;
	case SK_UNKEYWORD:
		return (r.keywords & k->bits) == 0;
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

int
cmd_search(struct arg *a)
{
	struct skey *k;
	uint32_t seq, n = store_exists(S.mb);
	uint64_t top = 0;
	int modseq;

	/* RFC 6855 3: the client said UTF-8 already; a charset conflicts. */
	if (parse_keyword_is(a, "CHARSET") && S.utf8 && !S.rev2)
		return reply_bad("SEARCH CHARSET is not allowed after "
		    "ENABLE UTF8=ACCEPT");
	if (parse_keyword_is(a, "CHARSET")) {
		/* RFC 3501 6.4.4: strings are compared as UTF-8. */
		const char *cs = session_astring(a->next);
		if (cs == NULL)
			return reply_bad_args();
		if (strcasecmp(cs, "US-ASCII") != 0 && strcasecmp(cs, "UTF-8"))
			return reply_no("[BADCHARSET (US-ASCII UTF-8)] "
			    "Unsupported charset");
		a = a->next->next;
	}
	if (a == NULL || (k = search_keys(a, 0)) == NULL)
		return reply_bad("Invalid search criteria");
	/* RFC 7162 3.1: SEARCH MODSEQ enables CONDSTORE. */
	if ((modseq = skey_modseq(k)))
		session_condstore();
	io_outs("* SEARCH");
	for (seq = 1; seq <= n; seq++) {
		struct msgctx m;

		msg_init(&m, seq);
		if (search_match(k, &m)) {
			const struct rec *r = session_rec(seq);
			io_outf(" %u", S.uid ? r->uid : seq);
			if (r->modseq > top)
				top = r->modseq;
		}
		msg_done(&m);
	}
	/* 3.1.6: the highest MODSEQ of the messages found, if any. */
	if (modseq && top > 0)
		io_outf(" (MODSEQ %llu)", (unsigned long long)top);
	io_outs("\r\n");
	skey_free(k);
	return RES_OK;
}
