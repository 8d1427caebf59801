/*
 * listext.c: the extended LIST grammar (RFC 5258 6): selection options,
 * several patterns and return options, with RETURN (STATUS ...) (RFC
 * 5819) and the special-use attributes (RFC 6154) that LIST shows and
 * CREATE takes.
 */
#include <stdio.h>
#include <string.h>

#include "imapd.h"
#include "command.h"
#include "list.h"
#include "reply.h"
#include "session.h"

struct opt {
	const char	*name;
	int		 bit;
};

static const struct opt select_opts[] = {
	{ "SUBSCRIBED", LS_SUBSCRIBED }, { "REMOTE", LS_REMOTE },
	{ "RECURSIVEMATCH", LS_RECURSIVE }, { "SPECIAL-USE", LS_SPECIALUSE },
	{ NULL, 0 }
};

static const struct opt return_opts[] = {
	{ "SUBSCRIBED", LR_SUBSCRIBED }, { "CHILDREN", LR_CHILDREN },
	{ "SPECIAL-USE", LR_SPECIALUSE }, { "STATUS", LR_STATUS },
	{ NULL, 0 }
};

/* The attributes of RFC 6154 2 that a mailbox of the store can have. */
static const struct {
	const char	*name;
	uint32_t	 bit;
} uses[] = {
	{ "\\Archive", SU_ARCHIVE }, { "\\Drafts", SU_DRAFTS },
	{ "\\Junk", SU_JUNK }, { "\\Sent", SU_SENT }, { "\\Trash", SU_TRASH }
};
#define NUSES	(sizeof uses / sizeof uses[0])

static int
opt_bit(const struct opt *o, const struct arg *a)
{
	for (; o->name != NULL; o++)
		if (parse_keyword_is(a, o->name))
			return o->bit;
	return 0;
}

/*
 * RFC 5258 3: an unknown option is BAD, one given twice counts once.
 * RECURSIVEMATCH needs a base option (SUBSCRIBED): alone, or with only
 * REMOTE or SPECIAL-USE (RFC 6154 6: an independent option), it is BAD.
 */
static int
selection(const struct arg *o, int *sel_r)
{
	int bit;

	for (; o != NULL; o = o->next) {
		if ((bit = opt_bit(select_opts, o)) == 0)
			return reply_bad("Unknown LIST selection option");
		*sel_r |= bit;
	}
	if ((*sel_r & LS_RECURSIVE) && !(*sel_r & LS_SUBSCRIBED))
		return reply_bad("RECURSIVEMATCH needs SUBSCRIBED");
	return RES_OK;
}

static int
returns(const struct arg *o, struct listreq *q)
{
	int bit, r;

	for (; o != NULL; o = o->next) {
		if ((bit = opt_bit(return_opts, o)) == 0)
			return reply_bad("Unknown LIST return option");
		if (bit == LR_STATUS) {
			/* RFC 5819 4: STATUS SP "(" status-att ... ")" */
			if ((o = o->next) == NULL || o->type != ARG_LIST)
				return reply_bad("STATUS needs its items");
			if ((r = mailbox_status_items(o->child)) != RES_OK)
				return r;
			if (q->status == NULL)
				q->status = o->child;
		}
		q->ret |= bit;
	}
	return RES_OK;
}

/* patterns = "(" list-mailbox *(SP list-mailbox) ")" (RFC 5258 6) */
static int
patterns(const struct arg *p)
{
	size_t n = 0;

	if (p->type != ARG_LIST)
		return session_astring(p) ? RES_OK : reply_bad_args();
	for (p = p->child; p != NULL; p = p->next, n++)
		if (session_astring(p) == NULL)
			return reply_bad_args();
	if (n == 0)
		return reply_bad_args();
	if (n > LIST_PATTERNS_MAX)
		return reply_bad("Too many LIST patterns (at most %d)",
		    LIST_PATTERNS_MAX);
	return RES_OK;
}

/*
 * list = "LIST" [SP list-select-opts] SP mailbox SP mbox-or-pat
 *        [SP list-return-opts]
 * Any of the three extensions makes the command extended.
 */
int
listext_parse(const struct arg *a, struct listreq *q)
{
	int r;

	memset(q, 0, sizeof *q);
	if (a != NULL && a->type == ARG_LIST) {
		q->ext = 1;
		if ((r = selection(a->child, &q->sel)) != RES_OK)
			return r;
		a = a->next;
	}
	if ((q->ref = session_astring(a)) == NULL || a->next == NULL)
		return reply_bad_args();
	q->pats = a = a->next;
	if ((r = patterns(a)) != RES_OK)
		return r;
	q->ext |= a->type == ARG_LIST;
	if ((a = a->next) != NULL) {
		if (!parse_keyword_is(a, "RETURN") || a->next == NULL ||
		    a->next->type != ARG_LIST || a->next->next != NULL)
			return reply_bad_args();
		q->ext = 1;
		if ((r = returns(a->next->child, q)) != RES_OK)
			return r;
	}
	/* RFC 5258 3.1, RFC 6154 2: each selection implies its return. */
	if (q->sel & LS_SUBSCRIBED)
		q->ret |= LR_SUBSCRIBED;
	if (q->sel & LS_SPECIALUSE)
		q->ret |= LR_SPECIALUSE;
	return RES_OK;
}

/* The special-use attributes, added to buf with a space before each. */
void
listext_uses(uint32_t specialuse, char *buf, size_t cap)
{
	size_t i, n;

	for (i = 0; i < NUSES; i++)
		if ((specialuse & uses[i].bit) && (n = strlen(buf)) < cap)
			snprintf(buf + n, cap - n, " %s", uses[i].name);
}

/*
 * A use-attr of CREATE (RFC 6154 6): 0 and its bit; -1 for a flag the
 * store has no mailbox for (\All, \Flagged, an extension's), -2 for
 * what is no flag at all.
 */
int
listext_use(const struct arg *a, uint32_t *specialuse_r)
{
	size_t i;

	*specialuse_r = 0;
	if (a->type != ARG_ATOM || a->s[0] != '\\' || a->len < 2)
		return -2;
	for (i = 0; i < NUSES; i++)
		if (parse_keyword_is(a, uses[i].name)) {
			*specialuse_r = uses[i].bit;
			return 0;
		}
	return -1;
}
