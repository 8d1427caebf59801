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
#include "reply.h"
#include "session.h"

/*
 * The select parameters (RFC 4466 2.1): CONDSTORE is the one imapd knows
 * (RFC 7162 3.1.8), an enabling command. -1 for any other.
 */
static int
select_params(const struct arg *p)
{
	const struct arg *it;

	if (p == NULL)
		return 0;
	if (p->type != ARG_LIST || p->child == NULL)
		return -1;
	for (it = p->child; it != NULL; it = it->next)
		if (!parse_keyword_is(it, "CONDSTORE"))
			return -1;
	session_condstore();	/* no mailbox is selected: just enabled */
	return 0;
}

static int
select_mailbox(struct arg *a, int readonly)
{
	char *name;
	uint32_t seq, n;

	if (select_params(a->next) == -1)
		return reply_bad("Unknown SELECT parameter");
	if ((name = session_mailbox_arg(a)) == NULL)
		return reply_no("[CANNOT] Invalid mailbox name");
	S.mb = store_select(S.store, name, readonly);
	free(name);
	if (S.mb == NULL)
		return reply_no_store(0);
	S.state = ST_SELECTED;
	S.readonly = readonly;
	n = store_exists(S.mb);
	session_out_mailbox_flags();
	io_outf("* %u EXISTS\r\n* %u RECENT\r\n", n, store_recent_count(S.mb));
	if ((seq = store_first_unseen(S.mb)) != 0)
		io_outf("* OK [UNSEEN %u] First unseen\r\n", seq);
	io_outf("* OK [UIDVALIDITY %u] UIDs valid\r\n",
	    store_uidvalidity(S.mb));
	io_outf("* OK [UIDNEXT %u] Predicted next UID\r\n",
	    store_uidnext(S.mb));
	io_outf("* OK [HIGHESTMODSEQ %llu] Highest\r\n",
	    (unsigned long long)store_highestmodseq(S.mb));
	return reply_ok(readonly ? "[READ-ONLY]" : "[READ-WRITE]");
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
	return session_astring(a) ? reply_no("[CANNOT] Invalid mailbox name") :
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

int
cmd_create(struct arg *a)
{
	/* RFC 3501 6.3.3: "CREATE a/" creates a (inferiors may follow). */
	if (a != NULL && a->type != ARG_LIST && a->len > 1 &&
	    a->s[a->len - 1] == '/')
		a->s[--a->len] = '\0';
	return with_mailbox(a, store_create);
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
	to = session_mailbox_arg(a->next);
	if (from == NULL || to == NULL)
		r = reply_no("[CANNOT] Invalid mailbox name");
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

static const char *const status_items[] = {
	"MESSAGES", "RECENT", "UIDNEXT", "UIDVALIDITY", "UNSEEN",
	"HIGHESTMODSEQ"
};
#define NSTATUS	(sizeof status_items / sizeof status_items[0])

static size_t
status_item(const struct arg *it)
{
	size_t i;

	for (i = 0; i < NSTATUS; i++)
		if (parse_keyword_is(it, status_items[i]))
			break;
	return i;
}

int
cmd_status(struct arg *a)
{
	struct mbstatus st;
	const struct arg *it;
	uint64_t v[NSTATUS];
	char *name;

	if (a->next->type != ARG_LIST || !a->next->child)
		return reply_bad_args();
	/* Every item is checked before any of the answer is sent. */
	for (it = a->next->child; it != NULL; it = it->next)
		if (status_item(it) == NSTATUS)
			return reply_bad("Unknown STATUS item");
	/* RFC 7162 3.1: STATUS (HIGHESTMODSEQ) enables CONDSTORE. */
	for (it = a->next->child; it != NULL; it = it->next)
		if (status_item(it) == NSTATUS - 1)
			session_condstore();
	if ((name = session_mailbox_arg(a)) == NULL)
		return reply_no("[CANNOT] Invalid mailbox name");
	if (store_status(S.store, name, &st) == -1) {
		free(name);
		return reply_no_store(0);
	}
	v[0] = st.messages;
	v[1] = st.recent;
	v[2] = st.uidnext;
	v[3] = st.uidvalidity;
	v[4] = st.unseen;
	v[5] = st.highestmodseq;
	io_outs("* STATUS ");
	io_astring(name);
	io_outs(" (");
	for (it = a->next->child; it != NULL; it = it->next) {
		size_t i = status_item(it);
		io_outs(status_items[i]);
		io_outs(" ");
		io_outu(v[i]);
		if (it->next != NULL)
			io_outs(" ");
	}
	io_outs(")\r\n");
	free(name);
	return RES_OK;
}

int
cmd_append(struct arg *a)
{
	const struct arg *flags = NULL, *date = NULL, *msg;
	const char **kw = NULL;
	uint32_t sys = 0, uidv, uid;
	size_t nkw = 0;
	time_t when = time(NULL);
	char *name;
	int r;

	msg = a->next;
	if (msg->type == ARG_LIST) {
		flags = msg;
		msg = msg->next;
	}
	if (msg != NULL && msg->next != NULL) {
		date = msg;
		msg = msg->next;
	}
	if (msg == NULL || msg->next != NULL || !msg->literal ||
	    (date && (date->type != ARG_STRING ||
	    parse_datetime(date->s, &when) == -1)))
		return reply_bad_args();
	if (msg->len == 0)
		return reply_no("Empty message");
	if ((name = session_mailbox_arg(a)) == NULL)
		return reply_no("[CANNOT] Invalid mailbox name");
	if (flags && (kw = calloc(session_nargs(flags->child) + 1,
	    sizeof *kw)) == NULL)
		r = reply_no("[SERVERBUG] Out of memory");
	else if (flags &&
	    (r = session_flag_args(flags->child, &sys, kw, &nkw)) < 0)
		r = session_flag_error(r);
	/* The limit is on what is stored: LF line ends become CRLF. */
	else if (store_crlf_size(msg->s, msg->len) > S.appendmax)
		r = reply_no("[TOOBIG] Message too big");
	else if (store_append(S.store, name, msg->s, msg->len, sys | STORE_CRLF,
	    (char **)kw, nkw, when, &uidv, &uid) == -1)
		r = reply_no_store(1);
	else
		r = reply_ok("[APPENDUID %u %u]", uidv, uid);
	free(kw);
	free(name);
	return r;
}
