#!/bin/bash
# t/move.sh: MOVE and UID MOVE (RFC 6851): COPYUID in an untagged OK
# before the expunges (4.3), EXPUNGE or, with QRESYNC, VANISHED and the
# new HIGHESTMODSEQ (4.4); TRYCREATE, a read-only mailbox, a move into
# the selected mailbox, ghosts (RFC 2180, imapd(8)), what other sessions
# see, and two sessions moving the same messages at once: each message
# ends in exactly one mailbox. UID EXPUNGE (RFC 4315 2.1): its errors and
# what a second session sees.
. "$(dirname "$0")/lib.sh"

expect_resp() {
	assertEquals "${2:-response}" "$1" "$R"
}

# status NAME: the MESSAGES count of mailbox NAME, by a session of its own.
status_messages() {
	session_cmds -- "s1 STATUS $1 (MESSAGES)"
	sed -n 's/^\* STATUS [^ ]* (MESSAGES \([0-9]*\))$/\1/p' "$OUT"
}

testCapability() {
	session_cmds -- "a1 CAPABILITY"
	assertTrue "MOVE announced: $(cat "$OUT")" \
	    "grep -q '^\* CAPABILITY .* MOVE' '$OUT'"
}

# RFC 6851 3.3's example, with UIDs from 1.
testUidMove() {
	put 4
	session <<EOF
a1 CREATE foo
a2 SELECT INBOX
a3 UID MOVE 2:3 foo
a4 UID FETCH 1:* (UID)
a5 STATUS foo (MESSAGES UIDNEXT)
EOF
	assertRespN a3 "* OK [COPYUID V 2:3 1:2] Moved
* 3 EXPUNGE
* 2 EXPUNGE
a3 OK UID MOVE completed"
	assertResp a4 "* 1 FETCH (UID 1)
* 2 FETCH (UID 4)
a4 OK UID FETCH completed"
	assertResp a5 "* STATUS foo (MESSAGES 2 UIDNEXT 3)
a5 OK STATUS completed"
}

# The bytes, flags and internal date go with the message; \Deleted is
# not set on any message (RFC 6851 3.3).
testMoveKeepsMessage() {
	put 2
	session <<EOF
a1 CREATE foo
a2 SELECT INBOX
a3 STORE 2 +FLAGS.SILENT (\\Flagged \$Work)
a4 MOVE 2 foo
a5 SELECT foo
a6 FETCH 1 (FLAGS INTERNALDATE BODY.PEEK[])
EOF
	assertRespN a4 "* OK [COPYUID V 2 1] Moved
* 2 EXPUNGE
a4 OK MOVE completed"
	assertEquals 'flags kept' 1 "$(resp a6 | grep -c '^\* 1 FETCH (FLAGS (\\Flagged \\Recent \$Work) INTERNALDATE "')"
	assertTrue 'body kept' "resp a6 | grep -q '^this is message 2\.'"
}

# RFC 6851 4.4 and RFC 7162 3.2.9: VANISHED instead of EXPUNGE, and the
# mailbox's new HIGHESTMODSEQ; the moved messages get MODSEQs above every
# one the destination had.
testMoveQresync() {
	put 3
	session <<EOF
a1 CREATE foo
a2 APPEND foo $(litp "$(mkmsg 9)")
a3 ENABLE QRESYNC
a4 SELECT INBOX
a5 STATUS foo (HIGHESTMODSEQ)
a6 UID MOVE 1,3 foo
a7 FETCH 1:* (MODSEQ)
EOF
	assertRespN a6 "* OK [COPYUID V 1,3 2:3] Moved
* VANISHED 1,3
a6 OK [HIGHESTMODSEQ M] UID MOVE completed"
	before=$(resp a5 | sed -n 's/.*HIGHESTMODSEQ \([0-9]*\)).*/\1/p')
	after=$(resp a6 | sed -n 's/.*HIGHESTMODSEQ \([0-9]*\)\].*/\1/p')
	assertTrue "HIGHESTMODSEQ rose: $before $after" "[ '$after' -gt '$before' ]"
	session <<EOF
b1 SELECT foo
b2 FETCH 1:* (MODSEQ)
EOF
	m1=$(resp b2 | sed -n 's/^\* 1 FETCH (MODSEQ (\([0-9]*\)))$/\1/p')
	m2=$(resp b2 | sed -n 's/^\* 2 FETCH (MODSEQ (\([0-9]*\)))$/\1/p')
	m3=$(resp b2 | sed -n 's/^\* 3 FETCH (MODSEQ (\([0-9]*\)))$/\1/p')
	assertTrue "moved MODSEQs above the old ones: $m1 $m2 $m3" \
	    "[ '$m2' -gt '$before' ] && [ '$m3' -gt '$before' ] && [ '$m2' -gt '$m1' ]"
}

# CONDSTORE alone: EXPUNGE responses, and HIGHESTMODSEQ (RFC 6851 4.4).
testMoveCondstore() {
	put 2
	session <<EOF
a1 CREATE foo
a2 ENABLE CONDSTORE
a3 SELECT INBOX
a4 MOVE 1 foo
EOF
	assertRespN a4 "* OK [COPYUID V 1 1] Moved
* 1 EXPUNGE
a4 OK [HIGHESTMODSEQ M] MOVE completed"
}

testMoveErrors() {
	put 2
	session <<EOF
a1 SELECT INBOX
a2 MOVE 1 nosuch
a3 MOVE 3 foo
a4 MOVE 1
a5 UID MOVE x foo
a6 FETCH 1:* (UID)
a7 EXAMINE INBOX
a8 CREATE foo
a9 MOVE 1 foo
b1 UID MOVE 1 foo
b2 FETCH 1:* (UID FLAGS)
EOF
	assertResp a2 "a2 NO [TRYCREATE] No such mailbox"
	assertResp a3 "a3 BAD Invalid sequence set"
	assertResp a4 "a4 BAD Missing or invalid arguments"
	assertResp a5 "a5 BAD Invalid sequence set"
	assertResp a6 "* 1 FETCH (UID 1)
* 2 FETCH (UID 2)
a6 OK FETCH completed"
	assertResp a9 "a9 NO Mailbox is read-only"
	assertResp b1 "b1 NO Mailbox is read-only"
	assertResp b2 "* 1 FETCH (UID 1 FLAGS ())
* 2 FETCH (UID 2 FLAGS ())
b2 OK FETCH completed"
	assertEquals "foo empty" 0 "$(status_messages foo)"
	session_cmds -- "a1 MOVE 1 foo"
	assertResp a1 "a1 BAD Not allowed in this state"
}

# RFC 6851 3.3: moving into the selected mailbox is allowed like COPY.
testMoveSameMailbox() {
	put 3
	session <<EOF
a1 SELECT INBOX
a2 UID MOVE 1 INBOX
a3 UID FETCH 1:* (UID)
EOF
	assertRespN a2 "* OK [COPYUID V 1 4] Moved
* 1 EXPUNGE
* 3 EXISTS
* 3 RECENT
a2 OK UID MOVE completed"
	assertResp a3 "* 1 FETCH (UID 2)
* 2 FETCH (UID 3)
* 3 FETCH (UID 4)
a3 OK UID FETCH completed"
}

# What another session sees: EXPUNGE, or VANISHED with QRESYNC, and the
# messages in the destination.
testOtherSessions() {
	put 3
	session_cmds -- "c1 CREATE foo"
	sess_open A
	sess_cmd A a1 "SELECT INBOX"
	sess_open B
	sess_cmd B b1 "SELECT INBOX"
	sess_open Q
	sess_cmd Q q1 "ENABLE QRESYNC"
	sess_cmd Q q2 "SELECT INBOX"
	sess_cmd A a2 "UID MOVE 1:2 foo"
	sess_cmd B b2 "NOOP"
	expect_resp "* 2 EXPUNGE
* 1 EXPUNGE
b2 OK NOOP completed"
	sess_cmd Q q3 "NOOP"
	expect_resp "* VANISHED 1:2
q3 OK NOOP completed"
	sess_cmd B b3 "STATUS foo (MESSAGES)"
	expect_resp "* STATUS foo (MESSAGES 2)
b3 OK STATUS completed"
}

# RFC 2180 and imapd(8): a message another session expunged is not
# moved; the live ones are, and the reply says EXPUNGEISSUED.
testMoveGhost() {
	put 3
	session_cmds -- "c1 CREATE foo"
	sess_open A
	sess_cmd A a1 "SELECT INBOX"
	sess_open B
	sess_cmd B b1 "SELECT INBOX"
	sess_cmd B b2 "STORE 2 +FLAGS.SILENT (\\Deleted)"
	sess_cmd B b3 "EXPUNGE"
	sess_cmd A a2 "MOVE 1:3 foo"
	R=$(printf '%s\n' "$R" | norm)
	expect_resp "* OK [COPYUID V 1,3 1:2] Moved
* 3 EXPUNGE
* 1 EXPUNGE
* 1 EXPUNGE
a2 NO [EXPUNGEISSUED] Some messages were expunged by another session"
	sess_cmd A a3 "MOVE 1:* foo"
	expect_resp "a3 OK MOVE completed"
	assertEquals "foo has the live ones" 2 "$(status_messages foo)"
	assertEquals "INBOX empty" 0 "$(status_messages INBOX)"
}

# Two sessions move the same 300 messages to two mailboxes at once: each
# message ends in exactly one of them (the source's write lock decides),
# none is lost, none doubled.
testConcurrentMoves() {
	put 1
	session_cmds -- "c1 CREATE a" "c2 CREATE b" "c3 SELECT INBOX" \
	    "c4 COPY 1 INBOX" "c5 COPY 1:* INBOX" "c6 COPY 1:* INBOX" \
	    "c7 COPY 1:* INBOX" "c8 COPY 1:* INBOX" "c9 COPY 1:* INBOX" \
	    "d1 COPY 1:* INBOX" "d2 COPY 1:* INBOX" "d3 COPY 1:* INBOX" \
	    "d4 COPY 1:300 INBOX"
	assertEquals 812 "$(status_messages INBOX)"
	sess_open A
	sess_cmd A a1 "SELECT INBOX"
	sess_open B
	sess_cmd B b1 "SELECT INBOX"
	sess_send A "a2 UID MOVE 1:* a"
	sess_send B "b2 UID MOVE 1:* b"
	t_wait A '^a2 '
	ra=$(printf '%s\n' "$R" | tail -n 1)
	t_wait B '^b2 '
	rb=$(printf '%s\n' "$R" | tail -n 1)
	na=$(status_messages a)
	nb=$(status_messages b)
	assertEquals "INBOX emptied ($ra; $rb)" 0 "$(status_messages INBOX)"
	assertEquals "each message once: $na + $nb" 812 $((na + nb))
}

# While one session moves 800 messages, another's STATUS of the source
# sees all or none of them, never some (both locks are held throughout).
testMoveAllOrNone() {
	put 1
	session_cmds -- "c1 CREATE a" "c3 SELECT INBOX" \
	    "c4 COPY 1 INBOX" "c5 COPY 1:* INBOX" "c6 COPY 1:* INBOX" \
	    "c7 COPY 1:* INBOX" "c8 COPY 1:* INBOX" "c9 COPY 1:* INBOX" \
	    "d1 COPY 1:* INBOX" "d2 COPY 1:* INBOX" "d3 COPY 1:* INBOX" \
	    "d4 COPY 1:288 INBOX"
	sess_open A
	sess_cmd A a1 "SELECT INBOX"
	sess_open W
	sess_send A "a2 UID MOVE 1:* a"
	i=0
	seen=
	while [ $i -lt 40 ]; do
		i=$((i + 1))
		sess_cmd W "w$i" "STATUS INBOX (MESSAGES)"
		seen="$seen $(printf '%s\n' "$R" | sed -n 's/^\* STATUS INBOX (MESSAGES \([0-9]*\))$/\1/p')"
	done
	t_wait A '^a2 '
	bad=$(printf '%s\n' $seen | grep -vx '800\|0')
	assertEquals "only 800 or 0 seen:$seen" "" "$bad"
	assertEquals 800 "$(status_messages a)"
}

# RFC 4315 2.1: UID EXPUNGE takes a UID set; another session sees
# EXPUNGE, or VANISHED with QRESYNC.
testUidExpunge() {
	put 4
	sess_open A
	sess_cmd A a1 "SELECT INBOX"
	sess_open Q
	sess_cmd Q q1 "ENABLE QRESYNC"
	sess_cmd Q q2 "SELECT INBOX"
	sess_cmd A a2 "UID EXPUNGE"
	expect_resp "a2 BAD Missing or invalid arguments"
	sess_cmd A a3 "UID EXPUNGE x"
	expect_resp "a3 BAD Invalid sequence set"
	sess_cmd A a4 'UID EXPUNGE ""'
	expect_resp "a4 BAD Invalid sequence set"
	sess_cmd A a5 "UID EXPUNGE 0"
	expect_resp "a5 BAD Invalid sequence set"
	sess_cmd A a6 "STORE 1:3 +FLAGS.SILENT (\\Deleted)"
	sess_cmd A a7 "UID EXPUNGE 2:4"
	expect_resp "* 3 EXPUNGE
* 2 EXPUNGE
a7 OK UID EXPUNGE completed"
	sess_cmd Q q3 "NOOP"
	assertEquals "VANISHED first, then the flag of 1: $R" \
	    "* VANISHED 2:3" "$(printf '%s\n' "$R" | head -n 1)"
	assertEquals "$R" "q3 OK NOOP completed" "$(printf '%s\n' "$R" | tail -n 1)"
}

. "${SHUNIT2:-/usr/share/shunit2/shunit2}"
