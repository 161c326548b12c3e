"""De-identification (OPN-5): each method on its own, and the downloads that apply it."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pyarrow as pa
import pytest
from openpyxl import load_workbook

from govdata.core.errors import InvalidInput
from govdata.opening import service
from govdata.opening.service import deid
from tests.support.opening import checkup_records, open_conditional, open_resource

KEY = b"k" * 32


def test_each_method_on_a_column():
    names = pa.array(["张三丰", "欧阳娜娜", None])
    assert deid.transform_array({"method": "keep"}, names, None).to_pylist() == ["张三丰", "欧阳娜娜", None]
    assert deid.transform_array({"method": "mask", "mask": "name"}, names, None).to_pylist() == [
        "张**",
        "欧阳**",
        None,
    ]
    ric = pa.array(["410802198501011234"])
    assert deid.transform_array({"method": "mask", "mask": "ric"}, ric, None).to_pylist() == [
        "410802********1234"
    ]

    dates = pa.array([dt.date(1985, 3, 4), None])
    assert deid.transform_array({"method": "generalise", "generalise": "year"}, dates, None).to_pylist() == [
        "1985",
        None,
    ]
    assert deid.generalise_array("year", pa.array(["19850304", "不详"])).to_pylist() == ["1985", None]
    ages = pa.array([0, 9, 10, 47, None], pa.int64())
    assert deid.generalise_array("age_band", ages).to_pylist() == ["0-9", "0-9", "10-19", "40-49", None]
    regions = pa.array(["410802", "410821"])
    assert deid.generalise_array("region_city", regions).to_pylist() == ["410800", "410800"]
    assert deid.generalise_array("region_province", regions).to_pylist() == ["410000", "410000"]

    ids = pa.array(["A", "B", "A", None])
    names_out = deid.transform_array({"method": "pseudonymise"}, ids, KEY).to_pylist()
    assert names_out[0] == names_out[2] != names_out[1] and names_out[3] is None
    assert names_out[0] == deid.pseudonym(KEY, "A") and len(names_out[0]) == 32
    assert deid.pseudonym(b"x" * 32, "A") != names_out[0]  # keyed: another key, another pseudonym


def test_plan_rules():
    items = [
        {"code": "a", "name": "出生日期", "data_type": "D", "level": 2},
        {"code": "b", "name": "诊断", "data_type": "C", "level": 4},
        {"code": "c", "name": "结论", "data_type": "C", "level": 1},
    ]
    plan = deid.normalise_plan(items, {"a": "generalise"})
    assert plan == {
        "a": {"method": "generalise", "generalise": "year"},
        "b": {"method": "suppress"},
        "c": {"method": "keep"},
    }
    for bad in ({"b": "mask"}, {"zz": "keep"}, {"a": "shuffle"}, {"c": "generalise"}):
        with pytest.raises(InvalidInput):
            deid.normalise_plan(items, bad)
    assert not deid.servable(2, "keep") and deid.servable(2, "mask") and not deid.servable(4, "mask")


def test_pseudonym_key_lives_in_a_file(tmp_path, settings):
    path = deid.key_path(settings)
    key = deid.pseudonym_key(settings)
    assert path.exists() and path.is_relative_to(settings.data_dir) and len(key) == 32
    assert (path.stat().st_mode & 0o077) == 0


def _body(chunks) -> bytes:
    return b"".join(chunks)


def test_downloads_serve_only_the_served_items_deidentified(client, as_user, session, app):
    settings, store = app.state.settings, app.state.store
    public = open_resource(client, as_user)
    chunks, media, name = service.export_open(session, settings, store, public, service.OpenAccess(), "csv")
    text = _body(chunks).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert media.startswith("text/csv") and name.endswith(".csv")
    assert rows[0] == ["bh", "xzqh", "jg"] and len(rows) == 31

    code = open_conditional(client, as_user)
    access = service.OpenAccess(account_id=1, application_id=1, items=frozenset({"bh", "csrq", "xm", "sfzh"}))
    raw = {r["bh"]: r for r in checkup_records(30)}
    with pytest.raises(InvalidInput):  # nothing is served to anyone without an application
        service.export_open(session, settings, store, code, service.OpenAccess(), "csv")

    chunks, _, _ = service.export_open(session, settings, store, code, access, "csv")
    rows = list(csv.DictReader(io.StringIO(_body(chunks).decode("utf-8-sig"))))
    assert len(rows) == 30 and set(rows[0]) == {"bh", "csrq", "xm", "sfzh"}
    for row in rows:
        source = raw[row["bh"]]
        assert row["csrq"] == source["csrq"][:4]
        assert (
            row["xm"].startswith(source["xm"][: 2 if source["xm"].startswith("欧阳") else 1])
            and "*" in row["xm"]
        )
        assert row["sfzh"] == deid.pseudonym(deid.pseudonym_key(settings), source["sfzh"])

    chunks, media, _ = service.export_open(session, settings, store, code, access, "json")
    records = json.loads(_body(chunks))
    assert media == "application/json" and len(records) == 30
    assert {r["sfzh"] for r in records} == {r["sfzh"] for r in rows}

    chunks, _, name = service.export_open(session, settings, store, code, access, "xlsx")
    sheet = load_workbook(io.BytesIO(_body(chunks)), read_only=True).active
    values = list(sheet.values)
    assert name.endswith(".xlsx") and list(values[0]) == ["bh", "csrq", "xm", "sfzh"] and len(values) == 31
    assert not any(source["sfzh"] in str(values) for source in raw.values())

    service.count_use(session, code, "download", account_id=1, application_id=1)
    service.count_use(session, code, "api_call", account_id=1, application_id=1)
    session.flush()
    dataset = service.open_dataset(session, code)
    assert (dataset.downloads, dataset.api_calls) == (1, 1)
