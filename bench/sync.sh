#!/bin/sh
# bench/sync.sh: the steps of make bench where several sessions share a
# mailbox, imapd and Dovecot side by side in the same run (bench/qdrive
# drives them):
#   queue    16 workers claim the 2,000 messages of a fresh INBOX with
#            UID STORE (UNCHANGEDSINCE m) +FLAGS.SILENT ($Claimed):
#            claims per second, double and lost claims; once with each
#            worker starting at its own share of the candidates, once
#            with all of them contending for the same
#   idle     one session IDLEs while another APPENDs BENCH_IDLE messages
#            and STOREs a flag as often: median and 99th percentile from
#            the writer's tagged OK to the idler's EXISTS or FETCH
#   changed  a mailbox of BENCH_BIG tiny messages where 10 changed:
#            FETCH 1:* (FLAGS) (CHANGEDSINCE m) and, when the server
#            announces QRESYNC, SELECT INBOX (QRESYNC (v m)) after ENABLE
#            QRESYNC, against a full FETCH 1:* (FLAGS) of it
# bench/run.sh runs it at its end; it also runs alone, from the top of
# the tree (sh bench/sync.sh). A server that fails a step is reported in
# the table and the other steps go on.
#
# Knobs: BENCH_BIG (1000000), BENCH_IDLE (100: Dovecot takes half a
# second per notification), BENCH_REPS (3).
#
# The big mailbox is made once, into bench/data/big-N/, and kept: imapd's
# store by 1,000 APPENDs through imapd and then COPY 1:k INBOX doubling it
# (APPEND costs each message its own fdatasyncs, a COPY one batch; remade
# when store.c, modseq.c or imapd.h change), Dovecot's as a Maildir
# written directly and indexed by one SELECT. Its 10 changed messages
# get \Flagged and lose it again, so every run finds it as it was.
set -u

BIG=${BENCH_BIG:-1000000}
IDLES=${BENCH_IDLE:-100}
REPS=${BENCH_REPS:-3}
QMSG=2000
QWORKERS=16
TOP=$(pwd)
DOVECOT=/usr/lib/dovecot/imap
QDRIVE=$TOP/bench/qdrive
DRIVE=$TOP/bench/drive
DATA=$TOP/bench/data/big-$BIG
WORK=$TOP/bench/data/sync-work

. "$TOP/bench/lib.sh"

[ -x "$TOP/imapd" ] || die "no ./imapd: run from the top of the tree"
make -s bench/qdrive bench/drive || die "cannot build bench/qdrive"

# As bench/run.sh (bench/lib.sh): as root, both servers run as an
# unprivileged user.
bench_user
bench_dovecot

mkdir -p "$DATA"
[ -z "$AS" ] || chown "$BUSER" "$DATA"
work_setup

# q SERVER DIR QDRIVE-ARGS...: qdrive's line, or "failed" (the log says why)
q() {
	qs=$1 qd=$2
	shift 2
	"$QDRIVE" -l "$LOG" "$@" -- \
	    $(srv "$qs" "$qd") 2>>"$LOG" || echo failed
}
servers() { if [ $HAVE_DOVECOT = 1 ]; then echo imapd dovecot; else echo imapd; fi; }

# fresh SERVER: an empty store or home in $WORK/SERVER.d, in $D
fresh() {
	D=$WORK/$1.d
	rm -rf "$D"
	$AS mkdir -p "$D"
}

# --------------------------------------------------------- the big mailbox
stamp=$(cat "$TOP/store.c" "$TOP/modseq.c" "$TOP/imapd.h" 2>/dev/null | cksum)
if [ "$(cat "$DATA/imapd.done" 2>/dev/null)" != "$stamp" ]; then
	say "bench: filling an imapd store with $BIG tiny messages (once)"
	rm -rf "$DATA/imapd-store"
	t0=$(date +%s)
	r=$(q imapd "$DATA/imapd-store" fill "$BIG")
	[ "$r" != failed ] || die "imapd could not fill the big store (see $LOG)"
	say "bench: filled in $(( $(date +%s) - t0 )) s"
	echo "$stamp" > "$DATA/imapd.done"
fi
if [ $HAVE_DOVECOT = 1 ] && [ ! -f "$DATA/dovecot.done" ]; then
	say "bench: writing a Maildir of $BIG tiny messages and its Dovecot index (once)"
	rm -rf "$DATA/dovecot-home"
	t0=$(date +%s)
	$AS mkdir -p "$DATA/dovecot-home"
	$AS "$QDRIVE" maildir "$DATA/dovecot-home/Maildir" "$BIG" >/dev/null ||
	    die "cannot write the Maildir"
	"$DRIVE" -x "$BIG" -l "$LOG" select -- \
	    $(srv dovecot "$DATA/dovecot-home") >/dev/null ||
	    die "Dovecot cannot SELECT the big Maildir (see $LOG)"
	say "bench: written and indexed in $(( $(date +%s) - t0 )) s"
	touch "$DATA/dovecot.done"
fi

# --------------------------------------------------------------- measure
# Twice: each worker starting at its own share of the candidates, then
# (-c) all of them going for the same ones, where every claim is contended
# (there Dovecot 2.3 claims some messages twice).
for v in s c; do
	say "bench: queue, $QWORKERS workers on $QMSG messages ($v)"
	for s in $(servers); do
		fresh $s
		if [ $s = imapd ]; then
			r=$(q imapd "$D" fill $QMSG)
		else
			r=$($AS "$QDRIVE" maildir "$D/Maildir" $QMSG || echo failed)
		fi
		if [ "$r" = failed ]; then
			eval "Q${v}_$s=failed"
			continue
		fi
		flag=
		[ $v = s ] || flag=-c
		eval "Q${v}_$s=\$(q $s \"\$D\" $flag -w $QWORKERS -x $QMSG queue)"
	done
done
say "bench: IDLE, $IDLES APPENDs and $IDLES STOREs"
for s in $(servers); do
	fresh $s
	[ $s = imapd ] || $AS mkdir -p "$D/Maildir/cur" "$D/Maildir/new" "$D/Maildir/tmp"
	eval "I_$s=\$(q $s \"\$D\" idle $IDLES)"
done
say "bench: CHANGEDSINCE on $BIG messages"
sleep 2
eval "C_imapd=\$(q imapd \"\$DATA/imapd-store\" -n $REPS -x $BIG changed)"
[ $HAVE_DOVECOT = 0 ] ||
    eval "C_dovecot=\$(q dovecot \"\$DATA/dovecot-home\" -n $REPS -x $BIG changed)"

# ----------------------------------------------------------------- table
# The awk below gets each server's lines as "imapd ..." and "dovecot ...".
{
	echo "imapd ${Qs_imapd:-failed}"
	echo "dovecot ${Qs_dovecot:-absent}"
	echo "imapd ${Qc_imapd:-failed}" | sed 's/ queue / queuec /'
	echo "dovecot ${Qc_dovecot:-absent}" | sed 's/ queue / queuec /'
	echo "imapd ${I_imapd:-failed}"
	echo "dovecot ${I_dovecot:-absent}"
	echo "imapd ${C_imapd:-failed}"
	echo "dovecot ${C_dovecot:-absent}"
} | awk -v qm=$QMSG -v qw=$QWORKERS -v big=$BIG -v idles=$IDLES '
function ms(s) { return s < 0 ? "not supported" : sprintf("%.2f", s * 1000) }
function ratio(a, b) { return (a ~ /^[0-9.]+$/ && b ~ /^[0-9.]+$/ && b > 0) ? sprintf("%.2f", a / b) : "-" }
function row(name, a, b, r) { printf "%-48s %13s %13s %6s\n", name, a, b, r }
function cell(srv, mode, i, f) {
	if (!((srv, mode) in L))
		return srv == "dovecot" && absent ? "-" : "failed"
	return f == "ms" ? ms(L[srv, mode, i]) : L[srv, mode, i]
}
{
	srv = $1
	if ($2 == "absent") { absent = 1; next }
	if ($2 == "failed") next
	L[srv, $2] = 1
	for (i = 3; i <= NF; i++)
		L[srv, $2, i - 2] = $i
}
function trow(name, mode, i,    a, b) {
	a = cell("imapd", mode, i, "ms"); b = cell("dovecot", mode, i, "ms")
	row(name, a, b, ratio(a, b))
}
function qrows(mode, how,    a, b, ra, rb) {
	a = cell("imapd", mode, 1); b = cell("dovecot", mode, 1)
	row("queue" how ": " qm " claims by " qw " workers, ms",
	    a ~ /^[0-9.]+$/ ? ms(a) : a, b ~ /^[0-9.]+$/ ? ms(b) : b, ratio(a, b))
	ra = a ~ /^[0-9.]+$/ && a > 0 ? sprintf("%.0f", qm / a) : a
	rb = b ~ /^[0-9.]+$/ && b > 0 ? sprintf("%.0f", qm / b) : b
	row("queue" how ": claims per second", ra, rb, ratio(ra, rb))
	row("queue" how ": double claims", cell("imapd", mode, 4), cell("dovecot", mode, 4), "")
	row("queue" how ": lost claims", cell("imapd", mode, 5), cell("dovecot", mode, 5), "")
	row("queue" how ": STOREs answered MODIFIED", cell("imapd", mode, 6), cell("dovecot", mode, 6), "")
	row("queue" how ": messages left unclaimed",
	    ("imapd", mode) in L ? qm - L["imapd", mode, 7] : cell("imapd", mode, 7),
	    ("dovecot", mode) in L ? qm - L["dovecot", mode, 7] : cell("dovecot", mode, 7), "")
}
END {
	printf "%-48s %13s %13s %6s\n", "step", "imapd", "dovecot", "ratio"
	# queue secs claims distinct doubles lost modified flagged
	qrows("queue", "")
	qrows("queuec", ", contended")
	trow("IDLE: APPEND to EXISTS, median ms", "idle", 1)
	trow("IDLE: APPEND to EXISTS, 99th percentile ms", "idle", 2)
	trow("IDLE: STORE to FETCH, median ms", "idle", 3)
	trow("IDLE: STORE to FETCH, 99th percentile ms", "idle", 4)
	row("IDLE: notifications missed (over 5 s)", cell("imapd", "idle", 5), cell("dovecot", "idle", 5), "")
	trow("FETCH 1:* (FLAGS), ms", "changed", 1)
	trow("FETCH 1:* (FLAGS) (CHANGEDSINCE m), ms", "changed", 2)
	trow("SELECT INBOX (QRESYNC (v m)), ms", "changed", 3)
	trow("SELECT INBOX (plain, for comparison), ms", "changed", 4)
	for (j = 2; j <= 3; j++) {
		for (k = 0; k < 2; k++) {
			s = k ? "dovecot" : "imapd"
			v = L[s, "changed", j]; full = L[s, "changed", 1]
			if (!((s, "changed") in L))
				R[k] = cell(s, "changed", 1)
			else if (v < 0)
				R[k] = "not supported"
			else
				R[k] = full > 0 ? sprintf("%.4f", v / full) : "-"
		}
		row((j == 2 ? "CHANGEDSINCE" : "QRESYNC SELECT") " / full FETCH", R[0], R[1], "")
	}
}'
echo "queue: UID STORE n (UNCHANGEDSINCE m) +FLAGS.SILENT (\$Claimed) on a fresh INBOX,"
echo "   candidates by UID SEARCH UNKEYWORD \$Claimed and UID FETCH (FLAGS MODSEQ),"
echo "   each worker from its own share of them, or (contended) all from the same;"
echo "   claims per second: higher is better"
echo "ratio: imapd's figure over Dovecot's; the issue's targets: every time at"
echo "   most 0.5 of Dovecot's, no double or lost claim, IDLE under 100 ms, and"
echo "   CHANGEDSINCE and QRESYNC SELECT at most 1/20 (0.05) of a full FETCH"
echo "IDLE: from the writer's tagged OK to the idler's line (0 if it came first)"
echo "CHANGEDSINCE: $BIG tiny messages, 10 of them changed; median of $REPS"
