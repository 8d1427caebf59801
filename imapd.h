/*
 * imapd.h: what every module shares: every cap on what a client controls,
 * the timeouts, the lock wait, and the exit codes. Each module's
 * interface is in a header of its own (parse.h, store.h, modseq.h,
 * mime.h, buf.h, date.h and the session's headers).
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
 * LITERAL_MAX caps a literal outside APPEND. CMD_MAX_NOAUTH caps the
 * whole of one command, text and literals, before login; after it the
 * whole is at most LINE_MAX_IMAP more than the literal cap.
 */
#define LINE_MAX_IMAP		(64 * 1024)
#define LITERAL_MAX		(64 * 1024)
#define CMD_MAX_NOAUTH		(64 * 1024)
#define APPEND_MAX_DEFAULT	(64UL * 1024 * 1024)
#define APPEND_MSGS_MAX		1000	/* messages in one APPEND (RFC 3502) */
#define PAREN_DEPTH_MAX		32
#define ARGS_MAX		10000	/* tokens in one command */
#define SEQSET_MAX		10000	/* ranges in one sequence set */
#define KEYWORDS_MAX		1000	/* user keywords per mailbox */
#define KEYWORD_LEN_MAX		1000	/* bytes in a keyword's name */
#define LOCK_WAIT_SECS		10	/* then the command gets NO */
#define CHLOG_KEEP		4096	/* change log entries a compaction */
					/* keeps, plus one per 4 messages */
#define MIME_DEPTH_MAX		100	/* nested multipart/message */
#define MIME_PARTS_MAX		2000	/* parts in one message */
#define PARAMS_MAX		64	/* parameters in one MIME field */
#define NAME_LEN_MAX		1000	/* bytes in a decoded mailbox name */
#define LIST_PATTERNS_MAX	100	/* patterns in one LIST (RFC 5258) */
#define SEARCH_DEPTH_MAX	100	/* nested SEARCH keys */
/* RFC 2971 3.3: what a client's ID list may hold. */
#define ID_PAIRS_MAX		30
#define ID_FIELD_MAX		30	/* octets in a field name */
#define ID_VALUE_MAX		1024	/* octets in a value */
#define LOGIN_FAILURES_MAX	3	/* per connection, then BYE */
#define AUTH_RESPONSE_MAX	2047	/* base64 bytes of one SASL response */

/* Time to log in, counted from the start; then the client gets BYE. */
#define TIMEOUT_PREAUTH_MS	(60 * 1000)
/* RFC 3501 5.4: at least 30 minutes once authenticated. */
#define TIMEOUT_AUTH_MS		(30 * 60 * 1000)
/*
 * IDLE looks at the selected mailbox when a writer pokes its FIFO, and
 * also this often; every IDLE_POLL_MS when it has no FIFO (idle.c).
 */
#define IDLE_WAKE_MS		5000
#define IDLE_POLL_MS		50

/* Exit codes (qmail and skalibs habit; sysexits for delivery). */
#define EXIT_PERM	100
#define EXIT_TEMP	111
#define EX_DATAERR_	65
#define EX_TEMPFAIL_	75

#endif
