#!/bin/bash
# t/recovery.sh: a store recovers from what a crash or a careless
# administrator leaves: a lost or damaged counter file (MODSEQs never go
# back, UIDVALIDITYs never repeat), and names that do not fit the store
# (a name too long to encode, a trailing hierarchy separator).
. "$(dirname "$0")/lib.sh"

M1=$(mkmsg 1)

# num TAG WORD: the number after WORD in the response to TAG.
num() {
	resp "$1" | sed -n "s/.*$2 (*\([0-9][0-9]*\).*/\1/p" | head -n 1
}

# Three messages, a few flag changes: INBOX's HIGHESTMODSEQ is well above 1.
fill() {
	session <<EOF
a1 APPEND INBOX $(lit "$M1")
a2 APPEND INBOX $(lit "$M1")
a3 APPEND INBOX $(lit "$M1")
a4 SELECT INBOX
a5 STORE 1 +FLAGS (\\Seen)
a6 STORE 2 +FLAGS (\\Seen)
a7 STORE 3 +FLAGS (\\Flagged)
a8 STATUS INBOX (HIGHESTMODSEQ UIDVALIDITY)
EOF
	H=$(num a8 HIGHESTMODSEQ)
	V=$(num a8 UIDVALIDITY)
	assertTrue "HIGHESTMODSEQ $H is above 3" "[ '${H:-0}' -gt 3 ]"
}

# After the counter was damaged by $1: a STORE, an APPEND and a CREATE
# still get values above everything in use.
check_grows() {
	session <<EOF
b1 SELECT INBOX
b2 STORE 1 +FLAGS (\\Answered)
b3 FETCH 1 (MODSEQ)
b4 APPEND INBOX $(lit "$M1")
b5 FETCH 4 (MODSEQ)
b6 CREATE newbox
b7 STATUS newbox (UIDVALIDITY HIGHESTMODSEQ)
EOF
	m1=$(num b3 MODSEQ)
	m2=$(num b5 MODSEQ)
	nv=$(num b7 UIDVALIDITY)
	assertTrue "$1: STORE got MODSEQ $m1, HIGHESTMODSEQ was $H" \
	    "[ '${m1:-0}' -gt '$H' ]"
	assertTrue "$1: APPEND got MODSEQ $m2 after $m1" \
	    "[ '${m2:-0}' -gt '${m1:-0}' ]"
	assertTrue "$1: new mailbox UIDVALIDITY $nv, INBOX has $V" \
	    "[ '${nv:-0}' -gt '$V' ]"
}

testCounterDeleted() {
	fill
	rm -f "$STORE/counter"
	check_grows "counter deleted"
}

testCounterShort() {
	fill
	truncate -s 10 "$STORE/counter"
	check_grows "counter cut to 10 bytes"
}

testCounterZeroed() {
	fill
	dd if=/dev/zero of="$STORE/counter" bs=64 count=1 conv=notrunc \
	    2>/dev/null
	check_grows "counter zeroed"
}

# A header that looks right but starts again at 1 (a stale copy).
testCounterStale() {
	fill
	{ printf 'IMAPDCT1'; head -c 56 /dev/zero; } >"$STORE/counter"
	check_grows "counter reset to 0"
}

# A name whose encoding is over 255 bytes is a name the store cannot
# hold: NO [CANNOT] with the reason, not [SERVERBUG]; delivery to it is a
# data error (65), not a temporary one.
testNameTooLong() {
	long=$(printf 'a%.0s' $(seq 1 256))
	session <<EOF
a1 CREATE $long
a2 SELECT $long
EOF
	assertResp a1 "a1 NO [CANNOT] Mailbox name too long"
	assertResp a2 "a2 NO [CANNOT] Mailbox name too long"
	printf '%s\n' "$M1" | run_imapd -d "$STORE" -D "$long" \
	    >/dev/null 2>&1
	assertEquals "delivery to a name too long" 65 "$?"
}

# RFC 3501 6.3.3: "CREATE a/" creates a; "a/" names no other mailbox, so
# SELECT and DELETE of it must not act on a.
testTrailingSeparator() {
	session <<EOF
a1 CREATE a/
a2 SELECT a/
a3 DELETE a/
a4 STATUS a/ (MESSAGES)
a5 LIST "" a
EOF
	assertRespN a1 "a1 OK [MAILBOXID (I)] CREATE completed"
	assertResp a2 "a2 NO [CANNOT] Invalid mailbox name"
	assertResp a3 "a3 NO [CANNOT] Invalid mailbox name"
	assertResp a4 "a4 NO [CANNOT] Invalid mailbox name"
	assertResp a5 '* LIST () "/" a
a5 OK LIST completed'
}

. "${SHUNIT2:-/usr/share/shunit2/shunit2}"
