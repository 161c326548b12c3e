"""Catalog pages (CAT-1…5, CAT-9, CAT-11, NF-5): compile through the form, review, search with facets,
visibility and navigation by role — as a person with a browser session sees them, on both stores."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.support.catalog import enterprises, population
from tests.support.catalog import publish as api_publish
from tests.support.pages import HTML, browser, nav_labels, text


def form_data(body: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """The fields the 目录编制 form posts for a resource payload (items as ``items-<row>-<field>``)."""
    data: dict[str, Any] = {}
    for field in (
        "name",
        "summary",
        "classification",
        "format",
        "share_type",
        "share_conditions",
        "legal_basis",
        "legal_basis_kind",
        "usage_requirements",
        "open_type",
        "open_conditions",
        "update_cycle",
        "grade",
    ):
        data[field] = body.get(field) or ""
    data["share_modes"] = body.get("share_modes", [])
    data["share_methods"] = body.get("share_methods", [])
    data["materials"] = "\n".join(body.get("materials", []))
    for index, item in enumerate(body.get("items", [])):
        prefix = f"items-{index}-"
        for field in ("code", "name", "data_type", "length", "level", "element", "share_type"):
            value = item.get(field)
            data[prefix + field] = "" if value is None else str(value)
        data[prefix + "code_list"] = "、".join(item.get("code_list") or [])
        for flag in ("required", "key"):
            if item.get(flag):
                data[prefix + flag] = "1"
    # the editor always ends with one blank row
    blank = f"items-{len(body.get('items', []))}-"
    data.update({blank + "code": "", blank + "name": "", blank + "data_type": "C", blank + "level": "1"})
    data.update(extra)
    return data


def create_through_form(officer: TestClient, body: dict[str, Any]) -> tuple[str, str]:
    response = officer.post("/catalog/new", data=form_data(body))
    assert response.status_code == 200, text(response.text)[:2000]
    match = re.search(r"/catalog/r/(.+)$", response.url.path)
    assert match, response.url
    return match.group(1), response.text


def test_officer_compiles_through_the_form_and_the_authority_reviews_on_pages(app):
    """JOURNEYS 1 steps 1–2 and 2 step 1 on pages: compile, submit, return with a comment, resubmit,
    publish, then another department finds it by a two-character word with facet counts."""
    officer = browser(app, "ga_officer")
    page = officer.get("/catalog/new")
    assert page.status_code == 200
    assert "目录编制" in nav_labels(page.text)
    assert "公民身份号码" in page.text and "有条件共享" in page.text  # element and share type choices

    code, detail = create_through_form(officer, population())
    assert re.fullmatch(r"101/002\d{6}", code)
    shown = text(detail)
    for words in ("人口基础信息", "有条件共享", "数据库", "每日", "重要", "草稿", "焦作市公安局", "比对验证"):
        assert words in shown, words
    assert "共享申请函（加盖公章）" in shown and "数据安全承诺书" in shown  # materials, one per line
    assert "公民身份号码" in shown and "C 字符型" in shown and "3 级" in shown
    assert (
        "0 未知的性别" in shown and "1 男" in shown and "2 女" in shown
    )  # code lists labelled (#13 item 22)
    assert "已保存为草稿" in shown and "提交审核" in shown
    assert "提示" not in shown and "未知字段" not in shown  # nothing to warn of

    # rules that do not block are shown before submission: 4 级 items are not opened
    opened = population(name="人口统计汇总信息", open_type="conditional", open_conditions="仅限科研用途")
    opened["items"][4]["level"] = 4
    _, warned = create_through_form(officer, opened)
    assert "提示：“户籍地址”为 4 级敏感信息项，开放时不会提供" in text(warned)

    response = officer.post(f"/catalog/r/{code}/submit")
    assert response.status_code == 200 and "已提交审核" in response.text
    assert "提交审核</button>" not in response.text  # no second submission while under review

    authority = browser(app, "dsj_officer")
    queue = authority.get("/catalog/review")
    assert queue.status_code == 200
    row = text(queue.text)
    assert "人口基础信息" in row and "焦作市公安局" in row and "新资源" in row and "5 项" in row
    assert f'href="/catalog/r/{code}"' in queue.text

    review = authority.get(f"/catalog/r/{code}")
    assert "退回</button>" in review.text and "发布</button>" in review.text
    refused = authority.post(f"/catalog/r/{code}/return", data={"comment": "  "})
    assert refused.status_code == 422 and "退回意见：必填" in refused.text
    returned = authority.post(f"/catalog/r/{code}/return", data={"comment": "请补充信息项的数据元说明"})
    assert returned.status_code == 200 and "已退回" in returned.text

    seen = text(officer.get(f"/catalog/r/{code}").text)
    assert "请补充信息项的数据元说明" in seen and "已退回" in seen
    assert "退回</button>" not in officer.get(f"/catalog/r/{code}").text  # officers do not review

    edit = officer.get(f"/catalog/r/{code}/edit")
    assert edit.status_code == 200 and 'value="人口基础信息"' in edit.text and 'value="gmsfhm"' in edit.text
    fixed = population(summary="全市户籍人口的基础身份信息（已补充数据元说明）")
    saved = officer.post(f"/catalog/r/{code}/edit", data=form_data(fixed))
    assert saved.status_code == 200 and "已保存修改" in saved.text and "已补充数据元说明" in saved.text
    assert officer.post(f"/catalog/r/{code}/submit").status_code == 200

    published = authority.post(f"/catalog/r/{code}/publish")
    assert published.status_code == 200
    shown = text(published.text)
    assert "已发布" in shown and "首次发布" in shown and code in shown
    assert "目前没有待审核的资源" in authority.get("/catalog/review").text

    user = browser(app, "rs_user")
    found = user.get("/catalog", params={"q": "人口"})
    assert found.status_code == 200
    assert "人口基础信息" in found.text and f'href="/catalog/r/{code}"' in found.text
    facets = text(re.search(r'<aside class="facets".*?</aside>', found.text, re.S).group(0))
    assert "焦作市公安局 1" in facets and "有条件共享 1" in facets and "每日 1" in facets
    assert "人口（101） 1" in facets and "数据库 1" in facets
    assert "共 1 个资源" in text(found.text)
    # a facet filters, and the active filter can be removed again
    filtered = user.get("/catalog", params={"q": "人口", "share_type": "unconditional"})
    assert "没有找到符合条件的资源" in filtered.text
    assert 'class="facets"' not in filtered.text  # no empty box of facets beside no results
    assert "共享类型：无条件共享" in text(filtered.text)
    assert 'href="/catalog?q=%E4%BA%BA%E5%8F%A3"' in filtered.text  # the chip's link drops the filter


def test_form_errors_are_shown_next_to_the_fields_and_the_input_is_kept(app):
    officer = browser(app, "ga_officer")
    body = population(name="人口基础信息（草稿）", share_conditions="")
    body["items"][2]["code_list"] = ["1", "2"]
    response = officer.post("/catalog/new", data=form_data(body))
    assert response.status_code == 422
    assert "未能保存" in response.text
    assert "有条件共享的资源必须写明共享条件" in response.text
    field = re.search(
        r'<textarea name="share_conditions".*?</textarea>\s*(<span class="field-error">[^<]*)',
        response.text,
        re.S,
    )
    assert field and "共享条件" in field.group(1)  # the message sits under its field
    assert 'value="人口基础信息（草稿）"' in response.text  # the name as entered
    assert 'value="gmsfhm"' in response.text and 'value="1、2"' in response.text  # item rows kept
    assert 'value="conditional" selected' in response.text
    assert "共享申请函（加盖公章）" in response.text

    items = population()["items"]
    items[0]["data_type"] = "Z"
    items[1]["length"] = "很长"
    response = officer.post("/catalog/new", data=form_data(population(items=items)))
    assert response.status_code == 422
    assert "信息项第 1 项的数据类型" in response.text and "信息项第 2 项的长度" in response.text
    rows = re.findall(r'<tr class="item-row">.*?</tr>', response.text, re.S)
    assert "取值不在允许范围内" in rows[0] and "应为整数" in rows[1]
    assert 'value="很长"' in rows[1]

    no_key = [{**i, "key": False} for i in population()["items"]]
    response = officer.post("/catalog/new", data=form_data(population(items=no_key)))
    assert response.status_code == 422 and "关键标识" in response.text

    # adding a row without JS re-renders the form with one more blank row and saves nothing
    more = officer.post("/catalog/new", data=form_data(population(), _action="add_row"))
    assert more.status_code == 200
    editor = re.search(r'<table class="items-editor".*?</table>', more.text, re.S).group(0)
    assert editor.count('<tr class="item-row">') == len(population()["items"]) + 2
    fewer = officer.post(
        "/catalog/new", data=form_data(population(), **{"items-4-remove": "1", "_action": "add_row"})
    )
    editor = re.search(r'<table class="items-editor".*?</table>', fewer.text, re.S).group(0)
    assert editor.count('<tr class="item-row">') == len(population()["items"]) + 1
    assert 'value="hjdz"' not in editor  # the row marked 删除 is gone
    mine = officer.get("/catalog/mine")
    assert "本部门还没有编制资源" in mine.text


def test_a_published_resource_is_revised_with_a_reason_and_the_diff_is_readable(app, client, as_user):
    code = api_publish(client, as_user, "scjg_officer", enterprises())
    officer = browser(app, "scjg_officer")
    page = officer.get(f"/catalog/r/{code}")
    assert ">修订</a>" in page.text and "停用" not in page.text
    edit = officer.get(f"/catalog/r/{code}/edit")
    assert "修订原因" in edit.text and "已发布的第 1 版继续提供服务" in text(edit.text)

    changed = enterprises(update_cycle="weekly")
    changed["items"].append(
        {"code": "djdz", "name": "登记地址", "data_type": "C", "length": 200, "element": "登记地址"}
    )
    changed["items"][2]["level"] = 2
    refused = officer.post(f"/catalog/r/{code}/edit", data=form_data(changed))
    assert refused.status_code == 422 and "修订已发布的资源必须说明修订原因" in refused.text
    assert 'value="djdz"' in refused.text

    same = officer.post(f"/catalog/r/{code}/edit", data=form_data(enterprises(), reason="核对"))
    assert same.status_code == 200 and "内容没有变化，没有开启修订" in same.text and "修订中" not in same.text
    saved = officer.post(f"/catalog/r/{code}/edit", data=form_data(changed, reason="增加登记地址"))
    assert saved.status_code == 200
    shown = text(saved.text)
    assert "修订中：第 2 版" in shown and "增加登记地址" in shown
    assert "已发布的第 1 版继续提供服务" in shown
    assert "新增信息项 登记地址（djdz）" in shown and "每日 → 每周" in shown
    # the catalog keeps showing the published version
    assert "每日" in text(re.search(r"<h2>基本信息</h2>.*?</dl>", saved.text, re.S).group(0))

    officer.post(f"/catalog/r/{code}/submit")
    authority = browser(app, "dsj_officer")
    queue = text(authority.get("/catalog/review").text)
    assert "修订" in queue and "第 2 版" in queue and "增加登记地址" in queue
    published = authority.post(f"/catalog/r/{code}/publish")
    shown = text(published.text)
    assert "第 2 版" in shown and "已被新版本替代" in shown
    history = text(re.search(r"<h2>版本历史</h2>.*?</section>", published.text, re.S).group(0))
    assert "新增信息项 登记地址（djdz）" in history
    assert "修改更新周期" in history and "每日 → 每周" in history
    assert "修改信息项 法定代表人（fddbr）" in history and "敏感级别 1 级 → 2 级" in history
    old = authority.get(f"/catalog/r/{code}", params={"v": 1})
    assert "历史版本第 1 版" in old.text and "djdz" not in re.search(
        r'<table class="items">.*?</table>', old.text, re.S
    ).group(0)

    retired = authority.post(f"/catalog/r/{code}/retire", data={"reason": "已由新资源替代"})
    assert retired.status_code == 200 and "已停用" in retired.text
    assert "资源已停用，不能修改" in officer.get(f"/catalog/r/{code}/edit").text


def test_drafts_stay_with_their_department_and_the_menu_follows_the_role(app, client, as_user):
    draft = client.post("/api/v1/resources", json=population(), headers=as_user("ga_officer")).json()["code"]
    user = browser(app, "rs_user")
    page = user.get(f"/catalog/r/{draft}")
    assert page.status_code == 404
    assert "页面不存在" in page.text and f"资源 {draft} 不存在" in page.text
    assert "人口基础信息" not in page.text
    assert user.get(f"/catalog/r/{draft}/edit").status_code == 403
    labels = nav_labels(user.get("/catalog").text)
    assert "目录检索" in labels and "本部门目录" in labels
    assert "目录编制" not in labels and "审核队列" not in labels and "重复采集" not in labels
    mine = user.get("/catalog/mine")
    assert (
        mine.status_code == 200 and "新建资源" not in mine.text and "焦作市人力资源和社会保障局" in mine.text
    )
    assert user.get("/catalog/review").status_code == 403
    assert user.get("/catalog/new").status_code == 403

    officer = browser(app, "ga_officer")
    mine = officer.get("/catalog/mine")
    assert "新建资源" in mine.text and "人口基础信息" in mine.text
    tabs = text(re.search(r'<nav class="tabs".*?</nav>', mine.text, re.S).group(0))
    assert "草稿 1" in tabs and "已发布 0" in tabs
    labels = nav_labels(mine.text)
    assert "目录编制" in labels and "审核队列" not in labels
    assert "审核队列" in nav_labels(browser(app, "dsj_officer").get("/catalog").text)
    # another department's officer may not edit it either
    assert browser(app, "rs_officer").get(f"/catalog/r/{draft}/edit").status_code == 404


def test_the_public_sees_only_open_resources(app, client, as_user):
    closed = api_publish(client, as_user, "ga_officer", population())
    opened = api_publish(client, as_user, "scjg_officer", enterprises())
    citizen = browser(app, "citizen")
    page = citizen.get("/catalog")
    assert page.status_code == 200
    assert "企业登记信息" in page.text and "人口基础信息" not in page.text
    assert "无条件开放" in page.text
    assert citizen.get(f"/catalog/r/{closed}").status_code == 404
    assert "企业登记信息" in citizen.get(f"/catalog/r/{opened}").text
    labels = nav_labels(page.text)
    assert "目录检索" in labels and "本部门目录" not in labels and "目录编制" not in labels
    assert "人口基础信息" in browser(app, "rs_user").get("/catalog").text


def test_cross_origin_form_posts_are_refused(app, client, as_user):
    officer = browser(app, "ga_officer")
    evil = {"origin": "http://evil.example"}
    response = officer.post("/catalog/new", data=form_data(population()), headers=evil)
    assert response.status_code == 403
    assert client.get("/api/v1/resources", headers=as_user("ga_officer")).json()["total"] == 0
    code = client.post("/api/v1/resources", json=population(), headers=as_user("ga_officer")).json()["code"]
    assert officer.post(f"/catalog/r/{code}/submit", headers=evil).status_code == 403
    assert (
        officer.post(f"/catalog/r/{code}/submit", headers={"origin": "http://testserver"}).status_code == 200
    )


@pytest.mark.parametrize("path", ["/catalog", "/catalog/mine", "/catalog/new", "/catalog/review"])
def test_pages_need_a_login(client, path):
    response = client.get(path, headers=HTML, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
