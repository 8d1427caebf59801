#!/bin/bash
# t/auth.sh: password-file mode (-p): the not authenticated state, LOGIN,
# AUTHENTICATE PLAIN (RFC 3501 6.2, RFC 4616), the log lines; and root:
# refused without -p, and taking the uid and gid of the password file.
. "$(dirname "$0")/lib.sh"

M1=$(mkmsg 1)

# mkhash PASSWORD SALT: a SHA-512 crypt(3) hash.
mkhash() {
	if command -v openssl >/dev/null 2>&1; then
		openssl passwd -6 -salt "$2" "$1"
	elif command -v mkpasswd >/dev/null 2>&1; then
		mkpasswd -m sha-512 -S "$2" "$1"
	else
		perl -e 'print crypt($ARGV[0], "\$6\$$ARGV[1]\$"), "\n"' "$1" "$2"
	fi
}

# b64 TEXT: base64 of TEXT with \0 for NUL (printf %b).
b64() {
	printf '%b' "$1" | base64 | tr -d '\n'
}

# A password file for user testu (password "secret") and user other
# (password "other pw"), stores $STORE and $STORE.other; uid and gid
# fields as given ($1 $2), empty by default.
mkpasswdfile() {
	PW=$STORE.passwd
	mkdir -p "$STORE.other"
	[ -n "$T_OWNER" ] && chown "$T_OWNER" "$STORE.other"
	{
		echo "testu:$(mkhash secret saltsalt):${1:-}:${2:-}:$STORE"
		echo "other:$(mkhash "other pw" pepper12):${1:-}:${2:-}:$STORE.other"
	} >"$PW"
	chmod 600 "$PW"
	[ -n "$T_OWNER" ] && chown "$T_OWNER" "$PW"
	return 0
}

setUp() {
	mkstore
	mkpasswdfile
}

testGreetingAndCapability() {
	session -p "$PW" <<EOF
a1 CAPABILITY
a2 LOGOUT
EOF
	assertOut "$GREET_OK
* CAPABILITY IMAP4rev1 LITERAL+ AUTH=PLAIN
a1 OK CAPABILITY completed
* BYE imapd logging out
a2 OK LOGOUT completed"
	assertEquals 0 "$RC"
}

testNotAuthenticatedState() {
	session -p "$PW" <<EOF
a1 SELECT INBOX
a2 EXAMINE INBOX
a3 CREATE foo
a4 DELETE foo
a5 RENAME foo bar
a6 SUBSCRIBE foo
a7 UNSUBSCRIBE foo
a8 LIST "" *
a9 LSUB "" *
b1 STATUS INBOX (MESSAGES)
b2 APPEND INBOX $(litp "$M1")
b3 CHECK
b4 FETCH 1 FLAGS
b5 UNSELECT
b6 NOOP
EOF
	assertOut "$GREET_OK
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
b4 BAD Not allowed in this state
b5 BAD Not allowed in this state
b6 OK NOOP completed"
}

testLogin() {
	session -p "$PW" <<EOF
a1 LOGIN testu secret
a2 CAPABILITY
a3 APPEND INBOX $(lit "$M1")
a4 SELECT INBOX
a5 LOGIN testu secret
a6 LOGOUT
EOF
	assertResp a1 "a1 OK LOGIN completed"
	assertResp a2 "* CAPABILITY IMAP4rev1 LITERAL+ UIDPLUS UNSELECT IDLE ENABLE CONDSTORE QRESYNC UTF8=ACCEPT
a2 OK CAPABILITY completed"
	assertHas "a4 OK [READ-WRITE] SELECT completed"
	assertResp a5 "a5 BAD Not allowed in this state"
	# The message went to the store named in the password file.
	session <<EOF
a1 STATUS INBOX (MESSAGES)
EOF
	assertResp a1 "* STATUS INBOX (MESSAGES 1)
a1 OK STATUS completed"
}

testLoginStringForms() {
	session -p "$PW" <<EOF
a1 LOGIN "other" {8}
other pw
a2 LIST "" INBOX
EOF
	assertResp a1 "+ Ready for literal data
a1 OK LOGIN completed"
	assertResp a2 '* LIST () "/" INBOX
a2 OK LIST completed'
	assertTrue "other's store was used" "[ -n \"\$(ls -A '$STORE.other')\" ]"
}

# Two failures per session: the third ends it (t/login.sh).
testLoginFailures() {
	session -p "$PW" <<EOF
a1 LOGIN testu wrong
a2 LOGIN nosuch secret
a6 SELECT INBOX
a7 LOGIN testu secret
EOF
	assertOut "$GREET_OK
a1 NO [AUTHENTICATIONFAILED] Authentication failed
a2 NO [AUTHENTICATIONFAILED] Authentication failed
a6 BAD Not allowed in this state
a7 OK LOGIN completed"
	assertFalse "no password in the log" "grep -q secret '$ERR'"
	session -p "$PW" <<EOF
a3 LOGIN testu ""
a4 LOGIN TESTU secret
a7 LOGIN testu secret
EOF
	assertOut "$GREET_OK
a3 NO [AUTHENTICATIONFAILED] Authentication failed
a4 NO [AUTHENTICATIONFAILED] Authentication failed
a7 OK LOGIN completed"
	session -p "$PW" <<EOF
a5 LOGIN other secret
a7 LOGIN testu secret
EOF
	assertOut "$GREET_OK
a5 NO [AUTHENTICATIONFAILED] Authentication failed
a7 OK LOGIN completed"
}

testLoginLogLine() {
	printf 'a1 LOGIN testu wrong\r\na2 LOGIN testu secret\r\na3 LOGOUT\r\n' |
	    TCPREMOTEIP=192.0.2.7 session_raw -p "$PW"
	assertHas "a2 OK LOGIN completed"
	assertTrue "log names the user and address: $(cat "$ERR")" \
	    "grep testu '$ERR' | grep -q 192.0.2.7"
	assertTrue "at least 3 log lines (failure, login, logout)" \
	    "[ \$(grep -c . '$ERR') -ge 3 ]"
	assertFalse "no password in the log" "grep -q -e secret -e wrong '$ERR'"
}

testAuthenticatePlain() {
	session -p "$PW" <<EOF
a1 AUTHENTICATE PLAIN
$(b64 '\0testu\0secret')
a2 SELECT INBOX
EOF
	assertResp a1 "+ 
a1 OK AUTHENTICATE completed"
	assertHas "a2 OK [READ-WRITE] SELECT completed"
}

testAuthenticatePlainAuthzid() {
	session -p "$PW" <<EOF
a1 authenticate plain
$(b64 'testu\0testu\0secret')
EOF
	assertResp a1 "+ 
a1 OK AUTHENTICATE completed"
}

testAuthenticatePlainFailures() {
	session -p "$PW" <<EOF
a1 AUTHENTICATE PLAIN
$(b64 '\0testu\0wrong')
a2 AUTHENTICATE PLAIN
*
a3 AUTHENTICATE PLAIN
!!!notbase64
a4 AUTHENTICATE PLAIN
$(b64 'other\0testu\0secret')
a5 AUTHENTICATE CRAM-MD5
a6 AUTHENTICATE PLAIN
$(b64 'testu\0secret')
a7 SELECT INBOX
EOF
	assertResp a1 "+ 
a1 NO [AUTHENTICATIONFAILED] Authentication failed"
	assertResp a2 "+ 
a2 BAD Authentication cancelled"
	assertTrue "bad base64: $(resp a3)" "resp a3 | grep -q '^a3 BAD '"
	assertTrue "authzid of another user: $(resp a4)" \
	    "resp a4 | grep -q '^a4 NO '"
	assertTrue "unknown mechanism: $(resp a5)" \
	    "resp a5 | grep -Eq '^a5 (NO|BAD) '"
	assertTrue "malformed PLAIN message: $(resp a6)" \
	    "resp a6 | grep -Eq '^a6 (NO|BAD) '"
	assertResp a7 "a7 BAD Not allowed in this state"
}

# The AUTHENTICATE response line has a limit (2048 bytes): a longer one is
# read to its end and refused, and the next command is understood.
testAuthenticateLineLimit() {
	session -p "$PW" <<EOF
a1 AUTHENTICATE PLAIN
$(head -c 3000 /dev/zero | tr '\0' A)
a2 NOOP
EOF
	assertResp a1 "+ 
a1 BAD Authentication line too long"
	assertResp a2 "a2 OK NOOP completed"
	assertEquals "every line is the greeting or a1's or a2's" 0 \
	    "$(grep -cv '^\* OK \[CAPABILITY\|^+ \|^a[12] ' "$OUT")"
}

# yescrypt (Debian's default) and bcrypt hashes work as well: imapd leaves
# the hash to crypt(3). Made with perl's crypt(), which is crypt(3).
testYescryptAndBcrypt() {
	y=$(perl -e 'print crypt("y pass", q{$y$j9T$F5Jx5fExrKuPp53xLKQ..1$})')
	b=$(perl -e 'print crypt("b pass", q{$2b$05$abcdefghijklmnopqrstuu})')
	case $y$b in
	'$y$'*'$2b$'*) ;;
	*) startSkipping ;;	# this libc's crypt(3) lacks one of them
	esac
	printf 'ya:%s:::%s\nbc:%s:::%s\n' "$y" "$STORE" "$b" "$STORE" >"$PW"
	session -p "$PW" <<EOF
a1 LOGIN ya "b pass"
a2 LOGIN bc "y pass"
a3 LOGIN ya "y pass"
EOF
	assertResp a1 "a1 NO [AUTHENTICATIONFAILED] Authentication failed"
	assertResp a2 "a2 NO [AUTHENTICATIONFAILED] Authentication failed"
	assertResp a3 "a3 OK LOGIN completed"
	session -p "$PW" <<EOF
a1 LOGIN bc "b pass"
EOF
	assertResp a1 "a1 OK LOGIN completed"
}

# Root: a PREAUTH session must never be root's.
testRootRefusedWithoutPasswordFile() {
	if [ "$(id -u)" -ne 0 ]; then
		startSkipping
	fi
	printf 'a1 NOOP\r\n' | timeout -k 2 "$T_LIMIT" $T_VG "$IMAPD" -s -d "$STORE" \
	    >"$T_TMP/out" 2>"$T_TMP/err"
	rc=$?
	assertEquals "exit status" 100 "$rc"
	assertFalse "no PREAUTH: $(cat "$T_TMP/out")" \
	    "grep -q PREAUTH '$T_TMP/out'"
	assertFalse "no NOOP answer" "grep -q '^a1 OK' '$T_TMP/out'"
}

# Root with -p takes the uid and gid of the password file before it opens
# the store: every file it creates belongs to that user.
testRootTakesUidGid() {
	if [ "$(id -u)" -ne 0 ] || [ -z "$T_OWNER" ]; then
		startSkipping
	fi
	mkpasswdfile "${T_OWNER%:*}" "${T_OWNER#*:}"
	chown root:root "$PW"
	printf 'a1 LOGIN testu secret\r\na2 CREATE foo\r\na3 APPEND INBOX {5+}\r\nHello\r\na4 LOGOUT\r\n' |
	    timeout -k 2 "$T_LIMIT" $T_VG "$IMAPD" -s -p "$PW" >"$T_TMP/out" \
	    2>"$T_TMP/err"
	rc=$?
	tr -d '\r' <"$T_TMP/out" >"$T_TMP/out.lf"
	assertEquals "exit status" 0 "$rc"
	assertTrue "login: $(cat "$T_TMP/out.lf")" \
	    "grep -q '^a1 OK LOGIN completed$' '$T_TMP/out.lf'"
	assertTrue "create" "grep -q '^a2 OK CREATE completed$' '$T_TMP/out.lf'"
	assertTrue "append" "grep -q '^a3 OK \\[APPENDUID ' '$T_TMP/out.lf'"
	assertEquals "files not owned by the user" "" \
	    "$(find "$STORE" ! -user "${T_OWNER%:*}" -print)"
}

. "${SHUNIT2:-/usr/share/shunit2/shunit2}"
