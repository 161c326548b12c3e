"""What every catalog starts with: the guide's classification (CAT-1a) and common data elements (CAT-4)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from govdata.catalog.models import Classification, DataElement

CLASSIFICATIONS: list[tuple[str, str, str | None]] = [
    ("1", "基础信息资源", None),
    ("101", "人口", "1"),
    ("102", "法人单位", "1"),
    ("103", "自然资源和空间地理", "1"),
    ("104", "社会信用", "1"),
    ("105", "电子证照", "1"),
    ("2", "主题信息资源", None),
    ("201", "公共服务", "2"),
    ("202", "健康保障", "2"),
    ("203", "社会保障", "2"),
    ("204", "食品药品安全", "2"),
    ("205", "安全生产", "2"),
    ("206", "价格监管", "2"),
    ("207", "能源安全", "2"),
    ("208", "信用体系", "2"),
    ("209", "城乡建设", "2"),
    ("210", "社区治理", "2"),
    ("211", "生态环保", "2"),
    ("212", "应急维稳", "2"),
    ("3", "部门信息资源", None),
]

# (code, name, data type, length, subject, key kind, level, synonyms, code list)
ELEMENTS: list[tuple] = [
    (
        "GMSFHM",
        "公民身份号码",
        "C",
        18,
        "person",
        "ric",
        3,
        ["身份证号", "身份证号码", "证件号码", "sfzh"],
        None,
    ),
    ("XM", "姓名", "C", 50, "person", None, 2, ["名字", "人员姓名", "xm"], None),
    ("XB", "性别", "C", 1, "person", None, 1, ["xb"], ["0", "1", "2", "9"]),
    ("MZ", "民族", "C", 2, "person", None, 2, ["mz"], None),
    ("CSRQ", "出生日期", "D", None, "person", None, 2, ["生日", "出生年月日", "csrq"], None),
    ("CSD", "出生地", "C", 200, "person", None, 2, ["csd"], None),
    ("HJDZ", "户籍地址", "C", 200, "person", None, 3, ["户籍所在地", "户口地址", "hjdz"], None),
    (
        "TYSHXYDM",
        "统一社会信用代码",
        "C",
        18,
        "legal_person",
        "uscc",
        1,
        ["信用代码", "社会信用代码", "tyshxydm"],
        None,
    ),
    ("DWMC", "单位名称", "C", 200, "legal_person", None, 1, ["机构名称", "企业名称", "名称", "dwmc"], None),
    ("FDDBR", "法定代表人", "C", 50, "legal_person", None, 1, ["法人代表", "负责人", "fddbr"], None),
    ("JGLX", "机构类型", "C", 20, "legal_person", None, 1, ["企业类型", "单位类型", "jglx"], None),
    ("DJDZ", "登记地址", "C", 200, "legal_person", None, 1, ["住所", "注册地址", "djdz"], None),
    ("CLRQ", "成立日期", "D", None, "legal_person", None, 1, ["注册日期", "clrq"], None),
    ("ZCZB", "注册资本", "Y", None, "legal_person", None, 1, ["zczb"], None),
    ("XZQHDM", "行政区划代码", "C", 6, None, None, 1, ["区划代码", "xzqhdm"], None),
    ("LXDH", "联系电话", "C", 20, None, None, 3, ["电话", "手机号码", "联系方式", "lxdh"], None),
    ("DZ", "地址", "C", 200, None, None, 2, ["住址", "居住地址", "dz"], None),
    ("ZZBH", "证照编号", "C", 64, None, None, 1, ["证书编号", "许可证号", "zzbh"], None),
    ("FZRQ", "发证日期", "D", None, None, None, 1, ["fzrq"], None),
    ("YXQZ", "有效期至", "D", None, None, None, 1, ["有效期", "yxqz"], None),
    # 电子证照 (GB/T 36901 电子证照元数据) and 自然资源和空间地理 base items (AGG-8)
    ("ZZMC", "证照名称", "C", 100, None, None, 1, ["证书名称", "zzmc"], None),
    ("CZZT", "持证主体", "C", 200, None, None, 2, ["持证人", "持有人", "czzt"], None),
    ("CZZTDM", "持证主体代码", "C", 18, None, None, 3, ["持证人证件号码", "czztdm"], None),
    ("FZJG", "发证机关", "C", 100, None, None, 1, ["颁发机构", "发证单位", "fzjg"], None),
    ("BDCDYH", "不动产单元号", "C", 28, None, None, 1, ["不动产单元代码", "bdcdyh"], None),
    ("ZL", "坐落", "C", 200, None, None, 1, ["不动产坐落", "zl"], None),
    ("TDYT", "土地用途", "C", 50, None, None, 1, ["土地用途分类", "tdyt"], None),
    ("ZDMJ", "宗地面积", "N", None, None, None, 1, ["zdmj"], None),
    ("SHBZKH", "社会保障卡号", "C", 20, "person", None, 3, ["社保卡号", "shbzkh"], None),
    (
        "HYZK",
        "婚姻状况",
        "C",
        2,
        "person",
        None,
        3,
        ["hyzk"],
        ["10", "20", "21", "22", "23", "30", "40", "90"],
    ),
]


def seed_catalog(session: Session) -> None:
    """Add what is missing (idempotent): builtin classifications and common data elements."""
    have = set(session.scalars(select(Classification.code)))
    for code, name, parent in CLASSIFICATIONS:
        if code not in have:
            session.add(Classification(code=code, name=name, parent_code=parent, builtin=True))
            session.flush()
    elements = set(session.scalars(select(DataElement.code)))
    for code, name, data_type, length, subject, key_kind, level, synonyms, code_list in ELEMENTS:
        if code not in elements:
            session.add(
                DataElement(
                    code=code,
                    name=name,
                    data_type=data_type,
                    length=length,
                    subject=subject,
                    key_kind=key_kind,
                    level=level,
                    synonyms=synonyms,
                    code_list=code_list,
                )
            )
    session.flush()
