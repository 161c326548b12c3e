"""Secrets the platform keeps for others (the header value a provider's interface service expects),
sealed with AES-256-GCM under a key kept outside the database.

The key is 32 random bytes in ``<data dir>/keys/sharing_secrets.key`` (mode 0600), created on first
use; like the node's signing key (``core.signing``) a copy of the database alone cannot open the
secrets, and several processes starting together on one data directory end up with one key (it is
created with an exclusive open, and a process that loses the race reads the winner's).

A sealed value reads ``v1.<key id>.<Base64 of nonce ‖ ciphertext>``; the key id (the first 16 hex
digits of the key's SM3 digest) tells which key sealed it, and what it was sealed for (the resource
code) is bound in as associated data, so a sealed secret copied to another resource's row does not
open.
"""

from __future__ import annotations

import base64
import hashlib
import os
import threading
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from govdata.core.config import Settings
from govdata.core.observability import log

KEY_DIR = "keys"
KEY_FILE = "sharing_secrets.key"
VERSION = "v1"


class SealError(RuntimeError):
    """A sealed value that this installation's key cannot open."""


def key_path(settings: Settings) -> Path:
    return (Path(settings.data_dir) / KEY_DIR / KEY_FILE).expanduser().absolute()


_cache: dict[Path, bytes] = {}
_lock = threading.Lock()


def _key(settings: Settings) -> bytes:
    path = key_path(settings)
    with _lock:
        key = _cache.get(path)
        if key is None:
            key = _cache[path] = _read_or_create(path)
        return key


def _read_or_create(path: Path) -> bytes:
    if not path.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        key = AESGCM.generate_key(bit_length=256)
        try:
            handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process created it first: use that one
        else:
            with os.fdopen(handle, "wb") as file:
                file.write(base64.b64encode(key) + b"\n")
                file.flush()
                os.fsync(file.fileno())
            log.info("sharing.secrets_key_created", path=str(path))
    for _ in range(50):  # the winner of a race may not have written its key yet
        text = path.read_bytes().strip()
        if text:
            break
        threading.Event().wait(0.02)
    key = base64.b64decode(text)
    if len(key) != 32:
        raise SealError(f"密钥文件 {path} 不是 32 字节的 AES 密钥。")
    return key


def _key_id(key: bytes) -> str:
    return hashlib.new("sm3", key).hexdigest()[:16]


def seal(settings: Settings, secret: str, context: str) -> str:
    """``secret`` sealed for ``context`` (the resource code it belongs to)."""
    key = _key(settings)
    nonce = os.urandom(12)
    sealed = AESGCM(key).encrypt(nonce, secret.encode("utf-8"), context.encode("utf-8"))
    return f"{VERSION}.{_key_id(key)}.{base64.b64encode(nonce + sealed).decode('ascii')}"


def unseal(settings: Settings, sealed: str, context: str) -> str:
    """The secret ``sealed`` holds, when it was sealed for ``context`` under this installation's key."""
    key = _key(settings)
    try:
        version, key_id, body = sealed.split(".", 2)
        raw = base64.b64decode(body, validate=True)
    except ValueError as exc:
        raise SealError("密文格式不正确。") from exc
    if version != VERSION:
        raise SealError(f"不支持的密文版本 {version}。")
    if key_id != _key_id(key):
        raise SealError(f"密文由另一把密钥（{key_id}）加密，本节点的密钥文件与之不符。")
    try:
        return AESGCM(key).decrypt(raw[:12], raw[12:], context.encode("utf-8")).decode("utf-8")
    except (InvalidTag, ValueError) as exc:
        raise SealError("密文无法解开（已损坏，或不属于该资源）。") from exc
