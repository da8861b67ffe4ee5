"""Logging in and out: every page needs a session, a wrong password fails, the cookie is
HttpOnly and SameSite=Lax, and the session secret is shared through the database."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bounceback.ledger.settings import setting
from bounceback.ledger.users import SECRET_SETTING
from bounceback.web.session import COOKIE


def test_pages_redirect_to_login_and_back(
    page: Any, site: Any, screenshot: Callable[..., None]
) -> None:
    page.goto("/holds?bounce_type=Invalid")
    assert "/login" in page.url
    assert page.locator("input[name=password]").is_visible()
    screenshot(page, "login")

    page.fill("input[name=username]", site.admin[0])
    page.fill("input[name=password]", site.admin[1])
    page.click("button[type=submit]")
    page.wait_for_url("**/holds?bounce_type=Invalid")
    assert page.locator("h1").inner_text() == "Addresses on hold"

    cookie = next(c for c in page.context.cookies() if c["name"] == COOKIE)
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Lax"
    # No secret was configured: one was generated and kept for every process to share.
    assert len(setting(site.ledger, SECRET_SETTING) or "") >= 32


def test_wrong_password_is_refused(page: Any, site: Any) -> None:
    page.goto("/login")
    page.fill("input[name=username]", site.admin[0])
    page.fill("input[name=password]", site.admin[1] + "x")
    with page.expect_response("**/login") as answer:
        page.click("button[type=submit]")
    assert answer.value.status == 401
    assert page.get_by_role("alert").inner_text() == "Wrong username or password."
    page.goto("/")
    assert "/login" in page.url  # still not logged in


def test_logout_ends_the_session(page: Any, login: Callable[..., None]) -> None:
    login(page, own=True)
    page.goto("/settings")
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/login")
    page.goto("/settings")
    assert "/login" in page.url


def test_next_never_leaves_the_site(page: Any, site: Any) -> None:
    page.goto("/login?next=//evil.example/")
    page.fill("input[name=username]", site.admin[0])
    page.fill("input[name=password]", site.admin[1])
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert page.url == site.url + "/"
