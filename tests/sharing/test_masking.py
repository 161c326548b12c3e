"""Masks of shared data (SEC-4): what each mask keeps, which mask an item gets, and — for any text — that a
mask never hands the value back unchanged when there is something to hide, and never shows more than it
keeps. Also: the export's vectorised safe cells agree with ``core.files.safe_cell``."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from govdata.catalog.service import ElementRef
from govdata.sharing import masking
from govdata.sharing.masking import (
    ADDRESS,
    DATE,
    GENERIC,
    NAME,
    PHONE,
    RIC,
    mask_kind,
    mask_value,
    mask_values,
)


def keep(value: str, head: int, tail: int = 0) -> str:
    """``value`` with its first ``head`` and last ``tail`` characters shown, the others ``*``."""
    return value[:head] + "*" * (len(value) - head - tail) + (value[-tail:] if tail else "")


@pytest.mark.parametrize(
    ("kind", "value", "masked"),
    [
        (RIC, "410802198501011234", "410802********1234"),
        (RIC, "41080219850101123X", "410802********123X"),
        (NAME, "张三", "张*"),
        (NAME, "张三丰", "张**"),
        (NAME, "欧阳娜娜", "欧阳**"),
        (NAME, "司马光", "司马*"),
        (NAME, "欧阳", "欧*"),  # two characters: one is the family name
        (NAME, "李", "*"),
        (PHONE, "13912345678", "*******5678"),
        (PHONE, "0391-3456789", keep("0391-3456789", 0, 4)),
        (PHONE, "5678", "****"),
        (DATE, "1985-01-02", "1985"),
        (DATE, "19850102", "1985"),
        (DATE, dt.date(1985, 1, 2), "1985"),
        (DATE, dt.datetime(1985, 1, 2, 8, 30), "1985"),
        (DATE, "一九八五年", "一***年"),  # no year in digits: the generic mask
        (ADDRESS, "河南省焦作市解放区民主路12号", keep("河南省焦作市解放区民主路12号", 9)),
        (ADDRESS, "焦作市山阳区太行路1号院", keep("焦作市山阳区太行路1号院", 6)),
        (ADDRESS, "河南省焦作市沁阳市怀府路8号", keep("河南省焦作市沁阳市怀府路8号", 9)),
        (ADDRESS, "河南省焦作市温县黄河路3号", keep("河南省焦作市温县黄河路3号", 8)),
        (ADDRESS, "河南省郑州市金水区文化路", keep("河南省郑州市金水区文化路", 9)),
        (ADDRESS, "北京市朝阳区建国路1号", keep("北京市朝阳区建国路1号", 6)),
        (ADDRESS, "广西壮族自治区南宁市青秀区民族大道", keep("广西壮族自治区南宁市青秀区民族大道", 13)),
        (
            ADDRESS,
            "新疆维吾尔自治区阿克苏地区阿克苏市解放路",
            keep("新疆维吾尔自治区阿克苏地区阿克苏市解放路", 17),
        ),
        (ADDRESS, "内蒙古自治区锡林郭勒盟锡林浩特市某路", keep("内蒙古自治区锡林郭勒盟锡林浩特市某路", 16)),
        (ADDRESS, "沁阳市怀府路8号", keep("沁阳市怀府路8号", 3)),  # no county: up to the city
        (ADDRESS, "怀府路8号", keep("怀府路8号", 0)),  # neither: all hidden
        (ADDRESS, "焦作市解放区", "焦作市解放区"),  # nothing beyond the county to hide
        # a 区 or 市 that does not end an administrative name is no county: kept less, never more
        (ADDRESS, "阳光小区5栋301", keep("阳光小区5栋301", 0)),
        (ADDRESS, "焦作市幸福小区3号楼2单元", keep("焦作市幸福小区3号楼2单元", 3)),
        (ADDRESS, "河南省焦作市市辖区人民路", keep("河南省焦作市市辖区人民路", 6)),
        (ADDRESS, "焦作市解放区阳光小区5栋301", keep("焦作市解放区阳光小区5栋301", 6)),
        (ADDRESS, "河南省沁阳市幸福小区3号", keep("河南省沁阳市幸福小区3号", 6)),
        (ADDRESS, "焦作市高新技术产业园区", keep("焦作市高新技术产业园区", 3)),
        (ADDRESS, "焦作市建设路农贸市场3号", keep("焦作市建设路农贸市场3号", 3)),
        (ADDRESS, "焦作市红旗路5号", keep("焦作市红旗路5号", 3)),
        (ADDRESS, "阳泉市矿区桃北路", keep("阳泉市矿区桃北路", 3)),
        (ADDRESS, "幸福家园东区2号楼", keep("幸福家园东区2号楼", 0)),
        (GENERIC, "91410800MA44XXXX1B", keep("91410800MA44XXXX1B", 1, 1)),
        (GENERIC, "ab", "**"),
        (GENERIC, 12345, "1***5"),
        (GENERIC, True, "t**e"),
    ],
)
def test_each_mask_keeps_what_sec4_says(kind, value, masked):
    assert mask_value(kind, value) == masked


def test_nulls_stay_null_and_a_column_is_masked_at_once():
    assert mask_values(NAME, [None, "王五", None]) == [None, "王*", None]
    assert mask_values(PHONE, []) == []
    column = pa.chunked_array([["410802198501011234"], [None, "410802198501015678"]])
    assert masking.mask_array(RIC, column).to_pylist() == ["410802********1234", None, "410802********5678"]


ELEMENTS = {
    "公民身份号码": ElementRef("公民身份号码", "DE0001", "ric"),
    "姓名": ElementRef("姓名", "DE0002", None),
    "户籍地址": ElementRef("户籍地址", "DE0003", None),
    "统一社会信用代码": ElementRef("统一社会信用代码", "DE0004", "uscc"),
}


@pytest.mark.parametrize(
    ("item", "kind"),
    [
        ({"name": "证件号", "data_type": "C", "element": "公民身份号码"}, RIC),  # by the element
        ({"name": "户主", "data_type": "C", "element": "姓名"}, NAME),
        ({"name": "地点", "data_type": "C", "element": "户籍地址"}, ADDRESS),
        ({"name": "代码", "data_type": "C", "element": "统一社会信用代码"}, GENERIC),
        ({"name": "登记时间", "data_type": "T"}, DATE),  # by the data type
        ({"name": "发证", "data_type": "D"}, DATE),
        ({"name": "身份证号", "data_type": "C"}, RIC),  # by the name
        ({"name": "联系电话", "data_type": "C"}, PHONE),
        ({"name": "手机号码", "data_type": "C"}, PHONE),
        ({"name": "经营地址", "data_type": "C"}, ADDRESS),
        ({"name": "现住址", "data_type": "C"}, ADDRESS),
        ({"name": "出生日期", "data_type": "C"}, DATE),
        ({"name": "企业名称", "data_type": "C"}, NAME),
        ({"name": "姓名", "data_type": "C"}, NAME),
        ({"name": "婚姻状况", "data_type": "C"}, GENERIC),  # none of these
        ({"name": "收入", "data_type": "N"}, GENERIC),
    ],
)
def test_the_mask_of_an_item_comes_from_its_element_then_type_then_name(item, kind):
    assert mask_kind(item, ELEMENTS) == kind


# --- the property: never the value unchanged, never more than the kept part --------------------------------

TEXT = st.text(
    alphabet=st.sampled_from(list("0123456789Xx省市区县旗州盟地自治欧阳司马张王李路号院-*  \n")),
    max_size=30,
)


def kept_at_most(kind: str) -> int | None:
    """How many characters of a value the mask may show, as SEC-4 states it (an address: a prefix)."""
    return {RIC: 10, NAME: 2, PHONE: 4, DATE: 4, GENERIC: 2}.get(kind)


@given(kind=st.sampled_from(masking.KINDS), value=TEXT)
def test_a_mask_never_hands_back_a_longer_value_unchanged_nor_shows_more_than_it_keeps(kind, value):
    masked = mask_value(kind, value)
    if kind == DATE and len(value) >= 4 and value[:4].isascii() and value[:4].isdigit():
        assert masked == value[:4]  # the year and nothing else
        return
    assert len(masked) == len(value)
    shown = [i for i, c in enumerate(masked) if c != "*"]
    assert all(masked[i] == value[i] for i in shown), "a shown character is the value's own, in place"
    secret = [i for i, c in enumerate(value) if c != "*"]
    limit = kept_at_most(kind)
    if limit is not None:
        assert len(shown) <= limit
        if len(secret) > limit:
            assert masked != value
    elif shown:
        # an address shows one prefix, ending at a county- or city-level marker, and hides the rest
        end = max(shown) + 1
        assert value[:end] == masked[:end] and value[end - 1] in "县旗区市州盟"
        assert set(masked[end:]) <= {"*"}


NAMES = st.sampled_from(
    [
        "河南省",
        "焦作市",
        "解放区",
        "沁阳市",
        "温县",
        "北京市",
        "朝阳区",
        "广西壮族自治区",
        "阿克苏地区",
        "锡林郭勒盟",
    ]
)
PARTS = st.sampled_from(
    ["阳光小区", "幸福园区", "社区", "景区", "校区", "厂区", "矿区", "营区", "市辖区", "东区", "城区", "新区"]
    + [
        "超市",
        "市场",
        "红旗",
        "人民路",
        "12号",
        "5栋",
        "2单元",
        "301室",
        "号楼",
        "县",
        "区",
        "市",
        "旗",
        "盟",
    ]
)
ADDRESSES = st.lists(st.one_of(NAMES, PARTS, st.text(alphabet="小区号栋单元路市县0123456789", max_size=4)))


@given(address=ADDRESSES.map("".join))
def test_an_address_mask_never_keeps_a_residential_or_door_part(address):
    masked = mask_value(ADDRESS, address)
    kept = masked.rstrip("*")  # what is shown is a prefix; everything after it is hidden
    assert len(masked) == len(address) and address.startswith(kept) and "*" not in kept
    for part in ("小区", "号", "栋", "单元", "园区", "社区", "景区", "市辖区", "路", "室", "超市", "市场"):
        assert part not in kept, f"{address} → {masked}"


@given(value=st.text(max_size=20))
def test_any_text_masked_as_a_name_shows_at_most_its_family_name(value):
    masked = mask_value(NAME, value)
    visible = [c for c in masked if c != "*"]
    assert len(masked) == len(value) and len(visible) <= 2
    if len(value) > 2 and "*" not in value:
        assert masked != value
