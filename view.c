/*
 * view.c: a selected mailbox: SELECT, the window of index records,
 * the view (sequence numbers to records), \Recent, reading records and
 * message bytes, and UNSELECT.
 */

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "storeint.h"

#define WIN_PAGE	64		/* records read for a jump: 4 KiB */


/*
 * Records are read with pread(2) into a window of up to WIN_RECS
 * records, never mapped: a session touches only the records it
 * needs (SELECT of a dense mailbox reads a few), and what it keeps does
 * not grow with the index. A session's own changes are made in the
 * window and written back as one pwrite(2) of the changed span. That is
 * done only under index byte 0 exclusive, with the window read under the
 * same lock (mb_win_drop when taking it), so the unchanged records inside
 * the span are current and writing them back loses nothing.
 */
int
mb_win_flush(const struct mailbox *mb)
{
	struct rstate	*rs = mb->rs;
	int		 r;

	if (rs->dlo >= rs->dhi)
		return 0;
	r = st_pwrite_all(mb->ix->fd, &rs->win[rs->dlo - rs->first],
	    (size_t)(rs->dhi - rs->dlo) * sizeof *rs->win,
	    IX_HDRSIZE + (off_t)rs->dlo * RECSIZE);
	rs->dlo = rs->dhi = 0;
	if (r == -1)
		rs->n = 0;	/* it no longer says what the file holds */
	return r;
}

/* Forget the window, and any change in it not written. */
void
mb_win_drop(const struct mailbox *mb)
{
	mb->rs->n = 0;
	mb->rs->dlo = mb->rs->dhi = 0;
}

/* Record pos (below mb->nrecs), in the window; NULL on a read error. */
struct rec *
mb_rec(const struct mailbox *mb, uint32_t pos)
{
	struct rstate	*rs = mb->rs;
	uint32_t	 first, cnt, i;

	if (pos >= mb->nrecs) {
		errno = EINVAL;
		return NULL;
	}
	if (pos - rs->first < rs->n)	/* wraps when pos < first */
		return &rs->win[pos - rs->first];
	if (mb_win_flush(mb) == -1)
		return NULL;
	/*
	 * Reading on from the window (a scan) reads a whole window; a jump
	 * (SELECT's few records, FETCH of one message) a page of records.
	 */
	if (rs->n > 0 && pos == rs->first + rs->n) {
		first = pos;
		cnt = WIN_RECS;
	} else {
		first = pos - pos % WIN_PAGE;
		cnt = WIN_PAGE;
	}
	rs->n = 0;
	if (cnt > mb->nrecs - first)
		cnt = mb->nrecs - first;
	if (st_pread_all(mb->ix->fd, rs->win, (size_t)cnt * sizeof *rs->win,
	    IX_HDRSIZE + (off_t)first * RECSIZE) == -1)
		return NULL;
	for (i = 0; i < cnt; i++)
		ix_rec_clamp(&rs->win[i]);
	rs->first = first;
	rs->n = cnt;
	return &rs->win[pos - first];
}

/* Note that record pos, just changed in the window, must be written. */
void
mb_win_dirty(const struct mailbox *mb, uint32_t pos)
{
	struct rstate	*rs = mb->rs;

	if (rs->dlo >= rs->dhi) {
		rs->dlo = pos;
		rs->dhi = pos + 1;
		return;
	}
	if (pos < rs->dlo)
		rs->dlo = pos;
	if (pos >= rs->dhi)
		rs->dhi = pos + 1;
}

/*
 * A record's UID without moving the window: binary searches probe far
 * apart, and one 64-byte pread each is cheaper than a window each.
 */
static int
rec_uid(const struct mailbox *mb, uint32_t pos, uint32_t *uid_r)
{
	const struct rstate	*rs = mb->rs;
	struct rec		 r;

	if (pos - rs->first < rs->n) {
		*uid_r = rs->win[pos - rs->first].uid;
		return 0;
	}
	if (st_pread_all(mb->ix->fd, &r, sizeof r,
	    IX_HDRSIZE + (off_t)pos * RECSIZE) == -1)
		return -1;
	*uid_r = r.uid;
	return 0;
}

/* The record position of view index i (seq i + 1). */
uint32_t
mb_seq_pos(const struct mailbox *mb, size_t i)
{
	return mb->view != NULL ? mb->view[i] : (uint32_t)i;
}

/*
 * Without an array the view is the identity, seq n = record n - 1, and
 * then nview == nrecs. Make the array before the view loses that shape.
 */
int
mb_view_own(struct mailbox *mb)
{
	size_t	 i, cap;

	if (mb->view != NULL)
		return 0;
	cap = mb->nview > 1024 ? mb->nview : 1024;
	if ((mb->view = buf_array(NULL, cap, sizeof *mb->view)) == NULL)
		return -1;
	for (i = 0; i < mb->nview; i++)
		mb->view[i] = (uint32_t)i;
	mb->capview = cap;
	return 0;
}

static int
view_push(struct mailbox *mb, uint32_t pos)
{
	uint32_t	*nv;

	nv = buf_grow(mb->view, &mb->capview, mb->nview, sizeof *nv);
	if (nv == NULL)
		return -1;
	mb->view = nv;
	mb->view[mb->nview++] = pos;
	return 0;
}

/* First index in the view whose position is >= pos. */
size_t
mb_view_lower(const struct mailbox *mb, uint32_t pos)
{
	if (mb->view == NULL)
		return pos < mb->nview ? pos : mb->nview;
	return st_u32_lower(mb->view, mb->nview, pos);
}

static int
recent_add(struct mailbox *mb, uint32_t lo, uint32_t hi)
{
	struct range	*nr;

	if (lo > hi)
		return 0;
	if (mb->nrecent > 0 && mb->recent[mb->nrecent - 1].hi + 1 >= lo) {
		mb->recent[mb->nrecent - 1].hi = hi;
		return 0;
	}
	nr = buf_array(mb->recent, mb->nrecent + 1, sizeof *nr);
	if (nr == NULL)
		return -1;
	mb->recent = nr;
	mb->recent[mb->nrecent].lo = lo;
	mb->recent[mb->nrecent].hi = hi;
	mb->nrecent++;
	return 0;
}

/*
 * Take in records [mb->nrecs, n): live ones join the view, and (RFC 3501
 * 2.3.2) the UIDs above the header's recent_uid are \Recent for this
 * session only; h->recent_uid moves past them (the caller writes h) so
 * no other session claims them. dense: the header says the index holds
 * no tombstone, so a view still the identity stays one and no record in
 * between is read: SELECT of a dense mailbox reads the first and the
 * last record only. The tombstones seen are counted in *ntomb_r. The
 * caller holds byte 0 (exclusive unless read-only).
 */
int
mb_take_new(struct mailbox *mb, uint32_t n, int dense, struct ixhdr *h,
    uint32_t *ntomb_r)
{
	const struct rec *r;
	uint32_t	 i, old = mb->nrecs, first, maxuid, ntomb = 0;
	size_t		 oldview = mb->nview;

	*ntomb_r = 0;
	if (n <= old)
		return 0;
	mb->nrecs = n;		/* so that mb_rec reads them */
	mb->rs->recent_ok = 0;
	if ((r = mb_rec(mb, old)) == NULL)
		goto fail;
	first = r->uid;
	if ((r = mb_rec(mb, n - 1)) == NULL)
		goto fail;
	maxuid = r->uid;
	if (dense && mb->view == NULL)
		mb->nview = n;
	else
		for (i = old; i < n; i++) {
			if ((r = mb_rec(mb, i)) == NULL)
				goto fail;
			if (r->flags & FL_EXPUNGED) {
				ntomb++;
				if (mb_view_own(mb) == -1)
					goto fail;
			} else if (mb->view == NULL)
				mb->nview++;
			else if (view_push(mb, i) == -1)
				goto fail;
		}
	mb->uidnext = (maxuid > h->uidmax ? maxuid : h->uidmax) + 1;
	if (maxuid > h->recent_uid) {
		if (recent_add(mb, first > h->recent_uid ? first :
		    h->recent_uid + 1, maxuid) == -1)
			goto fail;
		if (!mb->readonly)	/* EXAMINE shows them, claims none */
			h->recent_uid = maxuid;
	}
	*ntomb_r = ntomb;
	return 0;
fail:
	mb->nrecs = old;
	mb->nview = oldview;
	mb_win_drop(mb);
	return -1;
}

/*
 * SELECT's UNSEEN: the first live record without \Seen. Every record
 * before the header's seen_low is \Seen or a tombstone, so the scan
 * starts there, and moves h->seen_low up to what it found (a read-write
 * SELECT writes it: the next one starts there).
 */
static int
mb_first_unseen(struct mailbox *mb, struct ixhdr *h)
{
	const struct rec *r;
	uint32_t	 pos;

	mb->unseen = 0;
	pos = h->seen_low < mb->nrecs ? h->seen_low : mb->nrecs;
	for (; pos < mb->nrecs; pos++) {
		if ((r = mb_rec(mb, pos)) == NULL)
			return -1;
		if (!(r->flags & (FL_SEEN | FL_EXPUNGED)))
			break;
	}
	h->seen_low = pos;
	/* A live record is in the view. */
	if (pos < mb->nrecs)
		mb->unseen = (uint32_t)mb_view_lower(mb, pos) + 1;
	return 0;
}

static void
mb_free(struct mailbox *mb)
{
	if (mb->rs != NULL)
		free(mb->rs->win);
	free(mb->rs);
	st_closefd(&mb->datafd);
	st_closefd(&mb->cachefd);
	free(mb->dbuf);
	free(mb->gbuf);
	free(mb->cbuf);
	free(mb->cpos);
	st_closefd(&mb->chfd);
	st_closefd(&mb->kwfd);
	st_closefd(&mb->idlefd);
	st_closefd(&mb->idlewfd);
	st_closefd(&mb->dirfd);
	kw_free(&mb->kw);
	kwm_free(mb->kwm);
	free(mb->view);
	free(mb->pend);
	free(mb->recent);
	free(mb);
}

/* A mailbox with its window of records and no file open yet. */
static struct mailbox *
select_alloc(struct store *st, int readonly)
{
	struct mailbox	*mb;

	if ((mb = calloc(1, sizeof *mb)) == NULL ||
	    (mb->rs = calloc(1, sizeof *mb->rs)) == NULL ||
	    (mb->kwm = kwm_new()) == NULL ||
	    (mb->rs->win = buf_array(NULL, WIN_RECS, sizeof *mb->rs->win))
	    == NULL) {
		st_seterrno(st, "SELECT");
		if (mb != NULL) {
			if (mb->rs != NULL)
				free(mb->rs->win);
			free(mb->rs);
			kwm_free(mb->kwm);
		}
		free(mb);
		return NULL;
	}
	mb->st = st;
	mb->readonly = readonly;
	mb->pid = (uint32_t)getpid();
	mb->dirfd = mb->datafd = mb->cachefd = mb->chfd = mb->kwfd = -1;
	mb->idlefd = mb->idlewfd = -1;
	return mb;
}

/*
 * The mailbox's directory and index, with byte 1 locked; opened again
 * when a compaction renamed a new index over the one locked.
 */
static int
select_lock_box(struct mailbox *mb, const char *name)
{
	int	 r, tries;

	for (tries = 0; ; tries++) {
		if (tries == 100) {
			errno = EAGAIN;
			return -1;
		}
		if ((mb->dirfd = name_opendir(mb->st, name)) == -1)
			return -1;
		if ((mb->ix = ix_get(mb->st, mb->dirfd)) == NULL)
			return -1;
		/* Byte 1 shared while it is selected: no compaction. */
		if ((r = ix_lock(mb->ix, mb->dirfd, F_RDLCK, IX_BYTE_SELECT))
		    == -1)
			return -1;
		if (r == 0)
			return 0;
		ix_put(mb->st, mb->ix);
		mb->ix = NULL;
		st_closefd(&mb->dirfd);
	}
}

/* The header, and the mailbox's values from it; deleted is ENOENT. */
static int
select_header(struct mailbox *mb, struct ixhdr *h)
{
	if (ix_hdr_read(mb->ix->fd, h) == -1)
		return -1;
	if (h->hflags & HDR_DELETED) {
		errno = ENOENT;
		return -1;
	}
	mb->uidvalidity = h->uidvalidity;
	mb->highestmodseq = h->highestmodseq;
	mb->created_modseq = h->created_modseq;
	mb->generation = h->generation;
	mb->uidnext = h->uidmax + 1;
	return 0;
}

/* data.G, the change log from its end as it is now, and the keywords. */
static int
select_open_files(struct mailbox *mb, uint64_t gen)
{
	struct stat	 sb;

	if ((mb->datafd = ix_data_open(mb->dirfd, gen, O_RDONLY)) == -1)
		return -1;
	if ((mb->chfd = openat(mb->dirfd, "changes", O_RDWR | O_APPEND |
	    O_NOFOLLOW | O_CLOEXEC)) == -1 || fstat(mb->chfd, &sb) == -1)
		return -1;
	/* Entries written before now are of no interest to this session. */
	mb->choff = sb.st_size - sb.st_size % (off_t)sizeof(struct change);
	if (kw_open_load(mb->dirfd, &mb->kw, &mb->kwfd) == -1)
		return -1;
	mb->kwtold = mb->kw.n;
	return 0;
}

/*
 * Under byte 0: the header, the files and the records. A read-write
 * SELECT writes back the header it corrected (ntomb, seen_low) or whose
 * \Recent it claimed.
 */
static int
select_load(struct mailbox *mb)
{
	struct ixhdr	 h, h0;
	uint32_t	 n, ntomb;

	if (select_header(mb, &h) == -1)
		return -1;
	h0 = h;
	if (ix_tail(mb->ix->fd, 0, &n, NULL) == -1)
		return -1;
	mb->ixseen = IX_HDRSIZE + (off_t)n * RECSIZE;
	if (select_open_files(mb, h.generation) == -1)
		return -1;
	if (mb_take_new(mb, n, h.ntomb == 0, &h, &ntomb) == -1)
		return -1;
	/* All records were read: correct a count a crash left too high. */
	if (h.ntomb != 0)
		h.ntomb = ntomb;
	if (mb_first_unseen(mb, &h) == -1)
		return -1;
	if (!mb->readonly && memcmp(&h, &h0, sizeof h) != 0 &&
	    ix_hdr_write(mb->ix->fd, &h) == -1)
		return -1;
	return 0;
}

struct mailbox *
store_select(struct store *st, const char *name, int readonly)
{
	struct mailbox	*mb;
	int		 e, locked = 0;

	if ((mb = select_alloc(st, readonly)) == NULL)
		return NULL;
	if (select_lock_box(mb, name) == -1)
		goto fail;
	if (modseq_lock(mb->ix->fd, readonly ? F_RDLCK : F_WRLCK,
	    IX_BYTE_WRITE, 1) == -1)
		goto fail;
	locked = 1;
	if (select_load(mb) == -1)
		goto fail;
	st_unlock(mb->ix->fd, IX_BYTE_WRITE);
	mb->told = (uint32_t)mb->nview;
	return mb;
fail:
	st_seterrno(st, "SELECT");
	if (locked)
		st_unlock(mb->ix->fd, IX_BYTE_WRITE);
	e = errno;
	if (mb->ix != NULL)
		ix_put(st, mb->ix);
	mb_free(mb);
	errno = e;
	return NULL;
}

uint32_t
store_exists(const struct mailbox *mb)
{
	return (uint32_t)mb->nview;
}

/* Reads only the message's own record: store_rec's pointer stays. */
int
store_is_recent(const struct mailbox *mb, uint32_t seq)
{
	const struct rec *r;
	size_t		 i;

	if (seq == 0 || seq > mb->nview || mb->nrecent == 0 ||
	    (r = mb_rec(mb, mb_seq_pos(mb, seq - 1))) == NULL)
		return 0;
	for (i = 0; i < mb->nrecent; i++)
		if (r->uid >= mb->recent[i].lo && r->uid <= mb->recent[i].hi)
			return 1;
	return 0;
}

/* First index in the view whose UID is >= uid (UIDs grow with position). */
static int
view_lower_uid(const struct mailbox *mb, uint32_t uid, size_t *i_r)
{
	size_t		 lo = 0, hi = mb->nview, mid;
	uint32_t	 u;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (rec_uid(mb, mb_seq_pos(mb, mid), &u) == -1)
			return -1;
		if (u < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	*i_r = lo;
	return 0;
}

/* Two binary searches per \Recent range, remembered until the view changes. */
uint32_t
store_recent_count(const struct mailbox *mb)
{
	struct rstate	*rs = mb->rs;
	size_t		 i, a, b;
	uint32_t	 n = 0;

	if (rs->recent_ok)
		return rs->recent;
	for (i = 0; i < mb->nrecent; i++) {
		if (view_lower_uid(mb, mb->recent[i].lo, &a) == -1)
			return n;
		if (mb->recent[i].hi == UINT32_MAX)
			b = mb->nview;
		else if (view_lower_uid(mb, mb->recent[i].hi + 1, &b) == -1)
			return n;
		n += (uint32_t)(b - a);
	}
	rs->recent = n;
	rs->recent_ok = 1;
	return n;
}

/* The first message without \Seen when the mailbox was selected, or 0. */
uint32_t
store_first_unseen(const struct mailbox *mb)
{
	return mb->unseen;
}

uint32_t
store_uidvalidity(const struct mailbox *mb)
{
	return mb->uidvalidity;
}

uint32_t
store_uidnext(const struct mailbox *mb)
{
	return mb->uidnext;
}

uint64_t
store_highestmodseq(const struct mailbox *mb)
{
	return mb->highestmodseq;
}

/*
 * The record of message seq, or NULL (no such message, or a read
 * error). The pointer is into the mailbox's window of records: it is
 * valid until the next store_* call on the mailbox that reads another
 * record or changes the mailbox. store_exists, store_is_recent,
 * store_keyword_name and store_rec of the same message keep it valid;
 * store_flags, store_expunge, store_cache_put, store_copy, store_sync
 * and any call that reads other messages do not. Copy the record to keep
 * it longer.
 */
const struct rec *
store_rec(const struct mailbox *mb, uint32_t seq)
{
	const struct rec *r;

	if (seq == 0 || seq > mb->nview) {
		st_seterr(mb->st, EINVAL, "FETCH: no such message");
		return NULL;
	}
	if ((r = mb_rec(mb, mb_seq_pos(mb, seq - 1))) == NULL)
		st_seterrno(mb->st, "FETCH");
	return r;
}

int
store_rec_keywords(const struct mailbox *mb, const struct rec *r,
    struct kwset *ks)
{
	if (kwm_get(mb, r, ks) == -1) {
		st_seterrno(mb->st, "FETCH");
		return -1;
	}
	return 0;
}

uint32_t
store_seq_at_uid(const struct mailbox *mb, uint32_t uid)
{
	size_t		 i;

	if (view_lower_uid(mb, uid, &i) == -1) {
		st_seterrno(mb->st, "FETCH");
		return 0;
	}
	return (uint32_t)i + 1;
}

/*
 * The bytes of message seq, at most max of them (SIZE_MAX: all), read
 * into the mailbox's buffer: valid until the next store_data, store_sync
 * or store_unselect.
 */
const char *
store_data(struct mailbox *mb, uint32_t seq, size_t max, size_t *len_r)
{
	const struct rec	*r;
	uint64_t		 off, size;

	*len_r = 0;
	if ((r = store_rec(mb, seq)) == NULL)
		return NULL;
	off = r->offset;
	size = r->size;
	if (size == 0)
		return "";
	if (size > SIZE_MAX || off > (uint64_t)INT64_MAX - size) {
		errno = EIO;
		goto fail;
	}
	if (size > max)
		size = max;
	if (st_buf_get(&mb->dbuf, &mb->dcap, (size_t)size) == NULL ||
	    st_pread_all(mb->datafd, mb->dbuf, (size_t)size, (off_t)off) == -1)
		goto fail;
	*len_r = (size_t)size;
	return mb->dbuf;
fail:
	st_seterrno(mb->st, "FETCH");
	return NULL;
}

size_t
store_nkeywords(const struct mailbox *mb)
{
	return mb->kw.n;
}

const char *
store_keyword_name(const struct mailbox *mb, size_t i)
{
	return i < mb->kw.n ? mb->kw.name[i] : NULL;
}

void
store_unselect(struct mailbox *mb)
{
	if (mb == NULL)
		return;
	cache_flush(mb);
	mb_win_drop(mb);
	compact_maybe(mb);
	/* Drops byte 1 if we were the last. */
	ix_put(mb->st, mb->ix);
	mb->ix = NULL;
	mb_free(mb);
}
