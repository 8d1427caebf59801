/*
 * mime.h: the interface of the MIME code (mime.c, envelope.c,
 * bodystructure.c): a message's structure and its IMAP renderings.
 */
#ifndef MIME_H
#define MIME_H

#include <stddef.h>
#include <stdint.h>

/*
 * A message's MIME structure, parsed over the stored bytes (no copy of
 * the message is kept: every range points into the caller's buffer,
 * which must outlive the tree).
 */
struct mime_part;

struct mime_part *mime_parse(const char *msg, size_t len);
struct mime_part *mime_parse_header(const char *msg, size_t len);
void		 mime_free(struct mime_part *);
char		*mime_envelope(const struct mime_part *, size_t *len_r);
char		*mime_bodystructure(const struct mime_part *, int extended,
		    size_t *len_r);
const struct mime_part *mime_find(const struct mime_part *,
		    const uint32_t *path, size_t depth);
const struct mime_part *mime_message(const struct mime_part *);
void		 mime_header(const struct mime_part *, const char **p_r,
		    size_t *n_r);
void		 mime_body(const struct mime_part *, const char **p_r,
		    size_t *n_r);
/* mime_binary's failures */
#define MIME_UNKNOWN_CTE	(-1)
#define MIME_NOT_LEAF		(-2)
struct buf;
int		 mime_binary(const struct mime_part *, struct buf *);
int		 mime_search_header(const struct mime_part *,
		    const char *field, const char *needle);
struct mime_text;
struct mime_text *mime_text(const struct mime_part *);
int		 mime_text_search(const struct mime_text *,
		    const char *needle, int body_only);
void		 mime_text_free(struct mime_text *);
char		*mime_search_fields(const struct mime_part *, size_t *len_r);
int		 mime_search_cached(const char *, size_t, const char *field,
		    const char *needle);
int		 mime_sent_date(const struct mime_part *, int64_t *day_r);

#endif
