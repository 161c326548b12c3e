"""The node's signing key: one Ed25519 key pair per installation, for the receipts of shared data
(SHR-9) and, later, for what one node tells another (federation).

The private key lives outside the database, in a PEM file (PKCS#8, unencrypted, mode 0600):
``<data dir>/keys/node_ed25519.pem``, or the file ``GOVDATA_NODE_KEY_FILE`` names. A copy of the
database alone therefore cannot sign, and the key is backed up (or kept on a mounted secret) apart
from it. The file is created on first use. Several processes may start together on one data
directory (the server and ``govdata worker``) and must end up with one key, not two: a new key is
written complete to a temporary file beside the target and then linked to the target's name, which
fails when the name exists already, so the first process wins and the others read its key.

The key id is the first 16 hex digits of the SM3 digest of the raw public key (32 bytes): short
enough to print, long enough that two keys of one federation do not share it by accident.
"""

from __future__ import annotations

import base64
import hashlib
import os
import stat
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from govdata.core.config import Settings
from govdata.core.observability import log

ALG = "Ed25519"
KEY_DIR = "keys"
KEY_FILE = "node_ed25519.pem"


class NodeKeyError(RuntimeError):
    """The key file exists but holds no usable Ed25519 private key."""


def key_id_of(public_key: Ed25519PublicKey) -> str:
    """The id of a public key: the first 16 hex digits of SM3 over its 32 raw bytes."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.new("sm3", raw).hexdigest()[:16]


def load_public_key(pem: str | bytes) -> Ed25519PublicKey:
    """An Ed25519 public key from its PEM text (as ``GET /api/v1/node/keys`` gives it); ValueError
    for anything else."""
    data = pem.encode("ascii") if isinstance(pem, str) else pem
    key = serialization.load_pem_public_key(data)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("不是 Ed25519 公钥。")
    return key


@dataclass(frozen=True)
class NodeKey:
    """The node's key pair. Only :meth:`sign` uses the private half; everything else is public."""

    path: Path
    _private: Ed25519PrivateKey = field(repr=False)

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self._private.public_key()

    @property
    def public_key_pem(self) -> str:
        return (
            self.public_key.public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode("ascii")
            .strip()
        )

    @property
    def public_key_raw(self) -> bytes:
        return self.public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)

    @property
    def public_key_raw_b64(self) -> str:
        return base64.b64encode(self.public_key_raw).decode("ascii")

    @property
    def key_id(self) -> str:
        return key_id_of(self.public_key)

    @property
    def alg(self) -> str:
        return ALG

    def sign(self, data: bytes) -> bytes:
        """The Ed25519 signature (64 bytes) of ``data``."""
        return self._private.sign(data)


def key_path(settings: Settings) -> Path:
    """Where the node's private key is kept: ``GOVDATA_NODE_KEY_FILE``, else under the data directory."""
    path = settings.node_key_file or settings.data_dir / KEY_DIR / KEY_FILE
    return Path(path).expanduser().absolute()


_cache: dict[Path, NodeKey] = {}
_cache_lock = threading.Lock()


def node_key(settings: Settings) -> NodeKey:
    """The node's key, read (or created) once per key file and kept for the life of the process."""
    path = key_path(settings)
    with _cache_lock:
        key = _cache.get(path)
        if key is None:
            key = _cache[path] = open_key(path)
        return key


def open_key(path: Path) -> NodeKey:
    """The key in ``path``, created there first when the file does not exist (never cached)."""
    if not path.exists():
        _create(path)
    return _read(path)


def _read(path: Path) -> NodeKey:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        log.warning("signing.key_file_readable_by_others", path=str(path), mode=oct(mode))
    try:
        private = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError) as exc:
        raise NodeKeyError(f"节点签名密钥文件 {path} 无法读取：{exc}") from exc
    if not isinstance(private, Ed25519PrivateKey):
        raise NodeKeyError(f"节点签名密钥文件 {path} 中不是 Ed25519 私钥。")
    return NodeKey(path, private)


def _create(path: Path) -> None:
    """Write a new key to ``path`` unless another process got there first."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    handle, temporary = tempfile.mkstemp(prefix=".node-key-", dir=path.parent)  # mode 0600
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(pem)
            file.flush()
            os.fsync(file.fileno())
        try:
            os.link(temporary, path)  # appears complete, or not at all when the name exists
        except FileExistsError:
            return  # another process created it: use that one
        except OSError:  # a file system without hard links: exclusive create, written at once
            if not _create_exclusive(path, pem):
                return
    finally:
        os.unlink(temporary)
    _sync_directory(path.parent)
    log.info("signing.key_created", path=str(path), key_id=key_id_of(private.public_key()))


def _create_exclusive(path: Path, pem: bytes) -> bool:
    try:
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(handle, "wb") as file:
        file.write(pem)
        file.flush()
        os.fsync(file.fileno())
    return True


def _sync_directory(directory: Path) -> None:
    """Make the new name durable (a crash right after creation must not lose the key)."""
    try:
        handle = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)
