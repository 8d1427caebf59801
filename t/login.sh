#!/bin/bash
# t/login.sh: what an attacker can do at login (issue 6): forge log lines
# through a user name or the remote address, end up under the wrong
# user's ids, find a password left in the process's memory, tell unknown
# users from known ones by the time a login takes, and guess without
# limit.
. "$(dirname "$0")/lib.sh"

# pwhash PASSWORD SETTING: crypt(3) through perl, which is crypt(3).
pwhash() {
	perl -e 'print crypt($ARGV[0], $ARGV[1])' "$1" "$2"
}

# A password file: user testu (password "secret", store $STORE) and the
# lines given as arguments; owned by the test user, mode 600.
mkpw() {
	PW=$STORE.passwd
	{
		echo "testu:$(pwhash secret '$6$saltsalt$'):::$STORE"
		for l in "$@"; do
			echo "$l"
		done
	} >"$PW"
	chmod 600 "$PW"
	[ -n "$T_OWNER" ] && chown "$T_OWNER" "$PW"
	return 0
}

setUp() {
	mkstore
	mkpw
}

NOAUTH="NO [AUTHENTICATIONFAILED] Authentication failed"

# The log lines of the last session without their "imapd[pid]: ".
loglines() {
	sed 's/^imapd\[[0-9]*\]: //' "$ERR"
}

# A user name sent as a literal may hold any byte but NUL; the remote
# address comes from the launcher (REMOTE_HOST may be a DNS name). In the
# log every such byte that could end a line or a field is \xNN, so a
# log reader (fail2ban) never sees a line or a field that is not there.
testLogForgedUserEscaped() {
	u='bob
imapd[4242]: login user=root remote=203.0.113.9'
	printf 'a1 LOGIN {%s}\r\n%s "x y"\r\na2 LOGOUT\r\n' "${#u}" "$u" |
	    TCPREMOTEIP='192.0.2.1
imapd[1]: x=\' session_raw -p "$PW"
	assertEquals "log" 'login failed user=bob\x0aimapd[4242]:\x20login\x20user\x3droot\x20remote\x3d203.0.113.9 remote=192.0.2.1\x0aimapd[1]:\x20x\x3d\x5c
logout user=- remote=192.0.2.1\x0aimapd[1]:\x20x\x3d\x5c' "$(loglines)"
	assertFalse "no forged line" "grep -q '^imapd\[4242\]' '$ERR'"
}

# One log line is one write(2): lines of concurrent processes cannot mix.
# Standard error is a datagram socket, which keeps each write apart.
testLogOneWritePerLine() {
	printf 'a1 LOGIN testu wrong\r\na2 LOGIN testu secret\r\n' >"$T_TMP/in"
	printf 'a3 LOGOUT\r\n' >>"$T_TMP/in"
	TCPREMOTEIP=192.0.2.7 perl -MSocket -e '
	    socketpair(my $r, my $w, AF_UNIX, SOCK_DGRAM, PF_UNSPEC) or die;
	    my $pid = fork() // die;
	    if ($pid == 0) {
		close $r;
		open(STDOUT, ">", "/dev/null") or die;
		open(STDERR, ">&", $w) or die;
		exec @ARGV or die;
	    }
	    close $w;
	    waitpid($pid, 0);
	    $r->blocking(0);
	    while (defined(recv($r, my $d, 65536, 0))) {
		last if $d eq "";
		print "<$d>\n";
	    }' timeout -k 2 "$T_LIMIT" $T_RUNAS "$IMAPD" -s -p "$PW" \
	    <"$T_TMP/in" >"$T_TMP/dgrams"
	assertEquals "one datagram a line" "<imapd[P]: login failed user=testu remote=192.0.2.7
>
<imapd[P]: login user=testu remote=192.0.2.7
>
<imapd[P]: logout user=testu remote=192.0.2.7
>" "$(sed 's/^<imapd\[[0-9]*\]/<imapd[P]/' "$T_TMP/dgrams")"
}

# Root has taken testu's ids and then cannot open testu's store: the
# process must not serve another login with those ids (other has no uid,
# which root would refuse, and the file is readable by testu's uid).
testNoSecondLoginAfterDroppingRoot() {
	if [ "$(id -u)" -ne 0 ] || [ -z "$T_OWNER" ]; then
		startSkipping
	fi
	mkdir -p "$STORE.root" && chmod 700 "$STORE.root"
	PW=$STORE.passwd
	{
		echo "testu:$(pwhash secret '$6$saltsalt$'):${T_OWNER%:*}:${T_OWNER#*:}:$STORE.root/store"
		echo "other:$(pwhash "other pw" '$6$pepper12$'):::$STORE"
	} >"$PW"
	chown root:root "$PW"
	chmod 644 "$PW"
	printf 'a1 LOGIN testu secret\r\na2 LOGIN other "other pw"\r\na3 LIST "" *\r\n' |
	    timeout -k 2 "$T_LIMIT" $T_VG "$IMAPD" -s -p "$PW" >"$RAW" 2>"$ERR"
	RC=$?
	tr -d '\r' <"$RAW" >"$OUT"
	assertOut "$GREET_OK
* BYE Cannot serve another login
a1 NO [UNAVAILABLE] Mail store is not available"
	assertEquals "exit status" 0 "$RC"
	assertEquals "nothing in the other store" "" \
	    "$(find "$STORE" -mindepth 1 ! -path "$STORE/box")"
}

# memhas PID TEXT...: the TEXTs found in the writable memory of PID, one
# a line. Regions larger than 64 MiB (sanitizer shadow) are skipped, and
# so is the stack: with lazy binding the dynamic linker saves the vector
# registers there (_dl_runtime_resolve_xsavec), and they may hold bytes
# memcpy() moved, which no wipe in imapd can reach (-Wl,-z,now avoids it).
memhas() {
	perl -e '
	    my $pid = shift;
	    open(my $maps, "<", "/proc/$pid/maps") or exit 2;
	    open(my $mem, "<:raw", "/proc/$pid/mem") or exit 2;
	    my %seen;
	    while (<$maps>) {
		my ($lo, $hi, $perm) = /^(\w+)-(\w+) (\S+)/ or next;
		next unless $perm =~ /^rw/ && !/\[stack\]/;
		($lo, $hi) = (hex $lo, hex $hi);
		next if $hi - $lo > 64 << 20;
		sysseek($mem, $lo, 0) or next;
		my $d = "";
		sysread($mem, $d, $hi - $lo) or next;
		for my $t (@ARGV) {
		    $seen{$t} = 1 if index($d, $t) >= 0;
		}
	    }
	    print "$_\n" for grep { $seen{$_} } @ARGV;' "$@"
}

# wiped TEXT: no copy of TEXT's last 32 bytes in the memory of session A.
wiped() {
	assertEquals "left in memory" "" \
	    "$(memhas "$(sess_pid A)" "$(printf '%s' "$1" | tail -c 32)")"
}

# No copy of a password stays in the process once the command that
# carried it is answered: not in the parser, the input buffer, the SASL
# buffers, whether the login failed or worked.
testPasswordsWiped() {
	if [ -n "${T_VALGRIND:-}" ]; then
		startSkipping
	fi
	# Longer than the parser's first token buffer, so it grows.
	p1=$(printf 'quoted%.0s' $(seq 15))-p1
	p2=$(printf 'literal%.0s' $(seq 15))-p2
	p3=$(printf 'saslplain%.0s' $(seq 10))-p3
	p4=$(printf 'toolong%.0s' $(seq 400))-p4
	s3=$(printf '\0longu\0%s' "$p3" | base64 -w0)
	mkpw "longu:$(pwhash "$p3" '$6$longsalt$'):::$STORE"
	sess_open A -p "$PW"
	memhas "$(sess_pid A)" imapd >/dev/null
	[ $? -eq 2 ] && startSkipping	# /proc/pid/mem not readable
	sess_cmd A a1 "LOGIN testu \"$p1\""
	assertEquals "a1" "a1 $NOAUTH" "$R"
	wiped "$p1"
	sess_send A "a2 LOGIN testu {${#p2}+}"
	sess_send A "$p2"
	t_wait A '^a2 '
	assertEquals "a2" "a2 $NOAUTH" "$R"
	wiped "$p2"
	sess_send A "a3 AUTHENTICATE PLAIN"
	t_wait A '^\+'
	sess_send A "$p4"
	t_wait A '^a3 '
	assertEquals "a3" "a3 BAD Authentication line too long" "$R"
	wiped "$p4"
	# RFC 4959: the initial response on the command line.
	sess_cmd A a4 "AUTHENTICATE PLAIN $s3"
	assertEquals "a4" "a4 OK AUTHENTICATE completed" "$R"
	wiped "$p3"
	wiped "$s3"
}

# cputimes N USER PASS: the CPU seconds (user + system) of N sessions,
# run at once, that each try one LOGIN; sorted, one a line.
cputimes() {
	printf 'a1 LOGIN %s %s\r\n' "$2" "$3" >"$T_TMP/cpu.in"
	for i in $(seq "$1"); do
		(
			TIMEFORMAT='%3U %3S'
			time run_imapd -p "$PW" <"$T_TMP/cpu.in" >/dev/null \
			    2>/dev/null
		) 2>"$T_TMP/cpu.$i" &
	done
	wait
	for i in $(seq "$1"); do
		awk '{ print $1 + $2 }' "$T_TMP/cpu.$i"
	done | sort -n
}

# An unknown user costs the hash computation of a known one whatever
# the method: the dummy hash has the settings of the file's first hash
# (here bcrypt, cost 12). CPU time, unlike the clock, does not count the
# pause after a failure nor what other processes take.
testUnknownUserCostsTheSame() {
	if [ -n "${T_VALGRIND:-}" ]; then
		startSkipping
	fi
	b=$(pwhash "b pass" '$2b$12$abcdefghijklmnopqrstuu')
	case $b in
	'$2b$12$'*) ;;
	*) startSkipping ;;	# no bcrypt in this crypt(3)
	esac
	PW=$STORE.passwd
	{
		echo "bc:$b:::$STORE"
		echo "testu:$(pwhash secret '$6$saltsalt$'):::$STORE"
	} >"$PW"
	known=$(cputimes 5 bc wrong | sed -n 3p)
	unknown=$(cputimes 5 nosuch wrong | sed -n 3p)
	assertTrue "median CPU seconds: unknown $unknown, known $known" \
	    "awk -v u=$unknown -v k=$known \
	    'BEGIN { exit !(u >= 0.6 * k && u <= 1.6 * k) }'"
}

# Failed logins: 1, 2, then 4 seconds before the answer; the third ends
# the session, and the log names the remote address.
testFailedLoginLimit() {
	TCPREMOTEIP='198.51.100.3 x' sess_open A -p "$PW"
	for n in 1 2 3; do
		t0=$(date +%s%N)
		sess_cmd A a$n "LOGIN testu wrong$n"
		eval "d$n=\$(( (\$(date +%s%N) - t0) / 1000000 ))"
	done
	assertEquals "third failure" "* BYE Too many failed logins
a3 NO [AUTHENTICATIONFAILED] Authentication failed" "$R"
	assertTrue "delays $d1 $d2 $d3 ms" \
	    "[ $d1 -ge 1000 ] && [ $d2 -ge 2000 ] && [ $d3 -ge 4000 ]"
	sess_send A "a4 LOGIN testu secret"
	sess_close A
	sess_rest A
	assertEquals "nothing after the BYE" "" "$R"
	assertEquals "exit status" 0 "$RC"
	ERR=$T_TMP/A.err
	assertEquals "log" 'login failed user=testu remote=198.51.100.3\x20x
login failed user=testu remote=198.51.100.3\x20x
login failed user=testu remote=198.51.100.3\x20x
too many failed logins user=testu remote=198.51.100.3\x20x' "$(loglines)"
}

. "${SHUNIT2:-/usr/share/shunit2/shunit2}"
