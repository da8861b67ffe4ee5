"""Under the Content-Security-Policy (no inline script): the behaviours that used to be
inline handlers still work, from /static/forms.js. The page fixture fails any test
whose page logs a policy violation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def test_the_period_select_submits_itself(page: Any, login: Callable[..., None]) -> None:
    login(page)
    page.goto("/")
    csp = page.evaluate("fetch('/').then(r => r.headers.get('content-security-policy'))")
    assert "script-src 'self'" in csp
    with page.expect_navigation():
        page.select_option("select[name=days]", "7")
    assert "days=7" in page.url


def test_select_all_ticks_every_row(page: Any, site: Any, login: Callable[..., None]) -> None:
    assert len(site.ledger.holds()) > 1
    login(page)
    page.goto("/holds")
    boxes = page.locator("input[name=email]")
    page.check("input[data-select-all]")
    assert all(boxes.nth(i).is_checked() for i in range(boxes.count()))
    page.uncheck("input[data-select-all]")
    assert not any(boxes.nth(i).is_checked() for i in range(boxes.count()))


def test_a_dismissed_confirmation_sends_nothing(
    page: Any, site: Any, login: Callable[..., None]
) -> None:
    before = len(site.ledger.holds())
    login(page)
    page.goto("/holds")
    asked: list[str] = []

    def dismiss(dialog: Any) -> None:
        asked.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", dismiss)
    page.get_by_role("button", name="Unhold all matching").click()
    page.wait_for_timeout(300)
    assert asked and "Unhold every address" in asked[0]
    assert page.locator(".flash-ok").count() == 0
    assert len(site.ledger.holds()) == before
