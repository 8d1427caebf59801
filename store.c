/*
 * store.c: mailbox files, their records and their locks.
 *
 * The layout and the reasons behind it are in imapd-store(5); in short:
 *
 *	DIR/counter		mod-sequence counter (modseq.c); byte 2 of it
 *				is the namespace lock taken here
 *	DIR/subscriptions	one mailbox name per line
 *	DIR/box/ENC/index	64-byte header, then 64-byte records by UID
 *	DIR/box/ENC/data.G	message bytes, append-only
 *	DIR/box/ENC/changes	change log (struct change), append-only
 *	DIR/box/ENC/keywords	keyword names, line i = bit i
 *
 * fcntl(2) locks belong to a process and a file, not to a descriptor, and
 * closing any descriptor of a file drops all of the process's locks on
 * it. So every index file this process has open is kept once, in the
 * store's list of struct ixf, shared by a selected mailbox and by any
 * APPEND, COPY or STATUS that touches the same file meanwhile.
 */

#include <sys/types.h>
#include <sys/mman.h>
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

#define IX_MAGIC	"IMAPDIX1"
#define IX_VERSION	1
#define IX_HDRSIZE	64
#define RECSIZE		((off_t)sizeof(struct rec))
#define HDR_DELETED	1
#define ENC_MAX		255		/* NAME_MAX of common file systems */
#define NAME_LEN_MAX	1000		/* decoded mailbox name */

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
	unsigned char	 pad[12];
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
	int		 nsfd;		/* DIR/counter, for the namespace lock */
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

struct fmap {				/* a read-only map of a growing file */
	int			 fd;
	const unsigned char	*p;
	size_t			 len;
};

struct oldmap {				/* kept until the next store_sync */
	void		*p;
	size_t		 len;
	struct oldmap	*next;
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
	struct ixf	*ix;
	unsigned char	*ixmap;
	size_t		 ixmaplen;
	off_t		 ixseen;	/* 64 + 64 * nrecs at the last look */
	uint32_t	 nrecs;		/* intact records known */
	struct fmap	 data;		/* data.G */
	struct fmap	 cache;		/* cache, opened on first use */
	struct oldmap	*old;
	char		*cbuf;		/* cache entries not yet written */
	size_t		 cbuflen, cbufcap;
	uint32_t	*cpos;		/* their records */
	size_t		 ncpos, capcpos;
	off_t		 choff;		/* change log read up to here */
	uint32_t	*view;		/* seq n is record view[n - 1] */
	size_t		 nview, capview;
	uint32_t	*pend;		/* expunged by others, not yet told */
	size_t		 npend, cappend;
	struct range	*recent;
	size_t		 nrecent;
	struct kwlist	 kw;
	size_t		 kwtold;
	uint32_t	 told;		/* EXISTS as the client knows it */
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
 * offset are rewritten through the map, and a process killed halfway through such a rewrite
 * must not make its record look torn, or the next appender would cut a
 * message off the index.
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
 * Count the intact records of an index. A writer that died (or a power
 * cut) can leave a partial record, or records whose sum is wrong, at the
 * tail only: appends go at the end with one write. With fix (the caller
 * holds the write lock) the tail is cut back to the last good record.
 */
static int
ix_tail(int fd, int fix, uint32_t *n_r, struct rec *last_r)
{
	struct stat	 sb;
	struct rec	 r;
	off_t		 n;

	if (fstat(fd, &sb) == -1)
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
	memset(&r, 0, sizeof r);
	while (n > 0) {
		if (pread_all(fd, &r, sizeof r, IX_HDRSIZE + (n - 1) * RECSIZE)
		    == -1)
			return -1;
		if (rec_ok(&r))
			break;
		n--;
		memset(&r, 0, sizeof r);
	}
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
	if (sb.st_size > (off_t)KEYWORDS_MAX * (NAME_LEN_MAX + 2)) {
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
	if (len == 0 || len > NAME_LEN_MAX || strchr(name, '\n') != NULL) {
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
	const char	*p;
	size_t		 len;
	uint32_t	 flags;
	uint64_t	 keywords;
	int64_t		 date;
};

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
	uid = nrec > 0 ? last.uid : 0;
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
		if (pwrite_all(dfd, m[i].p, m[i].len, off) == -1)
			goto fail;
		recs[i].offset = (uint64_t)off;
		recs[i].size = m[i].len;
		off += (off_t)m[i].len;
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
	m.p = msg;
	m.len = len;
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

static int
ns_lock(struct store *st)
{
	return modseq_lock(st->nsfd, F_WRLCK, CT_BYTE_NS, 1);
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
static int
create_locked(struct store *st, const char *name)
{
	struct ixhdr	 h;
	char		 enc[ENC_MAX + 4], tmp[64];
	int		 tfd = -1;

	if (enc_name(name, enc, sizeof enc) == -1)
		return -1;
	if (box_exists(st, enc)) {
		errno = EEXIST;
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
	char		 enc[ENC_MAX + 4], tmp[64];
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
	 * at their next sync (RFC 2180 3.3) through their open files.
	 */
	if (wbox_open(st, name, F_WRLCK, &w) == -1)
		goto fail;
	w.h.hflags |= HDR_DELETED;
	if (hdr_write(w.ix->fd, &w.h) == -1 || fdatasync(w.ix->fd) == -1) {
		wbox_close(st, &w);
		goto fail;
	}
	wbox_close(st, &w);
	snprintf(tmp, sizeof tmp, ".del.%ld.%u", (long)getpid(),
	    st->tmpseq++);
	if (renameat(st->boxfd, enc, st->boxfd, tmp) == -1 ||
	    fsync(st->boxfd) == -1)
		goto fail;
	ret = 0;
	if (rmtree(st->boxfd, tmp) == -1)
		(void)0;	/* left for the sweep at the next store_open */
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
	enc_name(to, enct, sizeof enct);
	if (renameat(st->boxfd, encf, st->boxfd, enct) == -1)
		goto fail;
	for (i = 0; i < nt; i++) {
		if (enc_name(v[i], encf, sizeof encf) == -1 ||
		    enc_name(tv[i], enct, sizeof enct) == -1 ||
		    renameat(st->boxfd, encf, st->boxfd, enct) == -1)
			goto fail;
	}
	if (fsync(st->boxfd) == -1)
		goto fail;
	/* RENAME INBOX moves the messages and leaves an empty INBOX. */
	if (inbox && create_locked(st, "INBOX") == -1)
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

int
store_status(struct store *st, const char *name, struct mbstatus *s)
{
	struct wbox		 w;
	const struct rec	*r;
	struct rec		 last;
	void			*map = MAP_FAILED;
	size_t			 maplen = 0;
	uint32_t		 n, i;
	int			 ret = -1;

	memset(s, 0, sizeof *s);
	if (wbox_open(st, name, F_RDLCK, &w) == -1) {
		seterrno(st, "STATUS");
		return -1;
	}
	if (ix_tail(w.ix->fd, 0, &n, &last) == -1)
		goto fail;
	s->uidvalidity = w.h.uidvalidity;
	s->highestmodseq = w.h.highestmodseq;
	s->uidnext = n > 0 ? last.uid + 1 : 1;
	if (n > 0) {
		maplen = IX_HDRSIZE + (size_t)n * sizeof *r;
		map = mmap(NULL, maplen, PROT_READ, MAP_SHARED, w.ix->fd, 0);
		if (map == MAP_FAILED)
			goto fail;
		r = (const struct rec *)((char *)map + IX_HDRSIZE);
		for (i = 0; i < n; i++, r++) {
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
	if (map != MAP_FAILED)
		munmap(map, maplen);
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

struct store *
store_open(const char *dir)
{
	struct store	*st;
	int		 e;

	if ((st = calloc(1, sizeof *st)) == NULL)
		return NULL;
	st->dirfd = st->boxfd = st->nsfd = -1;
	if (mkdir(dir, 0700) == -1 && errno != EEXIST)
		goto fail;
	if ((st->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		goto fail;
	if (mkdirat(st->dirfd, "box", 0700) == -1 && errno != EEXIST)
		goto fail;
	if ((st->boxfd = openat(st->dirfd, "box", O_RDONLY | O_DIRECTORY |
	    O_NOFOLLOW | O_CLOEXEC)) == -1)
		goto fail;
	if ((st->ctr = modseq_open(dir)) == NULL)
		goto fail;
	/*
	 * A second descriptor of the counter for the namespace lock. It is
	 * closed only in store_close, with the counter's own: closing either
	 * drops all of this process's locks on the file.
	 */
	if ((st->nsfd = openat(st->dirfd, "counter", O_RDWR | O_NOFOLLOW |
	    O_CLOEXEC)) == -1)
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

static struct rec *
mb_rec(const struct mailbox *mb, uint32_t pos)
{
	return (struct rec *)(mb->ixmap + IX_HDRSIZE + (size_t)pos * 64);
}

static const struct ixhdr *
mb_hdr(const struct mailbox *mb)
{
	return (const struct ixhdr *)mb->ixmap;
}

static int
mb_mapindex(struct mailbox *mb, off_t size)
{
	void	*p;

	if ((uintmax_t)size > SIZE_MAX) {
		errno = EFBIG;
		return -1;
	}
	if (mb->ixmap != NULL && (size_t)size <= mb->ixmaplen)
		return 0;
	p = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED,
	    mb->ix->fd, 0);
	if (p == MAP_FAILED)
		return -1;
	if (mb->ixmap != NULL)
		munmap(mb->ixmap, mb->ixmaplen);
	mb->ixmap = p;
	mb->ixmaplen = (size_t)size;
	return 0;
}

/*
 * Remap data.G (or the cache) when what is wanted lies beyond the
 * mapping. The old mapping stays until the next store_sync, so pointers
 * given out within one command stay valid.
 */
static int
mb_map(struct mailbox *mb, struct fmap *m, uint64_t need)
{
	struct oldmap	*om;
	struct stat	 sb;
	void		*p;

	if (need <= m->len)
		return 0;
	if (fstat(m->fd, &sb) == -1)
		return -1;
	if ((uint64_t)sb.st_size < need || (uintmax_t)sb.st_size > SIZE_MAX) {
		errno = EIO;
		return -1;
	}
	p = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_SHARED, m->fd, 0);
	if (p == MAP_FAILED)
		return -1;
	if (m->p != NULL) {
		if ((om = malloc(sizeof *om)) == NULL) {
			munmap(p, (size_t)sb.st_size);
			return -1;
		}
		om->p = (void *)m->p;
		om->len = m->len;
		om->next = mb->old;
		mb->old = om;
	}
	m->p = p;
	m->len = (size_t)sb.st_size;
	return 0;
}

static void
fmap_close(struct fmap *m)
{
	if (m->p != NULL)
		munmap((void *)m->p, m->len);
	m->p = NULL;
	m->len = 0;
	closefd(&m->fd);
}

static void
mb_freeold(struct mailbox *mb)
{
	struct oldmap	*om;

	while ((om = mb->old) != NULL) {
		mb->old = om->next;
		munmap(om->p, om->len);
		free(om);
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
	if (mb->cache.fd != -1)
		return 0;
	mb->cache.fd = openat(mb->dirfd, "cache", O_RDWR | O_CREAT | O_APPEND |
	    O_NOFOLLOW | O_CLOEXEC, 0600);
	return mb->cache.fd == -1 ? -1 : 0;
}

const char *
store_cache_get(struct mailbox *mb, uint32_t seq, size_t *len_r)
{
	const struct rec	*r = store_rec(mb, seq);
	struct centry		 e;
	uint64_t		 off;

	if (r == NULL || r->reserved == 0 || cache_open(mb) == -1)
		return NULL;
	off = r->reserved - 1;
	if (off > UINT64_MAX - sizeof e ||
	    mb_map(mb, &mb->cache, off + sizeof e) == -1)
		return NULL;
	memcpy(&e, mb->cache.p + off, sizeof e);
	if (e.magic != CACHE_MAGIC || e.uid != r->uid ||
	    mb_map(mb, &mb->cache, off + sizeof e + e.len) == -1 ||
	    e.sum != centry_sum(&e, mb->cache.p + off + sizeof e))
		return NULL;
	*len_r = e.len;
	return (const char *)mb->cache.p + off + sizeof e;
}

static void
cache_flush(struct mailbox *mb)
{
	struct stat	 sb;
	uint64_t	 base;
	size_t		 i, o;

	if (mb->ncpos == 0)
		return;
	if (cache_open(mb) == 0 &&
	    modseq_lock(mb->ix->fd, F_WRLCK, IX_BYTE_WRITE, 1) == 0) {
		if (fstat(mb->cache.fd, &sb) == 0 &&
		    pwrite_all(mb->cache.fd, mb->cbuf, mb->cbuflen,
		    sb.st_size) == 0) {
			base = (uint64_t)sb.st_size;
			for (i = 0, o = 0; i < mb->ncpos; i++) {
				struct centry e;

				memcpy(&e, mb->cbuf + o, sizeof e);
				if (mb->cpos[i] < mb->nrecs)
					mb_rec(mb, mb->cpos[i])->reserved =
					    base + o + 1;
				o += sizeof e + ((e.len + 7) & ~(size_t)7);
			}
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
	mb->cpos[mb->ncpos++] = mb->view[seq - 1];
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
 * session only; recent_uid moves past them so no other session claims
 * them. The caller holds byte 0 (exclusive unless read-only).
 */
static int
mb_take_new(struct mailbox *mb, uint32_t n)
{
	struct ixhdr	 h;
	uint32_t	 i, first = 0, maxuid = 0;

	for (i = mb->nrecs; i < n; i++) {
		const struct rec *r = mb_rec(mb, i);

		if (first == 0)
			first = r->uid;
		maxuid = r->uid;
		if (!(r->flags & FL_EXPUNGED) && view_push(mb, i) == -1)
			return -1;
	}
	if (n > 0)
		mb->uidnext = mb_rec(mb, n - 1)->uid + 1;
	mb->nrecs = n;
	memcpy(&h, mb_hdr(mb), sizeof h);
	if (maxuid == 0 || maxuid <= h.recent_uid)
		return 0;
	if (recent_add(mb, first > h.recent_uid ? first : h.recent_uid + 1,
	    maxuid) == -1)
		return -1;
	if (mb->readonly)
		return 0;	/* EXAMINE shows them but does not claim */
	h.recent_uid = maxuid;
	return hdr_write(mb->ix->fd, &h);
}

/* Count intact records in the mapping (the tail may be torn). */
static uint32_t
mb_count(const struct mailbox *mb, off_t size)
{
	uint32_t	 n;

	n = (uint32_t)((size - IX_HDRSIZE) / RECSIZE);
	while (n > mb->nrecs && !rec_ok(mb_rec(mb, n - 1)))
		n--;
	return n;
}

static void
mb_free(struct mailbox *mb)
{
	if (mb->ixmap != NULL)
		munmap(mb->ixmap, mb->ixmaplen);
	fmap_close(&mb->data);
	fmap_close(&mb->cache);
	mb_freeold(mb);
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

struct mailbox *
store_select(struct store *st, const char *name, int readonly)
{
	struct mailbox	*mb;
	struct stat	 sb;
	struct ixhdr	 h;
	uint32_t	 n;
	int		 r, tries, locked = 0;

	if ((mb = calloc(1, sizeof *mb)) == NULL) {
		seterrno(st, "SELECT");
		return NULL;
	}
	mb->st = st;
	mb->readonly = readonly;
	mb->pid = (uint32_t)getpid();
	mb->dirfd = mb->data.fd = mb->cache.fd = mb->chfd = mb->kwfd = -1;
	for (tries = 0; ; tries++) {
		if (tries == 100) {
			errno = EAGAIN;
			goto fail;
		}
		if ((mb->dirfd = box_opendir(st, name)) == -1)
			goto fail;
		if ((mb->ix = ix_get(st, mb->dirfd)) == NULL)
			goto fail;
		/* Byte 1 shared for as long as it is selected: no compaction. */
		if ((r = ix_lock(mb->ix, mb->dirfd, F_RDLCK, IX_BYTE_SELECT))
		    == -1)
			goto fail;
		if (r == 0)
			break;
		ix_put(st, mb->ix);
		mb->ix = NULL;
		closefd(&mb->dirfd);
	}
	if (modseq_lock(mb->ix->fd, readonly ? F_RDLCK : F_WRLCK, IX_BYTE_WRITE, 1)
	    == -1)
		goto fail;
	locked = 1;
	if (hdr_read(mb->ix->fd, &h) == -1)
		goto fail;
	if (h.hflags & HDR_DELETED) {
		errno = ENOENT;
		goto fail;
	}
	mb->uidvalidity = h.uidvalidity;
	mb->highestmodseq = h.highestmodseq;
	mb->generation = h.generation;
	mb->uidnext = 1;
	if (fstat(mb->ix->fd, &sb) == -1 || sb.st_size < IX_HDRSIZE ||
	    (sb.st_size - IX_HDRSIZE) / RECSIZE > (off_t)UINT32_MAX) {
		if (errno == 0)
			errno = EIO;
		goto fail;
	}
	if (mb_mapindex(mb, sb.st_size) == -1)
		goto fail;
	n = mb_count(mb, sb.st_size);
	mb->ixseen = IX_HDRSIZE + (off_t)n * RECSIZE;
	if ((mb->data.fd = data_open(mb->dirfd, h.generation, O_RDONLY)) == -1)
		goto fail;
	if ((mb->chfd = openat(mb->dirfd, "changes", O_RDWR | O_APPEND |
	    O_NOFOLLOW | O_CLOEXEC)) == -1 || fstat(mb->chfd, &sb) == -1)
		goto fail;
	/* Entries written before now are of no interest to this session. */
	mb->choff = sb.st_size - sb.st_size % (off_t)sizeof(struct change);
	if (kw_open_load(mb->dirfd, &mb->kw, &mb->kwfd) == -1)
		goto fail;
	mb->kwtold = mb->kw.n;
	if (mb_take_new(mb, n) == -1)
		goto fail;
	unlk(mb->ix->fd, IX_BYTE_WRITE);
	mb->told = (uint32_t)mb->nview;
	return mb;
fail:
	seterrno(st, "SELECT");
	if (locked)
		unlk(mb->ix->fd, IX_BYTE_WRITE);
	{
		int e = errno;

		if (mb->ix != NULL)
			ix_put(st, mb->ix);
		mb_free(mb);
		errno = e;
	}
	return NULL;
}

uint32_t
store_exists(const struct mailbox *mb)
{
	return (uint32_t)mb->nview;
}

int
store_is_recent(const struct mailbox *mb, uint32_t seq)
{
	uint32_t	 uid;
	size_t		 i;

	if (seq == 0 || seq > mb->nview)
		return 0;
	uid = mb_rec(mb, mb->view[seq - 1])->uid;
	for (i = 0; i < mb->nrecent; i++)
		if (uid >= mb->recent[i].lo && uid <= mb->recent[i].hi)
			return 1;
	return 0;
}

/* First index in the view whose UID is >= uid (UIDs grow with position). */
static size_t
view_lower_uid(const struct mailbox *mb, uint32_t uid)
{
	size_t	 lo = 0, hi = mb->nview, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (mb_rec(mb, mb->view[mid])->uid < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

uint32_t
store_recent_count(const struct mailbox *mb)
{
	size_t		 i, a, b;
	uint32_t	 n = 0;

	for (i = 0; i < mb->nrecent; i++) {
		a = view_lower_uid(mb, mb->recent[i].lo);
		b = mb->recent[i].hi == UINT32_MAX ? mb->nview :
		    view_lower_uid(mb, mb->recent[i].hi + 1);
		n += (uint32_t)(b - a);
	}
	return n;
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

const struct rec *
store_rec(const struct mailbox *mb, uint32_t seq)
{
	if (seq == 0 || seq > mb->nview)
		return NULL;
	return mb_rec(mb, mb->view[seq - 1]);
}

uint32_t
store_seq_of_uid(const struct mailbox *mb, uint32_t uid)
{
	size_t	 i;

	i = view_lower_uid(mb, uid);
	if (i < mb->nview && mb_rec(mb, mb->view[i])->uid == uid)
		return (uint32_t)i + 1;
	return 0;
}

const char *
store_data(struct mailbox *mb, uint32_t seq, size_t *len_r)
{
	const struct rec	*r;

	*len_r = 0;
	if ((r = store_rec(mb, seq)) == NULL) {
		errno = EINVAL;
		return NULL;
	}
	if (r->size == 0)
		return "";
	if (r->offset > UINT64_MAX - r->size ||
	    mb_map(mb, &mb->data, r->offset + r->size) == -1) {
		errno = EIO;
		seterrno(mb->st, "FETCH");
		return NULL;
	}
	*len_r = (size_t)r->size;
	return (const char *)mb->data.p + r->offset;
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

/* Positions of the view within [first, first + count), appended to v. */
static int
view_collect(const struct mailbox *mb, const struct change *c, int seqs,
    uint32_t **v, size_t *n, size_t *cap)
{
	uint64_t	 end = (uint64_t)c->first + c->count;
	size_t		 i;

	for (i = view_lower(mb, c->first); i < mb->nview &&
	    mb->view[i] < end; i++)
		if (u32_push(v, n, cap, seqs ? (uint32_t)i + 1 : mb->view[i])
		    == -1)
			return -1;
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
	if ((s->expunged = xrealloc(NULL, mb->npend, sizeof *s->expunged))
	    == NULL)
		return -1;
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

int
store_sync(struct mailbox *mb, int allow_expunge, struct sync *s)
{
	struct stat	 ixsb, chsb, kwsb;
	struct change	*ch = NULL;
	ssize_t		 nch = 0, k;
	size_t		 cap = 0;
	uint32_t	 n;
	int		 locked = 0, grew, claim;

	memset(s, 0, sizeof *s);
	cache_flush(mb);
	mb_freeold(mb);
	if (fstat(mb->ix->fd, &ixsb) == -1 || fstat(mb->chfd, &chsb) == -1 ||
	    fstat(mb->kwfd, &kwsb) == -1)
		goto fail;
	/*
	 * The common case: nothing moved, three fstat calls and no lock.
	 * Sizes are compared with those of the complete content, so a torn
	 * tail (cut later, maybe to the same size) always takes the long way.
	 */
	grew = ixsb.st_size != mb->ixseen;
	if (!grew && chsb.st_size == mb->choff && kwsb.st_size == mb->kw.size)
		goto report;

	/*
	 * New records are taken in only under the exclusive lock when this
	 * session claims \Recent; if they turn up under a shared lock they
	 * wait for the next sync (ixseen is left behind for that).
	 */
	claim = grew && !mb->readonly;
	if (modseq_lock(mb->ix->fd, claim ? F_WRLCK : F_RDLCK, IX_BYTE_WRITE, 1) == -1)
		goto fail;
	locked = 1;
	if (fstat(mb->ix->fd, &ixsb) == -1 || fstat(mb->chfd, &chsb) == -1)
		goto fail;
	if (ixsb.st_size < IX_HDRSIZE + (off_t)mb->nrecs * RECSIZE ||
	    (ixsb.st_size - IX_HDRSIZE) / RECSIZE > (off_t)UINT32_MAX) {
		errno = EIO;
		goto fail;
	}
	if (claim || mb->readonly) {
		if (mb_mapindex(mb, ixsb.st_size) == -1)
			goto fail;
		n = mb_count(mb, ixsb.st_size);
		mb->ixseen = IX_HDRSIZE + (off_t)n * RECSIZE;
	} else
		n = mb->nrecs;
	if (chsb.st_size < mb->choff)	/* cannot happen while selected */
		mb->choff = chsb.st_size - chsb.st_size %
		    (off_t)sizeof(struct change);
	if ((nch = modseq_read(mb->chfd, mb->choff, chsb.st_size, &ch)) == -1)
		goto fail;
	mb->choff += nch * (off_t)sizeof *ch;
	if (fstat(mb->kwfd, &kwsb) == -1)
		goto fail;
	if (kwsb.st_size != mb->kw.size && kw_load(mb->kwfd, &mb->kw) == -1)
		goto fail;
	/* Expunges are matched against the view as it was before new ones. */
	for (k = 0; k < nch; k++)
		if (ch[k].type == CHANGE_EXPUNGE && ch[k].pid != mb->pid &&
		    view_collect(mb, &ch[k], 0, &mb->pend, &mb->npend,
		    &mb->cappend)
		    == -1)
			goto fail;
	if (mb_take_new(mb, n) == -1)
		goto fail;
	mb->highestmodseq = mb_hdr(mb)->highestmodseq;
	locked = 0;
	unlk(mb->ix->fd, IX_BYTE_WRITE);

	mb->npend = u32_uniq(mb->pend, mb->npend);
report:
	if (allow_expunge && mb->npend > 0 && mb_apply_expunges(mb, s) == -1)
		goto fail;
	/* Flag changes, numbered after the expunges just reported. */
	for (k = 0; k < nch; k++)
		if (ch[k].type == CHANGE_FLAGS && ch[k].pid != mb->pid &&
		    view_collect(mb, &ch[k], 1, &s->changed, &s->nchanged,
		    &cap) == -1)
			goto fail;
	s->nchanged = u32_uniq(s->changed, s->nchanged);
	free(ch);
	ch = NULL;
	s->exists = (uint32_t)mb->nview;
	s->exists_changed = s->exists != mb->told;
	mb->told = s->exists;
	s->recent = store_recent_count(mb);
	s->keywords_changed = mb->kw.n != mb->kwtold;
	mb->kwtold = mb->kw.n;
	s->deleted = (mb_hdr(mb)->hflags & HDR_DELETED) != 0;
	return 0;
fail:
	seterrno(mb->st, "sync");
	if (locked)
		unlk(mb->ix->fd, IX_BYTE_WRITE);
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
 * Make changed records durable: msync the mapped pages between the
 * lowest and highest position touched, log the runs (the log is only read
 * by live sessions, so it is not fsynced), raise the header's
 * HIGHESTMODSEQ and fdatasync. The caller holds byte 0 exclusive.
 */
static int
mb_commit(struct mailbox *mb, uint64_t ms, uint32_t lo, uint32_t hi,
    const struct change *ch, size_t nch)
{
	struct ixhdr	 h;
	long		 pg = sysconf(_SC_PAGESIZE);
	size_t		 a, b;

	if (pg <= 0)
		pg = 4096;
	a = IX_HDRSIZE + (size_t)lo * 64;
	a -= a % (size_t)pg;
	b = IX_HDRSIZE + ((size_t)hi + 1) * 64;
	if (msync(mb->ixmap + a, b - a, MS_SYNC) == -1)
		return -1;
	if (modseq_log(mb->chfd, ch, nch) == -1)
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
 * then change the mapped records. No system call per message.
 */
int
store_flags(struct mailbox *mb, const uint32_t *seqs, size_t n, int mode,
    uint32_t flags, uint64_t keywords)
{
	struct change	*ch = NULL;
	struct rec	*r, t;
	size_t		 i, nch = 0, nchg = 0;
	uint64_t	 ms = 0, nk;
	uint32_t	 pos, lo = UINT32_MAX, hi = 0, nf;
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
	for (i = 0; i < n; i++)
		if (seqs[i] > 0 && seqs[i] <= mb->nview &&
		    flags_new(mb_rec(mb, mb->view[seqs[i] - 1]), mode, flags,
		    keywords, &nf, &nk))
			nchg++;
	if (nchg == 0) {
		ret = 0;
		goto out;
	}
	if ((ch = xrealloc(NULL, nchg, sizeof *ch)) == NULL)
		goto out;
	/* One MODSEQ for the whole command (RFC 7162 3.1). */
	if ((ms = modseq_next(mb->st->ctr)) == 0)
		goto out;
	for (i = 0; i < n; i++) {
		if (seqs[i] == 0 || seqs[i] > mb->nview)
			continue;
		pos = mb->view[seqs[i] - 1];
		r = mb_rec(mb, pos);
		if (!flags_new(r, mode, flags, keywords, &nf, &nk))
			continue;	/* unchanged records keep their MODSEQ */
		t = *r;
		t.flags = nf;
		t.keywords = nk;
		t.modseq = ms;
		rec_seal(&t);
		*r = t;
		change_add(ch, &nch, ms, pos, mb->pid, CHANGE_FLAGS);
		if (pos < lo)
			lo = pos;
		if (pos > hi)
			hi = pos;
	}
	if (mb_commit(mb, ms, lo, hi, ch, nch) == -1)
		goto out;
	ret = 0;
out:
	if (ret == -1)
		seterrno(mb->st, "STORE");
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
	struct rec	*r, t;
	uint32_t	*seqs = NULL, pos, lo = UINT32_MAX, hi = 0;
	size_t		 i, o, nch = 0, ns = 0, cnt = 0;
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
	for (i = 0; i < mb->nview; i++)
		if (expungeable(mb_rec(mb, mb->view[i]), uids))
			cnt++;
	if (cnt == 0) {
		unlk(mb->ix->fd, IX_BYTE_WRITE);
		return 0;
	}
	if ((seqs = xrealloc(NULL, cnt, sizeof *seqs)) == NULL ||
	    (ch = xrealloc(NULL, cnt, sizeof *ch)) == NULL ||
	    (ms = modseq_next(mb->st->ctr)) == 0)
		goto fail;
	/* Tombstones: the UID and the expunge MODSEQ stay for VANISHED. */
	for (i = 0, o = 0; i < mb->nview; i++) {
		pos = mb->view[i];
		r = mb_rec(mb, pos);
		if (!expungeable(r, uids)) {
			mb->view[o++] = pos;
			continue;
		}
		t = *r;
		t.flags |= FL_EXPUNGED;
		t.modseq = ms;
		rec_seal(&t);
		*r = t;
		change_add(ch, &nch, ms, pos, mb->pid, CHANGE_EXPUNGE);
		seqs[ns++] = (uint32_t)i + 1;
		if (pos < lo)
			lo = pos;
		if (pos > hi)
			hi = pos;
	}
	mb->nview = o;
	mb->told -= (uint32_t)ns;
	if (mb_commit(mb, ms, lo, hi, ch, nch) == -1) {
		/* The records changed; report them, the error is logged. */
		seterrno(mb->st, "EXPUNGE");
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
	unlk(mb->ix->fd, IX_BYTE_WRITE);
	free(ch);
	free(seqs);
	return -1;
}

/* ---------------------------------------------------------------- copy */

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
		if ((r = store_rec(mb, seqs[i])) == NULL) {
			errno = EINVAL;
			goto fail;
		}
		if ((m[i].p = store_data(mb, seqs[i], &m[i].len)) == NULL)
			goto fail;
		m[i].flags = r->flags & FL_SYSTEM;
		m[i].date = r->internaldate;
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

/*
 * Rewrite the mailbox without the bytes of expunged messages. Only when
 * no other process has it selected (byte 1 exclusive), so no session can
 * still need a ghost (RFC 2180 4.1.1). Tombstones stay, with offset and
 * size 0, for QRESYNC's VANISHED. New files are written beside the old
 * ones; renaming index.new over index is the step that switches.
 */
static void
mb_compact(struct mailbox *mb)
{
	struct ixhdr	 h;
	struct rec	*recs = NULL;
	struct stat	 sb;
	uint32_t	 n, i;
	uint64_t	 off = 0, newgen;
	char		 oldname[32], newname[32];
	int		 dfd = -1, ifd = -1, oldfd = -1, done = 0;
	char		*buf = NULL;
	const size_t	 bufsz = 65536;

	if (modseq_lock(mb->ix->fd, F_WRLCK, IX_BYTE_SELECT, 0) == -1)
		return;
	if (modseq_lock(mb->ix->fd, F_WRLCK, IX_BYTE_WRITE, 1) == -1)
		return;		/* the close in ix_put drops both */
	if (hdr_read(mb->ix->fd, &h) == -1 || (h.hflags & HDR_DELETED))
		return;
	if (ix_tail(mb->ix->fd, 1, &n, NULL) == -1)
		return;
	if ((recs = calloc(n ? n : 1, sizeof *recs)) == NULL ||
	    (buf = malloc(bufsz)) == NULL)
		goto out;
	if (n > 0 && pread_all(mb->ix->fd, recs, (size_t)n * sizeof *recs,
	    IX_HDRSIZE) == -1)
		goto out;
	unlink_stale(mb->dirfd, h.generation);
	newgen = h.generation + 1;
	snprintf(oldname, sizeof oldname, "data.%llu",
	    (unsigned long long)h.generation);
	snprintf(newname, sizeof newname, "data.%llu",
	    (unsigned long long)newgen);
	if ((oldfd = data_open(mb->dirfd, h.generation, O_RDONLY)) == -1 ||
	    fstat(oldfd, &sb) == -1)
		goto out;
	if ((dfd = data_open(mb->dirfd, newgen, O_WRONLY | O_CREAT |
	    O_TRUNC)) == -1)
		goto out;
	for (i = 0; i < n; i++) {
		struct rec	*r = &recs[i];
		uint64_t	 left, from;

		r->reserved = 0;	/* the cache starts again */
		if (r->flags & FL_EXPUNGED) {
			r->offset = r->size = 0;
			rec_seal(r);
			continue;
		}
		if (r->offset + r->size > (uint64_t)sb.st_size) {
			errno = EIO;
			goto out;
		}
		for (left = r->size, from = r->offset; left > 0; ) {
			size_t k = left < bufsz ? (size_t)left : bufsz;

			if (pread_all(oldfd, buf, k, (off_t)from) == -1 ||
			    pwrite_all(dfd, buf, k, (off_t)(off + r->size -
			    left)) == -1)
				goto out;
			left -= k;
			from += k;
		}
		r->offset = off;
		off += r->size;
		rec_seal(r);
	}
	if (fsync(dfd) == -1)
		goto out;
	h.generation = newgen;
	hdr_seal(&h);
	if ((ifd = openat(mb->dirfd, "index.new", O_WRONLY | O_CREAT |
	    O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600)) == -1)
		goto out;
	if (pwrite_all(ifd, &h, sizeof h, 0) == -1 || (n > 0 &&
	    pwrite_all(ifd, recs, (size_t)n * sizeof *recs, IX_HDRSIZE) == -1)
	    || fsync(ifd) == -1)
		goto out;
	/*
	 * The change log is emptied before the switch: a session selecting
	 * the new index must not note a size that then shrinks.
	 */
	if (ftruncate(mb->chfd, 0) == -1 || (cache_open(mb) == 0 &&
	    ftruncate(mb->cache.fd, 0) == -1))
		goto out;
	if (renameat(mb->dirfd, "index.new", mb->dirfd, "index") == -1)
		goto out;
	done = 1;
	fsync(mb->dirfd);
	unlinkat(mb->dirfd, oldname, 0);
out:
	if (!done && dfd != -1) {
		unlinkat(mb->dirfd, "index.new", 0);
		unlinkat(mb->dirfd, newname, 0);
	}
	closefd(&dfd);
	closefd(&ifd);
	closefd(&oldfd);
	free(recs);
	free(buf);
}

/* Bytes of expunged messages whose data is still in data.G. */
static uint64_t
mb_dead_bytes(const struct mailbox *mb)
{
	uint64_t	 dead = 0;
	uint32_t	 i;

	for (i = 0; i < mb->nrecs; i++) {
		const struct rec *r = mb_rec(mb, i);

		if (r->flags & FL_EXPUNGED)
			dead += r->size;
	}
	return dead;
}

void
store_unselect(struct mailbox *mb)
{
	struct stat	 sb;

	if (mb == NULL)
		return;
	cache_flush(mb);
	if (!mb->readonly && mb->ix->refs == 1 && fstat(mb->data.fd, &sb) == 0 &&
	    sb.st_size > 0 && mb_dead_bytes(mb) > (uint64_t)sb.st_size / 2) {
		if (mb->ixmap != NULL)
			munmap(mb->ixmap, mb->ixmaplen);
		mb->ixmap = NULL;
		mb_compact(mb);
	}
	ix_put(mb->st, mb->ix);		/* drops byte 1 if we were the last */
	mb->ix = NULL;
	mb_free(mb);
}
