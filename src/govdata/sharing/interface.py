"""Interface mode (接口访问): a provider registers its own HTTP service for one of its resources, and
the platform calls it on behalf of the holders of a grant with the mode ``interface`` — the way
X-Road's security servers mediate — so that consumers never hold the provider's address or secret.

**Registration** (``POST/GET/DELETE /api/v1/resources/{code}/interface``): the provider's
``dept_officer`` (or ``dept_head``) gives a base URL (checked by ``sharing.outbound``: http or https,
no internal addresses unless ``GOVDATA_INTERFACE_ALLOW_PRIVATE``), a secret header value the platform
sends with every call (sealed with AES-GCM under a key outside the database, ``sharing.sealing``, and
never answered again), the header's name (``X-GovData-Secret`` unless said otherwise) and a timeout.
Only the provider's staff and the authority read the registration.

**Calls** (``GET|POST /api/v1/share/{code}/interface/{path}``), in this order:

1. ``grants.access_for(…, "interface")``: a consumer's application system (or its staff) under a
   usable grant naming the mode, or the provider's own staff (401/403/404 as SPEC §15 says);
2. the grant's rate limit, counted with the other services' calls of the same grant
   (``service.data``'s limiter: 429 with ``Retry-After``);
3. the registration (404 when the resource has none) and the path (422 for ``.``/``..`` segments);
4. the request goes to ``<base URL>/<path>?<query>`` with httpx, to the address that was checked,
   within the registered timeout (for the whole exchange), never following redirects. It carries the
   caller's ``Content-Type``, ``Accept`` and ``Accept-Language`` and the body (POST, at most
   :data:`MAX_REQUEST_BYTES`), never the caller's ``Authorization`` or cookies; instead
   ``X-GovData-Grant``, ``X-GovData-Consumer`` (the consumer department's id),
   ``X-GovData-Consumer-Name`` and ``X-GovData-Purpose`` (percent-encoded UTF-8), ``X-GovData-System``,
   ``X-GovData-Items`` (the granted item codes), ``X-End-User`` (percent-encoded), ``X-GovData-Request-Id``
   and the secret header;
5. the answer is read as a stream up to :data:`MAX_RESPONSE_BYTES` and returned with its status and
   a few of its headers (type, language, caching, ``Retry-After``). The provider's own staff get it
   as it is. Anyone else gets it **cut to the grant, or not at all** (fail closed): whatever its
   ``Content-Type`` says (JSON sent as ``text/plain`` or with no type is read as JSON all the same),
   the body must be JSON of a shape the platform can read —

   - a *record*: an object holding at least one of the resource's item codes as a key (in any letter
     case). It keeps only the granted items, each of which must hold a single value (text, number,
     true/false, null), those served masked masked as the query service masks them
     (``sharing.masking``); its other keys are left out;
   - a list of records;
   - an *envelope*: an object holding no item code, whose objects are records or envelopes and whose
     lists are lists of records, at most :data:`MAX_ANSWER_DEPTH` levels deep. Of its other values
     only the paging and status fields of :data:`ENVELOPE_FIELDS` (``total``, ``page``, ``code``,
     ``message`` …) pass; the rest is left out, since the platform cannot tell what it holds.

   An empty body passes. Anything else — not JSON (plain text, a file, NDJSON), a bare value, a list
   of anything but records (a table of ``columns`` and ``rows``), an envelope keyed by data rather
   than by field names (``{"410802…": {…}}``: its keys must be ASCII names starting with a letter),
   a granted item holding an object or a list, deeper nesting — is refused with 502
   (``unfilterable-answer``): the platform cannot limit it to the grant. A cut answer is
   ``application/json`` (or the provider's ``+json`` type). A provider serving this mode keys its
   records by the catalog's item codes.

The provider down or refusing the connection, a redirect, a 5xx, an answer too large: 502; no
answer within the timeout: 504 — problem+json in Chinese that never names the provider's address.
Every call is a usage record (mode ``interface``, rows = records in the answer) and, when answered,
an audit event (``sharing.data.interface``), both through ``sharing.usage``.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote

import anyio
import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from govdata.catalog import service as catalog
from govdata.catalog.service import ResourceRef
from govdata.core import audit, clock
from govdata.core.auth import Actor, Refusal, Role, enforce, lacks, permission, require
from govdata.core.config import Settings
from govdata.core.db import utcnow
from govdata.core.errors import (
    Conflict,
    NotFound,
    PayloadTooLarge,
    PermissionDenied,
    Problem,
    field_error,
)
from govdata.core.observability import log
from govdata.orgs import service as orgs
from govdata.sharing import masking, outbound, sealing, usage
from govdata.sharing.auth import READ, USE, in_department, is_authority
from govdata.sharing.interface_models import InterfaceEndpoint
from govdata.sharing.service import data
from govdata.sharing.service.grants import Access, access_for, item_codes

MODE = "interface"
DEFAULT_SECRET_HEADER = "X-GovData-Secret"
DEFAULT_TIMEOUT_SECONDS = 10.0
MAX_TIMEOUT_SECONDS = 60.0
MAX_REQUEST_BYTES = 10 * 1024 * 1024
MAX_RESPONSE_BYTES = 20 * 1024 * 1024
MAX_PATH_LENGTH = 1000
MAX_QUERY_LENGTH = 8000
MAX_ANSWER_DEPTH = 32
# the fields of an envelope (an object that is no record) that pass with a value other than records:
# paging and status, compared in lower case. Any other value of an envelope is left out.
ENVELOPE_FIELDS = frozenset(
    {
        "total",
        "count",
        "page",
        "page_no",
        "pageno",
        "page_num",
        "pagenum",
        "page_size",
        "pagesize",
        "pages",
        "total_count",
        "totalcount",
        "limit",
        "offset",
        "has_more",
        "hasmore",
        "next",
        "next_cursor",
        "nextcursor",
        "cursor",
        "code",
        "status",
        "success",
        "message",
        "msg",
        "detail",
        "error",
        "errcode",
        "errmsg",
        "error_code",
        "errorcode",
        "title",
        "type",
        "request_id",
        "requestid",
        "timestamp",
    }
)

INTERFACE_MANAGE = permission(
    "sharing.interface.manage", {Role.dept_officer, Role.dept_head}, "登记本部门资源的接口服务"
)

# what of the caller's request goes on to the provider, and what of the provider's answer comes back
FORWARDED_REQUEST_HEADERS = ("content-type", "accept", "accept-language")
RETURNED_HEADERS = (
    "content-language",
    "cache-control",
    "etag",
    "last-modified",
    "content-disposition",
    "retry-after",
)
# header names a registration may not choose for its secret: the platform sets these itself
_RESERVED_HEADERS = {
    "host",
    "content-length",
    "content-type",
    "content-encoding",
    "transfer-encoding",
    "connection",
    "upgrade",
    "te",
    "trailer",
    "keep-alive",
    "proxy-authorization",
    "cookie",
    "accept",
    "accept-encoding",
    "accept-language",
    "x-end-user",
}
_HEADER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,99}$")
_SECRET = re.compile(r"^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$")
_PCHAR_SAFE = "!$&'()*+,;=:@-._~"


class BadGateway(Problem):
    status, slug, title = 502, "bad-gateway", "Bad gateway"


class GatewayTimeout(Problem):
    status, slug, title = 504, "gateway-timeout", "Gateway timeout"


# --- who may do what ---------------------------------------------------------------------------------


def manage_refusal(actor: Actor, resource: ResourceRef) -> Refusal:
    """The provider's officers register, change and remove their resources' interface services."""
    if refused := lacks(actor, INTERFACE_MANAGE):
        return refused
    if not in_department(actor, resource.provider_id):
        return PermissionDenied("只有提供部门可以登记该资源的接口服务。", slug="not-provider")
    return None


def read_refusal(actor: Actor, resource: ResourceRef) -> Refusal:
    """The provider's staff and the authority read a registration; consumers never see it."""
    if refused := lacks(actor, READ):
        return refused
    if is_authority(actor) or in_department(actor, resource.provider_id):
        return None
    return PermissionDenied("接口服务的登记信息只有提供部门可以查看。", slug="not-provider")


def can_manage_interface(actor: Actor, resource: ResourceRef) -> bool:
    return manage_refusal(actor, resource) is None


def can_read_interface(actor: Actor, resource: ResourceRef) -> bool:
    return read_refusal(actor, resource) is None


# --- registration -------------------------------------------------------------------------------------


def _endpoint(session: Session, resource_id: int) -> InterfaceEndpoint | None:
    return session.scalar(select(InterfaceEndpoint).where(InterfaceEndpoint.resource_id == resource_id))


def _secret_header(name: str | None) -> str:
    name = (name or DEFAULT_SECRET_HEADER).strip()
    if not _HEADER_NAME.match(name):
        raise field_error("secret_header", "应为 HTTP 头名称（字母、数字和连字符）")
    lower = name.lower()
    if lower in _RESERVED_HEADERS or lower.startswith("x-govdata-") and lower != "x-govdata-secret":
        raise field_error("secret_header", f"{name} 由平台自行设置，不能用来传送密钥")
    return name


def _secret(value: str) -> str:
    if len(value) < 8 or len(value) > 1000:
        raise field_error("secret", "长度应为 8 到 1000 个字符")
    if not _SECRET.match(value):
        raise field_error("secret", "只能是可见的 ASCII 字符（首尾不能是空格）")
    return value


def register_interface(
    session: Session,
    actor: Actor,
    settings: Settings,
    code: str,
    *,
    base_url: str,
    secret: str | None,
    secret_header: str | None = None,
    timeout_seconds: float | None = None,
) -> tuple[InterfaceEndpoint, bool]:
    """Register (or change) the provider's service for resource ``code``; the registration, and
    whether it is new. A new registration needs the secret; a change without one keeps the old."""
    require(actor, INTERFACE_MANAGE)
    resource = catalog.find_resource(session, actor, code)
    enforce(manage_refusal(actor, resource))
    body = catalog.version_body(session, resource.id) or {}
    if MODE not in (body.get("share_modes") or []):
        raise Conflict(
            "该资源的共享服务方式不包括接口访问（interface），请先修订目录。", slug="mode-not-offered"
        )
    url = outbound.checked_url(base_url, "base_url", allow_private=settings.interface_allow_private)
    header = _secret_header(secret_header)
    timeout = float(timeout_seconds or DEFAULT_TIMEOUT_SECONDS)
    if not 0.5 <= timeout <= MAX_TIMEOUT_SECONDS:
        raise field_error("timeout_seconds", f"应在 0.5 到 {MAX_TIMEOUT_SECONDS:g} 秒之间")
    endpoint = _endpoint(session, resource.id)
    created = endpoint is None
    if created and not secret:
        raise field_error("secret", "首次登记必须给出平台调用时发送的密钥")
    if endpoint is None:
        endpoint = InterfaceEndpoint(
            resource_id=resource.id,
            resource_code=resource.code,
            provider_id=resource.provider_id,
            created_by=actor.name,
            created_at=utcnow(),
        )
        session.add(endpoint)
    previous_url = endpoint.base_url
    endpoint.base_url = url
    endpoint.secret_header = header
    if secret:
        endpoint.secret_sealed = sealing.seal(settings, _secret(secret), resource.code)
    endpoint.timeout_seconds = timeout
    endpoint.updated_by = actor.name
    endpoint.updated_at = utcnow()
    session.flush()
    audit.record(
        session,
        actor,
        "sharing.interface.register" if created else "sharing.interface.change",
        "resource",
        resource.code,
        details={
            "base_url": url,
            "previous_base_url": None if created else previous_url,
            "secret_header": header,
            "secret_changed": bool(secret),
            "timeout_seconds": timeout,
        },
    )
    return endpoint, created


def get_interface(session: Session, actor: Actor, code: str) -> InterfaceEndpoint:
    """The registration of resource ``code`` (its secret stays sealed)."""
    require(actor, READ)
    resource = catalog.find_resource(session, actor, code)
    enforce(read_refusal(actor, resource))
    endpoint = _endpoint(session, resource.id)
    if endpoint is None:
        raise NotFound(f"资源 {resource.code} 未登记接口服务。", slug="no-interface")
    return endpoint


def remove_interface(session: Session, actor: Actor, code: str) -> None:
    """Remove the registration: calls through the platform answer 404 from now on."""
    require(actor, INTERFACE_MANAGE)
    resource = catalog.find_resource(session, actor, code)
    enforce(manage_refusal(actor, resource))
    endpoint = _endpoint(session, resource.id)
    if endpoint is None:
        raise NotFound(f"资源 {resource.code} 未登记接口服务。", slug="no-interface")
    session.delete(endpoint)
    audit.record(
        session,
        actor,
        "sharing.interface.remove",
        "resource",
        resource.code,
        details={"base_url": endpoint.base_url},
    )


# --- one call through the platform ------------------------------------------------------------------


@dataclass(frozen=True)
class Outgoing:
    """What the caller sent: the method, the path below the interface, the raw query string, the
    headers that may go on, and a reader of the body (called once access was granted)."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    read_body: Callable[[int], Awaitable[bytes]]


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    media_type: str | None
    headers: dict[str, str]


@dataclass(frozen=True)
class _Target:
    access: Access
    base_url: str
    secret_header: str
    secret: str
    timeout: float
    resource_items: frozenset[str]
    kinds: dict[str, str]
    consumer_name: str | None


@dataclass
class _Call:
    """A call being made: one usage record when it ends, answered or refused (SHR-7)."""

    session: Session
    actor: Actor
    code: str
    started: float = field(default_factory=time.perf_counter)
    at: datetime = field(default_factory=clock.now)
    access: Access | None = None
    rows: int = 0
    details: dict[str, Any] = field(default_factory=dict)

    def submit(self, status: int) -> None:
        if status == 401:
            return
        access = self.access
        if access is not None:
            code, provider_id = access.resource.code, access.resource.provider_id
        else:  # refused before access was known: logged when the resource exists
            ref = catalog.resource_ref(self.session, code=self.code)
            if ref is None:
                return
            code, provider_id = ref.code, ref.provider_id
        answered = status < 400
        entry = usage.Entry(
            at=self.at,
            actor=self.actor,
            resource_code=code,
            mode=MODE,
            status_code=status,
            latency_ms=usage.elapsed_ms(self.started),
            provider_id=provider_id,
            consumer_department_id=(access.consumer_department_id if access else None)
            or self.actor.department_id,
            grant_id=access.grant_id if access else None,
            application_id=access.application_id if access else None,
            purpose=access.purpose if access else None,
            items=access.items if access else (),
            rows=self.rows if answered else 0,
            details=self.details,
        )
        usage.submit(self.session, entry)


def _prepare(call: _Call, settings: Settings) -> _Target:
    session, actor = call.session, call.actor
    call.access = access = access_for(session, actor, call.code, MODE)
    data._check_rate(session, access)  # one window per grant, whichever service is called
    endpoint = _endpoint(session, access.resource.id)
    if endpoint is None:
        raise NotFound(f"资源 {access.resource.code} 未登记接口服务。", slug="no-interface")
    try:
        secret = sealing.unseal(settings, endpoint.secret_sealed, endpoint.resource_code)
    except sealing.SealError as exc:
        log.error("sharing.interface.secret_unreadable", resource=endpoint.resource_code, reason=str(exc))
        raise BadGateway("提供部门登记的接口密钥无法使用，请提供部门重新登记接口服务。") from exc
    consumer_name = None
    if access.consumer_department_id is not None:
        consumer_name = orgs.department_names(session, [access.consumer_department_id]).get(
            access.consumer_department_id
        )
    kinds = (
        masking.kinds_for(session, access.resource.id, access.resource.published_version)
        if access.masked
        else {}
    )
    return _Target(
        access=access,
        base_url=endpoint.base_url,
        secret_header=endpoint.secret_header,
        secret=secret,
        timeout=endpoint.timeout_seconds,
        resource_items=frozenset(item_codes(session, access.resource)),
        kinds=kinds,
        consumer_name=consumer_name,
    )


def _quoted_path(path: str) -> str:
    if len(path) > MAX_PATH_LENGTH:
        raise field_error("path", f"路径不能超过 {MAX_PATH_LENGTH} 个字符")
    segments = path.split("/")
    if any(s in (".", "..") for s in segments):
        raise field_error("path", "路径中不能有 . 或 .. 段")
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in path):
        raise field_error("path", "路径中不能有控制字符")
    return "/".join(quote(s, safe=_PCHAR_SAFE) for s in segments)


def _encoded(text: str | None) -> str:
    return quote(text or "", safe="")


def _headers(target: _Target, outgoing: Outgoing, actor: Actor, request_id: str, host: str) -> dict[str, str]:
    access = target.access
    headers = {
        name: value for name, value in outgoing.headers.items() if name.lower() in FORWARDED_REQUEST_HEADERS
    }
    headers["Host"] = host
    end_user = actor.end_user if actor.kind == "system" else actor.username
    if end_user:
        headers["X-End-User"] = _encoded(end_user)
    if access.grant_id is not None:
        headers["X-GovData-Grant"] = str(access.grant_id)
    if access.consumer_department_id is not None:
        headers["X-GovData-Consumer"] = str(access.consumer_department_id)
    if target.consumer_name:
        headers["X-GovData-Consumer-Name"] = _encoded(target.consumer_name)
    if access.system_id is not None or actor.system_id is not None:
        headers["X-GovData-System"] = str(access.system_id or actor.system_id)
    if access.purpose:
        headers["X-GovData-Purpose"] = _encoded(access.purpose)
    headers["X-GovData-Items"] = ",".join(access.items)
    headers["X-GovData-Request-Id"] = request_id
    headers[target.secret_header] = target.secret
    return headers


async def _exchange(
    target: _Target, outgoing: Outgoing, body: bytes, actor: Actor, request_id: str, settings: Settings
) -> tuple[int, dict[str, str], bytes]:
    """Send the call to the provider; its status, headers and body (502/504 as the module says)."""
    resource = target.access.resource.code
    try:
        pinned = await anyio.to_thread.run_sync(
            lambda: outbound.pin(target.base_url, allow_private=settings.interface_allow_private)
        )
    except outbound.Unreachable as exc:
        log.warning("sharing.interface.unreachable_address", resource=resource, reason=str(exc))
        raise BadGateway("提供部门登记的接口服务地址当前不可调用，请联系提供部门。") from exc
    path = _quoted_path(outgoing.path)
    url = pinned.url.rstrip("/") + ("/" + path if path else "")
    if outgoing.query:
        url += "?" + outgoing.query
    headers = _headers(target, outgoing, actor, request_id, pinned.host_header)
    timeout = target.timeout
    try:
        async with asyncio.timeout(timeout):
            async with httpx.AsyncClient(
                timeout=httpx.Timeout(timeout),
                follow_redirects=False,
                trust_env=False,
                verify=outbound.tls_context(),
            ) as client:
                request = client.build_request(
                    outgoing.method,
                    url,
                    headers=headers,
                    content=body if outgoing.method == "POST" else None,
                    extensions=pinned.extensions,
                )
                response = await client.send(request, stream=True)
                try:
                    chunks: list[bytes] = []
                    size = 0
                    async for chunk in response.aiter_bytes():
                        size += len(chunk)
                        if size > MAX_RESPONSE_BYTES:
                            raise BadGateway(
                                f"提供部门接口的答复超过 {MAX_RESPONSE_BYTES // (1024 * 1024)} MB，平台不予转发。"
                            )
                        chunks.append(chunk)
                finally:
                    await response.aclose()
    except (TimeoutError, httpx.TimeoutException) as exc:
        log.warning("sharing.interface.timeout", resource=resource, seconds=timeout)
        raise GatewayTimeout(f"提供部门的接口服务在 {timeout:g} 秒内未答复。") from exc
    except httpx.HTTPError as exc:
        log.warning("sharing.interface.unavailable", resource=resource, error=type(exc).__name__)
        raise BadGateway("提供部门的接口服务无法连接或中断了连接，请稍后再试。") from exc
    status = response.status_code
    if 300 <= status < 400:
        raise BadGateway("提供部门的接口服务返回了重定向，平台不跟随重定向。")
    if status >= 500:
        raise BadGateway(f"提供部门的接口服务出错（HTTP {status}）。", provider_status=status)
    return status, dict(response.headers), b"".join(chunks)


def _is_json(media_type: str) -> bool:
    return media_type == "application/json" or media_type.endswith("+json")


class Unfilterable(Exception):
    """An answer the platform cannot cut to a grant (why, in Chinese)."""


_SCALAR = (str, int, float, bool, type(None))
_BOM = b"\xef\xbb\xbf"
_FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,63}")  # what an envelope's keys may be


class _Cutter:
    """Cuts one parsed answer to a grant (see :func:`filter_to_grant`); the masks are applied at the
    end, one Arrow call per mask and type of value rather than one per value."""

    def __init__(self, target: _Target) -> None:
        self.items = frozenset(target.access.items)
        self.masked = target.access.masked
        self.resource_items = target.resource_items
        self.kinds = target.kinds
        self.rows = 0
        self.pending: dict[tuple[str, type], list[tuple[dict[str, Any], str, Any]]] = {}

    def is_record(self, value: dict[str, Any]) -> bool:
        return any(key.lower() in self.resource_items for key in value)

    def top(self, value: Any) -> Any:
        if isinstance(value, dict):
            return self.object(value, 1)
        if isinstance(value, list):
            return self.records(value, 1)
        raise Unfilterable("答复不是对象或记录的列表")

    def object(self, value: dict[str, Any], depth: int) -> dict[str, Any]:
        if depth > MAX_ANSWER_DEPTH:
            raise Unfilterable(f"答复的嵌套超过 {MAX_ANSWER_DEPTH} 层")
        if self.is_record(value):
            return self.record(value)
        envelope: dict[str, Any] = {}
        for key, element in value.items():
            if isinstance(element, dict | list) and not _FIELD_NAME.fullmatch(key):
                raise Unfilterable("答复中的对象以数据而不是字段名为键")
            if isinstance(element, dict):
                envelope[key] = self.object(element, depth + 1)
            elif isinstance(element, list):
                envelope[key] = self.records(element, depth + 1)
            elif key.lower() in ENVELOPE_FIELDS:
                envelope[key] = element
            # any other value of an envelope is not passed on: the platform cannot tell what it is
        return envelope

    def records(self, value: list[Any], depth: int) -> list[dict[str, Any]]:
        if depth > MAX_ANSWER_DEPTH:
            raise Unfilterable(f"答复的嵌套超过 {MAX_ANSWER_DEPTH} 层")
        out = []
        for element in value:
            if not (isinstance(element, dict) and self.is_record(element)):
                raise Unfilterable("答复中的列表含有不以数据项代码为键的内容")
            out.append(self.record(element))
        return out

    def record(self, value: dict[str, Any]) -> dict[str, Any]:
        self.rows += 1
        record: dict[str, Any] = {}
        for key, item_value in value.items():
            code = key.lower()
            if code not in self.items:
                continue
            if not isinstance(item_value, _SCALAR):
                raise Unfilterable(f"数据项 {code} 的值不是单个值")
            record[key] = item_value
            if code in self.masked and item_value is not None:
                kind = self.kinds.get(code, masking.GENERIC)
                self.pending.setdefault((kind, type(item_value)), []).append((record, key, item_value))
        return record

    def mask(self) -> None:
        for (kind, _), places in self.pending.items():
            masked = masking.mask_values(kind, [value for _, _, value in places])
            for (record, key, _), value in zip(places, masked, strict=True):
                record[key] = value


def filter_to_grant(value: Any, target: _Target) -> tuple[Any, int]:
    """A parsed JSON answer cut to the grant, and how many records it holds; :class:`Unfilterable`
    when it has a shape the platform cannot cut (see the module's docstring)."""
    cutter = _Cutter(target)
    out = cutter.top(value)
    cutter.mask()
    return out, cutter.rows


def _count_records(body: bytes, target: _Target) -> int:
    """How many records an answer to the provider's own staff holds (for the usage log); 0 when it
    is not JSON, or not of a shape the platform reads."""
    try:
        return _count(json.loads(body.removeprefix(_BOM)), target, 1)
    except (ValueError, RecursionError):
        return 0


def _count(value: Any, target: _Target, depth: int) -> int:
    if depth > MAX_ANSWER_DEPTH:
        return 0
    if isinstance(value, list):
        return sum(_count(element, target, depth + 1) for element in value)
    if not isinstance(value, dict):
        return 0
    if any(key.lower() in target.resource_items for key in value):
        return 1
    return sum(_count(element, target, depth + 1) for element in value.values())


def _answer(target: _Target, call: _Call, status: int, headers: dict[str, str], body: bytes) -> Answer:
    """The provider's answer as the caller receives it: whole for the provider's own staff; for
    anyone else cut to the grant, or refused (502) when it cannot be — fail closed."""
    content_type = headers.get("content-type")
    returned = {name: headers[name] for name in RETURNED_HEADERS if name in headers}
    if target.access.own:  # the provider's own staff receive the answer whole
        call.rows = _count_records(body, target) if body else 0
        return Answer(status, body, content_type, returned)
    if not body:  # nothing in it to cut
        return Answer(status, body, content_type, returned)
    try:
        parsed = json.loads(body.removeprefix(_BOM))
        filtered, rows = filter_to_grant(parsed, target)
        body = json.dumps(filtered, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode(
            "utf-8"
        )
    except (ValueError, RecursionError, Unfilterable) as exc:
        reason = str(exc) if isinstance(exc, Unfilterable) else "答复不是可解析的 JSON"
        if isinstance(exc, RecursionError):
            reason = "答复的嵌套过深"
        log.warning(
            "sharing.interface.unfilterable",
            resource=target.access.resource.code,
            content_type=content_type,
            reason=reason,
        )
        call.details["unfilterable"] = reason
        raise BadGateway(
            f"提供部门接口的答复无法限定在授权范围内（{reason}），平台不予转发。",
            slug="unfilterable-answer",
        ) from None
    call.rows = rows
    media_type = (content_type or "").split(";")[0].strip().lower()
    return Answer(status, body, media_type if _is_json(media_type) else "application/json", returned)


async def call_interface(
    session: Session, actor: Actor, settings: Settings, code: str, outgoing: Outgoing
) -> Answer:
    """Call the provider's service of resource ``code`` for ``actor`` (see the module's docstring)."""
    require(actor, USE)
    call = _Call(session, actor, code)
    request_id = uuid.uuid4().hex
    call.details = {"method": outgoing.method, "path": "/" + outgoing.path, "request_id": request_id}
    try:
        target = await anyio.to_thread.run_sync(_prepare, call, settings)
        if outgoing.method not in ("GET", "POST"):
            raise field_error("method", "只支持 GET 和 POST")
        body = b""
        if outgoing.method == "POST":
            body = await outgoing.read_body(MAX_REQUEST_BYTES)
            if len(body) > MAX_REQUEST_BYTES:
                raise PayloadTooLarge(f"请求体不能超过 {MAX_REQUEST_BYTES // (1024 * 1024)} MB。")
        if len(outgoing.query) > MAX_QUERY_LENGTH:
            raise field_error("query", f"查询字符串不能超过 {MAX_QUERY_LENGTH} 个字符")
        status, headers, answer_body = await _exchange(target, outgoing, body, actor, request_id, settings)
        answer = await anyio.to_thread.run_sync(_answer, target, call, status, headers, answer_body)
    except Problem as problem:
        call.details["status"] = problem.status
        await anyio.to_thread.run_sync(call.submit, problem.status)
        raise
    call.details.update({"status": answer.status, "bytes": len(answer.body)})
    answer.headers["X-GovData-Request-Id"] = request_id
    await anyio.to_thread.run_sync(call.submit, answer.status)
    return answer
