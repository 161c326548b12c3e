"""The one-way open-data feed (issue #16, docs/opening-feed.md): the government node exports what it
opens as a signed bundle; an internet-facing portal instance verifies and applies it.

* :func:`export_feed` (the government node): every dataset of the open catalog with its public
  metadata and its provider's public identity; an unconditional dataset's public rows exactly as the
  public JSON download serves them (``export_open`` for an anonymous ``OpenAccess``: level-1 items,
  de-identified per the plan); a conditional dataset's metadata and item list only. Nothing else.
* :func:`import_feed` (the portal instance): verify the bundle whole (:mod:`.bundle`), refuse an older
  sequence than the last applied, then apply it through the services, the platform acting in its
  own name: the provider departments (orgs), the resources under their own codes
  (``catalog.mirror_resource``), the rows as a replace batch (``aggregation.create_feed_batch``), the
  open entries (this capability's own table). Datasets no longer in the feed are withdrawn.

The portal instance then serves the same portal, downloads, open API, CKAN, DCAT and data packages as
the government node, from its own store.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from govdata.aggregation import service as aggregation
from govdata.catalog import service as catalog
from govdata.core import audit, clock
from govdata.core.auth import Actor, require
from govdata.core.config import Settings
from govdata.core.db import unit_of_work
from govdata.core.errors import Conflict, Problem
from govdata.core.signing import node_key
from govdata.opening.enums import Basis, Method, OpenStatus, OpenType
from govdata.opening.feed import bundle
from govdata.opening.feed.auth import FEED_EXPORT, FEED_IMPORT
from govdata.opening.models import OpenEntry
from govdata.opening.service.catalog import (
    OpenAccess,
    OpenDataset,
    OpenItem,
    _entry,
    open_datasets,
    plan_of,
    served_items,
)
from govdata.opening.service.reads import export_open
from govdata.orgs import service as orgs
from govdata.orgs.schemas import DepartmentIn

FEED_DIR = "feed"
SEQUENCE_FILE = "export-sequence"
STATE_FILE = "imported.json"
ITEM_FIELDS = ("length", "precision")


@dataclass(frozen=True)
class FeedSummary:
    sequence: int
    datasets: int
    with_rows: int
    path: Path | None = None


@dataclass(frozen=True)
class ImportSummary:
    sequence: int
    unchanged: bool = False
    applied: list[str] = field(default_factory=list)  # codes open on this instance now
    loaded: list[str] = field(default_factory=list)  # codes whose rows were (re)loaded
    withdrawn: list[str] = field(default_factory=list)


def _feed_dir(settings: Settings) -> Path:
    path = Path(settings.data_dir) / FEED_DIR
    path.mkdir(parents=True, exist_ok=True)
    return path


# --- export (the government node) ------------------------------------------------------------------------


def _next_sequence(settings: Settings) -> int:
    """The export's time in milliseconds, or one more than the last export's when the clock went back:
    each export is newer than the one before, so that the portal can refuse a replayed older one."""
    path = _feed_dir(settings) / SEQUENCE_FILE
    try:
        last = int(path.read_text().strip())
    except (OSError, ValueError):
        last = 0
    sequence = max(last + 1, int(time.time() * 1000))
    temporary = path.with_suffix(".tmp")
    temporary.write_text(str(sequence))
    os.replace(temporary, path)
    return sequence


def _item(
    item: OpenItem, declared: dict[str, Any], plan: dict[str, Any], public_rows: bool
) -> dict[str, Any]:
    """An item as the portal instance keeps it. Rows arrive de-identified already, so an item the plan
    transforms is plain text there (and is never a key or required); ``method`` says what was done."""
    kept = item.method == Method.keep
    found: dict[str, Any] = {
        "code": item.code,
        "name": item.name,
        "level": item.level,
        "method": item.method,
        "data_type": item.data_type if kept or not public_rows else "C",
        "key": bool(declared.get("key")) and kept,
        "required": bool(declared.get("required")) and kept,
    }
    if plan.get("generalise"):
        found["generalise"] = plan["generalise"]
    if kept or not public_rows:
        found.update({f: declared[f] for f in ITEM_FIELDS if declared.get(f) is not None})
    return found


def _dataset_entry(session: Session, d: OpenDataset, provider_uscc: str) -> tuple[dict[str, Any], bool]:
    ref = catalog.resource_ref(session, id=d.resource_id)
    body = catalog.published_body(session, ref)
    declared = {i["code"].lower(): i for i in body.get("items", [])}
    unconditional = d.open_type == OpenType.unconditional
    served = served_items(d, OpenAccess()) if unconditional else list(d.items)
    plan = plan_of(session, ref, _entry(session, ref.id))
    items = [_item(i, declared.get(i.code, {}), plan.get(i.code, {}), unconditional) for i in served]
    entry = {
        "code": d.code,
        "provider": provider_uscc,
        "name": d.name,
        "summary": d.summary,
        "classification": d.classification,
        "format": d.format,
        "update_cycle": d.update_cycle,
        "grade": d.grade,
        "open_type": d.open_type,
        "open_conditions": body.get("open_conditions") if not unconditional else None,
        "emergency": d.emergency,
        "incident_category": d.incident_category,
        "published_at": d.published_at.isoformat() if d.published_at else None,
        "last_batch_at": d.last_batch_at.isoformat() if d.last_batch_at else None,
        "items": items,
        "data": None,
    }
    return entry, unconditional and bool(items)


def export_feed(session: Session, actor: Actor, settings: Settings, store, out: Path) -> FeedSummary:
    """Write the signed open-data feed of this node to ``out`` (a tar file)."""
    require(actor, FEED_EXPORT)
    datasets = open_datasets(session)
    providers = {r.id: r for r in orgs.department_refs(session, {d.provider_id for d in datasets})}
    work = Path(tempfile.mkdtemp(prefix="export-", dir=_feed_dir(settings)))
    try:
        entries, files = [], {}
        for number, d in enumerate(datasets, 1):
            entry, with_rows = _dataset_entry(session, d, providers[d.provider_id].uscc)
            if with_rows:
                name = f"data/{number:05d}.json"
                path = work / f"{number:05d}.json"
                try:
                    chunks, _, _ = export_open(session, settings, store, d.code, OpenAccess(), "json")
                except Problem:  # no table to read (a resource whose format is not tabular)
                    chunks = None
                if chunks is not None:
                    with path.open("wb") as handle:
                        for chunk in chunks:
                            handle.write(chunk)
                    files[name] = path
                    entry["data"] = name
            entries.append(entry)
        node = orgs.node_ref(session)
        manifest = {
            "node": {"region_code": node.region_code, "name": node.name} if node else None,
            "created_at": clock.now().isoformat(),
            "sequence": _next_sequence(settings),
            "providers": [
                {
                    "uscc": p.uscc,
                    "name": p.name,
                    "short_name": p.short_name,
                    "region_code": p.region_code,
                    "org_type": p.org_type,
                    "code": p.code,
                }
                for p in providers.values()
            ],
            "datasets": entries,
        }
        signed = bundle.write_bundle(out, manifest, files, node_key(settings))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    audit.record(
        session,
        actor,
        "opening.feed_exported",
        "open_feed",
        str(signed["sequence"]),
        details={"datasets": len(entries), "with_rows": len(files)},
    )
    return FeedSummary(signed["sequence"], len(entries), len(files), out)


# --- import (the portal instance) --------------------------------------------------------------------------


def _state(settings: Settings) -> dict[str, Any]:
    try:
        return json.loads((_feed_dir(settings) / STATE_FILE).read_text("utf-8"))
    except (OSError, ValueError):
        return {}


def _save_state(settings: Settings, state: dict[str, Any]) -> None:
    path = _feed_dir(settings) / STATE_FILE
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(state, ensure_ascii=False, indent=1), "utf-8")
    os.replace(temporary, path)


def last_import(settings: Settings) -> dict[str, Any]:
    """What this instance applied last: ``{sequence, manifest_sm3, node, imported_at, data}`` or {}."""
    return _state(settings)


def _departments(session: Session, actor: Actor, providers: list[dict[str, Any]]) -> dict[str, int]:
    known = orgs.department_refs(session)
    by_uscc = {d.uscc: d.id for d in known}
    codes = {d.code for d in known if d.code}
    for p in providers:
        if p["uscc"] in by_uscc:
            continue
        department = orgs.create_department(
            session,
            actor,
            DepartmentIn(
                name=p["name"],
                uscc=p["uscc"],
                region_code=p["region_code"],
                org_type=p["org_type"],
                short_name=p.get("short_name"),
                code=p["code"] if p.get("code") and p["code"] not in codes else None,
            ),
        )
        by_uscc[p["uscc"]] = department.id
    return by_uscc


def _body(d: dict[str, Any]) -> dict[str, Any]:
    """The catalog body of a dataset on the portal instance: its public metadata, nothing shared."""
    body = {
        "name": d["name"],
        "summary": d.get("summary") or "",
        "classification": d["classification"],
        "format": d["format"],
        "share_type": "none",  # the internet side shares nothing with departments
        "open_type": d["open_type"],
        "update_cycle": d["update_cycle"],
        "grade": d["grade"],
        "items": [
            {k: v for k, v in item.items() if k not in ("method", "generalise")} for item in d["items"]
        ],
    }
    if d.get("open_conditions"):
        body["open_conditions"] = d["open_conditions"]
    return body


def _plan(d: dict[str, Any]) -> dict[str, dict[str, Any]]:
    if d["open_type"] == OpenType.unconditional:  # the rows are de-identified already: served as they are
        return {i["code"]: {"method": Method.keep} for i in d["items"]}
    return {
        i["code"]: {"method": i["method"], **({"generalise": i["generalise"]} if i.get("generalise") else {})}
        for i in d["items"]
    }


def _open_entry(session: Session, ref, d: dict[str, Any]) -> None:
    entry = session.scalar(select(OpenEntry).where(OpenEntry.resource_id == ref.id))
    if entry is None:
        entry = OpenEntry(resource_id=ref.id, resource_code=ref.code, downloads=0, api_calls=0)
        session.add(entry)
    published_at = datetime.fromisoformat(d["published_at"]) if d.get("published_at") else clock.now()
    values = {
        "provider_id": ref.provider_id,
        "status": OpenStatus.published,
        "open_type": d["open_type"],
        "basis": Basis.open_type,
        "plan": _plan(d),
        "quasi_identifiers": [],
        "emergency": bool(d.get("emergency")),
        "incident_category": d.get("incident_category"),
        "published_at": published_at,
        "published_by": "feed",
        "withdrawn_at": None,
        "withdrawn_by": None,
        "withdraw_reason": None,
    }
    for name, value in values.items():
        if getattr(entry, name) != value:
            setattr(entry, name, value)
    session.flush()


def import_feed(factory: sessionmaker, actor: Actor, settings: Settings, store, path: Path) -> ImportSummary:
    """Verify the bundle at ``path`` and apply it to this instance (see the module's description).
    Refused whole (422 ``feed-refused``/``feed-signature``/``feed-digest``, 409 ``feed-replay``) before
    anything changes; the same bundle again changes nothing."""
    require(actor, FEED_IMPORT)
    trusted = bundle.trusted_key(settings)
    work = Path(tempfile.mkdtemp(prefix="incoming-", dir=_feed_dir(settings)))
    try:
        found = bundle.open_bundle(Path(path), trusted, work)
        state = _state(settings)
        last = int(state.get("sequence") or 0)
        if found.sequence < last:
            raise Conflict(
                f"开放数据包的序号 {found.sequence} 早于本实例已载入的 {last}：拒绝重放旧的数据包。",
                slug="feed-replay",
                sequence=found.sequence,
                last_sequence=last,
            )
        if found.sequence == last:
            if found.manifest_sm3 == state.get("manifest_sm3"):
                return ImportSummary(found.sequence, unchanged=True, applied=sorted(state.get("data", {})))
            raise Conflict(
                f"序号 {last} 的开放数据包已载入过，而本数据包内容不同：拒绝载入。", slug="feed-replay"
            )
        return _apply(factory, actor, settings, store, found, state)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _apply(
    factory, actor: Actor, settings: Settings, store, found: bundle.Bundle, state: dict
) -> ImportSummary:
    manifest = found.manifest
    loaded_before: dict[str, str] = dict(state.get("data") or {})
    digests: dict[str, str] = {}
    batches: dict[str, int] = {}
    withdrawn: list[str] = []
    with unit_of_work(factory) as session:
        providers = _departments(session, actor, manifest.get("providers") or [])
        codes = set()
        for d in manifest.get("datasets") or []:
            codes.add(d["code"])
            ref = catalog.mirror_resource(
                session, actor, code=d["code"], provider_id=providers[d["provider"]], body=_body(d)
            )
            _open_entry(session, ref, d)
            if not d.get("data"):
                continue
            digest = manifest["files"][d["data"]]["sm3"]
            digests[d["code"]] = digest
            if loaded_before.get(d["code"]) == digest:
                continue
            upload_path = found.files[d["data"]]
            batch = aggregation.create_feed_batch(
                session,
                actor,
                Path(settings.data_dir),
                d["code"],
                aggregation.Upload(upload_path, "open.json", "sm3:" + digest),
            )
            batches[d["code"]] = batch.id
        for entry in session.scalars(select(OpenEntry).where(OpenEntry.status == OpenStatus.published)):
            if entry.resource_code not in codes:
                entry.status = OpenStatus.withdrawn
                entry.emergency = False
                entry.withdrawn_at = clock.now()
                entry.withdrawn_by = "feed"
                entry.withdraw_reason = "政务网节点的开放数据馈送中已无此数据集"
                withdrawn.append(entry.resource_code)
        audit.record(
            session,
            actor,
            "opening.feed_imported",
            "open_feed",
            str(found.sequence),
            details={"datasets": len(codes), "loaded": sorted(batches), "withdrawn": withdrawn},
        )
    failed = []
    for code, batch_id in batches.items():
        aggregation.run_batch(factory, store, Path(settings.data_dir), batch_id)
        status = aggregation.batch_status(factory, batch_id)
        if status != "applied":
            failed.append(f"{code}（批次 #{batch_id}：{status}）")
            digests.pop(code, None)
    _save_state(
        settings,
        {
            "sequence": found.sequence if not failed else int(state.get("sequence") or 0),
            "manifest_sm3": found.manifest_sm3 if not failed else state.get("manifest_sm3"),
            "node": manifest.get("node"),
            "imported_at": clock.now().isoformat(),
            "data": digests,
        },
    )
    if failed:
        raise Conflict(
            "开放数据包的元数据已载入，但以下数据集的数据未能载入，请检查后重新载入同一数据包："
            + "、".join(failed),
            slug="feed-partial",
        )
    return ImportSummary(found.sequence, applied=sorted(codes), loaded=sorted(batches), withdrawn=withdrawn)
