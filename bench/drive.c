/*
 * drive: time IMAP commands against a server run on a pair of pipes.
 *
 *	drive [-n reps] [-x messages] [-l log] [-c file] MODE [ARGS] --
 *	    server [arg ...]
 *
 * Each repetition starts the server (which must greet with PREAUTH),
 * runs the mode's commands, sends LOGOUT and reaps the process with
 * wait4() for its peak RSS. The timed part of a mode is measured with
 * CLOCK_MONOTONIC from the first byte sent to the tagged reply. Untagged
 * data is read and discarded but counted, and checked where it can be
 * (EXISTS, the number of FETCH responses, flags after STORE, one SEARCH
 * response with the same hits every time), so a server that answers
 * wrongly fails the run instead of looking fast. -x sets the number of
 * messages SELECT must find; -l appends the server's stderr to a log file
 * instead of ours; -c removes a file (a server's cache) before every
 * repetition, so each one starts cold.
 *
 * Modes:
 *	populate LIST MAILDIR	APPEND every listed Maildir file, pipelined
 *				with LITERAL+ when advertised (one session)
 *	warm			SELECT and every read-only query, untimed
 *	select			SELECT INBOX
 *	fetch			FETCH 1:* (UID FLAGS)
 *	uidfetch		UID FETCH 1:* (RFC822.SIZE INTERNALDATE)
 *	store			STORE 1:* +FLAGS.SILENT (\Seen); then, untimed,
 *				check and undo it so repetitions agree
 *	append LIST MAILDIR N	N APPENDs, one after the other
 *	session			the whole connection: start, SELECT, FETCH the
 *				newest 50 messages' BODY.PEEK[HEADER], LOGOUT
 *	structure		FETCH 1:* (ENVELOPE BODYSTRUCTURE)
 *	search CRITERIA		SEARCH CRITERIA (one argument, sent as is)
 *	esearch CRITERIA	SEARCH RETURN (COUNT MIN MAX) CRITERIA: one
 *				ESEARCH response (RFC 4731); its COUNT is
 *				the count, MIN and MAX make the sum
 *	move			UID MOVE 1:* moved (the mailbox must exist);
 *				then, untimed, check that moved holds every
 *				message and move them back
 *
 * Output, one line: "MODE seconds peak_rss_kb bytes reps count sum" with
 * the median time, the largest peak RSS, the untagged bytes of the timed
 * command, for structure and search the FETCH responses or SEARCH hits it
 * gave (for esearch its COUNT; else 0) and, for structure, a hash of its
 * untagged bytes (for esearch MIN << 32 | MAX; else 0), so that runs and
 * servers can be compared byte for byte.
 *
 * Linux carries a process's peak RSS across exec, and a forked child
 * starts with its parent's pages, so the driver keeps its own memory
 * small whenever it forks: big buffers are mmap()ed and unmapped after
 * each connection, and messages are loaded only once the server runs.
 */
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conn.h"

#define REPS_MAX	99
#define CONN_SECS	900	/* a hung server ends the run */
#define FILL_SECS	3600	/* populate: 100,000 APPENDs, each synced,
				 * on a busy machine take more than that */
#define WINDOW		64	/* pipelined APPENDs in flight */
#define SESSION_FETCH	50

struct conn {
	struct conn_io	 io;
	int		 litplus;
	uint32_t	 exists;
	uint64_t	 bytes;		/* untagged bytes since reset_counts */
	uint64_t	 sum;		/* hash of them, CRLFs left out */
	uint64_t	 word;		/* bytes not yet in sum */
	unsigned	 nword;		/* how many */
	uint32_t	 nfetch;	/* "* n FETCH" since reset_counts */
	uint32_t	 nseen;		/* of them, with \Seen */
	uint32_t	 nsearch;	/* "* SEARCH" responses */
	uint32_t	 nhits;		/* numbers in them */
	uint32_t	 nesearch;	/* "* ESEARCH" responses */
	uint64_t	 ecount, emin, emax;	/* their COUNT, MIN, MAX */
	struct rusage	 ru;
};

struct msg {
	char		*data;		/* CRLF line ends */
	size_t		 len;
	char		 date[40];	/* INTERNALDATE for APPEND */
};

const char	  conn_prog[] = "drive";

static char	**server_argv;
static uint32_t	  expect;	/* -x: messages the mailbox must hold */
static const char *server_log;	/* -l */
static const char *cold_file;	/* -c */

/* ------------------------------------------------------------ process */

static void
server_start(struct conn *c)
{
	memset(c, 0, sizeof(*c));
	conn_start(&c->io, server_argv, server_log, 1 << 20);
	alarm(CONN_SECS);
}

/* After LOGOUT: drain to EOF, reap, keep the rusage. */
static void
server_end(struct conn *c)
{
	int status;

	status = conn_finish(&c->io, &c->ru);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fprintf(stderr, "drive: warning: server ended with status %#x\n",
		    (unsigned)status);
	alarm(0);
}


/*
 * FNV-1a over 8-byte words rather than bytes, so that hashing 50 MB of
 * FETCH responses costs the driver little next to the server's time; a
 * partial word waits for the next call, so how the bytes were cut into
 * reads does not change the sum. It only tells answers apart.
 */
static void
sum_word(struct conn *c, uint64_t w)
{
	c->sum ^= w;
	c->sum *= 0x100000001b3ULL;
}

static void
sum_bytes(struct conn *c, const char *p, size_t n)
{
	uint64_t w;

	while (n > 0 && c->nword > 0) {
		c->word |= (uint64_t)(unsigned char)*p++ << (8 * c->nword);
		n--;
		if (++c->nword == 8) {
			sum_word(c, c->word);
			c->word = 0;
			c->nword = 0;
		}
	}
	for (; n >= 8; p += 8, n -= 8) {
		/* little-endian, like the partial words (one load) */
		w = (uint64_t)(unsigned char)p[0] |
		    (uint64_t)(unsigned char)p[1] << 8 |
		    (uint64_t)(unsigned char)p[2] << 16 |
		    (uint64_t)(unsigned char)p[3] << 24 |
		    (uint64_t)(unsigned char)p[4] << 32 |
		    (uint64_t)(unsigned char)p[5] << 40 |
		    (uint64_t)(unsigned char)p[6] << 48 |
		    (uint64_t)(unsigned char)p[7] << 56;
		sum_word(c, w);
	}
	for (; n > 0; n--, c->nword++)
		c->word |= (uint64_t)(unsigned char)*p++ << (8 * c->nword);
}

/* The sum with the bytes still waiting, and their count, folded in. */
static uint64_t
sum_end(struct conn *c)
{
	sum_word(c, c->word);
	sum_word(c, c->nword);
	return c->sum;
}

/* For conn_skip: a literal's bytes count into the sum. */
static void
sum_see(void *c, const char *p, size_t n)
{
	sum_bytes(c, p, n);
}

/* The numbers of "* SEARCH n n ..." (RFC 3501 section 7.2.5). */
static void
search_hits(struct conn *c, const char *s, size_t len)
{
	size_t i;

	c->nsearch++;
	for (i = 8; i < len; i++)
		if (s[i] >= '0' && s[i] <= '9' && s[i - 1] == ' ')
			c->nhits++;
}

/* The value after " NAME " in an ESEARCH response, or 0. */
static uint64_t
esearch_item(const char *s, size_t len, const char *name)
{
	const char *p = conn_find(s, len, name);

	return p == NULL ? 0 : strtoull(p + strlen(name), NULL, 10);
}

/* An untagged response: count and check what the modes rely on. */
static void
untagged(struct conn *c, const char *s, size_t len)
{
	unsigned long n;
	char *end;

	if (len >= 8 && memcmp(s, "* SEARCH", 8) == 0 &&
	    (len == 8 || s[8] == ' ')) {
		search_hits(c, s, len);
		return;
	}
	if (len >= 9 && memcmp(s, "* ESEARCH", 9) == 0) {
		c->nesearch++;
		c->ecount = esearch_item(s, len, " COUNT ");
		c->emin = esearch_item(s, len, " MIN ");
		c->emax = esearch_item(s, len, " MAX ");
		return;
	}
	if (len < 3 || s[2] < '0' || s[2] > '9') {
		/* CAPABILITY, or its response code in the greeting */
		if (conn_find(s, len, "CAPABILITY") != NULL &&
		    conn_find(s, len, " LITERAL+") != NULL)
			c->litplus = 1;
		return;
	}
	n = strtoul(s + 2, &end, 10);
	if ((size_t)(end - s) + 7 <= len && memcmp(end, " EXISTS", 7) == 0)
		c->exists = (uint32_t)n;
	else if ((size_t)(end - s) + 6 <= len && memcmp(end, " FETCH", 6) == 0) {
		c->nfetch++;
		if (conn_find(end, len - (size_t)(end - s), "\\Seen") != NULL)
			c->nseen++;
	}
}

/*
 * Read responses until the tagged reply to tag (returns 0 for OK, -1
 * otherwise, printing it) or, when plus is set, a continuation request
 * (returns 1). A literal inside a response is skipped whole.
 */
static int
wait_tagged(struct conn *c, unsigned tag, int plus)
{
	char want[16];
	size_t len, wl, seglen;
	long long lit;
	char *s, *seg;

	wl = (size_t)snprintf(want, sizeof(want), "T%u ", tag);
	for (;;) {
		s = conn_line(&c->io, &len, 0);
		if (plus && len >= 1 && s[0] == '+')
			return 1;
		if (len >= wl && memcmp(s, want, wl) == 0) {
			if (len >= wl + 2 && memcmp(s + wl, "OK", 2) == 0)
				return 0;
			fprintf(stderr, "drive: server said: %.*s\n", (int)len, s);
			return -1;
		}
		if (len < 2 || s[0] != '*')
			conn_die("unexpected response: %.*s",
			    (int)(len > 200 ? 200 : len), s);
		c->bytes += len + 2;
		sum_bytes(c, s, len);
		untagged(c, s, len);
		/* A literal continues the response after its bytes. */
		seg = s;
		seglen = len;
		while ((lit = conn_literal(seg, seglen)) >= 0) {
			conn_skip(&c->io, (unsigned long long)lit, sum_see, c);
			c->bytes += (uint64_t)lit;
			seg = conn_line(&c->io, &seglen, 0);
			c->bytes += seglen + 2;
			sum_bytes(c, seg, seglen);
		}
	}
}

static void
must(struct conn *c, unsigned tag, const char *what)
{
	if (wait_tagged(c, tag, 0) != 0)
		conn_die("%s failed", what);
}

static void
reset_counts(struct conn *c)
{
	c->bytes = 0;
	c->sum = 0xcbf29ce484222325ULL;
	c->word = 0;
	c->nword = 0;
	c->nfetch = 0;
	c->nseen = 0;
	c->nsearch = 0;
	c->nhits = 0;
	c->nesearch = 0;
}

/* Greeting must be PREAUTH (the bench runs the server as its user). */
static void
greeting(struct conn *c)
{
	size_t len;
	char *s;

	s = conn_line(&c->io, &len, 0);
	if (len < 9 || memcmp(s, "* PREAUTH", 9) != 0)
		conn_die("greeting is not PREAUTH: %.*s", (int)len, s);
	untagged(c, s, len);
}

static void
logout(struct conn *c)
{
	must(c, conn_cmd(&c->io, "LOGOUT"), "LOGOUT");
	server_end(c);
}

static void
select_inbox(struct conn *c)
{
	c->exists = UINT32_MAX;
	must(c, conn_cmd(&c->io, "SELECT INBOX"), "SELECT");
	if (c->exists == UINT32_MAX)
		conn_die("SELECT gave no EXISTS");
	if (expect && c->exists != expect)
		conn_die("INBOX holds %u messages, expected %u", c->exists,
		    expect);
}

static void
check_fetch(struct conn *c, uint32_t want, const char *what)
{
	if (c->nfetch != want)
		conn_die("%s: %u FETCH responses, expected %u", what, c->nfetch,
		    want);
}

/* ------------------------------------------------------------ messages */

static void
msg_date(struct msg *m, const char *name)
{
	static const char *const mon[] = { "Jan", "Feb", "Mar", "Apr", "May",
	    "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm tm;
	time_t t;

	/* Maildir names start with the delivery time in seconds. */
	t = (time_t)strtoll(name, NULL, 10);
	gmtime_r(&t, &tm);
	snprintf(m->date, sizeof(m->date), "%02d-%s-%04d %02d:%02d:%02d +0000",
	    tm.tm_mday, mon[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour,
	    tm.tm_min, tm.tm_sec);
}

static void
msg_path(char *path, size_t size, const char *maildir, const char *name)
{
	if ((size_t)snprintf(path, size, "%s/cur/%s", maildir, name) >= size)
		conn_die("path too long");
}

/* Room a Maildir file needs once its LFs are CRLFs. */
static size_t
msg_room(const char *maildir, const char *name)
{
	char path[4096];
	struct stat st;

	msg_path(path, sizeof(path), maildir, name);
	if (stat(path, &st) == -1)
		conn_die("%s: %s", path, strerror(errno));
	return (size_t)st.st_size * 2;
}

/*
 * Load a Maildir file into dst (room bytes), turning LF into CRLF as IMAP
 * wants (RFC 3501 section 2.2).
 */
static void
msg_load(struct msg *m, const char *maildir, const char *name, char *dst,
    size_t room)
{
	char path[4096];
	FILE *f;
	int ch;

	msg_path(path, sizeof(path), maildir, name);
	f = fopen(path, "r");
	if (f == NULL)
		conn_die("%s: %s", path, strerror(errno));
	m->data = dst;
	m->len = 0;
	while ((ch = getc(f)) != EOF) {
		if (m->len + 2 > room)
			conn_die("%s grew while loading", path);
		if (ch == '\n')
			m->data[m->len++] = '\r';
		m->data[m->len++] = (char)ch;
	}
	if (ferror(f))
		conn_die("%s: read error", path);
	fclose(f);
	msg_date(m, name);
}

/* Next name from the list, or NULL at its end. */
static const char *
list_next(FILE *list, char *name, size_t size)
{
	size_t n;

	if (fgets(name, (int)size, list) == NULL)
		return NULL;
	n = strlen(name);
	if (n > 0 && name[n - 1] == '\n')
		name[--n] = '\0';
	return n ? name : NULL;
}

/*
 * Send one APPEND. With LITERAL+ the literal follows at once (RFC 7888);
 * otherwise wait for the continuation request first. Returns the tag.
 */
static unsigned
send_append(struct conn *c, const struct msg *m)
{
	unsigned tag;
	int r;

	if (c->litplus) {
		tag = conn_cmd(&c->io, "APPEND INBOX \"%s\" {%zu+}", m->date,
		    m->len);
	} else {
		tag = conn_cmd(&c->io, "APPEND INBOX \"%s\" {%zu}", m->date,
		    m->len);
		r = wait_tagged(c, tag, 1);
		if (r != 1)
			conn_die("APPEND refused");
	}
	conn_send(&c->io, m->data, m->len);
	conn_send(&c->io, "\r\n", 2);
	return tag;
}

static void
capabilities(struct conn *c)
{
	must(c, conn_cmd(&c->io, "CAPABILITY"), "CAPABILITY");
}

/* ------------------------------------------------------------ modes */

struct result {
	double		 secs;
	uint64_t	 bytes;
	long		 rss_kb;
	uint32_t	 count;		/* FETCH responses or SEARCH hits */
	uint64_t	 sum;		/* of the untagged bytes */
};

static void
mode_populate(struct result *res, const char *listpath, const char *maildir)
{
	unsigned tags[WINDOW];
	size_t head = 0, inflight = 0;
	char name[512];
	struct conn c;
	struct msg m;
	uint32_t n = 0;
	size_t room;
	FILE *list;
	double t0;

	list = fopen(listpath, "r");
	if (list == NULL)
		conn_die("%s: %s", listpath, strerror(errno));
	server_start(&c);
	alarm(FILL_SECS);
	greeting(&c);
	capabilities(&c);
	t0 = conn_now();
	while (list_next(list, name, sizeof(name)) != NULL) {
		room = msg_room(maildir, name);
		msg_load(&m, maildir, name, conn_map(room), room);
		if (inflight == (c.litplus ? WINDOW : 1)) {
			must(&c, tags[head], "APPEND");
			head = (head + 1) % WINDOW;
			inflight--;
		}
		tags[(head + inflight) % WINDOW] = send_append(&c, &m);
		inflight++;
		conn_unmap(m.data, room);
		if (++n % 10000 == 0)
			fprintf(stderr, "drive: %u appended\n", n);
	}
	for (; inflight > 0; inflight--, head = (head + 1) % WINDOW)
		must(&c, tags[head], "APPEND");
	fclose(list);
	res->secs = conn_now() - t0;
	expect = n;
	select_inbox(&c);
	logout(&c);
	res->rss_kb = c.ru.ru_maxrss;
}

/* Everything read-only once, so both servers are measured warm. */
static void
mode_warm(struct result *res)
{
	struct conn c;
	double t0 = conn_now();

	server_start(&c);
	greeting(&c);
	select_inbox(&c);
	must(&c, conn_cmd(&c.io, "FETCH 1:* (UID FLAGS)"), "FETCH");
	must(&c, conn_cmd(&c.io, "UID FETCH 1:* (RFC822.SIZE INTERNALDATE)"),
	    "UID FETCH");
	if (c.exists >= SESSION_FETCH)
		must(&c, conn_cmd(&c.io, "FETCH %u:%u (BODY.PEEK[HEADER])",
		    c.exists - SESSION_FETCH + 1, c.exists), "FETCH");
	logout(&c);
	res->secs = conn_now() - t0;
	res->rss_kb = c.ru.ru_maxrss;
}

/* One SEARCH answer, with no more hits than messages. */
static void
check_search(struct conn *c, struct result *res, const char *crit)
{
	if (c->nsearch != 1)
		conn_die("SEARCH %s: %u SEARCH responses, expected 1", crit,
		    c->nsearch);
	if (c->nhits > c->exists)
		conn_die("SEARCH %s: %u hits in %u messages", crit, c->nhits,
		    c->exists);
	res->count = c->nhits;
}

/* One ESEARCH answer, no SEARCH, and numbers that can be right. */
static void
check_esearch(struct conn *c, struct result *res, const char *crit)
{
	if (c->nesearch != 1 || c->nsearch != 0)
		conn_die("SEARCH RETURN %s: %u ESEARCH and %u SEARCH "
		    "responses, expected 1 and 0", crit, c->nesearch,
		    c->nsearch);
	if (c->ecount > c->exists || c->emin > c->emax)
		conn_die("SEARCH RETURN %s: COUNT %llu MIN %llu MAX %llu in "
		    "%u messages", crit, (unsigned long long)c->ecount,
		    (unsigned long long)c->emin, (unsigned long long)c->emax,
		    c->exists);
	res->count = (uint32_t)c->ecount;
	res->sum = c->emin << 32 | c->emax;
}

enum {
	Q_SELECT, Q_FETCH, Q_UIDFETCH, Q_STORE, Q_STRUCTURE, Q_SEARCH,
	Q_ESEARCH, Q_MOVE
};

/* After UID MOVE 1:* moved: all of them there, and back to INBOX. */
static void
move_back(struct conn *c)
{
	must(c, conn_cmd(&c->io, "SELECT moved"), "SELECT moved");
	if (c->exists != expect)
		conn_die("after UID MOVE, moved holds %u messages, expected %u",
		    c->exists, expect);
	must(c, conn_cmd(&c->io, "UID MOVE 1:* INBOX"), "UID MOVE back");
	select_inbox(c);
}

/* crit: the SEARCH criteria for Q_SEARCH and Q_ESEARCH, else unused. */
static void
mode_query(struct result *res, int q, const char *crit)
{
	struct conn c;
	double t0 = 0, t1 = 0;
	unsigned tag;

	server_start(&c);
	greeting(&c);
	if (q == Q_SELECT) {
		reset_counts(&c);
		t0 = conn_now();
		select_inbox(&c);
		t1 = conn_now();
	} else
		select_inbox(&c);
	reset_counts(&c);
	switch (q) {
	case Q_FETCH:
		t0 = conn_now();
		tag = conn_cmd(&c.io, "FETCH 1:* (UID FLAGS)");
		must(&c, tag, "FETCH");
		t1 = conn_now();
		check_fetch(&c, c.exists, "FETCH");
		break;
	case Q_UIDFETCH:
		t0 = conn_now();
		tag = conn_cmd(&c.io,
		    "UID FETCH 1:* (RFC822.SIZE INTERNALDATE)");
		must(&c, tag, "UID FETCH");
		t1 = conn_now();
		check_fetch(&c, c.exists, "UID FETCH");
		break;
	case Q_STRUCTURE:
		t0 = conn_now();
		tag = conn_cmd(&c.io, "FETCH 1:* (ENVELOPE BODYSTRUCTURE)");
		must(&c, tag, "FETCH");
		t1 = conn_now();
		check_fetch(&c, c.exists, "FETCH");
		res->count = c.nfetch;
		res->sum = sum_end(&c);
		break;
	case Q_SEARCH:
	case Q_ESEARCH:
		t0 = conn_now();
		tag = conn_cmd(&c.io, q == Q_SEARCH ? "SEARCH %s" :
		    "SEARCH RETURN (COUNT MIN MAX) %s", crit);
		must(&c, tag, "SEARCH");
		t1 = conn_now();
		if (q == Q_SEARCH)
			check_search(&c, res, crit);
		else
			check_esearch(&c, res, crit);
		break;
	case Q_STORE:
		t0 = conn_now();
		tag = conn_cmd(&c.io, "STORE 1:* +FLAGS.SILENT (\\Seen)");
		must(&c, tag, "STORE");
		t1 = conn_now();
		res->bytes = c.bytes;
		reset_counts(&c);
		must(&c, conn_cmd(&c.io, "FETCH 1:* (FLAGS)"), "FETCH");
		check_fetch(&c, c.exists, "FETCH after STORE");
		if (c.nseen != c.exists)
			conn_die("after STORE only %u of %u messages are "
			    "\\Seen", c.nseen, c.exists);
		must(&c, conn_cmd(&c.io, "STORE 1:* -FLAGS.SILENT (\\Seen)"),
		    "STORE");
		reset_counts(&c);
		must(&c, conn_cmd(&c.io, "FETCH 1:* (FLAGS)"), "FETCH");
		if (c.nseen != 0)
			conn_die("STORE -FLAGS left %u messages \\Seen",
			    c.nseen);
		break;
	case Q_MOVE:
		t0 = conn_now();
		must(&c, conn_cmd(&c.io, "UID MOVE 1:* moved"), "UID MOVE");
		t1 = conn_now();
		res->bytes = c.bytes;
		move_back(&c);
		break;
	}
	if (q != Q_STORE && q != Q_MOVE)
		res->bytes = c.bytes;
	logout(&c);
	res->secs = t1 - t0;
	res->rss_kb = c.ru.ru_maxrss;
}

/* The first count messages of the list, in one mapping of *size_r bytes. */
static struct msg *
load_first(const char *listpath, const char *maildir, uint32_t count,
    size_t *size_r)
{
	char name[512], *data;
	size_t size, room, used = 0;
	struct msg *m;
	uint32_t i;
	FILE *list;

	list = fopen(listpath, "r");
	if (list == NULL)
		conn_die("%s: %s", listpath, strerror(errno));
	size = count * sizeof(*m);
	for (i = 0; i < count; i++) {
		if (list_next(list, name, sizeof(name)) == NULL)
			conn_die("%s holds fewer than %u names", listpath,
			    count);
		size += msg_room(maildir, name);
	}
	rewind(list);
	m = conn_map(size);
	data = (char *)(m + count);
	for (i = 0; i < count; i++) {
		if (list_next(list, name, sizeof(name)) == NULL)
			conn_die("%s: changed while loading", listpath);
		room = msg_room(maildir, name);
		if (room > size - count * sizeof(*m) - used)
			conn_die("%s changed while loading", name);
		msg_load(&m[i], maildir, name, data + used, room);
		used += m[i].len;
	}
	fclose(list);
	*size_r = size;
	return m;
}

static void
mode_append(struct result *res, const char *listpath, const char *maildir,
    uint32_t count)
{
	struct msg *m;
	struct conn c;
	uint32_t i, before;
	size_t size;
	double t0;

	server_start(&c);
	m = load_first(listpath, maildir, count, &size);
	greeting(&c);
	capabilities(&c);
	expect = 0;
	select_inbox(&c);
	before = c.exists;
	reset_counts(&c);
	t0 = conn_now();
	for (i = 0; i < count; i++)
		must(&c, send_append(&c, &m[i]), "APPEND");
	res->secs = conn_now() - t0;
	res->bytes = c.bytes;
	must(&c, conn_cmd(&c.io, "NOOP"), "NOOP");
	if (c.exists != before + count)
		conn_die("after %u APPENDs INBOX shows %u messages, "
		    "expected %u", count, c.exists, before + count);
	logout(&c);
	res->rss_kb = c.ru.ru_maxrss;
	conn_unmap(m, size);
}

static void
mode_session(struct result *res)
{
	struct conn c;
	double t0;
	uint32_t e;

	t0 = conn_now();
	server_start(&c);
	greeting(&c);
	select_inbox(&c);
	e = c.exists;
	if (e < SESSION_FETCH)
		conn_die("INBOX holds only %u messages", e);
	reset_counts(&c);
	must(&c, conn_cmd(&c.io, "FETCH %u:%u (BODY.PEEK[HEADER])",
	    e - SESSION_FETCH + 1, e), "FETCH");
	check_fetch(&c, SESSION_FETCH, "FETCH");
	res->bytes = c.bytes;
	logout(&c);
	res->secs = conn_now() - t0;
	res->rss_kb = c.ru.ru_maxrss;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void
usage(void)
{
	fprintf(stderr, "usage: drive [-n reps] [-x messages] [-l log] "
	    "[-c file] MODE [ARGS] --\n             server [arg ...]\n"
	    "modes: populate LIST MAILDIR | warm | select | fetch | uidfetch |"
	    " store |\n       append LIST MAILDIR N | session | structure |"
	    " search CRITERIA |\n       esearch CRITERIA | move\n");
	exit(100);
}

int
main(int argc, char **argv)
{
	double secs[REPS_MAX];
	struct result res, best;
	unsigned long reps = 1, ul;
	const char *mode;
	char **args, *end;
	int i, nargs, opt;

	while ((opt = getopt(argc, argv, "c:l:n:x:")) != -1) {
		switch (opt) {
		case 'c':
			cold_file = optarg;
			break;
		case 'l':
			server_log = optarg;
			break;
		case 'n':
			reps = strtoul(optarg, &end, 10);
			if (*end || reps == 0 || reps > REPS_MAX)
				usage();
			break;
		case 'x':
			ul = strtoul(optarg, &end, 10);
			if (*end || ul > UINT32_MAX - 1)
				usage();
			expect = (uint32_t)ul;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage();
	mode = argv[0];
	args = argv + 1;
	server_argv = conn_server(args, argc - 1, &nargs);
	if (server_argv == NULL)
		usage();
	signal(SIGPIPE, SIG_IGN);

	memset(&best, 0, sizeof(best));
	for (i = 0; i < (int)reps; i++) {
		memset(&res, 0, sizeof(res));
		if (cold_file != NULL && unlink(cold_file) == -1 &&
		    errno != ENOENT)
			conn_die("%s: %s", cold_file, strerror(errno));
		if (strcmp(mode, "populate") == 0 && nargs == 2)
			mode_populate(&res, args[0], args[1]);
		else if (strcmp(mode, "warm") == 0 && nargs == 0)
			mode_warm(&res);
		else if (strcmp(mode, "select") == 0 && nargs == 0)
			mode_query(&res, Q_SELECT, NULL);
		else if (strcmp(mode, "fetch") == 0 && nargs == 0)
			mode_query(&res, Q_FETCH, NULL);
		else if (strcmp(mode, "uidfetch") == 0 && nargs == 0)
			mode_query(&res, Q_UIDFETCH, NULL);
		else if (strcmp(mode, "store") == 0 && nargs == 0)
			mode_query(&res, Q_STORE, NULL);
		else if (strcmp(mode, "append") == 0 && nargs == 3) {
			ul = strtoul(args[2], &end, 10);
			if (*end || ul == 0 || ul > 1000000)
				usage();
			mode_append(&res, args[0], args[1], (uint32_t)ul);
		} else if (strcmp(mode, "session") == 0 && nargs == 0)
			mode_session(&res);
		else if (strcmp(mode, "structure") == 0 && nargs == 0)
			mode_query(&res, Q_STRUCTURE, NULL);
		else if (strcmp(mode, "move") == 0 && nargs == 0)
			mode_query(&res, Q_MOVE, NULL);
		else if (strcmp(mode, "search") == 0 && nargs == 1)
			mode_query(&res, Q_SEARCH, args[0]);
		else if (strcmp(mode, "esearch") == 0 && nargs == 1)
			mode_query(&res, Q_ESEARCH, args[0]);
		else
			usage();
		secs[i] = res.secs;
		if (res.rss_kb > best.rss_kb)
			best.rss_kb = res.rss_kb;
		best.bytes = res.bytes;
		/* The same question must get the same answer every time. */
		if (i > 0 && (res.count != best.count || res.sum != best.sum))
			conn_die("%s: repetition %d answered differently", mode,
			    i + 1);
		best.count = res.count;
		best.sum = res.sum;
	}
	qsort(secs, reps, sizeof(secs[0]), cmp_double);
	printf("%s %.6f %ld %llu %lu %u %016llx\n", mode, secs[reps / 2],
	    best.rss_kb, (unsigned long long)best.bytes, reps, best.count,
	    (unsigned long long)best.sum);
	return 0;
}
