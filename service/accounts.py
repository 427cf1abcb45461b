"""The account lifecycle: departments, users, passwords, API tokens and devices.

Shared by the admin API, the admin console and the CLI, so that every way in applies the same rules
(login names, the last administrator, retired departments). Callers audit what they did.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlmodel import Session, col, func, select

from service.models import ApiToken, Department, Device, LoginSession, Recording, Role, User, utcnow
from service.security import hash_password, new_password, new_token, token_digest

# Login names: plain ASCII letters, digits and . _ @ -, so that no two names look alike on screen
# (a full-width ｖｉｃｔｉｍ beside victim, a Cyrillic а). They start with a letter or digit: a leading
# - reads as an option to the CLI, and = + - @ start a formula where a name reaches a spreadsheet.
# The API and the CLI both check with this.
USER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,99}")
MIN_PASSWORD = 8
MAX_PASSWORD = 1000


class AccountError(ValueError):
    """A request that cannot be done as asked (the message is for the user, in Japanese)."""


class Conflict(AccountError):
    """Refused because of the state of things (a name in use, the last administrator): a 409."""


def check_user_name(name: str) -> str:
    """``name`` if it may be a login name, else AccountError (one rule for the API and the CLI)."""
    if not USER_NAME.fullmatch(name):
        hint = "全角文字は使えません。" if unicodedata.normalize("NFKC", name) != name else ""
        raise AccountError(
            f"ログイン名「{name[:100]}」は使えません。{hint}"
            "半角の英字・数字と . _ @ - だけで (先頭は英字か数字)、100文字までにしてください。"
        )
    return name


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"パスワードは{MIN_PASSWORD}文字以上にしてください。")
    if len(password) > MAX_PASSWORD:
        raise AccountError(f"パスワードは{MAX_PASSWORD}文字までにしてください。")
    return password


def department_label(name: str) -> str:
    """A department's name as stored: NFKC (full-width digits and letters folded) and trimmed."""
    label = unicodedata.normalize("NFKC", name).strip()
    if not label or len(label) > 200:
        raise AccountError("部署名は1〜200文字で入力してください。")
    return label


def department_named(db: Session, name: str, create: bool = True) -> Department:
    label = department_label(name)
    found = db.exec(select(Department).where(Department.name == label)).first()
    if found is not None:
        return found
    if not create:
        raise AccountError(f"部署「{label}」がありません。")
    department = Department(name=label)
    db.add(department)
    db.commit()
    db.refresh(department)
    return department


def _open_department(db: Session, name: str) -> Department:
    department = department_named(db, name)
    if department.retired_at is not None:
        raise Conflict(f"部署「{department.name}」は廃止されています。")
    return department


def add_department(db: Session, name: str) -> Department:
    label = department_label(name)
    if db.exec(select(Department).where(Department.name == label)).first() is not None:
        raise Conflict(f"部署「{label}」は既にあります。")
    return department_named(db, label)


def rename_department(db: Session, department: Department, name: str) -> Department:
    label = department_label(name)
    other = db.exec(select(Department).where(Department.name == label)).first()
    if other is not None and other.id != department.id:
        raise Conflict(f"部署「{label}」は既にあります。")
    department.name = label
    db.add(department)
    db.commit()
    db.refresh(department)
    return department


def active_members(db: Session, department: Department) -> tuple[int, int]:
    """The department's active users and active devices."""
    users = db.exec(
        select(func.count()).select_from(User).where(User.department_id == department.id, col(User.active))
    ).one()
    devices = db.exec(
        select(func.count()).select_from(Device).where(Device.department_id == department.id, col(Device.active))
    ).one()
    return users, devices


def retire_department(db: Session, department: Department, retired: bool = True) -> Department:
    """Retire (or bring back) a department. One with active users or devices is refused: move them first."""
    if retired:
        users, devices = active_members(db, department)
        if users or devices:
            raise Conflict(
                f"部署「{department.name}」には有効な利用者が{users}人、機器が{devices}台あります。"
                "先に別の部署へ移すか無効にしてください。"
            )
    department.retired_at = utcnow() if retired else None
    db.add(department)
    db.commit()
    db.refresh(department)
    return department


# --- users ---------------------------------------------------------------------------------------


def user_named(db: Session, name: str) -> User:
    user = db.exec(select(User).where(User.name == name)).first()
    if user is None:
        raise AccountError(f"ユーザー「{name}」がありません。")
    return user


def add_user(db: Session, name: str, role: Role, department: str, password: str, display_name: str = "") -> User:
    check_user_name(name)
    # Names differing only in case are look-alikes too (Admin beside admin).
    if db.exec(select(User).where(func.lower(User.name) == name.lower())).first() is not None:
        raise Conflict(f"ユーザー「{name}」は既にあります。")
    check_password(password)
    dep = _open_department(db, department)
    assert dep.id is not None
    user = User(
        name=name, role=role, department_id=dep.id, password_hash=hash_password(password), display_name=display_name
    )
    db.add(user)
    db.commit()
    db.refresh(user)
    return user


def end_sessions(db: Session, user: User, keep: str | None = None) -> None:
    """Sign ``user`` out everywhere (but the session whose id is ``keep``)."""
    statement = delete(LoginSession).where(col(LoginSession.user_id) == user.id)
    if keep is not None:
        statement = statement.where(col(LoginSession.id) != keep)
    db.execute(statement)


def set_password(db: Session, user: User, password: str, keep_session: str | None = None) -> None:
    """A new password; the user's other sessions end (someone who knew the old one is signed out)."""
    check_password(password)
    user.password_hash = hash_password(password)
    db.add(user)
    end_sessions(db, user, keep=keep_session)
    db.commit()


def reset_password(db: Session, user: User) -> str:
    """A generated one-time password, returned to be shown once (only its hash is stored)."""
    password = new_password()
    set_password(db, user, password)
    return password


def _active_admins(db: Session) -> int:
    found = db.exec(select(func.count()).select_from(User).where(User.role == Role.admin, col(User.active))).one()
    return int(found)


def _keeps_an_admin(db: Session, user: User) -> None:
    if user.role == Role.admin and user.active and _active_admins(db) <= 1:
        raise Conflict("有効な管理者が他にいないため、この管理者は無効にも降格にもできません。")


def set_active(db: Session, user: User, active: bool, acting: User | None = None) -> User:
    """Deactivate (signed out at once, tokens refused) or reactivate a user."""
    if not active:
        if acting is not None and acting.id == user.id:
            raise Conflict("自分自身は無効にできません。")
        _keeps_an_admin(db, user)
        end_sessions(db, user)
    user.active = active
    db.add(user)
    db.commit()
    db.refresh(user)
    return user


def change_user(
    db: Session,
    user: User,
    *,
    role: Role | None = None,
    department_id: int | None = None,
    display_name: str | None = None,
    acting: User | None = None,
) -> User:
    if role is not None and role != user.role:
        if acting is not None and acting.id == user.id:
            raise Conflict("自分自身の役割は変えられません。")
        _keeps_an_admin(db, user)
        user.role = role
        end_sessions(db, user)  # pages and menus follow the new role from the next sign-in
    if department_id is not None and department_id != user.department_id:
        department = db.get(Department, department_id)
        if department is None:
            raise AccountError("その部署はありません。")
        if department.retired_at is not None:
            raise Conflict(f"部署「{department.name}」は廃止されています。")
        user.department_id = department_id
    if display_name is not None:
        user.display_name = display_name.strip()[:200]
    db.add(user)
    db.commit()
    db.refresh(user)
    return user


# --- API tokens ----------------------------------------------------------------------------------


def token_usable(token: ApiToken, now: datetime | None = None) -> bool:
    """Neither revoked nor expired."""
    return not token.revoked and (token.expires_at is None or token.expires_at > (now or utcnow()))


def add_token(db: Session, user_name: str, label: str = "", days: float | None = None) -> str:
    """Returns the bearer token; only its hash is stored, so it is shown once. ``days``: its lifetime."""
    user = user_named(db, user_name)
    if user.id is None or not user.active:
        raise AccountError(f"ユーザー「{user_name}」は無効です。")
    if days is not None and not 0 < days <= 3660:
        raise AccountError("有効期間は1〜3660日で指定してください。")
    token = new_token("kk_")
    expires = utcnow() + timedelta(days=days) if days is not None else None
    db.add(ApiToken(user_id=user.id, label=label[:200], token_hash=token_digest(token), expires_at=expires))
    db.commit()
    return token


@dataclass(frozen=True)
class TokenRow:
    token: ApiToken
    owner: str
    department_id: int


def list_tokens(db: Session, owner: str | None = None) -> list[TokenRow]:
    statement = select(ApiToken, User).join(User, col(User.id) == ApiToken.user_id)
    if owner:
        statement = statement.where(User.name == owner)
    rows = db.exec(statement.order_by(col(User.name), col(ApiToken.id))).all()
    return [TokenRow(token, user.name, user.department_id) for token, user in rows]


def revoke_token(db: Session, token: ApiToken) -> ApiToken:
    token.revoked = True
    db.add(token)
    db.commit()
    db.refresh(token)
    return token


# --- devices -------------------------------------------------------------------------------------


def add_device(db: Session, name: str, department: str) -> tuple[Device, str]:
    """Register a meeting-room device; returns it and its key (shown once, stored hashed)."""
    label = name.strip()
    if not label or len(label) > 200:
        raise AccountError("機器の名前は1〜200文字で入力してください。")
    dep = _open_department(db, department)
    assert dep.id is not None
    key = new_token("kd_")
    device = Device(name=label, department_id=dep.id, key_hash=token_digest(key))
    db.add(device)
    db.commit()
    db.refresh(device)
    return device, key


def device_uploads(db: Session) -> dict[int, int]:
    """How many recordings each device has sent."""
    rows = db.exec(
        select(Recording.device_id, func.count())
        .where(col(Recording.device_id).is_not(None))
        .group_by(col(Recording.device_id))
    ).all()
    return {int(device_id): int(count) for device_id, count in rows if device_id is not None}


def revoke_device(db: Session, device: Device) -> Device:
    device.active = False
    db.add(device)
    db.commit()
    db.refresh(device)
    return device
