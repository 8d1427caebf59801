/*
 * storetest: checks of the store (store.c and the files beside it) and
 * modseq.c, several processes at once.
 * Prints "ok - ..." / "not ok - ..." and a summary; exits 1 on a failure.
 */

#include <sys/types.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "imapd.h"
#include "modseq.h"
#include "parse.h"
#include "store.h"
#include "storeint.h"

static int	 npass, nfail;
static char	 dir[PATH_MAX];

static void
ok(int cond, const char *fmt, ...)
{
	va_list	 ap;

	printf("%s - ", cond ? "ok" : "not ok");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	if (cond)
		npass++;
	else
		nfail++;
}

static void
die(const char *what)
{
	fprintf(stderr, "storetest: %s: %s\n", what, strerror(errno));
	exit(1);
}

static char *
path(const char *fmt, ...)
{
	static char	 buf[PATH_MAX * 2];
	char		 tail[PATH_MAX];
	va_list		 ap;

	va_start(ap, fmt);
	vsnprintf(tail, sizeof tail, fmt, ap);
	va_end(ap);
	snprintf(buf, sizeof buf, "%s/%s", dir, tail);
	return buf;
}

static int
exists(const char *p)
{
	struct stat	 sb;

	return lstat(p, &sb) == 0;
}

static void
rmrf(const char *p)
{
	DIR		*d;
	struct dirent	*de;
	struct stat	 sb;
	char		 sub[PATH_MAX];

	if (lstat(p, &sb) == -1)
		return;
	if (S_ISDIR(sb.st_mode) && (d = opendir(p)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (strcmp(de->d_name, ".") == 0 ||
			    strcmp(de->d_name, "..") == 0)
				continue;
			snprintf(sub, sizeof sub, "%s/%s", p, de->d_name);
			rmrf(sub);
		}
		closedir(d);
		rmdir(p);
	} else
		unlink(p);
}

static int
has_name(char **v, size_t n, const char *name)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (strcmp(v[i], name) == 0)
			return 1;
	return 0;
}

static int
append_text(struct store *st, const char *box, const char *text,
    uint32_t *uid_r)
{
	uint32_t	 uv, uid;

	if (store_append(st, box, text, strlen(text), 0, NULL, 0, time(NULL),
	    &uv, &uid) == -1)
		return -1;
	if (uid_r != NULL)
		*uid_r = uid;
	return 0;
}

/* The message with UID uid, or 0. */
static uint32_t
seq_of_uid(struct mailbox *mb, uint32_t uid)
{
	uint32_t	 seq = store_seq_at_uid(mb, uid);

	return seq >= 1 && seq <= store_exists(mb) &&
	    store_rec(mb, seq)->uid == uid ? seq : 0;
}

static int
data_is(struct mailbox *mb, uint32_t seq, const char *p, size_t len)
{
	const char	*d;
	size_t		 dl;

	d = store_data(mb, seq, SIZE_MAX, &dl);
	return d != NULL && dl == len && memcmp(d, p, len) == 0;
}

/* The index header's fields past created_modseq (imapd-store(5)). */
struct hdrtail {
	uint32_t	 version, ntomb, seen_low, uidmax, committed;
};

static int
hdr_tail(const char *box, struct hdrtail *t)
{
	unsigned char	 h[128];
	int		 fd, r = -1;

	if ((fd = open(path("box/%s/index", box), O_RDONLY)) == -1)
		return -1;
	if (pread(fd, h, sizeof h, 0) == (ssize_t)sizeof h &&
	    memcmp(h, "IMAPDIX1", 8) == 0) {
		memcpy(&t->version, h + 8, 4);
		memcpy(&t->ntomb, h + 48, 4);
		memcpy(&t->seen_low, h + 52, 4);
		memcpy(&t->uidmax, h + 56, 4);
		memcpy(&t->committed, h + 60, 4);
		r = 0;
	}
	close(fd);
	return r;
}

/* --------------------------------------------------------------- errors */

/*
 * A failure's code is kept by the store (store_errcode), not left in
 * errno, which the calls and the system calls after it may change.
 */
static void
test_errcode(struct store *st)
{
	struct mailbox	*mb;
	struct mbstatus	 ms;
	char		**v;
	size_t		 n;

	ok(store_delete(st, "INBOX") == -1 && store_errcode(st) == EPERM &&
	    strstr(store_error(st), "INBOX cannot be deleted") != NULL,
	    "delete INBOX: EPERM, with its text");
	(void)close(-1);	/* errno is EBADF now */
	ok(store_list(st, &v, &n) == 0 && store_errcode(st) == EPERM,
	    "the code survives a call that changes errno");
	store_names_free(v, n);
	ok((mb = store_select(st, "no such box", 0)) == NULL &&
	    store_errcode(st) == ENOENT, "select missing: ENOENT");
	errno = 0;
	ok(store_status(st, "INBOX", &ms) == 0 && store_errcode(st) == ENOENT,
	    "and a later success leaves it");
	ok(store_create(st, "INBOX") == -1 && store_errcode(st) == EEXIST,
	    "create INBOX: EEXIST");
	ok(store_create(st, "") == -1 && store_errcode(st) == EINVAL,
	    "create '': EINVAL");
	if ((mb = store_select(st, "INBOX", 1)) == NULL) {
		ok(0, "examine INBOX");
		return;
	}
	ok(store_flags(mb, NULL, 0, STORE_ADD, FL_SEEN, NULL) == -1 &&
	    store_errcode(st) == EPERM, "STORE on a read-only view: EPERM");
	ok(store_keyword(mb, "nokw", 0) == -1 && store_errcode(st) == ENOENT,
	    "unknown keyword: ENOENT");
	ok(store_data(mb, store_exists(mb) + 1, SIZE_MAX, &n) == NULL &&
	    store_errcode(st) == EINVAL, "data of no message: EINVAL");
	store_unselect(mb);
}

/* ---------------------------------------------------------------- names */

static void
test_names(struct store *st)
{
	char		**v;
	size_t		 n;
	struct mbstatus	 ms;
	uint32_t	 uv1, use;
	size_t		 i;
	static const char *const special[] = {
		"Archive", "Drafts", "Junk", "Sent", "Trash"
	};
	static const uint32_t uses[] = {
		SU_ARCHIVE, SU_DRAFTS, SU_JUNK, SU_SENT, SU_TRASH
	};

	/* A new store has a mailbox for each special use, then none. */
	for (i = 0; i < 5; i++)
		ok(store_special_use(st, special[i], &use) == 0 &&
		    use == uses[i] && store_delete(st, special[i]) == 0,
		    "a new store's special-use mailbox %s", special[i]);
	ok(store_create_use(st, "su", SU_SENT | SU_DRAFTS) == 0 &&
	    store_rename(st, "su", "su2") == 0 &&
	    store_status(st, "su2", &ms) == 0 &&
	    ms.specialuse == (SU_SENT | SU_DRAFTS) &&
	    store_special_use(st, "su2", &use) == 0 &&
	    use == (SU_SENT | SU_DRAFTS) && store_delete(st, "su2") == 0,
	    "special uses go with RENAME");
	ok(store_special_use(st, "INBOX", &use) == 0 && use == 0,
	    "INBOX has no special use");

	ok(store_create(st, "a") == 0, "create a");
	ok(store_create(st, "a/b") == 0, "create a/b");
	ok(store_create(st, "x y.z") == 0, "create a name with space and dot");
	ok(store_create(st, "a") == -1 && errno == EEXIST, "create a: EEXIST");
	ok(store_create(st, "") == -1 && errno == EINVAL, "create '': EINVAL");
	ok(store_list(st, &v, &n) == 0 && n == 4 &&
	    strcmp(v[0], "INBOX") == 0 && strcmp(v[1], "a") == 0 &&
	    strcmp(v[2], "a/b") == 0 && strcmp(v[3], "x y.z") == 0,
	    "list: INBOX a a/b 'x y.z'");
	store_names_free(v, n);

	ok(store_rename(st, "a", "c") == 0, "rename a c");
	ok(store_list(st, &v, &n) == 0 && n == 4 && has_name(v, n, "c") &&
	    has_name(v, n, "c/b") && !has_name(v, n, "a") &&
	    !has_name(v, n, "a/b"), "rename moves the inferiors too");
	store_names_free(v, n);
	ok(store_rename(st, "nope", "z") == -1 && errno == ENOENT,
	    "rename missing: ENOENT");
	ok(store_rename(st, "c", "x y.z") == -1 && errno == EEXIST,
	    "rename onto existing: EEXIST");
	ok(store_delete(st, "c") == 0, "delete c");
	ok(store_delete(st, "c") == -1 && errno == ENOENT,
	    "delete again: ENOENT");
	ok(store_status(st, "c", &ms) == -1 && errno == ENOENT,
	    "status of deleted: ENOENT");
	ok(store_list(st, &v, &n) == 0 && n == 3 && has_name(v, n, "c/b"),
	    "delete leaves c/b");
	store_names_free(v, n);

	/* Re-created under an old name: a new UIDVALIDITY. */
	ok(store_create(st, "re") == 0 && store_status(st, "re", &ms) == 0,
	    "create re");
	uv1 = ms.uidvalidity;
	ok(store_delete(st, "re") == 0 && store_create(st, "re") == 0 &&
	    store_status(st, "re", &ms) == 0 && ms.uidvalidity > uv1,
	    "re-created mailbox gets a new UIDVALIDITY");

	/* RENAME INBOX: messages move, a new empty INBOX stays. */
	ok(append_text(st, "INBOX", "Subject: in\r\n\r\nbody\r\n", NULL) == 0,
	    "append to INBOX");
	ok(store_status(st, "INBOX", &ms) == 0, "status INBOX");
	uv1 = ms.uidvalidity;
	ok(store_rename(st, "INBOX", "old") == 0, "rename INBOX old");
	ok(store_status(st, "old", &ms) == 0 && ms.messages == 1,
	    "old has the message");
	ok(store_status(st, "INBOX", &ms) == 0 && ms.messages == 0 &&
	    ms.uidvalidity != uv1 && ms.uidnext == 1,
	    "INBOX is new and empty");
	ok(store_delete(st, "INBOX") == -1, "INBOX cannot be deleted");

	ok(store_subscribe(st, "old", 1) == 0 &&
	    store_subscribe(st, "c/b", 1) == 0 &&
	    store_subscribe(st, "old", 1) == 0, "subscribe");
	ok(store_subscriptions(st, &v, &n) == 0 && n == 2 &&
	    strcmp(v[0], "c/b") == 0 && strcmp(v[1], "old") == 0,
	    "subscriptions listed once each, sorted");
	store_names_free(v, n);
	ok(store_subscribe(st, "old", 0) == 0 &&
	    store_subscriptions(st, &v, &n) == 0 && n == 1,
	    "unsubscribe");
	store_names_free(v, n);
}

static void
test_escape(struct store *st)
{
	/* A name unlikely to exist beside the test directory already. */
	static const char *bad[] = { "../esc-probe", "..", ".",
	    "a/../../esc-probe", "/esc-probe", "../../etc", ".hidden",
	    "esc-probe/..", "%2E%2E" };
	DIR		*d;
	struct dirent	*de;
	size_t		 i;
	int		 clean = 1;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		store_create(st, bad[i]);
	ok(!exists(path("esc-probe")) && !exists(path("../esc-probe")) &&
	    !exists(path("etc")), "names with .. create nothing outside box");
	if ((d = opendir(path("box"))) == NULL)
		die("opendir box");
	while ((de = readdir(d)) != NULL)
		if (strchr(de->d_name, '/') != NULL ||
		    (de->d_name[0] == '.' && strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0))
			clean = 0;
	closedir(d);
	ok(clean, "no dot entries in box after hostile names");
	if ((d = opendir(dir)) == NULL)
		die("opendir");
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0 &&
		    strcmp(de->d_name, "box") != 0 &&
		    strcmp(de->d_name, "counter") != 0 &&
		    strcmp(de->d_name, "utf8names") != 0 &&
		    strcmp(de->d_name, "subscriptions") != 0)
			clean = 0;
	closedir(d);
	ok(clean, "store directory holds only box, counter, utf8names, "
	    "subscriptions");
	/* A symlink planted as a mailbox is not followed. */
	if (symlink("/tmp", path("box/link")) == -1)
		die("symlink");
	ok(store_select(st, "link", 1) == NULL, "symlinked mailbox refused");
	unlink(path("box/link"));
}

/* ---------------------------------------------------------- read back */

static void
test_readback(struct store *st)
{
	struct mailbox	*mb;
	char		 big[70000];
	char		*kws[] = { "$Forwarded", "Work" };
	uint32_t	 uv, uid1, uid2, uid3;
	size_t		 i;

	for (i = 0; i < sizeof big; i++)
		big[i] = (char)(i * 7);		/* NULs and 8-bit bytes */
	ok(store_create(st, "rb") == 0, "create rb");
	ok(store_append(st, "rb", "one\r\n", 5, FL_SEEN, NULL, 0, 1000, &uv,
	    &uid1) == 0 && uid1 == 1, "append 1 -> UID 1");
	ok(store_append(st, "rb", big, sizeof big, FL_FLAGGED | FL_EXPUNGED,
	    kws, 2, 2000, &uv, &uid2) == 0 && uid2 == 2, "append 2 -> UID 2");
	ok(store_append(st, "rb", "", 0, 0, NULL, 0, 3000, &uv, &uid3) == 0 &&
	    uid3 == 3, "append empty -> UID 3");
	ok(store_append(st, "nobox", "x", 1, 0, NULL, 0, 0, &uv, &uid1) == -1 &&
	    errno == ENOENT, "append to missing mailbox: ENOENT");
	mb = store_select(st, "rb", 0);
	ok(mb != NULL, "select rb");
	if (mb == NULL)
		return;
	ok(store_exists(mb) == 3 && store_uidnext(mb) == 4 &&
	    store_uidvalidity(mb) == uv, "exists 3, uidnext 4");
	ok(data_is(mb, 1, "one\r\n", 5), "message 1 bytes");
	ok(data_is(mb, 2, big, sizeof big), "message 2 bytes (70000, binary)");
	ok(data_is(mb, 3, "", 0), "message 3 empty");
	ok(store_rec(mb, 1)->flags == FL_SEEN &&
	    store_rec(mb, 2)->flags == FL_FLAGGED &&
	    store_rec(mb, 2)->internaldate == 2000,
	    "flags and internal date kept, FL_EXPUNGED not accepted");
	ok(store_nkeywords(mb) == 2 &&
	    store_rec(mb, 2)->keywords == 3 &&
	    strcmp(store_keyword_name(mb, 1), "Work") == 0,
	    "keywords mapped by name");
	ok(store_keyword(mb, "work", 0) == 1, "keyword lookup ignores case");
	ok(seq_of_uid(mb, 2) == 2 && seq_of_uid(mb, 9) == 0,
	    "seq of uid");
	ok(store_recent_count(mb) == 3 && store_is_recent(mb, 1),
	    "first select claims \\Recent");
	ok(store_highestmodseq(mb) >= store_rec(mb, 3)->modseq &&
	    store_rec(mb, 1)->modseq < store_rec(mb, 2)->modseq,
	    "modseqs grow, highestmodseq covers them");
	store_unselect(mb);
	mb = store_select(st, "rb", 0);
	ok(mb != NULL && store_recent_count(mb) == 0,
	    "second select: no \\Recent left");
	if (mb != NULL)
		store_unselect(mb);
}

/* ------------------------------------------------- concurrent appends */

static void
test_parallel(void)
{
	struct store	*st;
	struct mailbox	*mb;
	pid_t		 pid[8];
	int		 i, j, status, good = 1;
	uint32_t	 seq;
	char		 msg[128];

	if ((st = store_open(dir)) == NULL)
		die("store_open");
	ok(store_create(st, "par") == 0, "create par");
	store_close(st);
	fflush(stdout);
	for (i = 0; i < 8; i++) {
		if ((pid[i] = fork()) == -1)
			die("fork");
		if (pid[i] == 0) {
			struct store *cs = store_open(dir);

			if (cs == NULL)
				_exit(2);
			for (j = 0; j < 200; j++) {
				snprintf(msg, sizeof msg,
				    "From: %d\r\n\r\nmessage %d\r\n", i, j);
				if (append_text(cs, "par", msg, NULL) == -1) {
					fprintf(stderr, "child %d: %s\n", i,
					    store_error(cs));
					_exit(1);
				}
			}
			store_close(cs);
			_exit(0);
		}
	}
	for (i = 0; i < 8; i++)
		if (waitpid(pid[i], &status, 0) == -1 || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0)
			good = 0;
	ok(good, "8 processes appended 200 messages each");
	if ((st = store_open(dir)) == NULL)
		die("store_open");
	mb = store_select(st, "par", 1);
	ok(mb != NULL && store_exists(mb) == 1600, "1600 messages");
	if (mb != NULL) {
		for (seq = 2; seq <= store_exists(mb); seq++)
			if (store_rec(mb, seq)->uid <=
			    store_rec(mb, seq - 1)->uid ||
			    store_rec(mb, seq)->modseq <=
			    store_rec(mb, seq - 1)->modseq)
				good = 0;
		ok(good && store_rec(mb, 1600)->uid == 1600,
		    "1600 distinct UIDs, strictly increasing modseqs");
		store_unselect(mb);
	}
	store_close(st);
}

/* ------------------------------------------------------ two sessions */

/*
 * A child process that has a mailbox selected and runs one-letter
 * commands from a pipe, answering with a line of numbers.
 */
struct peer {
	pid_t	 pid;
	FILE	*to, *from;
};

static void
peer_serve(const char *box, int in, int out)
{
	struct store	*st;
	struct mailbox	*mb;
	struct sync	 s;
	FILE		*fi, *fo;
	uint32_t	 seqs[2], *ex, uv, uid;
	size_t		 nex;
	int		 c;

	fi = fdopen(in, "r");
	fo = fdopen(out, "w");
	if (fi == NULL || fo == NULL || (st = store_open(dir)) == NULL ||
	    (mb = store_select(st, box, 0)) == NULL)
		_exit(2);
	fprintf(fo, "%u\n", store_exists(mb));
	fflush(fo);
	while ((c = getc(fi)) != EOF) {
		long	 a = 0, b = 0;

		switch (c) {
		case 'a':	/* append */
			a = append_text(st, box, "Subject: peer\r\n\r\nhi\r\n",
			    &uid);
			b = uid;
			break;
		case 'f':	/* sync, \Seen on 1 */
			store_sync(mb, 1, &s);
			store_sync_free(&s);
			seqs[0] = 1;
			a = store_flags(mb, seqs, 1, STORE_ADD, FL_SEEN, NULL);
			break;
		case 'd':	/* sync, delete 2, expunge */
		case 'm':	/* sync, delete 1 and 3, expunge */
			store_sync(mb, 1, &s);
			store_sync_free(&s);
			seqs[0] = c == 'd' ? 2 : 1;
			seqs[1] = 3;
			a = store_flags(mb, seqs, c == 'd' ? 1 : 2, STORE_ADD,
			    FL_DELETED, NULL);
			if (store_expunge(mb, NULL, &ex, &nex, NULL) == -1)
				a = -1;
			b = (long)nex;
			free(ex);
			break;
		case 'k':	/* new keyword */
			a = store_keyword(mb, "$Label1", 1);
			break;
		case 's':	/* sync: changed count, recent count */
			a = store_sync(mb, 1, &s);
			if (a == 0) {
				a = (long)s.nchanged;
				b = s.recent;
				if (s.deleted)
					b = -1;
			}
			store_sync_free(&s);
			break;
		case 'c':	/* copy 1 to INBOX */
			seqs[0] = 1;
			a = store_copy(mb, seqs, 1, "INBOX", &uv, &uid);
			b = uid;
			break;
		case 'q':
			store_unselect(mb);
			store_close(st);
			_exit(0);
		default:
			continue;
		}
		fprintf(fo, "%ld %ld\n", a, b);
		fflush(fo);
	}
	_exit(0);
}

static int
peer_start(struct peer *p, const char *box)
{
	int	 a[2], b[2];
	unsigned n;

	if (pipe(a) == -1 || pipe(b) == -1)
		die("pipe");
	fflush(stdout);
	if ((p->pid = fork()) == -1)
		die("fork");
	if (p->pid == 0) {
		close(a[1]);
		close(b[0]);
		peer_serve(box, a[0], b[1]);
	}
	close(a[0]);
	close(b[1]);
	p->to = fdopen(a[1], "w");
	p->from = fdopen(b[0], "r");
	if (p->to == NULL || p->from == NULL)
		die("fdopen");
	if (fscanf(p->from, "%u", &n) != 1)
		return -1;
	return (int)n;
}

static int
peer_cmd(struct peer *p, int c, long *b_r)
{
	long	 a, b;

	fputc(c, p->to);
	fflush(p->to);
	if (fscanf(p->from, "%ld %ld", &a, &b) != 2)
		return -99;
	if (b_r != NULL)
		*b_r = b;
	return (int)a;
}

static void
peer_stop(struct peer *p)
{
	int	 status;

	fputc('q', p->to);
	fclose(p->to);
	fclose(p->from);
	waitpid(p->pid, &status, 0);
}

static void
test_two_views(struct store *st)
{
	struct mailbox	*mb;
	struct peer	 p;
	struct sync	 s;
	uint32_t	 seq, one, *seqs;
	size_t		 len, ns;
	long		 b;
	int		 i;

	ok(store_create(st, "two") == 0, "create two");
	for (i = 0; i < 3; i++)
		append_text(st, "two", "Subject: t\r\n\r\nthree\r\n", NULL);
	mb = store_select(st, "two", 0);
	ok(mb != NULL && store_exists(mb) == 3 && store_recent_count(mb) == 3,
	    "view A: 3 messages, all recent");
	if (mb == NULL)
		return;
	ok(peer_start(&p, "two") == 3, "view B (another process): 3 messages");

	ok(store_sync(mb, 1, &s) == 0 && !s.exists_changed &&
	    s.nexpunged == 0 && s.nchanged == 0, "A: quiet sync");
	store_sync_free(&s);

	ok(peer_cmd(&p, 'a', &b) == 0 && b == 4, "B appends UID 4");
	ok(store_sync(mb, 1, &s) == 0 && s.exists == 4 && s.exists_changed &&
	    s.recent == 4, "A sees EXISTS 4 and claims it \\Recent");
	store_sync_free(&s);

	ok(peer_cmd(&p, 'f', NULL) == 0, "B sets \\Seen on 1");
	ok(store_sync(mb, 1, &s) == 0 && s.nchanged == 1 &&
	    s.changed[0] == 1 && (store_rec(mb, 1)->flags & FL_SEEN) &&
	    !s.exists_changed, "A sees the flag change of 1");
	store_sync_free(&s);

	seq = 4;
	ok(store_flags(mb, &seq, 1, STORE_ADD, FL_FLAGGED, NULL) == 0,
	    "A flags 4");
	ok(store_sync(mb, 1, &s) == 0 && s.nchanged == 0,
	    "A is not told of its own change");
	store_sync_free(&s);
	ok(peer_cmd(&p, 's', &b) == 1 && b == 0,
	    "B sees A's change, and no \\Recent (A claimed it)");

	ok(peer_cmd(&p, 'd', &b) == 0 && b == 1, "B expunges 2");
	ok(store_sync(mb, 0, &s) == 0 && s.nexpunged == 0 && s.exists == 4,
	    "A, expunges not allowed: nothing reported");
	store_sync_free(&s);
	ok(data_is(mb, 2, "Subject: t\r\n\r\nthree\r\n", 21) &&
	    (store_rec(mb, 2)->flags & FL_EXPUNGED),
	    "A can still read the expunged message (RFC 2180 4.1.1)");
	ok(store_sync(mb, 0, &s) == 0 && s.nexpunged == 0,
	    "A, still not allowed: the expunge stays pending");
	store_sync_free(&s);
	ok(store_sync(mb, 1, &s) == 0 && s.nexpunged == 1 &&
	    s.expunged[0] == 2 && s.exists == 3 && !s.exists_changed,
	    "A, allowed: EXPUNGE 2");
	store_sync_free(&s);

	ok(peer_cmd(&p, 'm', &b) == 0 && b == 2, "B expunges 1 and 3");
	ok(store_sync(mb, 1, &s) == 0 && s.nexpunged == 2 &&
	    s.expunged[0] == 3 && s.expunged[1] == 1 && s.exists == 1 &&
	    store_rec(mb, 1)->uid == 3, "A: EXPUNGE 3 then 1 (descending)");
	store_sync_free(&s);

	ok(peer_cmd(&p, 'k', &b) == 0, "B creates keyword $Label1");
	ok(store_sync(mb, 1, &s) == 0 && s.keywords_changed &&
	    store_nkeywords(mb) == 1, "A sees the new keyword");
	store_sync_free(&s);

	ok(peer_cmd(&p, 'c', &b) == 0 && b >= 1, "B copies to INBOX");
	ok(store_delete(st, "two") == 0, "A deletes two");
	ok(peer_cmd(&p, 's', &b) == 0 && b == -1,
	    "B's sync reports the mailbox deleted");
	ok(store_sync(mb, 1, &s) == 0 && s.deleted, "A sees it deleted too");
	store_sync_free(&s);
	/* RFC 2180 3.2 as imapd(8) chooses it: told once, readable, no writes. */
	ok(store_sync(mb, 1, &s) == 0 && !s.deleted && store_deleted(mb) &&
	    !store_changed(mb), "A: the deletion is told once");
	store_sync_free(&s);
	ok(store_exists(mb) == 1 && store_data(mb, 1, SIZE_MAX, &len) != NULL &&
	    len > 0, "A still reads the deleted mailbox's message");
	one = 1;
	ok(store_flags(mb, &one, 1, STORE_ADD, FL_FLAGGED, NULL) == -1 &&
	    store_errcode(st) == EIDRM, "STORE on the deleted mailbox: EIDRM");
	ok(store_expunge(mb, NULL, &seqs, &ns, NULL) == -1 &&
	    store_errcode(st) == EIDRM, "EXPUNGE on it: EIDRM");
	peer_stop(&p);
	store_unselect(mb);
	ok(store_select(st, "two", 0) == NULL && errno == ENOENT,
	    "select deleted: ENOENT");
}

/* ---------------------------------------------------------- SIGKILL */

static void
test_kill(void)
{
	struct store	*st;
	struct mailbox	*mb;
	uint32_t	 uids[100000], uid;
	size_t		 n = 0;
	ssize_t		 r;
	pid_t		 pid;
	int		 fds[2], status, i, missing = 0;
	struct timespec	 nap = { 0, 5000000 };

	if ((st = store_open(dir)) == NULL)
		die("store_open");
	store_create(st, "kill");
	for (i = 0; i < 3; i++) {
		if (pipe(fds) == -1)
			die("pipe");
		fflush(stdout);
		if ((pid = fork()) == -1)
			die("fork");
		if (pid == 0) {
			struct store *cs = store_open(dir);

			close(fds[0]);
			if (cs == NULL)
				_exit(2);
			for (;;) {
				if (append_text(cs, "kill", "Subject: k\r\n\r\n"
				    "kill me\r\n", &uid) == -1)
					_exit(1);
				if (write(fds[1], &uid, sizeof uid) !=
				    sizeof uid)
					_exit(1);
			}
		}
		close(fds[1]);
		nanosleep(&nap, NULL);
		nap.tv_nsec += 7000000;
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		while (n < sizeof uids / sizeof uids[0] &&
		    (r = read(fds[0], &uids[n], sizeof uid)) == sizeof uid)
			n++;
		close(fds[0]);
	}
	mb = store_select(st, "kill", 0);
	ok(mb != NULL, "store opens after SIGKILLed appenders (%zu UIDs)", n);
	if (mb != NULL) {
		for (i = 0; (size_t)i < n; i++)
			if (seq_of_uid(mb, uids[i]) == 0)
				missing++;
		ok(missing == 0, "every UID reported by a killed child is there");
		store_unselect(mb);
	}
	ok(append_text(st, "kill", "after\r\n", &uid) == 0 &&
	    (n == 0 || uid > uids[n - 1]), "append after the kill");
	store_close(st);
}

/* --------------------------------------------------------- torn tail */

/*
 * Set a 32-bit field of an index header (offset: imapd-store(5)) and
 * reseal it (FNV-1a of bytes 0-123), as a crash could have left it.
 */
static void
hdr_set(const char *box, size_t off, uint32_t v)
{
	unsigned char	 h[128];
	uint32_t	 sum = 2166136261U;
	size_t		 i;
	int		 fd;

	if ((fd = open(path("box/%s/index", box), O_RDWR)) == -1 ||
	    pread(fd, h, sizeof h, 0) != (ssize_t)sizeof h)
		die("read header");
	memcpy(h + off, &v, 4);
	for (i = 0; i < 124; i++) {
		sum ^= h[i];
		sum *= 16777619U;
	}
	memcpy(h + 124, &sum, 4);
	if (pwrite(fd, h, sizeof h, 0) != (ssize_t)sizeof h)
		die("write header");
	close(fd);
}

/*
 * A power cut in the middle of a long, unsynced write can leave a torn
 * record before good ones (the disk wrote a later page first): records
 * past the committed count are kept only up to the first bad one.
 */
static void
test_torn_middle(struct store *st)
{
	struct mailbox	*mb;
	struct stat	 sb;
	unsigned char	 junk[64];
	uint32_t	 uid;
	int		 fd, i;

	store_create(st, "tornmid");
	for (i = 0; i < 40; i++)
		append_text(st, "tornmid", "m\r\n", NULL);
	/* As if records 10-39 were one write not yet synced, 25 torn. */
	hdr_set("tornmid", 60, 10);	/* committed */
	memset(junk, 0, sizeof junk);
	if ((fd = open(path("box/tornmid/index"), O_WRONLY)) == -1 ||
	    pwrite(fd, junk, sizeof junk, 128 + 25 * 64) !=
	    (ssize_t)sizeof junk)
		die("tear a record");
	close(fd);
	mb = store_select(st, "tornmid", 1);
	ok(mb != NULL && store_exists(mb) == 25 &&
	    store_rec(mb, 25)->uid == 25 && seq_of_uid(mb, 20) == 20,
	    "records after a torn one are not taken in");
	if (mb != NULL)
		store_unselect(mb);
	ok(append_text(st, "tornmid", "n\r\n", &uid) == 0 && uid == 26,
	    "the next append follows the last whole record");
	ok(stat(path("box/tornmid/index"), &sb) == 0 &&
	    sb.st_size == 128 + 26 * 64, "the torn part was cut off");
}

/*
 * A DELETE that died after marking the index deleted and before its
 * rename leaves a directory: DELETE and CREATE of the name finish it.
 */
static void
test_half_deleted(struct store *st)
{
	struct mailbox	*mb;

	store_create(st, "wedge1");
	store_create(st, "wedge2");
	append_text(st, "wedge2", "old\r\n", NULL);
	hdr_set("wedge1", 12, 1);	/* hflags: deleted */
	hdr_set("wedge2", 12, 1);
	ok(store_delete(st, "wedge1") == 0 && !exists(path("box/wedge1")),
	    "DELETE finishes a half-deleted mailbox");
	ok(store_create(st, "wedge2") == 0, "CREATE over a half-deleted one");
	mb = store_select(st, "wedge2", 1);
	ok(mb != NULL && store_exists(mb) == 0, "and it is new and empty");
	if (mb != NULL)
		store_unselect(mb);
}

/* COPY carries a keyword another process added since the last sync. */
static void
test_copy_new_keyword(struct store *st)
{
	struct mailbox	*a, *b, *d;
	struct sync	 sy;
	struct kwset	 kw;
	uint32_t	 seq = 1, uv, uid;
	int		 bit;

	store_create(st, "kwsrc");
	store_create(st, "kwdst");
	append_text(st, "kwsrc", "m\r\n", NULL);
	a = store_select(st, "kwsrc", 0);
	b = store_select(st, "kwsrc", 0);
	if (a == NULL || b == NULL)
		die("select kwsrc");
	/* As imapd does at the end of each command: a's window is dropped. */
	if (store_sync(a, 1, &sy) == -1)
		die("sync");
	store_sync_free(&sy);
	bit = store_keyword(b, "late", 1);
	memset(&kw, 0, sizeof kw);
	if (bit >= 0)
		kwset_add(&kw, (size_t)bit);
	ok(bit >= 0 && store_flags(b, &seq, 1, STORE_ADD, 0, &kw) == 0,
	    "the other view sets a new keyword");
	ok(store_copy(a, &seq, 1, "kwdst", &uv, &uid) == 0, "copy");
	store_unselect(b);
	store_unselect(a);
	d = store_select(st, "kwdst", 1);
	ok(d != NULL && store_nkeywords(d) == 1 &&
	    strcmp(store_keyword_name(d, 0), "late") == 0 &&
	    store_rec(d, 1)->keywords == 1, "the copy has the keyword");
	if (d != NULL)
		store_unselect(d);
}

/*
 * STORE UNCHANGEDSINCE (RFC 7162 3.1.3): of two views changing one
 * message on the same condition, one wins; the loser's message is marked
 * and left alone. +FLAGS passes over a change to another flag (3.1.12),
 * FLAGS and 0 do not.
 */
static void
test_flags_if(struct store *st)
{
	struct mailbox	*a, *b;
	struct sync	 sy;
	uint32_t	 seqs[2] = { 1, 2 };
	uint64_t	 m, ms1;
	uint8_t		 fa[2] = { 0, 0 }, fb[2] = { 0, 0 };

	store_create(st, "cond");
	append_text(st, "cond", "m\r\n", NULL);
	append_text(st, "cond", "n\r\n", NULL);
	a = store_select(st, "cond", 0);
	b = store_select(st, "cond", 0);
	if (a == NULL || b == NULL)
		die("select cond");
	m = store_highestmodseq(a);
	ok(store_flags_if(b, seqs, 1, STORE_ADD, FL_SEEN, NULL, m, fb) == 0 &&
	    fb[0] == 0 && (store_rec(b, 1)->flags & FL_SEEN) &&
	    store_rec(b, 1)->modseq > m, "b claims 1");
	ms1 = store_rec(b, 1)->modseq;
	ok(store_flags_if(a, seqs, 2, STORE_ADD, FL_SEEN, NULL, m, fa) == 0 &&
	    fa[0] == 1 && fa[1] == 0, "a fails on 1, passes on 2");
	ok(store_rec(a, 1)->modseq == ms1 && store_rec(a, 2)->modseq > ms1,
	    "the failed message keeps its MODSEQ");
	if (store_sync(a, 1, &sy) == 0)
		store_sync_free(&sy);
	memset(fb, 0, sizeof fb);
	ok(store_flags_if(b, seqs, 1, STORE_ADD, FL_FLAGGED, NULL, m,
	    fb) == 0 && fb[0] == 0,
	    "+FLAGS \\Flagged passes over the \\Seen change");
	memset(fb, 0, sizeof fb);
	ok(store_flags_if(b, seqs + 1, 1, STORE_SET, FL_DRAFT, NULL, m,
	    fb) == 0 && fb[0] == 1 && !(store_rec(b, 2)->flags & FL_DRAFT),
	    "FLAGS fails on a changed message");
	memset(fb, 0, sizeof fb);
	ok(store_flags_if(b, seqs, 2, STORE_ADD, FL_ANSWERED, NULL, 0, fb) ==
	    0 && fb[0] == 1 && fb[1] == 1, "UNCHANGEDSINCE 0 always fails");
	store_unselect(b);
	store_unselect(a);
}

/*
 * A writer logs a change before it writes the records; one that died in
 * between left an entry for records it never changed: a session must not
 * report an expunge of a message that is still there.
 */
static void
test_log_without_records(struct store *st)
{
	struct mailbox	*mb;
	struct change	 c;
	struct sync	 sy;
	int		 fd;

	store_create(st, "logfirst");
	append_text(st, "logfirst", "a\r\n", NULL);
	append_text(st, "logfirst", "b\r\n", NULL);
	if ((mb = store_select(st, "logfirst", 0)) == NULL)
		die("select logfirst");
	memset(&c, 0, sizeof c);
	c.modseq = 999999;
	c.first = 0;
	c.count = 1;
	c.pid = 1;
	c.type = CHANGE_EXPUNGE;
	if ((fd = open(path("box/logfirst/changes"), O_WRONLY | O_APPEND))
	    == -1 || write(fd, &c, sizeof c) != (ssize_t)sizeof c)
		die("write change");
	close(fd);
	ok(store_sync(mb, 1, &sy) == 0 && sy.nexpunged == 0 &&
	    store_exists(mb) == 2,
	    "a logged expunge with no tombstone is not one");
	store_sync_free(&sy);
	store_unselect(mb);
}

static void
test_torn(struct store *st)
{
	struct mailbox	*mb;
	struct stat	 sb;
	unsigned char	 junk[64 + 10];
	uint32_t	 uid;
	int		 fd;

	store_create(st, "torn");
	append_text(st, "torn", "m1\r\n", NULL);
	append_text(st, "torn", "m2\r\n", NULL);
	if ((fd = open(path("box/torn/index"), O_WRONLY | O_APPEND)) == -1)
		die("open index");
	memset(junk, 0xab, sizeof junk);
	if (write(fd, junk, sizeof junk) != (ssize_t)sizeof junk)
		die("write");
	close(fd);
	mb = store_select(st, "torn", 1);
	ok(mb != NULL && store_exists(mb) == 2, "reader ignores a torn tail");
	if (mb != NULL)
		store_unselect(mb);
	ok(append_text(st, "torn", "m3\r\n", &uid) == 0 && uid == 3,
	    "next append gets UID 3");
	ok(stat(path("box/torn/index"), &sb) == 0 && sb.st_size == 128 + 3 * 64,
	    "the torn record was cut off");
	mb = store_select(st, "torn", 1);
	ok(mb != NULL && store_exists(mb) == 3 && data_is(mb, 3, "m3\r\n", 4),
	    "3 messages, the new one intact");
	if (mb != NULL)
		store_unselect(mb);
}

/* ------------------------------------------------------------ kwmore */

/* The keywords of message seq as bits, k0 .. k(n - 1) named by number. */
static int
kw_is(struct mailbox *mb, uint32_t seq, const int *bits, size_t n)
{
	struct kwset	 want, got;
	const struct rec *r;
	size_t		 i;

	memset(&want, 0, sizeof want);
	for (i = 0; i < n; i++)
		kwset_add(&want, (size_t)bits[i]);
	return (r = store_rec(mb, seq)) != NULL &&
	    store_rec_keywords(mb, r, &got) == 0 &&
	    memcmp(&want, &got, sizeof want) == 0;
}

/* STORE +FLAGS of the keywords bits on message seq. */
static int
kw_store(struct mailbox *mb, uint32_t seq, const int *bits, size_t n)
{
	struct kwset	 ks;
	size_t		 i;

	memset(&ks, 0, sizeof ks);
	for (i = 0; i < n; i++)
		kwset_add(&ks, (size_t)bits[i]);
	return store_flags(mb, &seq, 1, STORE_ADD, 0, &ks);
}

/* Bytes appended to a file as they are. */
static void
add_bytes(const char *file, const void *p, size_t len)
{
	int	 fd;

	if ((fd = open(path("%s", file), O_WRONLY | O_APPEND)) == -1 ||
	    write(fd, p, len) != (ssize_t)len)
		die(file);
	close(fd);
}

/*
 * "kwmore" after a crash: a garbage entry and a torn one at its end (a
 * writer killed during its write), and a whole entry whose record was
 * never written (killed between the two): no message is lost, no
 * keyword changes, and the next writer cuts the torn part off.
 */
static void
test_kwmore_torn(struct store *st)
{
	static const int k0_65[] = { 0, 65 }, k66[] = { 66 }, k67[] = { 67 },
	    k66_67[] = { 66, 67 };
	struct mailbox	*a, *b;
	struct kwment	 orphan;
	struct kwset	 ks;
	struct stat	 sb;
	struct sync	 sy;
	unsigned char	 junk[136];
	char		 name[16];
	int		 i;

	store_create(st, "kwtorn");
	append_text(st, "kwtorn", "m1\r\n", NULL);
	append_text(st, "kwtorn", "m2\r\n", NULL);
	if ((a = store_select(st, "kwtorn", 0)) == NULL)
		die("select kwtorn");
	for (i = 0; i < 70; i++) {
		snprintf(name, sizeof name, "k%d", i);
		if (store_keyword(a, name, 1) != i)
			die("store_keyword");
	}
	ok(kw_store(a, 1, k0_65, 2) == 0 && kw_store(a, 2, k66, 1) == 0 &&
	    kw_is(a, 1, k0_65, 2) && kw_is(a, 2, k66, 1),
	    "keywords past 63 set and read back");
	memset(junk, 0xab, sizeof junk);
	add_bytes("box/kwtorn/kwmore", junk, sizeof junk);	/* whole */
	memset(&ks, 0, sizeof ks);
	kwset_add(&ks, 68);
	kwm_entry(&orphan, store_rec(a, 1)->uid, &ks);
	orphan.modseq = store_rec(a, 1)->modseq + 1000;
	orphan.sum = ix_fnv32(&orphan, offsetof(struct kwment, sum));
	add_bytes("box/kwtorn/kwmore", &orphan, sizeof orphan);
	add_bytes("box/kwtorn/kwmore", junk, 50);
	b = store_select(st, "kwtorn", 1);
	ok(b != NULL && store_exists(b) == 2 && kw_is(b, 1, k0_65, 2) &&
	    kw_is(b, 2, k66, 1),
	    "a torn kwmore: every message and keyword as before");
	ok(kw_store(a, 2, k67, 1) == 0 &&
	    stat(path("box/kwtorn/kwmore"), &sb) == 0 &&
	    sb.st_size == 5 * 136, "the next writer cuts the torn entry off");
	/* (The same process: the sync reports no change of its own.) */
	if (b != NULL && store_sync(b, 1, &sy) == 0) {
		ok(kw_is(b, 2, k66_67, 2) && kw_is(b, 1, k0_65, 2),
		    "another view reads the new entry, not the orphan");
		store_sync_free(&sy);
	} else
		ok(0, "sync");
	store_unselect(b);
	store_unselect(a);
}

/* ------------------------------------------------------------ dense */

#define M2	"Subject: 2\r\n\r\nbody 2\r\n"
#define M10	"Subject: 10\r\n\r\nbody 10\r\n"

static void
test_dense(struct store *st)
{
	struct mailbox		*mb;
	struct hdrtail		 t;
	struct sync		 s;
	const struct rec	*r;
	const char		*d, *c;
	char			 msg[64];
	uint32_t		 uv, uid, seq;
	size_t			 len, clen;
	char			*big;
	int			 i, good;

	store_create(st, "dense");
	for (i = 1; i <= 10; i++) {
		snprintf(msg, sizeof msg, "Subject: %d\r\n\r\nbody %d\r\n", i, i);
		store_append(st, "dense", msg, strlen(msg), i <= 4 ? FL_SEEN : 0,
		    NULL, 0, i, &uv, &uid);
	}
	ok(hdr_tail("dense", &t) == 0 && t.version == 3 && t.ntomb == 0 &&
	    t.seen_low == 0 && t.uidmax == 0, "index version 3, ntomb 0");
	mb = store_select(st, "dense", 1);
	ok(mb != NULL && store_exists(mb) == 10 &&
	    store_recent_count(mb) == 10 && store_first_unseen(mb) == 5,
	    "EXAMINE of a dense mailbox: EXISTS 10, RECENT 10, UNSEEN 5");
	if (mb != NULL)
		store_unselect(mb);
	ok(hdr_tail("dense", &t) == 0 && t.seen_low == 0,
	    "EXAMINE does not write seen_low");
	mb = store_select(st, "dense", 0);
	ok(mb != NULL && store_exists(mb) == 10 &&
	    store_recent_count(mb) == 10 && store_first_unseen(mb) == 5 &&
	    store_uidnext(mb) == 11, "SELECT: EXISTS 10, RECENT 10, UNSEEN 5");
	if (mb == NULL)
		return;
	ok(hdr_tail("dense", &t) == 0 && t.seen_low == 4,
	    "SELECT raised seen_low to 4");
	ok(seq_of_uid(mb, 7) == 7 && seq_of_uid(mb, 11) == 0,
	    "seq of uid in the identity view");

	/* store_rec's pointer (see store_rec in view.c). */
	r = store_rec(mb, 3);
	ok(r != NULL && store_is_recent(mb, 3) && store_exists(mb) == 10 &&
	    store_keyword_name(mb, 0) == NULL && store_rec(mb, 3) == r &&
	    r->uid == 3 && r->internaldate == 3,
	    "store_rec's pointer survives store_is_recent, store_exists, "
	    "store_keyword_name and store_rec of the same message");
	/* store_data's pointer: not moved by records or the cache. */
	d = store_data(mb, 2, SIZE_MAX, &len);
	ok(d != NULL && store_cache_put(mb, 2, "blob", 4) == 0 &&
	    store_rec(mb, 9) != NULL && len == strlen(M2) &&
	    memcmp(d, M2, len) == 0,
	    "store_data's pointer survives store_rec and store_cache_put");
	ok(store_sync(mb, 1, &s) == 0, "sync writes the cache entry");
	store_sync_free(&s);
	d = store_data(mb, 2, SIZE_MAX, &len);
	c = store_cache_get(mb, 2, &clen);
	ok(d != NULL && c != NULL && clen == 4 && memcmp(c, "blob", 4) == 0 &&
	    len == strlen(M2) && memcmp(d, M2, len) == 0,
	    "store_cache_get reads the entry, store_data's bytes stay");
	ok(data_is(mb, 10, M10, strlen(M10)),
	    "store_data of another message");

	/* Entries one after the other, one larger than the read-ahead. */
	if ((big = malloc(100000)) == NULL)
		die("malloc");
	for (i = 3; i <= 10; i++) {
		len = i == 5 ? 100000 : (size_t)i * 1000;
		memset(big, 'a' + i, len);
		store_cache_put(mb, (uint32_t)i, big, len);
	}
	ok(store_sync(mb, 1, &s) == 0, "sync writes 8 more cache entries");
	store_sync_free(&s);
	good = 1;
	for (i = 10; i >= 3; i--) {
		len = i == 5 ? 100000 : (size_t)i * 1000;
		c = store_cache_get(mb, (uint32_t)i, &clen);
		if (c == NULL || clen != len || c[0] != 'a' + i ||
		    c[len - 1] != 'a' + i)
			good = 0;
	}
	for (i = 3; i <= 10; i++) {
		len = i == 5 ? 100000 : (size_t)i * 1000;
		c = store_cache_get(mb, (uint32_t)i, &clen);
		if (c == NULL || clen != len || c[len / 2] != 'a' + i)
			good = 0;
	}
	free(big);
	ok(good, "cache entries read back, backwards and forwards");

	seq = 2;
	ok(store_flags(mb, &seq, 1, STORE_REMOVE, FL_SEEN, NULL) == 0 &&
	    hdr_tail("dense", &t) == 0 && t.seen_low == 1,
	    "-FLAGS \\Seen on record 1 lowers seen_low to 1");
	seq = 1;
	ok(store_flags(mb, &seq, 1, STORE_ADD, FL_DELETED, NULL) == 0 &&
	    hdr_tail("dense", &t) == 0 && t.seen_low == 1,
	    "other flags leave seen_low alone");
	store_unselect(mb);
	mb = store_select(st, "dense", 0);
	ok(mb != NULL && store_first_unseen(mb) == 2 &&
	    store_recent_count(mb) == 0, "next SELECT: UNSEEN 2, RECENT 0");
	if (mb != NULL)
		store_unselect(mb);
}

/* -------------------------------------------------------- compaction */

static void
test_compact(struct store *st)
{
	struct mailbox	*mb;
	struct peer	 p;
	struct mbstatus	 ms;
	char		 msgs[10][3000];
	uint64_t	 mods[10];
	uint32_t	 uv, uid, seqs[7], *ex;
	size_t		 nex, i;
	int		 good = 1, fd;
	struct hdrtail	 t;
	struct stat	 sb;
	struct {
		uint32_t uid, zero;
		uint64_t modseq;
	}		 xe[8];
	uint64_t	 xmod;

	store_create(st, "cmp");
	for (i = 0; i < 10; i++) {
		memset(msgs[i], 'a' + (int)i, sizeof msgs[i]);
		msgs[i][0] = (char)i;
		store_append(st, "cmp", msgs[i], 1000 + i * 200, 0, NULL, 0,
		    (time_t)i, &uv, &uid);
	}
	mb = store_select(st, "cmp", 0);
	if (mb == NULL) {
		ok(0, "select cmp");
		return;
	}
	for (i = 0; i < 7; i++)
		seqs[i] = (uint32_t)i + 1;
	store_flags(mb, seqs, 7, STORE_ADD, FL_DELETED, NULL);
	seqs[0] = 9;
	store_flags(mb, seqs, 1, STORE_ADD, FL_ANSWERED, NULL);
	ok(store_expunge(mb, NULL, &ex, &nex, NULL) == 0 && nex == 7 &&
	    ex[0] == 7 && ex[6] == 1, "expunge 7 of 10, descending");
	free(ex);
	for (i = 0; i < 3; i++)
		mods[i] = store_rec(mb, (uint32_t)i + 1)->modseq;
	xmod = store_highestmodseq(mb);
	ok(hdr_tail("cmp", &t) == 0 && t.ntomb == 7, "ntomb 7");

	/* Another session has it selected: no compaction. */
	ok(peer_start(&p, "cmp") == 3, "another process selects cmp");
	store_unselect(mb);
	ok(exists(path("box/cmp/data.1")) && !exists(path("box/cmp/data.2")),
	    "no compaction while another session has it selected");
	peer_stop(&p);

	mb = store_select(st, "cmp", 0);
	if (mb == NULL) {
		ok(0, "select cmp");
		return;
	}
	store_unselect(mb);
	ok(!exists(path("box/cmp/data.1")) && exists(path("box/cmp/data.2")),
	    "compaction wrote data.2 and removed data.1");
	mb = store_select(st, "cmp", 0);
	ok(mb != NULL && store_exists(mb) == 3, "3 messages after compaction");
	if (mb == NULL)
		return;
	for (i = 0; i < 3; i++) {
		const struct rec *r = store_rec(mb, (uint32_t)i + 1);

		if (r->uid != 8 + i || r->modseq != mods[i] ||
		    r->internaldate != (int64_t)(7 + i) ||
		    !data_is(mb, (uint32_t)i + 1, msgs[7 + i],
		    1000 + (7 + i) * 200))
			good = 0;
	}
	ok(good, "live messages byte-exact, UIDs and modseqs kept");
	ok(store_rec(mb, 2)->flags == FL_ANSWERED, "flags kept");
	ok(store_uidnext(mb) == 11, "uidnext still 11");
	store_unselect(mb);
	ok(hdr_tail("cmp", &t) == 0 && t.ntomb == 0 && t.uidmax == 10 &&
	    t.seen_low == 0, "after compaction: ntomb 0, uidmax 10");
	ok(stat(path("box/cmp/index"), &sb) == 0 && sb.st_size == 128 + 3 * 64,
	    "the index holds the 3 live records only");
	good = (fd = open(path("box/cmp/expunged"), O_RDONLY)) != -1 &&
	    read(fd, xe, sizeof xe) == 7 * 16;
	for (i = 0; good && i < 7; i++)
		if (xe[i].uid != i + 1 || xe[i].zero != 0 ||
		    xe[i].modseq != xmod)
			good = 0;
	if (fd != -1)
		close(fd);
	ok(good, "expunged holds the 7 tombstones with their MODSEQ");
	ok(store_status(st, "cmp", &ms) == 0 && ms.messages == 3 &&
	    ms.uidnext == 11 && ms.size == 2400 + 2600 + 2800,
	    "status after compaction");
	ok(append_text(st, "cmp", "new\r\n", &uid) == 0 && uid == 11,
	    "append after compaction: UID 11");
}

/*
 * Compaction moves out the tombstones at the top of the UIDs: UIDNEXT
 * must not go back. A compaction that died before its rename left its
 * entries in "expunged": they are written once, not twice.
 */
static void
test_compact_top(struct store *st)
{
	struct mailbox	*mb;
	struct mbstatus	 ms;
	struct hdrtail	 t;
	struct stat	 sb;
	struct {
		uint32_t uid, zero;
		uint64_t modseq;
	}		 xe[5];
	char		 big[3000];
	uint32_t	 uv, uid, seqs[3] = { 3, 4, 5 }, *ex;
	uint64_t	 xmod;
	size_t		 nex, i;
	int		 fd, good;

	memset(big, 'b', sizeof big);
	store_create(st, "top");
	for (i = 0; i < 5; i++)
		store_append(st, "top", i < 2 ? "a\r\n" : big, i < 2 ? 3 :
		    sizeof big, 0, NULL, 0, 0, &uv, &uid);
	if ((mb = store_select(st, "top", 0)) == NULL) {
		ok(0, "select top");
		return;
	}
	store_flags(mb, seqs, 3, STORE_ADD, FL_DELETED, NULL);
	ok(store_expunge(mb, NULL, &ex, &nex, NULL) == 0 && nex == 3,
	    "expunge UIDs 3, 4, 5");
	free(ex);
	xmod = store_highestmodseq(mb);
	/* What an earlier compaction wrote, and one that died later. */
	memset(xe, 0, sizeof xe);
	xe[0].uid = 100;
	xe[0].modseq = 9;
	xe[1].uid = 3;
	xe[2].uid = 4;
	if ((fd = open(path("box/top/expunged"), O_WRONLY | O_CREAT, 0600)) ==
	    -1 || write(fd, xe, 3 * sizeof xe[0]) != 3 * sizeof xe[0])
		die("expunged");
	close(fd);
	store_unselect(mb);
	ok(exists(path("box/top/data.2")) && hdr_tail("top", &t) == 0 &&
	    t.ntomb == 0 && t.uidmax == 5 && t.seen_low == 0,
	    "compacted: ntomb 0, uidmax 5");
	ok(stat(path("box/top/index"), &sb) == 0 && sb.st_size == 128 + 2 * 64,
	    "index of 2 live records");
	memset(xe, 0, sizeof xe);
	good = (fd = open(path("box/top/expunged"), O_RDONLY)) != -1 &&
	    read(fd, xe, sizeof xe) == 4 * sizeof xe[0] &&
	    xe[0].uid == 100 && xe[0].modseq == 9;
	for (i = 1; good && i < 4; i++)
		if (xe[i].uid != i + 2 || xe[i].modseq != xmod)
			good = 0;
	if (fd != -1)
		close(fd);
	ok(good, "expunged: the old entry, then 3, 4, 5 once each");
	ok(store_status(st, "top", &ms) == 0 && ms.messages == 2 &&
	    ms.uidnext == 6, "STATUS: 2 messages, UIDNEXT 6");
	mb = store_select(st, "top", 0);
	ok(mb != NULL && store_exists(mb) == 2 && store_uidnext(mb) == 6,
	    "SELECT: EXISTS 2, UIDNEXT 6");
	if (mb != NULL)
		store_unselect(mb);
	ok(append_text(st, "top", "new\r\n", &uid) == 0 && uid == 6,
	    "append after compaction: UID 6, not 3");
	mb = store_select(st, "top", 0);
	ok(mb != NULL && store_exists(mb) == 3 && store_uidnext(mb) == 7 &&
	    store_rec(mb, 3)->uid == 6 && data_is(mb, 2, "a\r\n", 3),
	    "SELECT: EXISTS 3, UIDNEXT 7");
	if (mb != NULL)
		store_unselect(mb);
}

/* ------------------------------------------- CHANGEDSINCE, VANISHED */

/* Whether store_changed_since(since) is what reading every record says. */
static int
changed_matches(struct mailbox *mb, uint64_t since)
{
	uint32_t	*v, seq;
	size_t		 n, k = 0;
	int		 good;

	if (store_changed_since(mb, since, &v, &n) == -1)
		return 0;
	good = 1;
	for (seq = 1; seq <= store_exists(mb); seq++)
		if (store_rec(mb, seq)->modseq > since &&
		    (k >= n || v[k++] != seq))
			good = 0;
	free(v);
	return good && k == n;
}

/* Whether store_vanished(since) is exactly the n UIDs want. */
static int
vanished_is(struct mailbox *mb, uint64_t since, const uint32_t *want,
    size_t n)
{
	uint32_t	*v;
	size_t		 nv;
	int		 good;

	if (store_vanished(mb, since, &v, &nv) == -1)
		return 0;
	good = nv == n && (n == 0 || memcmp(v, want, n * sizeof *v) == 0);
	free(v);
	return good;
}

/* Set record pos's MODSEQ behind the store's back: no log entry. */
static void
rec_modseq_set(const char *box, uint32_t pos, uint64_t ms)
{
	int	 fd;

	if ((fd = open(path("box/%s/index", box), O_RDWR)) == -1 ||
	    pwrite(fd, &ms, sizeof ms, 128 + 64 * (off_t)pos + 16) !=
	    (ssize_t)sizeof ms)
		die("index");
	close(fd);
}

/*
 * The change log answers CHANGEDSINCE and the tombstones of VANISHED
 * (RFC 7162 3.1.4, 3.2.5) by what changed, across compaction; a log that
 * is not the index's is not trusted and is started again.
 */
static void
test_resync(struct store *st)
{
	struct mailbox	*mb;
	char		 msg[1000];
	uint32_t	 uid, seqs[6] = { 1, 2, 3, 4, 5, 6 }, *ex;
	uint32_t	 gone[6] = { 1, 2, 3, 4, 5, 6 };
	uint64_t	 m0, m2, m;
	size_t		 i, nex;
	int		 good = 1;

	memset(msg, 'x', sizeof msg);
	store_create(st, "rs");
	for (i = 0; i < 10; i++)
		store_append(st, "rs", msg, sizeof msg, 0, NULL, 0, 0, &uid,
		    &uid);
	if ((mb = store_select(st, "rs", 0)) == NULL)
		die("select rs");
	m0 = store_highestmodseq(mb);
	ok(changed_matches(mb, m0) && changed_matches(mb, 0),
	    "CHANGEDSINCE after appends only");
	seqs[0] = 8;
	store_flags(mb, seqs, 1, STORE_ADD, FL_FLAGGED, NULL);
	seqs[0] = 1;
	store_flags(mb, seqs, 6, STORE_ADD, FL_DELETED, NULL);
	append_text(st, "rs", "new\r\n", &uid);
	ok(store_expunge(mb, NULL, &ex, &nex, NULL) == 0 && nex == 6,
	    "expunge 6 of 11");
	free(ex);
	m2 = store_highestmodseq(mb);
	for (m = 0; m <= m2; m++)
		good &= changed_matches(mb, m);
	ok(good, "CHANGEDSINCE right for every MODSEQ up to %llu",
	    (unsigned long long)m2);
	ok(vanished_is(mb, m0, gone, 6) && vanished_is(mb, m2, NULL, 0),
	    "VANISHED from the tombstones");
	/* A record changed without a log entry is not found: the log is. */
	m = store_rec(mb, seq_of_uid(mb, 10))->modseq;
	rec_modseq_set("rs", 9, m2 + 100);
	ok(!changed_matches(mb, m2), "the log, not a scan, answers");
	rec_modseq_set("rs", 9, m);
	store_unselect(mb);
	ok(exists(path("box/rs/data.2")), "compacted");
	if ((mb = store_select(st, "rs", 0)) == NULL)
		die("select rs");
	for (good = 1, m = 0; m <= m2; m++)
		good &= changed_matches(mb, m);
	ok(good && store_exists(mb) == 5, "after compaction: CHANGEDSINCE "
	    "right for every MODSEQ");
	ok(vanished_is(mb, m0, gone, 6) && vanished_is(mb, m2, NULL, 0),
	    "after compaction: VANISHED from the expunged file");
	m = store_rec(mb, 1)->modseq;
	rec_modseq_set("rs", 0, m2 + 100);
	ok(!changed_matches(mb, m2), "after compaction the log answers");
	rec_modseq_set("rs", 0, m);
	store_unselect(mb);
	/* A log of another generation (a crash between two renames). */
	if (truncate(path("box/rs/changes"), 0) == -1)
		die("truncate");
	if ((mb = store_select(st, "rs", 0)) == NULL)
		die("select rs");
	rec_modseq_set("rs", 0, m2 + 100);
	ok(changed_matches(mb, m2), "a log that is not the index's: a scan");
	rec_modseq_set("rs", 0, m);
	store_unselect(mb);
	if ((mb = store_select(st, "rs", 0)) == NULL)
		die("select rs");
	seqs[0] = 2;
	store_flags(mb, seqs, 1, STORE_ADD, FL_SEEN, NULL);
	rec_modseq_set("rs", 0, m2 + 100);
	ok(!changed_matches(mb, m2) && changed_matches(mb, m2 + 200),
	    "started again at HIGHESTMODSEQ, the log answers");
	rec_modseq_set("rs", 0, m);
	store_unselect(mb);
}

/* ---------------------------------------------------------- keywords */

static void
test_keywords(struct store *st)
{
	struct mailbox	*mb;
	char		 name[32], *kw[1];
	uint32_t	 uv, uid;
	int		 i, good = 1;

	store_create(st, "kw");
	mb = store_select(st, "kw", 0);
	if (mb == NULL) {
		ok(0, "select kw");
		return;
	}
	for (i = 0; i < KEYWORDS_MAX; i++) {
		snprintf(name, sizeof name, "k%d", i);
		if (store_keyword(mb, name, 1) != i)
			good = 0;
	}
	ok(good, "%d keywords", KEYWORDS_MAX);
	ok(store_keyword(mb, "one-too-many", 1) == -1 && errno == ENOSPC,
	    "keyword %d: ENOSPC", KEYWORDS_MAX + 1);
	ok(store_keyword(mb, "k5", 1) == 5, "existing keyword still found");
	kw[0] = "another";
	ok(store_append(st, "kw", "x", 1, 0, kw, 1, 0, &uv, &uid) == -1 &&
	    errno == ENOSPC, "append with a new keyword at the limit: ENOSPC");
	store_unselect(mb);
}

/* ------------------------------------------------------------- scale */

static double
now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
test_scale(struct store *st)
{
	struct mailbox	*mb;
	struct peer	 p;
	struct sync	 s;
	uint32_t	*seqs, *uids, uv;
	const size_t	 n = 100000;
	size_t		 i;
	double		 t0, t1, t2;
	long		 b;

	store_create(st, "big");
	append_text(st, "big", "Subject: big\r\n\r\nx\r\n", NULL);
	mb = store_select(st, "big", 0);
	seqs = calloc(n, sizeof *seqs);
	uids = calloc(n, sizeof *uids);
	if (mb == NULL || seqs == NULL || uids == NULL)
		die("scale");
	for (i = 0; i < n - 1; i++)
		seqs[i] = 1;
	ok(store_copy(mb, seqs, n - 1, "big", &uv, uids) == 0 &&
	    uids[n - 2] == n, "copy makes %zu messages", n);
	ok(store_sync(mb, 1, &s) == 0 && s.exists == n, "sync sees them");
	store_sync_free(&s);
	ok(peer_start(&p, "big") == (int)n, "another process selects big");
	for (i = 0; i < n; i++)
		seqs[i] = (uint32_t)i + 1;
	t0 = now();
	ok(store_flags(mb, seqs, n, STORE_ADD, FL_SEEN, NULL) == 0,
	    "STORE 1:* +FLAGS \\Seen");
	t1 = now();
	ok(peer_cmd(&p, 's', &b) == (int)n, "the other process sees %zu "
	    "changed", n);
	t2 = now();
	ok(t1 - t0 < 1.0, "STORE took %.0f ms", (t1 - t0) * 1000);
	ok(t2 - t1 < 1.0, "its sync in another process took %.0f ms",
	    (t2 - t1) * 1000);
	ok(store_flags(mb, seqs, n, STORE_ADD, FL_SEEN, NULL) == 0 &&
	    peer_cmd(&p, 's', &b) == 0, "a STORE that changes nothing logs "
	    "nothing");
	peer_stop(&p);
	store_unselect(mb);
	for (i = 0; i < 3; i++) {
		t0 = now();
		mb = store_select(st, "big", 0);
		t1 = now();
		ok(mb != NULL && store_exists(mb) == n &&
		    store_first_unseen(mb) == 0 && store_recent_count(mb) == 0 &&
		    t1 - t0 < 0.5, "SELECT %zu (all \\Seen) took %.3f ms", n,
		    (t1 - t0) * 1000);
		if (mb != NULL)
			store_unselect(mb);
	}
	ok(append_text(st, "big", "Subject: new\r\n\r\nx\r\n", NULL) == 0 &&
	    (mb = store_select(st, "big", 0)) != NULL &&
	    store_exists(mb) == n + 1 && store_recent_count(mb) == 1 &&
	    store_first_unseen(mb) == n + 1, "after an append: RECENT 1, "
	    "UNSEEN %zu", n + 1);
	if (mb != NULL)
		store_unselect(mb);
	free(seqs);
	free(uids);
}

/* ------------------------------------------------ recovery (issue 6) */

/* The HIGHESTMODSEQ and UIDVALIDITY of a mailbox, or 0s. */
static void
box_values(struct store *st, const char *box, uint64_t *hm_r, uint32_t *uv_r)
{
	struct mailbox	*mb;

	*hm_r = 0;
	*uv_r = 0;
	if ((mb = store_select(st, box, 1)) == NULL)
		return;
	*hm_r = store_highestmodseq(mb);
	*uv_r = store_uidvalidity(mb);
	store_unselect(mb);
}

/*
 * A counter file deleted while a process has the store open: the next
 * process to open it recovers the values from the mailboxes, and the
 * first process hands out nothing more from the file it holds.
 */
static void
test_counter_deleted_live(void)
{
	struct store	*a, *b;
	struct mailbox	*mb;
	uint64_t	 hm, hm2;
	uint32_t	 uv, uv2, seq = 1, i;

	if ((a = store_open(dir)) == NULL)
		die("store_open");
	store_create(a, "ctrlive");
	append_text(a, "ctrlive", "m\r\n", NULL);
	if ((mb = store_select(a, "ctrlive", 0)) == NULL)
		die("select ctrlive");
	for (i = 0; i < 5; i++)
		store_flags(mb, &seq, 1, i % 2 ? STORE_REMOVE : STORE_ADD,
		    FL_SEEN, NULL);
	hm = store_highestmodseq(mb);
	store_unselect(mb);
	box_values(a, "ctrlive", &hm, &uv);
	if (unlink(path("counter")) == -1)
		die("unlink counter");
	b = store_open(dir);
	ok(b != NULL, "a store whose counter was deleted opens");
	if (b == NULL) {
		store_close(a);
		return;
	}
	ok(store_create(b, "ctrlive2") == 0, "CREATE after the loss");
	box_values(b, "ctrlive2", &hm2, &uv2);
	ok(hm2 > hm && uv2 > uv, "new mailbox: HIGHESTMODSEQ %llu > %llu, "
	    "UIDVALIDITY %u > %u", (unsigned long long)hm2,
	    (unsigned long long)hm, uv2, uv);
	mb = store_select(a, "ctrlive", 0);
	ok(mb != NULL && store_flags(mb, &seq, 1, STORE_ADD, FL_FLAGGED, NULL)
	    == -1, "the old process takes no value from a deleted counter");
	if (mb != NULL)
		store_unselect(mb);
	store_close(a);
	store_close(b);
}

/* Whether v[0..n) is exactly the n numbers of want. */
static int
u32_is(const uint32_t *v, size_t n, const uint32_t *want, size_t nwant)
{
	return n == nwant && (n == 0 || memcmp(v, want, n * sizeof *v) == 0);
}

/*
 * QRESYNC (resync.c): changed and vanished since a MODSEQ, from the
 * index's tombstones and, after compaction, from "expunged"; the UIDs
 * store_expunge gives for VANISHED.
 */
static void
test_resync_uids(struct store *st)
{
	static const uint32_t one[] = { 1 }, gone[] = { 2, 4, 5 };
	struct mailbox	*mb;
	uint32_t	 seqs[3] = { 2, 4, 5 }, *v, *ex, *xu;
	size_t		 n, nex;
	uint64_t	 m0, m1;
	int		 i;

	store_create(st, "rsy");
	for (i = 0; i < 5; i++)
		append_text(st, "rsy", "Subject: r\r\n\r\nresync\r\n", NULL);
	if ((mb = store_select(st, "rsy", 0)) == NULL) {
		ok(0, "select rsy");
		return;
	}
	m0 = store_highestmodseq(mb);
	store_flags(mb, seqs, 3, STORE_ADD, FL_DELETED, NULL);
	ok(store_expunge(mb, NULL, &ex, &nex, &xu) == 0 &&
	    u32_is(xu, nex, gone, 3), "expunge: the UIDs, ascending");
	free(ex);
	free(xu);
	seqs[0] = 1;
	store_flags(mb, seqs, 1, STORE_ADD, FL_SEEN, NULL);
	m1 = store_highestmodseq(mb);
	ok(store_changed_since(mb, m0, &v, &n) == 0 && u32_is(v, n, one, 1),
	    "changed since m0: seq 1");
	free(v);
	ok(store_changed_since(mb, m1, &v, &n) == 0 && n == 0 && v == NULL,
	    "changed since the highest: none");
	ok(store_vanished(mb, m0, &v, &n) == 0 && u32_is(v, n, gone, 3),
	    "vanished since m0: the tombstones 2, 4, 5");
	free(v);
	ok(store_vanished(mb, m1, &v, &n) == 0 && n == 0,
	    "vanished since the highest: none");
	store_unselect(mb);
	ok(exists(path("box/rsy/expunged")), "compacted");
	if ((mb = store_select(st, "rsy", 1)) == NULL) {
		ok(0, "select rsy");
		return;
	}
	ok(store_vanished(mb, m0, &v, &n) == 0 && u32_is(v, n, gone, 3),
	    "after compaction: the same UIDs, from expunged");
	free(v);
	ok(store_vanished(mb, m1, &v, &n) == 0 && n == 0,
	    "after compaction, since the highest: none");
	store_unselect(mb);
}

/* A damaged INTERNALDATE (with a good sum) is clamped when read. */
static void
test_bad_date(struct store *st)
{
	struct mailbox	*mb;
	unsigned char	 r[64];
	int64_t		 d = INT64_MIN + 1;
	uint32_t	 sum = 2166136261U;
	size_t		 i;
	int		 fd;

	store_create(st, "baddate");
	append_text(st, "baddate", "m\r\n", NULL);
	append_text(st, "baddate", "n\r\n", NULL);
	if ((fd = open(path("box/baddate/index"), O_RDWR)) == -1 ||
	    pread(fd, r, sizeof r, 128) != (ssize_t)sizeof r)
		die("read record");
	memcpy(r + 24, &d, 8);
	for (i = 0; i < 48; i++) {
		if (i == 4)
			i = 24;
		sum ^= r[i];
		sum *= 16777619U;
	}
	memcpy(r + 60, &sum, 4);
	if (pwrite(fd, r, sizeof r, 128) != (ssize_t)sizeof r)
		die("write record");
	d = (int64_t)1 << 62;
	if (pread(fd, r, sizeof r, 192) != (ssize_t)sizeof r)
		die("read record");
	memcpy(r + 24, &d, 8);
	for (sum = 2166136261U, i = 0; i < 48; i++) {
		if (i == 4)
			i = 24;
		sum ^= r[i];
		sum *= 16777619U;
	}
	memcpy(r + 60, &sum, 4);
	if (pwrite(fd, r, sizeof r, 192) != (ssize_t)sizeof r)
		die("write record");
	close(fd);
	mb = store_select(st, "baddate", 0);
	ok(mb != NULL && store_exists(mb) == 2, "select baddate");
	if (mb == NULL)
		return;
	/* 0000-01-01 00:00:00 to 9999-12-31 23:59:59 UTC */
	ok(store_rec(mb, 1)->internaldate == -62167219200LL,
	    "a date near INT64_MIN reads as 01-Jan-0000: %lld",
	    (long long)store_rec(mb, 1)->internaldate);
	ok(store_rec(mb, 2)->internaldate == 253402300799LL,
	    "a date near 2^62 reads as 31-Dec-9999: %lld",
	    (long long)store_rec(mb, 2)->internaldate);
	store_unselect(mb);
}

/*
 * RENAME of a hierarchy killed at random points: the next open finds
 * every mailbox under exactly one of the two names, messages and all.
 */
#define RN_BOXES	120

/* How many of the hierarchy's mailboxes are under each root. */
static void
rn_count(struct store *st, size_t *a_r, size_t *b_r, int *msgs_ok_r)
{
	char		**v;
	size_t		 n, i;
	struct mailbox	*mb;

	*a_r = *b_r = 0;
	*msgs_ok_r = 1;
	if (store_list(st, &v, &n) == -1)
		die("list");
	for (i = 0; i < n; i++) {
		if (strcmp(v[i], "rna") == 0 || strncmp(v[i], "rna/", 4) == 0)
			(*a_r)++;
		else if (strcmp(v[i], "rnb") == 0 ||
		    strncmp(v[i], "rnb/", 4) == 0)
			(*b_r)++;
		else
			continue;
		if (strchr(v[i], '/') != NULL && strcmp(strchr(v[i], '/'),
		    "/7") != 0)
			continue;
		mb = store_select(st, v[i], 1);
		if (mb == NULL || store_exists(mb) != 1)
			*msgs_ok_r = 0;
		if (mb != NULL)
			store_unselect(mb);
	}
	store_names_free(v, n);
}

static void
test_rename_kill(void)
{
	struct store	*st;
	struct timespec	 t0, t1, nap;
	char		 name[64];
	const char	*from, *to;
	size_t		 na, nb;
	long		 span;
	int		 i, msgs, split = 0, lost = 0, fds[2], status;
	pid_t		 pid;

	if ((st = store_open(dir)) == NULL)
		die("store_open");
	store_create(st, "rna");
	append_text(st, "rna", "top\r\n", NULL);
	for (i = 0; i < RN_BOXES; i++) {
		snprintf(name, sizeof name, "rna/%d", i);
		store_create(st, name);
	}
	append_text(st, "rna/7", "seven\r\n", NULL);
	/* One rename that is not killed: how long the kills have to aim. */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ok(store_rename(st, "rna", "rnb") == 0, "RENAME rna rnb");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	store_close(st);
	span = (t1.tv_sec - t0.tv_sec) * 1000000000L + t1.tv_nsec -
	    t0.tv_nsec;
	srand((unsigned)getpid());
	for (i = 0; i < 12; i++) {
		st = store_open(dir);
		if (st == NULL)
			die("store_open");
		rn_count(st, &na, &nb, &msgs);
		store_close(st);
		from = na > 0 ? "rna" : "rnb";
		to = na > 0 ? "rnb" : "rna";
		if (pipe(fds) == -1)
			die("pipe");
		fflush(stdout);
		if ((pid = fork()) == -1)
			die("fork");
		if (pid == 0) {
			struct store *cs = store_open(dir);
			char c = 0;

			close(fds[0]);
			if (cs == NULL || write(fds[1], &c, 1) != 1)
				_exit(2);
			store_rename(cs, from, to);
			_exit(0);
		}
		close(fds[1]);
		if (read(fds[0], name, 1) != 1)
			die("child");
		close(fds[0]);
		nap.tv_sec = 0;
		nap.tv_nsec = span > 1 ? rand() % span : 0;
		nanosleep(&nap, NULL);
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		if ((st = store_open(dir)) == NULL)
			die("store_open");
		rn_count(st, &na, &nb, &msgs);
		store_close(st);
		if (na != 0 && nb != 0)
			split++;
		if (na + nb != RN_BOXES + 1 || !msgs)
			lost++;
		if (na != 0 && nb != 0)
			printf("# kill %d after %ld us: %zu under rna, %zu "
			    "under rnb\n", i, (long)nap.tv_nsec / 1000, na, nb);
	}
	ok(split == 0, "RENAME killed 12 times: never left half-done "
	    "(%d times split)", split);
	ok(lost == 0, "every mailbox and message is there (%d times not)",
	    lost);
}

int
main(void)
{
	struct store	*st;

	alarm(300);
	snprintf(dir, sizeof dir, "/tmp/storetest.%ld", (long)getpid());
	rmrf(dir);
	if ((st = store_open(dir)) == NULL)
		die("store_open");
	ok(exists(path("box/INBOX/index")), "store_open creates INBOX");
	test_errcode(st);
	test_names(st);
	test_escape(st);
	test_readback(st);
	test_two_views(st);
	test_torn(st);
	test_kwmore_torn(st);
	test_torn_middle(st);
	test_half_deleted(st);
	test_copy_new_keyword(st);
	test_flags_if(st);
	test_log_without_records(st);
	test_dense(st);
	test_compact(st);
	test_compact_top(st);
	test_resync(st);
	test_keywords(st);
	test_scale(st);
	store_close(st);
	test_parallel();
	test_kill();
	test_counter_deleted_live();
	if ((st = store_open(dir)) == NULL)
		die("store_open");
	test_bad_date(st);
	test_resync_uids(st);
	store_close(st);
	test_rename_kill();
	rmrf(dir);
	printf("storetest: %d passed, %d failed\n", npass, nfail);
	return nfail > 0;
}
