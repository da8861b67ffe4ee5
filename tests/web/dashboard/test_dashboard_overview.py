"""The overview: the chart is drawn with the ledger's numbers, the counts agree."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select

from bounceback.ledger import tables as t


def ledger_counts(ledger: Any, days: int = 30) -> dict[str, int]:
    """Straight from the events (not the rollups the page reads): the last ``days`` days."""
    first = dt.datetime.combine(
        dt.datetime.now(dt.UTC).date() - dt.timedelta(days=days - 1), dt.time()
    )
    e = t.events.c
    with ledger.engine.connect() as conn:
        rows = conn.execute(
            select(e.kind, e.hardbounce, func.count())
            .where(e.occurred_at >= first, e.undone_at.is_(None))
            .group_by(e.kind, e.hardbounce)
        ).all()
    counts = {"hard": 0, "soft": 0, "complaint": 0}
    for kind, hard, n in rows:
        if kind == "bounce":
            counts["hard" if hard else "soft"] += n
        elif kind == "complaint":
            counts["complaint"] += n
    return counts


def test_overview_chart_renders_the_ledger_counts(
    page: Any, site: Any, login: Callable[..., None], screenshot: Callable[..., None]
) -> None:
    expected = ledger_counts(site.ledger)
    assert expected["hard"] > 10 and expected["soft"] > 5 and expected["complaint"] > 3
    login(page)
    page.goto("/")
    page.wait_for_selector("#daily-chart[data-drawn=true]")

    drawn = page.evaluate(
        """() => {
          const chart = Chart.getChart("daily-chart");
          const sums = {};
          for (const set of chart.data.datasets) {
            sums[set.label] = set.data.reduce((a, b) => a + b, 0);
          }
          return {sums, days: chart.data.labels.length};
        }"""
    )
    assert drawn["days"] == 30
    assert drawn["sums"] == expected

    # The canvas really has bars on it: some pixels carry the hard bounces' colour.
    red = page.evaluate(
        """() => {
          const c = document.getElementById("daily-chart");
          const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
          let n = 0;
          for (let i = 0; i < d.length; i += 4) {
            if (d[i] === 0xc0 && d[i + 1] === 0x39 && d[i + 2] === 0x2b) n++;
          }
          return n;
        }"""
    )
    assert red > 100

    for name, value in expected.items():
        assert page.locator(f"[data-total={name}]").inner_text() == str(value)
    unmatched = site.ledger.messages("unmatched", limit=10_000)
    assert page.locator("[data-total=unmatched]").inner_text() == str(len(unmatched))
    # The sources' state, from serve's health: the failing one says why.
    assert "connection refused" in page.locator("text=connection refused").inner_text()
    screenshot(page, "overview")
