#!/bin/bash
# t/message.sh: APPEND, FETCH, STORE, SEARCH, COPY, EXPUNGE and their UID
# forms, keywords, the implicit \Seen, partial fetches, sequence-set errors
# and read-only mailboxes (RFC 3501 6.3.11, 6.4, 7.4.2; RFC 4315).
. "$(dirname "$0")/lib.sh"

M1=$(mkmsg 1)
M2=$(mkmsg 2)
M3=$(mkmsg 3)
MBIG=$(mkmsg 4 "a longer subject line that makes this message the biggest of all")
S1=$(crlf_len "$M1")
SBIG=$(crlf_len "$MBIG")
# Header (through the empty line) and text of M1, LF line ends.
H1=${M1%%$'\n\n'*}
T1=${M1#*$'\n\n'}
HS1=$(($(crlf_len "$H1") + 4))
TS1=$(crlf_len "$T1")
D1='"02-Jan-2024 12:00:00 +0200"'
D1UTC='"02-Jan-2024 10:00:00 +0000"'

# bytes M FROM COUNT: COUNT bytes of M (CRLF form) from offset FROM, LF form.
bytes() {
	printf '%s' "$1" | t_crlf | head -c -1 | tail -c +$(($2 + 1)) |
	    head -c "$3" | tr -d '\r'
}

testAppendSynchronizing() {
	session <<EOF
a1 APPEND INBOX $(lit "$M1")
a2 STATUS INBOX (MESSAGES)
EOF
	assertRespN a1 "+ Ready for literal data
a1 OK [APPENDUID V 1] APPEND completed"
	assertResp a2 "* STATUS INBOX (MESSAGES 1)
a2 OK STATUS completed"
}

testAppendNonSynchronizing() {
	session <<EOF
a1 APPEND INBOX $(litp "$M1")
a2 APPEND INBOX (\Seen) $(litp "$M2")
EOF
	assertEquals "$GREET_PREAUTH
a1 OK [APPENDUID V 1] APPEND completed
a2 OK [APPENDUID V 2] APPEND completed" "$(norm <"$OUT")"
}

testAppendFlagsAndDate() {
	session <<EOF
a1 APPEND INBOX (\Seen \Flagged \Draft \Answered \Deleted \$Label1) $D1 $(lit "$M1")
a2 APPEND INBOX () " 2-Jan-2024 10:00:00 +0000" $(lit "$M2")
a3 APPEND INBOX "01-Jul-2023 00:30:00 -0130" $(lit "$M3")
a4 SELECT INBOX
a5 FETCH 1:3 (FLAGS INTERNALDATE)
EOF
	assertResp a5 "* 1 FETCH (FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\Recent \$Label1) INTERNALDATE $D1UTC)
* 2 FETCH (FLAGS (\\Recent) INTERNALDATE \"02-Jan-2024 10:00:00 +0000\")
* 3 FETCH (FLAGS (\\Recent) INTERNALDATE \"01-Jul-2023 02:00:00 +0000\")
a5 OK FETCH completed"
}

# Without a date the internal date is the time of the APPEND.
testAppendDateNow() {
	before=$(date -u +%s)
	session <<EOF
a1 APPEND INBOX $(lit "$M1")
a2 SELECT INBOX
a3 FETCH 1 INTERNALDATE
EOF
	after=$(date -u +%s)
	d=$(resp a3 | sed -n 's/.*INTERNALDATE "\(.*\)")$/\1/p')
	assertNotNull "INTERNALDATE" "$d"
	t=$(date -u -d "$(echo "$d" | sed 's/-/ /g; s/ +0000/ UTC/')" +%s 2>/dev/null)
	assertTrue "internal date $d within the run" \
	    "[ '${t:-0}' -ge $((before - 1)) ] && [ '${t:-0}' -le $((after + 1)) ]"
}

testAppendErrors() {
	session <<EOF
a1 APPEND nosuch $(litp "$M1")
a2 APPEND INBOX "31-Feb-2024 10:00:00 +0000" $(litp "$M1")
a4 APPEND INBOX "notadate" $(litp "$M1")
a5 STATUS INBOX (MESSAGES)
EOF
	assertResp a1 "a1 NO [TRYCREATE] No such mailbox"
	assertTrue "bad date" "resp a2 | grep -q '^a2 BAD '"
	assertTrue "bad date text" "resp a4 | grep -q '^a4 BAD '"
	assertResp a5 "* STATUS INBOX (MESSAGES 0)
a5 OK STATUS completed"
}

# APPEND to the selected mailbox shows the new message (RFC 3501 6.3.11).
testAppendToSelected() {
	session <<EOF
a1 SELECT INBOX
a2 APPEND INBOX $(litp "$M1")
a3 NOOP
a4 FETCH 1 (UID FLAGS)
EOF
	assertHas "* 1 EXISTS"
	assertResp a4 "* 1 FETCH (UID 1 FLAGS (\\Recent))
a4 OK FETCH completed"
}

testFetchItems() {
	session <<EOF
a1 APPEND INBOX (\Seen) $D1 $(lit "$M1")
a2 SELECT INBOX
a3 FETCH 1 (UID RFC822.SIZE INTERNALDATE FLAGS)
a4 FETCH 1 FAST
a5 FETCH 1 BODY[]
a6 FETCH 1 (BODY.PEEK[HEADER])
a7 FETCH 1 (BODY.PEEK[TEXT])
a8 FETCH 1 RFC822.HEADER
a9 FETCH 1 RFC822.TEXT
b1 FETCH 1 RFC822
b2 FETCH 1 (FLAGS UID)
b3 fetch 1 (uid rfc822.size)
b4 FETCH 1 UID
EOF
	assertResp a3 "* 1 FETCH (UID 1 RFC822.SIZE $S1 INTERNALDATE $D1UTC FLAGS (\\Seen \\Recent))
a3 OK FETCH completed"
	assertResp a4 "* 1 FETCH (FLAGS (\\Seen \\Recent) INTERNALDATE $D1UTC RFC822.SIZE $S1)
a4 OK FETCH completed"
	assertResp a5 "* 1 FETCH (BODY[] {$S1}
$M1)
a5 OK FETCH completed"
	assertResp a6 "* 1 FETCH (BODY[HEADER] {$HS1}
$H1

)
a6 OK FETCH completed"
	assertResp a7 "* 1 FETCH (BODY[TEXT] {$TS1}
$T1)
a7 OK FETCH completed"
	assertResp a8 "* 1 FETCH (RFC822.HEADER {$HS1}
$H1

)
a8 OK FETCH completed"
	assertResp a9 "* 1 FETCH (RFC822.TEXT {$TS1}
$T1)
a9 OK FETCH completed"
	assertResp b1 "* 1 FETCH (RFC822 {$S1}
$M1)
b1 OK FETCH completed"
	assertResp b2 "* 1 FETCH (FLAGS (\\Seen \\Recent) UID 1)
b2 OK FETCH completed"
	assertResp b3 "* 1 FETCH (UID 1 RFC822.SIZE $S1)
b3 OK FETCH completed"
	assertResp b4 "* 1 FETCH (UID 1)
b4 OK FETCH completed"
}

testFetchBadItems() {
	session <<EOF
a1 APPEND INBOX $(lit "$M1")
a2 SELECT INBOX
a3 FETCH 1 (BOGUS)
a4 FETCH 1 BODY[NOSUCH]
a5 FETCH 1 BODY[]<x>
a6 FETCH 1 (FLAGS
a7 FETCH 1
a8 FETCH 1 ()
a9 FETCH 1 FLAGS
EOF
	for t in a3 a4 a5 a6 a7 a8; do
		assertTrue "$t BAD" "resp $t | grep -q '^$t BAD '"
	done
	assertResp a9 "* 1 FETCH (FLAGS (\\Recent))
a9 OK FETCH completed"
}

# RFC 3501 6.4.5: BODY[...] (not PEEK), RFC822 and RFC822.TEXT set \Seen;
# the new flags come with the same FETCH response (RFC 3501 7.4.2).
testImplicitSeen() {
	session <<EOF
a1 APPEND INBOX $(lit "$M1")
a2 APPEND INBOX $(lit "$M2")
a3 APPEND INBOX $(lit "$M3")
a4 SELECT INBOX
a5 FETCH 1 BODY.PEEK[]
a6 FETCH 1 RFC822.HEADER
a7 FETCH 1 (FLAGS RFC822.SIZE)
a8 FETCH 1 BODY[TEXT]
a9 FETCH 1 FLAGS
b1 FETCH 2 RFC822
b2 FETCH 3 RFC822.TEXT
b3 FETCH 1:3 FLAGS
b4 FETCH 1 BODY[TEXT]
EOF
	assertResp a5 "* 1 FETCH (BODY[] {$S1}
$M1)
a5 OK FETCH completed"
	assertResp a7 "* 1 FETCH (FLAGS (\\Recent) RFC822.SIZE $S1)
a7 OK FETCH completed"
	assertResp a8 "* 1 FETCH (BODY[TEXT] {$TS1}
$T1 FLAGS (\\Seen \\Recent))
a8 OK FETCH completed"
	assertResp a9 "* 1 FETCH (FLAGS (\\Seen \\Recent))
a9 OK FETCH completed"
	assertResp b1 "* 2 FETCH (RFC822 {$S1}
$M2 FLAGS (\\Seen \\Recent))
b1 OK FETCH completed"
	assertResp b3 "* 1 FETCH (FLAGS (\\Seen \\Recent))
* 2 FETCH (FLAGS (\\Seen \\Recent))
* 3 FETCH (FLAGS (\\Seen \\Recent))
b3 OK FETCH completed"
	# Already \Seen: no FLAGS added.
	assertResp b4 "* 1 FETCH (BODY[TEXT] {$TS1}
$T1)
b4 OK FETCH completed"
}

# A read-only session changes no flag, not even \Seen (RFC 3501 6.3.2).
testNoImplicitSeenWhenReadOnly() {
	session <<EOF
a1 APPEND INBOX $(lit "$M1")
a2 EXAMINE INBOX
a3 FETCH 1 BODY[]
a4 FETCH 1 RFC822
a5 FETCH 1 FLAGS
EOF
	assertResp a3 "* 1 FETCH (BODY[] {$S1}
$M1)
a3 OK FETCH completed"
	# Whether a read-only session shows \Recent is not settled (RFC 3501
	# 6.3.2 only forbids taking it away); \Seen must not be there.
	assertTrue "no \\Seen: $(resp a5 | head -n 1)" \
	    "resp a5 | head -n 1 | grep -Eqx '\\* 1 FETCH \\(FLAGS \\((\\\\Recent)?\\)\\)'"
	session <<EOF
a1 STATUS INBOX (UNSEEN)
EOF
	assertResp a1 "* STATUS INBOX (UNSEEN 1)
a1 OK STATUS completed"
}

testPartialFetch() {
	session <<EOF
a1 APPEND INBOX $(lit "$M1")
a2 SELECT INBOX
a3 FETCH 1 BODY.PEEK[]<5.10>
a4 FETCH 1 BODY.PEEK[TEXT]<0.5>
a5 FETCH 1 BODY.PEEK[]<0.100000>
a6 FETCH 1 BODY.PEEK[]<$S1.5>
a7 FETCH 1 BODY.PEEK[HEADER]<6.7>
a8 FETCH 1 FLAGS
a9 FETCH 1 BODY[]<0.4>
EOF
	assertResp a3 "* 1 FETCH (BODY[]<5> {10}
$(bytes "$M1" 5 10))
a3 OK FETCH completed"
	assertResp a4 "* 1 FETCH (BODY[TEXT]<0> {5}
$(bytes "$T1" 0 5))
a4 OK FETCH completed"
	assertResp a5 "* 1 FETCH (BODY[]<0> {$S1}
$M1)
a5 OK FETCH completed"
	# RFC 3501 6.4.5: an origin beyond the end gives an empty string.
	r=$(resp a6 | head -n 1)
	assertTrue "empty partial: $r" \
	    "[ '$r' = '* 1 FETCH (BODY[]<$S1> \"\")' ] || [ '$r' = '* 1 FETCH (BODY[]<$S1> {0}' ]"
	assertResp a7 "* 1 FETCH (BODY[HEADER]<6> {7}
$(bytes "$H1" 6 7))
a7 OK FETCH completed"
	assertResp a8 "* 1 FETCH (FLAGS (\\Recent))
a8 OK FETCH completed"
	assertResp a9 "* 1 FETCH (BODY[]<0> {4}
$(bytes "$M1" 0 4) FLAGS (\\Seen \\Recent))
a9 OK FETCH completed"
}

testStoreFlags() {
	session <<EOF
a1 APPEND INBOX $(lit "$M1")
a2 APPEND INBOX $(lit "$M2")
a3 APPEND INBOX $(lit "$M3")
a4 SELECT INBOX
a5 STORE 1 +FLAGS (\Flagged \Seen)
a6 STORE 1 -FLAGS (\Seen)
a7 STORE 1:2 FLAGS (\Answered \Draft)
a8 STORE 3 +FLAGS.SILENT (\Deleted)
a9 FETCH 1:3 FLAGS
b1 STORE 2:3 -FLAGS.SILENT (\Answered \Draft \Deleted)
b2 STORE 3 +FLAGS \Seen
b3 STORE 2,3 FLAGS.SILENT ()
b4 FETCH 1:* FLAGS
b5 STORE 1 XFLAGS (\Seen)
b6 STORE 1 +FLAGS (\Seen
EOF
	assertResp a5 "* 1 FETCH (FLAGS (\\Flagged \\Seen \\Recent))
a5 OK STORE completed"
	assertResp a6 "* 1 FETCH (FLAGS (\\Flagged \\Recent))
a6 OK STORE completed"
	assertResp a7 "* 1 FETCH (FLAGS (\\Answered \\Draft \\Recent))
* 2 FETCH (FLAGS (\\Answered \\Draft \\Recent))
a7 OK STORE completed"
	assertResp a8 "a8 OK STORE completed"
	assertResp a9 "* 1 FETCH (FLAGS (\\Answered \\Draft \\Recent))
* 2 FETCH (FLAGS (\\Answered \\Draft \\Recent))
* 3 FETCH (FLAGS (\\Deleted \\Recent))
a9 OK FETCH completed"
	assertResp b1 "b1 OK STORE completed"
	assertResp b2 "* 3 FETCH (FLAGS (\\Seen \\Recent))
b2 OK STORE completed"
	assertResp b4 "* 1 FETCH (FLAGS (\\Answered \\Draft \\Recent))
* 2 FETCH (FLAGS (\\Recent))
* 3 FETCH (FLAGS (\\Recent))
b4 OK FETCH completed"
	assertTrue "bad STORE item" "resp b5 | grep -q '^b5 BAD '"
	assertTrue "unbalanced" "resp b6 | grep -q '^b6 BAD '"
}

# Flags outlive the session; \Recent does not come back.
testStoredFlagsPersist() {
	session <<EOF
a1 APPEND INBOX $(lit "$M1")
a2 SELECT INBOX
a3 STORE 1 +FLAGS.SILENT (\Answered \Flagged)
EOF
	session <<EOF
a1 SELECT INBOX
a2 FETCH 1 FLAGS
EOF
	assertResp a2 "* 1 FETCH (FLAGS (\\Answered \\Flagged))
a2 OK FETCH completed"
}

testKeywords() {
	session <<EOF
a1 APPEND INBOX $(lit "$M1")
a2 APPEND INBOX (Later) $(lit "$M2")
a3 SELECT INBOX
a4 STORE 1 +FLAGS (\$Forwarded Work)
a5 FETCH 1:2 FLAGS
EOF
	assertHas "* 1 FETCH (FLAGS (\\Recent \$Forwarded Work))"
	assertHas "a4 OK STORE completed"
	assertResp a5 "* 1 FETCH (FLAGS (\\Recent \$Forwarded Work))
* 2 FETCH (FLAGS (\\Recent Later))
a5 OK FETCH completed"
	assertNotNull "SELECT lists Later" \
	    "$(grep -F '* FLAGS (\Answered \Flagged \Deleted \Seen \Draft Later)' "$OUT")"
	session <<EOF
a1 SELECT INBOX
a2 SEARCH KEYWORD Work
a3 SEARCH UNKEYWORD Work
a4 STORE 1 -FLAGS (Work Later)
a5 SEARCH KEYWORD Later
EOF
	assertRespN a1 "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft Later \$Forwarded Work)
* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft Later \$Forwarded Work \\*)] Flags permitted
* 2 EXISTS
* 0 RECENT
* OK [UNSEEN 1] First unseen
* OK [UIDVALIDITY V] UIDs valid
* OK [UIDNEXT 3] Predicted next UID
* OK [HIGHESTMODSEQ M] Highest
* OK [MAILBOXID (I)] Mailbox id
a1 OK [READ-WRITE] SELECT completed"
	assertResp a2 "* SEARCH 1
a2 OK SEARCH completed"
	assertResp a3 "* SEARCH 2
a3 OK SEARCH completed"
	assertResp a4 "* 1 FETCH (FLAGS (\$Forwarded))
a4 OK STORE completed"
	assertResp a5 "* SEARCH 2
a5 OK SEARCH completed"
}

# 4 messages: dates, flags and sizes chosen so that each key selects a
# different set.
search_setup() {
	cat <<EOF
a1 APPEND INBOX (\Seen) "01-Jan-2024 10:00:00 +0000" $(lit "$M1")
a2 APPEND INBOX (\Flagged) "15-Feb-2024 10:00:00 +0000" $(lit "$M2")
a3 APPEND INBOX (\Seen \Flagged \Answered) "01-Mar-2024 12:00:00 +0000" $(lit "$M3")
a4 APPEND INBOX (\Deleted \Draft) "10-Mar-2024 10:00:00 +0000" $(lit "$MBIG")
a5 SELECT INBOX
EOF
}

testSearch() {
	{
		search_setup
		i=0
		while read -r key; do
			i=$((i + 1))
			echo "s$i SEARCH $key"
		done <<EOF
ALL
SEEN
UNSEEN
FLAGGED
UNFLAGGED
ANSWERED
UNANSWERED
DELETED
UNDELETED
DRAFT
UNDRAFT
NOT SEEN
OR SEEN FLAGGED
(SEEN FLAGGED)
SEEN FLAGGED
NOT (SEEN FLAGGED)
OR (SEEN ANSWERED) DRAFT
2:3
3,1
*
UID 2:*
UID 1,4
BEFORE 15-Feb-2024
ON 15-Feb-2024
SINCE 15-Feb-2024
SINCE 1-Mar-2024
LARGER $S1
SMALLER $SBIG
LARGER $((S1 - 1))
RECENT
NEW
OLD
KEYWORD nosuch
CHARSET UTF-8 ALL
seen not flagged
1:* UNSEEN
EOF
	} | session
	n=0
	while IFS= read -r want; do
		n=$((n + 1))
		assertResp s$n "* SEARCH$want
s$n OK SEARCH completed"
	done <<EOF
 1 2 3 4
 1 3
 2 4
 2 3
 1 4
 3
 1 2 4
 4
 1 2 3
 4
 1 2 3
 2 4
 1 2 3
 3
 3
 1 2 4
 3 4
 2 3
 1 3
 4
 2 3 4
 1 4
 1
 2
 2 3 4
 3 4
 4
 1 2 3
 1 2 3 4
 1 2 3 4
 2 4


 1 2 3 4
 1
 2 4
EOF
	assertEquals "all searches ran" 36 "$n"
}

testSearchErrors() {
	{
		search_setup
		echo 's1 SEARCH FROBNICATE'
		echo 's2 SEARCH BEFORE 30-Feb-2024'
		echo 's3 SEARCH OR SEEN'
		echo 's4 SEARCH (SEEN'
		echo 's5 SEARCH'
		echo 's6 SEARCH LARGER x'
		echo 's7 SEARCH CHARSET NOSUCH-CHARSET ALL'
		echo 's8 SEARCH ALL'
	} | session
	for t in s1 s2 s3 s4 s5 s6; do
		assertTrue "$t BAD" "resp $t | grep -q '^$t BAD '"
	done
	# RFC 3501 6.4.4: an unknown charset is NO [BADCHARSET].
	assertTrue "s7 NO [BADCHARSET]" "resp s7 | grep -q '^s7 NO \\[BADCHARSET'"
	assertResp s8 "* SEARCH 1 2 3 4
s8 OK SEARCH completed"
}

testUidSearchAfterExpunge() {
	{
		search_setup
		echo "b1 EXPUNGE"
		echo "b2 APPEND INBOX $(lit "$M1")"
		echo "b3 NOOP"
		echo "b4 SEARCH ALL"
		echo "b5 UID SEARCH ALL"
		echo "b6 UID SEARCH 4"
		echo "b7 UID SEARCH UID 5"
		echo "b8 SEARCH UID 5"
		echo "b9 UID SEARCH UID 4"
	} | session
	assertResp b1 "* 4 EXPUNGE
b1 OK EXPUNGE completed"
	assertResp b4 "* SEARCH 1 2 3 4
b4 OK SEARCH completed"
	assertResp b5 "* SEARCH 1 2 3 5
b5 OK UID SEARCH completed"
	assertResp b6 "* SEARCH 5
b6 OK UID SEARCH completed"
	assertResp b7 "* SEARCH 5
b7 OK UID SEARCH completed"
	assertResp b8 "* SEARCH 4
b8 OK SEARCH completed"
	assertResp b9 "* SEARCH
b9 OK UID SEARCH completed"
}

testExpunge() {
	session <<EOF
a1 APPEND INBOX $(lit "$M1")
a2 APPEND INBOX (\Deleted) $(lit "$M2")
a3 APPEND INBOX $(lit "$M3")
a4 APPEND INBOX (\Deleted) $(lit "$M1")
a5 APPEND INBOX $(lit "$M2")
a6 SELECT INBOX
a7 STORE 1 +FLAGS.SILENT (\Deleted)
a8 EXPUNGE
a9 FETCH 1:* (UID)
b1 EXPUNGE
b2 STATUS INBOX (MESSAGES UIDNEXT)
EOF
	assertResp a8 "* 4 EXPUNGE
* 2 EXPUNGE
* 1 EXPUNGE
a8 OK EXPUNGE completed"
	assertResp a9 "* 1 FETCH (UID 3)
* 2 FETCH (UID 5)
a9 OK FETCH completed"
	assertResp b1 "b1 OK EXPUNGE completed"
	assertResp b2 "* STATUS INBOX (MESSAGES 2 UIDNEXT 6)
b2 OK STATUS completed"
	# UIDs are never reused (RFC 3501 2.3.1.1).
	session <<EOF
a1 APPEND INBOX $(lit "$M1")
EOF
	assertRespN a1 "+ Ready for literal data
a1 OK [APPENDUID V 6] APPEND completed"
}

testUidFetchStore() {
	session <<EOF
a1 APPEND INBOX (\Deleted) $(lit "$M1")
a2 APPEND INBOX $(lit "$M2")
a3 APPEND INBOX (\Deleted) $(lit "$M3")
a4 APPEND INBOX $(lit "$M1")
a5 SELECT INBOX
a6 EXPUNGE
a7 UID FETCH 4 (FLAGS)
a8 UID FETCH 1:* (UID)
a9 UID FETCH 3 FLAGS
b1 UID FETCH 100 FLAGS
b2 UID FETCH 4:2 RFC822.SIZE
b3 UID FETCH * FLAGS
b4 UID FETCH 9:* UID
b5 UID STORE 4 +FLAGS (\Seen)
b6 UID STORE 2 +FLAGS.SILENT (\Seen)
b7 UID STORE 3 +FLAGS (\Seen)
b8 FETCH 1:2 FLAGS
b9 uid fetch 2 flags
EOF
	assertResp a7 "* 2 FETCH (UID 4 FLAGS (\\Recent))
a7 OK UID FETCH completed"
	assertResp a8 "* 1 FETCH (UID 2)
* 2 FETCH (UID 4)
a8 OK UID FETCH completed"
	assertResp a9 "a9 OK UID FETCH completed"
	assertResp b1 "b1 OK UID FETCH completed"
	assertResp b2 "* 1 FETCH (UID 2 RFC822.SIZE $S1)
* 2 FETCH (UID 4 RFC822.SIZE $S1)
b2 OK UID FETCH completed"
	assertResp b3 "* 2 FETCH (UID 4 FLAGS (\\Recent))
b3 OK UID FETCH completed"
	# RFC 3501 6.4.8: n:* always includes the highest UID.
	assertResp b4 "* 2 FETCH (UID 4)
b4 OK UID FETCH completed"
	assertResp b5 "* 2 FETCH (UID 4 FLAGS (\\Seen \\Recent))
b5 OK UID STORE completed"
	assertResp b6 "b6 OK UID STORE completed"
	assertResp b7 "b7 OK UID STORE completed"
	assertResp b8 "* 1 FETCH (FLAGS (\\Seen \\Recent))
* 2 FETCH (FLAGS (\\Seen \\Recent))
b8 OK FETCH completed"
	assertResp b9 "* 1 FETCH (UID 2 FLAGS (\\Seen \\Recent))
b9 OK UID FETCH completed"
}

testCopy() {
	session <<EOF
a1 APPEND INBOX (\Seen \$Kw) $D1 $(lit "$M1")
a2 APPEND INBOX $(lit "$M2")
a3 APPEND INBOX $(lit "$M3")
a4 CREATE dst
a5 SELECT INBOX
a6 COPY 1:2 dst
a7 COPY 3,1 dst
a8 COPY 1 nosuch
a9 UID COPY 2:3 dst
b1 UID COPY 7 dst
b2 STATUS dst (MESSAGES UIDVALIDITY)
b3 COPY 1 INBOX
b4 NOOP
EOF
	assertRespN a6 "a6 OK [COPYUID V 1:2 1:2] COPY completed"
	assertRespN a7 "a7 OK [COPYUID V 1,3 3:4] COPY completed"
	assertResp a8 "a8 NO [TRYCREATE] No such mailbox"
	assertRespN a9 "a9 OK [COPYUID V 2:3 5:6] UID COPY completed"
	# No message matched: nothing copied, no COPYUID (RFC 4315 4).
	assertResp b1 "b1 OK UID COPY completed"
	v=$(resp a6 | sed -n 's/.*\[COPYUID \([0-9]*\) .*/\1/p')
	assertResp b2 "* STATUS dst (MESSAGES 6 UIDVALIDITY $v)
b2 OK STATUS completed"
	# COPY into the selected mailbox shows up as a new message.
	assertEquals "b3 OK [COPYUID V 1 4] COPY completed" "$(resp b3 | tail -n 1 | norm)"
	assertHas "* 4 EXISTS"
	session <<EOF
a1 SELECT dst
a2 FETCH 1 (FLAGS INTERNALDATE BODY.PEEK[])
a3 FETCH 2 FLAGS
EOF
	assertResp a2 "* 1 FETCH (FLAGS (\\Seen \\Recent \$Kw) INTERNALDATE $D1UTC BODY[] {$S1}
$M1)
a2 OK FETCH completed"
	assertResp a3 "* 2 FETCH (FLAGS (\\Recent))
a3 OK FETCH completed"
}

testBadSequenceSets() {
	session <<EOF
a1 APPEND INBOX $(lit "$M1")
a2 APPEND INBOX $(lit "$M2")
a3 APPEND INBOX $(lit "$M3")
a4 SELECT INBOX
b1 FETCH 0 FLAGS
b2 FETCH 4 FLAGS
b3 FETCH 1:4 FLAGS
b4 FETCH 1, FLAGS
b5 FETCH a FLAGS
b6 FETCH -1 FLAGS
b7 FETCH 1:2:3 FLAGS
b8 STORE 9 +FLAGS (\Seen)
b9 COPY 9 INBOX
c1 FETCH 4294967296 FLAGS
c2 UID FETCH 0 FLAGS
c3 FETCH ,1 FLAGS
c4 UID STORE 1:x +FLAGS (\Seen)
c5 FETCH 3:1 UID
c6 FETCH 2,1,2:3 UID
EOF
	for t in b1 b2 b3 b4 b5 b6 b7 b8 b9 c1 c2 c3 c4; do
		assertResp $t "$t BAD Invalid sequence set"
	done
	assertResp c5 "* 1 FETCH (UID 1)
* 2 FETCH (UID 2)
* 3 FETCH (UID 3)
c5 OK FETCH completed"
	assertResp c6 "* 1 FETCH (UID 1)
* 2 FETCH (UID 2)
* 3 FETCH (UID 3)
c6 OK FETCH completed"
}

testReadOnly() {
	session <<EOF
a1 APPEND INBOX (\Deleted) $(lit "$M1")
a2 EXAMINE INBOX
a3 STORE 1 +FLAGS (\Seen)
a4 UID STORE 1 +FLAGS (\Seen)
a5 EXPUNGE
a6 COPY 1 INBOX
a7 FETCH 1 FLAGS
EOF
	assertResp a3 "a3 NO Mailbox is read-only"
	assertResp a4 "a4 NO Mailbox is read-only"
	assertResp a5 "a5 NO Mailbox is read-only"
	assertEquals "a6 OK [COPYUID V 1 2] COPY completed" "$(resp a6 | tail -n 1 | norm)"
	assertHas "* 2 EXISTS"
	assertTrue "flags unchanged: $(resp a7 | head -n 1)" \
	    "resp a7 | head -n 1 | grep -Eqx '\\* 1 FETCH \\(FLAGS \\(\\\\Deleted( \\\\Recent)?\\)\\)'"
}

testModseq() {
	session <<EOF
a1 APPEND INBOX $(lit "$M1")
a2 APPEND INBOX $(lit "$M2")
a3 SELECT INBOX
a4 FETCH 1:2 (MODSEQ)
EOF
	m1=$(resp a4 | sed -n 's/^\* 1 FETCH (MODSEQ (\([0-9]*\)))$/\1/p')
	m2=$(resp a4 | sed -n 's/^\* 2 FETCH (MODSEQ (\([0-9]*\)))$/\1/p')
	# SELECT's, and again at the first CONDSTORE enabling command (a4)
	h=$(sed -n 's/^\* OK \[HIGHESTMODSEQ \([0-9]*\)\] Highest$/\1/p' "$OUT" |
	    sort -u)
	assertTrue "modseqs $m1 < $m2 = highest $h" \
	    "[ '${m1:-0}' -gt 0 ] && [ '${m1:-0}' -lt '${m2:-0}' ] && [ '$m2' = '$h' ]"
	session <<EOF
a1 SELECT INBOX
a2 STORE 1 +FLAGS.SILENT (\Seen)
a3 FETCH 1:2 (MODSEQ)
a4 STORE 1 +FLAGS.SILENT (\Seen)
a5 FETCH 1 (MODSEQ)
EOF
	n1=$(resp a3 | sed -n 's/^\* 1 FETCH (MODSEQ (\([0-9]*\)))$/\1/p')
	n2=$(resp a3 | sed -n 's/^\* 2 FETCH (MODSEQ (\([0-9]*\)))$/\1/p')
	n3=$(resp a5 | sed -n 's/^\* 1 FETCH (MODSEQ (\([0-9]*\)))$/\1/p')
	assertTrue "flag change takes a new modseq ($n1 > $m2)" \
	    "[ '${n1:-0}' -gt '${m2:-0}' ]"
	assertEquals "unchanged message keeps its modseq" "$m2" "$n2"
	assertEquals "a STORE that changes nothing keeps the modseq" "$n1" "$n3"
	session <<EOF
a1 SELECT INBOX
EOF
	assertHas "* OK [HIGHESTMODSEQ $n1] Highest"
}

. "${SHUNIT2:-/usr/share/shunit2/shunit2}"
