/*
 * date.h: the calendar, once (date.c): proleptic Gregorian days since
 * 1970-01-01 with no time zone and no libc, and the English month names
 * that IMAP and RFC 5322 dates are written with.
 */
#ifndef DATE_H
#define DATE_H

#include <stdint.h>

extern const char	 date_month_name[12][4];	/* "Jan" ... "Dec" */

int64_t	 date_days(int64_t year, int month, int day);
int	 date_month_days(int64_t year, int month);
int	 date_month(const char *);

#endif
