# t/literal.awk: one awk function, shared by the programs in t/lib.sh
# (resp) and t/corpus/corpus.sh that read a server's output line by line
# and must skip IMAP literals byte-exactly, so that no line of a message
# can pass for a response. Lines are read raw: a line's bytes are its
# length plus the LF that ended it.
#
# lit_line(raw) returns the protocol text of the line, CR removed, and
# sets: LIT_IN (the whole line is literal data), LIT_CONT (the text goes
# on with a response that a literal interrupted), LIT_OPEN (the line ends
# by announcing a literal, {n} or {n+}, whose data comes next).
function lit_line(raw,    rest) {
	LIT_CONT = 0
	LIT_OPEN = 0
	if (LIT_LEFT > 0) {
		if (LIT_LEFT >= length(raw) + 1) {
			LIT_LEFT -= length(raw) + 1
			if (LIT_LEFT == 0)
				LIT_NEXT = 1
			LIT_IN = 1
			return ""
		}
		rest = substr(raw, LIT_LEFT + 1)
		LIT_LEFT = 0
		LIT_CONT = 1
	} else {
		rest = raw
		LIT_CONT = LIT_NEXT
	}
	LIT_IN = 0
	LIT_NEXT = 0
	sub(/\r$/, "", rest)
	if (match(rest, /\{[0-9]+\+?\}$/)) {
		LIT_LEFT = substr(rest, RSTART + 1, RLENGTH - 2) + 0
		if (LIT_LEFT == 0)
			LIT_NEXT = 1
		LIT_OPEN = 1
	}
	return rest
}
