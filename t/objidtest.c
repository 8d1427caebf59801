/*
 * objidtest: checks of the store's object ids and save dates (RFC 8474,
 * RFC 8514): EMAILIDs kept by COPY and by compaction, never given twice,
 * not even after the counter file is lost; MAILBOXIDs kept by RENAME and
 * new after DELETE and CREATE; an older store's records (zeros where the
 * email id and save date are kept) still read whole. Beside storetest,
 * which is long enough.
 * Prints "ok - ..." / "not ok - ..." and a summary; exits 1 on a failure.
 */

#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "imapd.h"
#include "store.h"

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
	fprintf(stderr, "objidtest: %s: %s\n", what, strerror(errno));
	exit(1);
}

static char *
path(const char *tail)
{
	static char	 buf[PATH_MAX * 2];

	snprintf(buf, sizeof buf, "%s/%s", dir, tail);
	return buf;
}

static void
append_n(struct store *st, const char *box, int n, size_t size)
{
	char		 msg[4096];
	uint32_t	 uv, uid;
	int		 i;

	for (i = 0; i < n; i++) {
		memset(msg, 'a' + i % 26, size);
		if (store_append(st, box, msg, size, 0, NULL, 0, 1000000000,
		    &uv, &uid) == -1)
			die("store_append");
	}
}

/* The EMAILIDs of a mailbox's messages, from seq 1, into ids. */
static uint32_t
emailids(struct store *st, const char *box, char ids[][OBJECTID_SIZE],
    uint32_t max)
{
	struct mailbox	*mb;
	uint32_t	 n, i;

	if ((mb = store_select(st, box, 1)) == NULL)
		die("store_select");
	n = store_exists(mb);
	for (i = 0; i < n && i < max; i++)
		store_emailid(mb, store_rec(mb, i + 1), ids[i]);
	store_unselect(mb);
	return n;
}

/* The number in "M<n>", 0 for another form. */
static unsigned long
idnum(const char *id)
{
	return id[0] == 'M' ? strtoul(id + 1, NULL, 10) : 0;
}

/* RFC 8474 5.1: the copy's EMAILID is the source's. */
static void
test_copy(struct store *st)
{
	char		 src[3][OBJECTID_SIZE], dst[3][OBJECTID_SIZE];
	struct mailbox	*mb;
	uint32_t	 seqs[3] = { 1, 2, 3 }, uv, uids[3], n;

	store_create(st, "a");
	store_create(st, "b");
	append_n(st, "a", 3, 100);
	n = emailids(st, "a", src, 3);
	ok(n == 3 && idnum(src[0]) > 0 &&
	    idnum(src[1]) == idnum(src[0]) + 1 &&
	    idnum(src[2]) == idnum(src[0]) + 2, "appends: M%lu M%lu M%lu",
	    idnum(src[0]), idnum(src[1]), idnum(src[2]));
	if ((mb = store_select(st, "a", 0)) == NULL)
		die("store_select");
	ok(store_copy(mb, seqs, 3, "b", &uv, uids) == 0, "copy");
	ok(store_savedate(store_rec(mb, 1)) >= time(NULL) - 60,
	    "a save date");
	store_unselect(mb);
	ok(emailids(st, "b", dst, 3) == 3 && strcmp(src[0], dst[0]) == 0 &&
	    strcmp(src[1], dst[1]) == 0 && strcmp(src[2], dst[2]) == 0,
	    "COPY keeps the EMAILIDs");
}

/* Compaction carries the email id and save date of a live message. */
static void
test_compact(struct store *st)
{
	char		 before[6][OBJECTID_SIZE], after[6][OBJECTID_SIZE];
	int64_t		 saved;
	struct mailbox	*mb;
	uint32_t	 seqs[4] = { 1, 2, 3, 4 }, *ex;
	size_t		 nex;

	store_create(st, "c");
	append_n(st, "c", 6, 3000);
	emailids(st, "c", before, 6);
	if ((mb = store_select(st, "c", 0)) == NULL)
		die("store_select");
	saved = store_savedate(store_rec(mb, 6));
	store_flags(mb, seqs, 4, STORE_ADD, FL_DELETED, 0);
	if (store_expunge(mb, NULL, &ex, &nex, NULL) == -1)
		die("store_expunge");
	free(ex);
	store_unselect(mb);	/* compacts: 4 of 6 are dead */
	ok(access(path("box/c/data.2"), F_OK) == 0, "compacted");
	ok(emailids(st, "c", after, 6) == 2 &&
	    strcmp(after[0], before[4]) == 0 &&
	    strcmp(after[1], before[5]) == 0, "compaction keeps EMAILIDs");
	if ((mb = store_select(st, "c", 1)) == NULL)
		die("store_select");
	ok(saved != -1 && store_savedate(store_rec(mb, 2)) == saved,
	    "compaction keeps the save date");
	store_unselect(mb);
}

/* RFC 8474 4: RENAME keeps the MAILBOXID, DELETE and CREATE do not. */
static void
test_mailboxid(struct store *st)
{
	struct mbstatus	 s1, s2, s3;

	store_create(st, "m");
	store_status(st, "m", &s1);
	store_rename(st, "m", "n");
	ok(store_status(st, "n", &s2) == 0 &&
	    strcmp(s1.mailboxid, s2.mailboxid) == 0 &&
	    s1.mailboxid[0] == 'F', "RENAME keeps %s", s1.mailboxid);
	store_delete(st, "n");
	store_create(st, "n");
	ok(store_status(st, "n", &s3) == 0 &&
	    strcmp(s3.mailboxid, s2.mailboxid) != 0,
	    "DELETE and CREATE: %s, not %s", s3.mailboxid, s2.mailboxid);
}

/*
 * A lost counter is made again past the largest email id any mailbox
 * header holds: no EMAILID is given twice.
 */
static void
test_counter_lost(void)
{
	char		 ids[8][OBJECTID_SIZE];
	unsigned long	 top = 0, next;
	struct store	*st;
	uint32_t	 n, i;

	if ((st = store_open(dir)) == NULL)
		die("store_open");
	n = emailids(st, "a", ids, 8);
	for (i = 0; i < n; i++)
		if (idnum(ids[i]) > top)
			top = idnum(ids[i]);
	store_close(st);
	if (unlink(path("counter")) == -1)
		die("unlink counter");
	if ((st = store_open(dir)) == NULL)
		die("store_open");
	store_create(st, "d");
	append_n(st, "d", 1, 10);
	emailids(st, "d", ids, 1);
	next = idnum(ids[0]);
	ok(next > top, "after the counter was lost: M%lu, above M%lu", next,
	    top);
	store_close(st);
}

/*
 * Set the index header's committed count (offset 60) and its sum (FNV-1a
 * of bytes 0-123, at 124): records past the count are checked by their
 * sums when the index is read.
 */
static void
uncommit(const char *index, uint32_t committed)
{
	unsigned char	 h[128];
	uint32_t	 sum = 2166136261U;
	size_t		 i;
	int		 fd;

	if ((fd = open(path(index), O_RDWR)) == -1 ||
	    pread(fd, h, sizeof h, 0) != (ssize_t)sizeof h)
		die(index);
	memcpy(h + 60, &committed, 4);
	for (i = 0; i < 124; i++) {
		sum ^= h[i];
		sum *= 16777619U;
	}
	memcpy(h + 124, &sum, 4);
	if (pwrite(fd, h, sizeof h, 0) != (ssize_t)sizeof h)
		die(index);
	close(fd);
}

/*
 * A record of an older store: email id and save date 0, the sum over
 * bytes 0-3 and 24-47 only (FNV-1a). It still reads whole; its EMAILID
 * is L<mailbox>-<uid>, its save date none; a copy of it gets a new
 * EMAILID.
 */
static uint32_t
old_sum(const unsigned char *r)
{
	uint32_t	 h = 2166136261U;
	size_t		 i;

	for (i = 0; i < 48; i++) {
		if (i == 4)
			i = 24;
		h ^= r[i];
		h *= 16777619U;
	}
	return h;
}

static void
test_old_record(void)
{
	char		 id[OBJECTID_SIZE], cid[OBJECTID_SIZE];
	unsigned char	 rec[64];
	struct mailbox	*mb;
	struct store	*st;
	uint32_t	 sum, seq = 1, uv, uid;
	int		 fd;

	if ((st = store_open(dir)) == NULL)
		die("store_open");
	store_create(st, "old");
	append_n(st, "old", 1, 10);
	if ((fd = open(path("box/old/index"), O_RDWR)) == -1 ||
	    pread(fd, rec, 64, 128) != 64)
		die("index");
	memset(rec + 48, 0, 12);	/* cache word, email id */
	sum = old_sum(rec);
	memcpy(rec + 60, &sum, 4);
	if (pwrite(fd, rec, 64, 128) != 64)
		die("index");
	close(fd);
	uncommit("box/old/index", 0);
	if ((mb = store_select(st, "old", 0)) == NULL)
		die("store_select");
	ok(store_exists(mb) == 1, "an older store's record reads whole");
	store_emailid(mb, store_rec(mb, 1), id);
	ok(id[0] == 'L' && strchr(id, '-') != NULL, "its EMAILID: %s", id);
	ok(store_savedate(store_rec(mb, 1)) == -1, "no save date");
	ok(store_copy(mb, &seq, 1, "old", &uv, &uid) == 0, "copy it");
	store_unselect(mb);
	if ((mb = store_select(st, "old", 1)) == NULL)
		die("store_select");
	store_emailid(mb, store_rec(mb, 2), cid);
	ok(cid[0] == 'M' && store_savedate(store_rec(mb, 2)) != -1,
	    "the copy: a new EMAILID %s and a save date", cid);
	store_unselect(mb);
	store_close(st);
}

/* A record whose email id was damaged fails its sum: cut off the tail. */
static void
test_sum_covers_id(void)
{
	unsigned char	 rec[64];
	struct mailbox	*mb;
	struct store	*st;
	int		 fd;

	if ((st = store_open(dir)) == NULL)
		die("store_open");
	store_create(st, "sum");
	append_n(st, "sum", 2, 10);
	if ((fd = open(path("box/sum/index"), O_RDWR)) == -1 ||
	    pread(fd, rec, 64, 128 + 64) != 64)
		die("index");
	rec[56] ^= 0x40;
	if (pwrite(fd, rec, 64, 128 + 64) != 64)
		die("index");
	close(fd);
	uncommit("box/sum/index", 0);
	mb = store_select(st, "sum", 1);
	ok(mb != NULL && store_exists(mb) == 1,
	    "a damaged email id fails the record's sum: 1 of 2 read");
	if (mb != NULL)
		store_unselect(mb);
	store_close(st);
}

int
main(void)
{
	struct store	*st;

	alarm(120);
	snprintf(dir, sizeof dir, "%s/objidtest.%ld",
	    getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (long)getpid());
	if ((st = store_open(dir)) == NULL)
		die("store_open");
	test_copy(st);
	test_compact(st);
	test_mailboxid(st);
	store_close(st);
	test_counter_lost();
	test_old_record();
	test_sum_covers_id();
	printf("objidtest: %d passed, %d failed\n", npass, nfail);
	return nfail > 0;
}
