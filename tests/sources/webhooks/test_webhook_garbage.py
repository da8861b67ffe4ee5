"""Whatever JSON a provider (or an attacker with a valid signature) sends, parsing
either yields events or refuses with a WebhookError: it never crashes."""

from __future__ import annotations

import contextlib
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from webhook_payloads import POSTMARK_BOUNCE, SENDGRID_EVENTS, SES_BOUNCE, mailgun_failed

from bounceback import classify
from bounceback.sources.webhooks import WebhookError, mailgun, postmark, sendgrid, ses

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


def mutate(base: dict[str, Any], data: st.DataObject) -> dict[str, Any]:
    """The real payload with some fields replaced by arbitrary JSON."""
    out: dict[str, Any] = json.loads(json.dumps(base))
    for key in data.draw(st.lists(st.sampled_from(sorted(out)), max_size=4)):
        out[key] = data.draw(json_values)
    return out


def classified(events: list[Any]) -> None:
    for event in events:
        classify(event.report)


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_ses(data: st.DataObject) -> None:
    payload = mutate(SES_BOUNCE, data)
    payload["bounce"] = mutate(SES_BOUNCE["bounce"], data)
    classified(ses.events(payload))


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_sendgrid(data: st.DataObject) -> None:
    items = [mutate(item, data) for item in SENDGRID_EVENTS[:3]]
    try:
        events, _ = sendgrid.parse(json.dumps(items).encode())
    except WebhookError:
        return
    classified(events)


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_mailgun(data: st.DataObject) -> None:
    event = mutate(mailgun_failed(), data)
    event["delivery-status"] = (
        data.draw(json_values) if data.draw(st.booleans()) else event["delivery-status"]
    )
    with contextlib.suppress(WebhookError):
        classified(mailgun.events({"event-data": event}))


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_postmark(data: st.DataObject) -> None:
    classified(postmark.events(mutate(POSTMARK_BOUNCE, data)))


@given(json_values)
def test_any_json_body(value: Any) -> None:
    body = json.dumps(value).encode()
    for parse in (sendgrid.parse, mailgun.parse, postmark.parse):
        with contextlib.suppress(WebhookError):
            parse(body)
