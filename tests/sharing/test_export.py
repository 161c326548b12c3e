"""The export (SHR-6 exchange, SEC-4) of cells a spreadsheet would misread, as a consumer's system
receives it on both stores: formulas defused and control characters dropped, in clear and in masked
items alike, line breaks kept inside quotes, the digest over exactly the bytes sent."""

# ruff: noqa: F811  (the fixtures of tests.support.sharing, named as parameters)
from __future__ import annotations

import base64
import csv
import hashlib
import io
import json

import pyarrow.parquet as pq

from tests.support.sharing import (  # noqa: F401
    grant,
    load,
    people,
    shared_code,
    system,
)

EXPORT = "/api/v1/share/{code}/export"


def test_risky_cells_are_defused_in_clear_and_masked_items(client, as_user, shared_code, system):
    grant(
        client,
        as_user,
        shared_code,
        system["id"],
        ["gmsfhm", "xm", "hjdz", "lxdh"],
        masked=["xm", "lxdh"],
        modes=["exchange"],
    )
    risky = {
        **people(1, start=60)[0],
        "xm": "@张三",  # masked as a name, it keeps its first character: "@**"
        "hjdz": "=1+1\n第二行\x07",  # a formula with a line break and a control character inside
        "lxdh": "-13900001234",
    }
    load(client, as_user("ga_officer"), shared_code, [risky])
    response = client.get(EXPORT.format(code=shared_code), headers=system["headers"])
    assert response.status_code == 200, response.text
    body = response.content
    assert response.headers["x-govdata-digest"] == "sm3=" + hashlib.new("sm3", body).hexdigest()
    assert body.startswith("\ufeffgmsfhm,xm,hjdz,lxdh\r\n".encode())
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))
    assert len(rows) == 1 + 21 and int(response.headers["x-govdata-rows"]) == 21
    exported = {row[0]: row[1:] for row in rows[1:]}
    # a phone number masked keeps only its last 4 characters: no minus is left to defuse
    assert exported[risky["gmsfhm"]] == ["'@**", "'=1+1\n第二行", "********1234"]
    assert "'=1+1\n第二行".encode() in body and b"\x07" not in body  # LF kept inside the quotes
    assert body.count(b"\r\n") == 22 and body.endswith(b"\r\n")
    ordinary = people(1, start=3)[0]
    assert exported[ordinary["gmsfhm"]] == [
        ordinary["xm"][0] + "*" * (len(ordinary["xm"]) - 1),
        ordinary["hjdz"],
        "*" * 7 + ordinary["lxdh"][-4:],
    ]
    manifest = json.loads(base64.b64decode(response.headers["x-govdata-manifest"]))
    assert manifest["rows"] == 21 and manifest["masked"] == ["xm", "lxdh"]

    # Parquet is no spreadsheet: the values as stored (masked as granted), nothing prefixed
    parquet = client.get(
        EXPORT.format(code=shared_code), params={"format": "parquet"}, headers=system["headers"]
    )
    assert parquet.status_code == 200, parquet.text
    assert parquet.headers["x-govdata-digest"] == "sm3=" + hashlib.new("sm3", parquet.content).hexdigest()
    table = {r["gmsfhm"]: r for r in pq.read_table(io.BytesIO(parquet.content)).to_pylist()}
    assert table[risky["gmsfhm"]] == {
        "gmsfhm": risky["gmsfhm"],
        "xm": "@**",
        "hjdz": "=1+1\n第二行\x07",
        "lxdh": "********1234",
    }


def test_an_export_of_nothing_granted_in_clear_is_the_header_and_masked_rows(
    client, as_user, shared_code, system
):
    grant(client, as_user, shared_code, system["id"], ["gmsfhm"], masked=["gmsfhm"], modes=["exchange"])
    response = client.get(EXPORT.format(code=shared_code), headers=system["headers"])
    assert response.status_code == 200, response.text
    lines = response.content.decode("utf-8-sig").split("\r\n")
    assert lines[0] == "gmsfhm" and lines[-1] == "" and len(lines) == 1 + 20 + 1
    assert all(line[:6] == "410802" and "*" * 8 in line for line in lines[1:-1])
