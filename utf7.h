/*
 * utf7.h: mailbox names between UTF-8, the store's canonical form, and
 * modified UTF-7, the IMAP4rev1 wire form (RFC 3501 5.1.3); strict
 * UTF-8 checks (RFC 3629) for every module (utf7.c).
 */
#ifndef UTF7_H
#define UTF7_H

#include <stddef.h>
#include <stdint.h>

size_t	 utf8_get(const char *s, size_t len, uint32_t *cp_r);
int	 utf8_valid(const char *s, size_t len);
int	 utf7_to_utf8(const char *in, char **out_r);
int	 utf8_to_utf7(const char *in, char **out_r);

#endif
