"""Campaigns: each campaign's hard and soft counts; a closed one is marked not updated."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def test_campaign_counts(
    page: Any, site: Any, login: Callable[..., None], screenshot: Callable[..., None]
) -> None:
    login(page)
    page.goto("/campaigns")
    active = site.ledger.campaign_stats(site.campaign)
    assert active["hard_bounces"] > 0 and active["soft_bounces"] > 0
    row = page.locator(f"tr[data-campaign={site.campaign}]")
    assert row.locator("[data-count=hard]").inner_text() == str(active["hard_bounces"])
    assert row.locator("[data-count=soft]").inner_text() == str(active["soft_bounces"])
    assert "not updated" not in row.inner_text()

    closed = site.ledger.campaign_stats(site.closed_campaign)
    assert closed["closed"] and closed["hard_bounces"] == 0 == closed["soft_bounces"]
    row = page.locator(f"tr[data-campaign={site.closed_campaign}]")
    assert "not updated" in row.inner_text()
    assert row.locator("[data-count=hard]").inner_text() == "0"
    screenshot(page, "campaigns")


def test_campaign_detail(
    page: Any, site: Any, login: Callable[..., None], screenshot: Callable[..., None]
) -> None:
    login(page)
    page.goto("/campaigns")
    page.get_by_role("link", name=site.campaign, exact=True).click()
    page.wait_for_selector("#daily-chart[data-drawn=true]")
    stats = site.ledger.campaign_stats(site.campaign)
    assert page.locator(".stat [data-count=hard]").inner_text() == str(stats["hard_bounces"])
    assert page.locator(".stat [data-count=soft]").inner_text() == str(stats["soft_bounces"])
    top = max(stats["by_reason"], key=lambda r: stats["by_reason"][r])
    assert top in page.locator("table").first.inner_text()
    screenshot(page, "campaign")
