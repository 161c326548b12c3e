"""CAT-11: Chinese keyword search, facets, filters, sorting and paging — on both stores.

A small catalog is compiled and published through the API by the demo users (市公安局, 市市场监管局,
市人社局 compile; 市大数据局 publishes), then searched as the people who would search it.
"""

from __future__ import annotations

from collections import Counter

import pytest

from tests.support.catalog import enterprises, population

FACETS = (
    "provider_id",
    "classification",
    "share_type",
    "open_type",
    "format",
    "update_cycle",
    "grade",
    "status",
)
CONDITIONAL = {
    "share_type": "conditional",
    "share_conditions": "仅限履行法定职责使用",
    "legal_basis": "《社会保险法》",
    "legal_basis_kind": "law",
    "materials": ["共享申请函"],
}


def plain(name: str, summary: str, classification: str, **extra) -> dict:
    """A resource without items (a file or service), so that only its name and summary are searched."""
    return {
        "name": name,
        "summary": summary,
        "classification": classification,
        "format": "file",
        "share_type": "unconditional",
        "share_modes": ["query"],
        "share_methods": ["file"],  # registered complete for sharing (SHR-1)
        "materials": ["共享申请函"],
        "usage_requirements": "按履职需要使用",
        "open_type": "none",
        "update_cycle": "monthly",
        "grade": "general",
        **extra,
    }


# key: (compiling user, body, what happens after creation)
CATALOG = {
    "population": ("ga_officer", population(), "publish"),
    "floating": (
        "ga_officer",
        plain("流动人员居住登记", "登记外来人口居住情况的信息。", "212", grade="important"),
        "publish",
    ),
    "resident": (
        "ga_officer",
        plain("常住人口信息统计", "按街道汇总的常住人数。", "210", update_cycle="yearly"),
        "publish",
    ),
    "gis": (
        "ga_officer",
        plain("警务ＧＩＳ图层", "公安业务使用的地理图层。", "3", format="image", update_cycle="irregular"),
        "publish",
    ),
    "migration": (
        "ga_officer",
        population(name="人口迁移登记", summary="户口迁入迁出的登记记录。"),
        "draft",
    ),
    "insurance": (
        "rs_officer",
        plain(
            "社保参保信息",
            "职工养老、失业、工伤保险的参保登记与缴费记录。",
            "20301",
            format="database",
            grade="important",
            items=[{"code": "cbzt", "name": "参保状态", "data_type": "C", "length": 2}],
            **CONDITIONAL,
        ),
        "publish",
    ),
    "employment": (
        "rs_officer",
        plain(
            "就业登记信息",
            "劳动者就业登记情况，可用于核验社保缴费和社保转移接续。",
            "201",
            open_type="conditional",
            open_conditions="经申请后开放",
            update_cycle="weekly",
        ),
        "publish",
    ),
    "card": (
        "rs_officer",
        plain(
            "社会保障卡信息",
            "社会保障卡的发卡与持卡状态。",
            "203",
            format="service",
            update_cycle="realtime",
            grade="core",
            **CONDITIONAL,
        ),
        "publish",
    ),
    "enterprises": ("scjg_officer", enterprises(), "publish"),
    "map": (
        "scjg_officer",
        plain("市场主体分布图", "基于GIS的市场主体空间分布。", "3", open_type="unconditional"),
        "publish",
    ),
    "self_employed": (
        "scjg_officer",
        enterprises(name="个体工商户名录", summary="个体工商户的登记名录。"),
        "retire",
    ),
}


@pytest.fixture
def catalog(client, as_user) -> dict[str, dict]:
    """Compile, submit and publish (or retire, or leave as a draft) every resource of CATALOG."""
    authority = as_user("dsj_officer")
    response = client.post(
        "/api/v1/catalog/classifications", json={"code": "20301", "name": "社会保险"}, headers=authority
    )
    assert response.status_code == 201, response.text
    made = {}
    for key, (user, body, fate) in CATALOG.items():
        officer = as_user(user)
        response = client.post("/api/v1/resources", json=body, headers=officer)
        assert response.status_code == 201, response.text
        resource = response.json()
        code = resource["code"]
        if fate in ("publish", "retire"):
            assert client.post(f"/api/v1/resources/{code}/submit", headers=officer).status_code == 200
            response = client.post(f"/api/v1/resources/{code}/publish", headers=authority)
            assert response.status_code == 200, response.text
            resource = response.json()
        if fate == "retire":
            response = client.post(f"/api/v1/resources/{code}/retire", headers=authority)
            assert response.status_code == 200, response.text
            resource = response.json()
        made[key] = resource
    return made


def find(client, headers, **params) -> dict:
    response = client.get("/api/v1/resources", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def keys(catalog: dict[str, dict], result: dict) -> list[str]:
    by_code = {r["code"]: k for k, r in catalog.items()}
    return [by_code.get(r["code"], r["code"]) for r in result["items"]]


def found(client, headers, catalog, **params) -> set[str]:
    result = find(client, headers, **params)
    assert result["total"] == len(result["items"]), "the test catalog fits on one page"
    return set(keys(catalog, result))


def test_two_character_words_find_what_they_should(client, as_user, catalog):
    reader = as_user("rs_user")  # a department user: sees every published resource
    assert found(client, reader, catalog, q="人口") == {"population", "floating", "resident"}
    assert found(client, reader, catalog, q="社保") == {"insurance", "employment"}  # name, summary
    assert found(client, reader, catalog, q="企业") == {"enterprises"}
    assert found(client, reader, catalog, q="就业") == {"employment"}
    assert found(client, reader, catalog, q="参保") == {"insurance"}  # name, and the item 参保状态


def test_words_do_not_find_what_they_should_not(client, as_user, catalog):
    reader = as_user("rs_user")
    # 人口基础信息 and 登记外来人口居住情况的信息 hold 人口 and 信息, but not the phrase 人口信息
    assert found(client, reader, catalog, q="人口信息") == {"resident"}
    # 社会保障卡信息 is about social security but never says 社保
    assert "card" not in found(client, reader, catalog, q="社保")
    assert found(client, reader, catalog, q="社会保障卡") == {"card"}
    # the department's name is searched too: 焦作市人力资源和社会保障局
    assert found(client, reader, catalog, q="社会保障") == {"insurance", "employment", "card"}
    assert found(client, reader, catalog, q="车辆") == set()
    assert found(client, reader, catalog, q="基础人口") == set()  # the characters of 人口基础, reordered


def test_single_characters_latin_words_and_codes(client, as_user, catalog):
    reader = as_user("rs_user")
    assert found(client, reader, catalog, q="企") == {"enterprises"}
    assert "population" in found(client, reader, catalog, q="口")
    assert found(client, reader, catalog, q="tyshxydm") == {"enterprises"}  # an item code
    assert found(client, reader, catalog, q="TYSHXYDM") == {"enterprises"}
    assert found(client, reader, catalog, q="cbzt") == {"insurance"}
    code = catalog["enterprises"]["code"]  # e.g. 102/003000001
    assert found(client, reader, catalog, q=code) == {"enterprises"}
    tail = code.split("/")[1]  # the provider's code and the sequence, shared by resources of other classes
    same_tail = {
        k for k, r in catalog.items() if r["code"].endswith("/" + tail) and r["status"] == "published"
    }
    assert "enterprises" in same_tail and found(client, reader, catalog, q=tail) == same_tail


def test_terms_separated_by_spaces_must_all_occur(client, as_user, catalog):
    reader = as_user("rs_user")
    assert found(client, reader, catalog, q="人口 统计") == {"resident"}
    assert found(client, reader, catalog, q="人口 居住") == {"floating"}
    assert found(client, reader, catalog, q="社保 转移") == {"employment"}
    assert found(client, reader, catalog, q="社保　缴费") == {"insurance", "employment"}  # ideographic space
    assert found(client, reader, catalog, q="人口 企业") == set()


def test_full_width_half_width_and_case_are_the_same(client, as_user, catalog):
    reader = as_user("rs_user")
    for q in ("gis", "GIS", "Gis", "ＧＩＳ", "ｇｉｓ"):
        assert found(client, reader, catalog, q=q) == {"gis", "map"}, q
    assert found(client, reader, catalog, q="ＴＹＳＨＸＹＤＭ") == {"enterprises"}


HOSTILE = [
    '"',
    '"人口',
    "人口\"'",
    "*",
    "人*",
    "NEAR",
    "NEAR(人口 信息)",
    "AND",
    "OR",
    "NOT",
    "人口 AND 企业",
    "人口 OR 企业",
    "-",
    "-人口",
    ":",
    "grams:人口",
    "name:企业",
    "' OR 1=1 --",
    "'; DROP TABLE catalog_resources; --",
    "%",
    "_",
    "\\",
    "\\\\人口\\",
    "^",
    "人口 & 企业 | !信息",
    "<->",
    "()",
    "(人口",
    "😀" * 200,
    "人口😀企业",
    "\u0000",
    "䷀䷁",
    "   ",
    "人" * 200,
]


def test_hostile_queries_never_fail(client, as_user, catalog):
    reader = as_user("rs_user")
    for q in HOSTILE:
        response = client.get("/api/v1/resources", params={"q": q}, headers=reader)
        assert response.status_code == 200, (q, response.text)
        body = response.json()
        assert body["total"] == len(body["items"]) and isinstance(body["facets"], dict), q
    # operators are searched as words, never obeyed
    assert found(client, reader, catalog, q="人口 OR 企业") == set()
    assert found(client, reader, catalog, q="-人口") == {"population", "floating", "resident"}
    assert found(client, reader, catalog, q="' OR 1=1 --") == set()
    assert found(client, reader, catalog, q="😀" * 200) == set()
    assert found(client, reader, catalog, q="人口😀统计") == {"resident"}
    assert found(client, reader, catalog, q='人口"') == {"population", "floating", "resident"}
    assert find(client, reader, q="   ")["total"] == 9  # blank: no keyword, everything visible


def expected_facets(resources: list[dict]) -> dict[str, dict[str, int]]:
    out = {}
    for name in FACETS:
        values = [r[name][:3] if name == "classification" else str(r[name]) for r in resources]
        out[name] = dict(Counter(values))
    return out


def test_facets_count_the_filtered_set(client, as_user, catalog):
    authority = as_user("dsj_officer")
    alive = [r for r in catalog.values() if r["status"] != "retired"]

    result = find(client, authority)
    assert result["total"] == 10 and result["facets"] == expected_facets(alive)
    assert result["facets"]["classification"] == {
        "101": 2,
        "102": 1,
        "201": 1,
        "203": 2,
        "210": 1,
        "212": 1,
        "3": 2,
    }

    conditional = [r for r in alive if r["share_type"] == "conditional"]
    result = find(client, authority, share_type="conditional")
    assert result["total"] == len(conditional) == 4
    assert result["facets"] == expected_facets(conditional)

    texts = [r for r in alive if "信息" in r["name"] + r["summary"]]
    result = find(client, authority, q="信息")
    assert result["total"] == len(texts) and result["facets"] == expected_facets(texts)

    result = find(client, authority, q="信息", provider_id=catalog["insurance"]["provider_id"])
    rs = [r for r in texts if r["provider_id"] == catalog["insurance"]["provider_id"]]
    assert result["total"] == 3 and result["facets"] == expected_facets(rs)

    result = find(client, authority, status="retired")
    assert result["facets"]["status"] == {"retired": 1} and result["facets"]["provider_id"] == {
        str(catalog["self_employed"]["provider_id"]): 1
    }

    reader = as_user("rs_user")  # does not see 市公安局's draft
    result = find(client, reader, q="人口")
    assert result["facets"]["status"] == {"published": 3}
    assert result["facets"]["grade"] == {"important": 2, "general": 1}


def test_filters(client, as_user, catalog):
    authority = as_user("dsj_officer")
    assert found(client, authority, catalog, classification="1") == {"population", "migration", "enterprises"}
    assert found(client, authority, catalog, classification="101") == {"population", "migration"}
    assert found(client, authority, catalog, classification="203") == {"insurance", "card"}
    assert found(client, authority, catalog, classification="20301") == {"insurance"}
    assert found(client, authority, catalog, classification="%") == set()
    assert found(client, authority, catalog, share_type="conditional") == {
        "population",
        "migration",
        "insurance",
        "card",
    }
    rs = catalog["insurance"]["provider_id"]
    assert found(client, authority, catalog, provider_id=rs) == {"insurance", "employment", "card"}
    assert found(client, authority, catalog, provider_id=rs, q="社保") == {"insurance", "employment"}
    assert found(client, authority, catalog, status="draft") == {"migration"}
    assert found(client, authority, catalog, open_type="unconditional") == {"enterprises", "map"}
    assert found(client, authority, catalog, format="image") == {"gis"}
    assert found(client, authority, catalog, update_cycle="realtime", grade="core") == {"card"}
    assert found(client, authority, catalog, q="人口", classification="1", share_type="conditional") == {
        "population",
        "migration",
    }
    response = client.get("/api/v1/resources", params={"share_type": "maybe"}, headers=authority)
    assert response.status_code == 422


def test_relevance_puts_names_first(client, as_user, catalog):
    reader = as_user("rs_user")
    # 就业登记信息 says 社保 twice in its summary; 社保参保信息 says it once, in its name
    assert keys(catalog, find(client, reader, q="社保")) == ["insurance", "employment"]
    assert keys(catalog, find(client, reader, q="社保", sort="relevance")) == ["insurance", "employment"]
    ranked = keys(catalog, find(client, reader, q="人口"))
    assert set(ranked[:2]) == {"population", "resident"} and ranked[2] == "floating"
    assert keys(catalog, find(client, reader, q="登记 信息"))[0] in {"employment", "enterprises"}


def test_sorting_by_name_and_by_update(client, as_user, catalog):
    authority = as_user("dsj_officer")
    by_name = find(client, authority, sort="name")
    names = [r["name"] for r in by_name["items"]]
    assert names == sorted(names) and len(names) == 10
    updated = [r["updated_at"] for r in find(client, authority, sort="updated")["items"]]
    assert updated == sorted(updated, reverse=True)
    # without a keyword the newest come first; the last one published is 个体工商户名录 (retired) → next
    assert find(client, authority)["items"][0]["code"] == catalog["map"]["code"]
    named = [r["name"] for r in find(client, authority, q="信息", sort="name")["items"]]
    assert named == sorted(named) and "人口基础信息" in named
    codes = [r["code"] for r in find(client, authority, sort="code")["items"]]
    assert codes == sorted(codes)
    published = [r["published_at"] for r in find(client, authority, sort="published")["items"]]
    assert published[-1] is None and catalog["migration"]["published_at"] is None  # the draft comes last
    assert published[:-1] == sorted(published[:-1], reverse=True)


def test_paging_with_limit_offset_and_total(client, as_user, catalog):
    authority = as_user("dsj_officer")
    everything = [r["code"] for r in find(client, authority, sort="name")["items"]]
    pages = []
    for offset in (0, 3, 6, 9, 12):
        page = find(client, authority, sort="name", limit=3, offset=offset)
        assert page["total"] == 10
        assert len(page["items"]) == max(0, min(3, 10 - offset))
        pages += [r["code"] for r in page["items"]]
    assert pages == everything
    first = find(client, authority, q="信息", limit=2)
    second = find(client, authority, q="信息", limit=2, offset=2)
    assert first["total"] == second["total"] > 4
    assert not {r["code"] for r in first["items"]} & {r["code"] for r in second["items"]}
    assert client.get("/api/v1/resources", params={"limit": 0}, headers=authority).status_code == 422

    # relevance pages run across the boundary between names that hold the word and the rest
    reader = as_user("rs_user")
    ranked = keys(catalog, find(client, reader, q="人口"))
    assert len(ranked) == 3
    for limit in (1, 2):
        paged = []
        for offset in range(0, 4, limit):
            page = find(client, reader, q="人口", limit=limit, offset=offset)
            assert page["total"] == 3
            paged += keys(catalog, page)
        assert paged == ranked, limit
    assert keys(catalog, find(client, reader, q="人口", limit=5, offset=1)) == ranked[1:]


def test_retired_resources_leave_default_search(client, as_user, catalog):
    reader = as_user("rs_user")
    assert found(client, reader, catalog, q="个体工商户") == set()
    assert found(client, reader, catalog, q="个体工商户", status="retired") == {"self_employed"}
    assert found(client, reader, catalog, status="retired") == {"self_employed"}


def test_a_revision_changes_search_only_once_published(client, as_user, catalog):
    officer, authority = as_user("scjg_officer"), as_user("dsj_officer")
    code = catalog["enterprises"]["code"]
    response = client.patch(
        f"/api/v1/resources/{code}",
        json={
            "name": "企业及营业执照登记信息",
            "summary": "市场主体登记的企业名录、营业执照及基本信息。",
            "reason": "增加营业执照信息",
        },
        headers=officer,
    )
    assert response.status_code == 200, response.text
    for user in ("rs_user", "citizen", "ga_officer", "dsj_officer"):
        assert found(client, as_user(user), catalog, q="营业执照") == set(), user
        assert found(client, as_user(user), catalog, q="企业登记信息") == {"enterprises"}, user
    assert client.post(f"/api/v1/resources/{code}/submit", headers=officer).status_code == 200
    assert found(client, as_user("rs_user"), catalog, q="营业执照") == set()
    assert client.post(f"/api/v1/resources/{code}/publish", headers=authority).status_code == 200
    for user in ("rs_user", "citizen"):
        assert found(client, as_user(user), catalog, q="营业执照") == {"enterprises"}, user
        assert found(client, as_user(user), catalog, q="企业登记信息") == set(), user
        assert found(client, as_user(user), catalog, q="企业") == {"enterprises"}, user


def test_drafts_are_found_only_by_their_department_and_the_authority(client, as_user, catalog):
    assert found(client, as_user("ga_officer"), catalog, q="人口迁移") == {"migration"}
    assert found(client, as_user("ga_head"), catalog, q="人口迁移") == {"migration"}
    assert found(client, as_user("dsj_officer"), catalog, q="人口迁移") == {"migration"}
    assert found(client, as_user("rs_user"), catalog, q="人口迁移") == set()
    assert found(client, as_user("rs_officer"), catalog, status="draft") == set()


def test_the_public_finds_only_open_published_resources(client, as_user, catalog):
    citizen = as_user("citizen")
    assert found(client, citizen, catalog) == {"enterprises", "employment", "map"}
    assert found(client, citizen, catalog, q="企业") == {"enterprises"}
    assert found(client, citizen, catalog, q="社保") == {"employment"}
    assert found(client, citizen, catalog, q="人口") == set()
    assert found(client, citizen, catalog, q="人口迁移") == set()
    assert found(client, citizen, catalog, q="个体工商户", status="retired") == set()
    assert found(client, citizen, catalog, status="draft") == set()
    assert found(client, citizen, catalog, open_type="none") == set()
    facets = find(client, citizen)["facets"]
    assert facets["open_type"] == {"unconditional": 2, "conditional": 1}
    assert facets["status"] == {"published": 3}
