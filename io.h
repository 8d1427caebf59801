/*
 * io.h: the client's input and output with deadlines (io.c): a buffered
 * output stream and the writers of IMAP's data forms, and the input
 * buffer the parser is fed from.
 */
#ifndef IO_H
#define IO_H

#include <stddef.h>
#include <stdint.h>

void	 io_nonblock(void);
void	 io_flush(void);
void	 io_out(const void *, size_t);
void	 io_outf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	 io_outs(const char *);
void	 io_outu(uint64_t);
void	 io_literal(const char *, size_t);
void	 io_text_literal(const char *, size_t);
void	 io_binary_literal(const char *, size_t);
void	 io_astring(const char *);
void	 io_quoted(const char *);
int	 io_wait(int fd, int ms);
int	 io_input(const char **p_r, size_t *n_r);
void	 io_consumed(size_t);
void	 io_wipe_input(void);
int	 io_rawline(char *buf, size_t max);

#endif
