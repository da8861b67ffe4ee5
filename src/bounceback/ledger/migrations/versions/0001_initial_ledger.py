"""The initial ledger: contacts, addresses, campaigns, sends, messages, bounce events,
suppressions, bounce types (seeded with the DESIGN.md thresholds), settings, undo runs.

Revision ID: 0001
Revises: (none)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


_TYPES = [
    ("Invalid", 1, "address not valid (user unknown, has moved)"),
    ("Inactive", 1, "account no longer active (suspended, disabled)"),
    ("Spam", 1, "caught by a content or reputation filter"),
    ("AOL (Complaint)", 1, "recipient complained (feedback report)"),
    ("DNS", 3, "recipient domain does not resolve"),
    ("Host", 3, "cannot deliver to the destination server"),
    ("Relay", 3, "cannot reach the destination server / relay denied"),
    ("Quota", 3, "mailbox or system full, message too large"),
    ("Loop", 3, "mail routing loop"),
    ("Syntax", 3, "error in the SMTP transaction"),
    ("Away", 30, "auto-reply, recipient on vacation"),
    ("Sender", None, "the sender's fault: counted per recipient domain, never held"),
]


def upgrade() -> None:
    op.create_table(
        "bounce_types",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("threshold", sa.Integer(), nullable=True),
        sa.Column("description", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "campaigns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("hard_bounces", sa.Integer(), nullable=False),
        sa.Column("soft_bounces", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "contacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("bulk_mail", sa.String(length=16), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("disabled_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("source", sa.String(length=255), nullable=False),
        sa.Column("ref", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("raw", sa.LargeBinary(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("detector", sa.String(length=64), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("idempotency_key"),
    )
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_messages_outcome"), ["outcome"], unique=False)

    op.create_table(
        "settings",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "undo_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("since", sa.DateTime(), nullable=True),
        sa.Column("until", sa.DateTime(), nullable=True),
        sa.Column("reason_filter", sa.String(length=32), nullable=False),
        sa.Column("domain_filter", sa.String(length=255), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "email_addresses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("bounced_address", sa.String(length=320), nullable=True),
        sa.Column("bounced", sa.Boolean(), nullable=False),
        sa.Column("on_hold", sa.Boolean(), nullable=False),
        sa.Column("hold_since", sa.DateTime(), nullable=True),
        sa.Column("hold_type", sa.String(length=32), nullable=True),
        sa.Column("bounce_counts", sa.JSON(), nullable=False),
        sa.Column("consecutive_bounces", sa.Integer(), nullable=False),
        sa.Column("last_bounce_at", sa.DateTime(), nullable=True),
        sa.Column("last_counted_on", sa.Date(), nullable=True),
        sa.Column("reset_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["contact_id"], ["contacts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("email"),
    )
    with op.batch_alter_table("email_addresses", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_email_addresses_bounced_address"), ["bounced_address"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_email_addresses_contact_id"), ["contact_id"], unique=False
        )

    op.create_table(
        "sends",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("address_id", sa.Integer(), nullable=True),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("message_id", sa.String(length=998), nullable=True),
        sa.Column("bounceback_id", sa.String(length=128), nullable=True),
        sa.Column("return_path", sa.String(length=320), nullable=True),
        sa.Column("sent_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["address_id"], ["email_addresses.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["contact_id"], ["contacts.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("bounceback_id"),
    )
    with op.batch_alter_table("sends", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sends_address_id"), ["address_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_sends_campaign_id"), ["campaign_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_sends_email"), ["email"], unique=False)
        batch_op.create_index(batch_op.f("ix_sends_message_id"), ["message_id"], unique=False)

    op.create_table(
        "bounce_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("address_id", sa.Integer(), nullable=True),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("send_id", sa.Integer(), nullable=True),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("match_method", sa.String(length=16), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("domain", sa.String(length=255), nullable=False),
        sa.Column("source", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("detector", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("hardbounce", sa.Boolean(), nullable=False),
        sa.Column("permanent", sa.Boolean(), nullable=False),
        sa.Column("bounce_type", sa.String(length=32), nullable=False),
        sa.Column("rule", sa.String(length=128), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reply_code", sa.String(length=8), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("diagnostic", sa.Text(), nullable=False),
        sa.Column("remote_mta", sa.String(length=255), nullable=False),
        sa.Column("reporting_mta", sa.String(length=255), nullable=False),
        sa.Column("smtp_command", sa.String(length=16), nullable=False),
        sa.Column("original_message_id", sa.String(length=998), nullable=False),
        sa.Column("bounceback_id", sa.String(length=128), nullable=False),
        sa.Column("envelope_id", sa.String(length=128), nullable=False),
        sa.Column("status_found", sa.String(length=16), nullable=False),
        sa.Column("diagnostic_type", sa.String(length=32), nullable=False),
        sa.Column("original_recipient", sa.String(length=320), nullable=False),
        sa.Column("last_attempt", sa.String(length=64), nullable=False),
        sa.Column("feedback_type", sa.String(length=32), nullable=False),
        sa.Column("reason_hint", sa.String(length=32), nullable=False),
        sa.Column("original_subject", sa.Text(), nullable=False),
        sa.Column("original_from", sa.Text(), nullable=False),
        sa.Column("original_to", sa.Text(), nullable=False),
        sa.Column("original_return_path", sa.String(length=320), nullable=False),
        sa.Column("occurred_at", sa.DateTime(), nullable=False),
        sa.Column("effects", sa.JSON(), nullable=False),
        sa.Column("campaign_counted", sa.String(length=4), nullable=False),
        sa.Column("undone_at", sa.DateTime(), nullable=True),
        sa.Column("undo_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["address_id"], ["email_addresses.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["contact_id"], ["contacts.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["message_id"], ["messages.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["send_id"], ["sends.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["undo_id"], ["undo_runs.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("message_id", "position"),
    )
    with op.batch_alter_table("bounce_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_bounce_events_address_id"), ["address_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_bounce_events_campaign_id"), ["campaign_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_bounce_events_domain"), ["domain"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_bounce_events_occurred_at"), ["occurred_at"], unique=False
        )

    op.create_table(
        "suppressions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("reason", sa.String(length=255), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("since", sa.DateTime(), nullable=False),
        sa.Column("bounce_event_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["bounce_event_id"], ["bounce_events.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("email"),
    )

    types = sa.table(
        "bounce_types",
        sa.column("name", sa.String),
        sa.column("threshold", sa.Integer),
        sa.column("description", sa.String),
    )
    op.bulk_insert(types, [{"name": n, "threshold": t, "description": d} for n, t, d in _TYPES])


def downgrade() -> None:
    op.drop_table("suppressions")
    with op.batch_alter_table("bounce_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bounce_events_occurred_at"))
        batch_op.drop_index(batch_op.f("ix_bounce_events_domain"))
        batch_op.drop_index(batch_op.f("ix_bounce_events_campaign_id"))
        batch_op.drop_index(batch_op.f("ix_bounce_events_address_id"))

    op.drop_table("bounce_events")
    with op.batch_alter_table("sends", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sends_message_id"))
        batch_op.drop_index(batch_op.f("ix_sends_email"))
        batch_op.drop_index(batch_op.f("ix_sends_campaign_id"))
        batch_op.drop_index(batch_op.f("ix_sends_address_id"))

    op.drop_table("sends")
    with op.batch_alter_table("email_addresses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_email_addresses_contact_id"))
        batch_op.drop_index(batch_op.f("ix_email_addresses_bounced_address"))

    op.drop_table("email_addresses")
    op.drop_table("undo_runs")
    op.drop_table("settings")
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_messages_outcome"))

    op.drop_table("messages")
    op.drop_table("contacts")
    op.drop_table("campaigns")
    op.drop_table("bounce_types")
