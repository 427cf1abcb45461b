"""The clerks' pages: what each page shows, rendered from Jinja2 shells in ``templates/``.

Each page is an HTML shell plus a vanilla ES module in ``static/js`` that talks to the REST API
under ``/api/v1`` with the browser's session cookie and the CSRF double-submit header. This module
knows the domain (``service``) and Jinja2, not the web framework: ``api.routes.pages`` serves it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jinja2 import Environment, FileSystemLoader
from sqlmodel import Session, col, select

from service.access import Caller
from service.models import KIND_LABELS, Department, Device, Recording, Role, User
from service.records.fields import OTHER_LABELS, RECORD_TITLES, header_fields, kind_fields
from service.records.tidy import PATTERNS as FILLER_PATTERNS

HERE = Path(__file__).parent
STATIC = HERE / "static"
_templates = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=True)

ROLE_LABELS = {"clerk": "職員", "manager": "管理職", "admin": "管理者"}

# Pages load only their own scripts, styles, audio and API answers: no inline script, no other origin.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self' blob:; "
    "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


def safe_next(target: str | None) -> str:
    """Where to go after logging in: a path on this site only (no other host, no ``//evil``)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or parts.path.startswith("/api/"):
        return "/"
    return target


def _user(db: Session, caller: Caller) -> dict[str, Any]:
    department = db.get(Department, caller.user.department_id)
    return {
        "id": caller.user_id,
        "name": caller.user.display_name or caller.user.name,
        "role": caller.role.value,
        "role_label": ROLE_LABELS.get(caller.role.value, caller.role.value),
        "department": department.name if department else "",
        "manager": caller.role in (Role.manager, Role.admin),
    }


def render(template: str, caller: Caller | None, db: Session, **context: Any) -> str:
    """One page's HTML for ``caller`` (None: signed out)."""
    user = _user(db, caller) if caller is not None else None
    return _templates.get_template(template).render(user=user, **context)


ERROR_TEMPLATES = {404: "not_found.html", 403: "forbidden.html"}


def render_error_page(
    status: int, caller: Caller | None, db: Session, *, heading: str | None = None, message: str | None = None
) -> str:
    """The Japanese page for a page request that is refused: 404 (no such page or record) or 403
    (not allowed). ``heading``/``message`` replace the general wording (e.g. 記録が見つかりません)."""
    return render(ERROR_TEMPLATES[status], caller, db, page="", heading=heading, message=message)


def recording_context(recording: Recording) -> dict[str, Any]:
    """What a page about one recording shows in its header."""
    return {
        "recording": recording,
        "kind_label": KIND_LABELS.get(recording.kind, recording.kind),
        "header_fields": header_fields(recording.kind),
        # The editor's header block: each field of the kind (service.records.fields), and the labels
        # of other keys a header may hold; ケバ取り表示 hides what 整文 leaves out (service.records.tidy).
        "field_specs": kind_fields(recording.kind),
        "other_labels": OTHER_LABELS,
        "record_title": RECORD_TITLES.get(recording.kind, "記録"),
        "filler_patterns": FILLER_PATTERNS,
    }


def people(db: Session, caller: Caller) -> dict[str, dict[str, str]]:
    """Names to show for ids in the pages (who uploaded, who saved a revision, which device).

    The caller's department (admins: everyone); names only, nothing else about the accounts.
    """
    users = select(User)
    devices = select(Device)
    if caller.role != Role.admin:
        users = users.where(User.department_id == caller.user.department_id)
        devices = devices.where(Device.department_id == caller.user.department_id)
    return {
        "users": {str(u.id): u.display_name or u.name for u in db.exec(users.order_by(col(User.id))).all()},
        "devices": {str(d.id): d.name for d in db.exec(devices.order_by(col(Device.id))).all()},
    }
