"""LMail, L-Soft's LSMTP and the mailers that copied their "Error-For:" report.

LISTSERV reads this format to remove bad subscribers, so several mailers of the
BITNET era (LMail, LSMTP, PMDF and MX configured for it) print one field block
per failed recipient, after a "--> Error description:" boundary that the
"X-Report-Type: Nondelivery" header names:

    Error-For:  user@example.edu
    Alias:      first.last@example.edu
    Error-Code: 3
    Error-Text: No such local user.

    Error-End:  One error reported.

"Alias" is the address the recipient was reached under. Other mailers print the
same block loosely ("Error-for:" with the reply indented under it).
"""

from __future__ import annotations

import re

from bounceback.model import DeliveryRecord, Report
from bounceback.parse.base import make_report
from bounceback.parse.mail import Mail
from bounceback.parse.registry import Band
from bounceback.parse.text import find_address, squeeze

NAME = "lmail"
ORDER = Band.DEFAULT

_START_RE = re.compile(r"^\s*error-for:[ \t]*(\S[^\n]{0,300})$", re.I)
_FIELD_RE = re.compile(r"^\s*(alias|error-code|error-text|error-end):[ \t]*([^\n]{0,1000})$", re.I)


def _is_lmail(mail: Mail) -> bool:
    if "error-for:" not in mail.text_lc:
        return False
    if mail.header("X-Report-Type").lower().startswith("nondelivery"):
        return True
    # Without LMail's own header, the block must start a line.
    return any(
        line.lstrip().lower().startswith("error-for:") for line in mail.report_text.split("\n")
    )


def detect(mail: Mail) -> Report | None:
    if not _is_lmail(mail):
        return None
    records: list[DeliveryRecord] = []
    details: list[list[str]] = []
    in_block = False  # a block ends at a blank line
    for line in mail.report_text.split("\n"):
        start = _START_RE.match(line)
        if start is not None:
            records.append(DeliveryRecord(recipient=start.group(1).strip(), action="failed"))
            details.append([])
            in_block = True
            continue
        if not records:
            continue
        if not line.strip():
            in_block = False
            continue
        field = _FIELD_RE.match(line)
        if field is None:
            if in_block:
                details[-1].append(line.strip())  # a reply printed under the address
            continue
        name, value = field.group(1).lower(), field.group(2).strip()
        if name == "error-end":
            break
        if name == "alias":
            records[-1].original_recipient = value
        elif name == "error-text":
            details[-1].append(value)
    found = []
    for rec, lines in zip(records, details, strict=True):
        if not find_address(rec.recipient) and find_address(rec.original_recipient):
            rec.recipient = rec.original_recipient  # a local user id: the alias is the address
        if not find_address(rec.recipient):
            continue
        rec.diagnostic = squeeze(" ".join(lines))
        found.append(rec)
    if not found:
        return None
    return make_report(mail, NAME, found)
