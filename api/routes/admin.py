"""Administration: departments, users and meeting-room devices (admins only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from sqlmodel import select

from api.auth import DbSession, client_ip, require
from api.schemas.admin import CreatedDevice, CreatedUser, Deactivated, DepartmentOut, DeviceOut, UserOut
from service.access import Caller, audit, valid_id
from service.accounts import AccountError, add_device, add_user, department_named
from service.errors import ServiceError, not_found
from service.models import Department, Device, Role, User

router = APIRouter(prefix="/api/v1/admin", tags=["admin"])

Admin = Annotated[Caller, require(Role.admin)]


class NewDepartment(BaseModel):
    name: str = Field(min_length=1, max_length=200)


class NewUser(BaseModel):
    name: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._@-]+$")
    display_name: str = Field(default="", max_length=200)
    role: Role = Role.clerk
    department: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=8, max_length=1000)


class NewDevice(BaseModel):
    name: str = Field(min_length=1, max_length=200, description="会議室名")
    department: str = Field(min_length=1, max_length=200)


def _refuse(error: AccountError) -> ServiceError:
    return ServiceError(409, "conflict", str(error))


@router.get("/departments", response_model=list[DepartmentOut], summary="部署の一覧")
def list_departments(db: DbSession, caller: Admin) -> list[DepartmentOut]:
    found = db.exec(select(Department).order_by(Department.name)).all()
    return [DepartmentOut.model_validate(d, from_attributes=True) for d in found]


@router.post("/departments", status_code=201, response_model=DepartmentOut, summary="部署の追加")
def create_department(body: NewDepartment, db: DbSession, caller: Admin) -> DepartmentOut:
    return DepartmentOut.model_validate(department_named(db, body.name), from_attributes=True)


@router.get("/users", response_model=list[UserOut], summary="ユーザーの一覧")
def list_users(db: DbSession, caller: Admin) -> list[UserOut]:
    return [UserOut.model_validate(u, from_attributes=True) for u in db.exec(select(User).order_by(User.name)).all()]


@router.post("/users", status_code=201, response_model=CreatedUser, summary="ユーザーの追加")
def create_user(body: NewUser, request: Request, db: DbSession, caller: Admin) -> CreatedUser:
    try:
        user = add_user(db, body.name, body.role, body.department, body.password, body.display_name)
    except AccountError as error:
        raise _refuse(error) from error
    audit(db, "admin.user_add", caller=caller, detail=f"user {user.id} role {user.role}", ip=client_ip(request))
    return CreatedUser.model_validate(user, from_attributes=True)


@router.post("/users/{user_id}/deactivate", response_model=Deactivated, summary="ユーザーの無効化")
def deactivate_user(user_id: int, request: Request, db: DbSession, caller: Admin) -> Deactivated:
    user = db.get(User, user_id) if valid_id(user_id) else None
    if user is None:
        raise not_found()
    user.active = False
    db.add(user)
    audit(db, "admin.user_deactivate", caller=caller, detail=f"user {user_id}", ip=client_ip(request), commit=False)
    db.commit()
    return Deactivated(id=user_id, active=False)


@router.get("/devices", response_model=list[DeviceOut], summary="会議室機器の一覧")
def list_devices(db: DbSession, caller: Admin) -> list[DeviceOut]:
    return [DeviceOut.model_validate(d, from_attributes=True) for d in db.exec(select(Device)).all()]


@router.post("/devices", status_code=201, response_model=CreatedDevice, summary="会議室機器の登録 (キーは一度だけ表示)")
def create_device(body: NewDevice, request: Request, db: DbSession, caller: Admin) -> CreatedDevice:
    device, key = add_device(db, body.name, body.department)
    audit(db, "admin.device_add", caller=caller, detail=f"device {device.id}", ip=client_ip(request))
    assert device.id is not None
    return CreatedDevice(id=device.id, name=device.name, department_id=device.department_id, key=key)


@router.post("/devices/{device_id}/revoke", response_model=Deactivated, summary="会議室機器のキーを無効化")
def revoke_device(device_id: int, request: Request, db: DbSession, caller: Admin) -> Deactivated:
    device = db.get(Device, device_id) if valid_id(device_id) else None
    if device is None:
        raise not_found()
    device.active = False
    db.add(device)
    audit(db, "admin.device_revoke", caller=caller, detail=f"device {device_id}", ip=client_ip(request), commit=False)
    db.commit()
    return Deactivated(id=device_id, active=False)
