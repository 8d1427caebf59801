#!/bin/bash
# t/rfc2180.sh: the multi-access practice of RFC 2180 as imapd(8) chooses
# it, with two or three sessions driven step by step. DELETE of a mailbox
# another session has selected (3.2): that session is not disconnected,
# is told once with an untagged NO, keeps reading its messages and gets
# NO for STORE and EXPUNGE; new sessions no longer see the name. RENAME
# (3.4): the session goes on working on the mailbox under its new name.
# A message another session expunged stays readable until this session is
# told (4.1.1); STORE on it is NO or OK [EXPUNGEISSUED] (4.2.1-4.2.3, RFC
# 5530); COPY copies its bytes (4.4.2). Compaction waits until no session
# has the mailbox selected, also one whose mailbox was deleted or renamed.
. "$(dirname "$0")/lib.sh"

GONE="* NO Mailbox deleted by another session, readable until closed"
GONE_NO="NO [NONEXISTENT] Mailbox deleted by another session"

expect_resp() {	# EXPECTED [WHAT]: the last step's lines are exactly these
	assertEquals "${2:-response}" "$1" "$R"
}

# bodyresp SEQ UID N: the FETCH line of (UID BODY.PEEK[]) for message N.
bodyresp() {
	printf '* %s FETCH (UID %s BODY[] {%s}\n%s)' "$1" "$2" \
	    "$(crlf_len "$(mkmsg "$3")")" "$(mkmsg "$3")"
}

# cpu_ticks PID: user and system clock ticks of the process so far.
cpu_ticks() {
	awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"
}

# foo_with N: mailbox foo with messages 1..N (mkmsg i), by a session.
foo_with() {
	{
		echo "c1 CREATE foo"
		i=0
		while [ "$i" -lt "$1" ]; do
			i=$((i + 1))
			echo "p$i APPEND foo $(litp "$(mkmsg "$i")")"
		done
	} | session
	assertEquals "$1 appends" "$1" \
	    "$(grep -c '^p[0-9]* OK \[APPENDUID ' "$OUT")"
}

# The scenario of RFC 2180 4.1: A and B have INBOX of 7 messages
# selected, A expunges 4:7.
expunge_4to7() {
	put 7
	sess_open A
	sess_open B
	sess_cmd A a1 "SELECT INBOX"
	sess_cmd B b1 "SELECT INBOX"
	sess_cmd A a2 "STORE 4:7 +FLAGS.SILENT (\\Deleted)"
	sess_cmd B b0 "NOOP"	# the flag changes, before the expunge
	sess_cmd A a3 "EXPUNGE"
	expect_resp "* 7 EXPUNGE
* 6 EXPUNGE
* 5 EXPUNGE
* 4 EXPUNGE
a3 OK EXPUNGE completed" "A: EXPUNGE"
}

# --------------------------------------------------------------- section 3

# RFC 2180 3.2: DELETE of a mailbox B has selected; B is not disconnected.
testDeleteSelectedKeepsSession() {
	foo_with 2
	sess_open A
	sess_open B
	sess_cmd B b1 "SELECT foo"
	sess_cmd A a1 "DELETE foo"
	expect_resp "a1 OK DELETE completed"
	sess_cmd B b2 "NOOP"
	expect_resp "$GONE
b2 OK NOOP completed" "B: told, not disconnected"
	sess_cmd B b3 "NOOP"
	expect_resp "b3 OK NOOP completed" "B: told once"
	sess_cmd B b4 "FETCH 1:2 (UID BODY.PEEK[])"
	expect_resp "$(bodyresp 1 1 1)
$(bodyresp 2 2 2)
b4 OK FETCH completed" "B: still reads its messages"
	sess_cmd B b41 "FETCH 2 (BODYSTRUCTURE)"
	expect_resp '* 2 FETCH (BODYSTRUCTURE ("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 42 3 NIL NIL NIL NIL))
b41 OK FETCH completed' "B: structure, whose cache entry has no file to go to"
	sess_cmd B b5 "SEARCH ALL"
	expect_resp "* SEARCH 1 2
b5 OK SEARCH completed" "B: SEARCH"
	sess_cmd B b6 "STORE 1 +FLAGS (\\Seen)"
	expect_resp "b6 $GONE_NO" "B: STORE"
	sess_cmd B b61 "STORE 1 +FLAGS (newkeyword)"
	expect_resp "b61 $GONE_NO" "B: STORE of a new keyword"
	sess_cmd B b7 "EXPUNGE"
	expect_resp "b7 $GONE_NO" "B: EXPUNGE"
	sess_cmd B b8 "APPEND foo $(litp "$(mkmsg 3)")"
	expect_resp "b8 NO [TRYCREATE] No such mailbox" "B: APPEND to the name"
	# COPY out of it reads the messages: nothing is lost.
	sess_cmd B b9 "COPY 2 INBOX"
	assertEquals "B: COPY" "b9 OK [COPYUID V 2 1] COPY completed" \
	    "$(printf '%s\n' "$R" | norm)"
	sess_cmd B b10 "CLOSE"
	expect_resp "b10 OK CLOSE completed"
	sess_cmd B b11 "SELECT INBOX"
	assertTrue "B: INBOX: $R" "printf '%s\n' \"\$R\" | grep -qx '\\* 1 EXISTS'"
	sess_cmd B b12 "FETCH 1 (UID BODY.PEEK[])"
	expect_resp "$(bodyresp 1 1 2)
b12 OK FETCH completed" "B: the copy"
}

# 3.2: a session that had no access finds no mailbox, and the name can be
# used again at once (a new mailbox: new UIDVALIDITY).
testDeletedNameGoneForNewSessions() {
	foo_with 1
	sess_open A
	sess_open B
	sess_cmd B b1 "SELECT foo"
	uv1=$(printf '%s\n' "$R" | sed -n 's/^\* OK \[UIDVALIDITY \([0-9]*\)\].*/\1/p')
	sess_cmd A a1 "DELETE foo"
	sess_open C
	sess_cmd C c1 "STATUS foo (MESSAGES)"
	expect_resp "c1 NO [NONEXISTENT] No such mailbox" "C: STATUS"
	sess_cmd C c2 "LIST \"\" foo"
	expect_resp "c2 OK LIST completed" "C: LIST"
	sess_cmd C c3 "SELECT foo"
	expect_resp "c3 NO [NONEXISTENT] No such mailbox" "C: SELECT"
	sess_cmd C c4 "CREATE foo"
	R=$(printf '%s\n' "$R" | norm)
	expect_resp "c4 OK [MAILBOXID (I)] CREATE completed"
	sess_cmd C c5 "SELECT foo"
	assertTrue "C: empty: $R" "printf '%s\n' \"\$R\" | grep -qx '\\* 0 EXISTS'"
	uv2=$(printf '%s\n' "$R" | sed -n 's/^\* OK \[UIDVALIDITY \([0-9]*\)\].*/\1/p')
	assertTrue "new UIDVALIDITY $uv1 < $uv2" "[ '$uv1' -lt '$uv2' ]"
	sess_cmd C c6 "APPEND foo $(litp "$(mkmsg 9)")"
	# B still has the old one, and learns nothing of the new one.
	sess_cmd B b2 "FETCH 1 (UID BODY.PEEK[])"
	expect_resp "$(bodyresp 1 1 1)
$GONE
b2 OK FETCH completed" "B: the old foo"
	sess_cmd B b3 "NOOP"
	expect_resp "b3 OK NOOP completed" "B: nothing of the new foo"
}

# An idling session whose mailbox is deleted: the NO arrives during the
# IDLE, no BYE, no other line after it, and the session goes on.
testIdleMailboxDeleted() {
	foo_with 1
	sess_open A
	sess_open B
	sess_cmd B b1 "SELECT foo"
	sess_send B "b2 IDLE"
	t_wait B '^\+ '
	sess_cmd A a1 "DELETE foo"
	T_WAIT=2 t_wait B "^\\* NO "
	expect_resp "$GONE" "B: told while idling"
	# Told once: IDLE does not spin on the deleted mailbox either.
	t0=$(cpu_ticks "$(sess_pid B)")
	sleep 1
	t1=$(cpu_ticks "$(sess_pid B)")
	assertTrue "B: idle CPU ticks $t0 -> $t1" "[ $((t1 - t0)) -lt 10 ]"
	sess_rest B
	expect_resp "" "B: nothing more while idling"
	assertTrue "B still runs" "t_alive $(sess_pid B)"
	sess_send B "DONE"
	t_wait B "^b2 "
	expect_resp "b2 OK IDLE completed"
	sess_cmd B b3 "FETCH 1 (UID BODY.PEEK[])"
	expect_resp "$(bodyresp 1 1 1)
b3 OK FETCH completed"
	sess_send B "b4 IDLE"
	t_wait B '^\+ '
	expect_resp "+ idling" "B: IDLE again on the deleted mailbox"
	sess_send B "DONE"
	t_wait B "^b4 "
	expect_resp "b4 OK IDLE completed"
	sess_cmd B b5 "SELECT INBOX"
	assertTrue "B: INBOX: $R" "printf '%s\n' \"\$R\" | grep -qx 'b5 OK \\[READ-WRITE\\] SELECT completed'"
}

# 3.4: RENAME under a session: it keeps working on the mailbox, which a
# new session finds under the new name; the old name is gone.
testRenameSelected() {
	foo_with 2
	sess_open A
	sess_open B
	sess_cmd B b1 "SELECT foo"
	sess_cmd A a1 "RENAME foo bar"
	expect_resp "a1 OK RENAME completed"
	sess_cmd B b2 "FETCH 2 (UID BODY.PEEK[])"
	expect_resp "$(bodyresp 2 2 2)
b2 OK FETCH completed" "B: FETCH after RENAME"
	sess_cmd B b3 "STORE 1 +FLAGS (\\Flagged)"
	expect_resp "* 1 FETCH (FLAGS (\\Flagged \\Recent))
b3 OK STORE completed" "B: STORE after RENAME"
	sess_open C
	sess_cmd C c1 "SELECT bar"
	sess_cmd C c2 "FETCH 1:2 (FLAGS)"
	expect_resp "* 1 FETCH (FLAGS (\\Flagged))
* 2 FETCH (FLAGS ())
c2 OK FETCH completed" "C: B's STORE under the new name"
	sess_cmd C c3 "STORE 2 +FLAGS (\\Seen)"
	sess_cmd B b4 "NOOP"
	expect_resp "* 2 FETCH (FLAGS (\\Seen \\Recent))
b4 OK NOOP completed" "B: C's STORE"
	sess_cmd B b5 "APPEND foo $(litp "$(mkmsg 3)")"
	expect_resp "b5 NO [TRYCREATE] No such mailbox" "B: the old name"
	sess_cmd B b6 "APPEND bar $(litp "$(mkmsg 3)")"
	assertTrue "B: its own APPEND under the new name: $R" \
	    "printf '%s\n' \"\$R\" | grep -qx '\\* 3 EXISTS'"
	sess_cmd C c4 "STATUS foo (MESSAGES)"
	assertEquals "C: the old name" "c4 NO [NONEXISTENT] No such mailbox" \
	    "$(printf '%s\n' "$R" | tail -n 1)"
}

# --------------------------------------------------------------- section 4

# 4.1.1: ghosts are read with their real data until B is told.
testGhostFetch() {
	expunge_4to7
	sess_cmd B b2 "FETCH 4:7 (UID BODY.PEEK[])"
	expect_resp "$(bodyresp 4 4 4)
$(bodyresp 5 5 5)
$(bodyresp 6 6 6)
$(bodyresp 7 7 7)
b2 OK FETCH completed" "B: ghosts readable"
	sess_cmd B b3 "NOOP"
	expect_resp "* 7 EXPUNGE
* 6 EXPUNGE
* 5 EXPUNGE
* 4 EXPUNGE
b3 OK NOOP completed" "B: told at NOOP"
	sess_cmd B b4 "FETCH 4 (UID)"
	expect_resp "b4 BAD Invalid sequence set" "B: gone once told"
	sess_cmd B b5 "FETCH 1:* (UID)"
	expect_resp "* 1 FETCH (UID 1)
* 2 FETCH (UID 2)
* 3 FETCH (UID 3)
b5 OK FETCH completed"
}

# 4.2.1: .SILENT, the live messages changed: OK, with EXPUNGEISSUED.
testGhostStoreSilent() {
	expunge_4to7
	sess_cmd B b2 "STORE 1:7 +FLAGS.SILENT (\\Seen)"
	expect_resp "b2 OK [EXPUNGEISSUED] STORE completed"
	sess_cmd B b3 "NOOP"
	sess_cmd B b4 "FETCH 1:* (FLAGS)"
	expect_resp "* 1 FETCH (FLAGS (\\Seen))
* 2 FETCH (FLAGS (\\Seen))
* 3 FETCH (FLAGS (\\Seen))
b4 OK FETCH completed"
	sess_cmd A a4 "NOOP"
	expect_resp "* 1 FETCH (FLAGS (\\Seen \\Recent))
* 2 FETCH (FLAGS (\\Seen \\Recent))
* 3 FETCH (FLAGS (\\Seen \\Recent))
a4 OK NOOP completed" "A: only the live messages changed"
}

# 4.2.2: only ghosts, not silent: a tagged NO, no FETCH.
testGhostStoreOnlyGhosts() {
	expunge_4to7
	sess_cmd B b2 "STORE 5:7 +FLAGS (\\Seen)"
	expect_resp "b2 NO [EXPUNGEISSUED] Some messages were expunged by another session"
	sess_cmd B b3 "UID STORE 5 +FLAGS (\\Seen)"
	expect_resp "b3 NO [EXPUNGEISSUED] Some messages were expunged by another session"
	sess_cmd A a4 "NOOP"
	expect_resp "a4 OK NOOP completed" "A: nothing changed"
}

# 4.2.3: a mixture, not silent: the live ones change and get their FETCH,
# then a tagged NO; the NOOP that follows tells the expunges.
testGhostStoreMixture() {
	expunge_4to7
	sess_cmd B b2 "STORE 1:7 +FLAGS (\\Seen)"
	expect_resp "* 1 FETCH (FLAGS (\\Seen))
* 2 FETCH (FLAGS (\\Seen))
* 3 FETCH (FLAGS (\\Seen))
b2 NO [EXPUNGEISSUED] Some messages were expunged by another session"
	sess_cmd B b3 "NOOP"
	expect_resp "* 7 EXPUNGE
* 6 EXPUNGE
* 5 EXPUNGE
* 4 EXPUNGE
b3 OK NOOP completed"
	sess_cmd B b4 "STORE 1:3 +FLAGS (\\Answered)"
	expect_resp "* 1 FETCH (FLAGS (\\Answered \\Seen))
* 2 FETCH (FLAGS (\\Answered \\Seen))
* 3 FETCH (FLAGS (\\Answered \\Seen))
b4 OK STORE completed"
}

# With UNCHANGEDSINCE a ghost fails the test (its MODSEQ is the
# expunge's): MODIFIED names it, not EXPUNGEISSUED.
testGhostStoreUnchangedSince() {
	expunge_4to7
	sess_cmd B b2 "FETCH 3 (MODSEQ)"
	m=$(printf '%s\n' "$R" | sed -n 's/^\* 3 FETCH (MODSEQ (\([0-9]*\)))$/\1/p')
	assertNotNull "B: MODSEQ of 3: $R" "$m"
	sess_cmd B b3 "STORE 3:4 (UNCHANGEDSINCE $m) +FLAGS.SILENT (\\Seen)"
	assertEquals "B: the ghost in MODIFIED" "b3 OK [MODIFIED 4] STORE completed" \
	    "$(printf '%s\n' "$R" | tail -n 1)"
	sess_cmd B b4 "FETCH 3 (FLAGS)"
	expect_resp "* 3 FETCH (MODSEQ ($(printf '%s\n' "$R" |
	    sed -n 's/^\* 3 FETCH (MODSEQ (\([0-9]*\)).*/\1/p')) FLAGS (\\Seen))
b4 OK FETCH completed" "B: 3 changed"
}

# 4.4.2: COPY of ghosts copies their bytes; the EXPUNGEs come with it.
testGhostCopy() {
	expunge_4to7
	sess_cmd A a4 "CREATE fred"
	sess_cmd B b2 "COPY 2,4,6 fred"
	assertEquals "B: COPY" "* 7 EXPUNGE
* 6 EXPUNGE
* 5 EXPUNGE
* 4 EXPUNGE
b2 OK [COPYUID V 2,4,6 1:3] COPY completed" "$(printf '%s\n' "$R" | norm)"
	sess_open C
	sess_cmd C c1 "EXAMINE fred"
	sess_cmd C c2 "FETCH 1:3 (UID BODY.PEEK[])"
	expect_resp "$(bodyresp 1 1 2)
$(bodyresp 2 2 4)
$(bodyresp 3 3 6)
c2 OK FETCH completed" "C: the ghosts' real bytes"
}

# The bytes of ghosts stay while a session may read them: another
# session's CLOSE does not compact; the last one to leave does.
testGhostBytesKeptUntilLast() {
	foo_with 4
	sess_open A
	sess_open B
	sess_cmd A a1 "SELECT foo"
	sess_cmd B b1 "SELECT foo"
	sess_cmd B b2 "STORE 1:4 +FLAGS.SILENT (\\Deleted)"
	sess_cmd B b3 "CLOSE"
	expect_resp "b3 OK CLOSE completed"
	sess_cmd A a9 "FETCH 1 (UID)"	# the flag changes, not the expunges
	dir=$(ls -d "$STORE"/box/*foo* 2>/dev/null | head -n 1)
	assertTrue "foo's directory: $dir" "[ -d '$dir' ]"
	assertEquals "no compaction while A has foo" "data.1" \
	    "$(cd "$dir" && ls -d data.* | tr '\n' ' ' | sed 's/ $//')"
	sess_cmd A a2 "FETCH 1,4 (UID BODY.PEEK[])"
	expect_resp "$(bodyresp 1 1 1)
$(bodyresp 4 4 4)
a2 OK FETCH completed" "A: ghosts after B's CLOSE"
	sess_cmd A a3 "CLOSE"
	assertEquals "compacted once A left" "data.2" \
	    "$(cd "$dir" && ls -d data.* | tr '\n' ' ' | sed 's/ $//')"
}

# A session on a renamed mailbox holds off compaction too, and reads its
# ghosts; the expunge reaches it at NOOP.
testGhostInRenamedMailbox() {
	foo_with 3
	sess_open A
	sess_open B
	sess_cmd A a1 "SELECT foo"
	sess_cmd B b1 "RENAME foo bar"
	sess_cmd B b2 "SELECT bar"
	sess_cmd B b3 "STORE 1:3 +FLAGS.SILENT (\\Deleted)"
	sess_cmd B b4 "CLOSE"
	sess_cmd A a9 "FETCH 1 (UID)"	# the flag changes, not the expunges
	sess_cmd A a2 "FETCH 2 (UID BODY.PEEK[])"
	expect_resp "$(bodyresp 2 2 2)
a2 OK FETCH completed" "A: ghost of the renamed mailbox"
	sess_cmd A a3 "NOOP"
	expect_resp "* 3 EXPUNGE
* 2 EXPUNGE
* 1 EXPUNGE
a3 OK NOOP completed"
}

# Ghosts of a mailbox then deleted: still the real bytes, the EXPUNGEs
# and the deletion are told at NOOP.
testGhostInDeletedMailbox() {
	foo_with 2
	sess_open A
	sess_open B
	sess_cmd A a1 "SELECT foo"
	sess_cmd B b1 "SELECT foo"
	sess_cmd B b2 "STORE 1 +FLAGS.SILENT (\\Deleted)"
	sess_cmd B b3 "CLOSE"
	sess_cmd B b4 "DELETE foo"
	expect_resp "b4 OK DELETE completed"
	sess_cmd A a2 "FETCH 1:2 (UID BODY.PEEK[])"
	expect_resp "$(bodyresp 1 1 1)
$(bodyresp 2 2 2)
* 1 FETCH (FLAGS (\\Deleted \\Recent))
$GONE
a2 OK FETCH completed" "A: ghost and live message of a deleted mailbox"
	sess_cmd A a3 "NOOP"
	expect_resp "* 1 EXPUNGE
a3 OK NOOP completed"
}

. "${SHUNIT2:-/usr/share/shunit2/shunit2}"
