#!/bin/sh
# bench/run.sh: time imapd against Dovecot on the same generated mailbox.
#
# Run from the top of the tree (make bench). Knobs, from the environment:
#   BENCH_N        messages in the mailbox (100000)
#   BENCH_SEED     generator seed (1)
#   BENCH_REPS     repetitions of each timing; the median is shown (3)
#   BENCH_APPENDS  APPEND commands in the append step (1000)
#   BENCH_BIG, BENCH_IDLE  sizes of bench/sync.sh's steps (see there)
#
# Data lives in bench/data/N-SEED/ and is kept between runs: the Maildir
# written by bench/gen (Dovecot reads it in place and keeps its index
# there), the imapd store filled from it through imapd itself, and work/,
# fresh copies of both taken at the start of every run so the mutating
# steps (STORE, APPEND) never touch the kept data.
#
# The searches look for words of bench/gen.c's vocabulary that neither
# server can find in an index (Dovecot's default has no full-text index),
# so both read every message that does not match to its end:
#   TEXT     a last name, in From/To/Cc of about one message in ten and
#            in no body
#   SUBJECT  a word of the body vocabulary, in about 3% of the subjects
#   FROM     a first name, in about 3% of the From fields
set -eu

N=${BENCH_N:-100000}
SEED=${BENCH_SEED:-1}
REPS=${BENCH_REPS:-3}
APPENDS=${BENCH_APPENDS:-1000}
TEXT_WORD=Okafor
SUBJECT_WORD=invoice
FROM_NAME=Giulia
TOP=$(pwd)
DATA=$TOP/bench/data/$N-$SEED
DOVECOT=/usr/lib/dovecot/imap
GEN=$TOP/bench/gen
DRIVE=$TOP/bench/drive

. "$TOP/bench/lib.sh"

[ -x "$TOP/imapd" ] || die "no ./imapd: run make bench from the top of the tree"
make -s bench/gen bench/drive || die "cannot build bench/gen, bench/drive"

# ---------------------------------------------------------------- who runs
bench_user
bench_dovecot install

# ---------------------------------------------------------------- machine
cpu=$(sed -n 's/^model name[[:space:]]*:[[:space:]]*//p' /proc/cpuinfo 2>/dev/null | sed -n 1p)
echo "machine: $(nproc) CPUs, ${cpu:-unknown CPU}, $(uname -srm)"
echo "mailbox: $N messages (seed $SEED), $REPS runs per timing (median), $APPENDS APPENDs"
echo "imapd:   $(git -C "$TOP" describe --always --dirty 2>/dev/null || echo unknown)"
if [ $HAVE_DOVECOT = 1 ]; then
	echo "dovecot: $(dovecot --version 2>/dev/null || echo unknown), maildir, default settings"
else
	echo "dovecot: not installed ($DOVECOT missing): its columns are empty"
fi

# ---------------------------------------------------------------- data
# The mailbox, made once and kept (bench/lib.sh); MAILDIR, LIST and the
# helpers run, imapd_cmd and dovecot_cmd come from there.
bench_data

# Fresh work copies: the messages of the Maildir are hard links (Dovecot
# renames them, never rewrites them), its index files real copies.
say "bench: copying the stores"
rm -rf "$DATA/work"
run mkdir -p "$DATA/work"
run cp -R "$DATA/imapd-store" "$DATA/work/imapd-store"
WMAILDIR=$DATA/work/dovecot-home/Maildir
if [ $HAVE_DOVECOT = 1 ]; then
	run cp -Rl "$DATA/dovecot-home" "$DATA/work/dovecot-home"
	rm -f "$WMAILDIR"/dovecot*
	run cp -p "$MAILDIR"/dovecot* "$WMAILDIR"/
fi
IMAPD=$(imapd_cmd "$DATA/work/imapd-store")
DOVE=$(dovecot_cmd "$DATA/work/dovecot-home")
# The structure caches, removed before each cold repetition. imapd's index
# records keep offsets into its cache, but an entry is used only when its
# magic, UID and sum check out, so a missing file is simply rebuilt (the
# check after step 7 shows it is).
ICACHE=$DATA/work/imapd-store/box/INBOX/cache
DCACHE=$WMAILDIR/dovecot.index.cache
# Message bytes as IMAP counts them (RFC822.SIZE, CRLF line ends): the
# W= field of each Maildir name; MB/s of the searches is this over time.
MBYTES=$(awk -F'W=' '{ split($2, a, ":"); s += a[1] } END { printf "%.0f", s }' "$LIST")

# ---------------------------------------------------------------- measure
OUT=$DATA/results
: > "$OUT"
# measure NAME [cold] DRIVE-ARGS...: one line each
# "NAME server secs rss bytes count sum"; cold removes the server's
# structure cache before every repetition.
measure() {
	name=$1
	shift
	ic= dc=
	if [ "$1" = cold ]; then
		ic="-c $ICACHE" dc="-c $DCACHE"
		shift
	fi
	"$DRIVE" -n "$REPS" -l "$DATA/imapd.log" $ic "$@" -- $IMAPD \
	    > "$OUT.1" || die "imapd failed at $name (see $DATA/imapd.log)"
	awk -v n="$name" '{ print n, "imapd", $2, $3, $4, $6, $7 }' \
	    "$OUT.1" >> "$OUT"
	if [ $HAVE_DOVECOT = 1 ]; then
		"$DRIVE" -n "$REPS" -l "$DATA/dovecot.log" $dc "$@" -- $DOVE \
		    > "$OUT.1" || die "dovecot failed at $name"
		awk -v n="$name" '{ print n, "dovecot", $2, $3, $4, $6, $7 }' \
		    "$OUT.1" >> "$OUT"
	fi
	rm -f "$OUT.1"
}
# field STEP SERVER N: field N (3 secs ... 7 sum) of a result line
field() {
	awk -v s="$1" -v v="$2" -v f="$3" \
	    '$1 == s && $(NF - 5) == v { print $(NF - 7 + f) }' "$OUT"
}
size() { if [ -f "$1" ]; then wc -c < "$1" | tr -d ' '; else echo 0; fi; }

# Dovecot cannot trust a Maildir directory's mtime within a second or so
# of a change and rescans it on every SELECT until it can: let the fresh
# copies age before the warm-up, so both servers are measured steady.
sleep 2
say "bench: warm-up"
"$DRIVE" -x "$N" -l "$DATA/imapd.log" warm -- $IMAPD >/dev/null ||
    die "imapd failed the warm-up (see $DATA/imapd.log)"
if [ $HAVE_DOVECOT = 1 ]; then
	"$DRIVE" -x "$N" -l "$DATA/dovecot.log" warm -- $DOVE >/dev/null ||
	    die "dovecot failed the warm-up"
fi

# The read-only steps first, the mutating ones (4, 5) last; rows are
# numbered as in the table.
say "bench: measuring"
measure "1 SELECT INBOX" -x "$N" select
measure "2 FETCH 1:* (UID FLAGS)" -x "$N" fetch
measure "3 UID FETCH 1:* (RFC822.SIZE INTERNALDATE)" -x "$N" uidfetch
measure "6 connection: SELECT, 50 headers, LOGOUT" -x "$N" session
measure "7 FETCH 1:* (ENVELOPE BODYSTRUCTURE) cold" cold -x "$N" structure
icold=$(size "$ICACHE")
dcold=$(size "$DCACHE")
[ "$icold" -gt 0 ] || die "imapd wrote no structure cache ($ICACHE)"
measure "8 FETCH 1:* (ENVELOPE BODYSTRUCTURE) warm" -x "$N" structure
iwarm=$(size "$ICACHE")
dwarm=$(size "$DCACHE")
# A warm run that found every entry appends none.
[ "$iwarm" = "$icold" ] ||
    die "imapd's cache grew from $icold to $iwarm bytes in a warm run"
measure "9 SEARCH TEXT \"$TEXT_WORD\"" -x "$N" search "TEXT \"$TEXT_WORD\""
measure "10 SEARCH HEADER SUBJECT \"$SUBJECT_WORD\"" -x "$N" \
    search "HEADER SUBJECT \"$SUBJECT_WORD\""
measure "11 SEARCH FROM \"$FROM_NAME\"" -x "$N" search "FROM \"$FROM_NAME\""
measure "4 STORE 1:* +FLAGS.SILENT (\\Seen)" -x "$N" store
measure "5 $APPENDS x APPEND" append "$LIST" "$MAILDIR" "$APPENDS"

# ---------------------------------------------------------------- table
echo "both servers measured warm: index built, files in the page cache"
awk '
function ms(s) { return sprintf("%.1f", s * 1000) }
function mib(k) { return sprintf("%.1f", k / 1024) }
function ratio(a, b) { return b > 0 ? sprintf("%.2f", a / b) : "-" }
{
	srv = $(NF - 5); t = $(NF - 4); rss = $(NF - 3)
	name = $1
	for (i = 2; i <= NF - 6; i++)
		name = name " " $i
	order[$1 + 0] = name
	if ($1 + 0 > n)
		n = $1 + 0
	T[name, srv] = t; R[name, srv] = rss
}
END {
	fmt = "%-44s %10s %10s %6s %9s %9s %6s\n"
	printf fmt, "operation", "imapd ms", "dovecot ms", "ratio",
	    "imapd MiB", "dove MiB", "ratio"
	for (i = 1; i <= n; i++) {
		if (!(i in order))
			continue
		k = order[i]
		hd = ((k, "dovecot") in T)
		printf fmt, k, ms(T[k, "imapd"]),
		    hd ? ms(T[k, "dovecot"]) : "-",
		    hd ? ratio(T[k, "imapd"], T[k, "dovecot"]) : "-",
		    mib(R[k, "imapd"]),
		    hd ? mib(R[k, "dovecot"]) : "-",
		    hd ? ratio(R[k, "imapd"], R[k, "dovecot"]) : "-"
	}
}' "$OUT"
echo "ms: median of $REPS; MiB: peak RSS of the server process (wait4 ru_maxrss)"
echo "(the connection row times the whole process, start to exit)"
echo "7: imapd without box/INBOX/cache, Dovecot without dovecot.index.cache"
echo "   (each removed before every run; message files in the page cache)"
echo "8: new connections after 7, caches filled"

# The structure answers: cold against warm, imapd against Dovecot.
same() { [ "$1" = "$2" ] && echo "identical" || echo "DIFFERENT"; }
i7=$(field 7 imapd 7)
i8=$(field 8 imapd 7)
echo "structure cache: imapd $icold bytes after 7, $iwarm after 8;" \
    "cold and warm answers $(same "$i7" "$i8")"
if [ $HAVE_DOVECOT = 1 ]; then
	d7=$(field 7 dovecot 7)
	d8=$(field 8 dovecot 7)
	echo "dovecot.index.cache: $dcold bytes after 7, $dwarm after 8;" \
	    "cold and warm answers $(same "$d7" "$d8")"
	echo "ENVELOPE BODYSTRUCTURE of imapd and Dovecot:" \
	    "$(same "$i7" "$d7") ($(field 7 imapd 5) and" \
	    "$(field 7 dovecot 5) bytes)"
fi

# The searches: hits of both servers, and read bandwidth.
echo
echo "searches over $(awk -v b="$MBYTES" 'BEGIN { printf "%.1f", b / 1e6 }') MB of messages (MB/s: that over the median time)"
sfmt="%-44s %10s %10s %6s %9s %9s\n"
printf "$sfmt" "operation" "imapd hits" "dove hits" "" "imapd MB/s" "dove MB/s"
bad=0
for step in 9 10 11; do
	ih=$(field $step imapd 6)
	it=$(field $step imapd 3)
	dh=$(field $step dovecot 6)
	dt=$(field $step dovecot 3)
	if [ -n "$dh" ] && [ "$dh" != "$ih" ]; then
		bad=1
		say "bench: step $step: imapd finds $ih messages, Dovecot $dh"
	fi
	awk -v s=$step -v ih="$ih" -v it="$it" -v dh="${dh:--}" \
	    -v dt="${dt:-0}" -v b="$MBYTES" -v hd=$HAVE_DOVECOT -v fmt="$sfmt" '
	function rate(t) { return t > 0 ? sprintf("%.0f", b / 1e6 / t) : "-" }
	$1 == s && $(NF - 5) == "imapd" {
		name = $1
		for (i = 2; i <= NF - 6; i++)
			name = name " " $i
		printf fmt, name, ih, dh,
		    !hd ? "" : ih == dh ? "same" : "DIFFER", rate(it),
		    hd ? rate(dt) : "-"
	}' "$OUT"
done
echo "9-11 run after 7-8: both structure caches then hold the header fields"
echo "that 10 and 11 read (Dovecot's hdr.From, hdr.Subject, ...; imapd's"
echo "decoded search fields), so neither reads the messages for them"

# Several sessions on one mailbox: the CONDSTORE queue, IDLE latency,
# CHANGEDSINCE and QRESYNC on a big mailbox (bench/sync.sh).
echo
sh "$TOP/bench/sync.sh" || say "bench: bench/sync.sh failed"
[ $bad = 0 ] || die "the servers disagree on SEARCH hits (see above)"

# ---------------------------------------------------------------- load
# BENCH_LOAD_CLIENTS (50) clients for BENCH_LOAD_SECS (20) seconds on one
# mailbox of 100 messages (bench/load.c: each loops over a connection of
# SELECT, FETCH, STORE, APPEND, UID STORE \Deleted, EXPUNGE, LOGOUT), on
# fresh stores of their own. Per command: the median and 99th percentile
# of its latency for each server and their ratios; then commands per
# second, the longest wait, and the clients that stalled (no answer for
# 60 s) or failed. A server that fails here is reported, not fatal.
bench_load() {
	lc=${BENCH_LOAD_CLIENTS:-50}
	ls=${BENCH_LOAD_SECS:-20}
	ld=$DATA/load
	rm -rf "$ld"
	mkdir -p "$ld/imapd-store" "$ld/dovecot-home"
	[ -z "$AS" ] || chown "$BUSER" "$ld/imapd-store" "$ld/dovecot-home"
	say "bench: $lc clients on one mailbox, $ls s per server"
	run "$TOP/bench/load" -c "$lc" -t "$ls" -- $DATA/imapd -d \
	    "$ld/imapd-store" > "$ld/imapd.out" 2>> "$DATA/imapd.log" ||
	    say "bench: imapd failed the load (see $ld/imapd.out)"
	: > "$ld/dovecot.out"
	if [ $HAVE_DOVECOT = 1 ]; then
		$AS env -i PATH=/usr/bin:/bin HOME="$ld/dovecot-home" \
		    USER="$BUSER" "$TOP/bench/load" -c "$lc" -t "$ls" -- \
		    $DOVECOT -c "$DATA/dovecot.conf" > "$ld/dovecot.out" \
		    2>> "$DATA/dovecot.log" ||
		    say "bench: dovecot failed the load (see $ld/dovecot.out)"
	fi
	echo
	echo "$lc clients on one mailbox of 100 messages for $ls s (ms per command)"
	awk '
	function r(a, b) { return b > 0 ? sprintf("%.2f", a / b) : "-" }
	{ srv = FILENAME ~ /dovecot/ ? 2 : 1 }
	$1 == "cmd" {
		if (!($2 in seen)) { seen[$2] = 1; order[++n] = $2 }
		N[$2, srv] = $3; M[$2, srv] = $4; P[$2, srv] = $5
	}
	$1 == "total" { C[srv] = $4 }
	$1 == "maxwait" || $1 == "stalled" || $1 == "failed" { X[$1, srv] = $2 }
	$1 == "check" { K[srv] = $0 }
	END {
		fmt = "%-10s %8s %8s %8s %8s %8s %8s %6s\n"
		printf fmt, "command", "count", "imapd", "dovecot", "ratio",
		    "imapd", "dovecot", "ratio"
		printf fmt, "", "", "median", "median", "", "p99", "p99", ""
		for (i = 1; i <= n; i++) {
			k = order[i]
			d = ((k, 2) in M)
			printf fmt, k, N[k, 1], M[k, 1], d ? M[k, 2] : "-",
			    d ? r(M[k, 1], M[k, 2]) : "-", P[k, 1],
			    d ? P[k, 2] : "-", d ? r(P[k, 1], P[k, 2]) : "-"
		}
		printf "commands/s: imapd %s, dovecot %s\n", C[1],
		    (2 in C) ? C[2] : "-"
		printf "longest wait (ms): imapd %s, dovecot %s\n",
		    X["maxwait", 1], ((("maxwait", 2) in X) ? X["maxwait", 2] : "-")
		printf "stalled/failed clients: imapd %s/%s, dovecot %s/%s\n",
		    X["stalled", 1], X["failed", 1],
		    (("stalled", 2) in X) ? X["stalled", 2] : "-",
		    (("failed", 2) in X) ? X["failed", 2] : "-"
		printf "imapd %s\n", (1 in K) ? K[1] : "check missing"
		if (2 in K)
			printf "dovecot %s\n", K[2]
	}' "$ld/imapd.out" "$ld/dovecot.out"
	echo "(greet: start to greeting; UIDSTORE: +FLAGS (\\Deleted) of the client's previous APPEND)"
}
bench_load

# SEARCH RETURN (COUNT MIN MAX) over the same mailbox (bench/esearch.sh).
sh "$TOP/bench/esearch.sh" || say "bench: bench/esearch.sh failed"
sh "$TOP/bench/move.sh" || say "bench: bench/move.sh failed"
# LIST-STATUS over many mailboxes (bench/list.sh).
sh "$TOP/bench/list.sh" || say "bench: bench/list.sh failed"
