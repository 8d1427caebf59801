#!/bin/bash
# t/append.sh: APPENDLIMIT (RFC 7889): the session's limit in CAPABILITY
# and in STATUS, NO [TOOBIG] before a synchronizing literal over it is
# sent; non-synchronizing literals over LITERAL-'s 4096 octets (RFC 7888
# section 5), which imapd takes since it announces LITERAL+, up to the
# limit, past which the session ends with BYE [TOOBIG] (section 4).
. "$(dirname "$0")/lib.sh"

testCapabilityAppendLimit() {
	session -l 5000 <<EOF
a1 CAPABILITY
EOF
	assertResp a1 "* CAPABILITY IMAP4rev1 LITERAL+ UIDPLUS UNSELECT IDLE ENABLE CONDSTORE QRESYNC MOVE APPENDLIMIT=5000
a1 OK CAPABILITY completed"
	assertEquals "greeting" "* PREAUTH [CAPABILITY IMAP4rev1 LITERAL+ UIDPLUS UNSELECT IDLE ENABLE CONDSTORE QRESYNC MOVE APPENDLIMIT=5000] imapd ready, logged in as $T_USER" "$(head -n 1 "$OUT")"
	# Before login the limit is not that of any user yet.
	assertEquals "no APPENDLIMIT before login" "$GREET_OK" "$(printf 'a1 LOGOUT\r\n' | run_imapd -p /dev/null 2>/dev/null | head -n 1 | tr -d '\r')"
}

# RFC 7889 section 3: STATUS (APPENDLIMIT), the same for every mailbox.
testStatusAppendLimit() {
	session -l 5000 <<EOF
a1 CREATE foo
a2 STATUS foo (APPENDLIMIT)
a3 STATUS INBOX (MESSAGES APPENDLIMIT UIDNEXT)
a4 STATUS nosuch (APPENDLIMIT)
EOF
	assertResp a2 "* STATUS foo (APPENDLIMIT 5000)
a2 OK STATUS completed"
	assertResp a3 "* STATUS INBOX (MESSAGES 0 APPENDLIMIT 5000 UIDNEXT 1)
a3 OK STATUS completed"
	assertResp a4 "a4 NO [NONEXISTENT] No such mailbox"
}

# Over the limit with a synchronizing literal: NO [TOOBIG] and no "+".
testAppendTooBig() {
	session -l 5000 <<EOF
a1 APPEND INBOX {5001}
a2 STATUS INBOX (MESSAGES)
EOF
	assertResp a1 "a1 NO [TOOBIG] Literal too big"
	assertEquals "no continuation" 0 "$(grep -c '^+ ' "$OUT")"
	assertResp a2 "* STATUS INBOX (MESSAGES 0)
a2 OK STATUS completed"
}

# A non-synchronizing literal of 5000 octets, over LITERAL-'s 4096: taken
# in APPEND and in another command, since imapd announces LITERAL+.
testLiteralPlusOver4096() {
	body=$(head -c 4984 /dev/zero | tr '\0' y)
	session <<EOF
a1 APPEND INBOX {5000+}
Subject: big

$body
a2 SELECT INBOX
a3 SEARCH TEXT {4984+}
$body
a4 FETCH 1 (RFC822.SIZE)
EOF
	assertRespN a1 "a1 OK [APPENDUID V 1] APPEND completed"
	assertResp a3 "* SEARCH 1
a3 OK SEARCH completed"
	assertResp a4 "* 1 FETCH (RFC822.SIZE 5000)
a4 OK FETCH completed"
	assertEquals "no continuation" 0 "$(grep -c '^+ ' "$OUT")"
}

# Over the limit, a non-synchronizing literal is already being sent: BYE
# [TOOBIG] and the session ends (RFC 7888 section 4, choice 2); nothing
# is stored.
testLiteralPlusOverLimit() {
	body=$(head -c 5000 /dev/zero | tr '\0' y)
	session -l 4096 <<EOF
a1 APPEND INBOX {5000+}
$body
a2 NOOP
EOF
	assertEquals "* BYE [TOOBIG] Literal too big" "$(sed -n 2p "$OUT")"
	assertEquals "nothing after BYE" 2 "$(wc -l < "$OUT")"
	session_cmds -- "s1 STATUS INBOX (MESSAGES)"
	assertResp s1 "* STATUS INBOX (MESSAGES 0)
s1 OK STATUS completed"
}

. "${SHUNIT2:-/usr/share/shunit2/shunit2}"
