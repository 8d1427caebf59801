/*
 * list.c: LIST and LSUB: mailbox name patterns (RFC 3501 6.3.8) and the
 * parents shown \Noselect.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "command.h"
#include "io.h"
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

static int
cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

struct node {
	char	*name;
	int	 real;		/* not only a parent */
};

static int
cmpnode(const void *a, const void *b)
{
	const struct node *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : y->real - x->real;
}

/*
 * A parent that is not itself a mailbox is listed only where the pattern
 * would hide a mailbox below it, as "%" does (RFC 3501 6.3.9, RFC 5258 3).
 */
static int
hides_child(const char *parent, char **names, size_t n, const char *pat)
{
	size_t i, l = strlen(parent);

	for (i = 0; i < n; i++)
		if (strncmp(names[i], parent, l) == 0 && names[i][l] == '/' &&
		    !match(pat, names[i]))
			return 1;
	return 0;
}

/*
 * Answer LIST or LSUB: names are the mailboxes (or subscriptions); an
 * ancestor of a name that is not itself in the list is shown \Noselect.
 */
static void
list_reply(const char *verb, char **names, size_t n, const char *pat)
{
	struct node *all;
	size_t i, nall = 0, cap = n;
	const char *p;

	for (i = 0; i < n; i++)
		for (p = strchr(names[i], '/'); p; p = strchr(p + 1, '/'))
			cap++;
	if ((all = calloc(cap ? cap : 1, sizeof *all)) == NULL)
		return;
	for (i = 0; i < n; i++) {
		all[nall].name = names[i];
		all[nall++].real = 1;
		for (p = strchr(names[i], '/'); p; p = strchr(p + 1, '/'))
			if ((all[nall].name = strndup(names[i],
			    (size_t)(p - names[i]))) != NULL)
				nall++;
	}
	qsort(all, nall, sizeof *all, cmpnode);
	for (i = 0; i < nall; i++) {
		if ((i > 0 && strcmp(all[i].name, all[i - 1].name) == 0) ||
		    !match(pat, all[i].name) ||
		    (!all[i].real && !hides_child(all[i].name, names, n, pat)))
			continue;
		io_outf("* %s (%s) \"/\" ", verb,
		    all[i].real ? "" : "\\Noselect");
		session_out_mailbox(all[i].name);
		io_outs("\r\n");
	}
	for (i = 0; i < nall; i++)
		if (!all[i].real)
			free(all[i].name);
	free(all);
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

static int
list_common(struct arg *a, const char *verb,
    int (*names)(struct store *, char ***, size_t *))
{
	const char *ref = session_astring(a);
	const char *pat = session_astring(a ? a->next : NULL);
	char **v, *full;
	size_t n;

	if (ref == NULL || pat == NULL)
		return reply_bad_args();
	if (*pat == '\0') {
		/* RFC 3501 6.3.8: the hierarchy delimiter and root name. */
		io_outf("* %s (\\Noselect) \"/\" \"\"\r\n", verb);
		return RES_OK;
	}
	if ((full = list_pattern(ref, pat)) == NULL && errno == EINVAL)
		return reply_bad("Invalid %s in %s pattern",
		    S.utf8 ? "UTF-8" : "modified UTF-7", verb);
	if (full == NULL || names(S.store, &v, &n) == -1) {
		free(full);
		return reply_no_store(0);
	}
	if (n > 1)
		qsort(v, n, sizeof *v, cmpstr);
	list_reply(verb, v, n, full);
	store_names_free(v, n);
	free(full);
	return RES_OK;
}

int
cmd_list(struct arg *a)
{
	return list_common(a, "LIST", store_list);
}

int
cmd_lsub(struct arg *a)
{
	return list_common(a, "LSUB", store_subscriptions);
}
