#!/bin/bash
# t/objectid.sh: OBJECTID (RFC 8474): MAILBOXID in CREATE, SELECT, EXAMINE
# and STATUS, kept by RENAME, new after DELETE and CREATE; EMAILID kept
# by COPY and by MOVE's copy and expunge, distinct between processes that
# append at once; THREADID NIL; SEARCH EMAILID and THREADID. SAVEDATE
# (RFC 8514): FETCH SAVEDATE, SEARCH SAVEDBEFORE, SAVEDON, SAVEDSINCE and
# SAVEDATESUPPORTED; messages of an older store, which has neither.
. "$(dirname "$0")/lib.sh"

M1=$(mkmsg 1 "Message A")
M2=$(mkmsg 2 "Re: Message A")
M3=$(mkmsg 3 "Message C")

# The objectids in "(...)" after WORD on the lines of FILE or stdin.
oid() {	# WORD [FILE]
	sed -n "s/.*$1 (\\([A-Za-z0-9_-]*\\)).*/\\1/p" ${2:+"$2"}
}

# RFC 8474 section 7: objectid = 1*255(ALPHA / DIGIT / "_" / "-").
assertObjectid() {	# WHAT ID
	assertTrue "$1 '$2' is an objectid" \
	    "printf '%s' '$2' | grep -Eqx '[A-Za-z0-9_-]{1,255}'"
}

testCapability() {
	session <<EOF
a1 CAPABILITY
EOF
	assertEquals "OBJECTID: $(resp a1)" 1 \
	    "$(resp a1 | sed -n 1p | tr ' ' '\n' | grep -cx OBJECTID)"
	assertEquals "SAVEDATE: $(resp a1)" 1 \
	    "$(resp a1 | sed -n 1p | tr ' ' '\n' | grep -cx SAVEDATE)"
}

# RFC 8474 4.1 and 4.3, the examples: CREATE answers the new mailbox's
# MAILBOXID, STATUS the same, RENAME keeps it.
testCreateStatusRename() {
	session <<EOF
3 create foo
4 create bar
5 create foo
6 status foo (mailboxid)
7 status bar (mailboxid)
8 rename foo renamed
9 status renamed (mailboxid)
10 status bar (mailboxid)
11 status renamed (MAILBOXID MESSAGES)
EOF
	foo=$(resp 3 | oid MAILBOXID)
	bar=$(resp 4 | oid MAILBOXID)
	assertObjectid foo "$foo"
	assertObjectid bar "$bar"
	assertNotEquals "two mailboxes, two ids" "$foo" "$bar"
	assertResp 3 "3 OK [MAILBOXID ($foo)] CREATE completed"
	assertResp 4 "4 OK [MAILBOXID ($bar)] CREATE completed"
	assertResp 5 "5 NO [ALREADYEXISTS] Mailbox exists"
	assertResp 6 "* STATUS foo (MAILBOXID ($foo))
6 OK STATUS completed"
	assertResp 7 "* STATUS bar (MAILBOXID ($bar))
7 OK STATUS completed"
	assertResp 8 "8 OK RENAME completed"
	assertResp 9 "* STATUS renamed (MAILBOXID ($foo))
9 OK STATUS completed"
	assertResp 10 "* STATUS bar (MAILBOXID ($bar))
10 OK STATUS completed"
	assertResp 11 "* STATUS renamed (MAILBOXID ($foo) MESSAGES 0)
11 OK STATUS completed"
}

# RFC 8474 4.2: SELECT and EXAMINE answer an untagged OK [MAILBOXID].
testSelectExamine() {
	session <<EOF
a1 CREATE foo
a2 SELECT foo
a3 EXAMINE foo
a4 SELECT INBOX
a5 STATUS INBOX (MAILBOXID)
EOF
	foo=$(resp a1 | oid MAILBOXID)
	assertObjectid foo "$foo"
	assertRespN a2 "$(select_lines 0 0 - 1)
a2 OK [READ-WRITE] SELECT completed"
	assertTrue "SELECT" \
	    "resp a2 | grep -qxF '* OK [MAILBOXID ($foo)] Mailbox id'"
	assertTrue "EXAMINE" \
	    "resp a3 | grep -qxF '* OK [MAILBOXID ($foo)] Mailbox id'"
	inbox=$(resp a5 | oid MAILBOXID)
	assertObjectid INBOX "$inbox"
	assertNotEquals "INBOX and foo" "$foo" "$inbox"
	assertTrue "SELECT INBOX" \
	    "resp a4 | grep -qxF '* OK [MAILBOXID ($inbox)] Mailbox id'"
}

# RFC 8474 4: a mailbox deleted and created again is another mailbox.
testDeleteCreateNewId() {
	session <<EOF
a1 CREATE foo
a2 DELETE foo
a3 CREATE foo
a4 STATUS foo (MAILBOXID)
EOF
	one=$(resp a1 | oid MAILBOXID)
	two=$(resp a3 | oid MAILBOXID)
	assertObjectid first "$one"
	assertObjectid second "$two"
	assertNotEquals "DELETE and CREATE: a new MAILBOXID" "$one" "$two"
	assertResp a4 "* STATUS foo (MAILBOXID ($two))
a4 OK STATUS completed"
}

# RENAME INBOX (RFC 3501 6.3.5) moves the messages to a new mailbox: the
# new INBOX is a new mailbox; the old one, messages and UIDVALIDITY
# kept, keeps its id under its new name.
testRenameInbox() {
	put 1
	session <<EOF
a1 STATUS INBOX (MAILBOXID UIDVALIDITY)
a2 RENAME INBOX old
a3 STATUS old (MAILBOXID UIDVALIDITY)
a4 STATUS INBOX (MAILBOXID)
EOF
	before=$(resp a1 | oid MAILBOXID)
	assertEquals "old keeps the id and UIDVALIDITY" \
	    "$(resp a1 | sed 's/INBOX/old/; s/a1/a3/')" "$(resp a3)"
	assertNotEquals "the new INBOX" "$before" "$(resp a4 | oid MAILBOXID)"
}

testStatusBad() {
	session <<EOF
a1 STATUS INBOX (MAILBOXID FOO)
a2 STATUS INBOX MAILBOXID
EOF
	assertResp a1 "a1 BAD Unknown STATUS item"
	assertResp a2 "a2 BAD Missing or invalid arguments"
}

# RFC 8474 5.3, the example without THREADID support, and 5.1: COPY and
# MOVE keep the EMAILID (the example's MOVE, as COPY, STORE \Deleted
# and UID EXPUNGE, the store's path of MOVE).
testEmailidCopyMove() {
	session <<EOF
5 append inbox "20-Mar-2018 03:07:37 +1100" $(lit "$M1")
11 append inbox "20-Mar-2018 03:07:37 +1100" $(lit "$M2")
17 append inbox "20-Mar-2018 03:07:37 +1100" $(lit "$M3")
21 create foo
b1 select inbox
22 fetch 1:* (emailid threadid)
23 uid copy 2 foo
b2 uid store 2 +flags.silent (\\Deleted)
b3 uid expunge 2
24 fetch 1:* (emailid threadid)
25 select "foo"
26 fetch 1:* (emailid threadid)
27 copy 1 foo
28 fetch 1:* (emailid)
EOF
	resp 22 >"$T_TMP/f22"
	e1=$(sed -n 1p "$T_TMP/f22" | oid EMAILID)
	e2=$(sed -n 2p "$T_TMP/f22" | oid EMAILID)
	e3=$(sed -n 3p "$T_TMP/f22" | oid EMAILID)
	assertObjectid e1 "$e1"
	assertObjectid e2 "$e2"
	assertObjectid e3 "$e3"
	assertEquals "three ids" 3 "$(printf '%s\n' "$e1" "$e2" "$e3" |
	    sort -u | wc -l)"
	assertResp 22 "* 1 FETCH (EMAILID ($e1) THREADID NIL)
* 2 FETCH (EMAILID ($e2) THREADID NIL)
* 3 FETCH (EMAILID ($e3) THREADID NIL)
22 OK FETCH completed"
	assertResp b3 "* 2 EXPUNGE
b3 OK UID EXPUNGE completed"
	assertResp 24 "* 1 FETCH (EMAILID ($e1) THREADID NIL)
* 2 FETCH (EMAILID ($e3) THREADID NIL)
24 OK FETCH completed"
	assertResp 26 "* 1 FETCH (EMAILID ($e2) THREADID NIL)
26 OK FETCH completed"
	assertResp 28 "* 1 FETCH (EMAILID ($e2))
* 2 FETCH (EMAILID ($e2))
28 OK FETCH completed"
}

# RFC 8474 6: SEARCH EMAILID finds the message; THREADID, with no
# threads computed, matches nothing (5.2).
testSearch() {
	session <<EOF
a1 APPEND INBOX $(lit "$M1")
a2 APPEND INBOX $(lit "$M2")
a3 APPEND INBOX $(lit "$M3")
a4 SELECT INBOX
a5 FETCH 2 (EMAILID)
EOF
	e2=$(resp a5 | oid EMAILID)
	assertObjectid e2 "$e2"
	long=$(printf 'x%.0s' $(seq 256))
	session <<EOF
b1 SELECT INBOX
27 search emailid $e2
28 search threadid T64b478a75b7ea9
b2 SEARCH NOT EMAILID $e2
b3 UID SEARCH EMAILID $e2
b4 SEARCH EMAILID M0
b5 SEARCH EMAILID "bad id"
b6 SEARCH EMAILID $long
b7 SEARCH THREADID
b8 SEARCH EMAILID x.y
EOF
	assertResp 27 "* SEARCH 2
27 OK SEARCH completed"
	assertResp 28 "* SEARCH
28 OK SEARCH completed"
	assertResp b2 "* SEARCH 1 3
b2 OK SEARCH completed"
	assertResp b3 "* SEARCH 2
b3 OK UID SEARCH completed"
	assertResp b4 "* SEARCH
b4 OK SEARCH completed"
	assertResp b5 "b5 BAD Invalid search criteria"
	assertResp b6 "b6 BAD Invalid search criteria"
	assertResp b7 "b7 BAD Invalid search criteria"
	assertResp b8 "b8 BAD Invalid search criteria"
}

# EMAILIDs are unique in the store: two processes appending at the same
# time, into two mailboxes, never get the same one.
testConcurrentAppendsDistinct() {
	session_cmds -- "a1 CREATE other" >/dev/null
	n=40
	for who in A B; do
		box=INBOX
		[ "$who" = B ] && box=other
		i=0
		while [ "$i" -lt "$n" ]; do
			i=$((i + 1))
			echo "p$i APPEND $box $(litp "$(mkmsg "$who$i")")"
		done | t_crlf >"$T_TMP/in$who"
	done
	run_imapd -d "$STORE" <"$T_TMP/inA" >"$T_TMP/outA" 2>&1 &
	pa=$!
	run_imapd -d "$STORE" <"$T_TMP/inB" >"$T_TMP/outB" 2>&1 &
	pb=$!
	wait "$pa"
	wait "$pb"
	assertEquals "A's appends" "$n" "$(grep -c '^p[0-9]* OK' "$T_TMP/outA")"
	assertEquals "B's appends" "$n" "$(grep -c '^p[0-9]* OK' "$T_TMP/outB")"
	session <<EOF
a1 EXAMINE INBOX
a2 FETCH 1:* (EMAILID)
a3 EXAMINE other
a4 FETCH 1:* (EMAILID)
EOF
	{ resp a2; resp a4; } | grep '^\* [0-9]* FETCH' >"$T_TMP/ids"
	assertEquals "fetched" $((2 * n)) "$(wc -l <"$T_TMP/ids")"
	assertEquals "distinct" $((2 * n)) "$(oid EMAILID "$T_TMP/ids" |
	    sort -u | wc -l)"
}

# The day (dd-Mon-yyyy, UTC) N days from now.
day() {
	LC_ALL=C date -u -d "@$(($(date +%s) + $1 * 86400))" +%d-%b-%Y |
	    sed 's/^0//'
}

# RFC 8514 3, 4.2, 4.3: the save date is the time of saving, not the
# INTERNALDATE an APPEND gives; SEARCH by it, by day.
testSavedate() {
	t0=$(date +%s)
	session <<EOF
a1 APPEND INBOX "01-Jan-2015 18:50:53 +0100" $(lit "$M1")
a2 SELECT INBOX
a3 FETCH 1 (SAVEDATE INTERNALDATE)
A102 SEARCH SAVEDON $(day 0)
A103 SEARCH SAVEDSINCE $(day 0)
a4 SEARCH SAVEDBEFORE $(day 0)
a5 SEARCH SAVEDBEFORE $(day 1)
a6 SEARCH SAVEDSINCE $(day 1)
a7 SEARCH ON 1-Jan-2015
a8 SEARCH SAVEDON 1-Jan-2015
a9 SEARCH SAVEDATESUPPORTED
b1 SEARCH NOT SAVEDATESUPPORTED
b2 SEARCH SAVEDON 31-Foo-2015
b3 SEARCH SAVEDSINCE
EOF
	t1=$(date +%s)
	s=$(resp a3 | sed -n 's/.*SAVEDATE "\([^"]*\)".*/\1/p')
	assertNotNull "SAVEDATE: $(resp a3)" "$s"
	ts=$(date -u -d "$(echo "$s" | sed 's/-/ /g')" +%s)
	assertTrue "save date $s within the session" \
	    "[ '$ts' -ge '$t0' ] && [ '$ts' -le '$t1' ]"
	assertResp a3 "* 1 FETCH (SAVEDATE \"$s\" INTERNALDATE \"01-Jan-2015 17:50:53 +0000\")
a3 OK FETCH completed"
	# Near midnight the day may have turned between the steps.
	if [ "$(day 0)" = "$(LC_ALL=C date -u -d "@$ts" +%d-%b-%Y |
	    sed 's/^0//')" ]; then
		assertResp A102 "* SEARCH 1
A102 OK SEARCH completed"
	fi
	assertResp A103 "* SEARCH 1
A103 OK SEARCH completed"
	assertResp a5 "* SEARCH 1
a5 OK SEARCH completed"
	assertResp a6 "* SEARCH
a6 OK SEARCH completed"
	assertResp a7 "* SEARCH 1
a7 OK SEARCH completed"
	assertResp a8 "* SEARCH
a8 OK SEARCH completed"
	assertResp a9 "* SEARCH 1
a9 OK SEARCH completed"
	assertResp b1 "* SEARCH
b1 OK SEARCH completed"
	assertResp b2 "b2 BAD Invalid search criteria"
	assertResp b3 "b3 BAD Invalid search criteria"
}

# RFC 8514 3: a copy gets a new save date; the source keeps its own.
testSavedateCopy() {
	session <<EOF
a1 APPEND INBOX $(lit "$M1")
a2 CREATE foo
EOF
	sleep 1.1
	session <<EOF
a1 SELECT INBOX
a2 COPY 1 foo
a3 FETCH 1 (SAVEDATE)
a4 SELECT foo
a5 FETCH 1 (SAVEDATE)
EOF
	s1=$(resp a3 | sed -n 's/.*SAVEDATE "\([^"]*\)".*/\1/p')
	s2=$(resp a5 | sed -n 's/.*SAVEDATE "\([^"]*\)".*/\1/p')
	assertNotNull "source" "$s1"
	assertNotNull "copy" "$s2"
	assertNotEquals "the copy's save date is its own" "$s1" "$s2"
}

# A store written before EMAILID and SAVEDATE has zeros where the record
# keeps them (imapd-store(5)): its messages answer SAVEDATE NIL, are
# searched by INTERNALDATE, and have an EMAILID of their own that the
# store's next messages never get.
testOldStore() {
	session <<EOF
a1 APPEND INBOX "01-Jan-2015 18:50:53 +0100" $(lit "$M1")
a2 APPEND INBOX "01-Jan-2015 18:50:53 +0100" $(lit "$M2")
EOF
	old_records "$STORE/box/INBOX/index"
	session <<EOF
a3 APPEND INBOX $(lit "$M3")
a4 SELECT INBOX
a5 FETCH 1:* (SAVEDATE)
a6 SEARCH SAVEDON 1-Jan-2015
a7 SEARCH SAVEDSINCE $(day 0)
a8 FETCH 1:* (EMAILID)
a9 SEARCH SAVEDATESUPPORTED
b1 CREATE foo
b2 COPY 1:* foo
b3 STATUS INBOX (MAILBOXID)
EOF
	assertEquals "SAVEDATE" "* 1 FETCH (SAVEDATE NIL)
* 2 FETCH (SAVEDATE NIL)" "$(resp a5 | sed -n '1,2p')"
	assertTrue "3 has one" "resp a5 | grep -q '^\* 3 FETCH (SAVEDATE \"'"
	assertResp a6 "* SEARCH 1 2
a6 OK SEARCH completed"
	assertResp a7 "* SEARCH 3
a7 OK SEARCH completed"
	assertResp a9 "* SEARCH 1 2 3
a9 OK SEARCH completed"
	resp a8 >"$T_TMP/ids"
	assertEquals "three ids" 3 "$(oid EMAILID "$T_TMP/ids" | sort -u |
	    wc -l)"
	for id in $(oid EMAILID "$T_TMP/ids"); do
		assertObjectid "$id" "$id"
	done
	session <<EOF
c1 SELECT foo
c2 FETCH 1:* (EMAILID)
EOF
	# A copy of a message of an older store gets a new id (imapd(8)).
	resp c2 | oid EMAILID >"$T_TMP/cids"
	old=$(oid EMAILID "$T_TMP/ids" | sed -n 1,2p)
	assertEquals "copies of the old ones: new ids" 2 \
	    "$(sed -n 1,2p "$T_TMP/cids" | grep -cvxF "$old")"
	assertEquals "copies of the old ones: distinct" 2 \
	    "$(sed -n 1,2p "$T_TMP/cids" | sort -u | wc -l)"
	assertEquals "the new one's copy" "$(oid EMAILID "$T_TMP/ids" |
	    sed -n 3p)" "$(sed -n 3p "$T_TMP/cids")"
}

# old_records INDEX: make every record of INDEX one of a store written
# before the save date and the email id: zeros in the high half of the
# cache word and in the email id, and the sum made again over bytes 0-3
# and 24-47 (FNV-1a; imapd-store(5)). Host byte order: little-endian.
old_records() {
	perl -e '
		open(my $f, "+<", $ARGV[0]) or die "$ARGV[0]: $!";
		binmode $f;
		for (my $o = 128; sysseek($f, $o, 0) &&
		    sysread($f, my $r, 64) == 64; $o += 64) {
			substr($r, 52, 8) = "\0" x 8;
			my $h = 2166136261;
			for my $b (unpack("C*", substr($r, 0, 4) .
			    substr($r, 24, 24))) {
				$h = (($h ^ $b) * 16777619) % 4294967296;
			}
			substr($r, 60, 4) = pack("V", $h);
			sysseek($f, $o, 0);
			syswrite($f, $r) == 64 or die "write: $!";
		}' "$1"
}

testFetchBad() {
	session <<EOF
a1 APPEND INBOX $(lit "$M1")
a2 SELECT INBOX
a3 FETCH 1 (EMAILID MODSEQ SAVEDATE UID)
a4 FETCH 1 EMAILID.PEEK
a5 FETCH 1 SAVEDATE[]
EOF
	assertTrue "a3" "resp a3 | grep -qE '^\\* 1 FETCH \\(EMAILID \\([A-Za-z0-9_-]+\\) MODSEQ \\([0-9]+\\) SAVEDATE \"[^\"]+\" UID 1\\)\$'"
	assertResp a4 "a4 BAD Invalid FETCH attributes"
	assertResp a5 "a5 BAD Invalid FETCH attributes"
}

. /usr/share/shunit2/shunit2
