"""Tying a bounce to the send that caused it: signed VERP, stamps, the send log."""

from bounceback.match.matcher import MatchResult, SendLookup, SendRef, find_send
from bounceback.match.send_csv import SendRow, parse_sends_csv
from bounceback.match.stamp import SendStamp, bounceback_id_for, mail_options, stamp
from bounceback.match.verp import (
    ExpiredToken,
    ForeignAddress,
    ForgedToken,
    MalformedToken,
    VerpError,
    VerpSigner,
    VerpToken,
    civicrm_send_id,
    envid_agrees,
    envid_send_id,
)

__all__ = [
    "ExpiredToken",
    "ForeignAddress",
    "ForgedToken",
    "MalformedToken",
    "MatchResult",
    "SendLookup",
    "SendRef",
    "SendRow",
    "SendStamp",
    "VerpError",
    "VerpSigner",
    "VerpToken",
    "bounceback_id_for",
    "civicrm_send_id",
    "envid_agrees",
    "envid_send_id",
    "find_send",
    "mail_options",
    "parse_sends_csv",
    "stamp",
]
