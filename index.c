/*
 * index.c: the index files: records and their checksums, the header,
 * the list of open index files and their locks, the intact tail after a
 * crash, and a write-locked mailbox that is not selected (struct wbox).
 */

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "storeint.h"

static uint32_t
fnv_add(uint32_t h, const void *p, size_t len)
{
	const unsigned char	*s = p;

	while (len-- > 0) {
		h ^= *s++;
		h *= 16777619U;
	}
	return h;
}

/* FNV-1a, 32 bits: enough to tell a torn record from a whole one. */
uint32_t
ix_fnv32(const void *p, size_t len)
{
	return fnv_add(2166136261U, p, len);
}

/*
 * A record's sum covers only the fields that never change in place (UID,
 * internal date, offset, size, email id, save date): flags, keywords,
 * modseq and the cache offset are rewritten in place, and a process
 * killed halfway through such a rewrite must not make its record look
 * torn, or the next appender would cut a message off the index. The
 * email id and the save date are summed only when set, so the records of
 * an older store, zeros there, keep their sums.
 */
static uint32_t
rec_sum(const struct rec *r)
{
	uint32_t	 h, saved;

	h = fnv_add(2166136261U, &r->uid, sizeof r->uid);
	h = fnv_add(h, &r->internaldate, offsetof(struct rec, cache) -
	    offsetof(struct rec, internaldate));
	if (r->emailid != 0)
		h = fnv_add(h, &r->emailid, sizeof r->emailid);
	if (store_savedate(r) != -1) {
		saved = (uint32_t)(r->cache >> 32);
		h = fnv_add(h, &saved, sizeof saved);
	}
	return h;
}

void
ix_rec_seal(struct rec *r)
{
	r->sum = rec_sum(r);
}

static int
rec_ok(const struct rec *r)
{
	return r->sum == rec_sum(r);
}

/*
 * Damaged records must not carry a date nobody can compute with or send:
 * RFC 3501's date-year has four digits, so an INTERNALDATE is clamped to
 * 01-Jan-0000 00:00:00 .. 31-Dec-9999 23:59:59 UTC when it is read (and
 * resealed, so that a record written back is whole).
 */
#define DATE_MIN	(-62167219200LL)
#define DATE_MAX	253402300799LL

void
ix_rec_clamp(struct rec *r)
{
	if (r->internaldate >= DATE_MIN && r->internaldate <= DATE_MAX)
		return;
	r->internaldate = r->internaldate < DATE_MIN ? DATE_MIN : DATE_MAX;
	ix_rec_seal(r);
}

/*
 * rec.cache holds two values in one 64-bit word, so that a store written
 * before the save date existed, which kept the structure cache entry's
 * offset + 1 in the whole word, reads the same: the low 32 bits are that
 * offset + 1 (0: none; entries past 4 GiB of cache are not recorded),
 * the high 32 bits the save date (RFC 8514), seconds since the epoch.
 * An older store has 0 there, or for a cache file past 4 GiB a small
 * number: a value below SAVEDATE_MIN, a time before any imapd wrote
 * one, means none was recorded.
 */
#define SAVEDATE_MIN	1767225600	/* 2026-01-01 00:00:00 UTC */

uint32_t
ix_rec_cachepos(const struct rec *r)
{
	return (uint32_t)(r->cache & UINT32_MAX);
}

void
ix_rec_set_cachepos(struct rec *r, uint32_t pos)
{
	r->cache = (r->cache & ~(uint64_t)UINT32_MAX) | pos;
}

/* A time past 2106 does not fit: the message gets none. */
void
ix_rec_set_savedate(struct rec *r, time_t t)
{
	uint64_t v = t >= SAVEDATE_MIN && (uint64_t)t <= UINT32_MAX ?
	    (uint64_t)t : 0;

	r->cache = (r->cache & UINT32_MAX) | v << 32;
}

int64_t
store_savedate(const struct rec *r)
{
	uint64_t v = r->cache >> 32;

	return v >= SAVEDATE_MIN ? (int64_t)v : -1;
}

void
ix_hdr_seal(struct ixhdr *h)
{
	h->sum = ix_fnv32(h, offsetof(struct ixhdr, sum));
}

/* ------------------------------------------------------ index files */

struct ixf *
ix_get(struct store *st, int dirfd)
{
	struct ixf	*ix;
	struct stat	 sa, sb;
	int		 fd, tries;

	for (tries = 0; tries < 100; tries++) {
		if (fstatat(dirfd, "index", &sa, AT_SYMLINK_NOFOLLOW) == -1)
			return NULL;
		if (!S_ISREG(sa.st_mode)) {
			errno = EINVAL;
			return NULL;
		}
		for (ix = st->ixfs; ix != NULL; ix = ix->next)
			if (ix->dev == sa.st_dev && ix->ino == sa.st_ino) {
				ix->refs++;
				return ix;
			}
		fd = openat(dirfd, "index", O_RDWR | O_NOFOLLOW | O_CLOEXEC);
		if (fd == -1)
			return NULL;
		if (fstat(fd, &sb) == -1) {
			st_closefd(&fd);
			return NULL;
		}
		/*
		 * Replaced between the two looks (compaction). The file we
		 * opened cannot be one in the list: a listed file is in use
		 * here, which excludes compaction, so closing is safe.
		 */
		if (sb.st_dev != sa.st_dev || sb.st_ino != sa.st_ino) {
			st_closefd(&fd);
			continue;
		}
		if ((ix = malloc(sizeof *ix)) == NULL) {
			st_closefd(&fd);
			return NULL;
		}
		ix->fd = fd;
		ix->dev = sb.st_dev;
		ix->ino = sb.st_ino;
		ix->refs = 1;
		ix->next = st->ixfs;
		st->ixfs = ix;
		return ix;
	}
	errno = EAGAIN;
	return NULL;
}

void
ix_put(struct store *st, struct ixf *ix)
{
	struct ixf	**pp;

	if (ix == NULL || --ix->refs > 0)
		return;
	for (pp = &st->ixfs; *pp != NULL; pp = &(*pp)->next)
		if (*pp == ix) {
			*pp = ix->next;
			break;
		}
	st_closefd(&ix->fd);	/* and with it every lock on the file */
	free(ix);
}

/*
 * Lock a byte of an index, then make sure the file is still the one
 * named "index": a compaction may have renamed a new one over it while
 * we waited. Returns 0, 1 (stale: start again) or -1.
 */
int
ix_lock(struct ixf *ix, int dirfd, short type, off_t byte)
{
	struct stat	 sb;
	int		 keep;

	if (modseq_lock(ix->fd, type, byte, 1) == -1)
		return -1;
	/* Byte 1 may also be held for a selection of ours: keep it then. */
	keep = byte == IX_BYTE_SELECT && ix->refs > 1;
	if (fstatat(dirfd, "index", &sb, AT_SYMLINK_NOFOLLOW) == -1) {
		if (!keep)
			st_unlock(ix->fd, byte);
		return -1;
	}
	if (sb.st_dev != ix->dev || sb.st_ino != ix->ino) {
		if (!keep)
			st_unlock(ix->fd, byte);
		return 1;
	}
	return 0;
}

int
ix_hdr_read(int fd, struct ixhdr *h)
{
	if (st_pread_all(fd, h, sizeof *h, 0) == -1)
		return -1;
	if (memcmp(h->magic, IX_MAGIC, 8) != 0 || h->version != IX_VERSION ||
	    h->sum != ix_fnv32(h, offsetof(struct ixhdr, sum))) {
		errno = EIO;
		return -1;
	}
	return 0;
}

int
ix_hdr_write(int fd, struct ixhdr *h)
{
	ix_hdr_seal(h);
	return st_pwrite_all(fd, h, sizeof *h, 0);
}

/*
 * Count the intact records of an index. Records below the header's
 * committed count were synced before it was written. Past it, a writer
 * that died or a power cut can have left records partial or torn, and a
 * disk may have written the later pages of a long write and not the
 * earlier ones: the records are kept up to the first whose sum is wrong.
 * With fix (the caller holds the write lock) the rest is cut off.
 */
int
ix_tail(int fd, int fix, uint32_t *n_r, struct rec *last_r)
{
	struct stat	 sb;
	struct ixhdr	 h;
	struct rec	 r;
	off_t		 n, i;

	if (fstat(fd, &sb) == -1 || ix_hdr_read(fd, &h) == -1)
		return -1;
	if (sb.st_size < IX_HDRSIZE) {
		errno = EIO;
		return -1;
	}
	n = (sb.st_size - IX_HDRSIZE) / RECSIZE;
	if (n > (off_t)UINT32_MAX) {
		errno = EFBIG;
		return -1;
	}
	for (i = h.committed < n ? h.committed : n; i < n; i++) {
		if (st_pread_all(fd, &r, sizeof r, IX_HDRSIZE + i * RECSIZE)
		    == -1)
			return -1;
		if (!rec_ok(&r))
			break;
	}
	n = i;
	/*
	 * Whole records past the count were written by a writer that died
	 * before its sync: make them durable before anyone reports them, or a
	 * power cut could take back UIDs a client has seen.
	 */
	if (!fix && n > (off_t)h.committed && fdatasync(fd) == -1)
		return -1;
	memset(&r, 0, sizeof r);
	if (n > 0 && last_r != NULL &&
	    st_pread_all(fd, &r, sizeof r, IX_HDRSIZE + (n - 1) * RECSIZE)
	    == -1)
		return -1;
	if (fix && sb.st_size != IX_HDRSIZE + n * RECSIZE &&
	    ftruncate(fd, IX_HDRSIZE + n * RECSIZE) == -1)
		return -1;
	*n_r = (uint32_t)n;
	if (last_r != NULL)
		*last_r = r;
	return 0;
}

/*
 * Open a mailbox by name and lock its index byte 0 (type F_RDLCK or
 * F_WRLCK). A mailbox marked deleted is ENOENT.
 */
int
ix_wbox_open(struct store *st, const char *name, short type, struct wbox *w)
{
	int	 r, tries;

	w->dirfd = -1;
	w->ix = NULL;
	w->poke = 0;
	for (tries = 0; tries < 100; tries++) {
		if ((w->dirfd = name_opendir(st, name)) == -1)
			return -1;
		if ((w->ix = ix_get(st, w->dirfd)) == NULL)
			goto fail;
		r = ix_lock(w->ix, w->dirfd, type, IX_BYTE_WRITE);
		if (r == -1)
			goto fail;
		if (r == 0)
			break;
		ix_put(st, w->ix);
		w->ix = NULL;
		st_closefd(&w->dirfd);
	}
	if (w->ix == NULL) {
		errno = EAGAIN;
		return -1;
	}
	if (ix_hdr_read(w->ix->fd, &w->h) == -1)
		goto unlock;
	if (w->h.hflags & HDR_DELETED) {
		errno = ENOENT;
		goto unlock;
	}
	return 0;
unlock:
	st_unlock(w->ix->fd, IX_BYTE_WRITE);
fail:
	ix_put(st, w->ix);
	w->ix = NULL;
	st_closefd(&w->dirfd);
	return -1;
}

void
ix_wbox_close(struct store *st, struct wbox *w)
{
	if (w->ix != NULL) {
		st_unlock(w->ix->fd, IX_BYTE_WRITE);
		ix_put(st, w->ix);
	}
	w->ix = NULL;
	/* After the unlock: a woken session takes the lock at once. */
	if (w->poke && w->dirfd != -1)
		sync_poke(w->dirfd);
	w->poke = 0;
	st_closefd(&w->dirfd);
}

int
ix_data_open(int dirfd, uint64_t gen, int flags)
{
	char	 name[32];

	snprintf(name, sizeof name, "data.%llu", (unsigned long long)gen);
	return openat(dirfd, name, flags | O_NOFOLLOW | O_CLOEXEC, 0600);
}

/*
 * The header without a lock: a rewrite under way can show a bad sum;
 * then it is read again under the lock.
 */
int
ix_hdr_peek(int fd, struct ixhdr *h)
{
	int	 r;

	if (ix_hdr_read(fd, h) == 0)
		return 0;
	if (errno != EIO || modseq_lock(fd, F_RDLCK, IX_BYTE_WRITE, 1) == -1)
		return -1;
	r = ix_hdr_read(fd, h);
	st_unlock(fd, IX_BYTE_WRITE);
	return r;
}
