#!/bin/bash
# t/binary.sh: BINARY (RFC 3516, RFC 9051 6.4.5): FETCH BINARY[part],
# BINARY.PEEK and BINARY.SIZE, the content decoded (base64,
# quoted-printable, identities), literal8 when it holds NUL, partial
# ranges, [UNKNOWN-CTE], parts that are no leaf, \Seen; APPEND of a
# literal8 (RFC 3516 4.4).
. "$(dirname "$0")/lib.sh"

# Parts: 1 base64 text, 2 quoted-printable text, 3 base64 with NUL,
# 4 an encoding imapd does not know, 5 multipart (5.1 plain text),
# 6 base64 text with LF line ends, 7 a message/rfc822.
MSG='From: Alice <alice@example.org>
Subject: binary
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="b"

--b
Content-Type: text/plain
Content-Transfer-Encoding: base64

SGVsbG8sIHdvcmxkIQ==
--b
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: Quoted-Printable

caf=C3=A9 =3D soft=
break
--b
Content-Type: application/octet-stream
Content-Transfer-Encoding: base64

AAEC/w==
--b
Content-Type: application/x-foo
Content-Transfer-Encoding: x-uuencode

begin 644 x
--b
Content-Type: multipart/alternative; boundary="c"

--c
Content-Type: text/plain

inner
--c--
--b
Content-Type: text/plain
Content-Transfer-Encoding: base64

bGluZTEKbGluZTIK
--b
Content-Type: message/rfc822

Subject: inside

body
--b--'

# fetch_session CMD...: MSG appended, INBOX selected, then each argument
# one command (tags a1, a2, ...).
fetch_session() {
	{
		echo "p1 APPEND INBOX $(litp "$MSG")"
		echo "s1 SELECT INBOX"
		t_i=0
		for c in "$@"; do
			t_i=$((t_i + 1))
			echo "a$t_i $c"
		done
	} | session
}

testBase64AndQuotedPrintable() {
	fetch_session "FETCH 1 (BINARY.PEEK[1] BINARY.PEEK[2])" \
	    "FETCH 1 (BINARY.SIZE[1] BINARY.SIZE[2])"
	assertResp a1 "* 1 FETCH (BINARY[1] {13}
Hello, world! BINARY[2] {17}
café = softbreak)
a1 OK FETCH completed"
	assertResp a2 "* 1 FETCH (BINARY.SIZE[1] 13 BINARY.SIZE[2] 17)
a2 OK FETCH completed"
}

# Identity encodings go as stored; text decoded from base64 gets CRLF
# line ends (RFC 3516 6), and BINARY.SIZE counts them.
testIdentityAndTextLineEnds() {
	fetch_session "FETCH 1 (BINARY.PEEK[5.1] BINARY.SIZE[6])" \
	    "FETCH 1 BINARY.PEEK[6]"
	assertResp a1 "* 1 FETCH (BINARY[5.1] {5}
inner BINARY.SIZE[6] 14)
a1 OK FETCH completed"
	assertEquals "CRLF line ends" \
	    "$(printf '* 1 FETCH (BINARY[6] {14}\r\nline1\r\nline2\r\n)\r\n')" \
	    "$(LC_ALL=C sed -n '/^\* 1 FETCH (BINARY\[6\]/,/^)/p' "$RAW")"
}

# A part with NUL goes out as a literal8 (RFC 3516 4.3), its bytes exact.
testNulIsLiteral8() {
	fetch_session "FETCH 1 (BINARY.PEEK[3])" "FETCH 1 (BINARY.SIZE[3])"
	assertEquals "literal8" \
	    "$(printf '* 1 FETCH (BINARY[3] ~{4}\r\n\0\1\2\377)\r\n' |
	    od -An -tx1)" \
	    "$(LC_ALL=C sed -n '/^\* 1 FETCH (BINARY\[3\]/,/^a1 /p' "$RAW" |
	    LC_ALL=C sed '$d' | od -An -tx1)"
	assertResp a2 "* 1 FETCH (BINARY.SIZE[3] 4)
a2 OK FETCH completed"
}

testPartial() {
	fetch_session "FETCH 1 (BINARY.PEEK[1]<7.5>)" \
	    "FETCH 1 (BINARY.PEEK[1]<20.5> BINARY.PEEK[2]<3.2>)" \
	    "FETCH 1 (BINARY.SIZE[1]<0.5>)" "FETCH 1 (BINARY.PEEK[1]<0.0>)"
	assertResp a1 "* 1 FETCH (BINARY[1]<7> {5}
world)
a1 OK FETCH completed"
	assertResp a2 "* 1 FETCH (BINARY[1]<20> {0}
 BINARY[2]<3> {2}
é)
a2 OK FETCH completed"
	assertResp a3 "a3 BAD Invalid FETCH attributes"
	assertResp a4 "a4 BAD Invalid FETCH attributes"
}

# RFC 3516 4.3: an encoding the server cannot undo fails the request
# with NO [UNKNOWN-CTE], for BINARY and BINARY.SIZE, and nothing of the
# FETCH is answered.
testUnknownCte() {
	fetch_session "FETCH 1 (BINARY.PEEK[4])" \
	    "FETCH 1 (FLAGS BINARY.SIZE[4])" "FETCH 1 (BINARY[4])" \
	    "FETCH 1 (FLAGS)"
	assertResp a1 "a1 NO [UNKNOWN-CTE] Cannot decode the Content-Transfer-Encoding of a part"
	assertResp a2 "a2 NO [UNKNOWN-CTE] Cannot decode the Content-Transfer-Encoding of a part"
	assertResp a3 "a3 NO [UNKNOWN-CTE] Cannot decode the Content-Transfer-Encoding of a part"
	assertResp a4 "* 1 FETCH (FLAGS (\\Recent))
a4 OK FETCH completed"
}

# RFC 9051 6.4.5: BINARY is for leaf parts only; a multipart or message
# part is refused (NO: the grammar allows it, the message does not).
# A section that is not part numbers is BAD. No such part is empty, as
# for BODY.
testSections() {
	fetch_session "FETCH 1 (BINARY.PEEK[5])" "FETCH 1 (BINARY.SIZE[7])" \
	    "FETCH 1 (BINARY.PEEK[1.MIME])" "FETCH 1 (BINARY.PEEK[TEXT])" \
	    "FETCH 1 (BINARY.PEEK[9])" "FETCH 1 BINARY.PEEK[0]" \
	    "FETCH 1 BINARY.SIZE"
	assertResp a1 "a1 NO BINARY of a multipart or message part"
	assertResp a2 "a2 NO BINARY of a multipart or message part"
	assertResp a3 "a3 BAD Invalid FETCH attributes"
	assertResp a4 "a4 BAD Invalid FETCH attributes"
	assertResp a5 "* 1 FETCH (BINARY[9] {0}
)
a5 OK FETCH completed"
	assertResp a6 "a6 BAD Invalid FETCH attributes"
	assertResp a7 "a7 BAD Invalid FETCH attributes"
}

# Part 1 of a message that is not multipart is its body, decoded by the
# message's own Content-Transfer-Encoding; 7.1 is the body of the
# message/rfc822 part 7.
testSinglePartAndInnerMessage() {
	{
		echo "p1 APPEND INBOX $(litp 'Subject: one
Content-Type: application/octet-stream
Content-Transfer-Encoding: base64

aGk=')"
		echo "p2 APPEND INBOX $(litp "$MSG")"
		echo "s1 SELECT INBOX"
		echo "a1 FETCH 1 (BINARY.SIZE[1] BINARY.PEEK[1])"
		echo "a2 FETCH 2 (BINARY.PEEK[7.1])"
	} | session
	assertResp a1 "* 1 FETCH (BINARY.SIZE[1] 2 BINARY[1] {2}
hi)
a1 OK FETCH completed"
	assertResp a2 "* 2 FETCH (BINARY[7.1] {4}
body)
a2 OK FETCH completed"
}

# BINARY[] is the whole message as stored; BINARY.SIZE[] its size.
testWholeMessage() {
	fetch_session "FETCH 1 (RFC822.SIZE BINARY.SIZE[])" \
	    "FETCH 1 BINARY.PEEK[]<0.4>"
	size=$(crlf_len "$MSG")
	assertResp a1 "* 1 FETCH (RFC822.SIZE $size BINARY.SIZE[] $size)
a1 OK FETCH completed"
	assertResp a2 "* 1 FETCH (BINARY[]<0> {4}
From)
a2 OK FETCH completed"
}

# BINARY sets \Seen as BODY does; BINARY.PEEK and BINARY.SIZE do not.
testSeen() {
	fetch_session "FETCH 1 (BINARY.SIZE[1])" "FETCH 1 (BINARY.PEEK[1])" \
	    "FETCH 1 (FLAGS)" "FETCH 1 (BINARY[1])" "FETCH 1 (FLAGS)"
	assertResp a3 "* 1 FETCH (FLAGS (\\Recent))
a3 OK FETCH completed"
	assertResp a4 "* 1 FETCH (BINARY[1] {13}
Hello, world! FLAGS (\\Seen \\Recent))
a4 OK FETCH completed"
	assertResp a5 "* 1 FETCH (FLAGS (\\Seen \\Recent))
a5 OK FETCH completed"
}

# RFC 3516 4.4: APPEND takes a literal8; the message keeps its bytes
# (NUL included): BINARY[] gives them back, BODY[] as RFC 3501 allows
# (NUL as 0x80, the size unchanged).
testAppendLiteral8() {
	printf 'a1 APPEND INBOX ~{19}\r\nSubject: x\r\n\r\nA\0B\r\n\r\na2 SELECT INBOX\r\na3 FETCH 1 (RFC822.SIZE BINARY.PEEK[])\r\na4 FETCH 1 BODY.PEEK[]\r\n' |
	    session_raw
	assertTrue "APPEND: $(resp a1)" "resp a1 | grep -q '^a1 OK \[APPENDUID '"
	assertEquals "BINARY[]" \
	    "$(printf '* 1 FETCH (RFC822.SIZE 19 BINARY[] ~{19}\r\nSubject: x\r\n\r\nA\0B\r\n)\r\n' |
	    od -An -tx1)" \
	    "$(LC_ALL=C sed -n '/^\* 1 FETCH (RFC822.SIZE/,/^a3 /p' "$RAW" |
	    LC_ALL=C sed '$d' | od -An -tx1)"
	assertEquals "BODY[]" \
	    "$(printf '* 1 FETCH (BODY[] {19}\r\nSubject: x\r\n\r\nA\200B\r\n)\r\n' |
	    od -An -tx1)" \
	    "$(LC_ALL=C sed -n '/^\* 1 FETCH (BODY\[\]/,/^a4 /p' "$RAW" |
	    LC_ALL=C sed '$d' | od -An -tx1)"
}

. "$SHUNIT2"
