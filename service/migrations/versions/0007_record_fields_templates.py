"""Record header fields entered at upload; administrators' Word templates of records

``recording.fields`` keeps the kind's header fields entered at upload (受付者, 相手方, 用件 …) as a
JSON object; ``recordtemplate`` lists the Word templates administrators uploaded per kind and
department, with the one in use marked ``active``.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 19:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ALTER TABLE on both databases: a batch rebuild of ``recording`` would drop a table that
    # jobs, transcripts and minutes point at.
    op.add_column("recording", sa.Column("fields", sa.JSON(), nullable=False, server_default="{}"))
    op.create_table(
        "recordtemplate",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("department_id", sa.Integer(), sa.ForeignKey("department.id"), nullable=True),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("path", sa.String(length=1000), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), sa.ForeignKey("user.id"), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    )
    op.create_index("ix_recordtemplate_kind", "recordtemplate", ["kind"])
    op.create_index("ix_recordtemplate_department_id", "recordtemplate", ["department_id"])


def downgrade() -> None:
    op.drop_index("ix_recordtemplate_department_id", table_name="recordtemplate")
    op.drop_index("ix_recordtemplate_kind", table_name="recordtemplate")
    op.drop_table("recordtemplate")
    op.drop_column("recording", "fields")  # SQLite 3.35+ drops a column in place
