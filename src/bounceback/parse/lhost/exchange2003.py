"""Microsoft Exchange 5.5 / 2000 / 2003: the plain-text non-delivery report.

    Your message
      To:      user@example.jp
      Subject: ...
    did not reach the following recipient(s):

    user@example.jp on Thu, 29 Apr 2010 00:00:00 -0000
        The recipient name is not recognized
        MSEXCH:IMS:ORG:SITE:SERVER 0 (000C05A6) Unknown Recipient

Exchange 2000/2003 word it "The following recipient(s) could not be reached:"
and end each block with "<mx.example.jp #5.1.1>". The 8-digit hexadecimal code
is Exchange's own error number.
"""

from __future__ import annotations

import re

from bounceback.model import DeliveryRecord, Report
from bounceback.parse.base import make_report
from bounceback.parse.lhost._textbounce import after
from bounceback.parse.mail import Mail
from bounceback.parse.registry import Band

NAME = "exchange2003"
ORDER = Band.PRODUCT_TEXT

_MARKERS = (
    "did not reach the following recipient",
    "following recipient(s) could not be reached",
    "following recipient(s) cannot be reached",
)
# "user@example.jp on <date>"; the word before the date varies with the language.
_START_RE = re.compile(r"""^\s*[<'"]?([^\s<>'"][^\s<>'"@]*+@[^\s<>'"]++)[>'"]?\s+\S+\s+\S.*$""")
# "'John Doe' <user@example.jp> on <date>", and the address alone on its line.
_NAMED_START_RE = re.compile(
    r"""^\s*(?:'[^'\n]{0,100}'|"[^"\n]{0,100}")\s*<([^\s<>@]+@[^\s<>@]+)>(?:\s+\S+\s+\S.*)?$"""
)
_BARE_START_RE = re.compile(r"""^\s*[<'"]?([^\s<>'"@]+@[^\s<>'"@]+)[>'"]?\s*$""")
# Exchange 5.5 names a recipient by its X.400 address when the directory has one:
# "c=US;a= ;p=Org;o=Site;dda:SMTP=user@example.jp; on <date>".
_X400_START_RE = re.compile(
    r"^\s*c=[^\n]{0,300}?\bdda:(?:smtp|rfc-822)=([^\s;<>/@]+@[^\s;<>/@]+)", re.I
)
_SERVER_RE = re.compile(r"<([A-Za-z0-9][A-Za-z0-9.\-]*) #[245]\.\d{1,3}\.\d{1,3}[ >]")
_BY_IMS_RE = re.compile(r"by ([A-Za-z0-9][A-Za-z0-9.\-]*) with internet mail service", re.I)
# Exchange's error numbers with a meaning that does not depend on the text.
_CODES = {
    "000C05A6": "userunknown",  # the recipient name is not recognized
}
_MTS_ID_RE = re.compile(r"The MTS-ID of the original message is:.*?(?=MSEXCH:|$)")
_CODE_RE = re.compile(r"\(([0-9A-F]{8})\)")


def _is_exchange(mail: Mail) -> bool:
    if "internet mail service" in mail.header("X-Mailer").lower():
        return True
    head = mail.text_lc[:1500]
    for marker in _MARKERS:  # noqa: SIM110 (no generator: runs for every message)
        if marker in head:
            return True
    return False


def detect(mail: Mail) -> Report | None:
    if not _is_exchange(mail):
        return None
    text = mail.report_text
    body = ""
    for marker in _MARKERS:
        body = after(text, marker)
        if body:
            break
    if not body:
        return None
    records = block_records(body)
    if not records:
        return None
    ims = _BY_IMS_RE.search(mail.received_lc)
    for rec in records:
        if not rec.remote_mta and ims:
            rec.remote_mta = ims.group(1)
    return make_report(mail, NAME, records)


def block_records(body: str) -> list[DeliveryRecord]:
    """One record per "<address> on <date>" line and the indented lines under it."""
    records: list[DeliveryRecord] = []
    lines: list[str] = []
    for line in body.splitlines():
        m = (
            _START_RE.match(line)
            or _X400_START_RE.match(line)
            or _NAMED_START_RE.match(line)
            or _BARE_START_RE.match(line)
        )
        if m:
            if records:
                _close(records[-1], lines)
            records.append(DeliveryRecord(recipient=m.group(1), action="failed"))
            lines = []
        elif records:
            lines.append(line)
    if records:
        _close(records[-1], lines)
    return records


def _close(rec: DeliveryRecord, lines: list[str]) -> None:
    text = " ".join(line.strip() for line in lines if line.strip())
    # The MTS-ID line only identifies the original message.
    text = _MTS_ID_RE.sub("", text).strip()
    rec.diagnostic = text
    server = _SERVER_RE.search(text)
    if server:
        rec.remote_mta = server.group(1)
    code = _CODE_RE.search(text)
    if code and code.group(1) in _CODES:
        rec.reason_hint = _CODES[code.group(1)]
