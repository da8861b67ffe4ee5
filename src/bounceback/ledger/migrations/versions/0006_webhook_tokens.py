"""Webhook tokens already used (Mailgun's): each is accepted once, across restarts.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "webhook_tokens",
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("token", sa.String(length=255), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("provider", "token"),
    )
    op.create_index("ix_webhook_tokens_expires_at", "webhook_tokens", ["expires_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_webhook_tokens_expires_at", table_name="webhook_tokens")
    op.drop_table("webhook_tokens")
