"""Relabel jobs

``job.kind`` tells a transcription from a relabel (speakers assigned again on the stored transcript,
``POST /api/v1/recordings/{id}/speakers``); ``min_speakers``/``max_speakers`` hold the relabel's
speaker count. Existing jobs are transcriptions. Adding nullable or defaulted columns needs no table
rebuild on SQLite.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 14:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "job",
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False, server_default="transcribe"),
    )
    op.add_column("job", sa.Column("min_speakers", sa.Integer(), nullable=True))
    op.add_column("job", sa.Column("max_speakers", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("job") as batch:
        batch.drop_column("max_speakers")
        batch.drop_column("min_speakers")
        batch.drop_column("kind")
