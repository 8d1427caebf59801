/*
 * store.h: the mailbox store (store.c): index records, message
 * data, the view of a selected mailbox, keywords and the structure cache.
 * The file format is in imapd-store(5).
 */
#ifndef STORE_H
#define STORE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "imapd.h"
#include "parse.h"

/* System flags as stored; FL_EXPUNGED marks a tombstone. */
#define FL_SEEN		0x01
#define FL_ANSWERED	0x02
#define FL_FLAGGED	0x04
#define FL_DELETED	0x08
#define FL_DRAFT	0x10
#define FL_SYSTEM	0x1f
#define FL_KWMORE	0x4000	/* keywords past 63: in "kwmore" */
#define FL_EXPUNGED	0x8000

/*
 * The keywords of a message: bit i is keyword i of the mailbox. w[0] is
 * the record's field; the other words live in the file "kwmore" for the
 * records that have FL_KWMORE (imapd-store(5)).
 */
#define KW_WORDS	((KEYWORDS_MAX + 63) / 64)
struct kwset {
	uint64_t	 w[KW_WORDS];
};

static inline int
kwset_has(const struct kwset *ks, size_t bit)
{
	return (ks->w[bit / 64] >> (bit % 64)) & 1;
}

static inline void
kwset_add(struct kwset *ks, size_t bit)
{
	ks->w[bit / 64] |= (uint64_t)1 << (bit % 64);
}

/* One index record, 64 bytes, host byte order (see imapd-store(5)). */
struct rec {
	uint32_t	 uid;
	uint32_t	 flags;
	uint64_t	 keywords;	/* bit i: keyword i, i < 64 */
	uint64_t	 modseq;
	int64_t		 internaldate;
	uint64_t	 offset;	/* of the message in the data file */
	uint64_t	 size;
	/* low 32 bits: structure cache entry offset + 1; high: save date */
	uint64_t	 cache;
	uint32_t	 emailid;	/* 0: none (an older store's message) */
	uint32_t	 sum;		/* of the fields never rewritten */
};

struct store;
struct mailbox;

/* An OBJECTID (RFC 8474) as text, with its NUL, and its characters. */
#define OBJECTID_SIZE	40
#define OBJECTID_CHARS	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" \
			"0123456789_-"
/*
 * Special uses of a mailbox (RFC 6154 2), kept in its index header:
 * a RENAME moves them with the mailbox. \All and \Flagged would be
 * virtual mailboxes, which the store does not have.
 */
#define SU_ARCHIVE	0x01
#define SU_DRAFTS	0x02
#define SU_JUNK		0x04
#define SU_SENT		0x08
#define SU_TRASH	0x10
#define SU_ALL		0x1f

struct mbstatus {
	uint32_t	 messages, recent, unseen, deleted;
	uint32_t	 uidnext, uidvalidity;
	uint64_t	 highestmodseq, size;
	char		 mailboxid[OBJECTID_SIZE];
	uint32_t	 specialuse;	/* SU_* */
};

/* What another process changed, found by store_sync(). */
struct sync {
	uint32_t	*expunged;	/* sequence numbers, descending */
	uint32_t	*uids;		/* their UIDs, ascending */
	size_t		 nexpunged;
	uint32_t	*changed;	/* seq numbers whose flags changed */
	size_t		 nchanged;
	uint32_t	 exists, recent;
	int		 exists_changed;
	int		 keywords_changed;
	int		 deleted;	/* deleted by another process: news */
};

enum { STORE_SET, STORE_ADD, STORE_REMOVE };

struct store	*store_open(const char *dir);
void		 store_close(struct store *);
const char	*store_error(const struct store *);
/* the last failure's errno value (0: none), whatever errno is now */
int		 store_errcode(const struct store *);

int		 store_create(struct store *, const char *name);
int		 store_create_use(struct store *, const char *name,
		    uint32_t specialuse);
int		 store_special_use(struct store *, const char *name,
		    uint32_t *specialuse_r);
int		 store_delete(struct store *, const char *name);
int		 store_rename(struct store *, const char *from,
		    const char *to);
int		 store_list(struct store *, char ***names_r, size_t *n_r);
int		 store_subscribe(struct store *, const char *name, int on);
int		 store_subscriptions(struct store *, char ***names_r,
		    size_t *n_r);
void		 store_names_free(char **, size_t);
int		 store_status(struct store *, const char *name,
		    struct mbstatus *);
int		 store_append(struct store *, const char *name,
		    const char *msg, size_t len, uint32_t flags,
		    char **keywords, size_t nkeywords, time_t internaldate,
		    uint32_t *uidvalidity_r, uint32_t *uid_r);
/*
 * MULTIAPPEND (RFC 3502): n messages appended with one record write, so
 * every other process sees all of them or none; uids_r gets n UIDs.
 */
struct newmsg {
	const char	*p;
	size_t		 len;
	uint32_t	 flags;
	char		**keywords;
	size_t		 nkeywords;
	time_t		 date;
};
int		 store_append_n(struct store *, const char *name,
		    const struct newmsg *, size_t n, uint32_t *uidvalidity_r,
		    uint32_t *uids_r);
/* in store_append's flags: bare LF becomes CRLF as it is written */
#define STORE_CRLF	0x10000
size_t		 store_crlf_size(const char *, size_t len);

struct mailbox	*store_select(struct store *, const char *name,
		    int readonly);
void		 store_unselect(struct mailbox *);
uint32_t	 store_exists(const struct mailbox *);
uint32_t	 store_recent_count(const struct mailbox *);
uint32_t	 store_first_unseen(const struct mailbox *);
int		 store_is_recent(const struct mailbox *, uint32_t seq);
uint32_t	 store_uidvalidity(const struct mailbox *);
uint32_t	 store_uidnext(const struct mailbox *);
uint64_t	 store_highestmodseq(const struct mailbox *);
int		 store_held_modseq(struct mailbox *, uint64_t *low_r);
const struct rec *store_rec(const struct mailbox *, uint32_t seq);
/* the first message whose UID is at least uid; store_exists + 1 if none */
/* the keywords of a record of the selected mailbox (store_rec's) */
int		 store_rec_keywords(const struct mailbox *, const struct rec *,
		    struct kwset *);
uint32_t	 store_seq_at_uid(const struct mailbox *, uint32_t uid);
const char	*store_data(struct mailbox *, uint32_t seq, size_t max,
		    size_t *len_r);
const char	*store_cache_get(struct mailbox *, uint32_t seq,
		    size_t *len_r);
int		 store_cache_put(struct mailbox *, uint32_t seq,
		    const char *, size_t);
size_t		 store_nkeywords(const struct mailbox *);
const char	*store_keyword_name(const struct mailbox *, size_t);
int		 store_keyword(struct mailbox *, const char *name,
		    int create);
int		 store_sync(struct mailbox *, int allow_expunge,
		    struct sync *);
/* 1: store_sync may find changes; 0: nothing moved (no lock taken) */
int		 store_changed(struct mailbox *);
/* 1: another process deleted the mailbox (store_sync reported it) */
int		 store_deleted(const struct mailbox *);
/* IDLE: a descriptor that turns readable at another process's change */
int		 store_idle_begin(struct mailbox *);
void		 store_idle_end(struct mailbox *);
void		 store_sync_free(struct sync *);
int		 store_flags(struct mailbox *, const uint32_t *seqs,
		    size_t n, int mode, uint32_t flags,
		    const struct kwset *keywords);
/*
 * only where MODSEQ <= max (RFC 7162 3.1.3); failed[i] (if not NULL) is
 * STORE_FAILED where not, STORE_GHOST where another process expunged it
 */
#define STORE_FAILED	1
#define STORE_GHOST	2
#define STORE_ALWAYS	UINT64_MAX
int		 store_flags_if(struct mailbox *, const uint32_t *seqs,
		    size_t n, int mode, uint32_t flags,
		    const struct kwset *keywords, uint64_t max,
		    uint8_t *failed);
/* *seqs_r descending; *uids_r (if uids_r is not NULL) their UIDs, ascending */
int		 store_expunge(struct mailbox *, const struct seqset *uids,
		    uint32_t **seqs_r, size_t *n_r, uint32_t **uids_r);
/*
 * QRESYNC: the view's messages whose MODSEQ is above since, as ascending
 * sequence numbers (a new array, NULL when none).
 */
int		 store_changed_since(struct mailbox *, uint64_t since,
		    uint32_t **seqs_r, size_t *n_r);
/*
 * UIDs expunged at a MODSEQ above since (RFC 7162 3.2.5, 3.2.6),
 * ascending, none of them in the view (a message another session
 * expunged that this session still shows is not vanished for it yet).
 */
int		 store_vanished(struct mailbox *, uint64_t since,
		    uint32_t **uids_r, size_t *n_r);
/*
 * OBJECTID (RFC 8474) and SAVEDATE (RFC 8514), objectid.c: the
 * MAILBOXID of a selected mailbox, a message's EMAILID, and its save
 * date (-1: none recorded, a message of an older store).
 */
void		 store_mailboxid(const struct mailbox *, char *buf_r);
void		 store_emailid(const struct mailbox *, const struct rec *,
		    char *buf_r);
int64_t		 store_savedate(const struct rec *);
int		 store_copy(struct mailbox *, const uint32_t *seqs,
		    size_t n, const char *dest, uint32_t *uidvalidity_r,
		    uint32_t *uids_r);
/*
 * MOVE (RFC 6851): the live messages of seqs (ascending) copied to dest
 * and expunged here, under both mailboxes' write locks. Ghosts (expunged
 * by another process) are left out and counted. src and dst: the moved
 * messages' UIDs here and there, n of them; seqs (descending) and uids
 * as store_expunge's. Every array is the caller's to free.
 */
struct moved {
	uint32_t	 uidvalidity;	/* dest's */
	uint32_t	*src, *dst;
	size_t		 n, ghosts;
	uint32_t	*seqs, *uids;
	size_t		 nx;
};
int		 store_move(struct mailbox *, const uint32_t *seqs, size_t n,
		    const char *dest, struct moved *);

#endif
