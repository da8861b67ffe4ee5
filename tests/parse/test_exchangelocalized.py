"""Exchange 2000/2003 and 5.5 reports written in other languages (made-up messages)."""

from __future__ import annotations

from bounceback.parse import parse

# Exchange 2003 installed in German: quoted-printable, the "<host #5.1.1>" trailer.
GERMAN = b"""\
From: Systemadministrator <postmaster@firma.example.de>
To: list-bounces@lists.example.org
Subject: Unzustellbar: Wochenbericht
Date: Tue, 4 Dec 2001 10:12:09 +0100
Message-ID: <ndr-de@firma.example.de>
MIME-Version: 1.0
Content-Type: text/plain; charset="iso-8859-1"
Content-Transfer-Encoding: quoted-printable

Ihre Nachricht hat einige oder alle Empf=E4nger nicht erreicht.

      Betreff:	Wochenbericht
      Gesendet am:	04.12.2001 10:12

Folgende(r) Empf=E4nger konnte(n) nicht erreicht werden:

      jens.adler@firma.example.de am 04.12.2001 10:12
            Die E-Mail-Adresse konnte nicht gefunden werden.
            <mx.firma.example.de #5.1.1>
"""

# Exchange 5.5 in French: the X.400 recipient line and the MSEXCH line.
FRENCH = b"""\
From: Administrateur syst=?iso-8859-1?Q?=E8?=me <postmaster@societe.example.fr>
To: list-bounces@lists.example.org
Subject: Non remis : Rapport
Date: Tue, 4 Dec 2001 10:12:09 +0100
Message-ID: <ndr-fr@societe.example.fr>
Content-Type: text/plain; charset="iso-8859-1"

Votre message

  A :      list@lists.example.org
  Objet :  Rapport
  Envoye : 04/12/2001 10:12

n'est pas parvenu aux destinataires suivants :

c=FR;a= ;p=Societe;o=Paris;dda:SMTP=luc.martin@societe.example.fr; le 04/12/2001 10:12
    Le nom du destinataire n'est pas reconnu
    MSEXCH:IMS:Societe:Paris:SRV1 0 (000C05A6) Destinataire inconnu
"""


def test_german_report() -> None:
    report = parse(GERMAN)
    assert report.detector == "exchange2003"
    [rec] = report.records
    assert rec.recipient == "jens.adler@firma.example.de"
    assert rec.status == "5.1.1"
    assert rec.remote_mta == "mx.firma.example.de"
    assert rec.diagnostic.startswith("Die E-Mail-Adresse konnte nicht gefunden werden.")


def test_french_exchange55_report() -> None:
    report = parse(FRENCH)
    assert report.detector == "exchange2003"
    [rec] = report.records
    assert rec.recipient == "luc.martin@societe.example.fr"
    assert rec.reason_hint == "userunknown"  # Exchange's own 000C05A6


def test_trailer_without_recipient_blocks_is_left_to_others() -> None:
    # The trailer alone, no "<address> <word> <date>" line: not this format.
    odd = GERMAN.replace(b"jens.adler@firma.example.de am 04.12.2001 10:12", b"Jens Adler")
    assert parse(odd).detector != "exchange2003"
