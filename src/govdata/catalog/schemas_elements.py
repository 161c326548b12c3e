"""Input and output of the data element dictionary (数据元, CAT-4)."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from govdata.catalog.enums import DataType
from govdata.core.errors import register_field_labels

ELEMENT_CODE_PATTERN = r"^[A-Za-z][A-Za-z0-9_]{0,31}$"
ElementSubject = Literal["person", "legal_person"]
ElementKey = Literal["ric", "uscc"]

ELEMENT_FIELD_LABELS = {
    "code": "代码",
    "name": "名称",
    "synonyms": "同义词",
    "data_type": "数据类型",
    "length": "长度",
    "subject": "主体类别",
    "key_kind": "标识类型",
    "level": "敏感级别",
    "code_list": "代码表",
    "pattern": "格式",
    "description": "说明",
}


def _text_list(values: list[str] | None) -> list[str] | None:
    """Trimmed, without blanks and repeats, in the given order."""
    if values is None:
        return None
    seen: list[str] = []
    for value in values:
        value = value.strip()
        if value and value not in seen:
            seen.append(value)
    return seen


class _ElementFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @field_validator("name", check_fields=False)
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        if value is None:
            return value
        value = value.strip()
        if not value or re.search(r"\s", value):
            raise ValueError("不能为空，也不能含有空白字符")
        return value

    @field_validator("synonyms", check_fields=False)
    @classmethod
    def _synonyms(cls, values: list[str] | None) -> list[str] | None:
        values = _text_list(values)
        for value in values or []:
            if len(value) > 50:
                raise ValueError(f"“{value[:20]}…”过长（至多 50 个字符）")
        return values

    @field_validator("code_list", check_fields=False)
    @classmethod
    def _codes(cls, values: list[str] | None) -> list[str] | None:
        values = _text_list(values)
        return values or None

    @field_validator("pattern", "description", check_fields=False)
    @classmethod
    def _blank(cls, value: str | None) -> str | None:
        return (value or "").strip() or None

    @field_validator("pattern", check_fields=False)
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        if value:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"不是有效的正则表达式（{exc.msg}）") from None
        return value


class DataElementIn(_ElementFields):
    code: str = Field(pattern=ELEMENT_CODE_PATTERN, description="数据元代码（字母开头，如 GMSFHM）")
    name: str = Field(min_length=1, max_length=100, description="数据元名称（标准名称）")
    synonyms: list[str] = Field(
        default_factory=list, max_length=50, description="同义词（其他常用叫法、拼音首字母）"
    )
    data_type: DataType = Field(description="数据类型（目录的类型字母）")
    length: int | None = Field(default=None, ge=1, le=100000, description="长度")
    subject: ElementSubject | None = Field(
        default=None, description="主体类别：person 自然人，legal_person 法人"
    )
    key_kind: ElementKey | None = Field(
        default=None, description="标识类型：ric 公民身份号码，uscc 统一社会信用代码"
    )
    level: int = Field(default=1, ge=1, le=4, description="敏感级别 1–4")
    code_list: list[str] | None = Field(default=None, max_length=2000, description="代码表取值")
    pattern: str | None = Field(default=None, max_length=500, description="格式（正则表达式）")
    description: str | None = Field(default=None, max_length=1000, description="说明")

    @field_validator("code")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.upper()


class DataElementPatch(_ElementFields):
    """Any fields of an element but its code; a field left out stays as it is."""

    name: str | None = Field(default=None, min_length=1, max_length=100)
    synonyms: list[str] | None = Field(default=None, max_length=50)
    data_type: DataType | None = None
    length: int | None = Field(default=None, ge=1, le=100000)
    subject: ElementSubject | None = None
    key_kind: ElementKey | None = None
    level: int | None = Field(default=None, ge=1, le=4)
    code_list: list[str] | None = Field(default=None, max_length=2000)
    pattern: str | None = Field(default=None, max_length=500)
    description: str | None = Field(default=None, max_length=1000)

    @field_validator("name", "synonyms", "data_type", "level")
    @classmethod
    def _not_null(cls, value):
        if value is None:
            raise ValueError("不能为空")
        return value


class DataElementView(BaseModel):
    code: str
    name: str
    synonyms: list[str]
    data_type: str
    length: int | None
    subject: str | None
    key_kind: str | None
    level: int
    code_list: list[str] | None
    pattern: str | None
    description: str | None
    standard: bool = Field(description="平台内置的标准数据元（名称不能修改）")
    resources: int | None = Field(default=None, description="引用该数据元的资源数（调用方可见的）")


register_field_labels({"synonyms": "同义词"})  # the other fields share the catalog's names
