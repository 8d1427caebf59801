#!/bin/bash
# t/edge.sh: edge cases found in a review of imapd against RFC 3501 and
# common clients: limits before login, replies never cut short, LIST
# matching time, SELECT and DELETE state rules, FLAGS before a FETCH that
# shows a new keyword, STATUS and APPEND argument checks.
. "$(dirname "$0")/lib.sh"

M1=$(mkmsg 1)

setUp() {
	mkstore
}

# Before login an APPEND literal gets no more room than any literal
# (RFC 7888 section 9): refused before the client sends it.
testNoAppendSizedLiteralBeforeLogin() {
	PW=$STORE.passwd
	echo "u:x::: $STORE" >"$PW"
	[ -n "$T_OWNER" ] && chown "$T_OWNER" "$PW"
	session -p "$PW" <<EOF
a1 APPEND INBOX {100000}
a2 NOOP
EOF
	assertResp a1 "a1 NO [TOOBIG] Literal too big"
	assertResp a2 "a2 OK NOOP completed"
	assertFalse "no continuation was offered" "grep -q '^+' $OUT"
}

# RFC 3501 sets no length on a tag; the reply carries it whole.
testLongTag() {
	tag=$(head -c 1500 /dev/zero | tr '\0' t)
	session <<EOF
$tag NOOP
$tag FETCH "abc
b LOGOUT
EOF
	assertHas "$tag OK NOOP completed"
	assertTrue "parse error reply whole: $(grep -c '' "$OUT")" \
	    "grep -q '^$tag BAD ' $OUT"
	assertHas "b OK LOGOUT completed"
}

# Wildcards cannot make matching take exponential time.
testListManyWildcards() {
	name=$(head -c 200 /dev/zero | tr '\0' a)
	start=$(date +%s)
	session <<EOF
a1 CREATE $name
a2 LIST "" "*a*a*a*a*a*a*a*a*ab"
a3 LIST "" "*a*a*a*a*a*a*a*a*a"
EOF
	assertResp a2 "a2 OK LIST completed"
	assertResp a3 "* LIST () \"/\" $name
a3 OK LIST completed"
	assertTrue "LIST took under 5 s" "[ $(($(date +%s) - start)) -lt 5 ]"
}

# RFC 3501 5.1: INBOX in any case, in patterns as in names.
testListInboxAnyCase() {
	session <<EOF
a1 CREATE INBOX/sub
a2 LIST "" "inb*"
a3 LIST "inbox/" "%"
EOF
	assertResp a2 '* LIST () "/" INBOX
* LIST () "/" INBOX/sub
a2 OK LIST completed'
	assertResp a3 '* LIST () "/" INBOX/sub
a3 OK LIST completed'
}

# A mailbox named NIL is quoted, or clients read nil.
testNilNameQuoted() {
	session <<EOF
a1 CREATE NIL
a2 LIST "" "N*"
EOF
	assertResp a2 '* LIST () "/" "NIL"
a2 OK LIST completed'
}

# RFC 3501 6.3.1: a SELECT that fails still deselects.
testFailedSelectDeselects() {
	session <<EOF
a1 APPEND INBOX $(lit "$M1")
a2 SELECT INBOX
a3 SELECT "bad*name"
a4 FETCH 1 UID
EOF
	assertResp a3 "* OK [CLOSED] Previous mailbox closed
a3 NO [CANNOT] Invalid mailbox name"
	assertResp a4 "a4 BAD Not allowed in this state"
}

# Deleting the selected mailbox answers OK and deselects; no BYE.
testDeleteSelectedMailbox() {
	session <<EOF
a1 CREATE foo
a2 SELECT foo
a3 DELETE foo
a4 FETCH 1 UID
a5 LIST "" foo
EOF
	assertResp a3 "a3 OK DELETE completed"
	assertResp a4 "a4 BAD Not allowed in this state"
	assertResp a5 "a5 OK LIST completed"
	assertFalse "no BYE" "grep -q '^\* BYE' $OUT"
}

# A new keyword is announced (FLAGS) before a FETCH shows it; a STORE
# that matches no message makes no keyword.
testFlagsBeforeNewKeyword() {
	session <<EOF
a1 APPEND INBOX $(lit "$M1")
a2 SELECT INBOX
a3 UID STORE 50:60 +FLAGS (ghost)
a4 STORE 1 +FLAGS (\$Label1)
EOF
	assertResp a3 "a3 OK UID STORE completed"
	assertRespN a4 '* FLAGS (\Answered \Flagged \Deleted \Seen \Draft $Label1)
* OK [PERMANENTFLAGS (\Answered \Flagged \Deleted \Seen \Draft $Label1 \*)] Flags permitted
* 1 FETCH (FLAGS (\Recent $Label1))
a4 OK STORE completed'
}

# STATUS checks every item before it answers anything.
testStatusUnknownItem() {
	session <<EOF
a1 STATUS INBOX (MESSAGES BOGUS)
EOF
	assertResp a1 "a1 BAD Unknown STATUS item"
}

# APPEND's message is a literal (RFC 3501 section 9); a date alone is no
# message.
testAppendNeedsLiteral() {
	session <<EOF
a1 APPEND INBOX () "01-Feb-2024 10:00:00 -0100"
a2 APPEND INBOX "Subject: x"
a3 STATUS INBOX (MESSAGES)
EOF
	assertResp a1 "a1 BAD Missing or invalid arguments"
	assertResp a2 "a2 BAD Missing or invalid arguments"
	assertResp a3 "* STATUS INBOX (MESSAGES 0)
a3 OK STATUS completed"
}

# Header searches read a prefix of each message first; a header longer
# than that prefix is still searched to its end.
testSearchLongHeader() {
	filler=$(for i in $(seq 1 200); do
		printf 'X-Filler-%03d: %s\n' "$i" \
		    "0123456789012345678901234567890123456789012345678901"
	done)
	big="$filler
Subject: needle in a long header
From: far@example.org

body text
"
	session <<EOF
a1 APPEND INBOX $(lit "$M1")
a2 APPEND INBOX $(lit "$big")
a3 SELECT INBOX
a4 SEARCH SUBJECT needle
a5 SEARCH FROM far@example
a6 SEARCH HEADER X-Filler-200 0123
a7 SEARCH BODY "body text"
EOF
	assertResp a4 "* SEARCH 2
a4 OK SEARCH completed"
	assertResp a5 "* SEARCH 2
a5 OK SEARCH completed"
	assertResp a6 "* SEARCH 2
a6 OK SEARCH completed"
	assertResp a7 "* SEARCH 2
a7 OK SEARCH completed"
}

# FROM, TO, CC, BCC and SUBJECT answer from the structure cache once a
# FETCH ENVELOPE has filled it: the answers must be the same as from the
# messages themselves (every value of a repeated field, encoded words).
testSearchFromCacheSameAsMessage() {
	m2="From: =?UTF-8?Q?Ren=C3=A9e?= <renee@example.fr>
To: a@example.org
Cc: c@example.org
Subject: first subject
Subject: second subject

text
"
	m3="From: Bob <bob@example.com>
To: b@example.org
Bcc: hidden@example.org
Subject: =?ISO-8859-1?Q?caf=E9?= time

text
"
	q='SEARCH SUBJECT first
SEARCH SUBJECT second
SEARCH FROM renee
SEARCH FROM bob
SEARCH TO example.org
SEARCH CC c@
SEARCH BCC hidden
SEARCH HEADER SUBJECT ""
SEARCH OR FROM bob SUBJECT first'
	session <<EOF
a1 APPEND INBOX $(lit "$M1")
a2 APPEND INBOX $(lit "$m2")
a3 APPEND INBOX $(lit "$m3")
a4 SELECT INBOX
$(printf '%s\n' "$q" | awk '{print "c" NR " " $0}')
b1 FETCH 1:* ENVELOPE
$(printf '%s\n' "$q" | awk '{print "w" NR " " $0}')
s1 SEARCH CHARSET UTF-8 FROM $(litp "renée")
s2 SEARCH CHARSET UTF-8 SUBJECT $(litp "café")
EOF
	for i in 1 2 3 4 5 6 7 8 9; do
		cold=$(resp c$i | sed -n '1p')
		warm=$(resp w$i | sed -n '1p')
		assertEquals "search $i cold vs warm" "$cold" "$warm"
	done
	assertEquals "first" "* SEARCH 2" "$(resp w1 | sed -n 1p)"
	assertEquals "second" "* SEARCH 2" "$(resp w2 | sed -n 1p)"
	assertEquals "bob" "* SEARCH 3" "$(resp w4 | sed -n 1p)"
	assertEquals "bcc" "* SEARCH 3" "$(resp w7 | sed -n 1p)"
	assertEquals "decoded from" "* SEARCH 2" "$(resp s1 | sed -n 1p)"
	assertEquals "decoded subject" "* SEARCH 3" "$(resp s2 | sed -n 1p)"
}

# RFC 3501 section 9: '[' is an ATOM-CHAR and ']' an ASTRING-CHAR, so a
# mailbox name may hold either unquoted; only a fetch attribute's section
# is bracketed.
testBracketInMailboxName() {
	session <<EOF
a1 CREATE x[y
a2 CREATE ]z[
a3 LIST "" *
a4 SELECT x[y
EOF
	assertRespN a1 "a1 OK [MAILBOXID (I)] CREATE completed"
	assertRespN a2 "a2 OK [MAILBOXID (I)] CREATE completed"
	assertHas '* LIST () "/" x[y'
	assertHas '* LIST () "/" ]z['
	assertHas "a4 OK [READ-WRITE] SELECT completed"
}

# A store failure travels as a value: DELETE INBOX is refused for what it
# is, and nothing is logged as an unknown error (issue 7).
testDeleteInboxLogsNoUnknownError() {
	session -s <<EOF
a1 DELETE INBOX
a2 DELETE inbox
a3 CREATE x
a4 DELETE INBOX
EOF
	assertResp a1 "a1 NO [CANNOT] INBOX cannot be deleted"
	assertResp a2 "a2 NO [CANNOT] INBOX cannot be deleted"
	assertResp a4 "a4 NO [CANNOT] INBOX cannot be deleted"
	assertFalse "no unknown error logged: $(cat "$ERR")" \
	    "grep -q 'unknown error' '$ERR'"
}

. "${SHUNIT2:-/usr/share/shunit2/shunit2}"
