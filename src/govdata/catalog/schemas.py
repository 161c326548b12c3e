"""Input and output of the catalog (SPEC §15 resource payload; CAT-1, CAT-3)."""

from __future__ import annotations

import datetime as dt
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import Query
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from govdata.catalog.enums import (
    DataType,
    EventKind,
    Grade,
    KeyKind,
    LegalBasisKind,
    OpenType,
    ResourceFormat,
    ResourceStatus,
    ShareMethod,
    ShareMode,
    ShareType,
    Subject,
    UpdateCycle,
)
from govdata.catalog.search import SORTS, SearchQuery
from govdata.core.errors import register_field_labels, validation_problem
from govdata.core.schemas import OrmModel

ITEM_CODE_PATTERN = r"^[A-Za-z][A-Za-z0-9_]{0,62}$"


class ItemIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=ITEM_CODE_PATTERN, description="信息项代码（字母开头，字母数字下划线）")
    name: str = Field(min_length=1, max_length=100, description="信息项名称")
    data_type: DataType = Field(description="数据类型（目录的类型字母）")
    length: int | None = Field(default=None, ge=1, le=100000, description="长度")
    precision: int | None = Field(default=None, ge=0, le=30, description="精度")
    required: bool = Field(default=False, description="是否必填")
    key: bool = Field(default=False, description="是否关键标识")
    key_kind: KeyKind | None = Field(default=None, description="关键标识类型；引用数据元时由数据元决定")
    level: int = Field(default=1, ge=1, le=4, description="敏感级别 1–4")
    code_list: list[str] | None = Field(default=None, max_length=2000, description="代码表取值")
    pattern: str | None = Field(default=None, max_length=500, description="格式（正则表达式）")
    minimum: float | None = Field(default=None, description="最小值")
    maximum: float | None = Field(default=None, description="最大值")
    element: str | None = Field(default=None, max_length=100, description="引用的数据元名称")
    share_type: ShareType | None = Field(default=None, description="本信息项的共享类型（默认同资源）")
    description: str | None = Field(default=None, max_length=1000)


class ResourceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=2, max_length=200, description="资源名称")
    summary: str = Field(default="", max_length=4000, description="资源摘要")
    classification: str = Field(max_length=32, pattern=r"^[1-3][0-9A-Za-z]*$", description="资源分类代码")
    format: ResourceFormat = Field(description="资源格式")
    share_type: ShareType = Field(description="共享类型")
    share_conditions: str | None = Field(default=None, max_length=2000, description="共享条件")
    legal_basis: str | None = Field(default=None, max_length=2000, description="共享依据")
    legal_basis_kind: LegalBasisKind | None = Field(default=None, description="依据类别")
    usage_requirements: str | None = Field(default=None, max_length=2000, description="使用要求")
    share_modes: list[ShareMode] = Field(default_factory=list, description="服务方式")
    share_methods: list[ShareMethod] = Field(default_factory=list, description="共享方式")
    open_type: OpenType = Field(default=OpenType.none, description="开放类型")
    open_conditions: str | None = Field(default=None, max_length=2000, description="开放条件")
    update_cycle: UpdateCycle = Field(description="更新周期")
    grade: Grade = Field(default=Grade.general, description="数据分级")
    materials: list[str] = Field(default_factory=list, max_length=50, description="申请材料")
    related_codes: list[str] = Field(default_factory=list, max_length=50, description="关联资源代码")
    subject: Subject | None = Field(
        default=None,
        description="资源主体（自然人、法人、非法人组织、其他）；不填则由分类和信息项的数据元判断",
    )
    local_catalog: bool = Field(
        default=False,
        description="本地区个性化目录：本地区政务数据资源，未纳入上级（省级）政务数据资源目录（CAT-6）",
    )
    subject_derived: bool | None = Field(
        default=None,
        exclude=True,
        description="与答复相同：为 true 时 subject 是平台判断的，不作为声明（答复可原样提交）",
    )
    items: list[ItemIn] = Field(default_factory=list, max_length=1000, description="信息项")

    @field_validator("materials", "related_codes")
    @classmethod
    def _strip_blank(cls, value: list[str]) -> list[str]:
        return [v.strip() for v in value if v and v.strip()]

    @model_validator(mode="after")
    def _derived_subject_is_no_declaration(self) -> ResourceIn:
        # an answer sent back (an export imported again) must not turn a derived subject into a declared one
        if self.subject_derived:
            self.subject = None
        self.subject_derived = None
        return self


class MigrationIn(BaseModel):
    """The data migration a revision names: needed to publish a revision that would change stored
    values (a narrower length or precision, another type, a removed item). The migration rewrites
    the affected values to the new definition; the old versions stay in the history."""

    model_config = ConfigDict(extra="forbid")

    confirm: bool = Field(description="确认按新版本改写受影响的已存数据（旧值保留在历史中）")
    items: list[str] | None = Field(
        default=None, max_length=1000, description="只迁移这些信息项（代码）；不填为全部受影响的信息项"
    )

    @field_validator("items")
    @classmethod
    def _codes(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else sorted({v.strip().lower() for v in value if v and v.strip()})

    def covers(self, item: str) -> bool:
        return self.confirm and (self.items is None or item.lower() in self.items)


class ResourcePatch(BaseModel):
    """Any resource fields plus ``reason`` (required when revising a published resource) and
    ``migration`` (the data migration of a revision, see :class:`MigrationIn`; null removes it)."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    summary: str | None = None
    classification: str | None = None
    format: ResourceFormat | None = None
    share_type: ShareType | None = None
    share_conditions: str | None = None
    legal_basis: str | None = None
    legal_basis_kind: LegalBasisKind | None = None
    usage_requirements: str | None = None
    share_modes: list[ShareMode] | None = None
    share_methods: list[ShareMethod] | None = None
    open_type: OpenType | None = None
    open_conditions: str | None = None
    update_cycle: UpdateCycle | None = None
    grade: Grade | None = None
    materials: list[str] | None = None
    related_codes: list[str] | None = None
    subject: Subject | None = None
    local_catalog: bool | None = None
    items: list[ItemIn] | None = None
    reason: str | None = Field(default=None, max_length=2000, description="修订原因")
    migration: MigrationIn | None = Field(default=None, description="修订的数据迁移（改变已存数据时必需）")

    @model_validator(mode="before")
    @classmethod
    def _without_answer_fields(cls, data: Any) -> Any:
        """A resource as ``GET`` answered it may be sent back changed: the fields only an answer has
        (``code``, ``status``, ``version``, ``provider``, ``warnings`` …) are left out, not refused."""
        if isinstance(data, dict):
            answer_only = ResourceOut.model_fields.keys() - cls.model_fields.keys()
            return {key: value for key, value in data.items() if key not in answer_only}
        return data


class ReturnIn(BaseModel):
    comment: str = Field(min_length=1, max_length=4000, description="退回意见")


class RetireIn(BaseModel):
    reason: str | None = Field(
        default=None, max_length=2000, description="停用原因（记入处理记录和审计日志）"
    )


class ResourceOut(BaseModel):
    """A resource as the catalog shows it, with the §15 fields and more."""

    code: str
    status: str
    version: int
    provider: str
    provider_id: int
    name: str
    summary: str
    classification: str
    format: str
    share_type: str
    share_conditions: str | None = None
    legal_basis: str | None = None
    legal_basis_kind: str | None = None
    usage_requirements: str | None = None
    share_modes: list[str] = []
    share_methods: list[str] = []
    open_type: str
    open_conditions: str | None = None
    update_cycle: str
    grade: str
    materials: list[str] = []
    related_codes: list[str] = []
    subject: str = Field(description="资源主体：声明的，或由分类和信息项判断的")
    subject_derived: bool = Field(description="资源主体是否由平台判断（未声明）")
    local_catalog: bool = Field(default=False, description="是否为本地区个性化目录（未纳入省级目录）")
    items: list[dict[str, Any]] = []
    published_version: int | None = None
    published_at: datetime | None = None
    updated_at: datetime | None = None
    revision: dict[str, Any] | None = Field(default=None, description="修订中的下一版本（状态、版本号）")
    returned: dict[str, Any] | None = Field(
        default=None, description="被退回的版本及主管部门的退回意见（提供部门和主管部门可见）"
    )
    warnings: list[str] = []


class ResourceSummary(BaseModel):
    code: str
    status: str
    version: int
    name: str
    summary: str
    provider: str
    provider_id: int
    classification: str
    format: str
    share_type: str
    open_type: str
    update_cycle: str
    grade: str
    updated_at: datetime
    published_at: datetime | None


class SearchParams(BaseModel):
    """The filters and order of a catalog search: one definition for the search API, the export and
    the command line. Routes take it as query parameters (:data:`SearchFilters`)."""

    q: str | None = Field(default=None, max_length=200, description="关键词，支持两字中文词")
    provider_id: int | None = Field(default=None, description="提供部门编号")
    classification: str | None = Field(default=None, max_length=32, description="分类代码前缀")
    share_type: ShareType | None = Field(default=None, description="共享类型")
    open_type: OpenType | None = Field(default=None, description="开放类型")
    format: ResourceFormat | None = Field(default=None, description="资源格式")
    update_cycle: UpdateCycle | None = Field(default=None, description="更新周期")
    grade: Grade | None = Field(default=None, description="数据分级")
    status: ResourceStatus | None = Field(default=None, description="状态（默认不含已停用）")
    sort: str | None = Field(
        default=None,
        pattern=f"^({'|'.join(sorted(SORTS))})$",
        description="排序：relevance、updated、name、published 或 code",
    )

    @classmethod
    def parse(cls, **values: Any) -> SearchParams:
        """Search parameters from plain values (the command line); invalid ones are a 422 in Chinese."""
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            raise validation_problem(exc.errors(), prefix="检索条件有误") from None

    def to_query(self, *, limit: int = 20, offset: int = 0) -> SearchQuery:
        return SearchQuery(**self.model_dump(), limit=limit, offset=offset)


class ExportSearchParams(SearchParams):
    """The export's search parameters: ``format`` names the file format there, so the resource
    format filter is ``resource_format``."""

    format: ResourceFormat | None = Field(
        default=None, alias="resource_format", description="资源格式（检索 API 的 format 筛选）"
    )


SearchFilters = Annotated[SearchParams, Query()]
ExportFilters = Annotated[ExportSearchParams, Query()]


class SearchOut(BaseModel):
    items: list[ResourceSummary]
    total: int
    facets: dict[str, dict[str, int]]


class VersionOut(BaseModel):
    version: int
    status: str
    reason: str | None
    diff: list[dict[str, Any]] | None
    created_by: str
    created_at: datetime
    submitted_at: datetime | None
    published_at: datetime | None
    published_by: str | None
    body: dict[str, Any]
    migration: dict[str, Any] | None = Field(default=None, description="本版本声明的数据迁移")


class DataImpactOut(BaseModel):
    """How a revision would change the values already stored for one item."""

    item: str = Field(description="信息项代码")
    name: str = Field(description="信息项名称")
    change: str = Field(
        description="narrowed 缩小长度或精度、retyped 改变类型、shortened 缩短长度、removed 删除"
    )
    before: str | None = Field(description="已发布版本的类型，如 N(10,2)")
    after: str | None = Field(description="修订版本的类型；删除的信息项为空")
    values: int = Field(description="将被改变的已存值个数")
    covered: bool = Field(description="修订声明的数据迁移是否包含该信息项")


class RevisionImpactOut(BaseModel):
    """What publishing the pending revision would do to the stored data (a dry run)."""

    version: int
    migration: dict[str, Any] | None = Field(description="修订声明的数据迁移")
    impacts: list[DataImpactOut]
    publishable: bool = Field(description="是否可以发布：每个受影响的信息项都在声明的迁移之内")


class LogEntryOut(OrmModel):
    version: int
    action: str
    actor: str
    comment: str | None
    at: datetime


class DataElementOut(OrmModel):
    code: str
    name: str
    synonyms: list[str]
    data_type: str
    length: int | None
    subject: str | None
    key_kind: str | None
    level: int
    code_list: list[str] | None
    description: str | None


class ClassificationOut(OrmModel):
    code: str
    name: str
    parent_code: str | None


class ClassificationIn(BaseModel):
    code: str = Field(
        pattern=r"^3[0-9A-Za-z]{2,30}$|^[12][0-9]{3,30}$", description="分类代码（在上级代码后追加）"
    )
    name: str = Field(min_length=1, max_length=100, description="分类名称")


class CatalogEventIn(BaseModel):
    kind: EventKind = Field(description="事件类型")
    title: str = Field(min_length=2, max_length=300, description="事件标题")
    department_ids: list[int] = Field(min_length=1, description="涉及的部门")
    date: dt.date = Field(description="事件发生日期")
    resource_code: str | None = Field(default=None, max_length=64, description="涉及的资源代码")


class UpdateTaskOut(BaseModel):
    id: int
    event_id: int
    department_id: int
    department_name: str
    deadline: date
    deadline_provisional: bool
    status: str
    overdue: bool
    done_at: datetime | None = None
    done_note: str | None = None


class CatalogEventOut(BaseModel):
    id: int
    kind: str
    title: str
    date: dt.date
    resource_code: str | None
    tasks: list[UpdateTaskOut]


class TaskDoneIn(BaseModel):
    note: str = Field(min_length=1, max_length=2000, description="完成说明")


class ResponsibilityOut(BaseModel):
    department_id: int
    department_name: str
    resources: list[dict[str, Any]]


# Chinese names of the catalog's fields, in error messages and (see ``catalog.web``) on the pages.
CATALOG_FIELD_LABELS: dict[str, str] = {
    "code": "代码",
    "summary": "摘要",
    "classification": "资源分类",
    "format": "资源格式",
    "share_type": "共享类型",
    "share_conditions": "共享条件",
    "legal_basis": "共享依据",
    "legal_basis_kind": "依据类别",
    "usage_requirements": "使用要求",
    "share_modes": "服务方式",
    "share_methods": "共享方式",
    "open_type": "开放类型",
    "open_conditions": "开放条件",
    "update_cycle": "更新周期",
    "grade": "数据分级",
    "materials": "申请材料",
    "related_codes": "关联资源",
    "subject": "资源主体",
    "subject_derived": "主体由平台判断",
    "local_catalog": "本地区个性化目录",
    "items": "信息项",
    "data_type": "数据类型",
    "length": "长度",
    "precision": "精度",
    "required": "必填",
    "key": "关键标识",
    "key_kind": "关键标识类型",
    "level": "敏感级别",
    "code_list": "代码表",
    "pattern": "格式",
    "minimum": "最小值",
    "maximum": "最大值",
    "element": "数据元",
    "reason": "理由",
    "migration": "数据迁移",
    "confirm": "确认迁移",
    "comment": "意见",
    "kind": "类别",
    "title": "标题",
    "department_ids": "涉及部门",
    "date": "日期",
    "note": "说明",
}

register_field_labels(CATALOG_FIELD_LABELS)
