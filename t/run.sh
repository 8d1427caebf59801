#!/bin/sh
# t/run.sh: the whole test suite (make check). Runs every shunit2 suite
# t/*.sh and the C tests t/parsetest, t/storetest, t/objidtest and
# t/mimetest when built, then prints one last line "N passed, N failed"
# and exits 1 if anything failed. Run from the top of the tree, as root
# or as any user.
#
# T_VALGRIND=1 sh t/run.sh runs every imapd under valgrind. Arguments
# name suites to run instead of all: sh t/run.sh t/idle.sh t/storetest
#
# As root it installs shunit2 when missing and runs every imapd session as
# the unprivileged user imapdtest (created when missing): imapd refuses a
# PREAUTH session for root, rightly.

cd "$(dirname "$0")/.." || exit 1
SHUNIT2=/usr/share/shunit2/shunit2
TESTUSER=imapdtest

die() {
	echo "t/run.sh: $*" >&2
	echo "0 passed, 1 failed"
	exit 1
}

if [ "$(id -u)" -eq 0 ]; then
	if [ ! -r "$SHUNIT2" ]; then
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -q >/dev/null &&
		    apt-get install -y -q shunit2 >/dev/null ||
		    die "cannot install shunit2"
	fi
	if ! id -u "$TESTUSER" >/dev/null 2>&1; then
		useradd -r -M -d /nonexistent -s /usr/sbin/nologin "$TESTUSER" ||
		    die "cannot create user $TESTUSER"
	fi
	command -v setpriv >/dev/null || die "setpriv (util-linux) missing"
	uid=$(id -u "$TESTUSER")
	gid=$(id -g "$TESTUSER")
	T_USER=$TESTUSER
	T_OWNER=$uid:$gid
	T_RUNAS="setpriv --reuid=$uid --regid=$gid --clear-groups env USER=$TESTUSER LOGNAME=$TESTUSER HOME=/nonexistent"
else
	[ -r "$SHUNIT2" ] || die "$SHUNIT2 missing: apt-get install shunit2"
	T_USER=$(id -un)
	T_OWNER=
	T_RUNAS=
fi
[ -x ./imapd ] || die "./imapd not built"

T_TMP=$(mktemp -d "${TMPDIR:-/tmp}/imapdtest.XXXXXX") || die "mktemp"
chmod 755 "$T_TMP"
trap 'rm -rf "$T_TMP"' EXIT
trap 'exit 1' HUP INT TERM
T_COUNTS=$T_TMP/counts

# Under the sanitizers (.ci/run sets their options) every report goes to a
# file too, so a report from a process whose exit status no test looks at
# (a leak found at exit, say) still fails the run.
SAN_DIR=$T_TMP/san
mkdir "$SAN_DIR" && chmod 1777 "$SAN_DIR"
T_SANDIR=$SAN_DIR
export T_SANDIR
if [ -n "${ASAN_OPTIONS:-}" ]; then
	ASAN_OPTIONS="$ASAN_OPTIONS:log_path=$SAN_DIR/asan"
	export ASAN_OPTIONS
fi
if [ -n "${UBSAN_OPTIONS:-}" ]; then
	UBSAN_OPTIONS="$UBSAN_OPTIONS:log_path=$SAN_DIR/ubsan"
	export UBSAN_OPTIONS
fi
export T_TMP T_USER T_OWNER T_RUNAS T_COUNTS SHUNIT2

passed=0
failed=0

# One suite: its summary line, and on failure its whole log.
suite() {
	: >"$T_COUNTS"
	log=$T_TMP/log
	SHUNIT_COLOR=none bash "$1" >"$log" 2>&1
	rc=$?
	if [ -s "$T_COUNTS" ]; then
		read -r p f <"$T_COUNTS"
	else
		p=0 f=0
	fi
	# A suite that died before its report counts as one failure.
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=$((f + 1))
	fi
	if [ "$f" -ne 0 ]; then
		sed 's/^/	/' "$log"
	fi
	echo "$1: $p passed, $f failed"
	passed=$((passed + p))
	failed=$((failed + f))
}

# A C test: prints "name: N passed, N failed" last, exits 1 on failure.
ctest() {
	log=$T_TMP/log
	(cd "$T_TMP" && TMPDIR=$T_TMP "$OLDPWD/$1") >"$log" 2>&1
	rc=$?
	line=$(tail -n 1 "$log")
	p=$(echo "$line" | sed -n 's/.* \([0-9][0-9]*\) passed, \([0-9][0-9]*\) failed$/\1/p')
	f=$(echo "$line" | sed -n 's/.* \([0-9][0-9]*\) passed, \([0-9][0-9]*\) failed$/\2/p')
	if [ -z "$p" ]; then
		p=0 f=1
	elif [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
	fi
	if [ "$f" -ne 0 ]; then
		grep -v '^ok ' "$log" | sed 's/^/	/'
	fi
	echo "$1: $p passed, $f failed"
	passed=$((passed + p))
	failed=$((failed + f))
}

# Arguments name the suites to run (sh t/run.sh t/idle.sh t/storetest);
# none runs them all.
[ $# -gt 0 ] || set -- t/*.sh t/parsetest t/storetest t/objidtest t/mimetest \
    t/utf7test
for t in "$@"; do
	case $t in
	t/lib.sh|t/run.sh|t/demo.sh) ;;
	*.sh) suite "$t" ;;
	*) [ ! -x "$t" ] || ctest "$t" ;;
	esac
done

# valgrind (T_VALGRIND=1) leaves an empty log when it found nothing.
find "$SAN_DIR" -type f -size 0 -exec rm -f {} +
if [ -n "$(ls -A "$SAN_DIR")" ]; then
	cat "$SAN_DIR"/* | sed 's/^/	/'
	echo "sanitizers: 0 passed, 1 failed"
	failed=$((failed + 1))
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
