#!/bin/bash
# t/esearch.sh: ESEARCH (RFC 4731: SEARCH RETURN (MIN MAX ALL COUNT), the
# ESEARCH response, MODSEQ in it as RFC 7162 3.1.10 says) and SEARCHRES
# (RFC 5182: RETURN (SAVE) and "$" in FETCH, STORE, COPY, SEARCH,
# EXPUNGE and their UID forms). Every example of both RFCs is here with
# a mailbox built so that the RFC's own numbers come out; then the error
# cases, "$" emptied on deselection and after expunges, and IMAP4rev2's
# ESEARCH-only answers (RFC 9051 6.4.4) where the server offers it.
. "$(dirname "$0")/lib.sh"

# amsg BOX FLAGS DATE FROM [BODY]: an APPEND of one message with its
# internal date (DATE: d-Mon-yyyy) and From.
amsg() {
	t_d=$3
	[ "${t_d#?-}" != "$t_d" ] && t_d=0$t_d	# date-day-fixed
	echo "p APPEND $1 ($2) \"$t_d 10:00:00 +0000\" $(litp "$(printf 'From: %s\nSubject: test\n\n%s' "$4" "${5:-hello}")")"
}

# src NAME COUNT FLAGS DATE FROM [BODY]: a mailbox NAME with at least
# COUNT copies of one message, each COPY 1:* doubling it.
src() {
	echo "c CREATE $1"
	amsg "$1" "$3" "$4" "$5" "$6"
	echo "s SELECT $1"
	t_n=1
	while [ "$t_n" -lt "$2" ]; do
		echo "d COPY 1:* $1"
		t_n=$((t_n * 2))
	done
}

# seg NAME COUNT: the first COUNT messages of NAME copied to INBOX.
seg() {
	echo "s SELECT $1"
	echo "d COPY 1:$2 INBOX"
}

# exists N: the last session's INBOX (SELECTed by tag "x") holds N.
exists() {
	assertEquals "fixture" "* $1 EXISTS" "$(resp x | grep EXISTS)"
}

# next_modseq N: the store's counter hands out N next (imapd-store(5),
# counter: next at offset 8, ceiling at 16; the process that opens the
# store alone moves next up to the ceiling, so both are N). No session
# may be open.
next_modseq() {
	perl -e 'print pack("Q<Q<", $ARGV[0], $ARGV[0])' "$1" |
	    dd of="$STORE/counter" bs=1 seek=8 conv=notrunc status=none
}

# fetch_pairs: "seq uid" for each "* seq FETCH (UID uid ..." line of $OUT.
fetch_pairs() {
	sed -n 's/^\* \([0-9]*\) FETCH (UID \([0-9]*\) .*/\1 \2/p' "$OUT"
}

BIG=$(head -c 5000 /dev/zero | tr '\0' x)

# The mailbox of RFC 4731's examples A282-A284 and A286: FLAGGED SINCE
# 1-Feb-1994 NOT FROM "Smith" is 2, 10 and 11 (5 is from Smith, 6 is
# older); the first unseen is 4; 15 messages (6 to 20) are \Deleted.
rfc4731_box() {
	for i in $(seq 1 20); do
		f=
		case $i in 1|2|3|5) f='\Seen' ;; esac
		case $i in 2|5|6|10|11) f="$f \\Flagged" ;; esac
		[ "$i" -ge 6 ] && f="$f \\Deleted"
		d=1-Mar-1994
		from=Jones
		[ "$i" = 6 ] && d=1-Jan-1994
		[ "$i" = 5 ] && from=Smith
		amsg INBOX "$(echo $f)" "$d" "$from"
	done
}

testRfc4731Examples() {
	{
		rfc4731_box
		cat <<'EOF'
x SELECT INBOX
A282 SEARCH RETURN (MIN COUNT) FLAGGED SINCE 1-Feb-1994 NOT FROM "Smith"
A283 SEARCH RETURN () FLAGGED SINCE 1-Feb-1994 NOT FROM "Smith"
A284 SEARCH RETURN (MIN) UNSEEN
A286 SEARCH RETURN (COUNT) DELETED
EOF
	} | session
	exists 20
	assertResp A282 '* ESEARCH (TAG "A282") MIN 2 COUNT 3
A282 OK SEARCH completed'
	assertResp A283 '* ESEARCH (TAG "A283") ALL 2,10:11
A283 OK SEARCH completed'
	assertResp A284 '* ESEARCH (TAG "A284") MIN 4
A284 OK SEARCH completed'
	assertResp A286 '* ESEARCH (TAG "A286") COUNT 15
A286 OK SEARCH completed'
}

# RFC 4731 A285: the UIDs of 1:5000 are 7 to 3800 (4096 made, the
# others expunged); the set names more messages than there are.
testRfc4731UidMinMax() {
	{
		src INBOX 4096 '' 1-Mar-2020 Jones
		cat <<'EOF'
u UID STORE 1:6,3801:* +FLAGS.SILENT (\Deleted)
e EXPUNGE
x SELECT INBOX
A285 UID SEARCH RETURN (MIN MAX) 1:5000
EOF
	} | session
	exists 3794
	assertResp A285 '* ESEARCH (TAG "A285") UID MIN 7 MAX 3800
A285 OK UID SEARCH completed'
}

# The mailbox of RFC 7162 example 15 and RFC 4731 3.2: 23 messages; those
# with a MODSEQ of 620162338 or more are 2 5 6 7 11 12 18 19 20 23, the
# highest is 11's (917162500), 2 has 917162488 and 23 907162321.
modseq_box() {
	for i in $(seq 1 23); do
		amsg INBOX '' 1-Mar-2020 Jones
	done | session
	for step in "620162338 5:7,12,18:20" "907162321 23" "917162488 2" \
	    "917162500 11"; do
		next_modseq "${step% *}"
		session_cmds -- "s SELECT INBOX" \
		    "t STORE ${step#* } +FLAGS.SILENT (\\Draft)"
	done
}

testRfc4731Modseq() {
	modseq_box
	session <<'EOF'
x SELECT INBOX
a SEARCH MODSEQ "/flags/\\draft" all 620162338
a1 SEARCH RETURN (MIN) MODSEQ "/flags/\\draft" all 620162338
a2 SEARCH RETURN (MAX) MODSEQ "/flags/\\draft" all 620162338
a3 SEARCH RETURN (MIN MAX) MODSEQ "/flags/\\draft" all 620162338
a4 SEARCH RETURN (MIN COUNT) MODSEQ "/flags/\\draft" all 620162338
a5 UID SEARCH RETURN (MAX) MODSEQ 917162489
a6 SEARCH RETURN (MIN MAX COUNT ALL) MODSEQ 917162501
EOF
	exists 23
	assertResp a '* OK [HIGHESTMODSEQ 917162500] Highest
* SEARCH 2 5 6 7 11 12 18 19 20 23 (MODSEQ 917162500)
a OK SEARCH completed'
	assertResp a1 '* ESEARCH (TAG "a1") MIN 2 MODSEQ 917162488
a1 OK SEARCH completed'
	assertResp a2 '* ESEARCH (TAG "a2") MAX 23 MODSEQ 907162321
a2 OK SEARCH completed'
	assertResp a3 '* ESEARCH (TAG "a3") MIN 2 MAX 23 MODSEQ 917162488
a3 OK SEARCH completed'
	assertResp a4 '* ESEARCH (TAG "a4") MIN 2 COUNT 10 MODSEQ 917162500
a4 OK SEARCH completed'
	assertResp a5 '* ESEARCH (TAG "a5") UID MAX 11 MODSEQ 917162500
a5 OK UID SEARCH completed'
	# Nothing found: no MIN, MAX, ALL, nor MODSEQ (RFC 7162 3.1.10).
	assertResp a6 '* ESEARCH (TAG "a6") COUNT 0
a6 OK SEARCH completed'
}

# RFC 7162 example 19.
testRfc7162Example19() {
	for i in 1 2 3 4 5; do
		amsg INBOX '' 1-Mar-2020 Jones
	done | session
	next_modseq 1234
	session <<'EOF'
x SELECT INBOX
s1 STORE 1 +FLAGS.SILENT (\Seen)
s2 STORE 2,5 +FLAGS.SILENT (\Seen)
s3 STORE 3 +FLAGS.SILENT (\Seen)
a SEARCH RETURN (ALL) MODSEQ 1234
EOF
	assertResp a '* OK [HIGHESTMODSEQ 1236] Highest
* ESEARCH (TAG "a") ALL 1:3,5 MODSEQ 1236
a OK SEARCH completed'
}

# RFC 5182 examples 1 and 2: FLAGGED SINCE 1-Feb-1994 NOT FROM "Smith"
# is messages 2, 84 and 882, UIDs 14, 100 and 1115.
testRfc5182Example1And2() {
	{
		src INBOX 2048 '' 1-Mar-2020 Jones
		cat <<'EOF'
u UID STORE 2:13,15:18,101:317 +FLAGS.SILENT (\Deleted)
e EXPUNGE
f UID STORE 14,100,1115 +FLAGS.SILENT (\Flagged)
x SELECT INBOX
A282 SEARCH RETURN (SAVE) FLAGGED SINCE 1-Feb-1994 NOT FROM "Smith"
A283 FETCH $ (UID INTERNALDATE FLAGS RFC822.HEADER)
EOF
	} | session
	assertResp A282 'A282 OK SEARCH completed'
	resp A283 >"$T_TMP/a283"
	OUT=$T_TMP/a283
	assertEquals "example 1" "2 14
84 100
882 1115" "$(fetch_pairs)"
	assertEquals "A283 OK FETCH completed" "$(tail -n 1 "$OUT")"
	# Example 2: the same, pipelined (FETCH on a line of its own with
	# the SEARCH's reply not yet read).
	sess_open A
	sess_cmd A x "SELECT INBOX"
	sess_send A 'A282 SEARCH RETURN (SAVE) FLAGGED SINCE 1-Feb-1994 NOT FROM "Smith"
A283 FETCH $ (UID INTERNALDATE FLAGS RFC822.HEADER)'
	t_wait A '^A282 ' && assertEquals "A282 OK SEARCH completed" "$R"
	t_wait A '^A283 '
	assertEquals "example 2" "2 14
84 100
882 1115" "$(fetch_pairs)"
}

# RFC 5182 example 3: of SINCE 1-Jan-2004 NOT FROM "Smith", UIDs 17, 900
# and 901 are SMALLER 4096 (the others are 5 KB; 903 is small but from
# Smith, 904 small but from 2003).
testRfc5182Example3() {
	{
		src big 1024 '' 1-Mar-2020 Jones "$BIG"
		src small 2 '' 1-Mar-2020 Jones
		src smith 1 '' 1-Mar-2020 Smith
		src old 1 '' 1-Mar-2003 Jones
		seg big 16
		seg small 1
		seg big 882
		seg small 2
		seg big 1
		seg smith 1
		seg old 1
		cat <<'EOF'
x SELECT INBOX
A300 SEARCH RETURN (SAVE) SINCE 1-Jan-2004 NOT FROM "Smith"
A301 UID SEARCH UID $ SMALLER 4096
A302 UID SEARCH $ SMALLER 4096
A303 UID SEARCH SMALLER 4096
EOF
	} | session
	exists 904
	assertResp A300 'A300 OK SEARCH completed'
	assertResp A301 '* SEARCH 17 900 901
A301 OK UID SEARCH completed'
	assertResp A302 '* SEARCH 17 900 901
A302 OK UID SEARCH completed'
	assertResp A303 '* SEARCH 17 900 901 903 904
A303 OK UID SEARCH completed'
}

# RFC 5182 example 4 (and RFC 9051's, with UTF-8 text and ESEARCH):
# messages 882, 1102, 3003, 3005, 3006 and 3027 hold the word; 3027 is
# from 1990, neither in "$" nor in 1,3000:3021.
testRfc5182Example4() {
	word='мать'
	{
		src plain 2048 '' 1-Mar-2020 Jones
		src word 2 '' 1-Mar-2020 Jones "a $word b"
		src old 1 '' 1-Mar-1990 Jones "a $word b"
		seg plain 881
		seg word 1
		seg plain 219
		seg word 1
		seg plain 1900
		seg word 1
		seg plain 1
		seg word 2
		seg plain 20
		seg old 1
		echo "x SELECT INBOX"
		echo 'P282 SEARCH RETURN (SAVE) SINCE 1-Feb-1994 NOT FROM "Smith"'
		echo "P283 SEARCH CHARSET UTF-8 (OR \$ 1,3000:3021) TEXT $(lit "$word")"
		echo "P284 SEARCH RETURN () CHARSET UTF-8 (OR \$ 1,3000:3021) TEXT $(litp "$word")"
		echo "P285 SEARCH TEXT $(litp "$word")"
	} | session
	exists 3027
	assertResp P282 'P282 OK SEARCH completed'
	assertEquals "a word of 8 octets" 8 "$(printf %s "$word" | wc -c)"
	assertEquals "example 4" '* SEARCH 882 1102 3003 3005 3006
P283 OK SEARCH completed' "$(resp P283 | grep -v '^+ ')"
	assertResp P284 '* ESEARCH (TAG "P284") ALL 882,1102,3003,3005:3006
P284 OK SEARCH completed'
	assertResp P285 '* SEARCH 882 1102 3003 3005 3006 3027
P285 OK SEARCH completed'
}

# RFC 5182 example 5 as RFC 9051 6.4.4.4 writes it (B283 with SAVE): the
# NO empties "$". RFC 5182's B283 has no SAVE; 2.1 says such a NO leaves
# "$" as it was (imapd(8) follows 2.1).
testRfc5182Example5() {
	{
		rfc4731_box
		cat <<'EOF'
x SELECT INBOX
B282 SEARCH RETURN (SAVE) SINCE 1-Feb-1994 NOT FROM "Smith"
B283 SEARCH CHARSET KOI8-R (OR $ 1,3000:3021) TEXT {4+}
XXXX
b1 SEARCH $
B284 SEARCH RETURN (SAVE) CHARSET KOI8-R (OR $ 1,3000:3021) TEXT {4+}
XXXX
b2 SEARCH $
b3 FETCH $ (FLAGS)
EOF
	} | session
	assertResp B282 'B282 OK SEARCH completed'
	assertResp B283 'B283 NO [BADCHARSET (US-ASCII UTF-8)] Unsupported charset'
	assertResp b1 '* SEARCH 1 2 3 4 7 8 9 10 11 12 13 14 15 16 17 18 19 20
b1 OK SEARCH completed'
	assertResp B284 'B284 NO [BADCHARSET (US-ASCII UTF-8)] Unsupported charset'
	assertResp b2 '* SEARCH
b2 OK SEARCH completed'
	assertResp b3 'b3 OK FETCH completed'
}

# RFC 5182 example 6: "$" names no message, which is no error.
testRfc5182Example6() {
	{
		amsg INBOX '' 1-Mar-2005 Jones
		amsg INBOX '' 1-Mar-2007 Eric
		cat <<'EOF'
c CREATE "Other Messages"
x SELECT INBOX
E282 SEARCH RETURN (SAVE) SINCE 28-Oct-2006 NOT FROM "Eric"
E283 COPY $ "Other Messages"
E284 STATUS "Other Messages" (MESSAGES)
EOF
	} | session
	assertResp E282 'E282 OK SEARCH completed'
	assertResp E283 'E283 OK COPY completed'
	assertResp E284 '* STATUS "Other Messages" (MESSAGES 0)
E284 OK STATUS completed'
}

# RFC 5182 example 7, pipelined: the $Junk messages (2 and 4) copied to
# Junk, then \Deleted.
testRfc5182Example7() {
	{
		for i in 1 2 3 4 5; do
			k=
			case $i in 2|4) k='$Junk' ;; esac
			amsg INBOX "$k" 1-Mar-2007 Jones
		done
		cat <<'EOF'
c CREATE Junk
x SELECT INBOX
F282 SEARCH RETURN (SAVE) KEYWORD $Junk
F283 COPY $ "Junk"
F284 STORE $ +FLAGS.Silent (\Deleted)
F285 SEARCH DELETED
F286 STATUS Junk (MESSAGES)
EOF
	} | session
	assertResp F282 'F282 OK SEARCH completed'
	assertEquals "F283" "F283 OK [COPYUID V 2,4 1:2] COPY completed" \
	    "$(resp F283 | norm)"
	assertResp F284 'F284 OK STORE completed'
	assertResp F285 '* SEARCH 2 4
F285 OK SEARCH completed'
	assertResp F286 '* STATUS Junk (MESSAGES 2)
F286 OK STATUS completed'
}

# RFC 5182 examples 8 and 9: SINCE 28-Oct-2006 FROM "Eric" is 3:15, 27
# and 29:103; $Junk is 1 and 28. The second SAVE replaces the first.
testRfc5182Example8And9() {
	{
		src eric 128 '' 1-Mar-2007 Eric
		src old 16 '' 1-Mar-2006 Eric
		src junk 2 '$Junk' 1-Mar-2007 Jones
		seg junk 1
		seg old 1
		seg eric 13
		seg old 11
		seg eric 1
		seg junk 1
		seg eric 75
		cat <<'EOF'
x SELECT INBOX
G282 SEARCH RETURN (SAVE) KEYWORD $Junk
G283 SEARCH RETURN (ALL) SINCE 28-Oct-2006 FROM "Eric"
g1 SEARCH $
H282 SEARCH RETURN (SAVE) KEYWORD $Junk
H283 SEARCH RETURN (SAVE) SINCE 28-Oct-2006 FROM "Eric"
h1 SEARCH RETURN (ALL) $
EOF
	} | session
	exists 103
	assertResp G282 'G282 OK SEARCH completed'
	assertResp G283 '* ESEARCH (TAG "G283") ALL 3:15,27,29:103
G283 OK SEARCH completed'
	assertResp g1 '* SEARCH 1 28
g1 OK SEARCH completed'
	assertResp H282 'H282 OK SEARCH completed'
	assertResp H283 'H283 OK SEARCH completed'
	assertResp h1 '* ESEARCH (TAG "h1") ALL 3:15,27,29:103
h1 OK SEARCH completed'
}

# RFC 5182 example 10: SINCE 12-Feb-2006 NOT FROM "Smith" is 2, 10:15
# and 21 (the RFC prints C282's answer with tag C283, a slip: the
# answer carries the tag of the command it answers).
testRfc5182Example10() {
	{
		for i in $(seq 1 22); do
			d=1-Jan-2006
			from=Jones
			case $i in 2|1[0-5]|21) d=1-Mar-2006 ;; esac
			[ "$i" = 22 ] && d=1-Mar-2006 && from=Smith
			amsg INBOX '' "$d" "$from"
		done
		cat <<'EOF'
x SELECT INBOX
c0 SEARCH RETURN (SAVE) 1
C282 SEARCH RETURN (ALL) SINCE 12-Feb-2006 NOT FROM "Smith"
c1 SEARCH $
C283 SEARCH RETURN (ALL SAVE) SINCE 12-Feb-2006 NOT FROM "Smith"
c2 SEARCH $
C284 SEARCH RETURN (SAVE MIN) SINCE 12-Feb-2006 NOT FROM "Smith"
c3 SEARCH $
C285 SEARCH RETURN (MAX SAVE MIN) SINCE 12-Feb-2006 NOT FROM "Smith"
c4 SEARCH $
C286 SEARCH RETURN (MAX SAVE MIN COUNT) SINCE 12-Feb-2006 NOT FROM "Smith"
c5 SEARCH $
C287 SEARCH RETURN (SAVE MIN) 1:9
c6 SEARCH $
C288 SEARCH RETURN (ALL SAVE MIN) SINCE 12-Feb-2006 NOT FROM "Smith"
c7 SEARCH $
EOF
	} | session
	assertResp C282 '* ESEARCH (TAG "C282") ALL 2,10:15,21
C282 OK SEARCH completed'
	assertResp c1 '* SEARCH 1
c1 OK SEARCH completed'
	assertResp C283 '* ESEARCH (TAG "C283") ALL 2,10:15,21
C283 OK SEARCH completed'
	assertResp c2 '* SEARCH 2 10 11 12 13 14 15 21
c2 OK SEARCH completed'
	assertResp C284 '* ESEARCH (TAG "C284") MIN 2
C284 OK SEARCH completed'
	assertResp c3 '* SEARCH 2
c3 OK SEARCH completed'
	assertResp C285 '* ESEARCH (TAG "C285") MIN 2 MAX 21
C285 OK SEARCH completed'
	assertResp c4 '* SEARCH 2 21
c4 OK SEARCH completed'
	assertResp C286 '* ESEARCH (TAG "C286") MIN 2 MAX 21 COUNT 8
C286 OK SEARCH completed'
	assertResp c5 '* SEARCH 2 10 11 12 13 14 15 21
c5 OK SEARCH completed'
	assertResp C287 '* ESEARCH (TAG "C287") MIN 1
C287 OK SEARCH completed'
	assertResp c6 '* SEARCH 1
c6 OK SEARCH completed'
	assertResp C288 '* ESEARCH (TAG "C288") MIN 2 ALL 2,10:15,21
C288 OK SEARCH completed'
	assertResp c7 '* SEARCH 2 10 11 12 13 14 15 21
c7 OK SEARCH completed'
}

# Nothing found: ESEARCH with the tag alone (and UID for UID SEARCH),
# COUNT 0 always; SAVE alone answers nothing; MIN and MAX of one match.
testEsearchEdges() {
	{
		rfc4731_box
		cat <<'EOF'
x SELECT INBOX
a1 SEARCH RETURN (MIN MAX ALL) DRAFT
a2 UID SEARCH RETURN () DRAFT
a3 SEARCH RETURN (COUNT MIN) DRAFT
a4 SEARCH RETURN (SAVE) ALL
a5 SEARCH RETURN (MIN MAX) FLAGGED FROM "Smith"
a6 search return (min max count all) 3:1
a7 SEARCH RETURN (MAX) ALL
a8 SEARCH RETURN (COUNT COUNT) 1:4
a9 UID SEARCH RETURN (ALL COUNT) OR 1:3 UID 9:*
EOF
	} | session
	assertResp a1 '* ESEARCH (TAG "a1")
a1 OK SEARCH completed'
	assertResp a2 '* ESEARCH (TAG "a2") UID
a2 OK UID SEARCH completed'
	assertResp a3 '* ESEARCH (TAG "a3") COUNT 0
a3 OK SEARCH completed'
	assertResp a4 'a4 OK SEARCH completed'
	assertResp a5 '* ESEARCH (TAG "a5") MIN 5 MAX 5
a5 OK SEARCH completed'
	assertResp a6 '* ESEARCH (TAG "a6") MIN 1 MAX 3 COUNT 3 ALL 1:3
a6 OK SEARCH completed'
	assertResp a7 '* ESEARCH (TAG "a7") MAX 20
a7 OK SEARCH completed'
	assertResp a8 '* ESEARCH (TAG "a8") COUNT 4
a8 OK SEARCH completed'
	assertResp a9 '* ESEARCH (TAG "a9") UID COUNT 15 ALL 1:3,9:20
a9 OK UID SEARCH completed'
}

# Bad RETURN options and sets are BAD and leave "$" as it was.
testErrors() {
	{
		rfc4731_box
		cat <<'EOF'
x SELECT INBOX
s SEARCH RETURN (SAVE) 2:3
b1 SEARCH RETURN (MIN BOGUS) ALL
b2 SEARCH RETURN MIN ALL
b3 SEARCH RETURN (MIN)
b4 SEARCH RETURN
b5 SEARCH RETURN (SAVE) NOSUCHKEY
b6 SEARCH RETURN ((MIN)) ALL
b7 FETCH $,1 (FLAGS)
b8 FETCH $:4 (FLAGS)
b9 SEARCH RETURN (SAVE) CHARSET
b10 SEARCH CHARSET UTF-8 RETURN (MIN) ALL
b11 SEARCH RETURN (SAVE) UID $,1
c1 SEARCH $
c2 FETCH $ (UID)
EOF
	} | session
	assertResp b1 'b1 BAD Invalid RETURN option'
	assertResp b2 'b2 BAD Invalid RETURN option'
	assertResp b3 'b3 BAD Invalid search criteria'
	assertResp b4 'b4 BAD Invalid RETURN option'
	assertResp b5 'b5 BAD Invalid search criteria'
	assertResp b6 'b6 BAD Invalid RETURN option'
	assertResp b7 'b7 BAD Invalid sequence set'
	assertResp b8 'b8 BAD Invalid sequence set'
	assertResp b9 'b9 BAD Missing or invalid arguments'
	assertResp b10 'b10 BAD Invalid search criteria'
	assertResp b11 'b11 BAD Invalid search criteria'
	assertResp c1 '* SEARCH 2 3
c1 OK SEARCH completed'
	assertResp c2 '* 2 FETCH (UID 2)
* 3 FETCH (UID 3)
c2 OK FETCH completed'
}

# "$" is empty before any SAVE, and again after SELECT, EXAMINE (even
# one that fails), CLOSE and UNSELECT.
testSavedReset() {
	{
		rfc4731_box
		cat <<'EOF'
x SELECT INBOX
r0 FETCH $ (UID)
s1 SEARCH RETURN (SAVE) 1:2
r1 SEARCH $
t1 SELECT INBOX
r2 SEARCH $
s2 SEARCH RETURN (SAVE) 1:2
t2 EXAMINE INBOX
r3 SEARCH $
s3 SEARCH RETURN (SAVE) 1:2
t3 UNSELECT
u3 SELECT INBOX
r4 SEARCH $
s4 SEARCH RETURN (SAVE) 1:2
t4 CLOSE
u4 SELECT INBOX
r5 SEARCH $
s5 SEARCH RETURN (SAVE) 1:2
t5 SELECT nosuch
u5 SELECT INBOX
r6 SEARCH $
s6 SEARCH RETURN (SAVE) 1:2
r7 UID FETCH $ (FLAGS)
EOF
	} | session
	assertResp r0 'r0 OK FETCH completed'
	assertResp r1 '* SEARCH 1 2
r1 OK SEARCH completed'
	for t in r2 r3 r4 r5 r6; do
		assertResp $t "* SEARCH
$t OK SEARCH completed"
	done
	assertResp r7 '* 1 FETCH (UID 1 FLAGS (\Seen))
* 2 FETCH (UID 2 FLAGS (\Flagged \Seen))
r7 OK UID FETCH completed'
}

# "$" holds UIDs: saved by SEARCH it serves UID commands, saved by UID
# SEARCH it serves commands on sequence numbers; UID STORE, UID COPY,
# UID EXPUNGE and UID SEARCH take it too.
testSavedUidCommands() {
	{
		src INBOX 8 '' 1-Mar-2020 Jones
		cat <<'EOF'
c CREATE dest
u UID STORE 1:2 +FLAGS.SILENT (\Deleted)
e EXPUNGE
x SELECT INBOX
s1 SEARCH RETURN (SAVE) 2,4:5
a1 UID FETCH $ (FLAGS)
a2 UID STORE $ +FLAGS (\Flagged)
a3 UID COPY $ dest
a4 UID SEARCH $
a5 UID SEARCH RETURN (SAVE) UID 7:8
a6 FETCH $ (UID)
a7 STORE $ +FLAGS.SILENT (\Deleted)
a8 SEARCH RETURN (SAVE) 1:5
a9 UID EXPUNGE $
b1 FETCH 1:* (UID)
c1 SEARCH $
EOF
	} | session
	exists 6
	assertResp a1 '* 2 FETCH (UID 4 FLAGS ())
* 4 FETCH (UID 6 FLAGS ())
* 5 FETCH (UID 7 FLAGS ())
a1 OK UID FETCH completed'
	assertResp a2 '* 2 FETCH (UID 4 FLAGS (\Flagged))
* 4 FETCH (UID 6 FLAGS (\Flagged))
* 5 FETCH (UID 7 FLAGS (\Flagged))
a2 OK UID STORE completed'
	assertEquals "a3" 'a3 OK [COPYUID V 4,6:7 1:3] UID COPY completed' \
	    "$(resp a3 | norm)"
	assertResp a4 '* SEARCH 4 6 7
a4 OK UID SEARCH completed'
	assertResp a6 '* 5 FETCH (UID 7)
* 6 FETCH (UID 8)
a6 OK FETCH completed'
	assertResp a9 '* 5 EXPUNGE
a9 OK UID EXPUNGE completed'
	assertResp b1 '* 1 FETCH (UID 3)
* 2 FETCH (UID 4)
* 3 FETCH (UID 5)
* 4 FETCH (UID 6)
* 5 FETCH (UID 8)
b1 OK FETCH completed'
	assertResp c1 '* SEARCH 1 2 3 4
c1 OK SEARCH completed'
}

# An expunged message leaves "$" (RFC 5182 2.1), whoever expunged it;
# until the client is told, the message is still in its view and in "$".
# A message added later is not in "$", though its UID is above them all.
testSavedExpunged() {
	{
		src INBOX 8 '' 1-Mar-2020 Jones
	} | session
	sess_open A
	sess_open B
	sess_cmd A a1 "SELECT INBOX"
	sess_cmd A a2 'SEARCH RETURN (SAVE) 2:4,7:*'
	sess_cmd A a3 'STORE 3 +FLAGS.SILENT (\Deleted)'
	sess_cmd A a4 'EXPUNGE'
	assertEquals "own expunge" '* 3 EXPUNGE
a4 OK EXPUNGE completed' "$R"
	sess_cmd A a5 'SEARCH $'
	assertEquals "a5" '* SEARCH 2 3 6 7
a5 OK SEARCH completed' "$R"
	sess_cmd B b1 "SELECT INBOX"
	sess_cmd B b2 'UID STORE 7 +FLAGS.SILENT (\Deleted)'
	sess_cmd B b3 'EXPUNGE'
	sess_cmd B b4 "APPEND INBOX {5+}
hello"
	# FETCH may not tell of the expunge (RFC 3501 7.4.1): 7 is still there.
	sess_cmd A a6 'FETCH $ (UID)'
	assertEquals "a6" '* 2 FETCH (UID 2)
* 3 FETCH (UID 4)
* 6 FETCH (UID 7)
* 7 FETCH (UID 8)
* 8 EXISTS
* 0 RECENT
* 6 FETCH (FLAGS (\Deleted))
a6 OK FETCH completed' "$R"
	sess_cmd A a7 'NOOP'
	sess_cmd A a8 'UID SEARCH $'
	assertEquals "a8" '* SEARCH 2 4 8
a8 OK UID SEARCH completed' "$R"
	sess_cmd A a9 'FETCH $ (UID)'
	assertEquals "a9" '* 2 FETCH (UID 2)
* 3 FETCH (UID 4)
* 6 FETCH (UID 8)
a9 OK FETCH completed' "$R"
}

# IMAP4rev2 (RFC 9051 6.4.4): every SEARCH answers ESEARCH, never SEARCH.
# Runs where the server offers IMAP4rev2 (skipped before it does).
testRev2() {
	session <<'EOF'
a CAPABILITY
EOF
	if ! grep -q '^\* CAPABILITY .* IMAP4rev2' "$OUT"; then
		startSkipping
	fi
	{
		rfc4731_box
		cat <<'EOF'
e ENABLE IMAP4rev2
x SELECT INBOX
A283 SEARCH FLAGGED SINCE 1-Feb-1994 NOT FROM "Smith"
A284 SEARCH TEXT "string not in mailbox"
A285 UID SEARCH FLAGGED
A286 SEARCH RETURN (COUNT) DELETED
A287 SEARCH RETURN (SAVE) FLAGGED
A288 SEARCH MODSEQ 1 FLAGGED
A289 FETCH 11 (MODSEQ)
EOF
	} | session
	assertResp A283 '* ESEARCH (TAG "A283") ALL 2,10:11
A283 OK SEARCH completed'
	assertResp A284 '* ESEARCH (TAG "A284")
A284 OK SEARCH completed'
	assertResp A285 '* ESEARCH (TAG "A285") UID ALL 2,5:6,10:11
A285 OK UID SEARCH completed'
	assertResp A286 '* ESEARCH (TAG "A286") COUNT 15
A286 OK SEARCH completed'
	assertResp A287 'A287 OK SEARCH completed'
	m=$(resp A289 | sed -n 's/^\* 11 FETCH (MODSEQ (\([0-9]*\)))$/\1/p')
	assertEquals "A288" "* OK [HIGHESTMODSEQ M] Highest
* ESEARCH (TAG \"A288\") ALL 2,5:6,10:11 MODSEQ $m
A288 OK SEARCH completed" "$(resp A288 | norm)"
	assertHasNot '* SEARCH'
	endSkipping
}

. "${SHUNIT2:-/usr/share/shunit2/shunit2}"
