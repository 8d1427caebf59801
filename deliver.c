/*
 * deliver.c: delivery mode (imapd -D mailbox): one message from standard
 * input into the store, with the exit codes an MTA understands.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "deliver.h"
#include "imapd.h"
#include "log.h"
#include "session.h"

/* Read all of stdin, up to max bytes. */
static char *
slurp(size_t max, size_t *n_r)
{
	size_t n = 0, cap = 65536;
	char *buf = malloc(cap), *nb;
	ssize_t r;

	while (buf != NULL) {
		if (n == cap) {
			if (cap > max || (nb = realloc(buf, cap * 2)) == NULL)
				break;
			buf = nb;
			cap *= 2;
		}
		if ((r = read(0, buf + n, cap - n)) == -1 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r == 0 && n <= max) {
				*n_r = n;
				return buf;
			}
			break;
		}
		n += (size_t)r;
	}
	free(buf);
	return NULL;
}

/* A message begins with a header field: a name, then a colon. */
static int
looks_like_message(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n && p[i] > ' ' && p[i] < 0x7f && p[i] != ':'; i++)
		;
	return i > 0 && i < n && p[i] == ':';
}

int
deliver_message(const char *mailbox)
{
	char *raw, *name;
	const char *p;
	size_t n, len;
	uint32_t uidv, uid;
	int r;

	if ((raw = slurp(S.appendmax, &n)) == NULL) {
		log_msg(LOG_ERR, "deliver: cannot read the message (over %zu "
		    "bytes?)", S.appendmax);
		return EX_DATAERR_;
	}
	p = raw;
	/* An mbox "From " line is the envelope, not the message. */
	if (n >= 5 && memcmp(p, "From ", 5) == 0) {
		const char *nl = memchr(p, '\n', n);
		len = nl ? (size_t)(nl + 1 - p) : n;
		p += len;
		n -= len;
	}
	if (!looks_like_message(p, n)) {
		free(raw);
		log_msg(LOG_ERR, "deliver: input is not a message");
		return EX_DATAERR_;
	}
	/* The limit is on what is stored: LF line ends become CRLF. */
	if (store_crlf_size(p, n) > S.appendmax) {
		free(raw);
		log_msg(LOG_ERR, "deliver: message over %zu bytes once stored",
		    S.appendmax);
		return EX_DATAERR_;
	}
	if (parse_mailbox_name(mailbox, &name) == -1) {
		free(raw);
		log_msg(LOG_ERR, "deliver: invalid mailbox name %s",
		    log_esc(mailbox));
		return EX_DATAERR_;
	}
	r = store_append(S.store, name, p, n, STORE_CRLF, NULL, 0, time(NULL),
	    &uidv, &uid);
	if (r == -1 && store_errcode(S.store) == ENOENT &&
	    store_create(S.store, name) == 0)
		r = store_append(S.store, name, p, n, STORE_CRLF, NULL, 0,
		    time(NULL), &uidv, &uid);
	/* A name the store can never hold is the sender's error, not ours. */
	if (r == -1 && store_errcode(S.store) == ENAMETOOLONG)
		r = EX_DATAERR_;
	else if (r == -1)
		r = EX_TEMPFAIL_;
	if (r != 0)
		log_msg(LOG_ERR, "deliver to %s: %s", log_esc(name),
		    store_error(S.store));
	else
		log_msg(LOG_INFO, "delivered to %s uid %u", log_esc(name),
		    uid);
	free(raw);
	free(name);
	return r;
}

