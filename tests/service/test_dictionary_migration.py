"""Migration 0006: dictionaries stored before it (aliases joined by "|") come out as JSON lists, and
go back. Runs on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlmodel import Session, col, select

from dictionaries.terms import Term
from service.db import MIGRATIONS, make_engine
from service.dictionaries import dictionary_terms
from service.models import DictionaryTerm

STORED = {"放出": "花天|放出駅", "杭全": "熊田", "平野区": "", "天下茶屋": "|デンガチャや||天下茶や|"}


def _config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["configure_logger"] = False
    return config


def test_stored_aliases_become_lists_and_back(service_env: dict[str, str]) -> None:
    url = service_env["KIROKU_DATABASE_URL"]
    config = _config(url)
    command.upgrade(config, "0005")
    engine = make_engine(url)
    try:
        # The rows as revision 0005 stored them, in SQL of that revision (today's models have
        # columns added by later revisions).
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO department (name) VALUES ('北区役所 保健福祉課')"))
            department_id = conn.execute(text("SELECT id FROM department")).scalar_one()
            conn.execute(
                text("INSERT INTO dictionary (name, department_id, created_at) VALUES ('地名', :d, :t)"),
                {"d": department_id, "t": datetime(2026, 4, 1, tzinfo=UTC)},
            )
            dictionary_id = conn.execute(text("SELECT id FROM dictionary")).scalar_one()
        with engine.begin() as conn:  # the term rows as revision 0005 stored them
            for surface, aliases in STORED.items():
                conn.execute(
                    text(
                        "INSERT INTO dictionaryterm (dictionary_id, surface, reading, aliases, category) "
                        "VALUES (:d, :s, '', :a, '地名')"
                    ),
                    {"d": dictionary_id, "s": surface, "a": aliases},
                )

        command.upgrade(config, "head")
        with Session(engine) as db:
            rows = db.exec(select(DictionaryTerm).order_by(col(DictionaryTerm.id))).all()
            assert {row.surface: row.aliases for row in rows} == {
                "放出": ["花天", "放出駅"],
                "杭全": ["熊田"],
                "平野区": [],
                "天下茶屋": ["デンガチャや", "天下茶や"],
            }
            assert Term("放出", "", ("花天", "放出駅"), "地名") in dictionary_terms(db, [dictionary_id])

        command.downgrade(config, "0005")
        with engine.connect() as conn:
            joined = {s: a for s, a in conn.execute(text("SELECT surface, aliases FROM dictionaryterm")).all()}
        assert joined == {**STORED, "天下茶屋": "デンガチャや|天下茶や"}  # empty pieces are gone

        command.upgrade(config, "head")  # and up again, as a rollback followed by a fix would
        with Session(engine) as db:
            assert db.exec(select(DictionaryTerm.aliases).where(DictionaryTerm.surface == "放出")).one() == [
                "花天",
                "放出駅",
            ]
    finally:
        engine.dispose()
