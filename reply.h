/*
 * reply.h: a command's result (reply.c): the text of its tagged reply,
 * and the RFC 5530 code for a store failure.
 */
#ifndef REPLY_H
#define REPLY_H

enum { RES_OK, RES_NO, RES_BAD };

int	 reply_no(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int	 reply_bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int	 reply_ok(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int	 reply_bad_args(void);
int	 reply_no_store(int trycreate);

#endif
