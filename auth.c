/*
 * auth.c: authentication and the privilege drop, the only code that may
 * run as root: the password file, LOGIN and AUTHENTICATE PLAIN (its
 * response on a line of its own or as SASL-IR's initial response), equal
 * cost for unknown users, the failed-login delay and limit, and becoming
 * the user before any of its input is handled.
 */
#include <ctype.h>
#include <crypt.h>
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "buf.h"
#include "imapd.h"
#include "command.h"
#include "io.h"
#include "log.h"
#include "reply.h"
#include "session.h"

#define PWLINE_MAX		4096

/* Compare in time that depends on the length of b only. */
static int
ct_equal(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i;
	unsigned char d = la != lb;

	for (i = 0; i < lb; i++)
		d |= (unsigned char)(a[i < la ? i : 0] ^ b[i]);
	return d == 0;
}

struct pwent {
	char	 line[PWLINE_MAX];
	char	*user, *hash, *uid, *gid, *dir;
	char	 dummy[PWLINE_MAX];	/* the file's first usable hash */
};

/* Find user in the password file: "user:hash:uid:gid:store-dir". */
static int
pw_lookup(const char *user, struct pwent *pe)
{
	FILE *f;
	int found = 0;

	pe->dummy[0] = '\0';
	if ((f = fopen(S.pwfile, "r")) == NULL) {
		log_msg(LOG_ERR, "open %s: %s", S.pwfile, strerror(errno));
		return -1;
	}
	while (!found && fgets(pe->line, sizeof pe->line, f) != NULL) {
		char *p = pe->line, *f5[5];
		size_t i;

		p[strcspn(p, "\r\n")] = '\0';
		for (i = 0; i < 5; i++)
			f5[i] = strsep(&p, ":");
		if (f5[4] == NULL || p != NULL)
			continue;
		/* Empty, or locked as in shadow(5): no work for crypt. */
		if (pe->dummy[0] == '\0' && strchr("!*", *f5[1]) == NULL)
			strcpy(pe->dummy, f5[1]);
		if (strcmp(f5[0], user) != 0)
			continue;
		pe->user = f5[0];
		pe->hash = f5[1];
		pe->uid = f5[2];
		pe->gid = f5[3];
		pe->dir = f5[4];
		found = 1;
	}
	fclose(f);
	return found ? 0 : -1;
}

static int
pw_id(const char *s, unsigned long *r)
{
	char *end;

	if (*s == '\0' || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	*r = strtoul(s, &end, 10);
	return *end != '\0' || errno != 0 ? -1 : 0;
}

/* Become the user before any of its input is handled (STYLE habit 9). */
static int
become_user(const struct pwent *pe)
{
	unsigned long uid, gid;

	if (*pe->uid == '\0' && *pe->gid == '\0') {
		if (geteuid() == 0) {
			log_msg(LOG_ERR, "user %s has no uid; refusing to "
			    "serve as root", log_esc(pe->user));
			return -1;
		}
		return 0;
	}
	if (pw_id(pe->uid, &uid) == -1 || pw_id(pe->gid, &gid) == -1 ||
	    uid == 0) {
		log_msg(LOG_ERR, "user %s: bad uid or gid", log_esc(pe->user));
		return -1;
	}
	if (geteuid() != 0)
		return getuid() == (uid_t)uid ? 0 : -1;
	gid_t g = (gid_t)gid;
	if (setgroups(1, &g) == -1 || setgid(g) == -1 ||
	    setuid((uid_t)uid) == -1)
		log_die(EXIT_TEMP, "drop privileges for %s: %s",
		    log_esc(pe->user), strerror(errno));
	if (setuid(0) != -1)
		log_die(EXIT_TEMP, "privileges were not dropped");
	return 0;
}

static int
open_store(const char *dir)
{
	if ((S.store = store_open(dir)) == NULL) {
		log_msg(LOG_ERR, "open store %s: %s", dir, strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * An unknown user is checked against a dummy hash with the settings
 * (method and cost) of the file's first usable hash, so it costs what a
 * known one does. A failed login is answered after 1, 2, then 4 seconds,
 * and the LOGIN_FAILURES_MAX-th ends the session. A process that has
 * taken a user's ids never serves another login.
 */
static int
login(const char *user, char *pass)
{
	/* The dummy hash when the file has no usable one. */
	static const char dummy[] = "$6$imapd$0000000000000000000000000000000"
	    "000000000000000000000000000000000000000000000000000000";
	struct pwent pe;
	const char *hash, *h;
	int found, good, root = geteuid() == 0;

	found = pw_lookup(user, &pe) == 0;
	hash = found && *pe.hash ? pe.hash : *pe.dummy ? pe.dummy : dummy;
	h = crypt(pass, hash);
	good = found && h != NULL && ct_equal(h, hash);
	buf_wipe(pass, strlen(pass));
	if (!good) {
		log_msg(LOG_NOTICE, "login failed user=%s remote=%s",
		    log_esc(user), log_remote());
		sleep(1u << S.failures);
		if (++S.failures >= LOGIN_FAILURES_MAX) {
			log_msg(LOG_NOTICE, "too many failed logins user=%s "
			    "remote=%s", log_esc(user), log_remote());
			io_outs("* BYE Too many failed logins\r\n");
			S.bye = 1;
		}
		return reply_no("[AUTHENTICATIONFAILED] Authentication "
		    "failed");
	}
	if (become_user(&pe) == -1)
		return reply_no("[UNAVAILABLE] Account is not usable");
	if (open_store(pe.dir) == -1) {
		/* Past become_user, root's ids are gone for good. */
		if (root) {
			io_outs("* BYE Cannot serve another login\r\n");
			S.bye = 1;
		}
		return reply_no("[UNAVAILABLE] Mail store is not available");
	}
	free(S.user);
	S.user = strdup(log_esc(user));
	S.state = ST_AUTH;
	log_msg(LOG_INFO, "login user=%s remote=%s", S.user, log_remote());
	return RES_OK;
}

int
cmd_login(struct arg *a)
{
	const char *user = session_astring(a);
	const char *pass = session_astring(a ? a->next : NULL);

	if (user == NULL || pass == NULL)
		return reply_bad_args();
	return login(user, a->next->s);
}

/*
 * RFC 4616: [authzid] NUL authcid NUL passwd, in base64 (b64, n bytes).
 * The decoded bytes are reserved whole before decoding and wiped after.
 */
static int
auth_plain(const char *b64, size_t n)
{
	struct buf d = { 0 };
	char *authz, *authc, *pass, *end;
	int r;

	if (n > AUTH_RESPONSE_MAX)
		return reply_bad("Authentication response too long");
	if (buf_reserve(&d, n) == -1)
		return reply_no("[SERVERBUG] Out of memory");
	if (buf_add_base64(&d, b64, n, 1) == -1) {
		r = reply_bad("Invalid base64 data");
		goto done;	/* part of it may be decoded */
	}
	end = d.p + d.len;
	authz = d.p;
	authc = authz + strlen(authz) + 1;
	pass = authc < end ? authc + strlen(authc) + 1 : NULL;
	if (pass == NULL || pass > end || pass + strlen(pass) != end)
		r = reply_bad("Invalid PLAIN response");
	else if (*authz && strcmp(authz, authc) != 0)
		r = reply_no("[AUTHORIZATIONFAILED] Cannot act as another "
		    "user");
	else
		r = login(authc, pass);
done:
	buf_wipe(d.p, d.cap);
	buf_free(&d);
	return r;
}

/*
 * AUTHENTICATE PLAIN, its response on the next line or, with SASL-IR
 * (RFC 4959 3), as the second argument: "=" is an empty one. "*"
 * cancels the exchange (RFC 3501 6.2.2).
 */
int
cmd_authenticate(struct arg *a)
{
	char line[AUTH_RESPONSE_MAX + 1];
	const char *mech = session_astring(a);
	int r;

	if (mech == NULL)
		return reply_bad_args();
	if (strcasecmp(mech, "PLAIN") != 0)
		return reply_no("[CANNOT] Unsupported authentication "
		    "mechanism");
	if (a->next != NULL) {
		if (a->next->type != ARG_ATOM)
			return reply_bad("Invalid initial response");
		if (strcmp(a->next->s, "=") == 0)
			return auth_plain("", 0);
		return auth_plain(a->next->s, a->next->len);
	}
	io_outs("+ \r\n");
	if (io_rawline(line, sizeof line) == -1)
		r = reply_bad("Authentication line too long");
	else if (strcmp(line, "*") == 0)
		r = reply_bad("Authentication cancelled");
	else
		r = auth_plain(line, strlen(line));
	buf_wipe(line, sizeof line);	/* io_rawline fills it even on -1 */
	return r;
}
