"""Dictionary aliases as a JSON list

``dictionaryterm.aliases`` held a term's known wrong forms joined by ``|``; it becomes a JSON list
(``service.dictionaries`` reads and writes it). Existing rows are converted both ways: upgrading
splits on ``|`` and drops empty pieces, downgrading joins them again (the size checks of
``service.dictionaries`` keep a joined list within the old 2,000 characters).

The list goes into a new column that then takes the old one's name: a column's type cannot change
in place on SQLite (batch mode rebuilds ``dictionaryterm``, which no other table points at).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 16:00:00.000000
"""

from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "dictionaryterm"
OLD_TYPE = sa.String(length=2000)  # what 0001 made: VARCHAR(2000)


def _copy(source: sa.types.TypeEngine[Any], target: sa.types.TypeEngine[Any], convert: Callable[[Any], Any]) -> None:
    """Fill the column ``staged`` from ``aliases``, row by row."""
    terms = sa.table(TABLE, sa.column("id", sa.Integer()), sa.column("aliases", source), sa.column("staged", target))
    conn = op.get_bind()
    rows = [
        {"row_id": row_id, "value": convert(value)}
        for row_id, value in conn.execute(sa.select(terms.c.id, terms.c.aliases)).all()
    ]
    if rows:
        update = terms.update().where(terms.c.id == sa.bindparam("row_id")).values(staged=sa.bindparam("value"))
        conn.execute(update, rows)


def _swap(staged_type: sa.types.TypeEngine[Any]) -> None:
    """Drop the old ``aliases`` and name ``staged`` after it."""
    with op.batch_alter_table(TABLE) as batch:
        batch.drop_column("aliases")
        batch.alter_column("staged", new_column_name="aliases", existing_type=staged_type, nullable=False)


def upgrade() -> None:
    op.add_column(TABLE, sa.Column("staged", sa.JSON(), nullable=True))
    _copy(OLD_TYPE, sa.JSON(), lambda joined: [alias for alias in (joined or "").split("|") if alias])
    _swap(sa.JSON())


def downgrade() -> None:
    op.add_column(TABLE, sa.Column("staged", OLD_TYPE, nullable=True))
    _copy(sa.JSON(), OLD_TYPE, lambda aliases: "|".join(alias for alias in aliases or [] if alias))
    _swap(OLD_TYPE)
