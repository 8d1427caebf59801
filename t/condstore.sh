#!/bin/bash
# t/condstore.sh: ENABLE (RFC 5161) and CONDSTORE (RFC 7162 section 3.1):
# the examples of the RFCs with the values imapd gives (a fresh store
# counts mod-sequences from 1: the mailbox's creation takes 1, each
# APPEND and each changing STORE one more), the CONDSTORE enabling
# commands, MODSEQ in every untagged FETCH after one, STORE
# UNCHANGEDSINCE with MODIFIED, FETCH CHANGEDSINCE, SEARCH MODSEQ, and a
# mailbox used as a work queue by concurrent processes, each message
# claimed exactly once.
. "$(dirname "$0")/lib.sh"

M2=$(mkmsg 2)

# expect_resp EXPECTED [WHAT]: the last step's lines are exactly these.
expect_resp() {
	assertEquals "${2:-response}" "$1" "$R"
}

# appends N and put N come from t/lib.sh. In a fresh store, message i
# has UID i and MODSEQ i + 1, HIGHESTMODSEQ is N + 1. (Only within one
# process: a process that opens the store alone moves the counter on to
# its next durable ceiling, imapd-store(5).)

# sess_put NAME N: the APPENDs of put N, by the step-by-step session NAME.
sess_put() {
	i=0
	while [ "$i" -lt "$2" ]; do
		i=$((i + 1))
		sess_cmd "$1" "p$i" "APPEND INBOX $(litp "$(mkmsg "$i")")"
	done
}

# The CAPABILITY line of a logged-in session.
caps_line() {
	sed -n 's/^\* PREAUTH \[CAPABILITY \(.*\)\] imapd ready.*/* CAPABILITY \1/p' "$OUT"
}

# RFC 5161 section 3.1: ENABLE does not change CAPABILITY; unknown
# extensions are ignored. (QRESYNC: t/qresync.sh.)
testEnableCapability() {
	session <<EOF
t1 CAPABILITY
t2 ENABLE CONDSTORE X-GOOD-IDEA
t3 CAPABILITY
EOF
	caps=$(caps_line)
	assertTrue "CONDSTORE announced: $caps" "echo '$caps' | grep -q ' CONDSTORE\\b'"
	assertTrue "ENABLE announced: $caps" "echo '$caps' | grep -q ' ENABLE\\b'"
	assertTrue "QRESYNC announced: $caps" "echo '$caps' | grep -q ' QRESYNC\\b'"
	assertResp t1 "$caps
t1 OK CAPABILITY completed"
	assertResp t2 "* ENABLED CONDSTORE
t2 OK ENABLE completed"
	assertResp t3 "$caps
t3 OK CAPABILITY completed"
}

testEnableWhatAndWhen() {
	session <<EOF
a0 ENABLE X-UNKNOWN
a1 ENABLE CONDSTORE CONDSTORE
a2 ENABLE condstore
a3 ENABLE
a4 ENABLE "CONDSTORE"
a5 ENABLE (CONDSTORE)
EOF
	assertResp a0 "* ENABLED
a0 OK ENABLE completed"
	assertResp a1 "* ENABLED CONDSTORE
a1 OK ENABLE completed"
	# Each ENABLED names only what its command enabled (RFC 5161 3.1).
	assertResp a2 "* ENABLED
a2 OK ENABLE completed"
	assertResp a3 "a3 BAD Missing or invalid arguments"
	assertResp a4 "a4 BAD Invalid capability name"
	assertResp a5 "a5 BAD Invalid capability name"
}

# RFC 5161 example "a1 ENABLE CONDSTORE", then every untagged FETCH
# carries MODSEQ (RFC 7162 3.1).
testEnableThenFetchesCarryModseq() {
	session <<EOF
$(appends 2)
a1 ENABLE CONDSTORE
a2 SELECT INBOX
a3 STORE 1 +FLAGS (\Seen)
a4 FETCH 2 (FLAGS)
a5 UID FETCH 2 (FLAGS)
a6 FETCH 2 (UID MODSEQ)
a7 STORE 2 FLAGS.SILENT (\Draft)
a8 FETCH 2 BODY[TEXT]
EOF
	assertResp a1 "* ENABLED CONDSTORE
a1 OK ENABLE completed"
	assertRespN a2 "$(select_lines 2 2 1 3)
a2 OK [READ-WRITE] SELECT completed"
	assertResp a3 "* 1 FETCH (MODSEQ (4) FLAGS (\Seen \Recent))
a3 OK STORE completed"
	assertResp a4 "* 2 FETCH (MODSEQ (3) FLAGS (\Recent))
a4 OK FETCH completed"
	assertResp a5 "* 2 FETCH (UID 2 MODSEQ (3) FLAGS (\Recent))
a5 OK UID FETCH completed"
	assertResp a6 "* 2 FETCH (UID 2 MODSEQ (3))
a6 OK FETCH completed"
	# .SILENT still tells the new MODSEQ (RFC 7162 example 14).
	assertResp a7 "* 2 FETCH (MODSEQ (5))
a7 OK STORE completed"
	# The implicit \Seen: the MODSEQ is the one after it.
	assertResp a8 "* 2 FETCH (MODSEQ (6) BODY[TEXT] {$(crlf_len "${M2#*$'\n\n'}")}
Hello Bob,
this is message 2.
-- 
Alice FLAGS (\Seen \Draft \Recent))
a8 OK FETCH completed"
}

# Without an enabling command nothing changes.
testNotEnabledNoModseq() {
	session <<EOF
$(appends 1)
a1 SELECT INBOX
a2 STORE 1 +FLAGS (\Seen)
a3 FETCH 1 (FLAGS)
EOF
	assertResp a2 "* 1 FETCH (FLAGS (\Seen \Recent))
a2 OK STORE completed"
	assertResp a3 "* 1 FETCH (FLAGS (\Seen \Recent))
a3 OK FETCH completed"
}

# RFC 7162 example 18 (3.1.8), and EXAMINE, and bad select parameters.
testSelectCondstore() {
	session <<EOF
$(appends 2)
A142 SELECT INBOX (CONDSTORE)
a1 FETCH 1 (FLAGS)
a2 EXAMINE INBOX (condstore)
a3 SELECT INBOX (BOGUS)
a4 SELECT INBOX ()
a5 SELECT INBOX CONDSTORE
a6 SELECT INBOX (CONDSTORE) (CONDSTORE)
EOF
	assertRespN A142 "$(select_lines 2 2 1 3)
A142 OK [READ-WRITE] SELECT completed"
	assertResp a1 "* 1 FETCH (MODSEQ (2) FLAGS (\Recent))
a1 OK FETCH completed"
	# RFC 7162 3.2.11: CLOSED first, enabled or not.
	assertRespN a2 "* OK [CLOSED] Previous mailbox closed
* FLAGS (\Answered \Flagged \Deleted \Seen \Draft)
* OK [PERMANENTFLAGS ()] Read-only mailbox
* 2 EXISTS
* 0 RECENT
* OK [UNSEEN 1] First unseen
* OK [UIDVALIDITY V] UIDs valid
* OK [UIDNEXT 3] Predicted next UID
* OK [HIGHESTMODSEQ M] Highest
* OK [MAILBOXID (I)] Mailbox id
a2 OK [READ-ONLY] EXAMINE completed"
	assertResp a3 "* OK [CLOSED] Previous mailbox closed
a3 BAD Unknown SELECT parameter"
	assertResp a4 "a4 BAD Unknown SELECT parameter"
	assertResp a5 "a5 BAD Unknown SELECT parameter"
	assertResp a6 "a6 BAD Missing or invalid arguments"
}

# RFC 7162 3.1: the first enabling command with a mailbox selected
# returns HIGHESTMODSEQ, before the command's own answer; later ones do
# not. Example 5 (the first conditional STORE), and each other kind.
testFirstEnablingSendsHighestmodseq() {
	session <<EOF
$(appends 3)
a1 SELECT INBOX
a2 STORE 2 +FLAGS.SILENT (\Deleted)
c101 STORE 2 (UNCHANGEDSINCE 5) -FLAGS.SILENT (\Deleted)
a3 FETCH 1 (MODSEQ)
EOF
	assertResp c101 "* OK [HIGHESTMODSEQ 5] Highest
* 2 FETCH (MODSEQ (6))
c101 OK STORE completed"
	assertResp a3 "* 1 FETCH (MODSEQ (2))
a3 OK FETCH completed"
	for cmd in "ENABLE CONDSTORE" "STATUS INBOX (HIGHESTMODSEQ)" \
	    "FETCH 1 (MODSEQ)" "FETCH 1 (FLAGS) (CHANGEDSINCE 1)" \
	    "SEARCH MODSEQ 1" "UID STORE 1 (UNCHANGEDSINCE 9) +FLAGS (\Seen)"; do
		session_cmds -- "a1 SELECT INBOX" "e1 $cmd" "e2 $cmd"
		assertEquals "$cmd first" "* OK [HIGHESTMODSEQ 6] Highest" \
		    "$(resp e1 | head -n 1)"
		assertEquals "$cmd again" 0 \
		    "$(resp e2 | grep -c '\[HIGHESTMODSEQ')"
	done
}

# RFC 7162 example 17 (3.1.7), STATUS as an enabling command.
testStatusHighestmodseq() {
	session <<EOF
$(appends 3)
a0 CREATE blurdybloop
A042 STATUS blurdybloop (UIDNEXT MESSAGES HIGHESTMODSEQ)
a1 SELECT INBOX
a2 STORE 1 +FLAGS (\Seen)
EOF
	assertResp A042 "* STATUS blurdybloop (UIDNEXT 1 MESSAGES 0 HIGHESTMODSEQ 5)
A042 OK STATUS completed"
	assertResp a2 "* 1 FETCH (MODSEQ (6) FLAGS (\Seen \Recent))
a2 OK STORE completed"
}

# RFC 7162 example 3: all pass, .SILENT, UID STORE (UIDs and sequence
# numbers differ after an expunge); example 4: STORE * with a keyword.
testStoreUnchangedsinceAllPass() {
	session <<EOF
$(appends 10)
a0 SELECT INBOX
a1 STORE 1,3 +FLAGS.SILENT (\Deleted)
a2 EXPUNGE
a3 ENABLE CONDSTORE
a103 UID STORE 6,4,8 (UNCHANGEDSINCE 13) +FLAGS.SILENT (\Deleted)
a104 STORE * (UNCHANGEDSINCE 13) +FLAGS.SILENT (\Deleted \$Processed)
EOF
	assertResp a103 "* 2 FETCH (UID 4 MODSEQ (14))
* 4 FETCH (UID 6 MODSEQ (14))
* 6 FETCH (UID 8 MODSEQ (14))
a103 OK UID STORE completed"
	assertResp a104 "* FLAGS (\Answered \Flagged \Deleted \Seen \Draft \$Processed)
* OK [PERMANENTFLAGS (\Answered \Flagged \Deleted \Seen \Draft \$Processed \*)] Flags permitted
* 8 FETCH (MODSEQ (15))
a104 OK STORE completed"
}

# RFC 7162 examples 6 and 7 (3.1.3): the messages that fail are listed
# in MODIFIED and not changed; each gets an unsolicited FETCH with its
# MODSEQ and flags (RFC 3501 6.4.6's SHOULD). Message 9's \Answered is
# unrelated to +FLAGS (\Deleted): no spurious MODIFIED (3.1.12).
testStoreUnchangedsinceSomeFail() {
	session <<EOF
$(appends 9)
a1 SELECT INBOX (CONDSTORE)
a2 STORE 7 +FLAGS.SILENT (\Seen \Deleted)
a3 STORE 9 +FLAGS.SILENT (\Answered)
d105 STORE 7,5,9 (UNCHANGEDSINCE 10) +FLAGS.SILENT (\Deleted)
d106 FETCH 5,7,9 (FLAGS)
d107 STORE 7 (UNCHANGEDSINCE 10) FLAGS.SILENT (\Deleted)
d108 STORE 7 (UNCHANGEDSINCE 11) FLAGS.SILENT (\Deleted)
EOF
	assertResp d105 "* 5 FETCH (MODSEQ (13))
* 7 FETCH (MODSEQ (11) FLAGS (\Deleted \Seen \Recent))
* 9 FETCH (MODSEQ (13))
d105 OK [MODIFIED 7] STORE completed"
	assertResp d106 "* 5 FETCH (MODSEQ (13) FLAGS (\Deleted \Recent))
* 7 FETCH (MODSEQ (11) FLAGS (\Deleted \Seen \Recent))
* 9 FETCH (MODSEQ (13) FLAGS (\Answered \Deleted \Recent))
d106 OK FETCH completed"
	# FLAGS (no + or -) watches every flag: no relief (3.1.12).
	assertResp d107 "* 7 FETCH (MODSEQ (11) FLAGS (\Deleted \Seen \Recent))
d107 OK [MODIFIED 7] STORE completed"
	assertResp d108 "* 7 FETCH (MODSEQ (14))
d108 OK STORE completed"
}

# RFC 7162 example 8: UNCHANGEDSINCE 0 always fails; UID STORE names
# UIDs in MODIFIED; a set of them is written as ranges.
testStoreUnchangedsinceZero() {
	session <<EOF
$(appends 4)
a1 SELECT INBOX
a102 STORE 2 (UNCHANGEDSINCE 0) +FLAGS.SILENT (\$MDNSent)
a103 UID STORE 1:4 (UNCHANGEDSINCE 0) -FLAGS (\Seen)
a104 FETCH 1:4 (FLAGS)
EOF
	assertResp a102 "* OK [HIGHESTMODSEQ 5] Highest
* FLAGS (\Answered \Flagged \Deleted \Seen \Draft \$MDNSent)
* OK [PERMANENTFLAGS (\Answered \Flagged \Deleted \Seen \Draft \$MDNSent \*)] Flags permitted
* 2 FETCH (MODSEQ (3) FLAGS (\Recent))
a102 OK [MODIFIED 2] STORE completed"
	assertResp a103 "* 1 FETCH (UID 1 MODSEQ (2) FLAGS (\Recent))
* 2 FETCH (UID 2 MODSEQ (3) FLAGS (\Recent))
* 3 FETCH (UID 3 MODSEQ (4) FLAGS (\Recent))
* 4 FETCH (UID 4 MODSEQ (5) FLAGS (\Recent))
a103 OK [MODIFIED 1:4] UID STORE completed"
	assertResp a104 "* 1 FETCH (MODSEQ (2) FLAGS (\Recent))
* 2 FETCH (MODSEQ (3) FLAGS (\Recent))
* 3 FETCH (MODSEQ (4) FLAGS (\Recent))
* 4 FETCH (MODSEQ (5) FLAGS (\Recent))
a104 OK FETCH completed"
}

testStoreUnchangedsinceBad() {
	session <<EOF
$(appends 1)
a1 SELECT INBOX
b1 STORE 1 (UNCHANGEDSINCE) +FLAGS (\Seen)
b2 STORE 1 (UNCHANGEDSINCE x) +FLAGS (\Seen)
b3 STORE 1 (UNCHANGEDSINCE 9223372036854775808) +FLAGS (\Seen)
b4 STORE 1 (BOGUS 1) +FLAGS (\Seen)
b5 STORE 1 () +FLAGS (\Seen)
b6 STORE 1 (UNCHANGEDSINCE 1 UNCHANGEDSINCE 2) +FLAGS (\Seen)
b7 FETCH 1 (FLAGS)
a2 EXAMINE INBOX
b8 STORE 1 (UNCHANGEDSINCE 5) +FLAGS (\Seen)
EOF
	for t in b1 b2 b3 b4 b5 b6; do
		assertResp $t "$t BAD Invalid STORE modifier"
	done
	assertResp b7 "* 1 FETCH (FLAGS (\Recent))
b7 OK FETCH completed"
	assertResp b8 "b8 NO Mailbox is read-only"
}

# RFC 7162 examples 9 and 10: another session set the flag the client
# watches (MODIFIED, and the FETCH that tells why), or changed only
# other flags (no MODIFIED: 3.1.12, the "nice server behavior").
testStoreUnchangedsinceOtherSession() {
	sess_open A
	sess_open B
	sess_put A 3
	sess_cmd A a1 "SELECT INBOX (CONDSTORE)"
	sess_cmd B b1 "SELECT INBOX"
	sess_cmd B b2 'STORE 2 +FLAGS.SILENT ($Processed)'
	sess_cmd A a106 'STORE 1:3 (UNCHANGEDSINCE 4) +FLAGS.SILENT ($Processed)'
	# A new keyword: the report of the FLAGS comes with B's change.
	expect_resp '* FLAGS (\Answered \Flagged \Deleted \Seen \Draft $Processed)
* OK [PERMANENTFLAGS (\Answered \Flagged \Deleted \Seen \Draft $Processed \*)] Flags permitted
* 2 FETCH (FLAGS (\Recent $Processed) MODSEQ (5))
* 1 FETCH (MODSEQ (6))
* 2 FETCH (MODSEQ (5) FLAGS (\Recent $Processed))
* 3 FETCH (MODSEQ (6))
a106 OK [MODIFIED 2] STORE completed' "example 10"
	sess_cmd A a107 "NOOP"
	expect_resp "a107 OK NOOP completed" "told once"
	sess_cmd B b3 'STORE 1 +FLAGS.SILENT (\Deleted \Answered)'
	sess_cmd A a108 'STORE 1 (UNCHANGEDSINCE 6) -FLAGS.SILENT ($Processed)'
	expect_resp '* 1 FETCH (FLAGS (\Answered \Deleted \Recent) MODSEQ (8))
* 1 FETCH (MODSEQ (8))
a108 OK STORE completed' "example 10, nice behavior"
	sess_cmd B b4 'FETCH 1 (FLAGS)'
	expect_resp '* 1 FETCH (FLAGS (\Answered \Deleted $Processed))
* 1 FETCH (FLAGS (\Answered \Deleted))
b4 OK FETCH completed'
}

# RFC 7162 example 11 (after RFC 2180 4.2.3): messages expunged by another
# session fail the test (their MODSEQ is the expunge's) and come in
# MODIFIED of a tagged OK, with no FETCH of their own; the EXPUNGEs
# follow at the next NOOP.
testStoreUnchangedsinceExpunged() {
	sess_open A
	sess_open B
	sess_put A 7
	sess_cmd A a1 "SELECT INBOX"
	sess_cmd B b1 "SELECT INBOX"
	sess_cmd B b2 'STORE 4:7 +FLAGS.SILENT (\Deleted)'
	sess_cmd B b3 'EXPUNGE'
	sess_cmd B b4 'STORE 2 +FLAGS.SILENT (\Seen \Answered)'
	sess_cmd A B001 'STORE 1:7 (UNCHANGEDSINCE 8) +FLAGS (\Seen)'
	# 2 fails: B set \Seen, the flag A watches. Then what B changed that
	# A may be told during STORE (RFC 3501 7.4.1): flags, not expunges.
	expect_resp '* OK [HIGHESTMODSEQ 8] Highest
* 1 FETCH (MODSEQ (12) FLAGS (\Seen \Recent))
* 2 FETCH (MODSEQ (11) FLAGS (\Answered \Seen \Recent))
* 3 FETCH (MODSEQ (12) FLAGS (\Seen \Recent))
* 2 FETCH (FLAGS (\Answered \Seen \Recent) MODSEQ (11))
* 4 FETCH (FLAGS (\Deleted \Recent) MODSEQ (10))
* 5 FETCH (FLAGS (\Deleted \Recent) MODSEQ (10))
* 6 FETCH (FLAGS (\Deleted \Recent) MODSEQ (10))
* 7 FETCH (FLAGS (\Deleted \Recent) MODSEQ (10))
B001 OK [MODIFIED 2,4:7] STORE completed' "B001"
	sess_cmd A B002 NOOP
	expect_resp '* 7 EXPUNGE
* 6 EXPUNGE
* 5 EXPUNGE
* 4 EXPUNGE
B002 OK NOOP completed' "B002"
	sess_cmd A b003 'STORE 2 (UNCHANGEDSINCE 11) +FLAGS (\Seen \Flagged)'
	expect_resp '* 2 FETCH (MODSEQ (13) FLAGS (\Answered \Flagged \Seen \Recent))
b003 OK STORE completed' "b003"
}

# RFC 7162 example 12 (3.1.4.1), and CHANGEDSINCE's errors.
testFetchChangedsince() {
	session <<EOF
$(appends 8)
a1 SELECT INBOX
a2 STORE 1:3,5,7 +FLAGS.SILENT (\Seen)
a3 STORE 1,2 +FLAGS.SILENT (\Deleted)
a4 EXPUNGE
a5 STORE 1 -FLAGS.SILENT (\Seen)
s100 UID FETCH 1:* (FLAGS) (CHANGEDSINCE 9)
s101 FETCH 1:* (FLAGS) (CHANGEDSINCE 10)
s102 FETCH 1:* (MODSEQ FLAGS) (changedsince 10)
s103 UID FETCH 1:* (UID) (CHANGEDSINCE 13)
s104 FETCH 1 (FLAGS) (CHANGEDSINCE 0)
s105 FETCH 1 (FLAGS) (CHANGEDSINCE)
s106 FETCH 1 (FLAGS) (CHANGEDSINCE x)
s107 FETCH 1 (FLAGS) (BOGUS 1)
s108 FETCH 1 (FLAGS) ()
s109 FETCH 1 (FLAGS) (CHANGEDSINCE 1) (CHANGEDSINCE 1)
s110 FETCH 2 (FLAGS MODSEQ) (CHANGEDSINCE 4)
EOF
	assertResp s100 "* OK [HIGHESTMODSEQ 13] Highest
* 1 FETCH (UID 3 MODSEQ (13) FLAGS (\Recent))
* 3 FETCH (UID 5 MODSEQ (10) FLAGS (\Seen \Recent))
* 5 FETCH (UID 7 MODSEQ (10) FLAGS (\Seen \Recent))
s100 OK UID FETCH completed"
	assertResp s101 "* 1 FETCH (MODSEQ (13) FLAGS (\Recent))
s101 OK FETCH completed"
	assertResp s102 "* 1 FETCH (MODSEQ (13) FLAGS (\Recent))
s102 OK FETCH completed"
	assertResp s103 "s103 OK UID FETCH completed"
	# Asked for, MODSEQ comes where it was asked.
	assertResp s110 "* 2 FETCH (FLAGS (\Recent) MODSEQ (5))
s110 OK FETCH completed"
	for t in s104 s105 s106 s107 s108; do
		assertResp $t "$t BAD Invalid FETCH modifier"
	done
	assertResp s109 "s109 BAD Missing or invalid arguments"
}

# RFC 7162 example 13 (3.1.4.2).
testFetchModseq() {
	session <<EOF
$(appends 3)
a1 SELECT INBOX
a FETCH 1:3 (MODSEQ)
b FETCH 1:3 MODSEQ
EOF
	assertResp a "* OK [HIGHESTMODSEQ 4] Highest
* 1 FETCH (MODSEQ (2))
* 2 FETCH (MODSEQ (3))
* 3 FETCH (MODSEQ (4))
a OK FETCH completed"
	assertResp b "* 1 FETCH (MODSEQ (2))
* 2 FETCH (MODSEQ (3))
* 3 FETCH (MODSEQ (4))
b OK FETCH completed"
}

# RFC 7162 example 14: changes by another session are reported with
# MODSEQ to a CONDSTORE-aware session (and without to one that is not).
testOtherSessionsChangesCarryModseq() {
	sess_open A
	sess_open B
	sess_open C
	sess_put A 7
	sess_cmd A A142 "SELECT INBOX"
	sess_cmd B C179 "SELECT INBOX (CONDSTORE)"
	sess_cmd C D209 "SELECT INBOX"
	sess_cmd A A159 'STORE 7 +FLAGS.SILENT (\Answered)'
	sess_cmd A A160 'STORE 7 +FLAGS.SILENT (\Deleted)'
	expect_resp "A160 OK STORE completed" "A160, A not aware"
	sess_cmd B C180 NOOP
	expect_resp '* 7 FETCH (FLAGS (\Answered \Deleted) MODSEQ (10))
C180 OK NOOP completed' "C180"
	sess_cmd C D210 NOOP
	expect_resp '* 7 FETCH (FLAGS (\Answered \Deleted))
D210 OK NOOP completed' "D210, C not aware"
	sess_cmd A A239 'ENABLE CONDSTORE'
	sess_cmd A A240 'STORE 7 +FLAGS.SILENT (\Seen)'
	expect_resp '* 7 FETCH (MODSEQ (11))
A240 OK STORE completed' "A240"
	sess_cmd B C270 NOOP
	expect_resp '* 7 FETCH (FLAGS (\Answered \Deleted \Seen) MODSEQ (11))
C270 OK NOOP completed' "C270"
	sess_cmd A A330 'STORE 7 -FLAGS.SILENT (\Answered \Seen)'
	expect_resp '* 7 FETCH (MODSEQ (12))
A330 OK STORE completed' "A330"
	sess_cmd B C360 NOOP
	expect_resp '* 7 FETCH (FLAGS (\Deleted) MODSEQ (12))
C360 OK NOOP completed' "C360"
	# A delivery and a flag change by a process that is no session.
	printf '%s\n' "$(mkmsg 8)" | run_imapd -d "$STORE" -D INBOX
	sess_cmd B C370 'NOOP'
	expect_resp '* 8 EXISTS
* 1 RECENT
C370 OK NOOP completed' "C370"
	sess_cmd B C371 'FETCH 8 (UID)'
	expect_resp '* 8 FETCH (MODSEQ (13) UID 8)
C371 OK FETCH completed' "C371"
}

# RFC 7162 3.1 and 3.1.11: a STORE that changes nothing keeps MODSEQ.
testNoChangeKeepsModseq() {
	session <<EOF
$(appends 2)
a1 SELECT INBOX (CONDSTORE)
a2 STORE 1 +FLAGS (\Seen)
a3 STORE 1 +FLAGS (\Seen)
a4 STORE 1:2 -FLAGS (\Flagged)
a5 STORE 1 FLAGS (\Seen)
a6 STATUS INBOX (HIGHESTMODSEQ)
a7 FETCH 1 BODY[]
EOF
	assertResp a3 "* 1 FETCH (MODSEQ (4) FLAGS (\Seen \Recent))
a3 OK STORE completed"
	assertResp a4 "* 1 FETCH (MODSEQ (4) FLAGS (\Seen \Recent))
* 2 FETCH (MODSEQ (3) FLAGS (\Recent))
a4 OK STORE completed"
	assertResp a5 "* 1 FETCH (MODSEQ (4) FLAGS (\Seen \Recent))
a5 OK STORE completed"
	assertResp a6 "* STATUS INBOX (HIGHESTMODSEQ 4)
a6 OK STATUS completed"
	assertEquals "a7" "* 1 FETCH (MODSEQ (4) BODY[] {$(crlf_len "$(mkmsg 1)")}" \
	    "$(resp a7 | head -n 1)"
}

# RFC 7162 examples 15 and 16 (3.1.5, 3.1.6).
testSearchModseq() {
	session <<EOF
$(appends 6)
a1 SELECT INBOX
a2 STORE 2,5 +FLAGS.SILENT (\Draft)
a3 STORE 6 +FLAGS.SILENT (\Seen)
a SEARCH MODSEQ "/flags/\\\\draft" all 8
b UID SEARCH MODSEQ "/flags/\\\\draft" priv 8
c SEARCH MODSEQ "/flags/\$Label" shared 3 NOT MODSEQ 8
d SEARCH MODSEQ 0
t SEARCH OR NOT MODSEQ 1 LARGER 50000
e SEARCH MODSEQ "/flags/\\\\draft" bogus 8
f SEARCH MODSEQ x
g SEARCH MODSEQ 9223372036854775808
h SEARCH MODSEQ "/flags/\\\\draft" all
i SEARCH ALL
EOF
	assertResp a "* OK [HIGHESTMODSEQ 9] Highest
* SEARCH 2 5 6 (MODSEQ 9)
a OK SEARCH completed"
	assertResp b "* SEARCH 2 5 6 (MODSEQ 9)
b OK UID SEARCH completed"
	assertResp c "* SEARCH 3 4 (MODSEQ 5)
c OK SEARCH completed"
	assertResp d "* SEARCH 1 2 3 4 5 6 (MODSEQ 9)
d OK SEARCH completed"
	assertResp t "* SEARCH
t OK SEARCH completed"
	for x in e f g h; do
		assertResp $x "$x BAD Invalid search criteria"
	done
	assertResp i "* SEARCH 1 2 3 4 5 6
i OK SEARCH completed"
}

# The work queue: NPROC processes claim the same NMSG messages at once,
# each with STORE n (UNCHANGEDSINCE m) +FLAGS (\Seen) in its own order,
# m the HIGHESTMODSEQ before any claim. A claim is an OK that does not
# name the message in MODIFIED; each message must be claimed exactly once
# (the test and the change are one step under the mailbox's write lock).
testQueueClaimedExactlyOnce() {
	NMSG=150
	NPROC=8
	put $NMSG
	m=$((NMSG + 1))
	for p in $(seq 1 $NPROC); do
		{
			echo "s SELECT INBOX"
			seq 1 $NMSG | shuf --random-source=<(yes $p) |
			    awk -v m=$m '{ printf "c%d STORE %d (UNCHANGEDSINCE %d) +FLAGS (\\Seen)\n", $1, $1, m }'
			echo "z LOGOUT"
		} | t_crlf | run_imapd -d "$STORE" >"$T_TMP/q.out.$p" 2>/dev/null &
	done
	wait
	cat "$T_TMP"/q.out.* | tr -d '\r' >"$T_TMP/q.all"
	assertEquals "every STORE answered OK" $((NMSG * NPROC)) \
	    "$(grep -c '^c[0-9]* OK ' "$T_TMP/q.all")"
	sed -n 's/^c\([0-9]*\) OK STORE completed$/\1/p' "$T_TMP/q.all" |
	    sort -n >"$T_TMP/q.claims"
	assertEquals "claims" "$NMSG" "$(wc -l <"$T_TMP/q.claims")"
	assertEquals "claimed once each" "$(seq 1 $NMSG)" "$(cat "$T_TMP/q.claims")"
	assertEquals "the others failed" $((NMSG * (NPROC - 1))) \
	    "$(awk '$0 == $1 " OK [MODIFIED " substr($1, 2) "] STORE completed"' \
	    "$T_TMP/q.all" | wc -l)"
	session_cmds -- "a1 EXAMINE INBOX" "a2 SEARCH UNSEEN" "a3 SEARCH SEEN"
	assertResp a2 "* SEARCH
a2 OK SEARCH completed"
}

. "${SHUNIT2:-/usr/share/shunit2/shunit2}"
