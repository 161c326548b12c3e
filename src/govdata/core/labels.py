"""Chinese labels of enumerations: one mechanism for every capability.

An enumeration that people read derives from :class:`LabelledEnum` and gives each member its label
beside its value, so a value can never lack a label::

    class ShareType(LabelledEnum):
        unconditional = "unconditional", "无条件共享"
        conditional = "conditional", "有条件共享"

Members are plain strings (``ShareType.conditional == "conditional"``); ``member.label`` is the label,
``ShareType.choices()`` the (value, label) pairs of a form, :func:`labels` the value → label map of a
template, and :func:`label` the label of a stored value (the value itself when it is not a member,
so a page never fails on old data).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Self


class LabelledEnum(StrEnum):
    """A string enumeration whose members carry their Chinese label: ``name = "value", "标签"``."""

    _label: str

    def __new__(cls, value: str, label: str) -> Self:
        member = str.__new__(cls, value)
        member._value_ = value
        member._label = label
        return member

    @property
    def label(self) -> str:
        return self._label

    @classmethod
    def choices(cls) -> list[tuple[str, str]]:
        """(value, label) of every member, in declaration order (a form's options)."""
        return [(member.value, member.label) for member in cls]


def labels(enum: type[LabelledEnum]) -> dict[str, str]:
    """Value → label of every member of ``enum``."""
    return {member.value: member.label for member in enum}


def label(enum: type[LabelledEnum] | None, value: Any) -> str:
    """The label of ``value`` in ``enum``: "" for None, the value itself when it is no member."""
    if value is None:
        return ""
    if enum is None:
        return str(value)
    try:
        return enum(value).label
    except ValueError:
        return str(value)
