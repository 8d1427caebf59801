/*
 * list.c: LIST and LSUB: mailbox name patterns (RFC 3501 6.3.8), the
 * names a LIST answers with their attributes (RFC 5258 3, RFC 3348,
 * RFC 6154) and STATUS (RFC 5819), and NAMESPACE (RFC 2342). The
 * extended grammar is listext.c's.
 */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "command.h"
#include "io.h"
#include "list.h"
#include "reply.h"
#include "session.h"

/*
 * RFC 3501 6.3.8: '*' matches anything, '%' anything but the separator.
 * INBOX, and so the first part of a name under it, matches in any case
 * (RFC 3501 5.1). The set of name positions the pattern can have reached
 * is carried along the pattern, so the time is pattern length times name
 * length at worst, whatever the wildcards: no backtracking.
 */
static int
match(const char *pat, const char *name)
{
	size_t n = strlen(name), i, lit = 0;
	size_t nocase = strncmp(name, "INBOX", 5) == 0 &&
	    (name[5] == '\0' || name[5] == '/') ? 5 : 0;
	const char *p;
	unsigned char *at, any;
	int r;

	for (p = pat; *p; p++)
		lit += *p != '*' && *p != '%';
	if (lit > n || (at = calloc(n + 1, 1)) == NULL)
		return 0;
	at[0] = 1;
	for (p = pat, any = 1; *p && any; p++) {
		unsigned char reach = 0;
		if (*p == '*' || *p == '%') {
			for (i = 0; i <= n; i++) {
				if (*p == '%' && i > 0 && name[i - 1] == '/')
					reach = 0;
				reach |= at[i];
				at[i] = reach;
			}
			continue;
		}
		for (i = n, any = 0; i > 0; i--) {
			at[i] = at[i - 1] && (name[i - 1] == *p ||
			    (i <= nocase &&
			    toupper((unsigned char)*p) == name[i - 1]));
			any |= at[i];
		}
		at[0] = 0;
	}
	r = any && at[n];
	free(at);
	return r;
}

/* One name a LIST may answer: a mailbox, a subscription, a parent. */
struct node {
	char		*name;
	unsigned	 fl;		/* N_* */
	uint32_t	 use;		/* special uses, once N_USE is set */
};
#define N_EXISTS	0x01	/* a mailbox (for LSUB: subscribed) */
#define N_SUBSCRIBED	0x02
#define N_USE		0x04	/* use is read */
#define N_OWNED		0x08	/* name is a parent's, made here */

/* A LIST being answered: the request, its patterns, the names. */
struct listing {
	const struct listreq *q;
	const char	*verb;
	int		 lsub;
	char		**pats;		/* reference + pattern, each */
	size_t		 npats;
	struct node	*v;
	size_t		 n, cap;
};

/* What the names below a node are (only what the answer needs). */
struct desc {
	int		 exists;	/* one is a mailbox */
	int		 meets;		/* one meets the selection criteria */
	int		 hidden;	/* one meets them, but no pattern */
};

static int
cmpnode(const void *a, const void *b)
{
	return strcmp(((const struct node *)a)->name,
	    ((const struct node *)b)->name);
}

static int
matches(const struct listing *l, const char *name)
{
	size_t i;

	for (i = 0; i < l->npats; i++)
		if (match(l->pats[i], name))
			return 1;
	return 0;
}

static int
add_node(struct listing *l, char *name, unsigned fl)
{
	struct node *v = buf_grow(l->v, &l->cap, l->n, sizeof *l->v);

	if (v == NULL)
		return -1;
	l->v = v;
	l->v[l->n].name = name;
	l->v[l->n].fl = fl;
	l->v[l->n++].use = 0;
	return 0;
}

/* names and each of their parents, sorted, each name once. */
static int
add_names(struct listing *l, char **names, size_t n, unsigned fl)
{
	size_t i;
	const char *p;
	char *up;

	for (i = 0; i < n; i++) {
		if (add_node(l, names[i], fl) == -1)
			return -1;
		for (p = strchr(names[i], '/'); p; p = strchr(p + 1, '/'))
			if ((up = strndup(names[i], (size_t)(p - names[i])))
			    == NULL || add_node(l, up, N_OWNED) == -1) {
				free(up);
				return -1;
			}
	}
	return 0;
}

static void
merge_nodes(struct listing *l)
{
	size_t i, k = 0;

	if (l->n > 1)
		qsort(l->v, l->n, sizeof *l->v, cmpnode);
	for (i = 0; i < l->n; i++) {
		if (k > 0 && strcmp(l->v[k - 1].name, l->v[i].name) == 0) {
			struct node *kept = &l->v[k - 1];

			if ((kept->fl & N_OWNED) && !(l->v[i].fl & N_OWNED)) {
				free(kept->name);
				kept->name = l->v[i].name;
				kept->fl &= ~N_OWNED;
			} else if (l->v[i].fl & N_OWNED)
				free(l->v[i].name);
			kept->fl |= l->v[i].fl & ~N_OWNED;
			continue;
		}
		l->v[k++] = l->v[i];
	}
	l->n = k;
}

/* The special uses of a mailbox, read from the store once. */
static uint32_t
node_use(struct node *nd)
{
	if (!(nd->fl & N_USE)) {
		if (store_special_use(S.store, nd->name, &nd->use) == -1)
			nd->use = 0;	/* gone meanwhile: none */
		nd->fl |= N_USE;
	}
	return nd->use;
}

/* RFC 5258 3: "matched mailbox names" satisfy every selection option. */
static int
meets(const struct listing *l, struct node *nd)
{
	int sel = l->q->sel;

	if (sel & LS_SUBSCRIBED) {
		if (!(nd->fl & N_SUBSCRIBED))
			return 0;
	} else if (!(nd->fl & N_EXISTS))
		return 0;
	if (sel & LS_SPECIALUSE)
		return (nd->fl & N_EXISTS) && node_use(nd) != 0;
	return 1;
}

/* The names below l->v[i]: they follow "name/" in sorted order. */
static void
descendants(const struct listing *l, size_t i, struct desc *d)
{
	const char *name = l->v[i].name;
	size_t len = strlen(name), lo = i + 1, hi = l->n, mid;

	memset(d, 0, sizeof *d);
	while (lo < hi) {		/* the first name >= "name/" */
		mid = lo + (hi - lo) / 2;
		if (strncmp(l->v[mid].name, name, len) < 0 ||
		    (strncmp(l->v[mid].name, name, len) == 0 &&
		    strcmp(l->v[mid].name + len, "/") < 0))
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < l->n && strncmp(l->v[lo].name, name, len) == 0 &&
	    l->v[lo].name[len] == '/'; lo++) {
		struct node *c = &l->v[lo];

		d->exists |= (c->fl & N_EXISTS) != 0;
		if (!d->hidden && meets(l, c)) {
			d->meets = 1;
			d->hidden = !matches(l, c->name);
		}
	}
}

static void
attr(char *buf, size_t cap, int on, const char *name)
{
	size_t n = strlen(buf);

	if (on && n < cap)
		snprintf(buf + n, cap - n, " %s", name);
}

/* LIST and LSUB of RFC 3501: a parent hiding a mailbox is \Noselect. */
static void
answer_base(struct listing *l, size_t i)
{
	struct node *nd = &l->v[i];
	struct desc d;
	char a[128] = "";

	if (!(nd->fl & N_EXISTS)) {
		descendants(l, i, &d);
		if (!d.hidden)
			return;
		attr(a, sizeof a, 1, "\\Noselect");
	} else if (!l->lsub)
		listext_uses(node_use(nd), a, sizeof a);
	io_outf("* %s (%s) \"/\" ", l->verb, a + (a[0] == ' '));
	session_out_mailbox(nd->name);
	io_outs("\r\n");
}

/*
 * The extended LIST (RFC 5258 3.3, RFC 9051 table 3): a name that meets
 * the criteria, one with a child that does (RECURSIVEMATCH: CHILDINFO),
 * or, when the criteria are only that mailboxes exist, a parent hiding
 * a mailbox: "\NonExistent \HasChildren" (RFC 9051 6.3.9.6).
 */
static void
answer_ext(struct listing *l, size_t i)
{
	const struct listreq *q = l->q;
	struct node *nd = &l->v[i];
	int m = meets(l, nd), exists = (nd->fl & N_EXISTS) != 0;
	int childinfo, parent, status, noselect = 0;
	struct mbstatus st;
	struct desc d;
	char a[160] = "";

	descendants(l, i, &d);
	childinfo = (q->sel & LS_RECURSIVE) && d.meets && (m || d.hidden);
	parent = !exists && d.hidden &&
	    !(q->sel & (LS_SUBSCRIBED | LS_SPECIALUSE));
	if (!m && !childinfo && !parent)
		return;
	/* RFC 5819 2: a STATUS that fails makes the mailbox \Noselect. */
	status = (q->ret & LR_STATUS) && m && exists;
	if (status && mailbox_status(nd->name, &st) == -1) {
		status = 0;
		noselect = 1;
	} else if (status) {		/* read with the status: once */
		nd->use = st.specialuse;
		nd->fl |= N_USE;
	}
	attr(a, sizeof a, noselect, "\\Noselect");
	attr(a, sizeof a, (q->ret & LR_SUBSCRIBED) &&
	    (nd->fl & N_SUBSCRIBED), "\\Subscribed");
	attr(a, sizeof a, !exists, "\\NonExistent");
	if (exists)
		listext_uses(node_use(nd), a, sizeof a);
	if ((q->ret & LR_CHILDREN) || parent)
		attr(a, sizeof a, 1, d.exists ? "\\HasChildren" :
		    "\\HasNoChildren");
	io_outf("* LIST (%s) \"/\" ", a + (a[0] == ' '));
	session_out_mailbox(nd->name);
	io_outs(childinfo ? " (\"CHILDINFO\" (\"SUBSCRIBED\"))\r\n" :
	    "\r\n");
	if (status)
		mailbox_status_out(nd->name, &st, q->status);
}

/*
 * RFC 9051 6.3.2: SELECT and EXAMINE under IMAP4rev2 answer the LIST
 * response of the mailbox they opened, with the attributes LIST gives a
 * mailbox that exists (it was just opened).
 */
void
list_selected(const char *name)
{
	io_outs("* LIST () \"/\" ");
	session_out_mailbox(name);
	io_outs("\r\n");
}

/*
 * The pattern LIST matches: the reference name, then the mailbox name,
 * each in the store's form (UTF-8) as the session decodes a name, so
 * the match is on the canonical names. NULL with errno EINVAL when one
 * is not valid in the session's form.
 */
static char *
list_pattern(const char *ref_wire, const char *pat_wire)
{
	char *ref, *pat = NULL, *full = NULL;
	size_t n;

	if ((ref = session_name_in(ref_wire)) != NULL &&
	    (pat = session_name_in(pat_wire)) != NULL) {
		n = strlen(ref) + strlen(pat) + 1;
		if ((full = malloc(n)) != NULL)
			snprintf(full, n, "%s%s", ref, pat);
	}
	free(ref);
	free(pat);
	return full;
}

/*
 * The full patterns. An extended LIST ignores an empty one (RFC 5258
 * 3): only the plain form asks for the delimiter with it.
 */
static int
make_patterns(struct listing *l)
{
	const struct arg *one = l->q->pats, *p;
	int many = one->type == ARG_LIST;
	size_t n = 0;

	for (p = many ? one->child : one; p != NULL; p = many ? p->next : NULL)
		n++;
	if ((l->pats = calloc(n, sizeof *l->pats)) == NULL)
		return -1;
	for (p = many ? one->child : one; p != NULL;
	    p = many ? p->next : NULL) {
		if (*p->s == '\0' && l->q->ext)
			continue;
		if ((l->pats[l->npats] = list_pattern(l->q->ref, p->s)) ==
		    NULL)
			return -1;
		l->npats++;
	}
	return 0;
}

static void
listing_free(struct listing *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (l->v[i].fl & N_OWNED)
			free(l->v[i].name);
	free(l->v);
	for (i = 0; i < l->npats; i++)
		free(l->pats[i]);
	free(l->pats);
}

/* Every name the answer can need, then each that a pattern matches. */
static int
answer(struct listing *l, char **names, size_t n, char **subs,
    size_t nsubs)
{
	size_t i;

	if (add_names(l, names, n, N_EXISTS) == -1 ||
	    add_names(l, subs, nsubs, N_SUBSCRIBED) == -1)
		return -1;
	merge_nodes(l);
	for (i = 0; i < l->n; i++)
		if (matches(l, l->v[i].name)) {
			if (l->q->ext)
				answer_ext(l, i);
			else
				answer_base(l, i);
		}
	return 0;
}

static int
list_run(const struct listreq *q, const char *verb, int lsub)
{
	struct listing l;
	char **names = NULL, **subs = NULL;
	size_t n = 0, nsubs = 0;
	int r = RES_OK;

	if (!q->ext && *q->pats->s == '\0') {
		/* RFC 3501 6.3.8: the hierarchy delimiter and root name. */
		io_outf("* %s (\\Noselect) \"/\" \"\"\r\n", verb);
		return RES_OK;
	}
	memset(&l, 0, sizeof l);
	l.q = q;
	l.verb = verb;
	l.lsub = lsub;
	if ((lsub ? store_subscriptions : store_list)(S.store, &names, &n)
	    == -1 || (!lsub && (q->ret & LR_SUBSCRIBED) &&
	    store_subscriptions(S.store, &subs, &nsubs) == -1))
		r = reply_no_store(0);
	else if (make_patterns(&l) == -1)
		r = errno == EINVAL ? reply_bad("Invalid %s in %s pattern",
		    S.utf8 ? "UTF-8" : "modified UTF-7", verb) :
		    reply_no("[SERVERBUG] Out of memory");
	else if (answer(&l, names, n, subs, nsubs) == -1)
		r = reply_no("[SERVERBUG] Out of memory");
	listing_free(&l);
	store_names_free(names, n);
	store_names_free(subs, nsubs);
	return r;
}

int
cmd_list(struct arg *a)
{
	struct listreq q;
	int r;

	if ((r = listext_parse(a, &q)) != RES_OK)
		return r;
	return list_run(&q, "LIST", 0);
}

int
cmd_lsub(struct arg *a)
{
	struct listreq q;

	memset(&q, 0, sizeof q);
	q.ref = session_astring(a);
	q.pats = a ? a->next : NULL;
	if (q.ref == NULL || session_astring(q.pats) == NULL)
		return reply_bad_args();
	return list_run(&q, "LSUB", 1);
}

/* RFC 2342 5: one personal namespace, no others' or shared ones. */
int
cmd_namespace(struct arg *a)
{
	(void)a;
	io_outs("* NAMESPACE ((\"\" \"/\")) NIL NIL\r\n");
	return RES_OK;
}
