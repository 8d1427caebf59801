/*
 * utf7test: utf7.c: modified UTF-7 to UTF-8 and back, over RFC 3501
 * 5.1.3's example and every refused spelling; UTF-8's strict checks.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utf7.h"

static int	 npass, nfail;

static void
check(int ok, const char *name, const char *got)
{
	if (ok)
		npass++;
	else
		nfail++;
	printf("%s - %s\n", ok ? "ok" : "not ok", name);
	if (!ok && got != NULL)
		printf("# got \"%s\"\n", got);
}

/* Both spellings of one name: each converts to the other. */
static const struct { const char *utf7, *utf8; } pairs[] = {
	{ "INBOX", "INBOX" },
	{ "&-", "&" },
	{ "a&-b&-", "a&b&" },
	/* RFC 3501 5.1.3's example */
	{ "~peter/mail/&U,BTFw-/&ZeVnLIqe-",
	    "~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/\xe6\x97\xa5\xe6\x9c\xac"
	    "\xe8\xaa\x9e" },
	{ "&AOk-t&AOk-", "\xc3\xa9t\xc3\xa9" },
	{ "&AOkA6Q-", "\xc3\xa9\xc3\xa9" },
	/* U+1F600: a surrogate pair */
	{ "&2D3eAA-", "\xf0\x9f\x98\x80" },
	{ "&AAk-", "\t" },
	{ "&AH8-", "\x7f" },
};

/* Modified UTF-7 that utf7_to_utf8 refuses, each for one reason. */
static const char *const bad7[] = {
	"&AGE-",	/* 'a', which stands for itself */
	"&ACY-",	/* '&' encoded: it is "&-" */
	"&",		/* unterminated */
	"a&AOk",	/* unterminated run */
	"&AOk-&AOk-",	/* a null shift: one run "&AOkA6Q-" */
	"&AO-",		/* 12 bits: no whole character */
	"&AOl-",	/* padding bits not zero */
	"&AOkA-",	/* a whole character of padding */
	"&AOk=-",	/* '=' is no modified BASE64 */
	"&AOk/-",	/* '/' is UTF-7's, ',' is modified UTF-7's */
	"&2D0-",	/* a lone high surrogate */
	"&3gA-",	/* a lone low surrogate */
	"&2D0AQQ-",	/* a high surrogate and no low one */
	"&AAA-",	/* NUL */
	"caf\xc3\xa9",	/* 8-bit bytes */
	"a\tb",		/* a control character written directly */
};

/* UTF-8 that utf8_valid and utf8_to_utf7 refuse. */
static const char *const bad8[] = {
	"\xc0\xaf",		/* overlong '/' */
	"\xe0\x80\xaf",		/* overlong, three bytes */
	"\xf0\x80\x80\xaf",	/* overlong, four bytes */
	"\xed\xa0\x80",		/* surrogate U+D800 */
	"\xf4\x90\x80\x80",	/* U+110000 */
	"\xf8\x88\x80\x80\x80",	/* five bytes */
	"\xc3",			/* truncated */
	"a\xe6\x97",		/* truncated at the end */
	"\x80",			/* a lone continuation byte */
	"\xc3\x28",		/* a bad continuation byte */
};

int
main(void)
{
	size_t i;
	char *s, name[64];
	uint32_t cp;

	for (i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
		snprintf(name, sizeof name, "decode %s", pairs[i].utf7);
		s = NULL;
		check(utf7_to_utf8(pairs[i].utf7, &s) == 0 &&
		    strcmp(s, pairs[i].utf8) == 0, name, s);
		free(s);
		snprintf(name, sizeof name, "encode to %s", pairs[i].utf7);
		s = NULL;
		check(utf8_to_utf7(pairs[i].utf8, &s) == 0 &&
		    strcmp(s, pairs[i].utf7) == 0, name, s);
		free(s);
	}
	for (i = 0; i < sizeof bad7 / sizeof bad7[0]; i++) {
		snprintf(name, sizeof name, "refused: mUTF-7 %zu", i);
		s = NULL;
		check(utf7_to_utf8(bad7[i], &s) == -1, name, s);
		free(s);
	}
	for (i = 0; i < sizeof bad8 / sizeof bad8[0]; i++) {
		snprintf(name, sizeof name, "refused: UTF-8 %zu", i);
		s = NULL;
		check(!utf8_valid(bad8[i], strlen(bad8[i])) &&
		    utf8_to_utf7(bad8[i], &s) == -1, name, s);
		free(s);
	}
	check(utf8_get("\xf4\x8f\xbf\xbf", 4, &cp) == 4 && cp == 0x10ffff,
	    "U+10FFFF is the last", NULL);
	check(utf8_get("\xef\xbf\xbf", 3, &cp) == 3 && cp == 0xffff,
	    "U+FFFF decodes", NULL);
	printf("utf7test: %d passed, %d failed\n", npass, nfail);
	return nfail != 0;
}
