#!/bin/bash
# t/limits.sh: every cap a client can hit gets a clear answer, and the
# session goes on where the stream can be resynchronized: command line
# length, APPEND literal size (-l), other literals, nesting depth, tokens
# per command, sequence-set length, keywords per mailbox.
. "$(dirname "$0")/lib.sh"

M1=$(mkmsg 1)

# n copies of a word, separated by spaces.
rep() {
	yes "$2" | head -n "$1" | tr '\n' ' ' | sed 's/ $//'
}

testLongLine() {
	{
		printf 'a1 NOOP %s\r\n' "$(head -c 71680 /dev/zero | tr '\0' x)"
		printf 'a2 NOOP\r\n'
	} | session_raw
	assertOut "$GREET_PREAUTH
a1 BAD Command line too long
a2 OK NOOP completed"
}

# A line below the cap (LINE_MAX_IMAP, 64 KiB) is fine: 9000 search keys.
testLongLineBelowCap() {
	session <<EOF
a1 APPEND INBOX $(lit "$M1")
a2 SELECT INBOX
a3 SEARCH $(rep 9000 ALL)
EOF
	assertResp a3 "* SEARCH 1
a3 OK SEARCH completed"
}

testTooManyTokens() {
	session <<EOF
a1 APPEND INBOX $(lit "$M1")
a2 SELECT INBOX
a3 SEARCH $(rep 10001 ALL)
a4 NOOP
EOF
	assertTrue "BAD: $(resp a3)" "resp a3 | grep -q '^a3 BAD '"
	assertResp a4 "a4 OK NOOP completed"
}

# APPEND over -l with a synchronizing literal: NO [TOOBIG] instead of the
# continuation (RFC 7889, RFC 9051 7.1); the client sends nothing more, so
# the session goes on.
testAppendLimitSynchronizing() {
	body=$(head -c 100 /dev/zero | tr '\0' y)
	session -l 100 <<EOF
a1 APPEND INBOX {101}
a2 APPEND INBOX $(lit "$body")
a3 APPEND INBOX {4294967295}
a4 STATUS INBOX (MESSAGES)
EOF
	assertResp a1 "a1 NO [TOOBIG] Literal too big"
	assertRespN a2 "+ Ready for literal data
a2 OK [APPENDUID V 1] APPEND completed"
	assertResp a3 "a3 NO [TOOBIG] Literal too big"
	assertResp a4 "* STATUS INBOX (MESSAGES 1)
a4 OK STATUS completed"
	assertEquals "one continuation" 1 "$(grep -c '^+ ' "$OUT")"
}

# A non-synchronizing literal over the limit is already on its way: the
# server cannot take it, says BYE and closes (RFC 7888 4).
testAppendLimitNonSynchronizing() {
	body=$(head -c 200 /dev/zero | tr '\0' y)
	session -l 100 <<EOF
a1 APPEND INBOX $(litp "$body")
a2 NOOP
EOF
	assertTrue "BYE: $(cat "$OUT")" "grep -q '^\\* BYE ' '$OUT'"
	assertHasNot "a2 OK NOOP completed"
	session <<EOF
a1 STATUS INBOX (MESSAGES)
EOF
	assertResp a1 "* STATUS INBOX (MESSAGES 0)
a1 OK STATUS completed"
}

# Outside APPEND a literal is capped at LITERAL_MAX (64 KiB).
testLiteralLimitOtherCommands() {
	session <<EOF
a1 STATUS {70000}
a2 NOOP
EOF
	assertTrue "BAD: $(resp a1)" "resp a1 | grep -q '^a1 BAD '"
	assertHasNot "+ Ready for literal data"
	assertResp a2 "a2 OK NOOP completed"
}

# Parenthesized search keys nest: 32 levels (PAREN_DEPTH_MAX) work, 33 do
# not.
testNestingDepth() {
	open32=$(printf '(%.0s' $(seq 32))
	close32=$(printf ')%.0s' $(seq 32))
	session <<EOF
a1 APPEND INBOX $(lit "$M1")
a2 SELECT INBOX
a3 SEARCH ${open32}ALL${close32}
a4 SEARCH (${open32}ALL${close32})
a5 NOOP
EOF
	assertResp a3 "* SEARCH 1
a3 OK SEARCH completed"
	assertTrue "BAD: $(resp a4)" "resp a4 | grep -q '^a4 BAD '"
	assertResp a5 "a5 OK NOOP completed"
}

# SEQSET_MAX ranges in one set work, one more does not.
testSequenceSetLength() {
	session <<EOF
a1 APPEND INBOX $(lit "$M1")
a2 SELECT INBOX
a3 FETCH $(rep 10000 1 | tr ' ' ,) (UID)
a4 FETCH $(rep 10001 1 | tr ' ' ,) (UID)
a5 UID FETCH $(rep 10001 1 | tr ' ' ,) (UID)
a6 NOOP
EOF
	assertResp a3 "* 1 FETCH (UID 1)
a3 OK FETCH completed"
	assertResp a4 "a4 BAD Invalid sequence set"
	assertResp a5 "a5 BAD Invalid sequence set"
	assertResp a6 "a6 OK NOOP completed"
}

# KEYWORDS_MAX (1,000 keywords per mailbox) is tested in t/keywords.sh.

. "${SHUNIT2:-/usr/share/shunit2/shunit2}"
