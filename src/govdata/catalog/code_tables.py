"""Labels of the national code tables that data elements use (CAT-4, #13 item 22): an item's code list
holds the codes (``0 1 2 9``), and pages show them with what they mean (``1 男``, ``2 女``).

The codes of an item are what validation checks (AGG-4); the labels come from the standard the data
element follows, found by the element the item references (or, for an item without one, by its name
when that is the element's name). A code the table does not know is shown as it is.
"""

from __future__ import annotations

from typing import Any

# GB/T 2261.1-2003 人的性别代码
SEX = {"0": "未知的性别", "1": "男", "2": "女", "9": "未说明的性别"}
# GB/T 2261.2-2003 婚姻状况代码
MARITAL_STATUS = {
    "10": "未婚",
    "20": "已婚",
    "21": "初婚",
    "22": "再婚",
    "23": "复婚",
    "30": "丧偶",
    "40": "离婚",
    "90": "未说明的婚姻状况",
}
# GB/T 3304-1991 中国各民族名称的罗马字母拼写法和代码
ETHNIC_GROUPS = {
    f"{number:02d}": name
    for number, name in enumerate(
        [
            "汉族",
            "蒙古族",
            "回族",
            "藏族",
            "维吾尔族",
            "苗族",
            "彝族",
            "壮族",
            "布依族",
            "朝鲜族",
            "满族",
            "侗族",
            "瑶族",
            "白族",
            "土家族",
            "哈尼族",
            "哈萨克族",
            "傣族",
            "黎族",
            "傈僳族",
            "佤族",
            "畲族",
            "高山族",
            "拉祜族",
            "水族",
            "东乡族",
            "纳西族",
            "景颇族",
            "柯尔克孜族",
            "土族",
            "达斡尔族",
            "仫佬族",
            "羌族",
            "布朗族",
            "撒拉族",
            "毛南族",
            "仡佬族",
            "锡伯族",
            "阿昌族",
            "普米族",
            "塔吉克族",
            "怒族",
            "乌孜别克族",
            "俄罗斯族",
            "鄂温克族",
            "德昂族",
            "保安族",
            "裕固族",
            "京族",
            "塔塔尔族",
            "独龙族",
            "鄂伦春族",
            "赫哲族",
            "门巴族",
            "珞巴族",
            "基诺族",
        ],
        start=1,
    )
} | {"97": "其他", "98": "外国血统中国籍人士"}

# data element name → (standard, code → label)
TABLES: dict[str, tuple[str, dict[str, str]]] = {
    "性别": ("GB/T 2261.1-2003", SEX),
    "婚姻状况": ("GB/T 2261.2-2003", MARITAL_STATUS),
    "民族": ("GB/T 3304-1991", ETHNIC_GROUPS),
}


def table_of(item: dict[str, Any]) -> tuple[str, dict[str, str]] | None:
    """The code table of an item: by the element it references, else by its name."""
    for key in (item.get("element"), item.get("name")):
        if key and key in TABLES:
            return TABLES[key]
    return None


def labels_of(item: dict[str, Any]) -> list[tuple[str, str]]:
    """The item's codes with their labels (a label is "" when the table does not know the code)."""
    table = table_of(item)
    codes = item.get("code_list") or []
    return [(str(code), (table[1].get(str(code), "") if table else "")) for code in codes]


def value_label(item: dict[str, Any], value: Any) -> str | None:
    """What a stored value of the item means (``1`` → 男), or None."""
    table = table_of(item)
    if table is None or value is None:
        return None
    return table[1].get(str(value))


def item_value_labels(items: list[dict[str, Any]]) -> dict[str, dict[str, str]]:
    """Item code → {code → label} for the items of a resource that follow a code table, so that a page
    showing stored records can say what a value means."""
    found = {}
    for item in items:
        table = table_of(item)
        if table is not None and item.get("code"):
            found[item["code"]] = dict(table[1])
    return found
