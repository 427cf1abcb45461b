"""First start: schema, a first administrator, and the city-wide dictionary in the database."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from dictionaries.builtin import city_terms
from service.accounts import add_user
from service.db import engine_for, migrate
from service.dictionaries import new_row
from service.models import Dictionary, Role, User
from service.security import new_password
from service.settings import ServiceSettings
from service.storage import tighten_storage

FIRST_ADMIN = "admin"
FIRST_DEPARTMENT = "デジタル統括室"


@dataclass(frozen=True)
class FirstAdmin:
    name: str
    password: str


def prepare(settings: ServiceSettings, first_admin: bool = True) -> FirstAdmin | None:
    """Idempotent. Returns the first admin's credentials when this call created them.

    ``first_admin``: create one when there are no users yet. Only ``kiroku serve`` (and tests) do;
    the account commands prepare the schema alone, so that ``kiroku user add admin …`` on a fresh
    home creates exactly the admin it names.
    """
    url = settings.resolved_database_url()
    migrate(url)
    tighten_storage(settings.resolved_storage())  # made owner-only (0700), older files 0600
    with Session(engine_for(url)) as db:
        seed_city_dictionary(db)
        if not first_admin or db.exec(select(User.id)).first() is not None:
            return None
        password = settings.admin_password.get_secret_value() or new_password()
        add_user(db, FIRST_ADMIN, Role.admin, FIRST_DEPARTMENT, password, display_name="管理者")
        return FirstAdmin(FIRST_ADMIN, password)


def seed_city_dictionary(db: Session) -> None:
    if db.exec(select(Dictionary.id).where(col(Dictionary.department_id).is_(None))).first() is not None:
        return
    dictionary = Dictionary(name="大阪市 標準辞書", department_id=None)
    db.add(dictionary)
    db.flush()
    assert dictionary.id is not None
    for term in city_terms():
        db.add(new_row(dictionary.id, term))
    db.commit()
