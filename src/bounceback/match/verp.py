"""Signed VERP return paths: ``bounce+<token>@<domain>``.

A bounce comes back to the address we put in the envelope sender, so that address
can say which send it belongs to. Unsigned VERP (``bounce+42@...``) lets anyone who
can guess a send id mail a fake bounce and silence a real member; the token here is
signed, dated and bound to a key id so keys can rotate.

Token (the part after ``<prefix><separator>``)::

    <key id>.<base32(version | issued | send id | mac)>

- key id: the config name of the signing key, ``[a-z0-9_-]``, compared without
  regard to case;
- version: one byte, 1;
- issued: seconds since the Unix epoch, 4 bytes big-endian (good until 2106);
- send id: 1 to 8 bytes big-endian, no leading zero byte (one canonical form);
- mac: HMAC-SHA256 over a label, the key id and the bytes before it, cut to 10
  bytes (80 bits: a forger gets one guess per mail sent, so this is plenty).

Base32 (RFC 4648, no padding, lower case) uses only letters and 2-7, so a mail
server that lowercases or uppercases local parts does not break the token.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass

VERSION = 1
MAC_BYTES = 10
_HEAD = 1 + 4  # version + issued
_LABEL = b"bounceback-verp\x00"
_KEY_ID = re.compile(r"[a-z0-9_-]{1,32}", re.IGNORECASE)
_MAX_SEND_ID = 2**64 - 1
_MAX_LOCAL = 64  # RFC 5321 4.5.3.1.1
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
# The bounceback id (X-Bounceback-ID and our RFC 3461 ENVID): bb.<send id>.<suffix>
_BOUNCEBACK_ID = re.compile(r"bb\.([0-9]{1,20})\.[a-z2-7]+", re.IGNORECASE)
_CIVICRM = re.compile(r"(?:[a-z0-9_-]+[+.-])?id\.([0-9]{1,19})", re.IGNORECASE)


class VerpError(ValueError):
    """A return path that cannot be trusted; the text says why."""


class ForgedToken(VerpError):
    """The MAC does not verify, or the key id is unknown."""


class ExpiredToken(VerpError):
    """Older than the signer's max_age, or dated in the future."""


class MalformedToken(VerpError):
    """Our prefix and domain, but not a token we could have made."""


class ForeignAddress(VerpError):
    """Not one of our return paths at all (other domain or prefix)."""


@dataclass(frozen=True, slots=True)
class VerpToken:
    send_id: int
    issued_at: dt.datetime
    key_id: str


def _utc(value: dt.datetime | None) -> dt.datetime:
    if value is None:
        return dt.datetime.now(dt.UTC)
    # A naive time is taken as UTC, the only zone the ledger stores.
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _b32encode(data: bytes) -> str:
    return base64.b32encode(data).decode("ascii").rstrip("=").lower()


def _b32len(size: int) -> int:
    return (size * 8 + 4) // 5


def _b32decode(text: str) -> bytes:
    padded = text.upper() + "=" * (-len(text) % 8)
    return base64.b32decode(padded)


class VerpSigner:
    """Builds and verifies signed return paths for one return domain.

    ``keys`` maps key ids to secrets; ``active_key`` signs new addresses, every key
    verifies, so an old key stays listed until its last tokens have expired.
    """

    def __init__(
        self,
        keys: Mapping[str, bytes],
        active_key: str,
        domain: str,
        prefix: str = "bounce",
        separator: str = "+",
        max_age: dt.timedelta = dt.timedelta(days=60),
        max_skew: dt.timedelta = dt.timedelta(minutes=5),
    ) -> None:
        self._keys: dict[str, bytes] = {}
        for key_id, secret in keys.items():
            if not _KEY_ID.fullmatch(key_id):
                raise ValueError(f"VERP key id {key_id!r}: use 1-32 of a-z, 0-9, '_' and '-'")
            if key_id.lower() in self._keys:
                raise ValueError(f"VERP key id {key_id!r} is listed twice (ids ignore case)")
            if len(secret) < 16:
                raise ValueError(f"VERP key {key_id!r} is shorter than 16 bytes")
            self._keys[key_id.lower()] = bytes(secret)
        if active_key.lower() not in self._keys:
            raise ValueError(f"VERP active key {active_key!r} is not among the keys")
        if not domain or "@" in domain:
            raise ValueError(f"VERP domain {domain!r} is not a domain")
        if not prefix or re.search(r"[@\s<>]", prefix + separator):
            raise ValueError(f"VERP prefix {prefix!r} / separator {separator!r} is not usable")
        self.active_key = active_key.lower()
        self.domain = domain.strip().lower().rstrip(".")
        self.prefix = prefix
        self.separator = separator
        self.max_age = max_age
        self.max_skew = max_skew
        self._head = f"{prefix}{separator}".lower()
        longest = len(self._head) + len(self.active_key) + 1 + _b32len(_HEAD + 8 + MAC_BYTES)
        if longest > _MAX_LOCAL:
            raise ValueError(f"VERP addresses could reach {longest} characters (limit 64)")

    def _mac(self, key_id: str, data: bytes) -> bytes:
        msg = _LABEL + key_id.encode("ascii") + b"\x00" + data
        return hmac.new(self._keys[key_id], msg, hashlib.sha256).digest()[:MAC_BYTES]

    def address(self, send_id: int, now: dt.datetime | None = None) -> str:
        """The return path for one send, signed with the active key."""
        if not 0 <= send_id <= _MAX_SEND_ID:
            raise ValueError(f"send id {send_id} is out of range")
        issued = int((_utc(now) - _EPOCH).total_seconds())
        if not 0 <= issued < 2**32:
            raise ValueError("the time is outside what a token can carry (1970-2106)")
        sid = send_id.to_bytes(max(1, (send_id.bit_length() + 7) // 8), "big")
        data = bytes([VERSION]) + issued.to_bytes(4, "big") + sid
        body = _b32encode(data + self._mac(self.active_key, data))
        local = f"{self.prefix}{self.separator}{self.active_key}.{body}"
        if len(local) > _MAX_LOCAL:
            raise ValueError(f"VERP local part {local!r} is longer than 64 characters")
        return f"{local}@{self.domain}"

    def owns(self, address: str) -> bool:
        """True when the address has our domain and prefix, signed or not."""
        local, _, domain = address.strip().strip("<>").rpartition("@")
        return domain.lower().rstrip(".") == self.domain and local.lower().startswith(self._head)

    def verify(self, address: str, now: dt.datetime | None = None) -> VerpToken:
        """The token an address carries; raises a VerpError subclass when untrusted."""
        if not self.owns(address):
            raise ForeignAddress(f"{address!r} is not a {self._head}…@{self.domain} address")
        local = address.strip().strip("<>").rpartition("@")[0]
        token = local[len(self._head) :].lower()
        key_id, dot, body = token.partition(".")
        if not dot or not _KEY_ID.fullmatch(key_id):
            raise MalformedToken(f"{address!r}: no key id in the token")
        try:
            raw = _b32decode(body)
        except (binascii.Error, ValueError):
            raise MalformedToken(f"{address!r}: the token is not base32") from None
        if _b32encode(raw) != body:  # trailing bits set: not our encoding
            raise MalformedToken(f"{address!r}: the token is not in canonical form")
        if len(raw) < _HEAD + 1 + MAC_BYTES or len(raw) > _HEAD + 8 + MAC_BYTES:
            raise MalformedToken(f"{address!r}: the token has the wrong length")
        if raw[0] != VERSION:
            raise MalformedToken(f"{address!r}: unknown token version {raw[0]}")
        data, mac = raw[:-MAC_BYTES], raw[-MAC_BYTES:]
        if key_id not in self._keys:
            raise ForgedToken(f"{address!r}: unknown key id {key_id!r}")
        if not hmac.compare_digest(mac, self._mac(key_id, data)):
            raise ForgedToken(f"{address!r}: the signature does not verify")
        sid = data[_HEAD:]
        if len(sid) > 1 and sid[0] == 0:
            raise MalformedToken(f"{address!r}: the send id is not in canonical form")
        issued_at = _EPOCH + dt.timedelta(seconds=int.from_bytes(data[1:_HEAD], "big"))
        current = _utc(now)
        if issued_at > current + self.max_skew:
            raise ExpiredToken(f"{address!r}: issued in the future ({issued_at.isoformat()})")
        if current - issued_at > self.max_age:
            raise ExpiredToken(f"{address!r}: issued {issued_at.isoformat()}, too old")
        return VerpToken(int.from_bytes(sid, "big"), issued_at, key_id)


def envid_send_id(envid: str) -> int | None:
    """The send id in an RFC 3461 ENVID of our format (the bounceback id), else None.

    ``stamp`` uses the bounceback id, ``bb.<send id>.<suffix>``, as the ENVID; other
    senders' ENVIDs (queue ids and the like) give None.
    """
    m = _BOUNCEBACK_ID.fullmatch(envid.strip())
    return int(m.group(1)) if m else None


def envid_agrees(token: VerpToken, envid: str) -> bool:
    """False only when the ENVID is ours and names another send than the token.

    An empty or foreign ENVID says nothing about the send, so it agrees.
    """
    send_id = envid_send_id(envid)
    return send_id is None or send_id == token.send_id


def civicrm_send_id(address: str) -> int | None:
    """The send id of a plain ``id.<n>@domain`` return path (CiviCRM style), else None.

    UNSIGNED: anyone who can guess ``n`` can forge such a bounce, so a match made
    this way is weaker than a signed token; callers may refuse it.
    """
    local = address.strip().strip("<>").rpartition("@")[0]
    m = _CIVICRM.fullmatch(local)
    return int(m.group(1)) if m else None


def trusted_unsigned_send_id(address: str, unsigned_domain: str) -> int | None:
    """The send id of an unsigned ``id.<n>`` address on the one domain a site opted in to
    trust them on (``[verp] accept_unsigned``); None elsewhere, or when none opted in."""
    domain = address.strip().strip("<>").rpartition("@")[2].lower().rstrip(".")
    if not unsigned_domain or domain != unsigned_domain:
        return None
    return civicrm_send_id(address)
