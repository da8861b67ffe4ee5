"""Shared fixtures: real messages from tests/fixtures/emails, the corpus when it is there."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import settings

ROOT = Path(__file__).resolve().parent.parent
EMAILS = Path(__file__).resolve().parent / "fixtures" / "emails"
# The shared corpus sits beside the repository; tests that need it skip without it.
CORPUS = ROOT.parent / "shared" / "corpora" / "sisimai" / "emails"


def email_bytes(name: str) -> bytes:
    """The bytes of one fixture message, e.g. email_bytes("lhost-postfix-02.eml")."""
    return (EMAILS / name).read_bytes()


@pytest.fixture
def email() -> Callable[[str], bytes]:
    return email_bytes


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    if not CORPUS.is_dir():
        pytest.skip(f"corpus not found at {CORPUS}")
    return CORPUS


# CI runs the same fuzz examples every time (a failure there is reproducible);
# elsewhere Hypothesis explores new ones on each run.
settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")
