"""CAT-11 with the dictionary (#13 item 21): a data element's synonyms find the resources whose items
are that element (身份证号 → 公民身份号码), classification names find their class's resources (人口 →
class 101), and the search page's sort menu lists each order once — on both stores."""

from __future__ import annotations

import html
import re

from sqlalchemy import select

from govdata.catalog.models import DataElement
from tests.support.catalog import enterprises, population, publish
from tests.support.pages import HTML, web_login


def household_moves() -> dict:
    """A class-101 resource whose own text never says 人口 (nor 身份证号)."""
    return {
        "name": "户籍迁移登记",
        "summary": "户口迁入、迁出的登记记录。",
        "classification": "101",
        "format": "database",
        "share_type": "unconditional",
        "share_modes": ["query"],
        "share_methods": ["table"],
        "items": [
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
            {"code": "qrrq", "name": "迁入日期", "data_type": "D", "level": 1},
        ],
        "materials": ["共享申请函"],
        "usage_requirements": "按履职需要使用",
        "open_type": "none",
        "update_cycle": "monthly",
        "grade": "general",
    }


def names(client, headers, q: str) -> set[str]:
    response = client.get("/api/v1/resources", params={"q": q, "limit": 50}, headers=headers)
    assert response.status_code == 200, response.text
    return {r["name"] for r in response.json()["items"]}


def catalog(client, as_user) -> None:
    publish(client, as_user, "ga_officer", population())
    publish(client, as_user, "ga_officer", household_moves())
    publish(client, as_user, "scjg_officer", enterprises())


def test_synonyms_of_a_data_element_find_its_items(client, as_user):
    """#13 item 21 (CAT-4, CAT-11): 身份证号 and sfzh are synonyms of 公民身份号码 in the dictionary."""
    catalog(client, as_user)
    user = as_user("rs_user")
    assert "人口基础信息" not in names(client, user, "份证")  # no text of the catalog holds 份证
    assert names(client, user, "身份证号") == {"人口基础信息", "户籍迁移登记"}
    assert names(client, user, "身份证号码") == {"人口基础信息", "户籍迁移登记"}
    assert names(client, user, "社会信用代码") == {"企业登记信息"}
    assert names(client, user, "法人代表") == {"企业登记信息"}  # 法定代表人
    # with another word, both must hold: the synonym and the word
    assert names(client, user, "身份证号 户籍地址") == {"人口基础信息"}
    assert names(client, user, "身份证号 企业") == set()


def test_an_edited_dictionary_applies_at_once(client, as_user, session):
    """#13 item 21: synonyms are read from the dictionary when searching, so a synonym the authority
    adds finds resources compiled before it, without re-indexing."""
    catalog(client, as_user)
    user = as_user("rs_user")
    assert names(client, user, "营业执照号码") == set()
    element = session.scalar(select(DataElement).where(DataElement.name == "统一社会信用代码"))
    element.synonyms = [*element.synonyms, "营业执照号码"]
    session.commit()
    assert names(client, user, "营业执照号码") == {"企业登记信息"}


def test_classification_names_find_their_resources(client, as_user):
    """#13 item 21: 人口 finds every class-101 resource (户籍迁移登记 never says 人口), 法人单位 the class-102
    one — and nothing of another class; the top classes' names are no keyword (every resource would
    match 信息资源)."""
    catalog(client, as_user)
    user = as_user("rs_user")
    assert names(client, user, "人口") == {"人口基础信息", "户籍迁移登记"}
    assert names(client, user, "法人单位") == {"企业登记信息"}
    assert names(client, user, "信息资源") == set()
    assert names(client, user, "社会保障") == set()  # class 203, nothing there


def sort_options(page: str) -> list[str]:
    menu = re.search(r'<select name="sort".*?</select>', page, re.S).group(0)
    return [html.unescape(t).strip() for t in re.findall(r"<option[^>]*>(.*?)</option>", menu, re.S)]


def test_the_search_page_finds_synonyms_and_lists_each_order_once(client, as_user):
    """#13 item 21: the page too; its sort menu names every order once, the default marked."""
    catalog(client, as_user)
    web_login(client, "rs_user")
    page = client.get("/catalog", params={"q": "身份证号"}, headers=HTML).text
    assert "人口基础信息" in page and "户籍迁移登记" in page and "企业登记信息" not in page
    with_words = sort_options(page)
    assert with_words == ["相关度（默认）", "最近更新", "最近发布", "名称", "资源代码"]
    without = sort_options(client.get("/catalog", headers=HTML).text)
    assert without == ["最近更新（默认）", "最近发布", "名称", "资源代码"]
    chosen = client.get("/catalog", params={"q": "人口", "sort": "name"}, headers=HTML).text
    assert re.search(r'<option value="name" selected>名称</option>', chosen)
    # asking for the default by name selects the default entry, not a second one
    again = client.get("/catalog", params={"sort": "updated"}, headers=HTML).text
    assert re.search(r'<option value="" selected>最近更新（默认）</option>', again)
