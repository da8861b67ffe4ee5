"""/api/v1/rules: the seed examples of issue 2 through the API, a rule created over HTTP
deciding the next processed bounce, order, validation, auth, and POST /rules/test."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from bounceback.ledger import Ledger
from bounceback.ledger import tables as t
from support.samples import MICROSOFT_BLOCK_LIST, SEED_EXAMPLES
from support.samples import minimal_dsn as dsn

Email = Callable[[str], bytes]
BLOCKED = "lhost-exim-54.eml"  # Exim relaying Microsoft's "on our block list" refusal
MICROSOFT = MICROSOFT_BLOCK_LIST
MICROSOFT_RULE = "550 5.7.1 Unfortunately, messages from==>Hard"
SEEDS = SEED_EXAMPLES


def tried(client: TestClient, headers: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/api/v1/rules/test", json=body, headers=headers)
    assert response.status_code == 200, response.text
    [one] = response.json()["recipients"]
    assert isinstance(one, dict)
    return one


def test_the_seed_examples_and_the_microsoft_rule_created_over_http(
    client: TestClient,
    web_ledger: Ledger,
    admin_headers: dict[str, str],
    read_headers: dict[str, str],
) -> None:
    for diagnostic, hard, reason, bounce_type in SEEDS:
        got = tried(client, read_headers, {"message": dsn(diagnostic).decode()})
        assert (got["hardbounce"], got["reason"], got["bounce_type"]) == (hard, reason, bounce_type)
        assert got["user_rule"] is None
    web_ledger.process_bytes(dsn(MICROSOFT, "before@example.jp"))

    created = client.post("/api/v1/rules", json={"pattern": MICROSOFT_RULE}, headers=admin_headers)
    assert created.status_code == 201, created.text
    rule = created.json()
    assert (rule["form"], rule["type"], rule["rule_id"]) == ("pattern", "hard", f"db-{rule['id']}")

    got = tried(client, read_headers, {"message": dsn(MICROSOFT).decode()})
    assert (got["hardbounce"], got["permanent"], got["reason"], got["bounce_type"]) == (
        True,
        True,
        "blocked",
        "Invalid",  # Hard is the user's word that the address is dead: it acts
    )
    assert (got["user_rule"], got["changed"], got["builtin"]["hardbounce"]) == (
        rule["rule_id"],
        True,
        False,
    )
    # The other seeds are left alone by the rule.
    for diagnostic, hard, reason, _ in SEEDS[:4]:
        other = tried(client, read_headers, {"message": dsn(diagnostic).decode()})
        assert (other["hardbounce"], other["reason"], other["user_rule"]) == (hard, reason, None)

    # The ledger that was already open processes the next bounce with the new rule.
    web_ledger.process_bytes(dsn(MICROSOFT, "after@example.jp"))
    e = t.events.c
    with web_ledger.engine.connect() as conn:
        rows = conn.execute(select(e.email, e.hardbounce, e.rule).order_by(e.id)).all()
    assert [tuple(r) for r in rows] == [
        ("before@example.jp", False, "phrase:blocked"),
        ("after@example.jp", True, f"user:{rule['rule_id']}"),
    ]


def test_crud_and_the_order_decides_which_rule_wins(
    sqlite_client: TestClient,
    sqlite_admin_headers: dict[str, str],
    sqlite_read_headers: dict[str, str],
    email: Email,
) -> None:
    client, admin, read = sqlite_client, sqlite_admin_headers, sqlite_read_headers
    message = email(BLOCKED).decode()
    first = client.post(
        "/api/v1/rules",
        json={"text": "on our block list", "type": "hard", "bounce_type": "Invalid"},
        headers=admin,
    ).json()
    second = client.post(
        "/api/v1/rules",
        json={"text": "weren't sent", "type": "hard", "bounce_type": "Sender", "note": "ms"},
        headers=admin,
    ).json()
    listed = client.get("/api/v1/rules", headers=read).json()
    assert [r["id"] for r in listed["items"]] == [first["id"], second["id"]]
    assert listed["version"] == "2"
    assert tried(client, read, {"message": message})["user_rule"] == first["rule_id"]

    moved = client.post(
        "/api/v1/rules/reorder", json={"ids": [second["id"], first["id"]]}, headers=admin
    )
    assert moved.status_code == 200, moved.text
    assert [r["position"] for r in moved.json()["items"]] == [0, 1]
    got = tried(client, read, {"message": message})
    assert (got["user_rule"], got["bounce_type"]) == (second["rule_id"], "Sender")

    off = client.patch(f"/api/v1/rules/{second['id']}", json={"enabled": False}, headers=admin)
    assert off.json()["enabled"] is False and off.json()["note"] == "ms"
    assert tried(client, read, {"message": message})["user_rule"] == first["rule_id"]

    put = client.put(
        f"/api/v1/rules/{first['id']}",
        json={"section": "subject", "text": "Mail delivery failed", "type": "soft"},
        headers=admin,
    )
    assert put.status_code == 200, put.text
    assert (put.json()["section"], put.json()["bounce_type"]) == ("subject", "")
    got = tried(client, read, {"message": message})
    assert (got["user_rule"], got["hardbounce"]) == (first["rule_id"], False)

    assert client.get(f"/api/v1/rules/{first['id']}", headers=read).json()["type"] == "soft"
    assert client.delete(f"/api/v1/rules/{first['id']}", headers=admin).status_code == 204
    gone = client.get(f"/api/v1/rules/{first['id']}", headers=read)
    assert (gone.status_code, gone.json()["error"]) == (404, f"no rule with id {first['id']}")
    assert client.delete(f"/api/v1/rules/{first['id']}", headers=admin).status_code == 404
    assert client.patch("/api/v1/rules/999", json={}, headers=admin).status_code == 404
    bad_order = client.post("/api/v1/rules/reorder", json={"ids": [999]}, headers=admin)
    assert bad_order.status_code == 422
    assert "missing" in bad_order.json()["error"] and "unknown 999" in bad_order.json()["error"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"text": "", "type": "hard"}, "text is missing or empty"),
        ({"text": "x" * 101, "type": "hard"}, "text is 101 characters, the limit is 100"),
        ({"text": "x", "type": "hard", "section": "head"}, "section must be one of body"),
        ({"text": "x", "type": "maybe"}, "type must be hard, soft or both"),
        ({"text": "x", "type": "hard", "bounce_type": "Nope"}, "bounce_type 'Nope'"),
        ({"pattern": "550 no arrow"}, "expected 'text==>Hard' or 'text==>Soft'"),
        ({"text": "x", "type": "hard", "colour": 1}, "colour"),
        ({"text": 5, "type": "hard"}, "text"),
    ],
)
def test_an_invalid_rule_is_a_422_with_a_clear_message(
    sqlite_client: TestClient,
    sqlite_admin_headers: dict[str, str],
    body: dict[str, Any],
    message: str,
) -> None:
    response = sqlite_client.post("/api/v1/rules", json=body, headers=sqlite_admin_headers)
    assert response.status_code == 422
    assert message in response.json()["error"]
    assert response.json()["status"] == 422
    listed = sqlite_client.get("/api/v1/rules", headers=sqlite_admin_headers).json()
    assert listed["items"] == []


def test_an_invalid_change_is_a_422_and_the_rule_stays(
    sqlite_client: TestClient, sqlite_admin_headers: dict[str, str]
) -> None:
    client, admin = sqlite_client, sqlite_admin_headers
    rule = client.post("/api/v1/rules", json={"text": "fine", "type": "soft"}, headers=admin)
    path = f"/api/v1/rules/{rule.json()['id']}"
    put = client.put(path, json={"text": "x" * 101, "type": "hard"}, headers=admin)
    assert put.status_code == 422
    assert put.json()["error"] == "invalid rule: rule: text is 101 characters, the limit is 100"
    patch = client.patch(path, json={"section": "envelope"}, headers=admin)
    assert patch.status_code == 422 and "section must be one of" in patch.json()["error"]
    assert client.get(path, headers=admin).json()["text"] == "fine"


WRITES = [
    ("post", "/api/v1/rules", {"text": "x", "type": "hard"}),
    ("put", "/api/v1/rules/1", {"text": "y", "type": "hard"}),
    ("patch", "/api/v1/rules/1", {"enabled": False}),
    ("delete", "/api/v1/rules/1", None),
    ("post", "/api/v1/rules/reorder", {"ids": [1]}),
]


def test_every_write_needs_an_admin_key(
    client: TestClient, admin_headers: dict[str, str], read_headers: dict[str, str]
) -> None:
    made = client.post("/api/v1/rules", json={"text": "x", "type": "hard"}, headers=admin_headers)
    assert made.json()["id"] == 1
    for method, path, body in WRITES:
        kwargs: dict[str, Any] = {} if body is None else {"json": body}
        anonymous = client.request(method, path, **kwargs)
        assert anonymous.status_code == 401, (method, path)
        assert "WWW-Authenticate" in anonymous.headers
        wrong = client.request(method, path, headers={"Authorization": "Bearer nope"}, **kwargs)
        assert wrong.status_code == 401, (method, path)
        reader = client.request(method, path, headers=read_headers, **kwargs)
        assert reader.status_code == 403, (method, path)
        assert "admin" in reader.json()["error"]
    assert client.get("/api/v1/rules").status_code == 401
    assert client.post("/api/v1/rules/test", json={"message": "x"}).status_code == 401
    # Nothing changed.
    listed = client.get("/api/v1/rules", headers=read_headers).json()
    assert [(r["text"], r["enabled"]) for r in listed["items"]] == [("x", True)]
    assert listed["version"] == "1"


def test_rules_test_takes_raw_bytes_an_upload_or_json(
    sqlite_client: TestClient,
    sqlite_admin_headers: dict[str, str],
    sqlite_read_headers: dict[str, str],
    email: Email,
) -> None:
    client, read = sqlite_client, sqlite_read_headers
    data = email(BLOCKED)
    client.post(
        "/api/v1/rules",
        json={"text": "on our block list", "type": "hard"},
        headers=sqlite_admin_headers,
    )
    raw = client.post(
        "/api/v1/rules/test", content=data, headers={**read, "Content-Type": "message/rfc822"}
    )
    assert raw.status_code == 200, raw.text
    body = raw.json()
    assert (body["detector"], body["rules"]) == ("exim", "in force")
    assert body["recipients"][0]["recipient"] == "kijitora@example.org"
    assert body["recipients"][0]["rule"] == "user:db-1"

    upload = client.post(
        "/api/v1/rules/test", files={"file": ("bounce.eml", data, "message/rfc822")}, headers=read
    )
    assert upload.json()["recipients"] == body["recipients"]

    # An unsaved rule set replaces the stored ones for this try; nothing is saved.
    draft = client.post(
        "/api/v1/rules/test",
        json={
            "message": data.decode(),
            "rules": [{"text": "on our block list", "type": "soft", "bounce_type": "Quota"}],
        },
        headers=read,
    ).json()
    assert draft["rules"] == "given"
    got = draft["recipients"][0]
    assert (got["rule"], got["hardbounce"], got["bounce_type"]) == ("user:draft-1", False, "Quota")
    toml = client.post(
        "/api/v1/rules/test",
        json={"message": data.decode(), "rules": 'patterns = ["NEKO-CAT-222==>Hard"]'},
        headers=read,
    ).json()
    assert toml["recipients"][0]["rule"] == "user:pattern-1"
    none = client.post(
        "/api/v1/rules/test", json={"message": data.decode(), "rules": []}, headers=read
    ).json()
    assert none["recipients"][0]["rule"] == "phrase:blocked"
    assert len(client.get("/api/v1/rules", headers=read).json()["items"]) == 1

    bad_rules = client.post(
        "/api/v1/rules/test",
        json={"message": data.decode(), "rules": [{"text": "", "type": "hard"}]},
        headers=read,
    )
    assert bad_rules.status_code == 422
    assert bad_rules.json()["error"] == "invalid rule: rule 1: rule: text is missing or empty"
    assert client.post("/api/v1/rules/test", json={"msg": "x"}, headers=read).status_code == 422
    unknown_type = client.post(
        "/api/v1/rules/test", content=b"x", headers={**read, "Content-Type": "image/png"}
    )
    assert unknown_type.status_code == 415
    not_bounce = client.post(
        "/api/v1/rules/test",
        content=b"From: a@example.com\r\nSubject: hello\r\n\r\nhi\r\n",
        headers={**read, "Content-Type": "message/rfc822"},
    ).json()
    assert (not_bounce["kind"], not_bounce["recipients"]) == ("not_bounce", [])


@pytest.mark.parametrize(
    ("method", "path", "kwargs"),
    [
        ("post", "/api/v1/rules", {"content": b"not json", "headers": {"Content-Type": "x/y"}}),
        ("post", "/api/v1/rules", {"json": ["a", "list"]}),
        ("post", "/api/v1/rules", {"json": {"text": "x", "type": "hard", "position": -1}}),
        ("put", "/api/v1/rules/abc", {"json": {"text": "x", "type": "hard"}}),
        ("patch", "/api/v1/rules/1", {"json": {"enabled": "maybe"}}),
        ("delete", "/api/v1/rules/0", {}),
        ("post", "/api/v1/rules/reorder", {"json": {"ids": ["a"]}}),
        ("post", "/api/v1/rules/reorder", {"json": {"order": [1]}}),
        (
            "post",
            "/api/v1/rules/test",
            {"content": b"{", "headers": {"Content-Type": "application/json"}},
        ),
        ("post", "/api/v1/rules/test", {"json": {"message": "x", "rules": {"a": 1}}}),
        ("post", "/api/v1/rules/test", {"json": {"message": "x", "extra": 1}}),
        ("post", "/api/v1/rules/test", {"files": {"a": ("a", b"1"), "b": ("b", b"2")}}),
    ],
)
def test_bad_input_on_a_write_endpoint_is_a_json_422(
    sqlite_client: TestClient,
    sqlite_admin_headers: dict[str, str],
    method: str,
    path: str,
    kwargs: dict[str, Any],
) -> None:
    sqlite_client.post(
        "/api/v1/rules", json={"text": "kept", "type": "soft"}, headers=sqlite_admin_headers
    )
    headers = {**sqlite_admin_headers, **kwargs.pop("headers", {})}
    response = sqlite_client.request(method, path, headers=headers, **kwargs)
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["status"] == 422 and body["error"]
    rules = sqlite_client.get("/api/v1/rules", headers=sqlite_admin_headers).json()
    assert [(r["text"], r["enabled"], r["position"]) for r in rules["items"]] == [("kept", True, 0)]


def test_the_rules_list_is_paged_in_rule_order(
    sqlite_client: TestClient, sqlite_admin_headers: dict[str, str]
) -> None:
    made = [
        sqlite_client.post(
            "/api/v1/rules",
            json={"text": f"rule text {n}", "type": "soft"},
            headers=sqlite_admin_headers,
        ).json()["id"]
        for n in range(5)
    ]
    seen: list[int] = []
    cursor: str | None = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = sqlite_client.get("/api/v1/rules", params=params, headers=sqlite_admin_headers)
        assert page.status_code == 200, page.text
        body = page.json()
        seen += [rule["id"] for rule in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert (seen, pages) == (made, 3)
    bad = sqlite_client.get("/api/v1/rules?cursor=nonsense", headers=sqlite_admin_headers)
    assert bad.status_code == 400


def test_the_builtin_pack_is_listed_paged_and_overridable_by_id(
    sqlite_client: TestClient,
    sqlite_admin_headers: dict[str, str],
    sqlite_read_headers: dict[str, str],
    email: Email,
) -> None:
    assert sqlite_client.get("/api/v1/rules/builtin").status_code == 401
    first = sqlite_client.get("/api/v1/rules/builtin?limit=50", headers=sqlite_read_headers)
    assert first.status_code == 200, first.text
    page = first.json()
    assert page["read_only"] is True and len(page["items"]) == 50 and page["next_cursor"]
    listed = page["items"]
    cursor: str | None = page["next_cursor"]
    while cursor:
        more = sqlite_client.get(
            "/api/v1/rules/builtin",
            params={"limit": 50, "cursor": cursor},
            headers=sqlite_read_headers,
        ).json()
        listed += more["items"]
        cursor = more["next_cursor"]
    ids = [r["id"] for r in listed]
    assert len(ids) == len(set(ids)) and "phrase:blocked" in ids and "default" in ids
    blocked = next(r for r in listed if r["id"] == "phrase:blocked")
    assert (blocked["reason"], blocked["hard"], blocked["stage"]) == ("blocked", "soft", "phrase")
    assert (
        sqlite_client.get("/api/v1/rules/builtin?sort=id", headers=sqlite_read_headers).status_code
        == 422
    )

    # Override by id: an unknown id is a clear 422; a known one decides.
    bad = sqlite_client.post(
        "/api/v1/rules",
        json={"section": "rule", "text": "phrase:nosuch", "type": "hard"},
        headers=sqlite_admin_headers,
    )
    assert bad.status_code == 422 and "not a built-in rule id" in bad.text
    made = sqlite_client.post(
        "/api/v1/rules",
        json={"section": "rule", "text": "phrase:blocked", "type": "hard"},
        headers=sqlite_admin_headers,
    )
    assert made.status_code == 201, made.text
    message = email(BLOCKED).decode("utf-8", "replace")
    got = tried(sqlite_client, sqlite_read_headers, {"message": message})
    assert (got["rule"], got["hardbounce"], got["ignored"]) == (
        f"user:{made.json()['rule_id']}",
        True,
        False,
    )
    # An ignore rule: no verdict, the recipient is marked ignored.
    ignoring = sqlite_client.post(
        "/api/v1/rules",
        json={"text": "on our block list", "type": "ignore"},
        headers=sqlite_admin_headers,
    )
    assert ignoring.status_code == 201, ignoring.text
    got = tried(sqlite_client, sqlite_read_headers, {"message": message})
    assert (got["ignored"], got["rule"]) == (True, f"user:{ignoring.json()['rule_id']}")
    assert got["builtin"]["rule"] == "phrase:blocked"
