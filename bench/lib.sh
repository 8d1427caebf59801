# bench/lib.sh: what bench/run.sh, bench/sync.sh and bench/esearch.sh
# share, sourced once TOP and DOVECOT are set: their messages, who runs
# the servers, and the benchmark mailbox.

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

# run CMD...: as the bench user, with a clean environment
run() { $AS env -i PATH=/usr/bin:/bin HOME="$DATA" USER="$BUSER" "$@"; }

imapd_cmd() { echo "$AS env -i PATH=/usr/bin:/bin HOME=$DATA USER=$BUSER $DATA/imapd -d $1"; }
dovecot_cmd() { echo "$AS env -i PATH=/usr/bin:/bin HOME=$1 USER=$BUSER $DOVECOT -c $DATA/dovecot.conf"; }

# bench_data: the benchmark mailbox of N messages (seed SEED) in DATA,
# made once and kept, for bench/run.sh and bench/esearch.sh (after
# bench_user and bench_dovecot; GEN and DRIVE built): the Maildir
# written by bench/gen (MAILDIR, its list in LIST) with Dovecot's index,
# and imapd's store filled from it through imapd (DATA/imapd-store,
# refilled when its format may have changed). DATA/imapd is this run's
# copy of the binary.
bench_data() {
	mkdir -p "$DATA"
	[ -z "$AS" ] || chown "$BUSER" "$DATA"
	MAILDIR=$DATA/dovecot-home/Maildir
	LIST=$DATA/list
	if [ ! -f "$DATA/gen.done" ]; then
		say "bench: generating $N messages in $MAILDIR (once)"
		rm -rf "$DATA/dovecot-home" "$LIST"
		run mkdir -p "$DATA/dovecot-home"
		run "$GEN" "$MAILDIR" "$LIST" "$N" "$SEED"
		rm -f "$DATA/dovecot.done"
		touch "$DATA/gen.done"
	fi

	cat > "$DATA/dovecot.conf" <<EOF
mail_location = maildir:~/Maildir
log_path = /dev/stderr
ssl = no
EOF

	# Dovecot builds its index on the first SELECT; keep it with the Maildir.
	if [ $HAVE_DOVECOT = 1 ] && [ ! -f "$DATA/dovecot.done" ]; then
		say "bench: building Dovecot's index (once)"
		"$DRIVE" -x "$N" -l "$DATA/dovecot.log" warm -- \
		    $(dovecot_cmd "$DATA/dovecot-home") >/dev/null
		touch "$DATA/dovecot.done"
	fi

	# A copy of the binary, so a rebuild during the run cannot mix versions.
	cp "$TOP/imapd" "$DATA/imapd"
	stamp=$(cat "$TOP/store.c" "$TOP/modseq.c" "$TOP/imapd.h" 2>/dev/null | cksum)

	# imapd's store, filled through imapd; refilled when its format may have
	# changed (the store and modseq sources define it) or this imapd does not
	# find every message in it.
	if [ "$(cat "$DATA/imapd.done" 2>/dev/null)" = "$stamp" ] &&
	    ! "$DRIVE" -x "$N" -l "$DATA/imapd.log" select -- \
	    $(imapd_cmd "$DATA/imapd-store") >/dev/null 2>&1; then
		say "bench: the kept imapd store does not read back: refilling"
		rm -f "$DATA/imapd.done"
	fi
	if [ "$(cat "$DATA/imapd.done" 2>/dev/null)" != "$stamp" ]; then
		say "bench: filling the imapd store with $N APPENDs (once)"
		rm -rf "$DATA/imapd-store"
		run mkdir -p "$DATA/imapd-store"
		"$DRIVE" -l "$DATA/imapd.log" populate "$LIST" "$MAILDIR" -- \
		    $(imapd_cmd "$DATA/imapd-store") > "$DATA/fill" ||
		    die "imapd failed to take the messages (see $DATA/imapd.log)"
		awk '{ printf "bench: filled in %.1f s\n", $2 }' "$DATA/fill" >&2
		echo "$stamp" > "$DATA/imapd.done"
	fi
}

# work_setup: $WORK (made, the bench user's) with a copy of imapd in
# $IMAPD_BIN, Dovecot's configuration and the servers' log in $LOG.
work_setup() {
	mkdir -p "$WORK"
	[ -z "$AS" ] || chown "$BUSER" "$WORK"
	IMAPD_BIN=$WORK/imapd.bin
	cp "$TOP/imapd" "$IMAPD_BIN"
	cat > "$WORK/dovecot.conf" <<EOF
mail_location = maildir:~/Maildir
log_path = /dev/stderr
ssl = no
EOF
	LOG=$WORK/server.log
	: > "$LOG"
	[ -z "$AS" ] || chown "$BUSER" "$LOG"
}

# srv imapd|dovecot DIR: the server command for a store (imapd) or a home
# holding Maildir (Dovecot), after work_setup.
srv() {
	if [ "$1" = imapd ]; then
		echo "$AS env -i PATH=/usr/bin:/bin HOME=$2 USER=$BUSER $IMAPD_BIN -d $2"
	else
		echo "$AS env -i PATH=/usr/bin:/bin HOME=$2 USER=$BUSER $DOVECOT -c $WORK/dovecot.conf"
	fi
}
