/*
 * modseq.h: the store-wide mod-sequence counter and UIDVALIDITY,
 * the per-mailbox change logs, and the one bounded lock wait (modseq.c).
 */
#ifndef MODSEQ_H
#define MODSEQ_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct counter;

/* One entry of a mailbox's change log. */
struct change {
	uint64_t	 modseq;
	uint32_t	 first;		/* record's index position */
	uint32_t	 count;		/* of consecutive records */
	uint32_t	 pid;		/* writer, to skip one's own */
	uint32_t	 type;		/* CHANGE_* */
};
/*
 * CHANGE_BASE is the log's first entry: first is the index generation
 * the log belongs to (low 32 bits), modseq its floor (every change above
 * it to a record of that index is in the log).
 */
enum { CHANGE_FLAGS = 1, CHANGE_EXPUNGE = 2, CHANGE_APPEND = 3,
	CHANGE_BASE = 4 };

/*
 * The largest HIGHESTMODSEQ, UIDVALIDITY and EMAILID number the store's
 * mailboxes hold, from which a lost or damaged counter is recovered (0s
 * for none).
 */
typedef int	 modseq_floor_fn(void *arg, uint64_t *modseq_r,
		    uint32_t *uidvalidity_r, uint32_t *emailid_r);

struct counter	*modseq_open(const char *dir, modseq_floor_fn *, void *arg);
void		 modseq_close(struct counter *);
uint64_t	 modseq_next(struct counter *);
uint32_t	 modseq_uidvalidity(struct counter *);
uint64_t	 modseq_next_ids(struct counter *, uint32_t n,
		    uint32_t *id_r);
int		 modseq_lock(int fd, short type, off_t byte, int wait);
int		 modseq_log(int fd, const struct change *, size_t n);
ssize_t		 modseq_read(int fd, off_t from, off_t to,
		    struct change **r);
void		 modseq_base(struct change *, uint64_t gen, uint64_t floor);
int		 modseq_base_ok(const struct change *, uint64_t gen);
int		 modseq_since(int fd, uint64_t gen, uint64_t since, size_t max,
		    struct change **r, size_t *n_r);

#endif
