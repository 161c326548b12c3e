"""The exchange template's layout (CAT-10): its sheets and columns, the guide sheet, and what the
importer and the exporter share. ``docs/catalog-exchange.md`` documents the same columns."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from govdata.catalog.enums import (
    DataType,
    Grade,
    KeyKind,
    LegalBasisKind,
    OpenType,
    ResourceFormat,
    ResourceStatus,
    ShareMethod,
    ShareMode,
    ShareType,
    UpdateCycle,
)
from govdata.catalog.schemas import ResourceIn, ResourceOut
from govdata.core.labels import LabelledEnum

TEMPLATE_ROWS = 500  # rows that carry the drop-down lists in the template

RESOURCE_SHEET = "资源"
ITEM_SHEET = "信息项"
GUIDE_SHEET = "说明"
JSON_SOURCE = "JSON"

JSON_MEDIA_TYPE = "application/json"

Progress = Callable[[str, int, int], None]
"""``progress(phase, done, total)``: phase is "check", "apply" or "export"."""


# --- the template's columns ---------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    header: str
    field: str
    kind: (
        str  # text | enum | enum_list | list | bool | int | float | level | key | code | reason | link | info
    )
    enum: type[LabelledEnum] | None = None
    required: bool = False
    note: str = ""
    width: int = 14


RESOURCE_COLUMNS: tuple[Column, ...] = (
    Column("资源代码", "code", "code", note="新建的资源留空；填写本部门已有资源的代码则更新该资源", width=22),
    Column("资源名称", "name", "text", required=True, note="2–200 字", width=24),
    Column("摘要", "summary", "text", note="资源的内容、范围和用途", width=40),
    Column(
        "资源分类",
        "classification",
        "text",
        required=True,
        note="分类代码（类/项/目/细目），如 101 人口、102 法人单位、201 公共服务；3 开头为部门信息资源；创建后不能更改",
    ),
    Column("资源格式", "format", "enum", ResourceFormat, required=True),
    Column("共享类型", "share_type", "enum", ShareType, required=True),
    Column("共享条件", "share_conditions", "text", note="有条件共享时必填", width=30),
    Column("共享依据", "legal_basis", "text", note="有条件共享和不予共享时必填", width=30),
    Column(
        "依据类别",
        "legal_basis_kind",
        "enum",
        LegalBasisKind,
        note="有条件共享和不予共享时必填，且只能是法律、行政法规或党中央、国务院政策",
    ),
    Column(
        "使用要求",
        "usage_requirements",
        "text",
        note="无条件和有条件共享时必填；随申请和授权一并告知使用部门",
        width=30,
    ),
    Column("服务方式", "share_modes", "enum_list", ShareMode, note="可填多个；可共享的资源至少一种"),
    Column("共享方式", "share_methods", "enum_list", ShareMethod, note="可填多个；无条件和有条件共享时必填"),
    Column("开放类型", "open_type", "enum", OpenType, note="留空为非开放"),
    Column("开放条件", "open_conditions", "text", note="有条件开放时必填", width=30),
    Column("更新周期", "update_cycle", "enum", UpdateCycle, required=True),
    Column("数据分级", "grade", "enum", Grade, note="留空为一般"),
    Column(
        "申请材料",
        "materials",
        "list",
        note="申请使用时需提供的全部材料，可填多个；无条件和有条件共享时必填",
        width=30,
    ),
    Column("关联资源", "related_codes", "list", note="关联资源的代码，可填多个", width=22),
    Column(
        "个性化目录",
        "local_catalog",
        "bool",
        note="是/否，留空为否；本地区的个性化目录（未纳入省级目录），由设区的市、县级节点编制",
        width=10,
    ),
    Column("修订原因", "reason", "reason", note="修改已发布的资源时必填（修改会开启修订版本）", width=24),
)
EXPORT_INFO_COLUMNS: tuple[Column, ...] = (
    Column("提供部门", "provider", "info", note="导出时填写，导入时忽略", width=20),
    Column("状态", "status", "info", ResourceStatus, note="导出时填写，导入时忽略", width=10),
    Column("版本", "version", "info", note="导出时填写，导入时忽略", width=8),
)
ITEM_COLUMNS: tuple[Column, ...] = (
    Column("资源代码", "resource_code", "link", note="所属资源的代码（更新已有资源时填写）", width=22),
    Column(
        "资源名称", "resource_name", "link", note="所属资源的名称；资源代码与资源名称至少填一个", width=24
    ),
    Column("信息项代码", "code", "text", required=True, note="字母开头，字母、数字、下划线，如 gmsfhm"),
    Column("信息项名称", "name", "text", required=True, width=18),
    Column("数据类型", "data_type", "enum", DataType, required=True),
    Column("长度", "length", "int", note="1–100000 的整数", width=8),
    Column("精度", "precision", "int", note="小数位数，0–30", width=8),
    Column("必填", "required", "bool", note="是/否，留空为否；关键标识必须必填", width=8),
    Column(
        "关键标识",
        "key",
        "key",
        KeyKind,
        note="否/是，或关键标识类型（公民身份号码、统一社会信用代码、其他关键标识）；留空为否",
    ),
    Column("敏感级别", "level", "level", note="1–4，留空为 1", width=10),
    Column("代码表", "code_list", "list", note="允许的取值，可填多个", width=20),
    Column("格式", "pattern", "text", note="正则表达式", width=20),
    Column("最小值", "minimum", "float", width=10),
    Column("最大值", "maximum", "float", width=10),
    Column("数据元", "element", "text", note="引用的数据元名称，如 公民身份号码", width=16),
    Column("共享类型", "share_type", "enum", ShareType, note="留空则同资源的共享类型"),
    Column("说明", "description", "text", width=30),
)

RESOURCE_FIELD_LABELS = {c.field: c.header for c in RESOURCE_COLUMNS} | {"items": ITEM_SHEET}
ITEM_FIELD_LABELS = {c.field: c.header for c in ITEM_COLUMNS} | {"key_kind": "关键标识"}
RESOURCE_FIELDS = [f for f in ResourceIn.model_fields if f != "items"]
# fields of an exported JSON resource that describe it rather than compile it: whatever the answer
# adds to the compiled fields (status, version, the return note …), so that an export always imports
# back (#13 item 19), also after the answer grows a field
EXPORT_ONLY_FIELDS = {
    "status",
    "version",
    "provider",
    "provider_id",
    "published_version",
    "published_at",
    "updated_at",
    "revision",
    "warnings",
} | (set(ResourceOut.model_fields) - set(ResourceIn.model_fields) - {"code", "reason"})


def allowed_values(enum: type[LabelledEnum]) -> str:
    return "、".join(f"{m.label}（{m.value}）" for m in enum)


# --- the guide sheet and the drop-down lists ------------------------------------------------------------


def choices(column: Column) -> list[str] | None:
    if column.kind == "enum" and column.enum is not None:
        return [m.label for m in column.enum]
    if column.kind == "bool":
        return ["是", "否"]
    if column.kind == "key":
        return ["否", "是"] + [m.label for m in KeyKind]
    if column.kind == "level":
        return ["1", "2", "3", "4"]
    return None


def guide_rows() -> list[list[Any]]:
    rows: list[list[Any]] = []
    for sheet, columns in (
        (RESOURCE_SHEET, RESOURCE_COLUMNS + EXPORT_INFO_COLUMNS),
        (ITEM_SHEET, ITEM_COLUMNS),
    ):
        for column in columns:
            if column.kind in ("enum", "enum_list") and column.enum is not None:
                values = allowed_values(column.enum) + ("；可填多个" if column.kind == "enum_list" else "")
            elif column.kind == "key":
                values = "否、是、" + allowed_values(KeyKind)
            elif column.kind == "bool":
                values = "是、否"
            elif column.kind == "level":
                values = "1、2、3、4"
            else:
                values = ""
            rows.append([sheet, column.header, "是" if column.required else "", column.note, values])
    return rows


GUIDE_RULES = (
    "一行一个资源（“资源”工作表），一行一个信息项（“信息项”工作表）；第 1 行为表头，不要改动。",
    "资源代码留空的行新建为本部门的草稿；填写本部门资源代码的行更新该资源，已发布的资源会开启修订版本，须填写修订原因。",
    "信息项用“资源代码”或“资源名称”关联到“资源”工作表中的资源；更新资源时若没有它的信息项行，原有信息项保持不变。",
    "枚举列可填中文名称或英文取值，如“有条件共享”或 conditional；多个值用分号（；或 ;）或换行分隔。",
    "是否类的列填“是”或“否”；留空的可选列取默认值，更新时留空即清除该项内容。",
    "导入时全部校验通过才会写入；任何一行有误都不会导入，错误会列出工作表、行号和列名。",
    "单元格中的公式不会被执行；导出时以 = + - @ 开头的文本会加上前导 ' 以防公式注入，导入时自动去掉。",
)
