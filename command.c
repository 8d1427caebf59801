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

struct cmd {
	const char	*name;
	int		 states;
	int		 (*fn)(struct arg *);
	int		 uid;		/* may follow UID */
	int		 expunge_ok;	/* RFC 3501 7.4.1 */
};

static int cmd_uid(struct arg *);

static const struct cmd cmds[] = {
	{ "CAPABILITY", ST_NOAUTH | ST_AUTH | ST_SELECTED, cmd_capability,
	    0, 1 },
	{ "NOOP", ST_NOAUTH | ST_AUTH | ST_SELECTED, cmd_noop, 0, 1 },
	{ "LOGOUT", ST_NOAUTH | ST_AUTH | ST_SELECTED, cmd_logout, 0, 1 },
	{ "LOGIN", ST_NOAUTH, cmd_login, 0, 1 },
	{ "AUTHENTICATE", ST_NOAUTH, cmd_authenticate, 0, 1 },
	{ "SELECT", ST_AUTH | ST_SELECTED, cmd_select, 0, 1 },
	{ "EXAMINE", ST_AUTH | ST_SELECTED, cmd_examine, 0, 1 },
	{ "CREATE", ST_AUTH | ST_SELECTED, cmd_create, 0, 1 },
	{ "DELETE", ST_AUTH | ST_SELECTED, cmd_delete, 0, 1 },
	{ "RENAME", ST_AUTH | ST_SELECTED, cmd_rename, 0, 1 },
	{ "SUBSCRIBE", ST_AUTH | ST_SELECTED, cmd_subscribe, 0, 1 },
	{ "UNSUBSCRIBE", ST_AUTH | ST_SELECTED, cmd_unsubscribe, 0, 1 },
	{ "LIST", ST_AUTH | ST_SELECTED, cmd_list, 0, 1 },
	{ "LSUB", ST_AUTH | ST_SELECTED, cmd_lsub, 0, 1 },
	{ "STATUS", ST_AUTH | ST_SELECTED, cmd_status, 0, 1 },
	{ "APPEND", ST_AUTH | ST_SELECTED, cmd_append, 0, 1 },
	{ "CHECK", ST_SELECTED, cmd_noop, 0, 1 },
	{ "CLOSE", ST_SELECTED, cmd_close, 0, 1 },
	{ "UNSELECT", ST_SELECTED, cmd_unselect, 0, 1 },
	{ "EXPUNGE", ST_SELECTED, cmd_expunge, 1, 1 },
	{ "SEARCH", ST_SELECTED, cmd_search, 1, 0 },
	{ "FETCH", ST_SELECTED, cmd_fetch, 1, 0 },
	{ "STORE", ST_SELECTED, cmd_store, 1, 0 },
	{ "COPY", ST_SELECTED, cmd_copy, 1, 1 },
	{ "UID", ST_SELECTED, cmd_uid, 0, 1 },
	{ NULL, 0, NULL, 0, 0 }
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

static int
cmd_uid(struct arg *a)
{
	const struct cmd *c;

	if (a == NULL || a->type != ARG_ATOM || !(c = find_cmd(a->s))->uid)
		return reply_bad("Unknown UID command");
	S.uid = 1;
	cur = c;
	return c->fn(a->next);
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
	else
		res = c->fn(args->next);
	/* Nothing follows BYE but the tagged OK (RFC 3501 6.1.3). */
	if (S.state == ST_SELECTED && c->fn != cmd_logout)
		session_report_changes(cur->expunge_ok);
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
	if (S.bye) {	/* the reason is logged */
		io_flush();
		exit(0);
	}
	if (c->fn == cmd_logout && res == RES_OK) {
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

int
cmd_capability(struct arg *a)
{
	if (a != NULL)
		return reply_bad_args();
	io_outf("* CAPABILITY %s\r\n",
	    S.state == ST_NOAUTH ? CAPS_PRE : CAPS_AUTH);
	return RES_OK;
}

int
cmd_noop(struct arg *a)
{
	return a != NULL ? reply_bad_args() : RES_OK;
}

int
cmd_logout(struct arg *a)
{
	if (a != NULL)
		return reply_bad_args();
	io_outs("* BYE imapd logging out\r\n");
	return RES_OK;
}
