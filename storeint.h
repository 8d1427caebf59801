/*
 * storeint.h: what the store files (store.c, names.c, index.c,
 * keywords.c, view.c, sync.c, write.c, cache.c, compact.c, objectid.c)
 * share and no other file sees: the index header, the open index files,
 * struct store and struct mailbox, and the helpers each file exports to
 * the others.
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
 *	DIR/box/ENC/kwmore	keywords past 63 (struct kwment),
 *				append-only
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

#include <dirent.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "buf.h"
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
	/* every change up to this MODSEQ was synced before this was written */
	uint64_t	 synced;
	/* the highest EMAILID number a record here was given (0: none) */
	uint32_t	 emailmax;
	/* RFC 6154 special uses (SU_* in store.h); 0 in older indexes */
	uint32_t	 specialuse;
	char		 pad[44];
	uint32_t	 sum;
};
_Static_assert(sizeof(struct ixhdr) == IX_HDRSIZE, "index header size");
_Static_assert(sizeof(struct rec) == 64, "record size");
_Static_assert(sizeof(struct change) == 24, "change record size");

/* An entry of "kwmore": keywords 64 and up of record (uid, modseq). */
struct kwment {
	uint64_t	 modseq;
	uint64_t	 w[KW_WORDS - 1];
	uint32_t	 uid;
	uint32_t	 sum;		/* checksum of the bytes before */
};
_Static_assert(sizeof(struct kwment) == 136, "kwmore entry size");

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
	char		 err[256];	/* the last failure: its text */
	int		 errcode;	/* and its errno value */
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
	int		 poke;		/* wake idlers at close: it wrote */
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
	struct kwmore	*kwm;		/* "kwmore" as read so far */
	size_t		 kwtold;
	uint32_t	 told;		/* EXISTS the client knows */
	uint32_t	 unseen;	/* first seq without \Seen at SELECT */
	uint32_t	 uidvalidity, uidnext;
	uint64_t	 highestmodseq;
	uint64_t	 created_modseq;	/* its MAILBOXID */
	uint64_t	 generation;
	int		 idlefd, idlewfd; /* IDLE's FIFO: read, own write end */
	int		 deleted;	/* another process deleted it: told */
};

/* store.c: errors, and the I/O helpers every store file uses */
void		 st_seterr(struct store *, int code, const char *fmt, ...);
void		 st_seterrno(struct store *, const char *what);
void		 st_unlock(int fd, off_t byte);
int		 st_pwrite_all(int fd, const void *, size_t len, off_t off);
int		 st_pread_all(int fd, void *, size_t len, off_t off);
void		 st_closefd(int *fd);
char		*st_buf_get(char **buf, size_t *cap, size_t need);
void		 st_buf_trim(char **buf, size_t *cap);
void		 st_reverse_u32(uint32_t *, size_t n);
int		 st_u32_push(uint32_t **v, size_t *n, size_t *cap, uint32_t x);
size_t		 st_u32_uniq(uint32_t *v, size_t n);
size_t		 st_u32_lower(const uint32_t *v, size_t n, uint64_t x);

/* objectid.c: a MAILBOXID from the index header's created_modseq */
void		 oid_mailbox(uint64_t created_modseq, char *buf_r);

/* sync.c: waking the sessions that IDLE on a mailbox */
void		 sync_poke(int dirfd);

/* names.c: mailbox names and their directories */
int		 name_ok(const char *name);
int		 name_enc(const char *name, char *buf, size_t cap);
char		*name_dec(const char *enc);
char		*name_dec_old(const char *enc);
char		*name_old(const char *raw);
int		 name_upgrade_dirs(struct store *);
int		 name_exists(struct store *, const char *enc);
int		 name_opendir(struct store *, const char *name);
int		 name_rmtree(int parent, const char *name);
DIR		*name_boxdir(struct store *);
int		 name_list(struct store *, char ***names_r, size_t *n_r);
int		 name_list_push(char ***v, size_t *n, size_t *cap, char *s);
void		 name_list_free(char **v, size_t n);
int		 name_cmp(const void *, const void *);

/* index.c: index files, their records, header and locks */
uint32_t	 ix_fnv32(const void *, size_t len);
void		 ix_rec_seal(struct rec *);
void		 ix_rec_clamp(struct rec *);
/* rec.cache: the structure cache entry's offset + 1 (0: none), the save date */
uint32_t	 ix_rec_cachepos(const struct rec *);
void		 ix_rec_set_cachepos(struct rec *, uint32_t);
void		 ix_rec_set_savedate(struct rec *, time_t);
struct ixf	*ix_get(struct store *, int dirfd);
void		 ix_put(struct store *, struct ixf *);
int		 ix_lock(struct ixf *, int dirfd, short type, off_t byte);
void		 ix_hdr_seal(struct ixhdr *);
int		 ix_hdr_read(int fd, struct ixhdr *);
int		 ix_hdr_write(int fd, struct ixhdr *);
int		 ix_hdr_peek(int fd, struct ixhdr *);
int		 ix_tail(int fd, int fix, uint32_t *n_r, struct rec *last_r);
int		 ix_wbox_open(struct store *, const char *name, short type,
		    struct wbox *);
void		 ix_wbox_close(struct store *, struct wbox *);
int		 ix_data_open(int dirfd, uint64_t gen, int flags);

/* keywords.c: the keyword names of a mailbox */
void		 kw_free(struct kwlist *);
int		 kw_load(int fd, struct kwlist *);
int		 kw_find(const struct kwlist *, const char *name);
int		 kw_add(int fd, struct kwlist *, const char *name);
int		 kw_open_load(int dirfd, struct kwlist *, int *fd_r);

/* kwmore.c: keywords past 63 */
int		 kwset_more(const struct kwset *);
void		 kwm_entry(struct kwment *, uint32_t uid, const struct kwset *);
struct kwmore	*kwm_new(void);
void		 kwm_free(struct kwmore *);
void		 kwm_locked(struct kwmore *, int locked);
int		 kwm_get(const struct mailbox *, const struct rec *,
		    struct kwset *);
int		 kwm_append(int dirfd, struct kwment *, size_t n);
int		 kwm_rewrite(int dirfd, struct kwment *, size_t n);

/* view.c: a selected mailbox's window of records and its view */
struct rec	*mb_rec(const struct mailbox *, uint32_t pos);
int		 mb_win_flush(const struct mailbox *);
void		 mb_win_drop(const struct mailbox *);
void		 mb_win_dirty(const struct mailbox *, uint32_t pos);
uint32_t	 mb_seq_pos(const struct mailbox *, size_t i);
int		 mb_view_own(struct mailbox *);
size_t		 mb_view_lower(const struct mailbox *, uint32_t pos);
int		 mb_take_new(struct mailbox *, uint32_t n, int dense,
		    struct ixhdr *, uint32_t *ntomb_r);

/* cache.c: the structure cache */
int		 cache_open(struct mailbox *);
void		 cache_flush(struct mailbox *);

/* compact.c: compaction */
void		 compact_maybe(struct mailbox *);

#endif
