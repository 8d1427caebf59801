/*
 * kwmore.c: the file "kwmore", the keywords past the 64 of an index
 * record: an append-only list of entries (UID, MODSEQ, keywords 64 and
 * up), one for every change that leaves a message keywords past 63. A
 * record with FL_KWMORE takes the last entry of its UID whose MODSEQ is
 * not above its own; records without it read nothing here, so FETCH
 * FLAGS of a mailbox with 64 keywords or fewer costs what it did.
 *
 * Crash order (imapd-store(5)): entries are written and synced before
 * the change log and the records that use them. An entry whose record
 * change never reached the disk has a MODSEQ above the record's and is
 * not taken; a torn last entry (not whole, or a bad checksum) is skipped.
 */

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "storeint.h"

#define ENTSIZE		((off_t)sizeof(struct kwment))
#define NONE		UINT32_MAX

struct kwmore {
	int		 fd;		/* -1: not open yet */
	struct kwment	*v;		/* the entries read so far */
	uint32_t	*prev;		/* per entry: its UID's previous one */
	size_t		 n, cap;
	uint32_t	*tab;		/* UID -> last entry + 1 (0: none) */
	size_t		 tabcap;	/* a power of 2, at most half full */
	off_t		 off;		/* whole entries read */
	int		 locked;	/* byte 0 held: read without locking */
};

int
kwset_more(const struct kwset *ks)
{
	size_t	 i;

	for (i = 1; i < KW_WORDS; i++)
		if (ks->w[i] != 0)
			return 1;
	return 0;
}

void
kwm_entry(struct kwment *e, uint32_t uid, const struct kwset *ks)
{
	memset(e, 0, sizeof *e);
	e->uid = uid;
	memcpy(e->w, ks->w + 1, sizeof e->w);
}

static void
kwm_seal(struct kwment *e)
{
	e->sum = ix_fnv32(e, offsetof(struct kwment, sum));
}

static int
kwm_whole(const struct kwment *e)
{
	return e->uid != 0 &&
	    e->sum == ix_fnv32(e, offsetof(struct kwment, sum));
}

struct kwmore *
kwm_new(void)
{
	struct kwmore	*km;

	if ((km = calloc(1, sizeof *km)) != NULL)
		km->fd = -1;
	return km;
}

void
kwm_free(struct kwmore *km)
{
	if (km == NULL)
		return;
	st_closefd(&km->fd);
	free(km->v);
	free(km->prev);
	free(km->tab);
	free(km);
}

void
kwm_locked(struct kwmore *km, int locked)
{
	km->locked = locked;
}

/* The slot of uid in the table: its entry, or the empty slot it would take. */
static size_t
tab_slot(const struct kwmore *km, uint32_t uid)
{
	size_t	 i = (uid * (size_t)2654435761u) & (km->tabcap - 1);

	while (km->tab[i] != 0 && km->v[km->tab[i] - 1].uid != uid)
		i = (i + 1) & (km->tabcap - 1);
	return i;
}

/* Twice the room, every entry's UID placed again. */
static int
tab_grow(struct kwmore *km)
{
	uint32_t	*old = km->tab;
	size_t		 i, oldcap = km->tabcap;

	km->tabcap = oldcap == 0 ? 64 : oldcap * 2;
	if ((km->tab = calloc(km->tabcap, sizeof *km->tab)) == NULL) {
		km->tab = old;
		km->tabcap = oldcap;
		return -1;
	}
	for (i = 0; i < oldcap; i++)
		if (old[i] != 0)
			km->tab[tab_slot(km, km->v[old[i] - 1].uid)] = old[i];
	free(old);
	return 0;
}

static int
kwm_add(struct kwmore *km, const struct kwment *e)
{
	void		*p;
	size_t		 s, nc;

	if (km->n >= NONE - 1) {
		errno = EFBIG;
		return -1;
	}
	if (km->n == km->cap) {
		nc = km->cap == 0 ? 64 : km->cap * 2;
		if ((p = buf_array(km->prev, nc, sizeof *km->prev)) == NULL)
			return -1;
		km->prev = p;
		if ((p = buf_array(km->v, nc, sizeof *km->v)) == NULL)
			return -1;
		km->v = p;
		km->cap = nc;
	}
	if ((km->n + 1) * 2 > km->tabcap && tab_grow(km) == -1)
		return -1;
	s = tab_slot(km, e->uid);
	km->v[km->n] = *e;
	km->prev[km->n] = km->tab[s] == 0 ? NONE : km->tab[s] - 1;
	km->tab[s] = (uint32_t)++km->n;
	return 0;
}

/* Read the whole entries past off; the caller holds byte 0 (any type). */
static int
kwm_read(struct kwmore *km)
{
	struct kwment	 buf[64];
	struct stat	 sb;
	size_t		 i, cnt;

	if (fstat(km->fd, &sb) == -1)
		return -1;
	while (sb.st_size - km->off >= ENTSIZE) {
		cnt = (size_t)((sb.st_size - km->off) / ENTSIZE);
		if (cnt > sizeof buf / sizeof buf[0])
			cnt = sizeof buf / sizeof buf[0];
		if (st_pread_all(km->fd, buf, cnt * sizeof buf[0], km->off)
		    == -1)
			return -1;
		for (i = 0; i < cnt; i++)
			if (kwm_whole(&buf[i]) && kwm_add(km, &buf[i]) == -1)
				return -1;
		km->off += (off_t)cnt * ENTSIZE;
	}
	return 0;
}

/*
 * The entries other processes appended since the last look, read under
 * byte 0 shared (a writer appends under it exclusive), unless this
 * process holds it already.
 */
static int
kwm_refresh(const struct mailbox *mb)
{
	struct kwmore	*km = mb->kwm;
	int		 r;

	if (km->fd == -1) {
		km->fd = openat(mb->dirfd, "kwmore", O_RDONLY | O_NOFOLLOW |
		    O_CLOEXEC);
		if (km->fd == -1)
			return errno == ENOENT ? 0 : -1;
	}
	if (km->locked)
		return kwm_read(km);
	if (modseq_lock(mb->ix->fd, F_RDLCK, IX_BYTE_WRITE, 1) == -1)
		return -1;
	r = kwm_read(km);
	st_unlock(mb->ix->fd, IX_BYTE_WRITE);
	return r;
}

/* The entry record r takes: its UID's last one not above its MODSEQ. */
static const struct kwment *
kwm_find(const struct kwmore *km, const struct rec *r)
{
	uint32_t	 i;

	if (km->tabcap == 0 || (i = km->tab[tab_slot(km, r->uid)]) == 0)
		return NULL;
	for (i--; i != NONE; i = km->prev[i])
		if (km->v[i].modseq <= r->modseq)
			return &km->v[i];
	return NULL;
}

int
kwm_get(const struct mailbox *mb, const struct rec *r, struct kwset *ks)
{
	const struct kwment	*e;

	memset(ks, 0, sizeof *ks);
	ks->w[0] = r->keywords;
	if (!(r->flags & FL_KWMORE))
		return 0;
	/*
	 * Not the record's own MODSEQ: the entry it names may not be read
	 * yet (written since by another process, or by this one). Only a
	 * tombstone or a torn change takes an older entry.
	 */
	if ((e = kwm_find(mb->kwm, r)) == NULL || e->modseq != r->modseq) {
		if (kwm_refresh(mb) == -1)
			return -1;
		e = kwm_find(mb->kwm, r);
	}
	if (e != NULL)
		memcpy(ks->w + 1, e->w, sizeof e->w);
	return 0;
}

/* The n entries sealed, and the file name opened with flags. */
static int
kwm_seal_open(int dirfd, const char *name, int flags, struct kwment *v,
    size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		kwm_seal(&v[i]);
	return openat(dirfd, name, flags | O_NOFOLLOW | O_CLOEXEC, 0600);
}

/*
 * Compaction: kwmore.new with the n entries (sealed here) of the live
 * records, synced; compact_switch renames it over "kwmore".
 */
int
kwm_rewrite(int dirfd, struct kwment *v, size_t n)
{
	int	 fd, r = -1;

	if (n == 0)
		return 0;
	if ((fd = kwm_seal_open(dirfd, "kwmore.new", O_WRONLY | O_CREAT |
	    O_TRUNC, v, n)) == -1)
		return -1;
	if (st_pwrite_all(fd, v, n * sizeof *v, 0) == 0 && fsync(fd) == 0)
		r = 0;
	st_closefd(&fd);
	return r;
}

/*
 * Append n entries, sealed here, and sync them; the caller holds byte 0
 * exclusive and writes the records that use them only after. A torn
 * tail (part of an entry) is cut off first; whole entries are never
 * removed, so a reader's offset stays on an entry boundary.
 */
int
kwm_append(int dirfd, struct kwment *v, size_t n)
{
	struct stat	 sb;
	off_t		 end;
	int		 fd, r = -1;

	if (n == 0)
		return 0;
	if ((fd = kwm_seal_open(dirfd, "kwmore", O_RDWR | O_CREAT, v, n)) ==
	    -1)
		return -1;
	if (fstat(fd, &sb) == -1)
		goto out;
	end = sb.st_size - sb.st_size % ENTSIZE;
	if (end != sb.st_size && ftruncate(fd, end) == -1)
		goto out;
	if (st_pwrite_all(fd, v, n * sizeof *v, end) == -1 ||
	    fdatasync(fd) == -1) {
		int e = errno;

		(void)ftruncate(fd, end);
		errno = e;
		goto out;
	}
	r = 0;
out:
	st_closefd(&fd);
	return r;
}
