"""The demo region's catalog: about forty realistic resources across the 焦作市 departments, in
every lifecycle state (draft, submitted, returned, published, revised, retired). Created through
the catalog services as the departments' officers and the authority, so it is audited like real work.

Every resource keeps the catalog's rules: shareable ones list their materials, share methods and usage
requirements (SHR-1); conditional ones stand on a central policy; each carries the key identifier of
its subject (CAT-3); the base items of class-1 resources (公民身份号码, 姓名, 性别, 出生日期 …) are shared
unconditionally while the rest of a conditional resource stays conditional (CAT-13, :func:`base`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from govdata.catalog import service
from govdata.catalog.schemas import ClassificationIn, ResourceIn, ResourcePatch
from govdata.orgs.models import Department, User
from govdata.orgs.service import actor_for_user


def item(
    code, name, data_type="C", length=None, element=None, *, key=False, required=False, level=1, **extra
):
    body = {
        "code": code,
        "name": name,
        "data_type": data_type,
        "level": level,
        "required": required or key,
        "key": key,
    }
    if length:
        body["length"] = length
    if element:
        body["element"] = element
    body.update(extra)
    return body


def base(*items: dict[str, Any]) -> list[dict[str, Any]]:
    """Base items of a class-1 resource: shared unconditionally whatever the resource's type (CAT-13)."""
    return [{**i, "share_type": "unconditional"} for i in items]


PERSON = [
    item("gmsfhm", "公民身份号码", "C", 18, "公民身份号码", key=True, level=3),
    item("xm", "姓名", "C", 50, "姓名", required=True, level=2),
]
ORG = [
    item("tyshxydm", "统一社会信用代码", "C", 18, "统一社会信用代码", key=True),
    item("dwmc", "单位名称", "C", 200, "单位名称", required=True),
]
SEX = item("xb", "性别", "C", 1, "性别", code_list=["0", "1", "2", "9"])
BIRTH = item("csrq", "出生日期", "D", None, "出生日期", level=2)
ADDRESS = item("dz", "地址", "C", 200, "地址", level=2)
PHONE = item("lxdh", "联系电话", "C", 20, "联系电话", level=3)
SSCARD = item("shbzkh", "社会保障卡号", "C", 20, "社会保障卡号", level=3)
REGION = item("xzqhdm", "行政区划代码", "C", 6, "行政区划代码")
LEGAL_REP = item("fddbr", "法定代表人", "C", 50, "法定代表人")
LICENCE = [
    item("zzbh", "证照编号", "C", 64, "证照编号", required=True),
    item("zzmc", "证照名称", "C", 100, "证照名称"),
    item("fzjg", "发证机关", "C", 100, "发证机关"),
    item("fzrq", "发证日期", "D", None, "发证日期"),
    item("yxqz", "有效期至", "D", None, "有效期至"),
]

CONDITIONAL = {
    "share_type": "conditional",
    "share_conditions": "仅限依法履行职责需要，按申请的信息项和用途使用，不得向第三方提供",
    "legal_basis": "《政务信息资源共享管理暂行办法》（国发〔2016〕51号）",
    "legal_basis_kind": "central_policy",
    "materials": ["共享申请函（加盖公章）", "使用数据的法定职责依据", "数据安全保护承诺书"],
    "share_modes": ["verify", "query"],
    "share_methods": ["interface"],
    "usage_requirements": "仅用于申请时载明的履职事项和应用场景，不得超范围使用或向第三方提供，调用记录留存备查。",
}
UNCONDITIONAL = {
    "share_type": "unconditional",
    "share_modes": ["query", "exchange"],
    "share_methods": ["interface", "table"],
    "materials": ["共享申请函（写明使用的应用系统和用途）"],
    "usage_requirements": "按履职需要使用，使用时注明数据来源，不得向第三方提供。",
}
OPEN = {"open_type": "unconditional"}

# (department code, state, payload)
RESOURCES: list[tuple[str, str, dict[str, Any]]] = [
    (
        "002",
        "published",
        {
            "name": "人口基础信息",
            "classification": "101",
            "format": "database",
            "update_cycle": "daily",
            "grade": "important",
            "summary": "全市户籍人口的身份、出生、户籍地址等基础信息，由户籍管理系统每日更新。",
            **CONDITIONAL,
            "items": base(*PERSON, SEX, BIRTH, item("hjdz", "户籍地址", "C", 200, "户籍地址", level=3))
            + [PHONE],
        },
    ),
    (
        "002",
        "published",
        {
            "name": "户籍迁移登记信息",
            "classification": "101",
            "format": "database",
            "update_cycle": "daily",
            "grade": "important",
            "summary": "户口迁入、迁出及省内迁移登记记录。",
            **CONDITIONAL,
            "items": base(*PERSON)
            + [item("qyrq", "迁移日期", "D", required=True), item("qclx", "迁移类型", "C", 2), REGION],
        },
    ),
    (
        "002",
        "submitted",
        {
            "name": "居民身份证办理信息",
            "classification": "101",
            "format": "database",
            "update_cycle": "daily",
            "grade": "important",
            "summary": "居民身份证申领、换领、补领的受理与签发信息。",
            **CONDITIONAL,
            "items": base(*PERSON) + [item("slrq", "受理日期", "D"), item("qfjg", "签发机关", "C", 100)],
        },
    ),
    (
        "002",
        "published",
        {
            "name": "机动车驾驶人信息",
            "classification": "201",
            "format": "database",
            "update_cycle": "daily",
            "grade": "general",
            "summary": "机动车驾驶证准驾车型、有效期及记分状态。",
            **CONDITIONAL,
            "items": PERSON + [item("zjcx", "准驾车型", "C", 10), item("jszyxq", "驾驶证有效期至", "D")],
        },
    ),
    (
        "002",
        "draft",
        {
            "name": "暂住人口登记信息",
            "classification": "101",
            "format": "database",
            "update_cycle": "weekly",
            "grade": "general",
            "summary": "来焦暂住人员的居住登记信息（编制中）。",
            **CONDITIONAL,
            "items": base(*PERSON) + [ADDRESS, item("djrq", "登记日期", "D")],
        },
    ),
    (
        "002",
        "published",
        {
            "name": "违法犯罪记录信息",
            "classification": "302",
            "format": "database",
            "update_cycle": "daily",
            "grade": "core",
            "summary": "涉及个人隐私和案件办理，依法不予共享，仅可按规定出具无犯罪记录证明。",
            "share_type": "none",
            "legal_basis": "《中华人民共和国刑事诉讼法》及公安机关办理犯罪记录查询工作规定",
            "legal_basis_kind": "law",
            "items": PERSON + [item("ajlb", "案件类别", "C", 20, level=4)],
        },
    ),
    (
        "002",
        "returned",
        {
            "name": "出入境证件办理信息",
            "classification": "302",
            "format": "database",
            "update_cycle": "daily",
            "grade": "important",
            "summary": "护照、往来港澳通行证等证件办理信息。",
            **CONDITIONAL,
            "items": PERSON + [item("zjzl", "证件种类", "C", 10)],
        },
    ),
    (
        "003",
        "published",
        {
            "name": "企业登记信息",
            "classification": "102",
            "format": "database",
            "update_cycle": "daily",
            "grade": "general",
            "summary": "全市企业的设立、变更、注销登记信息，企业名录向社会开放。",
            **UNCONDITIONAL,
            **OPEN,
            "items": ORG
            + [
                LEGAL_REP,
                item("clrq", "成立日期", "D", None, "成立日期"),
                item("zczb", "注册资本", "Y", None, "注册资本"),
                item("djzt", "登记状态", "C", 10),
            ],
        },
    ),
    (
        "003",
        "published",
        {
            "name": "个体工商户登记信息",
            "classification": "102",
            "format": "database",
            "update_cycle": "daily",
            "grade": "general",
            "summary": "个体工商户名称、经营者、经营场所和经营范围。",
            **UNCONDITIONAL,
            **OPEN,
            "items": ORG + [item("jyz", "经营者姓名", "C", 50), item("jycs", "经营场所", "C", 200)],
        },
    ),
    (
        "003",
        "published",
        {
            "name": "食品经营许可信息",
            "classification": "204",
            "format": "database",
            "update_cycle": "daily",
            "grade": "general",
            "summary": "食品经营许可证的发放、变更与注销信息。",
            **UNCONDITIONAL,
            **OPEN,
            "items": ORG + LICENCE,
        },
    ),
    (
        "003",
        "published",
        {
            "name": "企业行政处罚信息",
            "classification": "104",
            "format": "database",
            "update_cycle": "weekly",
            "grade": "general",
            "summary": "市场监管领域对企业作出的行政处罚决定。",
            **UNCONDITIONAL,
            **OPEN,
            "items": ORG
            + [item("cfjdsh", "处罚决定书文号", "C", 64, required=True), item("cfrq", "处罚日期", "D")],
        },
    ),
    (
        "003",
        "draft",
        {
            "name": "特种设备登记信息",
            "classification": "205",
            "format": "database",
            "update_cycle": "monthly",
            "grade": "general",
            "summary": "电梯、锅炉等特种设备使用登记信息（编制中）。",
            **UNCONDITIONAL,
            "items": ORG + [item("sbzl", "设备种类", "C", 20), item("sydz", "使用地点", "C", 200)],
        },
    ),
    (
        "003",
        "revised",
        {
            "name": "企业年报信息",
            "classification": "102",
            "format": "database",
            "update_cycle": "yearly",
            "grade": "general",
            "summary": "企业年度报告公示的经营与从业人员信息。",
            **UNCONDITIONAL,
            **OPEN,
            "items": ORG + [item("ndbgnd", "报告年度", "I", required=True), item("cyrs", "从业人数", "I")],
        },
    ),
    (
        "004",
        "published",
        {
            "name": "社保参保人员信息",
            "classification": "203",
            "format": "database",
            "update_cycle": "monthly",
            "grade": "important",
            "summary": "企业职工和城乡居民社保参保登记及缴费状态。",
            **CONDITIONAL,
            "items": PERSON + [SSCARD, item("cbzt", "参保状态", "C", 2), item("cbdw", "参保单位", "C", 200)],
        },
    ),
    (
        "004",
        "published",
        {
            "name": "养老保险待遇领取人员信息",
            "classification": "203",
            "format": "database",
            "update_cycle": "monthly",
            "grade": "important",
            "summary": "领取基本养老保险待遇人员及待遇发放状态。",
            **CONDITIONAL,
            "items": PERSON + [item("dylqzt", "待遇领取状态", "C", 2)],
        },
    ),
    (
        "004",
        "submitted",
        {
            "name": "就业登记信息",
            "classification": "203",
            "format": "database",
            "update_cycle": "monthly",
            "grade": "general",
            "summary": "城镇就业与失业登记信息。",
            **CONDITIONAL,
            "items": PERSON + [item("jyzt", "就业状态", "C", 2), item("djrq", "登记日期", "D")],
        },
    ),
    (
        "004",
        "published",
        {
            "name": "职业资格证书信息",
            "classification": "304",
            "format": "database",
            "update_cycle": "weekly",
            "grade": "general",
            "summary": "职业资格与职业技能等级证书的发放信息。",
            **UNCONDITIONAL,
            "items": PERSON + LICENCE,
        },
    ),
    (
        "004",
        "returned",
        {
            "name": "失业保险金领取信息",
            "classification": "203",
            "format": "database",
            "update_cycle": "monthly",
            "grade": "important",
            "summary": "失业保险金申领与发放记录。",
            **CONDITIONAL,
            "items": PERSON + [item("lqje", "领取金额", "Y")],
        },
    ),
    (
        "005",
        "published",
        {
            "name": "婚姻登记信息",
            "classification": "305",
            "format": "database",
            "update_cycle": "daily",
            "grade": "important",
            "summary": "结婚、离婚登记及补领婚姻登记证记录。",
            **CONDITIONAL,
            "items": base(*PERSON)
            + [item("hyzk", "婚姻状况", "C", 2, "婚姻状况", level=3), item("djrq", "登记日期", "D")],
        },
    ),
    (
        "005",
        "published",
        {
            "name": "社会组织登记信息",
            "classification": "305",
            "format": "database",
            "update_cycle": "monthly",
            "grade": "general",
            "summary": "社会团体、民办非企业单位和基金会登记信息。",
            **UNCONDITIONAL,
            **OPEN,
            "items": ORG + [LEGAL_REP, item("zzlx", "组织类型", "C", 20)],
        },
    ),
    (
        "005",
        "published",
        {
            "name": "最低生活保障对象信息",
            "classification": "203",
            "format": "database",
            "update_cycle": "monthly",
            "grade": "important",
            "summary": "城乡低保对象及保障金发放信息。",
            **CONDITIONAL,
            "items": PERSON + [item("bzje", "保障金额", "Y", level=3)],
        },
    ),
    (
        "005",
        "draft",
        {
            "name": "殡葬服务信息",
            "classification": "201",
            "format": "database",
            "update_cycle": "monthly",
            "grade": "general",
            "summary": "火化、殡葬服务记录（编制中）。",
            **CONDITIONAL,
            "items": PERSON + [item("hhrq", "火化日期", "D")],
        },
    ),
    (
        "005",
        "published",
        {
            "name": "养老机构名录",
            "classification": "201",
            "format": "spreadsheet",
            "update_cycle": "quarterly",
            "grade": "general",
            "summary": "全市养老机构名称、地址、床位数和联系电话。",
            **UNCONDITIONAL,
            **OPEN,
            "items": ORG + [ADDRESS, item("cws", "床位数", "I")],
        },
    ),
    (
        "006",
        "published",
        {
            "name": "出生医学证明信息",
            "classification": "306",
            "format": "database",
            "update_cycle": "daily",
            "grade": "important",
            "summary": "新生儿出生医学证明签发信息。",
            **CONDITIONAL,
            # the newborn's 公民身份号码, given at birth registration (出生一件事), is the key
            "items": base(
                item("gmsfhm", "新生儿公民身份号码", "C", 18, "公民身份号码", key=True, level=3), SEX, BIRTH
            )
            + [
                item("csyxzmbh", "出生医学证明编号", "C", 20, required=True),
                item("xsexm", "新生儿姓名", "C", 50),
            ],
        },
    ),
    (
        "006",
        "published",
        {
            "name": "医疗机构执业登记信息",
            "classification": "202",
            "format": "database",
            "update_cycle": "monthly",
            "grade": "general",
            "summary": "医疗机构名称、类别、地址与执业许可证。",
            **UNCONDITIONAL,
            **OPEN,
            "items": ORG + [item("jglb", "机构类别", "C", 20), ADDRESS],
        },
    ),
    (
        "006",
        "submitted",
        {
            "name": "预防接种信息",
            "classification": "202",
            "format": "database",
            "update_cycle": "daily",
            "grade": "important",
            "summary": "儿童及成人预防接种记录。",
            **CONDITIONAL,
            "items": PERSON + [item("ymmc", "疫苗名称", "C", 100), item("jzrq", "接种日期", "D")],
        },
    ),
    (
        "006",
        "published",
        {
            "name": "执业医师注册信息",
            "classification": "202",
            "format": "database",
            "update_cycle": "monthly",
            "grade": "general",
            "summary": "医师执业注册的执业地点、类别和范围。",
            **UNCONDITIONAL,
            "items": PERSON + [item("zyfw", "执业范围", "C", 100)],
        },
    ),
    (
        "007",
        "published",
        {
            "name": "不动产登记信息",
            "classification": "103",
            "format": "database",
            "update_cycle": "daily",
            "grade": "important",
            "summary": "不动产单元的坐落、用途、面积及权利人（按不动产单元号登记）。",
            **CONDITIONAL,
            "subject": "other",  # about real estate units, keyed by 不动产单元号 (自然资源和空间地理基础库)
            "items": base(
                item("bdcdyh", "不动产单元号", "C", 28, "不动产单元号", key=True),
                item("zl", "坐落", "C", 200, "坐落"),
                item("tdyt", "土地用途", "C", 50, "土地用途"),
                item("zdmj", "宗地面积", "N", 12, "宗地面积", precision=2),
                REGION,
            )
            + [
                item("qlr", "权利人", "C", 200, level=3),
                item("qlrzjh", "权利人证件号码", "C", 18, "公民身份号码", level=3),
            ],
        },
    ),
    (
        "007",
        "published",
        {
            "name": "国土空间规划成果",
            "classification": "103",
            "format": "image",
            "update_cycle": "yearly",
            "grade": "general",
            "summary": "市级国土空间总体规划图件和文本。",
            **UNCONDITIONAL,
            **OPEN,
            "items": [],
        },
    ),
    (
        "007",
        "published",
        {
            "name": "地质灾害隐患点信息",
            "classification": "212",
            "format": "spreadsheet",
            "update_cycle": "quarterly",
            "grade": "general",
            "summary": "地质灾害隐患点位置、类型和监测责任人。",
            **UNCONDITIONAL,
            **OPEN,
            "items": [
                REGION,
                item("yhdmc", "隐患点名称", "C", 100, required=True),
                item("zhlx", "灾害类型", "C", 20),
            ],
        },
    ),
    (
        "008",
        "published",
        {
            "name": "建筑施工企业资质信息",
            "classification": "209",
            "format": "database",
            "update_cycle": "monthly",
            "grade": "general",
            "summary": "建筑业企业资质证书及安全生产许可证。",
            **UNCONDITIONAL,
            **OPEN,
            "items": ORG + LICENCE,
        },
    ),
    (
        "008",
        "published",
        {
            "name": "商品房预售许可信息",
            "classification": "209",
            "format": "database",
            "update_cycle": "weekly",
            "grade": "general",
            "summary": "商品房预售许可证、项目名称和预售范围。",
            **UNCONDITIONAL,
            **OPEN,
            "items": ORG
            + [item("xmmc", "项目名称", "C", 200, required=True), item("ysxkzh", "预售许可证号", "C", 50)],
        },
    ),
    (
        "008",
        "draft",
        {
            "name": "城镇住房保障家庭信息",
            "classification": "209",
            "format": "database",
            "update_cycle": "monthly",
            "grade": "important",
            "summary": "公租房、保障性租赁住房保障家庭信息（编制中）。",
            **CONDITIONAL,
            "items": PERSON + [item("bzlx", "保障类型", "C", 10)],
        },
    ),
    (
        "009",
        "published",
        {
            "name": "学籍信息",
            "classification": "201",
            "format": "database",
            "update_cycle": "monthly",
            "grade": "important",
            "summary": "中小学学生学籍注册与变动信息。",
            **CONDITIONAL,
            "items": PERSON + [item("xxmc", "学校名称", "C", 200), item("nj", "年级", "C", 10)],
        },
    ),
    (
        "009",
        "published",
        {
            "name": "学校名录",
            "classification": "201",
            "format": "spreadsheet",
            "update_cycle": "yearly",
            "grade": "general",
            "summary": "全市各级各类学校名称、地址和办学类型。",
            **UNCONDITIONAL,
            **OPEN,
            "items": ORG + [ADDRESS],
        },
    ),
    (
        "010",
        "published",
        {
            "name": "医保参保信息",
            "classification": "202",
            "format": "database",
            "update_cycle": "monthly",
            "grade": "important",
            "summary": "基本医疗保险参保登记与缴费信息。",
            **CONDITIONAL,
            # 医保 records the 社会保障卡号 again: duplicate collection of 人社's (CAT-9, /sources)
            "items": PERSON + [SSCARD, item("xzlx", "险种类型", "C", 10)],
        },
    ),
    (
        "010",
        "published",
        {
            "name": "定点医药机构名录",
            "classification": "202",
            "format": "spreadsheet",
            "update_cycle": "monthly",
            "grade": "general",
            "summary": "医保定点医疗机构和零售药店名录。",
            **UNCONDITIONAL,
            **OPEN,
            "items": ORG + [ADDRESS],
        },
    ),
    (
        "011",
        "published",
        {
            "name": "住房公积金缴存信息",
            "classification": "203",
            "format": "database",
            "update_cycle": "monthly",
            "grade": "important",
            "summary": "个人住房公积金账户缴存基数与缴存状态。",
            **CONDITIONAL,
            "items": PERSON + [item("jcjs", "缴存基数", "Y", level=3), item("zhzt", "账户状态", "C", 2)],
        },
    ),
    (
        "011",
        "retired",
        {
            "name": "公积金贷款信息（旧版）",
            "classification": "203",
            "format": "database",
            "update_cycle": "monthly",
            "grade": "important",
            "summary": "已由新的贷款管理系统数据替代。",
            **CONDITIONAL,
            "items": PERSON + [item("dkje", "贷款金额", "Y", level=3)],
        },
    ),
    (
        "012",
        "published",
        {
            "name": "空气质量监测数据",
            "classification": "211",
            "format": "service",
            "update_cycle": "realtime",
            "grade": "general",
            "summary": "全市空气质量自动监测站点的小时数据。",
            **UNCONDITIONAL,
            **OPEN,
            "items": [
                item("zdbm", "站点编码", "C", 20, key=True),
                item("jcsj", "监测时间", "T", required=True),
                item("pm25", "PM2.5浓度", "F"),
                item("aqi", "空气质量指数", "I"),
            ],
        },
    ),
    (
        "012",
        "published",
        {
            "name": "排污许可信息",
            "classification": "211",
            "format": "database",
            "update_cycle": "monthly",
            "grade": "general",
            "summary": "排污单位的排污许可证及许可排放量。",
            **UNCONDITIONAL,
            **OPEN,
            "items": ORG + LICENCE,
        },
    ),
    (
        "013",
        "published",
        {
            "name": "公交线路及站点信息",
            "classification": "201",
            "format": "spreadsheet",
            "update_cycle": "irregular",
            "grade": "general",
            "summary": "市区公交线路、站点和首末班时间。",
            "local_catalog": True,  # 焦作's own 个性化目录: not in the provincial catalog (CAT-6)
            **UNCONDITIONAL,
            **OPEN,
            "items": [item("xlbh", "线路编号", "C", 20, key=True), item("zdmc", "站点名称", "C", 100)],
        },
    ),
    (
        "013",
        "submitted",
        {
            "name": "道路运输经营许可信息",
            "classification": "313",
            "format": "database",
            "update_cycle": "monthly",
            "grade": "general",
            "summary": "道路客货运输经营许可证信息。",
            **UNCONDITIONAL,
            "items": ORG + LICENCE,
        },
    ),
    (
        "014",
        "published",
        {
            "name": "修武县重点场所治安检查信息",
            "classification": "314",
            "format": "spreadsheet",
            "update_cycle": "monthly",
            "grade": "general",
            "summary": "修武县旅馆、网吧等重点场所的治安检查记录，汇入市公安局的部门数据资源池。",
            **UNCONDITIONAL,
            "items": [
                item("jcbh", "检查编号", "C", 30, key=True),
                item("csmc", "场所名称", "C", 200, required=True),
                ADDRESS,
                item("jcrq", "检查日期", "D"),
                item("jcjg", "检查结果", "C", 200),
            ],
        },
    ),
]

# One officer per department that compiles demo resources: (username, display name, department code)
OFFICERS = {
    "002": "ga_officer",
    "003": "scjg_officer",
    "004": "rs_officer",
    "005": "mz_officer",
    "006": "wj_officer",
    "007": "zrzy_officer",
    "008": "zj_officer",
    "009": "jy_officer",
    "010": "yb_officer",
    "011": "gjj_officer",
    "012": "sthj_officer",
    "013": "jt_officer",
    "014": "xwga_officer",  # 修武县公安局, a unit of 市公安局 (its pool holds the county's resources)
}


def _actor(session: Session, username: str):
    return actor_for_user(session.scalar(select(User).where(User.username == username)))


def create_demo_catalog(session: Session) -> int:
    authority = _actor(session, "dsj_officer")
    # Class 3 (部门信息资源): the authority assigns each department its 项, here "3" + its code.
    for department in session.scalars(
        select(Department).where(Department.code.in_(OFFICERS)).order_by(Department.code)
    ):
        service.create_classification(
            session,
            authority,
            ClassificationIn(code=f"3{department.code[-2:]}", name=department.short_name or department.name),
        )
    for dept_code, state, payload in RESOURCES:
        officer = _actor(session, OFFICERS[dept_code])
        resource, _ = service.create_resource(session, officer, ResourceIn.model_validate(payload))
        code = resource.code
        if state == "draft":
            continue
        if state == "returned":
            service.submit_resource(session, officer, code)
            service.return_resource(session, authority, code, "请补充各信息项引用的数据元，并细化共享条件。")
            continue
        service.submit_resource(session, officer, code)
        if state == "submitted":
            continue
        service.publish_resource(session, authority, code)
        if state == "retired":
            service.retire_resource(session, authority, code, "已由新版公积金贷款信息替代，停止单独提供。")
        elif state == "revised":
            items = payload["items"] + [item("yysr", "营业收入", "Y")]
            service.update_resource(
                session, officer, code, ResourcePatch(items=items, reason="按年报公示新规增加营业收入信息项")
            )
            service.submit_resource(session, officer, code)
            service.publish_resource(session, authority, code)
    return len(RESOURCES)
