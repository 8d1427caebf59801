#!/bin/bash
# t/corpus/dovecot-as-imapd.sh: Dovecot's imap dressed as imapd for the
# options t/mime.sh uses (-s, -d DIR, -D MAILBOX), so that the suite can
# be checked against Dovecot itself: T_IMAPD=$PWD/t/corpus/dovecot-as-imapd.sh
# bash t/mime.sh must pass but for the commands DIFFERENCES lists. Mail
# goes to DIR/Maildir; a delivery is an APPEND with a literal8.
. "$(dirname "$0")/corpus.sh"
dir= mbox=
while getopts sd:D: c; do
	case $c in
	s) ;;
	d) dir=$OPTARG ;;
	D) mbox=$OPTARG ;;
	*) exit 64 ;;
	esac
done
[ -n "$dir" ] || exit 64
[ -e "$dir/dovecot.conf" ] || dovecot_conf "$dir" || exit 111
imap() {
	env HOME="$dir" "$DOVECOT_IMAP" -c "$dir/dovecot.conf"
}
if [ -z "$mbox" ]; then
	# Dovecot's imap polls stdin with epoll: a pipe, not a file.
	cat | imap
	exit
fi
msg=$(mktemp) || exit 111
trap 'rm -f "$msg"' EXIT
cat >"$msg"
{
	printf 'd APPEND "%s" ~{%s+}\r\n' "$mbox" "$(wc -c <"$msg" | tr -d ' ')"
	cat "$msg"
	printf '\r\nlo LOGOUT\r\n'
} | imap | grep -aq '^d OK' || exit 75
