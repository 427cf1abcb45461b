"""Word templates of records (admins only): list, upload, choose, remove, download; and the page
``/admin/templates`` where administrators do it (``web/templates/admin_templates.html``).

The work is ``service.records.templates``; every change is audited there.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Request, Response, UploadFile
from fastapi.responses import FileResponse, HTMLResponse
from sqlmodel import Session, col, select

from api.auth import DbSession, client_ip, require
from api.page_base import page as render_page
from api.page_base import page_caller, to_login
from api.schemas.templates import TemplateOut
from service.access import Caller
from service.errors import ServiceError
from service.models import Department, Kind, RecordTemplate, Role
from service.records import templates
from service.records.fields import RECORD_TITLES
from service.settings import get_settings

router = APIRouter(prefix="/api/v1/admin/templates", tags=["admin"])
pages = APIRouter(include_in_schema=False)

Admin = Annotated[Caller, require(Role.admin)]
CITY_WIDE = "全市共通"


def _out(db: Session, template: RecordTemplate) -> TemplateOut:
    department = db.get(Department, template.department_id) if template.department_id is not None else None
    assert template.id is not None
    return TemplateOut(
        id=template.id,
        kind=template.kind,
        kind_label=RECORD_TITLES.get(template.kind, template.kind),
        department_id=template.department_id,
        department=department.name if department else CITY_WIDE,
        name=template.name,
        size_bytes=template.size_bytes,
        active=template.active,
        created_at=template.created_at,
    )


@router.get("", summary="記録のひな形 (Word) の一覧")
def list_templates(db: DbSession, caller: Admin) -> list[TemplateOut]:
    return [_out(db, t) for t in templates.list_templates(db)]


@router.post("", status_code=201, summary="ひな形を登録して使う (種類・部署ごと)")
def add_template(
    request: Request,
    db: DbSession,
    caller: Admin,
    file: Annotated[UploadFile, File(description="Word 文書 (.docx)")],
    kind: Annotated[Kind, Form(description="meeting | interview | negotiation | phone")],
    department_id: Annotated[str, Form(description="部署の ID (空: 全市共通)", max_length=12)] = "",
) -> TemplateOut:
    department = None
    if department_id.strip():
        if not department_id.strip().isdigit():
            raise ServiceError(422, "invalid", "部署の ID が正しくありません。")
        department = int(department_id)
    data = file.file.read(templates.MAX_TEMPLATE_BYTES + 1)
    template = templates.add_template(
        db,
        caller,
        get_settings().resolved_storage(),
        kind=kind.value,
        department_id=department,
        name=file.filename or "template.docx",
        data=data,
        ip=client_ip(request),
    )
    return _out(db, template)


@router.post("/{template_id}/use", summary="このひな形を使う (同じ種類・部署の他のひな形は使わなくなる)")
def use_template(template_id: int, request: Request, db: DbSession, caller: Admin) -> TemplateOut:
    return _out(db, templates.choose_template(db, caller, template_id, active=True, ip=client_ip(request)))


@router.post("/{template_id}/unuse", summary="このひな形を使わない (標準の様式に戻す)")
def unuse_template(template_id: int, request: Request, db: DbSession, caller: Admin) -> TemplateOut:
    return _out(db, templates.choose_template(db, caller, template_id, active=False, ip=client_ip(request)))


@router.delete("/{template_id}", status_code=204, summary="ひな形を削除")
def remove_template(template_id: int, request: Request, db: DbSession, caller: Admin) -> Response:
    templates.remove_template(db, caller, get_settings().resolved_storage(), template_id, ip=client_ip(request))
    return Response(status_code=204)


@router.get("/{template_id}/file", summary="ひな形のファイル", response_class=FileResponse)
def template_file(template_id: int, db: DbSession, caller: Admin) -> FileResponse:
    template, path = templates.template_file(db, get_settings().resolved_storage(), template_id)
    return FileResponse(path, filename=template.name, media_type="application/octet-stream")


@pages.get("/admin/templates", response_class=HTMLResponse)
def templates_page(request: Request, db: DbSession) -> Response:
    caller = page_caller(request, db)
    if caller is None:
        return to_login(request)
    if caller.role != Role.admin:
        return render_page("not_found.html", caller, db, status=404, page="")
    departments = db.exec(select(Department).order_by(col(Department.name))).all()
    return render_page(
        "admin_templates.html",
        caller,
        db,
        page="admin",
        kinds=RECORD_TITLES,
        departments=[{"id": d.id, "name": d.name} for d in departments],
    )
