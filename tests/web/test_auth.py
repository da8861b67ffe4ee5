"""API keys and users: only hashes stored, scopes, revocation, the verification cache,
scrypt passwords, and the ``apikeys`` / ``users`` commands."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select, update
from typer.testing import CliRunner

from bounceback.cli import app
from bounceback.ledger import Ledger
from bounceback.ledger import tables as t
from bounceback.web import auth


def _key_row(ledger: Ledger, name: str) -> Any:
    with ledger.engine.connect() as conn:
        return conn.execute(select(t.api_keys).where(t.api_keys.c.name == name)).one()


def test_key_is_shown_once_and_only_its_hash_is_kept(sqlite_ledger: Ledger) -> None:
    key = auth.create_api_key(sqlite_ledger, "deploy", "admin")
    found = re.fullmatch(r"bb_([0-9a-f]{8})_[A-Za-z0-9_-]{40,}", key)
    assert found is not None
    row = _key_row(sqlite_ledger, "deploy")
    assert row.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert row.prefix == found[1] and row.scope == "admin"
    assert key not in " ".join(str(v) for v in row)
    other = auth.create_api_key(sqlite_ledger, "deploy-2", "admin")
    assert other != key


def test_verify_gives_the_scope_and_refuses_the_rest(sqlite_ledger: Ledger) -> None:
    admin = auth.create_api_key(sqlite_ledger, "a", "admin")
    read = auth.create_api_key(sqlite_ledger, "r", "read")
    assert auth.verify_api_key(sqlite_ledger, admin) == "admin"
    assert auth.verify_api_key(sqlite_ledger, read) == "read"
    prefix = admin[: len("bb_12345678_")]
    assert auth.verify_api_key(sqlite_ledger, prefix + "x" * 43) is None  # unknown secret
    assert auth.verify_api_key(sqlite_ledger, admin[:-1]) is None
    assert auth.verify_api_key(sqlite_ledger, "") is None
    assert auth.verify_api_key(sqlite_ledger, "Bearer " + admin) is None


def test_bad_names_scopes_and_duplicates_are_refused(sqlite_ledger: Ledger) -> None:
    auth.create_api_key(sqlite_ledger, "ci", "read")
    with pytest.raises(auth.AuthError, match="exists"):
        auth.create_api_key(sqlite_ledger, "ci", "admin")
    with pytest.raises(auth.AuthError, match="scope"):
        auth.create_api_key(sqlite_ledger, "other", "root")
    with pytest.raises(auth.AuthError, match="name"):
        auth.create_api_key(sqlite_ledger, "", "read")


def test_revocation_here_is_immediate(sqlite_ledger: Ledger) -> None:
    key = auth.create_api_key(sqlite_ledger, "gone", "admin")
    assert auth.verify_api_key(sqlite_ledger, key) == "admin"  # now cached
    assert auth.revoke_api_key(sqlite_ledger, "gone")
    assert auth.verify_api_key(sqlite_ledger, key) is None
    assert not auth.revoke_api_key(sqlite_ledger, "gone")  # already revoked
    assert _key_row(sqlite_ledger, "gone").revoked_at is not None


def test_revocation_elsewhere_is_seen_after_the_cache_ttl(
    sqlite_ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = [1000.0]
    monkeypatch.setattr(auth, "_clock", lambda: now[0])
    key = auth.create_api_key(sqlite_ledger, "k", "read")
    assert auth.verify_api_key(sqlite_ledger, key) == "read"
    with sqlite_ledger.engine.begin() as conn:  # another process revokes it
        conn.execute(update(t.api_keys).values(revoked_at=t.api_keys.c.created_at))
    now[0] += auth.CACHE_TTL / 2
    assert auth.verify_api_key(sqlite_ledger, key) == "read"  # still trusted
    now[0] += auth.CACHE_TTL
    assert auth.verify_api_key(sqlite_ledger, key) is None


def test_cached_verification_makes_no_query_and_no_write(sqlite_ledger: Ledger) -> None:
    key = auth.create_api_key(sqlite_ledger, "hot", "read")
    assert auth.verify_api_key(sqlite_ledger, key) == "read"
    used = _key_row(sqlite_ledger, "hot").last_used_at
    assert used is not None  # the first use is recorded
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(str(args[2]))

    event.listen(sqlite_ledger.engine, "before_cursor_execute", count)
    try:
        for _ in range(200):
            assert auth.verify_api_key(sqlite_ledger, key) == "read"
            assert auth.cached_scope(sqlite_ledger, key) == "read"
    finally:
        event.remove(sqlite_ledger.engine, "before_cursor_execute", count)
    assert statements == []
    assert _key_row(sqlite_ledger, "hot").last_used_at == used


def test_last_use_is_written_again_after_a_minute(sqlite_ledger: Ledger) -> None:
    key = auth.create_api_key(sqlite_ledger, "k", "read")
    auth.verify_api_key(sqlite_ledger, key)
    first = _key_row(sqlite_ledger, "k").last_used_at
    with sqlite_ledger.engine.begin() as conn:  # pretend the last record is old
        conn.execute(update(t.api_keys).values(last_used_at=first - auth.LAST_USED_EVERY * 2))
    auth.clear_cache()
    auth.verify_api_key(sqlite_ledger, key)
    assert _key_row(sqlite_ledger, "k").last_used_at >= first


def test_list_shows_prefixes_not_keys(sqlite_ledger: Ledger) -> None:
    key = auth.create_api_key(sqlite_ledger, "listed", "read")
    (row,) = auth.list_api_keys(sqlite_ledger)
    assert row["name"] == "listed" and row["scope"] == "read"
    assert key.startswith(row["prefix"]) and len(row["prefix"]) == len("bb_12345678_")


def test_passwords_are_salted_scrypt(sqlite_ledger: Ledger) -> None:
    auth.create_user(sqlite_ledger, "alice", "correct horse")
    auth.create_user(sqlite_ledger, "bob", "correct horse", role="read")
    with sqlite_ledger.engine.connect() as conn:
        hashes = dict(conn.execute(select(t.users.c.username, t.users.c.password_hash)).all())
    assert hashes["alice"] != hashes["bob"]  # salted
    algo, n, r, p, salt, digest = hashes["alice"].split("$")
    assert (algo, n, r, p) == ("scrypt", "16384", "8", "1") and salt and digest
    assert "correct horse" not in hashes["alice"]
    assert auth.verify_user(sqlite_ledger, "alice", "correct horse") == "admin"
    assert auth.verify_user(sqlite_ledger, "bob", "correct horse") == "read"
    assert auth.verify_user(sqlite_ledger, "alice", "correct horsE") is None
    assert auth.verify_user(sqlite_ledger, "carol", "correct horse") is None


def test_user_rules(sqlite_ledger: Ledger) -> None:
    auth.create_user(sqlite_ledger, "alice", "long enough")
    with pytest.raises(auth.AuthError, match="exists"):
        auth.create_user(sqlite_ledger, "alice", "long enough")
    with pytest.raises(auth.AuthError, match="at least"):
        auth.create_user(sqlite_ledger, "bob", "short")
    with pytest.raises(auth.AuthError, match="role"):
        auth.create_user(sqlite_ledger, "bob", "long enough", role="root")
    assert auth.set_password(sqlite_ledger, "alice", "another one")
    assert auth.verify_user(sqlite_ledger, "alice", "long enough") is None
    assert auth.verify_user(sqlite_ledger, "alice", "another one") == "admin"
    assert not auth.set_password(sqlite_ledger, "nobody", "another one")
    with sqlite_ledger.engine.begin() as conn:
        conn.execute(update(t.users).values(disabled=True))
    assert auth.verify_user(sqlite_ledger, "alice", "another one") is None
    assert [u["username"] for u in auth.list_users(sqlite_ledger)] == ["alice"]


def test_check_password_refuses_malformed_hashes() -> None:
    good = auth.hash_password("some password")
    assert auth.check_password("some password", good)
    assert not auth.check_password("some password", "")
    assert not auth.check_password("some password", "md5$x$y")
    assert not auth.check_password("some password", good.replace("scrypt", "bcrypt"))


# --- the commands ---------------------------------------------------------------------
@pytest.fixture
def cli_env(sqlite_ledger: Ledger) -> dict[str, str]:
    return {"BOUNCEBACK_DATABASE_URL": str(sqlite_ledger.engine.url), "BOUNCEBACK_CONFIG": ""}


def test_apikeys_commands(sqlite_ledger: Ledger, cli_env: dict[str, str]) -> None:
    runner = CliRunner()
    created = runner.invoke(app, ["apikeys", "create", "ci", "--scope", "admin"], env=cli_env)
    assert created.exit_code == 0, created.output
    key = created.stdout.strip().splitlines()[-1]
    assert auth.verify_api_key(sqlite_ledger, key) == "admin"
    listed = runner.invoke(app, ["apikeys", "list"], env=cli_env)
    assert listed.exit_code == 0 and "ci" in listed.stdout and key[:12] in listed.stdout
    assert key not in listed.stdout
    again = runner.invoke(app, ["apikeys", "create", "ci"], env=cli_env)
    assert again.exit_code == 2 and "exists" in again.output
    bad = runner.invoke(app, ["apikeys", "create", "x", "--scope", "root"], env=cli_env)
    assert bad.exit_code == 2
    revoked = runner.invoke(app, ["apikeys", "revoke", "ci"], env=cli_env)
    assert revoked.exit_code == 0
    assert auth.verify_api_key(sqlite_ledger, key) is None
    assert runner.invoke(app, ["apikeys", "revoke", "ci"], env=cli_env).exit_code == 1


def test_users_commands(sqlite_ledger: Ledger, cli_env: dict[str, str]) -> None:
    runner = CliRunner()
    args = ["users", "create", "alice", "--role", "read", "--password-stdin"]
    created = runner.invoke(app, args, input="a good password\n", env=cli_env)
    assert created.exit_code == 0, created.output
    assert auth.verify_user(sqlite_ledger, "alice", "a good password") == "read"
    short = runner.invoke(
        app, ["users", "create", "bob", "--password-stdin"], "short\n", env=cli_env
    )
    assert short.exit_code == 2 and "at least" in short.output
    listed = runner.invoke(app, ["users", "list"], env=cli_env)
    assert "alice" in listed.stdout and "read" in listed.stdout
    passwd = ["users", "passwd", "alice", "--password-stdin"]
    assert runner.invoke(app, passwd, input="the new password\n", env=cli_env).exit_code == 0
    assert auth.verify_user(sqlite_ledger, "alice", "the new password") == "read"
    nobody = ["users", "passwd", "nobody", "--password-stdin"]
    assert runner.invoke(app, nobody, input="the new password\n", env=cli_env).exit_code == 1


def test_commands_take_a_config_file(tmp_path: Path, sqlite_ledger: Ledger) -> None:
    config = tmp_path / "bb.toml"
    config.write_text(f'[database]\nurl = "{sqlite_ledger.engine.url}"\n')
    result = CliRunner().invoke(
        app,
        ["apikeys", "create", "from-file", "--config", str(config)],
        env={"BOUNCEBACK_DATABASE_URL": None, "BOUNCEBACK_CONFIG": None},
    )
    assert result.exit_code == 0, result.output
    assert auth.verify_api_key(sqlite_ledger, result.stdout.strip()) == "read"
