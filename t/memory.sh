#!/bin/bash
# t/memory.sh: what a client sends cannot make imapd hold much more than
# one APPEND limit, and before login no more than 64 KiB for a command:
# the whole of one command (text and literals) is capped, and an APPEND of
# N bytes peaks at about N. The APPEND limit (-l) is the size stored, once
# LF line ends are CRLF. The peak RSS of imapd comes from t/maxrss and is
# compared with that of a small session of the same build, so the figures
# hold under the sanitizers too.
. "$(dirname "$0")/lib.sh"

MAXRSS=$T_TOP/t/maxrss
RSS=
BASE=

# rss_session [ARGS...] < bytes: as session_raw, and the peak RSS of
# imapd in KiB in RSS.
rss_session() {
	OUT=$T_TMP/out
	RAW=$T_TMP/raw
	ERR=$T_TMP/err
	if [ "${1:-}" != "-p" ]; then
		set -- -d "$STORE" "$@"
	fi
	rm -f "$T_TMP/rss"
	timeout -k 2 "$T_LIMIT" "$MAXRSS" "$T_TMP/rss" $T_RUNAS "$IMAPD" -s \
	    "$@" >"$RAW" 2>"$ERR"
	RC=$?
	RSS=$(cat "$T_TMP/rss" 2>/dev/null)
	tr -d '\r' <"$RAW" >"$OUT"
	return 0
}

# baseline [ARGS...]: into BASE, the peak RSS (KiB) of a session that
# says NOOP (with -p) or appends a small message, in a store of its own.
baseline() {
	if [ "${1:-}" = "-p" ]; then
		printf 'a1 NOOP\r\na2 LOGOUT\r\n' | rss_session "$@"
	else
		printf 'a1 APPEND INBOX {11+}\r\nSubject: x\n\r\na2 LOGOUT\r\n' |
		    rss_session "$@"
		mkstore
	fi
	BASE=$RSS
}

# assertRss KIB: the last session peaked at most KIB above BASE.
assertRss() {
	assertTrue "peak RSS ${RSS:-?} KiB, baseline ${BASE:-?} KiB, allowed +$1" \
	    "[ -n '$RSS' ] && [ -n '$BASE' ] && [ $RSS -le $((BASE + $1)) ]"
}

# mkdata FILE N: N bytes of 63 x and LF.
mkdata() {
	yes xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx |
	    head -c "$2" >"$1"
}

# A password file; no login is needed, only the not authenticated state.
mkpw() {
	PW=$STORE.passwd
	echo "testu:*:::$STORE" >"$PW"
	[ -n "$T_OWNER" ] && chown "$T_OWNER" "$PW"
	return 0
}

# Before login, 200 non-synchronizing literals of 64 KiB in one command
# (12.8 MB) end the session at once: the whole command may hold 64 KiB.
testPreLoginLiterals() {
	mkpw
	baseline -p "$PW"
	mkdata "$T_TMP/lit" 65536
	{
		printf 'a1 LOGIN'
		for i in $(seq 200); do
			printf ' {65536+}\r\n'
			cat "$T_TMP/lit"
		done
		printf '\r\na2 NOOP\r\n'
	} | rss_session -p "$PW"
	assertOut "$GREET_OK
* BYE [TOOBIG] Command too long"
	assertRss 2048
}

# Small literals add up to the same cap; a synchronizing one that would
# pass it is refused before the client sends it, and the session goes on.
testPreLoginTotal() {
	mkpw
	{
		printf 'a1 LOGIN {40000}\r\n'
		head -c 40000 /dev/zero | tr '\0' u
		printf ' {40000}\r\n'
		printf 'a2 NOOP\r\n'
		printf 'a3 LOGIN'
		for i in $(seq 100); do
			printf ' {1000+}\r\n'
			head -c 1000 /dev/zero | tr '\0' p
		done
		printf '\r\na4 NOOP\r\n'
	} | session_raw -p "$PW"
	assertOut "$GREET_OK
+ Ready for literal data
a1 BAD Command too long
a2 OK NOOP completed
* BYE [TOOBIG] Command too long"
}

# After login, APPEND of four literals as large as the limit: refused at
# the second, and the process holds one limit, not four.
testAppendManyLiterals() {
	baseline -l 4000000
	mkdata "$T_TMP/lit" 4000000
	{
		printf 'a1 APPEND INBOX'
		for i in 1 2 3 4; do
			printf ' {4000000+}\r\n'
			cat "$T_TMP/lit"
		done
		printf '\r\na2 NOOP\r\n'
	} | rss_session -l 4000000
	assertOut "$(greet_limit 4000000)
* BYE [TOOBIG] Command too long"
	assertRss 6000
}

# The same with synchronizing literals: NO [TOOBIG] instead of the second
# continuation, and the session goes on.
testAppendSecondLiteralSynchronizing() {
	baseline -l 4000000
	mkdata "$T_TMP/lit" 4000000
	{
		printf 'a1 APPEND INBOX {4000000}\r\n'
		cat "$T_TMP/lit"
		printf ' {4000000}\r\n'
		printf 'a2 STATUS INBOX (MESSAGES)\r\n'
	} | rss_session -l 4000000
	assertOut "$(greet_limit 4000000)
+ Ready for literal data
a1 NO [TOOBIG] Literal too big
* STATUS INBOX (MESSAGES 0)
a2 OK STATUS completed"
	assertRss 6000
}

# Other commands hold at most 64 KiB of literals besides their text.
testSearchLiterals() {
	lit=$(head -c 60000 /dev/zero | tr '\0' s)
	{
		printf 'a1 SEARCH'
		for i in 1 2 3; do
			printf ' TEXT {60000+}\r\n%s' "$lit"
		done
		printf '\r\na2 NOOP\r\n'
	} | session_raw
	assertOut "$GREET_PREAUTH
* BYE [TOOBIG] Command too long"
}

# An APPEND of N bytes (LF line ends) peaks at about N: no second copy of
# the message is made to turn LF into CRLF. The 3 MiB allowed past N hold
# the sanitizers' shadow memory (N / 8) too.
testAppendPeak() {
	n=8388608
	baseline -l 9000000
	mkdata "$T_TMP/msg" $n
	{
		printf 'a1 APPEND INBOX {%s+}\r\n' $n
		cat "$T_TMP/msg"
		printf '\r\n'
	} | rss_session -l 9000000
	assertEquals "a1 OK [APPENDUID V 1] APPEND completed" \
	    "$(resp a1 | norm)"
	assertRss $((n / 1024 + 3072))
	session <<EOF
a1 SELECT INBOX
a2 FETCH 1 RFC822.SIZE
EOF
	assertResp a2 "* 1 FETCH (RFC822.SIZE $((n + n / 64)))
a2 OK FETCH completed"
}

# mklf FILE LINES: a message of 12 + 3 * LINES bytes, LINES + 2 bare LFs.
mklf() {
	{
		printf 'Subject: t\n\n'
		yes ab | head -n "$2"
	} >"$1"
}

# -l counts the bytes stored: 912 bytes with 302 LFs are 1214 once CRLF.
testAppendLimitIsStoredSize() {
	mklf "$T_TMP/big" 300
	mklf "$T_TMP/small" 200
	{
		printf 'a1 APPEND INBOX {912+}\r\n'
		cat "$T_TMP/big"
		printf '\r\na2 APPEND INBOX {612+}\r\n'
		cat "$T_TMP/small"
		printf '\r\na3 SELECT INBOX\r\na4 FETCH 1 RFC822.SIZE\r\n'
	} | session_raw -l 1000
	assertResp a1 "a1 NO [TOOBIG] Message too big"
	assertRespN a2 "a2 OK [APPENDUID V 1] APPEND completed"
	assertResp a4 "* 1 FETCH (RFC822.SIZE 814)
a4 OK FETCH completed"
}

# The same in delivery mode: exit 65 (EX_DATAERR), nothing stored.
testDeliverLimitIsStoredSize() {
	mklf "$T_TMP/big" 300
	mklf "$T_TMP/small" 200
	run_imapd -d "$STORE" -l 1000 -D INBOX <"$T_TMP/big" >"$OUT" 2>"$ERR"
	assertEquals "exit status, too big" 65 "$?"
	run_imapd -d "$STORE" -l 1000 -D INBOX <"$T_TMP/small" >"$OUT" \
	    2>"$ERR"
	assertEquals "exit status, fits" 0 "$?"
	session <<EOF
a1 SELECT INBOX
a2 FETCH 1:* RFC822.SIZE
EOF
	assertResp a2 "* 1 FETCH (RFC822.SIZE 814)
a2 OK FETCH completed"
}

. "${SHUNIT2:-/usr/share/shunit2/shunit2}"
