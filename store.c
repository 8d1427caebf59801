/*
 * store.c: the store as a whole: open and close, the error text and
 * code, the small I/O helpers every store file uses, and the namespace:
 * CREATE, DELETE, RENAME (and its plan, finished after a crash), LIST,
 * subscriptions and STATUS.
 */

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "storeint.h"

/* Read buffers larger than this are freed at a sync. */
#define BUF_KEEP	(1024 * 1024)

/* ------------------------------------------------------------ helpers */

/*
 * Record a failure: its code (an errno value) and its text. The code is
 * kept in the store, where store_errcode finds it whatever later calls
 * do to errno; errno is left set to it for the caller's own unwinding.
 */
void
st_seterr(struct store *st, int code, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(st->err, sizeof st->err, fmt, ap);
	va_end(ap);
	st->errcode = code;
	errno = code;
}

/* Text for errno after a failed step, in the words imapd passes on. */
void
st_seterrno(struct store *st, const char *what)
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
	case EIDRM:
		why = "mailbox deleted by another session";
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
	st_seterr(st, errno, "%s: %s", what, why);
}

void
st_unlock(int fd, off_t byte)
{
	int	 e = errno;

	modseq_lock(fd, F_UNLCK, byte, 0);
	errno = e;
}

int
st_pwrite_all(int fd, const void *buf, size_t len, off_t off)
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

int
st_pread_all(int fd, void *buf, size_t len, off_t off)
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

void
st_closefd(int *fd)
{
	int	 e = errno;

	if (*fd != -1)
		close(*fd);
	*fd = -1;
	errno = e;
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
	st_unlock(st->nsfd, CT_BYTE_NS);
}

static int
mkfile(int dirfd, const char *name, const void *p, size_t len)
{
	int	 fd, e;

	fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	if (fd == -1)
		return -1;
	if ((len > 0 && st_pwrite_all(fd, p, len, 0) == -1) ||
	    fsync(fd) == -1) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return close(fd);
}

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
	(void)name_rmtree(st->boxfd, tmp);
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
		r = ix_hdr_read(fd, &h) == 0 && (h.hflags & HDR_DELETED);
		close(fd);
	}
	close(dfd);
	return r;
}

/*
 * Build the mailbox in DIR/box/.new.PID, then rename it into place: the
 * rename is the step that makes it exist. Caller holds the namespace lock.
 */
static int
create_locked(struct store *st, const char *name, uint32_t specialuse)
{
	struct ixhdr	 h;
	struct change	 base;
	char		 enc[ENC_MAX + 4], tmp[64];
	int		 tfd = -1;

	if (name_enc(name, enc, sizeof enc) == -1)
		return -1;
	/* A half-deleted mailbox of the name is finished off first. */
	if (name_exists(st, enc)) {
		if (!box_half_deleted(st, enc)) {
			errno = EEXIST;
			return -1;
		}
		if (remove_box(st, enc) == -1)
			return -1;
	}
	snprintf(tmp, sizeof tmp, ".new.%ld", (long)getpid());
	if (name_rmtree(st->boxfd, tmp) == -1)
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
	h.specialuse = specialuse;
	if ((h.uidvalidity = modseq_uidvalidity(st->ctr)) == 0 ||
	    (h.created_modseq = modseq_next(st->ctr)) == 0)
		goto fail;
	/* RFC 7162 3.1.2.1: HIGHESTMODSEQ is never 0, even when empty. */
	h.highestmodseq = h.created_modseq;
	ix_hdr_seal(&h);
	/* The log has every change of the new mailbox. */
	modseq_base(&base, h.generation, h.created_modseq);
	if (mkfile(tfd, "data.1", NULL, 0) == -1 ||
	    mkfile(tfd, "changes", &base, sizeof base) == -1 ||
	    mkfile(tfd, "keywords", NULL, 0) == -1 ||
	    mkfile(tfd, "index", &h, sizeof h) == -1 ||
	    fsync(tfd) == -1)
		goto fail;
	if (renameat(st->boxfd, tmp, st->boxfd, enc) == -1)
		goto fail;
	st_closefd(&tfd);
	return fsync(st->boxfd);
fail:
	st_closefd(&tfd);
	{
		int e = errno;

		name_rmtree(st->boxfd, tmp);
		errno = e;
	}
	return -1;
}

int
store_create(struct store *st, const char *name)
{
	return store_create_use(st, name, 0);
}

int
store_create_use(struct store *st, const char *name, uint32_t specialuse)
{
	int	 r;

	if (!name_ok(name)) {
		st_seterr(st, EINVAL, "CREATE: invalid mailbox name");
		return -1;
	}
	if (ns_lock(st) == -1) {
		st_seterrno(st, "CREATE");
		return -1;
	}
	r = create_locked(st, name, specialuse & SU_ALL);
	if (r == -1)
		st_seterrno(st, "CREATE");
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
		st_seterr(st, EPERM, "DELETE: INBOX cannot be deleted");
		return -1;
	}
	if (name_enc(name, enc, sizeof enc) == -1) {
		st_seterrno(st, "DELETE");
		return -1;
	}
	if (ns_lock(st) == -1) {
		st_seterrno(st, "DELETE");
		return -1;
	}
	/*
	 * Mark it deleted first: sessions that have it selected see the mark
	 * at their next sync (RFC 2180 3.3) through their open files. One
	 * marked already is a DELETE that died before its rename: finish it.
	 */
	if (ix_wbox_open(st, name, F_WRLCK, &w) == 0) {
		w.h.hflags |= HDR_DELETED;
		if (ix_hdr_write(w.ix->fd, &w.h) == -1 ||
		    fdatasync(w.ix->fd) == -1) {
			ix_wbox_close(st, &w);
			goto fail;
		}
		w.poke = 1;
		ix_wbox_close(st, &w);
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
		st_seterrno(st, "DELETE");
	ns_unlock(st);
	return ret;
}

int
store_list(struct store *st, char ***names_r, size_t *n_r)
{
	*names_r = NULL;
	*n_r = 0;
	if (name_list(st, names_r, n_r) == -1) {
		st_seterrno(st, "LIST");
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
		if (name_enc(i == 0 ? from : v[i - 1], encf, sizeof encf)
		    == -1 ||
		    name_enc(i == 0 ? to : tv[i - 1], enct, sizeof enct) == -1)
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
	/*
	 * Only names of mailboxes: nothing outside DIR/box is touched. A
	 * plan an old store left names its directories the old way.
	 */
	if ((name = name_dec(line)) == NULL &&
	    (name = name_dec_old(line)) == NULL)
		return 0;
	free(name);
	if ((name = name_dec(to)) == NULL && (name = name_dec_old(to)) == NULL)
		return 0;
	free(name);
	if (!name_exists(st, line) || name_exists(st, to))
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
	    st_pread_all(fd, buf, (size_t)sb.st_size, 0) == -1)
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
		if (fsync(st->boxfd) == -1 || (!name_exists(st, "INBOX") &&
		    create_locked(st, "INBOX", 0) == -1))
			goto out;
	}
	if (unlinkat(st->dirfd, RN_FILE, 0) == -1 || fsync(st->dirfd) == -1)
		goto out;
	r = 0;
out:
	st_closefd(&fd);
	free(buf);
	return r;
}

/*
 * The inferiors "from/..." of a mailbox, packed at the front of v (slots
 * before i are all free), with their targets "to/..." in tv; none of the
 * targets may exist. *nt_r: how many. v holds n names, tv room for n.
 */
static int
rn_inferiors(struct store *st, const char *from, const char *to, char **v,
    size_t n, char **tv, size_t *nt_r)
{
	char		 enct[ENC_MAX + 4], *s;
	size_t		 i, tl, nt = 0, flen = strlen(from);

	*nt_r = 0;
	for (i = 0; i < n; i++) {
		s = v[i];
		v[i] = NULL;
		if (strncmp(s, from, flen) != 0 || s[flen] != '/') {
			free(s);
			continue;
		}
		v[nt] = s;
		tl = strlen(to) + strlen(s + flen) + 1;
		if ((tv[nt] = malloc(tl)) == NULL)
			return -1;
		snprintf(tv[nt], tl, "%s%s", to, s + flen);
		*nt_r = ++nt;
		if (name_enc(tv[nt - 1], enct, sizeof enct) == -1)
			return -1;
		if (name_exists(st, enct)) {
			errno = EEXIST;
			return -1;
		}
	}
	return 0;
}

/*
 * Under the namespace lock: check, write the plan, carry it out. The
 * names listed and their targets are left in *v_r and *tv_r to free.
 */
static int
rename_locked(struct store *st, const char *from, const char *to,
    const char *encf, const char *enct, char ***v_r, size_t *n_r,
    char ***tv_r)
{
	size_t		 nt = 0;

	if (!name_exists(st, encf)) {
		errno = ENOENT;
		return -1;
	}
	if (name_exists(st, enct) || strcmp(from, to) == 0) {
		errno = EEXIST;
		return -1;
	}
	if (strcmp(from, "INBOX") != 0) {
		if (name_list(st, v_r, n_r) == -1)
			return -1;
		if ((*tv_r = calloc(*n_r + 1, sizeof **tv_r)) == NULL)
			return -1;
		if (rn_inferiors(st, from, to, *v_r, *n_r, *tv_r, &nt) == -1)
			return -1;
	}
	/*
	 * Written down first, so that a RENAME killed half-way is finished
	 * by the next process (rn_finish), not left half done.
	 */
	if (rn_write(st, from, to, *v_r, *tv_r, nt) == -1 ||
	    rn_finish(st) == -1)
		return -1;
	return 0;
}

/*
 * Rename one directory, and (except for INBOX, RFC 3501 6.3.5) all the
 * mailboxes below it. Every target is checked before anything moves.
 */
int
store_rename(struct store *st, const char *from, const char *to)
{
	char		**v = NULL, **tv = NULL;
	char		 encf[ENC_MAX + 4], enct[ENC_MAX + 4];
	size_t		 n = 0;
	int		 ret;

	if (name_enc(from, encf, sizeof encf) == -1 ||
	    name_enc(to, enct, sizeof enct) == -1) {
		st_seterrno(st, "RENAME");
		return -1;
	}
	if (ns_lock(st) == -1) {
		st_seterrno(st, "RENAME");
		return -1;
	}
	ret = rename_locked(st, from, to, encf, enct, &v, &n, &tv);
	if (ret == -1)
		st_seterrno(st, "RENAME");
	ns_unlock(st);
	name_list_free(v, n);
	name_list_free(tv, n + 1);
	return ret;
}

#define SUBS_FILE	"subscriptions"
#define SUBS_OLD	"subscriptions.mutf7"	/* an old store's */
#define UTF8_MARK	"utf8names"	/* the store's names are UTF-8 */

static int
subs_read(struct store *st, const char *file, char ***v_r, size_t *n_r)
{
	struct stat	 sb;
	char		*buf = NULL, *p, *nl, *s, **v = NULL;
	size_t		 n = 0, cap = 0;
	int		 fd;

	*v_r = NULL;
	*n_r = 0;
	fd = openat(st->dirfd, file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1)
		return errno == ENOENT ? 0 : -1;
	if (fstat(fd, &sb) == -1)
		goto fail;
	if (sb.st_size > 16 * 1024 * 1024) {
		errno = EFBIG;
		goto fail;
	}
	if ((buf = malloc((size_t)sb.st_size + 1)) == NULL ||
	    st_pread_all(fd, buf, (size_t)sb.st_size, 0) == -1)
		goto fail;
	buf[sb.st_size] = '\0';
	for (p = buf; (nl = strchr(p, '\n')) != NULL; p = nl + 1) {
		*nl = '\0';
		if (*p == '\0')
			continue;
		if ((s = strdup(p)) == NULL)
			goto fail;
		if (name_list_push(&v, &n, &cap, s) == -1) {
			free(s);
			goto fail;
		}
	}
	free(buf);
	st_closefd(&fd);
	*v_r = v;
	*n_r = n;
	return 0;
fail:
	free(buf);
	st_closefd(&fd);
	name_list_free(v, n);
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
		if (st_pwrite_all(fd, v[i], len, off) == -1 ||
		    st_pwrite_all(fd, "\n", 1, off + (off_t)len) == -1)
			goto fail;
		off += (off_t)len + 1;
	}
	if (fsync(fd) == -1)
		goto fail;
	st_closefd(&fd);
	if (renameat(st->dirfd, "subscriptions.new", st->dirfd,
	    "subscriptions") == -1)
		return -1;
	return fsync(st->dirfd);
fail:
	st_closefd(&fd);
	return -1;
}

int
store_subscribe(struct store *st, const char *name, int on)
{
	char	**v = NULL, *s;
	size_t	 n = 0, i, cap;
	int	 ret = -1, found = 0;

	if (!name_ok(name)) {
		st_seterr(st, EINVAL, "SUBSCRIBE: invalid mailbox name");
		return -1;
	}
	if (ns_lock(st) == -1) {
		st_seterrno(st, "SUBSCRIBE");
		return -1;
	}
	if (subs_read(st, SUBS_FILE, &v, &n) == -1)
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
		if (name_list_push(&v, &n, &cap, s) == -1) {
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
		st_seterrno(st, "SUBSCRIBE");
	ns_unlock(st);
	name_list_free(v, n);
	return ret;
}

int
store_subscriptions(struct store *st, char ***names_r, size_t *n_r)
{
	if (subs_read(st, SUBS_FILE, names_r, n_r) == -1) {
		st_seterrno(st, "LSUB");
		return -1;
	}
	if (*n_r > 1)
		qsort(*names_r, *n_r, sizeof **names_r, name_cmp);
	return 0;
}

/*
 * An old store's subscriptions (modified UTF-7 as clients sent them) in
 * UTF-8. The old file is moved aside first and removed last, so an
 * upgrade cut short is done again from it. Caller holds the lock.
 */
static int
subs_upgrade(struct store *st)
{
	struct stat	 sb;
	char		**v, *name;
	size_t		 n, i;
	int		 r;

	if (fstatat(st->dirfd, SUBS_OLD, &sb, AT_SYMLINK_NOFOLLOW) == -1 &&
	    renameat(st->dirfd, SUBS_FILE, st->dirfd, SUBS_OLD) == -1)
		return errno == ENOENT ? 0 : -1;
	if (subs_read(st, SUBS_OLD, &v, &n) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		errno = 0;
		name = name_old(v[i]);
		free(v[i]);
		if ((v[i] = name) == NULL && errno == ENOMEM)
			break;	/* the rest are freed below */
	}
	r = i < n ? -1 : subs_write(st, v, n);
	name_list_free(v, n);
	if (r == -1 || unlinkat(st->dirfd, SUBS_OLD, 0) == -1)
		return -1;
	return fsync(st->dirfd);
}

/*
 * A store without UTF8_MARK was written by imapd before names were
 * UTF-8 (imapd-store(5), "how an old store is read"): its pending
 * RENAME, its mailbox directories and its subscriptions are converted,
 * then the mark is made. Every step can be done again, so a process that
 * dies midway leaves the rest to the next. Caller holds the lock.
 */
static int
names_upgrade(struct store *st, int fresh)
{
	if (faccessat(st->dirfd, UTF8_MARK, F_OK, AT_EACCESS) == 0)
		return 0;
	if (errno != ENOENT)
		return -1;
	if (!fresh && (rn_finish(st) == -1 || name_upgrade_dirs(st) == -1 ||
	    subs_upgrade(st) == -1))
		return -1;
	if (mkfile(st->dirfd, UTF8_MARK, "", 0) == -1 && errno != EEXIST)
		return -1;
	return fsync(st->dirfd);
}

/* STATUS reads every record: it is asked for counts of all of them. */
int
store_status(struct store *st, const char *name, struct mbstatus *s)
{
	struct wbox	 w;
	struct rec	*buf = NULL;
	uint32_t	 n, i, k, cnt, lastuid = 0;
	int		 ret = -1;

	memset(s, 0, sizeof *s);
	if (ix_wbox_open(st, name, F_RDLCK, &w) == -1) {
		st_seterrno(st, "STATUS");
		return -1;
	}
	/* The last record comes with the others: no read of its own. */
	if (ix_tail(w.ix->fd, 0, &n, NULL) == -1)
		goto fail;
	s->uidvalidity = w.h.uidvalidity;
	s->highestmodseq = w.h.highestmodseq;
	oid_mailbox(w.h.created_modseq, s->mailboxid);
	s->specialuse = w.h.specialuse & SU_ALL;
	if ((buf = buf_array(NULL, WIN_RECS, sizeof *buf)) == NULL)
		goto fail;
	for (i = 0; i < n; i += cnt) {
		cnt = n - i < WIN_RECS ? n - i : WIN_RECS;
		if (st_pread_all(w.ix->fd, buf, (size_t)cnt * sizeof *buf,
		    IX_HDRSIZE + (off_t)i * RECSIZE) == -1)
			goto fail;
		for (k = 0; k < cnt; k++) {
			const struct rec *r = &buf[k];

			lastuid = r->uid;
			if (r->flags & FL_EXPUNGED)
				continue;
			s->messages++;
			if (r->uid > w.h.recent_uid)
				s->recent++;
			if (!(r->flags & FL_SEEN))
				s->unseen++;
			if (r->flags & FL_DELETED)
				s->deleted++;
			s->size += r->size;
		}
	}
	s->uidnext = (lastuid > w.h.uidmax ? lastuid : w.h.uidmax) + 1;
	ret = 0;
fail:
	if (ret == -1)
		st_seterrno(st, "STATUS");
	free(buf);
	ix_wbox_close(st, &w);
	return ret;
}

/* The special uses of a mailbox (SU_*): from its index header. */
int
store_special_use(struct store *st, const char *name, uint32_t *use_r)
{
	struct wbox	 w;

	*use_r = 0;
	if (ix_wbox_open(st, name, F_RDLCK, &w) == -1) {
		st_seterrno(st, "LIST");
		return -1;
	}
	*use_r = w.h.specialuse & SU_ALL;
	ix_wbox_close(st, &w);
	return 0;
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
		st_closefd(&fd);
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
			name_rmtree(st->boxfd, de->d_name);
	}
	closedir(d);
	ns_unlock(st);
}

/*
 * The counter's floor (modseq_floor_fn): the largest HIGHESTMODSEQ,
 * UIDVALIDITY and EMAILID number of every mailbox directory, those
 * being created or deleted included. Headers are read without a lock;
 * one written meanwhile fails its sum and is read again. A header that
 * stays damaged belongs to a mailbox nobody can open, and is passed
 * over.
 */
static int
box_floor(void *arg, uint64_t *modseq_r, uint32_t *uidvalidity_r,
    uint32_t *emailid_r)
{
	struct store	*st = arg;
	struct ixhdr	 h;
	struct dirent	*de;
	DIR		*d;
	int		 fd, dfd, tries, r;

	*modseq_r = 0;
	*uidvalidity_r = 0;
	*emailid_r = 0;
	if ((d = name_boxdir(st)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0 ||
		    (dfd = openat(st->boxfd, de->d_name, O_RDONLY |
		    O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) == -1)
			continue;
		fd = openat(dfd, "index", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		st_closefd(&dfd);
		if (fd == -1)
			continue;
		for (tries = 0, r = -1; tries < 3 && r == -1; tries++)
			r = ix_hdr_read(fd, &h);
		st_closefd(&fd);
		if (r == -1)
			continue;
		if (h.highestmodseq > *modseq_r)
			*modseq_r = h.highestmodseq;
		if (h.uidvalidity > *uidvalidity_r)
			*uidvalidity_r = h.uidvalidity;
		if (h.emailmax > *emailid_r)
			*emailid_r = h.emailmax;
	}
	closedir(d);
	return 0;
}

/*
 * A new store starts with a mailbox for each special use a client files
 * messages into (RFC 6154 2), so that every client finds the same ones.
 */
static int
create_special(struct store *st)
{
	static const struct {
		const char	*name;
		uint32_t	 use;
	} boxes[] = {
		{ "Drafts", SU_DRAFTS }, { "Sent", SU_SENT },
		{ "Trash", SU_TRASH }, { "Junk", SU_JUNK },
		{ "Archive", SU_ARCHIVE }
	};
	size_t	 i;

	for (i = 0; i < sizeof boxes / sizeof boxes[0]; i++)
		if (create_locked(st, boxes[i].name, boxes[i].use) == -1 &&
		    errno != EEXIST)
			return -1;
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
	fresh = mkdirat(st->dirfd, "box", 0700) == 0;
	if (!fresh && errno != EEXIST)
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
	if (names_upgrade(st, fresh) == -1 ||
	    (create_locked(st, "INBOX", 0) == -1 && errno != EEXIST) ||
	    (fresh && create_special(st) == -1)) {
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
		st_closefd(&ix->fd);
		free(ix);
	}
	modseq_close(st->ctr);
	st_closefd(&st->nsfd);
	st_closefd(&st->boxfd);
	st_closefd(&st->dirfd);
	free(st);
}

const char *
store_error(const struct store *st)
{
	return st->err[0] != '\0' ? st->err : "unknown error";
}

int
store_errcode(const struct store *st)
{
	return st->errcode;
}

/*
 * Reading message bytes: into a buffer of the mailbox, grown to the
 * largest message read (data.G may be gigabytes; a map of it would show
 * as the resident size of a FETCH or SEARCH over every message).
 */
char *
st_buf_get(char **buf, size_t *cap, size_t need)
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

/* Reverse n values in place: ascending sequence numbers to descending. */
void
st_reverse_u32(uint32_t *v, size_t n)
{
	size_t		 i;
	uint32_t	 t;

	for (i = 0; i < n / 2; i++) {
		t = v[i];
		v[i] = v[n - 1 - i];
		v[n - 1 - i] = t;
	}
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Append x to the array *v of *n, grown as needed. */
int
st_u32_push(uint32_t **v, size_t *n, size_t *cap, uint32_t x)
{
	uint32_t	*nv;

	if ((nv = buf_grow(*v, cap, *n, sizeof *nv)) == NULL)
		return -1;
	*v = nv;
	(*v)[(*n)++] = x;
	return 0;
}

/* The first index of the ascending v[n] whose value is >= x. */
size_t
st_u32_lower(const uint32_t *v, size_t n, uint64_t x)
{
	size_t	 lo = 0, hi = n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (v[mid] < x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Sort v and drop repeats; the count left. */
size_t
st_u32_uniq(uint32_t *v, size_t n)
{
	size_t	 i, o = 0;

	if (n > 1)
		qsort(v, n, sizeof *v, cmp_u32);
	for (i = 0; i < n; i++)
		if (o == 0 || v[o - 1] != v[i])
			v[o++] = v[i];
	return o;
}

/* At a sync: a buffer grown by one large message need not stay. */
void
st_buf_trim(char **buf, size_t *cap)
{
	if (*cap > BUF_KEEP) {
		free(*buf);
		*buf = NULL;
		*cap = 0;
	}
}
