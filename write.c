/*
 * write.c: the writers: APPEND and COPY (data first, then the records),
 * STORE of flags and keywords, EXPUNGE, and MOVE (a COPY and an EXPUNGE
 * under both mailboxes' locks), each under index byte 0.
 */

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "storeint.h"

/* -------------------------------------------------------------- append */

struct msgin {
	const char	*p;		/* the bytes, or NULL: those of */
	size_t		 len;
	int		 crlf;		/* store bare LF as CRLF */
	struct mailbox	*src;		/* msg seq of src (COPY) */
	uint32_t	 seq;
	uint32_t	 flags;
	uint64_t	 keywords;	/* 0-63 */
	uint32_t	 more;		/* the rest: entry more - 1, 0: none */
	int64_t		 date;
	uint32_t	 emailid;	/* COPY: the source's (0: a new one) */
};

/* The "kwmore" entries of one command. */
struct kwents {
	struct kwment	*v;
	size_t		 n, cap;
};

static int
kwents_push(struct kwents *ke, uint32_t uid, const struct kwset *ks)
{
	struct kwment	*v;

	if ((v = buf_grow(ke->v, &ke->cap, ke->n, sizeof *v)) == NULL)
		return -1;
	ke->v = v;
	kwm_entry(&ke->v[ke->n++], uid, ks);
	return 0;
}

/* Their MODSEQ, the command's, and the write and sync, before the records. */
static int
kwents_write(int dirfd, struct kwents *ke, uint64_t ms)
{
	size_t	 i;

	for (i = 0; i < ke->n; i++)
		ke->v[i].modseq = ms;
	return kwm_append(dirfd, ke->v, ke->n);
}

/* An LF at p[i] that is not the end of a CRLF. */
static int
bare_lf(const char *p, size_t i)
{
	return p[i] == '\n' && (i == 0 || p[i - 1] != '\r');
}

size_t
store_crlf_size(const char *p, size_t len)
{
	size_t		 i, n = len;

	for (i = 0; i < len; i++)
		n += bare_lf(p, i);
	return n;
}

/*
 * Write a message with its bare LFs made CRLF (RFC 5322 line ends, so
 * RFC822.SIZE counts what FETCH sends), through a small buffer: the
 * caller's copy is the only one, whatever the message's size.
 */
static int
pwrite_crlf(int fd, const char *p, size_t len, off_t off, size_t *len_r)
{
	char		 buf[16384];
	size_t		 i, n = 0, done = 0;

	for (i = 0; i < len; i++) {
		if (n > sizeof buf - 2) {
			if (st_pwrite_all(fd, buf, n, off + (off_t)done) == -1)
				return -1;
			done += n;
			n = 0;
		}
		if (bare_lf(p, i))
			buf[n++] = '\r';
		buf[n++] = p[i];
	}
	if (n > 0 && st_pwrite_all(fd, buf, n, off + (off_t)done) == -1)
		return -1;
	*len_r = done + n;
	return 0;
}

/*
 * The bytes of the messages at the end of data.G, then fdatasync: the
 * records (recs, offset and size) are written only after.
 */
static int
append_bytes(struct wbox *w, const struct msgin *m, size_t n,
    struct rec *recs)
{
	struct stat	 sb;
	off_t		 off;
	size_t		 i;
	int		 dfd, ret = -1;

	if ((dfd = ix_data_open(w->dirfd, w->h.generation, O_RDWR | O_CREAT))
	    == -1 || fstat(dfd, &sb) == -1)
		goto out;
	off = sb.st_size;
	for (i = 0; i < n; i++) {
		const char	*p = m[i].p;
		size_t		 len = m[i].len;

		/* COPY reads one message at a time: store_data's buffer. */
		if (p == NULL && (p = store_data(m[i].src, m[i].seq,
		    SIZE_MAX, &len)) == NULL)
			goto out;
		if (m[i].crlf ? pwrite_crlf(dfd, p, len, off, &len) == -1 :
		    st_pwrite_all(dfd, p, len, off) == -1)
			goto out;
		recs[i].offset = (uint64_t)off;
		recs[i].size = len;
		off += (off_t)len;
	}
	if (fdatasync(dfd) == -1)
		goto out;
	ret = 0;
out:
	st_closefd(&dfd);
	return ret;
}

/* The change log entry of n records appended at position nrec. */
static int
append_log(struct wbox *w, uint64_t ms, uint32_t nrec, size_t n)
{
	struct change	 c;
	int		 fd, r;

	memset(&c, 0, sizeof c);
	c.modseq = ms;
	c.first = nrec;
	c.count = (uint32_t)n;
	c.pid = (uint32_t)getpid();
	c.type = CHANGE_APPEND;
	if ((fd = openat(w->dirfd, "changes", O_WRONLY | O_APPEND |
	    O_NOFOLLOW | O_CLOEXEC)) == -1)
		return -1;
	r = modseq_log(fd, &c, 1);
	st_closefd(&fd);
	return r;
}

/*
 * Each record's EMAILID number (RFC 8474 5.1): a copy's is its source's,
 * a new message's (or the copy of an older store's message, which has
 * none) a new one from the counter, taken with the mod-sequence; and
 * the save date (RFC 8514 3), now for every one. The mailbox header
 * keeps the highest number, from which a lost counter is recovered.
 */
static uint64_t
append_ids(struct store *st, struct wbox *w, const struct msgin *m,
    struct rec *recs, size_t n)
{
	time_t		 now = time(NULL);
	uint64_t	 ms;
	uint32_t	 id = 0, nnew = 0;
	size_t		 i;

	for (i = 0; i < n; i++)
		nnew += m[i].emailid == 0;
	if ((ms = modseq_next_ids(st->ctr, nnew, &id)) == 0)
		return 0;
	for (i = 0; i < n; i++) {
		recs[i].emailid = m[i].emailid != 0 ? m[i].emailid : id++;
		ix_rec_set_savedate(&recs[i], now);
		if (recs[i].emailid > w->h.emailmax)
			w->h.emailmax = recs[i].emailid;
	}
	return ms;
}

/*
 * The records after the last intact one (nrec), UIDs from uid + 1, with
 * one pwrite and one fdatasync, their "kwmore" entries and the log
 * first; then the header's committed count.
 */
static int
append_records(struct store *st, struct wbox *w, const struct msgin *m,
    struct kwents *ke, struct rec *recs, size_t n, uint32_t nrec,
    uint32_t uid)
{
	uint64_t	 ms;
	off_t		 off;
	size_t		 i;

	/* One mod-sequence for the whole call (RFC 7162 allows equal ones). */
	if ((ms = append_ids(st, w, m, recs, n)) == 0)
		return -1;
	for (i = 0; i < n; i++) {
		recs[i].uid = uid + 1 + (uint32_t)i;
		recs[i].flags = m[i].flags & FL_SYSTEM;
		recs[i].keywords = m[i].keywords;
		recs[i].modseq = ms;
		recs[i].internaldate = m[i].date;
		if (m[i].more != 0) {
			recs[i].flags |= FL_KWMORE;
			ke->v[m[i].more - 1].uid = recs[i].uid;
		}
		ix_rec_seal(&recs[i]);
	}
	if ((ke != NULL && kwents_write(w->dirfd, ke, ms) == -1) ||
	    append_log(w, ms, nrec, n) == -1)
		return -1;
	off = IX_HDRSIZE + (off_t)nrec * RECSIZE;
	if (st_pwrite_all(w->ix->fd, recs, n * sizeof *recs, off) == -1) {
		int e = errno;

		(void)ftruncate(w->ix->fd, off);
		errno = e;
		return -1;
	}
	if (ms > w->h.highestmodseq)
		w->h.highestmodseq = ms;
	if (ix_hdr_write(w->ix->fd, &w->h) == -1 || fdatasync(w->ix->fd) == -1)
		return -1;
	/*
	 * Only now are the records known whole; the count reaches the disk
	 * with the next sync, and until then readers check the records.
	 */
	w->h.committed = nrec + (uint32_t)n;
	w->h.synced = w->h.highestmodseq;
	return ix_hdr_write(w->ix->fd, &w->h);
}

/*
 * Append messages to a write-locked mailbox: bytes to data.G, fdatasync,
 * then all records with one pwrite and one fdatasync. The record write is
 * what makes a message exist; bytes of a writer that died before it are
 * garbage in data.G until compaction.
 */
static int
append_locked(struct store *st, struct wbox *w, const struct msgin *m,
    struct kwents *ke, size_t n, uint32_t *uids_r)
{
	struct rec	*recs = NULL, last;
	uint32_t	 nrec, uid;
	size_t		 i;
	int		 e, ret = -1;

	if (n == 0)
		return 0;
	if (ix_tail(w->ix->fd, 1, &nrec, &last) == -1)
		return -1;
	/* Compaction may have moved out tombstones above the last record. */
	uid = nrec > 0 && last.uid > w->h.uidmax ? last.uid : w->h.uidmax;
	/*
	 * seen_low can only be past the end if records it counted were
	 * lost (a power cut after an unsynced append): the new ones are not
	 * \Seen for it.
	 */
	if (w->h.seen_low > nrec)
		w->h.seen_low = nrec;
	if (n > UINT32_MAX - 1 - uid || n > SIZE_MAX / sizeof *recs) {
		errno = ENOSPC;
		return -1;
	}
	if ((recs = calloc(n, sizeof *recs)) == NULL)
		return -1;
	if (append_bytes(w, m, n, recs) == 0 &&
	    append_records(st, w, m, ke, recs, n, nrec, uid) == 0) {
		for (i = 0; i < n; i++)
			uids_r[i] = recs[i].uid;
		ret = 0;
	}
	e = errno;
	free(recs);
	errno = e;
	return ret;
}

/*
 * The keywords in the mailbox of w for the names of v, into m: the first
 * 64 in the record, the rest as a "kwmore" entry of ke.
 */
static int
append_keywords(struct wbox *w, const struct newmsg *v, struct kwlist *kl,
    int *kwfd, struct kwents *ke, struct msgin *m)
{
	struct kwset	 ks;
	size_t		 i;
	int		 bit;

	memset(&ks, 0, sizeof ks);
	if (v->nkeywords > 0 && *kwfd == -1 &&
	    kw_open_load(w->dirfd, kl, kwfd) == -1)
		return -1;
	for (i = 0; i < v->nkeywords; i++) {
		if ((bit = kw_add(*kwfd, kl, v->keywords[i])) == -1)
			return -1;
		kwset_add(&ks, (size_t)bit);
	}
	m->keywords = ks.w[0];
	if (kwset_more(&ks)) {
		if (kwents_push(ke, 0, &ks) == -1)
			return -1;
		m->more = (uint32_t)ke->n;
	}
	return 0;
}

int
store_append_n(struct store *st, const char *name, const struct newmsg *v,
    size_t n, uint32_t *uidvalidity_r, uint32_t *uids_r)
{
	struct wbox	 w;
	struct kwlist	 kl;
	struct kwents	 ke = { NULL, 0, 0 };
	struct msgin	*m;
	size_t		 i;
	int		 kwfd = -1, ret = -1;

	memset(&kl, 0, sizeof kl);
	if ((m = calloc(n, sizeof *m)) == NULL) {
		st_seterrno(st, "APPEND");
		return -1;
	}
	if (ix_wbox_open(st, name, F_WRLCK, &w) == -1) {
		st_seterrno(st, "APPEND");
		free(m);
		return -1;
	}
	for (i = 0; i < n; i++) {
		m[i].p = v[i].p;
		m[i].len = v[i].len;
		m[i].crlf = (v[i].flags & STORE_CRLF) != 0;
		m[i].flags = v[i].flags;
		m[i].date = v[i].date;
		if (append_keywords(&w, &v[i], &kl, &kwfd, &ke, &m[i]) == -1)
			goto fail;
	}
	if (append_locked(st, &w, m, &ke, n, uids_r) == -1)
		goto fail;
	w.poke = 1;
	*uidvalidity_r = w.h.uidvalidity;
	ret = 0;
fail:
	if (ret == -1)
		st_seterrno(st, "APPEND");
	st_closefd(&kwfd);
	kw_free(&kl);
	free(ke.v);
	ix_wbox_close(st, &w);
	free(m);
	return ret;
}

int
store_append(struct store *st, const char *name, const char *msg,
    size_t len, uint32_t flags, char **keywords, size_t nkeywords,
    time_t internaldate, uint32_t *uidvalidity_r, uint32_t *uid_r)
{
	struct newmsg	 v;

	v.p = msg;
	v.len = len;
	v.flags = flags;
	v.keywords = keywords;
	v.nkeywords = nkeywords;
	v.date = internaldate;
	return store_append_n(st, name, &v, 1, uidvalidity_r, uid_r);
}

/* --------------------------------------------- keywords, flags, expunge */

/*
 * Whether the mailbox was deleted by another process (EIDRM): then
 * nothing more is written to it (imapd(8): RFC 2180 3.2, the sessions
 * that have it selected read it until they leave). Under byte 0.
 */
static int
box_gone(const struct ixhdr *h)
{
	if (h->hflags & HDR_DELETED) {
		errno = EIDRM;
		return 1;
	}
	return 0;
}

int
store_keyword(struct mailbox *mb, const char *name, int create)
{
	struct ixhdr	 h;
	int		 r;

	if ((r = kw_find(&mb->kw, name)) != -1)
		return r;
	if (!create) {
		st_seterr(mb->st, ENOENT, "STORE: no such keyword");
		return -1;
	}
	if (mb->readonly) {
		st_seterr(mb->st, EPERM, "mailbox is read-only");
		return -1;
	}
	if (modseq_lock(mb->ix->fd, F_WRLCK, IX_BYTE_WRITE, 1) == -1) {
		st_seterrno(mb->st, "STORE");
		return -1;
	}
	if (ix_hdr_read(mb->ix->fd, &h) == -1 || box_gone(&h))
		r = -1;
	else if ((r = kw_load(mb->kwfd, &mb->kw)) != -1)
		r = kw_add(mb->kwfd, &mb->kw, name);
	st_unlock(mb->ix->fd, IX_BYTE_WRITE);
	if (r != -1)
		sync_poke(mb->dirfd);
	if (r == -1) {
		if (errno == ENOSPC)
			st_seterr(mb->st, ENOSPC,
			    "too many keywords in this mailbox");
		else
			st_seterrno(mb->st, "STORE");
	}
	return r;
}

/* Runs of record positions a command changes: its change log entries. */
struct runs {
	struct change	*v;
	size_t		 n, cap;
};

/* Add position pos to the runs. */
static int
runs_add(struct runs *rn, uint32_t pos, uint32_t pid, uint32_t type)
{
	struct change	*c;

	if (rn->n > 0) {
		c = &rn->v[rn->n - 1];
		if ((uint64_t)c->first + c->count == pos &&
		    c->count < UINT32_MAX) {
			c->count++;
			return 0;
		}
	}
	if ((c = buf_grow(rn->v, &rn->cap, rn->n, sizeof *c)) == NULL)
		return -1;
	rn->v = c;
	c = &rn->v[rn->n++];
	memset(c, 0, sizeof *c);
	c->first = pos;
	c->count = 1;
	c->pid = pid;
	c->type = type;
	return 0;
}

/*
 * Log the runs with the command's MODSEQ, synced, before any record
 * changes (the window is written back whenever it moves): a writer that
 * dies in between leaves entries whose records did not change, which
 * readers check, rather than changes no session would ever hear of and
 * CHANGEDSINCE would miss.
 */
static int
runs_log(struct mailbox *mb, struct runs *rn, uint64_t ms)
{
	size_t	 i;

	for (i = 0; i < rn->n; i++)
		rn->v[i].modseq = ms;
	return modseq_log(mb->chfd, rn->v, rn->n);
}

/*
 * Make changed records durable: write what is left of them in the
 * window, raise the header's HIGHESTMODSEQ and fdatasync. The caller
 * holds byte 0 exclusive and has logged the change.
 */
static int
commit_records(struct mailbox *mb, uint64_t ms)
{
	struct ixhdr	 h;

	if (mb_win_flush(mb) == -1 || ix_hdr_read(mb->ix->fd, &h) == -1)
		return -1;
	if (ms > h.highestmodseq)
		h.highestmodseq = ms;
	if (ix_hdr_write(mb->ix->fd, &h) == -1 || fdatasync(mb->ix->fd) == -1)
		return -1;
	if (ms > mb->highestmodseq)
		mb->highestmodseq = ms;
	/* Readers need not sync for these changes again (sync_read_log). */
	h.synced = h.highestmodseq;
	return ix_hdr_write(mb->ix->fd, &h);
}

/*
 * Change header fields that describe records (ntomb, seen_low) before
 * the records, with a sync between: after a crash at any point ntomb may
 * count too many tombstones, seen_low may be too low, never the other
 * way (a dense SELECT trusts ntomb == 0 and reads no record).
 */
static int
hdr_first(struct mailbox *mb, struct ixhdr *h)
{
	return ix_hdr_write(mb->ix->fd, h) == -1 ? -1 : fdatasync(mb->ix->fd);
}

/* What a STORE does: its mode, and the flags and keywords it names. */
struct flagop {
	int		 mode;
	uint32_t	 flags;
	struct kwset	 kw;
	uint64_t	 max;		/* UNCHANGEDSINCE */
	uint8_t		*failed;	/* per seqs[i]: failed the test */
};

/*
 * The flags and keywords a record (its keywords: cur) gets from STORE;
 * 0 if unchanged. FL_KWMORE says whether keywords past 63 remain.
 */
static int
flags_new(const struct rec *r, const struct kwset *cur,
    const struct flagop *op, uint32_t *f_r, struct kwset *k_r)
{
	size_t	 i;

	if (r->flags & FL_EXPUNGED)
		return 0;
	for (i = 0; i < KW_WORDS; i++)
		k_r->w[i] = op->mode == STORE_SET ? op->kw.w[i] :
		    op->mode == STORE_ADD ? cur->w[i] | op->kw.w[i] :
		    cur->w[i] & ~op->kw.w[i];
	if (op->mode == STORE_SET)
		*f_r = (r->flags & ~(uint32_t)FL_SYSTEM) | op->flags;
	else if (op->mode == STORE_ADD)
		*f_r = r->flags | op->flags;
	else
		*f_r = r->flags & ~op->flags;
	*f_r &= ~(uint32_t)FL_KWMORE;
	if (kwset_more(k_r))
		*f_r |= FL_KWMORE;
	return *f_r != r->flags || memcmp(k_r, cur, sizeof *cur) != 0;
}

/*
 * UNCHANGEDSINCE (RFC 7162 3.1.3): a message whose MODSEQ is above the
 * test fails, and an expunged one (its MODSEQ is the expunge's). One
 * MODSEQ per message could make a change to another flag fail +FLAGS
 * and -FLAGS; 3.1.12 asks not to: they fail only if a flag they name is
 * no longer in the state the client expects to change (set for -FLAGS,
 * unset for +FLAGS). FLAGS names every flag, and 0 always fails (3.1.3:
 * a system flag always exists).
 */
static int
flags_test_fails(const struct rec *r, const struct kwset *cur,
    const struct flagop *op)
{
	uint32_t	 f = r->flags & op->flags;
	int		 kany = 0, kall = 1;
	size_t		 i;

	if (r->modseq <= op->max)
		return 0;
	if ((r->flags & FL_EXPUNGED) || op->max == 0 || op->mode == STORE_SET)
		return 1;
	for (i = 0; i < KW_WORDS; i++) {
		kany |= (cur->w[i] & op->kw.w[i]) != 0;
		kall &= (cur->w[i] & op->kw.w[i]) == op->kw.w[i];
	}
	if (op->mode == STORE_ADD)
		return f != 0 || kany;
	return f != op->flags || !kall;
}

/*
 * The first pass: the records that change, as runs, their "kwmore"
 * entries, and the lowest position before the header's seen_low that
 * loses \Seen (UINT32_MAX: none).
 */
static int
flags_scan(struct mailbox *mb, const uint32_t *seqs, size_t n,
    const struct flagop *op, uint32_t seen_low, struct runs *rn,
    struct kwents *ke, uint32_t *low_r)
{
	struct rec	*r;
	struct kwset	 cur, nk;
	size_t		 i;
	uint32_t	 pos, nf;

	*low_r = UINT32_MAX;
	for (i = 0; i < n; i++) {
		if (seqs[i] == 0 || seqs[i] > mb->nview)
			continue;
		pos = mb_seq_pos(mb, seqs[i] - 1);
		if ((r = mb_rec(mb, pos)) == NULL || kwm_get(mb, r, &cur) == -1)
			return -1;
		if (op->failed != NULL && flags_test_fails(r, &cur, op)) {
			op->failed[i] = STORE_FAILED;
			continue;
		}
		/* RFC 2180 4.2: a ghost keeps its flags; the caller says so. */
		if (op->failed != NULL && (r->flags & FL_EXPUNGED)) {
			op->failed[i] = STORE_GHOST;
			continue;
		}
		if (!flags_new(r, &cur, op, &nf, &nk))
			continue;
		if (runs_add(rn, pos, mb->pid, CHANGE_FLAGS) == -1 ||
		    ((nf & FL_KWMORE) && kwents_push(ke, r->uid, &nk) == -1))
			return -1;
		if ((r->flags & FL_SEEN) && !(nf & FL_SEEN) &&
		    pos < seen_low && pos < *low_r)
			*low_r = pos;
	}
	return 0;
}

/* The second pass: change the records in the window. */
static int
flags_apply(struct mailbox *mb, const uint32_t *seqs, size_t n,
    const struct flagop *op, uint64_t ms)
{
	struct rec	*r;
	struct kwset	 cur, nk;
	size_t		 i;
	uint32_t	 pos, nf;

	for (i = 0; i < n; i++) {
		if (seqs[i] == 0 || seqs[i] > mb->nview ||
		    (op->failed != NULL && op->failed[i]))
			continue;
		pos = mb_seq_pos(mb, seqs[i] - 1);
		if ((r = mb_rec(mb, pos)) == NULL || kwm_get(mb, r, &cur) == -1)
			return -1;
		if (!flags_new(r, &cur, op, &nf, &nk))
			continue;	/* unchanged records keep MODSEQ */
		r->flags = nf;
		r->keywords = nk.w[0];
		r->modseq = ms;
		mb_win_dirty(mb, pos);
	}
	return 0;
}

/*
 * Two passes under the write lock: find what will change (so every
 * allocation, the MODSEQ and the log entries come before the first
 * record is touched), then change the records in the window, written
 * back one span per window: STORE 1:* on 100,000 messages is about 100
 * pwrite calls and two fdatasync calls.
 */
static int
flags_locked(struct mailbox *mb, const uint32_t *seqs, size_t n,
    const struct flagop *op)
{
	struct runs	 rn = { NULL, 0, 0 };
	struct kwents	 ke = { NULL, 0, 0 };
	struct ixhdr	 h;
	uint64_t	 ms;
	uint32_t	 low;
	int		 e, ret = -1;

	if (ix_hdr_read(mb->ix->fd, &h) == -1 || box_gone(&h) ||
	    flags_scan(mb, seqs, n, op, h.seen_low, &rn, &ke, &low) == -1)
		goto out;
	ret = 0;
	if (rn.n == 0)
		goto out;
	ret = -1;
	/* One MODSEQ for the whole command (RFC 7162 3.1). */
	if ((ms = modseq_next(mb->st->ctr)) == 0)
		goto out;
	if (low != UINT32_MAX) {
		h.seen_low = low;
		if (hdr_first(mb, &h) == -1)
			goto out;
	}
	if (kwents_write(mb->dirfd, &ke, ms) == -1 ||
	    runs_log(mb, &rn, ms) == -1 ||
	    flags_apply(mb, seqs, n, op, ms) == -1 ||
	    commit_records(mb, ms) == -1)
		goto out;
	ret = 0;
out:
	e = errno;
	free(rn.v);
	free(ke.v);
	errno = e;
	return ret;
}

int
store_flags(struct mailbox *mb, const uint32_t *seqs, size_t n, int mode,
    uint32_t flags, const struct kwset *keywords)
{
	return store_flags_if(mb, seqs, n, mode, flags, keywords,
	    STORE_ALWAYS, NULL);
}

/*
 * The test of UNCHANGEDSINCE max and the change are made under the write
 * lock, on the records as they are on disk then: of processes racing to
 * change a message on the same condition, one wins and the others fail
 * (a mailbox can be a work queue). failed (n bytes, zeroed by the
 * caller, or NULL) marks the seqs that failed the test (STORE_FAILED)
 * and the ghosts, expunged by another process, left alone (STORE_GHOST).
 */
int
store_flags_if(struct mailbox *mb, const uint32_t *seqs, size_t n, int mode,
    uint32_t flags, const struct kwset *keywords, uint64_t max,
    uint8_t *failed)
{
	struct flagop	 op;
	int		 ret;

	if (mb->readonly) {
		st_seterr(mb->st, EPERM, "mailbox is read-only");
		return -1;
	}
	op.mode = mode;
	op.flags = flags & FL_SYSTEM;
	memset(&op.kw, 0, sizeof op.kw);
	if (keywords != NULL)
		op.kw = *keywords;
	op.max = max;
	op.failed = failed;
	if (modseq_lock(mb->ix->fd, F_WRLCK, IX_BYTE_WRITE, 1) == -1) {
		st_seterrno(mb->st, "STORE");
		return -1;
	}
	mb_win_drop(mb);
	kwm_locked(mb->kwm, 1);
	if ((ret = flags_locked(mb, seqs, n, &op)) == -1) {
		st_seterrno(mb->st, "STORE");
		mb_win_drop(mb);
	}
	kwm_locked(mb->kwm, 0);
	st_unlock(mb->ix->fd, IX_BYTE_WRITE);
	if (ret != -1)
		sync_poke(mb->dirfd);
	return ret;
}

/*
 * What an expunge takes: the \Deleted messages, those of them in a UID
 * set (UID EXPUNGE, RFC 4315 2.1), or, for MOVE, the messages whose
 * UIDs are listed (ascending), \Deleted or not.
 */
struct xsel {
	const struct seqset	*set;
	const uint32_t		*uids;
	size_t			 n;
};

static int
uid_cmp(const void *a, const void *b)
{
	uint32_t	 x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static int
expungeable(const struct rec *r, const struct xsel *sel)
{
	if (r->flags & FL_EXPUNGED)
		return 0;
	if (sel->uids != NULL)
		return bsearch(&r->uid, sel->uids, sel->n, sizeof *sel->uids,
		    uid_cmp) != NULL;
	return (r->flags & FL_DELETED) &&
	    (sel->set == NULL || parse_seqset_has(sel->set, r->uid));
}

/*
 * The messages of the view an EXPUNGE takes: how many, and their
 * positions as runs.
 */
static int
expunge_count(struct mailbox *mb, const struct xsel *uids,
    struct runs *rn, size_t *cnt_r)
{
	struct rec	*r;
	uint32_t	 pos;
	size_t		 i;

	*cnt_r = 0;
	for (i = 0; i < mb->nview; i++) {
		pos = mb_seq_pos(mb, i);
		if ((r = mb_rec(mb, pos)) == NULL)
			return -1;
		if (!expungeable(r, uids))
			continue;
		if (runs_add(rn, pos, mb->pid, CHANGE_EXPUNGE) == -1)
			return -1;
		(*cnt_r)++;
	}
	return 0;
}

/*
 * Make at most cnt records of the view tombstones, in the window, and
 * note their sequence numbers (ascending) in seqs and their UIDs in
 * uids_r (if not NULL); *ns_r: how many.
 */
static int
expunge_mark(struct mailbox *mb, const struct xsel *uids, size_t cnt,
    uint64_t ms, uint32_t *seqs, uint32_t *uids_r, size_t *ns_r)
{
	struct rec	*r;
	uint32_t	 pos;
	size_t		 i;

	*ns_r = 0;
	/* Tombstones: the UID and the expunge MODSEQ stay for VANISHED. */
	for (i = 0; i < mb->nview; i++) {
		pos = mb->view[i];
		if ((r = mb_rec(mb, pos)) == NULL)
			return -1;
		if (!expungeable(r, uids) || *ns_r == cnt)
			continue;
		r->flags |= FL_EXPUNGED;
		r->modseq = ms;
		mb_win_dirty(mb, pos);
		if (uids_r != NULL)	/* for VANISHED (RFC 7162 3.2.7) */
			uids_r[*ns_r] = r->uid;
		seqs[(*ns_r)++] = (uint32_t)i + 1;
	}
	return 0;
}

/* Take the ns messages seqs (ascending) out of the view. */
static void
expunge_view(struct mailbox *mb, const uint32_t *seqs, size_t ns)
{
	size_t	 i, o, k;

	for (i = 0, o = 0, k = 0; i < mb->nview; i++) {
		if (k < ns && seqs[k] == i + 1) {
			k++;
			continue;
		}
		mb->view[o++] = mb->view[i];
	}
	mb->nview = o;
	mb->told -= (uint32_t)ns;
	mb->rs->recent_ok = 0;
}

/*
 * Under byte 0 exclusive: room for everything first, then ntomb raised
 * and synced (hdr_first), the runs logged, then the records marked and
 * committed.
 */
static int
expunge_locked(struct mailbox *mb, const struct xsel *uids,
    struct runs *rn, size_t cnt, uint32_t **seqs_r, size_t *n_r,
    uint32_t **uids_r)
{
	struct ixhdr	 h;
	uint32_t	*seqs = NULL, *xu = NULL;
	size_t		 ns;
	uint64_t	 ms;
	int		 e;

	if ((seqs = buf_array(NULL, cnt, sizeof *seqs)) == NULL ||
	    (uids_r != NULL &&
	    (xu = buf_array(NULL, cnt, sizeof *xu)) == NULL) ||
	    mb_view_own(mb) == -1 ||
	    (ms = modseq_next(mb->st->ctr)) == 0)
		goto fail;
	if (ix_hdr_read(mb->ix->fd, &h) == -1)
		goto fail;
	h.ntomb = h.ntomb > UINT32_MAX - cnt ? UINT32_MAX :
	    h.ntomb + (uint32_t)cnt;
	if (hdr_first(mb, &h) == -1 || runs_log(mb, rn, ms) == -1 ||
	    expunge_mark(mb, uids, cnt, ms, seqs, xu, &ns) == -1)
		goto fail;
	/* Out of the view (seqs is ascending here). */
	expunge_view(mb, seqs, ns);
	if (commit_records(mb, ms) == -1) {
		/* The records changed; report them, the error is logged. */
		st_seterrno(mb->st, "EXPUNGE");
		mb_win_drop(mb);
	}
	*seqs_r = seqs;
	*n_r = ns;
	if (uids_r != NULL)
		*uids_r = xu;
	return 0;
fail:
	e = errno;
	free(xu);
	free(seqs);
	errno = e;
	return -1;
}

/*
 * The expunge itself, under byte 0 exclusive with the window dropped:
 * the messages sel takes become tombstones, their sequence numbers
 * (ascending) in *seqs_r and, if uids_r is not NULL, their UIDs.
 */
static int
expunge_held(struct mailbox *mb, const struct xsel *sel, uint32_t **seqs_r,
    size_t *n_r, uint32_t **uids_r)
{
	struct runs	 rn = { NULL, 0, 0 };
	struct ixhdr	 h;
	size_t		 cnt = 0;
	int		 e, ret = 0;

	if (ix_hdr_read(mb->ix->fd, &h) == -1 || box_gone(&h) ||
	    expunge_count(mb, sel, &rn, &cnt) == -1 ||
	    (cnt > 0 && expunge_locked(mb, sel, &rn, cnt, seqs_r, n_r, uids_r)
	    == -1)) {
		st_seterrno(mb->st, "EXPUNGE");
		mb_win_drop(mb);
		ret = -1;
	}
	e = errno;
	free(rn.v);
	errno = e;
	return ret;
}

int
store_expunge(struct mailbox *mb, const struct seqset *uids, uint32_t **seqs_r,
    size_t *n_r, uint32_t **uids_r)
{
	struct xsel	 sel = { uids, NULL, 0 };
	int		 ret;

	*seqs_r = NULL;
	*n_r = 0;
	if (uids_r != NULL)
		*uids_r = NULL;
	if (mb->readonly) {
		st_seterr(mb->st, EPERM, "mailbox is read-only");
		return -1;
	}
	if (modseq_lock(mb->ix->fd, F_WRLCK, IX_BYTE_WRITE, 1) == -1) {
		st_seterrno(mb->st, "EXPUNGE");
		return -1;
	}
	mb_win_drop(mb);
	ret = expunge_held(mb, &sel, seqs_r, n_r, uids_r);
	st_unlock(mb->ix->fd, IX_BYTE_WRITE);
	if (ret == -1)
		return -1;
	if (*n_r > 0)
		sync_poke(mb->dirfd);
	/* Descending, so each "* n EXPUNGE" needs no renumbering. */
	st_reverse_u32(*seqs_r, *n_r);
	return 0;
}

/* ---------------------------------------------------------------- copy */

/*
 * Keywords go by name: bit numbers differ between mailboxes. map[b] is
 * the destination's bit for the source's bit b (-1: not looked up yet);
 * its keywords file is opened on first use.
 */
struct kwmap {
	int		 map[KEYWORDS_MAX];
	struct kwlist	 kl;
	int		 kwfd;
};

static void
kwmap_init(struct kwmap *km)
{
	size_t		 b;

	memset(km, 0, sizeof *km);
	km->kwfd = -1;
	for (b = 0; b < KEYWORDS_MAX; b++)
		km->map[b] = -1;
}

/* Whether ks has a keyword numbered n or above. */
static int
kw_beyond(const struct kwset *ks, size_t n)
{
	size_t	 i = n / 64;

	if (i >= KW_WORDS)
		return 0;
	if (ks->w[i] & ~(((uint64_t)1 << (n % 64)) - 1))
		return 1;
	while (++i < KW_WORDS)
		if (ks->w[i] != 0)
			return 1;
	return 0;
}

/* The destination's keywords for the source keywords kw. */
static int
copy_keywords(struct mailbox *mb, struct wbox *w, struct kwmap *km,
    const struct kwset *kw, struct kwset *bits_r)
{
	size_t		 b;
	int		 bit;

	memset(bits_r, 0, sizeof *bits_r);
	/* A keyword another process added since this one's sync. */
	if (kw_beyond(kw, mb->kw.n) && kw_load(mb->kwfd, &mb->kw) == -1)
		return -1;
	for (b = 0; b < mb->kw.n; b++) {
		if (kw->w[b / 64] == 0) {
			b |= 63;	/* the next word */
			continue;
		}
		if (!kwset_has(kw, b))
			continue;
		if ((bit = km->map[b]) == -1) {
			if (km->kwfd == -1 &&
			    kw_open_load(w->dirfd, &km->kl, &km->kwfd) == -1)
				return -1;
			if ((bit = kw_add(km->kwfd, &km->kl, mb->kw.name[b]))
			    == -1)
				return -1;
			km->map[b] = bit;
		}
		kwset_add(bits_r, (size_t)bit);
	}
	return 0;
}

/* What to append for each message: its flags, keywords and date. */
static int
copy_prepare(struct mailbox *mb, const uint32_t *seqs, size_t n,
    struct wbox *w, struct kwmap *km, struct kwents *ke, struct msgin *m)
{
	const struct rec	*r;
	struct kwset		 src, dst;
	size_t			 i;

	for (i = 0; i < n; i++) {
		if (seqs[i] == 0 || seqs[i] > mb->nview) {
			errno = EINVAL;
			return -1;
		}
		if ((r = store_rec(mb, seqs[i])) == NULL)
			return -1;
		m[i].src = mb;
		m[i].seq = seqs[i];
		m[i].flags = r->flags & FL_SYSTEM;
		m[i].date = r->internaldate;
		m[i].emailid = r->emailid;
		if (kwm_get(mb, r, &src) == -1 ||
		    copy_keywords(mb, w, km, &src, &dst) == -1)
			return -1;
		m[i].keywords = dst.w[0];
		if (kwset_more(&dst)) {
			if (kwents_push(ke, 0, &dst) == -1)
				return -1;
			m[i].more = (uint32_t)ke->n;
		}
	}
	return 0;
}

/* The bytes are read one message at a time, while appending. */
int
store_copy(struct mailbox *mb, const uint32_t *seqs, size_t n,
    const char *dest, uint32_t *uidvalidity_r, uint32_t *uids_r)
{
	struct store		*st = mb->st;
	struct wbox		 w;
	struct kwmap		 km;
	struct kwents		 ke = { NULL, 0, 0 };
	struct msgin		*m = NULL;
	int			 ret = -1;

	kwmap_init(&km);
	if (n == 0 || n > SIZE_MAX / sizeof *m) {
		st_seterr(st, EINVAL, "COPY: nothing to copy");
		return -1;
	}
	if ((m = calloc(n, sizeof *m)) == NULL) {
		st_seterrno(st, "COPY");
		return -1;
	}
	if (ix_wbox_open(st, dest, F_WRLCK, &w) == -1) {
		st_seterrno(st, "COPY");
		free(m);
		return -1;
	}
	/* A COPY into the same mailbox holds its byte 0 already. */
	kwm_locked(mb->kwm, w.ix == mb->ix);
	if (copy_prepare(mb, seqs, n, &w, &km, &ke, m) == 0 &&
	    append_locked(st, &w, m, &ke, n, uids_r) == 0) {
		*uidvalidity_r = w.h.uidvalidity;
		w.poke = 1;
		ret = 0;
	} else
		st_seterrno(st, "COPY");
	kwm_locked(mb->kwm, 0);
	free(ke.v);
	st_closefd(&km.kwfd);
	kw_free(&km.kl);
	ix_wbox_close(st, &w);
	free(m);
	return ret;
}

/* ---------------------------------------------------------------- move */

/*
 * The live messages of seqs, as the records on disk say under the
 * source's write lock: of two processes moving the same message, one
 * moves it and the other finds a ghost, so it is never copied twice.
 */
static int
move_live(struct mailbox *mb, const uint32_t *seqs, size_t n,
    uint32_t *live, struct moved *mv)
{
	const struct rec	*r;
	size_t			 i;

	for (i = 0; i < n; i++) {
		if (seqs[i] == 0 || seqs[i] > mb->nview) {
			errno = EINVAL;
			return -1;
		}
		if ((r = mb_rec(mb, mb_seq_pos(mb, seqs[i] - 1))) == NULL)
			return -1;
		if (r->flags & FL_EXPUNGED) {
			mv->ghosts++;
			continue;
		}
		live[mv->n] = seqs[i];
		mv->src[mv->n++] = r->uid;
	}
	return 0;
}

/*
 * Under the source's write lock, with the destination's taken here: the
 * copy is durable (data and records synced) before the source's expunge
 * is logged, so a crash in between leaves the messages in both
 * mailboxes, never in neither (imapd(8)). Both locks are held until
 * both mailboxes are changed: no reader of either sees half a MOVE.
 * When dest is the selected mailbox, closing w releases the one lock.
 */
static int
move_held(struct mailbox *mb, const uint32_t *live, const char *dest,
    struct moved *mv)
{
	struct store	*st = mb->st;
	struct wbox	 w;
	struct kwmap	 km;
	struct kwents	 ke = { NULL, 0, 0 };
	struct msgin	*m;
	struct xsel	 sel;
	int		 ret = -1;

	if ((m = calloc(mv->n, sizeof *m)) == NULL ||
	    ix_wbox_open(st, dest, F_WRLCK, &w) == -1) {
		st_seterrno(st, "MOVE");
		free(m);
		return -1;
	}
	kwmap_init(&km);
	if (copy_prepare(mb, live, mv->n, &w, &km, &ke, m) == -1 ||
	    append_locked(st, &w, m, &ke, mv->n, mv->dst) == -1)
		st_seterrno(st, "MOVE");
	else {
		mv->uidvalidity = w.h.uidvalidity;
		w.poke = 1;
		mb_win_drop(mb);
		sel.set = NULL;
		sel.uids = mv->src;	/* ascending, as the view */
		sel.n = mv->n;
		ret = expunge_held(mb, &sel, &mv->seqs, &mv->nx, &mv->uids);
	}
	st_closefd(&km.kwfd);
	kw_free(&km.kl);
	free(ke.v);
	ix_wbox_close(st, &w);
	free(m);
	return ret;
}

int
store_move(struct mailbox *mb, const uint32_t *seqs, size_t n,
    const char *dest, struct moved *mv)
{
	struct ixhdr	 h;
	uint32_t	*live;
	int		 ret = -1;

	memset(mv, 0, sizeof *mv);
	if (mb->readonly) {
		st_seterr(mb->st, EPERM, "mailbox is read-only");
		return -1;
	}
	if ((live = buf_array(NULL, n, sizeof *live)) == NULL ||
	    (mv->src = buf_array(NULL, n, sizeof *mv->src)) == NULL ||
	    (mv->dst = buf_array(NULL, n, sizeof *mv->dst)) == NULL ||
	    modseq_lock(mb->ix->fd, F_WRLCK, IX_BYTE_WRITE, 1) == -1) {
		st_seterrno(mb->st, "MOVE");
		free(live);
		return -1;
	}
	mb_win_drop(mb);
	if (ix_hdr_read(mb->ix->fd, &h) == -1 || box_gone(&h) ||
	    move_live(mb, seqs, n, live, mv) == -1)
		st_seterrno(mb->st, "MOVE");
	else if (mv->n == 0)
		ret = 0;
	else
		ret = move_held(mb, live, dest, mv);
	st_unlock(mb->ix->fd, IX_BYTE_WRITE);
	free(live);
	if (mv->nx > 0)
		sync_poke(mb->dirfd);
	/* Descending, so each "* n EXPUNGE" needs no renumbering. */
	st_reverse_u32(mv->seqs, mv->nx);
	return ret;
}
