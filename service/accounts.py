"""Creating departments, users, tokens and devices: shared by the admin API and the CLI."""

from __future__ import annotations

from sqlmodel import Session, select

from service.models import ApiToken, Department, Device, Role, User
from service.security import hash_password, new_token, token_digest


class AccountError(ValueError):
    """A request that cannot be done as asked (the message is for the user, in Japanese)."""


def department_named(db: Session, name: str, create: bool = True) -> Department:
    found = db.exec(select(Department).where(Department.name == name)).first()
    if found is not None:
        return found
    if not create:
        raise AccountError(f"部署「{name}」がありません。")
    department = Department(name=name)
    db.add(department)
    db.commit()
    db.refresh(department)
    return department


def add_user(db: Session, name: str, role: Role, department: str, password: str, display_name: str = "") -> User:
    if db.exec(select(User).where(User.name == name)).first() is not None:
        raise AccountError(f"ユーザー「{name}」は既にあります。")
    if len(password) < 8:
        raise AccountError("パスワードは8文字以上にしてください。")
    dep = department_named(db, department)
    assert dep.id is not None
    user = User(
        name=name, role=role, department_id=dep.id, password_hash=hash_password(password), display_name=display_name
    )
    db.add(user)
    db.commit()
    db.refresh(user)
    return user


def add_token(db: Session, user_name: str, label: str = "") -> str:
    """Returns the bearer token; only its hash is stored, so it is shown once."""
    user = db.exec(select(User).where(User.name == user_name)).first()
    if user is None or user.id is None:
        raise AccountError(f"ユーザー「{user_name}」がありません。")
    token = new_token("kk_")
    db.add(ApiToken(user_id=user.id, label=label, token_hash=token_digest(token)))
    db.commit()
    return token


def add_device(db: Session, name: str, department: str) -> tuple[Device, str]:
    """Register a meeting-room device; returns it and its key (shown once, stored hashed)."""
    dep = department_named(db, department)
    assert dep.id is not None
    key = new_token("kd_")
    device = Device(name=name, department_id=dep.id, key_hash=token_digest(key))
    db.add(device)
    db.commit()
    db.refresh(device)
    return device, key
