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
	assertResp a1 "* CAPABILITY ${CAPS_AUTH%=*}=5000
a1 OK CAPABILITY completed"
	assertEquals "greeting" "$(greet_limit 5000)" "$(head -n 1 "$OUT")"
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

# multi N: " {1+}" LF "x" N times: N one-byte messages for a script line.
multi() {
	i=0
	while [ "$i" -lt "$1" ]; do
		i=$((i + 1))
		printf ' {1+}\nx'
	done
}

# RFC 3502 6.3: each message with its own flags and date; one APPENDUID
# names all of them (RFC 4315 3).
testMultiappend() {
	session <<EOF
a1 APPEND INBOX (\\Seen) $(lit "$(mkmsg 1)") (\\Flagged \$Work) "05-Dec-2026 10:00:00 +0100" $(lit "$(mkmsg 2)") $(litp "$(mkmsg 3)")
a2 SELECT INBOX
a3 FETCH 1:3 (FLAGS)
a4 FETCH 2 (INTERNALDATE)
a5 APPEND INBOX $(litp "$(mkmsg 4)") $(litp "$(mkmsg 5)")
EOF
	assertRespN a1 "+ Ready for literal data
+ Ready for literal data
a1 OK [APPENDUID V 1:3] APPEND completed"
	assertResp a3 "* 1 FETCH (FLAGS (\\Seen \\Recent))
* 2 FETCH (FLAGS (\\Flagged \\Recent \$Work))
* 3 FETCH (FLAGS (\\Recent))
a3 OK FETCH completed"
	assertResp a4 '* 2 FETCH (INTERNALDATE "05-Dec-2026 09:00:00 +0000")
a4 OK FETCH completed'
	assertRespN a5 "* 5 EXISTS
* 5 RECENT
a5 OK [APPENDUID V 4:5] APPEND completed"
}

# All or none: a message over the limit, announced (NO [TOOBIG] before it
# is sent) or found once line ends are CRLF, an empty one or a bad
# argument after good messages stores none of them.
testMultiappendAllOrNone() {
	body=$(head -c 150 /dev/zero | tr '\0' y)
	lf=$(printf 'a\nb\nc\nd\ne\n%s' "$(head -c 140 /dev/zero | tr '\0' y)")
	printf 'a1 APPEND INBOX {5+}\r\nhello {5+}\r\nworld {301}\r\na2 APPEND INBOX {5+}\r\nhello {150+}\r\n%s {150+}\r\n%s\r\na3 APPEND INBOX {5+}\r\nhello {0+}\r\n\r\na4 APPEND INBOX {5+}\r\nhello (\\Seen)\r\na5 APPEND INBOX {5+}\r\nhello {5+}\r\nworld (\\Bogus) {5+}\r\nagain\r\na6 STATUS INBOX (MESSAGES)\r\n' \
	    "$body" "$(printf '%s' "$lf" | head -c 150)" | session_raw -l 150
	assertResp a1 "a1 NO [TOOBIG] Literal too big"
	assertResp a2 "a2 NO [TOOBIG] Message too big"
	assertResp a3 "a3 NO Empty message"
	assertResp a4 "a4 BAD Missing or invalid arguments"
	assertTrue "a5 refused: $(resp a5)" "resp a5 | grep -q '^a5 BAD '"
	assertResp a6 "* STATUS INBOX (MESSAGES 0)
a6 OK STATUS completed"
}

# APPEND_MSGS_MAX (imapd.h): 1000 messages in one APPEND, not 1001.
testMultiappendLimit() {
	session <<EOF
a1 APPEND INBOX$(multi 1001)
a2 APPEND INBOX$(multi 1000)
a3 STATUS INBOX (MESSAGES)
EOF
	assertResp a1 "a1 NO [LIMIT] Too many messages in one APPEND"
	assertRespN a2 "a2 OK [APPENDUID V 1:1000] APPEND completed"
	assertResp a3 "* STATUS INBOX (MESSAGES 1000)
a3 OK STATUS completed"
}

# Another session sees the messages of one APPEND all at once: its STATUS
# during a 1000-message APPEND finds 0 or 1000, never some.
testMultiappendOthersSeeAll() {
	sess_open A
	sess_open W
	sess_cmd W w0 "SELECT INBOX"
	sess_send A "a1 APPEND INBOX$(multi 1000)"
	i=0
	seen=
	while [ $i -lt 30 ]; do
		i=$((i + 1))
		sess_cmd W "w$i" "STATUS INBOX (MESSAGES)"
		seen="$seen $(printf '%s\n' "$R" | sed -n 's/^\* STATUS INBOX (MESSAGES \([0-9]*\))$/\1/p')"
	done
	t_wait A '^a1 '
	assertEquals "only 0 or 1000:$seen" "" "$(printf '%s\n' $seen | grep -vx '1000\|0')"
	sess_cmd W w99 "NOOP"
	assertEquals "EXISTS 0, then 1000 at once" "* 0 EXISTS
* 1000 EXISTS" "$(tr -d '\r' < "$T_TMP/W.out" | grep 'EXISTS$')"
}

. "${SHUNIT2:-/usr/share/shunit2/shunit2}"
