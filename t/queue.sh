#!/bin/bash
# t/queue.sh: a mailbox used as a work queue (RFC 7162 section 3.1.3, the
# issue's queue test): 16 imapd processes claim the 2,000 messages of
# INBOX concurrently with UID STORE (UNCHANGEDSINCE m) +FLAGS.SILENT
# ($Claimed), each fetching candidates (UID SEARCH UNKEYWORD $Claimed,
# UID FETCH (FLAGS MODSEQ)) and moving on when told MODIFIED. Every
# message must be claimed exactly once: no double claim, no lost claim
# (a message flagged $Claimed whose worker was told MODIFIED). The
# workers are bench/qdrive's queue mode, which counts the claims per UID.
. "$(dirname "$0")/lib.sh"

QDRIVE=$T_TOP/bench/qdrive
NMSG=2000
NPROC=16

# qdrive ARGS...: bench/qdrive with imapd on $STORE as the server; its
# one output line in $Q.
qdrive() {
	Q=$(timeout -k 2 300 "$QDRIVE" "$@" -- $T_RUNAS $T_VG "$IMAPD" -s \
	    -d "$STORE" 2>"$ERR")
	RC=$?
}

# fill: NMSG messages in INBOX.
fill() {
	qdrive fill $NMSG
	assertEquals "fill: $(cat "$ERR")" "0 fill $NMSG" "$RC $(echo "$Q" | cut -d' ' -f1,2)"
}

# queue [-c]: the claim, checked: "queue secs claims distinct doubles
# lost modified flagged".
queue() {
	qdrive "$@" -w $NPROC -x $NMSG queue
	assertEquals "queue ran: $(cat "$ERR")" 0 "$RC"
	set -- $Q
	assertEquals "claims" "$NMSG" "$3"
	assertEquals "messages claimed" "$NMSG" "$4"
	assertEquals "double claims" 0 "$5"
	assertEquals "lost claims" 0 "$6"
	assertEquals "messages flagged \$Claimed" "$NMSG" "$8"
	session_cmds -- "a1 EXAMINE INBOX" "a2 SEARCH UNKEYWORD \$Claimed"
	assertResp a2 "* SEARCH
a2 OK SEARCH completed"
}

# Each worker starts at its own share of the candidates: contention
# only where shares meet and at the end.
testQueueSixteenWorkers() {
	fill
	queue
}

# Every worker goes for the same candidates: every claim is contended,
# and all but one STORE of each message must come back MODIFIED (or be
# skipped, its $Claimed seen first).
testQueueSixteenWorkersContended() {
	fill
	queue -c
	set -- $Q
	assertTrue "contended: $7 MODIFIED" "[ $7 -gt 0 ]"
}

. "${SHUNIT2:-/usr/share/shunit2/shunit2}"
