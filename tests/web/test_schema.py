"""Schemathesis over /api/v1/openapi.json: requests generated from the schema, with an
admin key, on a ledger holding real bounces, never get a server error, and every
body they get matches the response model the schema names.

(Each operation is driven by its Hypothesis strategy in one test: schemathesis's lazy
pytest loader does not run under this pytest version.)
"""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from bounceback.ledger import Ledger
from bounceback.web import WebContext
from bounceback.web.api import make_api
from bounceback.web.auth import create_api_key

STRICT = {"bounces", "contacts", "holds", "suppression", "suppression.csv", "sends"}
EXAMPLES = 12  # per operation: the whole run stays well under a minute


def _runner(operation: Any, headers: dict[str, str], checks: list[Any], statuses: list[int]) -> Any:
    """A Hypothesis test that calls ``operation`` with generated cases."""

    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        response = case.call_and_validate(headers=headers, checks=checks)
        statuses.append(response.status_code)

    return run


def test_no_server_errors(seeded_sqlite: Ledger) -> None:
    api = make_api(WebContext(ledger=seeded_sqlite, secret_key="test"))
    headers = {"Authorization": f"Bearer {create_api_key(seeded_sqlite, 'fuzz', 'admin')}"}
    schema = schemathesis.openapi.from_asgi("/openapi.json", api, headers=headers)
    failures: dict[str, str] = {}
    statuses: list[int] = []
    tried = 0
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result
        operation = result.ok()
        tried += 1
        # Every body matches its response model; the core resources also answer only
        # documented codes.
        strict = operation.path.split("/")[1] in STRICT
        checks = [not_a_server_error, response_schema_conformance]
        if strict:
            checks.append(status_code_conformance)
        try:
            _runner(operation, headers, checks, statuses)()
        except Exception as exc:  # every operation is tried; all failures reported
            failures[operation.label] = str(exc)[:3000]
    assert not failures, "\n\n".join(f"{k}:\n{v}" for k, v in failures.items())
    assert tried >= 15 and len(statuses) >= tried * 3
    assert sum(200 <= s < 300 for s in statuses) >= tried  # the key was taken: real work
