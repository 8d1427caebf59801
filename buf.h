/*
 * buf.h: the one growable byte buffer, the one array growth check, the
 * one wipe, the one hex digit and the one base64 and quoted-printable
 * decoder, for every module (buf.c).
 */
#ifndef BUF_H
#define BUF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/*
 * Bytes kept NUL-terminated after every add. A failed allocation is
 * sticky: later adds do nothing and buf_finish returns NULL, so a writer
 * checks once at the end. Growing may leave the old bytes in freed
 * memory: a buffer for secrets is reserved whole first, and wiped.
 */
struct buf {
	char	*p;
	size_t	 len, cap;
	int	 oom;
};

int	 buf_reserve(struct buf *, size_t n);
int	 buf_addc(struct buf *, char);
int	 buf_adds(struct buf *, const char *);
int	 buf_addu(struct buf *, uint64_t);
void	 buf_reset(struct buf *);
char	*buf_finish(struct buf *, size_t *len_r);
void	 buf_free(struct buf *);
void	*buf_array(void *, size_t n, size_t size);
void	*buf_grow(void *, size_t *cap, size_t n, size_t size);
void	 buf_wipe(void *, size_t);
int	 buf_hexval(int);
int	 buf_add_base64(struct buf *, const char *, size_t, int strict);
void	 buf_add_qp(struct buf *, const char *, size_t, int q);

/* Inline: the MIME decoders add a byte at a time. */
static inline int
buf_add(struct buf *b, const void *s, size_t n)
{
	if ((b->oom || b->cap - b->len <= n) && buf_reserve(b, n) == -1)
		return -1;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

#endif
