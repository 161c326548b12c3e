"""GB/T 2260 administrative divisions (ORG-1).

Every store knows all county-level codes: :func:`seed_regions` loads the table that python-stdnum
ships (``stdnum/cn/loc.dat``, with the years each code was valid), and :func:`import_regions_csv`
lets an administrator load an official list (``code,name``) on top of it.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from importlib import resources

from sqlalchemy import select
from sqlalchemy.orm import Session

from govdata.core import audit
from govdata.core.auth import Actor, require
from govdata.core.errors import InvalidInput
from govdata.core.ids import region_code_problem
from govdata.orgs.auth import REGION_IMPORT
from govdata.orgs.models import Region, RegionLevel

_PERIOD = re.compile(r"^\[(\d{4})?-(\d{4})?\](.*)$")


@dataclass(frozen=True)
class RegionRow:
    code: str
    name: str
    level: str
    parent_code: str | None
    active: bool
    valid_from: int | None = None
    valid_to: int | None = None


def level_of(code: str) -> RegionLevel:
    if code.endswith("0000"):
        return RegionLevel.province
    if code.endswith("00"):
        return RegionLevel.city
    return RegionLevel.county


def parent_of(code: str) -> str | None:
    level = level_of(code)
    if level == RegionLevel.province:
        return None
    if level == RegionLevel.city:
        return code[:2] + "0000"
    return code[:4] + "00"


def _latest_name(spec: str) -> tuple[str, bool, int | None, int | None]:
    """``[1983-1989]郊区,[1990-]山阳区`` → the last name, whether it is current, and its years."""
    last = spec.split(",")[-1]
    match = _PERIOD.match(last)
    if not match:
        return last, True, None, None
    start, end, name = match.groups()
    return name, end is None, int(start) if start else None, int(end) if end else None


def stdnum_regions() -> list[RegionRow]:
    text = resources.files("stdnum").joinpath("cn/loc.dat").read_text(encoding="utf-8")
    rows: list[RegionRow] = []
    province = ""
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        if not line.startswith(" "):
            province, _, rest = line.partition(" ")
            name, active, start, end = _latest_name(rest.partition("=")[2].strip('"'))
            code = province + "0000"
            rows.append(RegionRow(code, name, level_of(code), None, active, start, end))
            continue
        suffix, _, rest = line.strip().partition(" ")
        code = province + suffix
        if code.endswith("0000"):
            continue  # the province line already named it
        name, active, start, end = _latest_name(rest.partition("=")[2].strip('"'))
        rows.append(RegionRow(code, name, level_of(code), parent_of(code), active, start, end))
    return rows


def _upsert(session: Session, rows: list[RegionRow]) -> tuple[int, int]:
    existing = {r.code: r for r in session.scalars(select(Region))}
    added = updated = 0
    for row in rows:
        current = existing.get(row.code)
        if current is None:
            session.add(Region(**row.__dict__))
            added += 1
        elif (current.name, current.active) != (row.name, row.active):
            current.name, current.active = row.name, row.active
            current.valid_from, current.valid_to = row.valid_from, row.valid_to
            updated += 1
    session.flush()
    return added, updated


def seed_regions(session: Session) -> int:
    """Load python-stdnum's table; used when a store is created. Returns the number added."""
    added, _ = _upsert(session, stdnum_regions())
    return added


def import_regions_csv(session: Session, actor: Actor, data: bytes) -> dict[str, int]:
    """Import ``code,name`` rows (UTF-8, header optional); every row is checked before any is stored."""
    require(actor, REGION_IMPORT)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput("文件不是 UTF-8 编码的 CSV。") from exc
    rows: list[RegionRow] = []
    errors: list[dict] = []
    for number, record in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not record or not any(cell.strip() for cell in record):
            continue
        code, name = (record + ["", ""])[:2]
        code, name = code.strip(), name.strip()
        if number == 1 and not code.isdigit():
            continue  # header row
        if problem := region_code_problem(code):
            errors.append({"row": number, "field": "code", "message": problem})
        elif not name:
            errors.append({"row": number, "field": "name", "message": "名称不能为空"})
        else:
            rows.append(RegionRow(code, name, level_of(code), parent_of(code), True))
    if errors:
        raise InvalidInput(f"区划代码文件有 {len(errors)} 行错误，未导入任何数据。", errors=errors[:200])
    if not rows:
        raise InvalidInput("文件中没有区划代码。")
    added, updated = _upsert(session, rows)
    audit.record(
        session, actor, "orgs.regions.imported", "regions", None, details={"added": added, "updated": updated}
    )
    return {"added": added, "updated": updated, "rows": len(rows)}
