"""API tokens expire; departments can be retired

``apitoken.expires_at``: a token is refused after it (tokens issued before have none and stay valid
until revoked). ``department.retired_at``: a retired department keeps its users, recordings and
usage, but is offered for no new user or device.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 19:15:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("apitoken", sa.Column("expires_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
    op.add_column("department", sa.Column("retired_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))


def downgrade() -> None:
    # Dropped in place (SQLite 3.35+ can): a batch copy would drop the department table, which
    # other tables' foreign keys refer to, and SQLite refuses that with foreign keys on.
    op.drop_column("department", "retired_at")
    op.drop_column("apitoken", "expires_at")
