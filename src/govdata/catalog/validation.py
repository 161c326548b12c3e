"""The rules of a resource's metadata that a schema cannot express (CAT-1, CAT-3): classification,
share and open types with their conditions and legal bases, items and their data elements, key
identifiers of resources about persons and legal persons. One 422 lists every problem, in Chinese.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from govdata.catalog.enums import REFUSAL_BASES, KeyKind, OpenType, ShareType
from govdata.catalog.models import Classification, DataElement
from govdata.catalog.schemas import ResourceIn
from govdata.core import policy
from govdata.core.errors import InvalidInput, field_label, validation_problem


def parse_resource(data: dict[str, Any]) -> ResourceIn:
    try:
        return ResourceIn.model_validate(data)
    except ValidationError as exc:
        raise validation_problem(exc.errors(), prefix="资源元数据有误") from exc


def validate_resource(session: Session, data: ResourceIn) -> list[str]:
    """Check the rules a schema cannot express; raise one 422 listing every problem, in Chinese.

    Returns warnings that do not block (they are shown with the resource).
    """
    errors: list[tuple[str, str]] = []
    warnings: list[str] = []
    settings = policy.active_policy(session).switches

    classification = session.get(Classification, data.classification)
    if classification is None:
        errors.append(("classification", f"分类代码 {data.classification} 不存在，请先由主管部门登记"))
    elif len(data.classification) < 3 and data.classification != "3":
        errors.append(("classification", "资源应归入“项”一级或更细的分类（如 101 人口）"))

    if data.share_type == ShareType.conditional:
        if not (data.share_conditions or "").strip():
            errors.append(("share_conditions", "有条件共享的资源必须写明共享条件"))
        if not (data.legal_basis or "").strip():
            errors.append(("legal_basis", "有条件共享的资源必须写明共享依据"))
        if not data.materials:
            errors.append(("materials", "有条件共享的资源必须列出申请时需提供的材料"))
    if data.share_type == ShareType.none:
        if not (data.legal_basis or "").strip():
            errors.append(("legal_basis", "不予共享的资源必须写明法律、行政法规或党中央、国务院政策依据"))
        if data.legal_basis_kind is None:
            errors.append(("legal_basis_kind", "不予共享的资源必须写明依据类别"))
        elif data.legal_basis_kind not in REFUSAL_BASES:
            message = f"不予共享只能以法律、行政法规或党中央、国务院政策为依据，“{data.legal_basis_kind.label}”不足以支持"
            if settings.refusal_without_basis == "refused":
                errors.append(("legal_basis_kind", message))
            else:
                warnings.append(message)
    elif not data.share_modes:
        errors.append(("share_modes", "可共享的资源至少应有一种服务方式"))
    if data.open_type == OpenType.conditional and not (data.open_conditions or "").strip():
        errors.append(("open_conditions", "有条件开放的资源必须写明开放条件"))

    elements = {e.name: e for e in session.scalars(select(DataElement))}
    codes: set[str] = set()
    names: set[str] = set()
    item_share_types = set()
    about = {"person": False, "legal_person": False}
    if data.classification.startswith("101"):
        about["person"] = True
    if data.classification.startswith("102"):
        about["legal_person"] = True
    key_items = []
    for index, item in enumerate(data.items):
        where = f"items.{index}"
        if item.code.lower() in codes:
            errors.append((f"{where}.code", f"信息项代码 {item.code} 重复"))
        codes.add(item.code.lower())
        if item.name in names:
            errors.append((f"{where}.name", f"信息项名称“{item.name}”重复"))
        names.add(item.name)
        if item.key and not item.required:
            errors.append((f"{where}.required", f"关键标识“{item.name}”必须为必填项"))
        if item.key:
            key_items.append(item)
        if item.pattern:
            try:
                re.compile(item.pattern)
            except re.error:
                errors.append((f"{where}.pattern", f"“{item.name}”的格式不是有效的正则表达式"))
        if item.minimum is not None and item.maximum is not None and item.minimum > item.maximum:
            errors.append((f"{where}.minimum", f"“{item.name}”的最小值大于最大值"))
        if item.element:
            element = elements.get(item.element)
            if element is None:
                errors.append((f"{where}.element", f"数据元“{item.element}”不存在"))
            else:
                if element.data_type != item.data_type:
                    errors.append(
                        (
                            f"{where}.data_type",
                            f"“{item.name}”引用数据元“{element.name}”，数据类型应为 {element.data_type}",
                        )
                    )
                if element.subject in about and element.key_kind:
                    about[element.subject] = True
        item_share_types.add(item.share_type or data.share_type)
        if item.level == 4 and data.open_type != OpenType.none:
            warnings.append(f"“{item.name}”为 4 级敏感信息项，开放时不会提供")
    if len(item_share_types) > 1 and data.share_type == ShareType.unconditional:
        errors.append(("share_type", "信息项的共享类型不一致时，资源应为有条件共享（仅部分信息项可共享）"))
    for subject, needed in about.items():
        if not needed:
            continue
        kind = KeyKind.ric if subject == "person" else KeyKind.uscc
        if not any(_key_kind(item, elements) == kind for item in key_items):
            errors.append(
                (
                    "items",
                    f"关于{'自然人' if subject == 'person' else '法人'}的资源必须包含必填的关键标识信息项（{kind.label}）",
                )
            )
    if data.format in ("database", "spreadsheet") and not data.items:
        errors.append(("items", "库表类资源至少应有一个信息项"))
    if errors:
        details = [{"field": f, "label": field_label(f.split(".")), "message": m} for f, m in errors]
        summary = "；".join(f"{d['label']}：{d['message']}" for d in details[:5])
        raise InvalidInput(f"资源元数据有误：{summary}", errors=details)
    return warnings


def _key_kind(item, elements: dict[str, DataElement]) -> str | None:
    if item.element and item.element in elements and elements[item.element].key_kind:
        return elements[item.element].key_kind
    return item.key_kind
