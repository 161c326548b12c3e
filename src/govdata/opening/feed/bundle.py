"""The feed's file: an uncompressed tar holding ``manifest.json``, its Ed25519 signature
``manifest.sig`` (base64, by the exporting node's key) and the data files ``data/NNNNN.json`` the
manifest lists with their size and SM3 digest.

Reading is all or nothing and happens before anything is applied: the signature is checked with the
key the receiving side pinned (never with the key the bundle names), every listed file must be there
with its size and digest, and nothing else may be (no links, no directories, no other names). A
refused bundle raises :class:`FeedRefused` with the reason in Chinese.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from govdata.core.config import Settings
from govdata.core.errors import InvalidInput
from govdata.core.signing import NodeKey, key_id_of, load_public_key

FORMAT = "govdata-open-feed"
VERSION = 1
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
DATA_NAME = re.compile(r"^data/[0-9]{5,}\.json$")
MAX_MANIFEST_BYTES = 64 << 20
MAX_SIGNATURE_BYTES = 1024
CHUNK = 1 << 20


class FeedRefused(InvalidInput):
    """The bundle is refused whole: unsigned, altered, signed by another key, replayed, malformed."""

    slug = "feed-refused"


def sm3_file(path: Path) -> tuple[str, int]:
    digest = hashlib.new("sm3")
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def trusted_key(settings: Settings) -> Ed25519PublicKey:
    """The exporting node's public key this instance trusts: ``GOVDATA_FEED_TRUSTED_KEY`` (the PEM
    text, or the path of a file holding it)."""
    value = (settings.feed_trusted_key or "").strip()
    if not value:
        raise FeedRefused(
            "未配置可信的馈送公钥（GOVDATA_FEED_TRUSTED_KEY：政务网节点的 Ed25519 公钥 PEM 或其文件路径），拒绝载入。",
            slug="feed-untrusted",
        )
    try:
        text = value if value.startswith("-----BEGIN") else Path(value).expanduser().read_text("ascii")
        return load_public_key(text)
    except (OSError, ValueError) as exc:
        raise FeedRefused(f"可信的馈送公钥无法读取：{exc}", slug="feed-untrusted") from exc


def write_bundle(out: Path, manifest: dict[str, Any], files: dict[str, Path], key: NodeKey) -> dict[str, Any]:
    """Write the signed bundle to ``out`` (complete, or not at all); the manifest as signed."""
    manifest = dict(manifest)
    listed = {}
    for name, path in sorted(files.items()):
        if not DATA_NAME.match(name):
            raise ValueError(name)
        digest, size = sm3_file(path)
        listed[name] = {"sm3": digest, "bytes": size}
    manifest.update(
        format=FORMAT, version=VERSION, key_id=key.key_id, public_key=key.public_key_pem, files=listed
    )
    data = json.dumps(manifest, ensure_ascii=False, sort_keys=True, indent=1).encode("utf-8")
    signature = base64.b64encode(key.sign(data))
    out.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=".feed-", suffix=".tar", dir=out.parent)
    os.close(handle)
    try:
        with tarfile.open(temporary, "w", format=tarfile.PAX_FORMAT) as tar:
            _add_bytes(tar, MANIFEST, data)
            _add_bytes(tar, SIGNATURE, signature)
            for name, path in sorted(files.items()):
                info = tarfile.TarInfo(name)
                info.size = path.stat().st_size
                info.mode = 0o644
                with path.open("rb") as source:
                    tar.addfile(info, source)
        os.replace(temporary, out)
    finally:
        Path(temporary).unlink(missing_ok=True)
    return manifest


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    import io

    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    tar.addfile(info, io.BytesIO(data))


@dataclass(frozen=True)
class Bundle:
    """A verified bundle: its manifest, the SM3 of the signed manifest, where its files now are."""

    manifest: dict[str, Any]
    manifest_sm3: str
    files: dict[str, Path]  # listed name → the verified copy under the receiving data directory

    @property
    def sequence(self) -> int:
        return int(self.manifest["sequence"])


def open_bundle(path: Path, trusted: Ed25519PublicKey, into: Path) -> Bundle:
    """Verify the bundle at ``path`` against ``trusted`` and copy its data files into ``into``."""
    try:
        tar = tarfile.open(path, "r:")  # noqa: SIM115  (closed by the ``with tar`` below)
    except (OSError, tarfile.TarError) as exc:
        raise FeedRefused(f"开放数据包无法读取（应为未压缩的 tar 文件）：{exc}") from exc
    with tar:
        members: dict[str, tarfile.TarInfo] = {}
        try:
            for member in tar.getmembers():
                if not member.isreg():
                    raise FeedRefused(f"开放数据包中有不允许的条目：{member.name}")
                if member.name in members:
                    raise FeedRefused(f"开放数据包中有重复的文件：{member.name}")
                members[member.name] = member
        except tarfile.TarError as exc:
            raise FeedRefused(f"开放数据包已损坏：{exc}") from exc
        if MANIFEST not in members or SIGNATURE not in members:
            raise FeedRefused("开放数据包缺少清单或签名（manifest.json、manifest.sig），拒绝载入。")
        data = _read(tar, members[MANIFEST], MAX_MANIFEST_BYTES)
        try:
            signature = base64.b64decode(_read(tar, members[SIGNATURE], MAX_SIGNATURE_BYTES), validate=True)
            trusted.verify(signature, data)
        except (InvalidSignature, ValueError) as exc:
            raise FeedRefused(
                "开放数据包的签名无效：清单被改动，或不是由受信任的政务网节点签发，拒绝载入。",
                slug="feed-signature",
            ) from exc
        manifest = json.loads(data)
        if manifest.get("format") != FORMAT or manifest.get("version") != VERSION:
            raise FeedRefused("开放数据包格式或版本不受支持。")
        if manifest.get("key_id") != key_id_of(trusted):
            raise FeedRefused("开放数据包声明的签名密钥与受信任的公钥不一致。", slug="feed-signature")
        listed: dict[str, dict[str, Any]] = manifest.get("files") or {}
        extra = sorted(set(members) - {MANIFEST, SIGNATURE} - set(listed))
        if extra:
            raise FeedRefused(f"开放数据包中有清单未列出的文件：{'、'.join(extra[:5])}")
        into.mkdir(parents=True, exist_ok=True)
        copies: dict[str, Path] = {}
        for name, expected in sorted(listed.items()):
            if not DATA_NAME.match(name) or name not in members:
                raise FeedRefused(f"开放数据包缺少清单列出的文件：{name}")
            target = into / name.split("/", 1)[1]
            digest = hashlib.new("sm3")
            size = 0
            source = tar.extractfile(members[name])
            assert source is not None
            with target.open("wb") as out:
                while chunk := source.read(CHUNK):
                    digest.update(chunk)
                    size += len(chunk)
                    out.write(chunk)
            if size != expected.get("bytes") or digest.hexdigest() != expected.get("sm3"):
                raise FeedRefused(
                    f"开放数据包中的文件 {name} 与清单记载的 SM3 摘要不符（已被改动或不完整），拒绝载入。",
                    slug="feed-digest",
                )
            copies[name] = target
    return Bundle(manifest, hashlib.new("sm3", data).hexdigest(), copies)


def _read(tar: tarfile.TarFile, member: tarfile.TarInfo, limit: int) -> bytes:
    if member.size > limit:
        raise FeedRefused(f"开放数据包中的 {member.name} 过大。")
    source = tar.extractfile(member)
    assert source is not None
    return source.read()
