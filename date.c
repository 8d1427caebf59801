/*
 * date.c: calendar arithmetic shared by the IMAP date parser, the sent
 * date of RFC 5322 headers and INTERNALDATE output. Months count from 1.
 */
#include <stdint.h>

#include "date.h"

const char date_month_name[12][4] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
};

static int
is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/*
 * Days since 1970-01-01, counting in years that start on March 1 so the
 * leap day ends the year (the well-known days-from-civil method).
 */
int64_t
date_days(int64_t y, int m, int d)
{
	int64_t	 era, yoe, doy, doe;

	if (m <= 2)
		y--;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

int
date_month_days(int64_t y, int m)
{
	static const int	 mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31,
				    30, 31, 30, 31 };

	return mdays[m - 1] + (m == 2 && is_leap(y));
}

/* The month whose name s starts with, in any case: 1 to 12, or 0. */
int
date_month(const char *s)
{
	int	 m, i;

	for (m = 0; m < 12; m++) {
		for (i = 0; i < 3; i++)
			if ((s[i] | 0x20) != (date_month_name[m][i] | 0x20))
				break;
		if (i == 3)
			return m + 1;
	}
	return 0;
}
