#!/bin/bash
# t/deliver.sh: delivery mode, imapd -d DIR -D MAILBOX < message: exit 0
# when stored, 65 (EX_DATAERR) for input that is not a message, 75
# (EX_TEMPFAIL) when it cannot be stored now; LF becomes CRLF and a leading
# mbox "From " line is dropped.
. "$(dirname "$0")/lib.sh"

M1=$(mkmsg 1)
S1=$(crlf_len "$M1")

# deliver MAILBOX < message: exit status in RC.
deliver() {
	run_imapd -d "$STORE" -D "$1" >"$T_TMP/dout" 2>"$T_TMP/derr"
	RC=$?
}

testDeliverLf() {
	printf '%s\n' "$M1" | deliver INBOX
	assertEquals "exit status" 0 "$RC"
	assertEquals "nothing on stdout" "" "$(cat "$T_TMP/dout")"
	session <<EOF
a1 SELECT INBOX
a2 FETCH 1 (FLAGS RFC822.SIZE BODY.PEEK[])
EOF
	assertHas "* 1 EXISTS"
	assertHas "* 1 RECENT"
	assertResp a2 "* 1 FETCH (FLAGS (\\Recent) RFC822.SIZE $((S1 + 2)) BODY[] {$((S1 + 2))}
$M1
)
a2 OK FETCH completed"
	# Every line end imapd sent, the message's included, is CRLF.
	assertEquals "bare LFs" 0 "$(grep -vc $'\r$' "$RAW")"
}

testDeliverCrlfUnchanged() {
	printf '%s\n' "$M1" | t_crlf | deliver INBOX
	assertEquals "exit status" 0 "$RC"
	session <<EOF
a1 SELECT INBOX
a2 FETCH 1 RFC822.SIZE
EOF
	assertResp a2 "* 1 FETCH (RFC822.SIZE $((S1 + 2)))
a2 OK FETCH completed"
}

# The mbox separator line of a Postfix / qmail pipe is not part of the
# message; a later "From " line in the body is.
testDeliverDropsFromLine() {
	body=$(printf 'Subject: mbox\n\nline one\nFrom here on\nend')
	printf 'From alice@example.org Tue Jan  2 10:00:00 2024\n%s\n' "$body" |
	    deliver INBOX
	assertEquals "exit status" 0 "$RC"
	session <<EOF
a1 SELECT INBOX
a2 FETCH 1 BODY.PEEK[]
EOF
	assertResp a2 "* 1 FETCH (BODY[] {$(($(crlf_len "$body") + 2))}
$body
)
a2 OK FETCH completed"
}

testDeliverOtherMailbox() {
	session <<EOF
a1 CREATE lists/dev
EOF
	printf '%s\n' "$M1" | deliver lists/dev
	assertEquals "exit status" 0 "$RC"
	printf '%s\n' "$M1" | deliver lists/dev
	assertEquals "exit status" 0 "$RC"
	session <<EOF
a1 STATUS lists/dev (MESSAGES RECENT UNSEEN UIDNEXT)
a2 STATUS INBOX (MESSAGES)
EOF
	assertResp a1 "* STATUS lists/dev (MESSAGES 2 RECENT 2 UNSEEN 2 UIDNEXT 3)
a1 OK STATUS completed"
	assertResp a2 "* STATUS INBOX (MESSAGES 0)
a2 OK STATUS completed"
}

testDeliverEmptyInput() {
	deliver INBOX </dev/null
	assertEquals "empty input" 65 "$RC"
	session <<EOF
a1 STATUS INBOX (MESSAGES)
EOF
	assertResp a1 "* STATUS INBOX (MESSAGES 0)
a1 OK STATUS completed"
}

testDeliverFromLineOnly() {
	printf 'From alice@example.org Tue Jan  2 10:00:00 2024\n' | deliver INBOX
	assertEquals "nothing after the From line" 65 "$RC"
}

# A store the user cannot write to: the MTA must keep the message and
# retry (EX_TEMPFAIL), not bounce it.
testDeliverTempFail() {
	chmod 555 "$STORE"
	printf '%s\n' "$M1" | deliver INBOX
	chmod 755 "$STORE"
	assertEquals "unwritable store" 75 "$RC"
	session <<EOF
a1 STATUS INBOX (MESSAGES)
EOF
	assertResp a1 "* STATUS INBOX (MESSAGES 0)
a1 OK STATUS completed"
}

testDeliverInvalidMailboxName() {
	printf '%s\n' "$M1" | deliver ../escape
	assertNotEquals "stored outside the store" 0 "$RC"
	assertFalse "nothing outside" "[ -e '$STORE/../escape' ]"
}

# An 8-bit message (UTF-8 header and body) is stored byte for byte.
testDeliver8bit() {
	m=$(printf 'Subject: =?UTF-8?Q?caf=C3=A9?=\nContent-Type: text/plain; charset=utf-8\n\nd\303\251j\303\240 vu')
	printf '%s\n' "$m" | deliver INBOX
	assertEquals "exit status" 0 "$RC"
	session <<EOF
a1 SELECT INBOX
a2 FETCH 1 BODY.PEEK[TEXT]
EOF
	assertResp a2 "* 1 FETCH (BODY[TEXT] {$(($(printf 'd\303\251j\303\240 vu' | wc -c) + 2))}
$(printf 'd\303\251j\303\240 vu')
)
a2 OK FETCH completed"
}

. "${SHUNIT2:-/usr/share/shunit2/shunit2}"
