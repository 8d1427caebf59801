/*
 * command.c: the command table, at the top, and dispatch: a command's
 * state, its arguments and the UID prefix are checked here, from its
 * row, before its handler runs; then the tagged reply. Also the loop
 * that feeds the parser, and the commands valid in any state.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imapd.h"
#include "command.h"
#include "io.h"
#include "log.h"
#include "parse.h"
#include "reply.h"
#include "session.h"

/*
 * The command table: all that dispatch checks before a handler runs.
 * states: where the command is allowed. min, max: how many arguments
 * follow its name (more than max, or fewer than min, is answered BAD
 * "Missing or invalid arguments"); a handler checks their kinds. flags:
 * CF_* below. A new command is one row here and one handler.
 */
#define CF_UID		0x01	/* may follow UID */
#define CF_UIDSET	0x02	/* after UID, a UID set first (RFC 4315 2.1) */
#define CF_EXPUNGE	0x04	/* EXPUNGE responses may follow (7.4.1) */
#define CF_DESELECT	0x08	/* deselects first, even if it fails (6.3.1) */
#define CF_LOGOUT	0x10	/* ends the session when it succeeds */
#define CF_REV1		0x20	/* IMAP4rev1 only: not in RFC 9051's grammar */

#define ANY		ARGS_MAX	/* as many as a command can have */
#define ALL_STATES	(ST_NOAUTH | ST_AUTH | ST_SELECTED)
#define LOGGED_IN	(ST_AUTH | ST_SELECTED)

struct cmd {
	const char	*name;
	int		 (*fn)(struct arg *);
	int		 states;
	size_t		 min, max;
	int		 flags;
};

static int cmd_uid(struct arg *);

static const struct cmd cmds[] = {
	{ "CAPABILITY",	cmd_capability,	ALL_STATES, 0, 0, CF_EXPUNGE },
	{ "NOOP",	cmd_noop,	ALL_STATES, 0, 0, CF_EXPUNGE },
	{ "LOGOUT",	cmd_logout,	ALL_STATES, 0, 0,
	    CF_EXPUNGE | CF_LOGOUT },
	/* RFC 2971 3.1: ID is valid in any state. */
	{ "ID",		cmd_id,		ALL_STATES, 1, 1, CF_EXPUNGE },
	{ "LOGIN",	cmd_login,	ST_NOAUTH, 2, 2, CF_EXPUNGE },
	{ "AUTHENTICATE", cmd_authenticate, ST_NOAUTH, 1, 2, CF_EXPUNGE },
	/* RFC 5161 3.1: ENABLE is for the authenticated state; like most
	 * servers, imapd does not refuse it once a mailbox is selected. */
	{ "ENABLE",	cmd_enable,	LOGGED_IN, 1, ANY, CF_EXPUNGE },
	/* SELECT and EXAMINE take select parameters (RFC 4466 2.1) */
	{ "SELECT",	cmd_select,	LOGGED_IN, 1, 2,
	    CF_EXPUNGE | CF_DESELECT },
	{ "EXAMINE",	cmd_examine,	LOGGED_IN, 1, 2,
	    CF_EXPUNGE | CF_DESELECT },
	/* CREATE takes create parameters (RFC 4466 2.2) */
	{ "CREATE",	cmd_create,	LOGGED_IN, 1, 2, CF_EXPUNGE },
	{ "DELETE",	cmd_delete,	LOGGED_IN, 1, 1, CF_EXPUNGE },
	{ "RENAME",	cmd_rename,	LOGGED_IN, 2, 2, CF_EXPUNGE },
	{ "SUBSCRIBE",	cmd_subscribe,	LOGGED_IN, 1, 1, CF_EXPUNGE },
	{ "UNSUBSCRIBE", cmd_unsubscribe, LOGGED_IN, 1, 1, CF_EXPUNGE },
	/* (options) reference patterns RETURN (options): RFC 5258 6 */
	{ "LIST",	cmd_list,	LOGGED_IN, 2, 5, CF_EXPUNGE },
	/* RFC 9051 Appendix E 19: LIST (SUBSCRIBED) replaces LSUB. */
	{ "LSUB",	cmd_lsub,	LOGGED_IN, 2, 2, CF_EXPUNGE | CF_REV1 },
	{ "NAMESPACE",	cmd_namespace,	LOGGED_IN, 0, 0, CF_EXPUNGE },
	{ "STATUS",	cmd_status,	LOGGED_IN, 2, 2, CF_EXPUNGE },
	/* MULTIAPPEND: messages up to APPEND_MSGS_MAX (RFC 3502) */
	{ "APPEND",	cmd_append,	LOGGED_IN, 2, ANY, CF_EXPUNGE },
	/* IDLE reports changes and ends at the client's DONE (idle.c). */
	{ "IDLE",	cmd_idle,	LOGGED_IN, 0, 0, CF_EXPUNGE },
	/* RFC 9051 Appendix E 17: CHECK was removed, NOOP does its job. */
	{ "CHECK",	cmd_noop,	ST_SELECTED, 0, 0, CF_EXPUNGE | CF_REV1 },
	{ "CLOSE",	cmd_close,	ST_SELECTED, 0, 0, CF_EXPUNGE },
	{ "UNSELECT",	cmd_unselect,	ST_SELECTED, 0, 0, CF_EXPUNGE },
	{ "EXPUNGE",	cmd_expunge,	ST_SELECTED, 0, 0,
	    CF_UID | CF_UIDSET | CF_EXPUNGE },
	/* SEARCH answers a missing key itself: "Invalid search criteria". */
	{ "SEARCH",	cmd_search,	ST_SELECTED, 0, ANY, CF_UID },
	/* FETCH takes fetch modifiers (RFC 4466 2.4) */
	{ "FETCH",	cmd_fetch,	ST_SELECTED, 2, 3, CF_UID },
	{ "STORE",	cmd_store,	ST_SELECTED, 3, ANY, CF_UID },
	{ "COPY",	cmd_copy,	ST_SELECTED, 2, 2,
	    CF_UID | CF_EXPUNGE },
	{ "MOVE",	cmd_move,	ST_SELECTED, 2, 2,
	    CF_UID | CF_EXPUNGE },
	/* UID answers a missing command itself: "Unknown UID command". */
	{ "UID",	cmd_uid,	ST_SELECTED, 0, ANY, CF_EXPUNGE },
	{ NULL,		NULL,		0, 0, 0, 0 }
};

static const struct cmd *cur;	/* the command being run, for its reply */

static const struct cmd *
find_cmd(const char *name)
{
	const struct cmd *c;

	for (c = cmds; c->name != NULL; c++)
		if (strcasecmp(c->name, name) == 0)
			break;
	return c;
}

/*
 * The checks of the command's row, then its handler. Under UID, a
 * CF_UIDSET command takes its UID set before its own arguments.
 */
static int
run_handler(const struct cmd *c, struct arg *a)
{
	size_t n = session_nargs(a), set = S.uid && (c->flags & CF_UIDSET);

	/*
	 * RFC 7162 3.2.11: a server that announces CONDSTORE says CLOSED when
	 * SELECT or EXAMINE closes the selected mailbox, enabled or not.
	 */
	if ((c->flags & CF_DESELECT) && S.mb != NULL) {
		io_outs("* OK [CLOSED] Previous mailbox closed\r\n");
		session_unselect();
	}
	if (n < c->min + set || n > c->max + set)
		return reply_bad_args();
	return c->fn(a);
}

static int
cmd_uid(struct arg *a)
{
	const struct cmd *c;

	if (a == NULL || a->type != ARG_ATOM ||
	    !((c = find_cmd(a->s))->flags & CF_UID))
		return reply_bad("Unknown UID command");
	S.uid = 1;
	cur = c;
	return run_handler(c, a->next);
}

/* The tagged reply: the command's name from the row it ran. */
static void
tagged_reply(const char *tag, int res)
{
	io_outs(tag);
	io_outs(res == RES_OK ? " OK " : res == RES_NO ? " NO " : " BAD ");
	if (res != RES_OK)
		io_outs(S.restext);
	else {
		if (S.restext != NULL)
			io_outf("%s ", S.restext);
		io_outf("%s%s completed", S.uid ? "UID " : "", cur->name);
	}
	io_outs("\r\n");
	free(S.restext);
	S.restext = NULL;
}

static void
run_command(const char *tag, struct arg *args)
{
	const struct cmd *c;
	int res;

	S.uid = 0;
	S.deleted_one = 0;
	cur = c = find_cmd(args->type == ARG_ATOM ? args->s : "");
	if (c->name == NULL)
		res = reply_bad("Unknown command");
	else if (!(c->states & S.state))
		res = reply_bad("Not allowed in this state");
	else if (S.rev2 && (c->flags & CF_REV1))
		res = reply_bad("%s is not in IMAP4rev2", c->name);
	else
		res = run_handler(c, args->next);
	/* Nothing follows BYE but the tagged OK (RFC 3501 6.1.3). */
	if (S.state == ST_SELECTED && !(c->flags & CF_LOGOUT))
		session_report_changes((cur->flags & CF_EXPUNGE) != 0);
	tagged_reply(tag, res);
	if (S.bye) {	/* the reason is logged */
		io_flush();
		exit(0);
	}
	if ((c->flags & CF_LOGOUT) && res == RES_OK) {
		io_flush();
		log_msg(LOG_INFO, "logout user=%s remote=%s",
		    S.user ? S.user : "-", log_remote());
		exit(0);
	}
}

/*
 * Before login, no literal may be larger than LITERAL_MAX: an APPEND
 * literal is refused like any other, so a client that has not logged in
 * cannot make the process hold the APPEND limit (RFC 7888 section 9).
 * Nor can many literals in one command add up: before login the whole
 * command is capped at CMD_MAX_NOAUTH, after it at one APPEND limit
 * past the line cap.
 */
static void
new_parser(void)
{
	S.appendok = S.state != ST_NOAUTH;
	if (S.parser != NULL)
		parse_free(S.parser);
	S.parser = parse_new(LINE_MAX_IMAP, LITERAL_MAX,
	    S.appendok ? S.appendmax : LITERAL_MAX,
	    S.appendok ? LINE_MAX_IMAP + S.appendmax : CMD_MAX_NOAUTH);
	if (S.parser == NULL)
		log_die(EXIT_TEMP, "out of memory");
}

void
command_serve(void)
{
	const char *p;
	size_t n, used;

	new_parser();
	for (;;) {
		if (io_input(&p, &n) == -1)
			break;
		/* RFC 6855 3: quoted strings are UTF-8 once it is enabled. */
		parse_set_utf8(S.parser, S.utf8);
		int r = parse_feed(S.parser, p, n, &used);
		io_consumed(used);
		switch (r) {
		case PARSE_MORE:
			continue;
		case PARSE_LITERAL:
			io_outs("+ Ready for literal data\r\n");
			io_flush();
			continue;
		case PARSE_DONE:
			run_command(parse_tag(S.parser), parse_args(S.parser));
			if (!S.appendok)
				io_wipe_input();
			if (S.state != ST_NOAUTH && !S.appendok) {
				new_parser();
				continue;
			}
			break;
		case PARSE_BAD:
			io_outs(parse_tag(S.parser));
			io_outs(" ");
			io_outs(parse_error(S.parser));
			io_outs("\r\n");
			if (!S.appendok)
				io_wipe_input();
			break;
		default:
			io_outf("* BYE %s\r\n", parse_error(S.parser));
			io_flush();
			log_msg(LOG_NOTICE, "user=%s remote=%s: %s",
			    S.user ? S.user : "-", log_remote(),
			    parse_error(S.parser));
			exit(0);
		}
		parse_reset(S.parser);
	}
	log_msg(LOG_INFO, "disconnected user=%s remote=%s",
	    S.user ? S.user : "-", log_remote());
}

/*
 * The capability words of the session's state; once logged in, also the
 * session's APPEND limit (RFC 7889 section 2).
 */
void
command_out_caps(void)
{
	if (S.state == ST_NOAUTH) {
		io_outs(CAPS_PRE);
		return;
	}
	io_outs(CAPS_AUTH);
	io_outf(" APPENDLIMIT=%zu", S.appendmax);
}

int
cmd_capability(struct arg *a)
{
	(void)a;
	io_outs("* CAPABILITY ");
	command_out_caps();
	io_outs("\r\n");
	return RES_OK;
}

/*
 * RFC 5161: the extensions named that imapd enables and had not yet
 * enabled are named in ENABLED; any other name is ignored. QRESYNC
 * enables CONDSTORE too (RFC 7162 3.2.3), but ENABLED names CONDSTORE
 * only when the command named it. IMAP4rev2 (RFC 9051 Appendix A)
 * makes the session speak RFC 9051, UTF-8 mailbox names included.
 * UTF8=ACCEPT is enabled in the authenticated state only (RFC 6855 3):
 * with a mailbox selected it is ignored, like a name imapd does not know.
 */
int
cmd_enable(struct arg *a)
{
	const struct arg *it;
	int condstore = 0, qresync = 0, rev2 = 0, utf8 = 0;

	for (it = a; it != NULL; it = it->next) {
		if (it->type != ARG_ATOM)
			return reply_bad("Invalid capability name");
		if (strcasecmp(it->s, "CONDSTORE") == 0)
			condstore = !S.condstore;
		else if (strcasecmp(it->s, "QRESYNC") == 0)
			qresync = !S.qresync;
		else if (strcasecmp(it->s, "IMAP4rev2") == 0)
			rev2 = !S.rev2;
		else if (strcasecmp(it->s, "UTF8=ACCEPT") == 0)
			utf8 = !S.utf8 && S.state == ST_AUTH;
	}
	if (condstore || qresync)
		session_condstore();
	S.qresync |= qresync;
	S.rev2 |= rev2;
	S.utf8 |= rev2 | utf8;
	io_outf("* ENABLED%s%s%s%s\r\n", condstore ? " CONDSTORE" : "",
	    qresync ? " QRESYNC" : "", rev2 ? " IMAP4rev2" : "",
	    utf8 ? " UTF8=ACCEPT" : "");
	return RES_OK;
}

/*
 * The client's ID list (RFC 2971 3.3): strings as fields, each once
 * (in any case), with a string or NIL as value, at most ID_PAIRS_MAX
 * pairs, fields of ID_FIELD_MAX and values of ID_VALUE_MAX octets.
 * Returns NULL when valid, else what is wrong.
 */
static const char *
id_check(const struct arg *list)
{
	const struct arg *f, *g;
	size_t n = 0;

	for (f = list; f != NULL; f = f->next->next) {
		if (f->next == NULL)
			return "ID field without a value";
		if (f->type != ARG_STRING || (f->next->type != ARG_STRING &&
		    !parse_keyword_is(f->next, "NIL")))
			return "ID fields are strings, values strings or NIL";
		if (f->len > ID_FIELD_MAX)
			return "ID field too long";
		if (f->next->type == ARG_STRING && f->next->len > ID_VALUE_MAX)
			return "ID value too long";
		if (++n > ID_PAIRS_MAX)
			return "Too many ID fields";
		for (g = list; g != f; g = g->next->next)
			if (strcasecmp(g->s, f->s) == 0)
				return "ID field repeated";
	}
	return NULL;
}

/* The value the client gave to field, or "-". */
static const char *
id_value(const struct arg *list, const char *field)
{
	for (; list != NULL; list = list->next->next)
		if (strcasecmp(list->s, field) == 0)
			return list->next->type == ARG_STRING ?
			    list->next->s : "-";
	return "-";
}

/*
 * RFC 2971: the client's name and version are logged (escaped: they
 * are the client's bytes) and change nothing else (3). imapd names
 * itself only: no version, system or contact that would help an
 * attacker pick an exploit (7).
 */
int
cmd_id(struct arg *a)
{
	const struct arg *list = a->type == ARG_LIST ? a->child : NULL;
	const char *err;

	if (a->type != ARG_LIST && !parse_keyword_is(a, "NIL"))
		return reply_bad("ID takes a list or NIL");
	if ((err = id_check(list)) != NULL)
		return reply_bad("%s", err);
	if (list != NULL)
		log_msg(LOG_INFO, "id user=%s remote=%s name=%s version=%s",
		    S.user ? S.user : "-", log_remote(),
		    log_esc(id_value(list, "name")),
		    log_esc(id_value(list, "version")));
	io_outs("* ID (\"name\" \"imapd\")\r\n");
	return RES_OK;
}

int
cmd_noop(struct arg *a)
{
	(void)a;
	return RES_OK;
}

int
cmd_logout(struct arg *a)
{
	(void)a;
	io_outs("* BYE imapd logging out\r\n");
	return RES_OK;
}
