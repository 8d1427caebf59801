# t/corpus/corpus.sh: shell functions shared by t/mime.sh and
# t/corpus/mkexpected.sh (sourced by bash). They write the IMAP commands
# that load the corpus and question it, and cut a server's answers into
# one file per message, one for the searches and one per command, so that
# the answers of two servers can be compared byte for byte.
#
# Layout of an answer directory (t/corpus/expected, t/corpus/dovecot):
#   NN-name     the answers about message NN-name.eml, command by command
#   search      the answers to t/corpus/searches
# Each command's answer is its untagged lines exactly as sent, then its
# tagged line cut down to tag, status and a BADCHARSET code if any: the
# human text after the status differs between servers and says nothing.
# Messages are loaded in file name order, so message NN-name is sequence
# number and UID NN in a fresh mailbox. Command tags: "NN.k" for the k-th
# command about message NN, "s.label" for the searches.

CORPUS=${CORPUS:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}
# The awk function that skips literals, shared with t/lib.sh.
LIT_AWK=$(cat "$CORPUS/../literal.awk")

# The message names, in order (file names without .eml).
corpus_names() {
	for c_f in "$CORPUS"/[0-9]*.eml; do
		c_f=${c_f##*/}
		echo "${c_f%.eml}"
	done
}

# corpus_hasnul FILE: the message holds a NUL byte, which no literal may
# carry (RFC 3501 9: CHAR8 excludes %x00); only RFC 3516's literal8 can.
corpus_hasnul() {
	[ "$(tr -d '\000' <"$1" | wc -c)" -ne "$(wc -c <"$1")" ]
}

# corpus_append NAME TAG: an APPEND of message NAME to INBOX with a
# non-synchronizing literal (RFC 7888), a literal8 when it holds a NUL.
corpus_append() {
	c_f=$CORPUS/$1.eml
	c_n=$(wc -c <"$c_f" | tr -d ' ')
	if corpus_hasnul "$c_f"; then
		printf '%s APPEND INBOX ~{%s+}\r\n' "$2" "$c_n"
	else
		printf '%s APPEND INBOX {%s+}\r\n' "$2" "$c_n"
	fi
	cat "$c_f"
	printf '\r\n'
}

# The body sections fetched from message NAME (t/corpus/sections).
corpus_sections() {
	c_s=$(sed -n "s/^$1 //p" "$CORPUS/sections")
	echo "${c_s:-1}"
}

# corpus_lit LINE: LINE with each LIT(text) made a LITERAL+ literal.
corpus_lit() {
	c_l=$1
	while [[ $c_l =~ LIT\(([^\)]*)\) ]]; do
		c_v=${BASH_REMATCH[1]}
		c_n=$(printf '%s' "$c_v" | LC_ALL=C wc -c | tr -d ' ')
		c_l=${c_l/"LIT($c_v)"/"{$c_n+}"$'\r\n'"$c_v"}
	done
	printf '%s\r\n' "$c_l"
}

# The session that questions the loaded mailbox: SELECT, then for every
# message its structure, two header fields and its sections, then every
# search, then LOGOUT. CRLF line ends.
corpus_script() {
	printf 'sel SELECT INBOX\r\n'
	c_i=0
	for c_m in $(corpus_names); do
		c_i=$((c_i + 1))
		c_t=${c_m%%-*}
		printf '%s.1 FETCH %s (ENVELOPE BODYSTRUCTURE BODY)\r\n' "$c_t" "$c_i"
		printf '%s.2 FETCH %s (BODY.PEEK[HEADER.FIELDS (From Subject)])\r\n' \
		    "$c_t" "$c_i"
		c_k=2
		for c_s in $(corpus_sections "$c_m"); do
			c_k=$((c_k + 1))
			printf '%s.%s FETCH %s (BODY.PEEK[%s])\r\n' \
			    "$c_t" "$c_k" "$c_i" "$c_s"
			case $c_s in
			*[0-9])
				c_k=$((c_k + 1))
				printf '%s.%s FETCH %s (BODY.PEEK[%s.MIME])\r\n' \
				    "$c_t" "$c_k" "$c_i" "$c_s"
				;;
			esac
		done
	done
	grep -v '^#' "$CORPUS/searches" | while read -r c_lab c_args; do
		corpus_lit "s.$c_lab SEARCH $c_args"
	done
	printf 'lo LOGOUT\r\n'
}

# corpus_drive SCRIPT OUT COMMAND...: run COMMAND (a server on stdin and
# stdout) with its answers in the file OUT and feed it SCRIPT one command
# at a time, each only after the tagged reply to the one before: a server
# may run pipelined commands at once and send their answers interleaved
# (RFC 3501 5.5; Dovecot does), which would leave them unattributable. A
# line ending in a LITERAL+ "{n+}" goes on with the next line. Stdin is a
# pipe, as Dovecot wants. 1 when a reply does not come in T_WAIT seconds.
corpus_drive() {
	c_script=$1 c_out=$2
	shift 2
	: >"$c_out"
	coproc CDRV { "$@" >"$c_out"; }
	c_fd=${CDRV[1]} c_pid=$CDRV_PID
	c_rc=0
	c_cmd=
	while IFS= read -r c_l; do
		c_cmd=$c_cmd$c_l$'\n'
		case $c_l in
		*+}$'\r')
			continue ;;
		esac
		c_tag=${c_cmd%% *}
		printf '%s' "$c_cmd" >&"$c_fd" 2>/dev/null
		c_cmd=
		c_end=$(($(date +%s) + ${T_WAIT:-10}))
		until grep -aq "^${c_tag//./\\.} " "$c_out"; do
			if [ "$(date +%s)" -gt "$c_end" ]; then
				echo "no reply to $c_tag" >&2
				c_rc=1
				break 2
			fi
			sleep 0.005
		done
	done <"$c_script"
	eval "exec $c_fd>&-"
	wait "$c_pid"
	return $c_rc
}

# corpus_split TRANSCRIPT DIR: cut a server's answers to corpus_script
# into DIR (layout above) and DIR/cmd/TAG, one file per command. Literals
# are skipped byte-exactly, so message text can never pass for a tagged
# line. The greeting, SELECT and LOGOUT are left out.
corpus_split() {
	rm -rf "$2"
	mkdir -p "$2/cmd" || return 1
	corpus_names >"$2/cmd/.names"
	LC_ALL=C awk -v dir="$2" "$LIT_AWK"'
	BEGIN {
		while ((getline n <(dir "/cmd/.names")) > 0)
			name[substr(n, 1, index(n, "-") - 1)] = n
	}
	function add(s) { buf = buf s "\n" }
	NR == 1 { next }	# the greeting
	{
		rest = lit_line($0)
		line = $0
		if (LIT_IN || LIT_OPEN || LIT_CONT ||
		    substr(rest, 1, 2) == "* " || substr(rest, 1, 1) == "+") {
			add(line)
			next
		}
		# A tagged line: tag, status and a BADCHARSET code.
		cr = line ~ /\r$/ ? "\r" : ""
		split(rest, w, " ")
		tag = w[1]
		t = tag " " w[2]
		if (w[3] ~ /^\[BADCHARSET/) {
			c = substr(rest, index(rest, "[BADCHARSET"))
			t = t " " substr(c, 1, index(c, "]"))
		}
		buf = buf t cr "\n"
		printf "%s", buf >(dir "/cmd/" tag)
		close(dir "/cmd/" tag)
		if (tag ~ /^s\./)
			f = dir "/search"
		else if (tag ~ /^[0-9]+\./)
			f = dir "/" name[substr(tag, 1, index(tag, ".") - 1)]
		else
			f = ""
		if (f != "")
			printf "%s", buf >>f
		buf = ""
	}' "$1"
	rm -f "$2/cmd/.names" "$2/cmd/sel" "$2/cmd/lo"
}

# corpus_cmds FILE DIR: cut one answer file of the layout above into
# DIR/TAG, one file per command (the inverse of corpus_split's joining).
corpus_cmds() {
	mkdir -p "$2" || return 1
	LC_ALL=C awk -v dir="$2" "$LIT_AWK"'
	function add(s) { buf = buf s "\n" }
	{
		rest = lit_line($0)
		add($0)
		if (LIT_IN || LIT_OPEN || LIT_CONT ||
		    substr(rest, 1, 2) == "* " || substr(rest, 1, 1) == "+")
			next
		split(rest, w, " ")
		printf "%s", buf >(dir "/" w[1])
		close(dir "/" w[1])
		buf = ""
	}' "$1"
}

# The commands whose Dovecot answer is known to be wrong, or allowed to
# differ, by t/corpus/DIFFERENCES: one tag a line.
corpus_differences() {
	sed -n 's/^\([0-9][0-9]*\.[0-9][0-9]*\|s\.[a-z0-9]*\)[:,].*/\1/p' \
	    "$CORPUS/DIFFERENCES"
}

# Dovecot's imap binary speaks IMAP on stdin/stdout in PREAUTH mode for
# the user running it; nothing else of Dovecot (no master, no auth) is
# needed for that.
DOVECOT_IMAP=${DOVECOT_IMAP:-/usr/lib/dovecot/imap}

# dovecot_conf DIR: a configuration DIR/dovecot.conf keeping mail in DIR.
dovecot_conf() {
	cat >"$1/dovecot.conf" <<EOF
mail_location = maildir:$1/Maildir
log_path = /dev/stderr
EOF
}
