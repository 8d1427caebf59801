#!/bin/bash
# t/list.sh: LIST-EXTENDED (RFC 5258), LIST-STATUS (RFC 5819), CHILDREN
# (RFC 3348), SPECIAL-USE and CREATE-SPECIAL-USE (RFC 6154), NAMESPACE
# (RFC 2342), STATUS=SIZE (RFC 8438). The RFCs' examples, with imapd's
# names for their mailboxes ("INBOX", sorted, no \Marked). The stores
# of t/lib.sh are not new, so they have no special-use mailboxes but
# those a test makes.
. "$(dirname "$0")/lib.sh"

# mk NAME...: CREATE each; sub NAME...: SUBSCRIBE each.
mk() {
	i=0
	for n in "$@"; do
		i=$((i + 1))
		echo "m$i CREATE $n"
	done | session
	assertEquals "created $*" "$#" "$(grep -c '^m[0-9]* OK' "$OUT")"
}
sub() {
	i=0
	for n in "$@"; do
		i=$((i + 1))
		echo "s$i SUBSCRIBE $n"
	done | session
	assertEquals "subscribed $*" "$#" "$(grep -c '^s[0-9]* OK' "$OUT")"
}

# RFC 5258 5, examples 1 to 6.
rfc5258_store() {
	mk Fruit Fruit/Apple Fruit/Banana Tofu Vegetable Vegetable/Broccoli \
	    Vegetable/Corn
	sub INBOX Fruit/Banana Fruit/Peach Vegetable Vegetable/Broccoli
}

testRfc5258Examples1to3() {
	rfc5258_store
	session <<'EOF'
A01 LIST "" "*"
A02 LIST (SUBSCRIBED) "" "*"
A03 LIST () "" "%" RETURN (CHILDREN)
EOF
	assertResp A01 '* LIST () "/" Fruit
* LIST () "/" Fruit/Apple
* LIST () "/" Fruit/Banana
* LIST () "/" INBOX
* LIST () "/" Tofu
* LIST () "/" Vegetable
* LIST () "/" Vegetable/Broccoli
* LIST () "/" Vegetable/Corn
A01 OK LIST completed'
	assertResp A02 '* LIST (\Subscribed) "/" Fruit/Banana
* LIST (\Subscribed \NonExistent) "/" Fruit/Peach
* LIST (\Subscribed) "/" INBOX
* LIST (\Subscribed) "/" Vegetable
* LIST (\Subscribed) "/" Vegetable/Broccoli
A02 OK LIST completed'
	assertResp A03 '* LIST (\HasChildren) "/" Fruit
* LIST (\HasNoChildren) "/" INBOX
* LIST (\HasNoChildren) "/" Tofu
* LIST (\HasChildren) "/" Vegetable
A03 OK LIST completed'
}

# REMOTE: imapd has no remote mailboxes, so it changes nothing.
testRfc5258Examples4to6() {
	rfc5258_store
	session <<'EOF'
A04 LIST (REMOTE) "" "%" RETURN (CHILDREN)
A05 LIST (REMOTE SUBSCRIBED) "" "*"
A06 LIST (REMOTE) "" "*" RETURN (SUBSCRIBED)
EOF
	assertResp A04 '* LIST (\HasChildren) "/" Fruit
* LIST (\HasNoChildren) "/" INBOX
* LIST (\HasNoChildren) "/" Tofu
* LIST (\HasChildren) "/" Vegetable
A04 OK LIST completed'
	assertResp A05 '* LIST (\Subscribed) "/" Fruit/Banana
* LIST (\Subscribed \NonExistent) "/" Fruit/Peach
* LIST (\Subscribed) "/" INBOX
* LIST (\Subscribed) "/" Vegetable
* LIST (\Subscribed) "/" Vegetable/Broccoli
A05 OK LIST completed'
	assertResp A06 '* LIST () "/" Fruit
* LIST () "/" Fruit/Apple
* LIST (\Subscribed) "/" Fruit/Banana
* LIST (\Subscribed) "/" INBOX
* LIST () "/" Tofu
* LIST (\Subscribed) "/" Vegetable
* LIST (\Subscribed) "/" Vegetable/Broccoli
* LIST () "/" Vegetable/Corn
A06 OK LIST completed'
}

# Example 7: several patterns; a name matching two is listed once.
testRfc5258Example7() {
	fresh_store
	mk Sent/March2004 Sent/December2003 Sent/August2004
	session <<'EOF'
BBB LIST "" ("INBOX" "Drafts" "Sent/%")
BBC LIST "" ("Sent/*" "Sent/%" "" "*2004")
EOF
	assertResp BBB '* LIST (\Drafts) "/" Drafts
* LIST () "/" INBOX
* LIST () "/" Sent/August2004
* LIST () "/" Sent/December2003
* LIST () "/" Sent/March2004
BBB OK LIST completed'
	assertResp BBC '* LIST () "/" Sent/August2004
* LIST () "/" Sent/December2003
* LIST () "/" Sent/March2004
BBC OK LIST completed'
}

testRfc5258Example8() {
	mk Foo Foo/Bar Foo/Baz Moo
	session <<'EOF'
CA3 LIST "" "%" RETURN (CHILDREN)
EOF
	assertResp CA3 '* LIST (\HasChildren) "/" Foo
* LIST (\HasNoChildren) "/" INBOX
* LIST (\HasNoChildren) "/" Moo
CA3 OK LIST completed'
	# B: nothing subscribed
	session <<'EOF'
C04 LIST (SUBSCRIBED RECURSIVEMATCH) "" "%"
EOF
	assertResp C04 'C04 OK LIST completed'
	# A: only Foo/Baz
	sub Foo/Baz
	session <<'EOF'
C02 LIST (SUBSCRIBED) "" "*"
C03 LIST (SUBSCRIBED) "" "%"
C04 LIST (SUBSCRIBED RECURSIVEMATCH) "" "%"
EOF
	assertResp C02 '* LIST (\Subscribed) "/" Foo/Baz
C02 OK LIST completed'
	assertResp C03 'C03 OK LIST completed'
	assertResp C04 '* LIST () "/" Foo ("CHILDINFO" ("SUBSCRIBED"))
C04 OK LIST completed'
	# A1: Foo too
	sub Foo
	session <<'EOF'
C04 LIST (SUBSCRIBED RECURSIVEMATCH) "" "%"
EOF
	assertResp C04 '* LIST (\Subscribed) "/" Foo ("CHILDINFO" ("SUBSCRIBED"))
C04 OK LIST completed'
	# C: Foo and Moo (imapd puts \Subscribed first, as in A1)
	session <<'EOF'
u1 UNSUBSCRIBE Foo/Baz
u2 SUBSCRIBE Moo
C04 LIST (SUBSCRIBED RECURSIVEMATCH) "" "%" RETURN (CHILDREN)
EOF
	assertResp C04 '* LIST (\Subscribed \HasChildren) "/" Foo
* LIST (\Subscribed \HasNoChildren) "/" Moo
C04 OK LIST completed'
}

# Example 8 A2: Foo is no mailbox, Foo/Baz is subscribed.
testRfc5258Example8A2() {
	mk Foo/Bar Foo/Baz Moo
	sub Foo/Baz
	session <<'EOF'
C04 LIST (SUBSCRIBED RECURSIVEMATCH) "" "%"
EOF
	assertResp C04 '* LIST (\NonExistent) "/" Foo ("CHILDINFO" ("SUBSCRIBED"))
C04 OK LIST completed'
}

testRfc5258Example9() {
	mk foo2 foo2/bar1 foo2/bar2 baz2 baz2/bar2 baz2/bar22 baz2/bar222 \
	    eps2 eps2/mamba qux2/bar2
	sub foo2/bar1 foo2/bar2 baz2/bar2 baz2/bar22 baz2/bar222 eps2 \
	    eps2/mamba qux2/bar2
	session <<'EOF'
D02 LIST (SUBSCRIBED) "" "*"
D03 LIST (RECURSIVEMATCH SUBSCRIBED) "" "*2"
D04 LIST (RECURSIVEMATCH SUBSCRIBED) "" "*"
EOF
	assertResp D02 '* LIST (\Subscribed) "/" baz2/bar2
* LIST (\Subscribed) "/" baz2/bar22
* LIST (\Subscribed) "/" baz2/bar222
* LIST (\Subscribed) "/" eps2
* LIST (\Subscribed) "/" eps2/mamba
* LIST (\Subscribed) "/" foo2/bar1
* LIST (\Subscribed) "/" foo2/bar2
* LIST (\Subscribed) "/" qux2/bar2
D02 OK LIST completed'
	assertResp D03 '* LIST (\Subscribed) "/" baz2/bar2
* LIST (\Subscribed) "/" baz2/bar22
* LIST (\Subscribed) "/" baz2/bar222
* LIST (\Subscribed) "/" eps2 ("CHILDINFO" ("SUBSCRIBED"))
* LIST () "/" foo2 ("CHILDINFO" ("SUBSCRIBED"))
* LIST (\Subscribed) "/" foo2/bar2
* LIST (\Subscribed) "/" qux2/bar2
D03 OK LIST completed'
	# With "*" every subscribed child is listed itself: the parents
	# that are not subscribed are left out (RFC 9051 6.3.9.6: no
	# redundant CHILDINFO), eps2 keeps its CHILDINFO.
	assertResp D04 '* LIST (\Subscribed) "/" baz2/bar2
* LIST (\Subscribed) "/" baz2/bar22
* LIST (\Subscribed) "/" baz2/bar222
* LIST (\Subscribed) "/" eps2 ("CHILDINFO" ("SUBSCRIBED"))
* LIST (\Subscribed) "/" eps2/mamba
* LIST (\Subscribed) "/" foo2/bar1
* LIST (\Subscribed) "/" foo2/bar2
* LIST (\Subscribed) "/" qux2/bar2
D04 OK LIST completed'
}

testRfc5258Example10() {
	mk foo
	sub foo/bar
	session <<'EOF'
a1 LIST "" ("foo" "foo/*")
a2 LIST (SUBSCRIBED) "" "foo/*"
a3 LIST (SUBSCRIBED RECURSIVEMATCH) "" foo RETURN (CHILDREN)
EOF
	assertResp a1 '* LIST () "/" foo
a1 OK LIST completed'
	assertResp a2 '* LIST (\Subscribed \NonExistent) "/" foo/bar
a2 OK LIST completed'
	assertResp a3 '* LIST (\HasNoChildren) "/" foo ("CHILDINFO" ("SUBSCRIBED"))
a3 OK LIST completed'
}

# Example 11: a mailbox without its parent.
testRfc5258Example11() {
	mk music/rock
	session <<'EOF'
a2 LIST () "" %
a3 LIST (REMOTE) "" %
a4 LIST "" (% music/rock)
a5 LIST "" %
EOF
	assertResp a2 '* LIST () "/" INBOX
* LIST (\NonExistent \HasChildren) "/" music
a2 OK LIST completed'
	assertResp a3 '* LIST () "/" INBOX
* LIST (\NonExistent \HasChildren) "/" music
a3 OK LIST completed'
	assertResp a4 '* LIST () "/" INBOX
* LIST () "/" music/rock
a4 OK LIST completed'
	# the plain LIST of RFC 3501 says \Noselect, as before
	assertResp a5 '* LIST () "/" INBOX
* LIST (\Noselect) "/" music
a5 OK LIST completed'
}

# An extended LIST ignores an empty pattern (RFC 5258 3).
testEmptyPattern() {
	session <<'EOF'
a1 LIST () "" ""
a2 LIST "" ("" "INBOX")
a3 LIST "" ""
EOF
	assertResp a1 'a1 OK LIST completed'
	assertResp a2 '* LIST () "/" INBOX
a2 OK LIST completed'
	assertResp a3 '* LIST (\Noselect) "/" ""
a3 OK LIST completed'
}

testOptionErrors() {
	session <<'EOF'
b1 LIST (RECURSIVEMATCH) "" "*"
b2 LIST (REMOTE RECURSIVEMATCH) "" "*"
b3 LIST (SPECIAL-USE RECURSIVEMATCH) "" "*"
b4 LIST (BOGUS) "" "*"
b5 LIST "" "*" RETURN (BOGUS)
b6 LIST "" "*" RETURN (STATUS)
b7 LIST "" "*" RETURN (STATUS (BOGUS))
b8 LIST "" "*" RETURN (STATUS ())
b9 LIST "" ()
c1 LIST "" "*" RETURN
c2 LIST "" "*" FOO (CHILDREN)
c3 LIST "" "*" RETURN (CHILDREN) extra
c4 LIST (SUBSCRIBED RECURSIVEMATCH SUBSCRIBED) "" "INBOX" RETURN (CHILDREN CHILDREN)
c5 LIST (subscribed) "" "INBOX" return (children)
EOF
	assertResp b1 'b1 BAD RECURSIVEMATCH needs SUBSCRIBED'
	assertResp b2 'b2 BAD RECURSIVEMATCH needs SUBSCRIBED'
	assertResp b3 'b3 BAD RECURSIVEMATCH needs SUBSCRIBED'
	assertResp b4 'b4 BAD Unknown LIST selection option'
	assertResp b5 'b5 BAD Unknown LIST return option'
	assertResp b6 'b6 BAD STATUS needs its items'
	assertResp b7 'b7 BAD Unknown STATUS item'
	assertResp b8 'b8 BAD Missing or invalid arguments'
	assertResp b9 'b9 BAD Missing or invalid arguments'
	assertResp c1 'c1 BAD Missing or invalid arguments'
	assertResp c2 'c2 BAD Missing or invalid arguments'
	assertResp c3 'c3 BAD Missing or invalid arguments'
	# an option given twice counts once (RFC 5258 3)
	assertResp c4 'c4 OK LIST completed'
	assertResp c5 'c5 OK LIST completed'
}

# LIST_PATTERNS_MAX (100) patterns are taken, one more is BAD.
testPatternLimit() {
	p100=$(for i in $(seq 100); do printf '"x%d" ' "$i"; done)
	session <<EOF
a1 LIST "" (${p100}INBOX)
a2 LIST "" (${p100% })
EOF
	assertResp a1 'a1 BAD Too many LIST patterns (at most 100)'
	assertResp a2 'a2 OK LIST completed'
}

# RFC 5819 3, with INBOX of 3 messages (2 unseen) and foo of 2.
testListStatusRfc5819() {
	mk foo bar/x
	session <<EOF
p1 APPEND INBOX (\\Seen) $(lit "$(mkmsg 1)")
p2 APPEND INBOX $(lit "$(mkmsg 2)")
p3 APPEND INBOX $(lit "$(mkmsg 3)")
p4 APPEND foo $(lit "$(mkmsg 4)")
p5 APPEND foo $(lit "$(mkmsg 5)")
s1 SUBSCRIBE INBOX
s2 SUBSCRIBE foo/x
A01 LIST "" % RETURN (STATUS (MESSAGES UNSEEN))
A02 LIST (SUBSCRIBED RECURSIVEMATCH) "" % RETURN (STATUS (MESSAGES))
EOF
	assertResp A01 '* LIST () "/" INBOX
* STATUS INBOX (MESSAGES 3 UNSEEN 2)
* LIST (\NonExistent \HasChildren) "/" bar
* LIST () "/" foo
* STATUS foo (MESSAGES 2 UNSEEN 2)
A01 OK LIST completed'
	assertResp A02 '* LIST (\Subscribed) "/" INBOX
* STATUS INBOX (MESSAGES 3)
* LIST () "/" foo ("CHILDINFO" ("SUBSCRIBED"))
A02 OK LIST completed'
}

# SIZE (RFC 8438) is the sum of RFC822.SIZE, in STATUS and in LIST.
testStatusSize() {
	session <<EOF
p1 APPEND INBOX $(lit "$(mkmsg 1)")
p2 APPEND INBOX $(lit "$(mkmsg 2)")
a1 STATUS INBOX (SIZE MESSAGES)
a2 LIST "" INBOX RETURN (STATUS (SIZE UIDNEXT HIGHESTMODSEQ))
a0 CREATE empty
a3 STATUS empty (SIZE)
a4 EXAMINE INBOX
a5 FETCH 1:* (RFC822.SIZE)
EOF
	size=$(sed -n 's/.*RFC822.SIZE \([0-9]*\).*/\1/p' "$OUT" |
	    awk '{ s += $1 } END { print s }')
	assertTrue "messages have a size" "[ '${size:-0}' -gt 100 ]"
	assertResp a1 "* STATUS INBOX (SIZE $size MESSAGES 2)
a1 OK STATUS completed"
	assertEquals "LIST-STATUS" "* LIST () \"/\" INBOX
* STATUS INBOX (SIZE $size UIDNEXT 3 HIGHESTMODSEQ M)
a2 OK LIST completed" "$(resp a2 | sed 's/HIGHESTMODSEQ [0-9]*/HIGHESTMODSEQ M/')"
	assertResp a3 '* STATUS empty (SIZE 0)
a3 OK STATUS completed'
}

# The selected mailbox's STATUS is what the session was told: the
# message another session adds comes as EXISTS after it.
testListStatusSelected() {
	sess_open A
	sess_cmd A a1 "SELECT INBOX"
	put 1
	sess_cmd A a2 'LIST "" INBOX RETURN (STATUS (MESSAGES UNSEEN))'
	assertEquals '* LIST () "/" INBOX
* STATUS INBOX (MESSAGES 0 UNSEEN 0)
* 1 EXISTS
* 1 RECENT
a2 OK LIST completed' "$R"
	sess_cmd A a3 'LIST "" INBOX RETURN (STATUS (MESSAGES UNSEEN))'
	assertEquals '* LIST () "/" INBOX
* STATUS INBOX (MESSAGES 1 UNSEEN 1)
a3 OK LIST completed' "$R"
	sess_cmd A a4 'STATUS INBOX (MESSAGES)'
	assertEquals '* STATUS INBOX (MESSAGES 1)
a4 OK STATUS completed' "$R"
}

testCapability() {
	session <<'EOF'
a1 CAPABILITY
EOF
	assertResp a1 "* CAPABILITY $CAPS_AUTH
a1 OK CAPABILITY completed"
}

# RFC 2342 5
testNamespace() {
	session <<'EOF'
a1 NAMESPACE
a2 NAMESPACE x
EOF
	assertResp a1 '* NAMESPACE (("" "/")) NIL NIL
a1 OK NAMESPACE completed'
	assertResp a2 'a2 BAD Missing or invalid arguments'
}

# A new store has a mailbox for each special use (imapd(8)).
testNewStoreSpecialUse() {
	fresh_store
	session <<'EOF'
a1 LIST "" "*"
a2 LIST (SPECIAL-USE) "" "*" RETURN (CHILDREN)
a3 LSUB "" "*"
EOF
	assertResp a1 '* LIST (\Archive) "/" Archive
* LIST (\Drafts) "/" Drafts
* LIST () "/" INBOX
* LIST (\Junk) "/" Junk
* LIST (\Sent) "/" Sent
* LIST (\Trash) "/" Trash
a1 OK LIST completed'
	assertResp a2 '* LIST (\Archive \HasNoChildren) "/" Archive
* LIST (\Drafts \HasNoChildren) "/" Drafts
* LIST (\Junk \HasNoChildren) "/" Junk
* LIST (\Sent \HasNoChildren) "/" Sent
* LIST (\Trash \HasNoChildren) "/" Trash
a2 OK LIST completed'
	assertResp a3 'a3 OK LSUB completed'
}

# RFC 6154 5.2 and 5.3, then RENAME and DELETE of a special mailbox.
testRfc6154Examples() {
	session <<'EOF'
m1 CREATE ToDo
m2 CREATE Projects/x
m3 CREATE SentMail (USE (\Sent))
m4 CREATE MyDrafts (use (\drafts))
m5 CREATE Trash (USE (\Trash))
t2 LIST "" "%" RETURN (SPECIAL-USE)
t3 LIST (SPECIAL-USE) "" "*"
EOF
	assertRespN m4 'm4 OK [MAILBOXID (I)] CREATE completed'
	assertResp t2 '* LIST () "/" INBOX
* LIST (\Drafts) "/" MyDrafts
* LIST (\NonExistent \HasChildren) "/" Projects
* LIST (\Sent) "/" SentMail
* LIST () "/" ToDo
* LIST (\Trash) "/" Trash
t2 OK LIST completed'
	assertResp t3 '* LIST (\Drafts) "/" MyDrafts
* LIST (\Sent) "/" SentMail
* LIST (\Trash) "/" Trash
t3 OK LIST completed'
	session <<'EOF'
t2 CREATE MySpecial (USE (\Drafts \Sent))
t3 CREATE Everything (USE (\All))
t4 CREATE Starred (USE (\Flagged))
t5 CREATE Other (USE (\X-Other))
t6 LIST "" ("MySpecial" "Everything" "Starred" "Other")
t7 RENAME MySpecial Moved/Special
t8 LIST "" "M*"
t9 CREATE Plain (USE ())
u1 LIST "" Plain
EOF
	assertRespN t2 't2 OK [MAILBOXID (I)] CREATE completed'
	assertResp t3 't3 NO [USEATTR] \All not supported'
	assertResp t4 't4 NO [USEATTR] \Flagged not supported'
	assertResp t5 't5 NO [USEATTR] \X-Other not supported'
	assertResp t6 '* LIST (\Drafts \Sent) "/" MySpecial
t6 OK LIST completed'
	assertResp t8 '* LIST (\Drafts \Sent) "/" Moved/Special
* LIST (\Drafts) "/" MyDrafts
t8 OK LIST completed'
	assertResp u1 '* LIST () "/" Plain
u1 OK LIST completed'
}

testCreateParamErrors() {
	session <<'EOF'
a1 CREATE x (USE (Sent))
a2 CREATE x (FOO (\Sent))
a3 CREATE x (USE \Sent)
a4 CREATE x ()
a5 CREATE x USE
a6 LIST "" x
EOF
	assertResp a1 'a1 BAD Invalid special use'
	assertResp a2 'a2 BAD Unknown CREATE parameter'
	assertResp a3 'a3 BAD Unknown CREATE parameter'
	assertResp a4 'a4 BAD Missing or invalid arguments'
	assertResp a5 'a5 BAD Missing or invalid arguments'
	assertResp a6 'a6 OK LIST completed'
}

. "${SHUNIT2:-/usr/share/shunit2/shunit2}"
