/*
 * imapd: an IMAP4rev1 server for one connection on stdin/stdout.
 *
 * This file is the session: process set-up, authentication, I/O with
 * deadlines, the command table and the command handlers. The grammar is
 * in parse.c, the mailbox files in store.c, the counter in modseq.c.
 */
#include <ctype.h>
#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <unistd.h>

#include "imapd.h"
#include "mime.h"
#include "parse.h"
#include "store.h"

#define TIMEOUT_PREAUTH_MS	(60 * 1000)
/* RFC 3501 5.4: at least 30 minutes once authenticated. */
#define TIMEOUT_AUTH_MS		(30 * 60 * 1000)
#define OUTBUF_SIZE		(64 * 1024)
#define INBUF_SIZE		(64 * 1024)
#define PWLINE_MAX		4096
#define LOGIN_FAILURES_MAX	3	/* per connection, then BYE */

#define CAPS_PRE	"IMAP4rev1 LITERAL+ AUTH=PLAIN"
#define CAPS_AUTH	"IMAP4rev1 LITERAL+ UIDPLUS UNSELECT"

enum { ST_NOAUTH = 1, ST_AUTH = 2, ST_SELECTED = 4 };
enum { RES_OK, RES_NO, RES_BAD };

static struct {
	int		 state;
	int		 log_stderr;
	const char	*pwfile;
	const char	*dir;
	size_t		 appendmax;
	char		*user;		/* as logged: a LOGIN name esc()'d */
	struct store	*store;
	struct mailbox	*mb;
	int		 readonly;
	int		 deleted_one;	/* this command deleted one */
	int		 appendok;	/* APPEND literals may be large */
	unsigned	 failures;	/* failed logins */
	int		 bye;		/* end the session after this reply */
	struct timespec	 started;
	struct parser	*parser;
	char		*restext;	/* text of the command's reply */
} S;

static int	 uidcmd;	/* the command came as UID <command> */
static void	 unselect(void);
static char	 obuf[OUTBUF_SIZE];
static size_t	 olen;
static char	 ibuf[INBUF_SIZE];
static size_t	 ipos, ilen;

/* ------------------------------------------------------------ logging */

/*
 * Copy s into dst (size bytes, NUL-terminated) with the bytes a log
 * reader could misread written as \xNN: control bytes always, so nothing
 * ends a line early; in a field quoted from the client (field != 0) also
 * space, '"', '=', '\\' and non-ASCII, so the field stays one word that
 * cannot pass for another field such as "remote=". Too long ends in "...".
 */
static void
log_escape(char *dst, size_t size, const char *s, int field)
{
	size_t n = 0;

	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		int hex = c < 0x20 || c == 0x7f || (field && (c == ' ' ||
		    c == '"' || c == '=' || c == '\\' || c >= 0x80));

		if (n + (hex ? 4 : 1) + 3 >= size) {
			memcpy(dst + n, "...", 3);
			n += 3;
			break;
		}
		if (hex)
			n += (size_t)snprintf(dst + n, size - n, "\\x%02x", c);
		else
			dst[n++] = (char)c;
	}
	dst[n] = '\0';
}

/* A client-controlled string for a log line: valid for 3 more calls. */
static const char *
esc(const char *s)
{
	static char ring[4][256];
	static unsigned next;
	char *d = ring[next++ % 4];

	log_escape(d, sizeof ring[0], s, 1);
	return d;
}

static void logmsg(int prio, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * One line is one write(2) (or one syslog(3) message), so the lines of
 * concurrent processes never mix; a control byte that got into the
 * message anyway cannot start a line of its own.
 */
static void
logmsg(int prio, const char *fmt, ...)
{
	char msg[1024], line[1100];
	size_t n;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (!S.log_stderr) {
		log_escape(line, sizeof line, msg, 0);
		syslog(prio, "%s", line);
		return;
	}
	n = (size_t)snprintf(line, sizeof line, "imapd[%ld]: ", (long)getpid());
	log_escape(line + n, sizeof line - n - 1, msg, 0);
	n += strlen(line + n);
	line[n++] = '\n';
	while (write(2, line, n) == -1 && errno == EINTR)
		;
}

/* The client's address as the launcher gives it, escaped (esc). */
static const char *
remote(void)
{
	static char buf[256];
	const char *r;

	if (buf[0] == '\0') {
		if ((r = getenv("TCPREMOTEIP")) == NULL &&
		    (r = getenv("REMOTE_HOST")) == NULL)
			r = "local";
		log_escape(buf, sizeof buf, r, 1);
	}
	return buf;
}

static void die(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));

static void
die(int code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	logmsg(LOG_ERR, "fatal: %s", msg);
	/* Someone at a terminal should see why, too. */
	if (!S.log_stderr && isatty(2))
		fprintf(stderr, "imapd: %s\n", msg);
	exit(code);
}

/* ------------------------------------------------------------- output */

static int	 preauth_left(void);
static int	 out_flags = -1;	/* fd 1's flags before out_nonblock */

static long long
ms_since(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - t->tv_sec) * 1000LL +
	    (now.tv_nsec - t->tv_nsec) / 1000000;
}

static void
out_restore(void)
{
	fcntl(1, F_SETFL, out_flags);
}

/*
 * Output never blocks, so the deadline of write_all holds even when the
 * client reads nothing. The flags belong to the open file, which others
 * (a terminal's shell) may share: they get them back at exit.
 */
static void
out_nonblock(void)
{
	if ((out_flags = fcntl(1, F_GETFL)) == -1 ||
	    fcntl(1, F_SETFL, out_flags | O_NONBLOCK) == -1)
		die(EXIT_TEMP, "output: %s", strerror(errno));
	atexit(out_restore);
}

/*
 * Every write has a deadline: before login what is left of the minute to
 * log in, after it 30 minutes for each flush (what a read gets).
 */
static void
write_all(const char *p, size_t n)
{
	struct pollfd pfd = { .fd = 1, .events = POLLOUT };
	struct timespec t0;
	long long ms;
	ssize_t w;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (n > 0) {
		if ((w = write(1, p, n)) >= 0) {
			p += w;
			n -= (size_t)w;
			continue;
		}
		if (errno == EINTR)
			continue;
		/* The client went away: nothing left to do. */
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			exit(0);
		ms = S.state == ST_NOAUTH ? preauth_left() :
		    TIMEOUT_AUTH_MS - ms_since(&t0);
		if (ms <= 0 || poll(&pfd, 1, (int)ms) == 0)
			die(EXIT_TEMP, "output timed out");
	}
}

static void
out_flush(void)
{
	write_all(obuf, olen);
	olen = 0;
}

static void
out(const void *p, size_t n)
{
	if (n > sizeof obuf - olen) {
		out_flush();
		if (n > sizeof obuf) {
			write_all(p, n);
			return;
		}
	}
	memcpy(obuf + olen, p, n);
	olen += n;
}

static void outf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
outf(const char *fmt, ...)
{
	char tmp[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (n < 0)
		die(EXIT_TEMP, "output format error");
	if ((size_t)n < sizeof tmp) {
		out(tmp, (size_t)n);
		return;
	}
	/* Longer than tmp (a long tag, say): never cut a reply short. */
	char *big = malloc((size_t)n + 1);
	if (big == NULL)
		die(EXIT_TEMP, "out of memory");
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	out(big, (size_t)n);
	free(big);
}

static void
outs(const char *s)
{
	out(s, strlen(s));
}

/* A number, without printf: FETCH 1:* prints millions of them. */
static void
outu(uint64_t v)
{
	char buf[20];
	size_t i = sizeof buf;

	do
		buf[--i] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	out(buf + i, sizeof buf - i);
}

static void
out_literal(const char *p, size_t n)
{
	outf("{%zu}\r\n", n);
	out(p, n);
}

/*
 * Message text as a literal. RFC 3501 section 4.3 allows no NUL in one,
 * so a NUL (which delivery keeps, to lose nothing) goes out as 0x80, as
 * other servers do; the length is unchanged.
 */
static void
out_text_literal(const char *p, size_t n)
{
	const char *z;

	outf("{%zu}\r\n", n);
	while ((z = memchr(p, '\0', n)) != NULL) {
		out(p, (size_t)(z - p));
		out("\x80", 1);
		n -= (size_t)(z - p) + 1;
		p = z + 1;
	}
	out(p, n);
}

/* A string the way RFC 3501 section 4 allows: atom, quoted or literal. */
static void
out_astring(const char *s)
{
	size_t n = strlen(s), i;
	int quote = n == 0;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\r' || c == '\n' || c >= 0x80) {
			out_literal(s, n);
			return;
		}
		if (!parse_is_atom(s + i, 1) && c != ']')
			quote = 1;
	}
	/* An atom NIL would read as nil (RFC 3501 4.5). */
	if (!quote && strcasecmp(s, "NIL") != 0) {
		out(s, n);
		return;
	}
	out("\"", 1);
	for (i = 0; i < n; i++) {
		if (s[i] == '"' || s[i] == '\\')
			out("\\", 1);
		out(s + i, 1);
	}
	out("\"", 1);
}

/* ------------------------------------------------------------- replies */

static int reply(int res, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static int
reply(int res, const char *fmt, va_list ap)
{
	va_list ap2;
	int n;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	free(S.restext);
	if (n < 0 || (S.restext = malloc((size_t)n + 1)) == NULL)
		die(EXIT_TEMP, "out of memory");
	vsnprintf(S.restext, (size_t)n + 1, fmt, ap);
	return res;
}

static int no(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int ok_code(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
no(const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = reply(RES_NO, fmt, ap);
	va_end(ap);
	return r;
}

static int
bad(const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = reply(RES_BAD, fmt, ap);
	va_end(ap);
	return r;
}

/* An OK whose text is a response code followed by "<COMMAND> completed". */
static int
ok_code(const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = reply(RES_OK, fmt, ap);
	va_end(ap);
	return r;
}

static int
bad_args(void)
{
	return bad("Missing or invalid arguments");
}

/* Map a store failure (errno) to the reply RFC 5530 gives it. */
static int
no_store(int trycreate)
{
	switch (errno) {
	case ENOENT:
		return trycreate ? no("[TRYCREATE] No such mailbox") :
		    no("[NONEXISTENT] No such mailbox");
	case EEXIST:
		return no("[ALREADYEXISTS] Mailbox exists");
	case EINVAL:
		return no("[CANNOT] Invalid mailbox name");
	case ENAMETOOLONG:
		return no("[CANNOT] Mailbox name too long");
	case ENOSPC:
		return no("[LIMIT] Too many keywords");
	case EAGAIN:
	case ETIMEDOUT:
		return no("[INUSE] Mailbox is busy, try again");
	default:
		logmsg(LOG_ERR, "user %s: %s", S.user ? S.user : "-",
		    store_error(S.store));
		return no("[SERVERBUG] %s", store_error(S.store));
	}
}

/* ------------------------------------------------------------- input */

/*
 * What is left of the time to log in: counted from the start, not per
 * read, so a client trickling bytes cannot stay unauthenticated for long.
 */
static int
preauth_left(void)
{
	long long ms = ms_since(&S.started);

	return ms >= TIMEOUT_PREAUTH_MS ? 0 : (int)(TIMEOUT_PREAUTH_MS - ms);
}

/* Wait for input with the deadline of the current state. */
static int
fill_input(void)
{
	struct pollfd pfd = { .fd = 0, .events = POLLIN };
	int ms = S.state == ST_NOAUTH ? preauth_left() : TIMEOUT_AUTH_MS;
	ssize_t n;

	out_flush();
	for (;;) {
		int r = poll(&pfd, 1, ms);
		if (r == 0) {
			outs("* BYE Autologout\r\n");
			out_flush();
			logmsg(LOG_INFO, "timeout user=%s remote=%s",
			    S.user ? S.user : "-", remote());
			exit(0);
		}
		if (r == -1 && errno == EINTR)
			continue;
		n = read(0, ibuf, sizeof ibuf);
		if (n == -1 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			return -1;
		ipos = 0;
		ilen = (size_t)n;
		return 0;
	}
}

/*
 * One raw line (an AUTHENTICATE response), without its line end. A line
 * longer than max is read to its end all the same, so the next command
 * starts in step, and then refused.
 */
static int
read_rawline(char *buf, size_t max)
{
	size_t n = 0;
	int over = 0;

	for (;;) {
		if (ipos == ilen && fill_input() == -1)
			exit(0);
		char c = ibuf[ipos++];
		if (c == '\n')
			break;
		if (n + 1 >= max)
			over = 1;
		else
			buf[n++] = c;
	}
	if (over)
		return -1;
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	return 0;
}

/* ------------------------------------------------------------- helpers */

static size_t
nargs(const struct arg *a)
{
	size_t n = 0;

	for (; a != NULL; a = a->next)
		n++;
	return n;
}

static const char *
astring(const struct arg *a)
{
	if (a == NULL || a->type == ARG_LIST || strlen(a->s) != a->len)
		return NULL;
	return a->s;
}

/*
 * A mailbox argument, canonical (parse_mailbox_name), malloc'd. A name
 * that ends in the separator names no mailbox: only CREATE may drop it
 * (RFC 3501 6.3.3, see cmd_create), or SELECT "a/" would select a.
 */
static char *
mailbox_arg(const struct arg *a)
{
	const char *s = astring(a);
	char *name;

	if (s == NULL || (a->len > 1 && s[a->len - 1] == '/') ||
	    parse_mailbox_name(s, &name) == -1)
		return NULL;
	return name;
}

/*
 * A message's index record. The store reads records from disk; if that
 * fails the session cannot go on with a true view, so it ends.
 */
static const struct rec *
rec(uint32_t seq)
{
	const struct rec *r = store_rec(S.mb, seq);

	if (r == NULL)
		die(EXIT_TEMP, "read index: %s", store_error(S.store));
	return r;
}

static const char *const sysflags[] = {
	"\\Answered", "\\Flagged", "\\Deleted", "\\Seen", "\\Draft"
};
static const uint32_t sysflag_bits[] = {
	FL_ANSWERED, FL_FLAGGED, FL_DELETED, FL_SEEN, FL_DRAFT
};

static void
out_flaglist(uint32_t flags, uint64_t kw, int recent)
{
	const char *sep = "";
	size_t i;

	out("(", 1);
	for (i = 0; i < 5; i++)
		if (flags & sysflag_bits[i]) {
			outs(sep);
			outs(sysflags[i]);
			sep = " ";
		}
	if (recent) {
		outs(sep);
		outs("\\Recent");
		sep = " ";
	}
	for (i = 0; kw != 0 && i < store_nkeywords(S.mb); i++)
		if (kw & ((uint64_t)1 << i)) {
			outs(sep);
			outs(store_keyword_name(S.mb, i));
			sep = " ";
		}
	out(")", 1);
}

static void
out_msgflags(uint32_t seq)
{
	const struct rec *r = rec(seq);

	outs("FLAGS ");
	out_flaglist(r->flags & FL_SYSTEM, r->keywords,
	    store_is_recent(S.mb, seq));
}

static void
out_mailbox_flags(void)
{
	size_t i, n = store_nkeywords(S.mb);

	outs("* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft");
	for (i = 0; i < n; i++)
		outf(" %s", store_keyword_name(S.mb, i));
	outs(")\r\n");
	if (S.readonly) {
		outs("* OK [PERMANENTFLAGS ()] Read-only mailbox\r\n");
		return;
	}
	outs("* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen "
	    "\\Draft");
	for (i = 0; i < n; i++)
		outf(" %s", store_keyword_name(S.mb, i));
	outs(n < KEYWORDS_MAX ? " \\*)] Flags permitted\r\n" :
	    ")] Flags permitted\r\n");
}

/*
 * Tell the client what other processes changed (RFC 3501 7.4.1: EXPUNGE
 * only where allow_expunge says the command permits it).
 */
static void
report_changes(int allow_expunge)
{
	struct sync sy;
	size_t i;

	if (S.mb == NULL)
		return;
	if (store_sync(S.mb, allow_expunge, &sy) == -1) {
		logmsg(LOG_ERR, "sync: %s", store_error(S.store));
		return;
	}
	if (sy.deleted && S.deleted_one) {
		/* This session deleted it: it is just no longer selected. */
		store_sync_free(&sy);
		unselect();
		return;
	}
	if (sy.deleted) {
		/* RFC 2180 3.3: the mailbox is gone, so is the session. */
		outs("* BYE Mailbox deleted by another session\r\n");
		out_flush();
		exit(0);
	}
	for (i = 0; i < sy.nexpunged; i++)
		outf("* %u EXPUNGE\r\n", sy.expunged[i]);
	if (sy.keywords_changed)
		out_mailbox_flags();
	if (sy.exists_changed) {
		outf("* %u EXISTS\r\n", sy.exists);
		outf("* %u RECENT\r\n", sy.recent);
	}
	for (i = 0; i < sy.nchanged; i++) {
		outf("* %u FETCH (", sy.changed[i]);
		out_msgflags(sy.changed[i]);
		outs(")\r\n");
	}
	store_sync_free(&sy);
}

static void
unselect(void)
{
	if (S.mb != NULL)
		store_unselect(S.mb);
	S.mb = NULL;
	S.state = ST_AUTH;
}

/* ------------------------------------------------------- sequence sets */

/* What '*' means in a UID set (RFC 3501 6.4.8). */
static uint32_t
last_uid(void)
{
	uint32_t n = store_exists(S.mb);

	return n ? rec(n)->uid : 0;
}

/*
 * Turn a sequence set (or, with uid, a UID set) into the ascending list of
 * sequence numbers it names. Numbers past the last message are an error
 * for sequence numbers (RFC 3501 6.4.8 leaves UIDs free to miss).
 */
static int
seqs_of(const char *text, int uid, uint32_t **seqs_r, size_t *n_r)
{
	struct seqset set;
	uint32_t exists = store_exists(S.mb), *v, seq, max;
	size_t i, n = 0;

	*seqs_r = NULL;
	*n_r = 0;
	if (text == NULL || parse_seqset(text, &set) == -1)
		return -1;
	/*
	 * A number past the last message is an error, but a range that ends
	 * in '*' just covers what there is: "1:*" in an empty mailbox is
	 * no message at all.
	 */
	if (!uid)
		for (i = 0; i < set.n; i++)
			if (set.r[i].lo != SEQ_STAR &&
			    set.r[i].hi != SEQ_STAR &&
			    (set.r[i].lo > exists || set.r[i].hi > exists)) {
				parse_seqset_free(&set);
				return -1;
			}
	max = uid ? last_uid() : exists;
	parse_seqset_resolve(&set, max);
	if (!uid && set.n > 0 && set.r[set.n - 1].hi > exists)
		set.r[set.n - 1].hi = exists;
	if (exists == 0 || (v = calloc(exists, sizeof *v)) == NULL) {
		parse_seqset_free(&set);
		return exists == 0 ? 0 : -1;
	}
	if (uid) {
		/* Each UID range starts where a binary search puts it. */
		for (i = 0; i < set.n; i++)
			for (seq = store_seq_at_uid(S.mb, set.r[i].lo);
			    seq >= 1 && seq <= exists &&
			    rec(seq)->uid <= set.r[i].hi; seq++)
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

/* A UID list as RFC 4315 uid-set text, runs written a:b; malloc'd. */
static char *
uidset_text(const uint32_t *uids, size_t n)
{
	size_t i = 0, j, len = 0, cap = n * 22 + 1;
	char *t = malloc(cap);

	if (t == NULL)
		return NULL;
	t[0] = '\0';
	while (i < n) {
		for (j = i; j + 1 < n && uids[j + 1] == uids[j] + 1; j++)
			;
		len += (size_t)snprintf(t + len, cap - len, "%s%u",
		    i ? "," : "", uids[i]);
		if (j > i)
			len += (size_t)snprintf(t + len, cap - len, ":%u",
			    uids[j]);
		i = j + 1;
	}
	return t;
}

/* ------------------------------------------------------- authentication */

/* Compare in time that depends on the length of b only. */
static int
ct_equal(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i;
	unsigned char d = la != lb;

	for (i = 0; i < lb; i++)
		d |= (unsigned char)(a[i < la ? i : 0] ^ b[i]);
	return d == 0;
}

struct pwent {
	char	 line[PWLINE_MAX];
	char	*user, *hash, *uid, *gid, *dir;
	char	 dummy[PWLINE_MAX];	/* the file's first usable hash */
};

/* Find user in the password file: "user:hash:uid:gid:store-dir". */
static int
pw_lookup(const char *user, struct pwent *pe)
{
	FILE *f;
	int found = 0;

	pe->dummy[0] = '\0';
	if ((f = fopen(S.pwfile, "r")) == NULL) {
		logmsg(LOG_ERR, "open %s: %s", S.pwfile, strerror(errno));
		return -1;
	}
	while (!found && fgets(pe->line, sizeof pe->line, f) != NULL) {
		char *p = pe->line, *f5[5];
		size_t i;

		p[strcspn(p, "\r\n")] = '\0';
		for (i = 0; i < 5; i++)
			f5[i] = strsep(&p, ":");
		if (f5[4] == NULL || p != NULL)
			continue;
		/* Empty, or locked as in shadow(5): no work for crypt. */
		if (pe->dummy[0] == '\0' && strchr("!*", *f5[1]) == NULL)
			strcpy(pe->dummy, f5[1]);
		if (strcmp(f5[0], user) != 0)
			continue;
		pe->user = f5[0];
		pe->hash = f5[1];
		pe->uid = f5[2];
		pe->gid = f5[3];
		pe->dir = f5[4];
		found = 1;
	}
	fclose(f);
	return found ? 0 : -1;
}

static int
parse_id(const char *s, unsigned long *r)
{
	char *end;

	if (*s == '\0' || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	*r = strtoul(s, &end, 10);
	return *end != '\0' || errno != 0 ? -1 : 0;
}

/* Become the user before any of its input is handled (STYLE habit 9). */
static int
become_user(const struct pwent *pe)
{
	unsigned long uid, gid;

	if (*pe->uid == '\0' && *pe->gid == '\0') {
		if (geteuid() == 0) {
			logmsg(LOG_ERR, "user %s has no uid; refusing to serve "
			    "as root", esc(pe->user));
			return -1;
		}
		return 0;
	}
	if (parse_id(pe->uid, &uid) == -1 || parse_id(pe->gid, &gid) == -1 ||
	    uid == 0) {
		logmsg(LOG_ERR, "user %s: bad uid or gid", esc(pe->user));
		return -1;
	}
	if (geteuid() != 0)
		return getuid() == (uid_t)uid ? 0 : -1;
	gid_t g = (gid_t)gid;
	if (setgroups(1, &g) == -1 || setgid(g) == -1 ||
	    setuid((uid_t)uid) == -1)
		die(EXIT_TEMP, "drop privileges for %s: %s", esc(pe->user),
		    strerror(errno));
	if (setuid(0) != -1)
		die(EXIT_TEMP, "privileges were not dropped");
	return 0;
}

static int open_store(const char *dir);

/*
 * An unknown user is checked against a dummy hash with the settings
 * (method and cost) of the file's first usable hash, so it costs what a
 * known one does. A failed login is answered after 1, 2, then 4 seconds,
 * and the LOGIN_FAILURES_MAX-th ends the session. A process that has
 * taken a user's ids never serves another login.
 */
static int
login(const char *user, char *pass)
{
	/* The dummy hash when the file has no usable one. */
	static const char dummy[] = "$6$imapd$0000000000000000000000000000000"
	    "000000000000000000000000000000000000000000000000000000";
	struct pwent pe;
	const char *hash, *h;
	int found, good, root = geteuid() == 0;

	found = pw_lookup(user, &pe) == 0;
	hash = found && *pe.hash ? pe.hash : *pe.dummy ? pe.dummy : dummy;
	h = crypt(pass, hash);
	good = found && h != NULL && ct_equal(h, hash);
	parse_wipe(pass, strlen(pass));
	if (!good) {
		logmsg(LOG_NOTICE, "login failed user=%s remote=%s", esc(user),
		    remote());
		sleep(1u << S.failures);
		if (++S.failures >= LOGIN_FAILURES_MAX) {
			logmsg(LOG_NOTICE, "too many failed logins user=%s "
			    "remote=%s", esc(user), remote());
			outs("* BYE Too many failed logins\r\n");
			S.bye = 1;
		}
		return no("[AUTHENTICATIONFAILED] Authentication failed");
	}
	if (become_user(&pe) == -1)
		return no("[UNAVAILABLE] Account is not usable");
	if (open_store(pe.dir) == -1) {
		/* Past become_user, root's ids are gone for good. */
		if (root) {
			outs("* BYE Cannot serve another login\r\n");
			S.bye = 1;
		}
		return no("[UNAVAILABLE] Mail store is not available");
	}
	free(S.user);
	S.user = strdup(esc(user));
	S.state = ST_AUTH;
	logmsg(LOG_INFO, "login user=%s remote=%s", S.user, remote());
	return RES_OK;
}

static int
open_store(const char *dir)
{
	if ((S.store = store_open(dir)) == NULL) {
		logmsg(LOG_ERR, "open store %s: %s", dir, strerror(errno));
		return -1;
	}
	return 0;
}

static int
cmd_login(struct arg *a)
{
	const char *user = astring(a), *pass = astring(a ? a->next : NULL);

	if (nargs(a) != 2 || user == NULL || pass == NULL)
		return bad_args();
	return login(user, a->next->s);
}

static int
b64val(int c)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const char *p = c ? strchr(tab, c) : NULL;

	return p ? (int)(p - tab) : -1;
}

/* Decode RFC 4648 base64; returns the length or -1. */
static ssize_t
b64decode(const char *s, char *dst, size_t max)
{
	size_t n = 0, len = strlen(s), i;
	unsigned acc = 0;
	int bits = 0;

	if (len % 4 != 0)
		return -1;
	for (i = 0; i < len; i++) {
		int v;
		if (s[i] == '=') {
			if (i + 2 < len || (i + 1 < len && s[i + 1] != '='))
				return -1;
			break;
		}
		if ((v = b64val((unsigned char)s[i])) < 0)
			return -1;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n >= max)
				return -1;
			dst[n++] = (char)((acc >> bits) & 0xff);
		}
	}
	return (ssize_t)n;
}

/* RFC 4616: [authzid] NUL authcid NUL passwd. */
static int
auth_plain(const char *b64)
{
	char buf[1024], *authz, *authc, *pass, *end;
	ssize_t n;
	int r;

	if ((n = b64decode(b64, buf, sizeof buf - 1)) < 0) {
		r = bad("Invalid base64 data");
		goto done;	/* part of it may be decoded */
	}
	buf[n] = '\0';
	end = buf + n;
	authz = buf;
	authc = authz + strlen(authz) + 1;
	pass = authc < end ? authc + strlen(authc) + 1 : NULL;
	if (pass == NULL || pass > end || pass + strlen(pass) != end)
		r = bad("Invalid PLAIN response");
	else if (*authz && strcmp(authz, authc) != 0)
		r = no("[AUTHORIZATIONFAILED] Cannot act as another user");
	else
		r = login(authc, pass);
done:
	parse_wipe(buf, sizeof buf);
	return r;
}

static int
cmd_authenticate(struct arg *a)
{
	char line[2048];
	const char *mech = astring(a);
	int r;

	if (mech == NULL || nargs(a) > 2)
		return bad_args();
	if (strcasecmp(mech, "PLAIN") != 0)
		return no("[CANNOT] Unsupported authentication mechanism");
	if (a->next != NULL)	/* RFC 4959 initial response */
		return auth_plain(strcmp(a->next->s, "=") ? a->next->s : "");
	outs("+ \r\n");
	if (read_rawline(line, sizeof line) == -1)
		r = bad("Authentication line too long");
	else if (strcmp(line, "*") == 0)
		r = bad("Authentication cancelled");
	else
		r = auth_plain(line);
	parse_wipe(line, sizeof line);	/* read_rawline fills it even on -1 */
	return r;
}

/* ------------------------------------------------------ any state */

static int
cmd_capability(struct arg *a)
{
	if (a != NULL)
		return bad_args();
	outf("* CAPABILITY %s\r\n",
	    S.state == ST_NOAUTH ? CAPS_PRE : CAPS_AUTH);
	return RES_OK;
}

static int
cmd_noop(struct arg *a)
{
	return a != NULL ? bad_args() : RES_OK;
}

static int
cmd_logout(struct arg *a)
{
	if (a != NULL)
		return bad_args();
	outs("* BYE imapd logging out\r\n");
	return RES_OK;
}

/* ------------------------------------------------------ authenticated */

static int
select_mailbox(struct arg *a, int readonly)
{
	char *name;
	uint32_t seq, n;

	/* RFC 3501 6.3.1: even a failed SELECT deselects. */
	unselect();
	if (nargs(a) != 1)
		return bad_args();
	if ((name = mailbox_arg(a)) == NULL)
		return no("[CANNOT] Invalid mailbox name");
	S.mb = store_select(S.store, name, readonly);
	free(name);
	if (S.mb == NULL)
		return no_store(0);
	S.state = ST_SELECTED;
	S.readonly = readonly;
	n = store_exists(S.mb);
	out_mailbox_flags();
	outf("* %u EXISTS\r\n* %u RECENT\r\n", n, store_recent_count(S.mb));
	if ((seq = store_first_unseen(S.mb)) != 0)
		outf("* OK [UNSEEN %u] First unseen\r\n", seq);
	outf("* OK [UIDVALIDITY %u] UIDs valid\r\n", store_uidvalidity(S.mb));
	outf("* OK [UIDNEXT %u] Predicted next UID\r\n", store_uidnext(S.mb));
	outf("* OK [HIGHESTMODSEQ %llu] Highest\r\n",
	    (unsigned long long)store_highestmodseq(S.mb));
	return ok_code(readonly ? "[READ-ONLY]" : "[READ-WRITE]");
}

static int
cmd_select(struct arg *a)
{
	return select_mailbox(a, 0);
}

static int
cmd_examine(struct arg *a)
{
	return select_mailbox(a, 1);
}

/* Run a store call on one mailbox-name argument. */
static int
with_mailbox(struct arg *a, int (*fn)(struct store *, const char *))
{
	char *name = mailbox_arg(a);
	int r;

	if (name == NULL)
		return astring(a) ? no("[CANNOT] Invalid mailbox name") :
		    bad_args();
	if (a->next != NULL) {
		free(name);
		return bad_args();
	}
	r = fn(S.store, name) == -1 ? no_store(0) : RES_OK;
	free(name);
	return r;
}

static int
cmd_create(struct arg *a)
{
	/* RFC 3501 6.3.3: "CREATE a/" creates a (inferiors may follow). */
	if (a != NULL && a->type != ARG_LIST && a->len > 1 &&
	    a->s[a->len - 1] == '/')
		a->s[--a->len] = '\0';
	return with_mailbox(a, store_create);
}

static int
delete_mailbox(struct store *st, const char *name)
{
	if (strcmp(name, "INBOX") == 0) {
		errno = EPERM;
		return -1;
	}
	return store_delete(st, name);
}

static int
cmd_delete(struct arg *a)
{
	int r = with_mailbox(a, delete_mailbox);

	if (r == RES_NO && errno == EPERM)
		return no("[CANNOT] INBOX cannot be deleted");
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

static int
cmd_subscribe(struct arg *a)
{
	return with_mailbox(a, subscribe);
}

static int
cmd_unsubscribe(struct arg *a)
{
	return with_mailbox(a, unsubscribe);
}

static int
cmd_rename(struct arg *a)
{
	char *from, *to;
	size_t n;
	int r;

	if (nargs(a) != 2)
		return bad_args();
	from = mailbox_arg(a);
	to = mailbox_arg(a->next);
	if (from == NULL || to == NULL)
		r = no("[CANNOT] Invalid mailbox name");
	else if (n = strlen(from), strncmp(from, to, n) == 0 &&
	    (to[n] == '/' || to[n] == '\0'))
		r = no("[CANNOT] Cannot rename a mailbox into itself");
	else
		r = store_rename(S.store, from, to) == -1 ? no_store(0) :
		    RES_OK;
	free(from);
	free(to);
	return r;
}

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
list_names(const char *verb, char **names, size_t n, const char *pat)
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
		outf("* %s (%s) \"/\" ", verb, all[i].real ? "" : "\\Noselect");
		out_astring(all[i].name);
		outs("\r\n");
	}
	for (i = 0; i < nall; i++)
		if (!all[i].real)
			free(all[i].name);
	free(all);
}

/* The pattern LIST matches: the reference name, then the mailbox name. */
static char *
list_pattern(const char *ref, const char *pat)
{
	size_t n = strlen(ref) + strlen(pat) + 1;
	char *full = malloc(n);

	if (full == NULL)
		return NULL;
	snprintf(full, n, "%s%s", ref, pat);
	return full;
}

static int
list_common(struct arg *a, const char *verb,
    int (*names)(struct store *, char ***, size_t *))
{
	const char *ref = astring(a), *pat = astring(a ? a->next : NULL);
	char **v, *full;
	size_t n;

	if (nargs(a) != 2 || ref == NULL || pat == NULL)
		return bad_args();
	if (*pat == '\0') {
		/* RFC 3501 6.3.8: the hierarchy delimiter and root name. */
		outf("* %s (\\Noselect) \"/\" \"\"\r\n", verb);
		return RES_OK;
	}
	if ((full = list_pattern(ref, pat)) == NULL ||
	    names(S.store, &v, &n) == -1) {
		free(full);
		return no_store(0);
	}
	if (n > 1)
		qsort(v, n, sizeof *v, cmpstr);
	list_names(verb, v, n, full);
	store_names_free(v, n);
	free(full);
	return RES_OK;
}

static int
cmd_list(struct arg *a)
{
	return list_common(a, "LIST", store_list);
}

static int
cmd_lsub(struct arg *a)
{
	return list_common(a, "LSUB", store_subscriptions);
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

static int
cmd_status(struct arg *a)
{
	struct mbstatus st;
	const struct arg *it;
	uint64_t v[NSTATUS];
	char *name;

	if (nargs(a) != 2 || a->next->type != ARG_LIST || !a->next->child)
		return bad_args();
	/* Every item is checked before any of the answer is sent. */
	for (it = a->next->child; it != NULL; it = it->next)
		if (status_item(it) == NSTATUS)
			return bad("Unknown STATUS item");
	if ((name = mailbox_arg(a)) == NULL)
		return no("[CANNOT] Invalid mailbox name");
	if (store_status(S.store, name, &st) == -1) {
		free(name);
		return no_store(0);
	}
	v[0] = st.messages;
	v[1] = st.recent;
	v[2] = st.uidnext;
	v[3] = st.uidvalidity;
	v[4] = st.unseen;
	v[5] = st.highestmodseq;
	outs("* STATUS ");
	out_astring(name);
	outs(" (");
	for (it = a->next->child; it != NULL; it = it->next) {
		size_t i = status_item(it);
		outs(status_items[i]);
		outs(" ");
		outu(v[i]);
		if (it->next != NULL)
			outs(" ");
	}
	outs(")\r\n");
	free(name);
	return RES_OK;
}

/*
 * Flags as in a flag-list (RFC 3501 section 9: flag-list, or the flags of
 * STORE given without parentheses). System flags become bits, keywords are
 * collected by name. \Recent cannot be set by a client. -1 for what is
 * no flag, -2 for a keyword longer than the store keeps.
 */
static int
flag_args(const struct arg *a, uint32_t *sys_r, const char **kw, size_t *nkw_r)
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

/* A failure of flag_args as the reply (-2: a keyword too long to keep). */
static int
flag_error(int e)
{
	return e == -2 ? no("[LIMIT] Keyword longer than %d bytes",
	    KEYWORD_LEN_MAX) : bad("Invalid flag");
}

static int
cmd_append(struct arg *a)
{
	const struct arg *flags = NULL, *date = NULL, *msg;
	const char **kw = NULL;
	uint32_t sys = 0, uidv, uid;
	size_t n = nargs(a), nkw = 0;
	time_t when = time(NULL);
	char *name;
	int r;

	if (n < 2 || n > 4)
		return bad_args();
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
		return bad_args();
	if (msg->len == 0)
		return no("Empty message");
	if ((name = mailbox_arg(a)) == NULL)
		return no("[CANNOT] Invalid mailbox name");
	if (flags && (kw = calloc(nargs(flags->child) + 1, sizeof *kw)) == NULL)
		r = no("[SERVERBUG] Out of memory");
	else if (flags && (r = flag_args(flags->child, &sys, kw, &nkw)) < 0)
		r = flag_error(r);
	/* The limit is on what is stored: LF line ends become CRLF. */
	else if (store_crlf_size(msg->s, msg->len) > S.appendmax)
		r = no("[TOOBIG] Message too big");
	else if (store_append(S.store, name, msg->s, msg->len, sys | STORE_CRLF,
	    (char **)kw, nkw, when, &uidv, &uid) == -1)
		r = no_store(1);
	else
		r = ok_code("[APPENDUID %u %u]", uidv, uid);
	free(kw);
	free(name);
	return r;
}

/* ------------------------------------------------------ selected */

static int
cmd_close(struct arg *a)
{
	uint32_t *seqs;
	size_t n;

	if (a != NULL)
		return bad_args();
	/* RFC 3501 6.4.2: expunge silently, unless read-only. */
	if (!S.readonly && store_expunge(S.mb, NULL, &seqs, &n) == 0)
		free(seqs);
	unselect();
	return RES_OK;
}

static int
cmd_unselect(struct arg *a)
{
	if (a != NULL)
		return bad_args();
	unselect();
	return RES_OK;
}

static int
cmd_expunge(struct arg *a)
{
	uint32_t *seqs;
	size_t i, n;

	struct seqset set, *uids = NULL;
	int r;

	/* UID EXPUNGE takes a UID set (RFC 4315 2.1), EXPUNGE nothing. */
	if (nargs(a) != (size_t)uidcmd)
		return bad_args();
	if (uidcmd) {
		if (parse_seqset(astring(a), &set) == -1)
			return bad("Invalid sequence set");
		parse_seqset_resolve(&set, last_uid());
		uids = &set;
	}
	if (S.readonly)
		r = no("Mailbox is read-only");
	else if (store_expunge(S.mb, uids, &seqs, &n) == -1)
		r = no_store(0);
	else {
		for (i = 0; i < n; i++)
			outf("* %u EXPUNGE\r\n", seqs[i]);
		free(seqs);
		r = RES_OK;
	}
	if (uids)
		parse_seqset_free(uids);
	return r;
}

/* ------------------------------------------------------ FETCH */

enum {
	FA_FLAGS, FA_UID, FA_INTERNALDATE, FA_SIZE, FA_MODSEQ, FA_BODY,
	FA_ENVELOPE, FA_STRUCTURE, FA_BODYSTRUCTURE
};
enum { SEC_ALL, SEC_HEADER, SEC_TEXT, SEC_FIELDS, SEC_FIELDS_NOT, SEC_MIME };

struct fatt {
	int	 kind;
	int	 peek;		/* does not set \Seen */
	int	 section;
	uint32_t path[MIME_DEPTH_MAX];	/* part numbers, RFC 3501 6.4.5 */
	size_t	 depth;
	char	**fields;
	size_t	 nfields;
	int	 partial;
	uint32_t origin, count;
	char	 name[64];	/* as the response names it, before '[' */
};


/* "<origin.count>" after a section (RFC 3501 6.4.5). */
static int
fetch_partial(const char *s, struct fatt *f)
{
	char num[32], *dot;
	size_t n = strlen(s);

	if (n == 0)
		return 0;
	if (n < 5 || s[0] != '<' || s[n - 1] != '>' || n - 2 >= sizeof num)
		return -1;
	memcpy(num, s + 1, n - 2);
	num[n - 2] = '\0';
	if ((dot = strchr(num, '.')) == NULL)
		return -1;
	*dot = '\0';
	if (parse_number(num, &f->origin) == -1 ||
	    parse_number(dot + 1, &f->count) == -1 || f->count == 0)
		return -1;
	f->partial = 1;
	return 0;
}

/*
 * The part numbers at the start of a section ("1.2." of "1.2.MIME"):
 * returns how many bytes they take, with the dot after the last one.
 */
static size_t
section_path(const char *s, size_t n, struct fatt *f)
{
	size_t i = 0, start;
	char num[11];

	while (i < n && isdigit((unsigned char)s[i])) {
		for (start = i; i < n && isdigit((unsigned char)s[i]); i++)
			;
		if (i - start >= sizeof num || f->depth == MIME_DEPTH_MAX)
			return (size_t)-1;
		memcpy(num, s + start, i - start);
		num[i - start] = '\0';
		if (parse_number(num, &f->path[f->depth]) == -1 ||
		    f->path[f->depth] == 0)
			return (size_t)-1;
		f->depth++;
		if (i == n)
			return i;
		if (s[i++] != '.' || i == n)
			return (size_t)-1;
	}
	return i;
}

/* The text between '[' and ']' of BODY[...]. */
static int
fetch_section(const char *s, size_t n, struct fatt *f)
{
	static const struct {
		const char	*name;
		int		 section;
	} secs[] = {
		{ "HEADER.FIELDS.NOT ", SEC_FIELDS_NOT },
		{ "HEADER.FIELDS ", SEC_FIELDS },
		{ "HEADER", SEC_HEADER },
		{ "TEXT", SEC_TEXT },
	};
	size_t i, l;
	char *fields;
	int r;

	if ((l = section_path(s, n, f)) == (size_t)-1)
		return -1;
	s += l;
	n -= l;
	if (n == 0) {
		f->section = SEC_ALL;
		return 0;
	}
	if (f->depth > 0 && n == 4 && strncasecmp(s, "MIME", 4) == 0) {
		f->section = SEC_MIME;
		return 0;
	}
	for (i = 0; i < sizeof secs / sizeof secs[0]; i++) {
		l = strlen(secs[i].name);
		if (n < l || strncasecmp(s, secs[i].name, l) != 0)
			continue;
		f->section = secs[i].section;
		if (f->section != SEC_FIELDS && f->section != SEC_FIELDS_NOT)
			return n == l ? 0 : -1;
		if ((fields = strndup(s + l, n - l)) == NULL)
			return -1;
		r = parse_section_fields(fields, &f->fields, &f->nfields);
		free(fields);
		/* Field names match in any case; the echo is upper case. */
		for (i = 0; r == 0 && i < f->nfields; i++)
			for (fields = f->fields[i]; *fields; fields++)
				*fields = (char)toupper((unsigned char)*fields);
		return r;
	}
	return -1;
}

static int
fetch_body_att(const char *s, struct fatt *f)
{
	const char *lb = strchr(s, '['), *rb;
	size_t plen = lb ? (size_t)(lb - s) : strlen(s);

	f->kind = FA_BODY;
	if (lb == NULL || (rb = strrchr(lb, ']')) == NULL)
		return -1;
	if (plen == 9 && strncasecmp(s, "BODY.PEEK", 9) == 0)
		f->peek = 1;
	else if (plen != 4 || strncasecmp(s, "BODY", 4) != 0)
		return -1;
	snprintf(f->name, sizeof f->name, "BODY");
	if (fetch_section(lb + 1, (size_t)(rb - lb - 1), f) == -1)
		return -1;
	return fetch_partial(rb + 1, f);
}

static int
fetch_att(const struct arg *a, struct fatt *f)
{
	static const struct {
		const char	*name;
		int		 kind, section, peek;
	} simple[] = {
		{ "FLAGS", FA_FLAGS, 0, 0 },
		{ "UID", FA_UID, 0, 0 },
		{ "INTERNALDATE", FA_INTERNALDATE, 0, 0 },
		{ "RFC822.SIZE", FA_SIZE, 0, 0 },
		{ "MODSEQ", FA_MODSEQ, 0, 0 },
		{ "RFC822", FA_BODY, SEC_ALL, 0 },
		{ "RFC822.HEADER", FA_BODY, SEC_HEADER, 1 },
		{ "RFC822.TEXT", FA_BODY, SEC_TEXT, 0 },
		{ "ENVELOPE", FA_ENVELOPE, 0, 0 },
		{ "BODY", FA_STRUCTURE, 0, 0 },
		{ "BODYSTRUCTURE", FA_BODYSTRUCTURE, 0, 0 },
	};
	size_t i;

	memset(f, 0, sizeof *f);
	if (a->type != ARG_ATOM)
		return -1;
	for (i = 0; i < sizeof simple / sizeof simple[0]; i++)
		if (strcasecmp(a->s, simple[i].name) == 0) {
			f->kind = simple[i].kind;
			f->section = simple[i].section;
			f->peek = simple[i].peek;
			snprintf(f->name, sizeof f->name, "%s", simple[i].name);
			return 0;
		}
	return fetch_body_att(a->s, f);
}

static void
fatts_free(struct fatt *f, size_t n)
{
	size_t i, j;

	for (i = 0; i < n; i++) {
		for (j = 0; j < f[i].nfields; j++)
			free(f[i].fields[j]);
		free(f[i].fields);
	}
	free(f);
}

/* The attributes of a FETCH, macros expanded (RFC 3501 6.4.5). */
static int
fetch_atts(const struct arg *a, struct fatt **f_r, size_t *n_r)
{
	static const struct arg macro[] = {
		{ ARG_ATOM, 0, "FLAGS", 5, NULL, (struct arg *)&macro[1] },
		{ ARG_ATOM, 0, "INTERNALDATE", 12, NULL,
		    (struct arg *)&macro[2] },
		{ ARG_ATOM, 0, "RFC822.SIZE", 11, NULL,
		    (struct arg *)&macro[3] },
		{ ARG_ATOM, 0, "ENVELOPE", 8, NULL, (struct arg *)&macro[4] },
		{ ARG_ATOM, 0, "BODY", 4, NULL, NULL },
	};
	const struct arg *it = a;
	struct fatt *f;
	size_t n = 1, i;

	if (a->type == ARG_LIST) {
		it = a->child;
		n = nargs(it);
	} else if (parse_keyword_is(a, "FAST")) {
		it = macro;
		n = 3;
	} else if (parse_keyword_is(a, "ALL")) {
		it = macro;
		n = 4;
	} else if (parse_keyword_is(a, "FULL")) {
		it = macro;
		n = 5;
	}
	if (n == 0 || (f = calloc(n, sizeof *f)) == NULL)
		return -1;
	for (i = 0; i < n; i++, it = it->next)
		if (fetch_att(it, &f[i]) == -1) {
			fatts_free(f, i + 1);
			return -1;
		}
	*f_r = f;
	*n_r = n;
	return 0;
}

static const char *const months[] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
};

static void
out_internaldate(int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL)
		memset(&tm, 0, sizeof tm);
	outf("\"%02d-%s-%04d %02d:%02d:%02d +0000\"", tm.tm_mday,
	    months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
	    tm.tm_sec);
}

/* Where the header ends: after the first empty line, or the whole text. */
static size_t
header_len(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (p[i] != '\n')
			continue;
		if (i + 1 < n && p[i + 1] == '\n')
			return i + 2;
		if (i + 2 < n && p[i + 1] == '\r' && p[i + 2] == '\n')
			return i + 3;
	}
	return n;
}

static int
field_listed(const struct fatt *f, const char *line, size_t n)
{
	size_t i, l;

	for (i = 0; i < f->nfields; i++) {
		l = strlen(f->fields[i]);
		if (l < n && line[l] == ':' &&
		    strncasecmp(line, f->fields[i], l) == 0)
			return 1;
	}
	return 0;
}

/*
 * HEADER.FIELDS and HEADER.FIELDS.NOT: the header lines of the named
 * fields (folded lines kept with their field), then the empty line.
 */
static char *
header_fields(const struct fatt *f, const char *p, size_t hlen, size_t *n_r)
{
	char *buf = malloc(hlen + 3);
	size_t i = 0, n = 0;
	int keep = 0;

	if (buf == NULL)
		return NULL;
	while (i < hlen) {
		const char *nl = memchr(p + i, '\n', hlen - i);
		size_t l = nl ? (size_t)(nl - (p + i)) + 1 : hlen - i;
		if (l <= 2 && (p[i] == '\n' || p[i] == '\r'))
			break;
		if (p[i] != ' ' && p[i] != '\t')
			keep = field_listed(f, p + i, l) ==
			    (f->section == SEC_FIELDS);
		if (keep) {
			memcpy(buf + n, p + i, l);
			n += l;
		}
		i += l;
	}
	memcpy(buf + n, "\r\n", 2);
	*n_r = n + 2;
	return buf;
}

static void
out_section_name(const struct fatt *f)
{
	static const char *const names[] = {
		"", "HEADER", "TEXT", "HEADER.FIELDS", "HEADER.FIELDS.NOT",
		"MIME"
	};
	size_t i;

	outf("%s[", f->name);
	for (i = 0; i < f->depth; i++)
		outf("%u%s", f->path[i],
		    i + 1 < f->depth || f->section != SEC_ALL ? "." : "");
	outs(names[f->section]);
	if (f->nfields) {
		outs(" (");
		for (i = 0; i < f->nfields; i++) {
			if (i)
				outs(" ");
			out_astring(f->fields[i]);
		}
		outs(")");
	}
	outs("]");
	if (f->partial)
		outf("<%u>", f->origin);
}

/* One message as FETCH and SEARCH see it; parsed only when needed. */
struct msgctx {
	uint32_t	 seq;
	const char	*p;
	size_t		 len;
	struct mime_part *root;
	struct mime_part *hroot;	/* its header only */
	int		 whole;		/* p is the whole message */
	char		*blob;		/* made here, not cached */
	struct mime_text *text;		/* what BODY and TEXT search */
};

/* The bytes are read only when an item needs them (store_data copies). */
static void
msg_init(struct msgctx *m, uint32_t seq)
{
	memset(m, 0, sizeof *m);
	m->seq = seq;
}

/*
 * Read the message, or at least its first max bytes. A header tree made
 * from a prefix points into bytes that a longer read replaces, so it
 * goes first.
 */
static void
msg_read(struct msgctx *m, size_t max)
{
	if (m->p != NULL && (m->whole || m->len >= max))
		return;
	mime_free(m->hroot);
	m->hroot = NULL;
	if ((m->p = store_data(S.mb, m->seq, max, &m->len)) == NULL) {
		m->p = "";
		m->len = 0;
	}
	m->whole = max == SIZE_MAX || m->len < max;
}

static void
msg_bytes(struct msgctx *m)
{
	msg_read(m, SIZE_MAX);
}

static void
msg_done(struct msgctx *m)
{
	mime_free(m->root);
	mime_free(m->hroot);
	free(m->blob);
	mime_text_free(m->text);
	m->root = NULL;
	m->hroot = NULL;
	m->blob = NULL;
	m->text = NULL;
}

static const struct mime_part *
msg_root(struct msgctx *m)
{
	msg_bytes(m);
	if (m->root == NULL && (m->root = mime_parse(m->p, m->len)) == NULL)
		die(EXIT_TEMP, "out of memory");
	return m->root;
}

/* Decoded once, however many BODY and TEXT keys a SEARCH has. */
static const struct mime_text *
msg_text(struct msgctx *m)
{
	if (m->text == NULL && (m->text = mime_text(msg_root(m))) == NULL)
		die(EXIT_TEMP, "out of memory");
	return m->text;
}

/*
 * What the header-only functions of mime.c need: most headers are in the
 * first HEAD_READ bytes, so SEARCH FROM does not read whole messages.
 */
#define HEAD_READ	4096

static const struct mime_part *
msg_header(struct msgctx *m)
{
	if (m->root != NULL)
		return m->root;
	if (m->hroot != NULL)
		return m->hroot;
	msg_read(m, HEAD_READ);
	if (!m->whole && header_len(m->p, m->len) == m->len)
		msg_bytes(m);	/* the header goes on past the prefix */
	if ((m->hroot = mime_parse_header(m->p, m->len)) == NULL)
		die(EXIT_TEMP, "out of memory");
	return m->hroot;
}

/*
 * The structure blob of a message: the lengths of its ENVELOPE, BODY and
 * BODYSTRUCTURE texts and of its header search fields (mime.c), 4 x
 * uint32, then those. It comes from the store's cache or is made here and
 * cached.
 */
enum { B_ENVELOPE, B_BODY, B_BODYSTRUCTURE, B_SEARCH, B_ITEMS };
#define BLOB_HEAD	(B_ITEMS * sizeof(uint32_t))

static int
blob_ok(const char *b, size_t n)
{
	uint32_t len[B_ITEMS];
	uint64_t sum = BLOB_HEAD;
	int i;

	if (n < BLOB_HEAD)
		return 0;
	memcpy(len, b, sizeof len);
	for (i = 0; i < B_ITEMS; i++)
		sum += len[i];
	return sum == n;
}

/* The blob if the cache has it; NULL, not made, if not. */
static const char *
msg_cached_blob(struct msgctx *m)
{
	const char *c;
	size_t n;

	if (m->blob != NULL)
		return m->blob;
	if ((c = store_cache_get(S.mb, m->seq, &n)) != NULL && blob_ok(c, n))
		return c;
	return NULL;
}

static const char *
msg_blob(struct msgctx *m)
{
	const char *c;
	char *t[B_ITEMS];
	size_t l[B_ITEMS], i, n = BLOB_HEAD, off = BLOB_HEAD;
	uint32_t len;

	if ((c = msg_cached_blob(m)) != NULL)
		return c;
	t[B_ENVELOPE] = mime_envelope(msg_root(m), &l[B_ENVELOPE]);
	t[B_BODY] = mime_bodystructure(msg_root(m), 0, &l[B_BODY]);
	t[B_BODYSTRUCTURE] = mime_bodystructure(msg_root(m), 1,
	    &l[B_BODYSTRUCTURE]);
	t[B_SEARCH] = mime_search_fields(msg_root(m), &l[B_SEARCH]);
	for (i = 0; i < B_ITEMS; i++) {
		if (t[i] == NULL)
			die(EXIT_TEMP, "out of memory");
		n += l[i];
	}
	if ((m->blob = malloc(n)) == NULL)
		die(EXIT_TEMP, "out of memory");
	for (i = 0; i < B_ITEMS; i++) {
		len = (uint32_t)l[i];
		memcpy(m->blob + i * sizeof len, &len, sizeof len);
		memcpy(m->blob + off, t[i], l[i]);
		off += l[i];
		free(t[i]);
	}
	store_cache_put(S.mb, m->seq, m->blob, n);
	return m->blob;
}

/* One item of a blob: where it starts and its length. */
static const char *
blob_item(const char *b, int item, size_t *n_r)
{
	const char *p = b + BLOB_HEAD;
	uint32_t len[B_ITEMS];
	int i;

	memcpy(len, b, sizeof len);
	for (i = 0; i < item; i++)
		p += len[i];
	*n_r = len[item];
	return p;
}

static void
out_structure(struct msgctx *m, int item)
{
	const char *p;
	size_t n;

	p = blob_item(msg_blob(m), item, &n);
	out(p, n);
}

/* The bytes of a section inside a part (RFC 3501 6.4.5). */
static int
section_bytes(const struct fatt *f, struct msgctx *m, const char **p_r,
    size_t *n_r)
{
	const struct mime_part *part, *msg;

	if (f->depth == 0 && f->section != SEC_FIELDS &&
	    f->section != SEC_FIELDS_NOT) {
		/* The whole message, its header or text: no parsing. */
		size_t hlen;

		msg_bytes(m);
		hlen = header_len(m->p, m->len);
		*p_r = m->p + (f->section == SEC_TEXT ? hlen : 0);
		*n_r = f->section == SEC_HEADER ? hlen :
		    f->section == SEC_TEXT ? m->len - hlen : m->len;
		return 0;
	}
	if ((part = mime_find(msg_root(m), f->path, f->depth)) == NULL)
		return -1;
	if (f->section == SEC_ALL) {
		mime_body(part, p_r, n_r);
		return 0;
	}
	if (f->section == SEC_MIME) {
		mime_header(part, p_r, n_r);
		return 0;
	}
	/* HEADER, TEXT, HEADER.FIELDS: of a message/rfc822 part's message. */
	if ((msg = mime_message(part)) == NULL)
		return -1;
	if (f->section == SEC_TEXT)
		mime_body(msg, p_r, n_r);
	else
		mime_header(msg, p_r, n_r);
	return 0;
}

static void
out_body(const struct fatt *f, struct msgctx *m)
{
	const char *p;
	char *sel = NULL;
	size_t n;

	if (f->name[0] == 'B')
		out_section_name(f);
	else
		outs(f->name);
	outs(" ");
	if (section_bytes(f, m, &p, &n) == -1) {
		/* No such part: an empty string (RFC 3501 6.4.5). */
		p = "";
		n = 0;
	}
	if ((f->section == SEC_FIELDS || f->section == SEC_FIELDS_NOT) &&
	    (p = sel = header_fields(f, p, n, &n)) == NULL)
		die(EXIT_TEMP, "out of memory");
	if (f->partial) {
		size_t o = f->origin < n ? f->origin : n;
		p += o;
		n = n - o < f->count ? n - o : f->count;
	}
	out_text_literal(p, n);
	free(sel);
}

static void
fetch_one(uint32_t seq, const struct fatt *f, size_t n, int seen_added,
    int uid_first)
{
	const struct rec r = *rec(seq);
	struct msgctx m;
	int flags_done = 0;
	size_t i;

	msg_init(&m, seq);
	outs("* ");
	outu(seq);
	outs(" FETCH (");
	/* RFC 3501 6.4.8: UID FETCH answers always carry the UID. */
	if (uid_first) {
		outs("UID ");
		outu(r.uid);
		outs(" ");
	}
	for (i = 0; i < n; i++) {
		if (i > 0)
			outs(" ");
		switch (f[i].kind) {
		case FA_FLAGS:
			out_msgflags(seq);
			flags_done = 1;
			break;
		case FA_UID:
			outs("UID ");
			outu(r.uid);
			break;
		case FA_INTERNALDATE:
			outs("INTERNALDATE ");
			out_internaldate(r.internaldate);
			break;
		case FA_SIZE:
			outs("RFC822.SIZE ");
			outu(r.size);
			break;
		case FA_MODSEQ:
			outs("MODSEQ (");
			outu(r.modseq);
			outs(")");
			break;
		case FA_ENVELOPE:
			outs("ENVELOPE ");
			out_structure(&m, B_ENVELOPE);
			break;
		case FA_STRUCTURE:
			outs("BODY ");
			out_structure(&m, B_BODY);
			break;
		case FA_BODYSTRUCTURE:
			outs("BODYSTRUCTURE ");
			out_structure(&m, B_BODYSTRUCTURE);
			break;
		default:
			out_body(&f[i], &m);
		}
	}
	msg_done(&m);
	if (seen_added && !flags_done) {
		outs(" ");
		out_msgflags(seq);
	}
	outs(")\r\n");
}

/* RFC 3501 6.4.5: fetching a body without .PEEK sets \Seen. */
static int
set_seen(const uint32_t *seqs, size_t n, uint8_t *added)
{
	uint32_t *v;
	size_t i, m = 0;
	int r;

	if ((v = calloc(n ? n : 1, sizeof *v)) == NULL)
		return -1;
	for (i = 0; i < n; i++)
		if (!(rec(seqs[i])->flags & FL_SEEN)) {
			v[m++] = seqs[i];
			added[i] = 1;
		}
	r = m ? store_flags(S.mb, v, m, STORE_ADD, FL_SEEN, 0) : 0;
	free(v);
	return r;
}

static int
cmd_fetch(struct arg *a)
{
	struct fatt *f;
	uint32_t *seqs;
	uint8_t *added;
	size_t i, n, nf;
	int seen = 0, uid_first = uidcmd;

	if (nargs(a) != 2)
		return bad_args();
	if (seqs_of(astring(a), uidcmd, &seqs, &n) == -1)
		return bad("Invalid sequence set");
	if (fetch_atts(a->next, &f, &nf) == -1) {
		free(seqs);
		return bad("Invalid FETCH attributes");
	}
	for (i = 0; i < nf; i++) {
		if (f[i].kind == FA_UID)
			uid_first = 0;
		seen |= f[i].kind == FA_BODY && !f[i].peek;
	}
	if ((added = calloc(n ? n : 1, 1)) == NULL ||
	    (seen && !S.readonly && set_seen(seqs, n, added) == -1)) {
		free(added);
		free(seqs);
		fatts_free(f, nf);
		return no_store(0);
	}
	for (i = 0; i < n; i++)
		fetch_one(seqs[i], f, nf, added[i], uid_first);
	free(added);
	free(seqs);
	fatts_free(f, nf);
	return RES_OK;
}

/* ------------------------------------------------------ STORE */

/*
 * Keyword names to bits of the selected mailbox, creating when adding;
 * a STORE that would pass the limit creates none of its keywords.
 */
static int
keyword_bits(const char **kw, size_t n, int create, uint64_t *bits_r)
{
	size_t i, unknown = 0;
	int b;

	*bits_r = 0;
	for (i = 0; create && i < n; i++)
		unknown += store_keyword(S.mb, kw[i], 0) < 0;
	if (unknown > KEYWORDS_MAX - store_nkeywords(S.mb)) {
		errno = ENOSPC;
		return -1;
	}
	for (i = 0; i < n; i++) {
		if ((b = store_keyword(S.mb, kw[i], create)) >= 0)
			*bits_r |= (uint64_t)1 << b;
		else if (create || errno != ENOENT)
			return -1;
	}
	return 0;
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

static int
cmd_store(struct arg *a)
{
	const struct arg *fl;
	const char **kw;
	uint32_t *seqs, sys;
	uint64_t bits;
	size_t i, n, nkw;
	int mode, silent, r = RES_OK;

	if (nargs(a) < 3 || a->next->type != ARG_ATOM ||
	    flags_mode(a->next->s, &mode, &silent) == -1)
		return bad_args();
	if (S.readonly)
		return no("Mailbox is read-only");
	fl = a->next->next;
	if (fl->type == ARG_LIST) {
		if (fl->next != NULL)
			return bad_args();
		fl = fl->child;
	}
	if ((kw = calloc(nargs(fl) + 1, sizeof *kw)) == NULL)
		return no("[SERVERBUG] Out of memory");
	if ((r = flag_args(fl, &sys, kw, &nkw)) < 0) {
		free(kw);
		return flag_error(r);
	}
	if (seqs_of(astring(a), uidcmd, &seqs, &n) == -1)
		r = bad("Invalid sequence set");
	else if (n == 0)
		;	/* no message: no keyword is made either */
	else if (keyword_bits(kw, nkw, mode != STORE_REMOVE, &bits) == -1)
		r = errno == EINVAL ? bad("Invalid flag") : no_store(0);
	else if (store_flags(S.mb, seqs, n, mode, sys, bits) == -1)
		r = no_store(0);
	/* New keywords: FLAGS announces them before a FETCH shows them. */
	if (r == RES_OK && n > 0 && nkw > 0)
		report_changes(0);
	for (i = 0; r == RES_OK && !silent && i < n; i++) {
		outf("* %u FETCH (", seqs[i]);
		if (uidcmd)
			outf("UID %u ", rec(seqs[i])->uid);
		out_msgflags(seqs[i]);
		outs(")\r\n");
	}
	free(seqs);
	free(kw);
	return r;
}

/* ------------------------------------------------------ COPY */

static int
cmd_copy(struct arg *a)
{
	uint32_t *seqs, *uids = NULL, *src = NULL, uidv;
	char *dest, *s1 = NULL, *s2 = NULL;
	size_t i, n;
	int r = RES_OK;

	if (nargs(a) != 2)
		return bad_args();
	if (seqs_of(astring(a), uidcmd, &seqs, &n) == -1)
		return bad("Invalid sequence set");
	if ((dest = mailbox_arg(a->next)) == NULL)
		r = no("[CANNOT] Invalid mailbox name");
	else if ((uids = calloc(n + 1, sizeof *uids)) == NULL ||
	    (src = calloc(n + 1, sizeof *src)) == NULL)
		r = no("[SERVERBUG] Out of memory");
	else if (n > 0 && store_copy(S.mb, seqs, n, dest, &uidv, uids) == -1)
		r = no_store(1);
	else if (n > 0) {
		/* RFC 4315 section 3: COPYUID names both UID sets. */
		for (i = 0; i < n; i++)
			src[i] = rec(seqs[i])->uid;
		if ((s1 = uidset_text(src, n)) == NULL ||
		    (s2 = uidset_text(uids, n)) == NULL)
			r = no("[SERVERBUG] Out of memory");
		else
			r = ok_code("[COPYUID %u %s %s]", uidv, s1, s2);
	}
	free(s1);
	free(s2);
	free(src);
	free(uids);
	free(seqs);
	free(dest);
	return r;
}

/* ------------------------------------------------------ SEARCH */

enum {
	SK_ALL, SK_FLAG, SK_UNFLAG, SK_KEYWORD, SK_UNKEYWORD, SK_NEW, SK_OLD,
	SK_RECENT, SK_BEFORE, SK_ON, SK_SINCE, SK_LARGER, SK_SMALLER, SK_UID,
	SK_SEQ, SK_NOT, SK_OR, SK_AND, SK_HEADER, SK_BODY, SK_TEXT,
	SK_SENTBEFORE, SK_SENTON, SK_SENTSINCE
};

#define SEARCH_DEPTH_MAX	100

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
		return (k->str = astring(v)) == NULL ? -1 : 0;
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
		parse_seqset_resolve(&k->set, last_uid());
		return 0;
	}
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
		if ((k->field = astring(a->next)) == NULL)
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
		f = blob_item(b, B_SEARCH, &n);
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
	const struct rec r = *rec(seq);
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
	case SK_NOT:
		return !search_match(k->a, m);
	case SK_OR:
		return search_match(k->a, m) || search_match(k->b, m);
	default:	/* SK_AND */
		return search_match(k->a, m) && search_match(k->b, m);
	}
}

static int
cmd_search(struct arg *a)
{
	struct skey *k;
	uint32_t seq, n = store_exists(S.mb);

	if (parse_keyword_is(a, "CHARSET")) {
		/* RFC 3501 6.4.4: strings are compared as UTF-8. */
		const char *cs = astring(a->next);
		if (cs == NULL)
			return bad_args();
		if (strcasecmp(cs, "US-ASCII") != 0 && strcasecmp(cs, "UTF-8"))
			return no("[BADCHARSET (US-ASCII UTF-8)] Unsupported "
			    "charset");
		a = a->next->next;
	}
	if (a == NULL || (k = search_keys(a, 0)) == NULL)
		return bad("Invalid search criteria");
	outs("* SEARCH");
	for (seq = 1; seq <= n; seq++) {
		struct msgctx m;

		msg_init(&m, seq);
		if (search_match(k, &m))
			outf(" %u", uidcmd ? rec(seq)->uid : seq);
		msg_done(&m);
	}
	outs("\r\n");
	skey_free(k);
	return RES_OK;
}

/* ------------------------------------------------------ dispatch */

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
		return bad("Unknown UID command");
	uidcmd = 1;
	cur = c;
	return c->fn(a->next);
}

static void
run_command(const char *tag, struct arg *args)
{
	const struct cmd *c;
	int res;

	uidcmd = 0;
	S.deleted_one = 0;
	cur = c = find_cmd(args->type == ARG_ATOM ? args->s : "");
	if (c->name == NULL)
		res = bad("Unknown command");
	else if (!(c->states & S.state))
		res = bad("Not allowed in this state");
	else
		res = c->fn(args->next);
	/* Nothing follows BYE but the tagged OK (RFC 3501 6.1.3). */
	if (S.state == ST_SELECTED && c->fn != cmd_logout)
		report_changes(cur->expunge_ok);
	outs(tag);
	outs(res == RES_OK ? " OK " : res == RES_NO ? " NO " : " BAD ");
	if (res != RES_OK)
		outs(S.restext);
	else {
		if (S.restext != NULL)
			outf("%s ", S.restext);
		outf("%s%s completed", uidcmd ? "UID " : "", cur->name);
	}
	outs("\r\n");
	free(S.restext);
	S.restext = NULL;
	if (S.bye) {	/* the reason is logged */
		out_flush();
		exit(0);
	}
	if (c->fn == cmd_logout && res == RES_OK) {
		out_flush();
		logmsg(LOG_INFO, "logout user=%s remote=%s",
		    S.user ? S.user : "-", remote());
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
		die(EXIT_TEMP, "out of memory");
}

/*
 * Before login the input may have held a password: once a command is
 * done, wipe what was read, all but the bytes not yet parsed (the space
 * past them may hold the rest of an earlier, longer read).
 */
static void
wipe_input(void)
{
	parse_wipe(ibuf, ipos);
	parse_wipe(ibuf + ilen, sizeof ibuf - ilen);
}

static void
serve(void)
{
	size_t used;

	new_parser();
	for (;;) {
		if (ipos == ilen && fill_input() == -1)
			break;
		int r = parse_feed(S.parser, ibuf + ipos, ilen - ipos, &used);
		ipos += used;
		switch (r) {
		case PARSE_MORE:
			continue;
		case PARSE_LITERAL:
			outs("+ Ready for literal data\r\n");
			out_flush();
			continue;
		case PARSE_DONE:
			run_command(parse_tag(S.parser), parse_args(S.parser));
			if (!S.appendok)
				wipe_input();
			if (S.state != ST_NOAUTH && !S.appendok) {
				new_parser();
				continue;
			}
			break;
		case PARSE_BAD:
			outs(parse_tag(S.parser));
			outs(" ");
			outs(parse_error(S.parser));
			outs("\r\n");
			if (!S.appendok)
				wipe_input();
			break;
		default:
			outf("* BYE %s\r\n", parse_error(S.parser));
			out_flush();
			logmsg(LOG_NOTICE, "user=%s remote=%s: %s",
			    S.user ? S.user : "-", remote(),
			    parse_error(S.parser));
			exit(0);
		}
		parse_reset(S.parser);
	}
	logmsg(LOG_INFO, "disconnected user=%s remote=%s",
	    S.user ? S.user : "-", remote());
}

/* ------------------------------------------------------ delivery */

/* Read all of stdin, up to max bytes. */
static char *
slurp(size_t max, size_t *n_r)
{
	size_t n = 0, cap = 65536;
	char *buf = malloc(cap), *nb;
	ssize_t r;

	while (buf != NULL) {
		if (n == cap) {
			if (cap > max || (nb = realloc(buf, cap * 2)) == NULL)
				break;
			buf = nb;
			cap *= 2;
		}
		if ((r = read(0, buf + n, cap - n)) == -1 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r == 0 && n <= max) {
				*n_r = n;
				return buf;
			}
			break;
		}
		n += (size_t)r;
	}
	free(buf);
	return NULL;
}

/* A message begins with a header field: a name, then a colon. */
static int
looks_like_message(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n && p[i] > ' ' && p[i] < 0x7f && p[i] != ':'; i++)
		;
	return i > 0 && i < n && p[i] == ':';
}

static int
deliver(const char *mailbox)
{
	char *raw, *name;
	const char *p;
	size_t n, len;
	uint32_t uidv, uid;
	int r;

	if ((raw = slurp(S.appendmax, &n)) == NULL) {
		logmsg(LOG_ERR, "deliver: cannot read the message (over %zu "
		    "bytes?)", S.appendmax);
		return EX_DATAERR_;
	}
	p = raw;
	/* An mbox "From " line is the envelope, not the message. */
	if (n >= 5 && memcmp(p, "From ", 5) == 0) {
		const char *nl = memchr(p, '\n', n);
		len = nl ? (size_t)(nl + 1 - p) : n;
		p += len;
		n -= len;
	}
	if (!looks_like_message(p, n)) {
		free(raw);
		logmsg(LOG_ERR, "deliver: input is not a message");
		return EX_DATAERR_;
	}
	/* The limit is on what is stored: LF line ends become CRLF. */
	if (store_crlf_size(p, n) > S.appendmax) {
		free(raw);
		logmsg(LOG_ERR, "deliver: message over %zu bytes once stored",
		    S.appendmax);
		return EX_DATAERR_;
	}
	if (parse_mailbox_name(mailbox, &name) == -1) {
		free(raw);
		logmsg(LOG_ERR, "deliver: invalid mailbox name %s",
		    esc(mailbox));
		return EX_DATAERR_;
	}
	r = store_append(S.store, name, p, n, STORE_CRLF, NULL, 0, time(NULL),
	    &uidv, &uid);
	if (r == -1 && errno == ENOENT && store_create(S.store, name) == 0)
		r = store_append(S.store, name, p, n, STORE_CRLF, NULL, 0,
		    time(NULL), &uidv, &uid);
	/* A name the store can never hold is the sender's error, not ours. */
	if (r == -1 && errno == ENAMETOOLONG)
		r = EX_DATAERR_;
	else if (r == -1)
		r = EX_TEMPFAIL_;
	if (r != 0)
		logmsg(LOG_ERR, "deliver to %s: %s", esc(name),
		    store_error(S.store));
	else
		logmsg(LOG_INFO, "delivered to %s uid %u", esc(name), uid);
	free(raw);
	free(name);
	return r;
}

/* ------------------------------------------------------ main */

static void
usage(void)
{
	fprintf(stderr, "usage: imapd [-s] [-d dir] [-p passwdfile] "
	    "[-l appendlimit] [-D mailbox]\n");
	exit(EXIT_PERM);
}

static const char *
default_dir(void)
{
	static char path[PATH_MAX];
	const char *home = getenv("HOME");
	struct passwd *pw;

	if ((home == NULL || *home == '\0') &&
	    (pw = getpwuid(getuid())) != NULL)
		home = pw->pw_dir;
	if (home == NULL ||
	    (size_t)snprintf(path, sizeof path, "%s/Mail", home) >= sizeof path)
		die(EXIT_PERM, "no home directory; use -d");
	return path;
}

static char *
invoking_user(void)
{
	struct passwd *pw = getpwuid(getuid());
	char buf[32];

	if (pw != NULL)
		return strdup(pw->pw_name);
	snprintf(buf, sizeof buf, "%lu", (unsigned long)getuid());
	return strdup(buf);
}

int
main(int argc, char *argv[])
{
	const char *deliver_to = NULL;
	unsigned long long lim;
	char *end;
	int ch;

	S.appendmax = APPEND_MAX_DEFAULT;
	clock_gettime(CLOCK_MONOTONIC, &S.started);
	while ((ch = getopt(argc, argv, "d:p:l:D:s")) != -1) {
		switch (ch) {
		case 'd':
			S.dir = optarg;
			break;
		case 'p':
			S.pwfile = optarg;
			break;
		case 'l':
			errno = 0;
			lim = strtoull(optarg, &end, 10);
			if (*end || errno || lim == 0 || lim > SIZE_MAX / 2)
				usage();
			S.appendmax = (size_t)lim;
			break;
		case 'D':
			deliver_to = optarg;
			break;
		case 's':
			S.log_stderr = 1;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	openlog("imapd", LOG_PID, LOG_MAIL);
	signal(SIGPIPE, SIG_IGN);
	if (S.pwfile == NULL || deliver_to != NULL) {
		/* A session without a password file is the invoker's own. */
		if (getuid() == 0 || geteuid() == 0)
			die(deliver_to ? EX_TEMPFAIL_ : EXIT_PERM,
			    "refusing to run as root without -p");
		if (S.dir == NULL)
			S.dir = default_dir();
		if (open_store(S.dir) == -1)
			return deliver_to ? EX_TEMPFAIL_ : EXIT_TEMP;
		if (deliver_to)
			return deliver(deliver_to);
		S.user = invoking_user();
		S.state = ST_AUTH;
		outf("* PREAUTH [CAPABILITY %s] imapd ready, "
		    "logged in as %s\r\n", CAPS_AUTH, S.user);
		logmsg(LOG_INFO, "preauth user=%s remote=%s", S.user, remote());
	} else {
		S.state = ST_NOAUTH;
		outf("* OK [CAPABILITY %s] imapd ready\r\n", CAPS_PRE);
	}
	out_nonblock();
	serve();
	return 0;
}
