/*
 * load: many concurrent clients working one mailbox, and what each
 * command cost them.
 *
 *	load [-c clients] [-t seconds] [-m messages] [-w wait] -- server [arg ...]
 *
 * The server is started once per connection on a pair of pipes and must
 * greet with PREAUTH (imapd -d DIR, or Dovecot's imap binary). First one
 * session fills INBOX up to -m messages (100). Then -c clients (50), each
 * a process, loop for -t seconds (20): start the server (timed as
 * "greet"), SELECT INBOX, FETCH 1:* (FLAGS), STORE of \Seen on a random
 * message, APPEND (a synchronizing literal, so no extension is needed),
 * UID STORE +FLAGS (\Deleted) of the client's previous APPEND (its UID
 * from APPENDUID, RFC 4315), EXPUNGE, LOGOUT. So the mailbox stays near
 * its size, and every client appends, flags and expunges all the time.
 *
 * No answer within -w seconds (60) is a stall: the client reports it,
 * kills its server and stops. At the end one more session checks that
 * nothing was lost: UIDs strictly increasing, no UID handed to two
 * appends, every appended message that no client flagged \Deleted
 * present, every flagged one gone or still flagged.
 *
 * Output: per command "cmd NAME count median_ms p99_ms max_ms", then
 * "total COMMANDS SECONDS PER_SECOND", "maxwait MS", "stalled N",
 * "sessions N", "check ok" or "check FAILED: why". Exit 0 when every
 * client finished and the check passed, 1 if not, 111 on a set-up error.
 */
#include <sys/mman.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
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

enum { C_GREET, C_SELECT, C_FETCH, C_STORE, C_APPEND, C_DELETE,
    C_EXPUNGE, C_LOGOUT, C_NUM };
static const char *cmdname[C_NUM] = { "greet", "SELECT", "FETCH", "STORE",
    "APPEND", "UIDSTORE", "EXPUNGE", "LOGOUT" };

#define SAMPLES_MAX	(1 << 16)	/* per client */
#define UIDS_MAX	(1 << 14)	/* appends per client */
#define CLIENTS_MAX	200

struct sample {
	uint32_t	 cmd;
	float		 ms;
};

struct slot {				/* one client's results, shared */
	uint32_t	 nsamples, nuids, stalled, sessions, errors;
	uint32_t	 expissued;	/* STOREs that met another's expunge */
	struct sample	 s[SAMPLES_MAX];
	uint32_t	 uid[UIDS_MAX];
	unsigned char	 deleted[UIDS_MAX];	/* \Deleted STORE answered OK */
};

struct conn {
	pid_t		 pid;
	int		 in, out;	/* to and from the server */
	char		 buf[65536];
	size_t		 len;
	int		 waitsecs;
};

const char	  conn_prog[] = "load";

static char	**server_argv;

static double
now_ms(void)
{
	return conn_now() * 1e3;
}

static int
srv_start(struct conn *c, int waitsecs)
{
	if ((c->pid = conn_spawn(server_argv, NULL, &c->out, &c->in)) == -1)
		return -1;
	c->len = 0;
	c->waitsecs = waitsecs;
	return 0;
}

static void
srv_end(struct conn *c, int kill_it)
{
	close(c->out);
	close(c->in);
	if (kill_it)
		kill(c->pid, SIGKILL);
	waitpid(c->pid, NULL, 0);
}

/*
 * One line from the server into line (CRLF removed), within the wait.
 * Returns 0, or -1 on EOF, error or timeout (errno ETIMEDOUT).
 */
static int
srv_line(struct conn *c, char *line, size_t size)
{
	double	 end = now_ms() + c->waitsecs * 1e3;
	char	*nl;
	ssize_t	 n;
	size_t	 k;

	for (;;) {
		if ((nl = memchr(c->buf, '\n', c->len)) != NULL) {
			k = (size_t)(nl - c->buf);
			if (k > 0 && c->buf[k - 1] == '\r')
				k--;
			if (k >= size)
				k = size - 1;
			memcpy(line, c->buf, k);
			line[k] = '\0';
			k = (size_t)(nl - c->buf) + 1;
			memmove(c->buf, c->buf + k, c->len - k);
			c->len -= k;
			return 0;
		}
		if (c->len == sizeof c->buf)
			c->len = 0;	/* an overlong line: dropped */
		struct pollfd	 p = { c->in, POLLIN, 0 };
		double		 left = end - now_ms();
		if (left <= 0 || poll(&p, 1, (int)left + 1) == 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		n = read(c->in, c->buf + c->len, sizeof c->buf - c->len);
		if (n <= 0)
			return -1;
		c->len += (size_t)n;
	}
}

static int
srv_send(struct conn *c, const char *s, size_t n)
{
	ssize_t	 w;

	while (n > 0) {
		if ((w = write(c->out, s, n)) <= 0)
			return -1;
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

/*
 * The message count a client must keep: EXISTS sets it, each EXPUNGE
 * takes one away (RFC 3501 7.4.1; a SELECT may be followed by the
 * EXPUNGE of a message another client removed meanwhile).
 */
static void
count_exists(const char *what, long n, long *exists)
{
	if (strcmp(what, "EXISTS") == 0)
		*exists = n;
	else if (strcmp(what, "EXPUNGE") == 0 && *exists > 0)
		(*exists)--;
}

/*
 * Send a command (tag "t"), read to its tagged answer, which goes to
 * line. A "+" continuation sends lit. *exists_r keeps the message count.
 * Returns 0 for OK, 2 for NO [EXPUNGEISSUED] (RFC 2180 4.2.2: another
 * client expunged a message meanwhile), 1 for any other NO or BAD (told
 * on stderr, with the command), -1 for a dead or silent server.
 */
static int
srv_cmd(struct conn *c, const char *cmd, const char *lit, char *line,
    size_t size, long *exists_r)
{
	long	 n;
	char	 w[16];

	if (srv_send(c, cmd, strlen(cmd)) == -1)
		return -1;
	for (;;) {
		if (srv_line(c, line, size) == -1)
			return -1;
		if (line[0] == '+' && lit != NULL) {
			if (srv_send(c, lit, strlen(lit)) == -1)
				return -1;
			lit = NULL;
			continue;
		}
		if (exists_r != NULL && sscanf(line, "* %ld %15s", &n, w) == 2)
			count_exists(w, n, exists_r);
		if (strncmp(line, "* BYE", 5) == 0 && strstr(cmd, "LOGOUT") == NULL)
			return -1;
		if (strncmp(line, "t ", 2) != 0)
			continue;
		if (strncmp(line + 2, "OK", 2) == 0)
			return 0;
		if (strncmp(line + 2, "NO [EXPUNGEISSUED]", 18) == 0)
			return 2;
		fprintf(stderr, "load: %.*s: %s\n", (int)strcspn(cmd, "\r"),
		    cmd, line);
		return 1;
	}
}

static void
record(struct slot *sl, int cmd, double ms)
{
	if (sl->nsamples < SAMPLES_MAX) {
		sl->s[sl->nsamples].cmd = (uint32_t)cmd;
		sl->s[sl->nsamples].ms = (float)ms;
		sl->nsamples++;
	}
}

static const char *
message(int client, int i, char *buf, size_t size)
{
	snprintf(buf, size, "From: Load %d <load%d@example.org>\r\n"
	    "To: Box <box@example.org>\r\n"
	    "Subject: load %d %d\r\n"
	    "Message-ID: <load.%d.%d.%ld@example.org>\r\n\r\n"
	    "Message %d of client %d, a few lines of body so the\r\n"
	    "store has some bytes to move when it compacts.\r\n"
	    "..........................................................\r\n"
	    "..........................................................\r\n",
	    client, client, client, i, client, i, (long)getpid(), i, client);
	return buf;
}

/* A timed command of one connection, srv_cmd's answer; -1 ends the loop. */
static int
timed(struct slot *sl, struct conn *c, int which, const char *cmd,
    const char *lit, char *line, size_t size, long *exists_r)
{
	double	 t0 = now_ms();
	int	 r;

	r = srv_cmd(c, cmd, lit, line, size, exists_r);
	if (r == -1) {
		sl->stalled = errno == ETIMEDOUT;
		return -1;
	}
	record(sl, which, now_ms() - t0);
	if (r == 1)
		sl->errors++;
	if (r == 2)
		sl->expissued++;
	return r;
}

/* One connection of a client. Returns -1 on a stall or a dead server. */
static int
session(struct slot *sl, int client, int waitsecs)
{
	struct conn	 c;
	char		 line[4096], cmd[256], msg[1024], lit[1100];
	long		 exists = 0;
	unsigned	 v, uid;
	double		 t0 = now_ms();

	if (srv_start(&c, waitsecs) == -1)
		return -1;
	if (srv_line(&c, line, sizeof line) == -1) {
		sl->stalled = errno == ETIMEDOUT;
		srv_end(&c, 1);
		return -1;
	}
	record(sl, C_GREET, now_ms() - t0);
	if (timed(sl, &c, C_SELECT, "t SELECT INBOX\r\n", NULL, line,
	    sizeof line, &exists) == -1 ||
	    timed(sl, &c, C_FETCH, "t FETCH 1:* (FLAGS)\r\n", NULL, line,
	    sizeof line, &exists) == -1)
		goto dead;
	snprintf(cmd, sizeof cmd, "t STORE %ld +FLAGS (\\Seen)\r\n",
	    exists > 0 ? 1 + random() % exists : 1);
	if (timed(sl, &c, C_STORE, cmd, NULL, line, sizeof line, &exists) == -1)
		goto dead;
	message(client, (int)sl->nuids, msg, sizeof msg);
	snprintf(cmd, sizeof cmd, "t APPEND INBOX {%zu}\r\n", strlen(msg));
	snprintf(lit, sizeof lit, "%s\r\n", msg);
	switch (timed(sl, &c, C_APPEND, cmd, lit, line, sizeof line, &exists)) {
	case -1:
		goto dead;
	case 0:
		if (sscanf(line, "t OK [APPENDUID %u %u]", &v, &uid) == 2 &&
		    sl->nuids < UIDS_MAX)
			sl->uid[sl->nuids++] = uid;
		break;
	}
	if (sl->nuids >= 2 && !sl->deleted[sl->nuids - 2]) {
		snprintf(cmd, sizeof cmd, "t UID STORE %u +FLAGS (\\Deleted)\r\n",
		    sl->uid[sl->nuids - 2]);
		switch (timed(sl, &c, C_DELETE, cmd, NULL, line, sizeof line,
		    &exists)) {
		case -1:
			goto dead;
		case 0:
			sl->deleted[sl->nuids - 2] = 1;
		}
	}
	if (timed(sl, &c, C_EXPUNGE, "t EXPUNGE\r\n", NULL, line, sizeof line,
	    &exists) == -1 || timed(sl, &c, C_LOGOUT, "t LOGOUT\r\n", NULL,
	    line, sizeof line, NULL) == -1)
		goto dead;
	srv_end(&c, 0);
	sl->sessions++;
	return 0;
dead:
	srv_end(&c, 1);
	return -1;
}

static void
client(struct slot *sl, int id, int secs, int waitsecs)
{
	double	 end = now_ms() + secs * 1e3;

	srandom((unsigned)getpid());
	while (now_ms() < end)
		if (session(sl, id, waitsecs) == -1)
			_exit(sl->stalled ? 2 : 3);
	_exit(0);
}

/* The set-up session: INBOX filled up to n messages. */
static void
fill(int n)
{
	struct conn	 c;
	char		 line[4096], cmd[256], msg[1024], lit[1100];
	long		 exists = 0;
	int		 i;

	if (srv_start(&c, 60) == -1 || srv_line(&c, line, sizeof line) == -1)
		conn_die("server does not start");
	if (strstr(line, "PREAUTH") == NULL)
		conn_die("server greets without PREAUTH: %s", line);
	if (srv_cmd(&c, "t SELECT INBOX\r\n", NULL, line, sizeof line,
	    &exists) != 0)
		conn_die("SELECT INBOX: %s", line);
	for (i = (int)exists; i < n; i++) {
		message(CLIENTS_MAX, i, msg, sizeof msg);
		snprintf(cmd, sizeof cmd, "t APPEND INBOX {%zu}\r\n", strlen(msg));
		snprintf(lit, sizeof lit, "%s\r\n", msg);
		if (srv_cmd(&c, cmd, lit, line, sizeof line, NULL) != 0)
			conn_die("APPEND: %s", line);
	}
	srv_cmd(&c, "t LOGOUT\r\n", NULL, line, sizeof line, NULL);
	srv_end(&c, 0);
}

static int
cmp_float(const void *a, const void *b)
{
	float	 x = *(const float *)a, y = *(const float *)b;

	return x < y ? -1 : x > y;
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Per-command figures; returns the largest wait seen. */
static double
report(struct slot *sl, int nc, double secs)
{
	float	*v;
	size_t	 n, total = 0;
	double	 maxw = 0;
	int	 k, i;
	uint32_t j;

	if ((v = malloc(sizeof *v * SAMPLES_MAX * (size_t)nc)) == NULL)
		conn_die("out of memory");
	for (k = 0; k < C_NUM; k++) {
		n = 0;
		for (i = 0; i < nc; i++)
			for (j = 0; j < sl[i].nsamples; j++)
				if (sl[i].s[j].cmd == (uint32_t)k)
					v[n++] = sl[i].s[j].ms;
		if (n == 0)
			continue;
		qsort(v, n, sizeof *v, cmp_float);
		printf("cmd %s %zu %.2f %.2f %.2f\n", cmdname[k], n, v[n / 2],
		    v[n * 99 / 100], v[n - 1]);
		if (v[n - 1] > maxw)
			maxw = v[n - 1];
		if (k != C_GREET)
			total += n;
	}
	free(v);
	printf("total %zu %.1f %.1f\n", total, secs, total / secs);
	printf("maxwait %.1f\n", maxw);
	return maxw;
}

/* The UIDs now in INBOX, in order, and whether each is \Deleted. */
static size_t
final_uids(uint32_t **uids_r, unsigned char **del_r)
{
	struct conn	 c;
	char		 line[4096];
	uint32_t	*u = NULL;
	unsigned char	*d = NULL;
	size_t		 n = 0, cap = 0;
	unsigned	 seq, uid;

	if (srv_start(&c, 60) == -1 || srv_line(&c, line, sizeof line) == -1)
		conn_die("server does not start for the check");
	if (srv_cmd(&c, "t SELECT INBOX\r\n", NULL, line, sizeof line,
	    NULL) != 0)
		conn_die("check: SELECT INBOX: %s", line);
	if (srv_send(&c, "t UID FETCH 1:* (FLAGS)\r\n", 25) == -1)
		conn_die("check: server gone");
	while (srv_line(&c, line, sizeof line) == 0 &&
	    strncmp(line, "t ", 2) != 0) {
		char	*p = strstr(line, "UID ");
		if (sscanf(line, "* %u FETCH", &seq) != 1 || p == NULL ||
		    sscanf(p, "UID %u", &uid) != 1)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 1024;
			if ((u = realloc(u, cap * sizeof *u)) == NULL ||
			    (d = realloc(d, cap)) == NULL)
				conn_die("out of memory");
		}
		u[n] = uid;
		d[n++] = strstr(line, "\\Deleted") != NULL;
	}
	if (strncmp(line, "t OK", 4) != 0)
		conn_die("check: UID FETCH: %s", line);
	srv_cmd(&c, "t LOGOUT\r\n", NULL, line, sizeof line, NULL);
	srv_end(&c, 0);
	*uids_r = u;
	*del_r = d;
	return n;
}

static int
find_uid(const uint32_t *u, size_t n, uint32_t uid)
{
	size_t	 lo = 0, hi = n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (u[mid] == uid)
			return (int)mid;
		if (u[mid] < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* Nothing lost, nothing twice. Prints the verdict; returns 0 if good. */
static int
check(struct slot *sl, int nc)
{
	uint32_t	*u, *all;
	unsigned char	*d;
	size_t		 n, i, na = 0;
	uint32_t	 j;
	int		 k, at;

	n = final_uids(&u, &d);
	for (i = 1; i < n; i++)
		if (u[i] <= u[i - 1]) {
			printf("check FAILED: UID %u after %u\n", u[i], u[i - 1]);
			return -1;
		}
	if ((all = malloc(sizeof *all * UIDS_MAX * (size_t)nc)) == NULL)
		conn_die("out of memory");
	for (k = 0; k < nc; k++)
		for (j = 0; j < sl[k].nuids; j++) {
			all[na++] = sl[k].uid[j];
			at = find_uid(u, n, sl[k].uid[j]);
			if (!sl[k].deleted[j] && at == -1) {
				printf("check FAILED: UID %u (client %d) lost\n",
				    sl[k].uid[j], k);
				return -1;
			}
			if (sl[k].deleted[j] && at != -1 && !d[at]) {
				printf("check FAILED: UID %u lost \\Deleted\n",
				    sl[k].uid[j]);
				return -1;
			}
		}
	qsort(all, na, sizeof *all, cmp_u32);
	for (i = 1; i < na; i++)
		if (all[i] == all[i - 1]) {
			printf("check FAILED: UID %u given to two APPENDs\n",
			    all[i]);
			return -1;
		}
	printf("check ok: %zu appends, %zu messages at the end\n", na, n);
	free(all);
	free(u);
	free(d);
	return 0;
}

static void __attribute__((noreturn))
usage(void)
{
	conn_die("usage: load [-c n] [-t s] [-m n] [-w s] -- server ...");
}

int
main(int argc, char **argv)
{
	struct slot	*sl;
	int		 ch, nc = 50, secs = 20, msgs = 100, waitsecs = 60;
	int		 i, st, bad = 0, stalled = 0;
	unsigned	 sessions = 0, errors = 0, expissued = 0;
	double		 t0;

	while ((ch = getopt(argc, argv, "c:t:m:w:")) != -1) {
		switch (ch) {
		case 'c': nc = atoi(optarg); break;
		case 't': secs = atoi(optarg); break;
		case 'm': msgs = atoi(optarg); break;
		case 'w': waitsecs = atoi(optarg); break;
		default: usage();
		}
	}
	if (optind >= argc || nc < 1 || nc > CLIENTS_MAX || secs < 1 ||
	    waitsecs < 1)
		usage();
	server_argv = argv + optind;
	signal(SIGPIPE, SIG_IGN);
	fill(msgs);
	sl = mmap(NULL, sizeof *sl * (size_t)nc, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sl == MAP_FAILED)
		conn_die("mmap: %s", strerror(errno));
	t0 = now_ms();
	for (i = 0; i < nc; i++) {
		pid_t pid = fork();
		if (pid == -1)
			conn_die("fork: %s", strerror(errno));
		if (pid == 0)
			client(&sl[i], i, secs, waitsecs);
	}
	while (wait(&st) > 0)
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			bad++;
	report(sl, nc, (now_ms() - t0) / 1e3);
	for (i = 0; i < nc; i++) {
		stalled += sl[i].stalled != 0;
		sessions += sl[i].sessions;
		errors += sl[i].errors;
		expissued += sl[i].expissued;
	}
	printf("stalled %d\nfailed %d\nsessions %u\nno %u\n"
	    "expungeissued %u\n", stalled, bad, sessions, errors, expissued);
	if (check(sl, nc) == -1)
		bad++;
	return bad ? 1 : 0;
}
