"""1&1 (kundenserver.de): the same layout as GMX, the remote reply after "reason:"."""

from __future__ import annotations

from pathlib import Path

from bounceback.parse import parse

FIXTURES = Path(__file__).parents[1] / "fixtures" / "emails"


def test_remote_reply() -> None:
    report = parse((FIXTURES / "lhost-einsundeins-03.eml").read_bytes())
    assert report.detector == "einsundeins"
    [rec] = report.records
    assert rec.recipient == "xxxx@xxxx.fr"
    assert (rec.status, rec.reply_code, rec.smtp_command) == ("5.2.0", "550", "DATA")
    assert rec.remote_mta == "smtp-in.orange.fr"
    assert rec.diagnostic == "550 5.2.0 Mail rejete. Mail rejected. ofr_506 [506]"
    assert report.original.message_id == "<1576497267.@xxxx.xxxx>"
