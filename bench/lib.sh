# bench/lib.sh: what bench/run.sh and bench/sync.sh share, sourced by
# both once TOP and DOVECOT are set: their messages, and who runs the
# servers.

say() { printf '%s\n' "$*" >&2; }
die() { say "bench: $*"; exit 111; }

# bench_user: sets BUSER and AS, the prefix that runs a command as BUSER.
# imapd refuses to run PREAUTH as root, so as root both servers (and
# every file they touch) belong to an unprivileged user made for the
# purpose.
bench_user() {
	if [ "$(id -u)" = 0 ]; then
		BUSER=imapbench
		id "$BUSER" >/dev/null 2>&1 || useradd --system \
		    --no-create-home --home-dir /nonexistent \
		    --shell /usr/sbin/nologin "$BUSER" ||
		    die "cannot create user $BUSER"
		AS="setpriv --reuid=$(id -u $BUSER) --regid=$(id -g $BUSER) --clear-groups"
	else
		BUSER=$(id -un)
		AS=
	fi
}

# bench_dovecot [install]: sets HAVE_DOVECOT (1 or 0). With install, as
# root, Dovecot from Debian's package when missing (a fresh machine).
bench_dovecot() {
	if [ "${1:-}" = install ] && [ "$(id -u)" = 0 ] &&
	    [ ! -x "$DOVECOT" ] && command -v apt-get >/dev/null 2>&1; then
		say "bench: installing dovecot-imapd"
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		    apt-get install -y -qq dovecot-imapd; } >/dev/null 2>&1 ||
		    say "bench: could not install dovecot-imapd"
	fi
	if [ -x "$DOVECOT" ]; then HAVE_DOVECOT=1; else HAVE_DOVECOT=0; fi
}
