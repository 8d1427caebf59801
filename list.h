/*
 * list.h: what the LIST files share: the request a LIST command makes,
 * read by listext.c from the extended grammar (RFC 5258 6), and
 * answered by list.c; the special-use attribute names (RFC 6154).
 */
#ifndef LIST_H
#define LIST_H

#include <stddef.h>
#include <stdint.h>

struct arg;

/* Selection options (RFC 5258 3.1, RFC 6154 2) */
#define LS_SUBSCRIBED	0x01
#define LS_REMOTE	0x02
#define LS_RECURSIVE	0x04
#define LS_SPECIALUSE	0x08

/* Return options (RFC 5258 3.2, RFC 5819, RFC 6154 2) */
#define LR_SUBSCRIBED	0x01
#define LR_CHILDREN	0x02
#define LR_SPECIALUSE	0x04
#define LR_STATUS	0x08

struct listreq {
	int		 ext;		/* the extended form (RFC 5258 3) */
	int		 sel, ret;	/* LS_*, LR_* */
	const struct arg *status;	/* RETURN (STATUS (items)): items */
	const char	*ref;
	const struct arg *pats;		/* a pattern, or a list of them */
};

int	 listext_parse(const struct arg *, struct listreq *);
void	 listext_uses(uint32_t specialuse, char *buf, size_t cap);
int	 listext_use(const struct arg *, uint32_t *specialuse_r);

#endif
