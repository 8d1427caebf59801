/*
 * log.h: logging (log.c): one line a message, to syslog or stderr, with
 * what the client sent escaped; the fatal exit.
 */
#ifndef LOG_H
#define LOG_H

#include <syslog.h>

void		 log_to_stderr(void);
const char	*log_esc(const char *);
const char	*log_remote(void);
void		 log_msg(int prio, const char *fmt, ...)
		    __attribute__((format(printf, 2, 3)));
void		 log_die(int code, const char *fmt, ...)
		    __attribute__((format(printf, 2, 3), noreturn));
void		 log_fatal(const char *fmt, ...)
		    __attribute__((format(printf, 1, 2)));

#endif
