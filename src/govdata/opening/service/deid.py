"""De-identification of open data (OPN-5): a plan per item, applied on every read and export.

| method | what is served |
|---|---|
| ``keep`` | the stored value (only a level-1 item is served so) |
| ``mask`` | SEC-4's mask of the item (``sharing.masking``: 公民身份号码 first 6 and last 4 …) |
| ``pseudonymise`` | HMAC-SM3 of the value under the node's pseudonymisation key, 32 hex digits: one value, one pseudonym, across datasets and batches, and no way back without the key |
| ``generalise`` | dates → the year; ages → a band of ten (``30-39``); GB/T 2260 region codes → the city (first 4 digits + ``00``) or the province (first 2 + ``0000``) |
| ``suppress`` | nothing: the item is dropped |

Level-4 items are always suppressed; items of levels 2–3 are served only with a method other than
``keep`` (SEC-1) and only to an approved conditional applicant.

The pseudonymisation key is 32 random bytes in a file outside the database,
``<data dir>/keys/open_pseudonym.key`` (mode 0600), created on first use the way the node's signing
key is (written whole beside the target, then linked to its name: several processes starting
together end up with one key). Transforms work on whole Arrow columns; pseudonyms are computed once
per distinct value of a batch (a dictionary encoding), so a million rows cost as many HMACs as they
have distinct values.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import secrets
import tempfile
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from govdata.core.config import Settings, get_settings
from govdata.core.errors import InvalidInput
from govdata.opening.enums import Generalisation, Method
from govdata.sharing import masking

KEY_DIR = "keys"
KEY_FILE = "open_pseudonym.key"
PSEUDONYM_HEX = 32

_keys: dict[Path, bytes] = {}
_keys_lock = threading.Lock()


def key_path(settings: Settings | None) -> Path:
    settings = settings or get_settings()
    return (Path(settings.data_dir) / KEY_DIR / KEY_FILE).expanduser().absolute()


def pseudonym_key(settings: Settings | None) -> bytes:
    """The node's pseudonymisation key, read (or created) once per key file."""
    path = key_path(settings)
    with _keys_lock:
        key = _keys.get(path)
        if key is None:
            if not path.exists():
                _create(path)
            key = _keys[path] = bytes.fromhex(path.read_text(encoding="ascii").strip())
        return key


def _create(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temp = tempfile.mkstemp(dir=path.parent, prefix=".pseudonym-")
    try:
        with os.fdopen(descriptor, "w", encoding="ascii") as handle:
            handle.write(secrets.token_hex(32) + "\n")
        os.chmod(temp, 0o600)
        with contextlib.suppress(FileExistsError):  # another process made it first: its key wins
            os.link(temp, path)
    finally:
        os.unlink(temp)


def pseudonym(key: bytes, value: Any) -> str | None:
    """The pseudonym of one value (None stays None)."""
    if value is None:
        return None
    return hmac.new(key, str(value).encode("utf-8"), "sm3").hexdigest()[:PSEUDONYM_HEX]


# --- the plan ------------------------------------------------------------------------------------------


def default_generalisation(item: Mapping[str, Any]) -> str | None:
    """How an item is generalised unless the plan says: by its type and name."""
    name = f"{item.get('name') or ''}{item.get('element') or ''}"
    if item.get("data_type") in ("D", "T") or "日期" in name:
        return Generalisation.year
    if "年龄" in name:
        return Generalisation.age_band
    if "区划" in name or "行政区" in name:
        return Generalisation.region_city
    return None


def default_method(item: Mapping[str, Any]) -> str:
    """Level 1 is kept; anything more sensitive is dropped until the officer chooses a method."""
    return Method.keep if int(item.get("level") or 1) == 1 else Method.suppress


def default_plan(items: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    return {item["code"].lower(): {"method": default_method(item)} for item in items}


def normalise_plan(
    items: Iterable[Mapping[str, Any]], plan: Mapping[str, Any], base: Mapping[str, Any] | None = None
) -> dict[str, dict[str, Any]]:
    """The full plan (every item) from the officer's changes; 422 for an unknown item or method, a
    generalisation the item cannot take, or a level-4 item not suppressed."""
    items = list(items)
    by_code = {item["code"].lower(): item for item in items}
    result = {**default_plan(items), **{k: dict(v) for k, v in (base or {}).items() if k in by_code}}
    errors: list[dict[str, str]] = []
    for raw_code, raw in plan.items():
        code = str(raw_code).lower()
        entry = {"method": raw} if isinstance(raw, str) else dict(raw or {})
        item = by_code.get(code)
        if item is None:
            errors.append({"field": f"plan.{raw_code}", "message": "不是该资源的信息项"})
            continue
        method = entry.get("method")
        if method not in Method.__members__:
            errors.append(
                {
                    "field": f"plan.{code}",
                    "message": "脱敏方式应为 keep、mask、pseudonymise、generalise 或 suppress",
                }
            )
            continue
        level = int(item.get("level") or 1)
        if level == 4 and method != Method.suppress:
            errors.append({"field": f"plan.{code}", "message": "4 级（敏感）信息项不得开放，只能删除"})
            continue
        clean: dict[str, Any] = {"method": method}
        if method == Method.generalise:
            how = entry.get("generalise") or default_generalisation(item)
            if how not in Generalisation.__members__:
                errors.append(
                    {
                        "field": f"plan.{code}.generalise",
                        "message": "应为 year、age_band、region_city 或 region_province",
                    }
                )
                continue
            clean["generalise"] = how
        result[code] = clean
    for code, item in by_code.items():  # level 4 is never opened, whatever a stored plan said
        if int(item.get("level") or 1) == 4:
            result[code] = {"method": Method.suppress}
    if errors:
        raise InvalidInput(
            "脱敏方案有误：" + "；".join(f"{e['field']} {e['message']}" for e in errors), errors=errors
        )
    return result


def servable(level: int, method: str) -> bool:
    """Whether an item may be served at all under its plan (SEC-1)."""
    if level >= 4 or method == Method.suppress:
        return False
    return level == 1 or method != Method.keep


# --- transforms ----------------------------------------------------------------------------------------


def _text(values: pa.Array) -> pa.Array:
    if pa.types.is_string(values.type):
        return values
    if pa.types.is_boolean(values.type):
        return pc.if_else(values, "true", "false")
    return values.cast(pa.string())


def _year(values: pa.Array) -> pa.Array:
    if pa.types.is_date(values.type) or pa.types.is_timestamp(values.type):
        return pc.cast(pc.year(values), pa.string())
    text = _text(values)
    year = pc.struct_field(pc.extract_regex(text, pattern="^(?P<y>[0-9]{4})"), "y")
    return pc.if_else(pc.is_valid(year), year, pa.scalar(None, pa.string()))


def _age_band(values: pa.Array) -> pa.Array:
    if not (
        pa.types.is_integer(values.type)
        or pa.types.is_floating(values.type)
        or pa.types.is_decimal(values.type)
    ):
        text = pc.utf8_trim_whitespace(_text(values))
        numeric = pc.match_substring_regex(text, pattern=r"^[0-9]+(\.[0-9]+)?$")
        values = pc.cast(pc.if_else(numeric, text, pa.scalar(None, pa.string())), pa.float64())
    low = pc.cast(pc.multiply(pc.floor(pc.divide(pc.cast(values, pa.float64()), 10.0)), 10.0), pa.int64())
    high = pc.add(low, 9)
    return pc.binary_join_element_wise(pc.cast(low, pa.string()), pc.cast(high, pa.string()), "-")


def _region(values: pa.Array, keep: int) -> pa.Array:
    text = pc.utf8_trim_whitespace(_text(values))
    head = pc.utf8_slice_codeunits(text, start=0, stop=keep)
    return pc.binary_join_element_wise(head, pa.scalar("0" * (6 - keep)), "")


def generalise_array(how: str, values: pa.Array) -> pa.Array:
    if how == Generalisation.year:
        return _year(values)
    if how == Generalisation.age_band:
        return _age_band(values)
    if how == Generalisation.region_city:
        return _region(values, 4)
    if how == Generalisation.region_province:
        return _region(values, 2)
    raise ValueError(how)


def _pads(key: bytes) -> tuple[Any, Any]:
    """HMAC's inner and outer SM3 states for ``key`` (RFC 2104), to be copied for each value."""
    block = hashlib.new("sm3").block_size
    if len(key) > block:
        key = hashlib.new("sm3", key).digest()
    key = key.ljust(block, b"\0")
    return (
        hashlib.new("sm3", bytes(b ^ 0x36 for b in key)),
        hashlib.new("sm3", bytes(b ^ 0x5C for b in key)),
    )


def pseudonymise_array(key: bytes, values: pa.Array) -> pa.Array:
    """Each distinct value's HMAC-SM3 computed once (a dictionary encoding), from copies of the
    key's inner and outer states (the same MAC as :func:`pseudonym`, at half the cost of
    ``hmac.new`` per value); the digests are made hexadecimal text in one go."""
    encoded = pc.dictionary_encode(_text(values))
    inner, outer = _pads(key)
    take = PSEUDONYM_HEX // 2
    digests = []
    for value in encoded.dictionary.to_pylist():
        mac = inner.copy()
        mac.update(value.encode("utf-8"))
        out = outer.copy()
        out.update(mac.digest())
        digests.append(out.digest()[:take])
    text = b"".join(digests).hex().encode("ascii")
    names = pa.FixedSizeBinaryArray.from_buffers(
        pa.binary(PSEUDONYM_HEX), len(digests), [None, pa.py_buffer(text)]
    )
    return pc.take(names.cast(pa.binary()).cast(pa.string()), encoded.indices)


def transform_array(
    rule: Mapping[str, Any], values: pa.Array | pa.ChunkedArray, key: bytes | None
) -> pa.Array:
    """One column de-identified by its rule ``{method, generalise?, mask}``."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    method = rule["method"]
    if method == Method.keep:
        return values
    if pa.types.is_null(values.type):
        return pa.nulls(len(values), pa.string())
    if method == Method.mask:
        return masking.mask_array(rule.get("mask") or masking.GENERIC, values)
    if method == Method.generalise:
        return generalise_array(rule["generalise"], values)
    if method == Method.pseudonymise:
        if key is None:
            raise RuntimeError("pseudonymisation needs the key")
        return pseudonymise_array(key, values)
    raise ValueError(method)


def output_type(rule: Mapping[str, Any], stored: pa.DataType) -> pa.DataType:
    return stored if rule["method"] == Method.keep else pa.string()


def transform_batch(
    batch: pa.RecordBatch, rules: Mapping[str, Mapping[str, Any]], key: bytes | None
) -> pa.RecordBatch:
    columns = [
        transform_array(rules[name], batch.column(i), key) for i, name in enumerate(batch.schema.names)
    ]
    return pa.record_batch(columns, names=batch.schema.names)


def transform_rows(
    rows: list[dict[str, Any]], codes: list[str], rules: Mapping[str, Mapping[str, Any]], key: bytes | None
) -> list[dict[str, Any]]:
    """A page of records (item code → value) de-identified."""
    if not rows:
        return []
    out = [dict.fromkeys(codes) for _ in rows]
    for code in codes:
        values = [row.get(code) for row in rows]
        rule = rules[code]
        if rule["method"] == Method.keep:
            column = values
        else:
            try:
                array = pa.array(values)
            except (pa.ArrowInvalid, pa.ArrowTypeError):
                array = pa.array([None if v is None else str(v) for v in values], pa.string())
            column = transform_array(rule, array, key).to_pylist()
        for record, value in zip(out, column, strict=True):
            record[code] = value
    return out
