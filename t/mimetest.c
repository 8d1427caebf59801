/*
 * mimetest: tests of mime.c.  The structure cases are messages whose
 * ENVELOPE, BODY and BODYSTRUCTURE were taken from Dovecot 2.3 (imap,
 * APPEND then FETCH); the rest checks sections, the search helpers,
 * the Date: parser, and that malformed or hostile input (truncation at
 * every length, nesting bombs, part floods) is parsed within the caps.
 * Prints "ok - ..." or "not ok - ..." per check and a summary line.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imapd.h"
#include "mime.h"

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

static void
check_str(const char *name, const char *got, size_t glen, const char *want,
    size_t wlen)
{
	int	 ok = got != NULL && glen == wlen && memcmp(got, want, wlen) == 0;

	check(ok, name, NULL);
	if (!ok) {
		printf("# want: %.*s\n", (int)wlen, want);
		printf("# got:  %.*s\n", got ? (int)glen : 4, got ? got : "NULL");
	}
}

struct scase {
	const char	*name;
	const char	*msg;
	size_t		 len;
	const char	*want;	/* ENVELOPE .. BODY .. BODYSTRUCTURE .. */
};

static const struct scase scases[] = {
	{ "nested multipart, message/rfc822, 2231 extended value, extensions",
	    "From: a@b\r\n"
	    "Date: Mon, 1 Jan 2001 00:00:00 +0000\r\n"
	    "Subject: x\r\n"
	    "To: undisclosed-recipients:;\r\n"
	    "Cc: \"a \\\"q\\\" b\" (c) <@r1,@r2:u@h>, nodomain, (comment) "
	    "x@y (Real Name)\r\n"
	    "Message-ID: <m@x>\r\n"
	    "Content-Type: multipart/mixed; boundary=\"BB\"\r\n"
	    "Content-Language: en\r\n"
	    "\r\n"
	    "pre\r\n"
	    "--BB\r\n"
	    "\r\n"
	    "plain\r\n"
	    "--BB \r\n"
	    "Content-Type: message/rfc822\r\n"
	    "Content-Disposition: attachment; filename*=utf-8'en'%C3%A9.tx"
	    "t\r\n"
	    "\r\n"
	    "Subject: inner\r\n"
	    "Content-Type: multipart/alternative; boundary=CC\r\n"
	    "\r\n"
	    "--CC\r\n"
	    "Content-Type: text/html\r\n"
	    "Content-Transfer-Encoding: BASE64\r\n"
	    "Content-MD5: abc\r\n"
	    "Content-Location: http://x\r\n"
	    "Content-ID: <id>\r\n"
	    "Content-Description: desc\r\n"
	    "\r\n"
	    "aGVsbG8=\r\n"
	    "--BB\r\n"
	    "Content-Type: application/octet-stream\r\n"
	    "\r\n"
	    "xx\r\n"
	    "--BB--\r\n"
	    "epi\r\n",
	    677,
	    "ENVELOPE (\"Mon, 1 Jan 2001 00:00:00 +0000\" \"x\" ((NIL NIL "
	    "\"a\" \"b\")) ((NIL NIL \"a\" \"b\")) ((NIL NIL \"a\" \"b\"))"
	    " ((NIL NIL \"undisclosed-recipients\" NIL)(NIL NIL NIL NIL)) "
	    "(({7}\r\n"
	    "a \"q\" b \"@r1,@r2\" \"u\" \"h\")(NIL NIL \"nodomain\" \"MIS"
	    "SING_DOMAIN\")(\"Real Name\" NIL \"x\" \"y\")) NIL NIL \"<m@x"
	    ">\") BODY ((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL"
	    " NIL \"7bit\" 5 0)(\"message\" \"rfc822\" NIL NIL NIL \"7bit\""
	    " 235 (NIL \"inner\" NIL NIL NIL NIL NIL NIL NIL NIL) ((\"text"
	    "\" \"html\" (\"charset\" \"us-ascii\") \"<id>\" \"desc\" \"BA"
	    "SE64\" 8 0) \"alternative\") 11)(\"application\" \"octet-stre"
	    "am\" NIL NIL NIL \"7bit\" 2) \"mixed\") BODYSTRUCTURE ((\"tex"
	    "t\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 5 0"
	    " NIL NIL NIL NIL)(\"message\" \"rfc822\" NIL NIL NIL \"7bit\""
	    " 235 (NIL \"inner\" NIL NIL NIL NIL NIL NIL NIL NIL) ((\"text"
	    "\" \"html\" (\"charset\" \"us-ascii\") \"<id>\" \"desc\" \"BA"
	    "SE64\" 8 0 \"abc\" NIL NIL \"http://x\") \"alternative\" (\"b"
	    "oundary\" \"CC\") NIL NIL NIL) 11 NIL (\"attachment\" (\"file"
	    "name*\" \"utf-8'en'%C3%A9.txt\")) NIL NIL)(\"application\" \""
	    "octet-stream\" NIL NIL NIL \"7bit\" 2 NIL NIL NIL NIL) \"mixe"
	    "d\" (\"boundary\" \"BB\") NIL (\"en\") NIL)" },
	{ "digest defaults, 2231 continuations, groups, bare LF, literals",
	    "From: \"one \\\" q\" <a@b>, <>, @host, \"x\303\251\" <u@v>, ="
	    "?utf-8?q?a?= <e@f>, g@h (c1) (c2), Group: ;, \"q\\\\\\\\\\\\\\"
	    "\\\" <z@z>\r\n"
	    "Subject: say \"hi\" \\ there\r\n"
	    "To: a@b.c.d (x), foo bar <a@b>\r\n"
	    "In-Reply-To: <x@y>\r\n"
	    "   <z@w>\r\n"
	    "Content-Type: multipart/digest; boundary=D\r\n"
	    "\r\n"
	    "--D\r\n"
	    "\r\n"
	    "Subject: in digest\r\n"
	    "\r\n"
	    "body\r\n"
	    "--D\r\n"
	    "Content-Type: text/plain; format=flowed; a*0*=utf-8''%C3; a*1"
	    "*=%A9; a*2=\"x y\"\r\n"
	    "\r\n"
	    "line1\n"
	    "line2\n"
	    "--D\r\n"
	    "Content-Type: text/plain; b*0=abc; b*2=ghi; b*1=def\r\n"
	    "\r\n"
	    "z\r\n",
	    444,
	    "ENVELOPE (NIL {16}\r\n"
	    "say \"hi\" \\ there (({7}\r\n"
	    "one \" q NIL \"a\" \"b\")(NIL NIL \"MISSING_MAILBOX\" \"MISSI"
	    "NG_DOMAIN\")(NIL NIL \"MISSING_MAILBOX\" \"host\")({3}\r\n"
	    "x\303\251 NIL \"u\" \"v\")(\"=?utf-8?q?a?=\" NIL \"e\" \"f\")"
	    "(\"c2\" NIL \"g\" \"h\")(NIL NIL \"Group\" NIL)(NIL NIL NIL N"
	    "IL)({5}\r\n"
	    "q\\\\\\\\ NIL \"z\" \"z\")) (({7}\r\n"
	    "one \" q NIL \"a\" \"b\")(NIL NIL \"MISSING_MAILBOX\" \"MISSI"
	    "NG_DOMAIN\")(NIL NIL \"MISSING_MAILBOX\" \"host\")({3}\r\n"
	    "x\303\251 NIL \"u\" \"v\")(\"=?utf-8?q?a?=\" NIL \"e\" \"f\")"
	    "(\"c2\" NIL \"g\" \"h\")(NIL NIL \"Group\" NIL)(NIL NIL NIL N"
	    "IL)({5}\r\n"
	    "q\\\\\\\\ NIL \"z\" \"z\")) (({7}\r\n"
	    "one \" q NIL \"a\" \"b\")(NIL NIL \"MISSING_MAILBOX\" \"MISSI"
	    "NG_DOMAIN\")(NIL NIL \"MISSING_MAILBOX\" \"host\")({3}\r\n"
	    "x\303\251 NIL \"u\" \"v\")(\"=?utf-8?q?a?=\" NIL \"e\" \"f\")"
	    "(\"c2\" NIL \"g\" \"h\")(NIL NIL \"Group\" NIL)(NIL NIL NIL N"
	    "IL)({5}\r\n"
	    "q\\\\\\\\ NIL \"z\" \"z\")) ((\"x\" NIL \"a\" \"b.c.d\")(\"fo"
	    "o bar\" NIL \"a\" \"b\")) NIL NIL \"<x@y>   <z@w>\" NIL) BODY"
	    " ((\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 26 (NIL \"in d"
	    "igest\" NIL NIL NIL NIL NIL NIL NIL NIL) (\"text\" \"plain\" "
	    "(\"charset\" \"us-ascii\") NIL NIL \"7bit\" 4 0) 2)(\"text\" "
	    "\"plain\" (\"format\" \"flowed\" \"a*\" \"utf-8''%C3%A9x y\" "
	    "\"charset\" \"us-ascii\") NIL NIL \"7bit\" 12 1)(\"text\" \"p"
	    "lain\" (\"b\" \"abcdefghi\" \"charset\" \"us-ascii\") NIL NIL"
	    " \"7bit\" 3 1) \"digest\") BODYSTRUCTURE ((\"message\" \"rfc8"
	    "22\" NIL NIL NIL \"7bit\" 26 (NIL \"in digest\" NIL NIL NIL N"
	    "IL NIL NIL NIL NIL) (\"text\" \"plain\" (\"charset\" \"us-asc"
	    "ii\") NIL NIL \"7bit\" 4 0 NIL NIL NIL NIL) 2 NIL NIL NIL NIL"
	    ")(\"text\" \"plain\" (\"format\" \"flowed\" \"a*\" \"utf-8''%"
	    "C3%A9x y\" \"charset\" \"us-ascii\") NIL NIL \"7bit\" 12 1 NI"
	    "L NIL NIL NIL)(\"text\" \"plain\" (\"b\" \"abcdefghi\" \"char"
	    "set\" \"us-ascii\") NIL NIL \"7bit\" 3 1 NIL NIL NIL NIL) \"d"
	    "igest\" (\"boundary\" \"D\") NIL NIL NIL)" },
	{ "multipart without parts gets one empty text/plain",
	    "Subject: x\r\n"
	    "Content-Type: multipart/mixed; boundary=zz\r\n"
	    "\r\n"
	    "no parts at all\r\n",
	    75,
	    "ENVELOPE (NIL \"x\" NIL NIL NIL NIL NIL NIL NIL NIL) BODY ((\""
	    "text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" "
	    "0 0) \"mixed\") BODYSTRUCTURE ((\"text\" \"plain\" (\"charset"
	    "\" \"us-ascii\") NIL NIL \"7bit\" 0 0 NIL NIL NIL NIL) \"mixe"
	    "d\" (\"boundary\" \"zz\") NIL NIL NIL)" },
	{ "inner boundary extends outer one; missing final boundary",
	    "Subject: x\r\n"
	    "Content-Type: multipart/mixed; boundary=zz\r\n"
	    "\r\n"
	    "--zz\r\n"
	    "Content-Type: multipart/mixed; boundary=zzz\r\n"
	    "\r\n"
	    "--zzz\r\n"
	    "\r\n"
	    "inner\r\n"
	    "--zzz--\r\n"
	    "--zz\r\n"
	    "\r\n"
	    "last",
	    148,
	    "ENVELOPE (NIL \"x\" NIL NIL NIL NIL NIL NIL NIL NIL) BODY ((("
	    "\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\""
	    " 5 0) \"mixed\")(\"text\" \"plain\" (\"charset\" \"us-ascii\""
	    ") NIL NIL \"7bit\" 4 0) \"mixed\") BODYSTRUCTURE (((\"text\" "
	    "\"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 5 0 NIL"
	    " NIL NIL NIL) \"mixed\" (\"boundary\" \"zzz\") NIL NIL NIL)(\""
	    "text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" "
	    "4 0 NIL NIL NIL NIL) \"mixed\" (\"boundary\" \"zz\") NIL NIL "
	    "NIL)" },
	{ "folded subject; names keep their white space (RFC 3501 7.4.2, not Dovecot)",
	    "Subject: folded\r\n"
	    " line\r\n"
	    "From: \"a  b\t c\" <x@y>, d\r\n"
	    "  e <f@g>\r\n"
	    "To: \"plain\" <x@y>\r\n"
	    "\r\n"
	    "body\r\n",
	    88,
	    "ENVELOPE (NIL {11}\r\n"
	    "folded line ((\"a  b\t c\" NIL \"x\" \"y\")(\"d e\" NIL \"f\""
	    " \"g\")) ((\"a  b\t c\" NIL \"x\" \"y\")(\"d e\" NIL \"f\" \""
	    "g\")) ((\"a  b\t c\" NIL \"x\" \"y\")(\"d e\" NIL \"f\" \"g\""
	    ")) ((\"plain\" NIL \"x\" \"y\")) NIL NIL NIL NIL) BODY (\"tex"
	    "t\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 6 1"
	    ") BODYSTRUCTURE (\"text\" \"plain\" (\"charset\" \"us-ascii\""
	    ") NIL NIL \"7bit\" 6 1 NIL NIL NIL NIL)" },
	{ "subject white space kept (RFC 3501 7.4.2, Dovecot squeezes it)",
	    "Subject: two  spaces\tand tab\r\n"
	    "\r\n",
	    32,
	    "ENVELOPE (NIL \"two  spaces\tand tab\" NIL NIL NIL NIL NIL NI"
	    "L NIL NIL) BODY (\"text\" \"plain\" (\"charset\" \"us-ascii\""
	    ") NIL NIL \"7bit\" 0 0) BODYSTRUCTURE (\"text\" \"plain\" (\""
	    "charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0 NIL NIL NIL NIL)" },
	{ "no header/body separator",
	    "Subject: no separator\r\n"
	    "From: a@b",
	    32,
	    "ENVELOPE (NIL \"no separator\" ((NIL NIL \"a\" \"b\")) ((NIL "
	    "NIL \"a\" \"b\")) ((NIL NIL \"a\" \"b\")) NIL NIL NIL NIL NIL"
	    ") BODY (\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL"
	    " \"7bit\" 0 0) BODYSTRUCTURE (\"text\" \"plain\" (\"charset\""
	    " \"us-ascii\") NIL NIL \"7bit\" 0 0 NIL NIL NIL NIL)" },
	{ "bare LF everywhere, message/rfc822 holding a multipart",
	    "Subject: bare\n"
	    "Content-Type: multipart/mixed; boundary=x\n"
	    "\n"
	    "--x\n"
	    "Content-Type: message/rfc822\n"
	    "\n"
	    "Subject: in\n"
	    "Content-Type: multipart/alternative; boundary=y\n"
	    "\n"
	    "--y\n"
	    "\n"
	    "A\n"
	    "--x\n"
	    "\n"
	    "B\n"
	    "\n"
	    "--x--\n",
	    173,
	    "ENVELOPE (NIL \"bare\" NIL NIL NIL NIL NIL NIL NIL NIL) BODY "
	    "((\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 72 (NIL \"in\" "
	    "NIL NIL NIL NIL NIL NIL NIL NIL) ((\"text\" \"plain\" (\"char"
	    "set\" \"us-ascii\") NIL NIL \"7bit\" 1 0) \"alternative\") 5)"
	    "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit"
	    "\" 3 1) \"mixed\") BODYSTRUCTURE ((\"message\" \"rfc822\" NIL"
	    " NIL NIL \"7bit\" 72 (NIL \"in\" NIL NIL NIL NIL NIL NIL NIL "
	    "NIL) ((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL "
	    "\"7bit\" 1 0 NIL NIL NIL NIL) \"alternative\" (\"boundary\" \""
	    "y\") NIL NIL NIL) 5 NIL NIL NIL NIL)(\"text\" \"plain\" (\"ch"
	    "arset\" \"us-ascii\") NIL NIL \"7bit\" 3 1 NIL NIL NIL NIL) \""
	    "mixed\" (\"boundary\" \"x\") NIL NIL NIL)" },
	{ "NUL bytes in header and body",
	    "Subject: nul\r\n"
	    "X: a\000b\r\n"
	    "\r\n"
	    "body\000with nul\r\n",
	    39,
	    "ENVELOPE (NIL \"nul\" NIL NIL NIL NIL NIL NIL NIL NIL) BODY ("
	    "\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\""
	    " 15 1) BODYSTRUCTURE (\"text\" \"plain\" (\"charset\" \"us-as"
	    "cii\") NIL NIL \"7bit\" 15 1 NIL NIL NIL NIL)" },
	{ "truncated inside a part",
	    "Subject: trunc\r\n"
	    "Content-Type: multipart/mixed; boundary=q\r\n"
	    "\r\n"
	    "--q\r\n"
	    "Content-Type: text/plain\r\n"
	    "\r\n"
	    "half a li",
	    103,
	    "ENVELOPE (NIL \"trunc\" NIL NIL NIL NIL NIL NIL NIL NIL) BODY"
	    " ((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7b"
	    "it\" 9 0) \"mixed\") BODYSTRUCTURE ((\"text\" \"plain\" (\"ch"
	    "arset\" \"us-ascii\") NIL NIL \"7bit\" 9 0 NIL NIL NIL NIL) \""
	    "mixed\" (\"boundary\" \"q\") NIL NIL NIL)" },
	{ "8-bit header, ISO-8859-1 encoded word",
	    "Subject: =?iso-8859-1?q?caf=E9?=\r\n"
	    "From: J\366rg <j@x>\r\n"
	    "Content-Type: text/plain; charset=iso-8859-1\r\n"
	    "Content-Transfer-Encoding: quoted-printable\r\n"
	    "\r\n"
	    "K=F6nig=\r\n"
	    "reich\r\n",
	    162,
	    "ENVELOPE (NIL \"=?iso-8859-1?q?caf=E9?=\" (({4}\r\n"
	    "J\366rg NIL \"j\" \"x\")) (({4}\r\n"
	    "J\366rg NIL \"j\" \"x\")) (({4}\r\n"
	    "J\366rg NIL \"j\" \"x\")) NIL NIL NIL NIL NIL) BODY (\"text\""
	    " \"plain\" (\"charset\" \"iso-8859-1\") NIL NIL \"quoted-prin"
	    "table\" 17 2) BODYSTRUCTURE (\"text\" \"plain\" (\"charset\" "
	    "\"iso-8859-1\") NIL NIL \"quoted-printable\" 17 2 NIL NIL NIL"
	    " NIL)" },
	{ "obsolete date, escaped parameter, disposition, language list",
	    "Date: 5 Jan 99 10:00 EST\r\n"
	    "From: a@b\r\n"
	    "Content-Type: application/pdf; name=\"a\\\"b.pdf\"\r\n"
	    "Content-Disposition: inline\r\n"
	    "Content-Language: en, de (comment)\r\n"
	    "\r\n",
	    152,
	    "ENVELOPE (\"5 Jan 99 10:00 EST\" NIL ((NIL NIL \"a\" \"b\")) "
	    "((NIL NIL \"a\" \"b\")) ((NIL NIL \"a\" \"b\")) NIL NIL NIL N"
	    "IL NIL) BODY (\"application\" \"pdf\" (\"name\" \"a\\\"b.pdf\""
	    ") NIL NIL \"7bit\" 0) BODYSTRUCTURE (\"application\" \"pdf\" "
	    "(\"name\" \"a\\\"b.pdf\") NIL NIL \"7bit\" 0 NIL (\"inline\" "
	    "NIL) (\"en\" \"de\") NIL)" },
	{ "empty header",
	    "\r\n"
	    "body only\r\n",
	    13,
	    "ENVELOPE (NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL) BODY (\"te"
	    "xt\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 11"
	    " 1) BODYSTRUCTURE (\"text\" \"plain\" (\"charset\" \"us-ascii"
	    "\") NIL NIL \"7bit\" 11 1 NIL NIL NIL NIL)" },
	{ "repeated fields, quoted boundary with space, empty parts",
	    "From: a@b\r\n"
	    "Sender: s@t\r\n"
	    "Reply-To:\r\n"
	    "Bcc: hidden@x\r\n"
	    "Subject: first\r\n"
	    "Subject: second\r\n"
	    "Content-Type: MULTIPART/Mixed (c); boundary=\"with space\"; x"
	    "=1;\r\n"
	    "\r\n"
	    "--with space\r\n"
	    "Content-Type: MESSAGE/RFC822\r\n"
	    "Content-Transfer-Encoding: base64\r\n"
	    "\r\n"
	    "U3ViamVjdDogeAoKYm9keQo=\r\n"
	    "--with space\r\n"
	    "Content-Type: text/plain;\r\n"
	    "\r\n"
	    "\r\n"
	    "--with space\r\n"
	    "\r\n"
	    "\r\n"
	    "\r\n"
	    "--with space\r\n"
	    "Content-Type: text/plain; charset=\"utf-8\"; charset=latin1\r"
	    "\n"
	    "\r\n"
	    "a\r\n"
	    "--with space--\r\n",
	    415,
	    "ENVELOPE (NIL \"second\" ((NIL NIL \"a\" \"b\")) ((NIL NIL \""
	    "s\" \"t\")) ((NIL NIL \"a\" \"b\")) NIL NIL ((NIL NIL \"hidde"
	    "n\" \"x\")) NIL NIL) BODY ((\"message\" \"rfc822\" NIL NIL NI"
	    "L \"base64\" 26 (NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL) (\""
	    "text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" "
	    "0 0) 1)(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL"
	    " \"7bit\" 0 0)(\"text\" \"plain\" (\"charset\" \"us-ascii\") "
	    "NIL NIL \"7bit\" 2 1)(\"text\" \"plain\" (\"charset\" \"utf-8"
	    "\" \"charset\" \"latin1\") NIL NIL \"7bit\" 1 0) \"Mixed\") B"
	    "ODYSTRUCTURE ((\"message\" \"rfc822\" NIL NIL NIL \"base64\" "
	    "26 (NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL) (\"text\" \"plai"
	    "n\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0 NIL NIL N"
	    "IL NIL) 1 NIL NIL NIL NIL)(\"text\" \"plain\" (\"charset\" \""
	    "us-ascii\") NIL NIL \"7bit\" 0 0 NIL NIL NIL NIL)(\"text\" \""
	    "plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 2 1 NIL N"
	    "IL NIL NIL)(\"text\" \"plain\" (\"charset\" \"utf-8\" \"chars"
	    "et\" \"latin1\") NIL NIL \"7bit\" 1 0 NIL NIL NIL NIL) \"Mixe"
	    "d\" (\"boundary\" \"with space\" \"x\" \"1\") NIL NIL NIL)" },
	{ "nested digests",
	    "From: a@b\r\n"
	    "Content-Type: multipart/digest; boundary=a\r\n"
	    "\r\n"
	    "--a\r\n"
	    "Content-Type: multipart/digest; boundary=b\r\n"
	    "\r\n"
	    "--b\r\n"
	    "\r\n"
	    "Subject: d\r\n"
	    "\r\n"
	    "x\r\n"
	    "--b--\r\n"
	    "--a\r\n"
	    "Content-Type: multipart/mixed; boundary=c\r\n"
	    "\r\n"
	    "--c\r\n"
	    "\r\n"
	    "not msg\r\n"
	    "--c--\r\n"
	    "--a\r\n"
	    "Content-Type: text/plain\r\n"
	    "\r\n"
	    "t\r\n"
	    "--a--\r\n",
	    255,
	    "ENVELOPE (NIL NIL ((NIL NIL \"a\" \"b\")) ((NIL NIL \"a\" \"b"
	    "\")) ((NIL NIL \"a\" \"b\")) NIL NIL NIL NIL NIL) BODY (((\"m"
	    "essage\" \"rfc822\" NIL NIL NIL \"7bit\" 15 (NIL \"d\" NIL NI"
	    "L NIL NIL NIL NIL NIL NIL) (\"text\" \"plain\" (\"charset\" \""
	    "us-ascii\") NIL NIL \"7bit\" 1 0) 2) \"digest\")((\"text\" \""
	    "plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 7 0) \"mi"
	    "xed\")(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL "
	    "\"7bit\" 1 0) \"digest\") BODYSTRUCTURE (((\"message\" \"rfc8"
	    "22\" NIL NIL NIL \"7bit\" 15 (NIL \"d\" NIL NIL NIL NIL NIL N"
	    "IL NIL NIL) (\"text\" \"plain\" (\"charset\" \"us-ascii\") NI"
	    "L NIL \"7bit\" 1 0 NIL NIL NIL NIL) 2 NIL NIL NIL NIL) \"dige"
	    "st\" (\"boundary\" \"b\") NIL NIL NIL)((\"text\" \"plain\" (\""
	    "charset\" \"us-ascii\") NIL NIL \"7bit\" 7 0 NIL NIL NIL NIL)"
	    " \"mixed\" (\"boundary\" \"c\") NIL NIL NIL)(\"text\" \"plain"
	    "\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 1 0 NIL NIL NI"
	    "L NIL) \"digest\" (\"boundary\" \"a\") NIL NIL NIL)" },
	{ "message/rfc822 in base64 is not looked into",
	    "From: a@b\r\n"
	    "Content-Type: multipart/mixed; boundary=z\r\n"
	    "\r\n"
	    "--z\r\n"
	    "Content-Type: message/rfc822\r\n"
	    "Content-Transfer-Encoding: base64\r\n"
	    "\r\n"
	    "U3ViamVjdDogeAoKYm9keQo=\r\n"
	    "--z\r\n"
	    "Content-Type: text/html\r\n"
	    "Content-Type: text/xml\r\n"
	    "Content-Transfer-Encoding: 8bit\r\n"
	    "Content-Transfer-Encoding: binary\r\n"
	    "\r\n"
	    "x\r\n"
	    "--z--\r\n",
	    288,
	    "ENVELOPE (NIL NIL ((NIL NIL \"a\" \"b\")) ((NIL NIL \"a\" \"b"
	    "\")) ((NIL NIL \"a\" \"b\")) NIL NIL NIL NIL NIL) BODY ((\"me"
	    "ssage\" \"rfc822\" NIL NIL NIL \"base64\" 26 (NIL NIL NIL NIL"
	    " NIL NIL NIL NIL NIL NIL) (\"text\" \"plain\" (\"charset\" \""
	    "us-ascii\") NIL NIL \"7bit\" 0 0) 1)(\"text\" \"html\" (\"cha"
	    "rset\" \"us-ascii\") NIL NIL \"8bit\" 1 0) \"mixed\") BODYSTR"
	    "UCTURE ((\"message\" \"rfc822\" NIL NIL NIL \"base64\" 26 (NI"
	    "L NIL NIL NIL NIL NIL NIL NIL NIL NIL) (\"text\" \"plain\" (\""
	    "charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0 NIL NIL NIL NIL)"
	    " 1 NIL NIL NIL NIL)(\"text\" \"html\" (\"charset\" \"us-ascii"
	    "\") NIL NIL \"8bit\" 1 0 NIL NIL NIL NIL) \"mixed\" (\"bounda"
	    "ry\" \"z\") NIL NIL NIL)" },
	{ "encapsulated headers that end at a boundary",
	    "From: a@b\r\n"
	    "Content-Type: multipart/mixed; boundary=z\r\n"
	    "\r\n"
	    "--z\r\n"
	    "Content-Type: message/rfc822\r\n"
	    "\r\n"
	    "Subject: x\r\n"
	    "--z\r\n"
	    "Content-Type: text/plain\r\n"
	    "X-Y: z\r\n"
	    "--z\r\n"
	    "Content-Type: message/rfc822\r\n"
	    "\r\n"
	    "Subject: y\r\n"
	    "\r\n"
	    "--z--\r\n",
	    202,
	    "ENVELOPE (NIL NIL ((NIL NIL \"a\" \"b\")) ((NIL NIL \"a\" \"b"
	    "\")) ((NIL NIL \"a\" \"b\")) NIL NIL NIL NIL NIL) BODY ((\"me"
	    "ssage\" \"rfc822\" NIL NIL NIL \"7bit\" 12 (NIL \"x\" NIL NIL"
	    " NIL NIL NIL NIL NIL NIL) (\"text\" \"plain\" (\"charset\" \""
	    "us-ascii\") NIL NIL \"7bit\" 0 0) 1)(\"text\" \"plain\" (\"ch"
	    "arset\" \"us-ascii\") NIL NIL \"7bit\" 0 0)(\"message\" \"rfc"
	    "822\" NIL NIL NIL \"7bit\" 14 (NIL \"y\" NIL NIL NIL NIL NIL "
	    "NIL NIL NIL) (\"text\" \"plain\" (\"charset\" \"us-ascii\") N"
	    "IL NIL \"7bit\" 0 0) 2) \"mixed\") BODYSTRUCTURE ((\"message\""
	    " \"rfc822\" NIL NIL NIL \"7bit\" 12 (NIL \"x\" NIL NIL NIL NI"
	    "L NIL NIL NIL NIL) (\"text\" \"plain\" (\"charset\" \"us-asci"
	    "i\") NIL NIL \"7bit\" 0 0 NIL NIL NIL NIL) 1 NIL NIL NIL NIL)"
	    "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit"
	    "\" 0 0 NIL NIL NIL NIL)(\"message\" \"rfc822\" NIL NIL NIL \""
	    "7bit\" 14 (NIL \"y\" NIL NIL NIL NIL NIL NIL NIL NIL) (\"text"
	    "\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0 "
	    "NIL NIL NIL NIL) 2 NIL NIL NIL NIL) \"mixed\" (\"boundary\" \""
	    "z\") NIL NIL NIL)" },
	{ "empty elements of address lists and groups",
	    "From: a@b,\r\n"
	    "To: , a@b\r\n"
	    "Cc: a@b,,c@d\r\n"
	    "Bcc: a@b , \r\n"
	    "Reply-To: g: a@b, ;\r\n"
	    "Sender: g: , a@b;\r\n"
	    "\r\n"
	    "body\r\n",
	    98,
	    "ENVELOPE (NIL NIL ((NIL NIL \"a\" \"b\")) ((NIL NIL \"g\" NIL"
	    ")(NIL NIL \"MISSING_MAILBOX\" \"MISSING_DOMAIN\")(NIL NIL \"a"
	    "\" \"b\")(NIL NIL NIL NIL)) ((NIL NIL \"g\" NIL)(NIL NIL \"a\""
	    " \"b\")(NIL NIL \"MISSING_MAILBOX\" \"MISSING_DOMAIN\")(NIL N"
	    "IL NIL NIL)) ((NIL NIL \"MISSING_MAILBOX\" \"MISSING_DOMAIN\""
	    ")(NIL NIL \"a\" \"b\")) ((NIL NIL \"a\" \"b\")(NIL NIL \"MISS"
	    "ING_MAILBOX\" \"MISSING_DOMAIN\")(NIL NIL \"c\" \"d\")) ((NIL"
	    " NIL \"a\" \"b\")) NIL NIL) BODY (\"text\" \"plain\" (\"chars"
	    "et\" \"us-ascii\") NIL NIL \"7bit\" 6 1) BODYSTRUCTURE (\"tex"
	    "t\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 6 1"
	    " NIL NIL NIL NIL)" },
};

/* "ENVELOPE e BODY b BODYSTRUCTURE s", as a FETCH response has it. */
static char *
fetch_line(const struct mime_part *m, size_t *len_r)
{
	char	*e, *b, *s, *r;
	size_t	 el, bl, sl;

	e = mime_envelope(m, &el);
	b = mime_bodystructure(m, 0, &bl);
	s = mime_bodystructure(m, 1, &sl);
	if (e == NULL || b == NULL || s == NULL) {
		free(e);
		free(b);
		free(s);
		return NULL;
	}
	*len_r = el + bl + sl + 30;
	if ((r = malloc(*len_r + 1)) != NULL)
		snprintf(r, *len_r + 1, "ENVELOPE %s BODY %s BODYSTRUCTURE %s",
		    e, b, s);
	free(e);
	free(b);
	free(s);
	return r;
}

static void
test_structure(void)
{
	struct mime_part	*m;
	size_t			 i, len = 0;
	char			*got, name[200];

	for (i = 0; i < sizeof scases / sizeof scases[0]; i++) {
		snprintf(name, sizeof name, "structure: %s", scases[i].name);
		if ((m = mime_parse(scases[i].msg, scases[i].len)) == NULL) {
			check(0, name, "mime_parse failed");
			continue;
		}
		got = fetch_line(m, &len);
		check_str(name, got, len, scases[i].want, strlen(scases[i].want));
		free(got);
		mime_free(m);
	}
}

/* BODY[section] ranges of the first case, as Dovecot sends them. */
static void
test_sections(void)
{
	static const struct {
		uint32_t	 path[3];
		size_t		 depth;
		int		 what;	/* 'M'ime, 'H'eader, 'T'ext, 'B'ody */
		const char	*want;
	} s[] = {
		{ { 2 }, 1, 'M', "Content-Type: message/rfc822\r\n"
		    "Content-Disposition: attachment; filename*=utf-8'en'"
		    "%C3%A9.txt\r\n\r\n" },
		{ { 2 }, 1, 'H', "Subject: inner\r\nContent-Type: multipart/"
		    "alternative; boundary=CC\r\n\r\n" },
		{ { 2, 1 }, 2, 'M', "Content-Type: text/html\r\n"
		    "Content-Transfer-Encoding: BASE64\r\nContent-MD5: abc\r\n"
		    "Content-Location: http://x\r\nContent-ID: <id>\r\n"
		    "Content-Description: desc\r\n\r\n" },
		{ { 2, 1 }, 2, 'B', "aGVsbG8=" },
		{ { 1 }, 1, 'B', "plain" },
		{ { 3 }, 1, 'B', "xx" },
		{ { 0 }, 0, 'H', NULL },	/* the whole header */
	};
	const struct mime_part	*root, *p;
	const char		*d;
	size_t			 i, n;
	char			 name[64];

	root = mime_parse(scases[0].msg, scases[0].len);
	if (root == NULL) {
		check(0, "sections: parse", NULL);
		return;
	}
	for (i = 0; i < sizeof s / sizeof s[0]; i++) {
		snprintf(name, sizeof name, "sections: %zu", i);
		p = mime_find(root, s[i].path, s[i].depth);
		if (p != NULL && s[i].what == 'H')
			p = mime_message(p);
		if (p == NULL) {
			check(0, name, "no part");
			continue;
		}
		if (s[i].what == 'B')
			mime_body(p, &d, &n);
		else
			mime_header(p, &d, &n);
		if (s[i].want == NULL)
			check(d == scases[0].msg && n > 0 &&
			    memcmp(d + n - 4, "\r\n\r\n", 4) == 0, name, NULL);
		else
			check_str(name, d, n, s[i].want, strlen(s[i].want));
	}
	{
		uint32_t	 bad[][3] = { { 4 }, { 0 }, { 1, 1 }, { 2, 2 },
		    { 2, 1, 1 } };
		size_t		 depth[] = { 1, 1, 2, 2, 3 };

		for (i = 0; i < 5; i++) {
			snprintf(name, sizeof name, "sections: no part %zu", i);
			check(mime_find(root, bad[i], depth[i]) == NULL, name, NULL);
		}
	}
	check(mime_message(mime_find(root, (uint32_t[]){ 1 }, 1)) == NULL,
	    "sections: mime_message of a text part", NULL);
	mime_free((struct mime_part *)root);

	/* A message whose body is a message/rfc822 (RFC 3501 6.4.5). */
	{
		static const char top[] = "Subject: outer\r\n"
		    "Content-Type: message/rfc822\r\n\r\n"
		    "Subject: inner\r\n\r\nthe text\r\n";
		const struct mime_part *msg;

		root = mime_parse(top, sizeof top - 1);
		p = mime_find(root, (uint32_t[]){ 1 }, 1);
		msg = mime_message(p);
		if (msg != NULL)
			mime_header(msg, &d, &n);
		check(msg != NULL && n == 18 &&
		    memcmp(d, "Subject: inner\r\n\r\n", 18) == 0,
		    "sections: 1.HEADER of a message/rfc822 message", NULL);
		mime_header(p, &d, &n);
		check(n == 48 && memcmp(d, "Subject: outer", 14) == 0,
		    "sections: 1.MIME of a message/rfc822 message", NULL);
		msg = mime_message(root);
		mime_header(msg, &d, &n);
		check(msg == root && n == 48, "sections: HEADER of it", NULL);
		p = mime_find(root, (uint32_t[]){ 1, 1 }, 2);
		mime_body(p, &d, &n);
		check(p != NULL && n == 10 && memcmp(d, "the text\r\n", 10) == 0,
		    "sections: 1.1 of a message/rfc822 message", NULL);
		mime_free((struct mime_part *)root);
	}

	/* A header cut short by a boundary ends before its line break. */
	{
		static const char cut[] = "Content-Type: multipart/mixed; "
		    "boundary=z\r\n\r\n--z\r\nX-A: b\r\n--z--\r\n";

		root = mime_parse(cut, sizeof cut - 1);
		p = mime_find(root, (uint32_t[]){ 1 }, 1);
		mime_header(p, &d, &n);
		check(p != NULL && n == 6 && memcmp(d, "X-A: b", 6) == 0,
		    "sections: MIME header cut by a boundary", NULL);
		mime_free((struct mime_part *)root);
	}

	/* A message that is not multipart: part 1 is its body. */
	root = mime_parse("Subject: a\r\n\r\nbody\r\n", 20);
	p = mime_find(root, (uint32_t[]){ 1 }, 1);
	mime_body(p, &d, &n);
	check(p != NULL && n == 6 && memcmp(d, "body\r\n", 6) == 0,
	    "sections: BODY[1] of a single-part message", NULL);
	check(mime_find(root, (uint32_t[]){ 2 }, 1) == NULL,
	    "sections: BODY[2] of a single-part message", NULL);
	mime_free((struct mime_part *)root);
}

static const char search_msg[] =
    "From: =?ISO-8859-1?Q?J=F6rg_M=FCller?= <jm@example.org>\r\n"
    "To: =?utf-8?B?w4lsb2RpZQ==?= <e@example.org>\r\n"
    "Subject: =?utf-8?q?Caf=C3=A9?= =?utf-8?q?_cr=C3=A8me?=\r\n"
    " folded tail\r\n"
    "Date: Tue, 3 Feb 2015 10:00:00 +0100\r\n"
    "Content-Type: multipart/mixed; boundary=S\r\n"
    "\r\n"
    "preamble words\r\n"
    "--S\r\n"
    "Content-Type: text/plain; charset=iso-8859-1\r\n"
    "Content-Transfer-Encoding: quoted-printable\r\n"
    "\r\n"
    "Gr=FC=DFe aus K=F6ln, soft=\r\n"
    "break\r\n"
    "--S\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "\r\n"
    "U2VjcmV0IMOJQ0xBSVIgaW5zaWRl\r\n"
    "--S\r\n"
    "Content-Type: message/rfc822\r\n"
    "\r\n"
    "Subject: inner header word\r\n"
    "\r\n"
    "inner body word\r\n"
    "--S--\r\n"
    "epilogue words\r\n";

/* SEARCH BODY (body_only) or TEXT on a message's text made once. */
static int
text_search(const struct mime_part *m, const char *needle, int body_only)
{
	struct mime_text	*t = mime_text(m);
	int			 r;

	r = t != NULL && mime_text_search(t, needle, body_only);
	mime_text_free(t);
	return r;
}

static void
test_search(void)
{
	static const struct {
		const char	*field;	/* NULL: TEXT, "": BODY */
		const char	*needle;
		int		 want;
	} s[] = {
		{ "subject", "café crème", 1 },
		{ "subject", "CAFÉ CRÈME FOLDED", 1 },
		{ "subject", "=?utf-8", 0 },
		{ "SUBJECT", "", 1 },
		{ "cc", "", 0 },
		{ "from", "jörg müller", 1 },
		{ "from", "JM@EXAMPLE", 1 },
		{ "to", "élodie", 1 },
		{ "to", "ÉLODIE", 1 },
		{ "subject", "inner", 0 },	/* top-level header only */
		{ "", "grüße aus köln", 1 },
		{ "", "softbreak", 1 },
		{ "", "secret éclair inside", 1 },
		{ "", "U2VjcmV0", 0 },		/* decoded, not raw */
		{ "", "inner body word", 1 },
		{ "", "preamble", 0 },
		{ "", "epilogue", 0 },
		{ "", "café", 0 },		/* BODY: no headers */
		{ NULL, "café", 1 },
		{ NULL, "inner header word", 1 },
		{ NULL, "Content-Transfer", 1 },
		{ NULL, "KÖLN", 1 },
		{ NULL, "nowhere", 0 },
		{ NULL, "", 1 },
	};
	struct mime_part	*m;
	struct mime_text	*t;
	size_t			 i;
	char			 name[128];
	int			 r;

	/* One text serves every key, as for one message in a SEARCH. */
	m = mime_parse(search_msg, sizeof search_msg - 1);
	t = mime_text(m);
	for (i = 0; i < sizeof s / sizeof s[0]; i++) {
		if (s[i].field == NULL)
			r = t != NULL && mime_text_search(t, s[i].needle, 0);
		else if (*s[i].field == '\0')
			r = t != NULL && mime_text_search(t, s[i].needle, 1);
		else
			r = mime_search_header(m, s[i].field, s[i].needle);
		snprintf(name, sizeof name, "search: %s \"%s\" -> %d",
		    s[i].field ? *s[i].field ? s[i].field : "BODY" : "TEXT",
		    s[i].needle, s[i].want);
		check(r == s[i].want, name, NULL);
	}
	mime_text_free(t);
	mime_free(m);
}

static void
test_date(void)
{
	static const struct {
		const char	*date;
		int64_t		 want;	/* days since the epoch, -1: none */
	} s[] = {
		{ "Tue, 3 Feb 2015 23:59:59 -1100", 16469 },
		{ "3 Feb 2015 00:00 +1400", 16469 },
		{ "Tue,  03 feb 15 10:00 EST", 16469 },
		{ "3 Feb 99 10:00 GMT", 10625 },
		{ "(comment) Wed, 1 Jan 1970 00:00 Z", 0 },
		{ "1 January 2000 12:00", 10957 },
		{ "29 Feb 2001 00:00", -1 },
		{ "29 Feb 2000 00:00", 11016 },
		{ "Tue, 3 Foo 2015", -1 },
		{ "garbage", -1 },
		{ "", -1 },
	};
	struct mime_part	*m;
	char			 msg[200], name[128];
	int64_t			 day;
	size_t			 i;
	int			 r;

	for (i = 0; i < sizeof s / sizeof s[0]; i++) {
		snprintf(msg, sizeof msg, "Date: %s\r\n\r\n", s[i].date);
		m = mime_parse(msg, strlen(msg));
		day = -2;
		r = mime_sent_date(m, &day);
		snprintf(name, sizeof name, "date: \"%s\"", s[i].date);
		if (s[i].want < 0)
			check(r == -1, name, NULL);
		else
			check(r == 0 && day == s[i].want * 86400, name, NULL);
		mime_free(m);
	}
	m = mime_parse("Subject: none\r\n\r\n", 17);
	check(mime_sent_date(m, &day) == -1, "date: absent", NULL);
	mime_free(m);
}

/* Deepest nesting of parentheses outside strings (literals skipped). */
static int
paren_depth(const char *s, size_t n)
{
	size_t	 i;
	int	 d = 0, max = 0;

	for (i = 0; i < n; i++) {
		if (s[i] == '"') {
			for (i++; i < n && s[i] != '"'; i++)
				if (s[i] == '\\')
					i++;
		} else if (s[i] == '{') {
			size_t len = strtoul(s + i + 1, NULL, 10);
			while (i < n && s[i] != '\n')
				i++;
			i += len;
		} else if (s[i] == '(' && ++d > max)
			max = d;
		else if (s[i] == ')')
			d--;
	}
	return d == 0 ? max : -1;
}

struct buf {
	char	*p;
	size_t	 len, cap;
};

static void
add(struct buf *b, const char *s)
{
	size_t	 n = strlen(s);

	if (b->cap - b->len <= n) {
		b->cap = (b->len + n + 1) * 2;
		if ((b->p = realloc(b->p, b->cap)) == NULL) {
			perror("realloc");
			exit(2);
		}
	}
	memcpy(b->p + b->len, s, n + 1);
	b->len += n;
}

/* Counts parts by walking every section path the tree answers to. */
static size_t
count_parts(const struct mime_part *root, uint32_t *path, size_t depth)
{
	size_t		 n = 0;
	uint32_t	 i;

	if (depth >= 64)
		return 0;
	for (i = 1; ; i++) {
		path[depth] = i;
		if (mime_find(root, path, depth + 1) == NULL)
			break;
		n += 1 + count_parts(root, path, depth + 1);
	}
	return n;
}

static void
test_limits(void)
{
	struct mime_part	*m;
	struct buf		 b = { 0 };
	char			 line[128], *s;
	uint32_t		 path[64];
	size_t			 i, n;
	int			 d;

	/* 10,000 nested multiparts, each with its own boundary. */
	add(&b, "Subject: bomb\r\n");
	for (i = 0; i < 10000; i++) {
		snprintf(line, sizeof line, "Content-Type: multipart/mixed; "
		    "boundary=b%zu\r\n\r\n--b%zu\r\n", i, i);
		add(&b, line);
	}
	add(&b, "\r\nleaf\r\n");
	m = mime_parse(b.p, b.len);
	check(m != NULL, "limits: multipart bomb parses", NULL);
	s = mime_bodystructure(m, 1, &n);
	d = s ? paren_depth(s, n) : -1;
	check(d > 0 && d <= MIME_DEPTH_MAX + 2,
	    "limits: multipart bomb nesting is capped", NULL);
	/* Dovecot 2.3 shows level 100 so (its limit is 100 as well). */
	check(s != NULL && strstr(s, "(\"application\" \"octet-stream\" "
	    "(\"boundary\" \"b99\") NIL NIL \"7bit\" 0 NIL NIL NIL NIL) "
	    "\"mixed\" (\"boundary\" \"b98\")") != NULL,
	    "limits: the container past the cap is application/octet-stream",
	    NULL);
	free(s);
	check(text_search(m, "leaf", 1) == 1,
	    "limits: text past the depth cap is searchable", NULL);
	mime_free(m);

	/* 10,000 nested message/rfc822 parts. */
	b.len = 0;
	for (i = 0; i < 10000; i++)
		add(&b, "Subject: level\r\nContent-Type: message/rfc822\r\n\r\n");
	add(&b, "Subject: bottom\r\n\r\nbody\r\n");
	m = mime_parse(b.p, b.len);
	check(m != NULL, "limits: message/rfc822 bomb parses", NULL);
	s = mime_bodystructure(m, 1, &n);
	d = s ? paren_depth(s, n) : -1;
	check(d > 0 && d <= 3 * MIME_DEPTH_MAX + 3,
	    "limits: message/rfc822 bomb nesting is capped", NULL);
	free(s);
	s = mime_envelope(m, &n);
	check(s != NULL && strncmp(s, "(NIL \"level\"", 12) == 0,
	    "limits: message/rfc822 bomb envelope", s);
	free(s);
	mime_free(m);

	/* 5,000 parts in one multipart. */
	b.len = 0;
	add(&b, "Content-Type: multipart/mixed; boundary=x\r\n\r\n");
	for (i = 0; i < 5000; i++)
		add(&b, "--x\r\n\r\npart\r\n");
	add(&b, "--x--\r\n");
	m = mime_parse(b.p, b.len);
	n = m ? count_parts(m, path, 0) : 0;
	check(n > 100 && n <= MIME_PARTS_MAX, "limits: part count is capped",
	    NULL);
	s = mime_bodystructure(m, 0, &n);
	check(s != NULL && paren_depth(s, n) == 3,
	    "limits: flood bodystructure is well formed", NULL);
	free(s);
	mime_free(m);
	free(b.p);
}

/*
 * Every prefix of every case (truncation anywhere), and each case with
 * its CRLFs made bare LFs: nothing may crash or come out unbalanced.
 */
static void
test_truncation(void)
{
	struct mime_part	*m;
	size_t			 i, k, n, j;
	char			*s, *lf;
	int			 bad = 0;

	for (i = 0; i < sizeof scases / sizeof scases[0]; i++) {
		for (k = 0; k <= scases[i].len; k++) {
			/* A copy of exactly k bytes, so ASan sees overreads. */
			if ((lf = malloc(k ? k : 1)) == NULL)
				exit(2);
			memcpy(lf, scases[i].msg, k);
			if ((m = mime_parse(lf, k)) == NULL) {
				bad++;
				free(lf);
				continue;
			}
			s = mime_bodystructure(m, 1, &n);
			if (s == NULL || paren_depth(s, n) < 1)
				bad++;
			free(s);
			s = mime_envelope(m, &n);
			if (s == NULL || paren_depth(s, n) < 1)
				bad++;
			free(s);
			text_search(m, "zz", 0);
			mime_free(m);
			free(lf);
		}
		if ((lf = malloc(scases[i].len + 1)) == NULL)
			exit(2);
		for (j = k = 0; j < scases[i].len; j++)
			if (scases[i].msg[j] != '\r')
				lf[k++] = scases[i].msg[j];
		if ((m = mime_parse(lf, k)) != NULL) {
			s = mime_bodystructure(m, 1, &n);
			if (s == NULL || paren_depth(s, n) < 1)
				bad++;
			free(s);
			mime_free(m);
		} else
			bad++;
		free(lf);
	}
	check(bad == 0, "truncation: every prefix and bare-LF form parses",
	    NULL);
}

int
main(void)
{
	test_structure();
	test_sections();
	test_search();
	test_date();
	test_limits();
	test_truncation();
	printf("mimetest: %d passed, %d failed\n", npass, nfail);
	return nfail != 0;
}
