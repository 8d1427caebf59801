/*
 * mailbox.c: the commands on mailboxes as a whole: SELECT, EXAMINE,
 * CREATE, DELETE, RENAME, SUBSCRIBE, UNSUBSCRIBE, STATUS and APPEND.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "imapd.h"
#include "command.h"
#include "io.h"
#include "list.h"
#include "mime.h"
#include "reply.h"
#include "session.h"

/* The QRESYNC select parameter (RFC 7162 3.2.5), checked and kept. */
struct qresync {
	int		 on;
	uint32_t	 uidvalidity;
	uint64_t	 modseq;
	struct seqset	 known;	/* resolved; n == 0: none given */
};

/*
 * A set of known-uids, known-sequence-set or known-uid-set: no "*"
 * (RFC 7162 section 7); with ascending, each range above the one before
 * (3.2.5.2). *count_r: how many numbers it names.
 */
static int
qresync_set(const struct arg *a, int ascending, struct seqset *set,
    uint64_t *count_r)
{
	uint64_t lo, hi, last = 0, count = 0;
	size_t i;

	if (a == NULL || a->type != ARG_ATOM || parse_seqset(a->s, set) == -1)
		return -1;
	for (i = 0; i < set->n; i++) {
		lo = set->r[i].lo < set->r[i].hi ? set->r[i].lo : set->r[i].hi;
		hi = set->r[i].lo < set->r[i].hi ? set->r[i].hi : set->r[i].lo;
		if (hi == SEQ_STAR || lo == 0 || (ascending && lo <= last)) {
			parse_seqset_free(set);
			return -1;
		}
		last = hi;
		count += hi - lo + 1;
	}
	*count_r = count;
	return 0;
}

/*
 * seq-match-data: two sets of as many numbers, each ascending. imapd
 * remembers every expunge exactly, so it checks them and needs no more.
 */
static int
qresync_match_data(const struct arg *a)
{
	struct seqset seqs, uids;
	uint64_t n1, n2;
	int r;

	if (a->type != ARG_LIST || session_nargs(a->child) != 2 ||
	    qresync_set(a->child, 1, &seqs, &n1) == -1)
		return -1;
	r = qresync_set(a->child->next, 1, &uids, &n2);
	parse_seqset_free(&seqs);
	if (r == 0)
		parse_seqset_free(&uids);
	return r == 0 && n1 == n2 ? 0 : -1;
}

/* (uidvalidity mod-sequence-value [known-uids] [seq-match-data]) */
static int
qresync_param(const struct arg *p, struct qresync *q)
{
	const struct arg *a;
	uint64_t count;

	if (p == NULL || p->type != ARG_LIST || q->on ||
	    (a = p->child) == NULL || a->type != ARG_ATOM ||
	    parse_number(a->s, &q->uidvalidity) == -1 || q->uidvalidity == 0 ||
	    session_modseq_arg(a->next, 0, &q->modseq) == -1)
		return -1;
	q->on = 1;
	if ((a = a->next->next) != NULL && a->type == ARG_ATOM) {
		if (qresync_set(a, 0, &q->known, &count) == -1)
			return -1;
		parse_seqset_resolve(&q->known, UINT32_MAX);
		a = a->next;
	}
	if (a != NULL && (qresync_match_data(a) == -1 || a->next != NULL))
		return -1;
	return 0;
}

/*
 * The select parameters (RFC 4466 2.1): CONDSTORE (RFC 7162 3.1.8), an
 * enabling command, and QRESYNC (3.2.5), only once ENABLE QRESYNC was
 * answered. A reply when they are not valid, else RES_OK.
 */
static int
select_params(const struct arg *p, struct qresync *q)
{
	const struct arg *it;
	int condstore = 0;

	if (p == NULL)
		return RES_OK;
	if (p->type != ARG_LIST || p->child == NULL)
		return reply_bad("Unknown SELECT parameter");
	for (it = p->child; it != NULL; it = it->next)
		if (parse_keyword_is(it, "CONDSTORE"))
			condstore = 1;
		else if (!parse_keyword_is(it, "QRESYNC"))
			return reply_bad("Unknown SELECT parameter");
		else if (!S.qresync)
			return reply_bad("QRESYNC is not enabled");
		else if (qresync_param((it = it->next), q) == -1)
			return reply_bad("Invalid QRESYNC parameter");
	if (condstore)
		session_condstore();	/* no mailbox is selected: just enabled */
	return RES_OK;
}

/*
 * RFC 7162 3.2.5.1: what changed since the client's mod-sequence, as
 * UID FETCH known-uids (FLAGS) (CHANGEDSINCE modseq VANISHED) would
 * answer it. Nothing when UIDVALIDITY does not match (3.2.5).
 */
static int
select_resync(const struct qresync *q)
{
	const struct seqset *known = q->known.n ? &q->known : NULL;
	uint32_t *seqs, uid;
	size_t i, n;

	if (!q->on || q->uidvalidity != store_uidvalidity(S.mb))
		return 0;
	if (session_vanished_since(q->modseq, known) == -1 ||
	    store_changed_since(S.mb, q->modseq, &seqs, &n) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		uid = session_rec(seqs[i])->uid;
		if (known != NULL && !parse_seqset_has(known, uid))
			continue;
		io_outf("* %u FETCH (UID %u ", seqs[i], uid);
		session_out_modseq(seqs[i]);
		io_outs(" ");
		session_out_flags(seqs[i]);
		io_outs(")\r\n");
	}
	free(seqs);
	return 0;
}

static int
select_open(struct arg *a, int readonly, const struct qresync *q)
{
	char *name, id[OBJECTID_SIZE];
	uint32_t seq, n;

	if ((name = session_mailbox_arg(a)) == NULL)
		return session_mailbox_refused();
	S.mb = store_select(S.store, name, readonly);
	if (S.mb == NULL) {
		free(name);
		return reply_no_store(0);
	}
	S.state = ST_SELECTED;
	S.readonly = readonly;
	n = store_exists(S.mb);
	session_out_mailbox_flags();
	io_outf("* %u EXISTS\r\n", n);
	/*
	 * RFC 9051 6.3.2 and Appendix E 10 to 12: IMAP4rev2 has no RECENT
	 * and no UNSEEN code here, and requires the mailbox's LIST.
	 */
	if (S.rev2)
		list_selected(name);
	else {
		io_outf("* %u RECENT\r\n", store_recent_count(S.mb));
		if ((seq = store_first_unseen(S.mb)) != 0)
			io_outf("* OK [UNSEEN %u] First unseen\r\n", seq);
	}
	free(name);
	io_outf("* OK [UIDVALIDITY %u] UIDs valid\r\n",
	    store_uidvalidity(S.mb));
	io_outf("* OK [UIDNEXT %u] Predicted next UID\r\n",
	    store_uidnext(S.mb));
	io_outf("* OK [HIGHESTMODSEQ %llu] Highest\r\n",
	    (unsigned long long)store_highestmodseq(S.mb));
	/* RFC 8474 4.2 */
	store_mailboxid(S.mb, id);
	io_outf("* OK [MAILBOXID (%s)] Mailbox id\r\n", id);
	if (select_resync(q) == -1) {
		session_unselect();
		return reply_no_store(0);
	}
	return reply_ok(readonly ? "[READ-ONLY]" : "[READ-WRITE]");
}

static int
select_mailbox(struct arg *a, int readonly)
{
	struct qresync q;
	int r;

	memset(&q, 0, sizeof q);
	if ((r = select_params(a->next, &q)) == RES_OK)
		r = select_open(a, readonly, &q);
	parse_seqset_free(&q.known);
	return r;
}

int
cmd_select(struct arg *a)
{
	return select_mailbox(a, 0);
}

int
cmd_examine(struct arg *a)
{
	return select_mailbox(a, 1);
}

/* The reply to a mailbox argument that is no valid name. */
static int
mailbox_arg_error(const struct arg *a)
{
	return session_astring(a) ? session_mailbox_refused() :
	    reply_bad_args();
}

/* Run a store call on one mailbox-name argument. */
static int
with_mailbox(struct arg *a, int (*fn)(struct store *, const char *))
{
	char *name = session_mailbox_arg(a);
	int r;

	if (name == NULL)
		return mailbox_arg_error(a);
	r = fn(S.store, name) == -1 ? reply_no_store(0) : RES_OK;
	free(name);
	return r;
}

/*
 * CREATE's parameters (RFC 4466 2.2): USE (RFC 6154 3) is the one imapd
 * knows. A use the store cannot give is NO [USEATTR], and no mailbox.
 */
static int
create_params(const struct arg *p, uint32_t *use_r)
{
	const struct arg *u;
	uint32_t bit;

	*use_r = 0;
	if (p == NULL)
		return RES_OK;
	if (p->type != ARG_LIST || p->child == NULL)
		return reply_bad_args();
	for (p = p->child; p != NULL; p = p->next) {
		if (!parse_keyword_is(p, "USE") || (p = p->next) == NULL ||
		    p->type != ARG_LIST)
			return reply_bad("Unknown CREATE parameter");
		for (u = p->child; u != NULL; u = u->next) {
			switch (listext_use(u, &bit)) {
			case -2:
				return reply_bad("Invalid special use");
			case -1:
				return reply_no("[USEATTR] %.*s not supported",
				    (int)(u->len < 64 ? u->len : 64), u->s);
			}
			*use_r |= bit;
		}
	}
	return RES_OK;
}

int
cmd_create(struct arg *a)
{
	struct mbstatus st;
	uint32_t use;
	char *name;
	int r;

	/* RFC 3501 6.3.3: "CREATE a/" creates a (inferiors may follow). */
	if (a != NULL && a->type != ARG_LIST && a->len > 1 &&
	    a->s[a->len - 1] == '/')
		a->s[--a->len] = '\0';
	if ((r = create_params(a ? a->next : NULL, &use)) != RES_OK)
		return r;
	if ((name = session_mailbox_arg(a)) == NULL)
		return mailbox_arg_error(a);
	if (store_create_use(S.store, name, use) == -1)
		r = reply_no_store(0);
	/* RFC 8474 4.1: the new mailbox's id (read back: one more look). */
	else if (store_status(S.store, name, &st) == 0)
		r = reply_ok("[MAILBOXID (%s)]", st.mailboxid);
	else
		r = RES_OK;
	free(name);
	return r;
}

int
cmd_delete(struct arg *a)
{
	char *name = session_mailbox_arg(a);
	int r = RES_OK;

	if (name == NULL)
		return mailbox_arg_error(a);
	if (store_delete(S.store, name) == -1)
		r = store_errcode(S.store) == EPERM ?
		    reply_no("[CANNOT] INBOX cannot be deleted") :
		    reply_no_store(0);
	free(name);
	S.deleted_one = r == RES_OK;
	return r;
}

static int
subscribe(struct store *st, const char *name)
{
	return store_subscribe(st, name, 1);
}

static int
unsubscribe(struct store *st, const char *name)
{
	return store_subscribe(st, name, 0);
}

int
cmd_subscribe(struct arg *a)
{
	return with_mailbox(a, subscribe);
}

int
cmd_unsubscribe(struct arg *a)
{
	return with_mailbox(a, unsubscribe);
}

int
cmd_rename(struct arg *a)
{
	char *from, *to;
	size_t n;
	int r;

	from = session_mailbox_arg(a);
	to = from != NULL ? session_mailbox_arg(a->next) : NULL;
	if (from == NULL || to == NULL)
		r = session_mailbox_refused();
	else if (n = strlen(from), strncmp(from, to, n) == 0 &&
	    (to[n] == '/' || to[n] == '\0'))
		r = reply_no("[CANNOT] Cannot rename a mailbox into itself");
	else
		r = store_rename(S.store, from, to) == -1 ? reply_no_store(0) :
		    RES_OK;
	free(from);
	free(to);
	return r;
}

/*
 * The STATUS items of each protocol: RFC 3501 6.3.10 has RECENT, RFC
 * 9051 6.3.11 (section 9, status-att) DELETED instead; HIGHESTMODSEQ
 * is RFC 7162's, SIZE RFC 8438's, for both.
 */
#define SI_REV1	1
#define SI_REV2	2
static const struct {
	const char	*name;
	int		 in;
} status_items[] = {
	{ "MESSAGES", SI_REV1 | SI_REV2 },
	{ "RECENT", SI_REV1 },
	{ "UIDNEXT", SI_REV1 | SI_REV2 },
	{ "UIDVALIDITY", SI_REV1 | SI_REV2 },
	{ "UNSEEN", SI_REV1 | SI_REV2 },
	{ "DELETED", SI_REV2 },
	{ "HIGHESTMODSEQ", SI_REV1 | SI_REV2 },
	/* RFC 7889 section 3: the same limit for every mailbox. */
	{ "APPENDLIMIT", SI_REV1 | SI_REV2 },
	/* RFC 8474 4.3: its value is no number (mailbox_status_out). */
	{ "MAILBOXID", SI_REV1 | SI_REV2 },
	{ "SIZE", SI_REV1 | SI_REV2 },
};
enum {
	STATUS_MESSAGES, STATUS_RECENT, STATUS_UIDNEXT, STATUS_UIDVALIDITY,
	STATUS_UNSEEN, STATUS_DELETED, STATUS_HIGHESTMODSEQ, STATUS_APPENDLIMIT,
	STATUS_MAILBOXID, STATUS_SIZE
};
#define NSTATUS	(sizeof status_items / sizeof status_items[0])

/* The item's index, NSTATUS for one this session's protocol lacks. */
static size_t
status_item(const struct arg *it)
{
	size_t i;

	for (i = 0; i < NSTATUS; i++)
		if (parse_keyword_is(it, status_items[i].name))
			break;
	if (i < NSTATUS &&
	    !(status_items[i].in & (S.rev2 ? SI_REV2 : SI_REV1)))
		return NSTATUS;
	return i;
}

/*
 * STATUS items, of STATUS or of LIST's RETURN (STATUS ...) (RFC 5819):
 * every one is checked before any of the answer is sent.
 */
int
mailbox_status_items(const struct arg *items)
{
	const struct arg *it;

	if (items == NULL)
		return reply_bad_args();
	for (it = items; it != NULL; it = it->next)
		if (status_item(it) == NSTATUS)
			return reply_bad("Unknown STATUS item");
	/* RFC 7162 3.1: STATUS (HIGHESTMODSEQ) enables CONDSTORE. */
	for (it = items; it != NULL; it = it->next)
		if (status_item(it) == STATUS_HIGHESTMODSEQ)
			session_condstore();
	return RES_OK;
}

/*
 * The selected mailbox's status is the session's view of it: what the
 * client has been told, so that STATUS never reports a message before
 * its EXISTS (RFC 9051 6.3.11 lets STATUS name the selected mailbox).
 * The mailbox is known by its UIDVALIDITY, unique in the store, so a
 * RENAME by another session does not hide it.
 */
static void
status_of_view(struct mbstatus *st)
{
	uint32_t seq, n = store_exists(S.mb);
	const struct rec *r;

	st->messages = n;
	st->recent = store_recent_count(S.mb);
	st->uidnext = store_uidnext(S.mb);
	st->highestmodseq = store_highestmodseq(S.mb);
	st->unseen = 0;
	st->deleted = 0;
	st->size = 0;
	for (seq = 1; seq <= n; seq++) {
		if ((r = session_rec(seq)) == NULL)
			continue;
		st->unseen += !(r->flags & FL_SEEN);
		st->deleted += (r->flags & FL_DELETED) != 0;
		st->size += r->size;
	}
}

int
mailbox_status(const char *name, struct mbstatus *st)
{
	if (store_status(S.store, name, st) == -1)
		return -1;
	if (S.mb != NULL && st->uidvalidity == store_uidvalidity(S.mb))
		status_of_view(st);
	return 0;
}

void
mailbox_status_out(const char *name, const struct mbstatus *st,
    const struct arg *items)
{
	const struct arg *it;
	uint64_t v[NSTATUS];

	v[STATUS_MESSAGES] = st->messages;
	v[STATUS_RECENT] = st->recent;
	v[STATUS_UIDNEXT] = st->uidnext;
	v[STATUS_UIDVALIDITY] = st->uidvalidity;
	v[STATUS_UNSEEN] = st->unseen;
	v[STATUS_DELETED] = st->deleted;
	v[STATUS_HIGHESTMODSEQ] = st->highestmodseq;
	v[STATUS_APPENDLIMIT] = S.appendmax;
	v[STATUS_MAILBOXID] = 0;
	v[STATUS_SIZE] = st->size;
	io_outs("* STATUS ");
	session_out_mailbox(name);
	io_outs(" (");
	for (it = items; it != NULL; it = it->next) {
		size_t i = status_item(it);

		io_outs(status_items[i].name);
		io_outs(" ");
		if (i == STATUS_MAILBOXID)	/* RFC 8474 4.3 */
			io_outf("(%s)", st->mailboxid);
		else
			io_outu(v[i]);
		if (it->next != NULL)
			io_outs(" ");
	}
	io_outs(")\r\n");
}

int
cmd_status(struct arg *a)
{
	struct mbstatus st;
	char *name;
	int r;

	if (a->next->type != ARG_LIST || !a->next->child)
		return reply_bad_args();
	if ((r = mailbox_status_items(a->next->child)) != RES_OK)
		return r;
	if ((name = session_mailbox_arg(a)) == NULL)
		return session_mailbox_refused();
	if (mailbox_status(name, &st) == -1) {
		free(name);
		return reply_no_store(0);
	}
	mailbox_status_out(name, &st, a->next->child);
	free(name);
	return RES_OK;
}

/*
 * The data of one APPEND message: a literal, or the UTF8 data extension
 * "UTF8 (literal8)" (RFC 6855 4); NULL if neither. *next_r: what follows.
 */
static const struct arg *
append_data(const struct arg *msg, const struct arg **next_r)
{
	const struct arg *lit;

	if (parse_keyword_is(msg, "UTF8") && msg->next != NULL &&
	    msg->next->type == ARG_LIST) {
		lit = msg->next->child;
		*next_r = msg->next->next;
		return lit != NULL && lit->next == NULL && lit->literal == 2 ?
		    lit : NULL;
	}
	*next_r = msg != NULL ? msg->next : NULL;
	return msg != NULL && msg->literal ? msg : NULL;
}

/* RFC 6855 4: 8-bit header fields only from a client that enabled UTF-8. */
static int
header_8bit(const struct arg *msg)
{
	struct mime_part *m;
	const char *h;
	size_t n, i;

	if ((m = mime_parse_header(msg->s, msg->len)) == NULL)
		return 0;	/* no memory: the store's checks decide */
	mime_header(m, &h, &n);
	for (i = 0; i < n && (unsigned char)h[i] < 0x80; i++)
		continue;
	mime_free(m);
	return i < n;
}

/* The messages of one APPEND, up to APPEND_MSGS_MAX (RFC 3502). */
struct appendset {
	struct newmsg	 v[APPEND_MSGS_MAX];
	const char	**kw[APPEND_MSGS_MAX];
	size_t		 n;
};

/*
 * One message: [flags] [date-time] literal (RFC 3502 6.3); the next
 * argument in *it. RES_OK, or the reply that refuses the whole APPEND.
 */
static int
append_one(const struct arg **it, struct appendset *as)
{
	const struct arg *flags = NULL, *date = NULL, *msg = *it;
	struct newmsg *v = &as->v[as->n];
	const char **kw;
	int r;

	memset(v, 0, sizeof *v);
	v->date = time(NULL);
	if (msg->type == ARG_LIST) {
		flags = msg;
		msg = msg->next;
	}
	if (msg != NULL && !msg->literal && !parse_keyword_is(msg, "UTF8")) {
		date = msg;
		msg = msg->next;
	}
	if ((msg = append_data(msg, it)) == NULL || (date &&
	    (date->type != ARG_STRING ||
	    parse_datetime(date->s, &v->date) == -1)))
		return reply_bad_args();
	if (msg->len == 0)
		return reply_no("Empty message");
	if (!S.utf8 && header_8bit(msg))
		return reply_no("Message has 8-bit header fields: "
		    "ENABLE UTF8=ACCEPT first");
	/* The limit is on what is stored: LF line ends become CRLF. */
	if (store_crlf_size(msg->s, msg->len) > S.appendmax)
		return reply_no("[TOOBIG] Message too big");
	if ((kw = calloc(flags ? session_nargs(flags->child) + 1 : 1,
	    sizeof *kw)) == NULL)
		return reply_no("[SERVERBUG] Out of memory");
	as->kw[as->n++] = kw;
	if (flags && (r = session_flag_args(flags->child, &v->flags, kw,
	    &v->nkeywords)) < 0)
		return session_flag_error(r);
	v->p = msg->s;
	v->len = msg->len;
	v->flags |= STORE_CRLF;
	v->keywords = (char **)kw;
	return RES_OK;
}

/*
 * APPEND of one message or, as MULTIAPPEND (RFC 3502), several: all are
 * checked before any is stored, and then stored with one record write,
 * so every session sees all of them or none; APPENDUID names them all
 * (RFC 4315 3).
 */
int
cmd_append(struct arg *a)
{
	const struct arg *it = a->next;
	struct appendset *as;
	uint32_t uidv, uids[APPEND_MSGS_MAX];
	char *name = NULL, *set;
	size_t i;
	int r = RES_OK;

	if ((as = calloc(1, sizeof *as)) == NULL)
		return reply_no("[SERVERBUG] Out of memory");
	while (r == RES_OK && it != NULL)
		if (as->n == APPEND_MSGS_MAX)
			r = reply_no("[LIMIT] Too many messages in one APPEND");
		else
			r = append_one(&it, as);
	if (r != RES_OK)
		;	/* refused */
	else if ((name = session_mailbox_arg(a)) == NULL)
		r = session_mailbox_refused();
	else if (store_append_n(S.store, name, as->v, as->n, &uidv, uids)
	    == -1)
		r = reply_no_store(1);
	else if ((set = session_uidset_text(uids, as->n)) == NULL)
		r = reply_no("[SERVERBUG] Out of memory");
	else {
		r = reply_ok("[APPENDUID %u %s]", uidv, set);
		free(set);
	}
	for (i = 0; i < as->n; i++)
		free(as->kw[i]);
	free(as);
	free(name);
	return r;
}
