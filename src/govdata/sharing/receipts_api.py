"""Public routes of receipts (SHR-9): the node's public keys, and checking a receipt against its answer.

Both are public: whoever holds an answer of this node (a consumer department, or the citizen and
the office it was shown to) may check it, logged in or not. They count against the caller's
address in the rate limit like every anonymous request (``core.ratelimit``), and the body of a
check is read up to :data:`MAX_VERIFY_BYTES` only.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from govdata.core.auth import DbSession
from govdata.core.errors import (
    PayloadTooLarge,
    problem_responses,
    register_field_labels,
    unreadable_json,
    validation_problem,
)
from govdata.core.schemas import ApiRoute
from govdata.core.signing import ALG, node_key
from govdata.orgs import service as orgs
from govdata.sharing import receipts

router = APIRouter(prefix="/api/v1", route_class=ApiRoute, tags=["共享回执"])

MAX_VERIFY_BYTES = 32 * 1024 * 1024
"""Largest body a check accepts: a page of query results is far smaller."""

register_field_labels({"receipt": "回执", "answer": "答复"})


class NodePublicKey(BaseModel):
    key_id: str = Field(description="公钥标识：原始公钥的 SM3 摘要前 16 位十六进制")
    alg: str = Field(ALG, description="签名算法")
    public_key_pem: str = Field(description="公钥（PEM，SubjectPublicKeyInfo）")
    public_key: str = Field(description="原始公钥（32 字节）的 Base64")


class NodeOut(BaseModel):
    region_code: str
    name: str
    level: str


class NodeKeysOut(BaseModel):
    keys: list[NodePublicKey]
    node: NodeOut | None = Field(None, description="本节点（行政区划与名称）")


class ReceiptVerifyIn(BaseModel):
    receipt: dict[str, Any] = Field(description="答复中的 receipt 字段")
    answer: dict[str, Any] = Field(description="收到的答复（其中的 receipt 字段不计入摘要）")


class ReceiptVerifyOut(BaseModel):
    valid: bool = Field(description="回执由本节点签发，且答复与签发时一致")
    reason: str | None = Field(None, description="无效时的原因")


VERIFY_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["receipt", "answer"],
                    "properties": {
                        "receipt": {"type": "object", "description": "答复中的 receipt 字段"},
                        "answer": {"type": "object", "description": "收到的答复"},
                    },
                }
            }
        },
    }
}


@router.get("/node/keys", response_model=NodeKeysOut, summary="本节点的签名公钥（公开，用于核验回执）")
def node_keys(request: Request, session: DbSession) -> NodeKeysOut:
    key = node_key(request.app.state.settings)
    node = orgs.node_ref(session)
    return NodeKeysOut(
        node=NodeOut(region_code=node.region_code, name=node.name, level=node.level) if node else None,
        keys=[
            NodePublicKey(
                key_id=key.key_id,
                alg=key.alg,
                public_key_pem=key.public_key_pem,
                public_key=key.public_key_raw_b64,
            )
        ],
    )


@router.post(
    "/receipts/verify",
    response_model=ReceiptVerifyOut,
    response_model_exclude_none=True,
    summary="核验共享回执（公开）：回执由本节点签发且答复未被改动",
    responses=problem_responses(413, 422),
    openapi_extra=VERIFY_BODY,
)
async def verify_receipt(request: Request) -> ReceiptVerifyOut:
    body = await _read_body(request, MAX_VERIFY_BYTES)
    settings = request.app.state.settings

    def check() -> tuple[bool, str | None]:
        try:
            parsed = json.loads(body)
        except (ValueError, RecursionError) as exc:
            raise unreadable_json() from exc
        try:
            data = ReceiptVerifyIn.model_validate(parsed)
        except ValidationError as exc:
            errors = [{**e, "loc": ("body", *e.get("loc", ()))} for e in exc.errors()]
            raise validation_problem(errors) from exc
        return receipts.verify(node_key(settings), data.receipt, data.answer)

    valid, reason = await run_in_threadpool(check)  # parsing and hashing a large answer: off the loop
    return ReceiptVerifyOut(valid=valid, reason=reason)


async def _read_body(request: Request, limit: int) -> bytes:
    """The request body, refused with 413 as soon as it passes ``limit`` bytes."""
    too_large = PayloadTooLarge(f"请求体超过 {limit // (1024 * 1024)} MiB，无法核验。")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)
