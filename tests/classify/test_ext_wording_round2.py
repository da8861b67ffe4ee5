"""Wordings from the second round of outside bounce collections, and what they mean."""

from __future__ import annotations

from bounceback.classify import classify
from bounceback.model import DeliveryRecord, Kind, Report


def decide(diagnostic: str, status: str, command: str = "") -> tuple[str, bool]:
    record = DeliveryRecord(
        recipient="someone@example.net",
        action="failed",
        status=status,
        diagnostic=diagnostic,
        smtp_command=command,
    )
    [bounce] = classify(Report(kind=Kind.BOUNCE, detector="postfix", records=[record]))
    return bounce.reason, bounce.hardbounce


def test_postfix_local_unknown_user_is_the_address_even_with_a_generic_status() -> None:
    # Postfix local(8) names the local part it could not find; older releases send
    # it with 5.0.0 and no SMTP stage, which alone would read as a filter's verdict.
    assert decide('unknown user: "jdoe"', "5.0.0") == ("userunknown", True)
    assert decide('unknown user: "jdoe"', "5.1.1") == ("userunknown", True)


def test_a_plain_unknown_user_with_no_stage_stays_a_filter_verdict() -> None:
    # The convention the local(8) wording is an exception to.
    assert decide("550 unknown user", "5.0.0")[0] == "filtered"
