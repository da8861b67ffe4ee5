"""Retention: what pruned history leaves behind; on PostgreSQL, monthly partitions.

Both databases: ``pruned_addresses`` (an address whose bounce events were pruned: its
state can no longer be rebuilt from history) and ``pruned_campaigns`` (the part of a
campaign's counts that pruned events made, so a recount keeps it).

PostgreSQL only: ``messages`` and ``bounce_events`` become ``PARTITION BY RANGE`` on
``received_at`` / ``occurred_at``, one partition per month from the oldest row to three
months ahead, plus DEFAULT; the rows are copied. A partitioned table's unique
constraints must hold the partition column, so:

- ``messages.idempotency_key`` is kept unique by a small unpartitioned table,
  ``message_keys``: a BEFORE INSERT trigger claims the key there (a row whose key is
  taken is skipped, so ``INSERT .. ON CONFLICT DO NOTHING RETURNING`` still returns
  only the messages this transaction claimed) and an AFTER DELETE trigger lets it go;
- the primary keys become (id, time), ids still come from the same sequences;
- foreign keys that point at the two tables (bounce_events.message_id,
  activities.message_id, suppressions.bounce_event_id) are dropped: the retention job
  does their CASCADE / SET NULL itself (bounceback.ledger.retention).

Downgrade copies the rows back into plain tables and restores every constraint.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Connection, text

from bounceback.ledger import partitions

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

AHEAD = 3  # months created ahead of the current one
_OLD = "{}_unpartitioned"

# The constraints migration 0001 made that point at the two tables (restored on downgrade).
_INBOUND = [
    ("bounce_events", "bounce_events_message_id_fkey", "message_id", "messages", "CASCADE"),
    ("activities", "activities_message_id_fkey", "message_id", "messages", "CASCADE"),
    ("suppressions", "suppressions_bounce_event_id_fkey", "bounce_event_id", "bounce_events",
     "SET NULL"),
]  # fmt: skip

_CLAIM = """
CREATE FUNCTION bounceback_claim_message_key() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO message_keys (idempotency_key, received_at)
    VALUES (NEW.idempotency_key, NEW.received_at) ON CONFLICT DO NOTHING;
    IF NOT FOUND THEN
        RETURN NULL;  -- the key is taken: this row is a duplicate, skip it
    END IF;
    RETURN NEW;
END $$
"""
_FORGET = """
CREATE FUNCTION bounceback_forget_message_key() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM message_keys WHERE idempotency_key = OLD.idempotency_key;
    RETURN NULL;
END $$
"""


def upgrade() -> None:
    op.create_table(
        "pruned_addresses",
        sa.Column("address_id", sa.Integer(), nullable=False),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column("pruned_until", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["address_id"], ["email_addresses.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("address_id"),
    )
    op.create_table(
        "pruned_campaigns",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("hard", sa.Integer(), nullable=False),
        sa.Column("soft", sa.Integer(), nullable=False),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column("pruned_until", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("campaign_id"),
    )
    conn = op.get_bind()
    if conn.dialect.name == "postgresql":
        to_partitions(conn)


def downgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name == "postgresql":
        from_partitions(conn)
    op.drop_table("pruned_campaigns")
    op.drop_table("pruned_addresses")


# --- PostgreSQL ------------------------------------------------------------------------
def _exec(conn: Connection, sql: str, **params: object) -> None:
    conn.execute(text(sql), params)


def _index_defs(conn: Connection, table: str) -> list[tuple[str, str]]:
    """(name, definition) of the plain indexes (not backing a constraint) of ``table``."""
    rows = conn.execute(
        text(
            "SELECT i.relname, pg_get_indexdef(x.indexrelid) FROM pg_index x "
            "JOIN pg_class i ON i.oid = x.indexrelid "
            "WHERE x.indrelid = to_regclass(:t) AND NOT EXISTS "
            "(SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)"
        ),
        {"t": table},
    ).all()
    return [(str(name), str(definition)) for name, definition in rows]


def _outbound_fks(conn: Connection, table: str, skip: set[str]) -> list[str]:
    rows = conn.execute(
        text(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = to_regclass(:t) AND contype = 'f' ORDER BY conname"
        ),
        {"t": table},
    ).all()
    return [f'CONSTRAINT "{n}" {d}' for n, d in rows if n not in skip]


def _move_indexes(conn: Connection, source: str, target: str) -> None:
    """Recreate ``source``'s plain indexes on ``target`` under the same names."""
    for name, definition in _index_defs(conn, source):
        _exec(conn, f'DROP INDEX "{name}"')
        _, _, tail = definition.partition(" USING ")
        _exec(conn, f'CREATE INDEX "{name}" ON "{target}" USING {tail}')


def _drop_constraints(conn: Connection, table: str, kinds: str) -> None:
    rows = conn.execute(
        text(
            "SELECT conname FROM pg_constraint WHERE conrelid = to_regclass(:t) "
            "AND position(contype in :kinds) > 0"
        ),
        {"t": table, "kinds": kinds},
    ).scalars()
    for name in list(rows):
        _exec(conn, f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')


def _months(conn: Connection, table: str, column: str) -> list[dt.date]:
    oldest = conn.execute(text(f'SELECT min("{column}") FROM "{table}"')).scalar()
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    first = partitions.month_start(oldest or now)
    last = partitions.add_months(partitions.month_start(now), AHEAD)
    months = [first]
    while months[-1] < last:
        months.append(partitions.add_months(months[-1], 1))
    return months


def to_partitions(conn: Connection) -> None:
    for table, name, *_ in _INBOUND:
        _exec(conn, f'ALTER TABLE "{table}" DROP CONSTRAINT IF EXISTS "{name}"')
    for table, column in partitions.PARTITIONED.items():
        old = _OLD.format(table)
        sequence = conn.execute(
            text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": table}
        ).scalar_one()
        _exec(conn, f'ALTER TABLE "{table}" RENAME TO "{old}"')
        _exec(conn, f"ALTER SEQUENCE {sequence} OWNED BY NONE")
        keep_fks = _outbound_fks(conn, old, skip=set())
        _drop_constraints(conn, old, "puf")
        _exec(conn, f'CREATE TABLE "{table}" (LIKE "{old}" INCLUDING DEFAULTS) '
                    f'PARTITION BY RANGE ("{column}")')  # fmt: skip
        _exec(conn, f'ALTER TABLE "{table}" ADD CONSTRAINT "{table}_pkey" '
                    f'PRIMARY KEY (id, "{column}")')  # fmt: skip
        for fk in keep_fks:
            _exec(conn, f'ALTER TABLE "{table}" ADD {fk}')
        _move_indexes(conn, old, table)
        for month in _months(conn, old, column):
            partitions.create_month(conn, table, month)
        partitions.create_default(conn, table)
        _exec(conn, f'INSERT INTO "{table}" SELECT * FROM "{old}"')
        _exec(conn, f'DROP TABLE "{old}"')
        _exec(conn, f'ALTER SEQUENCE {sequence} OWNED BY "{table}".id')
    # bounce_events' pair (message, position) stays unique within its month.
    _exec(conn, 'ALTER TABLE bounce_events ADD CONSTRAINT bounce_events_message_id_position_key '
                'UNIQUE (message_id, "position", occurred_at)')  # fmt: skip
    # Lookups by key (skip-seen, the sources' "already stored?") still read messages.
    _exec(conn, "CREATE INDEX ix_messages_idempotency_key ON messages (idempotency_key)")
    _exec(conn, "CREATE INDEX ix_bounce_events_message_id ON bounce_events (message_id)")
    _exec(conn, "CREATE TABLE message_keys (idempotency_key VARCHAR(200) PRIMARY KEY, "
                "received_at TIMESTAMP WITHOUT TIME ZONE NOT NULL)")  # fmt: skip
    _exec(conn, "CREATE INDEX ix_message_keys_received_at ON message_keys (received_at)")
    _exec(conn, "INSERT INTO message_keys SELECT idempotency_key, received_at FROM messages")
    _exec(conn, _CLAIM)
    _exec(conn, _FORGET)
    _exec(conn, "CREATE TRIGGER messages_claim_key BEFORE INSERT ON messages "
                "FOR EACH ROW EXECUTE FUNCTION bounceback_claim_message_key()")  # fmt: skip
    _exec(conn, "CREATE TRIGGER messages_forget_key AFTER DELETE ON messages "
                "FOR EACH ROW EXECUTE FUNCTION bounceback_forget_message_key()")  # fmt: skip


def from_partitions(conn: Connection) -> None:
    _exec(conn, "DROP TRIGGER messages_claim_key ON messages")
    _exec(conn, "DROP TRIGGER messages_forget_key ON messages")
    _exec(conn, "DROP FUNCTION bounceback_claim_message_key()")
    _exec(conn, "DROP FUNCTION bounceback_forget_message_key()")
    _exec(conn, "DROP TABLE message_keys")
    _exec(conn, "DROP INDEX ix_messages_idempotency_key")
    _exec(conn, "DROP INDEX ix_bounce_events_message_id")
    for table in partitions.PARTITIONED:
        old = _OLD.format(table)
        sequence = conn.execute(
            text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": table}
        ).scalar_one()
        _exec(conn, f'ALTER TABLE "{table}" RENAME TO "{old}"')
        _exec(conn, f"ALTER SEQUENCE {sequence} OWNED BY NONE")
        keep_fks = _outbound_fks(conn, old, skip=set())
        _drop_constraints(conn, old, "puf")
        _exec(conn, f'CREATE TABLE "{table}" (LIKE "{old}" INCLUDING DEFAULTS)')
        _exec(conn, f'INSERT INTO "{table}" SELECT * FROM "{old}" ORDER BY id')
        _exec(conn, f'ALTER TABLE "{table}" ADD CONSTRAINT "{table}_pkey" PRIMARY KEY (id)')
        for fk in keep_fks:
            _exec(conn, f'ALTER TABLE "{table}" ADD {fk}')
        _move_indexes(conn, old, table)
        _exec(conn, f'DROP TABLE "{old}" CASCADE')
        _exec(conn, f'ALTER SEQUENCE {sequence} OWNED BY "{table}".id')
    _exec(conn, "ALTER TABLE messages ADD CONSTRAINT messages_idempotency_key_key "
                "UNIQUE (idempotency_key)")  # fmt: skip
    _exec(conn, "ALTER TABLE bounce_events ADD CONSTRAINT bounce_events_message_id_position_key "
                'UNIQUE (message_id, "position")')  # fmt: skip
    # Rows whose parent the retention job removed by hand cannot break the constraints.
    _exec(conn, "DELETE FROM bounce_events e WHERE message_id IS NOT NULL AND NOT EXISTS "
                "(SELECT 1 FROM messages m WHERE m.id = e.message_id)")  # fmt: skip
    _exec(conn, "DELETE FROM activities a WHERE NOT EXISTS "
                "(SELECT 1 FROM messages m WHERE m.id = a.message_id)")  # fmt: skip
    _exec(conn, "UPDATE suppressions s SET bounce_event_id = NULL "
                "WHERE bounce_event_id IS NOT NULL AND NOT EXISTS "
                "(SELECT 1 FROM bounce_events e WHERE e.id = s.bounce_event_id)")  # fmt: skip
    for table, name, column, target, action in _INBOUND:
        _exec(conn, f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" FOREIGN KEY ("{column}") '
                    f'REFERENCES "{target}" (id) ON DELETE {action}')  # fmt: skip
