"""Pages of the working-day calendar (CAL-1/2) and the policy (POL-1); the audit log's are tested with
the workbench (tests/workbench)."""

from __future__ import annotations

import html
import re
from pathlib import Path

from tests.support.pages import HTML, web_login

PROVINCE_FAST = (
    Path(__file__).resolve().parents[2] / "src" / "govdata" / "platform" / "policies" / "province-fast.toml"
)
SCHEDULE_2027_CSV = "date,kind\n2027-01-01,holiday\n" + "".join(f"2027-02-{d:02d},休\n" for d in range(5, 12))


def errors_on(page: str) -> list[str]:
    return [html.unescape(e) for e in re.findall(r'class="error"[^>]*>(.*?)</p>', page, re.S)]


def status_on(page: str) -> str:
    found = re.findall(r'<(p|div)[^>]*role="status"[^>]*>(.*?)</\1>', page, re.S)
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", " ".join(f[1] for f in found))))


def rows_of(page: str, table_class: str) -> list[str]:
    table = re.search(rf'<table class="{table_class}">.*?</table>', page, re.S).group(0)
    return [
        html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row))).strip()
        for row in re.findall(r"<tr>(.*?)</tr>", table, re.S)
    ][1:]


# --- calendar -------------------------------------------------------------------------------------


def test_calendar_page_computes_a_deadline(client):
    web_login(client, "rs_user")
    page = client.get("/calendar", params={"start": "2026-09-25", "working_days": "10"}, headers=HTML)
    assert page.status_code == 200
    result = status_on(page.text)
    assert "2026-10-15" in result and "星期四" in result and "暂定" not in result


def test_calendar_page_marks_provisional_deadlines_and_explains_why(client):
    web_login(client, "rs_user")
    page = client.get("/calendar", params={"start": "2027-03-01", "working_days": "5"}, headers=HTML).text
    result = status_on(page)
    assert "2027-03-08" in result and "暂定" in result
    assert "2027 年的放假与调休安排尚未公布" in result and "周一至周五" in result


def test_calendar_page_shows_input_errors_in_chinese(client):
    web_login(client, "rs_user")
    page = client.get("/calendar", params={"start": "garbage", "working_days": "-1"}, headers=HTML)
    assert page.status_code == 422
    assert any("起算日期" in e for e in errors_on(page.text))
    assert any("工作日数" in e for e in errors_on(page.text))
    too_many = client.get("/calendar", params={"start": "2026-01-05", "working_days": "5000"}, headers=HTML)
    assert too_many.status_code == 422 and any("1000" in e for e in errors_on(too_many.text))


def test_admin_uploads_a_schedule_on_the_calendar_page(client):
    web_login(client, "rs_user")
    assert "导入年度放假与调休安排" not in client.get("/calendar", headers=HTML).text
    web_login(client, "admin")
    page = client.get("/calendar", headers=HTML).text
    assert "导入年度放假与调休安排" in page and "尚未导入任何年度安排" in page

    uploaded = client.post(
        "/calendar/years",
        data={"year": "2027", "note": "国办发明电〔2026〕测试号"},
        files={"file": ("2027.csv", SCHEDULE_2027_CSV.encode(), "text/csv")},
        headers={**HTML, "origin": "http://testserver"},
    )
    assert uploaded.status_code == 200, errors_on(uploaded.text)
    assert "已导入 2027 年安排：节假日 8 天" in status_on(uploaded.text)
    assert "国办发明电〔2026〕测试号" in uploaded.text
    after = client.get("/calendar", params={"start": "2026-12-31", "working_days": "1"}, headers=HTML).text
    assert "2027-01-04" in status_on(after) and "暂定" not in status_on(after)


def test_bad_schedule_uploads_are_explained_on_the_page(client):
    web_login(client, "admin")
    bad_line = client.post(
        "/calendar/years",
        data={"year": "2027"},
        files={"file": ("2027.csv", b"2027-01-01,holiday\n2027-13-01,holiday\n", "text/csv")},
        headers=HTML,
    )
    assert bad_line.status_code == 422
    assert any("第 2 行" in e for e in errors_on(bad_line.text))
    weekday = client.post(
        "/calendar/years",
        data={"year": "2027"},
        files={"file": ("2027.csv", b"2027-01-01,holiday\n2027-03-10,workday\n", "text/csv")},
        headers=HTML,
    )
    assert weekday.status_code == 422 and any("星期三" in e for e in errors_on(weekday.text))
    no_year = client.post(
        "/calendar/years", data={"year": "明年"}, files={"file": ("x.csv", b"", "text/csv")}, headers=HTML
    )
    assert no_year.status_code == 422 and any("年份" in e for e in errors_on(no_year.text))
    assert "尚未导入任何年度安排" in client.get("/calendar", headers=HTML).text


def test_schedule_uploads_need_the_administrator_and_this_site(client):
    web_login(client, "dsj_officer")
    forbidden = client.post(
        "/calendar/years",
        data={"year": "2027"},
        files={"file": ("2027.csv", SCHEDULE_2027_CSV.encode(), "text/csv")},
        headers=HTML,
    )
    assert forbidden.status_code == 403 and "无权访问" in forbidden.text
    web_login(client, "admin")
    cross_site = client.post(
        "/calendar/years",
        data={"year": "2027"},
        files={"file": ("2027.csv", SCHEDULE_2027_CSV.encode(), "text/csv")},
        headers={**HTML, "origin": "https://evil.example"},
    )
    assert cross_site.status_code == 403
    assert "尚未导入任何年度安排" in client.get("/calendar", headers=HTML).text


# --- policy ---------------------------------------------------------------------------------------


def test_policy_page_shows_the_active_profile_in_chinese(client):
    web_login(client, "ga_officer")
    page = client.get("/policy", headers=HTML).text
    deadlines = rows_of(page, "policy-deadlines")
    share = next(r for r in deadlines if r.startswith("有条件共享申请的答复期限"))
    assert "10 个工作日" in share and "法定" in share and "政务信息资源共享管理暂行办法" in share
    assert any(r.startswith("疑义、纠错的复核期限") and "10 个工作日" in r for r in deadlines)
    assert any(
        r.startswith("法律法规修订或职能变化后更新资源目录的期限") and "15 个工作日" in r for r in deadlines
    )
    rectification = next(r for r in deadlines if "整改期限" in r)
    assert "非法定" in rectification
    assert any("合规审查期限" in r and "未设置" in r for r in deadlines)
    switches = rows_of(page, "policy-switches")
    assert any(r.startswith("共享申请答复期限的起算点") and "自使用部门提交申请起算" in r for r in switches)
    assert any(
        r.startswith("可提出疑义的主体") and "数据使用部门、自然人、法人、非法人组织" in r for r in switches
    )
    assert "默认（依据各地办法）" in page and "生效中" in page


def test_admin_uploads_and_activates_a_profile_on_the_page(client):
    web_login(client, "admin")
    uploaded = client.post(
        "/policy/profiles",
        data={"activate": "1"},
        files={"file": ("province-fast.toml", PROVINCE_FAST.read_bytes(), "application/toml")},
        headers={**HTML, "origin": "http://testserver"},
    )
    assert uploaded.status_code == 200, errors_on(uploaded.text)
    assert "已保存政策配置“省级快速答复”并已启用" in status_on(uploaded.text)
    deadlines = rows_of(uploaded.text, "policy-deadlines")
    share = next(r for r in deadlines if r.startswith("有条件共享申请的答复期限"))
    assert "5 个工作日" in share and "非法定" in share
    assert any("合规审查期限" in r and "2 个工作日" in r for r in deadlines)
    switches = rows_of(uploaded.text, "policy-switches")
    assert any("自主管部门合规审查通过起算" in r for r in switches)

    back = client.post("/policy/profiles/default/activate", headers=HTML)
    assert back.status_code == 200
    assert "已启用政策配置“默认（依据各地办法）”" in status_on(back.text)
    assert "province-fast" in back.text  # still listed, can be activated again
    again = client.post("/policy/profiles/province-fast/activate", headers=HTML)
    assert "当前生效：省级快速答复" in again.text


def test_bad_profile_files_are_explained_on_the_page(client):
    web_login(client, "admin")
    typo = client.post(
        "/policy/profiles",
        files={"file": ("x.toml", b'name = "x"\n[switches]\ncatalog_publsher = "provider"\n', "text/plain")},
        headers=HTML,
    )
    assert typo.status_code == 422
    assert any("switches.catalog_publsher" in e and "未知字段" in e for e in errors_on(typo.text))
    wrong_type = client.post(
        "/policy/profiles", files={"file": ("x.yaml", b"name: x\n", "text/plain")}, headers=HTML
    )
    assert wrong_type.status_code == 422 and any(".toml 或 .json" in e for e in errors_on(wrong_type.text))
    broken_json = client.post(
        "/policy/profiles", files={"file": ("x.json", b"{", "application/json")}, headers=HTML
    )
    assert broken_json.status_code == 422 and any("格式错误" in e for e in errors_on(broken_json.text))
    unknown = client.post("/policy/profiles/nope/activate", headers=HTML)
    assert unknown.status_code == 404 and any("nope" in e for e in errors_on(unknown.text))
    assert "当前生效：默认（依据各地办法）" in unknown.text


def test_policy_changes_need_the_administrator_and_this_site(client):
    web_login(client, "auditor")
    forbidden = client.post(
        "/policy/profiles",
        files={"file": ("province-fast.toml", PROVINCE_FAST.read_bytes(), "text/plain")},
        headers=HTML,
    )
    assert forbidden.status_code == 403
    assert client.post("/policy/profiles/default/activate", headers=HTML).status_code == 403
    web_login(client, "admin")
    cross_site = client.post(
        "/policy/profiles",
        data={"activate": "1"},
        files={"file": ("province-fast.toml", PROVINCE_FAST.read_bytes(), "text/plain")},
        headers={**HTML, "origin": "https://evil.example"},
    )
    assert cross_site.status_code == 403
    assert "当前生效：默认（依据各地办法）" in client.get("/policy", headers=HTML).text
