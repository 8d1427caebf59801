#!/bin/bash
# t/keywords.sh: up to KEYWORDS_MAX (1,000) keywords per mailbox: the
# first 64 in the index record, the others in the file "kwmore"
# (imapd-store(5)). 1,000 keywords on one message and spread over many,
# FETCH FLAGS, SEARCH KEYWORD/UNKEYWORD, STORE +/-/replace and
# UNCHANGEDSINCE of a high keyword, another session told of the change,
# COPY by name, compaction, and the 1,001st keyword refused.
. "$(dirname "$0")/lib.sh"

M1=$(mkmsg 1)

# kws FROM TO: "kFROM ... kTO", space-separated.
kws() {
	seq -f 'k%g' "$1" "$2" | tr '\n' ' ' | sed 's/ $//'
}

# kwstep FROM TO STEP: every STEP-th keyword from kFROM to kTO.
kwstep() {
	seq -f 'k%g' "$1" "$3" "$2" | tr '\n' ' ' | sed 's/ $//'
}

ALL=$(kws 1 1000)

# The mailbox's FLAGS line once all 1,000 keywords exist, and the
# PERMANENTFLAGS line: no \* (RFC 3501 7.1: none can be created).
flags_line() {
	echo "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $ALL)"
}
perm_line() {
	echo "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $ALL)] Flags permitted"
}

# INBOX with N messages, message 1 holding all 1,000 keywords.
setup_all() {
	{
		appends "$1"
		echo "a1 SELECT INBOX"
		echo "a2 STORE 1 +FLAGS.SILENT ($ALL)"
	} | session
	assertEquals "a2 OK STORE completed" "$(resp a2 | tail -n 1)"
}

testOneMessage() {
	setup_all 2
	session <<EOF
a1 SELECT INBOX
a2 FETCH 1:2 FLAGS
a3 SEARCH KEYWORD k1000
a4 SEARCH UNKEYWORD k999
a5 SEARCH KEYWORD k64 KEYWORD k65 KEYWORD k1
a6 STORE 1 -FLAGS (k999)
a7 SEARCH KEYWORD k999
a8 STORE 2 FLAGS (\\Seen k700 k3)
a9 SEARCH KEYWORD k700
b1 STORE 1 FLAGS (k2)
b2 FETCH 1:2 FLAGS
EOF
	assertHas "$(flags_line)"
	assertHas "$(perm_line)"
	assertResp a2 "* 1 FETCH (FLAGS ($ALL))
* 2 FETCH (FLAGS ())
a2 OK FETCH completed"
	assertResp a3 "* SEARCH 1
a3 OK SEARCH completed"
	assertResp a4 "* SEARCH 2
a4 OK SEARCH completed"
	assertResp a5 "* SEARCH 1
a5 OK SEARCH completed"
	assertResp a6 "* 1 FETCH (FLAGS ($(kws 1 998) k1000))
a6 OK STORE completed"
	assertResp a7 "* SEARCH
a7 OK SEARCH completed"
	assertResp a8 "* 2 FETCH (FLAGS (\\Seen k3 k700))
a8 OK STORE completed"
	assertResp a9 "* SEARCH 1 2
a9 OK SEARCH completed"
	assertResp b2 "* 1 FETCH (FLAGS (k2))
* 2 FETCH (FLAGS (\\Seen k3 k700))
b2 OK FETCH completed"
}

# Message i of 20 holds every 20th keyword from ki: each message has
# keywords in the record and beyond it.
testManyMessages() {
	{
		appends 20
		echo "a1 SELECT INBOX"
		for i in $(seq 1 20); do
			echo "s$i STORE $i +FLAGS.SILENT ($(kwstep "$i" 1000 20))"
		done
		echo "a2 LOGOUT"
	} | session
	assertEquals "s20 OK STORE completed" "$(resp s20 | tail -n 1)"
	session <<EOF
a1 SELECT INBOX
a2 FETCH 1:20 FLAGS
a3 SEARCH KEYWORD k981
a4 SEARCH OR KEYWORD k64 KEYWORD k1000
EOF
	exp=
	for i in $(seq 1 20); do
		exp="$exp* $i FETCH (FLAGS ($(kwstep "$i" 1000 20)))
"
	done
	assertResp a2 "${exp}a2 OK FETCH completed"
	assertResp a3 "* SEARCH 1
a3 OK SEARCH completed"
	assertResp a4 "* SEARCH 4 20
a4 OK SEARCH completed"
}

# The 1,001st keyword is refused (imapd.h KEYWORDS_MAX), by STORE and by
# APPEND, and creates nothing; keywords that exist can still be set.
testLimit() {
	setup_all 1
	session <<EOF
a1 SELECT INBOX
a2 STORE 1 +FLAGS.SILENT (k1001)
a3 APPEND INBOX (k1002) $(lit "$M1")
a4 STORE 1 -FLAGS.SILENT (k500)
a5 STORE 1 +FLAGS (k500)
a6 STORE 1 +FLAGS.SILENT (k1001 k1)
EOF
	assertResp a2 "a2 NO [LIMIT] Too many keywords"
	assertResp a3 "+ Ready for literal data
a3 NO [LIMIT] Too many keywords"
	assertResp a4 "a4 OK STORE completed"
	assertResp a5 "* 1 FETCH (FLAGS ($ALL))
a5 OK STORE completed"
	assertResp a6 "a6 NO [LIMIT] Too many keywords"
	session <<EOF
a1 SELECT INBOX
EOF
	assertHas "$(flags_line)"
	assertHas "$(perm_line)"
}

# UNCHANGEDSINCE with a high keyword (RFC 7162 3.1.3): the MODSEQ of a
# message changes with its high keywords as with any other flag.
testUnchangedSince() {
	setup_all 1
	session <<EOF
a1 SELECT INBOX (CONDSTORE)
a2 FETCH 1 (MODSEQ)
EOF
	ms=$(sed -n 's/^\* 1 FETCH (MODSEQ (\([0-9]*\)))$/\1/p' "$OUT")
	session <<EOF
a1 SELECT INBOX (CONDSTORE)
a2 STORE 1 (UNCHANGEDSINCE $ms) -FLAGS.SILENT (k900)
a3 STORE 1 (UNCHANGEDSINCE $ms) FLAGS.SILENT (k901)
a4 FETCH 1 (FLAGS)
EOF
	assertEquals "a2 OK STORE completed" "$(resp a2 | tail -n 1)"
	ms=$(resp a2 | sed -n 's/^\* 1 FETCH (MODSEQ (\([0-9]*\)))$/\1/p')
	now="MODSEQ ($ms) FLAGS ($(kws 1 899) $(kws 901 1000))"
	assertResp a3 "* 1 FETCH ($now)
a3 OK [MODIFIED 1] STORE completed"
	assertResp a4 "* 1 FETCH ($now)
a4 OK FETCH completed"
}

# Another session hears of a change to a high keyword (FETCH with FLAGS).
testOtherSession() {
	setup_all 2
	sess_open A
	sess_cmd A a1 "SELECT INBOX"
	sess_open B
	sess_cmd B b1 "SELECT INBOX"
	sess_cmd B b2 "STORE 2 +FLAGS.SILENT (k1000 k5)"
	sess_cmd A a2 "NOOP"
	assertEquals "* 2 FETCH (FLAGS (k5 k1000))
a2 OK NOOP completed" "$R"
	sess_cmd B b3 "STORE 1 -FLAGS.SILENT (k999)"
	sess_cmd A a3 "NOOP"
	assertEquals "* 1 FETCH (FLAGS ($(kws 1 998) k1000))
a3 OK NOOP completed" "$R"
	sess_cmd B b4 "STORE 2 -FLAGS.SILENT (k1000)"
	sess_cmd A a4 "NOOP"
	assertEquals "* 2 FETCH (FLAGS (k5))
a4 OK NOOP completed" "$R"
}

# COPY maps keywords by name: the destination numbers them its own way,
# and refuses a copy that would take it past KEYWORDS_MAX.
testCopy() {
	setup_all 2
	session <<EOF
a1 CREATE Other
a2 APPEND Other (zz) $(lit "$M1")
a3 SELECT INBOX
a4 STORE 2 FLAGS.SILENT ($(kws 900 1000) k1)
a5 COPY 2 Other
a6 COPY 1 Other
a7 SELECT Other
a8 FETCH 1:* FLAGS
a9 SEARCH KEYWORD k1000
b1 SEARCH KEYWORD zz
EOF
	assertEquals "a5 OK" "$(resp a5 | tail -n 1 | cut -c 1-5)"
	assertResp a6 "a6 NO [LIMIT] Too many keywords"
	assertResp a8 "* 1 FETCH (FLAGS (\\Recent zz))
* 2 FETCH (FLAGS (\\Recent k1 $(kws 900 1000)))
a8 OK FETCH completed"
	assertResp a9 "* SEARCH 2
a9 OK SEARCH completed"
	assertResp b1 "* SEARCH 1
b1 OK SEARCH completed"
}

# After EXPUNGE and the compaction at CLOSE, the keywords stay with their
# messages.
testCompaction() {
	{
		appends 5
		echo "a1 SELECT INBOX"
		echo "a2 STORE 1 +FLAGS.SILENT ($(kws 1 100))"
		echo "a3 STORE 2 +FLAGS.SILENT (\\Deleted $(kws 101 200))"
		echo "a4 STORE 3:4 +FLAGS.SILENT (\\Deleted $(kws 201 300))"
		echo "a5 STORE 5 +FLAGS.SILENT ($(kws 301 400) k1)"
		echo "a6 EXPUNGE"
		echo "a7 CLOSE"
	} | session
	assertResp a6 "* 4 EXPUNGE
* 3 EXPUNGE
* 2 EXPUNGE
a6 OK EXPUNGE completed"
	assertTrue "compacted" "[ -s $STORE/box/INBOX/expunged ]"
	# Five entries before; the two of live messages after (136 bytes each).
	assertEquals "kwmore compacted" 272 \
	    "$(wc -c <"$STORE/box/INBOX/kwmore" | tr -d ' ')"
	session <<EOF
a1 SELECT INBOX
a2 FETCH 1:* (UID FLAGS)
a3 SEARCH KEYWORD k350
EOF
	assertResp a2 "* 1 FETCH (UID 1 FLAGS ($(kws 1 100)))
* 2 FETCH (UID 5 FLAGS ($(kws 1 1) $(kws 301 400)))
a2 OK FETCH completed"
	assertResp a3 "* SEARCH 2
a3 OK SEARCH completed"
}

. "${SHUNIT2:-/usr/share/shunit2/shunit2}"
