/*
 * conn: what drive, qdrive and load share to talk to a server started as
 * their child on a pair of pipes; every failure here ends the driver
 * (exit 111) except in conn_spawn, which load needs to survive.
 *
 * Linux carries a process's peak RSS across exec, and a forked child
 * starts with its parent's pages, so the read buffer is mmap()ed and
 * given back whole when the connection ends: drive reports the server's
 * peak RSS and must not inflate it.
 */
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conn.h"

void
conn_die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", conn_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(111);
}

double
conn_now(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		conn_die("clock_gettime: %s", strerror(errno));
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Anonymous memory given back whole by conn_unmap(), unlike malloc's. */
void *
conn_map(size_t n)
{
	void *p;

	p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
	    -1, 0);
	if (p == MAP_FAILED)
		conn_die("mmap %zu bytes: %s", n, strerror(errno));
	return p;
}

void
conn_unmap(void *p, size_t n)
{
	if (munmap(p, n) == -1)
		conn_die("munmap: %s", strerror(errno));
}

/*
 * The server's command in "ARGS -- server [arg ...]" (n words), or NULL
 * when there is none; *nargs_r gets the number of ARGS.
 */
char **
conn_server(char **args, int n, int *nargs_r)
{
	int i;

	for (i = 0; i < n && strcmp(args[i], "--") != 0; i++)
		;
	*nargs_r = i;
	return i + 1 < n ? args + i + 1 : NULL;
}

/*
 * Start argv as a child reading *to_r and writing *from_r; its stderr
 * goes to the file log when not NULL. Returns the pid, or -1 (errno).
 */
pid_t
conn_spawn(char **argv, const char *log, int *to_r, int *from_r)
{
	int in[2], out[2], fd;
	pid_t pid;

	if (pipe(in) == -1 || pipe(out) == -1)
		return -1;
	if ((pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		if (dup2(in[0], 0) == -1 || dup2(out[1], 1) == -1)
			_exit(111);
		if (log != NULL) {
			fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
			if (fd == -1 || dup2(fd, 2) == -1)
				_exit(111);
			close(fd);
		}
		close(in[0]);
		close(in[1]);
		close(out[0]);
		close(out[1]);
		execvp(argv[0], argv);
		fprintf(stderr, "%s: exec %s: %s\n", conn_prog, argv[0],
		    strerror(errno));
		_exit(111);
	}
	close(in[0]);
	close(out[1]);
	*to_r = in[1];
	*from_r = out[0];
	return pid;
}

/* conn_spawn with a read buffer of cap bytes to start with. */
void
conn_start(struct conn_io *c, char **argv, const char *log, size_t cap)
{
	memset(c, 0, sizeof(*c));
	c->pid = conn_spawn(argv, log, &c->to, &c->from);
	if (c->pid == -1)
		conn_die("start %s: %s", argv[0], strerror(errno));
	c->cap = cap;
	c->buf = conn_map(c->cap);
}

/* After LOGOUT: drain to EOF, reap (ru may be NULL); the wait status. */
int
conn_finish(struct conn_io *c, struct rusage *ru)
{
	char junk[4096];
	ssize_t r;
	int status;

	close(c->to);
	while ((r = read(c->from, junk, sizeof(junk))) != 0)
		if (r == -1 && errno != EINTR)
			conn_die("read: %s", strerror(errno));
	close(c->from);
	if (wait4(c->pid, &status, 0, ru) == -1)
		conn_die("wait4: %s", strerror(errno));
	conn_unmap(c->buf, c->cap);
	c->buf = NULL;
	return status;
}

void
conn_send(struct conn_io *c, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = write(c->to, p, n);
		if (w == -1) {
			if (errno == EINTR)
				continue;
			conn_die("write to server: %s", strerror(errno));
		}
		p += w;
		n -= (size_t)w;
	}
}

/* Send "TAG text\r\n"; the tag is returned to wait for its reply. */
unsigned
conn_cmd(struct conn_io *c, const char *fmt, ...)
{
	char line[2048];
	va_list ap;
	int n, m;

	c->tag++;
	n = snprintf(line, sizeof(line), "T%u ", c->tag);
	va_start(ap, fmt);
	m = vsnprintf(line + n, sizeof(line) - (size_t)n - 2, fmt, ap);
	va_end(ap);
	if (m < 0 || (size_t)m >= sizeof(line) - (size_t)n - 2)
		conn_die("command too long");
	n += m;
	line[n++] = '\r';
	line[n++] = '\n';
	conn_send(c, line, (size_t)n);
	return c->tag;
}

/* Make room for more input, compacting before growing. */
static void
room(struct conn_io *c)
{
	char *nbuf;

	if (c->start == c->end)
		c->start = c->end = 0;
	if (c->end < c->cap)
		return;
	if (c->start > 0) {
		memmove(c->buf, c->buf + c->start, c->end - c->start);
		c->end -= c->start;
		c->start = 0;
	} else {
		nbuf = conn_map(c->cap * 2);
		memcpy(nbuf, c->buf, c->end);
		conn_unmap(c->buf, c->cap);
		c->buf = nbuf;
		c->cap *= 2;
	}
}

/*
 * Read more input, waiting at most until deadline (0: no limit). Returns
 * 0, or -1 when the deadline passed.
 */
int
conn_fill(struct conn_io *c, double deadline)
{
	struct pollfd pfd;
	double left;
	ssize_t r;

	room(c);
	if (deadline > 0) {
		pfd.fd = c->from;
		pfd.events = POLLIN;
		left = deadline - conn_now();
		if (left <= 0 || poll(&pfd, 1, (int)(left * 1000) + 1) == 0)
			return -1;
	}
	do
		r = read(c->from, c->buf + c->end, c->cap - c->end);
	while (r == -1 && errno == EINTR);
	if (r == -1)
		conn_die("read from server: %s", strerror(errno));
	if (r == 0)
		conn_die("server closed the connection");
	c->end += (size_t)r;
	return 0;
}

/*
 * One line, CRLF stripped, valid until the next read; NULL when the
 * deadline (0: none) passed.
 */
char *
conn_line(struct conn_io *c, size_t *len_r, double deadline)
{
	size_t scanned = 0;
	char *nl, *line;

	for (;;) {
		nl = memchr(c->buf + c->start + scanned, '\n',
		    c->end - c->start - scanned);
		if (nl != NULL)
			break;
		scanned = c->end - c->start;
		if (conn_fill(c, deadline) == -1)
			return NULL;
	}
	line = c->buf + c->start;
	*len_r = (size_t)(nl - line);
	c->start += *len_r + 1;
	if (*len_r > 0 && line[*len_r - 1] == '\r')
		(*len_r)--;
	return line;
}

/* The literal length a line announces at its end ("{123}"), or -1. */
long long
conn_literal(const char *s, size_t len)
{
	size_t i;
	long long n = 0;

	if (len < 3 || s[len - 1] != '}')
		return -1;
	i = len - 1;
	while (i > 0 && s[i - 1] >= '0' && s[i - 1] <= '9')
		i--;
	if (i == 0 || i == len - 1 || s[i - 1] != '{')
		return -1;
	for (; i < len - 1; i++)
		n = n * 10 + (s[i] - '0');
	return n;
}

/* Skip a literal's n bytes, showing them to see (when not NULL). */
void
conn_skip(struct conn_io *c, unsigned long long n,
    void (*see)(void *, const char *, size_t), void *arg)
{
	size_t have;

	while (n > 0) {
		if (c->start == c->end)
			conn_fill(c, 0);
		have = c->end - c->start;
		if (have > n)
			have = (size_t)n;
		if (see != NULL)
			see(arg, c->buf + c->start, have);
		c->start += have;
		n -= have;
	}
}

/*
 * Where w occurs in s[0..len), or NULL. memchr() for its first byte keeps
 * this cheap on the long lines of FETCH ENVELOPE: the driver must not be
 * what is timed.
 */
const char *
conn_find(const char *s, size_t len, const char *w)
{
	size_t wl = strlen(w);
	const char *p, *e;

	if (wl == 0 || len < wl)
		return wl == 0 ? s : NULL;
	e = s + (len - wl) + 1;
	for (p = s; (p = memchr(p, w[0], (size_t)(e - p))) != NULL; p++)
		if (memcmp(p, w, wl) == 0)
			return p;
	return NULL;
}
