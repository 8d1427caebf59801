/*
 * modseq.c: the store-wide mod-sequence counter and the change logs.
 *
 * DIR/counter holds one 64-byte header (host byte order):
 *
 *	0	magic "IMAPDCT1"
 *	8	uint64 next		the next mod-sequence to hand out
 *	16	uint64 ceiling		no value >= ceiling was
 *					ever handed out
 *	24	uint32 last_uidvalidity
 *	28	padding
 *	32	uint64 email_next	the next EMAILID number (0: 1)
 *	40	uint64 email_ceiling	no number >= it was handed out
 *	48	padding
 *
 * Record locks on the file (see imapd-store(5)):
 *	byte 0	exclusive while a value is taken (microseconds)
 *	byte 1	shared by every process that has the store open
 *	byte 2	exclusive during a namespace change (taken by store.c)
 *
 * "next" is written on every call but only fsynced when the ceiling
 * moves: after a power loss the first process to open the store (the one
 * that gets byte 1 exclusively) jumps next to the ceiling, so no value
 * that may have been handed out is ever handed out again (RFC 7162
 * section 3.1.2 wants mod-sequences to only grow). EMAILID numbers (RFC
 * 8474 5.1) are taken the same way from email_next and email_ceiling,
 * which a counter older than them has as 0.
 *
 * The file itself can be lost or damaged (deleted, cut short, zeroed,
 * replaced by an old copy). Then the values are recovered from the
 * mailboxes, through the store's floor function: past the largest
 * HIGHESTMODSEQ, UIDVALIDITY and EMAILID number in use, plus CT_MARGIN
 * for values that running processes took and had not yet written. A
 * damaged header is recovered under byte 0 (so two processes cannot
 * recover differently), a stale one by the process that opens the store
 * alone; a process whose file was deleted or renamed over takes nothing
 * more from it.
 */

#include <sys/types.h>
#include <sys/stat.h>
#include <sys/time.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "imapd.h"
#include "modseq.h"

#define CT_MAGIC	"IMAPDCT1"
#define CT_HDRSIZE	64
#define CT_STEP		4096	/* values per fsync of the ceiling */
/*
 * The same for EMAILID numbers, smaller: they have 32 bits, and every
 * process that opens the store alone (a delivery, often) skips what is
 * left below the ceiling.
 */
#define CT_EMAIL_STEP	64
#define CT_MARGIN	65536	/* added to values recovered from mailboxes */

enum { CT_BYTE_TAKE = 0, CT_BYTE_ALIVE = 1 };

struct ctrhdr {
	char		 magic[8];
	uint64_t	 next;
	uint64_t	 ceiling;
	uint32_t	 last_uidvalidity;
	uint32_t	 pad0;
	uint64_t	 email_next;
	uint64_t	 email_ceiling;
	unsigned char	 pad[CT_HDRSIZE - 48];
};
_Static_assert(sizeof(struct ctrhdr) == CT_HDRSIZE, "counter header size");

struct counter {
	int		 fd;
	modseq_floor_fn	*floor;		/* largest values in use */
	void		*arg;
};

/* SIGALRM only interrupts a waiting F_SETLKW (EINTR); nothing else. */
static void
lock_alarm(int sig)
{
	(void)sig;
}

static int
lock_past(const struct timespec *end)
{
	struct timespec	 now;

	if (clock_gettime(CLOCK_MONOTONIC, &now) == -1)
		return 1;
	return now.tv_sec > end->tv_sec || (now.tv_sec == end->tv_sec &&
	    now.tv_nsec >= end->tv_nsec);
}

/*
 * Wait in F_SETLKW, which returns as soon as the lock is granted, under
 * an interval timer whose SIGALRM (installed without SA_RESTART) makes
 * it fail with EINTR. The timer first fires at the deadline, then every
 * 10 ms, so a signal that lands just before F_SETLKW is entered is
 * followed by another one. EDEADLK (the kernel saw a cycle of waiters)
 * backs off 1 ms and tries again, as F_SETLK retries used to.
 */
static int
lock_wait(int fd, struct flock *fl, const struct timespec *end)
{
	struct sigaction	 sa, osa;
	struct itimerval	 it, oit;
	struct timespec		 now, nap = { 0, 1000000 };
	int			 r, e;

	if (clock_gettime(CLOCK_MONOTONIC, &now) == -1)
		return -1;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = lock_alarm;
	sigemptyset(&sa.sa_mask);
	memset(&it, 0, sizeof it);
	it.it_value.tv_sec = end->tv_sec - now.tv_sec;
	it.it_value.tv_usec = (end->tv_nsec - now.tv_nsec) / 1000;
	if (it.it_value.tv_usec < 0) {
		it.it_value.tv_sec--;
		it.it_value.tv_usec += 1000000;
	}
	if (it.it_value.tv_sec < 0 || (it.it_value.tv_sec == 0 &&
	    it.it_value.tv_usec == 0))
		it.it_value.tv_usec = 1;
	it.it_interval.tv_usec = 10000;
	if (sigaction(SIGALRM, &sa, &osa) == -1)
		return -1;
	if (setitimer(ITIMER_REAL, &it, &oit) == -1) {
		e = errno;
		sigaction(SIGALRM, &osa, NULL);
		errno = e;
		return -1;
	}
	for (;;) {
		if ((r = fcntl(fd, F_SETLKW, fl)) == 0)
			break;
		if (errno != EINTR && errno != EDEADLK)
			break;
		if (lock_past(end)) {
			errno = ETIMEDOUT;
			break;
		}
		if (errno == EDEADLK)
			nanosleep(&nap, NULL);
	}
	e = errno;
	setitimer(ITIMER_REAL, &oit, NULL);
	sigaction(SIGALRM, &osa, NULL);
	errno = e;
	return r;
}

/*
 * Take (or release) a one-byte record lock. A plain F_SETLKW could wait
 * forever behind a stuck process, so the wait is bounded: after
 * LOCK_WAIT_SECS errno is ETIMEDOUT (the command then answers NO). The
 * store's mailbox locks are taken the same way. Waiting in the kernel,
 * not in sleeps between F_SETLK tries, hands the lock over the moment it
 * is free: with 50 processes on one mailbox the sleeps (up to 4 ms each)
 * made most of a command's time, and a sleeper could lose the lock to a
 * stream of others again and again.
 */
int
modseq_lock(int fd, short type, off_t byte, int wait)
{
	struct flock	 fl;
	struct timespec	 end;

	memset(&fl, 0, sizeof fl);
	fl.l_type = type;
	fl.l_whence = SEEK_SET;
	fl.l_start = byte;
	fl.l_len = 1;
	if (fcntl(fd, F_SETLK, &fl) == 0)
		return 0;
	if (errno != EAGAIN && errno != EACCES && errno != EINTR)
		return -1;
	if (!wait) {
		errno = EAGAIN;
		return -1;
	}
	if (clock_gettime(CLOCK_MONOTONIC, &end) == -1)
		return -1;
	end.tv_sec += LOCK_WAIT_SECS;
	return lock_wait(fd, &fl, &end);
}

static int
ct_write(int fd, const struct ctrhdr *h)
{
	ssize_t	 n;

	n = pwrite(fd, h, sizeof *h, 0);
	if (n == -1)
		return -1;
	if (n != (ssize_t)sizeof *h) {
		errno = EIO;
		return -1;
	}
	return 0;
}

/*
 * Raise h past the values the mailboxes use, if it is not already: the
 * file was lost, damaged or replaced by an old copy. Returns 1 if h
 * changed, 0 if not, -1 on error.
 */
static int
ct_floor(struct counter *c, struct ctrhdr *h)
{
	uint64_t	 ms = 0;
	uint32_t	 uv = 0, em = 0;
	int		 changed = 0;

	if (c->floor(c->arg, &ms, &uv, &em) == -1)
		return -1;
	if (em > 0 && h->email_next <= em) {
		h->email_next = h->email_ceiling = (uint64_t)em + CT_MARGIN;
		changed = 1;
	}
	if (ms > 0 && h->next <= ms) {
		if (ms >= ((uint64_t)1 << 63) - CT_MARGIN) {
			errno = EOVERFLOW;
			return -1;
		}
		h->next = h->ceiling = ms + CT_MARGIN;
		changed = 1;
	}
	if (uv > 0 && h->last_uidvalidity < uv) {
		h->last_uidvalidity = uv < UINT32_MAX - CT_MARGIN ?
		    uv + CT_MARGIN : UINT32_MAX;
		changed = 1;
	}
	return changed;
}

/* A header that was never written, or cannot have been written by us. */
static int
ct_damaged(const struct ctrhdr *h)
{
	return memcmp(h->magic, CT_MAGIC, 8) != 0 || h->next == 0 ||
	    h->next > h->ceiling || h->email_next > h->email_ceiling;
}

/*
 * Read the header, checking that the file is still the store's counter
 * (a process that kept a deleted one would hand out values nobody else
 * sees). A header that is short or damaged is made again from the
 * mailboxes; the caller holds byte 0 or byte 1 exclusively, so only one
 * process does it and the others read its result.
 */
static int
ct_get(struct counter *c, struct ctrhdr *h)
{
	struct stat	 sb;
	ssize_t		 n;

	if (fstat(c->fd, &sb) == -1)
		return -1;
	if (sb.st_nlink == 0) {
		errno = ESTALE;
		return -1;
	}
	if ((n = pread(c->fd, h, sizeof *h, 0)) == -1)
		return -1;
	if (n == (ssize_t)sizeof *h && !ct_damaged(h))
		return 0;
	/* New, torn, or damaged: nothing is known but the mailboxes. */
	memset(h, 0, sizeof *h);
	memcpy(h->magic, CT_MAGIC, 8);
	h->next = h->ceiling = 1;
	if (ct_floor(c, h) == -1 || ct_write(c->fd, h) == -1 ||
	    fsync(c->fd) == -1)
		return -1;
	return 0;
}

/*
 * We hold byte 1 exclusively: no other process has the store open, so
 * the last one may have died with a power loss and an unsynced "next".
 * Jump to the ceiling, and past the mailboxes' values in case the file
 * is an old copy. A new file gets its header here too.
 */
static int
ct_recover(struct counter *c)
{
	struct ctrhdr	 h;

	if (ct_get(c, &h) == -1)
		return -1;
	if (h.next < h.ceiling)
		h.next = h.ceiling;
	if (h.email_next < h.email_ceiling)
		h.email_next = h.email_ceiling;
	if (ct_floor(c, &h) == -1)
		return -1;
	if (ct_write(c->fd, &h) == -1 || fsync(c->fd) == -1)
		return -1;
	return 0;
}

/* Take byte 0 and read the header into h. */
static int
ct_begin(struct counter *c, struct ctrhdr *h)
{
	int	 e;

	if (modseq_lock(c->fd, F_WRLCK, CT_BYTE_TAKE, 1) == -1)
		return -1;
	if (ct_get(c, h) == -1) {
		e = errno;
		modseq_lock(c->fd, F_UNLCK, CT_BYTE_TAKE, 0);
		errno = e;
		return -1;
	}
	return 0;
}

struct counter *
modseq_open(const char *dir, modseq_floor_fn *floor, void *arg)
{
	struct counter	*c;
	struct ctrhdr	 h;
	struct timespec	 nap = { 0, 1000000 };
	char		 path[PATH_MAX];
	int		 r, tries;

	r = snprintf(path, sizeof path, "%s/counter", dir);
	if (r < 0 || (size_t)r >= sizeof path) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	if ((c = malloc(sizeof *c)) == NULL)
		return NULL;
	c->floor = floor;
	c->arg = arg;
	if ((c->fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
	    0600)) == -1)
		goto fail;
	/*
	 * Alone: recover, then downgrade to shared (one F_SETLK converts the
	 * lock atomically). Not alone: a shared lock is enough, and waiting
	 * for it also waits out a recovery running in another process; a
	 * header damaged meanwhile is recovered under byte 0 (ct_begin).
	 */
	for (tries = 0; ; tries++) {
		if (modseq_lock(c->fd, F_WRLCK, CT_BYTE_ALIVE, 0) == 0) {
			if (ct_recover(c) == -1)
				goto fail;
			if (modseq_lock(c->fd, F_RDLCK, CT_BYTE_ALIVE, 0) == -1)
				goto fail;
			break;
		}
		if (modseq_lock(c->fd, F_RDLCK, CT_BYTE_ALIVE, 0) == 0) {
			if (ct_begin(c, &h) == -1)
				goto fail;
			modseq_lock(c->fd, F_UNLCK, CT_BYTE_TAKE, 0);
			break;
		}
		if (tries >= LOCK_WAIT_SECS * 1000) {
			errno = ETIMEDOUT;
			goto fail;
		}
		nanosleep(&nap, NULL);
	}
	return c;
fail:
	r = errno;
	if (c->fd != -1)
		close(c->fd);
	free(c);
	errno = r;
	return NULL;
}

void
modseq_close(struct counter *c)
{
	if (c == NULL)
		return;
	close(c->fd);	/* drops every lock this process has on the file */
	free(c);
}

/*
 * Take n values of one sequence of h (mod-sequences, or EMAILID numbers
 * if email): the first is returned (next, or 1 while next is 0), 0 with
 * EOVERFLOW when the ceiling would pass limit. Only h changes: *sync_r
 * is set when the ceiling moved, which must be on disk before any value
 * below it is handed out.
 */
static uint64_t
ct_take(struct ctrhdr *h, int email, uint64_t n, uint64_t limit,
    int *sync_r)
{
	uint64_t	*next = email ? &h->email_next : &h->next;
	uint64_t	*ceiling = email ? &h->email_ceiling : &h->ceiling;
	uint64_t	 step = email ? CT_EMAIL_STEP : CT_STEP;
	uint64_t	 v = *next > 0 ? *next : 1;

	if (n > limit - step || v > limit - step - n) {
		errno = EOVERFLOW;
		return 0;
	}
	if (v + n > *ceiling) {
		*ceiling = v + n + step;
		*sync_r = 1;
	}
	*next = v + n;
	return v;
}

/*
 * One mod-sequence and n EMAILID numbers (RFC 8474 5.1) never handed out
 * before in the store, under one hold of byte 0; the first number in
 * *id_r if n > 0. They fit the record's 32 bits: past them every new
 * message fails (EOVERFLOW). A moved ceiling is written and synced
 * first, with the old next values. Returns the mod-sequence, or 0 (never
 * a valid one) with errno.
 */
uint64_t
modseq_next_ids(struct counter *c, uint32_t n, uint32_t *id_r)
{
	struct ctrhdr	 h, old;
	uint64_t	 v, id = 0;
	int		 sync = 0, e;

	if (ct_begin(c, &h) == -1)
		return 0;
	old = h;
	/* RFC 7162 3.1: mod-sequences are 63-bit; EMAILIDs have 32 bits. */
	if ((v = ct_take(&h, 0, 1, (uint64_t)1 << 63, &sync)) == 0 ||
	    (n > 0 && (id = ct_take(&h, 1, n, (uint64_t)UINT32_MAX + 1,
	    &sync)) == 0))
		v = 0;
	if (v != 0 && sync) {
		old.ceiling = h.ceiling;
		old.email_ceiling = h.email_ceiling;
		if (ct_write(c->fd, &old) == -1 || fdatasync(c->fd) == -1)
			v = 0;
	}
	if (v != 0 && ct_write(c->fd, &h) == -1)
		v = 0;
	if (id_r != NULL)
		*id_r = (uint32_t)id;
	e = errno;
	modseq_lock(c->fd, F_UNLCK, CT_BYTE_TAKE, 0);
	errno = e;
	return v;
}

/* Returns the next mod-sequence, or 0 (never a valid one) with errno. */
uint64_t
modseq_next(struct counter *c)
{
	return modseq_next_ids(c, 0, NULL);
}

/*
 * A UIDVALIDITY unique across the store (RFC 3501 section 2.3.1.1): a
 * mailbox re-created under an old name never gets an old value. Returns
 * 0 with errno on failure.
 */
uint32_t
modseq_uidvalidity(struct counter *c)
{
	struct ctrhdr	 h;
	uint32_t	 v = 0;
	time_t		 now;
	int		 e;

	if (ct_begin(c, &h) == -1)
		return 0;
	now = time(NULL);
	v = now > 0 && (uint64_t)now < UINT32_MAX ? (uint32_t)now : 1;
	if (v <= h.last_uidvalidity) {
		if (h.last_uidvalidity == UINT32_MAX) {
			errno = EOVERFLOW;
			v = 0;
			goto out;
		}
		v = h.last_uidvalidity + 1;
	}
	h.last_uidvalidity = v;
	if (ct_write(c->fd, &h) == -1 || fdatasync(c->fd) == -1)
		v = 0;
out:
	e = errno;
	modseq_lock(c->fd, F_UNLCK, CT_BYTE_TAKE, 0);
	errno = e;
	return v;
}

/*
 * Append n change records, synced, with one write(2) to an O_APPEND log. The
 * caller holds the mailbox's write lock, so a partial record left by a
 * writer that died is cut off first; otherwise every later record would
 * be misaligned.
 */
int
modseq_log(int fd, const struct change *ch, size_t n)
{
	struct stat	 sb;
	size_t		 len;
	ssize_t		 w;

	if (n == 0)
		return 0;
	if (n > SIZE_MAX / sizeof *ch) {
		errno = EOVERFLOW;
		return -1;
	}
	if (fstat(fd, &sb) == -1)
		return -1;
	if (sb.st_size % (off_t)sizeof *ch != 0 && ftruncate(fd,
	    sb.st_size - sb.st_size % (off_t)sizeof *ch) == -1)
		return -1;
	len = n * sizeof *ch;
	w = write(fd, ch, len);
	if (w == -1)
		return -1;
	if ((size_t)w != len) {
		errno = EIO;
		return -1;
	}
	/*
	 * On disk before the records it names: a change whose record
	 * survives a power cut is in the log, which answers CHANGEDSINCE
	 * and QRESYNC.
	 */
	return fdatasync(fd);
}

/*
 * Read the complete records in [from, to) into a new array *r (NULL when
 * there are none). A partial record at the end is left for later.
 */
ssize_t
modseq_read(int fd, off_t from, off_t to, struct change **r)
{
	struct change	*a;
	size_t		 n, len, got = 0;
	ssize_t		 k;

	*r = NULL;
	if (from < 0 || to <= from)
		return 0;
	if ((uintmax_t)(to - from) > SIZE_MAX) {
		errno = EOVERFLOW;
		return -1;
	}
	n = (size_t)(to - from) / sizeof *a;
	if (n == 0)
		return 0;
	if (n > (size_t)SSIZE_MAX / sizeof *a) {
		errno = EOVERFLOW;
		return -1;
	}
	len = n * sizeof *a;
	if ((a = malloc(len)) == NULL)
		return -1;
	while (got < len) {
		k = pread(fd, (char *)a + got, len - got, from + (off_t)got);
		if (k == -1) {
			if (errno == EINTR)
				continue;
			free(a);
			return -1;
		}
		if (k == 0)
			break;
		got += (size_t)k;
	}
	n = got / sizeof *a;
	if (n == 0) {
		free(a);
		return 0;
	}
	*r = a;
	return (ssize_t)n;
}

/* The first entry of a log for index generation gen, with its floor. */
void
modseq_base(struct change *c, uint64_t gen, uint64_t floor)
{
	memset(c, 0, sizeof *c);
	c->modseq = floor;
	c->first = (uint32_t)gen;
	c->type = CHANGE_BASE;
}

int
modseq_base_ok(const struct change *c, uint64_t gen)
{
	return c->type == CHANGE_BASE && c->first == (uint32_t)gen &&
	    c->count == 0;
}

/* The entry at position i of the log fd. */
static int
log_entry(int fd, off_t i, struct change *c)
{
	ssize_t	 k;

	while ((k = pread(fd, c, sizeof *c, i * (off_t)sizeof *c)) == -1)
		if (errno != EINTR)
			return -1;
	if (k != (ssize_t)sizeof *c) {
		errno = EIO;
		return -1;
	}
	return 0;
}

/*
 * The entries of the log fd above mod-sequence since, found by a binary
 * search (a log's entries are in MODSEQ order: each is written under
 * the index's write lock with a value taken under it). 1: *r and *n_r
 * hold them; 0: the log cannot answer, because it is not the log of
 * index generation gen, since is below its floor, or more than max
 * entries follow (a scan of the records is then as cheap); -1: error.
 * The caller holds the index's byte 0, so no entry is half-written.
 */
int
modseq_since(int fd, uint64_t gen, uint64_t since, size_t max,
    struct change **r, size_t *n_r)
{
	struct change	 c;
	struct stat	 sb;
	off_t		 lo = 1, hi, mid;
	ssize_t		 n;

	*r = NULL;
	*n_r = 0;
	if (fstat(fd, &sb) == -1)
		return -1;
	if ((hi = sb.st_size / (off_t)sizeof c) == 0)
		return 0;
	if (log_entry(fd, 0, &c) == -1)
		return -1;
	if (!modseq_base_ok(&c, gen) || since < c.modseq)
		return 0;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (log_entry(fd, mid, &c) == -1)
			return -1;
		if (c.modseq <= since)
			lo = mid + 1;
		else
			hi = mid;
	}
	hi = sb.st_size / (off_t)sizeof c;
	if ((uintmax_t)(hi - lo) > max)
		return 0;
	if ((n = modseq_read(fd, lo * (off_t)sizeof c, hi * (off_t)sizeof c,
	    r)) == -1)
		return -1;
	*n_r = (size_t)n;
	return 1;
}
