"""Answers of the sign-in routes (``api.routes.auth``)."""

from __future__ import annotations

from pydantic import BaseModel

from service.models import Department, User


class Me(BaseModel):
    """The signed-in user."""

    id: int
    name: str
    display_name: str  # the login name when no display name is set
    role: str
    department_id: int
    department: str  # the department's name

    @classmethod
    def of(cls, user: User, department: Department | None) -> Me:
        assert user.id is not None
        return cls(
            id=user.id,
            name=user.name,
            display_name=user.display_name or user.name,
            role=user.role,
            department_id=user.department_id,
            department=department.name if department else "",
        )


class LoggedIn(BaseModel):
    user: Me
    csrf_token: str  # to echo in X-CSRF-Token (also in a cookie the page's script reads)
