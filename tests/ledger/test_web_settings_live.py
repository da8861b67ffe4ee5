"""Settings and thresholds changed by one process reach another sharing the database
before its next piece of work, without reopening the ledger."""

from __future__ import annotations

from ledger_support import fixture_bytes, make_config

from bounceback.ledger import Ledger
from bounceback.ledger.settings import set_threshold, update_settings


def test_a_change_in_one_ledger_applies_in_another(db_url: str) -> None:
    editor, worker = Ledger.open(make_config(db_url)), Ledger.open(make_config(db_url))
    try:
        assert worker.config.policy.disable_after == 5
        update_settings(editor, {"disable_after": 2, "closed_campaign_statuses": ["done"]})
        set_threshold(editor, "Quota", 7)
        # Nothing read yet: the worker still has what it opened with.
        assert worker.config.policy.disable_after == 5
        worker.current_rules()  # what process/store_events call before each batch
        assert worker.config.policy.disable_after == 2
        assert worker.config.policy.closed_campaign_statuses == frozenset({"done"})
        assert worker.config.policy.thresholds["Quota"] == 7
    finally:
        editor.close()
        worker.close()


def test_processing_uses_the_other_process_threshold(db_url: str) -> None:
    editor, worker = Ledger.open(make_config(db_url)), Ledger.open(make_config(db_url))
    try:
        worker.add_contact("shiba@example.com")
        set_threshold(editor, "Quota", 1)  # default 3: one mailbox-full bounce now holds
        outcome = worker.process_bytes(fixture_bytes("lhost-exim-07.eml"))
        assert outcome.outcome == "matched", outcome
        view = worker.contact_view("shiba@example.com")
        assert view is not None and view["on_hold"] and view["hold_type"] == "Quota"
    finally:
        editor.close()
        worker.close()
