"""Answers of the Word-template routes (``api.routes.record_templates``)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class TemplateOut(BaseModel):
    id: int
    kind: str
    kind_label: str  # 会議録, 面談記録 …
    department_id: int | None  # None: the whole city
    department: str  # 全市共通 for the whole city
    name: str
    size_bytes: int
    active: bool
    created_at: datetime
