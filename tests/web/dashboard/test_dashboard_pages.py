"""The other pages with real data: bounces and one bounce explained, sender health,
settings (saved through the form)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bounceback.ledger import bounces
from bounceback.ledger import settings as ledger_settings


def test_bounce_list_and_detail(
    page: Any, site: Any, login: Callable[..., None], screenshot: Callable[..., None]
) -> None:
    login(page)
    page.goto("/bounces?hard=hard")
    rows = page.locator("table tbody tr")
    assert rows.count() > 5
    assert all("hard" in rows.nth(i).inner_text() for i in range(rows.count()))
    screenshot(page, "bounces")

    items, _ = bounces.list_bounces(site.ledger, bounces.BounceFilters(hard=True), 1)
    event = items[0]
    page.goto(f"/bounces/{event['id']}")
    assert page.locator("#decided-rule").inner_text() == event["rule"]
    assert event["email"] in page.locator("dl.fields").first.inner_text()
    assert "Why: what was found where" in page.locator("#explain").inner_text()
    raw = page.locator("pre.raw").inner_text()
    assert "Content-Type" in raw or "Received:" in raw
    download = page.request.get(f"/bounces/{event['id']}/raw")
    assert download.status == 200
    assert download.headers["content-type"] == "message/rfc822"
    screenshot(page, "bounce")


def test_sender_health(
    page: Any, site: Any, login: Callable[..., None], screenshot: Callable[..., None]
) -> None:
    login(page)
    page.goto("/health-report")
    page.wait_for_selector("#rates-chart[data-drawn=true]")
    assert "By provider" in page.content()
    assert page.locator("#bursts").is_visible()
    screenshot(page, "health")


def test_settings_saved_through_the_form(
    page: Any, site: Any, login: Callable[..., None], screenshot: Callable[..., None]
) -> None:
    login(page)
    page.goto("/settings")
    page.fill("input[name=disable_after]", "7")
    page.fill("input[name='threshold.Quota']", "4")
    page.fill("input[name=bounce_rate_limit]", "2.5")
    page.get_by_role("button", name="Save settings").click()
    page.wait_for_selector(".flash-ok")
    values = ledger_settings.get_settings(site.ledger)
    assert values["disable_after"] == 7
    assert values["thresholds"]["Quota"] == 4
    assert values["bounce_rate_limit"] == 0.025
    screenshot(page, "settings")

    # A bad value saves nothing, and the page says which and why.
    page.fill("input[name=disable_after]", "9")
    page.fill("input[name=bounce_rate_limit]", "lots")
    page.get_by_role("button", name="Save settings").click()
    page.wait_for_selector(".flash-error")
    assert "Bounce rate limit: 'lots' is not a number" in page.locator(".flash-error").inner_text()
    page.fill("input[name=bounce_rate_limit]", "150")
    page.get_by_role("button", name="Save settings").click()
    page.wait_for_selector(".flash-error")
    assert "at most 1" in page.locator(".flash-error").inner_text()
    assert ledger_settings.get_settings(site.ledger)["disable_after"] == 7
