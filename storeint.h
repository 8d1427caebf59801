/*
 * storeint.h: what the store files (store.c, names.c, index.c,
 * keywords.c, view.c, sync.c, write.c, cache.c, compact.c) share and no
 * other file sees: the index header, the open index files, struct store
 * and struct mailbox, and the helpers each file exports to the others.
 *
 * The layout and the reasons behind it are in imapd-store(5); in short:
 *
 *	DIR/counter		mod-sequence counter (modseq.c); byte 2
 *				of it is the namespace lock taken here
 *	DIR/subscriptions	one mailbox name per line
 *	DIR/box/ENC/index	64-byte header, then 64-byte records by UID
 *	DIR/box/ENC/data.G	message bytes, append-only
 *	DIR/box/ENC/changes	change log (struct change), append-only
 *	DIR/box/ENC/keywords	keyword names, line i = bit i
 *	DIR/box/ENC/cache	structure cache, append-only
 *	DIR/box/ENC/expunged	tombstones moved out of the index
 *				by compaction
 *
 * fcntl(2) locks belong to a process and a file, not to a descriptor, and
 * closing any descriptor of a file drops all of the process's locks on
 * it. So every index file this process has open is kept once, in the
 * store's list of struct ixf, shared by a selected mailbox and by any
 * APPEND, COPY or STATUS that touches the same file meanwhile.
 */

#ifndef STOREINT_H
#define STOREINT_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include "imapd.h"
#include "modseq.h"
#include "store.h"

#define IX_MAGIC	"IMAPDIX1"
#define IX_VERSION	3
#define IX_HDRSIZE	128
#define RECSIZE		((off_t)sizeof(struct rec))
#define HDR_DELETED	1
#define ENC_MAX		255		/* the usual NAME_MAX */
#define WIN_RECS	1024		/* records read with one pread */

enum { IX_BYTE_WRITE = 0, IX_BYTE_SELECT = 1 };	/* index locks */
enum { CT_BYTE_NS = 2 };			/* counter: namespace */

struct ixhdr {
	char		 magic[8];
	uint32_t	 version;
	uint32_t	 hflags;
	uint32_t	 uidvalidity;
	uint32_t	 recent_uid;	/* highest UID already claimed */
	uint64_t	 generation;	/* names data.G */
	uint64_t	 highestmodseq;
	uint64_t	 created_modseq;
	uint32_t	 ntomb;		/* index tombstones, or more */
	/* records below seen_low: \Seen or tombstones */
	uint32_t	 seen_low;
	uint32_t	 uidmax;	/* highest UID compaction moved out */
	/* records synced before this was written: whole, never torn */
	uint32_t	 committed;
	char		 pad[60];
	uint32_t	 sum;
};
_Static_assert(sizeof(struct ixhdr) == IX_HDRSIZE, "index header size");
_Static_assert(sizeof(struct rec) == 64, "record size");
_Static_assert(sizeof(struct change) == 24, "change record size");

struct ixf {				/* one open index file */
	int		 fd;
	dev_t		 dev;
	ino_t		 ino;
	int		 refs;
	struct ixf	*next;
};

struct store {
	int		 dirfd, boxfd;
	/* DIR/counter, for the namespace lock */
	int		 nsfd;
	struct counter	*ctr;
	struct ixf	*ixfs;
	unsigned	 tmpseq;
	char		 err[256];
};

struct kwlist {
	char		*buf;
	const char	*name[KEYWORDS_MAX];
	size_t		 n;
	off_t		 size;		/* bytes of complete lines */
	off_t		 seen;		/* file size when loaded */
};

struct range {
	uint32_t	 lo, hi;
};

/*
 * What the const readers of a selected mailbox (store_rec and friends)
 * may change: the window of index records and a memo.
 */
struct rstate {
	struct rec	*win;		/* WIN_RECS records */
	uint32_t	 first, n;	/* holds records [first, first + n) */
	uint32_t	 dlo, dhi;	/* changed, unwritten: [dlo, dhi) */
	uint32_t	 recent;	/* store_recent_count(), if recent_ok */
	int		 recent_ok;
};

/* A write-locked mailbox that is not (necessarily) selected. */
struct wbox {
	int		 dirfd;
	struct ixf	*ix;
	struct ixhdr	 h;
};

struct mailbox {
	struct store	*st;
	int		 readonly;
	uint32_t	 pid;
	int		 dirfd, chfd, kwfd;
	int		 datafd;	/* data.G */
	int		 cachefd;	/* cache, opened on first use */
	struct ixf	*ix;
	struct rstate	*rs;
	off_t		 ixseen;	/* 64 + 64 * nrecs at last look */
	uint32_t	 nrecs;		/* intact records read so far */
	char		*dbuf;		/* store_data's answer */
	size_t		 dcap;
	/* cache file bytes [goff, goff + glen) */
	char		*gbuf;
	size_t		 gcap, glen;
	off_t		 goff;
	char		*cbuf;		/* unwritten cache entries */
	size_t		 cbuflen, cbufcap;
	uint32_t	*cpos;		/* their records */
	size_t		 ncpos, capcpos;
	off_t		 choff;		/* change log read so far */
	uint32_t	*view;		/* seq n is record view[n - 1]; */
					/* NULL: record n - 1 (mb_take_new) */
	size_t		 nview, capview;
	uint32_t	*pend;		/* expunged by others, untold */
	size_t		 npend, cappend;
	struct range	*recent;
	size_t		 nrecent;
	struct kwlist	 kw;
	size_t		 kwtold;
	uint32_t	 told;		/* EXISTS the client knows */
	uint32_t	 unseen;	/* first seq without \Seen at SELECT */
	uint32_t	 uidvalidity, uidnext;
	uint64_t	 highestmodseq;
	uint64_t	 generation;
};

/* ------------------------------------- shared between the store files */

/* store.c */
void	seterr(struct store *st, const char *fmt, ...);
void	seterrno(struct store *st, const char *what);
void	unlk(int fd, off_t byte);
void *	xrealloc(void *p, size_t n, size_t sz);
int	pwrite_all(int fd, const void *buf, size_t len, off_t off);
int	pread_all(int fd, void *buf, size_t len, off_t off);
void	closefd(int *fd);
char *	buf_get(char **buf, size_t *cap, size_t need);
void	buf_trim(char **buf, size_t *cap);

/* names.c */
int	name_ok(const char *name);
int	enc_name(const char *name, char *buf, size_t cap);
char *	dec_name(const char *enc);
int	box_exists(struct store *st, const char *enc);
int	box_opendir(struct store *st, const char *name);
int	rmtree(int parent, const char *name);
void	names_free(char **v, size_t n);
int	names_push(char ***v, size_t *n, size_t *cap, char *s);
int	cmpname(const void *a, const void *b);
int	list_names(struct store *st, char ***names_r, size_t *n_r);

/* index.c */
uint32_t fnv32(const void *p, size_t len);
void	rec_seal(struct rec *r);
void	rec_clamp(struct rec *r);
void	hdr_seal(struct ixhdr *h);
struct ixf * ix_get(struct store *st, int dirfd);
void	ix_put(struct store *st, struct ixf *ix);
int	ix_lock(struct ixf *ix, int dirfd, short type, off_t byte);
int	hdr_read(int fd, struct ixhdr *h);
int	hdr_write(int fd, struct ixhdr *h);
int	ix_tail(int fd, int fix, uint32_t *n_r, struct rec *last_r);
int	wbox_open(struct store *st, const char *name, short type, struct wbox *w);
void	wbox_close(struct store *st, struct wbox *w);
int	data_open(int dirfd, uint64_t gen, int flags);
int	hdr_peek(struct mailbox *mb, struct ixhdr *h);

/* keywords.c */
void	kw_free(struct kwlist *kl);
int	kw_load(int fd, struct kwlist *kl);
int	kw_find(const struct kwlist *kl, const char *name);
int	kw_add(int fd, struct kwlist *kl, const char *name);
int	kw_open_load(int dirfd, struct kwlist *kl, int *fd_r);

/* write.c */

/* view.c */
int	win_flush(const struct mailbox *mb);
void	win_drop(const struct mailbox *mb);
struct rec * mb_rec(const struct mailbox *mb, uint32_t pos);
void	win_dirty(const struct mailbox *mb, uint32_t pos);
uint32_t seq_pos(const struct mailbox *mb, size_t i);
int	view_own(struct mailbox *mb);
size_t	view_lower(const struct mailbox *mb, uint32_t pos);
int	mb_take_new(struct mailbox *mb, uint32_t n, int dense, struct ixhdr *h,
    uint32_t *ntomb_r);

/* sync.c */

/* cache.c */
int	cache_open(struct mailbox *mb);
void	cache_flush(struct mailbox *mb);

/* compact.c */
void	mb_compact(struct mailbox *mb);
uint64_t mb_dead_bytes(const struct mailbox *mb);

#endif
