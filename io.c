/*
 * io.c: the client's input and output, each with a deadline: 60 seconds
 * to log in, 30 minutes a read or a flush after it. Output is buffered
 * and non-blocking; the writers of IMAP's data forms (numbers, strings,
 * literals) are here. Input is read into one buffer the parser is fed
 * from, wiped where it may have held a password.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "imapd.h"
#include "io.h"
#include "log.h"
#include "parse.h"
#include "session.h"

#define OUTBUF_SIZE		(64 * 1024)
#define INBUF_SIZE		(64 * 1024)

static char	 obuf[OUTBUF_SIZE];
static size_t	 olen;
static char	 ibuf[INBUF_SIZE];
static size_t	 ipos, ilen;

static int	 preauth_left(void);
static int	 out_flags = -1;	/* fd 1's flags before io_nonblock */

static long long
ms_since(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - t->tv_sec) * 1000LL +
	    (now.tv_nsec - t->tv_nsec) / 1000000;
}

static void
out_restore(void)
{
	fcntl(1, F_SETFL, out_flags);
}

/*
 * Output never blocks, so the deadline of write_all holds even when the
 * client reads nothing. The flags belong to the open file, which others
 * (a terminal's shell) may share: they get them back at exit.
 */
void
io_nonblock(void)
{
	if ((out_flags = fcntl(1, F_GETFL)) == -1 ||
	    fcntl(1, F_SETFL, out_flags | O_NONBLOCK) == -1)
		log_die(EXIT_TEMP, "output: %s", strerror(errno));
	atexit(out_restore);
}

/*
 * Every write has a deadline: before login what is left of the minute to
 * log in, after it 30 minutes for each flush (what a read gets).
 */
static void
write_all(const char *p, size_t n)
{
	struct pollfd pfd = { .fd = 1, .events = POLLOUT };
	struct timespec t0;
	long long ms;
	ssize_t w;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (n > 0) {
		if ((w = write(1, p, n)) >= 0) {
			p += w;
			n -= (size_t)w;
			continue;
		}
		if (errno == EINTR)
			continue;
		/* The client went away: nothing left to do. */
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			exit(0);
		ms = S.state == ST_NOAUTH ? preauth_left() :
		    TIMEOUT_AUTH_MS - ms_since(&t0);
		if (ms <= 0 || poll(&pfd, 1, (int)ms) == 0)
			log_die(EXIT_TEMP, "output timed out");
	}
}

void
io_flush(void)
{
	write_all(obuf, olen);
	olen = 0;
}

void
io_out(const void *p, size_t n)
{
	if (n > sizeof obuf - olen) {
		io_flush();
		if (n > sizeof obuf) {
			write_all(p, n);
			return;
		}
	}
	memcpy(obuf + olen, p, n);
	olen += n;
}

void
io_outf(const char *fmt, ...)
{
	char tmp[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (n < 0)
		log_die(EXIT_TEMP, "output format error");
	if ((size_t)n < sizeof tmp) {
		io_out(tmp, (size_t)n);
		return;
	}
	/* Longer than tmp (a long tag, say): never cut a reply short. */
	char *big = malloc((size_t)n + 1);
	if (big == NULL)
		log_die(EXIT_TEMP, "out of memory");
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	io_out(big, (size_t)n);
	free(big);
}

void
io_outs(const char *s)
{
	io_out(s, strlen(s));
}

/* A number, without printf: FETCH 1:* prints millions of them. */
void
io_outu(uint64_t v)
{
	char buf[20];
	size_t i = sizeof buf;

	do
		buf[--i] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	io_out(buf + i, sizeof buf - i);
}

void
io_literal(const char *p, size_t n)
{
	io_outf("{%zu}\r\n", n);
	io_out(p, n);
}

/*
 * Message text as a literal. RFC 3501 section 4.3 allows no NUL in one,
 * so a NUL (which delivery keeps, to lose nothing) goes out as 0x80, as
 * other servers do; the length is unchanged.
 */
void
io_text_literal(const char *p, size_t n)
{
	const char *z;

	io_outf("{%zu}\r\n", n);
	while ((z = memchr(p, '\0', n)) != NULL) {
		io_out(p, (size_t)(z - p));
		io_out("\x80", 1);
		n -= (size_t)(z - p) + 1;
		p = z + 1;
	}
	io_out(p, n);
}

/*
 * Decoded content (FETCH BINARY): a literal8 when it holds a NUL, else a
 * plain literal, as RFC 3516 4.3 asks, so that "~{" tells a client there
 * are NULs without a scan.
 */
void
io_binary_literal(const char *p, size_t n)
{
	io_outf("%s{%zu}\r\n", memchr(p, '\0', n) != NULL ? "~" : "", n);
	io_out(p, n);
}

/* A string the way RFC 3501 section 4 allows: atom, quoted or literal. */
void
io_astring(const char *s)
{
	size_t n = strlen(s), i;
	int quote = n == 0;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\r' || c == '\n' || c >= 0x80) {
			io_literal(s, n);
			return;
		}
		if (!parse_is_atom(s + i, 1) && c != ']')
			quote = 1;
	}
	/* An atom NIL would read as nil (RFC 3501 4.5). */
	if (!quote && strcasecmp(s, "NIL") != 0) {
		io_out(s, n);
		return;
	}
	io_quoted(s);
}

/* A quoted string; s holds no CR or LF. */
void
io_quoted(const char *s)
{
	size_t i;

	io_out("\"", 1);
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] == '"' || s[i] == '\\')
			io_out("\\", 1);
		io_out(s + i, 1);
	}
	io_out("\"", 1);
}

/*
 * What is left of the time to log in: counted from the start, not per
 * read, so a client trickling bytes cannot stay unauthenticated for long.
 */
static int
preauth_left(void)
{
	long long ms = ms_since(&S.started);

	return ms >= TIMEOUT_PREAUTH_MS ? 0 : (int)(TIMEOUT_PREAUTH_MS - ms);
}

/* Wait for input with the deadline of the current state. */
static int
fill_input(void)
{
	struct pollfd pfd = { .fd = 0, .events = POLLIN };
	int ms = S.state == ST_NOAUTH ? preauth_left() : TIMEOUT_AUTH_MS;
	ssize_t n;

	io_flush();
	for (;;) {
		int r = poll(&pfd, 1, ms);
		if (r == 0) {
			io_outs("* BYE Autologout\r\n");
			io_flush();
			log_msg(LOG_INFO, "timeout user=%s remote=%s",
			    S.user ? S.user : "-", log_remote());
			exit(0);
		}
		if (r == -1 && errno == EINTR)
			continue;
		n = read(0, ibuf, sizeof ibuf);
		if (n == -1 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			return -1;
		ipos = 0;
		ilen = (size_t)n;
		return 0;
	}
}

/*
 * One raw line (an AUTHENTICATE response), without its line end. A line
 * longer than max is read to its end all the same, so the next command
 * starts in step, and then refused.
 */
int
io_rawline(char *buf, size_t max)
{
	size_t n = 0;
	int over = 0;

	for (;;) {
		if (ipos == ilen && fill_input() == -1)
			exit(0);
		char c = ibuf[ipos++];
		if (c == '\n')
			break;
		if (n + 1 >= max)
			over = 1;
		else
			buf[n++] = c;
	}
	if (over)
		return -1;
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	return 0;
}

/*
 * Wait at most ms for input or for fd (-1: none) to turn readable: 1
 * when input is buffered or fd 0 is readable (or at its end, which the
 * next read finds), 2 when fd is, 0 when ms passed. Output is flushed
 * first. IDLE waits here between two looks at the store.
 */
int
io_wait(int fd, int ms)
{
	struct pollfd pfd[2] = {
		{ .fd = 0, .events = POLLIN }, { .fd = fd, .events = POLLIN }
	};
	int r;

	if (ipos < ilen)
		return 1;
	io_flush();
	while ((r = poll(pfd, fd == -1 ? 1 : 2, ms)) == -1 && errno == EINTR)
		;
	if (r == 0)
		return 0;
	return r == -1 || pfd[0].revents != 0 ? 1 : 2;
}

/* What was read and is not parsed yet; -1 when the input has ended. */
int
io_input(const char **p_r, size_t *n_r)
{
	if (ipos == ilen && fill_input() == -1)
		return -1;
	*p_r = ibuf + ipos;
	*n_r = ilen - ipos;
	return 0;
}

void
io_consumed(size_t n)
{
	ipos += n;
}

/*
 * Before login the input may have held a password: once a command is
 * done, wipe what was read, all but the bytes not yet parsed (the space
 * past them may hold the rest of an earlier, longer read).
 */
void
io_wipe_input(void)
{
	buf_wipe(ibuf, ipos);
	buf_wipe(ibuf + ilen, sizeof ibuf - ilen);
}
