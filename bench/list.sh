#!/bin/sh
# bench/list.sh: LIST "" "*" RETURN (STATUS (MESSAGES UNSEEN SIZE)) over
# BENCH_LISTBOXES (1,000) mailboxes of 3 messages each (one \Seen), imapd
# and Dovecot in the same run, both warm. A timing is one session of the
# LIST and LOGOUT, start to exit, less the median of empty sessions (just
# LOGOUT), so neither server's start-up counts; median of BENCH_REPS (5).
# Each server's STATUS lines must name every mailbox, and both servers'
# must be the same lines (the store's 5 special-use mailboxes are deleted
# from imapd's first). bench/run.sh runs it at its end; it also runs
# alone, from the top of the tree (sh bench/list.sh).
set -u

N=${BENCH_LISTBOXES:-1000}
REPS=${BENCH_REPS:-5}
TOP=$(pwd)
DOVECOT=/usr/lib/dovecot/imap
WORK=$TOP/bench/data/list-$N
CMD='LIST "" "*" RETURN (STATUS (MESSAGES UNSEEN SIZE))'

. "$TOP/bench/lib.sh"

[ -x "$TOP/imapd" ] || die "no ./imapd: run from the top of the tree"
bench_user
bench_dovecot

# The mailboxes are made once and kept (remade when imapd.h or store.c
# change: the store's format).
for f in imapd.h store.c storeint.h; do
	[ "$TOP/$f" -nt "$WORK/done" ] && rm -rf "$WORK"
done
mkdir -p "$WORK/imapd" "$WORK/dovecot/Maildir/cur" \
    "$WORK/dovecot/Maildir/new" "$WORK/dovecot/Maildir/tmp"
work_setup

# msg I: message I, CRLF line ends (both servers count the same SIZE).
msg() {
	printf 'From: a@example.org\r\nTo: b@example.org\r\nSubject: message %s\r\nMessage-ID: <%s@example.org>\r\nDate: Sat, 5 Dec 2026 06:00:00 +0000\r\n\r\nThe body of message %s.\r\n' "$1" "$1" "$1"
}

# imapd's store, through imapd; Dovecot's Maildir, written directly.
populate() {
	for b in Drafts Sent Trash Junk Archive; do
		printf 'd%s DELETE %s\r\n' "$b" "$b"
	done
	i=0
	while [ $i -lt "$N" ]; do
		i=$((i + 1))
		box=$(printf 'box%04d' $i)
		printf 'c%d CREATE %s\r\n' $i "$box"
		for k in 1 2 3; do
			m=$(msg "$box.$k")
			f=
			[ $k = 1 ] && f='(\Seen) '
			printf 'a%d.%d APPEND %s %s{%d+}\r\n%s\r\n' $i $k "$box" \
			    "$f" ${#m} "$m"
			d=$WORK/dovecot/Maildir/.$box
			mkdir -p "$d/cur" "$d/new" "$d/tmp"
			fl=
			[ $k = 1 ] && fl=S
			printf '%s' "$m" > "$d/cur/1764914400.P$i.$k.bench:2,$fl"
		done
	done
	printf 'z LOGOUT\r\n'
}

if [ ! -f "$WORK/done" ]; then
	populate > "$WORK/populate.in"
	[ -z "$AS" ] || chown -R "$BUSER" "$WORK"
	$(srv imapd "$WORK/imapd") < "$WORK/populate.in" > "$WORK/populate.out" 2>>"$LOG"
	ok=$(grep -c '^a[0-9.]* OK' "$WORK/populate.out")
	[ "$ok" = $((3 * N)) ] || die "imapd took $ok of $((3 * N)) APPENDs"
	touch "$WORK/done"
fi

printf 'a %s\r\nb LOGOUT\r\n' "$CMD" > "$WORK/list.in"
printf 'b LOGOUT\r\n' > "$WORK/empty.in"

# usecs SERVER IN OUT: microseconds of one session.
usecs() {
	t0=$(date +%s%N)
	# Dovecot cannot poll a file: both read a pipe.
	cat "$2" | $(srv "$1" "$WORK/$1") > "$3" 2>>"$LOG"
	t1=$(date +%s%N)
	echo $(((t1 - t0) / 1000))
}
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# ms SERVER: the LIST's median time, in ms; "failed" for a wrong answer.
ms() {
	usecs "$1" "$WORK/list.in" "$WORK/$1.out" >/dev/null	# warm
	r=0
	: > "$WORK/$1.t"
	: > "$WORK/$1.e"
	while [ $r -lt "$REPS" ]; do
		r=$((r + 1))
		usecs "$1" "$WORK/list.in" "$WORK/$1.out" >> "$WORK/$1.t"
		usecs "$1" "$WORK/empty.in" "$WORK/$1.eout" >> "$WORK/$1.e"
	done
	tr -d '\r' < "$WORK/$1.out" | grep '^\* STATUS ' | sort \
	    > "$WORK/$1.status"
	if [ "$(wc -l < "$WORK/$1.status")" != $((N + 1)) ] ||
	    ! grep -q '^a OK' "$WORK/$1.out"; then
		echo failed
		return
	fi
	echo "$(median < "$WORK/$1.t") $(median < "$WORK/$1.e")" |
	    awk '{ printf "%.1f", ($1 - $2) / 1000 }'
}

echo
echo "$CMD, $N mailboxes of 3 messages, median of $REPS (ms)"
im=$(ms imapd)
dv=-
if [ $HAVE_DOVECOT = 1 ]; then
	dv=$(ms dovecot)
fi
printf '%-28s %10s %10s %6s\n' "" imapd dovecot ratio
echo "$im $dv" | awk '{ r = "-"
	if ($1 + 0 > 0 && $2 + 0 > 0) r = sprintf("%.2f", $1 / $2)
	printf "%-28s %10s %10s %6s\n", "LIST-STATUS", $1, $2, r }'
if [ $HAVE_DOVECOT = 1 ] && [ "$im" != failed ] && [ "$dv" != failed ]; then
	if cmp -s "$WORK/imapd.status" "$WORK/dovecot.status"; then
		echo "STATUS lines of imapd and Dovecot: identical"
	else
		echo "STATUS lines of imapd and Dovecot: differ (see $WORK)"
	fi
fi
