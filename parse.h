/*
 * parse.h: the IMAP grammar (parse.c): a resumable tokenizer that
 * does no I/O, and the value parsers (sequence sets, numbers, dates,
 * mailbox names, header field lists).
 */
#ifndef PARSE_H
#define PARSE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

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
		    size_t append_max, size_t cmd_max);
void		 parse_free(struct parser *);
void		 parse_reset(struct parser *);
void		 parse_set_utf8(struct parser *, int on);
int		 parse_feed(struct parser *, const char *, size_t,
		    size_t *used_r);
const char	*parse_tag(const struct parser *);
struct arg	*parse_args(const struct parser *);
const char	*parse_error(const struct parser *);
/*
 * Every byte of a command is wiped when the parser is done with it, so
 * a password lives no longer than its command; imapd.c uses it too.
 */

/*
 * A range of a sequence set. The bounds are 64-bit so that "*" (SEQ_STAR
 * until parse_seqset_resolve) is no number a client can write: 4294967295
 * is a number like any other (RFC 3501 section 9, seq-number).
 */
struct seqrange {
	uint64_t	 lo, hi;
};
#define SEQ_STAR	UINT64_MAX

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

#endif
