/*
 * compact.c: compaction, which rewrites a mailbox without its expunged
 * messages when the last session leaves it, and the file "expunged"
 * that keeps their UIDs.
 */

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "storeint.h"

struct xent {				/* entry of the file "expunged" */
	uint32_t	 uid;
	uint32_t	 zero;
	uint64_t	 modseq;		/* of the expunge */
};
_Static_assert(sizeof(struct xent) == 16, "expunged entry size");


static void
unlink_stale(int dirfd, uint64_t gen)
{
	DIR		*d;
	struct dirent	*de;
	char		 keep[32];
	int		 fd;

	snprintf(keep, sizeof keep, "data.%llu", (unsigned long long)gen);
	unlinkat(dirfd, "index.new", 0);
	unlinkat(dirfd, "changes.new", 0);
	unlinkat(dirfd, "kwmore.new", 0);
	if ((fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return;
	}
	while ((de = readdir(d)) != NULL)
		if (strncmp(de->d_name, "data.", 5) == 0 &&
		    strcmp(de->d_name, keep) != 0)
			unlinkat(dirfd, de->d_name, 0);
	closedir(d);
}

/* Whether uid is a tombstone among the n records of the index fd. */
static int
ix_has_tomb(int fd, uint32_t n, uint32_t uid)
{
	struct rec	 r;
	uint32_t	 lo = 0, hi = n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (st_pread_all(fd, &r, sizeof r, IX_HDRSIZE + (off_t)mid *
		    RECSIZE) == -1)
			return -1;
		if (r.uid == uid)
			return (r.flags & FL_EXPUNGED) != 0;
		if (r.uid < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

/*
 * Where this compaction's entries go in "expunged": at the end, less
 * what a compaction that died before its rename left there. Those
 * entries are tombstones still in the index, while the UIDs written by
 * every finished compaction are gone from it (and UIDs are never used
 * again): they are the run at the end whose UIDs the index holds.
 */
static int
xp_start(int xfd, int ifd, uint32_t n, off_t *off_r)
{
	struct stat	 sb;
	struct xent	 e;
	off_t		 off;
	int		 r;

	if (fstat(xfd, &sb) == -1)
		return -1;
	off = sb.st_size - sb.st_size % (off_t)sizeof e;
	while (off > 0) {
		if (st_pread_all(xfd, &e, sizeof e, off - (off_t)sizeof e)
		    == -1 ||
		    (r = ix_has_tomb(ifd, n, e.uid)) == -1)
			return -1;
		if (r == 0)
			break;
		off -= (off_t)sizeof e;
	}
	*off_r = off;
	return 0;
}

/* Copy one message from data.G to data.G+1; *off_r: where it goes. */
static int
copy_msg(int from, int to, struct rec *r, uint64_t *off_r, off_t oldsize,
    char *buf, size_t bufsz)
{
	uint64_t	 left, src, dst = *off_r;

	if (r->offset > (uint64_t)oldsize ||
	    r->size > (uint64_t)oldsize - r->offset) {
		errno = EIO;
		return -1;
	}
	for (left = r->size, src = r->offset; left > 0; ) {
		size_t k = left < bufsz ? (size_t)left : bufsz;

		if (st_pread_all(from, buf, k, (off_t)src) == -1 ||
		    st_pwrite_all(to, buf, k, (off_t)dst) == -1)
			return -1;
		left -= k;
		src += k;
		dst += k;
	}
	r->offset = *off_r;
	*off_r = dst;
	return 0;
}

/* Message bytes copied at a time. */
#define COMPACT_BUFSZ	65536

/*
 * A compaction under way: the old index's header and record count, the
 * files it reads and writes, a window of records read and one each of
 * records and tombstones waiting to be written.
 */
struct compact {
	struct ixhdr	 h;
	uint32_t	 n;		/* intact records of the old index */
	int		 oldfd;		/* data.G */
	int		 dfd;		/* data.G+1 */
	int		 ifd;		/* index.new */
	int		 xfd;		/* expunged */
	off_t		 oldsize;	/* of data.G */
	uint64_t	 off;		/* where the next message goes */
	off_t		 ioff, xoff;	/* where out and xv go */
	struct rec	*in, *out;
	struct xent	*xv;
	struct kwment	*kv;		/* "kwmore" entries of live records */
	size_t		 nk, capk;
	uint32_t	 nout, nx;	/* waiting in out and in xv */
	uint32_t	 live, seen_low;
	uint32_t	*tpos;		/* old positions of tombstones */
	size_t		 ntpos, captpos;
	char		*buf;		/* COMPACT_BUFSZ bytes */
};

/* Byte 1, then byte 0, both exclusive; then the header and the records. */
static int
compact_lock(struct mailbox *mb, struct compact *c, struct rec *last)
{
	if (modseq_lock(mb->ix->fd, F_WRLCK, IX_BYTE_SELECT, 0) == -1)
		return -1;
	if (modseq_lock(mb->ix->fd, F_WRLCK, IX_BYTE_WRITE, 1) == -1)
		return -1;	/* the close in ix_put drops both */
	if (ix_hdr_read(mb->ix->fd, &c->h) == -1 ||
	    (c->h.hflags & HDR_DELETED))
		return -1;
	return ix_tail(mb->ix->fd, 1, &c->n, last);
}

static int
compact_alloc(struct compact *c)
{
	if ((c->in = buf_array(NULL, WIN_RECS, sizeof *c->in)) == NULL ||
	    (c->out = buf_array(NULL, WIN_RECS, sizeof *c->out)) == NULL ||
	    (c->xv = buf_array(NULL, WIN_RECS, sizeof *c->xv)) == NULL ||
	    (c->buf = malloc(COMPACT_BUFSZ)) == NULL)
		return -1;
	return 0;
}

/* data.G to read; data.G+1, index.new and the end of "expunged" to write. */
static int
compact_open(struct mailbox *mb, struct compact *c, uint64_t newgen)
{
	struct stat	 sb;

	if ((c->oldfd = ix_data_open(mb->dirfd, c->h.generation, O_RDONLY))
	    == -1 || fstat(c->oldfd, &sb) == -1)
		return -1;
	c->oldsize = sb.st_size;
	if ((c->dfd = ix_data_open(mb->dirfd, newgen, O_WRONLY | O_CREAT |
	    O_TRUNC)) == -1)
		return -1;
	if ((c->ifd = openat(mb->dirfd, "index.new", O_WRONLY | O_CREAT |
	    O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600)) == -1)
		return -1;
	if ((c->xfd = openat(mb->dirfd, "expunged", O_RDWR | O_CREAT |
	    O_NOFOLLOW | O_CLOEXEC, 0600)) == -1 ||
	    xp_start(c->xfd, mb->ix->fd, c->n, &c->xoff) == -1)
		return -1;
	return 0;
}

/* Write the tombstones waiting in xv (none: nothing is written). */
static int
compact_put_tombs(struct compact *c)
{
	if (st_pwrite_all(c->xfd, c->xv, c->nx * sizeof *c->xv, c->xoff) == -1)
		return -1;
	c->xoff += (off_t)(c->nx * sizeof *c->xv);
	c->nx = 0;
	return 0;
}

/* Write the records waiting in out (none: nothing is written). */
static int
compact_put_recs(struct compact *c)
{
	if (st_pwrite_all(c->ifd, c->out, c->nout * sizeof *c->out, c->ioff)
	    == -1)
		return -1;
	c->ioff += (off_t)(c->nout * sizeof *c->out);
	c->nout = 0;
	return 0;
}

/* A tombstone moves out to "expunged" as (UID, MODSEQ). */
static int
compact_tomb(struct compact *c, const struct rec *r, uint32_t pos)
{
	struct xent	*x = &c->xv[c->nx];
	uint32_t	*v;

	/* Noted, to move the change log's runs down past it. */
	if ((v = buf_grow(c->tpos, &c->captpos, c->ntpos, sizeof *v)) == NULL)
		return -1;
	c->tpos = v;
	c->tpos[c->ntpos++] = pos;
	memset(x, 0, sizeof *x);
	x->uid = r->uid;
	x->modseq = r->modseq;
	if (++c->nx < WIN_RECS)
		return 0;
	return compact_put_tombs(c);
}

/* The "kwmore" entry a live record keeps, as kwmore.new will hold it. */
static int
compact_kwmore(struct mailbox *mb, struct compact *c, struct rec *r)
{
	struct kwset	 ks;
	struct kwment	*v;

	if (!(r->flags & FL_KWMORE))
		return 0;
	if (kwm_get(mb, r, &ks) == -1)
		return -1;
	if (!kwset_more(&ks)) {		/* its entry is lost: say so */
		r->flags &= ~(uint32_t)FL_KWMORE;
		return 0;
	}
	if ((v = buf_grow(c->kv, &c->capk, c->nk, sizeof *v)) == NULL)
		return -1;
	c->kv = v;
	kwm_entry(&c->kv[c->nk], r->uid, &ks);
	c->kv[c->nk++].modseq = r->modseq;
	return 0;
}

/* A live message goes to data.G+1, its record to index.new. */
static int
compact_live(struct mailbox *mb, struct compact *c, struct rec *r)
{
	if (copy_msg(c->oldfd, c->dfd, r, &c->off, c->oldsize, c->buf,
	    COMPACT_BUFSZ) == -1 || compact_kwmore(mb, c, r) == -1)
		return -1;
	ix_rec_set_cachepos(r, 0);	/* the cache starts again */
	ix_rec_seal(r);
	if (c->seen_low == UINT32_MAX && !(r->flags & FL_SEEN))
		c->seen_low = c->live;
	c->live++;
	c->out[c->nout++] = *r;
	if (c->nout < WIN_RECS)
		return 0;
	return compact_put_recs(c);
}

/* Every record of the old index, read WIN_RECS at a time. */
static int
compact_copy(struct mailbox *mb, struct compact *c)
{
	uint32_t	 i, k, cnt;
	int		 r;

	for (i = 0; i < c->n; i += cnt) {
		cnt = c->n - i < WIN_RECS ? c->n - i : WIN_RECS;
		if (st_pread_all(mb->ix->fd, c->in, (size_t)cnt * sizeof *c->in,
		    IX_HDRSIZE + (off_t)i * RECSIZE) == -1)
			return -1;
		for (k = 0; k < cnt; k++) {
			if (c->in[k].flags & FL_EXPUNGED)
				r = compact_tomb(c, &c->in[k], i + k);
			else
				r = compact_live(mb, c, &c->in[k]);
			if (r == -1)
				return -1;
		}
	}
	if (compact_put_tombs(c) == -1 || compact_put_recs(c) == -1)
		return -1;
	return 0;
}

/* Tombstones before old position pos: how far its record moves down. */
static uint32_t
tombs_below(const struct compact *c, uint64_t pos)
{
	return (uint32_t)st_u32_lower(c->tpos, c->ntpos, pos);
}

/*
 * A flag or append entry at the records' new positions: a run of old
 * positions is one run still, once its tombstones are gone. 0: drop it
 * (an expunge, now in "expunged", or a run of tombstones only).
 */
static int
log_move(const struct compact *c, struct change *e)
{
	uint64_t	 lo, hi;

	if (e->type != CHANGE_FLAGS && e->type != CHANGE_APPEND)
		return 0;
	lo = e->first;
	hi = lo + e->count;
	if (hi > c->n)		/* records an appender never wrote */
		hi = c->n;
	if (lo >= hi)
		return 0;
	lo -= tombs_below(c, lo);
	hi -= tombs_below(c, hi);
	e->first = (uint32_t)lo;
	e->count = (uint32_t)(hi - lo);
	return hi > lo;
}

/*
 * Write "changes.new": the base of generation gen with its floor, then
 * the n entries at ch[1] on (ch[0] is room for the base); synced.
 */
static int
compact_log_write(int dirfd, uint64_t gen, uint64_t floor,
    struct change *ch, size_t n)
{
	int	 fd, r;

	modseq_base(&ch[0], gen, floor);
	if ((fd = openat(dirfd, "changes.new", O_WRONLY | O_CREAT | O_TRUNC |
	    O_NOFOLLOW | O_CLOEXEC, 0600)) == -1)
		return -1;
	r = st_pwrite_all(fd, ch, (n + 1) * sizeof *ch, 0) == -1 ||
	    fsync(fd) == -1 ? -1 : 0;
	st_closefd(&fd);
	return r;
}

/*
 * The change log of the new index: the old one's flag and append entries
 * moved (log_move), at most CHLOG_KEEP plus one per four messages, the
 * oldest dropped and the floor raised past them. An old log that is not
 * this index's keeps nothing: its floor is HIGHESTMODSEQ.
 */
static int
compact_log(struct mailbox *mb, struct compact *c, uint64_t newgen)
{
	struct change	*ch = NULL;
	struct stat	 sb;
	uint64_t	 floor = c->h.highestmodseq;
	size_t		 i, o = 1, keep = CHLOG_KEEP + c->live / 4;
	ssize_t		 n;
	int		 r;

	if (fstat(mb->chfd, &sb) == -1 ||
	    (n = modseq_read(mb->chfd, 0, sb.st_size, &ch)) == -1)
		return -1;
	if (n == 0 && (ch = malloc(sizeof *ch)) == NULL)
		return -1;
	if (n > 0 && modseq_base_ok(&ch[0], c->h.generation)) {
		floor = ch[0].modseq;
		for (i = 1; i < (size_t)n; i++)
			if (log_move(c, &ch[i]))
				ch[o++] = ch[i];
	}
	if (o - 1 > keep) {
		floor = ch[o - 1 - keep].modseq;
		memmove(&ch[1], &ch[o - keep], keep * sizeof *ch);
		o = keep + 1;
	}
	r = compact_log_write(mb->dirfd, newgen, floor, ch, o - 1);
	free(ch);
	return r;
}

/* index.new's header: generation G+1, no tombstone; synced. */
static int
compact_put_header(struct compact *c, uint64_t newgen)
{
	c->h.generation = newgen;
	c->h.ntomb = 0;
	c->h.committed = c->live;	/* fsync'd below, before the rename */
	c->h.seen_low = c->seen_low == UINT32_MAX ? c->live : c->seen_low;
	ix_hdr_seal(&c->h);
	if (st_pwrite_all(c->ifd, &c->h, sizeof c->h, 0) == -1 ||
	    fsync(c->ifd) == -1)
		return -1;
	return 0;
}

/*
 * Write data.G+1, the tombstones at the end of "expunged" and index.new,
 * and sync them: all that is new is on disk before the switch.
 */
static int
compact_write(struct mailbox *mb, struct compact *c, uint64_t newgen,
    const struct rec *last)
{
	if (compact_open(mb, c, newgen) == -1)
		return -1;
	if (c->n > 0 && last->uid > c->h.uidmax)
		c->h.uidmax = last->uid;
	if (compact_copy(mb, c) == -1 || compact_log(mb, c, newgen) == -1 ||
	    kwm_rewrite(mb->dirfd, c->kv, c->nk) == -1)
		return -1;
	if (fsync(c->dfd) == -1 || fsync(c->xfd) == -1)
		return -1;
	return compact_put_header(c, newgen);
}

/* Rename index.new over index, the step that switches. */
static int
compact_switch(struct mailbox *mb, const struct compact *c)
{
	/* "expunged" may be new: its name must not be lost with the switch. */
	if (fsync(mb->dirfd) == -1)
		return -1;
	if (cache_open(mb) == 0 && ftruncate(mb->cachefd, 0) == -1)
		return -1;
	/*
	 * The new log goes first. Either rename alone (a crash between)
	 * leaves a log whose base names another generation: it answers
	 * nothing until compact_maybe starts it again.
	 */
	if (renameat(mb->dirfd, "changes.new", mb->dirfd, "changes") == -1)
		return -1;
	/*
	 * "kwmore" holds an entry for each live record of either index: the
	 * old index with the new file (a crash between) misses only those
	 * of tombstones. No live record with keywords past 63: no file.
	 */
	if (c->nk > 0 ? renameat(mb->dirfd, "kwmore.new", mb->dirfd,
	    "kwmore") == -1 : (unlinkat(mb->dirfd, "kwmore", 0) == -1 &&
	    errno != ENOENT))
		return -1;
	return renameat(mb->dirfd, "index.new", mb->dirfd, "index");
}

/* A compaction that did not switch removes the files it wrote. */
static void
compact_end(struct mailbox *mb, struct compact *c, int done,
    const char *newname)
{
	if (!done && c->dfd != -1) {
		unlinkat(mb->dirfd, "index.new", 0);
		unlinkat(mb->dirfd, "changes.new", 0);
		unlinkat(mb->dirfd, "kwmore.new", 0);
		unlinkat(mb->dirfd, newname, 0);
	}
	st_closefd(&c->dfd);
	st_closefd(&c->ifd);
	st_closefd(&c->oldfd);
	st_closefd(&c->xfd);
	free(c->in);
	free(c->out);
	free(c->xv);
	free(c->kv);
	free(c->tpos);
	free(c->buf);
}

/*
 * Rewrite the mailbox without the bytes of expunged messages and without
 * their records. Only when no other process has it selected (byte 1
 * exclusive), so no session can still need a ghost (RFC 2180 4.1.1) or
 * know a record position. Tombstones go to the end of "expunged" as
 * (UID, MODSEQ), so QRESYNC's VANISHED can still be exact; the new index
 * holds live records only, ntomb 0, and uidmax keeps UIDNEXT from going
 * back below a UID moved out. New files are written beside the old
 * ones; renaming index.new over index is the step that switches. It
 * streams: WIN_RECS records and 64 kB of bytes at a time.
 */
static void
compact_run(struct mailbox *mb)
{
	struct compact	 c;
	struct rec	 last;
	uint64_t	 newgen;
	char		 oldname[32], newname[32];
	int		 done = 0;

	memset(&c, 0, sizeof c);
	c.oldfd = c.dfd = c.ifd = c.xfd = -1;
	c.ioff = IX_HDRSIZE;
	c.seen_low = UINT32_MAX;
	if (compact_lock(mb, &c, &last) == -1)
		return;
	kwm_locked(mb->kwm, 1);		/* byte 0 is held */
	if (compact_alloc(&c) == -1)
		goto out;
	unlink_stale(mb->dirfd, c.h.generation);
	newgen = c.h.generation + 1;
	snprintf(oldname, sizeof oldname, "data.%llu",
	    (unsigned long long)c.h.generation);
	snprintf(newname, sizeof newname, "data.%llu",
	    (unsigned long long)newgen);
	if (compact_write(mb, &c, newgen, &last) == -1 ||
	    compact_switch(mb, &c) == -1)
		goto out;
	done = 1;
	/* The old data goes only once the switch is sure to stay. */
	if (fsync(mb->dirfd) == 0)
		unlinkat(mb->dirfd, oldname, 0);
out:
	kwm_locked(mb->kwm, 0);
	compact_end(mb, &c, done, newname);
}

/* Bytes of expunged messages whose data is still in data.G. */
static uint64_t
compact_dead_bytes(const struct mailbox *mb)
{
	const struct rec *r;
	uint64_t	 dead = 0;
	uint32_t	 i;

	for (i = 0; i < mb->nrecs; i++) {
		if ((r = mb_rec(mb, i)) == NULL)
			return 0;
		if (r->flags & FL_EXPUNGED)
			dead += r->size;
	}
	return dead;
}

/*
 * Whether the change log is this index's: an old store's, or one a
 * crash left between the renames of compact_switch, is not.
 */
static int
log_current(const struct mailbox *mb)
{
	struct change	 c;

	return st_pread_all(mb->chfd, &c, sizeof c, 0) == 0 &&
	    modseq_base_ok(&c, mb->generation);
}

/*
 * Start a log that is not the index's again, empty, its floor at
 * HIGHESTMODSEQ: it answers CHANGEDSINCE from there on. Only when no
 * other session reads it (byte 1, as for compaction).
 */
static void
log_restart(struct mailbox *mb)
{
	struct change	 base;
	struct ixhdr	 h;

	if (modseq_lock(mb->ix->fd, F_WRLCK, IX_BYTE_SELECT, 0) == -1 ||
	    modseq_lock(mb->ix->fd, F_WRLCK, IX_BYTE_WRITE, 1) == -1)
		return;		/* the close in ix_put drops both */
	if (ix_hdr_read(mb->ix->fd, &h) == 0 &&
	    compact_log_write(mb->dirfd, h.generation, h.highestmodseq,
	    &base, 0) == 0 &&
	    renameat(mb->dirfd, "changes.new", mb->dirfd, "changes") == -1)
		unlinkat(mb->dirfd, "changes.new", 0);
	st_unlock(mb->ix->fd, IX_BYTE_WRITE);
}

/*
 * Compaction is tried when a read-write session leaves a mailbox whose
 * header counts tombstones (none: nothing to read) and whose expunged
 * bytes are more than half of data.G; else a log that is not the
 * index's is started again.
 */
void
compact_maybe(struct mailbox *mb)
{
	struct ixhdr	 h;
	struct stat	 sb;

	if (mb->readonly || mb->ix->refs != 1)
		return;
	if (ix_hdr_peek(mb->ix->fd, &h) == 0 && h.ntomb > 0 &&
	    fstat(mb->datafd, &sb) == 0 && sb.st_size > 0 &&
	    compact_dead_bytes(mb) > (uint64_t)sb.st_size / 2)
		compact_run(mb);
	else if (!log_current(mb))
		log_restart(mb);
}
