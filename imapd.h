/*
 * imapd.h: the interfaces between the four modules (MIME: mime.h).
 *
 *   imapd.c   the session: I/O, state, command table and command handlers
 *   parse.c   the IMAP grammar: a resumable tokenizer and value parsers
 *   store.c   mailbox files, their records and their locks
 *   modseq.c  the store-wide mod-sequence counter and the change logs
 */
#ifndef IMAPD_H
#define IMAPD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

/*
 * Caps on what a client controls (RFC 2683 section 3.2.1.5 asks for
 * >= 8000). LINE_MAX_IMAP counts command text, literals excluded;
 * LITERAL_MAX caps a literal outside APPEND.
 */
#define LINE_MAX_IMAP		(64 * 1024)
#define LITERAL_MAX		(64 * 1024)
#define APPEND_MAX_DEFAULT	(64UL * 1024 * 1024)
#define PAREN_DEPTH_MAX		32
#define ARGS_MAX		10000	/* tokens in one command */
#define SEQSET_MAX		10000	/* ranges in one sequence set */
#define KEYWORDS_MAX		64	/* user keywords per mailbox */
#define LOCK_WAIT_SECS		10	/* then the command gets NO */

/* Exit codes (qmail and skalibs habit; sysexits for delivery). */
#define EXIT_PERM	100
#define EXIT_TEMP	111
#define EX_DATAERR_	65
#define EX_TEMPFAIL_	75

/* ---------------------------------------------------------------- parse.c */

enum argtype { ARG_ATOM, ARG_STRING, ARG_LIST };

/*
 * One token of a command. ATOM text may include a bracketed part with
 * spaces and parentheses ("BODY[HEADER.FIELDS (A B)]<0.10>"), kept raw.
 * STRING is a quoted string (unescaped) or a literal. Text is always
 * NUL-terminated; len is the real length (a literal may hold NULs).
 */
struct arg {
	enum argtype	 type;
	int		 literal;	/* STRING came as a literal */
	char		*s;
	size_t		 len;
	struct arg	*child;		/* LIST: first element */
	struct arg	*next;		/* next sibling or NULL */
};

enum {
	PARSE_MORE,	/* all input consumed, the command is not complete */
	PARSE_DONE,	/* command complete: parse_tag(), parse_args() */
	PARSE_LITERAL,	/* synchronizing literal announced: send "+" */
	PARSE_BAD,	/* reject the command with parse_error(), go on */
	PARSE_FATAL	/* the stream cannot be resynchronized: BYE */
};

struct parser;

struct parser	*parse_new(size_t line_max, size_t literal_max,
		    size_t append_max);
void		 parse_free(struct parser *);
void		 parse_reset(struct parser *);
int		 parse_feed(struct parser *, const char *, size_t,
		    size_t *used_r);
const char	*parse_tag(const struct parser *);
struct arg	*parse_args(const struct parser *);
const char	*parse_error(const struct parser *);

struct seqrange {
	uint32_t	 lo, hi;	/* hi == SEQ_STAR for "*" */
};
#define SEQ_STAR	UINT32_MAX

struct seqset {
	struct seqrange	*r;
	size_t		 n;
};

int	 parse_seqset(const char *, struct seqset *r);
void	 parse_seqset_resolve(struct seqset *, uint32_t max);
int	 parse_seqset_has(const struct seqset *, uint32_t);
void	 parse_seqset_free(struct seqset *);
int	 parse_number(const char *, uint32_t *r);
int	 parse_number64(const char *, uint64_t *r);
int	 parse_date(const char *, time_t *r);
int	 parse_datetime(const char *, time_t *r);
int	 parse_mailbox_name(const char *, char **r);
int	 parse_is_atom(const char *, size_t);
int	 parse_keyword_is(const struct arg *, const char *);
int	 parse_section_fields(const char *, char ***names_r, size_t *n_r);

/* ---------------------------------------------------------------- store.c */

/* System flags as stored; FL_EXPUNGED marks a tombstone. */
#define FL_SEEN		0x01
#define FL_ANSWERED	0x02
#define FL_FLAGGED	0x04
#define FL_DELETED	0x08
#define FL_DRAFT	0x10
#define FL_SYSTEM	0x1f
#define FL_EXPUNGED	0x8000

/* One index record, 64 bytes, host byte order (see imapd-store(5)). */
struct rec {
	uint32_t	 uid;
	uint32_t	 flags;
	uint64_t	 keywords;	/* bit i: keyword i of the mailbox */
	uint64_t	 modseq;
	int64_t		 internaldate;
	uint64_t	 offset;	/* of the message in the data file */
	uint64_t	 size;
	uint64_t	 reserved;
	uint32_t	 reserved2;
	uint32_t	 sum;		/* checksum of bytes 0-59 */
};

struct store;
struct mailbox;

struct mbstatus {
	uint32_t	 messages, recent, unseen, uidnext, uidvalidity;
	uint64_t	 highestmodseq, size;
};

/* What another process changed, found by store_sync(). */
struct sync {
	uint32_t	*expunged;	/* sequence numbers, descending */
	size_t		 nexpunged;
	uint32_t	*changed;	/* seq numbers whose flags changed */
	size_t		 nchanged;
	uint32_t	 exists, recent;
	int		 exists_changed;
	int		 keywords_changed;
	int		 deleted;	/* the mailbox was deleted */
};

enum { STORE_SET, STORE_ADD, STORE_REMOVE };

struct store	*store_open(const char *dir);
void		 store_close(struct store *);
const char	*store_error(const struct store *);

int		 store_create(struct store *, const char *name);
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
const struct rec *store_rec(const struct mailbox *, uint32_t seq);
/* the first message whose UID is at least uid; store_exists + 1 if none */
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
void		 store_sync_free(struct sync *);
int		 store_flags(struct mailbox *, const uint32_t *seqs,
		    size_t n, int mode, uint32_t flags, uint64_t keywords);
int		 store_expunge(struct mailbox *, const struct seqset *uids,
		    uint32_t **seqs_r, size_t *n_r);
int		 store_copy(struct mailbox *, const uint32_t *seqs,
		    size_t n, const char *dest, uint32_t *uidvalidity_r,
		    uint32_t *uids_r);

/* --------------------------------------------------------------- modseq.c */

struct counter;

/* One entry of a mailbox's change log. */
struct change {
	uint64_t	 modseq;
	uint32_t	 first;		/* record's index position */
	uint32_t	 count;		/* of consecutive records */
	uint32_t	 pid;		/* writer, to skip one's own */
	uint32_t	 type;		/* CHANGE_FLAGS, CHANGE_EXPUNGE */
};
enum { CHANGE_FLAGS = 1, CHANGE_EXPUNGE = 2 };

struct counter	*modseq_open(const char *dir);
void		 modseq_close(struct counter *);
uint64_t	 modseq_next(struct counter *);
uint32_t	 modseq_uidvalidity(struct counter *);
int		 modseq_lock(int fd, short type, off_t byte, int wait);
int		 modseq_log(int fd, const struct change *, size_t n);
ssize_t		 modseq_read(int fd, off_t from, off_t to,
		    struct change **r);

#endif
