/*
 * message.c: the commands on the messages of the selected mailbox but
 * FETCH and SEARCH: STORE, COPY, MOVE, EXPUNGE, and CLOSE and UNSELECT,
 * which leave it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imapd.h"
#include "command.h"
#include "io.h"
#include "log.h"
#include "reply.h"
#include "session.h"

int
cmd_close(struct arg *a)
{
	uint32_t *seqs;
	size_t n;

	(void)a;
	/* RFC 3501 6.4.2: expunge silently, unless read-only. */
	if (!S.readonly && store_expunge(S.mb, NULL, &seqs, &n, NULL) == 0)
		free(seqs);
	session_unselect();
	return RES_OK;
}

int
cmd_unselect(struct arg *a)
{
	(void)a;
	session_unselect();
	return RES_OK;
}

/*
 * What EXPUNGE, UID EXPUNGE and MOVE took: "* n EXPUNGE" each, or with
 * QRESYNC one VANISHED (RFC 7162 3.2.7, 3.2.9; RFC 6851 4.4); and, if
 * hms and anything went, the new HIGHESTMODSEQ in the tagged OK.
 */
static int
expunge_reply(const uint32_t *seqs, const uint32_t *uids, size_t n, int hms)
{
	size_t i;

	if (!S.qresync)
		for (i = 0; i < n; i++)
			io_outf("* %u EXPUNGE\r\n", seqs[i]);
	else if (n > 0 && session_vanished(uids, n, 0) == -1)
		log_die(EXIT_TEMP, "out of memory");
	if (n == 0 || !hms)
		return RES_OK;
	return reply_ok("[HIGHESTMODSEQ %llu]",
	    (unsigned long long)store_highestmodseq(S.mb));
}

int
cmd_expunge(struct arg *a)
{
	uint32_t *seqs, *xuids;
	size_t n;

	struct seqset set, *uids = NULL;
	int r;

	/* UID EXPUNGE takes a UID set (RFC 4315 2.1), EXPUNGE nothing. */
	if (S.uid) {
		if (session_uidset(session_astring(a), session_last_uid(),
		    &set) == -1)
			return reply_bad("Invalid sequence set");
		uids = &set;
	}
	if (S.readonly)
		r = reply_no("Mailbox is read-only");
	else if (store_expunge(S.mb, uids, &seqs, &n, &xuids) == -1)
		r = reply_no_store(0);
	else {
		r = expunge_reply(seqs, xuids, n, S.qresync);
		free(seqs);
		free(xuids);
	}
	if (uids)
		parse_seqset_free(uids);
	return r;
}

/*
 * Keyword names to bits of the selected mailbox, creating when adding;
 * a STORE that would pass the limit creates none of its keywords. RES_OK,
 * or the reply that refuses the STORE.
 */
static int
keyword_bits(const char **kw, size_t n, int create, struct kwset *bits_r)
{
	size_t i, unknown = 0;
	int b;

	memset(bits_r, 0, sizeof *bits_r);
	for (i = 0; create && i < n; i++)
		unknown += store_keyword(S.mb, kw[i], 0) < 0;
	if (unknown > KEYWORDS_MAX - store_nkeywords(S.mb))
		return reply_no("[LIMIT] Too many keywords");
	for (i = 0; i < n; i++) {
		if ((b = store_keyword(S.mb, kw[i], create)) >= 0)
			kwset_add(bits_r, (size_t)b);
		else if (create || store_errcode(S.store) != ENOENT)
			return store_errcode(S.store) == EINVAL ?
			    reply_bad("Invalid flag") : reply_no_store(0);
	}
	return RES_OK;
}

static int
flags_mode(const char *item, int *mode_r, int *silent_r)
{
	size_t n = strlen(item);

	*mode_r = STORE_SET;
	if (*item == '+' || *item == '-') {
		*mode_r = *item == '+' ? STORE_ADD : STORE_REMOVE;
		item++;
		n--;
	}
	*silent_r = n == 12 && strcasecmp(item + 5, ".SILENT") == 0;
	return (n == 5 || *silent_r) && strncasecmp(item, "FLAGS", 5) == 0 ?
	    0 : -1;
}

/*
 * The store modifiers (RFC 4466 2.5): UNCHANGEDSINCE is the one imapd
 * knows (RFC 7162 3.1.3); STORE_ALWAYS when there is none.
 */
static int
store_modifiers(const struct arg *m, uint64_t *max_r)
{
	*max_r = STORE_ALWAYS;
	if (m->type != ARG_LIST)
		return 0;
	if (!parse_keyword_is(m->child, "UNCHANGEDSINCE") ||
	    session_modseq_arg(m->child->next, 1, max_r) == -1 ||
	    m->child->next->next != NULL)
		return -1;
	return 1;
}

/*
 * A STORE's untagged FETCHes: the flags unless .SILENT; with CONDSTORE
 * the MODSEQ even when .SILENT (RFC 7162 3.1.3, example 14). A message
 * that failed UNCHANGEDSINCE gets its MODSEQ and flags (example 7; RFC
 * 3501 6.4.6), but not one expunged: its EXPUNGE follows, and no ghost
 * (RFC 2180 4.2.2, 4.2.3: only the messages the STORE changed).
 */
static void
store_fetch(uint32_t seq, int silent, int failed)
{
	const struct rec *r = session_rec(seq);

	if (failed == STORE_GHOST || (failed && (r->flags & FL_EXPUNGED)))
		return;
	if (silent && !failed && !S.condstore)
		return;
	io_outf("* %u FETCH (", seq);
	if (S.uid || S.qresync)	/* RFC 7162 3.2.4 */
		io_outf("UID %u ", r->uid);
	if (S.condstore)
		session_out_modseq(seq);
	if (!silent || failed) {
		if (S.condstore)
			io_outs(" ");
		session_out_flags(seq);
	}
	io_outs(")\r\n");
}

/*
 * Ghosts, messages another session expunged and this one has not been
 * told of (RFC 2180 4.2), keep their flags: the tagged reply says so
 * with EXPUNGEISSUED (RFC 5530), OK for .SILENT (4.2.1), else NO (4.2.2,
 * 4.2.3: the live messages changed and got their FETCH).
 */
static int
store_reply_ghosts(int silent)
{
	if (silent)
		return reply_ok("[EXPUNGEISSUED]");
	return reply_no("[EXPUNGEISSUED] Some messages were expunged by "
	    "another session");
}

/*
 * The tagged reply: [MODIFIED set] names what failed UNCHANGEDSINCE;
 * without it, ghosts make it EXPUNGEISSUED.
 */
static int
store_reply(const uint32_t *seqs, size_t n, const uint8_t *failed,
    int silent)
{
	uint32_t *v;
	size_t i, k = 0, ghosts = 0;
	char *set;
	int r;

	for (i = 0; i < n; i++) {
		k += failed[i] == STORE_FAILED;
		ghosts += failed[i] == STORE_GHOST;
	}
	if (k == 0)
		return ghosts ? store_reply_ghosts(silent) : RES_OK;
	if ((v = calloc(k, sizeof *v)) == NULL)
		return reply_no("[SERVERBUG] Out of memory");
	for (i = 0, k = 0; i < n; i++)
		if (failed[i] == STORE_FAILED)
			v[k++] = S.uid ? session_rec(seqs[i])->uid : seqs[i];
	if ((set = session_uidset_text(v, k)) == NULL)
		r = reply_no("[SERVERBUG] Out of memory");
	else
		r = reply_ok("[MODIFIED %s]", set);
	free(set);
	free(v);
	return r;
}

int
cmd_store(struct arg *a)
{
	const struct arg *fl, *item = a->next;
	const char **kw;
	uint32_t *seqs, sys;
	struct kwset bits;
	uint64_t max;
	uint8_t *failed = NULL;
	size_t i, n, nkw;
	int mode, silent, mods, r = RES_OK;

	if ((mods = store_modifiers(item, &max)) == -1)
		return reply_bad("Invalid STORE modifier");
	if (mods)
		item = item->next;
	if (item->type != ARG_ATOM || (fl = item->next) == NULL ||
	    flags_mode(item->s, &mode, &silent) == -1)
		return reply_bad_args();
	if (S.readonly)
		return reply_no("Mailbox is read-only");
	if (max != STORE_ALWAYS)
		session_condstore();	/* RFC 7162 3.1 */
	if (fl->type == ARG_LIST) {
		if (fl->next != NULL)
			return reply_bad_args();
		fl = fl->child;
	}
	if ((kw = calloc(session_nargs(fl) + 1, sizeof *kw)) == NULL)
		return reply_no("[SERVERBUG] Out of memory");
	if ((r = session_flag_args(fl, &sys, kw, &nkw)) < 0) {
		free(kw);
		return session_flag_error(r);
	}
	if (session_seqs(session_astring(a), S.uid, &seqs, &n) == -1)
		r = reply_bad("Invalid sequence set");
	else if (n == 0)
		;	/* no message: no keyword is made either */
	else if ((failed = calloc(n, 1)) == NULL)
		r = reply_no("[SERVERBUG] Out of memory");
	else if ((r = keyword_bits(kw, nkw, mode != STORE_REMOVE, &bits)) !=
	    RES_OK)
		;	/* refused */
	else if (store_flags_if(S.mb, seqs, n, mode, sys, &bits, max,
	    failed) == -1)
		r = reply_no_store(0);
	/* New keywords: FLAGS announces them before a FETCH shows them. */
	if (r == RES_OK && n > 0 && nkw > 0)
		session_report_changes(0);
	for (i = 0; r == RES_OK && i < n; i++)
		store_fetch(seqs[i], silent, failed[i]);
	if (r == RES_OK && n > 0)
		r = store_reply(seqs, n, failed, silent);
	free(failed);
	free(seqs);
	free(kw);
	return r;
}

int
cmd_copy(struct arg *a)
{
	uint32_t *seqs, *uids = NULL, *src = NULL, uidv;
	char *dest, *s1 = NULL, *s2 = NULL;
	size_t i, n;
	int r = RES_OK;

	if (session_seqs(session_astring(a), S.uid, &seqs, &n) == -1)
		return reply_bad("Invalid sequence set");
	if ((dest = session_mailbox_arg(a->next)) == NULL)
		r = session_mailbox_refused();
	else if ((uids = calloc(n + 1, sizeof *uids)) == NULL ||
	    (src = calloc(n + 1, sizeof *src)) == NULL)
		r = reply_no("[SERVERBUG] Out of memory");
	else if (n > 0 && store_copy(S.mb, seqs, n, dest, &uidv, uids) == -1)
		r = reply_no_store(1);
	else if (n > 0) {
		/* RFC 4315 section 3: COPYUID names both UID sets. */
		for (i = 0; i < n; i++)
			src[i] = session_rec(seqs[i])->uid;
		if ((s1 = session_uidset_text(src, n)) == NULL ||
		    (s2 = session_uidset_text(uids, n)) == NULL)
			r = reply_no("[SERVERBUG] Out of memory");
		else
			r = reply_ok("[COPYUID %u %s %s]", uidv, s1, s2);
	}
	free(s1);
	free(s2);
	free(src);
	free(uids);
	free(seqs);
	free(dest);
	return r;
}

/*
 * The answer to a MOVE that moved something: COPYUID in an untagged OK
 * before the expunges (RFC 6851 4.3), so that a client learns where a
 * message went before it learns it left; then EXPUNGE or VANISHED, and
 * with CONDSTORE the new HIGHESTMODSEQ (4.4).
 */
static int
move_reply(const struct moved *mv)
{
	char *s1, *s2 = NULL;

	if ((s1 = session_uidset_text(mv->src, mv->n)) == NULL ||
	    (s2 = session_uidset_text(mv->dst, mv->n)) == NULL) {
		free(s1);
		return reply_no("[SERVERBUG] Out of memory");
	}
	io_outf("* OK [COPYUID %u %s %s] Moved\r\n", mv->uidvalidity, s1, s2);
	free(s1);
	free(s2);
	return expunge_reply(mv->seqs, mv->uids, mv->nx, S.condstore);
}

/*
 * MOVE and UID MOVE (RFC 6851). Ghosts, messages another session has
 * expunged (RFC 2180 4), are not moved: the other session may have
 * moved them itself, and a copy would make a duplicate. The live ones
 * are, and the reply is NO [EXPUNGEISSUED] as for STORE (4.2.3).
 */
int
cmd_move(struct arg *a)
{
	struct moved mv;
	uint32_t *seqs;
	char *dest;
	size_t n;
	int r = RES_OK;

	if (session_seqs(session_astring(a), S.uid, &seqs, &n) == -1)
		return reply_bad("Invalid sequence set");
	memset(&mv, 0, sizeof mv);
	if ((dest = session_mailbox_arg(a->next)) == NULL)
		r = reply_no("[CANNOT] Invalid mailbox name");
	else if (S.readonly)
		r = reply_no("Mailbox is read-only");
	else if (n > 0 && store_move(S.mb, seqs, n, dest, &mv) == -1)
		r = reply_no_store(1);
	else if (mv.n > 0)
		r = move_reply(&mv);
	if (r == RES_OK && mv.ghosts > 0)
		r = reply_no("[EXPUNGEISSUED] Some messages were expunged by "
		    "another session");
	free(mv.src);
	free(mv.dst);
	free(mv.seqs);
	free(mv.uids);
	free(seqs);
	free(dest);
	return r;
}
