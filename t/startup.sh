#!/bin/bash
# t/startup.sh: a fatal error before the session starts is never silent:
# the client gets "* BYE" with the reason, and stderr gets it too unless
# stderr is the client's socket (the same file as fd 0 or 1). Without -s,
# where imapd logs to syslog.
. "$(dirname "$0")/lib.sh"

# start ARGS... < input: imapd without -s, as the test user unless
# T_AS_ROOT is set; stdout in OUT, stderr in ERR, exit status in RC.
start() {
	if [ -n "${T_AS_ROOT:-}" ]; then
		timeout -k 2 "$T_LIMIT" "$IMAPD" "$@" >"$OUT" 2>"$ERR"
	else
		timeout -k 2 "$T_LIMIT" $T_RUNAS "$IMAPD" "$@" >"$OUT" 2>"$ERR"
	fi
	RC=$?
}

# A store directory that cannot be made: its parent is a file.
bad_store() {
	: >"$STORE/file"
	[ -n "$T_OWNER" ] && chown "$T_OWNER" "$STORE/file"
	echo "$STORE/file/store"
}

testRootWithoutPassword() {
	if [ "$(id -u)" -ne 0 ]; then
		startSkipping
	fi
	T_AS_ROOT=1 start -d "$STORE" </dev/null
	assertEquals "exit status" 100 "$RC"
	assertEquals "BYE" \
	    "* BYE imapd cannot start: refusing to run as root without -p" \
	    "$(tr -d '\r' <"$OUT")"
	assertEquals "stderr" "imapd: refusing to run as root without -p" \
	    "$(cat "$ERR")"
}

testStoreCannotOpen() {
	dir=$(bad_store)
	start -d "$dir" </dev/null
	assertEquals "exit status" 111 "$RC"
	BYE='^\* BYE imapd cannot start: cannot open the store .*/store: '
	assertTrue "BYE: $(cat "$OUT")" "grep -q '$BYE' '$OUT'"
	assertEquals "one line" 1 "$(wc -l <"$OUT")"
	assertTrue "stderr: $(cat "$ERR")" \
	    "grep -q '^imapd: cannot open the store .*/store: ' '$ERR'"
}

# inetd: stderr is the socket, so the reason is in the BYE only.
testStderrIsTheClient() {
	dir=$(bad_store)
	timeout -k 2 "$T_LIMIT" $T_RUNAS "$IMAPD" -d "$dir" </dev/null \
	    >"$OUT" 2>&1
	RC=$?
	assertEquals "exit status" 111 "$RC"
	assertEquals "only the BYE" 1 "$(wc -l <"$OUT")"
	assertTrue "BYE: $(cat "$OUT")" \
	    "grep -q '^\* BYE imapd cannot start' '$OUT'"
}

# Delivery has no client: the reason goes to stderr, stdout stays empty.
testDeliveryStoreCannotOpen() {
	dir=$(bad_store)
	echo "Subject: x" | start -d "$dir" -D INBOX
	assertEquals "exit status" 75 "$RC"
	assertEquals "stdout" "" "$(cat "$OUT")"
	assertTrue "stderr: $(cat "$ERR")" \
	    "grep -q '^imapd: cannot open the store ' '$ERR'"
}

. "${SHUNIT2:-/usr/share/shunit2/shunit2}"
