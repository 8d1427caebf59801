/*
 * buf.c: the growable byte buffer every module builds text in, the
 * overflow-checked array reallocation, and the wipe of secrets.
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
