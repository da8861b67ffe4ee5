"""Signed VERP tokens: round trip, rotation, and every way a token can be bad."""

from __future__ import annotations

import contextlib
import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bounceback.match.verp import (
    ExpiredToken,
    ForeignAddress,
    ForgedToken,
    MalformedToken,
    VerpError,
    VerpSigner,
    _b32decode,
    _b32encode,
    civicrm_send_id,
    envid_agrees,
    envid_send_id,
)

NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)
OLD = b"old secret key, at least 16 bytes"
NEW = b"new secret key, at least 16 bytes"


def signer(active: str = "k1", **kw: object) -> VerpSigner:
    keys = {"k1": OLD, "k2": NEW}
    return VerpSigner(keys, active, "bounces.example.org", **kw)  # type: ignore[arg-type]


def local_token(address: str) -> str:
    return address.split("@")[0].split("+", 1)[1]


def test_round_trip_carries_send_id_time_and_key() -> None:
    s = signer()
    address = s.address(4711, NOW)
    assert address.startswith("bounce+k1.")
    assert address.endswith("@bounces.example.org")
    assert len(address.split("@")[0]) <= 64
    token = s.verify(address, NOW + dt.timedelta(days=3))
    assert (token.send_id, token.issued_at, token.key_id) == (4711, NOW, "k1")


def test_prefix_and_separator_are_configurable() -> None:
    s = signer(prefix="rtn", separator="-")
    address = s.address(9, NOW)
    assert address.startswith("rtn-k1.")
    assert s.verify(address, NOW).send_id == 9
    with pytest.raises(ForeignAddress):
        signer().verify(address, NOW)


def test_rotation_old_key_still_verifies_new_key_signs() -> None:
    old_address = signer("k1").address(1, NOW)
    rotated = signer("k2")
    assert rotated.verify(old_address, NOW).key_id == "k1"
    new_address = rotated.address(1, NOW)
    assert local_token(new_address).startswith("k2.")
    assert rotated.verify(new_address, NOW).key_id == "k2"
    # Once the old key is dropped, its tokens are refused.
    only_new = VerpSigner({"k2": NEW}, "k2", "bounces.example.org")
    with pytest.raises(ForgedToken, match="unknown key"):
        only_new.verify(old_address, NOW)


def test_same_key_id_with_another_secret_is_forged() -> None:
    address = signer().address(1, NOW)
    other = VerpSigner({"k1": b"someone else's secret key"}, "k1", "bounces.example.org")
    with pytest.raises(ForgedToken, match="signature"):
        other.verify(address, NOW)


def test_flipped_mac_bit_is_forged() -> None:
    s = signer()
    address = s.address(1234, NOW)
    local, domain = address.split("@")
    head, body = local.split(".", 1)
    raw = bytearray(_b32decode(body))
    raw[-1] ^= 1
    with pytest.raises(ForgedToken):
        s.verify(f"{head}.{_b32encode(bytes(raw))}@{domain}", NOW)


def test_altered_send_id_is_forged() -> None:
    s = signer()
    address = s.address(1234, NOW)
    local, domain = address.split("@")
    head, body = local.split(".", 1)
    raw = bytearray(_b32decode(body))
    raw[5:7] = (1235).to_bytes(2, "big")  # the send id bytes follow version + time
    with pytest.raises(ForgedToken):
        s.verify(f"{head}.{_b32encode(bytes(raw))}@{domain}", NOW)


def test_key_id_swapped_to_the_other_key_is_forged() -> None:
    s = signer()
    address = s.address(5, NOW)
    with pytest.raises(ForgedToken):
        s.verify(address.replace("+k1.", "+k2."), NOW)


@pytest.mark.parametrize("cut", [1, 4, 8, 20])
def test_truncated_token_is_refused(cut: int) -> None:
    s = signer()
    local, domain = s.address(77, NOW).split("@")
    with pytest.raises((MalformedToken, ForgedToken)):
        s.verify(f"{local[:-cut]}@{domain}", NOW)


@pytest.mark.parametrize(
    "local",
    ["bounce+", "bounce+k1", "bounce+k1.", "bounce+k1.!!!!", "bounce+k1.aaaaaaaa", "bounce+.abcd"],
)
def test_malformed_tokens(local: str) -> None:
    with pytest.raises(MalformedToken):
        signer().verify(f"{local}@bounces.example.org", NOW)


def test_expired_and_future_tokens() -> None:
    s = signer(max_age=dt.timedelta(days=60))
    address = s.address(1, NOW)
    assert s.verify(address, NOW + dt.timedelta(days=59)).send_id == 1
    with pytest.raises(ExpiredToken, match="too old"):
        s.verify(address, NOW + dt.timedelta(days=61))
    # A small clock skew is allowed, more is not.
    assert s.verify(address, NOW - dt.timedelta(minutes=2)).send_id == 1
    with pytest.raises(ExpiredToken, match="future"):
        s.verify(address, NOW - dt.timedelta(hours=1))


def test_lowercased_and_uppercased_addresses_still_verify() -> None:
    s = signer()
    address = s.address(31337, NOW)
    assert s.verify(address.lower(), NOW).send_id == 31337
    assert s.verify(address.upper(), NOW).send_id == 31337
    assert s.verify(f"<{address}>", NOW).send_id == 31337


def test_wrong_domain_is_foreign_not_forged() -> None:
    s = signer()
    address = s.address(1, NOW).replace("bounces.example.org", "example.net")
    assert not s.owns(address)
    with pytest.raises(ForeignAddress):
        s.verify(address, NOW)
    with pytest.raises(ForeignAddress):
        s.verify("someone@bounces.example.org", NOW)


def test_naive_now_is_utc() -> None:
    s = signer()
    address = s.address(3, NOW.replace(tzinfo=None))
    assert s.verify(address, NOW).issued_at == NOW


@pytest.mark.parametrize(
    ("keys", "active", "domain"),
    [
        ({"k1": OLD}, "k2", "d.example"),
        ({"k.1": OLD}, "k.1", "d.example"),
        ({"k1": b"short"}, "k1", "d.example"),
        ({"k1": OLD, "K1": NEW}, "k1", "d.example"),
        ({"k1": OLD}, "k1", ""),
    ],
)
def test_bad_configuration_is_refused(keys: dict[str, bytes], active: str, domain: str) -> None:
    with pytest.raises(ValueError):
        VerpSigner(keys, active, domain)


def test_send_id_out_of_range() -> None:
    with pytest.raises(ValueError):
        signer().address(-1, NOW)
    with pytest.raises(ValueError):
        signer().address(2**64, NOW)


@given(
    send_id=st.integers(min_value=0, max_value=2**64 - 1),
    issued=st.datetimes(
        min_value=dt.datetime(1970, 1, 1),
        max_value=dt.datetime(2105, 12, 31),
        timezones=st.just(dt.UTC),
    ),
    active=st.sampled_from(["k1", "k2"]),
    lower=st.booleans(),
)
def test_property_round_trip(send_id: int, issued: dt.datetime, active: str, lower: bool) -> None:
    s = signer(active)
    address = s.address(send_id, issued)
    assert len(address.split("@")[0]) <= 64
    if lower:
        address = address.lower()
    token = s.verify(address, issued)
    assert token.send_id == send_id
    assert token.key_id == active
    assert token.issued_at == issued.replace(microsecond=0)


@given(
    send_id=st.integers(min_value=0, max_value=2**40),
    pos=st.integers(min_value=0),
    ch=st.sampled_from("abcdefghijklmnopqrstuvwxyz234567"),
)
def test_property_any_changed_character_is_refused(send_id: int, pos: int, ch: str) -> None:
    s = signer()
    local, domain = s.address(send_id, NOW).split("@")
    head, body = local.split(".", 1)
    i = pos % len(body)
    changed = body[:i] + ch + body[i + 1 :]
    if changed == body:
        return
    with pytest.raises(VerpError):
        s.verify(f"{head}.{changed}@{domain}", NOW)


def test_envid_agreement() -> None:
    token = signer().verify(signer().address(42, NOW), NOW)
    assert envid_agrees(token, "bb.42.abcdefghijklmnop")
    assert not envid_agrees(token, "bb.43.abcdefghijklmnop")
    assert envid_agrees(token, "")  # no ENVID: nothing to disagree with
    assert envid_agrees(token, "5gENiF_01OCe5ak-neko22")  # another system's ENVID
    assert envid_send_id("BB.42.ABCDEFGHIJKLMNOP") == 42
    assert envid_send_id("bb.x.abc") is None


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("id.123@lists.example.org", 123),
        ("ID.123@lists.example.org", 123),
        ("<bounce+id.9@lists.example.org>", 9),
        ("id.12a@lists.example.org", None),
        ("kid.12@lists.example.org", None),
        ("someone@example.org", None),
        ("id.@example.org", None),
        ("id.\u0661\u0662@example.org", None),  # Arabic-Indic digits are not ids
    ],
)
def test_civicrm_send_id(address: str, expected: int | None) -> None:
    assert civicrm_send_id(address) == expected


def test_configuration_that_could_exceed_64_characters_is_refused() -> None:
    with pytest.raises(ValueError, match="64"):
        VerpSigner({"k" * 32: OLD}, "k" * 32, "d.example")
    VerpSigner({"k" * 16: OLD}, "k" * 16, "d.example")


@given(local=st.text(max_size=80), domain=st.sampled_from(["bounces.example.org", "x.example"]))
def test_property_any_input_gives_a_token_or_a_verp_error(local: str, domain: str) -> None:
    s = signer()
    for address in (f"{local}@{domain}", f"bounce+{local}@{domain}", f"bounce+k1.{local}@{domain}"):
        with contextlib.suppress(VerpError):
            s.verify(address, NOW)
    send_id = civicrm_send_id(f"{local}@{domain}")
    assert send_id is None or int(local.rpartition(".")[2]) == send_id
