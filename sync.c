/*
 * sync.c: what other processes changed in a selected mailbox, found
 * through the index, the change log and the keywords (store_sync).
 */

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "storeint.h"


/*
 * The view's messages within [first, first + count) of a change, appended
 * to v: for a flag change their sequence numbers; for an expunge their
 * positions, and only those that really are tombstones (the log entry is
 * written before the records, and its writer may have died in between).
 */
static int
view_collect(const struct mailbox *mb, const struct change *c,
    uint32_t **v, size_t *n, size_t *cap)
{
	uint64_t		 end = (uint64_t)c->first + c->count;
	const struct rec	*r;
	size_t			 i;
	uint32_t		 pos;

	for (i = mb_view_lower(mb, c->first); i < mb->nview &&
	    (pos = mb_seq_pos(mb, i)) < end; i++) {
		if (c->type != CHANGE_EXPUNGE) {
			if (st_u32_push(v, n, cap, (uint32_t)i + 1) == -1)
				return -1;
			continue;
		}
		if ((r = mb_rec(mb, pos)) == NULL)
			return -1;
		if ((r->flags & FL_EXPUNGED) && st_u32_push(v, n, cap, pos) == -1)
			return -1;
	}
	return 0;
}

/*
 * The UIDs of the pending positions (for VANISHED, RFC 7162 3.2.10.2),
 * read while their records are still in the view.
 */
static int
sync_pend_uids(struct mailbox *mb, uint32_t *uids)
{
	const struct rec *r;
	size_t	 p;

	for (p = 0; p < mb->npend; p++) {
		if ((r = mb_rec(mb, mb->pend[p])) == NULL)
			return -1;
		uids[p] = r->uid;
	}
	return 0;
}

/*
 * The lowest MODSEQ of the expunges held back for a later command (each
 * pending position is a tombstone), or 0 when none is.
 */
int
store_held_modseq(struct mailbox *mb, uint64_t *low_r)
{
	const struct rec *r;
	size_t	 p;

	*low_r = 0;
	for (p = 0; p < mb->npend; p++) {
		if ((r = mb_rec(mb, mb->pend[p])) == NULL)
			return -1;
		if (*low_r == 0 || r->modseq < *low_r)
			*low_r = r->modseq;
	}
	return 0;
}

/*
 * Drop the pending positions from the view; their sequence numbers, as
 * the client knows them now, go out in descending order, their UIDs in
 * ascending order.
 */
static int
sync_apply_expunges(struct mailbox *mb, struct sync *s)
{
	uint32_t *uids;
	size_t	 i, o = 0, p = 0;

	/* Room first: the view is rewritten in place and must not fail. */
	if (mb_view_own(mb) == -1 ||
	    (s->expunged = buf_array(NULL, mb->npend, sizeof *s->expunged))
	    == NULL ||
	    (s->uids = buf_array(NULL, mb->npend, sizeof *s->uids)) == NULL ||
	    (uids = buf_array(NULL, mb->npend, sizeof *uids)) == NULL)
		return -1;
	if (sync_pend_uids(mb, uids) == -1) {
		free(uids);
		return -1;
	}
	mb->rs->recent_ok = 0;
	for (i = 0; i < mb->nview; i++) {
		while (p < mb->npend && mb->pend[p] < mb->view[i])
			p++;
		if (p < mb->npend && mb->pend[p] == mb->view[i]) {
			s->uids[s->nexpunged] = uids[p];
			s->expunged[s->nexpunged++] = (uint32_t)i + 1;
		} else
			mb->view[o++] = mb->view[i];
	}
	free(uids);
	mb->nview = o;
	mb->npend = 0;
	st_reverse_u32(s->expunged, s->nexpunged);
	mb->told -= (uint32_t)s->nexpunged;
	return 0;
}

/*
 * What the last command left: its cache entries are written and its
 * reads dropped.
 */
static void
sync_begin(struct mailbox *mb)
{
	cache_flush(mb);
	/* Others change flags in place: records are read afresh from here. */
	mb_win_drop(mb);
	st_buf_trim(&mb->dbuf, &mb->dcap);
	st_buf_trim(&mb->gbuf, &mb->gcap);
	mb->glen = 0;		/* cache read-ahead went with it, maybe */
}

/*
 * Whether index, change log or keywords moved since the last look (1)
 * or not (0); *grew_r: whether the index did. The common case: nothing
 * moved, three fstat calls and no lock. Sizes are compared with those
 * of the complete content, so a torn tail (cut later, maybe to the same
 * size) always takes the long way.
 */
static int
sync_moved(struct mailbox *mb, int *grew_r)
{
	struct stat	 ixsb, chsb, kwsb;

	if (fstat(mb->ix->fd, &ixsb) == -1 || fstat(mb->chfd, &chsb) == -1 ||
	    fstat(mb->kwfd, &kwsb) == -1)
		return -1;
	*grew_r = ixsb.st_size != mb->ixseen;
	return *grew_r || chsb.st_size != mb->choff ||
	    kwsb.st_size != mb->kw.size;
}

/*
 * Under byte 0: the index still holds the records read so far, and
 * *chsize_r is the change log's size.
 */
static int
sync_stat_locked(struct mailbox *mb, off_t *chsize_r)
{
	struct stat	 ixsb, chsb;

	if (fstat(mb->ix->fd, &ixsb) == -1 || fstat(mb->chfd, &chsb) == -1)
		return -1;
	if (ixsb.st_size < IX_HDRSIZE + (off_t)mb->nrecs * RECSIZE ||
	    (ixsb.st_size - IX_HDRSIZE) / RECSIZE > (off_t)UINT32_MAX) {
		errno = EIO;
		return -1;
	}
	*chsize_r = chsb.st_size;
	return 0;
}

/*
 * The records to take in: every intact one when this session claims
 * \Recent or is read-only, else only those it has already.
 */
static int
sync_count_recs(struct mailbox *mb, int claim, uint32_t *n_r)
{
	if (!claim && !mb->readonly) {
		*n_r = mb->nrecs;
		return 0;
	}
	if (ix_tail(mb->ix->fd, 0, n_r, NULL) == -1)
		return -1;
	if (*n_r < mb->nrecs) {	/* records we read are gone */
		errno = EIO;
		return -1;
	}
	mb->ixseen = IX_HDRSIZE + (off_t)*n_r * RECSIZE;
	return 0;
}

/*
 * Whether this reader must sync the index before it reports a log
 * entry: a flag change or expunge of another process (new records show
 * at the end of the index, and were synced by their writer) above the
 * header's synced, which its writer raises once its change is on disk.
 */
static int
sync_needs_sync(const struct change *c, uint32_t pid, uint64_t synced)
{
	return c->pid != pid && c->modseq > synced &&
	    (c->type == CHANGE_FLAGS || c->type == CHANGE_EXPUNGE);
}

/*
 * The change log's entries since the last look, up to chsize; synced is
 * the header's: changes up to it are known to be on disk.
 */
static int
sync_read_log(struct mailbox *mb, off_t chsize, uint64_t synced,
    struct change **ch_r, ssize_t *nch_r)
{
	ssize_t	 nch, k;

	if (chsize < mb->choff)	/* cannot happen while selected */
		mb->choff = chsize - chsize % (off_t)sizeof(struct change);
	if ((nch = modseq_read(mb->chfd, mb->choff, chsize, ch_r)) == -1)
		return -1;
	*nch_r = nch;
	mb->choff += nch * (off_t)sizeof(struct change);
	/*
	 * A change another process logged is on disk before it is reported,
	 * so no client sees a MODSEQ that a power cut could take back. Its
	 * writer synced the index and then raised the header's synced past
	 * it; one above synced is a writer's that died before, and only then
	 * does this reader sync (each one did, on every command, when many
	 * processes wrote one mailbox: the most of their time under byte 0).
	 */
	for (k = 0; k < nch && !sync_needs_sync(&(*ch_r)[k], mb->pid, synced);
	    k++)
		;
	if (k < nch && fdatasync(mb->ix->fd) == -1)
		return -1;
	return 0;
}

/* Keyword names another process added. */
static int
sync_keywords(struct mailbox *mb)
{
	struct stat	 kwsb;

	if (fstat(mb->kwfd, &kwsb) == -1)
		return -1;
	if (kwsb.st_size != mb->kw.size && kw_load(mb->kwfd, &mb->kw) == -1)
		return -1;
	return 0;
}

/* Other processes' expunges wait in mb->pend until they may be told. */
static int
sync_pend_expunges(struct mailbox *mb, const struct change *ch,
    ssize_t nch)
{
	ssize_t	 k;

	for (k = 0; k < nch; k++)
		if (ch[k].type == CHANGE_EXPUNGE && ch[k].pid != mb->pid &&
		    view_collect(mb, &ch[k], &mb->pend, &mb->npend,
		    &mb->cappend) == -1)
			return -1;
	return 0;
}

/*
 * The caller holds byte 0: read the header, the new log entries into
 * *ch_r, new keywords and new records, and write the header if this
 * session claimed \Recent.
 */
static int
sync_locked(struct mailbox *mb, int claim, struct ixhdr *h,
    struct change **ch_r, ssize_t *nch_r)
{
	off_t		 chsize;
	uint32_t	 n, ntomb, claimed;

	if (sync_stat_locked(mb, &chsize) == -1 ||
	    ix_hdr_read(mb->ix->fd, h) == -1)
		return -1;
	claimed = h->recent_uid;
	if (sync_count_recs(mb, claim, &n) == -1 ||
	    sync_read_log(mb, chsize, h->synced, ch_r, nch_r) == -1 ||
	    sync_keywords(mb) == -1)
		return -1;
	/* Expunges are matched against the view as it was before new ones. */
	if (sync_pend_expunges(mb, *ch_r, *nch_r) == -1 ||
	    mb_take_new(mb, n, 0, h, &ntomb) == -1)
		return -1;
	/* Claim not synced: after a crash a message may be recent again. */
	if (h->recent_uid != claimed && ix_hdr_write(mb->ix->fd, h) == -1)
		return -1;
	mb->highestmodseq = h->highestmodseq;
	return 0;
}

/* Expunges, if the command allows them, then flag changes, into s. */
static int
sync_report(struct mailbox *mb, int allow_expunge, const struct change *ch,
    ssize_t nch, struct sync *s)
{
	size_t	 cap = 0;
	ssize_t	 k;

	if (allow_expunge && mb->npend > 0 && sync_apply_expunges(mb, s) == -1)
		return -1;
	/* Flag changes, numbered after the expunges just reported. */
	for (k = 0; k < nch; k++)
		if (ch[k].type == CHANGE_FLAGS && ch[k].pid != mb->pid &&
		    view_collect(mb, &ch[k], &s->changed, &s->nchanged,
		    &cap) == -1)
			return -1;
	s->nchanged = st_u32_uniq(s->changed, s->nchanged);
	return 0;
}

/* The counts, against what the client was told last. */
static void
sync_counts(struct mailbox *mb, struct sync *s)
{
	s->exists = (uint32_t)mb->nview;
	s->exists_changed = s->exists != mb->told;
	mb->told = s->exists;
	s->recent = store_recent_count(mb);
	s->keywords_changed = mb->kw.n != mb->kwtold;
	mb->kwtold = mb->kw.n;
}

/*
 * Byte 0 for a sync: 0 taken, 1 busy and not waited for, -1 an error.
 * New records are taken in only under the exclusive lock, when this
 * session claims \Recent; if they turn up under a shared lock they wait
 * for a later sync (ixseen is left behind for that). A FETCH, STORE or
 * SEARCH, which may not report expunges (RFC 3501 7.4.1), does not wait
 * for the lock behind writers: what they changed is reported at a later
 * command (RFC 3501 5.2 asks for the changes a command has observed).
 * The wait made the slowest FETCHes of many clients on one mailbox.
 */
static int
sync_lock(struct mailbox *mb, int grew, int allow_expunge, int *claim_r)
{
	*claim_r = grew && !mb->readonly;
	if (*claim_r && modseq_lock(mb->ix->fd, F_WRLCK, IX_BYTE_WRITE,
	    allow_expunge) == 0)
		return 0;
	if (*claim_r && (allow_expunge || errno != EAGAIN))
		return -1;
	*claim_r = 0;
	if (modseq_lock(mb->ix->fd, F_RDLCK, IX_BYTE_WRITE,
	    allow_expunge) == 0)
		return 0;
	return !allow_expunge && errno == EAGAIN ? 1 : -1;
}

int
store_sync(struct mailbox *mb, int allow_expunge, struct sync *s)
{
	struct change	*ch = NULL;
	struct ixhdr	 h;
	ssize_t		 nch = 0;
	int		 moved, grew, claim, r;

	memset(s, 0, sizeof *s);
	sync_begin(mb);
	if ((moved = sync_moved(mb, &grew)) == -1)
		goto fail;
	if (moved && (r = sync_lock(mb, grew, allow_expunge, &claim)) == -1)
		goto fail;
	if (!moved || r == 1) {
		/* DELETE changes only the header. */
		if (ix_hdr_peek(mb->ix->fd, &h) == -1)
			goto fail;
		goto report;
	}
	r = sync_locked(mb, claim, &h, &ch, &nch);
	st_unlock(mb->ix->fd, IX_BYTE_WRITE);
	if (r == -1)
		goto fail;

	mb->npend = st_u32_uniq(mb->pend, mb->npend);
report:
	if (sync_report(mb, allow_expunge, ch, nch, s) == -1)
		goto fail;
	free(ch);
	sync_counts(mb, s);
	/* Reported once; the session goes on reading (imapd(8), RFC 2180). */
	s->deleted = (h.hflags & HDR_DELETED) && !mb->deleted;
	if (h.hflags & HDR_DELETED)
		mb->deleted = 1;
	return 0;
fail:
	st_seterrno(mb->st, "sync");
	free(ch);
	store_sync_free(s);
	return -1;
}

/* The mailbox directory for reading, on a descriptor of its own. */
static DIR *
idle_opendir(int dirfd)
{
	DIR	*d;
	int	 fd;

	if ((fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return NULL;
	if ((d = fdopendir(fd)) == NULL)
		close(fd);
	return d;
}

/*
 * Waking IDLE (imapd-store(5)): a session that idles makes a FIFO
 * "idle.PID" in the mailbox's directory and waits on it; a writer, once
 * its change is in the files and its lock released, writes one byte to
 * each such FIFO that has a reader. No reader (a session that died):
 * the open fails with ENXIO and the FIFO is skipped. A full FIFO already
 * holds a wake-up. A poke is only a hint: the session looks at the file
 * sizes (store_changed) whatever woke it, and also every few seconds.
 */
void
sync_poke(int dirfd)
{
	DIR		*d;
	struct dirent	*de;
	struct stat	 sb;
	int		 fd;

	if ((d = idle_opendir(dirfd)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, "idle.", 5) != 0 ||
		    (fd = openat(dirfd, de->d_name, O_WRONLY | O_NONBLOCK |
		    O_NOFOLLOW | O_CLOEXEC)) == -1)
			continue;
		if (fstat(fd, &sb) == 0 && S_ISFIFO(sb.st_mode) &&
		    write(fd, "", 1) == -1) {
			/* EAGAIN: it is full, so awake already. */
		}
		close(fd);
	}
	closedir(d);
}

/* FIFOs of sessions that died: their pid no longer exists. */
static void
idle_sweep(int dirfd)
{
	DIR		*d;
	struct dirent	*de;
	char		*end;
	long		 pid;

	if ((d = idle_opendir(dirfd)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, "idle.", 5) != 0)
			continue;
		pid = strtol(de->d_name + 5, &end, 10);
		if (*end == '\0' && pid > 0 && kill((pid_t)pid, 0) == -1 &&
		    errno == ESRCH)
			unlinkat(dirfd, de->d_name, 0);
	}
	closedir(d);
}

/*
 * The FIFO this session waits on while it idles; -1 when it cannot be
 * made (the caller then polls often). Its own write end keeps the read
 * end from reporting a hang-up after each writer's close. It exists
 * before the caller's first store_changed, so a change is either seen
 * by that look or followed by a poke.
 */
int
store_idle_begin(struct mailbox *mb)
{
	struct stat	 sb;
	char		 name[32];

	idle_sweep(mb->dirfd);
	snprintf(name, sizeof name, "idle.%lu", (unsigned long)mb->pid);
	if ((mkfifoat(mb->dirfd, name, 0600) == -1 && errno != EEXIST) ||
	    (mb->idlefd = openat(mb->dirfd, name, O_RDONLY | O_NONBLOCK |
	    O_NOFOLLOW | O_CLOEXEC)) == -1 ||
	    fstat(mb->idlefd, &sb) == -1 || !S_ISFIFO(sb.st_mode) ||
	    (mb->idlewfd = openat(mb->dirfd, name, O_WRONLY | O_NONBLOCK |
	    O_NOFOLLOW | O_CLOEXEC)) == -1) {
		store_idle_end(mb);
		return -1;
	}
	return mb->idlefd;
}

void
store_idle_end(struct mailbox *mb)
{
	char	 name[32];

	st_closefd(&mb->idlefd);
	st_closefd(&mb->idlewfd);
	snprintf(name, sizeof name, "idle.%lu", (unsigned long)mb->pid);
	unlinkat(mb->dirfd, name, 0);
}

/*
 * Whether store_sync may have something to report: what IDLE asks
 * whenever it wakes. No lock and no read of records: the pokes drained,
 * three fstat calls and the header (DELETE changes only that). An
 * error says yes, so the full sync finds and reports it.
 */
int
store_changed(struct mailbox *mb)
{
	struct ixhdr	 h;
	char		 buf[64];
	int		 grew;

	while (mb->idlefd != -1 && read(mb->idlefd, buf, sizeof buf) > 0)
		;
	if (sync_moved(mb, &grew) != 0 || ix_hdr_peek(mb->ix->fd, &h) == -1)
		return 1;
	/* A deletion already told is no news: IDLE must not spin on it. */
	return (h.hflags & HDR_DELETED) && !mb->deleted;
}

int
store_deleted(const struct mailbox *mb)
{
	return mb->deleted;
}

void
store_sync_free(struct sync *s)
{
	free(s->expunged);
	free(s->uids);
	free(s->changed);
	s->expunged = s->changed = s->uids = NULL;
	s->nexpunged = s->nchanged = 0;
}
