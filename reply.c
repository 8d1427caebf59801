/*
 * reply.c: a command's result: the text of its tagged reply (OK, NO or
 * BAD), kept until the dispatcher writes it, and the RFC 5530 response
 * code a store failure is answered with.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "imapd.h"
#include "log.h"
#include "reply.h"
#include "session.h"

static int reply(int res, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static int
reply(int res, const char *fmt, va_list ap)
{
	va_list ap2;
	int n;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	free(S.restext);
	if (n < 0 || (S.restext = malloc((size_t)n + 1)) == NULL)
		log_die(EXIT_TEMP, "out of memory");
	vsnprintf(S.restext, (size_t)n + 1, fmt, ap);
	return res;
}

int
reply_no(const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = reply(RES_NO, fmt, ap);
	va_end(ap);
	return r;
}

int
reply_bad(const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = reply(RES_BAD, fmt, ap);
	va_end(ap);
	return r;
}

/* An OK whose text is a response code followed by "<COMMAND> completed". */
int
reply_ok(const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = reply(RES_OK, fmt, ap);
	va_end(ap);
	return r;
}

int
reply_bad_args(void)
{
	return reply_bad("Missing or invalid arguments");
}

/* Map the store's last failure to the reply RFC 5530 gives it. */
int
reply_no_store(int trycreate)
{
	switch (store_errcode(S.store)) {
	case ENOENT:
		return trycreate ? reply_no("[TRYCREATE] No such mailbox") :
		    reply_no("[NONEXISTENT] No such mailbox");
	case EIDRM:	/* the selected one: imapd(8), RFC 2180 3.2 */
		return reply_no("[NONEXISTENT] Mailbox deleted by another "
		    "session");
	case EEXIST:
		return reply_no("[ALREADYEXISTS] Mailbox exists");
	case EINVAL:
		return reply_no("[CANNOT] Invalid mailbox name");
	case ENAMETOOLONG:
		return reply_no("[CANNOT] Mailbox name too long");
	case ENOSPC:
		return reply_no("[LIMIT] Too many keywords");
	case EAGAIN:
	case ETIMEDOUT:
	case EDEADLK:	/* two MOVEs between the same mailboxes, crossed */
		return reply_no("[INUSE] Mailbox is busy, try again");
	default:
		log_msg(LOG_ERR, "user %s: %s", S.user ? S.user : "-",
		    store_error(S.store));
		return reply_no("[SERVERBUG] %s", store_error(S.store));
	}
}
