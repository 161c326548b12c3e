"""Routes of the CKAN-compatible Action API (OPN-8): ``/api/3/action/<name>`` and ``/api/action/<name>``,
GET with query parameters or POST with a JSON (or form) body, as CKAN accepts them; every answer in
CKAN's envelope ``{help, success, result}`` or ``{help, success: false, error: {__type, message}}``
with CKAN's status codes (400 unknown action or unreadable body, 403, 404, 409).

Anyone may call them: they read the open catalog only. A credential is read the way CKAN reads it
(``Authorization: <key>``, also ``Authorization: Bearer <key>``, ``X-CKAN-API-Key`` or ``X-Api-Key``)
and matters only to ``datastore_search`` on a conditional dataset: an API key of an approved open
application, or the login token of the approved public account itself. The routes are left out of the
OpenAPI document: their contract is CKAN's (``docs/opening-interop.md``).
"""

from __future__ import annotations

import dataclasses
import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from govdata.core.auth import ANONYMOUS, Actor, Authenticator, DbSession, Role, client_address
from govdata.core.errors import Problem
from govdata.opening import service as opening
from govdata.opening.interop import ckan
from govdata.opening.service import applications, keys

router = APIRouter(tags=["数据开放（CKAN 兼容接口）"], include_in_schema=False)


class CkanCaller(Authenticator):
    """Admits anyone, as CKAN's read actions do. The caller's credential is not a login here: it is
    read by the action that needs it (``datastore_search``), and a credential that is not valid is
    CKAN's 403 for that action, not a 401 for every action."""

    def __init__(self) -> None:
        super().__init__(None)

    async def __call__(self, request: Request) -> Actor:  # type: ignore[override]
        return dataclasses.replace(ANONYMOUS, source=client_address(request))


Caller = Annotated[Actor, Depends(CkanCaller())]


def presented_credential(request: Request) -> str | None:
    headers = request.headers
    value = headers.get("authorization") or headers.get("x-ckan-api-key") or headers.get("x-api-key")
    if not value or not value.strip():
        return None
    scheme, _, rest = value.strip().partition(" ")
    return rest.strip() if scheme.lower() == "bearer" and rest.strip() else value.strip()


def _access_to(request: Request, session, credential: str | None):
    """Code → the access ``credential`` gives to that dataset (None: the credential is refused)."""

    def access(code: str) -> opening.OpenAccess | None:
        if credential is None:
            return opening.OpenAccess()
        if keys.is_key(credential):
            if keys.resolve_key(session, credential) is None:
                return None
            return applications.access_for(session, credential, code)
        actor = request.app.state.resolve_token(session, credential, None)
        if actor is not None and Role.public in actor.roles:
            return applications.access_for(session, actor, code)
        return None

    return access


def _envelope(request: Request, name: str, status: int, **body: Any) -> JSONResponse:
    base = str(request.base_url).rstrip("/")
    help_url = f"{base}/api/3/action/help_show?name={name}"
    return JSONResponse({"help": help_url, "success": status == 200, **body}, status_code=status)


def _error(request: Request, name: str, error: ckan.CkanError) -> JSONResponse:
    return _envelope(request, name, error.status, error=error.error())


_PROBLEM_KINDS = {
    403: ckan.AUTHORIZATION,
    404: ckan.NOT_FOUND,
    409: ckan.VALIDATION,
    422: ckan.VALIDATION,
    400: ckan.BAD_REQUEST,
}


async def _params(request: Request) -> dict[str, Any]:
    params: dict[str, Any] = dict(request.query_params)
    if request.method != "POST":
        return params
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.form()
        params.update({k: v for k, v in form.items() if isinstance(v, str)})
        return params
    raw = await request.body()
    if raw.strip():
        try:
            body = json.loads(raw)
        except ValueError as exc:
            raise ckan.CkanError(ckan.BAD_REQUEST, f"Bad request - JSON Error: {exc}") from None
        if not isinstance(body, dict):
            raise ckan.CkanError(ckan.BAD_REQUEST, "Bad request - JSON Error: 请求体应为 JSON 对象")
        params.update(body)
    return params


async def _call(request: Request, name: str, session) -> JSONResponse:
    action = ckan.ACTIONS.get(name)
    if action is None:
        return _error(
            request, name, ckan.CkanError(ckan.BAD_REQUEST, f"Bad request - Action name not known: {name}")
        )
    try:
        params = await _params(request)
        credential = presented_credential(request)
        call = ckan.Call(
            session=session,
            store=request.app.state.store,
            base=str(request.base_url).rstrip("/"),
            params=params,
            credential=credential,
        )
        call.access_to = _access_to(request, session, credential)
        result = await run_in_threadpool(action, call)
    except ckan.CkanError as error:
        return _error(request, name, error)
    except Problem as problem:
        kind = _PROBLEM_KINDS.get(problem.status)
        if kind is None:
            raise
        return _error(request, name, ckan.CkanError(kind, problem.detail))
    return _envelope(request, name, 200, result=result)


@router.get("/api/3/action/{name}")
@router.post("/api/3/action/{name}")
async def action_v3(name: str, request: Request, session: DbSession, caller: Caller) -> JSONResponse:
    return await _call(request, name, session)


@router.get("/api/action/{name}")
@router.post("/api/action/{name}")
async def action(name: str, request: Request, session: DbSession, caller: Caller) -> JSONResponse:
    return await _call(request, name, session)
