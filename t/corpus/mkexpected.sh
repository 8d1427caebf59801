#!/bin/bash
# t/corpus/mkexpected.sh: regenerate t/corpus/dovecot/, Dovecot's raw
# answers about the corpus (the provenance of t/corpus/expected/, which
# is the same after review except what t/corpus/DIFFERENCES lists).
# Run as root (Dovecot then runs as the user imapdev, or $DOVECOT_USER)
# or as any user; needs /usr/lib/dovecot/imap (Debian: dovecot-imapd).
# Afterwards "diff -r t/corpus/dovecot t/corpus/expected" must show only
# the differences listed.
. "$(dirname "$0")/corpus.sh"

[ -x "$DOVECOT_IMAP" ] || { echo "$0: no $DOVECOT_IMAP" >&2; exit 1; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mkexp.XXXXXX") || exit 1
trap '[ -n "${KEEP:-}" ] || rm -rf "$tmp"' EXIT
chmod 755 "$tmp"
home=$tmp/home
mkdir "$home" && dovecot_conf "$home" || exit 1
runas=
if [ "$(id -u)" -eq 0 ]; then
	u=${DOVECOT_USER:-imapdev}
	chown -R "$u:" "$home" || exit 1
	runas="setpriv --reuid=$u --regid=$(id -g "$u") --clear-groups"
else
	u=$(id -un)
fi

# Dovecot's imap wants a pipe or a socket on stdin (it polls it with
# epoll, which refuses a regular file): "cat file | dovecot".
dv() {
	timeout -k 2 120 $runas env -i HOME="$home" USER="$u" PATH=/usr/bin:/bin \
	    "$DOVECOT_IMAP" -c "$home/dovecot.conf" 2>>"$tmp/err"
}

for m in $(corpus_names); do
	corpus_append "$m" "a.${m%%-*}"
done >"$tmp/append"
printf 'lo LOGOUT\r\n' >>"$tmp/append"
cat "$tmp/append" | dv >"$tmp/append.out" || exit 1
if grep -a '^a\.[0-9]* ' "$tmp/append.out" | grep -av '^a\.[0-9]* OK '; then
	echo "$0: an APPEND failed" >&2
	exit 1
fi
corpus_script >"$tmp/script"
corpus_drive "$tmp/script" "$tmp/out" dv || exit 1
corpus_split "$tmp/out" "$CORPUS/dovecot"
rm -rf "$CORPUS/dovecot/cmd"
echo "$0: Dovecot $(dovecot --version 2>/dev/null) answers in $CORPUS/dovecot"
