"""One enum-label mechanism: members carry their Chinese label beside their value."""

from __future__ import annotations

import pytest

from govdata.catalog.enums import LABELS, ShareType, UpdateCycle, VersionStatus
from govdata.core.labels import LabelledEnum, label, labels


class Colour(LabelledEnum):
    red = "red", "红"
    green = "green", "绿"


def test_members_are_strings_with_labels():
    assert Colour.red == "red" and Colour("green") is Colour.green and Colour.green.label == "绿"
    assert Colour.choices() == [("red", "红"), ("green", "绿")]
    assert labels(Colour) == {"red": "红", "green": "绿"}
    with pytest.raises(ValueError):
        Colour("blue")


def test_label_of_a_stored_value_never_fails():
    assert label(UpdateCycle, "daily") == "每日"
    assert label(UpdateCycle, "fortnightly") == "fortnightly"  # old data shows as it is
    assert label(UpdateCycle, None) == "" and label(None, "x") == "x"


def test_every_catalog_value_has_its_label():
    assert ShareType.conditional.label == "有条件共享"
    assert labels(VersionStatus)["superseded"] == "已被新版本替代"
    assert LABELS["UpdateCycle"] == labels(UpdateCycle)
