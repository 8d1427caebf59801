#!/bin/sh
# bench/esearch.sh: SEARCH RETURN (COUNT MIN MAX) (ESEARCH, RFC 4731)
# over the benchmark mailbox of bench/run.sh (BENCH_N messages, 100,000),
# imapd against Dovecot in the same run, each on a fresh copy of the kept
# stores (bench/lib.sh makes them once), both warm. Criteria: ALL, UNSEEN
# (bench/gen writes every message unseen) and SINCE the date of the
# middle message, which finds half of them; the target is at most half
# of Dovecot's time. The two servers must give the same COUNT, MIN and
# MAX. bench/run.sh runs it at its end; it also runs alone, from the top
# of the tree (sh bench/esearch.sh). A server that fails is reported.
#
# Knobs: BENCH_N (100000), BENCH_SEED (1), BENCH_REPS (5).
set -u

N=${BENCH_N:-100000}
SEED=${BENCH_SEED:-1}
REPS=${BENCH_REPS:-5}
TOP=$(pwd)
DATA=$TOP/bench/data/$N-$SEED
DOVECOT=/usr/lib/dovecot/imap
GEN=$TOP/bench/gen
DRIVE=$TOP/bench/drive

. "$TOP/bench/lib.sh"

[ -x "$TOP/imapd" ] || die "no ./imapd: run from the top of the tree"
make -s bench/gen bench/drive || die "cannot build bench/gen, bench/drive"
bench_user
bench_dovecot
bench_data

# Fresh copies, as bench/run.sh takes them: SELECT may write (\Recent,
# Dovecot's index) and the kept stores stay as they were made.
W=$DATA/esearch-work
say "bench: copying the stores"
rm -rf "$W"
run mkdir -p "$W"
run cp -R "$DATA/imapd-store" "$W/imapd-store"
if [ $HAVE_DOVECOT = 1 ]; then
	run cp -Rl "$DATA/dovecot-home" "$W/dovecot-home"
	rm -f "$W/dovecot-home/Maildir"/dovecot*
	run cp -p "$MAILDIR"/dovecot* "$W/dovecot-home/Maildir/"
fi
IMAPD=$(imapd_cmd "$W/imapd-store")
DOVE=$(dovecot_cmd "$W/dovecot-home")

# The middle message's date: bench/gen names each file by its date.
mid=$(sed -n "$(((N + 1) / 2))p" "$LIST" | sed 's|.*/||; s|\..*||')
SINCE=$(LC_ALL=C date -u -d "@$mid" +%d-%b-%Y)

sleep 2	# Dovecot trusts a Maildir's mtime only once it is old enough
"$DRIVE" -x "$N" -l "$DATA/imapd.log" warm -- $IMAPD >/dev/null ||
    say "bench: imapd failed the warm-up"
[ $HAVE_DOVECOT = 0 ] || "$DRIVE" -x "$N" -l "$DATA/dovecot.log" warm -- \
    $DOVE >/dev/null || say "bench: dovecot failed the warm-up"

# one SERVER CRITERIA: drive's line "esearch secs rss bytes reps count
# min<<32|max", or "failed".
one() {
	if [ "$1" = imapd ]; then
		"$DRIVE" -n "$REPS" -x "$N" -l "$DATA/imapd.log" esearch "$2" \
		    -- $IMAPD || echo failed
	elif [ $HAVE_DOVECOT = 1 ]; then
		"$DRIVE" -n "$REPS" -x "$N" -l "$DATA/dovecot.log" esearch \
		    "$2" -- $DOVE || echo failed
	else
		echo "not installed"
	fi
}

echo "SEARCH RETURN (COUNT MIN MAX) over $N messages, median of $REPS (ms; MiB: peak RSS)"
fmt="%-44s %10s %10s %6s %9s %9s %7s\n"
printf "$fmt" "criteria" "imapd ms" "dovecot ms" "ratio" "imapd MiB" \
    "dove MiB" "answers"
for crit in ALL UNSEEN "SINCE $SINCE"; do
	i=$(one imapd "$crit")
	d=$(one dovecot "$crit")
	printf '%s\n%s\n' "$i" "$d" | awk -v c="$crit" -v fmt="$fmt" '
	NR == 1 { it = $2; ir = $3; ic = $6; is = $7; iok = $1 == "esearch" }
	NR == 2 { dt = $2; dr = $3; dc = $6; ds = $7; dok = $1 == "esearch" }
	END {
		ims = iok ? sprintf("%.1f", it * 1000) : "failed"
		dms = dok ? sprintf("%.1f", dt * 1000) : "-"
		r = (iok && dok && dt > 0) ? sprintf("%.2f", it / dt) : "-"
		imb = iok ? sprintf("%.1f", ir / 1024) : "-"
		dmb = dok ? sprintf("%.1f", dr / 1024) : "-"
		same = (ic == dc && is == ds) ? "same" : "DIFFER"
		printf fmt, c, ims, dms, r, imb, dmb, (iok && dok) ? same : "-"
		if (iok)
			printf "    imapd: COUNT %s, MIN<<32|MAX %s\n", ic, is
	}'
done
rm -rf "$W"
