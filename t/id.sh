#!/bin/bash
# t/id.sh: ID (RFC 2971) in every state, its limits and its log line;
# SASL-IR (RFC 4959): AUTHENTICATE PLAIN with an initial response.
. "$(dirname "$0")/lib.sh"

ID_OK='* ID ("name" "imapd")'

setUp() {
	mkstore
	mkpasswdfile
}

# repeat N TEXT: TEXT N times.
repeat() {
	head -c "$1" /dev/zero | tr '\0' "$2"
}

# id_pairs N: N field-value pairs "f1" "v" ... for an ID list.
id_pairs() {
	i=0
	while [ "$i" -lt "$1" ]; do
		i=$((i + 1))
		printf '%s"f%s" "v"' "$([ "$i" -gt 1 ] && echo ' ')" "$i"
	done
}

# RFC 2971 3.1, its example; valid in every state, before login too.
testIdInEveryState() {
	session -p "$PW" <<EOF
a023 ID ("name" "sodr" "version" "19.34" "vendor" "Pink Floyd Music Limited")
a1 LOGIN testu secret
a042 ID NIL
a2 SELECT INBOX
a3 ID ()
EOF
	assertResp a023 "$ID_OK
a023 OK ID completed"
	assertResp a042 "$ID_OK
a042 OK ID completed"
	assertResp a3 "$ID_OK
a3 OK ID completed"
	assertTrue "logged: $(cat "$ERR")" \
	    "grep -q 'id user=- remote=[^ ]* name=sodr version=19.34\$' '$ERR'"
	session <<EOF
a1 id nil
EOF
	assertResp a1 "$ID_OK
a1 OK ID completed"
}

# What the client sends is logged escaped (log.c): it cannot add a field
# nor break the line; a NIL value is logged as "-".
testIdLogEscaped() {
	printf 'a1 ID ("name" {22}\r\nx remote=1.2.3.4\r\nuser "version" NIL)\r\n' |
	    session_raw -p "$PW"
	assertResp a1 "+ Ready for literal data
$ID_OK
a1 OK ID completed"
	assertTrue "escaped: $(cat "$ERR")" \
	    "grep -q 'name=x\\\\x20remote\\\\x3d1.2.3.4\\\\x0d\\\\x0auser version=-\$' '$ERR'"
	assertEquals "one log line for ID" 1 "$(grep -c ' id ' "$ERR")"
}

# RFC 2971 3.3: at most 30 pairs, fields of 30 octets, values of 1024,
# no field twice; fields are strings, values strings or NIL.
testIdLimits() {
	session -p "$PW" <<EOF
a1 ID ($(id_pairs 30))
a2 ID ($(id_pairs 31))
a3 ID ("$(repeat 30 f)" "v")
a4 ID ("$(repeat 31 f)" "v")
a5 ID ("f" "$(repeat 1024 v)")
a6 ID ("f" "$(repeat 1025 v)")
a7 ID ("name" "a" "NAME" "b")
a8 ID ("name")
a9 ID (name "x")
a10 ID ("name" ("x"))
a11 ID "name"
a12 ID
a13 ID NIL NIL
EOF
	assertResp a1 "$ID_OK
a1 OK ID completed"
	assertResp a2 "a2 BAD Too many ID fields"
	assertResp a3 "$ID_OK
a3 OK ID completed"
	assertResp a4 "a4 BAD ID field too long"
	assertResp a5 "$ID_OK
a5 OK ID completed"
	assertResp a6 "a6 BAD ID value too long"
	assertResp a7 "a7 BAD ID field repeated"
	assertResp a8 "a8 BAD ID field without a value"
	assertResp a9 "a9 BAD ID fields are strings, values strings or NIL"
	assertResp a10 "a10 BAD ID fields are strings, values strings or NIL"
	assertResp a11 "a11 BAD ID takes a list or NIL"
	assertResp a12 "a12 BAD Missing or invalid arguments"
	assertResp a13 "a13 BAD Missing or invalid arguments"
}

# RFC 4959 3: the response on the command line, no "+" asked for.
testSaslIr() {
	session -p "$PW" <<EOF
a1 AUTHENTICATE PLAIN $(b64 '\0testu\0secret')
a2 SELECT INBOX
EOF
	assertResp a1 "a1 OK AUTHENTICATE completed"
	assertHas "a2 OK [READ-WRITE] SELECT completed"
	assertHasNot "+ "
}

testSaslIrAuthzidAndWrongPassword() {
	session -p "$PW" <<EOF
a1 AUTHENTICATE PLAIN $(b64 '\0testu\0wrong')
a2 AUTHENTICATE PLAIN $(b64 'testu\0testu\0secret')
EOF
	assertResp a1 "a1 NO [AUTHENTICATIONFAILED] Authentication failed"
	assertResp a2 "a2 OK AUTHENTICATE completed"
}

# "=" is an empty initial response (RFC 4959 3), which PLAIN cannot use;
# base64 that is not RFC 4648 base64 is BAD, without a "+".
testSaslIrErrors() {
	session -p "$PW" <<EOF
a1 AUTHENTICATE PLAIN =
a2 AUTHENTICATE PLAIN dGVzdA
a3 AUTHENTICATE PLAIN dG=zdA==
a4 AUTHENTICATE PLAIN dGVzdA===
a5 AUTHENTICATE PLAIN "$(b64 '\0testu\0secret')"
a6 AUTHENTICATE PLAIN *
a7 AUTHENTICATE PLAIN $(repeat 2048 A)
a8 AUTHENTICATE PLAIN $(b64 '\0testu\0secret') x
a9 AUTHENTICATE PLAIN $(b64 '\0testu\0secret')
EOF
	assertResp a1 "a1 BAD Invalid PLAIN response"
	assertResp a2 "a2 BAD Invalid base64 data"
	assertResp a3 "a3 BAD Invalid base64 data"
	assertResp a4 "a4 BAD Invalid base64 data"
	assertResp a5 "a5 BAD Invalid initial response"
	assertTrue "a6: $(resp a6)" "resp a6 | grep -q '^a6 BAD '"
	assertResp a7 "a7 BAD Authentication response too long"
	assertResp a8 "a8 BAD Missing or invalid arguments"
	assertResp a9 "a9 OK AUTHENTICATE completed"
	assertHasNot "+ "
}

testCapabilities() {
	session -p "$PW" <<EOF
a1 CAPABILITY
a2 LOGIN testu secret
a3 CAPABILITY
EOF
	assertTrue "before login: $(resp a1)" \
	    "resp a1 | grep -q '^\* CAPABILITY .* ID SASL-IR AUTH=PLAIN\$'"
	assertTrue "after login: $(resp a3)" \
	    "resp a3 | grep -q '^\* CAPABILITY .* BINARY ID .*APPENDLIMIT=[0-9]*\$'"
}

. "$SHUNIT2"
