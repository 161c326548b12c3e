"""The demo region's data (after its catalog): what the data pages, a record's history, the errors file
and the authority's region-wide view show in a fresh demo.

* 市公安局's 人口基础信息: forty people; a day's corrections of two of them (a new address, a new name);
  one person deleted — so a record has several versions, each with its batch (AGG-6);
* 市市场监管局's 企业登记信息: twenty firms; then a batch rejected in strict mode (a 统一社会信用代码 with
  a wrong check character, a missing name), whose errors file the vendor gets (AGG-5), and which the
  region-wide view lists as failing.

Loaded through the aggregation use cases as the departments' officers, each batch run at once in this
process (``govdata demo`` runs before the server holds the store); the jobs the batches queued find
them applied and only let the event handlers (quality scores) follow.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.orm import sessionmaker

from govdata.aggregation import service
from govdata.catalog import service as catalog
from govdata.core.db import unit_of_work
from govdata.core.ids import ric_check_digit, uscc_make
from govdata.orgs import service as orgs
from govdata.store.sql import SqlStore

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = [
    "建国",
    "秀英",
    "志强",
    "丽娟",
    "海燕",
    "文博",
    "红梅",
    "国栋",
    "立新",
    "雪",
    "静",
    "磊",
    "敏",
    "洋",
    "芳",
]
STREETS = ["解放区民主路", "山阳区人民路", "中站区建设路", "马村区新华街", "解放区塔南路"]
FIRMS = ["怀川机械制造", "太行建材", "云台山旅游开发", "焦作丰收农业", "山阳物流", "怀府食品", "月山钢构"]


def _person(i: int) -> dict[str, str]:
    born = date(1960, 1, 1) + timedelta(days=397 * i + 11)
    first17 = f"410802{born:%Y%m%d}{100 + i:03d}"
    return {
        "公民身份号码": first17 + ric_check_digit(first17),
        "姓名": SURNAMES[i % len(SURNAMES)] + GIVEN[(i * 7) % len(GIVEN)],
        "性别": str(1 + i % 2),
        "出生日期": born.isoformat(),
        "户籍地址": f"焦作市{STREETS[i % len(STREETS)]}{i + 1}号",
        "地址": f"焦作市{STREETS[(i + 2) % len(STREETS)]}{i + 10}号",
        "联系电话": f"1390391{i:04d}",
    }


def _firm(i: int) -> dict[str, str]:
    founded = date(2005, 3, 1) + timedelta(days=211 * i)
    return {
        "统一社会信用代码": uscc_make("9", "1", "410800", f"MA{4500 + i * 37:06d}"),
        "单位名称": f"焦作{FIRMS[i % len(FIRMS)]}有限公司" + ("" if i < len(FIRMS) else f"第{i}分公司"),
        "法定代表人": SURNAMES[(i + 3) % len(SURNAMES)] + GIVEN[i % len(GIVEN)],
        "成立日期": founded.isoformat(),
        "注册资本": f"{(i + 1) * 50}.00",
        "登记地址": f"焦作市{STREETS[i % len(STREETS)]}{100 + i}号",
    }


def _records(body: dict[str, Any], values: list[dict[str, str]]) -> list[dict[str, Any]]:
    """Records of a resource's items (by code) from values named by data element or item name;
    items the values do not name are left out (the demo gives what a department would have)."""
    records = []
    for value in values:
        record = {}
        for item in body.get("items", []):
            found = value.get(item.get("element") or "", value.get(item["name"]))
            if found is not None:
                record[item["code"].lower()] = found
        records.append(record)
    return records


def _resource(session, name: str, department: str) -> tuple[str, dict[str, Any]] | None:
    for ref in catalog.published_resources(session):
        if ref.name == name and ref.provider_name == department:
            return ref.code, catalog.version_body(session, ref.id) or {}
    return None


def _load(
    factory: sessionmaker, store: SqlStore, data_dir: Path, username: str, code: str, **batch: Any
) -> str:
    with unit_of_work(factory) as session:
        officer = orgs.actor_named(session, username)
        batch_id = service.create_batch(session, officer, data_dir, code, **batch).id
    service.run_batch(factory, store, data_dir, batch_id)
    return service.batch_status(factory, batch_id) or ""


def create_demo_data(factory: sessionmaker, store: SqlStore, data_dir: Path) -> int:
    """Load the demo's batches (see the module); returns how many were applied."""
    applied = 0
    with unit_of_work(factory) as session:
        people = _resource(session, "人口基础信息", "焦作市公安局")
        firms = _resource(session, "企业登记信息", "焦作市市场监督管理局")
    if people is not None:
        code, body = people
        values = [_person(i) for i in range(40)]
        statuses = [
            _load(
                factory,
                store,
                data_dir,
                "ga_officer",
                code,
                mode="upsert",
                policy="strict",
                records=_records(body, values),
            )
        ]
        corrected = [dict(values[3], 户籍地址="焦作市山阳区人民路88号"), dict(values[7], 姓名="李秀梅")]
        statuses.append(
            _load(
                factory,
                store,
                data_dir,
                "ga_officer",
                code,
                mode="upsert",
                policy="strict",
                records=_records(body, corrected),
            )
        )
        gone = [{"公民身份号码": values[11]["公民身份号码"]}]
        statuses.append(
            _load(
                factory,
                store,
                data_dir,
                "ga_officer",
                code,
                mode="delete",
                policy="strict",
                records=_records(body, gone),
            )
        )
        applied += statuses.count("applied")
    if firms is not None:
        code, body = firms
        values = [_firm(i) for i in range(20)]
        applied += (
            _load(
                factory,
                store,
                data_dir,
                "scjg_officer",
                code,
                mode="upsert",
                policy="strict",
                records=_records(body, values),
            )
            == "applied"
        )
        broken = [_firm(i) for i in range(20, 24)]
        broken[1]["统一社会信用代码"] = broken[1]["统一社会信用代码"][:-1] + (
            "0" if broken[1]["统一社会信用代码"][-1] != "0" else "1"
        )
        broken[2]["单位名称"] = ""
        _load(
            factory,
            store,
            data_dir,
            "scjg_officer",
            code,
            mode="upsert",
            policy="strict",
            records=_records(body, broken),
        )
    return applied
