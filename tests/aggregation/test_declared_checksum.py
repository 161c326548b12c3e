"""AGG-7 (#13 item 12): a provider's declared checksum is compared with what arrived — for a file its
SHA-256, for JSON records the SHA-256 of the records as canonical JSON — so a JSON-records batch whose
checksum is right is no longer reported as a mismatch, and a wrong one still is — on both stores."""

from __future__ import annotations

import hashlib
import json

from tests.support.batches import csv_bytes, good_rows, upload

FIELDS = ("gmsfhm", "xm", "xb", "csrq", "hjdz")


def records(n: int, start: int = 0) -> list[dict]:
    return [dict(zip(FIELDS, row, strict=True)) for row in good_rows(n, start)]


def canonical_sha256(rows: list[dict]) -> str:
    """What the provider's system computes before posting: the records as canonical JSON."""
    text = json.dumps(rows, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def post(client, headers, code: str, rows: list[dict], **fields) -> dict:
    response = client.post(
        f"/api/v1/resources/{code}/batches",
        json={"mode": "upsert", "policy": "strict", "records": rows, **fields},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    return response.json()


def test_json_records_with_their_declared_checksum_reconcile_AGG7(client, as_user, population_code):
    officer = as_user("ga_officer")
    rows = records(4)
    batch = post(
        client, officer, population_code, rows, source_rows=4, source_checksum=canonical_sha256(rows)
    )
    assert batch["status"] == "applied" and batch["reconciliation"] == "ok"
    assert not (batch["warnings"] or "")
    # the key order of each record and a "sha256:" prefix in capitals do not matter
    shuffled = [dict(reversed(list(r.items()))) for r in records(3, start=10)]
    declared = "SHA256:" + canonical_sha256(records(3, start=10)).upper()
    batch = post(client, officer, population_code, shuffled, source_checksum=declared)
    assert batch["reconciliation"] == "ok"


def test_a_wrong_declared_checksum_is_still_a_mismatch_AGG7(client, as_user, population_code):
    officer = as_user("ga_officer")
    rows = records(4)
    other = canonical_sha256(records(4, start=1))
    batch = post(client, officer, population_code, rows, source_checksum=other)
    assert batch["reconciliation"] == "mismatch"
    assert "校验值不符" in batch["warnings"] and canonical_sha256(rows) in batch["warnings"]
    # a file's checksum is its bytes' SHA-256, as before
    data = csv_bytes(good_rows(2))
    ok = upload(
        client, officer, population_code, data, source_checksum=hashlib.sha256(data).hexdigest()
    ).json()
    assert ok["reconciliation"] == "ok"
    wrong = upload(client, officer, population_code, data, source_checksum=other).json()
    assert wrong["reconciliation"] == "mismatch"
