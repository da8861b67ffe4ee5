"""Rules: a draft rule tried on a message changes the decision before it is saved; saved,
it decides for the ledger; it can be moved and deleted."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from bounceback.ledger import rules_store

MESSAGE = Path(__file__).resolve().parents[2] / "fixtures" / "emails" / "lhost-exim-07.eml"
PHRASE = "retry timeout exceeded"  # the body of this mailbox-full bounce says it


def test_create_a_rule_and_test_it_on_a_message(
    page: Any, site: Any, login: Callable[..., None], screenshot: Callable[..., None]
) -> None:
    login(page)
    page.goto("/rules")
    page.fill("#rule-test textarea[name=message]", MESSAGE.read_text(encoding="utf-8"))
    page.click("#rule-test button[type=submit]")
    saved = page.locator("#test-result tr[data-verdict=saved]")
    saved.wait_for()
    assert "soft" in saved.inner_text() and "mailboxfull" in saved.inner_text()

    # A draft in the new-rule form: the box shows what it would decide, nothing saved yet.
    create = page.locator("#rule-create")
    create.locator("select[name=section]").select_option("body")
    create.locator("select[name=type]").select_option("hard")
    create.locator("input[name=text]").fill(PHRASE)
    page.click("#rule-test button[type=submit]")
    draft = page.locator("#test-result tr[data-verdict=draft]")
    draft.wait_for()
    assert "hard" in draft.inner_text() and "changed" in draft.inner_text()
    assert "user:draft-1" in draft.inner_text()
    assert rules_store.list_rules(site.ledger) == []

    create.get_by_role("button", name="Save rule").click()
    page.wait_for_selector(".flash-ok")
    stored = rules_store.list_rules(site.ledger)
    assert [(r["section"], r["text"], r["type"]) for r in stored] == [("body", PHRASE, "hard")]
    assert page.locator(f"tr[data-rule={stored[0]['rule_id']}]").count() == 1

    # Saved: the rules in force now decide it hard.
    page.fill("#rule-test textarea[name=message]", MESSAGE.read_text(encoding="utf-8"))
    page.click("#rule-test button[type=submit]")
    page.wait_for_selector("#test-result tr[data-verdict=saved].changed")
    saved_text = page.locator("#test-result tr[data-verdict=saved]").inner_text()
    assert "hard" in saved_text and f"user:{stored[0]['rule_id']}" in saved_text
    screenshot(page, "rules")


def test_move_and_delete_rules(page: Any, site: Any, login: Callable[..., None]) -> None:
    first = rules_store.create(site.ledger, {"pattern": "550 5.7.1 Unfortunately==>Hard"})
    second = rules_store.create(
        site.ledger, {"section": "subject", "text": "Out of office", "type": "both"}
    )
    login(page)
    page.goto("/rules")
    page.locator(f"#rule-{second['id']} button[title='move up']").click()
    page.wait_for_load_state()
    order = [r["id"] for r in rules_store.list_rules(site.ledger)]
    assert order.index(second["id"]) < order.index(first["id"])

    page.once("dialog", lambda dialog: dialog.accept())
    page.locator(f"#rule-{first['id']}").get_by_role("button", name="Delete").click()
    page.wait_for_selector(".flash-ok")
    assert first["id"] not in [r["id"] for r in rules_store.list_rules(site.ledger)]
    rules_store.delete_rule(site.ledger, second["id"])


def test_a_bad_rule_is_refused_with_the_reason(
    page: Any, site: Any, login: Callable[..., None]
) -> None:
    login(page)
    page.goto("/rules")
    create = page.locator("#rule-create")
    create.locator("input[name=text]").fill("x" * 101)
    create.get_by_role("button", name="Save rule").click()
    page.wait_for_selector(".flash-error")
    assert "the limit is 100" in page.locator(".flash-error").inner_text()
    assert all(len(r["text"]) <= 100 for r in rules_store.list_rules(site.ledger))


def test_upload_an_eml_to_the_test_box(page: Any, login: Callable[..., None]) -> None:
    login(page)
    page.goto("/rules")
    page.set_input_files("#rule-test input[name=file]", str(MESSAGE))
    verdict = page.locator("#test-result table.verdict")
    verdict.wait_for()
    assert verdict.get_attribute("data-recipient") == "shiba@example.com"
    assert "mailboxfull" in verdict.inner_text()


def test_the_builtin_rules_are_shown_and_one_is_overridden(
    page: Any, site: Any, login: Callable[..., None]
) -> None:
    from bounceback.classify.pack import pack

    before = {r["id"] for r in rules_store.list_rules(site.ledger)}
    login(page)
    page.goto("/rules")
    section = page.locator("#builtin-rules")
    assert "read-only" in section.locator("h2").inner_text()
    section.locator("summary").click()
    rows = page.locator("#builtin-table tbody tr")
    assert rows.count() == len(pack())
    full = page.locator("tr[data-builtin='phrase:mailboxfull']")
    assert "mailboxfull" in full.inner_text() and "soft" in full.inner_text()

    # "override" fills the new-rule form: section rule, the id as its text.
    full.get_by_role("link", name="override").click()
    create = page.locator("#rule-create")
    create.wait_for()
    assert create.locator("select[name=section]").input_value() == "rule"
    assert create.locator("input[name=text]").input_value() == "phrase:mailboxfull"
    page.fill("#rule-test textarea[name=message]", MESSAGE.read_text(encoding="utf-8"))
    page.click("#rule-test button[type=submit]")
    draft = page.locator("#test-result tr[data-verdict=draft]")
    draft.wait_for()
    assert "hard" in draft.inner_text() and "user:draft-1" in draft.inner_text()
    # Ignore: the draft says the message is not a bounce.
    create.locator("select[name=type]").select_option("ignore")
    page.click("#rule-test button[type=submit]")
    page.locator("#test-result tr[data-verdict=draft]", has_text="not a bounce").wait_for()
    create.get_by_role("button", name="Save rule").click()
    page.wait_for_selector(".flash-ok")
    try:
        [stored] = [r for r in rules_store.list_rules(site.ledger) if r["id"] not in before]
        assert (stored["section"], stored["text"], stored["type"]) == (
            "rule",
            "phrase:mailboxfull",
            "ignore",
        )
        row = page.locator(f"tr[data-rule={stored['rule_id']}]")
        assert "not a bounce" in row.inner_text() and "phrase:mailboxfull" in row.inner_text()
    finally:
        for rule in rules_store.list_rules(site.ledger):
            if rule["id"] not in before:
                rules_store.delete_rule(site.ledger, rule["id"])

    # An id the pack lacks is refused with a clear message.
    page.goto("/rules?override=phrase:nosuch")
    assert page.locator("#rule-create input[name=text]").input_value() == ""
    create = page.locator("#rule-create")
    create.locator("select[name=section]").select_option("rule")
    create.locator("input[name=text]").fill("phrase:nosuch")
    create.get_by_role("button", name="Save rule").click()
    page.wait_for_selector(".flash-error")
    assert "not a built-in rule id" in page.locator(".flash-error").inner_text()
    assert {r["id"] for r in rules_store.list_rules(site.ledger)} == before
