"""Answers of the usage summary (``api.routes.usage``, ``service.usage.summarize``)."""

from __future__ import annotations

from pydantic import BaseModel


class Period(BaseModel):
    """Either the month or the fiscal year asked for: only that key is present."""

    month: str | None = None  # YYYY-MM, Asia/Tokyo
    fiscal_year: int | None = None  # April to March, named by the year it starts in


class DepartmentUsage(BaseModel):
    department_id: int
    department: str
    hours: float
    recordings: int


class SourceUsage(BaseModel):
    source: str  # web | device | api
    hours: float
    recordings: int


class KindUsage(BaseModel):
    kind: str  # meeting | interview | negotiation | phone
    hours: float
    recordings: int


class MonthUsage(BaseModel):
    month: str
    hours: float


class UsageSummary(BaseModel):
    """Hours used against the target; ``by_month`` only for a fiscal year."""

    period: Period
    target_hours: float
    used_hours: float
    ratio: float | None  # used ÷ target; null without a target
    recordings: int
    by_department: list[DepartmentUsage]
    by_source: list[SourceUsage]
    by_kind: list[KindUsage]
    by_month: list[MonthUsage] | None = None
