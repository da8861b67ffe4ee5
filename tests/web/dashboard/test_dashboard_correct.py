"""Correct a bounce from its page: mark a soft bounce hard, see the rule drafted from its
diagnostic and the stored bounces it would change, confirm; the rule decides and the
replay is in the history. The test puts the ledger back afterwards (rule deleted, replay)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from bounceback.ledger import bounces, rules_store
from bounceback.ledger import tables as t
from bounceback.ledger.corrections import distinctive_phrase
from bounceback.ledger.replay import replay


def _soft_bounce(site: Any) -> dict[str, Any]:
    """A stored soft bounce of the mailbox-full kind with a diagnostic to draw on."""
    items, _ = bounces.list_bounces(
        site.ledger, bounces.BounceFilters(hard=False, kind="bounce", reason="mailboxfull"), 50
    )
    for item in items:
        detail = bounces.bounce_detail(site.ledger, item["id"])
        if detail and distinctive_phrase(detail["diagnostic"]) and detail["message"]:
            return detail
    raise AssertionError("the corpus has a mailbox-full bounce with a diagnostic")


def test_mark_a_soft_bounce_hard_preview_and_confirm(
    page: Any, site: Any, login: Callable[..., None], screenshot: Callable[..., None]
) -> None:
    event = _soft_bounce(site)
    phrase = distinctive_phrase(event["diagnostic"])
    login(page)
    page.goto(f"/bounces/{event['id']}")
    page.locator("#correct-form").get_by_role("button", name="hard", exact=True).click()

    # 1. The draft: from the diagnostic, in the body section, hard, editable.
    draft = page.locator("#correct-draft")
    draft.wait_for()
    assert draft.locator("input[name=text]").input_value() == phrase
    assert draft.locator("select[name=section]").input_value() == "body"
    assert draft.locator("select[name=type]").input_value() == "hard"
    # 2. The preview: this bounce, now soft, would be hard; nothing saved yet.
    row = page.locator(f"#preview-changes tr[data-event='{event['id']}']")
    assert "this one" in row.inner_text()
    cells = row.locator("td")
    assert cells.nth(2).inner_text().startswith("soft") and cells.nth(3).inner_text().startswith(
        "hard"
    )
    assert rules_store.list_rules(site.ledger) == []
    screenshot(page, "correct")

    # Editing the text to one the message lacks: the page says the rule misses it, no confirm.
    draft.locator("input[name=text]").fill("no bounce says this")
    draft.get_by_role("button", name="Preview again").click()
    page.wait_for_selector(".flash-error")
    assert "does not match this bounce" in page.locator(".flash-error").inner_text()
    assert page.locator("#correct-confirm").count() == 0
    page.locator("#correct-draft input[name=text]").fill(phrase)
    page.locator("#correct-draft").get_by_role("button", name="Preview again").click()
    page.wait_for_selector("#correct-confirm")

    # 3. Confirm: the rule is saved with where it came from, and the replay applied it.
    with site.ledger.engine.connect() as conn:
        runs_before = conn.execute(select(t.undo_runs.c.id)).scalars().all()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Save the rule and replay").click()
    page.wait_for_selector(".flash-ok")
    rule = next(r for r in rules_store.list_rules(site.ledger) if r["text"] == phrase)
    try:
        assert (rule["section"], rule["type"], rule["position"]) == ("body", "hard", 0)
        assert (
            rule["note"] == f"correction of bounce {event['id']}: a hard bounce (marked by admin)"
        )
        after = bounces.bounce_detail(site.ledger, event["id"])
        assert after is not None and after["hardbounce"] is True
        assert after["rule"] == f"user:{rule['rule_id']}"
        assert f"Rule {rule['rule_id']} saved" in page.locator(".flash-ok").inner_text()
        assert page.locator("#correction").inner_text().startswith("Corrected by a person")
        assert page.locator("#verdict").inner_text().startswith("Hard bounce")
        with site.ledger.engine.connect() as conn:
            runs = conn.execute(select(t.undo_runs.c.id, t.undo_runs.c.kind)).all()
        new_runs = [r for r in runs if r.id not in runs_before]
        assert [r.kind for r in new_runs] == ["replay"]
    finally:
        rules_store.delete_rule(site.ledger, rule["id"])
        replay(site.ledger, rules_store.current_rules(site.ledger))
    restored = bounces.bounce_detail(site.ledger, event["id"])
    assert restored is not None and restored["hardbounce"] is False


def test_not_a_bounce_is_drafted_as_an_ignore_rule(
    page: Any, site: Any, login: Callable[..., None]
) -> None:
    event = _soft_bounce(site)
    login(page)
    page.goto(f"/bounces/{event['id']}")
    page.locator("#correct-form").get_by_role("button", name="not a bounce").click()
    draft = page.locator("#correct-draft")
    draft.wait_for()
    assert draft.locator("select[name=type]").input_value() == "ignore"
    assert draft.locator("select[name=bounce_type]").input_value() == ""
    assert "replay undoes the stored bounces it matches" in page.locator("main").inner_text()
    # The preview: this bounce would no longer be one (nothing saved: the shared site
    # keeps it; the ledger test shows the confirmed correction undoing it).
    row = page.locator(f"#preview-changes tr[data-event='{event['id']}']")
    assert "not a bounce" in row.locator("td").nth(3).inner_text()
    assert rules_store.list_rules(site.ledger) == []


def test_a_viewer_cannot_correct(page: Any, site: Any, login: Callable[..., None]) -> None:
    event = _soft_bounce(site)
    login(page, site.viewer)
    page.goto(f"/bounces/{event['id']}")
    assert page.locator("#correct-form").count() == 0
