#!/bin/bash
# t/qresync.sh: QRESYNC (RFC 7162 section 3.2): ENABLE QRESYNC, SELECT
# and EXAMINE with the QRESYNC parameter (known UIDs, sequence match
# data, a UIDVALIDITY that does not match), VANISHED (EARLIER) answers,
# UID FETCH (CHANGEDSINCE n VANISHED), VANISHED instead of EXPUNGE, the
# CLOSED response code, and a client that comes back after other
# sessions flagged, expunged, appended and compacted and is told exactly
# what a full resynchronization would show.
. "$(dirname "$0")/lib.sh"

expect_resp() {
	assertEquals "${2:-response}" "$1" "$R"
}

# The UIDVALIDITY and HIGHESTMODSEQ of the last step's answer.
uidv() {
	printf '%s\n' "$R" | sed -n 's/.*\[UIDVALIDITY \([0-9]*\)\].*/\1/p' |
	    tail -n 1
}
hms() {
	printf '%s\n' "$R" | sed -n 's/.*\[HIGHESTMODSEQ \([0-9]*\)\].*/\1/p' |
	    tail -n 1
}

# The last step's lines without those of a plain SELECT (RFC 3501 6.3.1).
qlines() {
	printf '%s\n' "$R" | grep -v '^\* [0-9]* \(EXISTS\|RECENT\)$' |
	    grep -v '^\* FLAGS \|^\* OK \[\(PERMANENTFLAGS\|UNSEEN\|UIDVALIDITY\|UIDNEXT\|HIGHESTMODSEQ\|MAILBOXID\) '
}

# The last step's answer has no VANISHED (RFC 7162 3.2.10.2).
no_vanished() {
	assertFalse "no VANISHED: $R" "printf '%s\n' \"\$R\" | grep -q '^\* VANISHED'"
}

# A session A with QRESYNC enabled and INBOX selected.
open_q() {
	sess_open "$1"
	sess_cmd "$1" e1 "ENABLE QRESYNC"
	sess_cmd "$1" e2 "SELECT INBOX"
}

testEnable() {
	session <<EOF
a1 ENABLE QRESYNC
a2 ENABLE QRESYNC CONDSTORE
a3 ENABLE CONDSTORE
EOF
	assertResp a1 "* ENABLED QRESYNC
a1 OK ENABLE completed"
	assertResp a2 "* ENABLED
a2 OK ENABLE completed"
	assertResp a3 "* ENABLED
a3 OK ENABLE completed"
	session <<EOF
a1 ENABLE CONDSTORE QRESYNC
EOF
	assertResp a1 "* ENABLED CONDSTORE QRESYNC
a1 OK ENABLE completed"
}

# RFC 7162 3.2.3, 3.2.5, 3.2.6: QRESYNC and VANISHED need ENABLE QRESYNC;
# a bad parameter leaves no mailbox selected.
testBadWithoutEnable() {
	put 2
	session <<EOF
a1 SELECT INBOX (QRESYNC (1 1))
a2 SELECT INBOX
a3 UID FETCH 1:* (FLAGS) (CHANGEDSINCE 1 VANISHED)
a4 ENABLE CONDSTORE
a5 UID FETCH 1:* (FLAGS) (CHANGEDSINCE 1 VANISHED)
EOF
	assertResp a1 "a1 BAD QRESYNC is not enabled"
	assertResp a3 "a3 BAD QRESYNC is not enabled"
	assertResp a5 "a5 BAD QRESYNC is not enabled"
}

testBadParameters() {
	put 2
	session <<EOF
a0 ENABLE QRESYNC
a1 SELECT INBOX (QRESYNC (0 1))
a2 FETCH 1 (FLAGS)
a3 SELECT INBOX (QRESYNC (1 0))
a4 SELECT INBOX (QRESYNC (1 1 1:*))
a5 SELECT INBOX (QRESYNC (1 1 1:5 (1:2 1)))
a6 SELECT INBOX (QRESYNC (1 1 1:5 (2,1 3,4)))
a7 SELECT INBOX (QRESYNC (1))
a8 SELECT INBOX (QRESYNC (1 1 1:5 (1 3) x))
a9 SELECT INBOX (QRESYNC (1 1 1:5 (1 *)))
b1 SELECT INBOX (QRESYNC (1 1) QRESYNC (1 1))
b2 SELECT INBOX
b3 FETCH 1:* (FLAGS) (CHANGEDSINCE 1 VANISHED)
b4 UID FETCH 1:* (FLAGS) (VANISHED)
b5 UID FETCH 1:* (FLAGS) (VANISHED CHANGEDSINCE 1 VANISHED)
EOF
	assertResp a1 "a1 BAD Invalid QRESYNC parameter"
	assertResp a2 "a2 BAD Not allowed in this state"
	for t in a3 a4 a5 a6 a7 a8 a9 b1; do
		assertResp $t "$t BAD Invalid QRESYNC parameter"
	done
	assertResp b3 "b3 BAD VANISHED is for UID FETCH only"
	assertResp b4 "b4 BAD VANISHED needs CHANGEDSINCE"
	assertResp b5 "b5 BAD Invalid FETCH modifier"
}

# RFC 7162 3.2.5 example: a UIDVALIDITY that does not match gets the
# plain SELECT answer, as if nothing changed.
testUidvalidityMismatch() {
	put 3
	open_q A
	v=$(uidv)
	sess_cmd A a1 "STORE 1 +FLAGS.SILENT (\\Seen)"
	sess_cmd A a2 "STORE 2 +FLAGS.SILENT (\\Deleted)"
	sess_cmd A a3 "EXPUNGE"
	sess_cmd A a4 "SELECT INBOX (QRESYNC ($((v + 1)) 1))"
	assertEquals "only CLOSED and OK" "* OK [CLOSED] Previous mailbox closed
a4 OK [READ-WRITE] SELECT completed" "$(qlines)"
}

# RFC 7162 3.2.5.1: what changed since the modseq, and what vanished,
# with FETCH lines carrying UID and MODSEQ; known-uids limits both.
testSelectQresync() {
	put 6
	open_q A
	v=$(uidv)
	m=$(hms)
	open_q B
	sess_cmd B b1 "STORE 2,4,6 +FLAGS.SILENT (\\Deleted)"
	sess_cmd B b2 "STORE 3 +FLAGS.SILENT (\\Answered)"
	sess_cmd B b3 "EXPUNGE"
	expect_resp "* VANISHED 2,4,6
b3 OK [HIGHESTMODSEQ $(($(hms)))] EXPUNGE completed"
	sess_cmd B b4 "UID FETCH 3 (MODSEQ)"
	m3=$(printf '%s\n' "$R" | sed -n 's/.*MODSEQ (\([0-9]*\)).*/\1/p')
	sess_close B
	sess_cmd A a1 "UNSELECT"
	sess_cmd A a2 "EXAMINE INBOX (QRESYNC ($v $m))"
	assertEquals "* VANISHED (EARLIER) 2,4,6
* 2 FETCH (UID 3 MODSEQ ($m3) FLAGS (\\Answered))
a2 OK [READ-ONLY] EXAMINE completed" "$(qlines)"
	# known-uids (RFC 7162 example A03): only UIDs within it.
	sess_cmd A a3 "EXAMINE INBOX (QRESYNC ($v $m 1,4:5))"
	assertEquals "* OK [CLOSED] Previous mailbox closed
* VANISHED (EARLIER) 4
a3 OK [READ-ONLY] EXAMINE completed" "$(qlines)"
	# Sequence match data (example B04): imapd knows every expunge, so
	# matching pairs or not, the answer is the same.
	sess_cmd A a4 "EXAMINE INBOX (QRESYNC ($v $m 1:6 (1,3 1,5)))"
	assertEquals "* OK [CLOSED] Previous mailbox closed
* VANISHED (EARLIER) 2,4,6
* 2 FETCH (UID 3 MODSEQ ($m3) FLAGS (\\Answered))
a4 OK [READ-ONLY] EXAMINE completed" "$(qlines)"
	sess_cmd A a5 "EXAMINE INBOX (QRESYNC ($v $m 1:6 (1:2 1,3)))"
	assertEquals "* OK [CLOSED] Previous mailbox closed
* VANISHED (EARLIER) 2,4,6
* 2 FETCH (UID 3 MODSEQ ($m3) FLAGS (\\Answered))
a5 OK [READ-ONLY] EXAMINE completed" "$(qlines)"
	# Nothing since the last HIGHESTMODSEQ.
	sess_cmd A a6 "SELECT INBOX (QRESYNC ($v $(hms)))"
	assertEquals "* OK [CLOSED] Previous mailbox closed
a6 OK [READ-WRITE] SELECT completed" "$(qlines)"
}

# RFC 7162 3.2.6 example 1: VANISHED (EARLIER) before the FETCHes, only
# UIDs of the set; a message another session expunged that this one
# still shows has not vanished for it yet.
testUidFetchVanished() {
	put 6
	open_q A
	m=$(hms)
	sess_cmd A a1 "STORE 2,5 +FLAGS.SILENT (\\Deleted)"
	sess_cmd A a2 "UID EXPUNGE 1:5"
	expect_resp "* VANISHED 2,5
a2 OK [HIGHESTMODSEQ $(hms)] UID EXPUNGE completed"
	sess_cmd A a3 "STORE 1 +FLAGS.SILENT (\\Seen)"
	sess_cmd A a4 "FETCH 1 (MODSEQ)"
	m1=$(printf '%s\n' "$R" | sed -n 's/.*MODSEQ (\([0-9]*\)).*/\1/p')
	sess_cmd A a5 "UID FETCH 1:4 (FLAGS) (CHANGEDSINCE $m VANISHED)"
	expect_resp "* VANISHED (EARLIER) 2
* 1 FETCH (UID 1 MODSEQ ($m1) FLAGS (\\Seen \\Recent))
a5 OK UID FETCH completed"
	open_q B
	sess_cmd B b1 "UID STORE 4 +FLAGS.SILENT (\\Deleted)"
	sess_cmd B b2 "EXPUNGE"
	m4=$(hms)
	# A hears of the new flags, not yet of the expunge.
	sess_cmd A a6 "UID SEARCH UID 1"
	sess_cmd A a7 "UID FETCH 1:* (FLAGS) (VANISHED CHANGEDSINCE $m)"
	# UID 4 is still seq 3 here: its MODSEQ is its expunge's, so the
	# HIGHESTMODSEQ told is below it (RFC 7162 3.2).
	expect_resp "* VANISHED (EARLIER) 2,5
* 1 FETCH (UID 1 MODSEQ ($m1) FLAGS (\\Seen \\Recent))
* 3 FETCH (UID 4 MODSEQ ($m4) FLAGS (\\Deleted \\Recent))
* OK [HIGHESTMODSEQ $((m4 - 1))] VANISHED reply delayed
a7 OK UID FETCH completed"
	sess_cmd A a8 "NOOP"
	expect_resp "* VANISHED 4
a8 OK NOOP completed"
	sess_cmd A a9 "UID FETCH 1:* (FLAGS) (VANISHED CHANGEDSINCE $m)"
	expect_resp "* VANISHED (EARLIER) 2,4:5
* 1 FETCH (UID 1 MODSEQ ($m1) FLAGS (\\Seen \\Recent))
a9 OK UID FETCH completed"
}

# RFC 7162 3.2.10.2: VANISHED instead of EXPUNGE, for the session's own
# EXPUNGE and another's, never during FETCH, STORE or SEARCH; CLOSE says
# nothing (3.2.8).
testVanishedInsteadOfExpunge() {
	put 11
	open_q A
	open_q B
	sess_cmd A a1 "STORE 3,4,7,11 +FLAGS.SILENT (\\Deleted)"
	sess_cmd A a2 "EXPUNGE"
	expect_resp "* VANISHED 3:4,7,11
a2 OK [HIGHESTMODSEQ $(hms)] EXPUNGE completed"
	sess_cmd A a3 "EXPUNGE"
	expect_resp "a3 OK EXPUNGE completed"
	# RFC 7162 3.2.10.2, A210: only what this EXPUNGE took.
	sess_cmd A a31 "STORE 2,4 +FLAGS.SILENT (\\Deleted)"
	sess_cmd A a32 "EXPUNGE"
	expect_resp "* VANISHED 2,6
a32 OK [HIGHESTMODSEQ $(hms)] EXPUNGE completed"
	sess_cmd B b1 "FETCH 1:* (UID)"
	no_vanished
	sess_cmd B b2 "STORE 1 +FLAGS (\\Seen)"
	no_vanished
	sess_cmd B b3 "SEARCH ALL"
	no_vanished
	sess_cmd B b4 "NOOP"
	assertHas "* VANISHED 2:4,6:7,11"
	sess_cmd B b5 "STORE 2 +FLAGS.SILENT (\\Deleted)"
	sess_cmd B b6 "CLOSE"
	expect_resp "b6 OK CLOSE completed"
	sess_cmd A a4 "NOOP"
	assertHas "* VANISHED 5"
}

# RFC 7162 3.2 and section 6: a FETCH may not report another session's
# expunge, so when it tells a higher MODSEQ it tells a HIGHESTMODSEQ below
# the held-back expunge; the NOOP that reports it needs none.
testHighestModseqBelowHeldExpunge() {
	put 3
	open_q A
	open_q B
	sess_cmd A a1 "STORE 1 +FLAGS.SILENT (\\Deleted)"
	sess_cmd A a2 "EXPUNGE"
	e=$(hms)
	sess_cmd A a3 "UID STORE 3 +FLAGS.SILENT (\\Flagged)"
	sess_cmd A a4 "UID FETCH 3 (MODSEQ)"
	f=$(printf '%s\n' "$R" | sed -n 's/.*MODSEQ (\([0-9]*\)).*/\1/p')
	sess_cmd B b1 "FETCH 3 (FLAGS)"
	expect_resp "* 3 FETCH (MODSEQ ($f) FLAGS (\\Flagged))
* 1 FETCH (UID 1 FLAGS (\\Deleted) MODSEQ ($e))
* 3 FETCH (UID 3 FLAGS (\\Flagged) MODSEQ ($f))
* OK [HIGHESTMODSEQ $((e - 1))] VANISHED reply delayed
b1 OK FETCH completed"
	sess_cmd B b2 "NOOP"
	expect_resp "* VANISHED 1
b2 OK NOOP completed"
}

# RFC 7162 3.2.4: once QRESYNC is enabled, an untagged FETCH of STORE
# or of another session's change carries UID and MODSEQ.
testFetchCarriesUid() {
	put 2
	open_q A
	open_q B
	sess_cmd A a1 "STORE 1 +FLAGS (\\Seen)"
	m=$(printf '%s\n' "$R" | sed -n 's/.*MODSEQ (\([0-9]*\)).*/\1/p')
	expect_resp "* 1 FETCH (UID 1 MODSEQ ($m) FLAGS (\\Seen \\Recent))
a1 OK STORE completed"
	sess_cmd B b1 "NOOP"
	expect_resp "* 1 FETCH (UID 1 FLAGS (\\Seen) MODSEQ ($m))
b1 OK NOOP completed"
}

# RFC 7162 3.2.11: CLOSED when SELECT or EXAMINE closes a mailbox, as
# the first response, also when the new one fails; not for CLOSE or
# UNSELECT, nor when nothing was selected.
testClosed() {
	put 1
	session <<EOF
a1 SELECT INBOX
a2 EXAMINE INBOX
a3 SELECT nosuch
a4 EXAMINE INBOX
a5 UNSELECT
a6 SELECT INBOX
a7 CLOSE
a8 SELECT INBOX
EOF
	assertEquals "a1" "" "$(resp a1 | grep CLOSED)"
	assertEquals "a2" "* OK [CLOSED] Previous mailbox closed" "$(resp a2 | head -n 1)"
	assertEquals "a3" "* OK [CLOSED] Previous mailbox closed" "$(resp a3 | head -n 1)"
	assertEquals "a4" "" "$(resp a4 | grep CLOSED)"
	assertResp a5 "a5 OK UNSELECT completed"
	assertEquals "a6" "" "$(resp a6 | grep CLOSED)"
	assertResp a7 "a7 OK CLOSE completed"
	assertEquals "a8" "" "$(resp a8 | grep CLOSED)"
}

# "* s FETCH (UID u MODSEQ (m) FLAGS (f))" lines of $1 as
# "u m f" lines sorted by UID, \Recent left out (it is per session).
by_uid() {
	printf '%s\n' "$1" |
	    sed -n 's/^\* [0-9]* FETCH (UID \([0-9]*\) MODSEQ (\([0-9]*\)) FLAGS (\(.*\)))$/\1 \2 \3/p' |
	    sed -e 's/ *\\Recent//' -e 's/ *$//' | sort -n
}

# The resync test: a client that last saw HIGHESTMODSEQ m comes back
# after other sessions flagged, expunged (the highest UIDs among them),
# appended and compacted; what SELECT ... QRESYNC tells it, applied to
# what it had, is what a full resync shows.
testResyncAfterCompaction() {
	put 12
	open_q A
	v=$(uidv)
	m=$(hms)
	sess_cmd A a1 "UID FETCH 1:* (MODSEQ FLAGS)"
	before=$(by_uid "$R")
	sess_close A
	open_q B
	sess_cmd B b1 "STORE 1,3 +FLAGS.SILENT (\\Flagged)"
	sess_cmd B b2 "STORE 2,5:9,11:12 +FLAGS.SILENT (\\Deleted)"
	sess_cmd B b3 "EXPUNGE"
	sess_cmd B b4 "APPEND INBOX $(litp "$(mkmsg 13)")"
	sess_cmd B b5 "APPEND INBOX (\\Seen) $(litp "$(mkmsg 14)")"
	sess_cmd B b6 "STORE 1 -FLAGS.SILENT (\\Flagged)"
	# Compaction: a read-write session leaves the mailbox alone.
	sess_cmd B b7 "CLOSE"
	sess_close B
	# Compaction moved the tombstones out of the index.
	assertTrue "compacted" "[ -s $STORE/box/INBOX/expunged ]"
	open_q C
	sess_cmd C c1 "SELECT INBOX (QRESYNC ($v $m))"
	told=$(qlines)
	assertEquals "vanished" "* VANISHED (EARLIER) 2,5:9,11:12" \
	    "$(printf '%s\n' "$told" | grep VANISHED)"
	sess_cmd C c2 "UID FETCH 1:* (MODSEQ FLAGS)"
	after=$(by_uid "$R")
	vanished=$(printf '%s\n' "$told" | sed -n 's/^\* VANISHED (EARLIER) //p' |
	    tr ',' '\n' | awk -F: '{ for (i = $1; i <= ($2 ? $2 : $1); i++) print i }')
	changed=$(by_uid "$told")
	# before, less what vanished, less what changed, plus what changed.
	rebuilt=$( {
		printf '%s\n' "$before" | awk -v gone="$vanished $(printf '%s\n' "$changed" | cut -d' ' -f1)" '
		    BEGIN { n = split(gone, g, /[ \n]+/); for (i = 1; i <= n; i++) x[g[i]] = 1 }
		    !($1 in x)'
		printf '%s\n' "$changed"
	} | grep -v '^$' | sort -n)
	assertEquals "resync equals full resync" "$after" "$rebuilt"
	# The same through UID FETCH (CHANGEDSINCE m VANISHED).
	sess_cmd C c3 "UID FETCH 1:* (FLAGS) (CHANGEDSINCE $m VANISHED)"
	assertEquals "UID FETCH VANISHED agrees" \
	    "$(printf '%s\n' "$told" | grep -v '^c1 \|CLOSED\|MAILBOXID')" \
	    "$(printf '%s\n' "$R" | grep -v '^c3 ')"
}

. "$SHUNIT2"
