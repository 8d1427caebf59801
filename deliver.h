/*
 * deliver.h: delivery mode, imapd -D (deliver.c).
 */
#ifndef DELIVER_H
#define DELIVER_H

int	 deliver(const char *mailbox);

#endif
