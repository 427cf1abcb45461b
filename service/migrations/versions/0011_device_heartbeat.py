"""Device heartbeats

The watching agent of a meeting room (``kiroku device watch``) reports itself: when it last beat, its
version, how many recordings wait on it and its free disk. ``silence_alerted_at`` marks the alert
raised to admins when a device that used to beat has been silent for a day (cleared by its next
heartbeat). Nullable columns only: no table rebuild on SQLite.

Revision ID: 0011
Revises: 0008
Create Date: 2026-12-07 19:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0011"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("device", sa.Column("heartbeat_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
    op.add_column("device", sa.Column("agent_version", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=True))
    op.add_column("device", sa.Column("queue_length", sa.Integer(), nullable=True))
    op.add_column("device", sa.Column("free_disk_bytes", sa.BigInteger(), nullable=True))
    op.add_column("device", sa.Column("silence_alerted_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))


def downgrade() -> None:
    # In place (SQLite 3.35+): a batch copy would drop the device table other tables refer to.
    for column in ("silence_alerted_at", "free_disk_bytes", "queue_length", "agent_version", "heartbeat_at"):
        op.drop_column("device", column)
