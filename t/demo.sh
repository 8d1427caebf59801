#!/bin/sh
# t/demo.sh DIR [--session]: make a demo store in DIR for "make run": a few
# realistic messages delivered with "imapd -d DIR -D MAILBOX" (plain text,
# a multipart message with an attachment, a reply thread, RFC 2047 encoded
# non-ASCII subjects) in INBOX and two other mailboxes. Does nothing when
# DIR exists, so the store and what was done in it are kept between runs.
# With --session it then opens an interactive PREAUTH session on DIR.
#
# imapd serves no PREAUTH session (and delivers nothing) for root, so as
# root the demo store belongs to, and the session runs as, the system user
# imapdemo, made here when missing.

dir=${1:?usage: t/demo.sh DIR [--session]}
imapd=$(cd "$(dirname "$0")/.." && pwd)/imapd
runas=

if [ "$(id -u)" -eq 0 ]; then
	id -u imapdemo >/dev/null 2>&1 ||
	    useradd -r -M -d /nonexistent -s /usr/sbin/nologin imapdemo ||
	    exit 1
	runas="setpriv --reuid=imapdemo --regid=imapdemo --clear-groups env HOME=/nonexistent USER=imapdemo"
fi

session() {
	[ "${1:-}" = --session ] || exit 0
	echo "imapd demo: type commands such as 'a LIST \"\" *', 'b SELECT INBOX'," \
	    "'c FETCH 1:* (FLAGS ENVELOPE)', 'd LOGOUT'." >&2
	exec $runas "$imapd" -d "$dir"
}

[ -e "$dir" ] && session "${2:-}"
log=$(mktemp "${TMPDIR:-/tmp}/demo.XXXXXX") || exit 1
trap 'rm -f "$log"' EXIT

fail() {
	echo "t/demo.sh: $*" >&2
	rm -rf "$dir"
	exit 1
}

# put MAILBOX < message (LF line ends, as an MTA hands it over)
put() {
	$runas "$imapd" -s -d "$dir" -D "$1" 2>"$log" ||
	    fail "delivery to $1 failed ($?): $(cat "$log")"
}

mkdir -p "$dir" || exit 1
if [ -n "$runas" ]; then
	chown imapdemo:imapdemo "$dir" "$log" || exit 1
	$runas test -w "$dir" ||
	    fail "imapdemo cannot reach $dir; run make run from a directory" \
	    "other users can enter"
fi

# An IMAP session creates the other mailboxes before anything is delivered.
printf 'a1 CREATE Archive\r\na2 CREATE Lists/announce\r\na3 SUBSCRIBE Archive\r\na4 SUBSCRIBE Lists/announce\r\na5 LOGOUT\r\n' |
    $runas "$imapd" -s -d "$dir" >"$log" 2>&1
grep -q "^a2 OK" "$log" || fail "CREATE failed: $(cat "$log")"

put INBOX <<'EOF'
From postmaster@example.org Mon Jan  8 09:00:00 2024
Return-Path: <postmaster@example.org>
From: Postmaster <postmaster@example.org>
To: You <you@example.org>
Subject: Welcome to imapd
Date: Mon, 08 Jan 2024 09:00:00 +0000
Message-ID: <welcome.1@example.org>
MIME-Version: 1.0
Content-Type: text/plain; charset=us-ascii

Hello,

this store is served by imapd. Try, for example:

  a1 SELECT INBOX
  a2 FETCH 1:* (FLAGS RFC822.SIZE)
  a3 FETCH 2 BODY.PEEK[HEADER]
  a4 SEARCH UNSEEN
  a5 LOGOUT

-- 
The postmaster
EOF

put INBOX <<'EOF'
From: Carol Jones <carol@example.com>
To: You <you@example.org>
Subject: Quarterly report (draft attached)
Date: Tue, 09 Jan 2024 14:12:31 +0100
Message-ID: <report.2024q4@example.com>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="=-=-=boundary42"

This is a multi-part message in MIME format.

--=-=-=boundary42
Content-Type: text/plain; charset=us-ascii
Content-Transfer-Encoding: 7bit

Hi,

the draft of the quarterly report is attached. Comments by Friday,
please.

Carol

--=-=-=boundary42
Content-Type: text/csv; name="q4.csv"
Content-Disposition: attachment; filename="q4.csv"
Content-Transfer-Encoding: base64

bW9udGgsb3JkZXJzLHJldmVudWUKT2N0b2JlciwxMjAsMzQwMApOb3ZlbWJlciwxMzUsMzcy
MApEZWNlbWJlciwxOTAsNTEwMAo=

--=-=-=boundary42--
EOF

put INBOX <<'EOF'
From: Dave <dave@example.net>
To: team@example.org
Subject: Lunch on Thursday?
Date: Wed, 10 Jan 2024 10:05:00 -0500
Message-ID: <lunch.1@example.net>

Anyone up for lunch on Thursday at noon? The new place on Main Street.

Dave
EOF

put INBOX <<'EOF'
From: You <you@example.org>
To: Dave <dave@example.net>
Cc: team@example.org
Subject: Re: Lunch on Thursday?
Date: Wed, 10 Jan 2024 16:40:12 +0000
Message-ID: <lunch.2@example.org>
In-Reply-To: <lunch.1@example.net>
References: <lunch.1@example.net>

Count me in.

Dave <dave@example.net> wrote:
> Anyone up for lunch on Thursday at noon? The new place on Main Street.
EOF

put INBOX <<'EOF'
From: Dave <dave@example.net>
To: team@example.org
Subject: Re: Lunch on Thursday?
Date: Thu, 11 Jan 2024 08:15:45 -0500
Message-ID: <lunch.3@example.net>
In-Reply-To: <lunch.2@example.org>
References: <lunch.1@example.net> <lunch.2@example.org>

Great, table for four booked.

>> Anyone up for lunch on Thursday at noon?
> Count me in.
EOF

put INBOX <<'EOF'
From: =?UTF-8?Q?Ren=C3=A9e_Dupr=C3=A9?= <renee@example.fr>
To: You <you@example.org>
Subject: =?UTF-8?Q?R=C3=A9union_d=27=C3=A9quipe_=E2=80=94_ordre_du_jour?=
Date: Fri, 12 Jan 2024 11:00:00 +0100
Message-ID: <reunion.7@example.fr>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

Bonjour,

voici l'ordre du jour de la réunion de lundi :
  1. bilan de l'année
  2. prévisions — budget
  3. questions diverses

Renée
EOF

put Archive <<'EOF'
From: =?ISO-8859-1?Q?J=F6rg_M=FCller?= <joerg@example.de>
To: You <you@example.org>
Subject: =?UTF-8?B?R3LDvMOfZSBhdXMgQmVybGluIOKAlCDmnbHkuqw=?=
Date: Thu, 21 Dec 2023 18:30:00 +0100
Message-ID: <gruesse.3@example.de>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable

Sch=C3=B6ne Feiertage und einen guten Rutsch!

J=C3=B6rg
EOF

put Lists/announce <<'EOF'
From: Release Bot <noreply@lists.example.org>
To: announce@lists.example.org
Subject: [announce] imapd 0.1 released
Date: Sat, 13 Jan 2024 00:00:00 +0000
Message-ID: <release.0.1@lists.example.org>
List-Id: Announcements <announce.lists.example.org>
Precedence: list

imapd 0.1 is out: IMAP4rev1 over stdin/stdout on a flat-file store.
EOF

# Some state, as a mail client would leave it.
printf 'a1 SELECT INBOX\r\na2 STORE 1 +FLAGS.SILENT (\\Seen)\r\na3 STORE 3:4 +FLAGS.SILENT (\\Seen \\Answered)\r\na4 STORE 2 +FLAGS.SILENT ($Important \\Flagged)\r\na5 LOGOUT\r\n' |
    $runas "$imapd" -s -d "$dir" >"$log" 2>&1
grep -q "^a4 OK" "$log" || fail "STORE failed: $(cat "$log")"
session "${2:-}"
