/*
 * cache.c: the structure cache, one opaque blob a message in the file
 * "cache", collected during a command and written at its end.
 */

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "storeint.h"

/*
 * The structure cache: per message one opaque blob (imapd keeps the
 * message's ENVELOPE and BODYSTRUCTURE there), appended to the file
 * "cache" as a centry and the blob, padded to 8 bytes. The record holds
 * the entry's offset + 1 (0: none) in 32 bits (ix_rec_cachepos): a
 * cache file that would pass 4 GiB takes no more entries until the next
 * compaction starts it again. Messages never change, so an entry never
 * goes stale; one that fails its checks is not used, and the blob
 * is made again. Entries are collected during a command and written at
 * its end under the index write lock, with one write.
 */
#define CACHE_MAGIC	0x31434d49U	/* "IMC1" */
#define CACHE_FLUSH_AT	(1024 * 1024)
/* Read ahead: the entries of a FETCH 1:* lie one after the other. */
#define CACHE_WIN	(64 * 1024)

struct centry {
	uint32_t	 magic;
	uint32_t	 uid;
	uint32_t	 len;
	uint32_t	 sum;		/* of uid, len and the blob */
};

static uint32_t
centry_sum(const struct centry *e, const void *blob)
{
	uint32_t	 h = ix_fnv32(&e->uid, 2 * sizeof e->uid);
	const unsigned char *p = blob;
	uint32_t	 i;

	for (i = 0; i < e->len; i++) {
		h ^= p[i];
		h *= 16777619U;
	}
	return h;
}

int
cache_open(struct mailbox *mb)
{
	if (mb->cachefd != -1)
		return 0;
	mb->cachefd = openat(mb->dirfd, "cache", O_RDWR | O_CREAT | O_APPEND |
	    O_NOFOLLOW | O_CLOEXEC, 0600);
	return mb->cachefd == -1 ? -1 : 0;
}

/* Like st_pread_all, but the end of the file ends it early: *got_r bytes. */
static int
pread_upto(int fd, char *buf, size_t len, off_t off, size_t *got_r)
{
	ssize_t	 r;

	*got_r = 0;
	while (*got_r < len) {
		r = pread(fd, buf + *got_r, len - *got_r, off + (off_t)*got_r);
		if (r == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0)
			break;
		*got_r += (size_t)r;
	}
	return 0;
}

/*
 * Make cache bytes [off, off + len) readable in gbuf: a window of
 * CACHE_WIN bytes from off, so that the next entries come without a
 * system call, or the exact bytes of an entry larger than that (its
 * length checked against the file first: it comes from the file).
 */
static const char *
cache_bytes(struct mailbox *mb, uint64_t off, uint64_t len)
{
	struct stat	 sb;
	size_t		 want;

	if (off >= (uint64_t)mb->goff && off - (uint64_t)mb->goff <= mb->glen &&
	    len <= mb->glen - (off - (uint64_t)mb->goff))
		return mb->gbuf + (off - (uint64_t)mb->goff);
	if (off > (uint64_t)INT64_MAX - len) {
		errno = EIO;
		return NULL;
	}
	if (len > CACHE_WIN && (fstat(mb->cachefd, &sb) == -1 ||
	    off + len > (uint64_t)sb.st_size || len > SIZE_MAX)) {
		errno = EIO;
		return NULL;
	}
	want = len > CACHE_WIN ? (size_t)len : CACHE_WIN;
	mb->glen = 0;
	if (st_buf_get(&mb->gbuf, &mb->gcap, want) == NULL ||
	    pread_upto(mb->cachefd, mb->gbuf, want, (off_t)off, &mb->glen)
	    == -1)
		return NULL;
	mb->goff = (off_t)off;
	if (mb->glen < len) {
		errno = EIO;
		return NULL;
	}
	return mb->gbuf;
}

/*
 * The pointer is valid until the next store_cache_get, store_data,
 * store_sync or store_unselect.
 */
const char *
store_cache_get(struct mailbox *mb, uint32_t seq, size_t *len_r)
{
	const struct rec	*r = store_rec(mb, seq);
	const char		*p;
	struct centry		 e;
	uint64_t		 off;
	uint32_t		 uid;

	if (r == NULL || ix_rec_cachepos(r) == 0 || cache_open(mb) == -1)
		return NULL;
	off = ix_rec_cachepos(r) - 1;
	uid = r->uid;
	if ((p = cache_bytes(mb, off, sizeof e)) == NULL)
		return NULL;
	memcpy(&e, p, sizeof e);
	if (e.magic != CACHE_MAGIC || e.uid != uid ||
	    (p = cache_bytes(mb, off, sizeof e + (uint64_t)e.len)) == NULL ||
	    e.sum != centry_sum(&e, p + sizeof e))
		return NULL;
	*len_r = e.len;
	return p + sizeof e;
}

void
cache_flush(struct mailbox *mb)
{
	struct stat	 sb;
	struct rec	*r;
	uint64_t	 base;
	size_t		 i, o;

	if (mb->ncpos == 0)
		return;
	if (cache_open(mb) == 0 &&
	    modseq_lock(mb->ix->fd, F_WRLCK, IX_BYTE_WRITE, 1) == 0) {
		mb_win_drop(mb);
		if (fstat(mb->cachefd, &sb) == 0 &&
		    mb->cbuflen < UINT32_MAX &&
		    (uint64_t)sb.st_size < UINT32_MAX - mb->cbuflen &&
		    st_pwrite_all(mb->cachefd, mb->cbuf, mb->cbuflen,
		    sb.st_size) == 0) {
			base = (uint64_t)sb.st_size;
			for (i = 0, o = 0; i < mb->ncpos; i++) {
				struct centry e;

				memcpy(&e, mb->cbuf + o, sizeof e);
				if ((r = mb_rec(mb, mb->cpos[i])) != NULL) {
					ix_rec_set_cachepos(r,
					    (uint32_t)(base + o + 1));
					mb_win_dirty(mb, mb->cpos[i]);
				}
				o += sizeof e + ((e.len + 7) & ~(size_t)7);
			}
			/* Not synced: the cache is never trusted blindly. */
			if (mb_win_flush(mb) == -1)
				mb_win_drop(mb);
		}
		st_unlock(mb->ix->fd, IX_BYTE_WRITE);
	}
	mb->cbuflen = 0;
	mb->ncpos = 0;
}

int
store_cache_put(struct mailbox *mb, uint32_t seq, const char *blob, size_t len)
{
	const struct rec *r = store_rec(mb, seq);
	struct centry	 e;
	size_t		 need, pad = ((len + 7) & ~(size_t)7) - len;
	char		*nb;
	uint32_t	*np;

	if (r == NULL)
		return -1;
	if (len > UINT32_MAX / 2) {
		st_seterr(mb->st, EFBIG, "cache: entry too large");
		return -1;
	}
	need = mb->cbuflen + sizeof e + len + pad;
	if (need > mb->cbufcap) {
		size_t cap = need * 2;
		if ((nb = realloc(mb->cbuf, cap)) == NULL) {
			st_seterrno(mb->st, "cache");
			return -1;
		}
		mb->cbuf = nb;
		mb->cbufcap = cap;
	}
	np = buf_grow(mb->cpos, &mb->capcpos, mb->ncpos, sizeof *np);
	if (np == NULL) {
		st_seterrno(mb->st, "cache");
		return -1;
	}
	mb->cpos = np;
	e.magic = CACHE_MAGIC;
	e.uid = r->uid;
	e.len = (uint32_t)len;
	e.sum = centry_sum(&e, blob);
	memcpy(mb->cbuf + mb->cbuflen, &e, sizeof e);
	memcpy(mb->cbuf + mb->cbuflen + sizeof e, blob, len);
	memset(mb->cbuf + mb->cbuflen + sizeof e + len, 0, pad);
	mb->cbuflen = need;
	mb->cpos[mb->ncpos++] = mb_seq_pos(mb, seq - 1);
	if (mb->cbuflen >= CACHE_FLUSH_AT)
		cache_flush(mb);
	return 0;
}
