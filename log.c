/*
 * log.c: logging. One line a message, to syslog or (-s) to stderr, with
 * the bytes a client sent escaped so that they cannot forge a line or a
 * field; the client's address as the launcher gives it; the fatal exit.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "log.h"

static int	 to_stderr;	/* -s: log to stderr, not syslog */

/*
 * Copy s into dst (size bytes, NUL-terminated) with the bytes a log
 * reader could misread written as \xNN: control bytes always, so nothing
 * ends a line early; in a field quoted from the client (field != 0) also
 * space, '"', '=', '\\' and non-ASCII, so the field stays one word that
 * cannot pass for another field such as "remote=". Too long ends in "...".
 */
static void
log_escape(char *dst, size_t size, const char *s, int field)
{
	size_t n = 0;

	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		int hex = c < 0x20 || c == 0x7f || (field && (c == ' ' ||
		    c == '"' || c == '=' || c == '\\' || c >= 0x80));

		if (n + (hex ? 4 : 1) + 3 >= size) {
			memcpy(dst + n, "...", 3);
			n += 3;
			break;
		}
		if (hex)
			n += (size_t)snprintf(dst + n, size - n, "\\x%02x", c);
		else
			dst[n++] = (char)c;
	}
	dst[n] = '\0';
}

/* A client-controlled string for a log line: valid for 3 more calls. */
const char *
log_esc(const char *s)
{
	static char ring[4][256];
	static unsigned next;
	char *d = ring[next++ % 4];

	log_escape(d, sizeof ring[0], s, 1);
	return d;
}

/*
 * One line is one write(2) (or one syslog(3) message), so the lines of
 * concurrent processes never mix; a control byte that got into the
 * message anyway cannot start a line of its own.
 */
void
log_msg(int prio, const char *fmt, ...)
{
	char msg[1024], line[1100];
	size_t n;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (!to_stderr) {
		log_escape(line, sizeof line, msg, 0);
		syslog(prio, "%s", line);
		return;
	}
	n = (size_t)snprintf(line, sizeof line, "imapd[%ld]: ", (long)getpid());
	log_escape(line + n, sizeof line - n - 1, msg, 0);
	n += strlen(line + n);
	line[n++] = '\n';
	while (write(2, line, n) == -1 && errno == EINTR)
		;
}

/* The client's address as the launcher gives it, escaped (log_esc). */
const char *
log_remote(void)
{
	static char buf[256];
	const char *r;

	if (buf[0] == '\0') {
		if ((r = getenv("TCPREMOTEIP")) == NULL &&
		    (r = getenv("REMOTE_HOST")) == NULL)
			r = "local";
		log_escape(buf, sizeof buf, r, 1);
	}
	return buf;
}

/* A fatal error, logged; copied to stderr too where show says so. */
static void
fatal_line(int show, const char *fmt, va_list ap)
{
	char msg[512];

	vsnprintf(msg, sizeof msg, fmt, ap);
	log_msg(LOG_ERR, "fatal: %s", msg);
	if (show && !to_stderr)
		fprintf(stderr, "imapd: %s\n", msg);
}

void
log_die(int code, const char *fmt, ...)
{
	va_list ap;

	/* Someone at a terminal should see why, too. */
	va_start(ap, fmt);
	fatal_line(isatty(2), fmt, ap);
	va_end(ap);
	exit(code);
}

void
log_to_stderr(void)
{
	to_stderr = 1;
}

/*
 * Whether stderr is the client's socket, as inetd passes it (fds 0, 1 and
 * 2 alike): a line written there would reach the client as IMAP.
 */
static int
stderr_is_client(void)
{
	struct stat e, c;
	int fd;

	if (fstat(2, &e) == -1)
		return 1;	/* closed: nowhere to write */
	for (fd = 0; fd <= 1; fd++)
		if (fstat(fd, &c) == 0 && c.st_dev == e.st_dev &&
		    c.st_ino == e.st_ino)
			return 1;
	return 0;
}

/*
 * A fatal error at start-up, before a session or a delivery: logged, and
 * written to stderr as well wherever that is not the client's socket, so
 * that the launcher (or the MTA, or whoever runs imapd by hand) sees why.
 */
void
log_fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fatal_line(!stderr_is_client(), fmt, ap);
	va_end(ap);
}
