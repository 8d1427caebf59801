# t/lib.sh: helpers shared by the shunit2 suites (sourced by bash).
#
# t/run.sh exports:
#   T_TMP    a scratch directory removed at the end of the run
#   T_USER   the user the imapd sessions run as (PREAUTH greeting name)
#   T_RUNAS  a command prefix that runs a program as T_USER (empty when the
#            run is not root's: a PREAUTH session must never be root's)
#   T_OWNER  uid:gid given to fresh store directories (empty when not root)
# A suite run by hand (bash t/basic.sh) gets defaults for the current user.
# T_IMAPD names another binary to test (default: ./imapd of this tree).

# "printf ... | session" must set OUT and RC in this shell, not in a
# subshell: run the last command of a pipeline here.
shopt -s lastpipe

T_TOP=$(cd "$(dirname "$0")/.." && pwd)
LIT_AWK=$(cat "$T_TOP/t/literal.awk")
IMAPD=${T_IMAPD:-$T_TOP/imapd}
# T_VALGRIND=1: every imapd runs under valgrind; its reports go to files in
# T_SANDIR, which t/run.sh counts as a failure.
T_VG=
if [ -n "${T_VALGRIND:-}" ]; then
	T_VG="valgrind -q --vgdb=no --error-exitcode=99 --leak-check=full --log-file=${T_SANDIR:-${TMPDIR:-/tmp}}/vg.%p"
fi
: "${T_USER:=$(id -un)}"
: "${T_RUNAS:=}"
: "${T_OWNER:=}"
if [ -z "${T_TMP:-}" ]; then
	T_TMP=$(mktemp -d "${TMPDIR:-/tmp}/imapdt.XXXXXX") || exit 1
	T_TMP_OWN=1
fi
OUT=$T_TMP/out
RAW=$T_TMP/raw
ERR=$T_TMP/err
RC=

# Every session is killed after this many seconds: a hung imapd fails a
# test instead of hanging the whole run.
T_LIMIT=${T_LIMIT:-30}
# Seconds a step-by-step session waits for a tagged reply.
T_WAIT=${T_WAIT:-10}

# Counters for t/run.sh: shunit2 2.1.8 keeps them in these variables.
t_report() {
	if [ -n "${T_COUNTS:-}" ]; then
		echo "${__shunit_testsPassed:-0} ${__shunit_testsFailed:-0}" \
		    >>"$T_COUNTS"
	fi
}

oneTimeTearDown() {
	sess_close_all
	t_report
	if [ -n "${T_TMP_OWN:-}" ]; then
		rm -rf "$T_TMP"
	fi
	return 0
}

# appends N: the lines of N APPENDs to INBOX (message i is mkmsg i), for
# a session's script.
appends() {
	i=0
	while [ "$i" -lt "$1" ]; do
		i=$((i + 1))
		echo "p$i APPEND INBOX $(litp "$(mkmsg "$i")")"
	done
}

# put N: N messages into INBOX by a session of their own.
put() {
	appends "$1" | session
	assertEquals "$1 appends" "$1" \
	    "$(grep -c '^p[0-9]* OK \[APPENDUID ' "$OUT")"
}

# A fresh, empty store directory owned by the test user, in $STORE.
t_storeno=0
mkstore() {
	t_storeno=$((t_storeno + 1))
	STORE=$T_TMP/$(basename "$0" .sh).$$.$t_storeno
	rm -rf "$STORE"
	# With its box directory the store is not new: no special-use
	# mailboxes, the counter starts with INBOX (t/list.sh tests a new
	# store's mailboxes, after fresh_store).
	mkdir -p "$STORE/box" || return 1
	if [ -n "$T_OWNER" ]; then
		chown -R "$T_OWNER" "$STORE" || return 1
	fi
}

# fresh_store: $STORE as a new store: its first session makes the
# special-use mailboxes of imapd(8).
fresh_store() {
	rmdir "$STORE/box"
}

setUp() {
	mkstore
}

tearDown() {
	sess_close_all
	return 0
}

# The greeting of a PREAUTH session for the test user.
# The capabilities before and after login (session.h CAPS_PRE, CAPS_AUTH).
CAPS_PRE="IMAP4rev1 LITERAL+ ID SASL-IR AUTH=PLAIN"
# After login APPENDLIMIT names the -l limit, here the default (RFC 7889).
CAPS_AUTH="IMAP4rev1 LITERAL+ UIDPLUS UNSELECT IDLE ENABLE CONDSTORE QRESYNC ESEARCH SEARCHRES MOVE MULTIAPPEND OBJECTID SAVEDATE BINARY ID LIST-EXTENDED LIST-STATUS CHILDREN SPECIAL-USE CREATE-SPECIAL-USE NAMESPACE STATUS=SIZE UTF8=ACCEPT APPENDLIMIT=67108864"
GREET_PREAUTH="* PREAUTH [CAPABILITY $CAPS_AUTH] imapd ready, logged in as $T_USER"
# greet_limit N: the PREAUTH greeting of a session run with -l N.
greet_limit() {
	printf '%s\n' "$GREET_PREAUTH" | sed "s/APPENDLIMIT=[0-9]*/APPENDLIMIT=$1/"
}
GREET_OK="* OK [CAPABILITY $CAPS_PRE] imapd ready"

# run_imapd ARGS...: imapd as the test user, logging to stderr.
run_imapd() {
	timeout -k 2 "$T_LIMIT" $T_RUNAS $T_VG "$IMAPD" -s "$@"
}

# LF to CRLF on every line (the script text uses LF).
t_crlf() {
	sed 's/$/\r/'
}

# session [ARGS...] < script: feed the script (LF line ends, made CRLF) to
# "imapd -d $STORE ARGS", all at once. Sets OUT (file, LF line ends), RAW
# (the bytes as sent by imapd), ERR (stderr) and RC (exit status).
session() {
	t_crlf >"$T_TMP/in"
	session_raw "$@" <"$T_TMP/in"
}

# session_raw [ARGS...] < bytes: as session, the input sent unchanged.
session_raw() {
	OUT=$T_TMP/out
	RAW=$T_TMP/raw
	ERR=$T_TMP/err
	# With a password file the store comes from the file, not from -d.
	if [ "${1:-}" = "-p" ]; then
		run_imapd "$@" >"$RAW" 2>"$ERR"
	else
		run_imapd -d "$STORE" "$@" >"$RAW" 2>"$ERR"
	fi
	RC=$?
	tr -d '\r' <"$RAW" >"$OUT"
	return 0
}

# session_cmds [ARGS...] -- LINE...: each argument one command line.
session_cmds() {
	t_args=
	while [ $# -gt 0 ] && [ "$1" != "--" ]; do
		t_args="$t_args $1"
		shift
	done
	shift
	printf '%s\n' "$@" | session $t_args
}

# Length in bytes of TEXT once its LF line ends are CRLF.
crlf_len() {
	printf '%s' "$1" | t_crlf | head -c -1 | wc -c | tr -d ' '
}

# lit TEXT: "{n}" LF TEXT, for use in a script: n counts CRLF line ends, and
# the literal ends where the text ends (the script's next LF ends the line).
lit() {
	printf '{%s}\n%s' "$(crlf_len "$1")" "$1"
}

# litp TEXT: the same as a non-synchronizing literal (RFC 7888).
litp() {
	printf '{%s+}\n%s' "$(crlf_len "$1")" "$1"
}

# mkmsg N [SUBJECT]: a small message (LF line ends, no final line end).
mkmsg() {
	printf 'From: Alice <alice@example.org>\nTo: Bob <bob@example.org>\nSubject: %s\nDate: Tue, 02 Jan 2024 10:00:00 +0000\nMessage-ID: <%s.t@example.org>\n\nHello Bob,\nthis is message %s.\n-- \nAlice' \
	    "${2:-message $1}" "$1" "$1"
}

# resp TAG [FILE]: the lines of the response to command TAG in a session's
# output: everything after the previous tagged reply through TAG's tagged
# reply, LF line ends. Literals in the output are skipped byte-exactly so a
# message line can never pass for a tagged reply.
resp() {
	LC_ALL=C awk -v tag="$1" "$LIT_AWK"'
	function add(s) { buf = buf s "\n" }
	{
		if (NR == 1 && $0 ~ /^\* (OK|PREAUTH|BYE) /)
			next	# the greeting
		rest = lit_line($0)
		line = $0
		sub(/\r$/, "", line)
		add(line)
		if (LIT_IN || LIT_OPEN || LIT_CONT ||
		    substr(rest, 1, 2) == "* " || substr(rest, 1, 2) == "+ " ||
		    rest == "+")
			next
		if (index(rest, tag " ") == 1) {
			printf "%s", buf
			found = 1
			exit
		}
		buf = ""
	}
	END { if (!found) exit 1 }' "${2:-$RAW}"
}

# norm: replace the values a test cannot know (UIDVALIDITY is a time,
# HIGHESTMODSEQ and MAILBOXID depend on the store's history) by V, M
# and I.
norm() {
	sed -e 's/UIDVALIDITY [0-9][0-9]*/UIDVALIDITY V/' \
	    -e 's/\[APPENDUID [0-9][0-9]* /[APPENDUID V /' \
	    -e 's/\[COPYUID [0-9][0-9]* /[COPYUID V /' \
	    -e 's/HIGHESTMODSEQ [0-9][0-9]*/HIGHESTMODSEQ M/' \
	    -e 's/MAILBOXID ([A-Za-z0-9_-]*)/MAILBOXID (I)/'
}

# Assertions on the whole output or on one command's lines.
assertOut() {	# EXPECTED: the whole output of the last session
	assertEquals "${2:-output}" "$1" "$(cat "$OUT")"
}

assertResp() {	# TAG EXPECTED
	assertEquals "response to $1" "$2" "$(resp "$1")"
}

assertRespN() {	# TAG EXPECTED, after norm
	assertEquals "response to $1" "$2" "$(resp "$1" | norm)"
}

# The lines a SELECT of a mailbox with no keywords answers (norm'd).
select_lines() {	# EXISTS RECENT UNSEEN|- UIDNEXT
	echo '* FLAGS (\Answered \Flagged \Deleted \Seen \Draft)'
	echo '* OK [PERMANENTFLAGS (\Answered \Flagged \Deleted \Seen \Draft \*)] Flags permitted'
	echo "* $1 EXISTS"
	echo "* $2 RECENT"
	[ "$3" = - ] || echo "* OK [UNSEEN $3] First unseen"
	echo '* OK [UIDVALIDITY V] UIDs valid'
	echo "* OK [UIDNEXT $4] Predicted next UID"
	echo '* OK [HIGHESTMODSEQ M] Highest'
	echo '* OK [MAILBOXID (I)] Mailbox id'
}

assertHas() {	# LINE: the output holds this exact line
	if ! grep -qxF -- "$1" "$OUT"; then
		fail "no line '$1' in:
$(cat "$OUT")"
	fi
}

assertHasNot() {	# LINE
	if grep -qxF -- "$1" "$OUT"; then
		fail "unexpected line '$1' in:
$(cat "$OUT")"
	fi
}

# ------------------------------------------------ password-file mode
#
# t/auth.sh and t/id.sh run imapd -p with these.

# mkhash PASSWORD SALT: a SHA-512 crypt(3) hash.
mkhash() {
	if command -v openssl >/dev/null 2>&1; then
		openssl passwd -6 -salt "$2" "$1"
	elif command -v mkpasswd >/dev/null 2>&1; then
		mkpasswd -m sha-512 -S "$2" "$1"
	else
		perl -e 'print crypt($ARGV[0], "\$6\$$ARGV[1]\$"), "\n"' "$1" "$2"
	fi
}

# b64 TEXT: base64 of TEXT with \0 for NUL (printf %b).
b64() {
	printf '%b' "$1" | base64 | tr -d '\n'
}

# A password file for user testu (password "secret") and user other
# (password "other pw"), stores $STORE and $STORE.other; uid and gid
# fields as given ($1 $2), empty by default.
mkpasswdfile() {
	PW=$STORE.passwd
	mkdir -p "$STORE.other"
	[ -n "$T_OWNER" ] && chown "$T_OWNER" "$STORE.other"
	{
		echo "testu:$(mkhash secret saltsalt):${1:-}:${2:-}:$STORE"
		echo "other:$(mkhash "other pw" pepper12):${1:-}:${2:-}:$STORE.other"
	} >"$PW"
	chmod 600 "$PW"
	[ -n "$T_OWNER" ] && chown "$T_OWNER" "$PW"
	return 0
}

# ------------------------------------------------ step-by-step sessions
#
# sess_open NAME [ARGS...] starts "imapd -d $STORE ARGS" reading a fifo we
# keep open, writing to a file. sess_cmd NAME TAG LINE sends one command
# and waits (T_WAIT seconds) for its tagged reply; the reply lines (LF) are
# left in $R, and in the file $OUT so assertHas works on them. Several
# sessions can be open at once, so a test can interleave their commands and
# check what each one sees at each step.

t_sessions=

sess_open() {
	t_n=$1
	shift
	rm -f "$T_TMP/$t_n.in"
	mkfifo "$T_TMP/$t_n.in" || return 1
	: >"$T_TMP/$t_n.out"
	# The child must not keep the other sessions' fifos open, or their
	# imapd would never see end of file.
	(
		for t_s in $t_sessions; do
			eval "t_fd=\${t_fd_$t_s:-}"
			[ -n "$t_fd" ] && eval "exec $t_fd>&-"
		done
		# No timeout(1) here: $! must be imapd itself (setpriv and env
		# exec it), so a test can kill it; sess_close bounds the wait.
		exec $T_RUNAS $T_VG "$IMAPD" -s -d "$STORE" "$@"
	) <"$T_TMP/$t_n.in" >"$T_TMP/$t_n.out" 2>"$T_TMP/$t_n.err" &
	eval "t_pid_$t_n=\$!"
	exec {t_fd}>"$T_TMP/$t_n.in"
	eval "t_fd_$t_n=\$t_fd t_off_$t_n=0"
	t_sessions="$t_sessions $t_n"
	# The greeting is the first line.
	t_wait "$t_n" '^\* ' && R=$(printf '%s' "$R" | head -n 1)
}

# sess_send NAME TEXT: send TEXT and CRLF (TEXT's own LFs become CRLF).
sess_send() {
	eval "t_fd=\$t_fd_$1"
	printf '%s\n' "$2" | t_crlf >&"$t_fd"
}

# sess_cmd NAME TAG TEXT: send "TAG TEXT", wait for the tagged reply.
sess_cmd() {
	sess_send "$1" "$2 $3" || return 1
	t_wait "$1" "^$2 "
}

# t_wait NAME REGEX: wait until a complete line matching REGEX arrives; set R
# to everything since the last wait, through that line. 1 on timeout.
t_wait() {
	eval "t_off=\$t_off_$1"
	t_f=$T_TMP/$1.out
	t_end=$(($(date +%s) + T_WAIT))
	while :; do
		t_len=$(tail -c +$((t_off + 1)) "$t_f" | LC_ALL=C awk -v re="$2" '
		    { n += length($0) + 1 }
		    /\r$/ && $0 ~ re { print n; exit }')
		if [ -n "$t_len" ]; then
			R=$(tail -c +$((t_off + 1)) "$t_f" | head -c "$t_len" |
			    tr -d '\r')
			eval "t_off_$1=$((t_off + t_len))"
			printf '%s\n' "$R" >"$T_TMP/$1.resp"
			OUT=$T_TMP/$1.resp
			return 0
		fi
		if [ "$(date +%s)" -gt "$t_end" ]; then
			R="TIMEOUT waiting for /$2/ from $1; got:
$(tail -c +$((t_off + 1)) "$t_f" | tr -d '\r')"
			printf '%s\n' "$R" >"$T_TMP/$1.resp"
			OUT=$T_TMP/$1.resp
			return 1
		fi
		sleep 0.02
	done
}

# sess_rest NAME: whatever arrived after the last tagged reply (into R).
sess_rest() {
	eval "t_off=\$t_off_$1"
	R=$(tail -c +$((t_off + 1)) "$T_TMP/$1.out" | tr -d '\r')
}

# sess_pid NAME: the imapd process id.
sess_pid() {
	eval "echo \$t_pid_$1"
}

# t_alive PID: the process runs (a zombie, exited but not reaped, does not).
t_alive() {
	[ -r "/proc/$1/stat" ] && ! grep -q '^[0-9]* (.*) Z' "/proc/$1/stat"
}

# sess_close NAME: end the input (EOF) and reap the process; its exit
# status is left in RC.
sess_close() {
	eval "t_fd=\${t_fd_$1:-}"
	eval "t_pid=\${t_pid_$1:-}"
	[ -n "$t_pid" ] || return 0
	[ -n "$t_fd" ] && exec {t_fd}>&-
	t_end=$(($(date +%s) + T_WAIT))
	while t_alive "$t_pid" && [ "$(date +%s)" -le "$t_end" ]; do
		sleep 0.02
	done
	kill -9 "$t_pid" 2>/dev/null
	wait "$t_pid"
	RC=$?
	eval "t_fd_$1= t_pid_$1="
	rm -f "$T_TMP/$1.in"
	t_sessions=$(printf '%s\n' $t_sessions | grep -vx "$1" | tr '\n' ' ')
}

sess_close_all() {
	for t_s in $t_sessions; do
		sess_close "$t_s"
	done
	t_sessions=
}

# fetch_uids: the UIDs in "* n FETCH (UID u ...)" lines of $OUT, one a line.
fetch_uids() {
	sed -n 's/^\* [0-9]* FETCH (.*UID \([0-9]*\).*/\1/p' "${1:-$OUT}"
}
