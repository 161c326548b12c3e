"""#13 item 14 (CAT-5): a returned resource carries the authority's comment wherever the department
works on it — a banner on the resource page, above the edit form, beside it in the department's
catalog — and the home page's counts lead to the lists they count."""

from __future__ import annotations

import re

from tests.support.catalog import create, population, publish
from tests.support.pages import HTML, browser, text

COMMENT = "请补充各信息项引用的数据元，并细化共享条件。"


def _returned_draft(client, as_user) -> str:
    officer = as_user("ga_officer")
    code = create(client, officer, population(name="流动人口登记信息"))["code"]
    assert client.post(f"/api/v1/resources/{code}/submit", headers=officer).status_code == 200
    returned = client.post(
        f"/api/v1/resources/{code}/return", json={"comment": COMMENT}, headers=as_user("dsj_officer")
    )
    assert returned.status_code == 200, returned.text
    return code


def test_cat5_the_returned_resource_shows_the_authoritys_comment(app, client, as_user):
    """#13 item 14: banner on the resource page, in the edit form and in the department's list, with
    who returned it by name; gone once the department submits again."""
    code = _returned_draft(client, as_user)
    officer = browser(app, "ga_officer")

    page = text(officer.get(f"/catalog/r/{code}", headers=HTML).text)
    assert "第 1 版已被数据资源主管部门退回" in page and COMMENT in page
    assert "李明 于" in page and "按意见修改" in page  # the authority officer by name, not username

    form = text(officer.get(f"/catalog/r/{code}/edit", headers=HTML).text)
    assert COMMENT in form and "请按意见修改后重新提交审核" in form

    mine = officer.get("/catalog/mine", headers=HTML).text
    row = next(r for r in re.findall(r"<tr>.*?</tr>", mine, re.S) if "流动人口登记信息" in r)
    assert "退回意见" in text(row) and COMMENT in text(row)

    answer = client.get(f"/api/v1/resources/{code}", headers=as_user("ga_officer")).json()
    assert answer["returned"]["comment"] == COMMENT and answer["returned"]["by_name"] == "李明"

    assert client.post(f"/api/v1/resources/{code}/submit", headers=as_user("ga_officer")).status_code == 200
    again = text(officer.get(f"/catalog/r/{code}", headers=HTML).text)
    assert "已被数据资源主管部门退回" not in again
    assert client.get(f"/api/v1/resources/{code}", headers=as_user("ga_officer")).json()["returned"] is None


def test_cat5_a_returned_revision_shows_its_comment_to_the_provider_only(app, client, as_user):
    """#13 item 14: the comment on a returned revision is the provider's and the authority's; other
    departments read the published version without it."""
    code = publish(client, as_user, "ga_officer", population())
    officer = as_user("ga_officer")
    patch = client.patch(
        f"/api/v1/resources/{code}", json={"summary": "新的摘要", "reason": "补充摘要"}, headers=officer
    )
    assert patch.status_code == 200, patch.text
    assert client.post(f"/api/v1/resources/{code}/submit", headers=officer).status_code == 200
    comment = "摘要应说明数据范围。"
    client.post(f"/api/v1/resources/{code}/return", json={"comment": comment}, headers=as_user("dsj_officer"))

    page = text(browser(app, "ga_officer").get(f"/catalog/r/{code}", headers=HTML).text)
    assert "修订第 2 版已被数据资源主管部门退回" in page and comment in page
    mine = text(browser(app, "ga_officer").get("/catalog/mine", headers=HTML).text)
    assert "修订被退回" in mine and comment in mine

    other = browser(app, "rs_officer").get(f"/catalog/r/{code}", headers=HTML)
    assert other.status_code == 200 and comment not in text(other.text)
    assert client.get(f"/api/v1/resources/{code}", headers=as_user("rs_officer")).json()["returned"] is None


def _count_links(html: str) -> dict[str, tuple[str, int]]:
    """The home card's counts: label → (link, count)."""
    found = re.findall(r'<a class="badge count-link[^"]*" href="([^"]+)">(\S+) (\d+)</a>', html)
    return {label: (href.replace("&amp;", "&"), int(n)) for href, label, n in found}


def test_home_counts_lead_to_the_lists_they_count(app, client, as_user):
    """#13 item 14: each count on the home page links to the list holding exactly those resources."""
    _returned_draft(client, as_user)
    publish(client, as_user, "ga_officer", population(name="常住人口信息"))
    officer = browser(app, "ga_officer")
    links = _count_links(officer.get("/home", headers=HTML).text)
    assert links["已退回"] == ("/catalog/mine?status=returned", 1)
    assert links["已发布"] == ("/catalog/mine?status=published", 1)
    listed = text(officer.get(links["已退回"][0], headers=HTML).text)
    assert "流动人口登记信息" in listed and "常住人口信息" not in listed

    submitted = create(
        client, as_user("scjg_officer"), population(name="个体户人员信息", classification="203")
    )
    assert (
        client.post(
            f"/api/v1/resources/{submitted['code']}/submit", headers=as_user("scjg_officer")
        ).status_code
        == 200
    )
    authority = browser(app, "dsj_officer")
    links = _count_links(authority.get("/home", headers=HTML).text)
    assert links["待审核"] == ("/catalog/review", 1)
    assert links["已退回"] == ("/catalog?status=returned", 1)
    assert "个体户人员信息" in text(authority.get("/catalog/review", headers=HTML).text)
    found = text(authority.get(links["已退回"][0], headers=HTML).text)
    assert "流动人口登记信息" in found and "常住人口信息" not in found
