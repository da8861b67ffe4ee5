"""Holds: find a contact on hold, open it, unhold it (the ledger confirms); bulk unhold."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def test_find_a_held_contact_and_unhold_it(
    page: Any, site: Any, login: Callable[..., None], screenshot: Callable[..., None]
) -> None:
    login(page)
    page.goto("/contacts?q=kijitora")
    found = page.locator("table tbody tr")
    assert found.count() > 3
    assert all("kijitora" in found.nth(i).inner_text().lower() for i in range(found.count()))
    screenshot(page, "contacts")

    page.goto("/holds")
    page.select_option("select[name=bounce_type]", "Invalid")
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**/holds?bounce_type=Invalid*")
    rows = page.locator("#holds-form tbody tr")
    assert rows.count() > 3
    screenshot(page, "holds")

    link = rows.first.locator("td a").first
    email = link.inner_text()
    before = site.ledger.contact_view(email)
    assert before["on_hold"] and before["hold_type"] == "Invalid"

    link.click()
    page.wait_for_selector("#bounce-information")
    assert "yes" in page.locator("[data-field=on_hold]").inner_text()
    assert page.locator("#timeline li").count() >= 1
    assert "decided by rule" in page.locator("#timeline li").first.inner_text()
    screenshot(page, "contact")

    page.get_by_role("button", name="Unhold").click()
    page.wait_for_selector(".flash-ok")
    assert "off hold" in page.locator(".flash-ok").inner_text()
    after = site.ledger.contact_view(email)
    assert not after["on_hold"] and not after["bounced"] and after["bounce_counts"] == {}
    assert after["bulk_mail"] == "allowed"
    assert "no" in page.locator("[data-field=on_hold]").inner_text()


def test_unhold_selected_rows_only(page: Any, site: Any, login: Callable[..., None]) -> None:
    login(page)
    page.goto("/holds?bounce_type=Invalid")
    boxes = page.locator("input[name=email]")
    assert boxes.count() >= 3
    chosen = [boxes.nth(i).get_attribute("value") for i in (0, 1)]
    left = boxes.nth(2).get_attribute("value")
    boxes.nth(0).check()
    boxes.nth(1).check()
    page.get_by_role("button", name="Unhold selected").click()
    page.wait_for_selector(".flash-ok")
    assert page.locator(".flash-ok").inner_text() == "2 addresses taken off hold."
    for email in chosen:
        assert not site.ledger.contact_view(email)["on_hold"]
    assert site.ledger.contact_view(left)["on_hold"]  # not ticked: still held


def test_unhold_all_matching_a_domain(page: Any, site: Any, login: Callable[..., None]) -> None:
    held = [h["email"] for h in site.ledger.holds() if h["email"].endswith("@example.co.jp")]
    assert held
    login(page)
    page.goto("/holds?domain=example.co.jp")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Unhold all matching").click()
    page.wait_for_selector(".flash-ok")
    words = "1 address" if len(held) == 1 else f"{len(held)} addresses"
    assert page.locator(".flash-ok").inner_text() == f"{words} taken off hold."
    assert not [h for h in site.ledger.holds() if h["email"].endswith("@example.co.jp")]
    assert site.ledger.holds()  # other domains stay held
