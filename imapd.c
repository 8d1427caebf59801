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

static void
usage(void)
{
	fprintf(stderr, "usage: imapd [-s] [-d dir] [-p passwdfile] "
	    "[-l appendlimit] [-D mailbox]\n");
	exit(EXIT_PERM);
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
		log_die(EXIT_PERM, "no home directory; use -d");
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

int
main(int argc, char *argv[])
{
	const char *deliver_to = NULL;
	unsigned long long lim;
	char *end;
	int ch;

	S.appendmax = APPEND_MAX_DEFAULT;
	clock_gettime(CLOCK_MONOTONIC, &S.started);
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
	openlog("imapd", LOG_PID, LOG_MAIL);
	signal(SIGPIPE, SIG_IGN);
	if (S.pwfile == NULL || deliver_to != NULL) {
		/* A session without a password file is the invoker's own. */
		if (getuid() == 0 || geteuid() == 0)
			log_die(deliver_to ? EX_TEMPFAIL_ : EXIT_PERM,
			    "refusing to run as root without -p");
		if (S.dir == NULL)
			S.dir = default_dir();
		if (session_open_store(S.dir) == -1)
			return deliver_to ? EX_TEMPFAIL_ : EXIT_TEMP;
		if (deliver_to)
			return deliver_message(deliver_to);
		S.user = invoking_user();
		S.state = ST_AUTH;
		io_outf("* PREAUTH [CAPABILITY %s] imapd ready, "
		    "logged in as %s\r\n", CAPS_AUTH, S.user);
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
