"""IMAP mailbox source: drain UNSEEN messages of one folder into the ledger.

Messages are read with ``BODY.PEEK[]`` (nothing is marked seen by reading) in batches
of UIDs. Only after ``Ledger.process`` has committed a message is it acted on:
processed → moved to the ``processed`` subfolder (or deleted), ignored/unmatched →
flagged ``\\Seen`` (or moved to ``ignored``), quarantined → moved to ``quarantine``.
Mail that was not read by this poll is never touched, so the folder can be shared.

A dropped connection reconnects and searches again: a message committed but not
yet moved is read again, comes back a duplicate (the idempotency key) and is moved
where its first outcome said. Nothing is lost and nothing applied twice.
"""

from __future__ import annotations

import contextlib
import imaplib
import ssl
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientAbortError, IMAPClientError

from bounceback.model import RawMessage
from bounceback.sources.mailboxes import (
    Disposition,
    MailboxError,
    PollResult,
    first_outcomes,
    resolve,
    token_from_command,
)

if TYPE_CHECKING:
    from bounceback.ledger.activities import Purpose
    from bounceback.ledger.service import Ledger

__all__ = ["ImapConfig", "ImapSource"]

SEEN = b"\\Seen"
DELETED = b"\\Deleted"
# A dropped link surfaces as any of these, depending on where it broke.
DROPPED: tuple[type[BaseException], ...] = (
    IMAPClientAbortError,
    imaplib.IMAP4.abort,
    OSError,  # socket.error, ssl.SSLError, ConnectionResetError, BrokenPipeError
    EOFError,
)


@dataclass(slots=True)
class ImapConfig:
    host: str
    user: str
    password: str = ""
    # A command printing an OAuth2 access token (XOAUTH2), for Microsoft 365 and Gmail.
    token_command: str | list[str] | None = None
    port: int | None = None  # 993 for ssl, 143 otherwise
    security: Literal["ssl", "starttls", "plain"] = "ssl"
    ssl_context: ssl.SSLContext | None = None
    # Levels separated by "/" whatever the server's delimiter: "INBOX/Campaign bounces".
    folder: str = "INBOX"
    processed: Literal["move", "delete"] = "move"
    ignored: Literal["seen", "move"] = "seen"
    processed_folder: str = "processed"  # subfolders of ``folder``
    ignored_folder: str = "ignored"
    quarantine_folder: str = "quarantine"
    batch_size: int = 100
    # bounces: apply bounces; activities: file human replies on contacts; both.
    purpose: Purpose = "bounces"
    timeout: float = 60.0
    max_reconnects: int = 3


class ImapSource:
    """One account and folder. ``poll(ledger)`` drains it; ``wait(t)`` IDLEs for more."""

    def __init__(
        self, config: ImapConfig, connect: Callable[[ImapConfig], IMAPClient] | None = None
    ) -> None:
        self.config = config
        self._connect_fn = connect or open_client
        self._client: IMAPClient | None = None
        self._delimiter = "/"
        self._uidvalidity = 0
        self._folders: set[str] = set()
        # UIDs whose processing failed (not committed) in this poll: not retried
        # until the next poll, so a failing database cannot make a poll spin.
        self._failed: set[int] = set()

    # --- connection -------------------------------------------------------------------
    @property
    def client(self) -> IMAPClient:
        if self._client is None:
            self._client = self._connect_fn(self.config)
            self._delimiter = server_delimiter(self._client)
            self._folders = set()
            selected = self._client.select_folder(self.folder_name(self.config.folder))
            self._uidvalidity = int(selected.get(b"UIDVALIDITY", 0))
        return self._client

    def close(self) -> None:
        client, self._client = self._client, None
        if client is None:
            return
        try:
            client.logout()
        except (*DROPPED, IMAPClientError):
            try:
                client.shutdown()
            except (*DROPPED, IMAPClientError):
                pass

    def _drop(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            try:
                client.shutdown()
            except (*DROPPED, IMAPClientError):
                pass

    def folder_name(self, path: str, sub: str = "") -> str:
        parts = [p for p in path.split("/") if p] + [p for p in sub.split("/") if p]
        return self._delimiter.join(parts)

    # --- polling ----------------------------------------------------------------------
    def poll(self, ledger: Ledger) -> PollResult:
        """Process every UNSEEN message once; act on each after its commit."""
        result = PollResult()
        self._failed = set()
        attempts = 0
        while True:
            try:
                self._drain(ledger, result)
                return result
            except DROPPED as exc:
                self._drop()
                attempts += 1
                result.reconnects += 1
                if attempts > self.config.max_reconnects:
                    raise MailboxError(f"IMAP {self.config.host}: {exc}") from exc
                time.sleep(min(0.2 * attempts, 2.0))

    def _drain(self, ledger: Ledger, result: PollResult) -> None:
        client = self.client
        uids = sorted(set(client.search(["UNSEEN", "UNDELETED"])) - self._failed)
        for start in range(0, len(uids), self.config.batch_size):
            batch = uids[start : start + self.config.batch_size]
            fetched = client.fetch(batch, ["BODY.PEEK[]"])
            pairs = list(self._messages(batch, fetched))
            result.fetched += len(pairs)
            outcomes = list(
                ledger.process(pairs, batch_size=max(len(pairs), 1), purpose=self.config.purpose)
            )
            first = first_outcomes(ledger, outcomes)
            groups: dict[Disposition, list[int]] = {}
            for outcome in outcomes:
                result.summary.add(outcome)
                where = resolve(outcome, first)
                if where is None:
                    self._failed.add(int(outcome.label))
                    result.left += 1
                else:
                    groups.setdefault(where, []).append(int(outcome.label))
            self._apply(groups, result)

    def _messages(
        self, batch: Sequence[int], fetched: dict[int, dict[bytes, Any]]
    ) -> Iterator[tuple[str, RawMessage]]:
        cfg = self.config
        base = f"imap://{cfg.user}@{cfg.host}/{cfg.folder}"
        for uid in batch:
            data = fetched.get(uid, {}).get(b"BODY[]")
            if data is None:  # expunged by someone else meanwhile
                continue
            ref = f"{base};UIDVALIDITY={self._uidvalidity}/;UID={uid}"
            yield str(uid), RawMessage(data=bytes(data), source="imap", ref=ref)

    def _apply(self, groups: dict[Disposition, list[int]], result: PollResult) -> None:
        cfg = self.config
        for where, uids in groups.items():
            if where == "processed" and cfg.processed == "delete":
                self._delete(uids)
                result.deleted += len(uids)
            elif where == "ignored" and cfg.ignored == "seen":
                self.client.add_flags(uids, [SEEN])
                result.flagged += len(uids)
            else:
                sub = {
                    "processed": cfg.processed_folder,
                    "ignored": cfg.ignored_folder,
                    "quarantine": cfg.quarantine_folder,
                }[where]
                self._move(uids, self.folder_name(cfg.folder, sub))
                result.moved += len(uids)

    def _ensure_folder(self, folder: str) -> None:
        if folder in self._folders:
            return
        client = self.client
        if not client.folder_exists(folder):
            try:
                client.create_folder(folder)
            except IMAPClientError:
                if not client.folder_exists(folder):  # another poller made it first
                    raise
            with contextlib.suppress(IMAPClientError):  # a nicety for mail clients
                client.subscribe_folder(folder)
        self._folders.add(folder)

    def _move(self, uids: list[int], folder: str) -> None:
        self._ensure_folder(folder)
        client = self.client
        if client.has_capability("MOVE"):
            client.move(uids, folder)
            return
        client.copy(uids, folder)
        self._delete(uids)

    def _delete(self, uids: list[int]) -> None:
        client = self.client
        # \Seen too: a server without UIDPLUS keeps the message until someone
        # expunges, and a plain EXPUNGE would remove other people's deleted mail.
        client.add_flags(uids, [SEEN, DELETED])
        if client.has_capability("UIDPLUS"):
            client.uid_expunge(uids)

    # --- waiting ----------------------------------------------------------------------
    def wait(self, timeout: float) -> bool:
        """Block until the folder may have new mail (IDLE) or ``timeout`` passes."""
        try:
            client = self.client
            if set(client.search(["UNSEEN", "UNDELETED"])) - self._failed:
                return True
            if not client.has_capability("IDLE"):
                time.sleep(timeout)
                return True
            client.idle()
            try:
                responses = client.idle_check(timeout=timeout)
            finally:
                client.idle_done()
            return any(b"EXISTS" in r or b"RECENT" in r for r in _flat(responses))
        except DROPPED:
            self._drop()
            return True  # the next poll reconnects and looks


def _flat(responses: list[Any]) -> Iterator[bytes]:
    for response in responses:
        if isinstance(response, tuple):
            yield b" ".join(x if isinstance(x, bytes) else str(x).encode() for x in response)


def server_delimiter(client: IMAPClient) -> str:
    """The hierarchy delimiter of the personal namespace (``.`` or ``/`` mostly)."""
    for _flags, delimiter, _name in client.list_folders("", "INBOX"):
        if delimiter:
            return delimiter.decode() if isinstance(delimiter, bytes) else str(delimiter)
    return "/"


def open_client(config: ImapConfig) -> IMAPClient:
    """Connect, secure and log in as configured."""
    use_ssl = config.security == "ssl"
    port = config.port or (993 if use_ssl else 143)
    context = config.ssl_context or ssl.create_default_context()
    try:
        client = IMAPClient(
            config.host, port=port, ssl=use_ssl, ssl_context=context, timeout=config.timeout
        )
    except OSError as exc:
        raise MailboxError(f"IMAP {config.host}:{port}: {exc}") from exc
    try:
        if config.security == "starttls":
            client.starttls(context)
        if config.token_command:
            client.oauth2_login(config.user, token_from_command(config.token_command))
        else:
            client.login(config.user, config.password)
    except IMAPClientError as exc:
        client.shutdown()
        raise MailboxError(f"IMAP {config.host}: login failed: {exc}") from exc
    return client
