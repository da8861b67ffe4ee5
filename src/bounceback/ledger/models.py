"""The ledger's tables (SQLAlchemy 2). Alembic migrations in ``migrations/`` create them.

Times are stored as naive UTC (``utcnow()``) so SQLite and PostgreSQL agree.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

EMAIL = 320


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def naive_utc(value: dt.datetime | None) -> dt.datetime:
    """A time as stored (naive UTC); None is now."""
    if value is None:
        return utcnow()
    if value.tzinfo is not None:
        return value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


def iso(value: dt.datetime | dt.date | None) -> str | None:
    """A stored time as text (naive UTC, as stored); None stays None."""
    return None if value is None else value.isoformat()


class Base(DeclarativeBase):
    pass


class Contact(Base):
    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), default="contact")  # contact | company | lead
    name: Mapped[str] = mapped_column(String(255), default="")
    bulk_mail: Mapped[str] = mapped_column(String(16), default="allowed")  # | do_not_allow
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    disabled_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class EmailAddress(Base):
    __tablename__ = "email_addresses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    # The current address; NULL once a hard bounce moved it to bounced_address.
    email: Mapped[str | None] = mapped_column(String(EMAIL), unique=True, nullable=True)
    bounced_address: Mapped[str | None] = mapped_column(String(EMAIL), index=True, nullable=True)
    bounced: Mapped[bool] = mapped_column(Boolean, default=False)
    on_hold: Mapped[bool] = mapped_column(Boolean, default=False)
    hold_since: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    hold_type: Mapped[str | None] = mapped_column(String(32), nullable=True)
    # Bounces counted per bounce type, e.g. {"Quota": 2}.
    bounce_counts: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    consecutive_bounces: Mapped[int] = mapped_column(Integer, default=0)
    last_bounce_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    last_counted_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    # A person reset this address (unhold, new address): earlier bounces no longer count.
    reset_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Campaign(Base):
    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    status: Mapped[str] = mapped_column(String(32), default="active")
    hard_bounces: Mapped[int] = mapped_column(Integer, default=0)
    soft_bounces: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Send(Base):
    """The send log: one row per message sent to one address."""

    __tablename__ = "sends"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="SET NULL"), nullable=True
    )
    address_id: Mapped[int | None] = mapped_column(
        ForeignKey("email_addresses.id", ondelete="SET NULL"), index=True, nullable=True
    )
    campaign_id: Mapped[int | None] = mapped_column(
        ForeignKey("campaigns.id", ondelete="SET NULL"), index=True, nullable=True
    )
    email: Mapped[str] = mapped_column(String(EMAIL), index=True)
    message_id: Mapped[str | None] = mapped_column(String(998), index=True, nullable=True)
    bounceback_id: Mapped[str | None] = mapped_column(String(128), unique=True, nullable=True)
    return_path: Mapped[str | None] = mapped_column(String(EMAIL), nullable=True)
    sent_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Message(Base):
    """An inbound message or event, once: the idempotency key makes re-processing a no-op."""

    __tablename__ = "messages"
    # The messages that still hold their bytes, in time order (retention clears them).
    __table_args__ = (
        Index(
            "ix_messages_raw_kept",
            "received_at",
            postgresql_where=text("raw IS NOT NULL"),
            sqlite_where=text("raw IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    source: Mapped[str] = mapped_column(String(255), default="")
    ref: Mapped[str] = mapped_column(Text, default="")
    received_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    size: Mapped[int] = mapped_column(Integer, default=0)
    raw: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)  # zlib
    kind: Mapped[str] = mapped_column(String(16), default="")
    detector: Mapped[str] = mapped_column(String(64), default="")
    # matched | unmatched | ignored | quarantined
    outcome: Mapped[str] = mapped_column(String(16), index=True)
    error: Mapped[str] = mapped_column(Text, default="")


class BounceEvent(Base):
    """Every classified record, kept for history, statistics, replay and undo."""

    __tablename__ = "bounce_events"
    __table_args__ = (
        UniqueConstraint("message_id", "position"),
        # The API's campaign filter, newest first.
        Index("ix_bounce_events_campaign_occurred", "campaign_id", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[int | None] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), nullable=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    address_id: Mapped[int | None] = mapped_column(
        ForeignKey("email_addresses.id", ondelete="SET NULL"), index=True, nullable=True
    )
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="SET NULL"), index=True, nullable=True
    )
    send_id: Mapped[int | None] = mapped_column(
        ForeignKey("sends.id", ondelete="SET NULL"), nullable=True
    )
    campaign_id: Mapped[int | None] = mapped_column(
        ForeignKey("campaigns.id", ondelete="SET NULL"), index=True, nullable=True
    )
    match_method: Mapped[str] = mapped_column(String(16), default="none")
    # False: mail that proved no send of ours while signed VERP was configured; kept
    # as evidence, never acted on (policy.Facts.verified).
    verified: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    email: Mapped[str] = mapped_column(String(EMAIL), default="")  # the address at the time
    domain: Mapped[str] = mapped_column(String(255), default="", index=True)
    source: Mapped[str] = mapped_column(String(255), default="")
    kind: Mapped[str] = mapped_column(String(16))
    detector: Mapped[str] = mapped_column(String(64), default="")
    reason: Mapped[str] = mapped_column(String(32), default="")
    hardbounce: Mapped[bool] = mapped_column(Boolean, default=False)
    permanent: Mapped[bool] = mapped_column(Boolean, default=False)
    bounce_type: Mapped[str] = mapped_column(String(32), default="")
    rule: Mapped[str] = mapped_column(String(128), default="")
    status: Mapped[str] = mapped_column(String(16), default="")
    reply_code: Mapped[str] = mapped_column(String(8), default="")
    action: Mapped[str] = mapped_column(String(16), default="")
    diagnostic: Mapped[str] = mapped_column(Text, default="")
    remote_mta: Mapped[str] = mapped_column(String(255), default="")
    reporting_mta: Mapped[str] = mapped_column(String(255), default="")
    smtp_command: Mapped[str] = mapped_column(String(16), default="")
    original_message_id: Mapped[str] = mapped_column(String(998), default="")
    bounceback_id: Mapped[str] = mapped_column(String(128), default="")
    envelope_id: Mapped[str] = mapped_column(String(128), default="")
    # The rest of the record and of the returned message, as found.
    status_found: Mapped[str] = mapped_column(String(16), default="")
    diagnostic_type: Mapped[str] = mapped_column(String(32), default="")
    original_recipient: Mapped[str] = mapped_column(String(EMAIL), default="")
    last_attempt: Mapped[str] = mapped_column(String(64), default="")
    feedback_type: Mapped[str] = mapped_column(String(32), default="")
    reason_hint: Mapped[str] = mapped_column(String(32), default="")
    original_subject: Mapped[str] = mapped_column(Text, default="")
    original_from: Mapped[str] = mapped_column(Text, default="")
    original_to: Mapped[str] = mapped_column(Text, default="")
    original_return_path: Mapped[str] = mapped_column(String(EMAIL), default="")
    occurred_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    # What this event did, for undo: counted, held, suppressed, removed, bulk_off, disabled.
    effects: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    campaign_counted: Mapped[str] = mapped_column(String(4), default="")  # "" | hard | soft
    undone_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    undo_id: Mapped[int | None] = mapped_column(
        ForeignKey("undo_runs.id", ondelete="SET NULL"), nullable=True
    )


class Suppression(Base):
    __tablename__ = "suppressions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(EMAIL), unique=True)
    reason: Mapped[str] = mapped_column(String(255), default="")
    source: Mapped[str] = mapped_column(String(32), default="manual")  # bounce | complaint | manual
    since: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    bounce_event_id: Mapped[int | None] = mapped_column(
        ForeignKey("bounce_events.id", ondelete="SET NULL"), index=True, nullable=True
    )


class BounceType(Base):
    __tablename__ = "bounce_types"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    threshold: Mapped[int | None] = mapped_column(Integer, nullable=True)  # NULL: never held
    description: Mapped[str] = mapped_column(String(255), default="")


class Setting(Base):
    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text, default="")


class UndoRun(Base):
    """A recorded undo (or applied replay): which window, which filters, what it reversed."""

    __tablename__ = "undo_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), default="undo")  # undo | replay
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    since: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    until: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    reason_filter: Mapped[str] = mapped_column(String(32), default="")
    domain_filter: Mapped[str] = mapped_column(String(255), default="")
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Activity(Base):
    """A human reply filed on a contact named in it; the raw bytes stay on its message row."""

    __tablename__ = "activities"
    # One activity per message and contact: processing the message again adds nothing.
    __table_args__ = (UniqueConstraint("message_id", "contact_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"))
    message_key: Mapped[str] = mapped_column(String(200), default="")  # messages.idempotency_key
    header_message_id: Mapped[str] = mapped_column(String(998), default="")
    subject: Mapped[str] = mapped_column(Text, default="")
    sender: Mapped[str] = mapped_column(String(EMAIL), default="")
    sender_name: Mapped[str] = mapped_column(String(255), default="")
    date: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    body: Mapped[str] = mapped_column(Text, default="")  # decoded text, capped
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class ApiKey(Base):
    """An API key: only its SHA-256 is kept; the key itself is shown once, at creation."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    prefix: Mapped[str] = mapped_column(String(16), default="")  # shown in lists, not secret
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scope: Mapped[str] = mapped_column(String(16), default="read")  # read | admin
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)


class User(Base):
    """A dashboard user (password hashed with scrypt and a salt)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(255), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default="admin")  # read | admin
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)


class RevokedSession(Base):
    """A dashboard session ended by logging out. The cookie is signed, not stored, so a
    copy of it would stay valid until it expires; this row refuses it until then."""

    __tablename__ = "revoked_sessions"

    sid: Mapped[str] = mapped_column(String(64), primary_key=True)
    username: Mapped[str] = mapped_column(String(255))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)


class WebhookToken(Base):
    """A signed webhook token already accepted. Mailgun signs a token and a timestamp,
    not the body: this row refuses the token with any other body until the timestamp
    would be refused anyway."""

    __tablename__ = "webhook_tokens"

    provider: Mapped[str] = mapped_column(String(16), primary_key=True)
    token: Mapped[str] = mapped_column(String(255), primary_key=True)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)


class UserRule(Base):
    """A user rule kept in the database (edited over the API or the dashboard).

    ``form`` is "section" (section + case-sensitive text + hard/soft/both) or "pattern"
    (``text==>Hard|Soft`` matched against the diagnostic). ``position`` orders them.
    """

    __tablename__ = "user_rules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0, index=True)
    form: Mapped[str] = mapped_column(String(16), default="section")  # section | pattern
    section: Mapped[str] = mapped_column(String(16), default="body")  # body|subject|from|to
    text: Mapped[str] = mapped_column(Text)
    type: Mapped[str] = mapped_column(String(8), default="hard")  # hard | soft | both
    bounce_type: Mapped[str] = mapped_column(String(32), default="")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class DailyStat(Base):
    """Rollup of bounce events per day, campaign (0: none), recipient domain, reason and
    category (hard | soft | complaint | delay | other), kept up to date as events are
    stored so the overview and the stats never scan the events table."""

    __tablename__ = "daily_stats"
    # Campaign pages read one campaign over all days.
    __table_args__ = (Index("ix_daily_stats_campaign_day", "campaign_id", "day"),)

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(Integer, primary_key=True, default=0)
    domain: Mapped[str] = mapped_column(String(255), primary_key=True, default="")
    reason: Mapped[str] = mapped_column(String(32), primary_key=True, default="")
    category: Mapped[str] = mapped_column(String(16), primary_key=True, default="")
    count: Mapped[int] = mapped_column(Integer, default=0)


class SendStat(Base):
    """Rollup of sends per day, campaign (0: none) and recipient domain (for rates)."""

    __tablename__ = "send_stats"
    __table_args__ = (Index("ix_send_stats_campaign_day", "campaign_id", "day"),)

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(Integer, primary_key=True, default=0)
    domain: Mapped[str] = mapped_column(String(255), primary_key=True, default="")
    count: Mapped[int] = mapped_column(Integer, default=0)


class Erasure(Base):
    """That a person was erased: when, by whom (the operator) and how many rows went.
    Never whose: the address survives only as a keyed hash in ``suppressions``."""

    __tablename__ = "erasures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    erased_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    operator: Mapped[str] = mapped_column(String(255), default="")
    # Rows removed per table, e.g. {"bounce_events": 4, "messages": 2, ...}.
    counts: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)


class PrunedAddress(Base):
    """An address whose bounce events retention pruned: its state stays as it was and can
    no longer be rebuilt from history (undo and replay leave it and say so)."""

    __tablename__ = "pruned_addresses"

    address_id: Mapped[int] = mapped_column(
        ForeignKey("email_addresses.id", ondelete="CASCADE"), primary_key=True
    )
    events: Mapped[int] = mapped_column(Integer, default=0)
    pruned_until: Mapped[dt.datetime] = mapped_column(DateTime)  # its newest pruned event


class PrunedCampaign(Base):
    """The part of a campaign's counts that pruned events made (counts minus what its
    live events give), added back by every recount."""

    __tablename__ = "pruned_campaigns"

    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True
    )
    hard: Mapped[int] = mapped_column(Integer, default=0)
    soft: Mapped[int] = mapped_column(Integer, default=0)
    events: Mapped[int] = mapped_column(Integer, default=0)
    pruned_until: Mapped[dt.datetime] = mapped_column(DateTime)
