"""Erasures: the record that a person was erased (never whose), and the installation's
secret key for the one-way hashes that keep an erased address suppressed.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

KEY_SETTING = "erasure.key"  # bounceback.ledger.erasure.KEY_SETTING


def upgrade() -> None:
    op.create_table(
        "erasures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("erased_at", sa.DateTime(), nullable=False),
        sa.Column("operator", sa.String(length=255), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_erasures_erased_at", "erasures", ["erased_at"], unique=False)
    # Made here, once per installation, so every check (the API's fast path included)
    # finds it from the start; ledger.erasure makes one if a database lacks it.
    settings = sa.table("settings", sa.column("key", sa.String), sa.column("value", sa.Text))
    found = (
        op.get_bind()
        .execute(sa.select(settings.c.key).where(settings.c.key == KEY_SETTING))
        .first()
    )
    if found is None:
        op.execute(settings.insert().values(key=KEY_SETTING, value=secrets.token_hex(32)))


def downgrade() -> None:
    op.drop_index("ix_erasures_erased_at", table_name="erasures")
    op.drop_table("erasures")
