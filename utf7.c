/*
 * utf7.c: modified UTF-7 (RFC 3501 5.1.3) to UTF-8 and back, and the
 * strict UTF-8 decoder (RFC 3629 section 4) both directions share. The
 * decoders accept one spelling only, so a name has exactly one form on
 * each side: whatever a client sends is checked here, never repaired.
 */
#include <errno.h>
#include <stdlib.h>

#include "buf.h"
#include "utf7.h"

/*
 * One code point from s (len bytes): its length, or 0 when the bytes
 * are no UTF-8 (RFC 3629 4): a bad lead or continuation byte, an
 * overlong form, a surrogate, above U+10FFFF, or cut short.
 */
size_t
utf8_get(const char *s, size_t len, uint32_t *cp_r)
{
	const unsigned char *p = (const unsigned char *)s;
	static const uint32_t min[] = { 0, 0, 0x80, 0x800, 0x10000 };
	uint32_t cp;
	size_t n, i;

	if (len == 0)
		return 0;
	if (p[0] < 0x80)
		n = 1, cp = p[0];
	else if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2, cp = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3, cp = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4, cp = p[0] & 0x07;
	else
		return 0;
	if (n > len)
		return 0;
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if (cp < min[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	*cp_r = cp;
	return n;
}

int
utf8_valid(const char *s, size_t len)
{
	uint32_t cp;
	size_t n;

	for (; len > 0; s += n, len -= n)
		if ((n = utf8_get(s, len, &cp)) == 0)
			return 0;
	return 1;
}

static void
utf8_put(struct buf *b, uint32_t cp)
{
	char u[4];
	size_t n;

	if (cp < 0x80) {
		u[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (char)(0xc0 | cp >> 6);
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (char)(0xe0 | cp >> 12);
		n = 3;
	} else {
		u[0] = (char)(0xf0 | cp >> 18);
		n = 4;
	}
	if (n > 1)
		u[1] = (char)(0x80 | ((cp >> (6 * (n - 2))) & 0x3f));
	if (n > 2)
		u[2] = (char)(0x80 | ((cp >> (6 * (n - 3))) & 0x3f));
	if (n > 3)
		u[3] = (char)(0x80 | (cp & 0x3f));
	buf_add(b, u, n);
}

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

static int
b64val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	return c == '+' ? 62 : c == ',' ? 63 : -1;
}

/* A character that modified UTF-7 writes as itself (RFC 3501 5.1.3). */
static int
direct(uint32_t cp)
{
	return cp >= 0x20 && cp <= 0x7e;
}

/*
 * One shifted run, from just after '&' to its '-': UTF-16 in modified
 * BASE64. Refused: no '-', an empty run (that is "&-", handled by the
 * caller), padding bits that are not zero or a whole character of them,
 * an unpaired surrogate, NUL, and any character that could stand for
 * itself.
 * Returns the length read, '-' included, or 0.
 */
static size_t
utf7_run(const char *s, struct buf *b)
{
	uint32_t bits = 0, hi = 0, u;
	unsigned nbits = 0;
	size_t i;
	int v;

	for (i = 0; s[i] != '-'; i++) {
		if ((v = b64val((unsigned char)s[i])) == -1)
			return 0;
		bits = (bits << 6 | (uint32_t)v) & 0xffffff;
		if ((nbits += 6) < 16)
			continue;
		nbits -= 16;
		u = (bits >> nbits) & 0xffff;
		if (hi != 0) {
			if (u < 0xdc00 || u > 0xdfff)
				return 0;
			utf8_put(b, 0x10000 + ((hi - 0xd800) << 10) +
			    (u - 0xdc00));
			hi = 0;
		} else if (u >= 0xd800 && u <= 0xdbff)
			hi = u;
		else if (u >= 0xdc00 && u <= 0xdfff)
			return 0;
		else if (u == 0 || direct(u))
			return 0;
		else
			utf8_put(b, u);
	}
	if (i == 0 || hi != 0 || nbits >= 6 ||
	    (bits & ((1u << nbits) - 1)) != 0)
		return 0;
	return i + 1;
}

/*
 * Modified UTF-7 to UTF-8, refusing every spelling but the one RFC 3501
 * 5.1.3 allows: 8-bit bytes, a bad run, and "-&" inside a name (a null
 * shift: two runs that should be one). *out_r is malloc'd.
 */
int
utf7_to_utf8(const char *in, char **out_r)
{
	struct buf b = { 0 };
	size_t i, n;
	int after_run = 0;

	for (i = 0; in[i] != '\0'; i += n) {
		unsigned char c = (unsigned char)in[i];

		n = 1;
		if (c != '&') {
			if (!direct(c))
				goto bad;
			buf_addc(&b, (char)c);
			after_run = 0;
		} else if (in[i + 1] == '-') {
			buf_addc(&b, '&');
			n = 2;
			after_run = 0;
		} else {
			if (after_run ||
			    (n = utf7_run(in + i + 1, &b)) == 0)
				goto bad;
			n++;
			after_run = 1;
		}
	}
	if ((*out_r = buf_finish(&b, NULL)) == NULL)
		return -1;
	return 0;
bad:
	buf_free(&b);
	errno = EINVAL;
	return -1;
}

/* Characters in 16-bit units, out as modified BASE64, then '-'. */
static void
utf7_flush(struct buf *b, const uint16_t *u, size_t n)
{
	uint32_t bits = 0;
	unsigned nbits = 0;
	size_t i;

	buf_addc(b, '&');
	for (i = 0; i < n; i++) {
		bits = bits << 16 | u[i];
		for (nbits += 16; nbits >= 6; nbits -= 6)
			buf_addc(b, b64[(bits >> (nbits - 6)) & 0x3f]);
		bits &= (1u << nbits) - 1;
	}
	if (nbits > 0)
		buf_addc(b, b64[(bits << (6 - nbits)) & 0x3f]);
	buf_addc(b, '-');
}

/*
 * UTF-8 (checked) to modified UTF-7: each run of characters outside
 * 0x20-0x7e becomes one shifted run, '&' becomes "&-".
 */
int
utf8_to_utf7(const char *in, char **out_r)
{
	struct buf b = { 0 };
	uint16_t *u;
	uint32_t cp;
	size_t len = strlen(in), i, n, nu = 0;

	if ((u = calloc(len + 1, 2 * sizeof *u)) == NULL)
		return -1;
	for (i = 0; i <= len; i += n) {
		n = 1;
		cp = 0;
		if (i < len && (n = utf8_get(in + i, len - i, &cp)) == 0)
			goto bad;
		if (i < len && !direct(cp)) {
			if (cp >= 0x10000) {
				u[nu++] = (uint16_t)(0xd800 +
				    ((cp - 0x10000) >> 10));
				cp = 0xdc00 + ((cp - 0x10000) & 0x3ff);
			}
			u[nu++] = (uint16_t)cp;
			continue;
		}
		if (nu > 0)
			utf7_flush(&b, u, nu);
		nu = 0;
		if (i < len && cp == '&')
			buf_adds(&b, "&-");
		else if (i < len)
			buf_addc(&b, (char)cp);
	}
	free(u);
	if ((*out_r = buf_finish(&b, NULL)) == NULL)
		return -1;
	return 0;
bad:
	free(u);
	buf_free(&b);
	errno = EINVAL;
	return -1;
}
