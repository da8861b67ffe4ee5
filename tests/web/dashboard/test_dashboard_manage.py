"""What users manage most, in a real browser: the suppression list, the quarantine, the
contacts' bounced and kind filters, replies filed on a contact, complaints and unverified
bounces on their page, the sender-health bursts, and the pages at 1000 px wide."""

from __future__ import annotations

import csv
import io
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, update

from bounceback.ledger import bounces, contacts
from bounceback.ledger import settings as ledger_settings
from bounceback.ledger import tables as t
from bounceback.model import RawMessage

EMAILS = Path(__file__).resolve().parents[2] / "fixtures" / "emails"


def test_suppression_search_add_remove_import_export(
    page: Any,
    site: Any,
    login: Callable[..., None],
    screenshot: Callable[..., None],
    tmp_path: Path,
) -> None:
    login(page)
    page.goto("/suppression")
    rows = page.locator("#suppression-table tbody tr[data-email]")
    assert rows.count() > 3  # the corpus's hard bounces and complaints put them there
    bounced = {r["email"] for r in site.ledger.suppressions() if r["source"] == "bounce"}
    page.select_option("select[name=source]", "bounce")
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**source=bounce*")
    shown = {rows.nth(i).get_attribute("data-email") for i in range(rows.count())}
    assert shown and shown <= bounced

    # Add one by hand: it is on the list (manual) and the page finds it.
    form = page.locator("#suppress-add")
    form.locator("input[name=email]").fill("Asked.Not@Example.ORG")
    form.locator("input[name=reason]").fill("asked by phone")
    form.get_by_role("button", name="Suppress").click()
    page.wait_for_selector(".flash-ok")
    assert site.ledger.is_suppressed("asked.not@example.org")
    assert page.locator("tr[data-email='asked.not@example.org']").inner_text().count("manual") == 1

    # Import a CSV: a header, two new, one already listed, one that is no address.
    upload = tmp_path / "list.csv"
    upload.write_text(
        "email,reason\nnew.one@example.org,import\nNEW.TWO@example.org,\n"
        "asked.not@example.org,again\nnot an address,x\n",
        encoding="utf-8",
    )
    page.goto("/suppression")
    page.set_input_files("#suppress-import input[name=file]", str(upload))
    page.locator("#suppress-import").get_by_role("button", name="Import").click()
    page.wait_for_selector(".flash-ok")
    said = page.locator(".flash-ok").inner_text()
    assert "Imported 2 addresses; 1 already listed; 1 not addresses." in said
    assert "line 5: not an email address" in page.locator(".flash-error").inner_text()
    assert site.ledger.is_suppressed("new.two@example.org")

    # Search by a piece of the address, then remove it (the page asks first).
    page.fill("input[name=q]", "new.one")
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**q=new.one*")
    assert page.locator("#suppression-table tbody tr[data-email]").count() == 1
    screenshot(page, "suppression")
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("tr[data-email='new.one@example.org']").get_by_role(
        "button", name="Remove"
    ).click()
    page.wait_for_selector(".flash-ok")
    assert not site.ledger.is_suppressed("new.one@example.org")

    # The export is the whole list as CSV.
    answer = page.request.get("/suppression.csv")
    assert answer.status == 200 and answer.headers["content-type"].startswith("text/csv")
    exported = list(csv.reader(io.StringIO(answer.text())))
    assert exported[0] == ["email", "reason", "source", "since"]
    assert {row[0] for row in exported[1:]} == {r["email"] for r in site.ledger.suppressions()}


def test_a_viewer_sees_the_list_but_no_forms(
    page: Any, site: Any, login: Callable[..., None]
) -> None:
    login(page, site.viewer)
    page.goto("/suppression")
    assert page.locator("#suppression-table tbody tr").count() > 0
    assert page.locator("#suppress-add").count() == 0
    assert page.get_by_role("button", name="Remove").count() == 0


def _quarantine(site: Any, name: str, error: str) -> int:
    """A real bounce kept in quarantine, as an older engine left it (an engine error)."""
    data = (EMAILS / name).read_bytes()
    with site.ledger.engine.begin() as conn:
        return int(
            conn.execute(
                insert(t.messages)
                .values(
                    idempotency_key=f"quarantine-test:{name}",
                    source="imap:bounces",
                    ref=name,
                    size=len(data),
                    raw=zlib.compress(data),
                    outcome="quarantined",
                    error=error,
                )
                .returning(t.messages.c.id)
            ).scalar_one()
        )


def _outcome(site: Any, message_id: int) -> str | None:
    with site.ledger.engine.connect() as conn:
        found = conn.execute(
            select(t.messages.c.outcome).where(t.messages.c.id == message_id)
        ).scalar()
        return None if found is None else str(found)


def test_quarantine_view_retry_release_delete(
    page: Any, site: Any, login: Callable[..., None], screenshot: Callable[..., None]
) -> None:
    retried = _quarantine(site, "rfc3464-04.eml", "engine error: KeyError: 'x'")
    released = _quarantine(site, "rfc3464-07.eml", "engine error: ValueError: bad header")
    deleted = _quarantine(site, "rfc3464-28.eml", "message too large: 99999999 bytes")
    # Junk the parser cannot read: quarantined by processing itself, with its reason.
    junk = site.ledger.process_bytes(b"Subject: hello\r\n\r\njust some words\r\n", source="test")
    assert junk.outcome in ("quarantined", "ignored")
    login(page)
    page.goto("/quarantine")
    row = page.locator(f"tr[data-message='{released}']")
    assert "engine error: ValueError: bad header" in row.locator("td.why").inner_text()
    assert "imap:bounces" in row.inner_text() and "rfc3464-07.eml" in row.inner_text()
    screenshot(page, "quarantine")

    # View the kept message.
    row.get_by_role("link", name="View").click()
    page.wait_for_selector("pre.raw")
    assert "From:" in page.locator("pre.raw").inner_text()
    assert page.request.get(f"/quarantine/{released}/raw").status == 200

    # Retry: today's engine reads it; the row is replaced by the applied message.
    page.goto("/quarantine")
    page.locator(f"tr[data-message='{retried}']").get_by_role("button", name="Retry").click()
    page.wait_for_selector(".flash-ok")
    assert "processed again" in page.locator(".flash-ok").inner_text()
    assert _outcome(site, retried) is None  # replaced, in one transaction
    with site.ledger.engine.connect() as conn:
        m = t.messages.c
        again = conn.execute(
            select(m.outcome).where(m.idempotency_key == "quarantine-test:rfc3464-04.eml")
        ).scalar()
        redone = conn.execute(select(m.outcome).where(m.ref == "rfc3464-04.eml")).all()
    assert again is None and any(r.outcome in ("matched", "unmatched") for r in redone)
    assert page.locator(f"tr[data-message='{retried}']").count() == 0

    # Release: ignored, bytes kept, the reason kept with who released it.
    page.locator(f"tr[data-message='{released}']").get_by_role("button", name="Release").click()
    page.wait_for_selector(".flash-ok")
    assert _outcome(site, released) == "ignored"
    with site.ledger.engine.connect() as conn:
        kept = conn.execute(
            select(t.messages.c.raw, t.messages.c.error).where(t.messages.c.id == released)
        ).one()
    assert kept.raw is not None and kept.error.startswith("released by admin: engine error")

    # Delete (after the confirm dialog): gone.
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator(f"tr[data-message='{deleted}']").get_by_role("button", name="Delete").click()
    page.wait_for_selector(".flash-ok")
    assert _outcome(site, deleted) is None


def test_contacts_bounced_filter_and_kind(page: Any, site: Any, login: Callable[..., None]) -> None:
    site.ledger.add_contact("office@acme-filter.example", name="Acme", kind="company")
    login(page)
    page.goto("/contacts")
    page.select_option("select[name=bounced]", "yes")
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**bounced=yes*")
    rows = page.locator("#contacts-table tbody tr")
    assert rows.count() > 3
    cells = page.locator("#contacts-table tbody td[data-field=bounced]")
    assert all(cells.nth(i).inner_text() == "yes" for i in range(cells.count()))
    expected, _ = contacts.search_contacts(
        site.ledger, "", contacts.ContactFilters(bounced=True), 50
    )
    assert cells.count() == len(expected)

    page.goto("/contacts?kind=company")
    kinds = page.locator("#contacts-table tbody td[data-field=kind]")
    assert [kinds.nth(i).inner_text() for i in range(kinds.count())] == ["company"]
    assert "office@acme-filter.example" in page.locator("#contacts-table").inner_text()
    page.goto("/contacts?kind=company&bounced=yes")
    assert page.locator("#contacts-table tbody td[data-field=kind]").count() == 0


def test_replies_filed_on_the_contact(
    page: Any, site: Any, login: Callable[..., None], screenshot: Callable[..., None]
) -> None:
    site.ledger.add_contact("maria.lopez@example.org", "María López")
    data = (EMAILS / "reply-human-01.eml").read_bytes()
    raw = RawMessage(data=data, source="test", ref="reply-human-01.eml")
    assert [o.outcome for o in site.ledger.process([("reply", raw)], purpose="both")] == ["filed"]
    login(page)
    page.goto("/contacts/maria.lopez@example.org")
    activity = page.locator("#activities details.activity")
    assert activity.count() == 1
    summary = activity.locator("summary").inner_text()
    assert "Re: November newsletter – volunteer day" in summary and "2026-11-17 08:13" in summary
    activity.locator("summary").click()
    assert "volunteer" in activity.locator("pre").inner_text()
    screenshot(page, "contact-activities")


def test_a_complaint_reads_as_a_complaint(
    page: Any, site: Any, login: Callable[..., None], screenshot: Callable[..., None]
) -> None:
    items, _ = bounces.list_bounces(site.ledger, bounces.BounceFilters(kind="complaint"), 50)
    event = next(i for i in items if bounces.bounce_detail(site.ledger, i["id"])["feedback_type"])
    feedback = bounces.bounce_detail(site.ledger, event["id"])["feedback_type"]
    login(page)
    page.goto(f"/bounces/{event['id']}")
    verdict = page.locator("#verdict").inner_text()
    assert verdict.startswith(f"Complaint (feedback report: {feedback})")
    decided = page.locator("#decision").inner_text()
    assert "Soft bounce" not in decided and "temporary failure" not in decided
    assert page.locator("h1").inner_text().startswith(f"Complaint {event['id']}")
    screenshot(page, "complaint")


def test_an_unverified_bounce_says_it_acts_on_nobody(
    page: Any, site: Any, login: Callable[..., None], screenshot: Callable[..., None]
) -> None:
    # As the ledger records one when signed VERP is on and nothing proves a send: kept,
    # flagged, no effect (the policy's own words for it).
    items, _ = bounces.list_bounces(site.ledger, bounces.BounceFilters(hard=True, kind="bounce"), 1)
    event_id = items[0]["id"]
    with site.ledger.engine.begin() as conn:
        conn.execute(
            update(t.events)
            .where(t.events.c.id == event_id)
            .values(verified=False, effects={"unverified": True})
        )
    try:
        login(page)
        page.goto(f"/bounces/{event_id}")
        assert page.locator("#unverified").inner_text() == "unverified"
        fields = page.locator("dl.fields").first.inner_text()
        assert "nothing in it proves we sent the mail" in fields
        assert "no effect: unverified" in page.locator("#policy-steps").inner_text()
        screenshot(page, "bounce-unverified")
    finally:
        with site.ledger.engine.begin() as conn:
            conn.execute(update(t.events).where(t.events.c.id == event_id).values(verified=True))


def test_sender_health_lists_only_bursts_under_the_burst_heading(
    page: Any, site: Any, login: Callable[..., None], screenshot: Callable[..., None]
) -> None:
    """Under the heading: only domains with the configured burst size or more within the
    window; the rest folded below. A burst of 2 over 30 days gives both kinds here."""
    before = ledger_settings.get_settings(site.ledger)
    keep = {k: before[k] for k in ("sender_health_burst", "sender_health_window_hours")}
    ledger_settings.update_settings(
        site.ledger, {"sender_health_burst": 2, "sender_health_window_hours": 24 * 30}
    )
    try:
        health = site.ledger.health()
        bursts = {d["domain"] for d in health["domains"] if d["count"] >= 2}
        below = {d["domain"] for d in health["domains"] if d["count"] < 2}
        assert bursts and below  # the corpus has both: the test can tell them apart
        login(page)
        page.goto("/health-report")
        heading = page.locator("#bursts h2").inner_text()
        assert "last 720 hours: 2 or more sender-fault bounces from one domain" in heading
        listed = page.locator("#bursts > table tbody tr[data-domain]")
        shown = {listed.nth(i).get_attribute("data-domain") for i in range(listed.count())}
        assert shown == bursts
        folded = page.locator("#below-burst tr[data-domain]")
        assert {folded.nth(i).get_attribute("data-domain") for i in range(folded.count())} == below
        screenshot(page, "health-bursts")
    finally:
        ledger_settings.update_settings(site.ledger, keep)


NARROW_PAGES = ("/", "/contacts", "/holds", "/suppression", "/bounces", "/quarantine", "/rules")


def test_pages_fit_1000_px(browser: Any, site: Any, login: Callable[..., None]) -> None:
    """The navigation stays one line; wide tables scroll inside their box, the page
    itself never scrolls sideways."""
    context = browser.new_context(base_url=site.url, viewport={"width": 1000, "height": 800})
    tab = context.new_page()
    try:
        login(tab)
        for path in NARROW_PAGES:
            tab.goto(path)
            bar = tab.locator("header.topbar").bounding_box()
            links = tab.locator("header.topbar nav a")
            tops = {round(links.nth(i).bounding_box()["y"]) for i in range(links.count())}
            assert len(tops) == 1, f"{path}: the navigation wraps"
            assert bar["height"] < 60, path
            last = links.nth(links.count() - 1).bounding_box()
            assert last["x"] + last["width"] <= 1000, f"{path}: a link is off screen"
            width = tab.evaluate("document.documentElement.scrollWidth")
            assert width <= 1000, f"{path}: the page is {width} px wide"
            for table in tab.locator("main table").all():
                box = table.evaluate("t => t.closest('.table-scroll, .card') !== null")
                assert box, f"{path}: a table outside a scrolling box"
        tab.goto("/bounces")
        tab.screenshot(path=str(Path(site_shots()) / "narrow-bounces.png"), full_page=True)
        tab.goto("/contacts")
        tab.screenshot(path=str(Path(site_shots()) / "narrow-contacts.png"), full_page=True)
    finally:
        context.close()


def site_shots() -> Path:
    shots = Path(__file__).resolve().parents[3] / "docs" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    return shots
