"""Forms need the session's CSRF token; a read-only user sees no actions and is refused."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def _held(site: Any) -> str:
    held = site.ledger.holds()
    assert held, "the ledger has addresses on hold"
    return str(held[-1]["email"])


def test_a_post_without_the_csrf_token_is_refused(
    page: Any, site: Any, login: Callable[..., None], screenshot: Callable[..., None]
) -> None:
    login(page)
    email = _held(site)
    answer = page.request.post(f"/contacts/{email}/unhold", form={"x": "1"})
    assert answer.status == 403
    assert "security token is missing" in answer.text()
    answer = page.request.post(f"/contacts/{email}/unhold", form={"csrf_token": "forged"})
    assert answer.status == 403
    assert site.ledger.contact_view(email)["on_hold"]  # nothing happened

    # The same through the browser: a form whose token was taken out gets the 403 page.
    page.goto(f"/contacts/{email}")
    page.evaluate("document.querySelectorAll('input[name=csrf_token]').forEach(i => i.remove())")
    with page.expect_response(lambda r: r.url.endswith("/unhold")) as refused:
        page.get_by_role("button", name="Unhold").click()
    assert refused.value.status == 403
    assert "403 · Forbidden" in page.locator("h1").inner_text()
    assert site.ledger.contact_view(email)["on_hold"]
    screenshot(page, "forbidden")


def test_a_read_only_user_sees_no_actions_and_cannot_post(
    page: Any, site: Any, login: Callable[..., None]
) -> None:
    login(page, site.viewer)
    email = _held(site)
    page.goto(f"/contacts/{email}")
    assert page.locator("#bounce-information").is_visible()
    assert page.get_by_role("button", name="Unhold").count() == 0
    page.goto("/holds")
    assert page.get_by_role("button", name="Unhold selected").count() == 0
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    answer = page.request.post(f"/contacts/{email}/unhold", form={"csrf_token": token})
    assert answer.status == 403
    assert "read-only access" in answer.text()
    assert site.ledger.contact_view(email)["on_hold"]


def test_login_needs_the_form_token(page: Any, site: Any) -> None:
    answer = page.request.post(
        site.url + "/login", form={"username": site.admin[0], "password": site.admin[1]}
    )
    assert answer.status == 403
