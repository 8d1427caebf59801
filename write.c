/*
 * write.c: the writers: APPEND and COPY (data first, then the records),
 * STORE of flags and keywords, and EXPUNGE, each under index byte 0.
 */

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
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
	uint64_t	 keywords;
	int64_t		 date;
};

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
 * Append messages to a write-locked mailbox: bytes to data.G, fdatasync,
 * then all records with one pwrite and one fdatasync. The record write is
 * what makes a message exist; bytes of a writer that died before it are
 * garbage in data.G until compaction.
 */
static int
append_locked(struct store *st, struct wbox *w, const struct msgin *m,
    size_t n, uint32_t *uids_r)
{
	struct rec	*recs = NULL, last;
	struct stat	 sb;
	uint32_t	 nrec, uid;
	uint64_t	 ms;
	off_t		 off;
	size_t		 i;
	int		 dfd = -1, ret = -1;

	if (n == 0)
		return 0;
	if (ix_tail(w->ix->fd, 1, &nrec, &last) == -1)
		goto fail;
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
		goto fail;
	}
	if ((recs = calloc(n, sizeof *recs)) == NULL)
		goto fail;
	if ((dfd = ix_data_open(w->dirfd, w->h.generation, O_RDWR | O_CREAT))
	    == -1 || fstat(dfd, &sb) == -1)
		goto fail;
	off = sb.st_size;
	for (i = 0; i < n; i++) {
		const char	*p = m[i].p;
		size_t		 len = m[i].len;

		/* COPY reads one message at a time: store_data's buffer. */
		if (p == NULL && (p = store_data(m[i].src, m[i].seq,
		    SIZE_MAX, &len)) == NULL)
			goto fail;
		if (m[i].crlf ? pwrite_crlf(dfd, p, len, off, &len) == -1 :
		    st_pwrite_all(dfd, p, len, off) == -1)
			goto fail;
		recs[i].offset = (uint64_t)off;
		recs[i].size = len;
		off += (off_t)len;
	}
	if (fdatasync(dfd) == -1)
		goto fail;
	/* One mod-sequence for the whole call (RFC 7162 allows equal ones). */
	if ((ms = modseq_next(st->ctr)) == 0)
		goto fail;
	for (i = 0; i < n; i++) {
		recs[i].uid = uid + 1 + (uint32_t)i;
		recs[i].flags = m[i].flags & FL_SYSTEM;
		recs[i].keywords = m[i].keywords;
		recs[i].modseq = ms;
		recs[i].internaldate = m[i].date;
		ix_rec_seal(&recs[i]);
	}
	off = IX_HDRSIZE + (off_t)nrec * RECSIZE;
	if (st_pwrite_all(w->ix->fd, recs, n * sizeof *recs, off) == -1) {
		int e = errno;

		(void)ftruncate(w->ix->fd, off);
		errno = e;
		goto fail;
	}
	if (ms > w->h.highestmodseq)
		w->h.highestmodseq = ms;
	if (ix_hdr_write(w->ix->fd, &w->h) == -1 || fdatasync(w->ix->fd) == -1)
		goto fail;
	/*
	 * Only now are the records known whole; the count reaches the disk
	 * with the next sync, and until then readers check the records.
	 */
	w->h.committed = nrec + (uint32_t)n;
	if (ix_hdr_write(w->ix->fd, &w->h) == -1)
		goto fail;
	for (i = 0; i < n; i++)
		uids_r[i] = recs[i].uid;
	ret = 0;
fail:
	st_closefd(&dfd);
	free(recs);
	return ret;
}

int
store_append(struct store *st, const char *name, const char *msg,
    size_t len, uint32_t flags, char **keywords, size_t nkeywords,
    time_t internaldate, uint32_t *uidvalidity_r, uint32_t *uid_r)
{
	struct wbox	 w;
	struct kwlist	 kl;
	struct msgin	 m;
	size_t		 i;
	int		 kwfd = -1, bit, ret = -1;

	memset(&kl, 0, sizeof kl);
	if (ix_wbox_open(st, name, F_WRLCK, &w) == -1) {
		st_seterrno(st, "APPEND");
		return -1;
	}
	memset(&m, 0, sizeof m);
	m.p = msg;
	m.len = len;
	m.crlf = (flags & STORE_CRLF) != 0;
	m.flags = flags;
	m.keywords = 0;
	m.date = internaldate;
	if (nkeywords > 0) {
		if (kw_open_load(w.dirfd, &kl, &kwfd) == -1)
			goto fail;
		for (i = 0; i < nkeywords; i++) {
			if ((bit = kw_add(kwfd, &kl, keywords[i])) == -1)
				goto fail;
			m.keywords |= (uint64_t)1 << bit;
		}
	}
	if (append_locked(st, &w, &m, 1, uid_r) == -1)
		goto fail;
	*uidvalidity_r = w.h.uidvalidity;
	ret = 0;
fail:
	if (ret == -1)
		st_seterrno(st, "APPEND");
	st_closefd(&kwfd);
	kw_free(&kl);
	ix_wbox_close(st, &w);
	return ret;
}

/* --------------------------------------------- keywords, flags, expunge */

int
store_keyword(struct mailbox *mb, const char *name, int create)
{
	int	 r;

	if ((r = kw_find(&mb->kw, name)) != -1)
		return r;
	if (!create) {
		errno = ENOENT;
		return -1;
	}
	if (mb->readonly) {
		errno = EPERM;
		st_seterr(mb->st, "mailbox is read-only");
		return -1;
	}
	if (modseq_lock(mb->ix->fd, F_WRLCK, IX_BYTE_WRITE, 1) == -1) {
		st_seterrno(mb->st, "STORE");
		return -1;
	}
	if ((r = kw_load(mb->kwfd, &mb->kw)) != -1)
		r = kw_add(mb->kwfd, &mb->kw, name);
	st_unlock(mb->ix->fd, IX_BYTE_WRITE);
	if (r == -1) {
		if (errno == ENOSPC)
			st_seterr(mb->st, "too many keywords in this mailbox");
		else
			st_seterrno(mb->st, "STORE");
	}
	return r;
}

/* Add position pos to the runs in v (room for it was reserved). */
static void
change_add(struct change *v, size_t *n, uint64_t ms, uint32_t pos,
    uint32_t pid, uint32_t type)
{
	struct change	*c;

	if (*n > 0) {
		c = &v[*n - 1];
		if ((uint64_t)c->first + c->count == pos &&
		    c->count < UINT32_MAX) {
			c->count++;
			return;
		}
	}
	c = &v[(*n)++];
	memset(c, 0, sizeof *c);
	c->modseq = ms;
	c->first = pos;
	c->count = 1;
	c->pid = pid;
	c->type = type;
}

/*
 * Make changed records durable: write what is left of them in the
 * window, log the runs (the log is only read by live sessions, so it is
 * not fsynced), raise the header's HIGHESTMODSEQ and fdatasync. The
 * caller holds byte 0 exclusive.
 */
static int
mb_commit(struct mailbox *mb, uint64_t ms, const struct change *ch,
    size_t nch)
{
	struct ixhdr	 h;

	/*
	 * The log first: a writer that dies between the two leaves entries
	 * whose records did not change, which readers check, rather than
	 * changes no session would ever hear of.
	 */
	if (modseq_log(mb->chfd, ch, nch) == -1 || mb_win_flush(mb) == -1)
		return -1;
	if (ix_hdr_read(mb->ix->fd, &h) == -1)
		return -1;
	if (ms > h.highestmodseq)
		h.highestmodseq = ms;
	if (ix_hdr_write(mb->ix->fd, &h) == -1 || fdatasync(mb->ix->fd) == -1)
		return -1;
	if (ms > mb->highestmodseq)
		mb->highestmodseq = ms;
	return 0;
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

/* The flags and keywords a record gets from STORE; 0 if unchanged. */
static int
flags_new(const struct rec *r, int mode, uint32_t flags, uint64_t keywords,
    uint32_t *f_r, uint64_t *k_r)
{
	if (r->flags & FL_EXPUNGED)
		return 0;
	switch (mode) {
	case STORE_SET:
		*f_r = (r->flags & ~(uint32_t)FL_SYSTEM) | flags;
		*k_r = keywords;
		break;
	case STORE_ADD:
		*f_r = r->flags | flags;
		*k_r = r->keywords | keywords;
		break;
	default:
		*f_r = r->flags & ~flags;
		*k_r = r->keywords & ~keywords;
		break;
	}
	return *f_r != r->flags || *k_r != r->keywords;
}

/*
 * Two passes under the write lock: count what will change (so every
 * allocation and the MODSEQ come before the first record is touched),
 * then change the records in the window, written back one span per
 * window: STORE 1:* on 100,000 messages is about 100 pwrite calls and
 * one fdatasync.
 */
int
store_flags(struct mailbox *mb, const uint32_t *seqs, size_t n, int mode,
    uint32_t flags, uint64_t keywords)
{
	struct change	*ch = NULL;
	struct ixhdr	 h;
	struct rec	*r;
	size_t		 i, nch = 0, nchg = 0;
	uint64_t	 ms = 0, nk;
	uint32_t	 pos, nf, low = UINT32_MAX;
	int		 ret = -1;

	if (mb->readonly) {
		errno = EPERM;
		st_seterr(mb->st, "mailbox is read-only");
		return -1;
	}
	flags &= FL_SYSTEM;
	if (modseq_lock(mb->ix->fd, F_WRLCK, IX_BYTE_WRITE, 1) == -1) {
		st_seterrno(mb->st, "STORE");
		return -1;
	}
	mb_win_drop(mb);
	if (ix_hdr_read(mb->ix->fd, &h) == -1)
		goto out;
	for (i = 0; i < n; i++) {
		if (seqs[i] == 0 || seqs[i] > mb->nview)
			continue;
		pos = mb_seq_pos(mb, seqs[i] - 1);
		if ((r = mb_rec(mb, pos)) == NULL)
			goto out;
		if (!flags_new(r, mode, flags, keywords, &nf, &nk))
			continue;
		nchg++;
		if ((r->flags & FL_SEEN) && !(nf & FL_SEEN) &&
		    pos < h.seen_low && pos < low)
			low = pos;
	}
	if (nchg == 0) {
		ret = 0;
		goto out;
	}
	if ((ch = st_xrealloc(NULL, nchg, sizeof *ch)) == NULL)
		goto out;
	/* One MODSEQ for the whole command (RFC 7162 3.1). */
	if ((ms = modseq_next(mb->st->ctr)) == 0)
		goto out;
	if (low != UINT32_MAX) {
		h.seen_low = low;
		if (hdr_first(mb, &h) == -1)
			goto out;
	}
	for (i = 0; i < n; i++) {
		if (seqs[i] == 0 || seqs[i] > mb->nview)
			continue;
		pos = mb_seq_pos(mb, seqs[i] - 1);
		if ((r = mb_rec(mb, pos)) == NULL)
			goto out;
		if (!flags_new(r, mode, flags, keywords, &nf, &nk))
			continue;	/* unchanged records keep MODSEQ */
		r->flags = nf;
		r->keywords = nk;
		r->modseq = ms;
		mb_win_dirty(mb, pos);
		change_add(ch, &nch, ms, pos, mb->pid, CHANGE_FLAGS);
	}
	if (mb_commit(mb, ms, ch, nch) == -1)
		goto out;
	ret = 0;
out:
	if (ret == -1) {
		st_seterrno(mb->st, "STORE");
		mb_win_drop(mb);
	}
	st_unlock(mb->ix->fd, IX_BYTE_WRITE);
	free(ch);
	return ret;
}

/* \Deleted and, for UID EXPUNGE (RFC 4315 2.1), in the UID set. */
static int
expungeable(const struct rec *r, const struct seqset *uids)
{
	return (r->flags & (FL_DELETED | FL_EXPUNGED)) == FL_DELETED &&
	    (uids == NULL || parse_seqset_has(uids, r->uid));
}

int
store_expunge(struct mailbox *mb, const struct seqset *uids, uint32_t **seqs_r,
    size_t *n_r)
{
	struct change	*ch = NULL;
	struct ixhdr	 h;
	struct rec	*r;
	uint32_t	*seqs = NULL, pos;
	size_t		 i, o, k, nch = 0, ns = 0, cnt = 0;
	uint64_t	 ms;

	*seqs_r = NULL;
	*n_r = 0;
	if (mb->readonly) {
		errno = EPERM;
		st_seterr(mb->st, "mailbox is read-only");
		return -1;
	}
	if (modseq_lock(mb->ix->fd, F_WRLCK, IX_BYTE_WRITE, 1) == -1) {
		st_seterrno(mb->st, "EXPUNGE");
		return -1;
	}
	mb_win_drop(mb);
	for (i = 0; i < mb->nview; i++) {
		if ((r = mb_rec(mb, mb_seq_pos(mb, i))) == NULL)
			goto fail;
		if (expungeable(r, uids))
			cnt++;
	}
	if (cnt == 0) {
		st_unlock(mb->ix->fd, IX_BYTE_WRITE);
		return 0;
	}
	if ((seqs = st_xrealloc(NULL, cnt, sizeof *seqs)) == NULL ||
	    (ch = st_xrealloc(NULL, cnt, sizeof *ch)) == NULL ||
	    mb_view_own(mb) == -1 ||
	    (ms = modseq_next(mb->st->ctr)) == 0)
		goto fail;
	if (ix_hdr_read(mb->ix->fd, &h) == -1)
		goto fail;
	h.ntomb = h.ntomb > UINT32_MAX - cnt ? UINT32_MAX :
	    h.ntomb + (uint32_t)cnt;
	if (hdr_first(mb, &h) == -1)
		goto fail;
	/* Tombstones: the UID and the expunge MODSEQ stay for VANISHED. */
	for (i = 0; i < mb->nview; i++) {
		pos = mb->view[i];
		if ((r = mb_rec(mb, pos)) == NULL)
			goto fail;
		if (!expungeable(r, uids) || ns == cnt)
			continue;
		r->flags |= FL_EXPUNGED;
		r->modseq = ms;
		mb_win_dirty(mb, pos);
		change_add(ch, &nch, ms, pos, mb->pid, CHANGE_EXPUNGE);
		seqs[ns++] = (uint32_t)i + 1;
	}
	/* Out of the view (seqs is ascending here). */
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
	if (mb_commit(mb, ms, ch, nch) == -1) {
		/* The records changed; report them, the error is logged. */
		st_seterrno(mb->st, "EXPUNGE");
		mb_win_drop(mb);
	}
	st_unlock(mb->ix->fd, IX_BYTE_WRITE);
	/* Descending, so each "* n EXPUNGE" needs no renumbering. */
	for (i = 0; i < ns / 2; i++) {
		uint32_t x = seqs[i];

		seqs[i] = seqs[ns - 1 - i];
		seqs[ns - 1 - i] = x;
	}
	*seqs_r = seqs;
	*n_r = ns;
	free(ch);
	return 0;
fail:
	st_seterrno(mb->st, "EXPUNGE");
	mb_win_drop(mb);
	st_unlock(mb->ix->fd, IX_BYTE_WRITE);
	free(ch);
	free(seqs);
	return -1;
}

/* ---------------------------------------------------------------- copy */

/* The bytes are read one message at a time, while appending. */
int
store_copy(struct mailbox *mb, const uint32_t *seqs, size_t n,
    const char *dest, uint32_t *uidvalidity_r, uint32_t *uids_r)
{
	struct store		*st = mb->st;
	struct wbox		 w;
	struct kwlist		 kl;
	struct msgin		*m = NULL;
	const struct rec	*r;
	int			 map[KEYWORDS_MAX];
	size_t			 i, b;
	int			 kwfd = -1, ret = -1;

	memset(&kl, 0, sizeof kl);
	for (b = 0; b < KEYWORDS_MAX; b++)
		map[b] = -1;
	if (n == 0 || n > SIZE_MAX / sizeof *m) {
		errno = EINVAL;
		st_seterr(st, "COPY: nothing to copy");
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
	for (i = 0; i < n; i++) {
		if (seqs[i] == 0 || seqs[i] > mb->nview) {
			errno = EINVAL;
			goto fail;
		}
		if ((r = store_rec(mb, seqs[i])) == NULL)
			goto fail;
		m[i].src = mb;
		m[i].seq = seqs[i];
		m[i].flags = r->flags & FL_SYSTEM;
		m[i].date = r->internaldate;
		/* A keyword another process added since this one's sync. */
		if (mb->kw.n < KEYWORDS_MAX && (r->keywords >> mb->kw.n) != 0 &&
		    kw_load(mb->kwfd, &mb->kw) == -1)
			goto fail;
		/* Keywords go by name: bit numbers differ between mailboxes. */
		for (b = 0; b < mb->kw.n; b++) {
			if (!(r->keywords & ((uint64_t)1 << b)))
				continue;
			if (map[b] == -1) {
				if (kwfd == -1 &&
				    kw_open_load(w.dirfd, &kl, &kwfd) == -1)
					goto fail;
				if ((map[b] = kw_add(kwfd, &kl,
				    mb->kw.name[b])) == -1)
					goto fail;
			}
			m[i].keywords |= (uint64_t)1 << map[b];
		}
	}
	if (append_locked(st, &w, m, n, uids_r) == -1)
		goto fail;
	*uidvalidity_r = w.h.uidvalidity;
	ret = 0;
fail:
	if (ret == -1)
		st_seterrno(st, "COPY");
	st_closefd(&kwfd);
	kw_free(&kl);
	ix_wbox_close(st, &w);
	free(m);
	return ret;
}
