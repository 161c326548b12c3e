"""The sharing services (SHR-6, SEC-4, SHR-9): verification, query, export and changes under a grant, as
a consumer's application system and a provider's own staff see them, on both stores."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json

import pyarrow.parquet as pq
import pytest

from govdata.sharing import usage
from tests.support.batches import ric
from tests.support.http import assert_problem
from tests.support.sharing import grant, load, people, shared_code, system  # noqa: F401

RECORDS = "/api/v1/share/{code}/records"
VERIFY = "/api/v1/share/{code}/verify"
EXPORT = "/api/v1/share/{code}/export"
CHANGES = "/api/v1/share/{code}/changes"


def _verify(client, headers, code, key, values):
    return client.post(VERIFY.format(code=code), json={"key": key, "values": values}, headers=headers)


def _receipt_holds(client, answer: dict) -> bool:
    checked = client.post("/api/v1/receipts/verify", json={"receipt": answer["receipt"], "answer": answer})
    assert checked.status_code == 200, checked.text
    return checked.json()["valid"]


# --- query -------------------------------------------------------------------------------------------


def test_query_by_key_answers_only_the_granted_items_masked_as_granted_SEC4(
    client, as_user, shared_code, system
):
    grant(client, as_user, shared_code, system["id"], ["gmsfhm", "xm", "csrq", "lxdh", "jzdz"],
          masked=["xm", "csrq", "lxdh", "jzdz"])
    person = people(1, start=3)[0]
    answer = client.get(RECORDS.format(code=shared_code), params={"key": person["gmsfhm"]}, headers=system["headers"])
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["total"] == 1 and body["under_review"] == []
    (record,) = body["items"]
    assert set(record) == {"gmsfhm", "xm", "csrq", "lxdh", "jzdz"}  # never 性别 or 户籍地址: not granted
    assert record["gmsfhm"] == person["gmsfhm"]  # granted in clear
    assert record["xm"] == "居*" and record["csrq"] == person["csrq"][:4]
    assert record["lxdh"] == "*******" + person["lxdh"][-4:]
    assert record["jzdz"].startswith("河南省焦作市山阳区*") and len(record["jzdz"]) == len(person["jzdz"])
    assert set(body["freshness"]) == {"last_batch_at", "next_due", "overdue"}
    assert body["freshness"]["last_batch_at"] and body["freshness"]["overdue"] is False
    assert _receipt_holds(client, body)
    body["items"][0]["lxdh"] = person["lxdh"]  # unmasking the answer breaks its receipt
    assert not _receipt_holds(client, body)
