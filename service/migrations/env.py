"""Alembic environment: the SQLModel metadata of ``service.models``; batch mode for SQLite.

The full-text index keeps objects SQLAlchemy cannot declare (``service.search``, migration 0003): the
FTS5 table ``searchfts`` with its shadow tables (``searchfts_data``, ``searchfts_idx``, …) on SQLite
and the GIN index ``ix_searchdocument_grams`` on PostgreSQL. Autogenerate leaves them alone, so
neither ``alembic revision --autogenerate`` proposes to drop them nor ``alembic check`` reports them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from alembic import context
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Column, Integer
from sqlalchemy.types import TypeEngine
from sqlmodel import SQLModel

import service.models  # noqa: F401  (registers the tables)
from service.db import make_engine

config = context.config
target_metadata = SQLModel.metadata

SEARCH_TABLES = "searchfts"  # the FTS5 table and every shadow table it creates
SEARCH_INDEXES = frozenset({"ix_searchdocument_grams"})


def _search_index(name: str | None, type_: str) -> bool:
    if name is None:
        return False
    if type_ == "table":
        return name == SEARCH_TABLES or name.startswith(f"{SEARCH_TABLES}_")
    return type_ == "index" and name in SEARCH_INDEXES


def include_name(name: str | None, type_: str, parent_names: Mapping[Any, str | None]) -> bool:
    """Reflection skips the search index's own objects (SQLAlchemy cannot read FTS5 tables anyway)."""
    return not _search_index(name, type_)


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    return not _search_index(name, type_)


def compare_type(
    ctx: MigrationContext,
    inspected_column: Column[Any],
    metadata_column: Column[Any],
    inspected_type: TypeEngine[Any],
    metadata_type: TypeEngine[Any],
) -> bool | None:
    """On SQLite INTEGER and BIGINT are one type (8 bytes; migration 0004); elsewhere Alembic decides."""
    if ctx.dialect.name == "sqlite" and isinstance(inspected_type, Integer) and isinstance(metadata_type, Integer):
        return False
    return None


def run_migrations_online() -> None:
    url = config.get_main_option("sqlalchemy.url")
    assert url, "sqlalchemy.url is not set"
    engine = make_engine(url)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=compare_type,
            include_name=include_name,
            include_object=include_object,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations_online()
