/*
 * session.c: the session state, and what every command of a session
 * needs: its arguments as strings and mailbox names, the selected
 * mailbox's records and flags (system flags by name, both ways), message
 * sets, and the report of what other processes changed in the mailbox.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imapd.h"
#include "io.h"
#include "log.h"
#include "reply.h"
#include "session.h"
#include "utf7.h"

struct session S;

size_t
session_nargs(const struct arg *a)
{
	size_t n = 0;

	for (; a != NULL; a = a->next)
		n++;
	return n;
}

const char *
session_astring(const struct arg *a)
{
	if (a == NULL || a->type == ARG_LIST || strlen(a->s) != a->len)
		return NULL;
	return a->s;
}

/* Why session_mailbox_arg last refused a name. */
static enum { MBR_NAME, MBR_UTF7, MBR_UTF8 } mb_refusal;

/*
 * A name or pattern from the wire in the store's form, UTF-8, malloc'd:
 * decoded from modified UTF-7 in an IMAP4rev1 session (RFC 3501 5.1.3),
 * checked as UTF-8 once UTF-8 is enabled (RFC 6855 3, RFC 9051 5.1).
 * NULL with errno EINVAL when it is not valid in that form.
 */
char *
session_name_in(const char *wire)
{
	char *s;

	if (!S.utf8) {
		if (utf7_to_utf8(wire, &s) == -1)
			return NULL;
		return s;
	}
	if (!utf8_valid(wire, strlen(wire))) {
		errno = EINVAL;
		return NULL;
	}
	return strdup(wire);
}

/*
 * A mailbox argument, canonical (parse_mailbox_name), malloc'd. A name
 * that ends in the separator names no mailbox: only CREATE may drop it
 * (RFC 3501 6.3.3, see cmd_create), or SELECT "a/" would select a.
 * session_mailbox_refused answers a NULL.
 */
char *
session_mailbox_arg(const struct arg *a)
{
	const char *s = session_astring(a);
	char *canon, *name = NULL;

	mb_refusal = MBR_NAME;
	if (s == NULL || (a->len > 1 && s[a->len - 1] == '/'))
		return NULL;
	if ((canon = session_name_in(s)) == NULL) {
		if (errno == EINVAL)
			mb_refusal = S.utf8 ? MBR_UTF8 : MBR_UTF7;
		return NULL;
	}
	if (parse_mailbox_name(canon, &name) == -1)
		name = NULL;
	free(canon);
	return name;
}

/*
 * The reply to a mailbox argument session_mailbox_arg refused: invalid
 * UTF-8 is BAD (RFC 6855 3); a name that is no valid modified UTF-7
 * (RFC 3501 5.1.3 says to refuse it) or that the store cannot hold, NO.
 */
int
session_mailbox_refused(void)
{
	if (mb_refusal == MBR_UTF8)
		return reply_bad("Invalid UTF-8 in mailbox name");
	if (mb_refusal == MBR_UTF7)
		return reply_no("[CANNOT] Invalid modified UTF-7 in "
		    "mailbox name");
	return reply_no("[CANNOT] Invalid mailbox name");
}

/*
 * A mailbox name as the client reads it, from the store's canonical
 * form: every mailbox name a response carries goes out here. UTF-8 goes
 * out quoted once enabled (RFC 6855 3), modified UTF-7 before.
 */
void
session_out_mailbox(const char *name)
{
	const char *p;
	char *w;

	if (S.utf8) {
		for (p = name; *p != '\0' && (unsigned char)*p < 0x80; p++)
			continue;
		if (*p != '\0')
			io_quoted(name);
		else
			io_astring(name);
		return;
	}
	/* The store's names are valid UTF-8: only memory can fail here. */
	if (utf8_to_utf7(name, &w) == -1)
		log_die(EXIT_TEMP, "mailbox name: %s", strerror(errno));
	io_astring(w);
	free(w);
}

/*
 * A message's index record. The store reads records from disk; if that
 * fails the session cannot go on with a true view, so it ends.
 */
const struct rec *
session_rec(uint32_t seq)
{
	const struct rec *r = store_rec(S.mb, seq);

	if (r == NULL)
		log_die(EXIT_TEMP, "read index: %s", store_error(S.store));
	return r;
}

/* The keywords of r, a record of the selected mailbox. */
void
session_keywords(const struct rec *r, struct kwset *kw)
{
	if (store_rec_keywords(S.mb, r, kw) == -1)
		log_die(EXIT_TEMP, "read keywords: %s", store_error(S.store));
}

static const char *const sysflags[] = {
	"\\Answered", "\\Flagged", "\\Deleted", "\\Seen", "\\Draft"
};
static const uint32_t sysflag_bits[] = {
	FL_ANSWERED, FL_FLAGGED, FL_DELETED, FL_SEEN, FL_DRAFT
};

static void
out_flaglist(uint32_t flags, const struct kwset *kw, int recent)
{
	const char *sep = "";
	size_t i;

	io_out("(", 1);
	for (i = 0; i < 5; i++)
		if (flags & sysflag_bits[i]) {
			io_outs(sep);
			io_outs(sysflags[i]);
			sep = " ";
		}
	if (recent) {
		io_outs(sep);
		io_outs("\\Recent");
		sep = " ";
	}
	for (i = 0; i < store_nkeywords(S.mb); i++) {
		if (kw->w[i / 64] == 0)
			i |= 63;	/* none in this word: the next */
		else if (kwset_has(kw, i)) {
			io_outs(sep);
			io_outs(store_keyword_name(S.mb, i));
			sep = " ";
		}
	}
	io_out(")", 1);
}

void
session_out_flags(uint32_t seq)
{
	const struct rec *r = session_rec(seq);
	struct kwset kw;

	session_keywords(r, &kw);
	/* RFC 9051 2.3.2: \Recent is IMAP4rev1's only. */
	io_outs("FLAGS ");
	out_flaglist(r->flags & FL_SYSTEM, &kw,
	    !S.rev2 && store_is_recent(S.mb, seq));
}

void
session_out_mailbox_flags(void)
{
	size_t i, n = store_nkeywords(S.mb);

	io_outs("* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft");
	for (i = 0; i < n; i++)
		io_outf(" %s", store_keyword_name(S.mb, i));
	io_outs(")\r\n");
	if (S.readonly) {
		io_outs("* OK [PERMANENTFLAGS ()] Read-only mailbox\r\n");
		return;
	}
	io_outs("* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen "
	    "\\Draft");
	for (i = 0; i < n; i++)
		io_outf(" %s", store_keyword_name(S.mb, i));
	io_outs(n < KEYWORDS_MAX ? " \\*)] Flags permitted\r\n" :
	    ")] Flags permitted\r\n");
}

void
session_out_modseq(uint32_t seq)
{
	io_outs("MODSEQ (");
	session_out_modseq_value(session_rec(seq)->modseq);
	io_outs(")");
}

/* A FETCH MODSEQ, the highest kept for session_held_back(). */
void
session_out_modseq_value(uint64_t m)
{
	io_outu(m);
	if (m > S.modseq_told)
		S.modseq_told = m;
}

/*
 * The HIGHESTMODSEQ a client may take as its own now: with expunges
 * held back for a later command, one below the lowest of them.
 */
static uint64_t
session_safe_modseq(void)
{
	uint64_t low;

	if (store_held_modseq(S.mb, &low) == -1)
		log_die(EXIT_TEMP, "read index: %s", store_error(S.store));
	return low != 0 ? low - 1 : store_highestmodseq(S.mb);
}

/*
 * RFC 7162 3.2 and section 6: a QRESYNC client takes the highest MODSEQ
 * of the FETCHes it was told as its HIGHESTMODSEQ, unless told one. If
 * expunges with a lower MODSEQ are held back (this command may not
 * report them, RFC 3501 7.4.1), it is told a HIGHESTMODSEQ below them,
 * or after a lost connection it would never learn of them.
 */
static void
session_held_back(void)
{
	uint64_t safe;

	if (S.qresync && S.modseq_told > 0 &&
	    (safe = session_safe_modseq()) < S.modseq_told)
		io_outf("* OK [HIGHESTMODSEQ %llu] VANISHED reply delayed\r\n",
		    (unsigned long long)safe);
	S.modseq_told = 0;
}

/*
 * A CONDSTORE enabling command (RFC 7162 3.1): from now on every untagged
 * FETCH carries MODSEQ; the first one with a mailbox selected tells its
 * HIGHESTMODSEQ, before the command's own answer. (SELECT sends it
 * anyway; it is no extra cost, and the client may have missed it.)
 */
void
session_condstore(void)
{
	if (S.condstore)
		return;
	S.condstore = 1;
	if (S.mb != NULL)
		io_outf("* OK [HIGHESTMODSEQ %llu] Highest\r\n",
		    (unsigned long long)session_safe_modseq());
}

/*
 * RFC 7162 3.2.10: the UIDs (ascending) as one VANISHED response, with
 * (EARLIER) for SELECT/EXAMINE (QRESYNC) and UID FETCH (VANISHED).
 */
int
session_vanished(const uint32_t *uids, size_t n, int earlier)
{
	char *set;

	if (n == 0)
		return 0;
	if ((set = session_uidset_text(uids, n)) == NULL)
		return -1;
	io_outf("* VANISHED %s%s\r\n", earlier ? "(EARLIER) " : "", set);
	free(set);
	return 0;
}

/*
 * VANISHED (EARLIER) for SELECT/EXAMINE (QRESYNC) and UID FETCH
 * (VANISHED): the UIDs expunged after since, those in known only (a
 * resolved set; NULL: all). imapd keeps every expunge's UID and MODSEQ
 * (imapd-store(5), "expunged"), so the list is exact (RFC 7162 3.2.6).
 */
int
session_vanished_since(uint64_t since, const struct seqset *known)
{
	uint32_t *v;
	size_t i, k = 0, n;
	int r;

	if (store_vanished(S.mb, since, &v, &n) == -1)
		return -1;
	for (i = 0; i < n; i++)
		if (known == NULL || parse_seqset_has(known, v[i]))
			v[k++] = v[i];
	r = session_vanished(v, k, 1);
	free(v);
	return r;
}

/*
 * A mod-sequence argument (RFC 7162 section 7): mod-sequence-value is
 * 1 to 2^63 - 1, mod-sequence-valzer also 0.
 */
int
session_modseq_arg(const struct arg *a, int zero_ok, uint64_t *r)
{
	if (a == NULL || a->type != ARG_ATOM ||
	    parse_number64(a->s, r) == -1 || (*r == 0 && !zero_ok))
		return -1;
	return 0;
}

/*
 * Tell the client what other processes changed (RFC 3501 7.4.1: EXPUNGE
 * only where allow_expunge says the command permits it).
 */
void
session_report_changes(int allow_expunge)
{
	struct sync sy;
	size_t i;

	if (S.mb == NULL) {
		S.modseq_told = 0;
		return;
	}
	if (store_sync(S.mb, allow_expunge, &sy) == -1) {
		log_msg(LOG_ERR, "sync: %s", store_error(S.store));
		return;
	}
	if (sy.deleted && S.deleted_one) {
		/* This session deleted it: it is just no longer selected. */
		store_sync_free(&sy);
		session_unselect();
		return;
	}
	/* RFC 7162 3.2.10.2: VANISHED instead of EXPUNGE with QRESYNC. */
	if (S.qresync && session_vanished(sy.uids, sy.nexpunged, 0) == -1)
		log_die(EXIT_TEMP, "out of memory");
	for (i = 0; !S.qresync && i < sy.nexpunged; i++)
		io_outf("* %u EXPUNGE\r\n", sy.expunged[i]);
	if (sy.keywords_changed)
		session_out_mailbox_flags();
	if (sy.exists_changed) {
		io_outf("* %u EXISTS\r\n", sy.exists);
		if (!S.rev2)	/* RFC 9051 Appendix E 12: no RECENT */
			io_outf("* %u RECENT\r\n", sy.recent);
	}
	for (i = 0; i < sy.nchanged; i++) {
		io_outf("* %u FETCH (", sy.changed[i]);
		/* RFC 7162 3.2.4; RFC 9051 7.5.2: unsolicited, with UID */
		if (S.qresync || S.rev2)
			io_outf("UID %u ", session_rec(sy.changed[i])->uid);
		session_out_flags(sy.changed[i]);
		if (S.condstore) {	/* RFC 7162 3.1, example 14 */
			io_outs(" ");
			session_out_modseq(sy.changed[i]);
		}
		io_outs(")\r\n");
	}
	session_held_back();
	/*
	 * RFC 2180 3.2, not 3.3's BYE: the session keeps its view, readable,
	 * until it leaves; STORE and EXPUNGE get NO. A warning, told once.
	 */
	if (sy.deleted)
		io_outs("* NO Mailbox deleted by another session, "
		    "readable until closed\r\n");
	store_sync_free(&sy);
}

/*
 * The search result variable "$" belongs to the selected mailbox: it is
 * empty again after SELECT and EXAMINE (RFC 5182 2.1), and after CLOSE
 * and UNSELECT, which leave no mailbox its UIDs could name.
 */
void
session_unselect(void)
{
	if (S.mb != NULL)
		store_unselect(S.mb);
	S.mb = NULL;
	S.state = ST_AUTH;
	parse_seqset_free(&S.saved);
}

/* What '*' means in a UID set (RFC 3501 6.4.8). */
uint32_t
session_last_uid(void)
{
	uint32_t n = store_exists(S.mb);

	return n ? session_rec(n)->uid : 0;
}

/* "$", the saved search result (RFC 5182 3: seq-last-command). */
static int
is_saved_ref(const char *text)
{
	return text != NULL && strcmp(text, "$") == 0;
}

static int
saved_copy(struct seqset *r)
{
	r->n = 0;
	if ((r->r = calloc(S.saved.n + 1, sizeof *r->r)) == NULL)
		return -1;
	if (S.saved.n > 0)
		memcpy(r->r, S.saved.r, S.saved.n * sizeof *r->r);
	r->n = S.saved.n;
	return 0;
}

/*
 * A UID set argument, resolved with star for '*'; "$" is the saved
 * search result, UIDs in every context (RFC 5182 2.1), so that a UID no
 * longer in the mailbox just names nothing.
 */
int
session_uidset(const char *text, uint32_t star, struct seqset *r)
{
	if (is_saved_ref(text))
		return saved_copy(r);
	if (text == NULL || parse_seqset(text, r) == -1)
		return -1;
	parse_seqset_resolve(r, star);
	return 0;
}

/*
 * A sequence set of the selected mailbox, resolved. A number past the
 * last message is an error, but a range that ends in '*' just covers
 * what there is: "1:*" in an empty mailbox is no message at all.
 */
static int
seq_set(const char *text, struct seqset *set)
{
	uint32_t exists = store_exists(S.mb);
	size_t i;

	if (text == NULL || parse_seqset(text, set) == -1)
		return -1;
	for (i = 0; i < set->n; i++)
		if (set->r[i].lo != SEQ_STAR && set->r[i].hi != SEQ_STAR &&
		    (set->r[i].lo > exists || set->r[i].hi > exists)) {
			parse_seqset_free(set);
			return -1;
		}
	parse_seqset_resolve(set, exists);
	if (set->n > 0 && set->r[set->n - 1].hi > exists)
		set->r[set->n - 1].hi = exists;
	return 0;
}

/*
 * Turn a sequence set (or, with uid, a UID set) into the ascending list of
 * sequence numbers it names. Numbers past the last message are an error
 * for sequence numbers (RFC 3501 6.4.8 leaves UIDs free to miss). "$"
 * holds UIDs, whatever the command (RFC 5182 2.1): FETCH $ names the
 * messages of the saved UIDs still there.
 */
int
session_seqs(const char *text, int uid, uint32_t **seqs_r, size_t *n_r)
{
	struct seqset set;
	uint32_t exists = store_exists(S.mb), *v, seq;
	size_t i, n = 0;

	*seqs_r = NULL;
	*n_r = 0;
	uid |= is_saved_ref(text);
	if ((uid ? session_uidset(text, session_last_uid(), &set) :
	    seq_set(text, &set)) == -1)
		return -1;
	if (exists == 0 || (v = calloc(exists, sizeof *v)) == NULL) {
		parse_seqset_free(&set);
		return exists == 0 ? 0 : -1;
	}
	if (uid) {
		/* Each UID range starts where a binary search puts it. */
		for (i = 0; i < set.n; i++)
			for (seq = store_seq_at_uid(S.mb, set.r[i].lo);
			    seq >= 1 && seq <= exists &&
			    session_rec(seq)->uid <= set.r[i].hi; seq++)
				v[n++] = seq;
	} else
		for (i = 0; i < set.n; i++)
			for (seq = set.r[i].lo; seq >= 1 && seq <= set.r[i].hi;
			    seq++)
				v[n++] = seq;
	parse_seqset_free(&set);
	*seqs_r = v;
	*n_r = n;
	return 0;
}

/* Where the run of consecutive numbers that starts at v[i] ends. */
size_t
session_run_end(const uint32_t *v, size_t i, size_t n)
{
	while (i + 1 < n && v[i + 1] == v[i] + 1)
		i++;
	return i;
}

/* A UID list as RFC 4315 uid-set text, runs written a:b; malloc'd. */
char *
session_uidset_text(const uint32_t *uids, size_t n)
{
	size_t i = 0, j, len = 0, cap = n * 22 + 1;
	char *t = malloc(cap);

	if (t == NULL)
		return NULL;
	t[0] = '\0';
	while (i < n) {
		j = session_run_end(uids, i, n);
		len += (size_t)snprintf(t + len, cap - len, "%s%u",
		    i ? "," : "", uids[i]);
		if (j > i)
			len += (size_t)snprintf(t + len, cap - len, ":%u",
			    uids[j]);
		i = j + 1;
	}
	return t;
}

/*
 * Flags as in a flag-list (RFC 3501 section 9: flag-list, or the flags of
 * STORE given without parentheses). System flags become bits, keywords are
 * collected by name. \Recent cannot be set by a client. -1 for what is
 * no flag, -2 for a keyword longer than the store keeps.
 */
int
session_flag_args(const struct arg *a, uint32_t *sys_r, const char **kw,
    size_t *nkw_r)
{
	size_t i;

	*sys_r = 0;
	*nkw_r = 0;
	for (; a != NULL; a = a->next) {
		if (a->type != ARG_ATOM)
			return -1;
		if (a->s[0] != '\\') {
			if (!parse_is_atom(a->s, a->len))
				return -1;
			if (a->len > KEYWORD_LEN_MAX)
				return -2;
			kw[(*nkw_r)++] = a->s;
			continue;
		}
		for (i = 0; i < 5; i++)
			if (strcasecmp(a->s, sysflags[i]) == 0)
				break;
		if (i == 5)
			return -1;
		*sys_r |= sysflag_bits[i];
	}
	return 0;
}

/* A failure of session_flag_args as the reply (-2: a keyword too long). */
int
session_flag_error(int e)
{
	return e == -2 ? reply_no("[LIMIT] Keyword longer than %d bytes",
	    KEYWORD_LEN_MAX) : reply_bad("Invalid flag");
}
