"""Shapes shared by every capability's API: paging (SPEC §15 lists return ``{items, total}``), instants
given as parameters, and the route class every API router uses, which documents the problems a route
may answer with."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query
from fastapi import params as fastapi_params
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from pydantic import AfterValidator, BaseModel, ConfigDict

from govdata.core import clock
from govdata.core.auth import Authenticator
from govdata.core.errors import problem_responses

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int


class Paging(BaseModel):
    limit: int = 50
    offset: int = 0


def _paging(
    limit: Annotated[int, Query(ge=1, le=500, description="每页条数")] = 50,
    offset: Annotated[int, Query(ge=0, le=2_000_000_000, description="起始位置")] = 0,
) -> Paging:
    return Paging(limit=limit, offset=offset)


PagingParams = Annotated[Paging, Depends(_paging)]


class OrmModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


def _representable(value: datetime) -> datetime:
    """An instant the platform can compare with stored times: one that exists in UTC and in China
    time (``0001-01-01`` without a zone does not, once converted). A time given without a zone (or a
    bare date, its midnight) is China time, the platform's own."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=clock.CHINA)
    try:
        value.astimezone(UTC)
        value.astimezone(clock.CHINA)
    except (ValueError, OverflowError) as exc:
        raise ValueError("时间超出可表示的范围") from exc
    return value


Instant = Annotated[datetime, AfterValidator(_representable)]
"""A date and time parameter (``as_of``, ``since``, ``until``), aware: without a zone it is China time;
one that cannot be converted is a 422 naming the parameter, not a 500."""


# --- the problems a route documents -----------------------------------------------------------

STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
BEARER = "bearer"
BEARER_SCHEME = {
    "type": "http",
    "scheme": "bearer",
    "description": "POST /api/v1/auth/token 换取的访问令牌，或应用系统的访问凭证（gds_…）",
}


def _dependants(dependant: Dependant) -> list[Dependant]:
    found = [dependant]
    for sub in dependant.dependencies:
        found += _dependants(sub)
    return found


class ApiRoute(APIRoute):
    """An API route that documents, besides its success, the problems it may answer with
    (``application/problem+json``), read from what it declares:

    - 401 always (a bearer token that is invalid or expired is refused on every route, the login
      refuses a wrong password), 429 always (the rate limit);
    - 403 when its permission dependency checks a permission (and on every state-changing route,
      which refuses a session cookie from another origin);
    - 404 when it names an object in its path; 409 when it changes state;
    - 422 when it takes parameters or a body; 400 and 413 when it takes a form or file upload.

    A route adds statuses of its own with ``responses=problem_responses(…)``.
    """

    def __init__(self, path: str, endpoint: Any, **kwargs: Any) -> None:
        super().__init__(path, endpoint, **kwargs)
        checks = [d.call for d in _dependants(self.dependant) if isinstance(d.call, Authenticator)]
        for status, response in problem_responses(*self.problem_statuses(checks)).items():
            self.responses.setdefault(status, response)
        # the credential it asks for: none (the login), optional, or a bearer token
        if not checks:
            security: list[dict] = []
        elif any(check.allow_anonymous for check in checks):
            security = [{}, {BEARER: []}]
        else:
            security = [{BEARER: []}]
        self.openapi_extra = {"security": security, **(self.openapi_extra or {})}

    def problem_statuses(self, checks: list[Authenticator]) -> list[int]:
        dependants = _dependants(self.dependant)
        statuses = {401, 429}
        if any(check.permission is not None for check in checks) or self.methods & STATE_CHANGING:
            statuses.add(403)
        if self.dependant.path_params:
            statuses.add(404)
        if self.methods & STATE_CHANGING:
            statuses.add(409)
        takes_input = any(d.path_params or d.query_params or d.header_params for d in dependants)
        if takes_input or self.body_field is not None:
            statuses.add(422)
        if self.body_field is not None and isinstance(self.body_field.field_info, fastapi_params.Form):
            statuses |= {400, 413}
        return sorted(statuses)
