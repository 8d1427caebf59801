#!/bin/bash
# t/numbers.sh: numbers and bounds a hostile client controls: 4294967295
# is a number, not "*"; a client that never reads its answers cannot keep
# imapd alive; SEARCH decodes a message once whatever the number of keys;
# an over-long keyword and a search string holding a NUL get clear replies.
. "$(dirname "$0")/lib.sh"

M1=$(mkmsg 1)
M2=$(mkmsg 2)
M3=$(mkmsg 3)

# The never-reading client of testWriteDeadline starts first, so the
# minute it must wait passes while the other tests run.
oneTimeSetUp() {
	mkstore
	WD=$STORE
	echo "u:x::: $WD" >"$WD.passwd"
	[ -n "$T_OWNER" ] && chown "$T_OWNER" "$WD.passwd"
	# Replies to these fill any pipe many times over.
	i=0
	while [ $i -lt 3000 ]; do
		printf 'a%d CAPABILITY\r\n' $i
		i=$((i + 1))
	done >"$WD.in"
	mkfifo "$WD.fifo"
	# A reader that never reads: the shell holds the fifo open.
	exec {WD_FD}<>"$WD.fifo"
	WD_START=$(date +%s)
	timeout -k 2 100 $T_RUNAS $T_VG "$IMAPD" -s -p "$WD.passwd" \
	    <"$WD.in" >"$WD.fifo" 2>"$WD.err" &
	WD_PID=$!
}

three() {
	cat <<EOF
a1 APPEND INBOX $(lit "$M1")
a2 APPEND INBOX $(lit "$M2")
a3 APPEND INBOX $(lit "$M3")
a4 SELECT INBOX
EOF
}

# RFC 3501 section 9: only "*" is the largest number in use; 4294967295 is
# a UID no message has, and a sequence number past the last message.
testUidMaxIsNotStar() {
	{
		three
		cat <<EOF
b1 UID STORE 4294967295 +FLAGS (\Deleted)
b2 UID EXPUNGE 4294967295
b3 UID FETCH 1:* UID
b4 FETCH 4294967295 UID
b5 FETCH 1:4294967295 UID
b6 UID FETCH 4294967295 UID
b7 UID FETCH 4294967295:* UID
b8 SEARCH 4294967295
b9 UID SEARCH UID 4:4294967295
c1 UID SEARCH UID 4:*
c2 UID SEARCH UID 4294967295,2
EOF
	} | session
	assertResp b1 "b1 OK UID STORE completed"
	assertResp b2 "b2 OK UID EXPUNGE completed"
	assertResp b3 "* 1 FETCH (UID 1)
* 2 FETCH (UID 2)
* 3 FETCH (UID 3)
b3 OK UID FETCH completed"
	assertResp b4 "b4 BAD Invalid sequence set"
	assertResp b5 "b5 BAD Invalid sequence set"
	assertResp b6 "b6 OK UID FETCH completed"
	# RFC 3501 section 9, seq-range: n:* includes the last UID.
	assertResp b7 "* 3 FETCH (UID 3)
b7 OK UID FETCH completed"
	assertResp b8 "* SEARCH
b8 OK SEARCH completed"
	assertResp b9 "* SEARCH
b9 OK UID SEARCH completed"
	assertResp c1 "* SEARCH 3
c1 OK UID SEARCH completed"
	assertResp c2 "* SEARCH 2
c2 OK UID SEARCH completed"
}

# A big base64 message: SEARCH with many BODY and TEXT keys decodes it
# once, not once per key.
testSearchDecodesOnce() {
	big=$STORE.big
	{
		printf 'From: a@example.org\nSubject: big\nMIME-Version: 1.0\n'
		printf 'Content-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: base64\n\n'
		i=0
		while [ $i -lt 30000 ]; do
			echo "line $i of the big message, needle here"
			i=$((i + 1))
		done | base64
	} >"$big"
	keys=
	i=0
	while [ $i -lt 512 ]; do
		keys="$keys BODY needle TEXT \"LINE 2999\""
		i=$((i + 1))
	done
	{
		printf 'a1 APPEND INBOX {%s}\n' "$(t_crlf <"$big" | head -c -2 |
		    wc -c | tr -d ' ')"
		head -c -1 "$big"
		printf '\na2 SELECT INBOX\n'
		echo "s1 SEARCH$keys"
		echo "s2 SEARCH$keys BODY absent"
	} | t_crlf >"$STORE.script"
	start=$(date +%s%N)
	session_raw <"$STORE.script"
	ms=$((($(date +%s%N) - start) / 1000000))
	assertResp s1 "* SEARCH 1
s1 OK SEARCH completed"
	assertResp s2 "* SEARCH
s2 OK SEARCH completed"
	assertTrue "1024 keys on a $(wc -c <"$big") byte message took $ms ms" \
	    "[ $ms -lt 4000 ]"
}

# An over-long keyword is refused as such, not as a mailbox name.
testKeywordTooLong() {
	k1000=$(head -c 1000 /dev/zero | tr '\0' k)
	k1001=${k1000}k
	session <<EOF
a1 APPEND INBOX ($k1001) $(litp "$M1")
a2 APPEND INBOX ($k1000) $(litp "$M1")
a3 SELECT INBOX
a4 STORE 1 +FLAGS ($k1001)
a5 FETCH 1 FLAGS
EOF
	assertResp a1 "a1 NO [LIMIT] Keyword longer than 1000 bytes"
	assertEquals "a2 OK [APPENDUID V 1] APPEND completed" \
	    "$(resp a2 | norm)"
	assertResp a4 "a4 NO [LIMIT] Keyword longer than 1000 bytes"
	assertResp a5 "* 1 FETCH (FLAGS (\\Recent $k1000))
a5 OK FETCH completed"
}

# RFC 3501 section 9: a literal is CHAR8, no NUL; a search string with a
# NUL is refused, not cut at the NUL (an empty string matches all).
testSearchNul() {
	{
		three | t_crlf
		printf 's1 SEARCH BODY {3+}\r\n\000zz\r\n'
		printf 's2 SEARCH TEXT {4+}\r\nB\000zz\r\n'
		printf 's3 SEARCH SUBJECT {3+}\r\n\000zz\r\n'
		printf 's4 SEARCH HEADER {4+}\r\nTo\000x "bob"\r\n'
		printf 's5 SEARCH HEADER Subject {3+}\r\n\000zz\r\n'
		printf 's6 SEARCH BODY {1+}\r\n\000\r\n'
		printf 's7 SEARCH BODY "message 2"\r\n'
	} | session_raw
	for t in s1 s2 s3 s4 s5 s6; do
		assertResp $t "$t BAD Invalid search criteria"
	done
	assertResp s7 "* SEARCH 2
s7 OK SEARCH completed"
}

# A client that never reads what imapd writes: before login, the process
# ends when the minute to log in is over (counted from its start), even
# with its output blocked. Started by oneTimeSetUp; last, so it waits
# least.
testWriteDeadline() {
	end=$((WD_START + 80))
	while t_alive "$WD_PID" && [ "$(date +%s)" -lt "$end" ]; do
		sleep 0.2
	done
	took=$(($(date +%s) - WD_START))
	kill -9 "$WD_PID" 2>/dev/null
	wait "$WD_PID"
	rc=$?
	exec {WD_FD}<&-
	assertTrue "ended after $took s (rc $rc), 60 s wanted" \
	    "[ $took -ge 55 ] && [ $took -le 75 ]"
	assertEquals "exit status" 111 "$rc"
	assertTrue "logged: $(cat "$WD.err")" \
	    "grep -q 'output timed out' '$WD.err'"
}

. "${SHUNIT2:-/usr/share/shunit2/shunit2}"
