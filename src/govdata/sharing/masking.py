"""Masks of shared data (SEC-4): what a grant serves ``masked`` is shown only in part.

| mask | keeps | example |
|---|---|---|
| ``ric`` 公民身份号码 | the first 6 and the last 4 characters | ``410802********1234`` |
| ``name`` 姓名、名称 | the family name: one character, two for a compound surname (欧阳, 司马 …) | ``张**``, ``欧阳**`` |
| ``phone`` 电话、手机 | the last 4 characters | ``*******5678`` |
| ``date`` 日期 | the year, as four digits and nothing else | ``1985`` |
| ``address`` 地址、住址 | its province, city and county names (GB/T 2260), nothing after them | ``河南省焦作市解放区******`` |
| ``generic`` anything else | the first and the last character | ``A******9`` |

Every other character becomes one ``*``, so a masked value keeps its length (except a date, which
becomes its year). A value too short to keep anything hidden (a phone number of 4 characters, a
one-character name) is all ``*``. Nulls stay null. A masked value is always text, whatever the
item's type.

A date is masked to its year alone (``1985``), not to ``1985-**-**``: the year is what the rule
leaves, and a bare year reads the same for a date (D), a date and time (T) and a date kept as text
(``19850101``). A text value that does not start with a year gets the generic mask.

An address keeps its administrative names and nothing after them: a province (省, 自治区, or a
municipality such as 北京市), a city (市, 自治州, 盟, 地区) and a county (县, 区, 旗, or a county-level 市),
read from its start in that order, each a name of the GB/T 2260 divisions (python-stdnum's table,
current and former names). ``河南省焦作市沁阳市……`` keeps ``河南省焦作市沁阳市``; an address with no
county keeps up to its city (``河南省焦作市……``), and one with neither is all ``*``. A 区 or 市 that
does not end such a name keeps nothing: ``阳光小区5栋301`` and ``幸福小区``, ``园区``, ``社区``, ``景区``,
``校区``, ``厂区``, ``营区``, ``市辖区``, ``超市``, ``市场`` are not counties, nor are the bare words
``城区``, ``郊区``, ``矿区``, ``市区``, ``新区``, ``东区`` …, which name parts of a place as often as a
county. When it cannot tell — a name the table does not hold, a county named with 市, 区, 县 or 旗
inside it (``市中区``, ``辉县市``), a province or city written short (``河南焦作``) — the mask keeps
less, never more.

Which mask an item gets (:func:`mask_kind`): by its data element (an identifier element of kind
``ric``, or the element's name read as below), else by its data type (D, T: ``date``), else by its
name (公民身份号码/身份证 → ``ric``, 电话/手机 → ``phone``, 地址/住址/住所 → ``address``, 日期 → ``date``,
姓名/名称/法定代表人/联系人 → ``name``), else ``generic``.

The masks are Arrow compute expressions over whole columns (the export masks a million rows without
a Python loop per value); :func:`mask_values` applies them to a page of query results.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import cache
from importlib import resources
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy.orm import Session

from govdata.catalog import service as catalog
from govdata.core.names import COMPOUND_SURNAMES

RIC, NAME, PHONE, DATE, ADDRESS, GENERIC = "ric", "name", "phone", "date", "address", "generic"
KINDS = (RIC, NAME, PHONE, DATE, ADDRESS, GENERIC)


# an address's leading administrative names: up to three segments, each ending at the first marker of
# a level (RE2 syntax); each segment must then be a name of its level (see ``_division_names``)
_SEGMENT = "(?:[^省市县区旗盟]+?(?:省|市|县|区|旗|盟|自治州|地区))"
_SEGMENTS = f"^(?P<s1>{_SEGMENT})(?P<s2>{_SEGMENT})?(?P<s3>{_SEGMENT})?"
# names of the county-level table that are as often a part of a place (小区东区, 某某矿区) as a county
_GENERIC_COUNTY_NAMES = frozenset(
    {
        "市辖区",
        "城区",
        "郊区",
        "矿区",
        "林区",
        "市区",
        "新区",
        "东区",
        "西区",
        "南区",
        "北区",
        "特区",
        "县",
        "市",
    }
)
_PERIOD = re.compile(r"^\[(\d{4})?-(\d{4})?\](.*)$")
_YEAR = "^(?P<kept>[0-9]{4})"

# words of an item's (or data element's) name, and the mask they call for, in the order they are tried
_NAME_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (RIC, ("公民身份号码", "身份证", "身份号码")),
    (PHONE, ("电话", "手机")),
    (ADDRESS, ("地址", "住址", "住所")),
    (DATE, ("日期",)),
    (NAME, ("姓名", "名称", "法定代表人", "联系人")),
)


def kind_by_name(name: str | None) -> str | None:
    """The mask an item or data element of this name calls for, if its name says so."""
    for kind, words in _NAME_WORDS:
        if name and any(word in name for word in words):
            return kind
    return None


def mask_kind(item: Mapping[str, Any], elements: Mapping[str, Any] | None = None) -> str:
    """The mask of a catalog item (``{name, data_type, element?}``): by its data element, its data
    type, its name, else generic. ``elements`` maps element names to ``catalog.ElementRef``."""
    element = item.get("element")
    if element:
        ref = (elements or {}).get(element)
        if ref is not None and getattr(ref, "key_kind", None) == RIC:
            return RIC
        if kind := kind_by_name(element):
            return kind
    if item.get("data_type") in ("D", "T"):
        return DATE
    return kind_by_name(item.get("name")) or GENERIC


def kinds_for(session: Session, resource_id: int, version: int | None = None) -> dict[str, str]:
    """Item code (lower case) → its mask, for a resource's (published) catalog version."""
    body = catalog.version_body(session, resource_id, version) or {}
    elements = catalog.data_elements(session)
    return {item["code"].lower(): mask_kind(item, elements) for item in body.get("items", [])}


# --- the masks, over Arrow arrays ------------------------------------------------------------------------


def _stars(count: pa.Array) -> pa.Array:
    """As many ``*`` as each count says."""
    return pc.binary_repeat("*", pc.max_element_wise(pc.cast(count, pa.int64()), 0))


def _join(*parts: pa.Array) -> pa.Array:
    return pc.binary_join_element_wise(*parts, "")


def _keep_ends(text: pa.Array, length: pa.Array, head: int, tail: int) -> pa.Array:
    """The first ``head`` and last ``tail`` characters, the others ``*``; all ``*`` when the text is
    not longer than what would be kept."""
    parts = [pc.utf8_slice_codeunits(text, start=0, stop=head)] if head else []
    parts.append(_stars(pc.subtract(length, head + tail)))
    if tail:
        parts.append(pc.utf8_slice_codeunits(text, start=-tail))
    return pc.if_else(pc.greater(length, head + tail), _join(*parts), _stars(length))


@cache
def _division_names() -> tuple[pa.Array, pa.Array, pa.Array]:
    """The names a province, a city and a county may have in an address, from python-stdnum's GB/T
    2260 table (``stdnum/cn/loc.dat``: every name a code has had)."""
    text = resources.files("stdnum").joinpath("cn/loc.dat").read_text(encoding="utf-8")
    provinces = {"香港特别行政区", "澳门特别行政区"}
    cities = {"北京市", "天津市", "上海市", "重庆市"}  # a municipality is its own city
    counties: set[str] = set()
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        names = {
            (found.group(3) if (found := _PERIOD.match(spec)) else spec)
            for spec in line.partition("=")[2].strip().strip('"').split(",")
        }
        if not line.startswith(" "):
            provinces |= {n for n in names if n.endswith(("省", "自治区", "市", "特别行政区"))}
        elif line.split()[0].endswith("00"):
            cities |= {n for n in names if len(n) > 1 and n.endswith(("市", "自治州", "盟", "地区"))}
        else:
            counties |= {
                n for n in names if n.endswith(("县", "区", "旗", "市")) and n not in _GENERIC_COUNTY_NAMES
            }
    return tuple(pa.array(sorted(names), pa.string()) for names in (provinces, cities, counties))


def _mask_address(text: pa.Array, length: pa.Array) -> pa.Array:
    """Keep the leading province, city and county names (see the module's docstring), hide the rest.

    The three leading segments are cut by one regular expression; each must then be a name of the
    table at its level: province + city + county, (province or city) + county, county, else province
    + city, city; else nothing is kept."""
    provinces, cities, counties = _division_names()
    found = pc.extract_regex(text, pattern=f"(?s){_SEGMENTS}")
    s1, s2, s3 = (pc.fill_null(pc.struct_field(found, name), "") for name in ("s1", "s2", "s3"))
    p1, c1, k1 = (pc.is_in(s1, value_set=names) for names in (provinces, cities, counties))
    c2, k2 = pc.is_in(s2, value_set=cities), pc.is_in(s2, value_set=counties)
    k3 = pc.is_in(s3, value_set=counties)
    one, two, three = s1, _join(s1, s2), _join(s1, s2, s3)
    empty = pa.scalar("", pa.string())
    kept = pc.case_when(
        pc.make_struct(
            pc.and_(pc.and_(p1, c2), k3),
            pc.and_(pc.or_(p1, c1), k2),
            k1,
            pc.and_(p1, c2),
            c1,
        ),
        three,
        two,
        one,
        two,
        one,
        empty,
    )
    masked = _join(kept, _stars(pc.subtract(length, pc.utf8_length(kept))))
    return pc.if_else(pc.is_null(text), pa.scalar(None, pa.string()), masked)


def _as_text(values: pa.Array) -> pa.Array:
    if pa.types.is_string(values.type):
        return values
    if pa.types.is_large_string(values.type):
        return values.cast(pa.string())
    if pa.types.is_boolean(values.type):
        return pc.if_else(values, "true", "false")
    return values.cast(pa.string())


def mask_array(kind: str, values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """``values`` masked with ``kind`` (one of :data:`KINDS`), as text; nulls stay null."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if kind == DATE and (pa.types.is_date(values.type) or pa.types.is_timestamp(values.type)):
        return pc.cast(pc.year(values), pa.string())
    text = _as_text(values)
    length = pc.utf8_length(text)
    if kind == RIC:
        return _keep_ends(text, length, 6, 4)
    if kind == PHONE:
        return _keep_ends(text, length, 0, 4)
    if kind == NAME:
        compound = pc.and_(
            pc.match_substring_regex(text, pattern="^(?:" + "|".join(COMPOUND_SURNAMES) + ")"),
            pc.greater(length, 2),
        )
        return pc.if_else(compound, _keep_ends(text, length, 2, 0), _keep_ends(text, length, 1, 0))
    if kind == DATE:
        year = pc.struct_field(pc.extract_regex(text, pattern=_YEAR), "kept")
        return pc.if_else(pc.is_valid(year), year, _keep_ends(text, length, 1, 1))
    if kind == ADDRESS:
        return _mask_address(text, length)
    return _keep_ends(text, length, 1, 1)


def mask_values(kind: str, values: Iterable[Any]) -> list[str | None]:
    """Python values masked with ``kind`` (a page of query results)."""
    values = list(values)
    if not values:
        return []
    try:
        array = pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        array = pa.array([None if v is None else str(v) for v in values], pa.string())
    if pa.types.is_null(array.type):
        return [None] * len(values)
    return mask_array(kind, array).to_pylist()


def mask_value(kind: str, value: Any) -> str | None:
    return mask_values(kind, [value])[0]
