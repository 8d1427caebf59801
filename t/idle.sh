#!/bin/bash
# t/idle.sh: IDLE (RFC 2177, RFC 9051 6.3.13). An idling session hears of
# another process's append, flag change, expunge and delivery (-D) with
# no command of its own; DONE gets the tagged OK, IDLE may be issued
# again, a line other than DONE ends the IDLE with BAD and the session
# goes on; IDLE before login is BAD. The bound on arrival is generous
# (T_WAIT=2 seconds): the time itself is measured by hand, not here.
. "$(dirname "$0")/lib.sh"

expect_resp() {	# EXPECTED [WHAT]: the last step's lines are exactly these
	assertEquals "${2:-response}" "$1" "$R"
}

# idle NAME TAG: start IDLE and wait for the continuation.
idle() {
	sess_send "$1" "$2 IDLE"
	t_wait "$1" '^\+ '
}

# arrives NAME LINE: LINE comes within the generous bound, with nothing
# tagged before it.
arrives() {
	# Each special character in a bracket, a backslash as any one.
	t_re=$(printf '%s' "$2" | sed 's/[]*().$^+?{}|[]/[&]/g; s/\\/./g')
	T_WAIT=2 t_wait "$1" "^$t_re\r"
	assertTrue "$1 got '$2': $R" $?
	assertFalse "$1: nothing tagged: $R" \
	    "printf '%s\n' \"\$R\" | grep -q '^[a-z][0-9]* '"
}

# done NAME TAG: DONE, and the tagged reply.
done_idle() {
	sess_send "$1" "DONE"
	t_wait "$1" "^$2 "
}

# Two sessions on INBOX: A idles, B changes.
open_two() {
	put "$1"
	sess_open A
	sess_open B
	sess_cmd A a1 "SELECT INBOX"
	sess_cmd B b1 "SELECT INBOX"
}

testCapability() {
	session <<EOF
a1 CAPABILITY
EOF
	assertTrue "IDLE in CAPABILITY" "grep -q '^\\* CAPABILITY .* IDLE' '$OUT'"
}

testIdleDoneEmpty() {
	open_two 1
	idle A a2
	expect_resp "+ idling"
	done_idle A a2
	expect_resp "a2 OK IDLE completed"
	sess_cmd A a3 "NOOP"
	expect_resp "a3 OK NOOP completed" "A goes on"
}

testIdleSeesAppend() {
	open_two 1
	idle A a2
	expect_resp "+ idling"
	sess_cmd B b2 "APPEND INBOX $(litp "$(mkmsg 2)")"
	arrives A "* 2 EXISTS"
	done_idle A a2
	# \Recent goes to A or to B, whichever looks first (RFC 3501 2.3.2).
	assertTrue "RECENT, then OK: $R" \
	    "printf '%s\n' \"\$R\" | grep -qx '\* [12] RECENT'"
	assertEquals "a2 OK IDLE completed" "$(printf '%s\n' "$R" | tail -n 1)"
	# Told once: not again at the next command.
	sess_cmd A a3 "NOOP"
	expect_resp "a3 OK NOOP completed"
}

testIdleSeesFlagChange() {
	open_two 2
	idle A a2
	sess_cmd B b2 "STORE 2 +FLAGS.SILENT (\\Flagged)"
	arrives A "* 2 FETCH (FLAGS (\\Flagged \\Recent))"
	done_idle A a2
	expect_resp "a2 OK IDLE completed"
}

testIdleSeesExpunge() {
	open_two 3
	idle A a2
	sess_cmd B b2 "STORE 2 +FLAGS.SILENT (\\Deleted)"
	sess_cmd B b3 "EXPUNGE"
	# IDLE is a command during which EXPUNGE may be sent (RFC 3501 7.4.1).
	arrives A "* 2 EXPUNGE"
	done_idle A a2
	sess_cmd A a3 "FETCH 1:* (UID)"
	expect_resp "* 1 FETCH (UID 1)
* 2 FETCH (UID 3)
a3 OK FETCH completed"
}

testIdleSeesDelivery() {
	open_two 1
	idle A a2
	printf '%s\n' "$(mkmsg 2)" | run_imapd -d "$STORE" -D INBOX
	assertEquals "delivery" 0 $?
	arrives A "* 2 EXISTS"
	done_idle A a2
	sess_cmd A a3 "FETCH 2 (FLAGS)"
	expect_resp "* 2 FETCH (FLAGS (\\Recent))
a3 OK FETCH completed" "the idling session claimed \\Recent"
}

# What was pending when IDLE starts comes with it (RFC 2177's A004), and
# after DONE the session may IDLE again and hear more.
testReIdle() {
	open_two 2
	idle A a2
	done_idle A a2
	sess_cmd B b2 "STORE 1 +FLAGS.SILENT (\\Deleted)"
	sess_cmd B b3 "EXPUNGE"
	idle A a3
	expect_resp "* 1 EXPUNGE
+ idling" "pending expunge before the continuation"
	# A delivery: the idler is the first session to look, so it gets
	# \Recent (RFC 3501 2.3.2).
	printf '%s\n' "$(mkmsg 3)" | run_imapd -d "$STORE" -D INBOX 2>/dev/null
	arrives A "* 2 EXISTS"
	done_idle A a3
	expect_resp "* 2 RECENT
a3 OK IDLE completed"
	idle A a4
	expect_resp "+ idling"
	sess_cmd B b4 "NOOP"
	sess_cmd B b5 "STORE 2 +FLAGS.SILENT (\\Seen)"
	arrives A "* 2 FETCH (FLAGS (\\Seen \\Recent))"
	done_idle A a4
	expect_resp "a4 OK IDLE completed"
}

# DONE is a keyword: any case (RFC 9051 9: strings are case-insensitive).
testDoneAnyCase() {
	open_two 1
	idle A a2
	sess_send A "done"
	t_wait A '^a2 '
	expect_resp "a2 OK IDLE completed"
}

# Anything but DONE ends the IDLE with BAD; the session goes on.
testGarbageDuringIdle() {
	open_two 1
	idle A a2
	sess_send A "a3 NOOP"
	t_wait A '^a2 '
	expect_resp "a2 BAD Expected DONE"
	sess_cmd A a4 "NOOP"
	expect_resp "a4 OK NOOP completed"
	idle A a5
	expect_resp "+ idling"
	sess_send A "DONE extra"
	t_wait A '^a5 '
	expect_resp "a5 BAD Expected DONE"
	sess_cmd A a6 "FETCH 1 (UID)"
	expect_resp "* 1 FETCH (UID 1)
a6 OK FETCH completed"
}

# IDLE is valid in the authenticated and selected states (RFC 2177's
# command_auth), not before login; it takes no arguments.
testIdleStates() {
	session <<EOF
a1 IDLE
DONE
a2 IDLE now
a3 SELECT INBOX
a4 LOGOUT
EOF
	assertResp a1 "+ idling
a1 OK IDLE completed"
	assertResp a2 "a2 BAD Missing or invalid arguments"
	session -p /dev/null <<EOF
a1 IDLE
a2 LOGOUT
EOF
	assertResp a1 "a1 BAD Not allowed in this state"
}

# Idling costs the store nothing visible: a session that idles and one
# that does not see the same mailbox afterwards.
testIdleThenDisconnect() {
	open_two 1
	idle A a2
	sess_close A
	assertEquals "EOF during IDLE ends the session" 0 "$RC"
	sess_cmd B b2 "NOOP"
	expect_resp "b2 OK NOOP completed"
}

# The wake-up FIFO (imapd-store(5)) lives only while the session idles;
# one left by a session that was killed goes at the next IDLE there.
testIdleFifo() {
	open_two 1
	idle A a2
	pid=$(sess_pid A)
	assertTrue "FIFO while idling" "[ -p '$STORE/box/INBOX/idle.$pid' ]"
	done_idle A a2
	assertFalse "no FIFO after DONE" "[ -e '$STORE/box/INBOX/idle.$pid' ]"
	idle A a3
	kill -9 "$pid"
	sess_close A
	assertTrue "left by the killed one" "[ -p '$STORE/box/INBOX/idle.$pid' ]"
	idle B b2
	assertFalse "swept" "[ -e '$STORE/box/INBOX/idle.$pid' ]"
	# Appends still reach the other one.
	printf '%s\n' "$(mkmsg 2)" | run_imapd -d "$STORE" -D INBOX 2>/dev/null
	arrives B "* 2 EXISTS"
	done_idle B b2
}

. "$SHUNIT2"
