"""Signed receipts of sharing answers (SHR-9, 可直接采信): the node confirms that an answer it gave at
time T came from the platform, and anyone holding the answer can check that nothing in it changed.

A receipt holds the SM3 digest of the answer's canonical JSON and an Ed25519 signature, by the node
key (``core.signing``), over the canonical JSON of the receipt itself (less its ``signature``).
Canonical JSON is what a consumer can rebuild from the JSON it received, in any language: the
answer's JSON value without its top-level ``receipt`` field, object keys sorted, no insignificant
white space, non-ASCII characters as themselves (not ``\\u`` escapes), UTF-8 — exactly
``json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)``. It is computed
over the JSON *value*, so how the server's serialiser spelt a number or escaped a character on the
wire does not matter. docs/receipts.md shows the check a consumer runs offline.

The answer given to :func:`issue` must hold JSON values only (str, int, float, bool, None, lists,
dicts with text keys): what the route returns, e.g. ``model_dump(mode="json")``. A date or a
Decimal raises TypeError, rather than being signed in one spelling and sent in another.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from govdata.core.signing import ALG, NodeKey, key_id_of, load_public_key

RECEIPT_FIELD = "receipt"
VERSION = 1
DIGEST_ALG = "SM3"

# field → the JSON types it may hold (bool is not an int here: the signature covers the spelling)
_FIELDS: dict[str, tuple[type, ...]] = {
    "version": (int,),
    "alg": (str,),
    "digest_alg": (str,),
    "digest": (str,),
    "issued_at": (str,),
    "grant_id": (int, type(None)),
    "resource_code": (str,),
    "direct_evidence": (bool,),
    "key_id": (str,),
    "signature": (str,),
}


def _canonical_json(value: Any) -> bytes:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def canonical(answer: Mapping[str, Any]) -> bytes:
    """The canonical JSON of an answer, its ``receipt`` field left out: the bytes its digest covers.

    The answer is first taken through JSON and back, as its consumer sees it: tuples become lists,
    non-text keys become text (and then sort as text)."""
    body = {key: value for key, value in answer.items() if key != RECEIPT_FIELD}
    as_received = json.loads(json.dumps(body, ensure_ascii=False, allow_nan=False))
    return _canonical_json(as_received)


def digest(answer: Mapping[str, Any]) -> str:
    """SM3 (hex) of :func:`canonical`."""
    return hashlib.new("sm3", canonical(answer)).hexdigest()


def _instant(at: datetime) -> str:
    """ISO 8601 in UTC with a ``Z`` (a naive instant is taken as UTC, as stored instants are)."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _signed_part(receipt: Mapping[str, Any]) -> bytes:
    return _canonical_json({k: v for k, v in receipt.items() if k != "signature"})


def issue(
    key: NodeKey,
    answer: Mapping[str, Any],
    *,
    grant_id: int | None,
    resource_code: str,
    at: datetime,
    direct_evidence: bool,
) -> dict[str, Any]:
    """The receipt of ``answer``, given at ``at`` under grant ``grant_id`` (None: the provider's own
    read) for resource ``resource_code``; ``direct_evidence`` when the answer may be relied on as
    it is in handling an affair (可直接采信). Put it into the answer as ``receipt``."""
    receipt: dict[str, Any] = {
        "version": VERSION,
        "alg": ALG,
        "digest_alg": DIGEST_ALG,
        "digest": digest(answer),
        "issued_at": _instant(at),
        "grant_id": grant_id,
        "resource_code": resource_code,
        "direct_evidence": bool(direct_evidence),
        "key_id": key.key_id,
    }
    receipt["signature"] = base64.b64encode(key.sign(_signed_part(receipt))).decode("ascii")
    return receipt


def _public_key(key: NodeKey | Ed25519PublicKey | str | bytes) -> Ed25519PublicKey:
    if isinstance(key, NodeKey):
        return key.public_key
    if isinstance(key, Ed25519PublicKey):
        return key
    return load_public_key(key)


def verify(
    key_or_public_pem: NodeKey | Ed25519PublicKey | str | bytes,
    receipt: Any,
    answer: Any,
) -> tuple[bool, str | None]:
    """Whether ``receipt`` was signed by this key and belongs to ``answer`` exactly as it is (its own
    ``receipt`` field aside): ``(True, None)``, or ``(False, reason)`` with the reason in Chinese.
    A malformed receipt or answer is a reason too, never an exception."""
    public = _public_key(key_or_public_pem)
    if not isinstance(receipt, Mapping):
        return False, "回执应为 JSON 对象。"
    if not isinstance(answer, Mapping):
        return False, "答复应为 JSON 对象。"
    for name, types in _FIELDS.items():
        if name not in receipt:
            return False, f"回执缺少字段 {name}。"
        value = receipt[name]
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
            return False, f"回执字段 {name} 的类型不正确。"
    if receipt["version"] != VERSION:
        return False, f"不支持的回执版本：{receipt['version']}。"
    if receipt["alg"] != ALG or receipt["digest_alg"] != DIGEST_ALG:
        return (
            False,
            f"不支持的算法：{receipt['alg']} / {receipt['digest_alg']}（应为 {ALG} / {DIGEST_ALG}）。",
        )
    expected_id = key_id_of(public)
    if receipt["key_id"] != expected_id:
        return (
            False,
            f"回执不是由该密钥签发的（回执的密钥标识 {receipt['key_id']}，该密钥为 {expected_id}）。",
        )
    try:
        signature = base64.b64decode(receipt["signature"], validate=True)
    except (binascii.Error, ValueError):
        return False, "签名不是有效的 Base64 编码。"
    try:
        signed = _signed_part(receipt)
        public.verify(signature, signed)
    except InvalidSignature:
        return False, "签名无效：回执被改动过，或不是由该密钥签发的。"
    except (TypeError, ValueError, RecursionError):
        return False, "回执无法规范化为 JSON。"
    try:
        actual = digest(answer)
    except (TypeError, ValueError, RecursionError):
        return False, "答复无法规范化为 JSON。"
    if actual != receipt["digest"]:
        return False, "答复与回执的摘要不符：答复被改动过，或回执属于另一份答复。"
    return True, None
