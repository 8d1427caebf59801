#!/bin/bash
# t/basic.sh: greeting, CAPABILITY, NOOP, LOGOUT, unknown commands, commands
# in the wrong state and syntax errors of a PREAUTH session (RFC 3501 6.1,
# 7.1).
. "$(dirname "$0")/lib.sh"

testGreetingAndLogout() {
	session <<EOF
a1 LOGOUT
EOF
	assertOut "$GREET_PREAUTH
* BYE imapd logging out
a1 OK LOGOUT completed"
	assertEquals "exit status" 0 "$RC"
}

testNothingAfterLogout() {
	session <<EOF
a1 LOGOUT
a2 NOOP
EOF
	assertHasNot "a2 OK NOOP completed"
	assertEquals "last line" "a1 OK LOGOUT completed" "$(tail -n 1 "$OUT")"
	assertEquals 0 "$RC"
}

testCapabilityAfterPreauth() {
	session <<EOF
a1 CAPABILITY
a2 LOGOUT
EOF
	assertResp a1 "* CAPABILITY IMAP4rev1 LITERAL+ UIDPLUS UNSELECT IDLE ENABLE CONDSTORE QRESYNC UTF8=ACCEPT
a1 OK CAPABILITY completed"
}

testNoopAnyCase() {
	session <<EOF
a1 NOOP
a2 noop
A3 NoOp
EOF
	assertOut "$GREET_PREAUTH
a1 OK NOOP completed
a2 OK NOOP completed
A3 OK NOOP completed"
}

testEofEndsSession() {
	session <<EOF
a1 NOOP
EOF
	assertOut "$GREET_PREAUTH
a1 OK NOOP completed"
	assertEquals "exit status at EOF" 0 "$RC"
}

testEmptyLinesIgnored() {
	printf '\r\n\r\na1 NOOP\r\n\r\n' | session_raw
	assertOut "$GREET_PREAUTH
a1 OK NOOP completed"
}

testUnknownCommand() {
	session <<EOF
a1 FROBNICATE
a2 STARTTLS
a3 NOOP
EOF
	assertOut "$GREET_PREAUTH
a1 BAD Unknown command
a2 BAD Unknown command
a3 OK NOOP completed"
}

# Commands of the selected state, sent in the authenticated state
# (RFC 3501 6.4): refused, and the session goes on.
testSelectedCommandsRefusedWhenNotSelected() {
	session <<EOF
a1 CHECK
a2 CLOSE
a3 UNSELECT
a4 EXPUNGE
a5 SEARCH ALL
a6 FETCH 1 FLAGS
a7 STORE 1 +FLAGS (\\Seen)
a8 COPY 1 INBOX
a9 UID FETCH 1 FLAGS
b1 UID STORE 1 +FLAGS (\\Seen)
b2 UID SEARCH ALL
b3 UID COPY 1 INBOX
b4 NOOP
EOF
	assertOut "$GREET_PREAUTH
a1 BAD Not allowed in this state
a2 BAD Not allowed in this state
a3 BAD Not allowed in this state
a4 BAD Not allowed in this state
a5 BAD Not allowed in this state
a6 BAD Not allowed in this state
a7 BAD Not allowed in this state
a8 BAD Not allowed in this state
a9 BAD Not allowed in this state
b1 BAD Not allowed in this state
b2 BAD Not allowed in this state
b3 BAD Not allowed in this state
b4 OK NOOP completed"
}

# LOGIN and AUTHENTICATE belong to the not authenticated state only.
testLoginRefusedAfterPreauth() {
	session <<EOF
a1 LOGIN user pass
a2 AUTHENTICATE PLAIN
a3 NOOP
EOF
	assertOut "$GREET_PREAUTH
a1 BAD Not allowed in this state
a2 BAD Not allowed in this state
a3 OK NOOP completed"
}

testMissingArguments() {
	session <<EOF
a1 SELECT
a2 CREATE
a3 RENAME foo
a4 STATUS INBOX
a5 LIST ""
a6 APPEND
a7 NOOP extra
a8 CAPABILITY now
a9 NOOP
EOF
	assertOut "$GREET_PREAUTH
a1 BAD Missing or invalid arguments
a2 BAD Missing or invalid arguments
a3 BAD Missing or invalid arguments
a4 BAD Missing or invalid arguments
a5 BAD Missing or invalid arguments
a6 BAD Missing or invalid arguments
a7 BAD Missing or invalid arguments
a8 BAD Missing or invalid arguments
a9 OK NOOP completed"
}

# Syntax errors: each gets a tagged BAD (untagged when there is no valid
# tag) and the session goes on (RFC 3501 7.1.3).
testSyntaxErrors() {
	session <<EOF
a1 SELECT "INBOX
a2 STATUS INBOX (MESSAGES
a3 STATUS INBOX MESSAGES)
a4 SELECT "IN\\qBOX"
a5
(bad NOOP
a6 NOOP
EOF
	assertEquals "8 lines" 8 "$(wc -l <"$OUT")"
	assertEquals "greeting" "$GREET_PREAUTH" "$(sed -n 1p "$OUT")"
	for t in a1 a2 a3 a4 a5; do
		assertTrue "$t BAD" "grep -q '^$t BAD ' '$OUT'"
	done
	assertTrue "untagged BAD for a bad tag" "grep -q '^\\* BAD ' '$OUT'"
	assertEquals "last" "a6 OK NOOP completed" "$(tail -n 1 "$OUT")"
}

# A literal that is not needed ends as a string: SELECT with a literal name.
testLiteralArgument() {
	session <<EOF
a1 STATUS {5}
INBOX (MESSAGES)
a2 STATUS {5+}
INBOX (UIDNEXT)
EOF
	assertOut "$GREET_PREAUTH
+ Ready for literal data
* STATUS INBOX (MESSAGES 0)
a1 OK STATUS completed
* STATUS INBOX (UIDNEXT 1)
a2 OK STATUS completed"
}

# Bare LF line ends are accepted (the parser is lenient there).
testBareLf() {
	printf 'a1 NOOP\na2 NOOP\n' | session_raw
	assertOut "$GREET_PREAUTH
a1 OK NOOP completed
a2 OK NOOP completed"
}

# Nothing but IMAP on stdout: the log goes to stderr with -s.
testOnlyImapOnStdout() {
	session <<EOF
a1 NOOP
a2 LOGOUT
EOF
	assertEquals "lines" 4 "$(wc -l <"$OUT")"
	assertFalse "every line is CRLF" "grep -qv \$'\\r\$' '$RAW'"
}

. "${SHUNIT2:-/usr/share/shunit2/shunit2}"
