#!/bin/bash
# t/concurrent.sh: several imapd processes on one store. Two sessions on one
# mailbox see each other's appends, flag changes and expunges at the next
# command that may carry them, and an EXPUNGE never during FETCH, STORE or
# SEARCH (RFC 3501 5.2, 7.4.1; RFC 2180 4.1); \Recent goes to exactly one
# session (RFC 3501 2.3.2); 8 processes appending at once; kill -9 of an
# appending process loses no acknowledged message.
. "$(dirname "$0")/lib.sh"

M1=$(mkmsg 1)
M2=$(mkmsg 2)
M3=$(mkmsg 3)

# gen_appends TAG N: N APPEND commands with LITERAL+ literals, CRLF, tags
# TAG1 .. TAGN (awk: a shell loop is far too slow for thousands).
gen_appends() {
	LC_ALL=C awk -v p="$1" -v n="$2" 'BEGIN {
		for (i = 1; i <= n; i++) {
			m = "From: Alice <alice@example.org>\r\n" \
			    "To: Bob <bob@example.org>\r\n" \
			    "Subject: message " p i "\r\n" \
			    "Message-ID: <" p i ".t@example.org>\r\n\r\n" \
			    "Hello Bob,\r\nthis is message " p i ".\r\n"
			printf "%s%d APPEND INBOX {%d+}\r\n%s\r\n", p, i,
			    length(m), m
		}
	}'
}

# expect_resp EXPECTED: the last step's lines are exactly these.
expect_resp() {
	assertEquals "${2:-response}" "$1" "$R"
}

# no_expunge WHAT: the last step carried no EXPUNGE.
no_expunge() {
	assertFalse "EXPUNGE during $1: $R" \
	    "printf '%s\n' \"\$R\" | grep -q '^\\* [0-9]* EXPUNGE$'"
}

testTwoSessionsSeeAppends() {
	put 1
	sess_open A
	expect_resp "$GREET_PREAUTH" greeting
	sess_open B
	sess_cmd A a1 "SELECT INBOX"
	sess_cmd B b1 "SELECT INBOX"
	sess_cmd B b2 "NOOP"
	expect_resp "b2 OK NOOP completed" "B: nothing new yet"
	sess_cmd A a2 "APPEND INBOX $(litp "$M2")"
	assertTrue "A: APPENDUID 2: $R" \
	    "printf '%s\n' \"\$R\" | grep -q '^a2 OK \\[APPENDUID [0-9]* 2\\] APPEND completed$'"
	# The append reaches B at its next command.
	sess_cmd B b3 "NOOP"
	assertTrue "B: 2 EXISTS: $R" "printf '%s\n' \"\$R\" | grep -qx '\\* 2 EXISTS'"
	assertEquals "B: last line" "b3 OK NOOP completed" "$(printf '%s\n' "$R" | tail -n 1)"
	sess_cmd B b4 "NOOP"
	expect_resp "b4 OK NOOP completed" "B: told only once"
	sess_cmd B b5 "FETCH 2 (UID BODY.PEEK[])"
	expect_resp "* 2 FETCH (UID 2 BODY[] {$(crlf_len "$M2")}
$M2)
b5 OK FETCH completed"
	# A delivery by a third process reaches both.
	printf '%s\n' "$M3" | run_imapd -d "$STORE" -D INBOX
	assertEquals "delivery" 0 $?
	sess_cmd A a3 "NOOP"
	assertTrue "A: 3 EXISTS: $R" "printf '%s\n' \"\$R\" | grep -qx '\\* 3 EXISTS'"
	sess_cmd B b6 "CHECK"
	assertTrue "B: 3 EXISTS: $R" "printf '%s\n' \"\$R\" | grep -qx '\\* 3 EXISTS'"
}

# A new message is \Recent in exactly one of the sessions that have the
# mailbox selected (RFC 3501 2.3.2).
testRecentSeenByExactlyOne() {
	put 1
	sess_open A
	sess_open B
	sess_cmd A a1 "SELECT INBOX"
	assertTrue "A: 1 RECENT" "grep -qx '\\* 1 RECENT' '$OUT'"
	sess_cmd B b1 "SELECT INBOX"
	assertTrue "B: 0 RECENT" "grep -qx '\\* 0 RECENT' '$OUT'"
	for round in 2 3 4; do
		printf '%s\n' "$(mkmsg $round)" | run_imapd -d "$STORE" -D INBOX
		assertEquals "delivery" 0 $?
		# Alternate who looks first.
		if [ $((round % 2)) -eq 0 ]; then
			sess_cmd A a$round "NOOP"
			sess_cmd B b$round "NOOP"
		else
			sess_cmd B b$round "NOOP"
			sess_cmd A a$round "NOOP"
		fi
		sess_cmd A f$round "FETCH $round FLAGS"
		ra=$R
		sess_cmd B f$round "FETCH $round FLAGS"
		rb=$R
		n=$(printf '%s\n%s\n' "$ra" "$rb" |
		    grep -c "^\\* $round FETCH (FLAGS (\\\\Recent))\$")
		assertEquals "message $round recent in exactly one session: $ra / $rb" 1 "$n"
	done
	# And a third session that comes later sees it recent in neither.
	session <<EOF
a1 SELECT INBOX
EOF
	assertHas "* 0 RECENT"
}

testTwoSessionsSeeFlagChanges() {
	put 2
	sess_open A
	sess_open B
	sess_cmd A a1 "SELECT INBOX"
	sess_cmd B b1 "SELECT INBOX"
	sess_cmd A a2 "STORE 1 +FLAGS (\\Flagged)"
	expect_resp "* 1 FETCH (FLAGS (\\Flagged \\Recent))
a2 OK STORE completed"
	sess_cmd B b2 "NOOP"
	expect_resp "* 1 FETCH (FLAGS (\\Flagged))
b2 OK NOOP completed"
	sess_cmd B b3 "NOOP"
	expect_resp "b3 OK NOOP completed" "B: told only once"
	# B's own change is not echoed back to it as someone else's, and it
	# reaches A.
	sess_cmd B b4 "STORE 2 +FLAGS.SILENT (\\Seen)"
	sess_cmd B b5 "NOOP"
	expect_resp "b5 OK NOOP completed" "B: no echo of its own STORE"
	sess_cmd A a3 "NOOP"
	expect_resp "* 2 FETCH (FLAGS (\\Seen \\Recent))
a3 OK NOOP completed" "A: B's change"
	# A new keyword: A learns the flag and the new FLAGS list (RFC 3501
	# 7.2.6).
	sess_cmd B b8 "STORE 2 +FLAGS.SILENT (\$Work)"
	sess_cmd A a5 "NOOP"
	assertTrue "A: flags of 2: $R" \
	    "printf '%s\n' \"\$R\" | grep -qx '\\* 2 FETCH (FLAGS (\\\\Seen \\\\Recent \\\$Work))'"
	assertTrue "A: FLAGS: $R" \
	    "printf '%s\n' \"\$R\" | grep -qx '\\* FLAGS (.* \\\$Work)'"
	# Flag changes may come during FETCH (RFC 3501 7.4.2 allows it).
	sess_cmd A a4 "STORE 1 -FLAGS.SILENT (\\Flagged)"
	sess_cmd B b6 "FETCH 1 UID"
	assertTrue "B: FETCH answered: $R" \
	    "printf '%s\n' \"\$R\" | grep -qx '\\* 1 FETCH (UID 1)'"
	sess_cmd B b7 "FETCH 1 FLAGS"
	assertTrue "B: sees the removal: $R" \
	    "printf '%s\n' \"\$R\" | grep -qx '\\* 1 FETCH (FLAGS ())'"
}

# RFC 3501 7.4.1: no EXPUNGE while the client may not expect renumbering
# (FETCH, STORE, SEARCH and their UID forms); it comes at the next NOOP.
testExpungeTiming() {
	put 3
	sess_open A
	sess_open B
	sess_cmd A a1 "SELECT INBOX"
	sess_cmd B b1 "SELECT INBOX"
	sess_cmd A a2 "STORE 2 +FLAGS.SILENT (\\Deleted)"
	sess_cmd A a3 "EXPUNGE"
	expect_resp "* 2 EXPUNGE
a3 OK EXPUNGE completed"
	sess_cmd B b2 "FETCH 1:* (UID)"
	no_expunge FETCH
	assertTrue "B: message 1: $R" "printf '%s\n' \"\$R\" | grep -qx '\\* 1 FETCH (UID 1)'"
	assertTrue "B: message 3 keeps its number: $R" \
	    "printf '%s\n' \"\$R\" | grep -qx '\\* 3 FETCH (UID 3)'"
	assertTrue "B: OK: $R" "printf '%s\n' \"\$R\" | grep -qx 'b2 OK FETCH completed'"
	sess_cmd B b3 "STORE 3 +FLAGS (\\Answered)"
	no_expunge STORE
	assertTrue "B: STORE on 3 still means UID 3: $R" \
	    "printf '%s\n' \"\$R\" | grep -qx '\\* 3 FETCH (FLAGS (\\\\Answered))'"
	sess_cmd B b4 "SEARCH ALL"
	no_expunge SEARCH
	sess_cmd B b5 "UID FETCH 1:* (FLAGS)"
	no_expunge "UID FETCH"
	sess_cmd B b6 "UID STORE 3 +FLAGS.SILENT (\\Seen)"
	no_expunge "UID STORE"
	sess_cmd B b7 "UID SEARCH ALL"
	no_expunge "UID SEARCH"
	sess_cmd B b8 "NOOP"
	expect_resp "* 2 EXPUNGE
b8 OK NOOP completed" "B: the EXPUNGE at NOOP"
	sess_cmd B b9 "FETCH 1:* (UID FLAGS)"
	expect_resp "* 1 FETCH (UID 1 FLAGS ())
* 2 FETCH (UID 3 FLAGS (\\Answered \\Seen))
b9 OK FETCH completed"
	# A saw B's changes to UID 3 under its new number.
	sess_cmd A a4 "NOOP"
	assertTrue "A: flags of UID 3: $R" \
	    "printf '%s\n' \"\$R\" | grep -qx '\\* 2 FETCH (FLAGS (\\\\Answered \\\\Seen \\\\Recent))'"
}

# EXPUNGE reaches the other session at commands other than NOOP too, in
# the right order when several messages go (RFC 3501 7.4.1).
testExpungeSeveralAtCheck() {
	put 5
	sess_open A
	sess_open B
	sess_cmd A a1 "SELECT INBOX"
	sess_cmd B b1 "SELECT INBOX"
	sess_cmd A a2 "STORE 1,3,5 +FLAGS.SILENT (\\Deleted)"
	sess_cmd A a3 "EXPUNGE"
	expect_resp "* 5 EXPUNGE
* 3 EXPUNGE
* 1 EXPUNGE
a3 OK EXPUNGE completed"
	sess_cmd B b2 "CHECK"
	# Any order that renumbers correctly would do; the three numbers in
	# descending order is the one imapd sends.
	assertEquals "B: expunges" "* 5 EXPUNGE
* 3 EXPUNGE
* 1 EXPUNGE" "$(printf '%s\n' "$R" | grep EXPUNGE)"
	sess_cmd B b3 "FETCH 1:* UID"
	expect_resp "* 1 FETCH (UID 2)
* 2 FETCH (UID 4)
b3 OK FETCH completed"
}

# CLOSE by A of a mailbox with \Deleted messages is an expunge for B.
testCloseExpungesForOthers() {
	put 2
	sess_open A
	sess_open B
	sess_cmd A a1 "SELECT INBOX"
	sess_cmd B b1 "SELECT INBOX"
	sess_cmd A a2 "STORE 1 +FLAGS.SILENT (\\Deleted)"
	sess_cmd A a3 "CLOSE"
	expect_resp "a3 OK CLOSE completed"
	sess_cmd B b2 "NOOP"
	assertTrue "B: EXPUNGE: $R" "printf '%s\n' \"\$R\" | grep -qx '\\* 1 EXPUNGE'"
}

# 8 processes appending 200 messages each at once: 1,600 messages, 1,600
# distinct UIDs, MODSEQs strictly increasing with the UIDs.
testEightAppenders() {
	for p in 1 2 3 4 5 6 7 8; do
		gen_appends "p${p}x" 200 >"$T_TMP/in.$p"
	done
	for p in 1 2 3 4 5 6 7 8; do
		T_LIMIT=120 run_imapd -d "$STORE" <"$T_TMP/in.$p" \
		    >"$T_TMP/out.$p" 2>"$T_TMP/err.$p" &
	done
	wait
	for p in 1 2 3 4 5 6 7 8; do
		assertEquals "process $p: 200 APPENDs OK" 200 \
		    "$(grep -c "^p${p}x[0-9]* OK \\[APPENDUID " "$T_TMP/out.$p")"
	done
	cat "$T_TMP"/out.[1-8] | tr -d '\r' |
	    sed -n 's/^p[0-9]*x[0-9]* OK \[APPENDUID [0-9]* \([0-9]*\)\].*/\1/p' |
	    sort -n >"$T_TMP/acked"
	session <<EOF
a1 SELECT INBOX
a2 FETCH 1:* (UID MODSEQ)
EOF
	assertHas "* 1600 EXISTS"
	sed -n 's/^\* \([0-9]*\) FETCH (UID \([0-9]*\) MODSEQ (\([0-9]*\)))$/\1 \2 \3/p' \
	    "$OUT" >"$T_TMP/um"
	assertEquals "FETCH lines" 1600 "$(wc -l <"$T_TMP/um")"
	assertEquals "distinct UIDs" 1600 "$(cut -d' ' -f2 "$T_TMP/um" | sort -u | wc -l)"
	assertEquals "acknowledged UIDs are the UIDs in the mailbox" \
	    "$(cat "$T_TMP/acked")" "$(cut -d' ' -f2 "$T_TMP/um" | sort -n)"
	bad=$(awk 'NR > 1 && ($2 <= u || $3 <= m) { print; n++ }
	    { u = $2; m = $3 }' "$T_TMP/um" | head -n 3)
	assertEquals "UIDs and MODSEQs strictly increasing" "" "$bad"
	assertEquals "first MODSEQ is not 0" "" \
	    "$(awk '$3 == 0' "$T_TMP/um" | head -n 1)"
}

# kill -9 of a process in the middle of its APPENDs: every UID it
# acknowledged is there, the store opens, no UID or MODSEQ is reused.
testKillAppender() {
	gen_appends k 20000 >"$T_TMP/in.k"
	maxuid=0
	for round in 1 2 3; do
		$T_RUNAS $T_VG "$IMAPD" -s -d "$STORE" <"$T_TMP/in.k" \
		    >"$T_TMP/out.k" 2>"$T_TMP/err.k" &
		pid=$!
		# Wait for a few acknowledgements, then a random moment.
		end=$(($(date +%s) + 20))
		while [ "$(grep -c ' OK \[APPENDUID ' "$T_TMP/out.k")" -lt 5 ] &&
		    [ "$(date +%s)" -le "$end" ]; do
			sleep 0.01
		done
		sleep "$(printf '0.%03d' $((RANDOM % 300 + 1)))"
		assertTrue "round $round: still appending when killed" \
		    "t_alive $pid"
		kill -9 "$pid"
		wait "$pid"
		assertEquals "round $round: killed" 137 "$?"
		# Only complete lines count as acknowledged.
		grep $'\r$' "$T_TMP/out.k" | tr -d '\r' |
		    sed -n 's/^k[0-9]* OK \[APPENDUID [0-9]* \([0-9]*\)\].*/\1/p' |
		    sort >"$T_TMP/acked.$round"
		n=$(wc -l <"$T_TMP/acked.$round")
		echo "round $round: $n APPENDs acknowledged before kill -9"
		assertTrue "round $round: some APPENDs acknowledged ($n)" "[ $n -ge 5 ]"
		first=$(sort -n "$T_TMP/acked.$round" | head -n 1)
		assertTrue "round $round: UIDs not reused ($first > $maxuid)" \
		    "[ '${first:-0}' -gt $maxuid ]"
		session <<EOF
a1 SELECT INBOX
a2 UID FETCH 1:* (UID MODSEQ)
EOF
		assertHas "a1 OK [READ-WRITE] SELECT completed"
		sed -n 's/^\* [0-9]* FETCH (UID \([0-9]*\) MODSEQ (\([0-9]*\)))$/\1 \2/p' \
		    "$OUT" >"$T_TMP/um"
		missing=$(cut -d' ' -f1 "$T_TMP/um" | sort |
		    comm -13 - "$T_TMP/acked.$round" | head -n 5)
		assertEquals "round $round: acknowledged UIDs missing" "" "$missing"
		bad=$(awk 'NR > 1 && ($1 <= u || $2 <= m) { print; n++ }
		    { u = $1; m = $2 }' "$T_TMP/um" | head -n 3)
		assertEquals "round $round: UIDs and MODSEQs increasing" "" "$bad"
		# The store works on: the next APPEND takes a higher UID and MODSEQ.
		lastuid=$(tail -n 1 "$T_TMP/um" | cut -d' ' -f1)
		lastmod=$(tail -n 1 "$T_TMP/um" | cut -d' ' -f2)
		session <<EOF
a1 APPEND INBOX $(litp "$M1")
a2 SELECT INBOX
a3 UID FETCH * (UID MODSEQ)
EOF
		u=$(sed -n 's/^a1 OK \[APPENDUID [0-9]* \([0-9]*\)\].*/\1/p' "$OUT")
		m=$(sed -n 's/^\* [0-9]* FETCH (UID [0-9]* MODSEQ (\([0-9]*\)))$/\1/p' "$OUT")
		assertTrue "round $round: new UID $u > $lastuid" \
		    "[ '${u:-0}' -gt '${lastuid:-0}' ]"
		assertTrue "round $round: new MODSEQ $m > $lastmod" \
		    "[ '${m:-0}' -gt '${lastmod:-0}' ]"
		maxuid=${u:-0}
	done
}

. "${SHUNIT2:-/usr/share/shunit2/shunit2}"
