#!/bin/bash
# t/names.sh: mailbox names are UTF-8 in the store; an IMAP4rev1 session
# reads and writes them in modified UTF-7 (RFC 3501 5.1.3), a session
# after ENABLE UTF8=ACCEPT in UTF-8 (RFC 6855); invalid spellings are
# refused; an old store (names kept as modified UTF-7) is converted.
. "$(dirname "$0")/lib.sh"

TAIPEI=$(printf '\xe5\x8f\xb0\xe5\x8c\x97')		# U+53F0 U+5317
NIHONGO=$(printf '\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e')	# U+65E5 ...
CAFE=$(printf 'Caf\xc3\xa9')
U8="e1 ENABLE UTF8=ACCEPT"

testEnable() {
	session <<EOF
a1 ENABLE UTF8=ACCEPT
a2 ENABLE UTF8=ACCEPT
EOF
	assertResp a1 "* ENABLED UTF8=ACCEPT
a1 OK ENABLE completed"
	assertResp a2 "* ENABLED
a2 OK ENABLE completed"
}

# RFC 6855 3: ENABLE UTF8=ACCEPT is valid in the authenticated state only.
testEnableNotWhenSelected() {
	session <<EOF
a1 SELECT INBOX
a2 ENABLE UTF8=ACCEPT
a3 CREATE "$CAFE"
EOF
	assertResp a2 "* ENABLED
a2 OK ENABLE completed"
	assertResp a3 "a3 NO [CANNOT] Invalid modified UTF-7 in mailbox name"
}

# RFC 3501 5.1.3's example, created by a rev1 session, read by both.
testRfc3501Example() {
	session <<EOF
a1 CREATE ~peter/mail/&U,BTFw-/&ZeVnLIqe-
a2 LIST "" ~peter/*
EOF
	assertRespN a1 "a1 OK [MAILBOXID (I)] CREATE completed"
	assertResp a2 "* LIST () \"/\" ~peter/mail/&U,BTFw-/&ZeVnLIqe-
a2 OK LIST completed"
	session <<EOF
$U8
a2 LIST "" ~peter/*
a3 LIST "" "~peter/mail/$TAIPEI/%"
EOF
	assertResp a2 "* LIST () \"/\" \"~peter/mail/$TAIPEI/$NIHONGO\"
a2 OK LIST completed"
	assertResp a3 "* LIST () \"/\" \"~peter/mail/$TAIPEI/$NIHONGO\"
a3 OK LIST completed"
}

# Created in UTF-8, every command of a rev1 session under its other name.
testUtf8NameSeenByRev1() {
	session <<EOF
$U8
a1 CREATE "$CAFE"
a2 APPEND "$CAFE" $(lit "$(mkmsg 1)")
EOF
	assertRespN a1 "a1 OK [MAILBOXID (I)] CREATE completed"
	session <<EOF
a1 LIST "" *
a2 STATUS Caf&AOk- (MESSAGES)
a3 SELECT Caf&AOk-
a4 UNSELECT
a5 SUBSCRIBE Caf&AOk-
a6 LSUB "" *
a7 STATUS "$CAFE" (MESSAGES)
EOF
	assertResp a1 "* LIST () \"/\" Caf&AOk-
* LIST () \"/\" INBOX
a1 OK LIST completed"
	assertResp a2 "* STATUS Caf&AOk- (MESSAGES 1)
a2 OK STATUS completed"
	assertHas "a3 OK [READ-WRITE] SELECT completed"
	assertResp a6 "* LSUB () \"/\" Caf&AOk-
a6 OK LSUB completed"
	assertResp a7 "a7 NO [CANNOT] Invalid modified UTF-7 in mailbox name"
	session <<EOF
$U8
a1 STATUS "$CAFE" (MESSAGES)
a2 LSUB "" *
EOF
	assertResp a1 "* STATUS \"$CAFE\" (MESSAGES 1)
a1 OK STATUS completed"
	assertResp a2 "* LSUB () \"/\" \"$CAFE\"
a2 OK LSUB completed"
}

testRenameDeleteBothSpellings() {
	session <<EOF
a0 CREATE Caf&AOk-
a1 CREATE Caf&AOk-/x
a2 RENAME Caf&AOk- &ZeVnLIqe-
EOF
	assertResp a2 "a2 OK RENAME completed"
	session <<EOF
$U8
a1 LIST "" *
a2 RENAME "$NIHONGO/x" "$TAIPEI"
a3 DELETE "$NIHONGO"
EOF
	assertResp a1 "* LIST () \"/\" INBOX
* LIST () \"/\" \"$NIHONGO\"
* LIST () \"/\" \"$NIHONGO/x\"
a1 OK LIST completed"
	assertResp a3 "a3 OK DELETE completed"
	session <<EOF
a1 LIST "" *
a2 DELETE &U,BTFw-
a3 LIST "" *
EOF
	assertResp a1 "* LIST () \"/\" INBOX
* LIST () \"/\" &U,BTFw-
a1 OK LIST completed"
	assertResp a3 "* LIST () \"/\" INBOX
a3 OK LIST completed"
}

# "&" is "&-" in modified UTF-7, itself in UTF-8.
testAmpersand() {
	session <<EOF
a1 CREATE a&-b
EOF
	assertRespN a1 "a1 OK [MAILBOXID (I)] CREATE completed"
	session <<EOF
$U8
a1 LIST "" a*
a2 CREATE x&AGE-
EOF
	assertResp a1 "* LIST () \"/\" a&b
a1 OK LIST completed"
	session <<EOF
a1 LIST "" x*
EOF
	assertResp a1 "* LIST () \"/\" x&-AGE-
a1 OK LIST completed"
}

# RFC 3501 5.1.3: one spelling only; each of these is refused.
testInvalidModifiedUtf7() {
	session <<EOF
a1 CREATE &AGE-
a2 CREATE &ACY-
a3 CREATE a&
a4 CREATE a&AOk
a5 CREATE &AOk-&AOk-
a6 CREATE &AOl-
a7 CREATE &2D0-
a8 CREATE "&AOk/-"
a9 SELECT &AGE-
b1 CREATE "$CAFE"
b2 RENAME INBOX &AGE-
b3 LIST "" *
EOF
	for t in a1 a2 a3 a4 a5 a6 a7 a8 b1; do
		assertResp $t "$t NO [CANNOT] Invalid modified UTF-7 in mailbox name"
	done
	assertResp a9 "a9 NO [CANNOT] Invalid modified UTF-7 in mailbox name"
	assertResp b2 "b2 NO [CANNOT] Invalid modified UTF-7 in mailbox name"
	assertResp b3 "* LIST () \"/\" INBOX
b3 OK LIST completed"
}

# RFC 6855 3: invalid UTF-8 is BAD; controls, U+2028 and U+2029 are no
# names.
testInvalidUtf8() {
	i=0
	for b in '\xc0\xaf' '\xe0\x80\xaf' '\xed\xa0\x80' '\xf4\x90\x80\x80' \
	    'a\xe6\x97' '\xff'; do
		i=$((i + 1))
		printf "$U8\na$i CREATE {%d+}\n$b\ns$i STATUS \"x$b\" (MESSAGES)\n" \
		    "$(printf "$b" | wc -c)" | session
		assertResp a$i "a$i BAD Invalid UTF-8 in mailbox name"
		assertResp s$i "s$i BAD Invalid UTF-8 in quoted string"
	done
	printf "$U8\nb1 CREATE \"a\xc2\x85\"\nb2 CREATE \"a\xe2\x80\xa8\"\nb3 LIST \"\" *\n" |
	    session
	assertResp b1 "b1 NO [CANNOT] Invalid mailbox name"
	assertResp b2 "b2 NO [CANNOT] Invalid mailbox name"
	assertResp b3 "* LIST () \"/\" INBOX
b3 OK LIST completed"
}

testListPatterns() {
	session <<EOF
$U8
a1 CREATE "$TAIPEI/$NIHONGO"
a2 CREATE "$CAFE"
a3 LIST "" "$TAIPEI*"
a4 LIST "" "$TAIPEI%"
a5 LIST "$TAIPEI/" "%"
a6 LIST "" "Caf?"
a7 LIST "" "%$(printf '\xc3\xa9')"
EOF
	assertResp a3 "* LIST () \"/\" \"$TAIPEI/$NIHONGO\"
a3 OK LIST completed"
	assertResp a4 "* LIST (\\Noselect) \"/\" \"$TAIPEI\"
a4 OK LIST completed"
	assertResp a5 "* LIST () \"/\" \"$TAIPEI/$NIHONGO\"
a5 OK LIST completed"
	assertResp a6 "a6 OK LIST completed"
	assertResp a7 "* LIST () \"/\" \"$CAFE\"
a7 OK LIST completed"
	session <<EOF
a1 LIST "" &U,BTFw-*
a2 LIST &U,BTFw-/ %
a3 LIST "" %&AOk-
a4 LIST "" &U,B*
a5 LIST "" Caf%
EOF
	assertResp a1 "* LIST () \"/\" &U,BTFw-/&ZeVnLIqe-
a1 OK LIST completed"
	assertResp a2 "* LIST () \"/\" &U,BTFw-/&ZeVnLIqe-
a2 OK LIST completed"
	assertResp a3 "* LIST () \"/\" Caf&AOk-
a3 OK LIST completed"
	assertResp a4 "a4 BAD Invalid modified UTF-7 in LIST pattern"
	assertResp a5 "* LIST () \"/\" Caf&AOk-
a5 OK LIST completed"
}

# RFC 6855 3: no SEARCH with CHARSET once UTF8=ACCEPT is enabled.
testSearchCharset() {
	session <<EOF
a1 SELECT INBOX
a2 SEARCH CHARSET UTF-8 ALL
EOF
	assertResp a2 "* SEARCH
a2 OK SEARCH completed"
	session <<EOF
$U8
a1 SELECT INBOX
a2 SEARCH CHARSET UTF-8 ALL
a3 SEARCH SUBJECT "$CAFE"
a4 SEARCH SUBJECT "$(printf 'a\xc3')"
EOF
	assertResp a2 "a2 BAD SEARCH CHARSET is not allowed after ENABLE UTF8=ACCEPT"
	assertResp a3 "* SEARCH
a3 OK SEARCH completed"
	assertResp a4 "a4 BAD Invalid UTF-8 in quoted string"
}

# RFC 6855 4: the UTF8 data extension; 8-bit header fields need ENABLE.
testAppendUtf8() {
	m=$(printf 'From: J\xc3\xb6rg <j@example.org>\nSubject: %s\n\nhi' "$CAFE")
	session <<EOF
a1 APPEND INBOX $(lit "$m")
a2 APPEND INBOX UTF8 (~$(lit "$m"))
a3 APPEND INBOX $(lit "$(printf 'Subject: x\n\n\xc3\xa9')")
EOF
	assertResp a1 "+ Ready for literal data
a1 NO Message has 8-bit header fields: ENABLE UTF8=ACCEPT first"
	assertResp a2 "+ Ready for literal data
a2 NO Message has 8-bit header fields: ENABLE UTF8=ACCEPT first"
	assertEquals "a3 OK" 1 "$(grep -c '^a3 OK \[APPENDUID [0-9]* 1\] ' "$OUT")"
	session <<EOF
$U8
a2 APPEND INBOX UTF8 (~$(litp "$m"))
a3 APPEND INBOX (\\Seen) UTF8 (~$(litp "$m"))
a4 APPEND INBOX UTF8 ($(litp "$m"))
a5 APPEND INBOX UTF8 (~$(litp "$m") x)
a6 SELECT INBOX
a7 FETCH 2:3 (FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])
EOF
	assertEquals "a2, a3 OK" 2 \
	    "$(grep -c '^a[23] OK \[APPENDUID [0-9]* [23]\] ' "$OUT")"
	assertResp a4 "a4 BAD Missing or invalid arguments"
	assertResp a5 "a5 BAD Missing or invalid arguments"
	assertHas "Subject: $CAFE"
	assertHas "* 3 FETCH (FLAGS (\\Seen \\Recent) BODY[HEADER.FIELDS (SUBJECT)] {18}"
}

testCapability() {
	session <<EOF
a1 CAPABILITY
EOF
	assertHas "* CAPABILITY $CAPS_AUTH"
}

# imapd -D takes the mailbox name in UTF-8.
testDeliverUtf8Name() {
	printf '%s\n' "$(mkmsg 1)" | run_imapd -d "$STORE" -D "$TAIPEI" \
	    >/dev/null 2>&1
	assertEquals "exit status" 0 "$?"
	printf 'x\n' | run_imapd -d "$STORE" -D "$(printf 'a\xc0\xaf')" \
	    >/dev/null 2>&1
	assertEquals "exit status, invalid UTF-8" 65 "$?"
	session <<EOF
a1 STATUS &U,BTFw- (MESSAGES)
EOF
	assertResp a1 "* STATUS &U,BTFw- (MESSAGES 1)
a1 OK STATUS completed"
}

# A store of the old code: names kept as the client sent them, modified
# UTF-7 with '&' written as itself in the directory name, and the old
# subscriptions. Opened, it is converted once; both sessions see it.
testOldStore() {
	session <<EOF
$U8
a1 CREATE "$TAIPEI"
a2 APPEND "$TAIPEI" $(lit "$(mkmsg 1)")
a3 CREATE "x/y"
EOF
	box=$STORE/box
	# x/a&-b: valid modified UTF-7; &AGE-: not, so kept as it was
	mv "$box/$TAIPEI" "$box/&U,BTFw-" &&
	    mv "$box/x%2Fy" "$box/x%2Fa&-b" && mkdir "$box/&AGE-" &&
	    cp "$box/INBOX/"* "$box/&AGE-" &&
	    rm "$STORE/utf8names" &&
	    printf '&U,BTFw-\nx/a&-b\n&AGE-\nINBOX\n' >"$STORE/subscriptions"
	assertEquals "old store made" 0 "$?"
	[ -z "$T_OWNER" ] || chown -R "$T_OWNER" "$STORE"
	session <<EOF
a1 LIST "" *
a2 STATUS &U,BTFw- (MESSAGES)
a3 LSUB "" *
EOF
	assertResp a1 "* LIST () \"/\" &-AGE-
* LIST () \"/\" INBOX
* LIST () \"/\" x/a&-b
* LIST () \"/\" &U,BTFw-
a1 OK LIST completed"
	assertResp a2 "* STATUS &U,BTFw- (MESSAGES 1)
a2 OK STATUS completed"
	assertResp a3 "* LSUB () \"/\" &-AGE-
* LSUB () \"/\" INBOX
* LSUB () \"/\" x/a&-b
* LSUB () \"/\" &U,BTFw-
a3 OK LSUB completed"
	assertTrue "converted" "[ -d '$box/$TAIPEI' ] && [ -f '$STORE/utf8names' ]"
	session <<EOF
$U8
a1 LIST "" *
a2 SELECT "$TAIPEI"
EOF
	assertResp a1 "* LIST () \"/\" &AGE-
* LIST () \"/\" INBOX
* LIST () \"/\" x/a&b
* LIST () \"/\" \"$TAIPEI\"
a1 OK LIST completed"
	assertHas "* 1 EXISTS"
}

. shunit2
