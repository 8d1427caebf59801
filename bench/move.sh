#!/bin/sh
# bench/move.sh: UID MOVE 1:* of a mailbox of BENCH_MOVE (10,000) tiny
# messages to another mailbox, imapd and Dovecot in the same run
# (bench/drive's move mode: timed from the command to its tagged OK,
# then, untimed, the messages are checked and moved back), the median of
# BENCH_REPS (3) and the ratio. The target is at most 0.5 of Dovecot's
# time. bench/run.sh runs it at its end; it also runs alone, from the
# top of the tree (sh bench/move.sh). A server that fails is reported and
# the other goes on.
set -u

N=${BENCH_MOVE:-10000}
REPS=${BENCH_REPS:-3}
TOP=$(pwd)
DOVECOT=/usr/lib/dovecot/imap
QDRIVE=$TOP/bench/qdrive
DRIVE=$TOP/bench/drive
WORK=$TOP/bench/data/move-work

. "$TOP/bench/lib.sh"

[ -x "$TOP/imapd" ] || die "no ./imapd: run from the top of the tree"
make -s bench/qdrive bench/drive || die "cannot build bench/drive"
bench_user
bench_dovecot

rm -rf "$WORK"
work_setup

# fill SERVER DIR: N messages in INBOX and an empty mailbox "moved";
# imapd's by APPEND and COPY (bench/qdrive fill), Dovecot's Maildir
# written directly, as bench/sync.sh does.
fill() {
	$AS mkdir -p "$2"
	if [ "$1" = imapd ]; then
		"$QDRIVE" -l "$LOG" fill "$N" -- $(srv imapd "$2") >/dev/null ||
		    return 1
	else
		$AS "$QDRIVE" maildir "$2/Maildir" "$N" >/dev/null || return 1
	fi
	printf 'c1 CREATE moved\r\nc2 LOGOUT\r\n' |
	    $(srv "$1" "$2") 2>>"$LOG" | grep -q '^c1 OK'
}

# measure SERVER: drive's line "move secs rss ..." or "failed".
measure() {
	d=$WORK/$1.d
	if ! fill "$1" "$d"; then
		echo failed
		return
	fi
	"$DRIVE" -n "$REPS" -x "$N" -l "$LOG" move -- $(srv "$1" "$d") ||
	    echo failed
}

say "bench: UID MOVE 1:* of $N messages"
M_imapd=$(measure imapd)
M_dovecot=-
[ "$HAVE_DOVECOT" = 0 ] || M_dovecot=$(measure dovecot)
echo
echo "UID MOVE 1:* of $N messages to another mailbox (median of $REPS)"
printf '%s\n%s\n' "imapd $M_imapd" "dovecot $M_dovecot" | awk '
	$2 == "move" { ms[$1] = $3 * 1000; kb[$1] = $4 }
	$2 != "move" { bad[$1] = $2 }
	END {
		printf "%-40s %12s %12s %7s\n", "step", "imapd", "dovecot", "ratio"
		i = ("imapd" in ms) ? sprintf("%.1f", ms["imapd"]) : bad["imapd"]
		d = ("dovecot" in ms) ? sprintf("%.1f", ms["dovecot"]) : bad["dovecot"]
		r = "-"
		if (("imapd" in ms) && ("dovecot" in ms) && ms["dovecot"] > 0)
			r = sprintf("%.2f", ms["imapd"] / ms["dovecot"])
		printf "%-40s %12s %12s %7s\n", "UID MOVE 1:*, ms", i, d, r
		i = ("imapd" in kb) ? sprintf("%.1f", kb["imapd"] / 1024) : "-"
		d = ("dovecot" in kb) ? sprintf("%.1f", kb["dovecot"] / 1024) : "-"
		printf "%-40s %12s %12s\n", "peak RSS, MiB", i, d
	}'
[ "$M_imapd" != failed ] && [ "$M_dovecot" != failed ] ||
    say "bench: a server failed the MOVE step (see $LOG)"
