/*
 * parsetest: table-driven tests of parse.c.
 *
 * Every tokenizer case is fed three ways (all at once, one byte at a
 * time, in chunks of 7) by a loop that acts like the session: it notes
 * each result, resets after DONE and BAD, and feeds the rest.  The notes
 * are one string per case, compared with the expected string:
 *   "D tag tokens;"   PARSE_DONE, the tokens rendered by render()
 *   "+;"              PARSE_LITERAL
 *   "B tag error;"    PARSE_BAD with parse_error()
 *   "F error;"        PARSE_FATAL (the feeding stops)
 * An expected string ending in "..." is compared as a prefix.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "imapd.h"
#include "parse.h"

static int	 npass, nfail;

static void
check(int ok, const char *name, const char *detail)
{
	if (ok) {
		npass++;
		printf("ok - %s\n", name);
	} else {
		nfail++;
		printf("not ok - %s\n", name);
		if (detail != NULL)
			printf("# %s\n", detail);
	}
}

struct out {
	char	*p;
	size_t	 len, cap;
};

static void
out_add(struct out *o, const char *s, size_t n)
{
	if (o->cap - o->len <= n) {
		o->cap = (o->len + n + 1) * 2;
		if ((o->p = realloc(o->p, o->cap)) == NULL) {
			perror("realloc");
			exit(2);
		}
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
	o->p[o->len] = '\0';
}

static void
out_str(struct out *o, const char *s)
{
	out_add(o, s, strlen(s));
}

static void
render_text(struct out *o, const char *s, size_t len, int escape)
{
	char	 hex[8];
	size_t	 i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (escape && (c == '"' || c == '\\')) {
			out_add(o, "\\", 1);
			out_add(o, s + i, 1);
		} else if (c < 0x20 || c >= 0x7f) {
			snprintf(hex, sizeof hex, "\\x%02x", c);
			out_str(o, hex);
		} else
			out_add(o, s + i, 1);
	}
}

/* ATOM as is, "quoted", {literal}, ~{literal8}, (list). */
static void
render(struct out *o, const struct arg *a)
{
	for (; a != NULL; a = a->next) {
		switch (a->type) {
		case ARG_ATOM:
			render_text(o, a->s, a->len, 0);
			break;
		case ARG_STRING:
			if (a->literal == 0)
				out_str(o, "\"");
			else
				out_str(o, a->literal == 2 ? "~{" : "{");
			render_text(o, a->s, a->len, a->literal == 0);
			out_str(o, a->literal == 0 ? "\"" : "}");
			break;
		case ARG_LIST:
			out_str(o, "(");
			render(o, a->child);
			out_str(o, ")");
			break;
		}
		if (a->next != NULL)
			out_str(o, " ");
	}
}

/* Feed like the session does; chunk 0 means everything at once. */
static void
run(struct parser *p, const char *in, size_t len, size_t chunk, struct out *o)
{
	size_t	 off = 0, n, used;
	int	 r;

	while (off < len) {
		n = len - off;
		if (chunk != 0 && n > chunk)
			n = chunk;
		r = parse_feed(p, in + off, n, &used);
		if (used > n || (r == PARSE_MORE && used != n)) {
			out_str(o, "USED?;");
			return;
		}
		off += used;
		switch (r) {
		case PARSE_MORE:
			break;
		case PARSE_LITERAL:
			out_str(o, "+;");
			break;
		case PARSE_DONE:
			out_str(o, "D ");
			out_str(o, parse_tag(p));
			out_str(o, " ");
			render(o, parse_args(p));
			out_str(o, ";");
			parse_reset(p);
			break;
		case PARSE_BAD:
			out_str(o, "B ");
			out_str(o, parse_tag(p));
			out_str(o, " ");
			out_str(o, parse_error(p));
			out_str(o, ";");
			parse_reset(p);
			break;
		case PARSE_FATAL:
			out_str(o, "F ");
			out_str(o, parse_error(p));
			out_str(o, ";");
			return;
		default:
			out_str(o, "RESULT?;");
			return;
		}
	}
}

static int
matches(const char *got, const char *want)
{
	size_t	 n = strlen(want);

	if (n >= 3 && strcmp(want + n - 3, "...") == 0)
		return strncmp(got, want, n - 3) == 0;
	return strcmp(got, want) == 0;
}

/* Limits for most cases, and small ones to test them cheaply. */
#define L_DEFAULT	0
#define L_SMALL		1

static void
feed_case(const char *name, const char *in, size_t len, const char *want,
    int limits)
{
	static const size_t	 chunks[] = { 0, 1, 7 };
	static const char	*how[] = { "whole", "bytewise", "chunks" };
	struct parser		*p;
	struct out		 o;
	char			 label[160], *detail;
	size_t			 i, dlen;

	for (i = 0; i < 3; i++) {
		if (limits == L_SMALL)
			p = parse_new(40, 10, 20, SIZE_MAX);
		else
			p = parse_new(LINE_MAX_IMAP, LITERAL_MAX, 100000,
			    SIZE_MAX);
		if (p == NULL) {
			perror("parse_new");
			exit(2);
		}
		memset(&o, 0, sizeof o);
		out_str(&o, "");
		run(p, in, len, chunks[i], &o);
		snprintf(label, sizeof label, "feed %s (%s)", name, how[i]);
		dlen = o.len + strlen(want) + 32;
		if ((detail = malloc(dlen)) == NULL)
			exit(2);
		snprintf(detail, dlen, "got [%.300s] want [%.300s]", o.p, want);
		check(matches(o.p, want), label, detail);
		free(detail);
		free(o.p);
		parse_free(p);
	}
}

struct fcase {
	const char	*name;
	const char	*in;
	size_t		 len;	/* 0: strlen(in) */
	const char	*want;
	int		 limits;
};

static const struct fcase fcases[] = {
	{ "simple", "a1 NOOP\r\n", 0, "D a1 NOOP;", 0 },
	{ "two commands", "a1 NOOP\r\na2 CAPABILITY\r\n", 0,
	    "D a1 NOOP;D a2 CAPABILITY;", 0 },
	{ "bare LF", "a1 NOOP\na2 NOOP\n", 0, "D a1 NOOP;D a2 NOOP;", 0 },
	{ "empty lines", "\r\n\n\r\na1 NOOP\r\n", 0, "D a1 NOOP;", 0 },
	{ "several spaces", "a1  LOGIN   fred  x \r\n", 0,
	    "D a1 LOGIN fred x;", 0 },
	{ "quoted escapes", "a1 LOGIN fred \"p\\\"w\\\\d\"\r\n", 0,
	    "D a1 LOGIN fred \"p\\\"w\\\\d\";", 0 },
	{ "empty quoted", "a1 LIST \"\" %/*\r\n", 0, "D a1 LIST \"\" %/*;", 0 },
	{ "quoted 8-bit", "a1 X \"\xc3\xa9\"\r\n", 0,
	    "D a1 X \"\\xc3\\xa9\";", 0 },
	{ "quoted bad escape", "a1 X \"a\\nb\"\r\na2 NOOP\r\n", 0,
	    "B a1 BAD Invalid escape in quoted string;D a2 NOOP;", 0 },
	{ "quoted CR", "a1 X \"ab\r\na2 NOOP\r\n", 0,
	    "B a1 BAD Invalid character in quoted string;D a2 NOOP;", 0 },
	{ "quoted NUL", "a1 X \"a\0b\"\r\na2 NOOP\r\n", 21,
	    "B a1 BAD Invalid character in quoted string;D a2 NOOP;", 0 },
	{ "sync literals", "a1 LOGIN {3}\r\nfoo {2}\r\nab\r\n", 0,
	    "+;+;D a1 LOGIN {foo} {ab};", 0 },
	{ "nonsync literal with NULs", "a1 X {3+}\r\na\0b\r\n", 16,
	    "D a1 X {a\\x00b};", 0 },
	{ "sync literal with NUL and CRLF", "a1 X {4}\r\n\0\r\n) y\r\n", 18,
	    "+;D a1 X {\\x00\\x0d\\x0a)} y;", 0 },
	{ "literal8", "a1 APPEND box ~{2+}\r\nhi\r\n", 0,
	    "D a1 APPEND box ~{hi};", 0 },
	{ "literal8 sync", "a1 APPEND box (\\Seen) ~{2}\r\nhi\r\n", 0,
	    "+;D a1 APPEND box (\\Seen) ~{hi};", 0 },
	{ "empty literals", "a1 X {0}\r\n {0+}\r\n\r\n", 0,
	    "+;D a1 X {} {};", 0 },
	{ "literal in list", "a1 X (a {1}\r\nb c)\r\n", 0,
	    "+;D a1 X (a {b} c);", 0 },
	{ "tilde atoms", "a1 X ~a ~ a~\r\n", 0, "D a1 X ~a ~ a~;", 0 },
	{ "literal then no space", "a1 X {1+}\r\nbc\r\na2 NOOP\r\n", 0,
	    "B a1 BAD Missing space between arguments;D a2 NOOP;", 0 },
	{ "literal not at line end", "a1 X {3} x\r\na2 NOOP\r\n", 0,
	    "B a1 BAD Invalid literal;D a2 NOOP;", 0 },
	{ "literal bad digits", "a1 X {3a}\r\na2 NOOP\r\n", 0,
	    "B a1 BAD Invalid literal;D a2 NOOP;", 0 },
	{ "literal no digits", "a1 X {}\r\na2 NOOP\r\n", 0,
	    "B a1 BAD Invalid literal;D a2 NOOP;", 0 },
	{ "literal plus only", "a1 X {+}\r\na2 NOOP\r\n", 0,
	    "B a1 BAD Invalid literal;D a2 NOOP;", 0 },
	{ "nested lists", "a1 STORE 1:* +FLAGS (\\Seen (a (b)) ())\r\n", 0,
	    "D a1 STORE 1:* +FLAGS (\\Seen (a (b)) ());", 0 },
	{ "list then paren", "a1 X (a)(b)\r\n", 0,
	    "B a1 BAD Missing space between arguments;", 0 },
	{ "brackets in atom",
	    "a1 FETCH 1 (BODY.PEEK[HEADER.FIELDS (From \"To\")]<0.100> "
	    "UID)\r\n",
	    0, "D a1 FETCH 1 (BODY.PEEK[HEADER.FIELDS (From \"To\")]<0.100> "
	    "UID);", 0 },
	{ "bracket quoted ]",
	    "a1 FETCH 1 BODY[HEADER.FIELDS (\"a]\\\"b\")]\r\n",
	    0, "D a1 FETCH 1 BODY[HEADER.FIELDS (\"a]\\\"b\")];", 0 },
	{ "empty brackets", "a1 FETCH 1 BODY[] BODY[]<0.5>\r\n", 0,
	    "D a1 FETCH 1 BODY[] BODY[]<0.5>;", 0 },
	{ "line end in brackets", "a1 FETCH 1 BODY[HEADER\r\na2 NOOP\r\n", 0,
	    "B a1 BAD Line ends inside brackets;D a2 NOOP;", 0 },
	/* RFC 3501 9: '[' is an ATOM-CHAR, ']' an ASTRING-CHAR. */
	{ "bracket in a name", "a1 CREATE x[y\r\na2 CREATE ]x[\r\n", 0,
	    "D a1 CREATE x[y;D a2 CREATE ]x[;", 0 },
	{ "bracket after a list", "a1 X (a[b c]) [d e\r\n", 0,
	    "D a1 X (a[b c]) [d e;", 0 },
	{ "sections of every kind",
	    "a1 FETCH 1 (binary.size[1] Binary.Peek[1 ]<0.5> "
	    "body[header.fields (a b)])\r\n", 0,
	    "D a1 FETCH 1 (binary.size[1] Binary.Peek[1 ]<0.5> "
	    "body[header.fields (a b)]);", 0 },
	{ "bad tag plus", "a+1 NOOP\r\na2 NOOP\r\n", 0,
	    "B * BAD Invalid tag;D a2 NOOP;", 0 },
	{ "bad tag star", "* NOOP\r\n", 0, "B * BAD Invalid tag;", 0 },
	{ "bad tag brace", "a{1 NOOP\r\n", 0, "B * BAD Invalid tag;", 0 },
	{ "bad tag 8-bit", "\xc3\xa9 NOOP\r\n", 0, "B * BAD Invalid tag;", 0 },
	{ "missing tag", " NOOP\r\n", 0, "B * BAD Missing tag;", 0 },
	{ "tag with ]", "a]1 NOOP\r\n", 0, "D a]1 NOOP;", 0 },
	{ "bad tag then literal", "+ {3+}\r\nabc\r\na2 NOOP\r\n", 0,
	    "B * BAD Invalid tag;D a2 NOOP;", 0 },
	{ "missing command", "a1\r\na2 \r\na3\n", 0,
	    "B a1 BAD Missing command;B a2 BAD Missing command;"
	    "B a3 BAD Missing command;", 0 },
	{ "command not atom", "a1 (x)\r\na2 \"x\"\r\na3 {1+}\r\nx\r\n", 0,
	    "B a1 BAD Missing command;B a2 BAD Missing command;"
	    "B a3 BAD Missing command;", 0 },
	{ "unbalanced )", "a1 X a)\r\na2 NOOP\r\n", 0,
	    "B a1 BAD Unexpected );D a2 NOOP;", 0 },
	{ "missing )", "a1 X (a (b)\r\na2 NOOP\r\n", 0,
	    "B a1 BAD Missing );D a2 NOOP;", 0 },
	{ "bare CR", "a1 NOOP\rx\r\na2 NOOP\r\n", 0,
	    "B a1 BAD CR not followed by LF;D a2 NOOP;", 0 },
	{ "NUL in atom", "a1 X a\0b\r\na2 NOOP\r\n", 19,
	    "B a1 BAD Invalid character;D a2 NOOP;", 0 },
	{ "error then nonsync literal",
	    "a1 X ) {5+}\r\nab\r\nc x\r\na2 NOOP\r\n", 0,
	    "B a1 BAD Unexpected );D a2 NOOP;", 0 },
	{ "error then two nonsync literals",
	    "a1 X ) {2+}\r\nab ~{3+}\r\nx\ny\r\na2 NOOP\r\n", 0,
	    "B a1 BAD Unexpected );D a2 NOOP;", 0 },
	{ "error then sync literal", "a1 X ) {5}\r\na2 NOOP\r\n", 0,
	    "B a1 BAD Unexpected );D a2 NOOP;", 0 },
	{ "oversized sync literal", "a1 X {65537}\r\na2 NOOP\r\n", 0,
	    "B a1 BAD Literal too big;D a2 NOOP;", 0 },
	{ "oversized nonsync literal", "a1 X {65537+}\r\nabcdef", 0,
	    "F [TOOBIG] Literal too big;", 0 },
	{ "literal size overflow",
	    "a1 X {99999999999999999999999999}\r\na2 NOOP\r\n", 0,
	    "B a1 BAD Literal too big;D a2 NOOP;", 0 },
	{ "literal size overflow nonsync",
	    "a1 X {99999999999999999999999999+}\r\n", 0,
	    "F [TOOBIG] Literal too big;", 0 },
	/* Small limits: line 40, literal 10, APPEND 20. */
	{ "line at the limit", "a1 NOOP 01234567890123456789012345678901\r\n",
	    0, "D a1 NOOP 01234567890123456789012345678901;", L_SMALL },
	{ "line over the limit",
	    "a1 NOOP 012345678901234567890123456789012\r\na2 NOOP\r\n", 0,
	    "B a1 BAD Command line too long;D a2 NOOP;", L_SMALL },
	{ "literals do not count in the line",
	    "a1 X {10}\r\n0123456789 {10}\r\n0123456789 {10}\r\n0123456789\r\n",
	    0, "+;+;+;D a1 X {0123456789} {0123456789} {0123456789};",
	    L_SMALL },
	{ "APPEND literal within APPEND limit",
	    "a1 append box {15}\r\n012345678901234\r\n", 0,
	    "+;D a1 append box {012345678901234};", L_SMALL },
	{ "APPEND nonsync within limit",
	    "a1 APPEND box {20+}\r\n01234567890123456789\r\n", 0,
	    "D a1 APPEND box {01234567890123456789};", L_SMALL },
	{ "other command over literal limit",
	    "a1 LOGIN {15}\r\na2 NOOP\r\n", 0,
	    "B a1 BAD Literal too big;D a2 NOOP;", L_SMALL },
	{ "APPEND over APPEND limit", "a1 APPEND box {21}\r\na2 NOOP\r\n", 0,
	    "B a1 NO [TOOBIG] Literal too big;D a2 NOOP;", L_SMALL },
	{ "APPEND nonsync over APPEND limit", "a1 APPEND box {21+}\r\nxx", 0,
	    "F [TOOBIG] Literal too big;", L_SMALL },
	{ "other command nonsync over literal limit",
	    "a1 LOGIN {11+}\r\nxx", 0,
	    "F [TOOBIG] Literal too big;", L_SMALL },
};

/* Inputs too big for the table. */
static void
feed_generated(void)
{
	struct out	 in, want;
	size_t		 i;

	/* A 70 KB line is rejected, and the stream stays in step. */
	memset(&in, 0, sizeof in);
	out_str(&in, "a1 X ");
	for (i = 0; i < 70 * 1024; i++)
		out_add(&in, "x", 1);
	out_str(&in, "\r\na2 NOOP\r\n");
	feed_case("70 KB line", in.p, in.len,
	    "B a1 BAD Command line too long;D a2 NOOP;", 0);
	free(in.p);

	/* PAREN_DEPTH_MAX nested lists are fine, one more is not. */
	memset(&in, 0, sizeof in);
	memset(&want, 0, sizeof want);
	out_str(&in, "a1 X ");
	out_str(&want, "D a1 X ");
	for (i = 0; i < PAREN_DEPTH_MAX; i++)
		out_str(&in, "("), out_str(&want, "(");
	for (i = 0; i < PAREN_DEPTH_MAX; i++)
		out_str(&in, ")"), out_str(&want, ")");
	out_str(&in, "\r\n");
	out_str(&want, ";");
	feed_case("depth at the limit", in.p, in.len, want.p, 0);
	free(in.p);
	free(want.p);
	memset(&in, 0, sizeof in);
	out_str(&in, "a1 X ");
	for (i = 0; i < PAREN_DEPTH_MAX + 1; i++)
		out_str(&in, "(");
	for (i = 0; i < PAREN_DEPTH_MAX + 1; i++)
		out_str(&in, ")");
	out_str(&in, "\r\na2 NOOP\r\n");
	feed_case("depth over the limit", in.p, in.len,
	    "B a1 BAD Lists nested too deeply;D a2 NOOP;", 0);
	free(in.p);

	/* ARGS_MAX tokens (the command name is one) are fine. */
	memset(&in, 0, sizeof in);
	out_str(&in, "a1 X");
	for (i = 1; i < ARGS_MAX; i++)
		out_str(&in, " a");
	out_str(&in, "\r\n");
	feed_case("tokens at the limit", in.p, in.len, "D a1 X a a a...", 0);
	free(in.p);
	memset(&in, 0, sizeof in);
	out_str(&in, "a1 X");
	for (i = 0; i < ARGS_MAX; i++)
		out_str(&in, " a");
	out_str(&in, " {2+}\r\n\r\n\r\na2 NOOP\r\n");
	feed_case("tokens over the limit", in.p, in.len,
	    "B a1 BAD Too many arguments;D a2 NOOP;", 0);
	free(in.p);
}

/* The STYLE.md check: "a1 LOGIN {3}" gives MORE until its CRLF. */
static void
feed_bytewise_login(void)
{
	static const char	 in[] = "a1 LOGIN {3}\r\nabc\r\n";
	struct parser		*p;
	size_t			 i, used;
	int			 r, ok = 1;

	if ((p = parse_new(LINE_MAX_IMAP, LITERAL_MAX, 1000, SIZE_MAX)) == NULL)
		exit(2);
	for (i = 0; i < 13; i++) {
		r = parse_feed(p, in + i, 1, &used);
		ok &= r == PARSE_MORE && used == 1;
	}
	r = parse_feed(p, in + 13, 1, &used);
	ok &= r == PARSE_LITERAL && used == 1;
	for (i = 14; i < sizeof in - 2; i++) {
		r = parse_feed(p, in + i, 1, &used);
		ok &= r == PARSE_MORE;
	}
	r = parse_feed(p, in + i, 1, &used);
	ok &= r == PARSE_DONE && used == 1;
	ok &= strcmp(parse_tag(p), "a1") == 0 &&
	    parse_args(p)->next->literal == 1 &&
	    parse_args(p)->next->len == 3;
	check(ok, "LOGIN {3} one byte at a time: MORE until CRLF", NULL);

	/* used stops at the end of the first command. */
	parse_reset(p);
	r = parse_feed(p, "a1 NOOP\r\na2 NOOP\r\n", 18, &used);
	check(r == PARSE_DONE && used == 9, "used counts one command", NULL);
	/* Feeding after DONE without a reset starts a new command. */
	r = parse_feed(p, "a2 NOOP\r\n", 9, &used);
	check(r == PARSE_DONE && used == 9 && strcmp(parse_tag(p), "a2") == 0,
	    "feed after DONE resets", NULL);
	parse_free(p);

	/* After FATAL nothing more is taken. */
	if ((p = parse_new(100, 10, 10, SIZE_MAX)) == NULL)
		exit(2);
	r = parse_feed(p, "a1 X {11+}\r\n", 12, &used);
	check(r == PARSE_FATAL, "fatal", NULL);
	r = parse_feed(p, "a1 NOOP\r\n", 9, &used);
	check(r == PARSE_FATAL && used == 0, "fatal stays fatal", NULL);
	parse_free(p);
}

/* ------------------------------------------------------------ values */

static void
test_seqsets(void)
{
	static const struct {
		const char	*in;
		const char	*want;	/* resolved against 10, or NULL: -1 */
	} c[] = {
		{ "1", "1:1" },
		{ "*", "10:10" },
		{ "1:*", "1:10" },
		{ "*:3", "3:10" },
		{ "5:2", "2:5" },
		{ "1,3,5", "1:1,3:3,5:5" },
		{ "3,1:2,7:9,8", "1:3,7:9" },
		{ "2:4,3:6,12", "2:6,12:12" },
		{ "15:*", "10:15" },
		/* 4294967295 is a number, not "*" (RFC 3501 section 9). */
		{ "4294967295", "4294967295:4294967295" },
		{ "1:4294967294,4294967294", "1:4294967294" },
		{ "1:4294967295,4294967295", "1:4294967295" },
		{ "4294967295:*", "10:4294967295" },
		{ "11:4294967295", "11:4294967295" },
		{ "4294967294,4294967295,*", "10:10,4294967294:4294967295" },
		{ "", NULL },
		{ "0", NULL },
		{ "1:0", NULL },
		{ "01", NULL },
		{ "+1", NULL },
		{ "-1", NULL },
		{ "1,", NULL },
		{ ",1", NULL },
		{ "1,,2", NULL },
		{ "1:", NULL },
		{ ":1", NULL },
		{ "1:2:3", NULL },
		{ "4294967296", NULL },
		{ "99999999999", NULL },
		{ "1 ", NULL },
		{ "a", NULL },
		{ "**", NULL },
	};
	struct seqset	 s;
	struct out	 o;
	char		 name[128], tmp[32];
	size_t		 i, j;
	int		 r;

	for (i = 0; i < sizeof c / sizeof c[0]; i++) {
		snprintf(name, sizeof name, "seqset \"%s\"", c[i].in);
		r = parse_seqset(c[i].in, &s);
		if (c[i].want == NULL) {
			check(r == -1 && s.r == NULL, name, NULL);
			continue;
		}
		if (r == -1) {
			check(0, name, "rejected");
			continue;
		}
		parse_seqset_resolve(&s, 10);
		memset(&o, 0, sizeof o);
		out_str(&o, "");
		for (j = 0; j < s.n; j++) {
			snprintf(tmp, sizeof tmp, "%s%llu:%llu", j ? "," : "",
			    (unsigned long long)s.r[j].lo,
			    (unsigned long long)s.r[j].hi);
			out_str(&o, tmp);
		}
		check(strcmp(o.p, c[i].want) == 0, name, o.p);
		free(o.p);
		parse_seqset_free(&s);
	}

	/* SEQSET_MAX ranges are fine, one more is not. */
	{
		struct out	 in;

		memset(&in, 0, sizeof in);
		out_str(&in, "1");
		for (i = 1; i < SEQSET_MAX; i++)
			out_str(&in, ",1");
		r = parse_seqset(in.p, &s);
		check(r == 0 && s.n == SEQSET_MAX, "seqset at SEQSET_MAX",
		    NULL);
		parse_seqset_free(&s);
		out_str(&in, ",1");
		r = parse_seqset(in.p, &s);
		check(r == -1, "seqset over SEQSET_MAX", NULL);
		free(in.p);
	}

	if (parse_seqset("2:4,8,10:12,*", &s) == -1) {
		check(0, "seqset has", "parse failed");
		return;
	}
	parse_seqset_resolve(&s, 20);
	{
		static const uint32_t	 yes[] = { 2, 3, 4, 8, 10, 11, 12, 20 };
		static const uint32_t	 no[] = { 0, 1, 5, 7, 9, 13, 19, 21,
					    UINT32_MAX };
		int			 ok = 1;

		for (i = 0; i < sizeof yes / sizeof yes[0]; i++)
			ok &= parse_seqset_has(&s, yes[i]) == 1;
		for (i = 0; i < sizeof no / sizeof no[0]; i++)
			ok &= parse_seqset_has(&s, no[i]) == 0;
		check(ok, "seqset has", NULL);
	}
	parse_seqset_free(&s);
	check(s.r == NULL && s.n == 0, "seqset free", NULL);
}

static void
test_numbers(void)
{
	static const struct {
		const char	*in;
		int		 ok32, ok64;
		uint64_t	 v;
	} c[] = {
		{ "0", 1, 1, 0 },
		{ "1", 1, 1, 1 },
		{ "007", 1, 1, 7 },
		{ "4294967295", 1, 1, 4294967295ULL },
		{ "4294967296", 0, 1, 4294967296ULL },
		{ "9223372036854775807", 0, 1, 9223372036854775807ULL },
		{ "9223372036854775808", 0, 0, 0 },
		{ "18446744073709551616", 0, 0, 0 },
		{ "", 0, 0, 0 },
		{ "-1", 0, 0, 0 },
		{ "+1", 0, 0, 0 },
		{ "1x", 0, 0, 0 },
		{ " 1", 0, 0, 0 },
	};
	char		 name[64];
	uint32_t	 v32;
	uint64_t	 v64;
	size_t		 i;
	int		 r;

	for (i = 0; i < sizeof c / sizeof c[0]; i++) {
		snprintf(name, sizeof name, "number \"%s\"", c[i].in);
		r = parse_number(c[i].in, &v32);
		check(c[i].ok32 ? r == 0 && v32 == c[i].v : r == -1, name,
		    NULL);
		snprintf(name, sizeof name, "number64 \"%s\"", c[i].in);
		r = parse_number64(c[i].in, &v64);
		check(c[i].ok64 ? r == 0 && v64 == c[i].v : r == -1, name,
		    NULL);
	}
}

static void
test_dates(void)
{
	static const struct {
		const char	*in;
		int		 ok;
		long long	 t;
	} d[] = {
		{ "1-Jan-1970", 1, 0 },
		{ "01-jan-1970", 1, 0 },
		{ "2-JAN-1970", 1, 86400 },
		{ "29-Feb-2024", 1, 1709164800 },
		{ "29-Feb-2000", 1, 951782400 },
		{ "31-Dec-1969", 1, -86400 },
		{ "1-Mar-2100", 1, 4107542400LL },
		{ "29-Feb-2023", 0, 0 },
		{ "29-Feb-1900", 0, 0 },
		{ "31-Apr-2024", 0, 0 },
		{ "0-Jan-2024", 0, 0 },
		{ "32-Jan-2024", 0, 0 },
		{ "1-Jnu-2024", 0, 0 },
		{ "1-Jan-24", 0, 0 },
		{ "1-Jan-20245", 0, 0 },
		{ "001-Jan-2024", 0, 0 },
		{ "1 Jan 2024", 0, 0 },
		{ "", 0, 0 },
		{ "1-Ja", 0, 0 },
	}, dt[] = {
		{ "01-Jan-1970 00:00:00 +0000", 1, 0 },
		{ " 1-Jan-1970 00:00:01 +0000", 1, 1 },
		{ "17-Jul-1996 02:44:25 -0700", 1, 837596665 },
		{ "29-Feb-2024 12:00:00 +0530", 1, 1709188200 },
		{ "01-Jan-1970 00:30:00 +0100", 1, -1800 },
		{ "31-Dec-2023 23:59:59 -1200", 1, 1704110399 },
		{ "1-Jan-1970 00:00:00 +0000", 0, 0 },
		{ "29-Feb-2023 12:00:00 +0000", 0, 0 },
		{ "01-Jan-1970 24:00:00 +0000", 0, 0 },
		{ "01-Jan-1970 00:60:00 +0000", 0, 0 },
		{ "01-Jan-1970 00:00:00 0000", 0, 0 },
		{ "01-Jan-1970 00:00:00 +000", 0, 0 },
		{ "01-Jan-1970 00:00:00 +0060", 0, 0 },
		{ "01-Jan-1970 00:00:00 +0000 ", 0, 0 },
		{ "01-Jan-1970 0:00:00 +0000", 0, 0 },
		{ "01-Jan-1970", 0, 0 },
	};
	char	 name[80];
	time_t	 t;
	size_t	 i;
	int	 r;

	for (i = 0; i < sizeof d / sizeof d[0]; i++) {
		snprintf(name, sizeof name, "date \"%s\"", d[i].in);
		r = parse_date(d[i].in, &t);
		check(d[i].ok ? r == 0 && (long long)t == d[i].t : r == -1,
		    name, NULL);
	}
	for (i = 0; i < sizeof dt / sizeof dt[0]; i++) {
		snprintf(name, sizeof name, "date-time \"%s\"", dt[i].in);
		r = parse_datetime(dt[i].in, &t);
		check(dt[i].ok ? r == 0 && (long long)t == dt[i].t : r == -1,
		    name, NULL);
	}
}

static void
test_mailboxes(void)
{
	static const struct {
		const char	*in;
		const char	*want;	/* NULL: rejected */
	} c[] = {
		{ "INBOX", "INBOX" },
		{ "inbox", "INBOX" },
		{ "InBoX/Sub", "INBOX/Sub" },
		{ "inboxes", "inboxes" },
		{ "Archive/inbox", "Archive/inbox" },
		{ "Sent Items", "Sent Items" },
		{ "a/b/c", "a/b/c" },
		{ "a/", "a" },
		{ "inbox/", "INBOX" },
		{ "&-", "&-" },
		{ "Tom &- Jerry", "Tom &- Jerry" },
		{ "&AOk-t&AOk-", "&AOk-t&AOk-" },
		{ "~peter/mail/&U,BTFw-/&ZeVnLIqe-",
		    "~peter/mail/&U,BTFw-/&ZeVnLIqe-" },
		{ ".hidden", ".hidden" },
		{ "a..b", "a..b" },
		{ "", NULL },
		{ "/", NULL },
		{ "/a", NULL },
		{ "a//b", NULL },
		{ "a//", NULL },
		{ "..", NULL },
		{ "a/../b", NULL },
		{ "a/.", NULL },
		{ "./a", NULL },
		/* canonical names are UTF-8: '&' is only itself */
		{ "&", "&" },
		{ "a&AOk", "a&AOk" },
		{ "caf\xc3\xa9", "caf\xc3\xa9" },
		{ "\xe5\x8f\xb0/x", "\xe5\x8f\xb0/x" },
		{ "a%", NULL },
		{ "a*b", NULL },
		{ "caf\xc3", NULL },
		{ "\xc0\xaf", NULL },
		{ "a\xed\xa0\x80", NULL },
		{ "a\xc2\x85", NULL },
		{ "a\xe2\x80\xa8", NULL },
		{ "a\xe2\x80\xa9", NULL },
		{ "a\tb", NULL },
		{ "a\x7f", NULL },
	};
	char	 name[96], *r, big[1003];
	size_t	 i;
	int	 ret;

	for (i = 0; i < sizeof c / sizeof c[0]; i++) {
		snprintf(name, sizeof name, "mailbox \"%s\"", c[i].in);
		ret = parse_mailbox_name(c[i].in, &r);
		if (c[i].want == NULL)
			check(ret == -1 && r == NULL, name, r);
		else
			check(ret == 0 && strcmp(r, c[i].want) == 0, name, r);
		free(r);
	}
	memset(big, 'x', 1000);
	big[1000] = '\0';
	ret = parse_mailbox_name(big, &r);
	check(ret == 0, "mailbox of 1000 bytes", NULL);
	free(r);
	big[1000] = 'x';
	big[1001] = '\0';
	ret = parse_mailbox_name(big, &r);
	check(ret == -1, "mailbox of 1001 bytes", NULL);
}

static void
test_misc(void)
{
	static const struct {
		const char	*in;
		const char	*want;	/* names joined by '|', NULL: -1 */
	} f[] = {
		{ "(From To)", "From|To" },
		{ "(From \"X-Y\" To)", "From|X-Y|To" },
		{ "(\"a\\\"b\")", "a\"b" },
		{ "(  Subject  )", "Subject" },
		{ "(X-Spam+Level)", "X-Spam+Level" },
		{ "()", NULL },
		{ "( )", NULL },
		{ "", NULL },
		{ "From", NULL },
		{ "(From", NULL },
		{ "(From) ", NULL },
		{ "(From)x", NULL },
		{ "(\"\")", NULL },
		{ "(\"a b\")", NULL },
		{ "(a:b)", NULL },
		{ "(\"a)", NULL },
		{ "(\"a\\x\")", NULL },
		{ "(a\"b\")", NULL },
		{ "((a))", NULL },
	};
	static const struct arg	 atom = { ARG_ATOM, 0, "Body.Peek", 9, NULL,
				    NULL };
	static const struct arg	 str = { ARG_STRING, 0, "BODY.PEEK", 9, NULL,
				    NULL };
	char			 name[80], **names;
	struct out		 o;
	size_t			 i, j, n;
	int			 r;

	for (i = 0; i < sizeof f / sizeof f[0]; i++) {
		snprintf(name, sizeof name, "section fields \"%s\"", f[i].in);
		r = parse_section_fields(f[i].in, &names, &n);
		if (f[i].want == NULL) {
			check(r == -1 && names == NULL && n == 0, name, NULL);
			continue;
		}
		memset(&o, 0, sizeof o);
		out_str(&o, "");
		for (j = 0; r == 0 && j < n; j++) {
			if (j > 0)
				out_str(&o, "|");
			out_str(&o, names[j]);
			free(names[j]);
		}
		if (r == 0)
			free(names);
		check(r == 0 && strcmp(o.p, f[i].want) == 0, name, o.p);
		free(o.p);
	}

	check(parse_is_atom("\\Seen", 5) == 0, "is_atom \\Seen", NULL);
	check(parse_is_atom("$Junk", 5) == 1, "is_atom $Junk", NULL);
	check(parse_is_atom("a]b", 3) == 0, "is_atom a]b", NULL);
	check(parse_is_atom("a b", 3) == 0, "is_atom a b", NULL);
	check(parse_is_atom("a%", 2) == 0, "is_atom a%", NULL);
	check(parse_is_atom("a\0b", 3) == 0, "is_atom NUL", NULL);
	check(parse_is_atom("", 0) == 0, "is_atom empty", NULL);
	check(parse_is_atom("\xc3\xa9", 2) == 0, "is_atom 8-bit", NULL);
	check(parse_keyword_is(&atom, "BODY.PEEK") == 1, "keyword_is", NULL);
	check(parse_keyword_is(&atom, "BODY") == 0, "keyword_is prefix", NULL);
	check(parse_keyword_is(&str, "BODY.PEEK") == 0, "keyword_is string",
	    NULL);
	check(parse_keyword_is(NULL, "X") == 0, "keyword_is NULL", NULL);
}

int
main(void)
{
	size_t	 i;

	for (i = 0; i < sizeof fcases / sizeof fcases[0]; i++)
		feed_case(fcases[i].name, fcases[i].in,
		    fcases[i].len ? fcases[i].len : strlen(fcases[i].in),
		    fcases[i].want, fcases[i].limits);
	feed_generated();
	feed_bytewise_login();
	test_seqsets();
	test_numbers();
	test_dates();
	test_mailboxes();
	test_misc();
	printf("parsetest: %d passed, %d failed\n", npass, nfail);
	return nfail ? 1 : 0;
}
