"""Routes of the interface mode (接口访问): the provider's registration of its service, and calls to it
through the platform. Thin: parse, call ``sharing.interface``, answer. See that module for the rules."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from govdata.core.auth import Actor, Authenticator, DbSession
from govdata.core.errors import PROBLEM_MEDIA_TYPE, PROBLEM_REF, PayloadTooLarge, register_field_labels
from govdata.core.schemas import ApiRoute
from govdata.sharing import interface
from govdata.sharing.auth import Reader, User
from govdata.sharing.interface_models import InterfaceEndpoint

router = APIRouter(prefix="/api/v1", tags=["接口访问"], route_class=ApiRoute)

InterfaceManager = Annotated[Actor, Depends(Authenticator(interface.INTERFACE_MANAGE))]

register_field_labels(
    {
        "base_url": "接口服务地址",
        "secret": "调用密钥",
        "secret_header": "密钥请求头",
        "timeout_seconds": "超时秒数",
        "path": "接口路径",
        "query": "查询字符串",
    }
)


class InterfaceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    base_url: str = Field(max_length=2000, description="接口服务的基础地址（http 或 https）")
    secret: str | None = Field(
        default=None,
        max_length=1000,
        description="平台每次调用时在请求头中发送的密钥（首次登记必填；修改时不填则保留原密钥）；登记后不再返回",
    )
    secret_header: str | None = Field(
        default=None,
        max_length=100,
        description=f"发送密钥的请求头名称，默认 {interface.DEFAULT_SECRET_HEADER}",
    )
    timeout_seconds: float | None = Field(
        default=None,
        ge=0.5,
        le=interface.MAX_TIMEOUT_SECONDS,
        description=f"一次调用的最长等待时间（秒），默认 {interface.DEFAULT_TIMEOUT_SECONDS:g}",
    )


class InterfaceOut(BaseModel):
    resource_code: str
    base_url: str
    secret_header: str
    secret_set: bool = Field(description="已登记密钥（密钥本身从不返回）")
    timeout_seconds: float
    call_path: str = Field(description="使用方通过平台调用的地址（其后接接口路径）")
    created_by: str
    created_at: datetime
    updated_by: str
    updated_at: datetime


def interface_out(endpoint: InterfaceEndpoint) -> InterfaceOut:
    return InterfaceOut(
        resource_code=endpoint.resource_code,
        base_url=endpoint.base_url,
        secret_header=endpoint.secret_header,
        secret_set=bool(endpoint.secret_sealed),
        timeout_seconds=endpoint.timeout_seconds,
        call_path=f"/api/v1/share/{endpoint.resource_code}/interface/",
        created_by=endpoint.created_by,
        created_at=endpoint.created_at,
        updated_by=endpoint.updated_by,
        updated_at=endpoint.updated_at,
    )


@router.post(
    "/resources/{code:rcode}/interface",
    status_code=201,
    response_model=InterfaceOut,
    responses={200: {"model": InterfaceOut, "description": "已修改登记"}},
    summary="登记（或修改）本部门资源的接口服务：地址、密钥、超时",
)
def register_interface(
    request: Request,
    response: Response,
    session: DbSession,
    actor: InterfaceManager,
    code: str,
    body: InterfaceIn,
) -> InterfaceOut:
    endpoint, created = interface.register_interface(
        session,
        actor,
        request.app.state.settings,
        code,
        base_url=body.base_url,
        secret=body.secret,
        secret_header=body.secret_header,
        timeout_seconds=body.timeout_seconds,
    )
    if not created:
        response.status_code = 200
    return interface_out(endpoint)


@router.get(
    "/resources/{code:rcode}/interface",
    response_model=InterfaceOut,
    summary="资源的接口服务登记（提供部门和主管部门可见，不含密钥）",
)
def get_interface(session: DbSession, actor: Reader, code: str) -> InterfaceOut:
    return interface_out(interface.get_interface(session, actor, code))


@router.delete(
    "/resources/{code:rcode}/interface",
    status_code=204,
    response_class=Response,
    summary="注销资源的接口服务：此后经平台的调用答复 404",
)
def remove_interface(session: DbSession, actor: InterfaceManager, code: str) -> Response:
    interface.remove_interface(session, actor, code)
    return Response(status_code=204)


def _problem(description: str) -> dict:
    return {"description": description, "content": {PROBLEM_MEDIA_TYPE: {"schema": PROBLEM_REF}}}


CALL_RESPONSES: dict[int | str, dict] = {
    200: {
        "description": "提供部门接口的答复：状态码和类型照转；JSON 答复按授权筛选信息项并脱敏",
        "content": {"application/json": {"schema": {}}, "*/*": {"schema": {}}},
    },
    413: _problem("请求体太大"),
    502: _problem("提供部门的接口服务不可用、出错、重定向或答复过大"),
    504: _problem("提供部门的接口服务未在登记的超时内答复"),
}


def _reader(request: Request):
    async def read_body(limit: int) -> bytes:
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise PayloadTooLarge(f"请求体不能超过 {limit // (1024 * 1024)} MB。")
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise PayloadTooLarge(f"请求体不能超过 {limit // (1024 * 1024)} MB。")
            chunks.append(chunk)
        return b"".join(chunks)

    return read_body


async def _call(request: Request, session, actor: Actor, code: str, path: str) -> Response:
    outgoing = interface.Outgoing(
        method=request.method,
        path=path,
        query=request.url.query,
        headers=dict(request.headers),
        read_body=_reader(request),
    )
    answer = await interface.call_interface(session, actor, request.app.state.settings, code, outgoing)
    return Response(
        content=answer.body, status_code=answer.status, media_type=answer.media_type, headers=answer.headers
    )


@router.get(
    "/share/{code:rcode}/interface/{path:path}",
    response_class=Response,
    responses=CALL_RESPONSES,
    summary="接口访问（GET）：经平台调用提供部门登记的接口服务，按授权筛选答复",
)
async def call_interface_get(
    request: Request, session: DbSession, actor: User, code: str, path: str
) -> Response:
    return await _call(request, session, actor, code, path)


@router.post(
    "/share/{code:rcode}/interface/{path:path}",
    response_class=Response,
    responses=CALL_RESPONSES,
    summary="接口访问（POST）：请求体原样转给提供部门的接口服务，按授权筛选答复",
)
async def call_interface_post(
    request: Request, session: DbSession, actor: User, code: str, path: str
) -> Response:
    return await _call(request, session, actor, code, path)
