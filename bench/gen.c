/*
 * gen: write a deterministic test mailbox for the benchmark.
 *
 *	gen MAILDIR LIST COUNT SEED
 *
 * Writes COUNT messages as Maildir files in MAILDIR/cur (creating
 * MAILDIR/{cur,new,tmp}) and their names, one a line and in delivery
 * order, to LIST. The same SEED always gives the same bytes.
 *
 * Each message is 2 to 50 KB (log-uniform, so small ones dominate as in
 * a real mailbox), LF line ends as Maildir stores them, with the headers
 * a delivery agent and a mail user agent leave (RFC 5322 section 3.6):
 * Return-Path, Received, Message-ID, Date, From, To, often Cc, Subject,
 * sometimes In-Reply-To/References, MIME headers; a quarter are
 * multipart/alternative and a sixth multipart/mixed with a base64
 * attachment (RFC 2045, 2046).
 *
 * File names follow the Maildir convention with Dovecot's size fields:
 * "SECS.MUSECSPN.bench,S=size,W=crlfsize:2,", where SECS is the message's
 * date, so that sorting by name, by UID and by date agree, and the file's
 * mtime (Maildir's INTERNALDATE) is set to that date too.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MSG_MIN		(2 * 1024)
#define MSG_MAX		(50 * 1024)
#define START_TIME	1420070400	/* 2015-01-01 00:00:00 UTC */

struct buf {
	char	 b[MSG_MAX + 4096];
	size_t	 len;
};

static uint64_t rng_state;

/* splitmix64: tiny, fast and the same on every platform. */
static uint64_t
rnd(void)
{
	uint64_t z;

	z = (rng_state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint32_t
rnd_below(uint32_t n)
{
	return (uint32_t)(rnd() % n);
}

static const char *
pick(const char *const *v, size_t n)
{
	return v[rnd_below((uint32_t)n)];
}
#define PICK(v)	pick((v), sizeof(v) / sizeof((v)[0]))

static const char *const first[] = {
	"Alice", "Bob", "Carol", "Dave", "Erin", "Frank", "Grace", "Heidi",
	"Ivan", "Judy", "Mallory", "Niaj", "Olivia", "Peggy", "Rupert",
	"Sybil", "Trent", "Victor", "Walter", "Yvonne", "Zoe", "Anders",
	"Brigitte", "Chen", "Dmitri", "Esther", "Fatima", "Giulia", "Hiro",
};
static const char *const last[] = {
	"Smith", "Jones", "Nguyen", "Garcia", "Muller", "Rossi", "Tanaka",
	"Kowalski", "Dubois", "Johansson", "Silva", "Okafor", "Patel",
	"Andersen", "Novak", "Schmidt", "Brown", "Larsen", "Moreau", "Kim",
};
static const char *const domain[] = {
	"example.com", "example.org", "example.net", "mail.example.com",
	"lists.example.org", "corp.example.net", "uni.example.edu",
};
static const char *const word[] = {
	"the", "of", "and", "to", "in", "a", "is", "that", "for", "it", "as",
	"was", "with", "be", "by", "on", "not", "he", "this", "are", "or",
	"his", "from", "at", "which", "but", "have", "an", "had", "they",
	"you", "were", "their", "one", "all", "we", "can", "her", "has",
	"there", "been", "if", "more", "when", "will", "would", "who", "so",
	"no", "meeting", "report", "server", "budget", "release", "patch",
	"review", "schedule", "question", "thanks", "please", "attached",
	"update", "deadline", "project", "customer", "invoice", "draft",
	"mailbox", "index", "lock", "record", "client", "protocol", "test",
	"build", "merge", "ticket", "weekend", "lunch", "tomorrow", "friday",
	"agenda", "minutes", "numbers", "quarter", "design", "proposal",
	"issue", "fixed", "broken", "again", "maybe", "should", "could",
};
static const char *const zone[] = {
	"+0000", "+0100", "+0200", "-0500", "-0800", "+0530", "+0900",
};
static const char *const wday[] = {
	"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat",
};
static const char *const month[] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct",
	"Nov", "Dec",
};
static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Append formatted text; a message past the slack is a bug here. */
static void
put(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(b->b + b->len, sizeof(b->b) - b->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(b->b) - b->len) {
		fprintf(stderr, "gen: message buffer overflow\n");
		exit(111);
	}
	b->len += (size_t)n;
}

static void
put_addr(struct buf *b)
{
	const char *f = PICK(first), *l = PICK(last);

	put(b, "%s %s <%c.%s@%s>", f, l, f[0] | 0x20, l, PICK(domain));
}

/* RFC 5322 section 3.3 date-time in the sender's zone. */
static void
put_date(struct buf *b, time_t t, const char *z)
{
	int off;
	struct tm tm;
	time_t lt;

	off = ((z[1] - '0') * 10 + (z[2] - '0')) * 3600 +
	    ((z[3] - '0') * 10 + (z[4] - '0')) * 60;
	lt = t + (z[0] == '-' ? -off : off);
	gmtime_r(&lt, &tm);
	put(b, "%s, %d %s %d %02d:%02d:%02d %s", wday[tm.tm_wday], tm.tm_mday,
	    month[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
	    tm.tm_sec, z);
}

/* Words wrapped at 72 columns until the message reaches want bytes. */
static void
put_text(struct buf *b, size_t want)
{
	size_t col = 0;
	const char *w;

	while (b->len < want) {
		w = PICK(word);
		if (col > 0 && col + 1 + strlen(w) > 72) {
			put(b, "\n");
			col = 0;
			if (rnd_below(8) == 0)
				put(b, "\n");
		}
		put(b, "%s%s", col ? " " : "", w);
		col += (col ? 1 : 0) + strlen(w);
	}
	put(b, "\n");
}

/* The same text as HTML, roughly. */
static void
put_html(struct buf *b, size_t want)
{
	put(b, "<html><body><p>\n");
	put_text(b, want);
	put(b, "</p></body></html>\n");
}

/* Random bytes in base64, 76 characters a line (RFC 2045 section 6.8). */
static void
put_base64(struct buf *b, size_t want)
{
	size_t col = 0;
	uint64_t r;
	int i;

	while (b->len < want) {
		r = rnd();
		for (i = 0; i < 4; i++) {
			b->b[b->len++] = b64[r & 63];
			r >>= 6;
		}
		col += 4;
		if (col == 76) {
			b->b[b->len++] = '\n';
			col = 0;
		}
	}
	if (col)
		b->b[b->len++] = '\n';
}

static void
make_message(struct buf *b, uint32_t n, time_t t)
{
	size_t target, body;
	uint32_t kind, topic, mx, ip;
	const char *z = PICK(zone), *d = PICK(domain);
	char bnd[40];

	/* log-uniform in [MSG_MIN, MSG_MAX): exp(u * ln(25)) * 2 KB */
	target = (size_t)(MSG_MIN * exp((double)rnd_below(1000000) /
	    1000000.0 * log((double)MSG_MAX / MSG_MIN)));
	if (target < MSG_MIN)
		target = MSG_MIN;
	if (target > MSG_MAX - 200)
		target = MSG_MAX - 200;
	b->len = 0;
	topic = rnd_below(5000);

	put(b, "Return-Path: <bounce-%u@%s>\n", n, d);
	put(b, "Delivered-To: bench@example.com\n");
	/* One draw per statement: argument order is unspecified in C. */
	mx = rnd_below(9);
	ip = rnd_below(250) + 1;
	put(b, "Received: from mx%u.%s (mx%u.%s [192.0.2.%u])\n"
	    "\tby mail.example.com with ESMTPS id %08x\n"
	    "\tfor <bench@example.com>; ", mx, d, mx, d, ip, n * 2654435761U);
	put_date(b, t, "+0000");
	ip = rnd_below(250) + 1;
	put(b, "\nReceived: from [198.51.100.%u] by mx.%s with ESMTPSA;\n\t",
	    ip, d);
	put_date(b, t - 2, z);
	put(b, "\nMessage-ID: <%08x.%u.bench@%s>\n", (unsigned)rnd(), n, d);
	put(b, "Date: ");
	put_date(b, t - 3, z);
	put(b, "\nFrom: ");
	put_addr(b);
	put(b, "\nTo: Bench User <bench@example.com>");
	if (rnd_below(3) == 0) {
		put(b, ",\n ");
		put_addr(b);
	}
	if (rnd_below(3) == 0) {
		put(b, "\nCc: ");
		put_addr(b);
		put(b, ", ");
		put_addr(b);
	}
	put(b, "\nSubject: %s", rnd_below(3) == 0 ? "Re: " : "");
	put(b, "%s ", PICK(word));
	put(b, "%s ", PICK(word));
	put(b, "%s #%u\n", PICK(word), topic);
	if (rnd_below(3) == 0)
		put(b, "In-Reply-To: <topic.%u.bench@%s>\n"
		    "References: <topic.%u.bench@%s>\n", topic, d, topic, d);
	put(b, "MIME-Version: 1.0\n");

	kind = rnd_below(12);
	snprintf(bnd, sizeof(bnd), "=_bench_%08x", (unsigned)rnd());
	if (kind < 3) {
		/* multipart/alternative: plain text and HTML halves */
		body = b->len + (target - b->len) / 2;
		put(b, "Content-Type: multipart/alternative; boundary=\"%s\"\n\n"
		    "This is a multi-part message in MIME format.\n\n--%s\n"
		    "Content-Type: text/plain; charset=utf-8\n"
		    "Content-Transfer-Encoding: 7bit\n\n", bnd, bnd);
		put_text(b, body);
		put(b, "\n--%s\nContent-Type: text/html; charset=utf-8\n"
		    "Content-Transfer-Encoding: 7bit\n\n", bnd);
		put_html(b, target - 43);
		put(b, "\n--%s--\n", bnd);
	} else if (kind < 5) {
		/* multipart/mixed: a short note and an attachment */
		put(b, "Content-Type: multipart/mixed; boundary=\"%s\"\n\n"
		    "This is a multi-part message in MIME format.\n\n--%s\n"
		    "Content-Type: text/plain; charset=utf-8\n"
		    "Content-Transfer-Encoding: 7bit\n\n", bnd, bnd);
		put_text(b, b->len + 300 + rnd_below(700));
		put(b, "\n--%s\nContent-Type: application/octet-stream;"
		    " name=\"file%u.bin\"\nContent-Transfer-Encoding: base64\n"
		    "Content-Disposition: attachment; filename=\"file%u.bin\"\n\n",
		    bnd, n, n);
		put_base64(b, target - 24);
		put(b, "\n--%s--\n", bnd);
	} else {
		put(b, "Content-Type: text/plain; charset=utf-8\n"
		    "Content-Transfer-Encoding: 7bit\n\n");
		put_text(b, target);
	}
}

static size_t
count_lines(const struct buf *b)
{
	size_t i, n = 0;

	for (i = 0; i < b->len; i++)
		if (b->b[i] == '\n')
			n++;
	return n;
}

static int
write_file(const char *path, const struct buf *b, time_t t)
{
	struct timespec ts[2];
	size_t off = 0;
	ssize_t w;
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd == -1)
		return -1;
	while (off < b->len) {
		w = write(fd, b->b + off, b->len - off);
		if (w == -1) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		off += (size_t)w;
	}
	ts[0].tv_sec = ts[1].tv_sec = t;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	if (futimens(fd, ts) == -1)
		goto fail;
	return close(fd);
fail:
	close(fd);
	return -1;
}

static int
mkdirs(const char *dir)
{
	static const char *const sub[] = { "", "/cur", "/new", "/tmp" };
	char path[4096];
	size_t i;

	for (i = 0; i < 4; i++) {
		if ((size_t)snprintf(path, sizeof(path), "%s%s", dir, sub[i]) >=
		    sizeof(path))
			return -1;
		if (mkdir(path, 0755) == -1 && errno != EEXIST)
			return -1;
	}
	return 0;
}

static struct buf msg;

int
main(int argc, char **argv)
{
	char name[256], path[4096];
	unsigned long count, seed;
	uint32_t i, usec;
	time_t t = START_TIME;
	FILE *list;
	char *end;

	if (argc != 5) {
		fprintf(stderr, "usage: gen MAILDIR LIST COUNT SEED\n");
		return 100;
	}
	count = strtoul(argv[3], &end, 10);
	if (*end || count == 0 || count > UINT32_MAX) {
		fprintf(stderr, "gen: bad count %s\n", argv[3]);
		return 100;
	}
	seed = strtoul(argv[4], &end, 10);
	if (*end) {
		fprintf(stderr, "gen: bad seed %s\n", argv[4]);
		return 100;
	}
	rng_state = seed;
	if (mkdirs(argv[1]) == -1) {
		fprintf(stderr, "gen: %s: %s\n", argv[1], strerror(errno));
		return 111;
	}
	list = fopen(argv[2], "w");
	if (list == NULL) {
		fprintf(stderr, "gen: %s: %s\n", argv[2], strerror(errno));
		return 111;
	}
	for (i = 1; i <= count; i++) {
		t += 60 + rnd_below(600);	/* strictly increasing dates */
		make_message(&msg, i, t);
		usec = rnd_below(1000000);
		snprintf(name, sizeof(name), "%lld.M%uP%u.bench,S=%zu,W=%zu:2,",
		    (long long)t, usec, i, msg.len,
		    msg.len + count_lines(&msg));
		snprintf(path, sizeof(path), "%s/cur/%s", argv[1], name);
		if (write_file(path, &msg, t) == -1) {
			fprintf(stderr, "gen: %s: %s\n", path, strerror(errno));
			return 111;
		}
		fprintf(list, "%s\n", name);
	}
	if (fflush(list) == EOF || ferror(list) || fclose(list) == EOF) {
		fprintf(stderr, "gen: %s: write error\n", argv[2]);
		return 111;
	}
	return 0;
}
