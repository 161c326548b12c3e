"""The rules of a resource's metadata that a schema cannot express. One 422 lists every problem, in
Chinese; rules the active policy only flags come back as warnings shown with the resource.

* CAT-1: classification, share and open types with their conditions; a conditional or ``none``
  resource stands only on a basis of kind law, administrative regulation or central policy (seeds
  002 and 003) — another kind is refused, or flagged, as the policy switch ``refusal_without_basis``
  says.
* SHR-1: a shareable (unconditional or conditional) resource is registered complete: the
  materials an applicant must supply, at least one share method, and its usage requirements.
* CAT-3: the resource's subject (自然人, 法人, 非法人组织, 其他), declared or derived
  (:func:`derive_subject`), decides its required key identifier: 公民身份号码 for natural persons,
  统一社会信用代码 for legal persons and unincorporated organisations. An item named exactly as an
  identifier data element is linked to it (:func:`link_elements`), and said so; an item named as one
  of its synonyms is offered the element in the error.
* CAT-6: an entry of the region's own 个性化目录 (``local_catalog``) is for a city or county node; a
  province node's catalog is the provincial catalog itself.
* CAT-13: on a class-1 (base information) resource, the base items of the base library the resource
  belongs to (by its key identifier) are shared unconditionally — refused, or warned of, as the
  policy switch ``base_items_not_unconditional`` says. Base libraries are another capability's: it
  registers what they hold with :func:`register_base_items`.

The service runs these checks when a resource is created or changed, and again at submission and
publication, so that a resource stored before a rule or a policy change is caught before it goes out.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from govdata.catalog.enums import (
    REFUSAL_BASES,
    SUBJECT_KEYS,
    KeyKind,
    LegalBasisKind,
    OpenType,
    ShareType,
    Subject,
)
from govdata.catalog.models import Classification, DataElement
from govdata.catalog.schemas import ItemIn, ResourceIn
from govdata.core import policy, values
from govdata.core.errors import InvalidInput, field_label, validation_problem
from govdata.orgs import service as orgs

# --- base items (CAT-13), registered by the capability that keeps base libraries -------------------


@dataclass(frozen=True)
class BaseItems:
    """One base library as the catalog's rules need it: its name, its key element (公民身份号码,
    统一社会信用代码), its base items (data element names, the key among them), and the class-1
    classification it stands for with its lead department, who alone compiles that class (AGG-8)."""

    library: str
    key_element: str
    elements: frozenset[str]
    classification: str | None = None
    lead_department_id: int | None = None
    lead_department_name: str | None = None


BaseItemsSource = Callable[[Session], Iterable[BaseItems]]
BASE_ITEM_SOURCES: dict[str, BaseItemsSource] = {}


def register_base_items(name: str, source: BaseItemsSource) -> None:
    """Have ``source`` tell the catalog the base libraries and their base items (CAT-13)."""
    BASE_ITEM_SOURCES.setdefault(name, source)


def base_libraries(session: Session) -> list[BaseItems]:
    return [library for source in BASE_ITEM_SOURCES.values() for library in source(session)]


# --- what the checks read ---------------------------------------------------------------------------


@dataclass
class RuleContext:
    """The data elements, base libraries and policy switches the checks read, loaded once."""

    elements: dict[str, DataElement]
    libraries: list[BaseItems]
    switches: Any
    by_synonym: dict[str, DataElement] = field(default_factory=dict)
    node_level: str | None = None  # this node's level (province, city, county), if set up

    @classmethod
    def load(cls, session: Session) -> RuleContext:
        elements = {e.name: e for e in session.scalars(select(DataElement).order_by(DataElement.id))}
        by_synonym: dict[str, DataElement] = {}
        for element in elements.values():
            for synonym in element.synonyms or []:
                by_synonym.setdefault(synonym, element)
        node = orgs.node_ref(session)
        return cls(
            elements,
            base_libraries(session),
            policy.active_policy(session).switches,
            by_synonym,
            node.level if node else None,
        )

    def element_of(self, item: ItemIn) -> DataElement | None:
        """The element an item references, or is named exactly as."""
        return self.elements.get(item.element or item.name)

    def key_kind(self, item: ItemIn) -> str | None:
        """The identifier an item holds: its element's, else the one it declares."""
        element = self.elements.get(item.element) if item.element else None
        if element is not None and element.key_kind:
            return element.key_kind
        return item.key_kind


def parse_resource(data: dict[str, Any]) -> ResourceIn:
    try:
        return ResourceIn.model_validate(data)
    except ValidationError as exc:
        raise validation_problem(exc.errors(), prefix="资源元数据有误") from exc


# --- linking items to identifier elements (CAT-3, CAT-4) ---------------------------------------------


def link_elements(
    session: Session, data: ResourceIn, context: RuleContext | None = None
) -> tuple[ResourceIn, list[str]]:
    """Link each item named exactly as a key-identifier data element (公民身份号码, 统一社会信用代码),
    with its data type and no element of its own, to that element; the notes say what was linked.

    Only identifier elements are linked unasked: an identifier item means the same thing wherever it
    is, and the rules that need it (CAT-3) read the element. Other elements are left to the officer."""
    context = context or RuleContext.load(session)
    notes: list[str] = []
    items: list[ItemIn] = []
    for item in data.items:
        element = context.elements.get(item.name)
        if (
            not item.element
            and element is not None
            and element.key_kind
            and element.data_type == item.data_type
            and (item.key_kind is None or item.key_kind == element.key_kind)
        ):
            item = item.model_copy(update={"element": element.name})
            notes.append(f"信息项“{item.name}”已按名称引用数据元“{element.name}”")
        items.append(item)
    if not notes:
        return data, []
    return data.model_copy(update={"items": items}), notes


# --- the resource's subject (CAT-3) --------------------------------------------------------------------


@dataclass(frozen=True)
class SubjectFinding:
    subject: Subject
    derived: bool
    basis: str  # why, in Chinese: "声明", "分类 101", "信息项“公民身份号码”" …


def derive_subject(data: ResourceIn, context: RuleContext) -> SubjectFinding:
    """What a resource without a declared subject is about (SPEC §15): class 101, an item holding a
    公民身份号码, or two person elements such as 姓名 with 出生日期 mean natural persons; class 102
    or an item holding a 统一社会信用代码 legal persons; anything else ``other``."""
    if data.classification.startswith("101"):
        return SubjectFinding(Subject.natural_person, True, "分类 101（人口）")
    if data.classification.startswith("102"):
        return SubjectFinding(Subject.legal_person, True, "分类 102（法人单位）")
    for kind, subject in ((KeyKind.ric, Subject.natural_person), (KeyKind.uscc, Subject.legal_person)):
        for item in data.items:
            element = context.element_of(item)
            if context.key_kind(item) == kind or (element is not None and element.key_kind == kind):
                return SubjectFinding(subject, True, f"信息项“{item.name}”")
    person = []
    for item in data.items:
        element = context.element_of(item)
        if (
            element is not None
            and element.subject == "person"
            and not element.key_kind
            and item.name not in person
        ):
            person.append(item.name)
    if len(person) >= 2:
        return SubjectFinding(Subject.natural_person, True, "、".join(f"信息项“{n}”" for n in person[:3]))
    return SubjectFinding(Subject.other, True, "分类和信息项")


def subject_of(session: Session, data: ResourceIn, context: RuleContext | None = None) -> SubjectFinding:
    """The resource's subject: as declared, else derived (:func:`derive_subject`)."""
    if data.subject is not None:
        return SubjectFinding(Subject(data.subject), False, "声明")
    return derive_subject(data, context or RuleContext.load(session))


# --- the checks ------------------------------------------------------------------------------------------


def check_resource(
    session: Session, data: ResourceIn, context: RuleContext | None = None
) -> tuple[list[tuple[str, str]], list[str]]:
    """Every problem of ``data`` as (field, message), and the warnings that do not block."""
    context = context or RuleContext.load(session)
    errors: list[tuple[str, str]] = []
    warnings: list[str] = []
    _check_classification(session, data, errors)
    _check_sharing(data, context, errors, warnings)
    if data.open_type == OpenType.conditional and not (data.open_conditions or "").strip():
        errors.append(("open_conditions", "有条件开放的资源必须写明开放条件"))
    if data.local_catalog and context.node_level == "province":
        # seed 002: 设区的市……编制本地区政务数据资源个性化目录; a province's catalog is the provincial one
        errors.append(
            ("local_catalog", "省级节点的目录即全省政务数据资源目录；个性化目录由设区的市、县级节点编制")
        )
    _check_items(data, context, errors, warnings)
    finding = subject_of(session, data, context)
    _check_subject(data, context, finding, errors)
    _check_base_items(data, context, errors, warnings)
    if data.format in ("database", "spreadsheet") and not data.items:
        errors.append(("items", "库表类资源至少应有一个信息项"))
    return errors, warnings


# --- the kind of a legal basis, from its title (CAT-1) ----------------------------------------------

_PROVINCIAL = re.compile(r"^《?[^《》]{0,12}(省|自治区|市|州|县|特别行政区)")
_CENTRAL = re.compile(r"中共中央|党中央|国务院|中办|国办|中央办公厅")


def basis_kind_of(title: str | None) -> LegalBasisKind | None:
    """The kind of legal basis a title names, when the name says it (Chinese legal naming): a 《…法》
    is a law; a 《…条例》 an administrative regulation, or a local one when a province or city
    issued it; a paper of 中共中央 or 国务院 (or their offices) a central policy; a 《…规定》, 《…办法》 or
    《…细则》 a rule. None when the name does not say."""
    text = (title or "").strip()
    if not text:
        return None
    names = re.findall(r"《([^《》]+)》", text) or [text]
    name = names[0].strip()
    if _CENTRAL.search(name):
        return LegalBasisKind.central_policy
    if re.search(r"法(（[^）]*）)?$", name) and not name.endswith(("办法", "方法", "做法")):
        return LegalBasisKind.law
    if name.endswith("条例"):
        local = _PROVINCIAL.search(name) and not name.startswith("中华人民共和国")
        return LegalBasisKind.local_regulation if local else LegalBasisKind.administrative_regulation
    if name.endswith(("规定", "办法", "细则", "规则")):
        return LegalBasisKind.rule
    return None


def _with_basis_kind(data: ResourceIn) -> tuple[ResourceIn, list[str]]:
    """``data`` with the kind of its legal basis, when it gives a basis and not its kind, and the
    basis's title says it (:func:`basis_kind_of`); a note says what was derived."""
    if data.legal_basis_kind is not None or not (data.legal_basis or "").strip():
        return data, []
    kind = basis_kind_of(data.legal_basis)
    if kind is None:
        return data, []
    note = f"依据类别按依据名称推定为“{kind.label}”，如有不符请改正。"
    return data.model_copy(update={"legal_basis_kind": kind}), [note]


def checked_resource(session: Session, data: ResourceIn) -> tuple[ResourceIn, list[str]]:
    """``data`` with its identifier items linked (:func:`link_elements`) and the kind of its legal
    basis derived when only the basis is given (:func:`basis_kind_of`), and its warnings; raise one
    422 listing every problem, in Chinese. What the service stores."""
    context = RuleContext.load(session)
    data, derived = _with_basis_kind(data)
    data, notes = link_elements(session, data, context)
    notes = derived + notes
    errors, warnings = check_resource(session, data, context)
    if errors:
        details = [
            {
                "field": f,
                "label": field_label([int(p) if p.isdigit() else p for p in f.split(".")]),
                "message": m,
            }
            for f, m in errors
        ]
        summary = "；".join(f"{d['label']}：{d['message']}" for d in details[:5])
        raise InvalidInput(f"资源元数据有误：{summary}", errors=details)
    return data, notes + warnings


def validate_resource(session: Session, data: ResourceIn) -> list[str]:
    """Check the rules a schema cannot express; raise one 422 listing every problem, in Chinese.

    Items named exactly as an identifier element count as linked to it (the service links them when
    it stores the resource). Returns warnings that do not block (they are shown with the resource).
    """
    return checked_resource(session, data)[1]


def resource_warnings(session: Session, data: ResourceIn, context: RuleContext | None = None) -> list[str]:
    """The warnings of a stored resource (its page and answers), without raising: what the active
    policy only flags, and — for a resource stored before a rule — what would now be refused."""
    context = context or RuleContext.load(session)
    linked, notes = link_elements(session, data, context)
    errors, warnings = check_resource(session, linked, context)
    return [*(f"不符合现行规则：{m}" for _, m in errors), *notes, *warnings]


def _check_classification(session: Session, data: ResourceIn, errors: list[tuple[str, str]]) -> None:
    classification = session.get(Classification, data.classification)
    if classification is None:
        errors.append(("classification", f"分类代码 {data.classification} 不存在，请先由主管部门登记"))
    elif len(data.classification) < 3 and data.classification != "3":
        errors.append(("classification", "资源应归入“项”一级或更细的分类（如 101 人口）"))


def _check_sharing(
    data: ResourceIn, context: RuleContext, errors: list[tuple[str, str]], warnings: list[str]
) -> None:
    share = ShareType(data.share_type)
    if share == ShareType.conditional and not (data.share_conditions or "").strip():
        errors.append(("share_conditions", "有条件共享的资源必须写明共享条件"))
    if share in (ShareType.conditional, ShareType.none):
        # seeds 002/003: 列入有条件共享、不予共享的，应当提供相应的法律、行政法规或党中央、国务院政策依据
        if not (data.legal_basis or "").strip():
            errors.append(
                ("legal_basis", f"{share.label}的资源必须写明法律、行政法规或党中央、国务院政策依据")
            )
        if data.legal_basis_kind is None:
            errors.append(
                (
                    "legal_basis_kind",
                    f"{share.label}的资源必须写明依据类别（法律、行政法规或党中央、国务院政策）",
                )
            )
        elif data.legal_basis_kind not in REFUSAL_BASES:
            message = (
                f"列入{share.label}只能以法律、行政法规或党中央、国务院政策为依据，"
                f"“{data.legal_basis_kind.label}”不足以支持"
            )
            if context.switches.refusal_without_basis == "refused":
                errors.append(("legal_basis_kind", message))
            else:
                warnings.append(f"{message}（现行政策允许发布，但已标记）")
    if share == ShareType.none:
        return
    # SHR-1: 可以共享的政务数据应当全部注册，注册时应当明确列出申请使用该数据时所需提供的全部材料
    if not data.share_modes:
        errors.append(("share_modes", "可共享的资源至少应有一种服务方式"))
    if not data.materials:
        errors.append(("materials", f"{share.label}的资源必须列出申请使用时需提供的全部材料"))
    if not data.share_methods:
        errors.append(("share_methods", f"{share.label}的资源至少应有一种共享方式（库表、接口或文件）"))
    if not (data.usage_requirements or "").strip():
        errors.append(("usage_requirements", f"{share.label}的资源必须写明使用要求"))


def _check_items(
    data: ResourceIn, context: RuleContext, errors: list[tuple[str, str]], warnings: list[str]
) -> None:
    codes: set[str] = set()
    names: set[str] = set()
    item_share_types = set()
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
        if item.pattern and (problem := values.pattern_problem(item.pattern)):
            errors.append(
                (
                    f"{where}.pattern",
                    f"“{item.name}”的格式不是可用的正则表达式（不支持前后断言和反向引用）：{problem}",
                )
            )
        if item.minimum is not None and item.maximum is not None and item.minimum > item.maximum:
            errors.append((f"{where}.minimum", f"“{item.name}”的最小值大于最大值"))
        if item.element:
            element = context.elements.get(item.element)
            if element is None:
                errors.append((f"{where}.element", f"数据元“{item.element}”不存在"))
            elif element.data_type != item.data_type:
                errors.append(
                    (
                        f"{where}.data_type",
                        f"“{item.name}”引用数据元“{element.name}”，数据类型应为 {element.data_type}",
                    )
                )
        item_share_types.add(item.share_type or data.share_type)
        if item.level == 4 and data.open_type != OpenType.none:
            warnings.append(f"“{item.name}”为 4 级敏感信息项，开放时不会提供")
    if len(item_share_types) > 1 and data.share_type == ShareType.unconditional:
        errors.append(("share_type", "信息项的共享类型不一致时，资源应为有条件共享（仅部分信息项可共享）"))


def _check_subject(
    data: ResourceIn, context: RuleContext, finding: SubjectFinding, errors: list[tuple[str, str]]
) -> None:
    subject = finding.subject
    if data.subject is not None:
        if data.classification.startswith("101") and subject != Subject.natural_person:
            errors.append(("subject", "分类 101（人口）的资源，主体应为自然人"))
            return
        if data.classification.startswith("102") and subject not in (
            Subject.legal_person,
            Subject.unincorporated_org,
        ):
            errors.append(("subject", "分类 102（法人单位）的资源，主体应为法人或非法人组织"))
            return
    kind = SUBJECT_KEYS.get(subject)
    if kind is None:
        return
    if any(item.key and context.key_kind(item) == kind for item in data.items):
        return
    if not finding.derived:
        why = ""
    elif finding.basis.startswith("分类"):
        why = f"（{finding.basis}的资源，主体为{subject.label}）"
    else:
        why = f"（资源主体由{finding.basis}判断为{subject.label}；如不是，请声明资源主体）"
    message = f"关于{subject.label}的资源必须包含必填的关键标识信息项（{kind.label}）{why}"
    offers = _key_offers(data, context, kind)
    errors.append(("items", message + ("：" + "；".join(offers) if offers else "")))


def _key_offers(data: ResourceIn, context: RuleContext, kind: KeyKind) -> list[str]:
    """How the officer can satisfy the key rule with the items already there."""
    offers = []
    wanted = next((e for e in context.elements.values() if e.key_kind == kind), None)
    for item in data.items:
        if context.key_kind(item) == kind:
            offers.append(f"请将信息项“{item.name}”设为必填的关键标识")
            continue
        if item.element:
            continue
        element = context.elements.get(item.name) or context.by_synonym.get(item.name)
        if element is None or element.key_kind != kind:
            continue
        if element.data_type != item.data_type:
            offers.append(
                f"信息项“{item.name}”可引用数据元“{element.name}”（数据类型应为 {element.data_type}）"
            )
        else:
            offers.append(f"信息项“{item.name}”可引用数据元“{element.name}”，并设为必填的关键标识")
    if not offers and wanted is not None:
        offers.append(f"请添加引用数据元“{wanted.name}”的必填关键标识信息项")
    return offers


def _check_base_items(
    data: ResourceIn, context: RuleContext, errors: list[tuple[str, str]], warnings: list[str]
) -> None:
    """CAT-13: 基础信息资源的基础信息项……在部门间实现无条件共享."""
    if not data.classification.startswith("1") or not context.libraries:
        return
    keys = {item.element for item in data.items if item.key and item.element}
    libraries = [library for library in context.libraries if library.key_element in keys]
    refused = context.switches.base_items_not_unconditional == "refused"
    for index, item in enumerate(data.items):
        share = ShareType(item.share_type or data.share_type)
        if share == ShareType.unconditional:
            continue
        element = item.element or item.name
        library = next((lib for lib in libraries if element in lib.elements), None)
        if library is None:
            continue
        message = (
            f"信息项“{item.name}”是{library.library}的基础信息项（数据元“{element}”），"
            f"应无条件共享，现为{share.label}"
        )
        if refused:
            errors.append((f"items.{index}.share_type", message))
        else:
            warnings.append(f"{message}（现行政策仅作提示）")
