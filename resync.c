/*
 * resync.c: what QRESYNC (RFC 7162 3.2) asks of the store: the messages
 * of a selected mailbox changed since a mod-sequence, and the UIDs
 * expunged since one. Plain scans of the view, the index's tombstones
 * and the file "expunged"; all the store's QRESYNC code is here.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "storeint.h"

/* An entry of the file "expunged" (imapd-store(5), compact.c). */
struct rxent {
	uint32_t	 uid;
	uint32_t	 zero;
	uint64_t	 modseq;		/* of the expunge */
};
_Static_assert(sizeof(struct rxent) == 16, "expunged entry size");

#define RX_CHUNK	512		/* entries read with one pread */

static int
rs_push(uint32_t **v, size_t *n, size_t *cap, uint32_t x)
{
	uint32_t	*nv;

	if ((nv = buf_grow(*v, cap, *n, sizeof *nv)) == NULL)
		return -1;
	*v = nv;
	(*v)[(*n)++] = x;
	return 0;
}

static int
rs_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

int
store_changed_since(struct mailbox *mb, uint64_t since, uint32_t **seqs_r,
    size_t *n_r)
{
	const struct rec *r;
	uint32_t	 seq, n = store_exists(mb);
	size_t		 cap = 0;

	*seqs_r = NULL;
	*n_r = 0;
	for (seq = 1; seq <= n; seq++) {
		if ((r = store_rec(mb, seq)) == NULL)
			goto fail;
		if (r->modseq <= since)
			continue;
		if (rs_push(seqs_r, n_r, &cap, seq) == -1) {
			st_seterrno(mb->st, "FETCH");
			goto fail;
		}
	}
	return 0;
fail:
	free(*seqs_r);
	*seqs_r = NULL;
	*n_r = 0;
	return -1;
}

/* The index's tombstones expunged after since, in *v. */
static int
vanished_index(struct mailbox *mb, uint64_t since, uint32_t **v, size_t *n,
    size_t *cap)
{
	const struct rec *r;
	uint32_t	 pos;

	for (pos = 0; pos < mb->nrecs; pos++) {
		if ((r = mb_rec(mb, pos)) == NULL)
			return -1;
		if ((r->flags & FL_EXPUNGED) && r->modseq > since &&
		    rs_push(v, n, cap, r->uid) == -1)
			return -1;
	}
	return 0;
}

/*
 * The entries of "expunged" after since, in *v. None while no
 * compaction ran. Compaction waits for every other session to leave
 * the mailbox, so the file does not change under a selected one.
 */
static int
vanished_file(struct mailbox *mb, uint64_t since, uint32_t **v, size_t *n,
    size_t *cap)
{
	struct rxent	 e[RX_CHUNK];
	ssize_t		 got, i;
	off_t		 off = 0;
	int		 fd, r = -1;

	if ((fd = openat(mb->dirfd, "expunged", O_RDONLY | O_CLOEXEC)) == -1)
		return errno == ENOENT ? 0 : -1;
	for (;;) {
		if ((got = pread(fd, e, sizeof e, off)) == -1) {
			if (errno == EINTR)
				continue;
			goto out;
		}
		/* A torn last entry (a compaction that died) is no entry. */
		if (got < (ssize_t)sizeof e[0])
			break;
		off += got - got % (ssize_t)sizeof e[0];
		for (i = 0; i < got / (ssize_t)sizeof e[0]; i++)
			if (e[i].modseq > since &&
			    rs_push(v, n, cap, e[i].uid) == -1)
				goto out;
	}
	r = 0;
out:
	close(fd);
	return r;
}

/*
 * Ascending and once each (a compaction that died leaves entries in the
 * file that are still tombstones in the index), less the UIDs still in
 * the view.
 */
static size_t
vanished_clean(struct mailbox *mb, uint32_t *v, size_t n)
{
	const struct rec *r;
	uint32_t	 seq;
	size_t		 i, o = 0;

	if (n > 1)
		qsort(v, n, sizeof *v, rs_cmp);
	for (i = 0; i < n; i++) {
		if (o > 0 && v[o - 1] == v[i])
			continue;
		seq = store_seq_at_uid(mb, v[i]);
		if (seq >= 1 && seq <= store_exists(mb) &&
		    (r = mb_rec(mb, mb_seq_pos(mb, seq - 1))) != NULL &&
		    r->uid == v[i])
			continue;
		v[o++] = v[i];
	}
	return o;
}

int
store_vanished(struct mailbox *mb, uint64_t since, uint32_t **uids_r,
    size_t *n_r)
{
	uint32_t	*v = NULL;
	size_t		 n = 0, cap = 0;

	*uids_r = NULL;
	*n_r = 0;
	if (vanished_index(mb, since, &v, &n, &cap) == -1 ||
	    vanished_file(mb, since, &v, &n, &cap) == -1) {
		st_seterrno(mb->st, "VANISHED");
		free(v);
		return -1;
	}
	if ((n = vanished_clean(mb, v, n)) == 0) {
		free(v);
		v = NULL;
	}
	*uids_r = v;
	*n_r = n;
	return 0;
}
