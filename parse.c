/*
 * parse.c: the IMAP grammar (RFC 3501 section 9, RFC 9051 section 9).
 *
 * The tokenizer is a resumable state machine that never does I/O: the
 * session feeds it whatever bytes it read and learns whether a command is
 * complete, needs more input, wants a continuation request for a literal,
 * or has to be rejected.  Feeding one byte at a time gives exactly the
 * same results as feeding a whole buffer, because every decision depends
 * only on the state and the current byte.
 *
 * The states, with the byte classes that move between them:
 *
 *   TAG --SP--> BETWEEN --atom char--> ATOM --'['--> BRACKET <--> BRQUOTED
 *                  |  ^                  |  SP ) CR LF: token ends
 *                  |  +------------------+
 *                  +--'"'--> QUOTED <--> QESC
 *                  +--'{'--> LIT --LF--> LITDATA (n bytes) --> BETWEEN
 *                  +--'~'--> TILDE --'{'--> LIT, else ATOM
 *                  +--CR--> CR --LF--> command done
 *   any error --> SKIP (to the line end, skipping {n+} literals) --> BAD
 *
 * Beside the states runs a small detector that watches every byte of
 * command text for "{digits}" or "{digits+}" right before the line end.
 * It gives the literal size to LIT, and it lets SKIP stay in step with a
 * client that is sending a command we have already rejected.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "date.h"
#include "imapd.h"
#include "parse.h"
#include "utf7.h"

enum pstate {
	PS_TAG,		/* reading the tag */
	PS_EMPTYCR,	/* CR at the start of a line: an empty line? */
	PS_BETWEEN,	/* between tokens */
	PS_CR,		/* CR at the end of a line, LF expected */
	PS_ATOM,
	PS_BRACKET,	/* inside [...] of an atom */
	PS_BRQUOTED,	/* a quoted string inside [...] */
	PS_BRQESC,	/* a backslash inside that quoted string */
	PS_QUOTED,
	PS_QESC,
	PS_TILDE,	/* '~': literal8 or an atom */
	PS_LIT,		/* "{" seen, up to the line end */
	PS_LITDATA,	/* the bytes of a literal */
	PS_SKIP,	/* rejected: skipping to the end of the command */
	PS_SKIPLIT,	/* skipping a {n+} literal of a rejected command */
	PS_END,		/* result returned; reset before going on */
	PS_FATAL
};

/* The literal detector's states: "{", digits, "+", "}", "}" CR. */
enum litdet { LD_NONE, LD_OPEN, LD_DIGITS, LD_PLUS, LD_CLOSE, LD_CLOSECR };

/* Step results beside the PARSE_* codes. */
enum { ST_NEXT = 100, ST_AGAIN };

struct parser {
	size_t		 line_max, literal_max, append_max, cmd_max;
	enum pstate	 state;
	struct buf	 tag;
	int		 tagbad;
	struct buf	 tok;		/* token text read so far */
	struct arg	*args;
	/* per open list */
	struct arg	**tail[PAREN_DEPTH_MAX + 1];
	int		 depth;
	int		 need_sep;	/* a token just ended */
	int		 brdepth;
	int		 append;	/* the command is APPEND */
	int		 lit8;
	int		 utf8;	/* quoted strings must be UTF-8 */
	size_t		 nargs;
	size_t		 linelen;	/* command text, no literals */
	uint64_t	 litbytes;	/* literal bytes, skipped ones too */
	struct arg	*lit;		/* literal being filled */
	size_t		 litgot;
	enum litdet	 ld;
	uint64_t	 ldn;		/* saturating literal size */
	int		 ldplus;
	uint64_t	 skipn;
	const char	*error;
};

static const char E_NOTAG[] = "BAD Missing tag";
static const char E_TAG[] = "BAD Invalid tag";
static const char E_NOCMD[] = "BAD Missing command";
static const char E_LONG[] = "BAD Command line too long";
static const char E_CMDLONG[] = "BAD Command too long";
static const char E_CHAR[] = "BAD Invalid character";
static const char E_SEP[] = "BAD Missing space between arguments";
static const char E_CR[] = "BAD CR not followed by LF";
static const char E_QUOTED[] = "BAD Invalid character in quoted string";
static const char E_ESCAPE[] = "BAD Invalid escape in quoted string";
static const char E_BRACKET[] = "BAD Line ends inside brackets";
static const char E_LIT[] = "BAD Invalid literal";
static const char E_TOOBIG[] = "BAD Literal too big";
static const char E_TOOBIG_APPEND[] = "NO [TOOBIG] Literal too big";
/* The text of the untagged BYE for PARSE_FATAL (RFC 7888 section 4). */
static const char E_FATAL[] = "[TOOBIG] Literal too big";
static const char E_FATAL_CMD[] = "[TOOBIG] Command too long";
static const char E_OPEN[] = "BAD Missing )";
static const char E_CLOSE[] = "BAD Unexpected )";
static const char E_DEPTH[] = "BAD Lists nested too deeply";
static const char E_ARGS[] = "BAD Too many arguments";
static const char E_NOMEM[] = "BAD Out of memory";
static const char E_UTF8[] = "BAD Invalid UTF-8 in quoted string";

/* The text of a LIST token: lists have no text of their own. */
static char empty_text[1];

static int
lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* ASCII-only case-insensitive comparison, independent of the locale. */
static int
eq_nocase(const char *a, size_t alen, const char *b)
{
	size_t	 i;

	if (alen != strlen(b))
		return 0;
	for (i = 0; i < alen; i++)
		if (lower((unsigned char)a[i]) != lower((unsigned char)b[i]))
			return 0;
	return 1;
}

/* RFC 3501 ATOM-CHAR: CHAR except atom-specials. */
static int
is_atom_char(unsigned char c)
{
	if (c <= 0x20 || c >= 0x7f)
		return 0;
	return strchr("(){%*\"\\]", c) == NULL;
}

/* tag = 1*<any ASTRING-CHAR except "+"> (ASTRING-CHAR adds ']'). */
static int
is_tag_char(unsigned char c)
{
	return c != '+' && (c == ']' || is_atom_char(c));
}

/*
 * Atoms in commands are read leniently: besides ATOM-CHAR they may hold
 * '\' (flags), '%' and '*' (LIST patterns, sequence sets), ']' and 8-bit
 * bytes.  What ends or cannot be in one: SP, CTL, DEL, ( ) { and '"'.
 */
static int
is_cmd_atom_char(unsigned char c)
{
	if (c <= 0x20 || c == 0x7f)
		return 0;
	return c != '(' && c != ')' && c != '{' && c != '"';
}

static void
free_args(struct arg *a)
{
	struct arg	*next;

	for (; a != NULL; a = next) {
		next = a->next;
		free_args(a->child);
		if (a->type != ARG_LIST && a->s != NULL) {
			buf_wipe(a->s, a->len);	/* LOGIN's password */
			free(a->s);
		}
		free(a);
	}
}

/* Enter SKIP; the caller's byte is looked at again in that state. */
static int
fail(struct parser *p, const char *msg)
{
	if (p->state == PS_TAG || p->state == PS_EMPTYCR)
		p->tagbad = 1;
	p->error = msg;
	p->state = PS_SKIP;
	return ST_AGAIN;
}

static uint64_t
lit_limit(const struct parser *p)
{
	return p->append ? p->append_max : p->literal_max;
}

/*
 * The cap on the whole command, text and literals together: cmd_max,
 * and no more than one literal's worth past the text cap, so that no
 * number of literals in one command holds more than one limit.  A
 * literal read or skipped stays counted until the command ends.
 */
static uint64_t
cmd_limit(const struct parser *p)
{
	uint64_t	 lim = (uint64_t)p->line_max + lit_limit(p);

	return lim < p->cmd_max ? lim : p->cmd_max;
}

/* What is left of it for the next literal. */
static uint64_t
cmd_room(const struct parser *p)
{
	uint64_t	 used = p->linelen + p->litbytes;

	return used >= cmd_limit(p) ? 0 : cmd_limit(p) - used;
}

/*
 * Watch command text for a literal announcement at the line end.  The
 * size saturates instead of overflowing: anything that large is over
 * every limit anyway.  A LF leaves the state for its handler to read.
 */
static void
detect(struct parser *p, unsigned char c)
{
	unsigned	 d;

	switch (c) {
	case '{':
		p->ld = LD_OPEN;
		p->ldn = 0;
		p->ldplus = 0;
		return;
	case '+':
		p->ld = p->ld == LD_DIGITS ? LD_PLUS : LD_NONE;
		return;
	case '}':
		if (p->ld == LD_DIGITS || p->ld == LD_PLUS) {
			p->ldplus = p->ld == LD_PLUS;
			p->ld = LD_CLOSE;
		} else
			p->ld = LD_NONE;
		return;
	case '\r':
		p->ld = p->ld == LD_CLOSE ? LD_CLOSECR : LD_NONE;
		return;
	case '\n':
		return;
	}
	if (c >= '0' && c <= '9' && (p->ld == LD_OPEN || p->ld == LD_DIGITS)) {
		d = c - '0';
		if (p->ldn > (UINT64_MAX - d) / 10)
			p->ldn = UINT64_MAX;
		else
			p->ldn = p->ldn * 10 + d;
		p->ld = LD_DIGITS;
		return;
	}
	p->ld = LD_NONE;
}

/* Link a new token at the end of the innermost open list. */
static struct arg *
add_arg(struct parser *p, enum argtype type)
{
	struct arg	*a;

	if (p->nargs >= ARGS_MAX) {
		p->error = E_ARGS;
		return NULL;
	}
	if ((a = calloc(1, sizeof *a)) == NULL) {
		p->error = E_NOMEM;
		return NULL;
	}
	a->type = type;
	*p->tail[p->depth] = a;
	p->tail[p->depth] = &a->next;
	p->nargs++;
	return a;
}

/*
 * Empty the token buffer, wiping what it held (a LOGIN password, say):
 * the buffer never moves (parse_new), so no other copy is left.
 */
static void
tok_clear(struct parser *p)
{
	if (p->tok.p != NULL)
		buf_wipe(p->tok.p, p->tok.len);
	buf_reset(&p->tok);
}

/* Turn the text collected in tok into a token. */
static int
end_token(struct parser *p, enum argtype type)
{
	struct arg	*a;
	const char	*s;

	if ((a = add_arg(p, type)) == NULL)
		return fail(p, p->error);
	s = p->tok.len > 0 ? p->tok.p : "";
	if ((a->s = malloc(p->tok.len + 1)) == NULL)
		return fail(p, E_NOMEM);
	memcpy(a->s, s, p->tok.len + 1);
	a->len = p->tok.len;
	/* The first token names the command; APPEND has its own limit. */
	if (p->nargs == 1)
		p->append = eq_nocase(a->s, a->len, "APPEND");
	tok_clear(p);
	p->need_sep = 1;
	p->state = PS_BETWEEN;
	return ST_NEXT;
}

static int
add_tok(struct parser *p, char c)
{
	if (buf_addc(&p->tok, c) == -1)
		return fail(p, E_NOMEM);
	return ST_NEXT;
}

static int
line_end(struct parser *p)
{
	if (p->nargs == 0)
		return fail(p, E_NOCMD);
	if (p->depth > 0)
		return fail(p, E_OPEN);
	p->state = PS_END;
	return PARSE_DONE;
}

static int
open_list(struct parser *p)
{
	struct arg	*a;

	if (p->depth >= PAREN_DEPTH_MAX)
		return fail(p, E_DEPTH);
	if ((a = add_arg(p, ARG_LIST)) == NULL)
		return fail(p, p->error);
	a->s = empty_text;
	p->depth++;
	p->tail[p->depth] = &a->child;
	p->need_sep = 0;
	return ST_NEXT;
}

static void
end_literal(struct parser *p)
{
	p->lit->s[p->lit->len] = '\0';
	p->lit = NULL;
	p->need_sep = 1;
	p->state = PS_BETWEEN;
}

/*
 * "{n}" or "{n+}" CRLF has been read.  The literal's storage is
 * allocated once, at the announced size, after the size was checked.
 */
static int
announce(struct parser *p)
{
	struct arg	*a;

	if (p->ldn > lit_limit(p))
		return fail(p, p->append ? E_TOOBIG_APPEND : E_TOOBIG);
	if (p->ldn > cmd_room(p))
		return fail(p, p->append ? E_TOOBIG_APPEND : E_CMDLONG);
	if ((a = add_arg(p, ARG_STRING)) == NULL)
		return fail(p, p->error);
	a->literal = p->lit8 ? 2 : 1;
	if (p->ldn >= SIZE_MAX || (a->s = malloc(p->ldn + 1)) == NULL)
		return fail(p, E_NOMEM);
	a->len = p->ldn;
	p->lit = a;
	p->litbytes += p->ldn;
	p->litgot = 0;
	p->state = PS_LITDATA;
	if (a->len == 0)
		end_literal(p);
	/* RFC 7888: only a synchronizing literal waits for "+". */
	return p->ldplus ? ST_NEXT : PARSE_LITERAL;
}

/* A token begins (or a list ends, or the line ends) at c. */
static int
step_between(struct parser *p, unsigned char c)
{
	switch (c) {
	case ' ':
		p->need_sep = 0;
		return ST_NEXT;
	case '\r':
		p->state = PS_CR;
		return ST_NEXT;
	case '\n':
		return line_end(p);
	case ')':
		if (p->depth == 0)
			return fail(p, E_CLOSE);
		p->depth--;
		p->need_sep = 1;
		return ST_NEXT;
	}
	if (p->need_sep)
		return fail(p, E_SEP);
	/* The command name is an atom (RFC 3501: command names are atoms). */
	if (p->nargs == 0 && !is_cmd_atom_char(c))
		return fail(p, E_NOCMD);
	tok_clear(p);
	switch (c) {
	case '(':
		return open_list(p);
	case '"':
		p->state = PS_QUOTED;
		return ST_NEXT;
	case '{':
		p->lit8 = 0;
		p->state = PS_LIT;
		return ST_NEXT;
	case '~':
		if (p->nargs == 0)
			break;
		p->state = PS_TILDE;
		return add_tok(p, (char)c);
	}
	if (!is_cmd_atom_char(c))
		return fail(p, E_CHAR);
	p->state = PS_ATOM;
	return ST_AGAIN;
}

/*
 * Only a fetch attribute's section is bracketed and may hold SP ( ) and
 * quotes (RFC 3501 section 9, RFC 3516 section 4); elsewhere '[' is an
 * ATOM-CHAR like any other ("CREATE x[y").
 */
static int
opens_section(const struct parser *p)
{
	static const char *const atts[] = { "BODY", "BODY.PEEK", "BINARY",
	    "BINARY.PEEK", "BINARY.SIZE" };
	size_t	 i;

	for (i = 0; i < sizeof atts / sizeof atts[0]; i++)
		if (eq_nocase(p->tok.p, p->tok.len, atts[i]))
			return 1;
	return 0;
}

static int
step_atom(struct parser *p, unsigned char c)
{
	if (c == '[' && opens_section(p)) {
		p->brdepth = 1;
		p->state = PS_BRACKET;
		return add_tok(p, (char)c);
	}
	if (is_cmd_atom_char(c))
		return add_tok(p, (char)c);
	if (c == ' ' || c == ')' || c == '\r' || c == '\n') {
		/* The atom ends; c is looked at again by BETWEEN (or SKIP). */
		(void)end_token(p, ARG_ATOM);
		return ST_AGAIN;
	}
	return fail(p, E_CHAR);
}

/* A section spec runs to the matching ']' and may hold SP ( ) and "". */
static int
step_bracket(struct parser *p, unsigned char c)
{
	if (c == '\r' || c == '\n' || c == '\0')
		return fail(p, E_BRACKET);
	switch (p->state) {
	case PS_BRACKET:
		if (c == '"')
			p->state = PS_BRQUOTED;
		else if (c == '[')
			p->brdepth++;
		else if (c == ']' && --p->brdepth == 0)
			p->state = PS_ATOM;
		break;
	case PS_BRQUOTED:
		if (c == '\\')
			p->state = PS_BRQESC;
		else if (c == '"')
			p->state = PS_BRACKET;
		break;
	default:
		p->state = PS_BRQUOTED;
		break;
	}
	return add_tok(p, (char)c);
}

static int
step_quoted(struct parser *p, unsigned char c)
{
	if (c == '\r' || c == '\n' || c == '\0')
		return fail(p, E_QUOTED);
	if (p->state == PS_QESC) {
		/* RFC 3501 quoted-specials are the only escapes. */
		if (c != '"' && c != '\\')
			return fail(p, E_ESCAPE);
		p->state = PS_QUOTED;
		return add_tok(p, (char)c);
	}
	if (c == '\\') {
		p->state = PS_QESC;
		return ST_NEXT;
	}
	if (c == '"') {
		/* RFC 6855 3: once UTF-8 is enabled, bad UTF-8 is BAD. */
		if (p->utf8 && !utf8_valid(p->tok.p ? p->tok.p : "",
		    p->tok.len))
			return fail(p, E_UTF8);
		return end_token(p, ARG_STRING);
	}
	return add_tok(p, (char)c);
}

/* After '{': the detector has the digits; the line must end after '}'. */
static int
step_lit(struct parser *p, unsigned char c)
{
	if (c == '\n') {
		if (p->ld == LD_CLOSE || p->ld == LD_CLOSECR)
			return announce(p);
		return fail(p, E_LIT);
	}
	if (c == '{' || p->ld == LD_NONE)
		return fail(p, E_LIT);
	return ST_NEXT;
}

/*
 * Skip the rest of a rejected command.  A {n+} literal at the line end
 * is already on its way, so its bytes are skipped and the command goes
 * on, unless it is over a cap: skipping it all would only let the
 * client keep the process busy, so the session ends with BYE (RFC 7888
 * section 4, choice 2).  A {n} literal is not sent before our "+", so
 * the command ends.
 */
static int
step_skip(struct parser *p, unsigned char c)
{
	if (c != '\n')
		return ST_NEXT;
	if ((p->ld == LD_CLOSE || p->ld == LD_CLOSECR) && p->ldplus) {
		if (p->ldn > lit_limit(p) || p->ldn > cmd_room(p)) {
			p->error = E_FATAL_CMD;
			if (p->ldn > lit_limit(p))
				p->error = E_FATAL;
			p->state = PS_FATAL;
			return PARSE_FATAL;
		}
		p->skipn = p->ldn;
		p->litbytes += p->ldn;
		if (p->skipn > 0)
			p->state = PS_SKIPLIT;
		return ST_NEXT;
	}
	p->state = PS_END;
	return PARSE_BAD;
}

static int
step_tag(struct parser *p, unsigned char c)
{
	if (is_tag_char(c)) {
		if (buf_addc(&p->tag, (char)c) == -1)
			return fail(p, E_NOMEM);
		return ST_NEXT;
	}
	if (p->tag.len == 0) {
		/* An empty line is ignored. */
		if (c == '\n')
			return ST_NEXT;
		if (c == '\r') {
			p->state = PS_EMPTYCR;
			return ST_NEXT;
		}
		return fail(p, c == ' ' ? E_NOTAG : E_TAG);
	}
	if (c == ' ') {
		p->state = PS_BETWEEN;
		p->need_sep = 0;
		return ST_NEXT;
	}
	if (c == '\r' || c == '\n') {
		p->state = PS_BETWEEN;
		return fail(p, E_NOCMD);
	}
	return fail(p, E_TAG);
}

static int
step(struct parser *p, unsigned char c)
{
	switch (p->state) {
	case PS_TAG:
		return step_tag(p, c);
	case PS_EMPTYCR:
		if (c != '\n')
			return fail(p, E_TAG);
		p->state = PS_TAG;
		return ST_NEXT;
	case PS_BETWEEN:
		return step_between(p, c);
	case PS_CR:
		if (c != '\n')
			return fail(p, E_CR);
		return line_end(p);
	case PS_ATOM:
		return step_atom(p, c);
	case PS_BRACKET:
	case PS_BRQUOTED:
	case PS_BRQESC:
		return step_bracket(p, c);
	case PS_QUOTED:
	case PS_QESC:
		return step_quoted(p, c);
	case PS_TILDE:
		if (c == '{') {
			p->lit8 = 1;
			tok_clear(p);
			p->state = PS_LIT;
			return ST_NEXT;
		}
		p->state = PS_ATOM;
		return ST_AGAIN;
	case PS_LIT:
		return step_lit(p, c);
	case PS_SKIP:
		return step_skip(p, c);
	default:
		/* LITDATA, SKIPLIT, END and FATAL are handled by parse_feed. */
		return ST_NEXT;
	}
}

/* Copy (or skip) literal bytes in bulk; returns how many were taken. */
static size_t
take_literal(struct parser *p, const char *buf, size_t len)
{
	size_t	 n;

	if (p->state == PS_SKIPLIT) {
		n = p->skipn < len ? p->skipn : len;
		p->skipn -= n;
		if (p->skipn == 0)
			p->state = PS_SKIP;
		return n;
	}
	n = p->lit->len - p->litgot;
	if (n > len)
		n = len;
	memcpy(p->lit->s + p->litgot, buf, n);
	p->litgot += n;
	if (p->litgot == p->lit->len)
		end_literal(p);
	return n;
}

int
parse_feed(struct parser *p, const char *buf, size_t len, size_t *used_r)
{
	size_t		 i = 0;
	unsigned char	 c;
	int		 r;

	if (p->state == PS_END)
		parse_reset(p);
	if (p->state == PS_FATAL) {
		*used_r = 0;
		return PARSE_FATAL;
	}
	while (i < len) {
		if (p->state == PS_LITDATA || p->state == PS_SKIPLIT) {
			i += take_literal(p, buf + i, len - i);
			continue;
		}
		c = (unsigned char)buf[i++];
		detect(p, c);
		r = ST_AGAIN;
		/* Line ends do not count against the cap on command text. */
		if (c != '\r' && c != '\n' && p->state != PS_SKIP &&
		    ++p->linelen > p->line_max)
			r = fail(p, E_LONG);
		else if (p->state != PS_SKIP && c != '\r' && c != '\n' &&
		    p->linelen + p->litbytes > cmd_limit(p))
			r = fail(p, E_CMDLONG);
		while (r == ST_AGAIN)
			r = step(p, c);
		if (c == '\n')
			p->ld = LD_NONE;
		if (r != ST_NEXT) {
			*used_r = i;
			return r;
		}
	}
	*used_r = i;
	return PARSE_MORE;
}

void
parse_reset(struct parser *p)
{
	free_args(p->args);
	p->args = NULL;
	p->tail[0] = &p->args;
	p->depth = 0;
	p->nargs = 0;
	buf_reset(&p->tag);
	p->tagbad = 0;
	tok_clear(p);
	p->state = PS_TAG;
	p->need_sep = 0;
	p->brdepth = 0;
	p->append = 0;
	p->lit8 = 0;
	p->linelen = 0;
	p->litbytes = 0;
	p->lit = NULL;
	p->litgot = 0;
	p->ld = LD_NONE;
	p->ldn = 0;
	p->ldplus = 0;
	p->skipn = 0;
	p->error = NULL;
}

/* Quoted strings are checked as UTF-8 from the next command on. */
void
parse_set_utf8(struct parser *p, int on)
{
	p->utf8 = on;
}

struct parser *
parse_new(size_t line_max, size_t literal_max, size_t append_max,
    size_t cmd_max)
{
	struct parser	*p;

	if ((p = calloc(1, sizeof *p)) == NULL)
		return NULL;
	p->line_max = line_max;
	p->literal_max = literal_max;
	p->append_max = append_max;
	p->cmd_max = cmd_max;
	/*
	 * A token (a LOGIN password, say) is never longer than the line:
	 * with all its room at once the buffer never moves, so it leaves no
	 * copy behind, and tok_clear wipes it.
	 */
	if (buf_reserve(&p->tok, line_max) == -1) {
		free(p);
		return NULL;
	}
	parse_reset(p);
	return p;
}

void
parse_free(struct parser *p)
{
	if (p == NULL)
		return;
	free_args(p->args);
	buf_free(&p->tag);
	tok_clear(p);
	buf_free(&p->tok);
	free(p);
}

const char *
parse_tag(const struct parser *p)
{
	if (p->tagbad || p->tag.len == 0)
		return "*";
	return p->tag.p;
}

struct arg *
parse_args(const struct parser *p)
{
	return p->args;
}

const char *
parse_error(const struct parser *p)
{
	return p->error != NULL ? p->error : "";
}

/* ------------------------------------------------------------ values */

/* nz-number or "*" (RFC 3501 seq-number); advances *sp. */
static int
seq_number(const char **sp, uint64_t *r)
{
	const char	*s = *sp;
	uint32_t	 v = 0;
	unsigned	 d;

	if (*s == '*') {
		*r = SEQ_STAR;
		*sp = s + 1;
		return 0;
	}
	if (*s < '1' || *s > '9')
		return -1;
	for (; *s >= '0' && *s <= '9'; s++) {
		d = *s - '0';
		if (v > (UINT32_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*r = v;
	*sp = s;
	return 0;
}

int
parse_seqset(const char *s, struct seqset *r)
{
	const char	*q;
	size_t		 n = 1;
	struct seqrange	*v;

	r->r = NULL;
	r->n = 0;
	for (q = s; *q != '\0'; q++)
		if (*q == ',' && ++n > SEQSET_MAX)
			return -1;
	if ((v = calloc(n, sizeof *v)) == NULL)
		return -1;
	for (n = 0;; s++) {
		if (seq_number(&s, &v[n].lo) == -1)
			goto fail;
		v[n].hi = v[n].lo;
		if (*s == ':') {
			s++;
			if (seq_number(&s, &v[n].hi) == -1)
				goto fail;
		}
		n++;
		if (*s == '\0')
			break;
		if (*s != ',')
			goto fail;
	}
	r->r = v;
	r->n = n;
	return 0;
fail:
	free(v);
	return -1;
}

static int
range_cmp(const void *a, const void *b)
{
	const struct seqrange	*x = a, *y = b;

	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	return 0;
}

/*
 * "*" means the largest number in use (RFC 3501 section 9, seq-number),
 * and a:b equals b:a.  Sorted and merged, the set can be binary searched.
 */
void
parse_seqset_resolve(struct seqset *set, uint32_t max)
{
	struct seqrange	*v = set->r, t;
	size_t		 i, n;

	if (set->n == 0)
		return;
	for (i = 0; i < set->n; i++) {
		if (v[i].lo == SEQ_STAR)
			v[i].lo = max;
		if (v[i].hi == SEQ_STAR)
			v[i].hi = max;
		if (v[i].lo > v[i].hi) {
			t = v[i];
			v[i].lo = t.hi;
			v[i].hi = t.lo;
		}
	}
	qsort(v, set->n, sizeof *v, range_cmp);
	for (n = 0, i = 1; i < set->n; i++) {
		/* Overlapping or adjacent; hi + 1 cannot overflow in 64 bits. */
		if (v[i].lo <= v[n].hi + 1) {
			if (v[i].hi > v[n].hi)
				v[n].hi = v[i].hi;
		} else
			v[++n] = v[i];
	}
	set->n = n + 1;
}

int
parse_seqset_has(const struct seqset *set, uint32_t x)
{
	size_t	 lo = 0, hi = set->n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (x < set->r[mid].lo)
			hi = mid;
		else if (x > set->r[mid].hi)
			lo = mid + 1;
		else
			return 1;
	}
	return 0;
}

void
parse_seqset_free(struct seqset *set)
{
	free(set->r);
	set->r = NULL;
	set->n = 0;
}

static int
number(const char *s, uint64_t max, uint64_t *r)
{
	uint64_t	 v = 0;
	unsigned	 d;

	if (*s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		d = *s - '0';
		if (v > (max - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*r = v;
	return 0;
}

int
parse_number(const char *s, uint32_t *r)
{
	uint64_t	 v;

	if (number(s, UINT32_MAX, &v) == -1)
		return -1;
	*r = (uint32_t)v;
	return 0;
}

int
parse_number64(const char *s, uint64_t *r)
{
	return number(s, INT64_MAX, r);
}

/* Exactly n digits; advances *sp. */
static int
digits(const char **sp, int n, int *r)
{
	const char	*s = *sp;
	int		 v = 0;

	for (; n > 0; n--, s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (*s - '0');
	}
	*r = v;
	*sp = s;
	return 0;
}

/* "Mon-yyyy" after the day: date-month "-" date-year; advances *sp. */
static int
month_year(const char **sp, int day, int64_t *days_r)
{
	const char	*s = *sp;
	int		 m, y;

	if (*s++ != '-' || (m = date_month(s)) == 0)
		return -1;
	s += 3;
	if (*s++ != '-' || digits(&s, 4, &y) == -1)
		return -1;
	if (day < 1 || day > date_month_days(y, m))
		return -1;
	*days_r = date_days(y, m, day);
	*sp = s;
	return 0;
}

/* date-text = date-day "-" date-month "-" date-year (RFC 3501 section 9). */
int
parse_date(const char *s, time_t *r)
{
	int	 day;
	int64_t	 days;

	if (digits(&s, 1, &day) == -1)
		return -1;
	if (*s >= '0' && *s <= '9')
		day = day * 10 + (*s++ - '0');
	if (month_year(&s, day, &days) == -1 || *s != '\0')
		return -1;
	*r = (time_t)(days * 86400);
	return 0;
}

/*
 * date-time = DQUOTE date-day-fixed "-" date-month "-" date-year
 *             SP time SP zone DQUOTE (RFC 3501 section 9), without the
 * quotes.  date-day-fixed is (SP DIGIT) / 2DIGIT.
 */
int
parse_datetime(const char *s, time_t *r)
{
	int	 day, h, m, sec, zh, zm, sign;
	int64_t	 days, t;

	if (*s == ' ') {
		s++;
		if (digits(&s, 1, &day) == -1)
			return -1;
	} else if (digits(&s, 2, &day) == -1)
		return -1;
	if (month_year(&s, day, &days) == -1 || *s++ != ' ')
		return -1;
	if (digits(&s, 2, &h) == -1 || *s++ != ':' ||
	    digits(&s, 2, &m) == -1 || *s++ != ':' ||
	    digits(&s, 2, &sec) == -1 || *s++ != ' ')
		return -1;
	/* A leap second (60) is let through; it lands on the next second. */
	if (h > 23 || m > 59 || sec > 60)
		return -1;
	if (*s != '+' && *s != '-')
		return -1;
	sign = *s++ == '-' ? -1 : 1;
	if (digits(&s, 2, &zh) == -1 || digits(&s, 2, &zm) == -1 ||
	    *s != '\0' || zm > 59)
		return -1;
	/* The zone is local minus UTC, so UTC = local - zone. */
	t = days * 86400 + h * 3600 + m * 60 + sec;
	t -= sign * (zh * 3600 + zm * 60);
	*r = (time_t)t;
	return 0;
}

/* One hierarchy level must not be empty, "." or "..". */
static int
bad_component(const char *s, size_t len)
{
	return len == 0 || (len == 1 && s[0] == '.') ||
	    (len == 2 && s[0] == '.' && s[1] == '.');
}

/*
 * A character no mailbox name may hold: the wildcards of LIST, and what
 * RFC 6855 section 3 excludes (C0 and C1 controls, DEL, U+2028, U+2029).
 */
static int
bad_name_char(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x2028 ||
	    cp == 0x2029 || cp == '%' || cp == '*';
}

/*
 * Mailbox names in the store's canonical form, UTF-8 (the session
 * decodes modified UTF-7 first): '/' separates levels, and INBOX is
 * case-insensitive (RFC 3501 section 5.1). The name becomes a path under
 * the store, so empty, "." and ".." levels are refused here.
 */
int
parse_mailbox_name(const char *name, char **r)
{
	size_t	 len, i, n, start;
	uint32_t cp;
	char	*out;

	*r = NULL;
	len = strlen(name);
	if (len == 0 || len > 1000)
		return -1;
	/* RFC 3501 section 6.3.3: a trailing separator may be dropped. */
	if (len > 1 && name[len - 1] == '/')
		len--;
	for (i = 0, start = 0; i < len; i += n) {
		if ((n = utf8_get(name + i, len - i, &cp)) == 0 ||
		    bad_name_char(cp))
			return -1;
		if (cp == '/') {
			if (bad_component(name + start, i - start))
				return -1;
			start = i + 1;
		}
	}
	if (bad_component(name + start, len - start))
		return -1;
	if ((out = malloc(len + 1)) == NULL)
		return -1;
	memcpy(out, name, len);
	out[len] = '\0';
	if ((len == 5 || (len > 5 && out[5] == '/')) &&
	    eq_nocase(out, 5, "INBOX"))
		memcpy(out, "INBOX", 5);
	*r = out;
	return 0;
}

int
parse_is_atom(const char *s, size_t len)
{
	size_t	 i;

	if (len == 0)
		return 0;
	for (i = 0; i < len; i++)
		if (!is_atom_char((unsigned char)s[i]))
			return 0;
	return 1;
}

int
parse_keyword_is(const struct arg *a, const char *name)
{
	return a != NULL && a->type == ARG_ATOM &&
	    eq_nocase(a->s, a->len, name);
}

/* RFC 5322 ftext: printable US-ASCII except ':'. */
static int
is_field_name(const char *s, size_t len)
{
	size_t	 i;

	if (len == 0)
		return 0;
	for (i = 0; i < len; i++)
		if (s[i] < 33 || s[i] > 126 || s[i] == ':')
			return 0;
	return 1;
}

/* One astring of a header-list, unescaped into b; advances *sp. */
static int
field_name(const char **sp, struct buf *b)
{
	const char	*s = *sp;

	buf_reset(b);
	if (*s == '"') {
		for (s++; *s != '"'; s++) {
			if (*s == '\\' && (s[1] == '"' || s[1] == '\\'))
				s++;
			else if (*s == '\\' || *s == '\0')
				return -1;
			if (buf_addc(b, *s) == -1)
				return -1;
		}
		s++;
	} else {
		for (; is_tag_char((unsigned char)*s) || *s == '+'; s++)
			if (buf_addc(b, *s) == -1)
				return -1;
	}
	if (!is_field_name(b->p, b->len))
		return -1;
	*sp = s;
	return 0;
}

/* header-list = "(" header-fld-name *(SP header-fld-name) ")" */
int
parse_section_fields(const char *s, char ***names_r, size_t *n_r)
{
	struct buf	 b = { 0 };
	char		**v = NULL, **nv;
	size_t		 n = 0, cap = 0;

	*names_r = NULL;
	*n_r = 0;
	if (*s++ != '(')
		return -1;
	for (;;) {
		while (*s == ' ')
			s++;
		if (*s == ')')
			break;
		if (field_name(&s, &b) == -1)
			goto fail;
		if (*s != ' ' && *s != ')')
			goto fail;
		if ((nv = buf_grow(v, &cap, n, sizeof *v)) == NULL)
			goto fail;
		v = nv;
		if ((v[n] = strdup(b.p)) == NULL)
			goto fail;
		n++;
	}
	if (n == 0 || s[1] != '\0')
		goto fail;
	buf_free(&b);
	*names_r = v;
	*n_r = n;
	return 0;
fail:
	while (n > 0)
		free(v[--n]);
	free(v);
	buf_free(&b);
	return -1;
}
