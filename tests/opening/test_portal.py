"""The public portal (OPN-2) as an anonymous visitor reads it: home, search with a two-character word
and facets, a dataset page, the providers; what is not open is a 404, on both stores."""

from __future__ import annotations

import re

import pytest

from tests.conftest import BACKENDS
from tests.opening.portal_support import HIDDEN_NAME, portal
from tests.support.http import login

HTML = "text/html"


@pytest.fixture(scope="module", params=BACKENDS)
def site(request, tmp_path_factory, templates):
    yield from portal(request.param, request, tmp_path_factory, templates)


def page(site, path: str, status: int = 200, **headers) -> str:
    response = site.client.get(path, headers={"accept": HTML, **headers}, follow_redirects=False)
    assert response.status_code == status, (path, response.status_code, response.text[:300])
    assert response.headers["content-type"].startswith(HTML)
    return response.text


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_home_is_public_and_shows_search_figures_and_latest(site):
    html = page(site, "/")
    assert 'action="/datasets"' in html and 'name="q"' in html
    words = text(html)
    assert "开放数据集 2" in words and "数据提供单位 1" in words  # the two open datasets of 市卫健委
    assert "居民健康体检结果" in html
    assert HIDDEN_NAME not in html
    for href in ("/datasets", "/organizations", "/demands", "/reuses", "/register"):
        assert f'href="{href}"' in html
    assert "/home" not in html  # no workbench link for a visitor


def test_an_internal_user_gets_the_workbench_link_and_still_lands_on_home_after_login(site):
    html = page(site, "/", **login(site.client, "wj_officer"))
    assert 'href="/home"' in html and "工作台" in html
    response = site.client.get("/login", headers={"accept": HTML})
    assert 'name="next" value="/home"' in response.text


def test_search_finds_a_two_character_word_with_facets_and_not_what_is_closed(site):
    html = page(site, "/datasets?q=体检")
    words = text(html)
    assert "共 2 个数据集" in words
    assert "居民健康体检结果" in html
    for title in ("数据提供单位", "主题分类", "开放类型", "数据格式", "更新周期"):
        assert title in html
    assert "无条件开放 1" in words and "有条件开放 1" in words
    assert "焦作市卫生健康委员会 2" in words
    # a facet narrows the results
    narrowed = text(page(site, "/datasets?q=体检&open_type=conditional"))
    assert "共 1 个数据集" in narrowed and "开放类型：有条件开放" in narrowed
    # the closed resource is found by no word of its name
    closed = text(page(site, "/datasets?q=底册"))
    assert "共 0 个数据集" in closed and HIDDEN_NAME not in closed


def test_dataset_page_shows_metadata_items_preview_quality_history_downloads_and_api(site):
    html = page(site, f"/datasets/{site.free}")
    words = text(html)
    assert "居民健康体检结果" in html and "焦作市卫生健康委员会" in words
    for shown in ("记录编号", "行政区划代码", "体检结论"):
        assert shown in words
    for hidden in ("诊断", "公民身份号码", "姓名"):  # levels 2–4 of an unconditional dataset
        assert hidden not in words
    assert "TJ000000" in words  # the preview's first record
    assert "前 10 条，共 30 条" in words
    for fmt in ("csv", "xlsx", "json"):
        assert f'href="/datasets/{site.free}/download.{fmt}"' in html
    assert f"/api/v1/open/datasets/{site.free}/records" in html
    assert "数据质量" in words and "更新记录" in words
    assert "30" in words  # the batch's rows in the update history


def test_conditional_dataset_page_offers_the_application_and_no_preview_or_download(site):
    html = page(site, f"/datasets/{site.conditional}")
    words = text(html)
    assert "有条件开放" in words and "申请使用" in words
    assert f'href="/datasets/{site.conditional}/apply"' in html
    assert "/download." not in html
    assert "TJ000000" not in words
    assert "诊断" not in words  # level 4 is not even listed
    assert "Authorization: Bearer" in html


def test_providers_list_and_page(site):
    html = page(site, "/organizations")
    assert "焦作市卫生健康委员会" in html and "开放数据集 2 个" in text(html)
    provider = re.search(r'href="/organizations/(\d+)"', html).group(1)
    assert "居民健康体检结果" in page(site, f"/organizations/{provider}")


def test_what_is_not_open_is_a_404_page(site):
    for path in (f"/datasets/{site.hidden}", "/datasets/101/999000001", "/organizations/999999"):
        html = page(site, path, 404)
        assert "不存在或未向社会开放" in html and HIDDEN_NAME not in html
    body = site.client.get(f"/api/v1/open/datasets/{site.hidden}").json()
    assert body["status"] == 404 and HIDDEN_NAME not in str(body)


def test_json_list_searches_with_facets(site):
    response = site.client.get("/api/v1/open/datasets", params={"q": "体检", "open_type": "unconditional"})
    assert response.status_code == 200
    body = response.json()
    assert body["total"] == 1 and [d["code"] for d in body["items"]] == [site.free]
    assert body["facets"]["open_type"] == {"unconditional": 1}
    everything = site.client.get("/api/v1/open/datasets").json()
    assert {d["code"] for d in everything["items"]} == {site.free, site.conditional}
