"""Administration: departments, users, meeting-room devices, API tokens, retention and the audit log
(admins only). The rules live in ``service.accounts``; every change is audited here."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field, field_validator
from sqlmodel import Session, col, select

from api.auth import DbSession, client_ip, require
from api.schemas.admin import (
    AuditEventOut,
    AuditPage,
    CreatedDevice,
    CreatedToken,
    CreatedUser,
    Deactivated,
    DepartmentOut,
    DeviceOut,
    NewPassword,
    RetentionOut,
    TokenOut,
    UserOut,
)
from service import accounts
from service.access import Caller, audit, valid_id
from service.accounts import AccountError, Conflict, active_members, check_user_name
from service.audit_log import AuditFilter, actions, events_csv, find_events
from service.clock import TOKYO
from service.errors import ServiceError, not_found
from service.models import ApiToken, Department, Device, Role, User, utcnow
from service.security import new_password
from service.settings import get_settings

router = APIRouter(prefix="/api/v1/admin", tags=["admin"])
Row = TypeVar("Row", Department, User, Device, ApiToken)

Admin = Annotated[Caller, require(Role.admin)]


class NewDepartment(BaseModel):
    name: str = Field(min_length=1, max_length=200)


class DepartmentChange(BaseModel):
    name: str = Field(min_length=1, max_length=200)


class NewUser(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    display_name: str = Field(default="", max_length=200)
    role: Role = Role.clerk
    department: str = Field(min_length=1, max_length=200)
    password: str | None = Field(
        default=None, min_length=8, max_length=1000, description="省略時は一度だけ表示する仮パスワードを発行"
    )

    @field_validator("name")
    @classmethod
    def _plain_name(cls, name: str) -> str:
        return check_user_name(name)  # the same rule as the CLI's (AccountError is a ValueError: 422)


class UserChange(BaseModel):
    role: Role | None = None
    department_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    display_name: str | None = Field(default=None, max_length=200)


class NewDevice(BaseModel):
    name: str = Field(min_length=1, max_length=200, description="会議室名")
    department: str = Field(min_length=1, max_length=200)


class NewToken(BaseModel):
    user: str = Field(min_length=1, max_length=100, description="トークンが代わりに操作する利用者")
    label: str = Field(default="", max_length=200)
    days: float | None = Field(default=None, gt=0, le=3660, allow_inf_nan=False, description="有効期間 (日)")


def _refuse(error: AccountError) -> ServiceError:
    if isinstance(error, Conflict):
        return ServiceError(409, "conflict", str(error))
    return ServiceError(422, "invalid", str(error))


def _get(db: Session, model: type[Row], row_id: int) -> Row:
    found = db.get(model, row_id) if valid_id(row_id) else None
    if found is None:
        raise not_found()
    return found


def _department_out(db: Session, department: Department) -> DepartmentOut:
    users, devices = active_members(db, department)
    return DepartmentOut(
        id=department.id or 0,
        name=department.name,
        monthly_cap_hours=department.monthly_cap_hours,
        retired_at=department.retired_at,
        users=users,
        devices=devices,
    )


def _names(db: Session) -> dict[int, str]:
    return {d.id: d.name for d in db.exec(select(Department)).all() if d.id is not None}


def _user_out(user: User, departments: dict[int, str]) -> UserOut:
    out = UserOut.model_validate(user, from_attributes=True)
    out.department = departments.get(user.department_id, "")
    return out


# --- departments ---------------------------------------------------------------------------------


@router.get("/departments", response_model=list[DepartmentOut], summary="部署の一覧")
def list_departments(db: DbSession, caller: Admin) -> list[DepartmentOut]:
    found = db.exec(select(Department).order_by(Department.name)).all()
    return [_department_out(db, d) for d in found]


@router.post("/departments", status_code=201, response_model=DepartmentOut, summary="部署の追加")
def create_department(body: NewDepartment, request: Request, db: DbSession, caller: Admin) -> DepartmentOut:
    try:
        department = accounts.add_department(db, body.name)
    except AccountError as error:
        raise _refuse(error) from error
    audit(db, "admin.department_add", caller=caller, detail=f"department {department.id}", ip=client_ip(request))
    return _department_out(db, department)


@router.patch("/departments/{department_id}", response_model=DepartmentOut, summary="部署名の変更")
def rename_department(
    department_id: int, body: DepartmentChange, request: Request, db: DbSession, caller: Admin
) -> DepartmentOut:
    department = _get(db, Department, department_id)
    try:
        accounts.rename_department(db, department, body.name)
    except AccountError as error:
        raise _refuse(error) from error
    audit(db, "admin.department_rename", caller=caller, detail=f"department {department_id}", ip=client_ip(request))
    return _department_out(db, department)


def _retire(department_id: int, retired: bool, request: Request, db: Session, caller: Caller) -> DepartmentOut:
    department = _get(db, Department, department_id)
    try:
        accounts.retire_department(db, department, retired)
    except AccountError as error:
        raise _refuse(error) from error
    action = "admin.department_retire" if retired else "admin.department_reinstate"
    audit(db, action, caller=caller, detail=f"department {department_id}", ip=client_ip(request))
    return _department_out(db, department)


@router.post("/departments/{department_id}/retire", response_model=DepartmentOut, summary="部署の廃止")
def retire_department(department_id: int, request: Request, db: DbSession, caller: Admin) -> DepartmentOut:
    return _retire(department_id, True, request, db, caller)


@router.post("/departments/{department_id}/reinstate", response_model=DepartmentOut, summary="廃止した部署を戻す")
def reinstate_department(department_id: int, request: Request, db: DbSession, caller: Admin) -> DepartmentOut:
    return _retire(department_id, False, request, db, caller)


# --- users ---------------------------------------------------------------------------------------


@router.get("/users", response_model=list[UserOut], summary="ユーザーの一覧")
def list_users(db: DbSession, caller: Admin) -> list[UserOut]:
    departments = _names(db)
    return [_user_out(u, departments) for u in db.exec(select(User).order_by(User.name)).all()]


@router.post("/users", status_code=201, response_model=CreatedUser, summary="ユーザーの追加 (仮パスワードは一度だけ)")
def create_user(body: NewUser, request: Request, db: DbSession, caller: Admin) -> CreatedUser:
    password = body.password or new_password()
    try:
        user = accounts.add_user(db, body.name, body.role, body.department, password, body.display_name)
    except AccountError as error:
        raise _refuse(error) from error
    audit(db, "admin.user_add", caller=caller, detail=f"user {user.id} role {user.role}", ip=client_ip(request))
    created = CreatedUser.model_validate(user, from_attributes=True)
    created.password = None if body.password else password
    return created


@router.patch("/users/{user_id}", response_model=UserOut, summary="役割・部署・表示名の変更")
def change_user(user_id: int, body: UserChange, request: Request, db: DbSession, caller: Admin) -> UserOut:
    user = _get(db, User, user_id)
    before = f"role {user.role} department {user.department_id}"
    try:
        accounts.change_user(
            db,
            user,
            role=body.role,
            department_id=body.department_id,
            display_name=body.display_name,
            acting=caller.user,
        )
    except AccountError as error:
        raise _refuse(error) from error
    detail = f"user {user_id} {before} -> role {user.role} department {user.department_id}"
    audit(db, "admin.user_edit", caller=caller, detail=detail, ip=client_ip(request))
    return _user_out(user, _names(db))


@router.post("/users/{user_id}/password", response_model=NewPassword, summary="パスワードの再発行 (一度だけ表示)")
def reset_password(user_id: int, request: Request, db: DbSession, caller: Admin) -> NewPassword:
    user = _get(db, User, user_id)
    password = accounts.reset_password(db, user)
    audit(db, "admin.user_password_reset", caller=caller, detail=f"user {user_id}", ip=client_ip(request))
    return NewPassword(id=user_id, password=password)


def _set_active(user_id: int, active: bool, request: Request, db: Session, caller: Caller) -> Deactivated:
    user = _get(db, User, user_id)
    try:
        accounts.set_active(db, user, active, acting=caller.user)
    except AccountError as error:
        raise _refuse(error) from error
    action = "admin.user_activate" if active else "admin.user_deactivate"
    audit(db, action, caller=caller, detail=f"user {user_id}", ip=client_ip(request))
    return Deactivated(id=user_id, active=active)


@router.post("/users/{user_id}/deactivate", response_model=Deactivated, summary="ユーザーの無効化")
def deactivate_user(user_id: int, request: Request, db: DbSession, caller: Admin) -> Deactivated:
    return _set_active(user_id, False, request, db, caller)


@router.post("/users/{user_id}/activate", response_model=Deactivated, summary="ユーザーを有効に戻す")
def activate_user(user_id: int, request: Request, db: DbSession, caller: Admin) -> Deactivated:
    return _set_active(user_id, True, request, db, caller)


# --- devices -------------------------------------------------------------------------------------


def _device_out(device: Device, departments: dict[int, str], uploads: dict[int, int]) -> DeviceOut:
    out = DeviceOut.model_validate(device, from_attributes=True)
    out.department = departments.get(device.department_id, "")
    out.uploads = uploads.get(device.id or 0, 0)
    # Heartbeat fields exist where the device agent reports them (a later schema); absent: None.
    heartbeat: dict[str, Any] = {
        "agent_version": getattr(device, "agent_version", None),
        "queue_length": getattr(device, "queue_length", None),
        "free_disk_bytes": getattr(device, "free_disk_bytes", getattr(device, "free_disk", None)),
    }
    return out.model_copy(update={k: v for k, v in heartbeat.items() if v is not None})


@router.get("/devices", response_model=list[DeviceOut], summary="会議室機器の一覧")
def list_devices(db: DbSession, caller: Admin) -> list[DeviceOut]:
    departments, uploads = _names(db), accounts.device_uploads(db)
    devices = db.exec(select(Device).order_by(col(Device.id))).all()
    return [_device_out(d, departments, uploads) for d in devices]


@router.post("/devices", status_code=201, response_model=CreatedDevice, summary="会議室機器の登録 (キーは一度だけ表示)")
def create_device(body: NewDevice, request: Request, db: DbSession, caller: Admin) -> CreatedDevice:
    try:
        device, key = accounts.add_device(db, body.name, body.department)
    except AccountError as error:
        raise _refuse(error) from error
    audit(db, "admin.device_add", caller=caller, detail=f"device {device.id}", ip=client_ip(request))
    assert device.id is not None
    return CreatedDevice(id=device.id, name=device.name, department_id=device.department_id, key=key)


@router.post("/devices/{device_id}/revoke", response_model=Deactivated, summary="会議室機器のキーを無効化")
def revoke_device(device_id: int, request: Request, db: DbSession, caller: Admin) -> Deactivated:
    device = _get(db, Device, device_id)
    accounts.revoke_device(db, device)
    audit(db, "admin.device_revoke", caller=caller, detail=f"device {device_id}", ip=client_ip(request))
    return Deactivated(id=device_id, active=False)


# --- API tokens ----------------------------------------------------------------------------------


@router.get("/tokens", response_model=list[TokenOut], summary="API トークンの一覧 (持ち主ごと)")
def list_tokens(
    db: DbSession, caller: Admin, owner: Annotated[str | None, Query(max_length=100)] = None
) -> list[TokenOut]:
    now = utcnow()
    return [
        TokenOut(
            id=row.token.id or 0,
            owner=row.owner,
            label=row.token.label,
            created_at=row.token.created_at,
            last_used_at=row.token.last_used_at,
            expires_at=row.token.expires_at,
            revoked=row.token.revoked,
            usable=accounts.token_usable(row.token, now),
        )
        for row in accounts.list_tokens(db, owner)
    ]


@router.post("/tokens", status_code=201, response_model=CreatedToken, summary="API トークンの発行 (一度だけ表示)")
def create_token(body: NewToken, request: Request, db: DbSession, caller: Admin) -> CreatedToken:
    days = body.days if body.days is not None else get_settings().api_token_days
    try:
        token = accounts.add_token(db, body.user, body.label, days)
    except AccountError as error:
        raise _refuse(error) from error
    row = db.exec(select(ApiToken).order_by(col(ApiToken.id).desc())).first()
    assert row is not None
    audit(db, "admin.token_add", caller=caller, detail=f"token {row.id} user {row.user_id}", ip=client_ip(request))
    return CreatedToken(owner=body.user, token=token, expires_at=row.expires_at)


@router.post("/tokens/{token_id}/revoke", response_model=Deactivated, summary="API トークンの無効化")
def revoke_token(token_id: int, request: Request, db: DbSession, caller: Admin) -> Deactivated:
    token = _get(db, ApiToken, token_id)
    accounts.revoke_token(db, token)
    audit(db, "admin.token_revoke", caller=caller, detail=f"token {token_id}", ip=client_ip(request))
    return Deactivated(id=token_id, active=False)


# --- retention and the audit log ------------------------------------------------------------------


@router.get("/retention", response_model=RetentionOut, summary="保存期間などの設定 (読み取りのみ)")
def retention(caller: Admin) -> RetentionOut:
    settings = get_settings()
    return RetentionOut(
        retention_days=settings.retention_days,
        abandoned_upload_days=settings.abandoned_upload_days,
        session_hours=settings.session_hours,
        api_token_days=settings.api_token_days,
        login_max_failures=settings.login_max_failures,
        login_window_minutes=settings.login_window_minutes,
    )


# Audit dates are days in Tokyo; the bounds keep every day a moment the database can hold.
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2100, 12, 31)
Day = Annotated[date | None, Query(description="YYYY-MM-DD (日本時間)")]


def _audit_filter(
    db: Session, user: str | None, action: str | None, since: date | None, until: date | None
) -> AuditFilter:
    for day in (since, until):
        if day is not None and not FIRST_DAY <= day <= LAST_DAY:
            raise ServiceError(422, "invalid", "日付は2000年1月1日から2100年12月31日までで指定してください。")
    user_id = None
    if user:
        found = db.exec(select(User.id).where(User.name == user)).first()
        user_id = found if found is not None else 0  # an unknown name matches nothing
    return AuditFilter(
        user_id=user_id,
        action=action or "",
        since=datetime.combine(since, time(), TOKYO) if since else None,
        until=datetime.combine(until + timedelta(days=1), time(), TOKYO) if until else None,
    )


@router.get("/audit", response_model=AuditPage, summary="監査ログ (新しい順)")
def audit_log(
    db: DbSession,
    caller: Admin,
    user: Annotated[str | None, Query(max_length=100, description="ログイン名")] = None,
    action: Annotated[str | None, Query(max_length=50, description="操作 (. で終えると前方一致)")] = None,
    since: Day = None,
    until: Day = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> AuditPage:
    total, rows = find_events(db, _audit_filter(db, user, action, since, until), limit, offset)
    items = [
        AuditEventOut(
            id=row.event.id or 0,
            at=row.event.at,
            action=row.event.action,
            user=row.user,
            device=row.device,
            recording_id=row.event.recording_id,
            detail=row.event.detail,
            ip=row.event.ip,
        )
        for row in rows
    ]
    return AuditPage(total=total, items=items, actions=actions(db))


@router.get("/audit/export", summary="監査ログの CSV 書き出し", response_class=Response)
def audit_export(
    request: Request,
    db: DbSession,
    caller: Admin,
    user: Annotated[str | None, Query(max_length=100)] = None,
    action: Annotated[str | None, Query(max_length=50)] = None,
    since: Day = None,
    until: Day = None,
) -> Response:
    data = events_csv(db, _audit_filter(db, user, action, since, until))
    audit(db, "admin.audit_export", caller=caller, ip=client_ip(request))
    name = f"kiroku-audit-{utcnow().astimezone(TOKYO):%Y%m%d}.csv"
    return Response(
        data,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )
