"""Catalog files as departments fill them in (CAT-10): the template's headers, rows of 人口基础信息 and
企业登记信息 in Chinese labels and in English values, and an XLSX built from such rows. Like
``tests.support.catalog`` they keep the catalog's rules (SHR-1 registration, CAT-13 base items)."""

from __future__ import annotations

import io

import openpyxl

from govdata.catalog import exchange

RESOURCE_HEADERS = [c.header for c in exchange.RESOURCE_COLUMNS]
ITEM_HEADERS = [c.header for c in exchange.ITEM_COLUMNS]


def workbook(
    resources: list[dict], items: list[dict], *, sheets: tuple[str, str] = ("资源", "信息项")
) -> bytes:
    """An XLSX as a department would fill in the template: rows keyed by the Chinese headers."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = sheets[0]
    sheet.append(RESOURCE_HEADERS)
    for row in resources:
        sheet.append([row.get(h) for h in RESOURCE_HEADERS])
    item_sheet = book.create_sheet(sheets[1])
    item_sheet.append(ITEM_HEADERS)
    for row in items:
        item_sheet.append([row.get(h) for h in ITEM_HEADERS])
    for ws in (sheet, item_sheet):  # text stays text, even when it looks like a formula
        for cells in ws.iter_rows(min_row=2):
            for cell in cells:
                if isinstance(cell.value, str):
                    cell.data_type = "s"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


POPULATION_ROW = {  # Chinese labels, as officers write them
    "资源名称": "人口基础信息",
    "摘要": "全市户籍人口的基础身份信息，每日更新。",
    "资源分类": 101,
    "资源格式": "数据库",
    "共享类型": "有条件共享",
    "共享条件": "仅限办理社会保障、民政救助等法定职责使用",
    "共享依据": "《中华人民共和国居民身份证法》",
    "依据类别": "法律",
    "服务方式": "比对验证；检索查询",
    "共享方式": "接口",
    "开放类型": "非开放",
    "更新周期": "每日",
    "数据分级": "重要",
    "申请材料": "共享申请函（加盖公章）\n数据安全承诺书",
    "使用要求": "仅用于申请时载明的履职用途，不得向第三方提供",
}
POPULATION_ITEMS = [
    {
        "资源名称": "人口基础信息",
        "信息项代码": "gmsfhm",
        "信息项名称": "公民身份号码",
        "数据类型": "字符型",
        "长度": 18,
        "必填": "是",
        "关键标识": "是",
        "敏感级别": 3,
        "数据元": "公民身份号码",
        "共享类型": "无条件共享",
    },
    {
        "资源名称": "人口基础信息",
        "信息项代码": "xm",
        "信息项名称": "姓名",
        "数据类型": "C",
        "长度": 50,
        "必填": "是",
        "敏感级别": 2,
        "数据元": "姓名",
        "共享类型": "无条件共享",
    },
    {
        "资源名称": "人口基础信息",
        "信息项代码": "xb",
        "信息项名称": "性别",
        "数据类型": "字符型",
        "长度": 1,
        "代码表": "0;1;2;9",
        "数据元": "性别",
        "共享类型": "unconditional",
    },
]
ENTERPRISE_ROW = {  # English values are accepted as well
    "资源名称": "企业登记信息",
    "摘要": "市场主体登记的企业名录及基本信息。",
    "资源分类": "102",
    "资源格式": "database",
    "共享类型": "unconditional",
    "服务方式": "query;exchange",
    "共享方式": "table;interface",
    "使用要求": "按履职需要使用，注明数据来源",
    "申请材料": "共享申请函（加盖公章）",
    "开放类型": "unconditional",
    "更新周期": "daily",
    "个性化目录": "是",  # the region's own entry, not in the provincial catalog (CAT-6)
}
ENTERPRISE_ITEMS = [
    {
        "资源名称": "企业登记信息",
        "信息项代码": "tyshxydm",
        "信息项名称": "统一社会信用代码",
        "数据类型": "C",
        "长度": 18,
        "必填": "是",
        "关键标识": "统一社会信用代码",
        "数据元": "统一社会信用代码",
    },
    {
        "资源名称": "企业登记信息",
        "信息项代码": "dwmc",
        "信息项名称": "企业名称",
        "数据类型": "C",
        "长度": 200,
    },
]
