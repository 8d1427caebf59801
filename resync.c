/*
 * resync.c: what changed in a mailbox since a mod-sequence, for
 * CHANGEDSINCE and QRESYNC (RFC 7162): the records changed and the UIDs
 * expunged. The change log answers at a cost that follows the changes;
 * when it cannot (see modseq_since), every record is read.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "storeint.h"

/* The expunged file's entries read at a time. */
#define XP_CHUNK	4096

/* A growing array of UIDs or sequence numbers. */
struct u32v {
	uint32_t	*v;
	size_t		 n, cap;
};

static int
u32v_push(struct u32v *a, uint32_t x)
{
	return st_u32_push(&a->v, &a->n, &a->cap, x);
}

static int
cmp_first(const void *a, const void *b)
{
	const struct change *x = a, *y = b;

	return x->first < y->first ? -1 : x->first > y->first;
}

/*
 * The positions the entries name, as runs sorted by position and merged
 * where they overlap, in place; returns how many runs. Only entries of
 * type want (0: any but the base).
 */
static size_t
log_runs(struct change *ch, size_t n, uint32_t want)
{
	size_t		 i, o = 0;
	uint64_t	 end;

	for (i = 0; i < n; i++)
		if (ch[i].type != CHANGE_BASE && ch[i].count > 0 &&
		    (want == 0 || ch[i].type == want))
			ch[o++] = ch[i];
	if (o > 1)
		qsort(ch, o, sizeof *ch, cmp_first);
	for (n = o, o = 0, i = 0; i < n; i++) {
		if (o > 0 && (end = (uint64_t)ch[o - 1].first +
		    ch[o - 1].count) >= ch[i].first) {
			if ((uint64_t)ch[i].first + ch[i].count > end)
				ch[o - 1].count = (uint32_t)((uint64_t)
				    ch[i].first + ch[i].count - ch[o - 1].first);
			continue;
		}
		ch[o++] = ch[i];
	}
	return o;
}

/*
 * The log's runs above since, of type want, under byte 0 shared (held
 * by the caller). 1: *ch_r and *n_r; 0: the records must be read.
 */
static int
since_runs(struct mailbox *mb, uint64_t since, uint32_t want,
    struct change **ch_r, size_t *n_r)
{
	int	 r;

	/* More entries than a quarter of the records: a scan is as cheap. */
	r = modseq_since(mb->chfd, mb->generation, since,
	    (size_t)mb->nrecs / 4 + 64, ch_r, n_r);
	if (r == 1)
		*n_r = log_runs(*ch_r, *n_r, want);
	return r;
}

/* Messages of the view in [lo, hi) with a MODSEQ above since. */
static int
changed_in(struct mailbox *mb, uint64_t lo, uint64_t hi, uint64_t since,
    struct u32v *out)
{
	const struct rec	*r;
	size_t			 i;
	uint32_t		 pos;

	for (i = mb_view_lower(mb, (uint32_t)lo); i < mb->nview &&
	    (pos = mb_seq_pos(mb, i)) < hi; i++) {
		if ((r = mb_rec(mb, pos)) == NULL)
			return -1;
		if (r->modseq > since && u32v_push(out, (uint32_t)i + 1) == -1)
			return -1;
	}
	return 0;
}

/* Whether record pos is in the view (a ghost this session still shows). */
static int
in_view(const struct mailbox *mb, uint32_t pos)
{
	size_t	 i = mb_view_lower(mb, pos);

	return i < mb->nview && mb_seq_pos(mb, i) == pos;
}

/* Tombstones in [lo, hi) expunged above since, not in the view. */
static int
tombs_in(struct mailbox *mb, uint64_t lo, uint64_t hi, uint64_t since,
    struct u32v *out)
{
	const struct rec	*r;
	uint64_t		 pos;

	if (hi > mb->nrecs)
		hi = mb->nrecs;
	for (pos = lo; pos < hi; pos++) {
		if ((r = mb_rec(mb, (uint32_t)pos)) == NULL)
			return -1;
		if ((r->flags & FL_EXPUNGED) && r->modseq > since &&
		    !in_view(mb, (uint32_t)pos) && u32v_push(out, r->uid) == -1)
			return -1;
	}
	return 0;
}

/* What to collect from a span [lo, hi) of records. */
typedef int (*span_fn)(struct mailbox *, uint64_t lo, uint64_t hi,
    uint64_t since, struct u32v *);

/*
 * fn over the spans of the log's runs of type want above since (0: every
 * type), or over every record when the log cannot say.
 */
static int
runs_walk(struct mailbox *mb, uint64_t since, uint32_t want, span_fn fn,
    struct u32v *out)
{
	struct change	*ch = NULL;
	size_t		 i, n;
	int		 r;

	if ((r = since_runs(mb, since, want, &ch, &n)) == -1)
		return -1;
	if (r == 0)
		return fn(mb, 0, UINT64_MAX, since, out);
	for (i = 0; i < n && r != -1; i++)
		r = fn(mb, ch[i].first, (uint64_t)ch[i].first + ch[i].count,
		    since, out);
	free(ch);
	return r == -1 ? -1 : 0;
}

static int
changed_locked(struct mailbox *mb, uint64_t since, struct u32v *out)
{
	return runs_walk(mb, since, 0, changed_in, out);
}

static int
tombs_locked(struct mailbox *mb, uint64_t since, struct u32v *out)
{
	return runs_walk(mb, since, CHANGE_EXPUNGE, tombs_in, out);
}

/*
 * UIDs that compaction moved to "expunged" with a MODSEQ above since.
 * The file holds every expunge ever compacted: it is read whole, 64 kB
 * at a time.
 */
static int
expunged_file(struct mailbox *mb, uint64_t since, struct u32v *out)
{
	struct { uint32_t uid, zero; uint64_t modseq; } *x;
	ssize_t		 k;
	size_t		 i;
	off_t		 off = 0;
	int		 fd, r = -1;

	if ((fd = openat(mb->dirfd, "expunged", O_RDONLY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1)
		return errno == ENOENT ? 0 : -1;
	if ((x = malloc(XP_CHUNK * sizeof *x)) == NULL)
		goto out;
	while ((k = pread(fd, x, XP_CHUNK * sizeof *x, off)) != 0) {
		if (k == -1) {
			if (errno == EINTR)
				continue;
			goto out;
		}
		for (i = 0; i < (size_t)k / sizeof *x; i++)
			if (x[i].modseq > since && u32v_push(out, x[i].uid) == -1)
				goto out;
		if ((size_t)k < sizeof *x)
			break;		/* a torn entry at the end */
		off += (off_t)((size_t)k - (size_t)k % sizeof *x);
	}
	r = 0;
out:
	free(x);
	st_closefd(&fd);
	return r;
}

/* Tombstones and the expunged file. */
static int
vanished_locked(struct mailbox *mb, uint64_t since, struct u32v *out)
{
	if (tombs_locked(mb, since, out) == -1)
		return -1;
	return expunged_file(mb, since, out);
}

/*
 * Run fn under byte 0 shared, so that no log entry or record is
 * half-written, on records read afresh; *v_r and *n_r: what it found.
 */
static int
resync_locked(struct mailbox *mb, uint64_t since,
    int (*fn)(struct mailbox *, uint64_t, struct u32v *), const char *what,
    uint32_t **v_r, size_t *n_r)
{
	struct u32v	 out = { NULL, 0, 0 };
	int		 r;

	*v_r = NULL;
	*n_r = 0;
	if (modseq_lock(mb->ix->fd, F_RDLCK, IX_BYTE_WRITE, 1) == -1) {
		st_seterrno(mb->st, what);
		return -1;
	}
	mb_win_drop(mb);
	r = fn(mb, since, &out);
	st_unlock(mb->ix->fd, IX_BYTE_WRITE);
	if (r == -1) {
		st_seterrno(mb->st, what);
		free(out.v);
		return -1;
	}
	*v_r = out.v;
	*n_r = out.n;
	return 0;
}

int
store_changed_since(struct mailbox *mb, uint64_t since, uint32_t **seqs_r,
    size_t *n_r)
{
	return resync_locked(mb, since, changed_locked, "CHANGEDSINCE",
	    seqs_r, n_r);
}

int
store_vanished(struct mailbox *mb, uint64_t since, uint32_t **uids_r,
    size_t *n_r)
{
	if (resync_locked(mb, since, vanished_locked, "VANISHED", uids_r,
	    n_r) == -1)
		return -1;
	*n_r = st_u32_uniq(*uids_r, *n_r);
	return 0;
}
