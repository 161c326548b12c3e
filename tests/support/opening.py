"""Opening in tests: a health resource of 市卫健委 with items of every level, its records, and putting a
resource into the open catalog through the API (plan, confidentiality review, publication).

``open_resource(client, as_user)`` publishes an unconditional open dataset with level-1 items only
served (the default plan drops the others); pass ``plan``/``quasi`` for a conditional one with
de-identified items. Works on both stores (the ``backend`` fixture under ``client``)."""

from __future__ import annotations

import copy

from govdata.core.ids import ric_check_digit
from tests.support.catalog import publish
from tests.support.sharing import load

OFFICER = "wj_officer"  # 市卫健委
AUTHORITY = "dsj_officer"
REGIONS = ["410802", "410803", "410804", "410811", "410821", "410822"]


def checkups(**overrides) -> dict:
    """体检结果信息 (健康保障, 202) of 市卫健委: a key, two level-1 items, a level-2 age and birth date,
    level-3 name and 公民身份号码, a level-4 diagnosis."""
    body = {
        "name": "居民健康体检结果",
        "summary": "全市居民健康体检的汇总结果，每月更新。",
        "classification": "202",
        "format": "database",
        "share_type": "unconditional",
        "share_modes": ["query", "exchange"],
        "share_methods": ["interface", "table"],
        "usage_requirements": "按履职需要使用，注明数据来源",
        "materials": ["共享申请函（加盖公章）"],
        "open_type": "unconditional",
        "update_cycle": "monthly",
        "grade": "general",
        "subject": "other",  # checkup records, keyed by their number: not a natural-person resource
        "items": [
            {
                "code": "bh",
                "name": "记录编号",
                "data_type": "C",
                "length": 20,
                "required": True,
                "key": True,
                "level": 1,
            },
            {"code": "xzqh", "name": "行政区划代码", "data_type": "C", "length": 6, "level": 1},
            {"code": "jg", "name": "体检结论", "data_type": "C", "length": 20, "level": 1},
            {"code": "nl", "name": "年龄", "data_type": "I", "level": 2},
            {"code": "csrq", "name": "出生日期", "data_type": "D", "level": 2},
            {"code": "xm", "name": "姓名", "data_type": "C", "length": 50, "level": 3},
            {"code": "sfzh", "name": "公民身份号码", "data_type": "C", "length": 18, "level": 3},
            {"code": "zd", "name": "诊断", "data_type": "C", "length": 200, "level": 4},
        ],
    }
    body.update(copy.deepcopy(overrides))
    return body


def checkup_records(n: int, start: int = 0) -> list[dict]:
    """``n`` records of :func:`checkups` (deterministic)."""
    records = []
    for i in range(start, start + n):
        year = 1950 + (i * 7) % 50
        first17 = f"410802{year}{(i % 12) + 1:02d}{(i % 28) + 1:02d}{i % 1000:03d}"
        records.append(
            {
                "bh": f"TJ{i:06d}",
                "xzqh": REGIONS[i % len(REGIONS)],
                "jg": ["正常", "基本正常", "异常"][i % 3],
                "nl": 2026 - year,
                "csrq": f"{year}-{(i % 12) + 1:02d}-{(i % 28) + 1:02d}",
                "xm": ["张", "王", "李", "欧阳"][i % 4] + f"某{i}",
                "sfzh": first17 + ric_check_digit(first17),
                "zd": f"诊断{i}",
            }
        )
    return records


def prepare(
    client, as_user, code: str, *, plan=None, quasi=None, open_type=None, officer: str = OFFICER
) -> dict:
    body = {}
    if plan is not None:
        body["plan"] = plan
    if quasi is not None:
        body["quasi_identifiers"] = list(quasi)
    if open_type is not None:
        body["open_type"] = open_type
    response = client.put(f"/api/v1/open/resources/{code}/plan", json=body, headers=as_user(officer))
    assert response.status_code == 200, response.text
    return response.json()


def review(client, as_user, code: str, conclusion: str = "passed", officer: str = OFFICER) -> dict:
    response = client.post(
        f"/api/v1/open/resources/{code}/review",
        json={"conclusion": conclusion, "comment": "经保密审查，不涉及国家秘密"},
        headers=as_user(officer),
    )
    assert response.status_code == 201, response.text
    return response.json()


def open_resource(
    client,
    as_user,
    body: dict | None = None,
    records: list[dict] | None = None,
    *,
    plan: dict | None = None,
    quasi: list[str] | None = None,
    open_type: str | None = None,
    officer: str = OFFICER,
    emergency: str | None = None,
) -> str:
    """Publish ``body`` (default :func:`checkups`) in the catalog, load ``records`` (default 30
    :func:`checkup_records`), prepare its opening, review it and have the authority open it (with
    ``emergency``, an incident category, as an emergency opening instead); its code."""
    code = publish(client, as_user, officer, body or checkups())
    load(client, as_user(officer), code, checkup_records(30) if records is None else records)
    prepare(client, as_user, code, plan=plan, quasi=quasi, open_type=open_type, officer=officer)
    if emergency:
        response = client.post(
            f"/api/v1/open/resources/{code}/emergency",
            json={"category": emergency},
            headers=as_user(AUTHORITY),
        )
    else:
        review(client, as_user, code, officer=officer)
        response = client.post(f"/api/v1/open/resources/{code}/publish", json={}, headers=as_user(AUTHORITY))
    assert response.status_code == 200, response.text
    return code


CONDITIONAL_PLAN = {
    "nl": {"method": "generalise", "generalise": "age_band"},
    "csrq": "generalise",
    "xm": "mask",
    "sfzh": "pseudonymise",
}


def open_conditional(client, as_user, records: list[dict] | None = None) -> str:
    """A conditional open dataset: level-2 and level-3 items de-identified (age bands, birth years,
    masked names, pseudonymised 公民身份号码), the diagnosis (level 4) never served."""
    return open_resource(
        client,
        as_user,
        checkups(open_type="conditional", open_conditions="经申请审核同意，仅用于科学研究与公共卫生分析"),
        records,
        plan=CONDITIONAL_PLAN,
        open_type="conditional",
    )
