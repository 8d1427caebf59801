/*
 * deliver.h: delivery mode, imapd -D (deliver.c).
 */
#ifndef DELIVER_H
#define DELIVER_H

int	 deliver_message(const char *mailbox);

#endif
