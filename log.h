/*
 * log.h: logging (log.c): one line a message, to syslog or stderr, with
 * what the client sent escaped; the fatal exit.
 */
#ifndef LOG_H
#define LOG_H

#include <syslog.h>

const char	*esc(const char *);
const char	*remote(void);
void		 logmsg(int prio, const char *fmt, ...)
		    __attribute__((format(printf, 2, 3)));
void		 die(int code, const char *fmt, ...)
		    __attribute__((format(printf, 2, 3), noreturn));

#endif
