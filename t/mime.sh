#!/bin/bash
# t/mime.sh: message structure over the corpus t/corpus/*.eml: ENVELOPE,
# BODY, BODYSTRUCTURE, BODY[section] and SEARCH (RFC 3501 6.4.4, 6.4.5,
# 7.4.2). Two kinds of test:
#  - golden: imapd's answers equal t/corpus/expected/ byte for byte (the
#    answers Dovecot gave, reviewed against the RFCs, corrected where
#    t/corpus/DIFFERENCES says);
#  - differential, where Dovecot's imap is installed (Debian package
#    dovecot-imapd): the corpus goes to both servers and their answers must
#    be the same, command by command, except the commands DIFFERENCES lists.
# The whole corpus is loaded and questioned once; each test then compares
# the answers about one message (t/corpus/corpus.sh says how).
. "$(dirname "$0")/lib.sh"
. "$T_TOP/t/corpus/corpus.sh"

# The answers, cut as corpus_split does, of imapd and of Dovecot.
A_IMAPD=$T_TMP/mime.imapd
A_DOVECOT=$T_TMP/mime.dovecot

# The messages without a NUL byte are APPENDed, in runs; one with a NUL
# cannot be (RFC 3501 9: a literal is CHAR8, and imapd has no RFC 3516
# literal8), so it goes in through delivery mode, in its turn.
imapd_load() {
	: >"$T_TMP/load"
	for m in $(corpus_names); do
		if corpus_hasnul "$CORPUS/$m.eml"; then
			imapd_flush || return 1
			run_imapd -d "$STORE" -D INBOX <"$CORPUS/$m.eml" \
			    >/dev/null 2>>"$T_TMP/load.err" || return 1
		else
			corpus_append "$m" "a.${m%%-*}" >>"$T_TMP/load"
		fi
	done
	imapd_flush
}

# Run the APPENDs gathered in $T_TMP/load; 1 unless all are OK. Some
# messages have 8-bit header fields: RFC 6855 4 wants ENABLE UTF8=ACCEPT.
imapd_flush() {
	[ -s "$T_TMP/load" ] || return 0
	{ printf 'u ENABLE UTF8=ACCEPT\r\n'; cat "$T_TMP/load"; } | session_raw
	: >"$T_TMP/load"
	! grep -a '^a\.[0-9]* ' "$RAW" | grep -qav '^a\.[0-9]* OK'
}

# Dovecot as the test user, its mail in $DHOME.
dovecot() {
	timeout -k 2 "$T_LIMIT" $T_RUNAS env HOME="$DHOME" USER="$T_USER" \
	    "$DOVECOT_IMAP" -c "$DHOME/dovecot.conf" 2>>"$T_TMP/dovecot.err"
}

dovecot_load() {
	DHOME=$T_TMP/dovecot.home
	rm -rf "$DHOME"
	mkdir "$DHOME" && dovecot_conf "$DHOME" || return 1
	if [ -n "$T_OWNER" ]; then
		chown -R "$T_OWNER" "$DHOME" || return 1
	fi
	for m in $(corpus_names); do
		corpus_append "$m" "a.${m%%-*}"
	done >"$T_TMP/dload"
	printf 'lo LOGOUT\r\n' >>"$T_TMP/dload"
	# Dovecot's imap polls stdin with epoll: a pipe, not a file.
	cat "$T_TMP/dload" | dovecot >"$T_TMP/dload.out"
	! grep -a '^a\.[0-9]* ' "$T_TMP/dload.out" | grep -qav '^a\.[0-9]* OK'
}

oneTimeSetUp() {
	mkstore
	corpus_script >"$T_TMP/script"
	IMAPD_LOADED=
	if imapd_load; then
		IMAPD_LOADED=1
	fi
	corpus_drive "$T_TMP/script" "$T_TMP/imapd.out" \
	    run_imapd -d "$STORE" 2>>"$T_TMP/imapd.err"
	corpus_split "$T_TMP/imapd.out" "$A_IMAPD"
	DOVECOT_LOADED=
	if [ -x "$DOVECOT_IMAP" ]; then
		if dovecot_load; then
			DOVECOT_LOADED=1
		fi
		corpus_drive "$T_TMP/script" "$T_TMP/dovecot.out" dovecot
		corpus_split "$T_TMP/dovecot.out" "$A_DOVECOT"
	fi
}

# The store of the last test is the corpus store: no fresh one per test.
setUp() {
	return 0
}

# same WHAT EXPECTED ACTUAL: the two files are the same, else fail with
# their differences (as text, CR shown as ^M; the first 60 lines).
same() {
	if ! cmp -s "$2" "$3"; then
		fail "$1 differs from $2:
$(diff -a -u "$2" "$3" 2>&1 | sed 's/\r$/^M/' | head -n 60)"
	fi
}

testLoad() {
	assertTrue "imapd took every message" "[ -n '$IMAPD_LOADED' ]"
	assertTrue "imapd selected all $(corpus_names | wc -l) messages" \
	    "grep -aqx '\\* $(corpus_names | wc -l) EXISTS.' '$T_TMP/imapd.out'"
}

# golden NAME: imapd's answers about NAME (or the searches) are the
# expected ones.
golden() {
	same "imapd's answer" "$CORPUS/expected/$1" "$A_IMAPD/$1"
	return 0
}

# differential NAME: imapd and Dovecot answer each command alike, save
# the commands t/corpus/DIFFERENCES lists.
differential() {
	if [ -z "$DOVECOT_LOADED" ]; then
		fail "Dovecot did not take the corpus: $(head -c 2000 "$T_TMP/dovecot.err")"
		return
	fi
	d=$T_TMP/diff.$1
	rm -rf "$d"
	corpus_cmds "$A_DOVECOT/$1" "$d/dovecot"
	corpus_cmds "$A_IMAPD/$1" "$d/imapd"
	corpus_differences >"$d/skip"
	for f in "$d"/dovecot/*; do
		tag=${f##*/}
		if grep -qxF "$tag" "$d/skip"; then
			continue
		fi
		if [ ! -e "$d/imapd/$tag" ]; then
			fail "no answer from imapd to $tag"
			continue
		fi
		same "imapd's answer to $tag" "$f" "$d/imapd/$tag"
	done
	return 0
}

# One golden and one differential test per message, and for the searches.
suite() {
	for m in $(corpus_names) search; do
		t=$(echo "$m" | tr -c 'A-Za-z0-9\n' _)
		eval "testGolden_$t() { golden '$m'; }"
		suite_addTest "testGolden_$t"
		eval "testDovecot_$t() {
			[ -x \"\$DOVECOT_IMAP\" ] || startSkipping
			differential '$m'
		}"
		suite_addTest "testDovecot_$t"
	done
	suite_addTest testLoad
}

. "${SHUNIT2:-/usr/share/shunit2/shunit2}"
