"""IMAP mailbox source: drain UNSEEN messages of one folder into the ledger.

Messages are read with ``BODY.PEEK[]`` (nothing is marked seen by reading) in batches
of UIDs. Only after the ledger's ``process`` has committed a message is it acted on:
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
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientAbortError, IMAPClientError

from bounceback.ledger.sink import idempotency_key
from bounceback.model import Purpose, RawMessage
from bounceback.sources.mailboxes import (
    Disposition,
    MailboxError,
    PollResult,
    Stop,
    claimed,
    first_outcomes,
    handling,
    resolve,
    sleep,
    stopping,
    token_from_command,
)
from bounceback.sources.options import NOT_A_KEY

if TYPE_CHECKING:
    from bounceback.ledger.sink import Sink

__all__ = ["ImapConfig", "ImapSource"]

IDLE_SLICE = 0.5  # seconds: how long a stop request may wait for an IDLE to notice
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
    ssl_context: ssl.SSLContext | None = field(default=None, metadata=NOT_A_KEY)
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
        # UIDs whose processing failed (not committed) or that another poller holds,
        # in this poll: not retried until the next poll, so neither a failing database
        # nor a busy neighbour can make a poll spin.
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
    def poll(self, ledger: Sink, stop: Stop | None = None) -> PollResult:
        """Process every UNSEEN message once; act on each after its commit.

        ``stop`` is checked between batches: once set, the batch in hand is committed
        and acted on, and the rest stay unseen for the next run.
        """
        result = PollResult()
        self._failed = set()
        attempts = 0
        while True:
            try:
                self._drain(ledger, result, stop)
                return result
            except DROPPED as exc:
                self._drop()
                attempts += 1
                result.reconnects += 1
                if attempts > self.config.max_reconnects:
                    raise MailboxError(f"IMAP {self.config.host}: {exc}") from exc
                time.sleep(min(0.2 * attempts, 2.0))

    def _drain(self, ledger: Sink, result: PollResult, stop: Stop | None) -> None:
        client = self.client
        uids = sorted(set(client.search(["UNSEEN", "UNDELETED"])) - self._failed)
        for start in range(0, len(uids), self.config.batch_size):
            if stopping(stop, result):
                return
            batch = uids[start : start + self.config.batch_size]
            fetched = client.fetch(batch, ["BODY.PEEK[]"])
            pairs = list(self._messages(batch, fetched))
            result.fetched += len(pairs)
            keyed = {label: idempotency_key(raw) for label, raw in pairs}
            # Another poller on the same folder may hold some: leave those to it.
            with claimed(ledger, keyed.values()) as mine:
                ours = [(label, raw) for label, raw in pairs if keyed[label] in mine]
                result.busy += len(pairs) - len(ours)
                # Not looked at again (nor waking ``wait``) until the next poll.
                self._failed.update(int(label) for label, _ in pairs if keyed[label] not in mine)
                if ours:
                    self._commit_and_act(ledger, ours, result)

    def _commit_and_act(
        self, ledger: Sink, pairs: list[tuple[str, RawMessage]], result: PollResult
    ) -> None:
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
            action, sub = handling(where, cfg)
            if action == "delete":
                self._delete(uids)
                result.deleted += len(uids)
            elif action == "seen":
                self.client.add_flags(uids, [SEEN])
                result.flagged += len(uids)
            else:
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
            self._gone_tolerant(client.move, uids, folder)
            return
        uids = self._gone_tolerant(client.copy, uids, folder)
        self._delete(uids)

    def _delete(self, uids: list[int]) -> None:
        client = self.client
        # \Seen too: a server without UIDPLUS keeps the message until someone
        # expunges, and a plain EXPUNGE would remove other people's deleted mail.
        uids = self._gone_tolerant(client.add_flags, uids, [SEEN, DELETED])
        if uids and client.has_capability("UIDPLUS"):
            client.uid_expunge(uids)

    def _gone_tolerant(self, action: Callable[..., Any], uids: list[int], arg: Any) -> list[int]:
        """Run ``action(uids, arg)``; messages another poller already moved are skipped.

        Two pollers on one folder both read a message; the ledger stores it once and
        both act on it. The second MOVE/COPY finds it expunged ("NO [EXPUNGEISSUED]"),
        which is that message done, not an error: act on the ones still here.
        """
        try:
            action(uids, arg)
            return uids
        except IMAPClientError as exc:
            if "EXPUNGEISSUED" not in str(exc).upper():
                raise
        client = self.client
        client.noop()  # learn of the expunges
        present = sorted(client.fetch(uids, ["FLAGS"])) if uids else []
        if present:
            action(present, arg)
        return present

    # --- waiting ----------------------------------------------------------------------
    def wait(self, timeout: float, stop: Stop | None = None) -> bool:
        """Block until the folder may have new mail (IDLE), ``timeout`` passes or ``stop``.

        Without IDLE this sleeps. With it, the IDLE is checked in short slices so a
        stop event ends it within about half a second.
        """
        try:
            client = self.client
            if set(client.search(["UNSEEN", "UNDELETED"])) - self._failed:
                return True
            if not client.has_capability("IDLE"):
                return sleep(timeout, stop)
            # RFC 2177: re-issue IDLE at least every 29 minutes.
            deadline = time.monotonic() + min(timeout, 29 * 60)
            client.idle()
            try:
                while True:
                    left = deadline - time.monotonic()
                    if left <= 0 or (stop is not None and stop.is_set()):
                        return False
                    responses = client.idle_check(timeout=min(left, IDLE_SLICE))
                    if any(b"EXISTS" in r or b"RECENT" in r for r in _flat(responses)):
                        return True
            finally:
                client.idle_done()
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
