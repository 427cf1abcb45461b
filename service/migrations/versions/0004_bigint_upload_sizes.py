"""64-bit upload sizes

``uploadsession.length``/``offset`` and ``recording.audio_bytes`` become BIGINT, so an upload may be
as large as ``KIROKU_MAX_UPLOAD_BYTES`` allows (4 GB by default) and not 2 GiB − 1.

SQLite stores every INTEGER in up to 8 bytes already; rebuilding its tables (batch mode) would only
copy them, and with foreign keys on it cannot drop ``recording`` while jobs point at it. The change
is therefore made on PostgreSQL (and other servers) only; ``env.py`` compares INTEGER and BIGINT as
the same type on SQLite.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 13:05:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = (("uploadsession", "length"), ("uploadsession", "offset"), ("recording", "audio_bytes"))


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    for table, column in COLUMNS:
        op.alter_column(table, column, existing_type=sa.Integer(), type_=sa.BigInteger(), existing_nullable=False)


def downgrade() -> None:
    # Fails while a row holds 2 GiB or more: such sizes do not fit the old columns.
    if op.get_bind().dialect.name == "sqlite":
        return
    for table, column in COLUMNS:
        op.alter_column(table, column, existing_type=sa.BigInteger(), type_=sa.Integer(), existing_nullable=False)
