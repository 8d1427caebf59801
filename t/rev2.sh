#!/bin/bash
# t/rev2.sh: IMAP4rev2 beside IMAP4rev1 (RFC 9051, Appendix A and E):
# ENABLE IMAP4rev2, and each difference it makes, shown before and after
# ENABLE IMAP4rev2, with the same commands in a session that never
# enables it answered as RFC 3501 says. Extensions folded into IMAP4rev2
# (ESEARCH, MOVE, LIST-EXTENDED, ...) have their own suites.
. "$(dirname "$0")/lib.sh"

# The lines a SELECT after ENABLE IMAP4rev2 answers (norm'd): no RECENT,
# no UNSEEN code (RFC 9051 6.3.2, Appendix E 11, 12), a LIST response.
rev2_select_lines() {	# EXISTS UIDNEXT NAME
	echo '* FLAGS (\Answered \Flagged \Deleted \Seen \Draft)'
	echo '* OK [PERMANENTFLAGS (\Answered \Flagged \Deleted \Seen \Draft \*)] Flags permitted'
	echo "* $1 EXISTS"
	echo "* LIST () \"/\" $3"
	echo '* OK [UIDVALIDITY V] UIDs valid'
	echo "* OK [UIDNEXT $2] Predicted next UID"
	echo '* OK [HIGHESTMODSEQ M] Highest'
	echo '* OK [MAILBOXID (I)] Mailbox id'
}

testEnable() {
	session <<EOF
a1 ENABLE IMAP4rev2
a2 ENABLE IMAP4rev2
a3 ENABLE imap4rev2 CONDSTORE
EOF
	assertResp a1 "* ENABLED IMAP4rev2
a1 OK ENABLE completed"
	assertResp a2 "* ENABLED
a2 OK ENABLE completed"
	assertResp a3 "* ENABLED CONDSTORE
a3 OK ENABLE completed"
	session <<EOF
a1 ENABLE CONDSTORE IMAP4rev2 QRESYNC
EOF
	assertResp a1 "* ENABLED CONDSTORE QRESYNC IMAP4rev2
a1 OK ENABLE completed"
}

# RFC 9051 6.3.2, 6.3.3; Appendix E 10, 11, 12.
testSelect() {
	put 2
	session_cmds -- "s1 SELECT INBOX" "s2 STORE 1 +FLAGS.SILENT (\\Seen)"
	session <<EOF
a1 ENABLE IMAP4rev2
a2 SELECT INBOX
a3 EXAMINE INBOX
EOF
	assertRespN a2 "$(rev2_select_lines 2 3 INBOX)
a2 OK [READ-WRITE] SELECT completed"
	assertRespN a3 "* OK [CLOSED] Previous mailbox closed
$(rev2_select_lines 2 3 INBOX |
	    sed 's/^\* OK \[PERMANENTFLAGS.*/* OK [PERMANENTFLAGS ()] Read-only mailbox/')
a3 OK [READ-ONLY] EXAMINE completed"
	# Without ENABLE: RFC 3501 6.3.1, unchanged.
	session_cmds -- "a2 SELECT INBOX"
	assertRespN a2 "$(select_lines 2 0 2 3)
a2 OK [READ-WRITE] SELECT completed"
}

# The LIST line names the mailbox as LIST would, quoted where it must be.
testSelectListName() {
	session <<EOF
a1 CREATE "x y/z"
a2 ENABLE IMAP4rev2
a3 SELECT "x y/z"
a4 SELECT "x y"
EOF
	assertRespN a3 "$(rev2_select_lines 0 1 '"x y/z"')
a3 OK [READ-WRITE] SELECT completed"
	assertResp a4 "* OK [CLOSED] Previous mailbox closed
a4 NO [NONEXISTENT] No such mailbox"
}

# Appendix E 12, 9051 2.3.2: no \Recent in FLAGS after ENABLE IMAP4rev2.
testFetchNoRecent() {
	put 1
	session <<EOF
a1 SELECT INBOX
a2 FETCH 1 FLAGS
a3 ENABLE IMAP4rev2
a4 FETCH 1 FLAGS
a5 STORE 1 +FLAGS (\\Seen)
a6 SEARCH RECENT
EOF
	assertResp a2 "* 1 FETCH (FLAGS (\\Recent))
a2 OK FETCH completed"
	assertResp a4 "* 1 FETCH (FLAGS ())
a4 OK FETCH completed"
	assertResp a5 "* 1 FETCH (FLAGS (\\Seen))
a5 OK STORE completed"
	# The message is still this session's \Recent one: rev2 hides it.
	assertResp a6 "a6 BAD Invalid search criteria"
}

# 9051 section 9: search-key has no NEW, OLD, RECENT.
testSearchKeys() {
	put 1
	session <<EOF
a1 SELECT INBOX
a2 SEARCH RECENT
a3 SEARCH NEW
a4 SEARCH OLD
a5 ENABLE IMAP4rev2
a6 SEARCH RECENT
a7 SEARCH NEW
a8 SEARCH OLD
a9 SEARCH NOT OLD
EOF
	assertResp a2 "* SEARCH 1
a2 OK SEARCH completed"
	assertResp a3 "* SEARCH 1
a3 OK SEARCH completed"
	assertResp a4 "* SEARCH
a4 OK SEARCH completed"
	assertResp a6 "a6 BAD Invalid search criteria"
	assertResp a7 "a7 BAD Invalid search criteria"
	assertResp a8 "a8 BAD Invalid search criteria"
	assertResp a9 "a9 BAD Invalid search criteria"
}

# 9051 6.3.11 and section 9 status-att: DELETED, no RECENT.
testStatus() {
	put 3
	session_cmds -- "s1 SELECT INBOX" "s2 STORE 1:2 +FLAGS.SILENT (\\Deleted)"
	session <<EOF
a1 STATUS INBOX (MESSAGES RECENT UNSEEN)
a2 STATUS INBOX (DELETED)
a3 ENABLE IMAP4rev2
a4 STATUS INBOX (MESSAGES DELETED UNSEEN)
a5 STATUS INBOX (RECENT)
a6 STATUS INBOX (deleted uidnext)
EOF
	assertResp a1 "* STATUS INBOX (MESSAGES 3 RECENT 0 UNSEEN 3)
a1 OK STATUS completed"
	assertResp a2 "a2 BAD Unknown STATUS item"
	assertResp a4 "* STATUS INBOX (MESSAGES 3 DELETED 2 UNSEEN 3)
a4 OK STATUS completed"
	assertResp a5 "a5 BAD Unknown STATUS item"
	assertResp a6 "* STATUS INBOX (DELETED 2 UIDNEXT 4)
a6 OK STATUS completed"
}

# Appendix E 17, 19: CHECK is gone, LSUB too (9051 section 9, 6.4).
testCheckLsub() {
	put 1
	session <<EOF
a1 SUBSCRIBE INBOX
a2 LSUB "" "*"
a3 SELECT INBOX
a4 CHECK
a5 ENABLE IMAP4rev2
a6 CHECK
a7 LSUB "" "*"
a8 NOOP
EOF
	assertResp a2 "* LSUB () \"/\" INBOX
a2 OK LSUB completed"
	assertResp a4 "a4 OK CHECK completed"
	assertResp a6 "a6 BAD CHECK is not in IMAP4rev2"
	assertResp a7 "a7 BAD LSUB is not in IMAP4rev2"
	assertResp a8 "a8 OK NOOP completed"
}

# Appendix E 18: no RFC822, RFC822.HEADER, RFC822.TEXT in 9051's fetch-att.
testFetchRfc822() {
	put 1
	session <<EOF
a1 SELECT INBOX
a2 FETCH 1 (RFC822.SIZE RFC822.HEADER)
a3 ENABLE IMAP4rev2
a4 FETCH 1 RFC822
a5 FETCH 1 (RFC822.HEADER)
a6 FETCH 1 RFC822.TEXT
a7 FETCH 1 (RFC822.SIZE)
a8 UID FETCH 1 (FLAGS RFC822)
EOF
	assertEquals "a2 OK FETCH completed" "$(resp a2 | tail -n 1)"
	assertResp a4 "a4 BAD Invalid FETCH attributes"
	assertResp a5 "a5 BAD Invalid FETCH attributes"
	assertResp a6 "a6 BAD Invalid FETCH attributes"
	assertResp a7 "* 1 FETCH (RFC822.SIZE 194)
a7 OK FETCH completed"
	assertResp a8 "a8 BAD Invalid FETCH attributes"
}

# Appendix E 21, 12: what another session changed comes with UID, and
# new messages without RECENT (9051 7.5.2, 7.4.1).
testUnsolicited() {
	put 1
	sess_open A
	sess_cmd A a1 "ENABLE IMAP4rev2"
	sess_cmd A a2 "SELECT INBOX"
	sess_open B
	sess_cmd B b1 "SELECT INBOX"
	sess_cmd B b2 "STORE 1 +FLAGS.SILENT (\\Flagged)"
	sess_cmd B b3 "APPEND INBOX {3+}
abc"
	sess_cmd A a3 "NOOP"
	assertEquals "* 2 EXISTS
* 1 FETCH (UID 1 FLAGS (\\Flagged))
a3 OK NOOP completed" "$R"
	# The same in an IMAP4rev1 session (RFC 3501 7.4.1, 7.3.2).
	sess_open C
	sess_cmd C c1 "SELECT INBOX"
	sess_cmd B b4 "STORE 1 -FLAGS.SILENT (\\Flagged)"
	sess_cmd B b5 "APPEND INBOX {3+}
def"
	sess_cmd C c2 "NOOP"
	assertEquals "* 3 EXISTS
* 0 RECENT
* 1 FETCH (FLAGS ())
c2 OK NOOP completed" "$R"
	sess_cmd A a4 "NOOP"
	assertEquals "* 3 EXISTS
* 1 FETCH (UID 1 FLAGS ())
a4 OK NOOP completed" "$R"
}

# 9051 6.3.13, 7.5.2: in IDLE too, a flag change comes with its UID and
# new mail without RECENT.
testIdle() {
	put 1
	sess_open A
	sess_cmd A a1 "ENABLE IMAP4rev2"
	sess_cmd A a2 "SELECT INBOX"
	sess_send A "a3 IDLE"
	t_wait A '^\+ '
	sess_open B
	sess_cmd B b1 "SELECT INBOX"
	sess_cmd B b2 "STORE 1 +FLAGS.SILENT (\\Answered)"
	t_wait A '^\* 1 FETCH'
	assertEquals "* 1 FETCH (UID 1 FLAGS (\\Answered))" "$R"
	sess_cmd B b3 "APPEND INBOX {3+}
abc"
	t_wait A '^\* 2 EXISTS'
	assertEquals "* 2 EXISTS" "$R"
	sess_send A "DONE"
	t_wait A '^a3 '
	assertEquals "a3 OK IDLE completed" "$R"
}

# Appendix E 8: COPY creates no mailbox, and says TRYCREATE (9051 6.4.7),
# as APPEND does (6.3.12).
testCopyTrycreate() {
	put 1
	session <<EOF
a1 ENABLE IMAP4rev2
a2 SELECT INBOX
a3 COPY 1 Nosuch
a4 UID COPY 1 Nosuch
a5 APPEND Nosuch {3+}
abc
a6 STATUS Nosuch (MESSAGES)
EOF
	assertResp a3 "a3 NO [TRYCREATE] No such mailbox"
	assertResp a4 "a4 NO [TRYCREATE] No such mailbox"
	assertResp a5 "a5 NO [TRYCREATE] No such mailbox"
	assertResp a6 "a6 NO [NONEXISTENT] No such mailbox"
}

# 9051 2.3.2: $Forwarded, $MDNSent, $Junk, $NotJunk, $Phishing are kept
# by APPEND, COPY and STORE, and named in FLAGS and PERMANENTFLAGS.
testKeywords() {
	session <<EOF
a1 ENABLE IMAP4rev2
a2 APPEND INBOX (\$Forwarded \$MDNSent \$Junk) {3+}
abc
a3 SELECT INBOX
a4 STORE 1 +FLAGS (\$NotJunk \$Phishing)
a5 COPY 1 INBOX
a6 FETCH 2 FLAGS
EOF
	assertRespN a2 "a2 OK [APPENDUID V 1] APPEND completed"
	assertHas '* FLAGS (\Answered \Flagged \Deleted \Seen \Draft $Forwarded $MDNSent $Junk)'
	assertHas '* OK [PERMANENTFLAGS (\Answered \Flagged \Deleted \Seen \Draft $Forwarded $MDNSent $Junk \*)] Flags permitted'
	assertResp a6 "* 2 FETCH (FLAGS (\$Forwarded \$MDNSent \$Junk \$NotJunk \$Phishing))
a6 OK FETCH completed"
}

# Appendix E 9: CLOSED when SELECT closes a mailbox; CLOSE and UNSELECT
# answer no code (9051 6.4.1, 6.4.2).
testClosed() {
	put 1
	session <<EOF
a1 ENABLE IMAP4rev2
a2 SELECT INBOX
a3 STORE 1 +FLAGS.SILENT (\\Deleted)
a4 CLOSE
a5 SELECT INBOX
a6 UNSELECT
EOF
	assertResp a4 "a4 OK CLOSE completed"
	assertRespN a5 "$(rev2_select_lines 0 2 INBOX)
a5 OK [READ-WRITE] SELECT completed"
	assertResp a6 "a6 OK UNSELECT completed"
}

. "$SHUNIT2"
