# imapd: POSIX make, suffix rules only.

PREFIX = /usr/local
DESTDIR =
CC = cc
CFLAGS = -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -O2 -g \
	-Wall -Wextra -Wstrict-prototypes -Wmissing-prototypes -Wshadow \
	-Wsign-compare
LDFLAGS =
LIBS = -lcrypt

UTILOBJS = buf.o date.o utf7.o
MIMEOBJS = mime.o envelope.o bodystructure.o mimesearch.o
STOREOBJS = store.o names.o index.o keywords.o kwmore.o view.o sync.o \
	write.o resync.o cache.o compact.o objectid.o
# The session: imapd.o and the files beside it, over the modules below.
SESSOBJS = imapd.o log.o io.o reply.o session.o auth.o command.o \
	mailbox.o list.o listext.o message.o fetch.o msg.o search.o \
	deliver.o idle.o
OBJS = $(SESSOBJS) parse.o modseq.o $(STOREOBJS) $(MIMEOBJS) $(UTILOBJS)

all: imapd

imapd: $(OBJS)
	$(CC) $(CFLAGS) $(LDFLAGS) -o imapd $(OBJS) $(LIBS)

$(OBJS): imapd.h parse.h store.h modseq.h buf.h date.h utf7.h
$(SESSOBJS): session.h log.h io.h reply.h command.h msg.h deliver.h
$(SESSOBJS) $(MIMEOBJS): mime.h
$(MIMEOBJS): mimeint.h
$(STOREOBJS): storeint.h
list.o listext.o mailbox.o: list.h

.c.o:
	$(CC) $(CFLAGS) -c $<

t/parsetest: t/parsetest.c parse.o $(UTILOBJS) imapd.h parse.h
	$(CC) $(CFLAGS) -I. -o t/parsetest t/parsetest.c parse.o $(UTILOBJS)

t/storetest: t/storetest.c $(STOREOBJS) modseq.o parse.o $(UTILOBJS) \
	imapd.h parse.h store.h modseq.h
	$(CC) $(CFLAGS) -I. -o t/storetest t/storetest.c $(STOREOBJS) \
	    modseq.o parse.o $(UTILOBJS)

t/objidtest: t/objidtest.c $(STOREOBJS) modseq.o parse.o $(UTILOBJS) \
	imapd.h parse.h store.h modseq.h
	$(CC) $(CFLAGS) -I. -o t/objidtest t/objidtest.c $(STOREOBJS) \
	    modseq.o parse.o $(UTILOBJS)

t/mimetest: t/mimetest.c $(MIMEOBJS) $(UTILOBJS) imapd.h mime.h
	$(CC) $(CFLAGS) -I. -o t/mimetest t/mimetest.c $(MIMEOBJS) $(UTILOBJS)

t/utf7test: t/utf7test.c $(UTILOBJS) utf7.h
	$(CC) $(CFLAGS) -I. -o t/utf7test t/utf7test.c $(UTILOBJS)

t/maxrss: t/maxrss.c
	$(CC) $(CFLAGS) -o t/maxrss t/maxrss.c

run: imapd
	sh t/demo.sh demo --session

check: imapd t/parsetest t/storetest t/objidtest t/mimetest t/utf7test t/maxrss \
    bench/qdrive bench/load
	sh t/run.sh

bench/gen: bench/gen.c
	$(CC) $(CFLAGS) -o bench/gen bench/gen.c -lm

bench/drive: bench/drive.c bench/conn.c bench/conn.h
	$(CC) $(CFLAGS) -o bench/drive bench/drive.c bench/conn.c

bench/qdrive: bench/qdrive.c bench/conn.c bench/conn.h
	$(CC) $(CFLAGS) -o bench/qdrive bench/qdrive.c bench/conn.c

bench/load: bench/load.c bench/conn.c bench/conn.h
	$(CC) $(CFLAGS) -o bench/load bench/load.c bench/conn.c

bench: imapd bench/gen bench/drive bench/qdrive bench/load
	sh bench/run.sh

install: imapd
	mkdir -p $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man8 \
		$(DESTDIR)$(PREFIX)/share/man/man5
	cp imapd $(DESTDIR)$(PREFIX)/bin/imapd
	cp man/imapd.8 $(DESTDIR)$(PREFIX)/share/man/man8/imapd.8
	cp man/imapd-store.5 $(DESTDIR)$(PREFIX)/share/man/man5/imapd-store.5

clean:
	rm -f imapd $(OBJS) t/parsetest t/storetest t/objidtest t/mimetest t/utf7test \
	    t/maxrss bench/qdrive bench/load

.PHONY: all run check bench install clean
