"""The seeds' catalog rules at create, submit and publish (issue 13 items 1–4), on both stores:

* CAT-13 — the base items of a class-1 resource are shared unconditionally: refused, or published
  with a warning, as the policy switch ``base_items_not_unconditional`` says;
* CAT-1 legal basis (seeds 002, 003) — conditional and ``none`` resources stand only on a law, an
  administrative regulation or a central policy; another kind is refused or flagged as
  ``refusal_without_basis`` says;
* CAT-3 — a resource's subject, declared or derived, decides its required key identifier; an item
  named as an identifier element is linked to it, or offered it;
* SHR-1 — a shareable resource lists its materials, share methods and usage requirements.

Each rule is checked again at submission and publication, so a version stored before a rule or a
policy change cannot go out unchecked.
"""

from __future__ import annotations

from sqlalchemy import select

from govdata.catalog.demo import create_demo_catalog
from govdata.catalog.models import Resource, ResourceVersion
from tests.support.catalog import create, enterprises, population
from tests.support.http import assert_problem

PROFILES = "/api/v1/policy/profiles"


def activate(client, as_user, **switches) -> None:
    """Activate a profile with these switches over the defaults (the admin's policy page does this)."""
    name = "switches-" + "-".join(sorted(v for v in switches.values())).replace("_", "-")
    saved = client.post(
        PROFILES,
        params={"activate": "true"},
        json={"name": name, "switches": switches},
        headers=as_user("admin"),
    )
    assert saved.status_code in (200, 201), saved.text


def default_policy(client, as_user) -> None:
    response = client.post(f"{PROFILES}/default/activate", headers=as_user("admin"))
    assert response.status_code == 200, response.text


def conditional_base_items(**overrides) -> dict:
    """人口基础信息 with its base items (姓名, 性别, 出生日期 …) left to the resource's conditional type."""
    items = [{k: v for k, v in item.items() if k != "share_type"} for item in population()["items"]]
    return population(items=items, **overrides)


def errors_of(body: dict) -> dict[str, str]:
    return {e["field"]: e["message"] for e in body["errors"]}


def submit(client, as_user, code, officer="ga_officer"):
    return client.post(f"/api/v1/resources/{code}/submit", headers=as_user(officer))


def publish(client, as_user, code):
    return client.post(f"/api/v1/resources/{code}/publish", headers=as_user("dsj_officer"))


# --- CAT-13: base items are shared unconditionally ------------------------------------------------------


def test_cat13_conditional_base_items_are_refused_naming_each_item(client, as_user):
    body = assert_problem(
        client.post("/api/v1/resources", json=conditional_base_items(), headers=as_user("ga_officer")), 422
    )
    errors = errors_of(body)
    for index, name in enumerate(["公民身份号码", "姓名", "性别", "出生日期", "户籍地址"]):
        message = errors[f"items.{index}.share_type"]
        assert f"“{name}”" in message and "人口基础库的基础信息项" in message and "无条件共享" in message
    assert "信息项第 2 项的共享类型" in body["detail"]
    # shared unconditionally item by item, the resource itself may stay conditional
    assert create(client, as_user("ga_officer"), population())["share_type"] == "conditional"


def test_cat13_only_base_items_of_a_base_information_resource(client, as_user):
    officer = as_user("ga_officer")
    # a class-2 (主题) resource about persons may share 姓名 on conditions
    themed = create(client, officer, conditional_base_items(name="社会救助对象信息", classification="203"))
    assert themed["warnings"] == []
    # a legal-person resource's contact 姓名 is no base item of the 法人 library it belongs to
    firms = enterprises(
        classification="102",
        share_type="conditional",
        share_conditions="仅限市场监管执法使用",
        legal_basis="《中华人民共和国市场主体登记管理条例》",
        legal_basis_kind="administrative_regulation",
        items=[
            *[{**i, "share_type": "unconditional"} for i in enterprises()["items"]],
            {"code": "lxr", "name": "姓名", "data_type": "C", "length": 50, "element": "姓名"},
        ],
    )
    assert create(client, as_user("scjg_officer"), firms)["warnings"] == []
    # but a 法人 base item left conditional is refused
    firms["items"][1] = {k: v for k, v in firms["items"][1].items() if k != "share_type"}
    body = assert_problem(client.post("/api/v1/resources", json=firms, headers=as_user("scjg_officer")), 422)
    assert "法人基础库的基础信息项" in errors_of(body)["items.1.share_type"]


def test_cat13_a_draft_stored_under_a_warning_policy_is_refused_at_submit_and_publish(client, as_user):
    officer = as_user("ga_officer")
    activate(client, as_user, base_items_not_unconditional="warned")
    draft = create(client, officer, conditional_base_items())
    assert any("“姓名”是人口基础库的基础信息项" in w and "仅作提示" in w for w in draft["warnings"])

    default_policy(client, as_user)  # the seeds' default: refused
    body = assert_problem(submit(client, as_user, draft["code"]), 422)
    assert "items.1.share_type" in errors_of(body)
    page = client.get(f"/catalog/r/{draft['code']}", headers=officer)
    assert page.status_code == 200 and "人口基础库的基础信息项" in page.text

    activate(client, as_user, base_items_not_unconditional="warned")
    assert submit(client, as_user, draft["code"]).status_code == 200
    default_policy(client, as_user)
    body = assert_problem(publish(client, as_user, draft["code"]), 422)
    assert "“出生日期”是人口基础库的基础信息项" in errors_of(body)["items.3.share_type"]
    shown = client.get(f"/api/v1/resources/{draft['code']}", headers=officer).json()
    assert shown["status"] == "submitted"


def test_cat13_warned_policy_publishes_with_the_warning_in_the_answer_and_on_the_page(client, as_user):
    officer = as_user("ga_officer")
    activate(client, as_user, base_items_not_unconditional="warned")
    code = create(client, officer, conditional_base_items())["code"]
    assert submit(client, as_user, code).status_code == 200
    published = publish(client, as_user, code)
    assert published.status_code == 200, published.text
    answer = published.json()
    assert answer["status"] == "published"
    assert any("“性别”是人口基础库的基础信息项" in w for w in answer["warnings"])
    page = client.get(f"/catalog/r/{code}", headers=officer)
    assert "提示" in page.text and "“性别”是人口基础库的基础信息项" in page.text
    # other departments read the resource, not the provider's compilation notes
    assert client.get(f"/api/v1/resources/{code}", headers=as_user("rs_user")).json()["warnings"] == []


# --- legal basis (seeds 002, 003) ---------------------------------------------------------------------------


def test_legal_basis_conditional_and_none_need_a_law_regulation_or_central_policy(client, as_user):
    officer = as_user("ga_officer")
    for share_type in ("conditional", "none"):
        body = assert_problem(
            client.post(
                "/api/v1/resources",
                json=population(share_type=share_type, legal_basis_kind="rule"),
                headers=officer,
            ),
            422,
        )
        message = errors_of(body)["legal_basis_kind"]
        assert "法律、行政法规或党中央、国务院政策" in message and "规章" in message
        body = assert_problem(
            client.post(
                "/api/v1/resources",
                json=population(share_type=share_type, legal_basis="上级有关工作要求", legal_basis_kind=None),
                headers=officer,
            ),
            422,
        )
        assert "依据类别" in body["detail"]  # a basis whose title does not say its kind
    for kind in ("law", "administrative_regulation", "central_policy"):
        assert create(client, officer, population(legal_basis_kind=kind))["legal_basis_kind"] == kind


def test_a_legal_basis_given_without_its_kind_takes_the_kind_its_title_says(client, as_user):
    officer = as_user("ga_officer")
    for title, kind in [
        ("《中华人民共和国居民身份证法》第十三条", "law"),
        ("《中华人民共和国政府信息公开条例》", "administrative_regulation"),
        ("《国务院关于印发政务信息资源共享管理暂行办法的通知》（国发〔2016〕51号）", "central_policy"),
    ]:
        answer = create(
            client, officer, population(name=f"人口信息{kind}", legal_basis=title, legal_basis_kind=None)
        )
        assert answer["legal_basis_kind"] == kind, (title, answer)
        assert any("依据类别按依据名称推定" in w for w in answer.get("warnings", [])), answer
    for title, kind in [("《河南省数据条例》", "local_regulation"), ("《焦作市政务数据管理办法》", "rule")]:
        body = assert_problem(
            client.post(
                "/api/v1/resources",
                json=population(legal_basis=title, legal_basis_kind=None),
                headers=officer,
            ),
            422,
        )
        assert "不足以支持" in errors_of(body)["legal_basis_kind"], (title, kind)


def test_legal_basis_flagged_policy_publishes_a_weaker_basis_with_a_warning(client, as_user):
    officer = as_user("ga_officer")
    activate(client, as_user, refusal_without_basis="flagged")
    draft = create(client, officer, population(legal_basis_kind="local_regulation"))
    flagged = [w for w in draft["warnings"] if "地方性法规" in w]
    assert flagged and "已标记" in flagged[0]
    assert submit(client, as_user, draft["code"]).status_code == 200
    default_policy(client, as_user)  # refused again: what waits for publication is caught
    assert "legal_basis_kind" in errors_of(assert_problem(publish(client, as_user, draft["code"]), 422))
    activate(client, as_user, refusal_without_basis="flagged")
    answer = publish(client, as_user, draft["code"]).json()
    assert answer["status"] == "published" and any("地方性法规" in w for w in answer["warnings"])


# --- CAT-3: subject and key identifier ------------------------------------------------------------------------


def allowance(**overrides) -> dict:
    """市人社局's 高龄津贴发放信息 (class 203): about persons, with 姓名 and 出生日期 but no element named."""
    body = population(
        name="高龄津贴发放信息",
        classification="203",
        items=[
            {"code": "xm", "name": "姓名", "data_type": "C", "length": 50, "required": True},
            {"code": "csrq", "name": "出生日期", "data_type": "D"},
            {"code": "ffje", "name": "发放金额", "data_type": "Y"},
        ],
    )
    body.update(overrides)
    return body


def test_cat3_a_resource_about_persons_is_derived_and_needs_a_ric_key(client, as_user):
    officer = as_user("rs_officer")
    body = assert_problem(client.post("/api/v1/resources", json=allowance(), headers=officer), 422)
    message = errors_of(body)["items"]
    assert "关于自然人的资源必须包含必填的关键标识信息项（公民身份号码）" in message
    assert "“姓名”" in message and "“出生日期”" in message  # why it was judged about persons
    assert "请添加引用数据元“公民身份号码”" in message

    with_key = allowance()
    with_key["items"].insert(
        0,
        {
            "code": "gmsfhm",
            "name": "公民身份号码",
            "data_type": "C",
            "length": 18,
            "required": True,
            "key": True,
        },
    )
    answer = create(client, officer, with_key)
    assert answer["subject"] == "natural_person" and answer["subject_derived"] is True
    # the item named as the element is linked to it, and the answer says so
    assert answer["items"][0]["element"] == "公民身份号码"
    assert any("信息项“公民身份号码”已按名称引用数据元“公民身份号码”" in w for w in answer["warnings"])


def test_cat3_a_declared_subject_decides_the_key_and_a_synonym_is_offered_its_element(client, as_user):
    officer = as_user("rs_officer")
    licence = population(
        name="人力资源服务许可信息",
        classification="105",
        share_type="unconditional",
        subject="legal_person",
        items=[
            {"code": "xkzbh", "name": "许可证编号", "data_type": "C", "length": 64, "required": True},
            {"code": "czrxm", "name": "持证人名称", "data_type": "C", "length": 200},
            {
                "code": "xydm",
                "name": "信用代码",
                "data_type": "C",
                "length": 18,
                "required": True,
                "key": True,
            },
        ],
    )
    body = assert_problem(client.post("/api/v1/resources", json=licence, headers=officer), 422)
    message = errors_of(body)["items"]
    assert "关于法人的资源必须包含必填的关键标识信息项（统一社会信用代码）" in message
    assert "信息项“信用代码”可引用数据元“统一社会信用代码”" in message

    licence["items"][2] = {**licence["items"][2], "name": "统一社会信用代码"}
    answer = create(client, officer, licence)
    assert answer["subject"] == "legal_person" and answer["subject_derived"] is False
    assert answer["items"][2]["element"] == "统一社会信用代码"
    assert any("已按名称引用数据元“统一社会信用代码”" in w for w in answer["warnings"])

    # an unincorporated organisation needs the same identifier; "other" needs none
    org = {**licence, "subject": "unincorporated_org", "items": licence["items"][:2]}
    assert (
        "（统一社会信用代码）"
        in errors_of(assert_problem(client.post("/api/v1/resources", json=org, headers=officer), 422))[
            "items"
        ]
    )
    other = create(client, officer, {**org, "subject": "other"})
    assert other["subject"] == "other" and other["subject_derived"] is False


def test_cat3_the_classification_and_the_declared_subject_agree(client, as_user):
    body = assert_problem(
        client.post("/api/v1/resources", json=population(subject="other"), headers=as_user("ga_officer")),
        422,
    )
    assert "主体应为自然人" in errors_of(body)["subject"]
    answer = create(client, as_user("ga_officer"), population())
    assert answer["subject"] == "natural_person" and answer["subject_derived"] is True
    firms = create(client, as_user("scjg_officer"), enterprises())
    assert firms["subject"] == "legal_person" and firms["subject_derived"] is True


def test_cat3_an_answer_sent_back_keeps_a_derived_subject_undeclared(client, as_user):
    officer = as_user("ga_officer")
    answer = create(client, officer, population())
    echoed = {**population(), "subject": answer["subject"], "subject_derived": True}
    again = create(client, officer, echoed)
    assert again["subject_derived"] is True
    declared = create(client, officer, {**population(), "subject": "natural_person"})
    assert declared["subject_derived"] is False
    # undeclaring it again goes back to the derived subject
    patched = client.patch(f"/api/v1/resources/{declared['code']}", json={"subject": None}, headers=officer)
    assert patched.status_code == 200 and patched.json()["subject_derived"] is True


# --- SHR-1: registration complete ---------------------------------------------------------------------------


def test_shr1_a_shareable_resource_lists_materials_methods_and_usage_requirements(client, as_user):
    officer = as_user("scjg_officer")
    for share_type in ("unconditional", "conditional"):
        bare = enterprises(
            share_type=share_type,
            share_conditions="仅限市场监管执法使用",
            legal_basis="《中华人民共和国市场主体登记管理条例》",
            legal_basis_kind="administrative_regulation",
            materials=[],
            share_methods=[],
            usage_requirements="  ",
            items=[{**i, "share_type": "unconditional"} for i in enterprises()["items"]],
        )
        body = assert_problem(client.post("/api/v1/resources", json=bare, headers=officer), 422)
        errors = {e["field"]: e for e in body["errors"]}
        assert {"materials", "share_methods", "usage_requirements"} <= set(errors)
        assert [errors[f]["label"] for f in ("materials", "share_methods", "usage_requirements")] == [
            "申请材料",
            "共享方式",
            "使用要求",
        ]
        label = "无条件共享" if share_type == "unconditional" else "有条件共享"
        assert all(
            errors[f]["message"].startswith(f"{label}的资源") for f in ("materials", "usage_requirements")
        )
    # a resource not shared needs none of them
    refused = enterprises(
        name="企业商业秘密备案信息",
        classification="204",
        share_type="none",
        legal_basis="《中华人民共和国反不正当竞争法》",
        legal_basis_kind="law",
        materials=[],
        share_methods=[],
        share_modes=[],
        usage_requirements=None,
    )
    assert create(client, officer, refused)["share_type"] == "none"


def test_shr1_publish_refuses_a_version_stored_before_the_rule(client, as_user, session):
    officer = as_user("scjg_officer")
    code = create(client, officer, enterprises())["code"]
    assert submit(client, as_user, code, "scjg_officer").status_code == 200
    # as an earlier release stored it: no usage requirements, no share methods
    resource = session.scalar(select(Resource).where(Resource.code == code))
    version = session.scalar(select(ResourceVersion).where(ResourceVersion.resource_id == resource.id))
    version.body = {
        k: v for k, v in version.body.items() if k not in ("usage_requirements", "share_methods", "subject")
    }
    session.commit()

    body = assert_problem(publish(client, as_user, code), 422)
    assert {"usage_requirements", "share_methods"} <= set(errors_of(body))
    shown = client.get(f"/api/v1/resources/{code}", headers=officer).json()
    assert shown["status"] == "submitted"
    assert any(w.startswith("不符合现行规则") and "使用要求" in w for w in shown["warnings"])


# --- the demo keeps every rule -------------------------------------------------------------------------------


def test_the_demo_catalog_keeps_the_seed_rules_without_warnings(client, as_user, session):
    create_demo_catalog(session)
    session.commit()
    authority = as_user("dsj_officer")
    listed = client.get("/api/v1/resources", params={"limit": 100}, headers=authority).json()
    published = [r for r in listed["items"] if r["status"] == "published"]
    assert len(published) >= 25
    subjects = set()
    for summary in listed["items"]:
        view = client.get(f"/api/v1/resources/{summary['code']}", headers=authority).json()
        assert view["warnings"] == [], (view["name"], view["warnings"])
        subjects.add(view["subject"])
        if view["classification"].startswith("1") and view["subject"] == "natural_person":
            shares = {i["element"]: i.get("share_type") or view["share_type"] for i in view["items"]}
            assert shares.get("公民身份号码") == "unconditional", view["name"]
    assert {"natural_person", "legal_person", "other"} <= subjects
