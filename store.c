/*
 * store.c: mailbox files, their records and their locks.
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

#include <sys/types.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "imapd.h"
#include "modseq.h"
#include "parse.h"
#include "store.h"

#define IX_MAGIC	"IMAPDIX1"
#define IX_VERSION	3
#define IX_HDRSIZE	128
#define RECSIZE		((off_t)sizeof(struct rec))
#define HDR_DELETED	1
#define ENC_MAX		255		/* the usual NAME_MAX */
#define NAME_LEN_MAX	1000		/* decoded mailbox name */
#define WIN_RECS	1024		/* records read with one pread */
#define WIN_PAGE	64		/* records read for a jump: 4 KiB */
/* Read buffers larger than this are freed at a sync. */
#define BUF_KEEP	(1024 * 1024)

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

struct xent {				/* entry of the file "expunged" */
	uint32_t	 uid;
	uint32_t	 zero;
	uint64_t	 modseq;		/* of the expunge */
};
_Static_assert(sizeof(struct xent) == 16, "expunged entry size");

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

/* ------------------------------------------------------------ helpers */

static void
seterr(struct store *st, const char *fmt, ...)
{
	va_list	 ap;
	int	 e = errno;

	va_start(ap, fmt);
	vsnprintf(st->err, sizeof st->err, fmt, ap);
	va_end(ap);
	errno = e;
}

/* Text for errno after a failed step, in the words imapd passes on. */
static void
seterrno(struct store *st, const char *what)
{
	const char	*why;

	switch (errno) {
	case ETIMEDOUT:
	case EAGAIN:
		why = "mailbox is locked by another session, try again";
		break;
	case ENOENT:
		why = "no such mailbox";
		break;
	case EEXIST:
		why = "mailbox already exists";
		break;
	case ENOSPC:
		why = "limit reached";
		break;
	case ESTALE:
		why = "the counter file was removed or replaced while in use";
		break;
	default:
		why = strerror(errno);
		break;
	}
	seterr(st, "%s: %s", what, why);
}

/* FNV-1a, 32 bits: enough to tell a torn record from a whole one. */
static uint32_t
fnv32(const void *p, size_t len)
{
	const unsigned char	*s = p;
	uint32_t		 h = 2166136261U;

	while (len-- > 0) {
		h ^= *s++;
		h *= 16777619U;
	}
	return h;
}

/*
 * A record's sum covers only the fields that never change in place (UID,
 * internal date, offset, size): flags, keywords, modseq and the cache
 * offset are rewritten in place, and a process killed halfway through
 * such a rewrite must not make its record look torn, or the next
 * appender would cut a message off the index.
 */
static uint32_t
rec_sum(const struct rec *r)
{
	const unsigned char	*p = (const unsigned char *)r;
	size_t			 i;
	uint32_t		 h = 2166136261U;

	for (i = 0; i < offsetof(struct rec, reserved); i++) {
		if (i == offsetof(struct rec, flags))
			i = offsetof(struct rec, internaldate);
		h ^= p[i];
		h *= 16777619U;
	}
	return h;
}

static void
rec_seal(struct rec *r)
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

static void
rec_clamp(struct rec *r)
{
	if (r->internaldate >= DATE_MIN && r->internaldate <= DATE_MAX)
		return;
	r->internaldate = r->internaldate < DATE_MIN ? DATE_MIN : DATE_MAX;
	rec_seal(r);
}

static void
hdr_seal(struct ixhdr *h)
{
	h->sum = fnv32(h, offsetof(struct ixhdr, sum));
}

static void
unlk(int fd, off_t byte)
{
	int	 e = errno;

	modseq_lock(fd, F_UNLCK, byte, 0);
	errno = e;
}

/* realloc for n elements of size sz, failing on overflow (ENOMEM). */
static void *
xrealloc(void *p, size_t n, size_t sz)
{
	if (sz != 0 && n > SIZE_MAX / sz) {
		errno = ENOMEM;
		return NULL;
	}
	return realloc(p, n * sz != 0 ? n * sz : 1);
}

static int
pwrite_all(int fd, const void *buf, size_t len, off_t off)
{
	const char	*p = buf;
	ssize_t		 w;

	while (len > 0) {
		w = pwrite(fd, p, len, off);
		if (w == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (w == 0) {
			errno = EIO;
			return -1;
		}
		p += w;
		len -= (size_t)w;
		off += w;
	}
	return 0;
}

static int
pread_all(int fd, void *buf, size_t len, off_t off)
{
	char	*p = buf;
	ssize_t	 r;

	while (len > 0) {
		r = pread(fd, p, len, off);
		if (r == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0) {
			errno = EIO;
			return -1;
		}
		p += r;
		len -= (size_t)r;
		off += r;
	}
	return 0;
}

static void
closefd(int *fd)
{
	int	 e = errno;

	if (*fd != -1)
		close(*fd);
	*fd = -1;
	errno = e;
}

/* ------------------------------------------------------ mailbox names */

/*
 * A name is stored as one directory name: every byte outside
 * [A-Za-z0-9_+,&-] becomes %XX, '/' and '.' included, so no name can
 * contain a path separator or start with a dot (internal entries).
 */
static int
enc_safe(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '_' || c == '+' || c == ',' ||
	    c == '&' || c == '-';
}

/* Mailbox names the store accepts: printable ASCII, no empty levels. */
static int
name_ok(const char *name)
{
	const unsigned char	*s = (const unsigned char *)name;
	size_t			 i;

	if (s[0] == '\0' || s[0] == '/')
		return 0;
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] < 0x20 || s[i] >= 0x7f)
			return 0;
		if (s[i] == '/' && (s[i + 1] == '/' || s[i + 1] == '\0'))
			return 0;
		if (i >= NAME_LEN_MAX)
			return 0;
	}
	return 1;
}

static int
enc_name(const char *name, char *buf, size_t cap)
{
	static const char	 hex[] = "0123456789ABCDEF";
	const unsigned char	*s = (const unsigned char *)name;
	size_t			 o = 0;

	if (!name_ok(name)) {
		errno = EINVAL;
		return -1;
	}
	for (; *s != '\0'; s++) {
		if (enc_safe(*s)) {
			if (cap - o < 2)
				goto toolong;
			buf[o++] = (char)*s;
		} else {
			if (cap - o < 4)
				goto toolong;
			buf[o++] = '%';
			buf[o++] = hex[*s >> 4];
			buf[o++] = hex[*s & 15];
		}
	}
	if (o > ENC_MAX)
		goto toolong;
	buf[o] = '\0';
	return 0;
toolong:
	errno = ENAMETOOLONG;
	return -1;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Returns a new string, or NULL for an entry that is not a mailbox. */
static char *
dec_name(const char *enc)
{
	char	*out, *o;
	int	 a, b;

	if (enc[0] == '.' || enc[0] == '\0')
		return NULL;
	if ((out = malloc(strlen(enc) + 1)) == NULL)
		return NULL;
	for (o = out; *enc != '\0'; enc++) {
		if (*enc != '%') {
			if (!enc_safe((unsigned char)*enc))
				goto bad;
			*o++ = *enc;
			continue;
		}
		if ((a = hexval(enc[1])) == -1 || (b = hexval(enc[2])) == -1 ||
		    (a == 0 && b == 0))
			goto bad;
		*o++ = (char)(a * 16 + b);
		enc += 2;
	}
	*o = '\0';
	if (!name_ok(out))
		goto bad;
	return out;
bad:
	free(out);
	return NULL;
}

static int
box_exists(struct store *st, const char *enc)
{
	struct stat	 sb;

	return fstatat(st->boxfd, enc, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISDIR(sb.st_mode);
}

static int
box_opendir(struct store *st, const char *name)
{
	char	 enc[ENC_MAX + 4];

	if (enc_name(name, enc, sizeof enc) == -1)
		return -1;
	return openat(st->boxfd, enc, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
}

/* Remove a mailbox directory (flat: files only). */
static int
rmtree(int parent, const char *name)
{
	DIR		*d;
	struct dirent	*de;
	int		 fd;

	fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (fd == -1)
		return errno == ENOENT ? 0 : -1;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (unlinkat(fd, de->d_name, 0) == -1 && errno != ENOENT) {
			closedir(d);
			return -1;
		}
	}
	closedir(d);
	return unlinkat(parent, name, AT_REMOVEDIR);
}

/* ------------------------------------------------------ index files */

static struct ixf *
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
			closefd(&fd);
			return NULL;
		}
		/*
		 * Replaced between the two looks (compaction). The file we
		 * opened cannot be one in the list: a listed file is in use
		 * here, which excludes compaction, so closing is safe.
		 */
		if (sb.st_dev != sa.st_dev || sb.st_ino != sa.st_ino) {
			closefd(&fd);
			continue;
		}
		if ((ix = malloc(sizeof *ix)) == NULL) {
			closefd(&fd);
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

static void
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
	closefd(&ix->fd);	/* and with it every lock on the file */
	free(ix);
}

/*
 * Lock a byte of an index, then make sure the file is still the one
 * named "index": a compaction may have renamed a new one over it while
 * we waited. Returns 0, 1 (stale: start again) or -1.
 */
static int
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
			unlk(ix->fd, byte);
		return -1;
	}
	if (sb.st_dev != ix->dev || sb.st_ino != ix->ino) {
		if (!keep)
			unlk(ix->fd, byte);
		return 1;
	}
	return 0;
}

static int
hdr_read(int fd, struct ixhdr *h)
{
	if (pread_all(fd, h, sizeof *h, 0) == -1)
		return -1;
	if (memcmp(h->magic, IX_MAGIC, 8) != 0 || h->version != IX_VERSION ||
	    h->sum != fnv32(h, offsetof(struct ixhdr, sum))) {
		errno = EIO;
		return -1;
	}
	return 0;
}

static int
hdr_write(int fd, struct ixhdr *h)
{
	hdr_seal(h);
	return pwrite_all(fd, h, sizeof *h, 0);
}

/*
 * Count the intact records of an index. Records below the header's
 * committed count were synced before it was written. Past it, a writer
 * that died or a power cut can have left records partial or torn, and a
 * disk may have written the later pages of a long write and not the
 * earlier ones: the records are kept up to the first whose sum is wrong.
 * With fix (the caller holds the write lock) the rest is cut off.
 */
static int
ix_tail(int fd, int fix, uint32_t *n_r, struct rec *last_r)
{
	struct stat	 sb;
	struct ixhdr	 h;
	struct rec	 r;
	off_t		 n, i;

	if (fstat(fd, &sb) == -1 || hdr_read(fd, &h) == -1)
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
		if (pread_all(fd, &r, sizeof r, IX_HDRSIZE + i * RECSIZE) == -1)
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
	    pread_all(fd, &r, sizeof r, IX_HDRSIZE + (n - 1) * RECSIZE) == -1)
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
static int
wbox_open(struct store *st, const char *name, short type, struct wbox *w)
{
	int	 r, tries;

	w->dirfd = -1;
	w->ix = NULL;
	for (tries = 0; tries < 100; tries++) {
		if ((w->dirfd = box_opendir(st, name)) == -1)
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
		closefd(&w->dirfd);
	}
	if (w->ix == NULL) {
		errno = EAGAIN;
		return -1;
	}
	if (hdr_read(w->ix->fd, &w->h) == -1)
		goto unlock;
	if (w->h.hflags & HDR_DELETED) {
		errno = ENOENT;
		goto unlock;
	}
	return 0;
unlock:
	unlk(w->ix->fd, IX_BYTE_WRITE);
fail:
	ix_put(st, w->ix);
	w->ix = NULL;
	closefd(&w->dirfd);
	return -1;
}

static void
wbox_close(struct store *st, struct wbox *w)
{
	if (w->ix != NULL) {
		unlk(w->ix->fd, IX_BYTE_WRITE);
		ix_put(st, w->ix);
	}
	w->ix = NULL;
	closefd(&w->dirfd);
}

static int
data_open(int dirfd, uint64_t gen, int flags)
{
	char	 name[32];

	snprintf(name, sizeof name, "data.%llu", (unsigned long long)gen);
	return openat(dirfd, name, flags | O_NOFOLLOW | O_CLOEXEC, 0600);
}

/* ----------------------------------------------------------- keywords */

static void
kw_free(struct kwlist *kl)
{
	free(kl->buf);
	memset(kl, 0, sizeof *kl);
}

/* Load the names; a last line without its newline (torn) is ignored. */
static int
kw_load(int fd, struct kwlist *kl)
{
	struct stat	 sb;
	char		*p, *nl, *end;

	kw_free(kl);
	if (fstat(fd, &sb) == -1)
		return -1;
	if (sb.st_size > (off_t)KEYWORDS_MAX * (KEYWORD_LEN_MAX + 2)) {
		errno = EFBIG;
		return -1;
	}
	kl->seen = sb.st_size;
	if ((kl->buf = malloc((size_t)sb.st_size + 1)) == NULL)
		return -1;
	if (pread_all(fd, kl->buf, (size_t)sb.st_size, 0) == -1) {
		kw_free(kl);
		return -1;
	}
	kl->seen = sb.st_size;
	end = kl->buf + sb.st_size;
	for (p = kl->buf; p < end && kl->n < KEYWORDS_MAX; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			break;
		*nl = '\0';
		kl->name[kl->n++] = p;
		kl->size = nl + 1 - kl->buf;
	}
	return 0;
}

static int
kw_find(const struct kwlist *kl, const char *name)
{
	size_t	 i;

	/* Keywords compare without regard to case, like flags. */
	for (i = 0; i < kl->n; i++)
		if (strcasecmp(kl->name[i], name) == 0)
			return (int)i;
	return -1;
}

/*
 * Add a name (the caller holds the index write lock) and return its bit.
 * The file must be durable before any record uses the bit.
 */
static int
kw_add(int fd, struct kwlist *kl, const char *name)
{
	size_t	 len = strlen(name);
	char	*line;
	int	 r;

	if ((r = kw_find(kl, name)) != -1)
		return r;
	if (len == 0 || len > KEYWORD_LEN_MAX || strchr(name, '\n') != NULL) {
		errno = EINVAL;
		return -1;
	}
	if (kl->n >= KEYWORDS_MAX) {
		errno = ENOSPC;
		return -1;
	}
	if ((line = malloc(len + 1)) == NULL)
		return -1;
	memcpy(line, name, len);
	line[len] = '\n';
	r = -1;
	if (kl->seen != kl->size && ftruncate(fd, kl->size) == -1)
		goto out;
	if (pwrite_all(fd, line, len + 1, kl->size) == -1 ||
	    fdatasync(fd) == -1)
		goto out;
	if (kw_load(fd, kl) == -1)
		goto out;
	r = kw_find(kl, name);
	if (r == -1)
		errno = EIO;
out:
	free(line);
	return r;
}

/* Under the write lock: reload the names (others may have added some). */
static int
kw_open_load(int dirfd, struct kwlist *kl, int *fd_r)
{
	*fd_r = openat(dirfd, "keywords", O_RDWR | O_CREAT | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	if (*fd_r == -1)
		return -1;
	if (kw_load(*fd_r, kl) == -1) {
		closefd(fd_r);
		return -1;
	}
	return 0;
}

/* -------------------------------------------------------------- append */

struct msgin {
	const char	*p;		/* the bytes, or NULL: those of */
	size_t		 len;
	int		 crlf;		/* store bare LF as CRLF */
	struct mailbox	*src;		/* msg seq of src (COPY) */
	uint32_t	 seq;
	uint32_t	 flags;
	uint64_t	 keywords;
	int64_t		 date;
};

/* An LF at p[i] that is not the end of a CRLF. */
static int
bare_lf(const char *p, size_t i)
{
	return p[i] == '\n' && (i == 0 || p[i - 1] != '\r');
}

size_t
store_crlf_size(const char *p, size_t len)
{
	size_t		 i, n = len;

	for (i = 0; i < len; i++)
		n += bare_lf(p, i);
	return n;
}

/*
 * Write a message with its bare LFs made CRLF (RFC 5322 line ends, so
 * RFC822.SIZE counts what FETCH sends), through a small buffer: the
 * caller's copy is the only one, whatever the message's size.
 */
static int
pwrite_crlf(int fd, const char *p, size_t len, off_t off, size_t *len_r)
{
	char		 buf[16384];
	size_t		 i, n = 0, done = 0;

	for (i = 0; i < len; i++) {
		if (n > sizeof buf - 2) {
			if (pwrite_all(fd, buf, n, off + (off_t)done) == -1)
				return -1;
			done += n;
			n = 0;
		}
		if (bare_lf(p, i))
			buf[n++] = '\r';
		buf[n++] = p[i];
	}
	if (n > 0 && pwrite_all(fd, buf, n, off + (off_t)done) == -1)
		return -1;
	*len_r = done + n;
	return 0;
}

/*
 * Append messages to a write-locked mailbox: bytes to data.G, fdatasync,
 * then all records with one pwrite and one fdatasync. The record write is
 * what makes a message exist; bytes of a writer that died before it are
 * garbage in data.G until compaction.
 */
static int
append_locked(struct store *st, struct wbox *w, const struct msgin *m,
    size_t n, uint32_t *uids_r)
{
	struct rec	*recs = NULL, last;
	struct stat	 sb;
	uint32_t	 nrec, uid;
	uint64_t	 ms;
	off_t		 off;
	size_t		 i;
	int		 dfd = -1, ret = -1;

	if (n == 0)
		return 0;
	if (ix_tail(w->ix->fd, 1, &nrec, &last) == -1)
		goto fail;
	/* Compaction may have moved out tombstones above the last record. */
	uid = nrec > 0 && last.uid > w->h.uidmax ? last.uid : w->h.uidmax;
	/*
	 * seen_low can only be past the end if records it counted were
	 * lost (a power cut after an unsynced append): the new ones are not
	 * \Seen for it.
	 */
	if (w->h.seen_low > nrec)
		w->h.seen_low = nrec;
	if (n > UINT32_MAX - 1 - uid || n > SIZE_MAX / sizeof *recs) {
		errno = ENOSPC;
		goto fail;
	}
	if ((recs = calloc(n, sizeof *recs)) == NULL)
		goto fail;
	if ((dfd = data_open(w->dirfd, w->h.generation, O_RDWR | O_CREAT))
	    == -1 || fstat(dfd, &sb) == -1)
		goto fail;
	off = sb.st_size;
	for (i = 0; i < n; i++) {
		const char	*p = m[i].p;
		size_t		 len = m[i].len;

		/* COPY reads one message at a time: store_data's buffer. */
		if (p == NULL && (p = store_data(m[i].src, m[i].seq,
		    SIZE_MAX, &len)) == NULL)
			goto fail;
		if (m[i].crlf ? pwrite_crlf(dfd, p, len, off, &len) == -1 :
		    pwrite_all(dfd, p, len, off) == -1)
			goto fail;
		recs[i].offset = (uint64_t)off;
		recs[i].size = len;
		off += (off_t)len;
	}
	if (fdatasync(dfd) == -1)
		goto fail;
	/* One mod-sequence for the whole call (RFC 7162 allows equal ones). */
	if ((ms = modseq_next(st->ctr)) == 0)
		goto fail;
	for (i = 0; i < n; i++) {
		recs[i].uid = uid + 1 + (uint32_t)i;
		recs[i].flags = m[i].flags & FL_SYSTEM;
		recs[i].keywords = m[i].keywords;
		recs[i].modseq = ms;
		recs[i].internaldate = m[i].date;
		rec_seal(&recs[i]);
	}
	off = IX_HDRSIZE + (off_t)nrec * RECSIZE;
	if (pwrite_all(w->ix->fd, recs, n * sizeof *recs, off) == -1) {
		int e = errno;

		(void)ftruncate(w->ix->fd, off);
		errno = e;
		goto fail;
	}
	if (ms > w->h.highestmodseq)
		w->h.highestmodseq = ms;
	if (hdr_write(w->ix->fd, &w->h) == -1 || fdatasync(w->ix->fd) == -1)
		goto fail;
	/*
	 * Only now are the records known whole; the count reaches the disk
	 * with the next sync, and until then readers check the records.
	 */
	w->h.committed = nrec + (uint32_t)n;
	if (hdr_write(w->ix->fd, &w->h) == -1)
		goto fail;
	for (i = 0; i < n; i++)
		uids_r[i] = recs[i].uid;
	ret = 0;
fail:
	closefd(&dfd);
	free(recs);
	return ret;
}

int
store_append(struct store *st, const char *name, const char *msg,
    size_t len, uint32_t flags, char **keywords, size_t nkeywords,
    time_t internaldate, uint32_t *uidvalidity_r, uint32_t *uid_r)
{
	struct wbox	 w;
	struct kwlist	 kl;
	struct msgin	 m;
	size_t		 i;
	int		 kwfd = -1, bit, ret = -1;

	memset(&kl, 0, sizeof kl);
	if (wbox_open(st, name, F_WRLCK, &w) == -1) {
		seterrno(st, "APPEND");
		return -1;
	}
	memset(&m, 0, sizeof m);
	m.p = msg;
	m.len = len;
	m.crlf = (flags & STORE_CRLF) != 0;
	m.flags = flags;
	m.keywords = 0;
	m.date = internaldate;
	if (nkeywords > 0) {
		if (kw_open_load(w.dirfd, &kl, &kwfd) == -1)
			goto fail;
		for (i = 0; i < nkeywords; i++) {
			if ((bit = kw_add(kwfd, &kl, keywords[i])) == -1)
				goto fail;
			m.keywords |= (uint64_t)1 << bit;
		}
	}
	if (append_locked(st, &w, &m, 1, uid_r) == -1)
		goto fail;
	*uidvalidity_r = w.h.uidvalidity;
	ret = 0;
fail:
	if (ret == -1)
		seterrno(st, "APPEND");
	closefd(&kwfd);
	kw_free(&kl);
	wbox_close(st, &w);
	return ret;
}

/* ----------------------------------------------------------- namespace */

static int	 rn_finish(struct store *);

/* A RENAME that died half-way is finished by the next one to get here. */
static int
ns_lock(struct store *st)
{
	if (modseq_lock(st->nsfd, F_WRLCK, CT_BYTE_NS, 1) == -1)
		return -1;
	/* Best effort: if it fails, its plan stays for the next try. */
	(void)rn_finish(st);
	return 0;
}

static void
ns_unlock(struct store *st)
{
	unlk(st->nsfd, CT_BYTE_NS);
}

static int
mkfile(int dirfd, const char *name, const void *p, size_t len)
{
	int	 fd, e;

	fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	if (fd == -1)
		return -1;
	if ((len > 0 && pwrite_all(fd, p, len, 0) == -1) || fsync(fd) == -1) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return close(fd);
}

/*
 * Build the mailbox in DIR/box/.new.PID, then rename it into place: the
 * rename is the step that makes it exist. Caller holds the namespace lock.
 */
/*
 * Take a mailbox directory out of the namespace with one rename, then
 * remove it; what the removal leaves is the sweep's at the next open.
 */
static int
remove_box(struct store *st, const char *enc)
{
	char	 tmp[64];

	snprintf(tmp, sizeof tmp, ".del.%ld.%u", (long)getpid(),
	    st->tmpseq++);
	if (renameat(st->boxfd, enc, st->boxfd, tmp) == -1 ||
	    fsync(st->boxfd) == -1)
		return -1;
	(void)rmtree(st->boxfd, tmp);
	return 0;
}

/* A directory whose index is marked deleted: a DELETE died half-way. */
static int
box_half_deleted(struct store *st, const char *enc)
{
	struct ixhdr	 h;
	int		 dfd, fd, r = 0;

	if ((dfd = openat(st->boxfd, enc, O_RDONLY | O_DIRECTORY |
	    O_NOFOLLOW | O_CLOEXEC)) == -1)
		return 0;
	if ((fd = openat(dfd, "index", O_RDONLY | O_NOFOLLOW |
	    O_CLOEXEC)) != -1) {
		r = hdr_read(fd, &h) == 0 && (h.hflags & HDR_DELETED);
		close(fd);
	}
	close(dfd);
	return r;
}

static int
create_locked(struct store *st, const char *name)
{
	struct ixhdr	 h;
	char		 enc[ENC_MAX + 4], tmp[64];
	int		 tfd = -1;

	if (enc_name(name, enc, sizeof enc) == -1)
		return -1;
	/* A half-deleted mailbox of the name is finished off first. */
	if (box_exists(st, enc)) {
		if (!box_half_deleted(st, enc)) {
			errno = EEXIST;
			return -1;
		}
		if (remove_box(st, enc) == -1)
			return -1;
	}
	snprintf(tmp, sizeof tmp, ".new.%ld", (long)getpid());
	if (rmtree(st->boxfd, tmp) == -1)
		return -1;
	if (mkdirat(st->boxfd, tmp, 0700) == -1)
		return -1;
	if ((tfd = openat(st->boxfd, tmp, O_RDONLY | O_DIRECTORY |
	    O_NOFOLLOW | O_CLOEXEC)) == -1)
		goto fail;
	memset(&h, 0, sizeof h);
	memcpy(h.magic, IX_MAGIC, 8);
	h.version = IX_VERSION;
	h.generation = 1;
	if ((h.uidvalidity = modseq_uidvalidity(st->ctr)) == 0 ||
	    (h.created_modseq = modseq_next(st->ctr)) == 0)
		goto fail;
	/* RFC 7162 3.1.2.1: HIGHESTMODSEQ is never 0, even when empty. */
	h.highestmodseq = h.created_modseq;
	hdr_seal(&h);
	if (mkfile(tfd, "data.1", NULL, 0) == -1 ||
	    mkfile(tfd, "changes", NULL, 0) == -1 ||
	    mkfile(tfd, "keywords", NULL, 0) == -1 ||
	    mkfile(tfd, "index", &h, sizeof h) == -1 ||
	    fsync(tfd) == -1)
		goto fail;
	if (renameat(st->boxfd, tmp, st->boxfd, enc) == -1)
		goto fail;
	closefd(&tfd);
	return fsync(st->boxfd);
fail:
	closefd(&tfd);
	{
		int e = errno;

		rmtree(st->boxfd, tmp);
		errno = e;
	}
	return -1;
}

int
store_create(struct store *st, const char *name)
{
	int	 r;

	if (!name_ok(name)) {
		errno = EINVAL;
		seterr(st, "CREATE: invalid mailbox name");
		return -1;
	}
	if (ns_lock(st) == -1) {
		seterrno(st, "CREATE");
		return -1;
	}
	r = create_locked(st, name);
	if (r == -1)
		seterrno(st, "CREATE");
	ns_unlock(st);
	return r;
}

int
store_delete(struct store *st, const char *name)
{
	struct wbox	 w;
	char		 enc[ENC_MAX + 4];
	int		 ret = -1;

	if (strcmp(name, "INBOX") == 0) {
		errno = EPERM;
		seterr(st, "DELETE: INBOX cannot be deleted");
		return -1;
	}
	if (enc_name(name, enc, sizeof enc) == -1) {
		seterrno(st, "DELETE");
		return -1;
	}
	if (ns_lock(st) == -1) {
		seterrno(st, "DELETE");
		return -1;
	}
	/*
	 * Mark it deleted first: sessions that have it selected see the mark
	 * at their next sync (RFC 2180 3.3) through their open files. One
	 * marked already is a DELETE that died before its rename: finish it.
	 */
	if (wbox_open(st, name, F_WRLCK, &w) == 0) {
		w.h.hflags |= HDR_DELETED;
		if (hdr_write(w.ix->fd, &w.h) == -1 ||
		    fdatasync(w.ix->fd) == -1) {
			wbox_close(st, &w);
			goto fail;
		}
		wbox_close(st, &w);
	} else {
		int e = errno;

		if (!box_half_deleted(st, enc)) {
			errno = e;
			goto fail;
		}
	}
	if (remove_box(st, enc) == -1)
		goto fail;
	ret = 0;
fail:
	if (ret == -1)
		seterrno(st, "DELETE");
	ns_unlock(st);
	return ret;
}

static void
names_free(char **v, size_t n)
{
	size_t	 i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void
store_names_free(char **v, size_t n)
{
	names_free(v, n);
}

static int
names_push(char ***v, size_t *n, size_t *cap, char *s)
{
	char	**nv;

	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 16;

		if ((nv = xrealloc(*v, nc, sizeof *nv)) == NULL)
			return -1;
		*v = nv;
		*cap = nc;
	}
	(*v)[(*n)++] = s;
	return 0;
}

static int
cmpname(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
list_names(struct store *st, char ***names_r, size_t *n_r)
{
	DIR		*d;
	struct dirent	*de;
	char		**v = NULL, *s;
	size_t		 n = 0, cap = 0;
	int		 fd;

	if ((fd = openat(st->boxfd, ".", O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1)
		return -1;
	if ((d = fdopendir(fd)) == NULL) {
		closefd(&fd);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;	/* ".", "..", .new.*, .del.* */
		if ((s = dec_name(de->d_name)) == NULL) {
			if (errno == ENOMEM)
				goto fail;
			continue;
		}
		if (names_push(&v, &n, &cap, s) == -1) {
			free(s);
			goto fail;
		}
	}
	closedir(d);
	if (n > 1)
		qsort(v, n, sizeof *v, cmpname);
	*names_r = v;
	*n_r = n;
	return 0;
fail:
	closedir(d);
	names_free(v, n);
	return -1;
}

int
store_list(struct store *st, char ***names_r, size_t *n_r)
{
	*names_r = NULL;
	*n_r = 0;
	if (list_names(st, names_r, n_r) == -1) {
		seterrno(st, "LIST");
		return -1;
	}
	return 0;
}

/*
 * A RENAME writes its plan to DIR/rename before it moves anything: one
 * line "ENCFROM ENCTO" per directory, the mailbox first, then its
 * inferiors, and a last line ".". The file is synced (and the directory)
 * before the first rename, so a plan without its last line moved nothing.
 */
#define RN_FILE		"rename"

static int
rn_write(struct store *st, const char *from, const char *to, char **v,
    char **tv, size_t nt)
{
	char		 encf[ENC_MAX + 4], enct[ENC_MAX + 4], *buf;
	size_t		 cap, len = 0, i;
	int		 r = -1;

	if (nt > (SIZE_MAX - 3) / (2 * ENC_MAX + 4) - 1) {
		errno = EOVERFLOW;
		return -1;
	}
	cap = (nt + 1) * (2 * ENC_MAX + 4) + 3;
	if ((buf = malloc(cap)) == NULL)
		return -1;
	for (i = 0; i <= nt; i++) {
		if (enc_name(i == 0 ? from : v[i - 1], encf, sizeof encf) == -1 ||
		    enc_name(i == 0 ? to : tv[i - 1], enct, sizeof enct) == -1)
			goto out;
		len += (size_t)snprintf(buf + len, cap - len, "%s %s\n", encf,
		    enct);
	}
	memcpy(buf + len, ".\n", 2);
	len += 2;
	if (mkfile(st->dirfd, RN_FILE, buf, len) == 0 && fsync(st->dirfd) == 0)
		r = 0;
out:
	free(buf);
	return r;
}

/* One line of a plan: move from to to, unless that was done already. */
static int
rn_move(struct store *st, char *line)
{
	char	*to, *name;

	if ((to = strchr(line, ' ')) == NULL)
		return 0;
	*to++ = '\0';
	/* Only names of mailboxes: nothing outside DIR/box is touched. */
	if ((name = dec_name(line)) == NULL)
		return 0;
	free(name);
	if ((name = dec_name(to)) == NULL)
		return 0;
	free(name);
	if (!box_exists(st, line) || box_exists(st, to))
		return 0;
	return renameat(st->boxfd, line, st->boxfd, to);
}

/*
 * Carry out the plan in DIR/rename, if there is one: by the RENAME that
 * wrote it, or, if that died, by the next process to take the namespace
 * lock. Each move is done only where the source is still there and the
 * target is not, so doing it again is harmless. Caller holds the lock.
 */
static int
rn_finish(struct store *st)
{
	struct stat	 sb;
	char		*buf = NULL, *p, *nl;
	size_t		 len;
	int		 fd, r = -1;

	if ((fd = openat(st->dirfd, RN_FILE, O_RDONLY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1)
		return errno == ENOENT ? 0 : -1;
	if (fstat(fd, &sb) == -1 || (uintmax_t)sb.st_size >= SIZE_MAX ||
	    (buf = malloc((size_t)sb.st_size + 1)) == NULL ||
	    pread_all(fd, buf, (size_t)sb.st_size, 0) == -1)
		goto out;
	len = (size_t)sb.st_size;
	buf[len] = '\0';
	if (len >= 2 && memcmp(buf + len - 2, ".\n", 2) == 0 &&
	    (len == 2 || buf[len - 3] == '\n')) {
		buf[len - 2] = '\0';
		for (p = buf; (nl = strchr(p, '\n')) != NULL; p = nl + 1) {
			*nl = '\0';
			if (rn_move(st, p) == -1)
				goto out;
		}
		/* RENAME INBOX leaves an empty INBOX (RFC 3501 6.3.5). */
		if (fsync(st->boxfd) == -1 || (!box_exists(st, "INBOX") &&
		    create_locked(st, "INBOX") == -1))
			goto out;
	}
	if (unlinkat(st->dirfd, RN_FILE, 0) == -1 || fsync(st->dirfd) == -1)
		goto out;
	r = 0;
out:
	closefd(&fd);
	free(buf);
	return r;
}

/*
 * Rename one directory, and (except for INBOX, RFC 3501 6.3.5) all the
 * mailboxes below it. Every target is checked before anything moves.
 */
int
store_rename(struct store *st, const char *from, const char *to)
{
	char		**v = NULL, encf[ENC_MAX + 4], enct[ENC_MAX + 4];
	char		**tv = NULL, *s;
	size_t		 n = 0, i, nt = 0, ntv = 0, flen = strlen(from);
	int		 inbox = strcmp(from, "INBOX") == 0, ret = -1;

	if (enc_name(from, encf, sizeof encf) == -1 ||
	    enc_name(to, enct, sizeof enct) == -1) {
		seterrno(st, "RENAME");
		return -1;
	}
	if (ns_lock(st) == -1) {
		seterrno(st, "RENAME");
		return -1;
	}
	if (!box_exists(st, encf)) {
		errno = ENOENT;
		goto fail;
	}
	if (box_exists(st, enct) || strcmp(from, to) == 0) {
		errno = EEXIST;
		goto fail;
	}
	if (!inbox) {
		if (list_names(st, &v, &n) == -1)
			goto fail;
		ntv = n + 1;
		if ((tv = calloc(ntv, sizeof *tv)) == NULL)
			goto fail;
		/*
		 * Keep only the inferiors "from/...", packed at the front of
		 * v (slots before i are all free), with their targets in tv.
		 */
		for (i = 0; i < n; i++) {
			size_t tl;

			s = v[i];
			v[i] = NULL;
			if (strncmp(s, from, flen) != 0 || s[flen] != '/') {
				free(s);
				continue;
			}
			v[nt] = s;
			tl = strlen(to) + strlen(s + flen) + 1;
			if ((tv[nt] = malloc(tl)) == NULL)
				goto fail;
			snprintf(tv[nt], tl, "%s%s", to, s + flen);
			nt++;
			if (enc_name(tv[nt - 1], enct, sizeof enct) == -1)
				goto fail;
			if (box_exists(st, enct)) {
				errno = EEXIST;
				goto fail;
			}
		}
	}
	/*
	 * Written down first, so that a RENAME killed half-way is finished
	 * by the next process (rn_finish), not left half done.
	 */
	if (rn_write(st, from, to, v, tv, nt) == -1 || rn_finish(st) == -1)
		goto fail;
	ret = 0;
fail:
	if (ret == -1)
		seterrno(st, "RENAME");
	ns_unlock(st);
	names_free(v, n);
	names_free(tv, ntv);
	return ret;
}

static int
subs_read(struct store *st, char ***v_r, size_t *n_r)
{
	struct stat	 sb;
	char		*buf = NULL, *p, *nl, *s, **v = NULL;
	size_t		 n = 0, cap = 0;
	int		 fd;

	*v_r = NULL;
	*n_r = 0;
	fd = openat(st->dirfd, "subscriptions", O_RDONLY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (fd == -1)
		return errno == ENOENT ? 0 : -1;
	if (fstat(fd, &sb) == -1)
		goto fail;
	if (sb.st_size > 16 * 1024 * 1024) {
		errno = EFBIG;
		goto fail;
	}
	if ((buf = malloc((size_t)sb.st_size + 1)) == NULL ||
	    pread_all(fd, buf, (size_t)sb.st_size, 0) == -1)
		goto fail;
	buf[sb.st_size] = '\0';
	for (p = buf; (nl = strchr(p, '\n')) != NULL; p = nl + 1) {
		*nl = '\0';
		if (*p == '\0')
			continue;
		if ((s = strdup(p)) == NULL)
			goto fail;
		if (names_push(&v, &n, &cap, s) == -1) {
			free(s);
			goto fail;
		}
	}
	free(buf);
	closefd(&fd);
	*v_r = v;
	*n_r = n;
	return 0;
fail:
	free(buf);
	closefd(&fd);
	names_free(v, n);
	return -1;
}

static int
subs_write(struct store *st, char **v, size_t n)
{
	size_t	 i, len;
	off_t	 off = 0;
	int	 fd;

	fd = openat(st->dirfd, "subscriptions.new", O_WRONLY | O_CREAT |
	    O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd == -1)
		return -1;
	for (i = 0; i < n; i++) {
		if (v[i] == NULL)
			continue;
		len = strlen(v[i]);
		if (pwrite_all(fd, v[i], len, off) == -1 ||
		    pwrite_all(fd, "\n", 1, off + (off_t)len) == -1)
			goto fail;
		off += (off_t)len + 1;
	}
	if (fsync(fd) == -1)
		goto fail;
	closefd(&fd);
	if (renameat(st->dirfd, "subscriptions.new", st->dirfd,
	    "subscriptions") == -1)
		return -1;
	return fsync(st->dirfd);
fail:
	closefd(&fd);
	return -1;
}

int
store_subscribe(struct store *st, const char *name, int on)
{
	char	**v = NULL, *s;
	size_t	 n = 0, i, cap;
	int	 ret = -1, found = 0;

	if (!name_ok(name)) {
		errno = EINVAL;
		seterr(st, "SUBSCRIBE: invalid mailbox name");
		return -1;
	}
	if (ns_lock(st) == -1) {
		seterrno(st, "SUBSCRIBE");
		return -1;
	}
	if (subs_read(st, &v, &n) == -1)
		goto fail;
	cap = n;
	for (i = 0; i < n; i++)
		if (strcmp(v[i], name) == 0) {
			found = 1;
			if (!on) {
				free(v[i]);
				v[i] = NULL;
			}
		}
	if (on && !found) {
		if ((s = strdup(name)) == NULL)
			goto fail;
		if (names_push(&v, &n, &cap, s) == -1) {
			free(s);
			goto fail;
		}
	}
	if ((on && !found) || (!on && found)) {
		if (subs_write(st, v, n) == -1)
			goto fail;
	}
	ret = 0;
fail:
	if (ret == -1)
		seterrno(st, "SUBSCRIBE");
	ns_unlock(st);
	names_free(v, n);
	return ret;
}

int
store_subscriptions(struct store *st, char ***names_r, size_t *n_r)
{
	if (subs_read(st, names_r, n_r) == -1) {
		seterrno(st, "LSUB");
		return -1;
	}
	if (*n_r > 1)
		qsort(*names_r, *n_r, sizeof **names_r, cmpname);
	return 0;
}

/* STATUS reads every record: it is asked for counts of all of them. */
int
store_status(struct store *st, const char *name, struct mbstatus *s)
{
	struct wbox	 w;
	struct rec	*buf = NULL, last;
	uint32_t	 n, i, k, cnt;
	int		 ret = -1;

	memset(s, 0, sizeof *s);
	if (wbox_open(st, name, F_RDLCK, &w) == -1) {
		seterrno(st, "STATUS");
		return -1;
	}
	if (ix_tail(w.ix->fd, 0, &n, &last) == -1)
		goto fail;
	s->uidvalidity = w.h.uidvalidity;
	s->highestmodseq = w.h.highestmodseq;
	s->uidnext = (n > 0 && last.uid > w.h.uidmax ? last.uid :
	    w.h.uidmax) + 1;
	if ((buf = xrealloc(NULL, WIN_RECS, sizeof *buf)) == NULL)
		goto fail;
	for (i = 0; i < n; i += cnt) {
		cnt = n - i < WIN_RECS ? n - i : WIN_RECS;
		if (pread_all(w.ix->fd, buf, (size_t)cnt * sizeof *buf,
		    IX_HDRSIZE + (off_t)i * RECSIZE) == -1)
			goto fail;
		for (k = 0; k < cnt; k++) {
			const struct rec *r = &buf[k];

			if (r->flags & FL_EXPUNGED)
				continue;
			s->messages++;
			if (r->uid > w.h.recent_uid)
				s->recent++;
			if (!(r->flags & FL_SEEN))
				s->unseen++;
			s->size += r->size;
		}
	}
	ret = 0;
fail:
	if (ret == -1)
		seterrno(st, "STATUS");
	free(buf);
	wbox_close(st, &w);
	return ret;
}

/* ---------------------------------------------------------- open/close */

/*
 * Remove .new.PID and .del.PID.N left by processes that died (a crash
 * between the rename and the last unlink). Cheap, and skipped when the
 * namespace is busy.
 */
static void
sweep(struct store *st)
{
	DIR		*d;
	struct dirent	*de;
	char		*end;
	long		 pid;
	int		 fd;

	if (modseq_lock(st->nsfd, F_WRLCK, CT_BYTE_NS, 0) == -1)
		return;
	fd = openat(st->boxfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1 || (d = fdopendir(fd)) == NULL) {
		closefd(&fd);
		ns_unlock(st);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		const char *p = de->d_name;

		if (strncmp(p, ".new.", 5) == 0)
			p += 5;
		else if (strncmp(p, ".del.", 5) == 0)
			p += 5;
		else
			continue;
		pid = strtol(p, &end, 10);
		if (end == p || pid <= 0 || (*end != '\0' && *end != '.'))
			continue;
		if (kill((pid_t)pid, 0) == -1 && errno == ESRCH)
			rmtree(st->boxfd, de->d_name);
	}
	closedir(d);
	ns_unlock(st);
}

/*
 * The counter's floor (modseq_floor_fn): the largest HIGHESTMODSEQ and
 * UIDVALIDITY of every mailbox directory, those being created or deleted
 * included. Headers are read without a lock; one written meanwhile fails
 * its sum and is read again. A header that stays damaged belongs to a
 * mailbox nobody can open, and is passed over.
 */
static int
box_floor(void *arg, uint64_t *modseq_r, uint32_t *uidvalidity_r)
{
	struct store	*st = arg;
	struct ixhdr	 h;
	struct dirent	*de;
	DIR		*d;
	int		 fd, dfd, tries, r;

	*modseq_r = 0;
	*uidvalidity_r = 0;
	if ((fd = openat(st->boxfd, ".", O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1)
		return -1;
	if ((d = fdopendir(fd)) == NULL) {
		closefd(&fd);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0 ||
		    (dfd = openat(st->boxfd, de->d_name, O_RDONLY |
		    O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) == -1)
			continue;
		fd = openat(dfd, "index", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		closefd(&dfd);
		if (fd == -1)
			continue;
		for (tries = 0, r = -1; tries < 3 && r == -1; tries++)
			r = hdr_read(fd, &h);
		closefd(&fd);
		if (r == -1)
			continue;
		if (h.highestmodseq > *modseq_r)
			*modseq_r = h.highestmodseq;
		if (h.uidvalidity > *uidvalidity_r)
			*uidvalidity_r = h.uidvalidity;
	}
	closedir(d);
	return 0;
}

struct store *
store_open(const char *dir)
{
	struct store	*st;
	int		 e, fresh;

	if ((st = calloc(1, sizeof *st)) == NULL)
		return NULL;
	st->dirfd = st->boxfd = st->nsfd = -1;
	if (mkdir(dir, 0700) == -1 && errno != EEXIST)
		goto fail;
	if ((st->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		goto fail;
	if ((fresh = mkdirat(st->dirfd, "box", 0700) == 0) == 0 &&
	    errno != EEXIST)
		goto fail;
	if ((st->boxfd = openat(st->dirfd, "box", O_RDONLY | O_DIRECTORY |
	    O_NOFOLLOW | O_CLOEXEC)) == -1)
		goto fail;
	if ((st->ctr = modseq_open(dir, box_floor, st)) == NULL)
		goto fail;
	/*
	 * A second descriptor of the counter for the namespace lock. It is
	 * closed only in store_close, with the counter's own: closing either
	 * drops all of this process's locks on the file.
	 */
	if ((st->nsfd = openat(st->dirfd, "counter", O_RDWR | O_NOFOLLOW |
	    O_CLOEXEC)) == -1)
		goto fail;
	/* A new store's box and counter must not vanish in a power cut. */
	if (fresh && fsync(st->dirfd) == -1)
		goto fail;
	sweep(st);
	if (ns_lock(st) == -1)
		goto fail;
	if (create_locked(st, "INBOX") == -1 && errno != EEXIST) {
		ns_unlock(st);
		goto fail;
	}
	ns_unlock(st);
	return st;
fail:
	e = errno;
	store_close(st);
	errno = e;
	return NULL;
}

void
store_close(struct store *st)
{
	struct ixf	*ix, *next;

	if (st == NULL)
		return;
	for (ix = st->ixfs; ix != NULL; ix = next) {
		next = ix->next;
		closefd(&ix->fd);
		free(ix);
	}
	modseq_close(st->ctr);
	closefd(&st->nsfd);
	closefd(&st->boxfd);
	closefd(&st->dirfd);
	free(st);
}

const char *
store_error(const struct store *st)
{
	return st->err[0] != '\0' ? st->err : "unknown error";
}

/* ------------------------------------------------------------ selected */

/*
 * Records are read with pread(2) into a window of up to WIN_RECS
 * records, never mapped: a session touches only the records it
 * needs (SELECT of a dense mailbox reads a few), and what it keeps does
 * not grow with the index. A session's own changes are made in the
 * window and written back as one pwrite(2) of the changed span. That is
 * done only under index byte 0 exclusive, with the window read under the
 * same lock (win_drop when taking it), so the unchanged records inside
 * the span are current and writing them back loses nothing.
 */
static int
win_flush(const struct mailbox *mb)
{
	struct rstate	*rs = mb->rs;
	int		 r;

	if (rs->dlo >= rs->dhi)
		return 0;
	r = pwrite_all(mb->ix->fd, &rs->win[rs->dlo - rs->first],
	    (size_t)(rs->dhi - rs->dlo) * sizeof *rs->win,
	    IX_HDRSIZE + (off_t)rs->dlo * RECSIZE);
	rs->dlo = rs->dhi = 0;
	if (r == -1)
		rs->n = 0;	/* it no longer says what the file holds */
	return r;
}

/* Forget the window, and any change in it not written. */
static void
win_drop(const struct mailbox *mb)
{
	mb->rs->n = 0;
	mb->rs->dlo = mb->rs->dhi = 0;
}

/* Record pos (below mb->nrecs), in the window; NULL on a read error. */
static struct rec *
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
	if (win_flush(mb) == -1)
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
	if (pread_all(mb->ix->fd, rs->win, (size_t)cnt * sizeof *rs->win,
	    IX_HDRSIZE + (off_t)first * RECSIZE) == -1)
		return NULL;
	for (i = 0; i < cnt; i++)
		rec_clamp(&rs->win[i]);
	rs->first = first;
	rs->n = cnt;
	return &rs->win[pos - first];
}

/* Note that record pos, just changed in the window, must be written. */
static void
win_dirty(const struct mailbox *mb, uint32_t pos)
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
	if (pread_all(mb->ix->fd, &r, sizeof r,
	    IX_HDRSIZE + (off_t)pos * RECSIZE) == -1)
		return -1;
	*uid_r = r.uid;
	return 0;
}

/* The record position of view index i (seq i + 1). */
static uint32_t
seq_pos(const struct mailbox *mb, size_t i)
{
	return mb->view != NULL ? mb->view[i] : (uint32_t)i;
}

/*
 * Without an array the view is the identity, seq n = record n - 1, and
 * then nview == nrecs. Make the array before the view loses that shape.
 */
static int
view_own(struct mailbox *mb)
{
	size_t	 i, cap;

	if (mb->view != NULL)
		return 0;
	cap = mb->nview > 1024 ? mb->nview : 1024;
	if ((mb->view = xrealloc(NULL, cap, sizeof *mb->view)) == NULL)
		return -1;
	for (i = 0; i < mb->nview; i++)
		mb->view[i] = (uint32_t)i;
	mb->capview = cap;
	return 0;
}

/*
 * Reading message bytes: into a buffer of the mailbox, grown to the
 * largest message read (data.G may be gigabytes; a map of it would show
 * as the resident size of a FETCH or SEARCH over every message).
 */
static char *
buf_get(char **buf, size_t *cap, size_t need)
{
	char	*nb;

	if (need <= *cap)
		return *buf;
	/* Not realloc: the old bytes are of no use, so spare the copy. */
	if ((nb = malloc(need)) == NULL)
		return NULL;
	free(*buf);
	*buf = nb;
	*cap = need;
	return nb;
}

/* At a sync: a buffer grown by one large message need not stay. */
static void
buf_trim(char **buf, size_t *cap)
{
	if (*cap > BUF_KEEP) {
		free(*buf);
		*buf = NULL;
		*cap = 0;
	}
}

/*
 * The structure cache: per message one opaque blob (imapd keeps the
 * message's ENVELOPE and BODYSTRUCTURE there), appended to the file
 * "cache" as a centry and the blob, padded to 8 bytes. rec.reserved holds
 * the entry's offset + 1 (0: none). Messages never change, so an entry
 * never goes stale; one that fails its checks is not used, and the blob
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
	uint32_t	 h = fnv32(&e->uid, 2 * sizeof e->uid);
	const unsigned char *p = blob;
	uint32_t	 i;

	for (i = 0; i < e->len; i++) {
		h ^= p[i];
		h *= 16777619U;
	}
	return h;
}

static int
cache_open(struct mailbox *mb)
{
	if (mb->cachefd != -1)
		return 0;
	mb->cachefd = openat(mb->dirfd, "cache", O_RDWR | O_CREAT | O_APPEND |
	    O_NOFOLLOW | O_CLOEXEC, 0600);
	return mb->cachefd == -1 ? -1 : 0;
}

/* Like pread_all, but the end of the file ends it early: *got_r bytes. */
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
	if (buf_get(&mb->gbuf, &mb->gcap, want) == NULL ||
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

	if (r == NULL || r->reserved == 0 || cache_open(mb) == -1)
		return NULL;
	off = r->reserved - 1;
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

static void
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
		win_drop(mb);
		if (fstat(mb->cachefd, &sb) == 0 &&
		    pwrite_all(mb->cachefd, mb->cbuf, mb->cbuflen,
		    sb.st_size) == 0) {
			base = (uint64_t)sb.st_size;
			for (i = 0, o = 0; i < mb->ncpos; i++) {
				struct centry e;

				memcpy(&e, mb->cbuf + o, sizeof e);
				if ((r = mb_rec(mb, mb->cpos[i])) != NULL) {
					r->reserved = base + o + 1;
					win_dirty(mb, mb->cpos[i]);
				}
				o += sizeof e + ((e.len + 7) & ~(size_t)7);
			}
			/* Not synced: the cache is never trusted blindly. */
			if (win_flush(mb) == -1)
				win_drop(mb);
		}
		unlk(mb->ix->fd, IX_BYTE_WRITE);
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

	if (r == NULL || len > UINT32_MAX / 2)
		return -1;
	need = mb->cbuflen + sizeof e + len + pad;
	if (need > mb->cbufcap) {
		size_t cap = need * 2;
		if ((nb = realloc(mb->cbuf, cap)) == NULL)
			return -1;
		mb->cbuf = nb;
		mb->cbufcap = cap;
	}
	if (mb->ncpos == mb->capcpos) {
		size_t cap = mb->capcpos ? mb->capcpos * 2 : 256;
		if ((np = xrealloc(mb->cpos, cap, sizeof *np)) == NULL)
			return -1;
		mb->cpos = np;
		mb->capcpos = cap;
	}
	e.magic = CACHE_MAGIC;
	e.uid = r->uid;
	e.len = (uint32_t)len;
	e.sum = centry_sum(&e, blob);
	memcpy(mb->cbuf + mb->cbuflen, &e, sizeof e);
	memcpy(mb->cbuf + mb->cbuflen + sizeof e, blob, len);
	memset(mb->cbuf + mb->cbuflen + sizeof e + len, 0, pad);
	mb->cbuflen = need;
	mb->cpos[mb->ncpos++] = seq_pos(mb, seq - 1);
	if (mb->cbuflen >= CACHE_FLUSH_AT)
		cache_flush(mb);
	return 0;
}

static int
view_push(struct mailbox *mb, uint32_t pos)
{
	uint32_t	*nv;

	if (mb->nview == mb->capview) {
		size_t nc = mb->capview ? mb->capview * 2 : 1024;

		if ((nv = xrealloc(mb->view, nc, sizeof *nv)) == NULL)
			return -1;
		mb->view = nv;
		mb->capview = nc;
	}
	mb->view[mb->nview++] = pos;
	return 0;
}

/* First index in the view whose position is >= pos. */
static size_t
view_lower(const struct mailbox *mb, uint32_t pos)
{
	size_t	 lo = 0, hi = mb->nview, mid;

	if (mb->view == NULL)
		return pos < mb->nview ? pos : mb->nview;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (mb->view[mid] < pos)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
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
	nr = xrealloc(mb->recent, mb->nrecent + 1, sizeof *nr);
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
static int
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
				if (view_own(mb) == -1)
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
	win_drop(mb);
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
		mb->unseen = (uint32_t)view_lower(mb, pos) + 1;
	return 0;
}

static void
mb_free(struct mailbox *mb)
{
	if (mb->rs != NULL)
		free(mb->rs->win);
	free(mb->rs);
	closefd(&mb->datafd);
	closefd(&mb->cachefd);
	free(mb->dbuf);
	free(mb->gbuf);
	free(mb->cbuf);
	free(mb->cpos);
	closefd(&mb->chfd);
	closefd(&mb->kwfd);
	closefd(&mb->dirfd);
	kw_free(&mb->kw);
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
	    (mb->rs->win = xrealloc(NULL, WIN_RECS, sizeof *mb->rs->win))
	    == NULL) {
		seterrno(st, "SELECT");
		if (mb != NULL) {
			if (mb->rs != NULL)
				free(mb->rs->win);
			free(mb->rs);
		}
		free(mb);
		return NULL;
	}
	mb->st = st;
	mb->readonly = readonly;
	mb->pid = (uint32_t)getpid();
	mb->dirfd = mb->datafd = mb->cachefd = mb->chfd = mb->kwfd = -1;
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
		if ((mb->dirfd = box_opendir(mb->st, name)) == -1)
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
		closefd(&mb->dirfd);
	}
}

/* The header, and the mailbox's values from it; deleted is ENOENT. */
static int
select_header(struct mailbox *mb, struct ixhdr *h)
{
	if (hdr_read(mb->ix->fd, h) == -1)
		return -1;
	if (h->hflags & HDR_DELETED) {
		errno = ENOENT;
		return -1;
	}
	mb->uidvalidity = h->uidvalidity;
	mb->highestmodseq = h->highestmodseq;
	mb->generation = h->generation;
	mb->uidnext = h->uidmax + 1;
	return 0;
}

/* data.G, the change log from its end as it is now, and the keywords. */
static int
select_open_files(struct mailbox *mb, uint64_t gen)
{
	struct stat	 sb;

	if ((mb->datafd = data_open(mb->dirfd, gen, O_RDONLY)) == -1)
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
	    hdr_write(mb->ix->fd, &h) == -1)
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
	unlk(mb->ix->fd, IX_BYTE_WRITE);
	mb->told = (uint32_t)mb->nview;
	return mb;
fail:
	seterrno(st, "SELECT");
	if (locked)
		unlk(mb->ix->fd, IX_BYTE_WRITE);
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
	    (r = mb_rec(mb, seq_pos(mb, seq - 1))) == NULL)
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
		if (rec_uid(mb, seq_pos(mb, mid), &u) == -1)
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

	if (seq == 0 || seq > mb->nview)
		return NULL;
	if ((r = mb_rec(mb, seq_pos(mb, seq - 1))) == NULL)
		seterrno(mb->st, "FETCH");
	return r;
}

uint32_t
store_seq_at_uid(const struct mailbox *mb, uint32_t uid)
{
	size_t		 i;

	if (view_lower_uid(mb, uid, &i) == -1)
		return 0;
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
	if (seq == 0 || seq > mb->nview) {
		errno = EINVAL;
		return NULL;
	}
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
	if (buf_get(&mb->dbuf, &mb->dcap, (size_t)size) == NULL ||
	    pread_all(mb->datafd, mb->dbuf, (size_t)size, (off_t)off) == -1)
		goto fail;
	*len_r = (size_t)size;
	return mb->dbuf;
fail:
	seterrno(mb->st, "FETCH");
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

int
store_keyword(struct mailbox *mb, const char *name, int create)
{
	int	 r;

	if ((r = kw_find(&mb->kw, name)) != -1)
		return r;
	if (!create) {
		errno = ENOENT;
		return -1;
	}
	if (mb->readonly) {
		errno = EPERM;
		seterr(mb->st, "mailbox is read-only");
		return -1;
	}
	if (modseq_lock(mb->ix->fd, F_WRLCK, IX_BYTE_WRITE, 1) == -1) {
		seterrno(mb->st, "STORE");
		return -1;
	}
	if ((r = kw_load(mb->kwfd, &mb->kw)) != -1)
		r = kw_add(mb->kwfd, &mb->kw, name);
	unlk(mb->ix->fd, IX_BYTE_WRITE);
	if (r == -1) {
		if (errno == ENOSPC)
			seterr(mb->st, "too many keywords in this mailbox");
		else
			seterrno(mb->st, "STORE");
	}
	return r;
}

/* ---------------------------------------------------------------- sync */

static int
cmpu32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static int
u32_push(uint32_t **v, size_t *n, size_t *cap, uint32_t x)
{
	uint32_t	*nv;

	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 64;

		if ((nv = xrealloc(*v, nc, sizeof *nv)) == NULL)
			return -1;
		*v = nv;
		*cap = nc;
	}
	(*v)[(*n)++] = x;
	return 0;
}

static size_t
u32_uniq(uint32_t *v, size_t n)
{
	size_t	 i, o = 0;

	if (n > 1)
		qsort(v, n, sizeof *v, cmpu32);
	for (i = 0; i < n; i++)
		if (o == 0 || v[o - 1] != v[i])
			v[o++] = v[i];
	return o;
}

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

	for (i = view_lower(mb, c->first); i < mb->nview &&
	    (pos = seq_pos(mb, i)) < end; i++) {
		if (c->type != CHANGE_EXPUNGE) {
			if (u32_push(v, n, cap, (uint32_t)i + 1) == -1)
				return -1;
			continue;
		}
		if ((r = mb_rec(mb, pos)) == NULL)
			return -1;
		if ((r->flags & FL_EXPUNGED) && u32_push(v, n, cap, pos) == -1)
			return -1;
	}
	return 0;
}

/*
 * Drop the pending positions from the view; their sequence numbers, as
 * the client knows them now, go out in descending order.
 */
static int
mb_apply_expunges(struct mailbox *mb, struct sync *s)
{
	size_t	 i, o = 0, p = 0;

	/* Room first: the view is rewritten in place and must not fail. */
	if (view_own(mb) == -1 ||
	    (s->expunged = xrealloc(NULL, mb->npend, sizeof *s->expunged))
	    == NULL)
		return -1;
	mb->rs->recent_ok = 0;
	for (i = 0; i < mb->nview; i++) {
		while (p < mb->npend && mb->pend[p] < mb->view[i])
			p++;
		if (p < mb->npend && mb->pend[p] == mb->view[i])
			s->expunged[s->nexpunged++] = (uint32_t)i + 1;
		else
			mb->view[o++] = mb->view[i];
	}
	mb->nview = o;
	mb->npend = 0;
	for (i = 0; i < s->nexpunged / 2; i++) {
		uint32_t t = s->expunged[i];

		s->expunged[i] = s->expunged[s->nexpunged - 1 - i];
		s->expunged[s->nexpunged - 1 - i] = t;
	}
	mb->told -= (uint32_t)s->nexpunged;
	return 0;
}

/*
 * The header without a lock: a rewrite under way can show a bad sum;
 * then it is read again under the lock.
 */
static int
hdr_peek(struct mailbox *mb, struct ixhdr *h)
{
	int	 r;

	if (hdr_read(mb->ix->fd, h) == 0)
		return 0;
	if (errno != EIO ||
	    modseq_lock(mb->ix->fd, F_RDLCK, IX_BYTE_WRITE, 1) == -1)
		return -1;
	r = hdr_read(mb->ix->fd, h);
	unlk(mb->ix->fd, IX_BYTE_WRITE);
	return r;
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
	win_drop(mb);
	buf_trim(&mb->dbuf, &mb->dcap);
	buf_trim(&mb->gbuf, &mb->gcap);
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

/* The change log's entries since the last look, up to chsize. */
static int
sync_read_log(struct mailbox *mb, off_t chsize, struct change **ch_r,
    ssize_t *nch_r)
{
	ssize_t	 nch, k;

	if (chsize < mb->choff)	/* cannot happen while selected */
		mb->choff = chsize - chsize % (off_t)sizeof(struct change);
	if ((nch = modseq_read(mb->chfd, mb->choff, chsize, ch_r)) == -1)
		return -1;
	*nch_r = nch;
	mb->choff += nch * (off_t)sizeof(struct change);
	/*
	 * A change another process logged is on disk before it is reported
	 * (its writer syncs, unless it died first), so no client sees a
	 * MODSEQ that a power cut could take back.
	 */
	for (k = 0; k < nch && (*ch_r)[k].pid == mb->pid; k++)
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
	    hdr_read(mb->ix->fd, h) == -1)
		return -1;
	claimed = h->recent_uid;
	if (sync_count_recs(mb, claim, &n) == -1 ||
	    sync_read_log(mb, chsize, ch_r, nch_r) == -1 ||
	    sync_keywords(mb) == -1)
		return -1;
	/* Expunges are matched against the view as it was before new ones. */
	if (sync_pend_expunges(mb, *ch_r, *nch_r) == -1 ||
	    mb_take_new(mb, n, 0, h, &ntomb) == -1)
		return -1;
	/* Claim not synced: after a crash a message may be recent again. */
	if (h->recent_uid != claimed && hdr_write(mb->ix->fd, h) == -1)
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

	if (allow_expunge && mb->npend > 0 && mb_apply_expunges(mb, s) == -1)
		return -1;
	/* Flag changes, numbered after the expunges just reported. */
	for (k = 0; k < nch; k++)
		if (ch[k].type == CHANGE_FLAGS && ch[k].pid != mb->pid &&
		    view_collect(mb, &ch[k], &s->changed, &s->nchanged,
		    &cap) == -1)
			return -1;
	s->nchanged = u32_uniq(s->changed, s->nchanged);
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
	if (!moved) {
		/* DELETE changes only the header. */
		if (hdr_peek(mb, &h) == -1)
			goto fail;
		goto report;
	}

	/*
	 * New records are taken in only under the exclusive lock when this
	 * session claims \Recent; if they turn up under a shared lock they
	 * wait for the next sync (ixseen is left behind for that).
	 */
	claim = grew && !mb->readonly;
	if (modseq_lock(mb->ix->fd, claim ? F_WRLCK : F_RDLCK,
	    IX_BYTE_WRITE, 1) == -1)
		goto fail;
	r = sync_locked(mb, claim, &h, &ch, &nch);
	unlk(mb->ix->fd, IX_BYTE_WRITE);
	if (r == -1)
		goto fail;

	mb->npend = u32_uniq(mb->pend, mb->npend);
report:
	if (sync_report(mb, allow_expunge, ch, nch, s) == -1)
		goto fail;
	free(ch);
	sync_counts(mb, s);
	s->deleted = (h.hflags & HDR_DELETED) != 0;
	return 0;
fail:
	seterrno(mb->st, "sync");
	free(ch);
	store_sync_free(s);
	return -1;
}

void
store_sync_free(struct sync *s)
{
	free(s->expunged);
	free(s->changed);
	s->expunged = s->changed = NULL;
	s->nexpunged = s->nchanged = 0;
}

/* ------------------------------------------------------ flags, expunge */

/* Add position pos to the runs in v (room for it was reserved). */
static void
change_add(struct change *v, size_t *n, uint64_t ms, uint32_t pos,
    uint32_t pid, uint32_t type)
{
	struct change	*c;

	if (*n > 0) {
		c = &v[*n - 1];
		if ((uint64_t)c->first + c->count == pos &&
		    c->count < UINT32_MAX) {
			c->count++;
			return;
		}
	}
	c = &v[(*n)++];
	memset(c, 0, sizeof *c);
	c->modseq = ms;
	c->first = pos;
	c->count = 1;
	c->pid = pid;
	c->type = type;
}

/*
 * Make changed records durable: write what is left of them in the
 * window, log the runs (the log is only read by live sessions, so it is
 * not fsynced), raise the header's HIGHESTMODSEQ and fdatasync. The
 * caller holds byte 0 exclusive.
 */
static int
mb_commit(struct mailbox *mb, uint64_t ms, const struct change *ch,
    size_t nch)
{
	struct ixhdr	 h;

	/*
	 * The log first: a writer that dies between the two leaves entries
	 * whose records did not change, which readers check, rather than
	 * changes no session would ever hear of.
	 */
	if (modseq_log(mb->chfd, ch, nch) == -1 || win_flush(mb) == -1)
		return -1;
	if (hdr_read(mb->ix->fd, &h) == -1)
		return -1;
	if (ms > h.highestmodseq)
		h.highestmodseq = ms;
	if (hdr_write(mb->ix->fd, &h) == -1 || fdatasync(mb->ix->fd) == -1)
		return -1;
	if (ms > mb->highestmodseq)
		mb->highestmodseq = ms;
	return 0;
}

/*
 * Change header fields that describe records (ntomb, seen_low) before
 * the records, with a sync between: after a crash at any point ntomb may
 * count too many tombstones, seen_low may be too low, never the other
 * way (a dense SELECT trusts ntomb == 0 and reads no record).
 */
static int
hdr_first(struct mailbox *mb, struct ixhdr *h)
{
	return hdr_write(mb->ix->fd, h) == -1 ? -1 : fdatasync(mb->ix->fd);
}

/* The flags and keywords a record gets from STORE; 0 if unchanged. */
static int
flags_new(const struct rec *r, int mode, uint32_t flags, uint64_t keywords,
    uint32_t *f_r, uint64_t *k_r)
{
	if (r->flags & FL_EXPUNGED)
		return 0;
	switch (mode) {
	case STORE_SET:
		*f_r = (r->flags & ~(uint32_t)FL_SYSTEM) | flags;
		*k_r = keywords;
		break;
	case STORE_ADD:
		*f_r = r->flags | flags;
		*k_r = r->keywords | keywords;
		break;
	default:
		*f_r = r->flags & ~flags;
		*k_r = r->keywords & ~keywords;
		break;
	}
	return *f_r != r->flags || *k_r != r->keywords;
}

/*
 * Two passes under the write lock: count what will change (so every
 * allocation and the MODSEQ come before the first record is touched),
 * then change the records in the window, written back one span per
 * window: STORE 1:* on 100,000 messages is about 100 pwrite calls and
 * one fdatasync.
 */
int
store_flags(struct mailbox *mb, const uint32_t *seqs, size_t n, int mode,
    uint32_t flags, uint64_t keywords)
{
	struct change	*ch = NULL;
	struct ixhdr	 h;
	struct rec	*r;
	size_t		 i, nch = 0, nchg = 0;
	uint64_t	 ms = 0, nk;
	uint32_t	 pos, nf, low = UINT32_MAX;
	int		 ret = -1;

	if (mb->readonly) {
		errno = EPERM;
		seterr(mb->st, "mailbox is read-only");
		return -1;
	}
	flags &= FL_SYSTEM;
	if (modseq_lock(mb->ix->fd, F_WRLCK, IX_BYTE_WRITE, 1) == -1) {
		seterrno(mb->st, "STORE");
		return -1;
	}
	win_drop(mb);
	if (hdr_read(mb->ix->fd, &h) == -1)
		goto out;
	for (i = 0; i < n; i++) {
		if (seqs[i] == 0 || seqs[i] > mb->nview)
			continue;
		pos = seq_pos(mb, seqs[i] - 1);
		if ((r = mb_rec(mb, pos)) == NULL)
			goto out;
		if (!flags_new(r, mode, flags, keywords, &nf, &nk))
			continue;
		nchg++;
		if ((r->flags & FL_SEEN) && !(nf & FL_SEEN) &&
		    pos < h.seen_low && pos < low)
			low = pos;
	}
	if (nchg == 0) {
		ret = 0;
		goto out;
	}
	if ((ch = xrealloc(NULL, nchg, sizeof *ch)) == NULL)
		goto out;
	/* One MODSEQ for the whole command (RFC 7162 3.1). */
	if ((ms = modseq_next(mb->st->ctr)) == 0)
		goto out;
	if (low != UINT32_MAX) {
		h.seen_low = low;
		if (hdr_first(mb, &h) == -1)
			goto out;
	}
	for (i = 0; i < n; i++) {
		if (seqs[i] == 0 || seqs[i] > mb->nview)
			continue;
		pos = seq_pos(mb, seqs[i] - 1);
		if ((r = mb_rec(mb, pos)) == NULL)
			goto out;
		if (!flags_new(r, mode, flags, keywords, &nf, &nk))
			continue;	/* unchanged records keep MODSEQ */
		r->flags = nf;
		r->keywords = nk;
		r->modseq = ms;
		win_dirty(mb, pos);
		change_add(ch, &nch, ms, pos, mb->pid, CHANGE_FLAGS);
	}
	if (mb_commit(mb, ms, ch, nch) == -1)
		goto out;
	ret = 0;
out:
	if (ret == -1) {
		seterrno(mb->st, "STORE");
		win_drop(mb);
	}
	unlk(mb->ix->fd, IX_BYTE_WRITE);
	free(ch);
	return ret;
}

/* \Deleted and, for UID EXPUNGE (RFC 4315 2.1), in the UID set. */
static int
expungeable(const struct rec *r, const struct seqset *uids)
{
	return (r->flags & (FL_DELETED | FL_EXPUNGED)) == FL_DELETED &&
	    (uids == NULL || parse_seqset_has(uids, r->uid));
}

int
store_expunge(struct mailbox *mb, const struct seqset *uids, uint32_t **seqs_r,
    size_t *n_r)
{
	struct change	*ch = NULL;
	struct ixhdr	 h;
	struct rec	*r;
	uint32_t	*seqs = NULL, pos;
	size_t		 i, o, k, nch = 0, ns = 0, cnt = 0;
	uint64_t	 ms;

	*seqs_r = NULL;
	*n_r = 0;
	if (mb->readonly) {
		errno = EPERM;
		seterr(mb->st, "mailbox is read-only");
		return -1;
	}
	if (modseq_lock(mb->ix->fd, F_WRLCK, IX_BYTE_WRITE, 1) == -1) {
		seterrno(mb->st, "EXPUNGE");
		return -1;
	}
	win_drop(mb);
	for (i = 0; i < mb->nview; i++) {
		if ((r = mb_rec(mb, seq_pos(mb, i))) == NULL)
			goto fail;
		if (expungeable(r, uids))
			cnt++;
	}
	if (cnt == 0) {
		unlk(mb->ix->fd, IX_BYTE_WRITE);
		return 0;
	}
	if ((seqs = xrealloc(NULL, cnt, sizeof *seqs)) == NULL ||
	    (ch = xrealloc(NULL, cnt, sizeof *ch)) == NULL ||
	    view_own(mb) == -1 ||
	    (ms = modseq_next(mb->st->ctr)) == 0)
		goto fail;
	if (hdr_read(mb->ix->fd, &h) == -1)
		goto fail;
	h.ntomb = h.ntomb > UINT32_MAX - cnt ? UINT32_MAX :
	    h.ntomb + (uint32_t)cnt;
	if (hdr_first(mb, &h) == -1)
		goto fail;
	/* Tombstones: the UID and the expunge MODSEQ stay for VANISHED. */
	for (i = 0; i < mb->nview; i++) {
		pos = mb->view[i];
		if ((r = mb_rec(mb, pos)) == NULL)
			goto fail;
		if (!expungeable(r, uids) || ns == cnt)
			continue;
		r->flags |= FL_EXPUNGED;
		r->modseq = ms;
		win_dirty(mb, pos);
		change_add(ch, &nch, ms, pos, mb->pid, CHANGE_EXPUNGE);
		seqs[ns++] = (uint32_t)i + 1;
	}
	/* Out of the view (seqs is ascending here). */
	for (i = 0, o = 0, k = 0; i < mb->nview; i++) {
		if (k < ns && seqs[k] == i + 1) {
			k++;
			continue;
		}
		mb->view[o++] = mb->view[i];
	}
	mb->nview = o;
	mb->told -= (uint32_t)ns;
	mb->rs->recent_ok = 0;
	if (mb_commit(mb, ms, ch, nch) == -1) {
		/* The records changed; report them, the error is logged. */
		seterrno(mb->st, "EXPUNGE");
		win_drop(mb);
	}
	unlk(mb->ix->fd, IX_BYTE_WRITE);
	/* Descending, so each "* n EXPUNGE" needs no renumbering. */
	for (i = 0; i < ns / 2; i++) {
		uint32_t x = seqs[i];

		seqs[i] = seqs[ns - 1 - i];
		seqs[ns - 1 - i] = x;
	}
	*seqs_r = seqs;
	*n_r = ns;
	free(ch);
	return 0;
fail:
	seterrno(mb->st, "EXPUNGE");
	win_drop(mb);
	unlk(mb->ix->fd, IX_BYTE_WRITE);
	free(ch);
	free(seqs);
	return -1;
}

/* ---------------------------------------------------------------- copy */

/* The bytes are read one message at a time, while appending. */
int
store_copy(struct mailbox *mb, const uint32_t *seqs, size_t n,
    const char *dest, uint32_t *uidvalidity_r, uint32_t *uids_r)
{
	struct store		*st = mb->st;
	struct wbox		 w;
	struct kwlist		 kl;
	struct msgin		*m = NULL;
	const struct rec	*r;
	int			 map[KEYWORDS_MAX];
	size_t			 i, b;
	int			 kwfd = -1, ret = -1;

	memset(&kl, 0, sizeof kl);
	for (b = 0; b < KEYWORDS_MAX; b++)
		map[b] = -1;
	if (n == 0 || n > SIZE_MAX / sizeof *m) {
		errno = EINVAL;
		seterr(st, "COPY: nothing to copy");
		return -1;
	}
	if ((m = calloc(n, sizeof *m)) == NULL) {
		seterrno(st, "COPY");
		return -1;
	}
	if (wbox_open(st, dest, F_WRLCK, &w) == -1) {
		seterrno(st, "COPY");
		free(m);
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (seqs[i] == 0 || seqs[i] > mb->nview) {
			errno = EINVAL;
			goto fail;
		}
		if ((r = store_rec(mb, seqs[i])) == NULL)
			goto fail;
		m[i].src = mb;
		m[i].seq = seqs[i];
		m[i].flags = r->flags & FL_SYSTEM;
		m[i].date = r->internaldate;
		/* A keyword another process added since this one's sync. */
		if (mb->kw.n < KEYWORDS_MAX && (r->keywords >> mb->kw.n) != 0 &&
		    kw_load(mb->kwfd, &mb->kw) == -1)
			goto fail;
		/* Keywords go by name: bit numbers differ between mailboxes. */
		for (b = 0; b < mb->kw.n; b++) {
			if (!(r->keywords & ((uint64_t)1 << b)))
				continue;
			if (map[b] == -1) {
				if (kwfd == -1 &&
				    kw_open_load(w.dirfd, &kl, &kwfd) == -1)
					goto fail;
				if ((map[b] = kw_add(kwfd, &kl,
				    mb->kw.name[b])) == -1)
					goto fail;
			}
			m[i].keywords |= (uint64_t)1 << map[b];
		}
	}
	if (append_locked(st, &w, m, n, uids_r) == -1)
		goto fail;
	*uidvalidity_r = w.h.uidvalidity;
	ret = 0;
fail:
	if (ret == -1)
		seterrno(st, "COPY");
	closefd(&kwfd);
	kw_free(&kl);
	wbox_close(st, &w);
	free(m);
	return ret;
}

/* ---------------------------------------------------------- compaction */

static void
unlink_stale(int dirfd, uint64_t gen)
{
	DIR		*d;
	struct dirent	*de;
	char		 keep[32];
	int		 fd;

	snprintf(keep, sizeof keep, "data.%llu", (unsigned long long)gen);
	unlinkat(dirfd, "index.new", 0);
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
		if (pread_all(fd, &r, sizeof r, IX_HDRSIZE + (off_t)mid *
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
		if (pread_all(xfd, &e, sizeof e, off - (off_t)sizeof e) == -1 ||
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

		if (pread_all(from, buf, k, (off_t)src) == -1 ||
		    pwrite_all(to, buf, k, (off_t)dst) == -1)
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
	uint32_t	 nout, nx;	/* waiting in out and in xv */
	uint32_t	 live, seen_low;
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
	if (hdr_read(mb->ix->fd, &c->h) == -1 ||
	    (c->h.hflags & HDR_DELETED))
		return -1;
	return ix_tail(mb->ix->fd, 1, &c->n, last);
}

static int
compact_alloc(struct compact *c)
{
	if ((c->in = xrealloc(NULL, WIN_RECS, sizeof *c->in)) == NULL ||
	    (c->out = xrealloc(NULL, WIN_RECS, sizeof *c->out)) == NULL ||
	    (c->xv = xrealloc(NULL, WIN_RECS, sizeof *c->xv)) == NULL ||
	    (c->buf = malloc(COMPACT_BUFSZ)) == NULL)
		return -1;
	return 0;
}

/* data.G to read; data.G+1, index.new and the end of "expunged" to write. */
static int
compact_open(struct mailbox *mb, struct compact *c, uint64_t newgen)
{
	struct stat	 sb;

	if ((c->oldfd = data_open(mb->dirfd, c->h.generation, O_RDONLY))
	    == -1 || fstat(c->oldfd, &sb) == -1)
		return -1;
	c->oldsize = sb.st_size;
	if ((c->dfd = data_open(mb->dirfd, newgen, O_WRONLY | O_CREAT |
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
	if (pwrite_all(c->xfd, c->xv, c->nx * sizeof *c->xv, c->xoff) == -1)
		return -1;
	c->xoff += (off_t)(c->nx * sizeof *c->xv);
	c->nx = 0;
	return 0;
}

/* Write the records waiting in out (none: nothing is written). */
static int
compact_put_recs(struct compact *c)
{
	if (pwrite_all(c->ifd, c->out, c->nout * sizeof *c->out, c->ioff)
	    == -1)
		return -1;
	c->ioff += (off_t)(c->nout * sizeof *c->out);
	c->nout = 0;
	return 0;
}

/* A tombstone moves out to "expunged" as (UID, MODSEQ). */
static int
compact_tomb(struct compact *c, const struct rec *r)
{
	struct xent	*x = &c->xv[c->nx];

	memset(x, 0, sizeof *x);
	x->uid = r->uid;
	x->modseq = r->modseq;
	if (++c->nx < WIN_RECS)
		return 0;
	return compact_put_tombs(c);
}

/* A live message goes to data.G+1, its record to index.new. */
static int
compact_live(struct compact *c, struct rec *r)
{
	if (copy_msg(c->oldfd, c->dfd, r, &c->off, c->oldsize, c->buf,
	    COMPACT_BUFSZ) == -1)
		return -1;
	r->reserved = 0;	/* the cache starts again */
	rec_seal(r);
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
		if (pread_all(mb->ix->fd, c->in, (size_t)cnt * sizeof *c->in,
		    IX_HDRSIZE + (off_t)i * RECSIZE) == -1)
			return -1;
		for (k = 0; k < cnt; k++) {
			if (c->in[k].flags & FL_EXPUNGED)
				r = compact_tomb(c, &c->in[k]);
			else
				r = compact_live(c, &c->in[k]);
			if (r == -1)
				return -1;
		}
	}
	if (compact_put_tombs(c) == -1 || compact_put_recs(c) == -1)
		return -1;
	return 0;
}

/* index.new's header: generation G+1, no tombstone; synced. */
static int
compact_put_header(struct compact *c, uint64_t newgen)
{
	c->h.generation = newgen;
	c->h.ntomb = 0;
	c->h.committed = c->live;	/* fsync'd below, before the rename */
	c->h.seen_low = c->seen_low == UINT32_MAX ? c->live : c->seen_low;
	hdr_seal(&c->h);
	if (pwrite_all(c->ifd, &c->h, sizeof c->h, 0) == -1 ||
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
	if (compact_copy(mb, c) == -1)
		return -1;
	if (fsync(c->dfd) == -1 || fsync(c->xfd) == -1)
		return -1;
	return compact_put_header(c, newgen);
}

/* Rename index.new over index, the step that switches. */
static int
compact_switch(struct mailbox *mb)
{
	/* "expunged" may be new: its name must not be lost with the switch. */
	if (fsync(mb->dirfd) == -1)
		return -1;
	/*
	 * The change log is emptied before the switch: a session selecting
	 * the new index must not note a size that then shrinks.
	 */
	if (ftruncate(mb->chfd, 0) == -1 || (cache_open(mb) == 0 &&
	    ftruncate(mb->cachefd, 0) == -1))
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
		unlinkat(mb->dirfd, newname, 0);
	}
	closefd(&c->dfd);
	closefd(&c->ifd);
	closefd(&c->oldfd);
	closefd(&c->xfd);
	free(c->in);
	free(c->out);
	free(c->xv);
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
mb_compact(struct mailbox *mb)
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
	if (compact_alloc(&c) == -1)
		goto out;
	unlink_stale(mb->dirfd, c.h.generation);
	newgen = c.h.generation + 1;
	snprintf(oldname, sizeof oldname, "data.%llu",
	    (unsigned long long)c.h.generation);
	snprintf(newname, sizeof newname, "data.%llu",
	    (unsigned long long)newgen);
	if (compact_write(mb, &c, newgen, &last) == -1 ||
	    compact_switch(mb) == -1)
		goto out;
	done = 1;
	/* The old data goes only once the switch is sure to stay. */
	if (fsync(mb->dirfd) == 0)
		unlinkat(mb->dirfd, oldname, 0);
out:
	compact_end(mb, &c, done, newname);
}

/* Bytes of expunged messages whose data is still in data.G. */
static uint64_t
mb_dead_bytes(const struct mailbox *mb)
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
 * Compaction is tried when a read-write session leaves a mailbox whose
 * header counts tombstones (none: nothing to read) and whose expunged
 * bytes are more than half of data.G.
 */
void
store_unselect(struct mailbox *mb)
{
	struct ixhdr	 h;
	struct stat	 sb;

	if (mb == NULL)
		return;
	cache_flush(mb);
	win_drop(mb);
	if (!mb->readonly && mb->ix->refs == 1 &&
	    hdr_peek(mb, &h) == 0 && h.ntomb > 0 &&
	    fstat(mb->datafd, &sb) == 0 && sb.st_size > 0 &&
	    mb_dead_bytes(mb) > (uint64_t)sb.st_size / 2)
		mb_compact(mb);
	/* Drops byte 1 if we were the last. */
	ix_put(mb->st, mb->ix);
	mb->ix = NULL;
	mb_free(mb);
}
