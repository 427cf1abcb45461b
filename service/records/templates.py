"""Administrators' Word templates: one in use per kind of record and department (or the whole city).

Files live under ``<storage>/templates/uploaded``; exports look for the recording's department's
template of its kind, then the city-wide one, then the older single file ``templates/<kind>.docx``,
and otherwise use the built-in layout. Adding, choosing and removing are audited.
"""

from __future__ import annotations

import io
import uuid
import zipfile
from pathlib import Path

from docx import Document
from sqlalchemy import update
from sqlmodel import Session, col, select

from service.access import Caller, audit, valid_id
from service.errors import ServiceError, not_found
from service.models import Department, Kind, Recording, RecordTemplate
from service.storage import private_dir, private_file

MAX_TEMPLATE_BYTES = 10 * 1024**2


def templates_dir(storage: Path) -> Path:
    # Owner-only like the audio beside it: a department's template may carry names and letterheads.
    return private_dir(private_dir(private_dir(storage) / "templates") / "uploaded")


def _check_docx(data: bytes) -> None:
    if not data:
        raise ServiceError(422, "invalid", "ファイルが空です。")
    if len(data) > MAX_TEMPLATE_BYTES:
        raise ServiceError(413, "too_large", "ひな形は 10 MB までにしてください。")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if sum(i.file_size for i in archive.infolist()) > 20 * MAX_TEMPLATE_BYTES:
                raise ValueError("expands too much")
        Document(io.BytesIO(data))
    except Exception as error:  # any reason python-docx cannot read it: refused with one message
        raise ServiceError(
            422,
            "not_docx",
            "Word 文書 (.docx) として読めません。Word で「.docx」形式で保存したファイルを選んでください。",
        ) from error


def list_templates(db: Session) -> list[RecordTemplate]:
    return list(db.exec(select(RecordTemplate).order_by(col(RecordTemplate.kind), col(RecordTemplate.id))).all())


def _activate(db: Session, template: RecordTemplate) -> None:
    same_place = col(RecordTemplate.department_id) == template.department_id
    if template.department_id is None:
        same_place = col(RecordTemplate.department_id).is_(None)
    db.execute(
        update(RecordTemplate)
        .where(col(RecordTemplate.kind) == template.kind, same_place, col(RecordTemplate.id) != template.id)
        .values(active=False)
    )
    template.active = True
    db.add(template)


def add_template(
    db: Session,
    caller: Caller,
    storage: Path,
    *,
    kind: str,
    department_id: int | None,
    name: str,
    data: bytes,
    ip: str,
) -> RecordTemplate:
    """Store an uploaded template and put it in use for its kind and department (committed)."""
    if kind not in {k.value for k in Kind}:
        raise ServiceError(422, "invalid", "記録の種類が正しくありません。")
    if department_id is not None and (not valid_id(department_id) or db.get(Department, department_id) is None):
        raise ServiceError(422, "invalid", "部署が見つかりません。")
    _check_docx(data)
    path = private_file(templates_dir(storage) / f"{uuid.uuid4().hex}.docx")  # 0600 before it is written
    path.write_bytes(data)
    template = RecordTemplate(
        kind=kind,
        department_id=department_id,
        name=(name or "template.docx")[:300],
        path=str(path.relative_to(storage)),
        size_bytes=len(data),
        uploaded_by_id=caller.user_id,
    )
    db.add(template)
    db.flush()
    _activate(db, template)
    detail = f"template {template.id} kind {kind} department {department_id or 'all'}"
    audit(db, "admin.template_add", caller=caller, detail=detail, ip=ip, commit=False)
    db.commit()
    db.refresh(template)
    return template


def _found(db: Session, template_id: int) -> RecordTemplate:
    template = db.get(RecordTemplate, template_id) if valid_id(template_id) else None
    if template is None:
        raise not_found()
    return template


def choose_template(db: Session, caller: Caller, template_id: int, *, active: bool, ip: str) -> RecordTemplate:
    """Use this template for its kind and department (the one used before is set aside), or stop using it."""
    template = _found(db, template_id)
    if active:
        _activate(db, template)
    else:
        template.active = False
        db.add(template)
    action = "admin.template_use" if active else "admin.template_unuse"
    audit(db, action, caller=caller, detail=f"template {template_id}", ip=ip, commit=False)
    db.commit()
    db.refresh(template)
    return template


def remove_template(db: Session, caller: Caller, storage: Path, template_id: int, *, ip: str) -> None:
    template = _found(db, template_id)
    (storage / template.path).unlink(missing_ok=True)
    db.delete(template)
    audit(db, "admin.template_remove", caller=caller, detail=f"template {template_id}", ip=ip, commit=False)
    db.commit()


def template_file(db: Session, storage: Path, template_id: int) -> tuple[RecordTemplate, Path]:
    template = _found(db, template_id)
    path = storage / template.path
    if not path.is_file():
        raise not_found()
    return template, path


def template_for(db: Session, storage: Path, recording: Recording) -> Path | None:
    """The Word template an export of ``recording`` uses, if any (see the module's docstring)."""
    for department in (recording.department_id, None):
        query = select(RecordTemplate).where(
            RecordTemplate.kind == recording.kind,
            col(RecordTemplate.active).is_(True),
            (col(RecordTemplate.department_id) == department)
            if department is not None
            else col(RecordTemplate.department_id).is_(None),
        )
        found = db.exec(query.order_by(col(RecordTemplate.id).desc())).first()
        if found is not None and (storage / found.path).is_file():
            return storage / found.path
    legacy = storage / "templates" / f"{recording.kind}.docx"
    return legacy if legacy.is_file() else None
