"""Realistic catalog payloads for tests (JOURNEYS 1: 市公安局's 人口基础信息, 市场监管局's 企业登记信息),
and putting one into the catalog through the API.

Both keep the catalog's rules: registered complete for sharing (materials, share methods, usage
requirements: SHR-1), a basis of kind law for conditional sharing, and — 人口基础信息 being a class-1
resource — its base items (公民身份号码, 姓名, 性别, 出生日期, 户籍地址) shared unconditionally (CAT-13)
while the resource stays conditional."""

from __future__ import annotations

import copy


def population(**overrides) -> dict:
    body = {
        "name": "人口基础信息",
        "summary": "全市户籍人口的基础身份信息，每日更新。",
        "classification": "101",
        "format": "database",
        "share_type": "conditional",
        "share_conditions": "仅限办理社会保障、民政救助等法定职责使用",
        "legal_basis": "《中华人民共和国居民身份证法》",
        "legal_basis_kind": "law",
        "share_modes": ["verify", "query"],
        "share_methods": ["interface"],
        "usage_requirements": "仅用于申请时载明的履职用途，不得向第三方提供，使用记录留存备查",
        "open_type": "none",
        "update_cycle": "daily",
        "grade": "important",
        "materials": ["共享申请函（加盖公章）", "数据安全承诺书"],
        "items": [
            {**item, "share_type": "unconditional"}
            for item in [
                {
                    "code": "gmsfhm",
                    "name": "公民身份号码",
                    "data_type": "C",
                    "length": 18,
                    "required": True,
                    "key": True,
                    "level": 3,
                    "element": "公民身份号码",
                },
                {
                    "code": "xm",
                    "name": "姓名",
                    "data_type": "C",
                    "length": 50,
                    "required": True,
                    "level": 2,
                    "element": "姓名",
                },
                {
                    "code": "xb",
                    "name": "性别",
                    "data_type": "C",
                    "length": 1,
                    "level": 1,
                    "code_list": ["0", "1", "2", "9"],
                    "element": "性别",
                },
                {"code": "csrq", "name": "出生日期", "data_type": "D", "level": 2, "element": "出生日期"},
                {
                    "code": "hjdz",
                    "name": "户籍地址",
                    "data_type": "C",
                    "length": 200,
                    "level": 3,
                    "element": "户籍地址",
                },
            ]
        ],
    }
    body.update(copy.deepcopy(overrides))
    return body


def enterprises(**overrides) -> dict:
    body = {
        "name": "企业登记信息",
        "summary": "市场主体登记的企业名录及基本信息，对社会无条件开放。",
        "classification": "102",
        "format": "database",
        "share_type": "unconditional",
        "share_modes": ["query", "exchange"],
        "share_methods": ["interface", "table"],
        "usage_requirements": "按履职需要使用，注明数据来源",
        "materials": ["共享申请函（加盖公章）"],
        "open_type": "unconditional",
        "update_cycle": "daily",
        "grade": "general",
        "items": [
            {
                "code": "tyshxydm",
                "name": "统一社会信用代码",
                "data_type": "C",
                "length": 18,
                "required": True,
                "key": True,
                "element": "统一社会信用代码",
            },
            {
                "code": "dwmc",
                "name": "企业名称",
                "data_type": "C",
                "length": 200,
                "required": True,
                "element": "单位名称",
            },
            {"code": "fddbr", "name": "法定代表人", "data_type": "C", "length": 50, "element": "法定代表人"},
            {"code": "clrq", "name": "成立日期", "data_type": "D", "element": "成立日期"},
        ],
    }
    body.update(copy.deepcopy(overrides))
    return body


def publish(client, as_user, officer: str, body: dict) -> str:
    """Create ``body`` as ``officer``'s draft, submit it and have 市大数据局 publish it; its code."""
    headers = as_user(officer)
    response = client.post("/api/v1/resources", json=body, headers=headers)
    assert response.status_code == 201, response.text
    code = response.json()["code"]
    assert client.post(f"/api/v1/resources/{code}/submit", headers=headers).status_code == 200
    published = client.post(f"/api/v1/resources/{code}/publish", headers=as_user("dsj_officer"))
    assert published.status_code == 200, published.text
    return code


def create(client, headers, body) -> dict:
    """``body`` as a draft of the caller's department; the resource as the API shows it."""
    response = client.post("/api/v1/resources", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def publish_draft(client, as_user, code: str) -> dict:
    """Submit 市公安局's draft ``code`` and have 市大数据局 publish it; the published resource."""
    assert client.post(f"/api/v1/resources/{code}/submit", headers=as_user("ga_officer")).status_code == 200
    response = client.post(f"/api/v1/resources/{code}/publish", headers=as_user("dsj_officer"))
    assert response.status_code == 200, response.text
    return response.json()
