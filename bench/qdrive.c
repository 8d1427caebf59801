/*
 * qdrive: several sessions of one IMAP server on one mailbox, for the
 * CONDSTORE queue, IDLE and CHANGEDSINCE/QRESYNC steps of make bench and
 * for the queue test of make check.
 *
 *	qdrive [-c] [-n reps] [-w workers] [-x messages] [-l log] MODE [ARGS] --
 *	    server [arg ...]
 *	qdrive maildir DIR N
 *
 * The server must greet with PREAUTH; every session is its own process
 * started from the command after "--".
 *
 * Modes:
 *	maildir DIR N	write N tiny messages into the Maildir DIR (no
 *			server): the fastest way to give Dovecot a mailbox
 *	fill N		the same N tiny messages into INBOX: up to
 *			FILL_APPEND APPENDs, pipelined with LITERAL+ when
 *			advertised, then COPY 1:k INBOX doubling the mailbox
 *			(one session)
 *	queue		-w workers (16) claim every message of INBOX (-x of
 *			them) with UID STORE (UNCHANGEDSINCE m) +FLAGS.SILENT
 *			($Claimed), each fetching candidates with UID SEARCH
 *			UNKEYWORD $Claimed and UID FETCH (MODSEQ) and moving
 *			on when told MODIFIED. Prints "queue secs claims
 *			distinct doubles lost modified flagged": a message
 *			claimed twice is a double, one that no worker was
 *			told it claimed is lost; flagged is what a last
 *			session finds with SEARCH KEYWORD $Claimed. Each
 *			worker starts at its own share of the candidates;
 *			with -c all take the same ones, so that every claim
 *			is contended
 *	idle N		one session IDLEs while another APPENDs N messages
 *			and STOREs a flag N times; the latency is from the
 *			writer's tagged OK to the idler's EXISTS or FETCH.
 *			Prints "idle append_median append_p99 store_median
 *			store_p99 missed" in seconds; missed counts the
 *			notifications that did not come within MISS_SECS
 *	changed		on INBOX (-x messages), 10 messages get \Flagged;
 *			then, -n times: FETCH 1:* (FLAGS), FETCH 1:* (FLAGS)
 *			(CHANGEDSINCE m) and, when the server announces
 *			QRESYNC, SELECT INBOX (QRESYNC (v m)) after ENABLE
 *			QRESYNC in a new session; the flags are taken back at
 *			the end. Prints "changed full changedsince qresync
 *			select" (medians in seconds, -1 where not supported;
 *			select is a plain SELECT INBOX for comparison)
 *
 * Every answer is checked (the number of FETCH responses, EXISTS), so a
 * server that answers wrongly fails the run instead of looking fast; the
 * exit status is 0 when the mode ran, 111 when a server failed it.
 */
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
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
#define CONN_SECS	1800	/* a hung server ends the run */
#define WINDOW		64	/* pipelined APPENDs in flight */
#define WORKERS_MAX	64
#define CHUNK		16	/* candidates a worker fetches at once */
#define CHANGED		10	/* messages changed in mode changed */
#define MISS_SECS	5.0	/* an IDLE notification later than this */
#define IDLE_MAX	100000
#define FILL_APPEND	1000	/* APPENDs of mode fill, the rest COPY */

struct conn {
	struct conn_io	 io;
	int		 litplus, qresync;
	uint32_t	 exists;
	uint32_t	 nfetch;
	uint64_t	 highest, validity;
	/* what the last tagged reply said */
	int		 modified;
};

/* Called for each untagged line while waiting for a tagged reply. */
typedef void untagged_fn(const char *, size_t, void *);

const char	  conn_prog[] = "qdrive";

static char	**server_argv;
static uint32_t	  expect;	/* -x */
static const char *server_log;	/* -l */
static int	  contend;	/* -c */

static void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		conn_die("out of memory");
	return p;
}

/* ------------------------------------------------------------ sessions */

static void
server_start(struct conn *c)
{
	memset(c, 0, sizeof(*c));
	conn_start(&c->io, server_argv, server_log, 1 << 16);
}

/* The number after w in the line ("UIDVALIDITY 7" gives 7), or 0. */
static uint64_t
number_after(const char *s, size_t len, const char *w)
{
	const char *p = conn_find(s, len, w);
	uint64_t n = 0;

	if (p == NULL)
		return 0;
	for (p += strlen(w); p < s + len && (*p == ' ' || *p == '('); p++)
		;
	for (; p < s + len && *p >= '0' && *p <= '9'; p++)
		n = n * 10 + (uint64_t)(*p - '0');
	return n;
}

/* What every mode relies on: EXISTS, FETCH, capabilities, codes. */
static void
untagged(struct conn *c, const char *s, size_t len)
{
	unsigned long n;
	char *end;

	if (len < 3 || s[2] < '0' || s[2] > '9') {
		if (conn_find(s, len, "CAPABILITY") != NULL) {
			c->litplus |= conn_find(s, len, " LITERAL+") != NULL;
			c->qresync |= conn_find(s, len, " QRESYNC") != NULL;
		}
		if (conn_find(s, len, "[HIGHESTMODSEQ ") != NULL)
			c->highest = number_after(s, len, "[HIGHESTMODSEQ");
		if (conn_find(s, len, "[UIDVALIDITY ") != NULL)
			c->validity = number_after(s, len, "[UIDVALIDITY");
		return;
	}
	n = strtoul(s + 2, &end, 10);
	if ((size_t)(end - s) + 7 <= len && memcmp(end, " EXISTS", 7) == 0)
		c->exists = (uint32_t)n;
	else if ((size_t)(end - s) + 6 <= len && memcmp(end, " FETCH", 6) == 0)
		c->nfetch++;
}

/*
 * Read until the tagged reply to tag: 0 for OK (c->modified tells whether
 * it carried MODIFIED), -1 otherwise (printed), 1 for a continuation
 * request when plus is set. fn, when not NULL, sees each untagged line.
 */
static int
wait_tagged(struct conn *c, unsigned tag, int plus, untagged_fn *fn,
    void *arg)
{
	char want[16];
	size_t len, wl;
	long long lit;
	char *s;

	wl = (size_t)snprintf(want, sizeof(want), "T%u ", tag);
	for (;;) {
		s = conn_line(&c->io, &len, 0);
		if (plus && len >= 1 && s[0] == '+')
			return 1;
		if (len >= wl && memcmp(s, want, wl) == 0) {
			c->modified = conn_find(s, len, "[MODIFIED") != NULL;
			if (len >= wl + 2 && memcmp(s + wl, "OK", 2) == 0)
				return 0;
			fprintf(stderr, "qdrive: server said: %.*s\n", (int)len,
			    s);
			return -1;
		}
		if (len < 1 || s[0] != '*')
			continue;	/* a "+" after IDLE, say */
		untagged(c, s, len);
		if (fn != NULL)
			fn(s, len, arg);
		while ((lit = conn_literal(s, len)) >= 0) {
			conn_skip(&c->io, (unsigned long long)lit, NULL, NULL);
			s = conn_line(&c->io, &len, 0);
		}
	}
}

static void
must(struct conn *c, unsigned tag, const char *what)
{
	if (wait_tagged(c, tag, 0, NULL, NULL) != 0)
		conn_die("%s failed", what);
}

static void
greeting(struct conn *c)
{
	size_t len;
	char *s;

	alarm(CONN_SECS);
	s = conn_line(&c->io, &len, 0);
	if (len < 9 || memcmp(s, "* PREAUTH", 9) != 0)
		conn_die("greeting is not PREAUTH: %.*s", (int)len, s);
	untagged(c, s, len);
	must(c, conn_cmd(&c->io, "CAPABILITY"), "CAPABILITY");
}

static void
logout(struct conn *c)
{
	must(c, conn_cmd(&c->io, "LOGOUT"), "LOGOUT");
	conn_finish(&c->io, NULL);
}

/* SELECT INBOX with args ("" or " (CONDSTORE)"); checks -x. */
static void
select_inbox(struct conn *c, const char *args)
{
	c->exists = UINT32_MAX;
	must(c, conn_cmd(&c->io, "SELECT INBOX%s", args), "SELECT");
	if (c->exists == UINT32_MAX)
		conn_die("SELECT gave no EXISTS");
	if (expect && c->exists != expect)
		conn_die("INBOX holds %u messages, expected %u", c->exists,
		    expect);
}

/* ------------------------------------------------------------ messages */

/* Tiny message i with CRLF line ends into buf; its length. */
static size_t
tiny(char *buf, size_t size, uint32_t i)
{
	int n;

	n = snprintf(buf, size,
	    "From: Sender %u <s%u@example.org>\r\n"
	    "To: queue@example.org\r\n"
	    "Subject: work item %u\r\n"
	    "Date: Mon, 2 Nov 2026 10:00:00 +0000\r\n"
	    "Message-ID: <item%u@bench.example>\r\n"
	    "\r\n"
	    "Work item %u: process it once.\r\n", i % 97, i % 97, i, i, i);
	if (n < 0 || (size_t)n >= size)
		conn_die("message too long");
	return (size_t)n;
}

/* Without the CRs, as Maildir keeps it. */
static size_t
lf_only(char *buf, size_t len)
{
	size_t i, j;

	for (i = j = 0; i < len; i++)
		if (buf[i] != '\r')
			buf[j++] = buf[i];
	return j;
}

static void
mode_maildir(const char *dir, uint32_t n)
{
	char path[4096], msg[512];
	size_t crlf, lf;
	uint32_t i;
	int fd;

	for (i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir,
		    i == 0 ? "cur" : i == 1 ? "new" : "tmp");
		if (mkdir(dir, 0700) == -1 && errno != EEXIST)
			conn_die("%s: %s", dir, strerror(errno));
		if (mkdir(path, 0700) == -1 && errno != EEXIST)
			conn_die("%s: %s", path, strerror(errno));
	}
	for (i = 1; i <= n; i++) {
		crlf = tiny(msg, sizeof(msg), i);
		lf = lf_only(msg, crlf);
		if ((size_t)snprintf(path, sizeof(path),
		    "%s/cur/%u.M%uP1.bench,S=%zu,W=%zu:2,", dir,
		    1700000000u + i, i, lf, crlf) >= sizeof(path))
			conn_die("path too long");
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
		if (fd == -1)
			conn_die("%s: %s", path, strerror(errno));
		if (write(fd, msg, lf) != (ssize_t)lf || close(fd) == -1)
			conn_die("%s: write failed", path);
	}
	printf("maildir %u\n", n);
}

static unsigned
send_append(struct conn *c, const char *msg, size_t len)
{
	unsigned tag;

	if (c->litplus)
		tag = conn_cmd(&c->io, "APPEND INBOX {%zu+}", len);
	else {
		tag = conn_cmd(&c->io, "APPEND INBOX {%zu}", len);
		if (wait_tagged(c, tag, 1, NULL, NULL) != 1)
			conn_die("APPEND refused");
	}
	conn_send(&c->io, msg, len);
	conn_send(&c->io, "\r\n", 2);
	return tag;
}

/*
 * APPEND costs each message its own fdatasyncs in imapd, COPY one batch:
 * APPEND up to FILL_APPEND messages, then double the mailbox with COPY
 * until it holds n. The copies repeat the first messages, which no step
 * minds.
 */
static void
mode_fill(uint32_t n)
{
	unsigned tags[WINDOW];
	size_t head = 0, inflight = 0, len;
	char msg[512];
	struct conn c;
	uint32_t i, k, have;
	double t0;

	server_start(&c);
	greeting(&c);
	t0 = conn_now();
	for (i = 1; i <= n && i <= FILL_APPEND; i++) {
		len = tiny(msg, sizeof(msg), i);
		if (inflight == (c.litplus ? WINDOW : 1)) {
			must(&c, tags[head], "APPEND");
			head = (head + 1) % WINDOW;
			inflight--;
		}
		tags[(head + inflight) % WINDOW] = send_append(&c, msg, len);
		inflight++;
	}
	for (; inflight > 0; inflight--, head = (head + 1) % WINDOW)
		must(&c, tags[head], "APPEND");
	have = i - 1;
	select_inbox(&c, "");
	for (; have < n; have += k) {
		k = have < n - have ? have : n - have;
		must(&c, conn_cmd(&c.io, "COPY 1:%u INBOX", k), "COPY");
	}
	must(&c, conn_cmd(&c.io, "NOOP"), "NOOP");
	if (c.exists != n)
		conn_die("after the fill INBOX shows %u messages, expected %u",
		    c.exists, n);
	printf("fill %u %.3f\n", n, conn_now() - t0);
	logout(&c);
}

/* ------------------------------------------------------------ queue */

struct cand {
	uint32_t	*uid;
	uint64_t	*modseq;
	size_t		 n, cap;
};

static void
cand_add(struct cand *k, uint32_t uid)
{
	if (k->n == k->cap) {
		k->cap = k->cap ? k->cap * 2 : 256;
		k->uid = realloc(k->uid, k->cap * sizeof(*k->uid));
		k->modseq = realloc(k->modseq, k->cap * sizeof(*k->modseq));
		if (k->uid == NULL || k->modseq == NULL)
			conn_die("out of memory");
	}
	k->uid[k->n] = uid;
	k->modseq[k->n++] = 0;
}

/* "* SEARCH 1 2 3 (MODSEQ 9)": the numbers before any parenthesis. */
static void
on_search(const char *s, size_t len, void *arg)
{
	struct cand *k = arg;
	size_t i;
	uint32_t n;

	if (len < 8 || memcmp(s, "* SEARCH", 8) != 0)
		return;
	for (i = 8; i < len && s[i] != '('; ) {
		if (s[i] < '0' || s[i] > '9') {
			i++;
			continue;
		}
		for (n = 0; i < len && s[i] >= '0' && s[i] <= '9'; i++)
			n = n * 10 + (uint32_t)(s[i] - '0');
		cand_add(k, n);
	}
}

#define CLAIMED	UINT64_MAX

/*
 * "* 5 FETCH (UID 7 FLAGS () MODSEQ (12))": the MODSEQ of a candidate.
 * Unsolicited FETCHes (another worker's claim) count too.
 */
static void
on_modseq(const char *s, size_t len, void *arg)
{
	struct cand *k = arg;
	uint32_t uid;
	size_t i;

	if (conn_find(s, len, " FETCH ") == NULL)
		return;
	uid = (uint32_t)number_after(s, len, "UID ");
	for (i = 0; i < k->n; i++) {
		if (k->uid[i] != uid || k->modseq[i] == CLAIMED)
			continue;
		/*
		 * A claimed message is never a candidate again, whatever
		 * MODSEQ comes later: +FLAGS of a flag already set changes
		 * nothing, so its STORE would succeed (RFC 7162 3.1.3).
		 */
		if (conn_find(s, len, "$Claimed") != NULL)
			k->modseq[i] = CLAIMED;
		else
			k->modseq[i] = number_after(s, len, "MODSEQ ");
	}
}

/*
 * One round: the unclaimed UIDs, CHUNK of them from this worker's share
 * of the list fetched with their MODSEQ, and a conditional STORE each.
 * Claimed UIDs go to out; returns how many candidates there were.
 */
static size_t
queue_round(struct conn *c, int w, int nw, uint32_t *out, uint32_t *nout,
    uint32_t *modified)
{
	struct cand all = { 0 }, k = { 0 };
	char set[CHUNK * 12];
	size_t i, at, len = 0, n;

	if (wait_tagged(c, conn_cmd(&c->io, "UID SEARCH UNKEYWORD $Claimed"), 0,
	    on_search, &all) != 0)
		conn_die("UID SEARCH UNKEYWORD failed");
	n = all.n;
	for (i = 0; i < CHUNK && i < all.n; i++) {
		at = (contend ? i : (size_t)w * all.n / (size_t)nw + i) % all.n;
		cand_add(&k, all.uid[at]);
		len += (size_t)snprintf(set + len, sizeof(set) - len, "%s%u",
		    i ? "," : "", all.uid[at]);
	}
	if (k.n > 0 && wait_tagged(c, conn_cmd(&c->io,
	    "UID FETCH %s (FLAGS MODSEQ)", set), 0, on_modseq, &k) != 0)
		conn_die("UID FETCH (MODSEQ) failed");
	for (i = 0; i < k.n; i++) {
		if (k.modseq[i] == 0 || k.modseq[i] == CLAIMED)
			continue;	/* expunged or claimed meanwhile */
		if (wait_tagged(c, conn_cmd(&c->io, "UID STORE %u "
		    "(UNCHANGEDSINCE %llu) +FLAGS.SILENT ($Claimed)", k.uid[i],
		    (unsigned long long)k.modseq[i]), 0, NULL, NULL) != 0)
			conn_die("UID STORE (UNCHANGEDSINCE) failed");
		if (c->modified)
			(*modified)++;
		else
			out[(*nout)++] = k.uid[i];
	}
	free(all.uid);
	free(all.modseq);
	free(k.uid);
	free(k.modseq);
	return n;
}

/* A worker process: its claims into slot (cap expect), count first. */
static void
queue_worker(int w, int nw, uint32_t *slot)
{
	struct conn c;
	uint32_t nout = 0, modified = 0;

	server_start(&c);
	greeting(&c);
	select_inbox(&c, " (CONDSTORE)");
	while (queue_round(&c, w, nw, slot + 2, &nout, &modified) > 0)
		if (nout > expect)
			conn_die("worker %d claimed more than %u", w, expect);
	slot[0] = nout;
	slot[1] = modified;
	logout(&c);
	exit(0);
}

/* Count the claims per UID: doubles, distinct UIDs. */
static void
queue_count(uint32_t *shm, int nw, uint32_t *claims, uint32_t *distinct,
    uint32_t *doubles, uint32_t *modified)
{
	uint32_t *slot, i, maxuid = 0;
	unsigned char *seen;
	int w;

	*claims = *distinct = *doubles = *modified = 0;
	for (w = 0; w < nw; w++) {
		slot = shm + (size_t)w * (expect + 2);
		for (i = 0; i < slot[0]; i++)
			if (slot[2 + i] > maxuid)
				maxuid = slot[2 + i];
	}
	seen = calloc((size_t)maxuid + 1, 1);
	if (seen == NULL)
		conn_die("out of memory");
	for (w = 0; w < nw; w++) {
		slot = shm + (size_t)w * (expect + 2);
		*claims += slot[0];
		*modified += slot[1];
		for (i = 0; i < slot[0]; i++) {
			if (seen[slot[2 + i]]++ == 0)
				(*distinct)++;
			else if (seen[slot[2 + i]] == 2)
				(*doubles)++;
		}
	}
	free(seen);
}

static void
mode_queue(int nw)
{
	struct cand all = { 0 };
	uint32_t *shm, claims, distinct, doubles, modified;
	size_t size;
	struct conn c;
	int w, status, failed = 0;
	double t0, secs;

	if (expect == 0)
		conn_die("queue needs -x messages");
	size = (size_t)nw * (expect + 2) * sizeof(uint32_t);
	shm = mmap(NULL, size, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shm == MAP_FAILED)
		conn_die("mmap: %s", strerror(errno));
	fflush(stdout);
	t0 = conn_now();
	for (w = 0; w < nw; w++) {
		pid_t pid = fork();

		if (pid == -1)
			conn_die("fork: %s", strerror(errno));
		if (pid == 0)
			queue_worker(w, nw, shm + (size_t)w * (expect + 2));
	}
	for (w = 0; w < nw; w++) {
		if (wait(&status) == -1)
			conn_die("wait: %s", strerror(errno));
		failed += !WIFEXITED(status) || WEXITSTATUS(status) != 0;
	}
	secs = conn_now() - t0;
	if (failed)
		conn_die("%d of %d workers failed", failed, nw);
	queue_count(shm, nw, &claims, &distinct, &doubles, &modified);
	expect = 0;
	server_start(&c);
	greeting(&c);
	select_inbox(&c, "");
	if (wait_tagged(&c, conn_cmd(&c.io, "UID SEARCH KEYWORD $Claimed"), 0,
	    on_search, &all) != 0)
		conn_die("UID SEARCH KEYWORD failed");
	logout(&c);
	printf("queue %.6f %u %u %u %u %u %zu\n", secs, claims, distinct,
	    doubles, (uint32_t)all.n - distinct, modified, all.n);
	free(all.uid);
	free(all.modseq);
}

/* ------------------------------------------------------------ idle */

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Sorts v; the q quantile (0.5, 0.99) by nearest rank. */
static double
quantile(double *v, size_t n, double q)
{
	size_t i;

	if (n == 0)
		return -1;
	qsort(v, n, sizeof(*v), cmp_double);
	i = (size_t)(q * (double)n + 0.999999);
	return v[i == 0 ? 0 : i > n ? n - 1 : i - 1];
}

/* Discard what the idler has already sent. */
static void
idle_drain(struct conn *c)
{
	size_t len;

	while (conn_line(&c->io, &len, conn_now() + 0.001) != NULL)
		;
}

/*
 * Seconds from t_ok until the idler shows a line holding what (" EXISTS",
 * " FETCH "), or -1 after MISS_SECS. A line already read counts as 0.
 */
static double
idle_wait(struct conn *c, const char *what, double t_ok)
{
	size_t len;
	char *s;

	while ((s = conn_line(&c->io, &len, t_ok + MISS_SECS)) != NULL)
		if (len > 2 && s[0] == '*' && conn_find(s, len, what) != NULL) {
			double d = conn_now() - t_ok;

			return d < 0 ? 0 : d;
		}
	return -1;
}

static void
mode_idle(uint32_t n)
{
	double *lat_a, *lat_s, t;
	size_t na = 0, ns = 0, missed = 0, len;
	struct conn idler, writer;
	char msg[512];
	uint32_t i;
	unsigned tag;

	lat_a = xmalloc(n * sizeof(*lat_a));
	lat_s = xmalloc(n * sizeof(*lat_s));
	server_start(&idler);
	greeting(&idler);
	select_inbox(&idler, "");
	server_start(&writer);
	greeting(&writer);
	select_inbox(&writer, "");
	if (wait_tagged(&idler, conn_cmd(&idler.io, "IDLE"), 1, NULL,
	    NULL) != 1)
		conn_die("IDLE refused");
	for (i = 0; i < n; i++) {
		len = tiny(msg, sizeof(msg), i + 1);
		idle_drain(&idler);
		tag = send_append(&writer, msg, len);
		must(&writer, tag, "APPEND");
		t = idle_wait(&idler, " EXISTS", conn_now());
		if (t < 0)
			missed++;
		else
			lat_a[na++] = t;
		idle_drain(&idler);
		must(&writer, conn_cmd(&writer.io, "STORE 1 %sFLAGS.SILENT "
		    "(\\Flagged)", i % 2 ? "-" : "+"), "STORE");
		t = idle_wait(&idler, " FETCH ", conn_now());
		if (t < 0)
			missed++;
		else
			lat_s[ns++] = t;
	}
	conn_send(&idler.io, "DONE\r\n", 6);
	must(&idler, idler.io.tag, "IDLE");
	logout(&idler);
	logout(&writer);
	printf("idle %.6f %.6f %.6f %.6f %zu\n", quantile(lat_a, na, 0.5),
	    quantile(lat_a, na, 0.99), quantile(lat_s, ns, 0.5),
	    quantile(lat_s, ns, 0.99), missed);
	free(lat_a);
	free(lat_s);
}

/* ------------------------------------------------------------ changed */

/* Time one command; its FETCH responses must number want. */
static double
timed_fetch(struct conn *c, const char *cmd, uint32_t want)
{
	double t0;

	c->nfetch = 0;
	t0 = conn_now();
	must(c, conn_cmd(&c->io, "%s", cmd), cmd);
	t0 = conn_now() - t0;
	if (c->nfetch != want)
		conn_die("%s: %u FETCH responses, expected %u", cmd, c->nfetch,
		    want);
	return t0;
}

/* A new session: ENABLE QRESYNC, SELECT ... QRESYNC (or plain). */
static double
timed_select(uint64_t validity, uint64_t since, int qresync)
{
	struct conn c;
	double t0;

	server_start(&c);
	greeting(&c);
	if (qresync)
		must(&c, conn_cmd(&c.io, "ENABLE QRESYNC"), "ENABLE QRESYNC");
	c.nfetch = 0;
	c.exists = UINT32_MAX;
	t0 = conn_now();
	if (qresync)
		must(&c, conn_cmd(&c.io, "SELECT INBOX (QRESYNC (%llu %llu))",
		    (unsigned long long)validity, (unsigned long long)since),
		    "SELECT QRESYNC");
	else
		must(&c, conn_cmd(&c.io, "SELECT INBOX"), "SELECT");
	t0 = conn_now() - t0;
	if (c.exists != expect)
		conn_die("SELECT: %u messages, expected %u", c.exists, expect);
	if (c.nfetch != (qresync ? CHANGED : 0))
		conn_die("SELECT QRESYNC: %u FETCH responses, expected %u",
		    c.nfetch, CHANGED);
	logout(&c);
	return t0;
}

static void
mode_changed(int reps)
{
	double full[REPS_MAX], since[REPS_MAX], qr[REPS_MAX], sel[REPS_MAX];
	char cmd[128], set[CHANGED * 12];
	size_t len = 0;
	uint64_t m;
	struct conn c;
	int i;

	if (expect < CHANGED)
		conn_die("changed needs -x messages (at least %d)", CHANGED);
	server_start(&c);
	greeting(&c);
	select_inbox(&c, " (CONDSTORE)");
	m = c.highest;
	if (m == 0)
		conn_die("SELECT (CONDSTORE) gave no HIGHESTMODSEQ");
	for (i = 0; i < CHANGED; i++)
		len += (size_t)snprintf(set + len, sizeof(set) - len, "%s%u",
		    i ? "," : "", (uint32_t)((uint64_t)i * expect / CHANGED) + 1);
	must(&c, conn_cmd(&c.io, "STORE %s +FLAGS.SILENT (\\Flagged)", set),
	    "STORE");
	/*
	 * Dovecot rescans a Maildir whose mtime is under a second or two
	 * old on every SELECT: let the change age, so both servers are
	 * timed steady (as bench/run.sh does before its warm-up).
	 */
	sleep(2);
	snprintf(cmd, sizeof(cmd), "FETCH 1:* (FLAGS) (CHANGEDSINCE %llu)",
	    (unsigned long long)m);
	for (i = 0; i < reps; i++) {
		full[i] = timed_fetch(&c, "FETCH 1:* (FLAGS)", expect);
		since[i] = timed_fetch(&c, cmd, CHANGED);
		qr[i] = c.qresync ? timed_select(c.validity, m, 1) : -1;
		sel[i] = timed_select(c.validity, m, 0);
	}
	must(&c, conn_cmd(&c.io, "STORE %s -FLAGS.SILENT (\\Flagged)", set),
	    "STORE");
	logout(&c);
	printf("changed %.6f %.6f %.6f %.6f\n", quantile(full, reps, 0.5),
	    quantile(since, reps, 0.5), quantile(qr, reps, 0.5),
	    quantile(sel, reps, 0.5));
}

/* ------------------------------------------------------------ main */

static void
usage(void)
{
	fprintf(stderr, "usage: qdrive [-c] [-n reps] [-w workers] [-x messages] "
	    "[-l log] MODE [ARGS] --\n              server [arg ...]\n"
	    "       qdrive maildir DIR N\n"
	    "modes: fill N | queue | idle N | changed\n");
	exit(100);
}

static uint32_t
number(const char *s, unsigned long max)
{
	unsigned long n;
	char *end;

	n = strtoul(s, &end, 10);
	if (*s == '\0' || *end != '\0' || n == 0 || n > max)
		usage();
	return (uint32_t)n;
}

int
main(int argc, char **argv)
{
	int opt, nargs, reps = 1, workers = 16;
	const char *mode;
	char **args;

	while ((opt = getopt(argc, argv, "cl:n:w:x:")) != -1) {
		switch (opt) {
		case 'c':
			contend = 1;
			break;
		case 'l':
			server_log = optarg;
			break;
		case 'n':
			reps = (int)number(optarg, REPS_MAX);
			break;
		case 'w':
			workers = (int)number(optarg, WORKERS_MAX);
			break;
		case 'x':
			expect = number(optarg, 100000000);
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
	if (strcmp(mode, "maildir") == 0 && argc == 3) {
		mode_maildir(args[0], number(args[1], 100000000));
		return 0;
	}
	server_argv = conn_server(args, argc - 1, &nargs);
	if (server_argv == NULL)
		usage();
	signal(SIGPIPE, SIG_IGN);
	if (strcmp(mode, "fill") == 0 && nargs == 1)
		mode_fill(number(args[0], 100000000));
	else if (strcmp(mode, "queue") == 0 && nargs == 0)
		mode_queue(workers);
	else if (strcmp(mode, "idle") == 0 && nargs == 1)
		mode_idle(number(args[0], IDLE_MAX));
	else if (strcmp(mode, "changed") == 0 && nargs == 0)
		mode_changed(reps);
	else
		usage();
	return 0;
}
