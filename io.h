/*
 * io.h: the client's input and output with deadlines (io.c): a buffered
 * output stream and the writers of IMAP's data forms, and the input
 * buffer the parser is fed from.
 */
#ifndef IO_H
#define IO_H

#include <stddef.h>
#include <stdint.h>

void	 out_nonblock(void);
void	 out_flush(void);
void	 out(const void *, size_t);
void	 outf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	 outs(const char *);
void	 outu(uint64_t);
void	 out_literal(const char *, size_t);
void	 out_text_literal(const char *, size_t);
void	 out_astring(const char *);
int	 io_input(const char **p_r, size_t *n_r);
void	 io_consumed(size_t);
void	 wipe_input(void);
int	 read_rawline(char *buf, size_t max);

#endif
