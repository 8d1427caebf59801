#!/bin/bash
# t/mailbox.sh: SELECT, EXAMINE, CREATE, DELETE, RENAME, SUBSCRIBE,
# UNSUBSCRIBE, LIST, LSUB, STATUS, CHECK, CLOSE, UNSELECT (RFC 3501 6.3,
# 6.4; RFC 3691).
. "$(dirname "$0")/lib.sh"

M1=$(mkmsg 1)
M2=$(mkmsg 2)

testSelectEmptyInbox() {
	session <<EOF
a1 SELECT INBOX
EOF
	assertRespN a1 "$(select_lines 0 0 - 1)
a1 OK [READ-WRITE] SELECT completed"
	v=$(sed -n 's/^\* OK \[UIDVALIDITY \([0-9]*\)\] .*/\1/p' "$OUT")
	assertTrue "UIDVALIDITY $v is not 0" "[ '${v:-0}' -gt 0 ]"
}

testSelectInboxAnyCase() {
	session <<EOF
a1 SELECT inbox
a2 EXAMINE InBoX
EOF
	assertHas "a1 OK [READ-WRITE] SELECT completed"
	assertHas "a2 OK [READ-ONLY] EXAMINE completed"
}

testSelectWithMessages() {
	session <<EOF
a1 APPEND INBOX (\\Seen) $(lit "$M1")
a2 APPEND INBOX $(lit "$M2")
a3 SELECT INBOX
EOF
	assertRespN a3 "$(select_lines 2 2 2 3)
a3 OK [READ-WRITE] SELECT completed"
	# \Recent went to that session: the next one sees none (RFC 3501 2.3.2).
	session <<EOF
a1 SELECT INBOX
EOF
	assertRespN a1 "$(select_lines 2 0 2 3)
a1 OK [READ-WRITE] SELECT completed"
}

# EXAMINE is read-only and does not take \Recent away from a later SELECT.
testExamine() {
	session <<EOF
a1 APPEND INBOX $(lit "$M1")
a2 EXAMINE INBOX
EOF
	# The RECENT count of a read-only session is left out: RFC 3501 only
	# says EXAMINE must not take \Recent away.
	assertEquals "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)
* OK [PERMANENTFLAGS ()] Read-only mailbox
* 1 EXISTS
* OK [UNSEEN 1] First unseen
* OK [UIDVALIDITY V] UIDs valid
* OK [UIDNEXT 2] Predicted next UID
* OK [HIGHESTMODSEQ M] Highest
* OK [MAILBOXID (I)] Mailbox id
a2 OK [READ-ONLY] EXAMINE completed" "$(resp a2 | norm | grep -v ' RECENT$')"
	assertTrue "RECENT line" "resp a2 | grep -q '^\* [01] RECENT$'"
	session <<EOF
a1 SELECT INBOX
EOF
	assertHas "* 1 RECENT"
}

testSelectMissing() {
	session <<EOF
a1 SELECT nosuch
a2 EXAMINE nosuch
a3 STATUS nosuch (MESSAGES)
a4 DELETE nosuch
a5 RENAME nosuch other
a6 FETCH 1 FLAGS
EOF
	assertOut "$GREET_PREAUTH
a1 NO [NONEXISTENT] No such mailbox
a2 NO [NONEXISTENT] No such mailbox
a3 NO [NONEXISTENT] No such mailbox
a4 NO [NONEXISTENT] No such mailbox
a5 NO [NONEXISTENT] No such mailbox
a6 BAD Not allowed in this state"
}

# A failed SELECT leaves the session unselected (RFC 3501 6.3.1).
testFailedSelectDeselects() {
	session <<EOF
a1 SELECT INBOX
a2 SELECT nosuch
a3 CHECK
EOF
	assertResp a3 "a3 BAD Not allowed in this state"
}

testCreateDelete() {
	session <<EOF
a1 CREATE foo
a2 CREATE foo
a3 CREATE INBOX
a4 SELECT foo
a5 UNSELECT
a6 DELETE foo
a7 SELECT foo
a8 DELETE INBOX
a9 DELETE inbox
EOF
	assertEquals "$GREET_PREAUTH
a1 OK [MAILBOXID (I)] CREATE completed
a2 NO [ALREADYEXISTS] Mailbox exists
a3 NO [ALREADYEXISTS] Mailbox exists
$(select_lines 0 0 - 1)
a4 OK [READ-WRITE] SELECT completed
a5 OK UNSELECT completed
a6 OK DELETE completed
a7 NO [NONEXISTENT] No such mailbox
a8 NO [CANNOT] INBOX cannot be deleted
a9 NO [CANNOT] INBOX cannot be deleted" "$(norm <"$OUT")"
}

# A mailbox created again after DELETE gets a new UIDVALIDITY (RFC 3501 2.3.1.1).
testRecreateNewUidvalidity() {
	session <<EOF
a1 CREATE foo
a2 STATUS foo (UIDVALIDITY)
a3 DELETE foo
a4 CREATE foo
a5 STATUS foo (UIDVALIDITY)
EOF
	v1=$(resp a2 | sed -n 's/.*UIDVALIDITY \([0-9]*\).*/\1/p')
	v2=$(resp a5 | sed -n 's/.*UIDVALIDITY \([0-9]*\).*/\1/p')
	assertNotNull "first UIDVALIDITY" "$v1"
	assertNotNull "second UIDVALIDITY" "$v2"
	assertNotEquals "UIDVALIDITY reused" "$v1" "$v2"
}

testInvalidNames() {
	session <<EOF
a1 CREATE ../escape
a2 CREATE a//b
a3 CREATE /abs
a4 CREATE x*y
a5 CREATE x%y
a6 CREATE a/../../b
a7 CREATE "&Jjo"
a8 CREATE ""
a9 SELECT ../escape
b1 CREATE "$(printf 'caf\303\251')"
b2 CREATE "a/./b"
EOF
	assertOut "$GREET_PREAUTH
a1 NO [CANNOT] Invalid mailbox name
a2 NO [CANNOT] Invalid mailbox name
a3 NO [CANNOT] Invalid mailbox name
a4 NO [CANNOT] Invalid mailbox name
a5 NO [CANNOT] Invalid mailbox name
a6 NO [CANNOT] Invalid mailbox name
a7 NO [CANNOT] Invalid modified UTF-7 in mailbox name
a8 NO [CANNOT] Invalid mailbox name
a9 NO [CANNOT] Invalid mailbox name
b1 NO [CANNOT] Invalid modified UTF-7 in mailbox name
b2 NO [CANNOT] Invalid mailbox name"
	assertFalse "nothing created beside the store" \
	    "[ -e '$STORE/../escape' ] || [ -e '$STORE/../b' ]"
}

# A trailing separator names the same mailbox (RFC 3501 6.3.3).
testCreateTrailingSeparator() {
	session <<EOF
a1 CREATE foo/
a2 LIST "" foo
EOF
	assertResp a2 '* LIST () "/" foo
a2 OK LIST completed'
}

testListWildcards() {
	session <<EOF
a1 CREATE a/b/c
a2 CREATE abc
a3 CREATE "sp ace"
a4 CREATE &AOk-t&AOk-
a5 LIST "" *
a6 LIST "" %
a7 LIST "" a/%
a8 LIST "" a/*
a9 LIST "" *c
b1 LIST "" ""
b2 LIST "" nosuch*
b3 LIST a/ %
b4 LIST "" inbox
EOF
	# RFC 3501 6.3.8 asks for \Noselect parents only where "%" ends the
	# pattern; with "*" they may or may not be listed.
	assertEquals "LIST *" '* LIST () "/" "sp ace"
* LIST () "/" &AOk-t&AOk-
* LIST () "/" INBOX
* LIST () "/" a/b/c
* LIST () "/" abc
a5 OK LIST completed' "$(resp a5 | LC_ALL=C sort | grep -v Noselect)"
	assertEquals "LIST %" '* LIST () "/" "sp ace"
* LIST () "/" &AOk-t&AOk-
* LIST () "/" INBOX
* LIST () "/" abc
* LIST (\Noselect) "/" a
a6 OK LIST completed' "$(resp a6 | LC_ALL=C sort)"
	assertResp a7 '* LIST (\Noselect) "/" a/b
a7 OK LIST completed'
	assertEquals "LIST a/*" '* LIST () "/" a/b/c
a8 OK LIST completed' "$(resp a8 | LC_ALL=C sort | grep -v Noselect)"
	assertEquals "LIST *c" '* LIST () "/" a/b/c
* LIST () "/" abc
a9 OK LIST completed' "$(resp a9 | LC_ALL=C sort)"
	assertResp b1 '* LIST (\Noselect) "/" ""
b1 OK LIST completed'
	assertResp b2 'b2 OK LIST completed'
	assertResp b3 '* LIST (\Noselect) "/" a/b
b3 OK LIST completed'
	assertResp b4 '* LIST () "/" INBOX
b4 OK LIST completed'
}

testSubscribeLsub() {
	session <<EOF
a1 CREATE foo
a2 CREATE bar/baz
a3 SUBSCRIBE foo
a4 SUBSCRIBE bar/baz
a5 LSUB "" *
a6 UNSUBSCRIBE foo
a7 LSUB "" *
a8 LSUB "" %
EOF
	assertEquals "LSUB *" '* LSUB () "/" bar/baz
* LSUB () "/" foo
a5 OK LSUB completed' "$(resp a5 | LC_ALL=C sort)"
	assertResp a7 '* LSUB () "/" bar/baz
a7 OK LSUB completed'
	# RFC 3501 6.3.9: % matching a parent of a subscribed name shows it
	# as \Noselect.
	assertResp a8 '* LSUB (\Noselect) "/" bar
a8 OK LSUB completed'
	assertHas "a3 OK SUBSCRIBE completed"
	assertHas "a6 OK UNSUBSCRIBE completed"
	# Subscriptions outlive the session.
	session <<EOF
a1 LSUB "" *
EOF
	assertResp a1 '* LSUB () "/" bar/baz
a1 OK LSUB completed'
}

testStatus() {
	session <<EOF
a1 APPEND INBOX (\\Seen) $(lit "$M1")
a2 APPEND INBOX $(lit "$M2")
a3 STATUS INBOX (MESSAGES RECENT UIDNEXT UNSEEN)
a4 STATUS INBOX (UNSEEN MESSAGES)
a5 STATUS INBOX (UIDVALIDITY)
a6 STATUS INBOX (BOGUS)
a7 STATUS INBOX ()
EOF
	assertResp a3 '* STATUS INBOX (MESSAGES 2 RECENT 2 UIDNEXT 3 UNSEEN 1)
a3 OK STATUS completed'
	assertResp a4 '* STATUS INBOX (UNSEEN 1 MESSAGES 2)
a4 OK STATUS completed'
	v=$(resp a1 | sed -n 's/.*\[APPENDUID \([0-9]*\) 1\].*/\1/p')
	assertNotNull "APPENDUID" "$v"
	assertResp a5 "* STATUS INBOX (UIDVALIDITY $v)
a5 OK STATUS completed"
	assertTrue "bad item" "resp a6 | grep -q '^a6 BAD '"
	assertTrue "empty list" "resp a7 | grep -q '^a7 BAD '"
}

testRename() {
	session <<EOF
a1 CREATE foo
a2 CREATE foo/sub
a3 APPEND foo $(lit "$M1")
a4 RENAME foo bar
a5 LIST "" *
a6 STATUS bar (MESSAGES)
a7 RENAME bar INBOX
a8 CREATE other
a9 RENAME bar other
b1 RENAME bar ../x
EOF
	assertHas "a4 OK RENAME completed"
	assertEquals "LIST" '* LIST () "/" INBOX
* LIST () "/" bar
* LIST () "/" bar/sub
a5 OK LIST completed' "$(resp a5 | LC_ALL=C sort)"
	assertResp a6 '* STATUS bar (MESSAGES 1)
a6 OK STATUS completed'
	assertResp a7 'a7 NO [ALREADYEXISTS] Mailbox exists'
	assertResp a9 'a9 NO [ALREADYEXISTS] Mailbox exists'
	assertResp b1 'b1 NO [CANNOT] Invalid mailbox name'
}

# Renaming INBOX moves its messages and leaves an empty INBOX with a new
# UIDVALIDITY (RFC 3501 6.3.5).
testRenameInbox() {
	session <<EOF
a1 APPEND INBOX $(lit "$M1")
a2 APPEND INBOX $(lit "$M2")
a3 STATUS INBOX (UIDVALIDITY)
a4 RENAME INBOX old
a5 STATUS old (MESSAGES UIDNEXT)
a6 STATUS INBOX (MESSAGES UIDNEXT)
a7 STATUS INBOX (UIDVALIDITY)
a8 LIST "" *
EOF
	assertHas "a4 OK RENAME completed"
	assertResp a5 '* STATUS old (MESSAGES 2 UIDNEXT 3)
a5 OK STATUS completed'
	assertResp a6 '* STATUS INBOX (MESSAGES 0 UIDNEXT 1)
a6 OK STATUS completed'
	v1=$(resp a3 | sed -n 's/.*UIDVALIDITY \([0-9]*\).*/\1/p')
	v2=$(resp a7 | sed -n 's/.*UIDVALIDITY \([0-9]*\).*/\1/p')
	assertNotEquals "new INBOX has a new UIDVALIDITY" "$v1" "$v2"
	assertEquals "LIST" '* LIST () "/" INBOX
* LIST () "/" old
a8 OK LIST completed' "$(resp a8 | LC_ALL=C sort)"
}

testCheckCloseUnselect() {
	session <<EOF
a1 APPEND INBOX (\\Deleted) $(lit "$M1")
a2 APPEND INBOX $(lit "$M2")
a3 SELECT INBOX
a4 CHECK
a5 UNSELECT
a6 STATUS INBOX (MESSAGES)
a7 SELECT INBOX
a8 CLOSE
a9 STATUS INBOX (MESSAGES)
b1 CLOSE
b2 UNSELECT
EOF
	assertResp a4 'a4 OK CHECK completed'
	# UNSELECT does not expunge (RFC 3691), CLOSE does, silently.
	assertResp a5 'a5 OK UNSELECT completed'
	assertResp a6 '* STATUS INBOX (MESSAGES 2)
a6 OK STATUS completed'
	assertResp a8 'a8 OK CLOSE completed'
	assertResp a9 '* STATUS INBOX (MESSAGES 1)
a9 OK STATUS completed'
	assertResp b1 'b1 BAD Not allowed in this state'
	assertResp b2 'b2 BAD Not allowed in this state'
}

# CLOSE after EXAMINE expunges nothing (RFC 3501 6.4.2).
testCloseReadOnly() {
	session <<EOF
a1 APPEND INBOX (\\Deleted) $(lit "$M1")
a2 EXAMINE INBOX
a3 CLOSE
a4 STATUS INBOX (MESSAGES)
EOF
	assertResp a3 'a3 OK CLOSE completed'
	assertResp a4 '* STATUS INBOX (MESSAGES 1)
a4 OK STATUS completed'
}

# SELECT of another mailbox while one is selected switches (RFC 3501 6.3.1).
testSelectSwitches() {
	session <<EOF
a1 CREATE foo
a2 APPEND foo $(lit "$M1")
a3 SELECT INBOX
a4 SELECT foo
a5 FETCH 1 (UID)
EOF
	assertHas "* 1 EXISTS"
	assertResp a5 '* 1 FETCH (UID 1)
a5 OK FETCH completed'
}

. "${SHUNIT2:-/usr/share/shunit2/shunit2}"
