/*
 * objectid.c: the object identifiers of RFC 8474 as text: a mailbox's
 * MAILBOXID and a message's EMAILID.
 *
 * Every number they are made of comes from the store-wide counter
 * (modseq.c), which never hands a value out twice, so no id is ever
 * given to two mailboxes or to two messages of different content:
 *
 *	F<n>	MAILBOXID: n is the mod-sequence taken when the mailbox was
 *		created (the index header's created_modseq). RENAME moves
 *		the directory, header and all, so the id goes with it; a
 *		mailbox deleted and created again takes a new value.
 *	M<n>	EMAILID: n is the record's email id, taken from the
 *		counter's own sequence when the message was appended and
 *		copied with it by COPY (and so by MOVE), as RFC 8474 5.1
 *		wants.
 *	L<n>-<u> EMAILID of a message appended before the store kept
 *		email ids (its record has 0): n is its mailbox's
 *		created_modseq, u its UID, which that mailbox never gives
 *		again. The letters keep the three kinds apart.
 *
 * THREADID is not computed: RFC 8474 5.2 lets a server answer NIL.
 */

#include <stdio.h>

#include "storeint.h"

void
oid_mailbox(uint64_t created_modseq, char *buf_r)
{
	snprintf(buf_r, OBJECTID_SIZE, "F%llu",
	    (unsigned long long)created_modseq);
}

void
store_mailboxid(const struct mailbox *mb, char *buf_r)
{
	oid_mailbox(mb->created_modseq, buf_r);
}

void
store_emailid(const struct mailbox *mb, const struct rec *r, char *buf_r)
{
	if (r->emailid != 0)
		snprintf(buf_r, OBJECTID_SIZE, "M%lu",
		    (unsigned long)r->emailid);
	else
		snprintf(buf_r, OBJECTID_SIZE, "L%llu-%lu",
		    (unsigned long long)mb->created_modseq,
		    (unsigned long)r->uid);
}
