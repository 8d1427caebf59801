/*
 * idle.c: IDLE (RFC 2177, RFC 9051 6.3.13), with no daemon. The session
 * waits on its client and on a FIFO that writers poke after a change
 * (store_idle_begin); when woken, store_changed() compares the sizes of
 * the index, the change log and the keywords with what this session last
 * read, with fstat and no lock, and only when something moved does the
 * full report run, the one that runs before every tagged reply
 * (session_report_changes). imapd(8) says why a FIFO and not a poll.
 */
#include <stdlib.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "imapd.h"
#include "command.h"
#include "io.h"
#include "log.h"
#include "reply.h"
#include "session.h"

static long long
idle_ms_since(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - t->tv_sec) * 1000LL +
	    (now.tv_nsec - t->tv_nsec) / 1000000;
}

/*
 * RFC 2177: the server may log off a client that idles past its
 * inactivity timeout; imapd's is the 30 minutes of RFC 3501 5.4, counted
 * from the start of the IDLE, so a client that re-issues IDLE every 29
 * minutes as the RFC advises stays.
 */
static void
idle_autologout(void)
{
	io_outs("* BYE Autologout\r\n");
	io_flush();
	log_msg(LOG_INFO, "timeout user=%s remote=%s",
	    S.user ? S.user : "-", log_remote());
	exit(0);
}

/*
 * Wait for the client's line; meanwhile report what other processes
 * change, each time a writer pokes the FIFO or IDLE_WAKE_MS pass (every
 * IDLE_POLL_MS without a FIFO). EXPUNGE may be sent: IDLE is a command
 * during which the client expects renumbering (RFC 3501 7.4.1, RFC
 * 2177's example).
 */
static void
idle_wait(int fd, const struct timespec *start)
{
	struct mailbox *mb = S.mb;
	long long left;
	/*
	 * Nothing selected, or a mailbox deleted (nothing is written to it
	 * any more): nothing to look at but the clock.
	 */
	int ms = mb != NULL && fd == -1 && !store_deleted(mb) ?
	    IDLE_POLL_MS : IDLE_WAKE_MS;

	for (;;) {
		left = TIMEOUT_AUTH_MS - idle_ms_since(start);
		if (left <= 0)
			idle_autologout();
		if (io_wait(fd, left < ms ? (int)left : ms) == 1)
			return;
		if (S.mb != NULL && store_changed(S.mb))
			session_report_changes(1);
		if (S.mb != mb)	/* no longer selected: its FIFO went */
			fd = -1;
	}
}

/*
 * What was pending comes before the continuation (RFC 2177's A004).
 * The only line the grammar allows is DONE (RFC 9051 9: idle = "IDLE"
 * CRLF "DONE", any case); any other line ends the IDLE with BAD, and is
 * not run as a command: the client broke the rule of RFC 2177 section 3
 * not to send one before DONE, and the session goes on after the BAD.
 */
int
cmd_idle(struct arg *a)
{
	char line[16];
	struct timespec start;
	struct mailbox *mb = S.mb;
	int fd = mb != NULL ? store_idle_begin(mb) : -1;

	(void)a;
	clock_gettime(CLOCK_MONOTONIC, &start);
	session_report_changes(1);
	io_outs("+ idling\r\n");
	idle_wait(fd, &start);
	if (mb != NULL && S.mb == mb)
		store_idle_end(mb);
	if (io_rawline(line, sizeof line) == -1 ||
	    strcasecmp(line, "DONE") != 0)
		return reply_bad("Expected DONE");
	return RES_OK;
}
