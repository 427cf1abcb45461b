"""voice profiles: known speakers named by voice, per department (issue 26)

A profile is a person's name, title and consent record; its embeddings are lists of floats from the
speaker encoder (never audio). Deleting a profile deletes its embeddings in the same transaction
(``service.voices``).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 20:15:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "voiceprofile",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("department_id", sa.Integer(), sa.ForeignKey("department.id"), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("consent", sa.Text(), nullable=False),
        sa.Column("enrolled_by_id", sa.Integer(), sa.ForeignKey("user.id"), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    )
    op.create_index("ix_voiceprofile_department_id", "voiceprofile", ["department_id"])
    op.create_table(
        "voiceembedding",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("profile_id", sa.Integer(), sa.ForeignKey("voiceprofile.id"), nullable=False),
        sa.Column("vector", sa.JSON(), nullable=False),
        sa.Column("encoder", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
        sa.Column("recording_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    )
    op.create_index("ix_voiceembedding_profile_id", "voiceembedding", ["profile_id"])


def downgrade() -> None:
    op.drop_index("ix_voiceembedding_profile_id", table_name="voiceembedding")
    op.drop_table("voiceembedding")
    op.drop_index("ix_voiceprofile_department_id", table_name="voiceprofile")
    op.drop_table("voiceprofile")
