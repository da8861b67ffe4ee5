"""Old and non-DSN bounce formats: made-up messages in the shapes these mailers print.

PMDF and VMS Mail, MMDF, smail, old sendmail name-server failures, Microsoft
SMTPSVC without its DSN part, qmail's translated texts, "Error for <address>:"
blocks, notices that name the recipient only in the returned message's To:
line, canned failure notices sent as auto-replies, and domains with "_".
"""

from __future__ import annotations

from bounceback.classify import classify
from bounceback.model import Kind
from bounceback.parse import parse

# PMDF with its DSN boundary: the original address is the one the sender wrote.
PMDF_DSN = b"""\
Date: Wed, 07 Jun 2000 10:11:12 -0500 (EST)
From: PMDF e-Mail Interconnect <postmaster@vaxa.example.edu>
Subject: Delivery Notification: Delivery has failed
To: list-bounces@lists.example.org
Message-id: <01JQ@vaxa.example.edu>
MIME-version: 1.0
Content-type: MULTIPART/REPORT; BOUNDARY="Boundary_(ID_aaaa)"; REPORT-TYPE=DELIVERY-STATUS

--Boundary_(ID_aaaa)
Content-type: text/plain; charset=us-ascii
Content-language: EN-US

This report relates to a message you sent with the following header fields:

  Message-id: <msg-9@lists.example.org>
  Date: Wed, 07 Jun 2000 10:00:00 -0500
  From: list-bounces@lists.example.org
  To: list@lists.example.org
  Subject: hello

Your message cannot be delivered to the following recipients:

  Recipient address: SMITHJ@vaxa.example.edu
  Original address: john.smith@example.edu
  Reason: Addressee unknown

--Boundary_(ID_aaaa)--
"""

# PMDF as plain text, with a VMS Mail condition code.
PMDF_TEXT = b"""\
Date: Wed, 07 Jun 2000 10:11:12 -0500 (EST)
From: PMDF e-Mail Interconnect <postmaster@vaxa.example.edu>
Subject: Undeliverable mail
To: list-bounces@lists.example.org
Message-id: <01JQ5@vaxa.example.edu>
MIME-version: 1.0
Content-type: TEXT/PLAIN; CHARSET=US-ASCII

Your message cannot be delivered to the following recipients:

  Recipient address: JONES@VAXA.EXAMPLE.EDU
  Original address: m.jones@example.edu
  Reason: %MAIL-E-NOSUCHUSR, no such user JONES at node VAXA

  Recipient address: ted@far.example.com
  Reason: Illegal host/domain name found
"""

# An older PMDF/VMS notice: "Addressee:" and the VMS message.
VMS_ADDRESSEE = b"""\
Date: Wed, 07 Jun 1995 10:11:12 -0500 (EST)
From: PMDF Mail Server <Postmaster@vaxb.example.edu>
Subject: Undeliverable mail: hello
To: list-bounces@lists.example.org
Message-id: <01JQ2@vaxb.example.edu>
MIME-version: 1.0
Content-type: MULTIPART/MIXED; BOUNDARY="Boundary (ID bbbb)"

--Boundary (ID bbbb)
Content-type: TEXT/PLAIN; CHARSET=US-ASCII

The message could not be delivered to:

Addressee: BROWN_T
Reason:
  %MAIL-E-NOSUCHUSR, no such user BROWN_T at node VAXB

Recipient address: brown_t@vaxb.example.edu
Reason: %MAIL-E-NOSUCHUSR, no such user BROWN_T at node VAXB

--Boundary (ID bbbb)--
"""

# MMDF's "Failed mail" notice after the queue timed out.
MMDF = b"""\
From: MMDF Mail System <submit@mmdf.example.edu>
To: list-bounces@lists.example.org
Subject: Failed mail  (msg.aa01234)
Date: Tue, 4 Dec 1996 10:12:09 -0500
Message-ID: <mmdf-1@mmdf.example.edu>

    After 12 days (286 hours), your message could not be fully delivered.

    It failed to be received by the following address(es):

        jsmith@mmdf.example.edu (host: mmdf.example.edu) (queue: local)
        Problem with delivery: No such user

    Problems usually are due to service interruptions at the receiving
    machine.  Less often, they are caused by the communication system.

    Your message begins as follows:

Received: from lists.example.org by mmdf.example.edu id aa01234;
From: list-bounces@lists.example.org
To: list@lists.example.org
"""

# MMDF's immediate failure.
MMDF_BAD_ADDRESS = b"""\
From: MMDF Mail System <submit@mmdf.example.edu>
To: list-bounces@lists.example.org
Subject: Failed mail  (msg.aa01235)
Date: Tue, 4 Dec 1996 10:12:09 -0500

    Your message could not be delivered to the following address(es):

    Bad address -- <nobody@mmdf.example.edu>
Reason: Unknown user

    Your message follows:

From: list-bounces@lists.example.org
To: list@lists.example.org
"""

# smail's "Failed addresses follow:" block.
SMAIL = b"""\
From: MAILER-DAEMON@smail.example.net
To: list-bounces@lists.example.org
Subject: mail failed, returning to sender
Date: Sun, 1 Feb 1998 10:00:00 -0500

|------------------------- Failed addresses follow: ---------------------|
 <karl@dead.example.net> ... unknown host
 bert@smail.example.net ... unknown user
|------------------------- Message text follows: ------------------------|
From: list-bounces@lists.example.org
To: list@lists.example.org
"""

# smail: a name server error.
SMAIL_NAMESERVER = b"""\
From: MAILER-DAEMON@smail.example.net
To: list-bounces@lists.example.org
Subject: mail failed, returning to sender
Date: Sun, 1 Feb 1998 10:00:00 -0500

|------------------------- Failed addresses follow: ---------------------|
 karl@dead.example.net ... nameserver error: dead.example.net: no such domain
|------------------------- Message text follows: ------------------------|
From: list-bounces@lists.example.org
To: list@lists.example.org
"""

# Old sendmail: a transient name server error, a warning only.
NAMESERVER_WARNING = b"""\
From: Mail Delivery Subsystem <MAILER-DAEMON@relay.example.org>
To: list-bounces@lists.example.org
Subject: Warning: could not send message for past 4 hours
Date: Sun, 1 Feb 1998 10:00:00 -0500

    **********************************************
    **      THIS IS A WARNING MESSAGE ONLY      **
    **  YOU DO NOT NEED TO RESEND YOUR MESSAGE  **
    **********************************************

The original message was received at Sun, 1 Feb 1998 06:00:00 -0500
from list@lists.example.org [192.0.2.3]

   ----- The following addresses had transient non-fatal errors -----
<user@nohost.example.net>

   ----- Transcript of session follows -----
user@nohost.example.net... Deferred: Name server: nohost.example.net.: host name lookup failure
Warning: message still undelivered after 4 hours
Will keep trying until message is 5 days old
"""

# Old sendmail: "Host unknown (Name server: ...: host not found)".
NAMESERVER_FATAL = b"""\
From: Mail Delivery Subsystem <MAILER-DAEMON@relay.example.org>
To: list-bounces@lists.example.org
Subject: Returned mail: Host unknown (Name server: nohost.example.net: host not found)
Date: Sun, 1 Feb 1998 10:00:00 -0500

The original message was received at Sun, 1 Feb 1998 06:00:00 -0500
from list@lists.example.org [192.0.2.3]

   ----- The following addresses had permanent fatal errors -----
user@nohost.example.net

   ----- Transcript of session follows -----
550 user@nohost.example.net... Host unknown (Name server: nohost.example.net: host not found)

   ----- Original message follows -----
From: list-bounces@lists.example.org
To: list@lists.example.org
"""

# Microsoft SMTPSVC whose notice lost its DSN part; the domain has "_".
SMTPSVC_TEXT_ONLY = b"""\
From: postmaster@iis.example.com
To: list-bounces@lists.example.org
Date: Tue, 4 Dec 2001 10:12:09 -0500
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="9B095B5ADSN=_01C17CD3"
X-DSNContext: 335a7efd - 4457 - 00000001 - 80040546
Message-ID: <iis-2@iis.example.com>
Subject: Delivery Status Notification (Failure)

--9B095B5ADSN=_01C17CD3
Content-Type: text/plain; charset=unicode-1-1-utf-7

This is an automatically generated Delivery Status Notification.

Unable to deliver message to the following recipients, due to being unable to connect
successfully to the destination mail server.

       bob@unreach_able.example.com




--9B095B5ADSN=_01C17CD3--
"""

# qmail-send in French.
QMAIL_FR = b"""\
From: MAILER-DAEMON@mx.example.fr
To: list-bounces@lists.example.org
Subject: failure notice
Date: Tue, 4 Dec 2001 10:12:09 -0500

Bonjour. Ceci est le programme qmail-send de mx.example.fr.
Je n'ai pas pu delivrer votre message aux adresses suivantes.
C'est une erreur permanente; j'abandonne. Desole.

<marie@example.fr>:
Desole, aucune boite aux lettres de ce nom ici. (#5.1.1)

--- Ci-dessous une copie de votre message.

From: list-bounces@lists.example.org
To: list@lists.example.org
"""

# qmail-send in Spanish.
QMAIL_ES = b"""\
From: MAILER-DAEMON@mx.example.es
To: list-bounces@lists.example.org
Subject: failure notice
Date: Tue, 4 Dec 2001 10:12:09 -0500

Hola. Este es el programa qmail-send de mx.example.es.
Lamentablemente no he podido entregar su mensaje a las siguientes direcciones.
Este es un error permanente; me he rendido. Lo siento.

<juan@example.es>:
Lo siento, no existe ese buzon aqui. (#5.1.1)

--- A continuacion hay una copia de su mensaje.

From: list-bounces@lists.example.org
"""

# "Error for <address>:" blocks.
ERROR_FOR = b"""\
From: Mail Delivery Subsystem <MAILER-DAEMON@relay.example.net>
To: list-bounces@lists.example.org
Subject: Delivery failure
Date: Thu, 12 Oct 2000 14:02:11 -0400

Error for <olga@example.net>:
    mailbox unavailable, user disabled

Error for <pete@example.net>:
    550 Requested action not taken: mailbox unavailable
"""

# The recipient is named only in the quoted copy's To: line.
QUOTED_TO = b"""\
From: Mail Administrator <postmaster@mail.example.net>
To: list-bounces@lists.example.org
Subject: Mail System Error - Returned Mail
Date: Tue, 4 Dec 2001 10:12:09 -0500
Message-ID: <ret-1@mail.example.net>

This Message was undeliverable due to the following reason:

The user's mailbox has been closed. Your message could not be delivered.

Please reply to postmaster@mail.example.net
if you feel this message to be in error.

   ----- Original message -----
   From: list-bounces@lists.example.org
   To: closed.account@example.net
   Subject: Weekly digest
   Date: Tue, 4 Dec 2001 10:12:03 -0500
"""

# The recipient is named only in the attached message's To: field.
ATTACHED_TO = b"""\
From: MAILER-DAEMON@mail.example.net
To: list-bounces@lists.example.org
Subject: Undeliverable Message
Date: Tue, 4 Dec 2001 10:12:09 -0500
Message-ID: <ret-2@mail.example.net>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="b"

--b
Content-Type: text/plain

Your message could not be delivered. The account has been disabled or
discontinued.

--b
Content-Type: message/rfc822

From: list-bounces@lists.example.org
To: "Kim Lee" <kim_lee@example.net>
Subject: Weekly digest
Message-ID: <digest-99@lists.example.org>

hello
--b--
"""

# A failure notice sent with Auto-Submitted: auto-replied.
CANNED_AUTOREPLY = b"""\
From: Helpdesk <help@shop.example.com>
To: list-bounces@lists.example.org
Subject: Auto: Weekly digest
Auto-Submitted: auto-replied
Date: Tue, 4 Dec 2001 10:12:09 -0500
Message-ID: <ar-1@shop.example.com>

Delivery has failed to these recipients or groups:

old-sales@shop.example.com
The e-mail address you entered couldn't be found.

Diagnostic information for administrators:
Remote Server returned '550 5.1.1 RESOLVER.ADR.RecipNotFound; not found'
"""

# Postfix: a recipient domain with "_".
UNDERSCORE = b"""\
From: MAILER-DAEMON@mx.example.net
To: list-bounces@lists.example.org
Subject: Undelivered Mail Returned to Sender
Date: Tue, 4 Dec 2001 10:12:09 -0500
Message-ID: <u-1@mx.example.net>

This is the mail system at host mx.example.net.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients.

<ana@mail_srv.example.net>: host mail_srv.example.net[192.0.2.9] said: 550 5.1.1
    <ana@mail_srv.example.net>: Recipient address rejected: User unknown (in
    reply to RCPT TO command)
"""

# Mercury: the reason above "Recipient:", a subject no list knows.
MERCURY = b"""\
From: Mercury 32 <postmaster@merc.example.edu>
To: list-bounces@lists.example.org
Subject: Message not deliverable
Date: Tue, 4 Dec 2001 10:12:09 -0500
Message-ID: <mercury@x.example>

The following mail could not be delivered.

   Reason: No such local user.
   Recipient: hopkins@merc.example.edu

"""

# CompuServe names only the local part; the returned To: has the address.
COMPUSERVE = b"""\
From: CompuServe Postmaster <postmaster@compuserve.com>
To: list-bounces@lists.example.org
Subject: Undeliverable Message
Date: Tue, 4 Dec 2001 10:12:09 -0500
Message-ID: <compuserve@x.example>

Receiver not found: old.member

Your message could not be delivered as addressed.

--- Returned Message ---
From: list-bounces@lists.example.org
To: old.member@compuserve.com
Subject: Weekly digest
"""

# MDaemon's session transcript.
MDAEMON = b"""\
From: MDaemon@mail.example.com
To: list-bounces@lists.example.org
Subject: Permanent Delivery Failure
Date: Tue, 4 Dec 2001 10:12:09 -0500
Message-ID: <mdaemon@x.example>

The attached message had PERMANENT fatal delivery errors!

After one or more unsuccessful delivery attempts the attached message has
been removed from the mail queue on this server.  The number and frequency
of delivery attempts are determined by local configuration parameters.

YOU DO NOT NEED TO RESEND THE MESSAGE.  This message will not be delivered.

--- Session Transcript ---
 Tue 2001-12-04 10:12:09: Session 0001; child 0001
 Tue 2001-12-04 10:12:09: Parsing message <pd500001.msg>
 Tue 2001-12-04 10:12:09: *  From: list-bounces@lists.example.org
 Tue 2001-12-04 10:12:09: *  To: gone.away@example.com
 Tue 2001-12-04 10:12:09: Attempting SMTP connection to [mx.example.com]
 Tue 2001-12-04 10:12:09: --> RCPT To:<gone.away@example.com>
 Tue 2001-12-04 10:12:09: <-- 550 5.1.1 <gone.away@example.com>... User unknown
--- End Transcript ---
"""

# Hotmail's old plain-text notice.
HOTMAIL_OLD = b"""\
From: Mail Delivery Subsystem <MAILER-DAEMON@hotmail.com>
To: list-bounces@lists.example.org
Subject: Delivery Notification: Delivery has failed
Date: Tue, 4 Dec 2001 10:12:09 -0500
Message-ID: <hotmail@x.example>

The following message to <lost.girl@hotmail.com> was undeliverable.
The reason for the problem:
5.1.0 - Unknown address error 550-'Requested action not taken: mailbox unavailable'
"""

# A scanner appliance: no sender address, a "Failed Recipients" list.
WEBSHIELD = b"""\
From: Webshield SMTP V4.5 MR3 Mail Service
Date: Sat Apr 28 23:09:37 2012
To: <news@lists.example.org>
Subject: Returned Mail: Error During Delivery

    ---- Failed Recipients ----

<loop.user@example.co.uk>
Mail Loop Detected

"""

# Lotus Notes out-of-office: "AUTO:" subject, no auto-reply header.
NOTES_AUTO = b"""\
From: Pat.Quinn@example.gov.uk
To: news@lists.example.org
Subject: AUTO: Pat Quinn is out of the office (returning 05/01/2012)
Date: Fri, 30 Dec 2011 06:54:19 +0000

I am out of the office until 05/01/2012.

Note: This is an automated response to your message "Weekly news" sent on
30/12/2011 06:54:19.
"""

# A failure sent as an auto-reply from the null sender.
NULL_SENDER_AUTOREPLY = b"""\
Return-Path: <>
From: <>
To: list-bounces+abc@lists.example.org
Auto-Submitted: auto-replied
Date: Tue, 29 Dec 2009 12:12:54 +0000
Message-Id: <E1NPaw@mail.example.net>

You sent mail to nobody.here@example.net. That's not a valid user here.
"""

# A notice saved without its header: the text alone says it failed.
HEADERLESS = b"""\
** Delivery incomplete **

There was a temporary problem delivering your message to slow.box@example.com. Gmail will
retry for 47 more hours. You'll be notified if the delivery fails permanently.

The response from the remote server was:
451 4.3.0 Mail server temporarily rejected message.
"""

# A DSN that names the recipient by its local part alone.
BARE_LOCAL_PART = b"""\
From: Mail Delivery Subsystem <MAILER-DAEMON@mx.example.com>
To: list-bounces@lists.example.org
Subject: Returned mail: see transcript for details
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain

The original message could not be delivered.

--B
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.com

Final-Recipient: rfc822;jdoe
Action: failed
Status: 5.1.1

--B
Content-Type: message/rfc822

From: list-bounces@lists.example.org
To: "John Doe" <JDoe@example.com>, "Amy Li" <amy@example.com>
Subject: news

hi
--B--
"""

# The reason names the sender ("not accepting mail from <x>").
SENDER_IN_THE_REASON = b"""\
From: Mail Delivery Subsystem <MAILER-DAEMON@mx.example.net>
To: <bounces@news.example.org>
Subject: Mail Delivery Problem

Your mail to the following recipients could not be delivered because they
are not accepting mail from news@news.example.org:

	closed.box@example.net
"""

# A German notice from an unknown mailer.
GERMAN_NOTICE = b"""\
From: Mail-Server <postmaster@mail.example.de>
To: list-bounces@lists.example.org
Subject: Nachricht unzustellbar
Date: Tue, 4 Dec 2001 10:12:09 +0100
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable

Ihre Nachricht konnte nicht zugestellt werden an die folgenden Empf=C3=A4ng=
er:

    heike.brandt@example.de
    Postfach existiert nicht
"""

# A French notice from an unknown mailer.
FRENCH_NOTICE = b"""\
From: Serveur de messagerie <postmaster@mail.example.fr>
To: list-bounces@lists.example.org
Subject: Message non remis
Date: Tue, 4 Dec 2001 10:12:09 +0100
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable

Votre message n'a pas pu =C3=AAtre remis aux destinataires suivants :

    paul.girard@example.fr : adresse inconnue
"""

# A Spanish notice from a sender that is no daemon.
SPANISH_NOTICE = b"""\
From: Sistema de correo <admin@correo.example.es>
To: list-bounces@lists.example.org
Subject: Mensaje no entregado
Date: Tue, 4 Dec 2001 10:12:09 +0100
Content-Type: text/plain; charset=utf-8

Su mensaje no pudo ser entregado a los siguientes destinatarios:

    ana.ruiz@example.es
"""

# Postfix with a translated template and no DSN part.
POSTFIX_GERMAN = b"""\
From: MAILER-DAEMON@mx.example.de (Mail Delivery System)
To: list-bounces@lists.example.org
Subject: Unzustellbar: Weekly digest
Date: Tue, 4 Dec 2001 10:12:09 -0500
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="pf"

--pf
Content-Description: Benachrichtigung
Content-Type: text/plain

Dies ist das Mailsystem auf dem Rechner mx.example.de.

Leider konnte Ihre Nachricht nicht an einen oder mehrere Empfaenger
zugestellt werden.

<fritz@example.de>: Benutzer unbekannt

--pf--
"""

# Post.Office: "SMTP <address>" under "destination addresses were unknown".
POST_OFFICE = b"""\
From: Post Office <postmaster@po.example.com>
To: list-bounces@lists.example.org
Subject: Undeliverable Mail
Date: Tue, 4 Dec 2001 10:12:09 -0500

This Message was undeliverable due to the following reason:

The following destination addresses were unknown (please check
the addresses and re-mail the message):

SMTP <dead.user@po.example.com>

Please reply to Postmaster@po.example.com
if you feel this message to be in error.
"""

# Old sendmail names the user alone; the unsent copy has the address.
OLD_SENDMAIL_BARE_USER = b"""\
From: Mail Delivery Subsystem <MAILER-DAEMON@old.example.com>
To: list-bounces@lists.example.org
Subject: Returned mail: User unknown
Date: Tue, 4 Dec 1995 10:12:09 -0500

   ----- Transcript of session follows -----
550 jdoe... User unknown

   ----- Unsent message follows -----
From: list-bounces@lists.example.org
To: John Doe <jdoe@old.example.com>
Subject: news
"""

# A failure notice with an auto-reply subject and no Auto-Submitted.
AUTOREPLY_SUBJECT_FAILURE = b"""\
From: Front Desk <desk@hotel.example.com>
To: list-bounces@lists.example.org
Subject: Automatic reply: Weekly digest
Date: Tue, 4 Dec 2001 10:12:09 -0500

The following recipient(s) cannot be reached:

      bookings@hotel.example.com
            550 5.1.1 The email account that you tried to reach does not exist.
"""

# The failure line names the list the posting went to.
LIST_NAMED_IN_THE_LINE = b"""\
From: Mail Delivery Subsystem <MAILER-DAEMON@mx.example.net>
To: news-bounces@lists.example.org
Subject: Delivery failure

Your message to news@lists.example.org could not be delivered to rosa@example.net:
mailbox disabled.
"""

# PMDF blocks under another introduction.
PMDF_OTHER_INTRO = b"""\
Date: Wed, 07 Jun 2000 10:11:12 -0500 (EST)
From: PMDF e-Mail Interconnect <postmaster@vaxa.example.edu>
Subject: Undeliverable mail
To: list-bounces@lists.example.org
Message-id: <01JQ5@vaxa.example.edu>
MIME-version: 1.0
Content-type: TEXT/PLAIN; CHARSET=US-ASCII

Your message could not be delivered to:

  Recipient address: JONES@VAXA.EXAMPLE.EDU
  Original address: m.jones@example.edu
  Reason: %MAIL-E-NOSUCHUSR, no such user JONES at node VAXA

  Recipient address: ted@far.example.com
  Reason: Illegal host/domain name found
"""

# The returned message was a list posting: its To: is the list, not the recipient.
LIST_POSTING = ATTACHED_TO.replace(
    b'To: "Kim Lee" <kim_lee@example.net>', b"To: list@lists.example.org"
)
TWO_RECIPIENTS = ATTACHED_TO.replace(
    b'To: "Kim Lee" <kim_lee@example.net>', b"To: kim_lee@example.net, bo@example.net"
)
# An out-of-office reply that quotes a number like a reply code: no failure statement.
VACATION = b"""\
From: Helpdesk <help@shop.example.com>
To: list-bounces@lists.example.org
Subject: Auto: Weekly digest
Auto-Submitted: auto-replied

I am away until Monday. For orders call 555 0100 or write to
sales@shop.example.com.
"""


def _recipients(data: bytes) -> list[str]:
    return [r.recipient for r in parse(data).records]


def test_pmdf_reports_the_original_address() -> None:
    report = parse(PMDF_DSN)
    [rec] = report.records
    assert rec.recipient == "john.smith@example.edu"
    assert rec.original_recipient == "john.smith@example.edu"
    assert rec.diagnostic == "Addressee unknown"


def test_pmdf_plain_text_blocks() -> None:
    report = parse(PMDF_TEXT)
    assert report.detector == "messagingserver"
    first, second = report.records
    assert (first.recipient, second.recipient) == ("m.jones@example.edu", "ted@far.example.com")
    # VMS Mail's condition code says the mailbox does not exist.
    assert first.reason_hint == "userunknown"
    assert second.diagnostic == "Illegal host/domain name found"


def test_vms_addressee_notice() -> None:
    [rec] = parse(VMS_ADDRESSEE).records
    assert rec.recipient == "brown_t@vaxb.example.edu"
    assert "%MAIL-E-NOSUCHUSR" in rec.diagnostic


def test_mmdf_notices() -> None:
    [rec] = parse(MMDF).records
    assert rec.recipient == "jsmith@mmdf.example.edu"
    assert rec.diagnostic == "Problem with delivery: No such user"
    [rec] = parse(MMDF_BAD_ADDRESS).records
    assert rec.recipient == "nobody@mmdf.example.edu"
    assert "Unknown user" in rec.diagnostic


def test_smail_failed_addresses() -> None:
    assert _recipients(SMAIL) == ["karl@dead.example.net", "bert@smail.example.net"]
    [rec] = parse(SMAIL_NAMESERVER).records
    assert rec.recipient == "karl@dead.example.net"
    assert "nameserver error" in rec.diagnostic


def test_old_sendmail_name_server_failures() -> None:
    warning = parse(NAMESERVER_WARNING)
    assert warning.kind == Kind.DELAY
    assert [r.recipient for r in warning.records] == ["user@nohost.example.net"]
    fatal = parse(NAMESERVER_FATAL)
    assert [r.recipient for r in fatal.records] == ["user@nohost.example.net"]
    assert [b.reason for b in classify(fatal)] == ["hostunknown"]


def test_smtpsvc_notice_without_its_dsn() -> None:
    [rec] = parse(SMTPSVC_TEXT_ONLY).records
    assert rec.recipient == "bob@unreach_able.example.com"
    assert "unable to connect successfully" in rec.diagnostic


def test_qmail_in_other_languages() -> None:
    for data, address in ((QMAIL_FR, "marie@example.fr"), (QMAIL_ES, "juan@example.es")):
        report = parse(data)
        assert report.detector == "qmail"
        [rec] = report.records
        assert rec.recipient == address
        assert rec.status == "5.1.1"


def test_error_for_blocks() -> None:
    report = parse(ERROR_FOR)
    assert [r.recipient for r in report.records] == ["olga@example.net", "pete@example.net"]
    assert report.records[1].reply_code == "550"


def test_recipient_only_in_the_returned_to_line() -> None:
    assert _recipients(QUOTED_TO) == ["closed.account@example.net"]
    [rec] = parse(ATTACHED_TO).records
    assert rec.recipient == "kim_lee@example.net"
    assert "disabled or" in rec.diagnostic


def test_returned_to_line_must_name_one_recipient_not_the_list() -> None:
    assert _recipients(LIST_POSTING) == []
    assert _recipients(TWO_RECIPIENTS) == []


def test_canned_failure_sent_as_auto_reply_is_a_bounce() -> None:
    report = parse(CANNED_AUTOREPLY)
    assert report.kind == Kind.BOUNCE
    [rec] = report.records
    assert rec.recipient == "old-sales@shop.example.com"
    assert rec.status == "5.1.1"
    # The reply the notice printed further down is the diagnostic.
    assert "RESOLVER.ADR.RecipNotFound" in rec.diagnostic


def test_vacation_reply_stays_a_vacation_reply() -> None:
    report = parse(VACATION)
    assert report.kind == Kind.AUTOREPLY


def test_domain_with_underscore() -> None:
    [rec] = parse(UNDERSCORE).records
    assert rec.recipient == "ana@mail_srv.example.net"


def test_reason_printed_above_the_recipient() -> None:
    [rec] = parse(MERCURY).records
    assert rec.recipient == "hopkins@merc.example.edu"
    assert rec.diagnostic == "Reason: No such local user."


def test_other_legacy_notices() -> None:
    assert _recipients(COMPUSERVE) == ["old.member@compuserve.com"]
    [rec] = parse(MDAEMON).records
    assert (rec.recipient, rec.status) == ("gone.away@example.com", "5.1.1")
    [rec] = parse(HOTMAIL_OLD).records
    assert (rec.recipient, rec.status) == ("lost.girl@hotmail.com", "5.1.0")


def test_failed_recipients_list_from_an_unnamed_sender() -> None:
    [rec] = parse(WEBSHIELD).records
    assert rec.recipient == "loop.user@example.co.uk"
    assert rec.diagnostic == "Mail Loop Detected"


def test_lotus_notes_out_of_office_is_an_auto_reply() -> None:
    report = parse(NOTES_AUTO)
    assert report.kind == Kind.AUTOREPLY
    assert [r.recipient for r in report.records] == ["Pat.Quinn@example.gov.uk"]


def test_null_sender_auto_reply_saying_the_user_is_invalid_is_a_bounce() -> None:
    report = parse(NULL_SENDER_AUTOREPLY)
    assert report.kind == Kind.BOUNCE
    assert [r.recipient for r in report.records] == ["nobody.here@example.net"]


def test_notice_without_its_header() -> None:
    [rec] = parse(HEADERLESS).records
    assert rec.recipient == "slow.box@example.com"
    assert rec.status == "4.3.0"


def test_bare_local_part_is_qualified_from_the_returned_to_line() -> None:
    assert _recipients(BARE_LOCAL_PART) == ["JDoe@example.com"]
    single = BARE_LOCAL_PART.replace(
        b'To: "John Doe" <JDoe@example.com>, "Amy Li" <amy@example.com>',
        b"To: Member <member.one@example.com>",
    )
    assert _recipients(single) == ["member.one@example.com"]
    # A list posting's To: is the list: the local part stays as it is.
    posting = BARE_LOCAL_PART.replace(
        b'To: "John Doe" <JDoe@example.com>, "Amy Li" <amy@example.com>',
        b"To: list@lists.example.org\nList-Id: <list.lists.example.org>",
    )
    assert _recipients(posting) == ["jdoe"]


def test_the_sender_named_in_the_reason_is_no_recipient() -> None:
    assert _recipients(SENDER_IN_THE_REASON) == ["closed.box@example.net"]


def test_notices_in_other_languages() -> None:
    [rec] = parse(GERMAN_NOTICE).records
    assert rec.recipient == "heike.brandt@example.de"
    assert "nicht zugestellt" in rec.diagnostic
    [rec] = parse(FRENCH_NOTICE).records
    assert (rec.recipient, rec.diagnostic) == ("paul.girard@example.fr", "adresse inconnue")
    assert _recipients(SPANISH_NOTICE) == ["ana.ruiz@example.es"]


def test_translated_postfix_text_without_dsn() -> None:
    [rec] = parse(POSTFIX_GERMAN).records
    assert (rec.recipient, rec.diagnostic) == ("fritz@example.de", "Benutzer unbekannt")


def test_post_office_destination_addresses() -> None:
    [rec] = parse(POST_OFFICE).records
    assert rec.recipient == "dead.user@po.example.com"
    assert rec.diagnostic.startswith("The following destination addresses were unknown")


def test_old_sendmail_bare_user_takes_the_unsent_copy_address() -> None:
    [rec] = parse(OLD_SENDMAIL_BARE_USER).records
    assert rec.recipient == "jdoe@old.example.com"
    assert rec.reply_code == "550"


def test_failure_under_an_auto_reply_subject_is_a_bounce() -> None:
    report = parse(AUTOREPLY_SUBJECT_FAILURE)
    assert report.kind == Kind.BOUNCE
    [rec] = report.records
    assert (rec.recipient, rec.status) == ("bookings@hotel.example.com", "5.1.1")


def test_the_list_a_posting_went_to_is_no_recipient() -> None:
    assert _recipients(LIST_NAMED_IN_THE_LINE) == ["rosa@example.net"]


def test_vacation_quoting_a_failure_subject_stays_a_vacation_reply() -> None:
    quoting = VACATION.replace(
        b"I am away until Monday.", b"Subject: Delivery failed\n\nI am away until Monday."
    )
    assert parse(quoting).kind == Kind.AUTOREPLY


def test_pmdf_blocks_under_another_introduction() -> None:
    report = parse(PMDF_OTHER_INTRO)
    assert report.detector == "messagingserver"
    assert _recipients(PMDF_OTHER_INTRO) == ["m.jones@example.edu", "ted@far.example.com"]
