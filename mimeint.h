/*
 * mimeint.h: what the MIME files (mime.c, envelope.c, bodystructure.c)
 * share and no one else sees: the parts tree, the string builder, the
 * header, parameter and media type readers of mime.c, and envelope.c's
 * writers that BODYSTRUCTURE embeds.
 */
#ifndef MIMEINT_H
#define MIMEINT_H

#include <stddef.h>

#include "buf.h"

enum { MK_LEAF, MK_MULTI, MK_MESSAGE };

struct mime_part {
	const char	*hdr, *body;	/* into the caller's buffer */
	size_t		 hdrlen, bodylen;
	size_t		 hdrcut;	/* newline hidden by a boundary */
	size_t		 lines;		/* LF in the body */
	size_t		 bare;		/* LF not preceded by CR */
	int		 kind;		/* MK_* */
	int		 defmsg;	/* 1: in a digest; 2: is a digest */
	int		 opaque;	/* a container past MIME_DEPTH_MAX */
	int		 isview;	/* a view (below): owns nothing */
	char		*boundary;	/* MK_MULTI */
	/* part 1 of a message not multipart */
	struct mime_part *view;
	struct mime_part *parent, *child, *next;
};

/* ------------------------------------------------ mime.c: IMAP strings */

void	 mime_string(struct buf *, const char *, size_t, int force);
void	 mime_nstring(struct buf *, const char *, size_t);

/* ------------------------------------------------ mime.c: headers */

/* Iterates over the fields of a header block. */
struct hiter {
	const char	*p, *e;
};

int	 mime_hiter_next(struct hiter *, const char **name_r, size_t *nlen_r,
	    const char **val_r, size_t *vlen_r);
int	 mime_name_is(const char *, size_t, const char *want);
int	 mime_hdr_get(const struct mime_part *, const char *name,
	    const char **v_r, size_t *n_r);
int	 mime_hdr_get_last(const struct mime_part *, const char *name,
	    const char **v_r, size_t *n_r);
void	 mime_unfold(struct buf *, const char *, size_t);

/* --------------------------------------------- mime.c: parameters */

struct param {
	const char	*name;
	size_t		 nlen;
	char		*val;
	size_t		 vlen;
	size_t		 blen;		/* the name without "*N*" */
	int		 sec;		/* RFC 2231 section #, or -1 */
	int		 ext;		/* extended section (name*N*) */
	int		 used;
};

struct plist {
	struct param	*p;
	size_t		 n, cap;
	int		 oom;
};

void	 mime_plist_free(struct plist *);
int	 mime_is_token(int);
const char *mime_skip_cfws(const char *, const char *);
void	 mime_params_parse(struct plist *, const char *, const char *);
const char *mime_param_val(const struct plist *, const char *name,
	    size_t *n_r);

/* --------------------------------------------- mime.c: media type */

struct ctype {
	const char	*type, *sub;
	size_t		 tlen, slen;
	const char	*rest, *end;	/* the parameters */
};

void	 mime_ctype_get(const struct mime_part *, struct ctype *);

/* --------------------------------------------- mime.c: transfer encoding */

enum { CTE_IDENTITY, CTE_BASE64, CTE_QP, CTE_UNKNOWN };

int	 mime_cte(const struct mime_part *);

/* ------------------------------------------------------ envelope.c */

void	 env_text(struct buf *, const struct mime_part *, const char *name,
	    int env, int human);
void	 env_write(struct buf *, const struct mime_part *);

/* Inline: the header readers test every byte. */
static inline int
mime_is_wsp(int c)
{
	return c == ' ' || c == '\t';
}

#endif
