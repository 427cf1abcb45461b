"""Monthly caps per department: an alert at 80 % and at 100 %, once per month and level, shown on the
dashboard and e-mailed to the department's managers where SMTP is configured."""

from __future__ import annotations

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from service.dashboard import cap_level
from service.mail import send_mail
from service.models import Department, Role, UsageAlert, UsageRecord, User, utcnow
from service.settings import ServiceSettings


def check_cap(db: Session, department_id: int, month: str, settings: ServiceSettings) -> int | None:
    """Record (and mail) the alert this department's usage has newly reached, if any."""
    department = db.get(Department, department_id)
    if department is None or not department.monthly_cap_hours:
        return None
    seconds = db.exec(
        select(func.coalesce(func.sum(UsageRecord.audio_seconds), 0.0)).where(
            UsageRecord.department_id == department_id, UsageRecord.month == month
        )
    ).one()
    level = cap_level(float(seconds) / 3600.0, department.monthly_cap_hours)
    if level is None:
        return None
    alert = UsageAlert(department_id=department_id, month=month, level=level)
    try:
        with db.begin_nested():
            db.add(alert)
    except IntegrityError:
        return None  # already alerted at this level this month
    db.commit()
    _mail(db, department, alert, float(seconds) / 3600.0, settings)
    return level


def _mail(db: Session, department: Department, alert: UsageAlert, hours: float, settings: ServiceSettings) -> None:
    if not settings.smtp_host:
        return
    managers = db.exec(
        select(User).where(
            User.department_id == department.id, User.role == Role.manager, col(User.active), User.email != ""
        )
    ).all()
    sent = send_mail(
        settings,
        [m.email for m in managers],
        f"[kiroku] {department.name}: {alert.month} の利用が上限の{alert.level}%に達しました",
        f"{department.name} の {alert.month} の音声認識の利用時間は {hours:.1f} 時間で、"
        f"月の上限 {department.monthly_cap_hours:.1f} 時間の{alert.level}%に達しました。\n"
        "詳しくは kiroku の利用状況の画面をご覧ください。\n",
        f"the usage alert for department {department.id}",
    )
    if sent:
        alert.emailed_at = utcnow()
        db.add(alert)
        db.commit()
