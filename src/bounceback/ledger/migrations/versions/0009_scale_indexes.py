"""Indexes the ledger needs at 100 million events (bench/scale_100m.py).

``bounce_events.contact_id``: a contact's timeline reads its events by contact (or by
its addresses); without it PostgreSQL walked the whole ``occurred_at`` index backwards
(3.8 s for one contact page at a million events). Deleting a contact also sets its
events' ``contact_id`` to NULL through this column.
``suppressions.bounce_event_id``: every deleted event (pruning a month, an erasure)
makes the foreign key set the suppressions that name it to NULL, one search per event:
without the index each search read the whole suppression list.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_bounce_events_contact_id", "bounce_events", ["contact_id"])
    op.create_index("ix_suppressions_bounce_event_id", "suppressions", ["bounce_event_id"])


def downgrade() -> None:
    op.drop_index("ix_suppressions_bounce_event_id", table_name="suppressions")
    op.drop_index("ix_bounce_events_contact_id", table_name="bounce_events")
