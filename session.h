/*
 * session.h: the state of the one session this process serves, and what
 * the session files share about it (session.c): its arguments, the
 * selected mailbox's records and flags, and the reporting of what other
 * processes changed.
 */
#ifndef SESSION_H
#define SESSION_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "parse.h"
#include "store.h"

#define CAPS_PRE	"IMAP4rev1 LITERAL+ ID SASL-IR AUTH=PLAIN"
#define CAPS_AUTH	"IMAP4rev1 LITERAL+ UIDPLUS UNSELECT IDLE ENABLE " \
	"CONDSTORE QRESYNC ESEARCH SEARCHRES MOVE MULTIAPPEND OBJECTID " \
	"SAVEDATE BINARY ID LIST-EXTENDED LIST-STATUS CHILDREN SPECIAL-USE " \
	"CREATE-SPECIAL-USE NAMESPACE STATUS=SIZE UTF8=ACCEPT"

enum { ST_NOAUTH = 1, ST_AUTH = 2, ST_SELECTED = 4 };

struct session {
	int		 state;
	const char	*pwfile;
	const char	*dir;
	size_t		 appendmax;
	char		*user;		/* as logged: log_esc()'d */
	struct store	*store;
	struct mailbox	*mb;
	int		 readonly;
	int		 uid;		/* the command came as UID <command> */
	int		 deleted_one;	/* this command deleted one */
	int		 appendok;	/* APPEND literals may be large */
	unsigned	 failures;	/* failed logins */
	int		 bye;		/* end the session after this reply */
	int		 condstore;	/* CONDSTORE enabled (RFC 7162 3.1) */
	int		 qresync;	/* QRESYNC enabled (RFC 7162 3.2) */
	int		 rev2;		/* IMAP4rev2 enabled (RFC 9051) */
	int		 utf8;		/* UTF-8 names: rev2 or UTF8=ACCEPT */
	uint64_t	 modseq_told;	/* highest FETCH MODSEQ since a report */
	struct timespec	 started;
	struct parser	*parser;
	char		*restext;	/* text of the command's reply */
	struct seqset	 saved;		/* "$": UID ranges (RFC 5182) */
};

extern struct session S;

size_t		 session_nargs(const struct arg *);
const char	*session_astring(const struct arg *);
char		*session_name_in(const char *wire);
char		*session_mailbox_arg(const struct arg *);
int		 session_mailbox_refused(void);
void		 session_out_mailbox(const char *name);
const struct rec *session_rec(uint32_t seq);
void		 session_keywords(const struct rec *, struct kwset *);
void		 session_out_flags(uint32_t seq);
void		 session_out_mailbox_flags(void);
void		 session_out_modseq(uint32_t seq);
void		 session_out_modseq_value(uint64_t);
void		 session_condstore(void);
int		 session_vanished(const uint32_t *uids, size_t n,
		    int earlier);
int		 session_vanished_since(uint64_t since,
		    const struct seqset *known);
int		 session_modseq_arg(const struct arg *, int zero_ok,
		    uint64_t *r);
int		 session_flag_args(const struct arg *, uint32_t *sys_r,
		    const char **kw, size_t *nkw_r);
int		 session_flag_error(int);
void		 session_report_changes(int allow_expunge);
void		 session_unselect(void);
uint32_t	 session_last_uid(void);
int		 session_seqs(const char *text, int uid, uint32_t **seqs_r,
		    size_t *n_r);
int		 session_uidset(const char *text, uint32_t star,
		    struct seqset *r);
size_t		 session_run_end(const uint32_t *v, size_t i, size_t n);
char		*session_uidset_text(const uint32_t *uids, size_t n);

#endif
