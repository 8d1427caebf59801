/*
 * msg.h: one message as FETCH and SEARCH read it (msg.c): its bytes,
 * parsed only when needed, and its structure blob, the cached ENVELOPE,
 * BODY, BODYSTRUCTURE and search fields (msg.c alone knows its format).
 */
#ifndef MSG_H
#define MSG_H

#include <stddef.h>
#include <stdint.h>

/* One message as FETCH and SEARCH see it; parsed only when needed. */
struct msgctx {
	uint32_t	 seq;
	const char	*p;
	size_t		 len;
	struct mime_part *root;
	struct mime_part *hroot;	/* its header only */
	int		 whole;		/* p is the whole message */
	char		*blob;		/* made here, not cached */
	struct mime_text *text;		/* what BODY and TEXT search */
};

/* The items of a structure blob. */
enum { B_ENVELOPE, B_BODY, B_BODYSTRUCTURE, B_SEARCH, B_ITEMS };

void		 msg_init(struct msgctx *, uint32_t seq);
void		 msg_bytes(struct msgctx *);
void		 msg_done(struct msgctx *);
const struct mime_part *msg_root(struct msgctx *);
const struct mime_text *msg_text(struct msgctx *);
const struct mime_part *msg_header(struct msgctx *);
const char	*msg_cached_blob(struct msgctx *);
const char	*msg_blob(struct msgctx *);
const char	*msg_blob_item(const char *, int item, size_t *n_r);
size_t		 msg_header_len(const char *, size_t);

#endif
