/*
 * buf.c: the growable byte buffer every module builds text in, the
 * overflow-checked array reallocation, the wipe of secrets, and the
 * transfer decoders (base64, quoted-printable) that MIME, FETCH BINARY
 * and AUTHENTICATE share.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

/* Make room for n more bytes and the NUL after them. */
int
buf_reserve(struct buf *b, size_t n)
{
	char	*np;
	size_t	 ncap;

	if (b->oom)
		return -1;
	if (b->cap - b->len > n)
		return 0;
	ncap = b->cap ? b->cap : 256;
	while (ncap - b->len <= n) {
		if (ncap > SIZE_MAX / 2) {
			b->oom = 1;
			return -1;
		}
		ncap *= 2;
	}
	if ((np = realloc(b->p, ncap)) == NULL) {
		b->oom = 1;
		return -1;
	}
	if (b->p == NULL)
		np[0] = '\0';
	b->p = np;
	b->cap = ncap;
	return 0;
}

int
buf_addc(struct buf *b, char c)
{
	return buf_add(b, &c, 1);
}

int
buf_adds(struct buf *b, const char *s)
{
	return buf_add(b, s, strlen(s));
}

/* A number, without printf: FETCH 1:* writes millions of them. */
int
buf_addu(struct buf *b, uint64_t v)
{
	char	 t[20];
	size_t	 i = sizeof t;

	do
		t[--i] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	return buf_add(b, t + i, sizeof t - i);
}

/* Empty again, keeping the memory. */
void
buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->p != NULL)
		b->p[0] = '\0';
}

/*
 * The text, now the caller's to free (an empty one is still a string),
 * or NULL if an allocation failed on the way.
 */
char *
buf_finish(struct buf *b, size_t *len_r)
{
	char	*p;

	if (b->p == NULL)
		buf_add(b, "", 0);
	if (b->oom) {
		buf_free(b);
		return NULL;
	}
	p = b->p;
	if (len_r != NULL)
		*len_r = b->len;
	b->p = NULL;
	b->len = b->cap = 0;
	return p;
}

void
buf_free(struct buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
	b->oom = 0;
}

/* realloc of n elements of size bytes, refusing an n * size overflow. */
void *
buf_array(void *p, size_t n, size_t size)
{
	if (size != 0 && n > SIZE_MAX / size) {
		errno = ENOMEM;
		return NULL;
	}
	return realloc(p, n * size != 0 ? n * size : 1);
}

/*
 * An array with room for element n: arr itself while n < *cap, else arr
 * grown to twice the capacity (*cap updated). NULL if that fails, with
 * arr untouched.
 */
void *
buf_grow(void *arr, size_t *cap, size_t n, size_t size)
{
	size_t	 nc;
	void	*na;

	if (n < *cap)
		return arr;
	nc = *cap ? *cap * 2 : 8;
	if (nc < *cap || (na = buf_array(arr, nc, size)) == NULL)
		return NULL;
	*cap = nc;
	return na;
}

/* The value of a hexadecimal digit, or -1. */
int
buf_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Zero memory in a way the compiler may not drop as a dead store. */
void
buf_wipe(void *p, size_t n)
{
	volatile unsigned char	*v = p;

	while (n--)
		*v++ = 0;
}

/*
 * Base64 (RFC 4648 4) appended to b. Forgiving (strict 0), as RFC 2045
 * 6.8 asks of a MIME body: every byte outside the alphabet, line breaks
 * and "=" included, is skipped. Strict, as SASL needs (RFC 4959, RFC
 * 4422 3.1): whole groups of four, "=" only as the last one or two, and
 * nothing outside the alphabet; -1 when the text is not that. The room
 * is reserved first, so a secret is never left behind by a regrowth.
 */
int
buf_add_base64(struct buf *b, const char *s, size_t n, int strict)
{
	static const char	 a[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	static signed char	 val[256];
	unsigned long		 acc = 0;
	size_t			 i, pad = 0;
	char			*w;
	int			 bits = 0, v;

	if (val['B'] == 0) {
		memset(val, -1, sizeof val);
		for (i = 0; i < 64; i++)
			val[(unsigned char)a[i]] = (signed char)i;
	}
	if (strict && n % 4 != 0)
		return -1;
	if (buf_reserve(b, n / 4 * 3 + 3) == -1)
		return -1;
	w = b->p + b->len;
	for (i = 0; i < n; i++) {
		if ((v = val[(unsigned char)s[i]]) < 0) {
			if (strict && (s[i] != '=' || i + 2 < n ||
			    (++pad == 1 && i + 2 == n && s[i + 1] != '=')))
				return -1;
			continue;
		}
		if (pad > 0)
			return -1;
		acc = (acc << 6 | (unsigned long)v) & 0xffffff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			*w++ = (char)(acc >> bits & 0xff);
		}
	}
	b->len = (size_t)(w - b->p);
	b->p[b->len] = '\0';
	return 0;
}

/*
 * Quoted-printable (RFC 2045 6.7) appended to b; with q set, RFC 2047
 * 4.2's Q encoding ("_" is a space). An "=" that starts no escape and no
 * soft line break is kept, as RFC 2045 6.7 note (2) suggests.
 */
void
buf_add_qp(struct buf *b, const char *s, size_t n, int q)
{
	size_t	 i, st = 0;
	int	 h, l;
	char	 t;

	for (i = 0; i < n; i++) {
		if (s[i] == '_' && q) {
			buf_add(b, s + st, i - st);
			buf_add(b, " ", 1);
			st = i + 1;
		} else if (s[i] == '=') {
			buf_add(b, s + st, i - st);
			if (i + 2 < n &&
			    (h = buf_hexval((unsigned char)s[i + 1])) >= 0 &&
			    (l = buf_hexval((unsigned char)s[i + 2])) >= 0) {
				t = (char)(h << 4 | l);
				buf_add(b, &t, 1);
				i += 2;
			} else if (i + 1 < n && s[i + 1] == '\n')
				i += 1;		/* soft line break */
			else if (i + 2 < n && s[i + 1] == '\r' &&
			    s[i + 2] == '\n')
				i += 2;
			else
				buf_add(b, "=", 1);
			st = i + 1;
		}
	}
	buf_add(b, s + st, n - st);
}
