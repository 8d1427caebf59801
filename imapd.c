/*
 * imapd: an IMAP4rev1 server for one connection on stdin/stdout.
 *
 * This file is the process: options, the store directory, the invoking
 * user, and start-up into a session (command.c) or a delivery
 * (deliver.c). The README lists what each other file owns.
 */
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "command.h"
#include "deliver.h"
#include "imapd.h"
#include "io.h"
#include "log.h"
#include "session.h"

static const char *deliver_to;	/* -D: the mailbox, or NULL for a session */

static void
usage(void)
{
	fprintf(stderr, "usage: imapd [-s] [-d dir] [-p passwdfile] "
	    "[-l appendlimit] [-D mailbox]\n");
	exit(EXIT_PERM);
}

static void start_fail(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));

/*
 * A fatal error before the session starts is never silent: it is logged
 * and written to stderr where that is not the client (log_fatal), and
 * the client hears why in a BYE (a delivery has no client).
 */
static void
start_fail(int code, const char *fmt, ...)
{
	char why[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	log_fatal("%s", why);
	if (deliver_to == NULL) {
		io_outf("* BYE imapd cannot start: %s\r\n", why);
		io_flush();
	}
	exit(code);
}

static const char *
default_dir(void)
{
	static char path[PATH_MAX];
	const char *home = getenv("HOME");
	struct passwd *pw;

	if ((home == NULL || *home == '\0') &&
	    (pw = getpwuid(getuid())) != NULL)
		home = pw->pw_dir;
	if (home == NULL ||
	    (size_t)snprintf(path, sizeof path, "%s/Mail", home) >= sizeof path)
		start_fail(EXIT_PERM, "no home directory; use -d");
	return path;
}

static char *
invoking_user(void)
{
	struct passwd *pw = getpwuid(getuid());
	char buf[32];

	if (pw != NULL)
		return strdup(pw->pw_name);
	snprintf(buf, sizeof buf, "%lu", (unsigned long)getuid());
	return strdup(buf);
}

static void
options(int argc, char *argv[])
{
	unsigned long long lim;
	char *end;
	int ch;

	while ((ch = getopt(argc, argv, "d:p:l:D:s")) != -1) {
		switch (ch) {
		case 'd':
			S.dir = optarg;
			break;
		case 'p':
			S.pwfile = optarg;
			break;
		case 'l':
			errno = 0;
			lim = strtoull(optarg, &end, 10);
			if (*end || errno || lim == 0 || lim > SIZE_MAX / 2)
				usage();
			S.appendmax = (size_t)lim;
			break;
		case 'D':
			deliver_to = optarg;
			break;
		case 's':
			log_to_stderr();
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
}

/* A session without a password file is the invoker's own. */
static void
open_own_store(void)
{
	if (getuid() == 0 || geteuid() == 0)
		start_fail(deliver_to ? EX_TEMPFAIL_ : EXIT_PERM,
		    "refusing to run as root without -p");
	if (S.dir == NULL)
		S.dir = default_dir();
	if ((S.store = store_open(S.dir)) == NULL)
		start_fail(deliver_to ? EX_TEMPFAIL_ : EXIT_TEMP,
		    "cannot open the store %s: %s", S.dir, strerror(errno));
}

int
main(int argc, char *argv[])
{
	S.appendmax = APPEND_MAX_DEFAULT;
	clock_gettime(CLOCK_MONOTONIC, &S.started);
	options(argc, argv);
	openlog("imapd", LOG_PID, LOG_MAIL);
	signal(SIGPIPE, SIG_IGN);
	if (S.pwfile == NULL || deliver_to != NULL) {
		open_own_store();
		if (deliver_to)
			return deliver_message(deliver_to);
		S.user = invoking_user();
		S.state = ST_AUTH;
		io_outs("* PREAUTH [CAPABILITY ");
		command_out_caps();
		io_outf("] imapd ready, logged in as %s\r\n", S.user);
		log_msg(LOG_INFO, "preauth user=%s remote=%s", S.user,
		    log_remote());
	} else {
		S.state = ST_NOAUTH;
		io_outf("* OK [CAPABILITY %s] imapd ready\r\n", CAPS_PRE);
	}
	io_nonblock();
	command_serve();
	return 0;
}
