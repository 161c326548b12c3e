"""SHR-9: signed receipts of sharing answers and the node key that signs them (可直接采信).

A receipt issued for an answer verifies against exactly that answer and that key; changing any value
of the answer, any byte of the signature or any field of the receipt, or checking with another key,
makes it fail with a Chinese reason. The key lives in a 0600 file outside the database and survives
restarts. The public routes answer without a token, and the offline check that docs/receipts.md
gives a consumer is run here as it stands in the document.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import re
import stat
import subprocess
import sys
import threading
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from fastapi.testclient import TestClient

from govdata.app import create_app
from govdata.core.config import Settings
from govdata.core.signing import NodeKeyError, key_path, load_public_key, node_key, open_key
from govdata.sharing import receipts, receipts_api
from tests.support.http import assert_problem, login

DOC = Path(__file__).resolve().parents[2] / "docs" / "receipts.md"
AT = datetime(2026, 10, 9, 9, 30, tzinfo=timezone(timedelta(hours=8)))


def _answer() -> dict:
    """A query answer as the sharing service gives it: Chinese text, numbers, nulls, nested values."""
    return {
        "items": [
            {"GMSFHM": "410802199001011234", "XM": "张三", "NL": 36, "JE": 1234.5, "SFZX": False},
            {"GMSFHM": "410802198505052345", "XM": "李四·阿依古丽", "NL": 41, "JE": 0.1, "SFZX": True},
        ],
        "total": 2,
        "under_review": ["410802198505052345"],
        "freshness": {"last_batch_at": "2026-10-08T16:00:00Z", "next_due": "2026-10-10", "overdue": None},
    }


@pytest.fixture
def key(tmp_path):
    return open_key(tmp_path / "node.pem")


@pytest.fixture
def other_key(tmp_path):
    return open_key(tmp_path / "other" / "node.pem")


def _issue(key, answer, **kw):
    args = {"grant_id": 7, "resource_code": "101/002000001", "at": AT, "direct_evidence": True} | kw
    return receipts.issue(key, answer, **args)


def _leaves(value, path=()):
    """Paths to every scalar in a JSON value."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _leaves(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _leaves(v, (*path, i))
    else:
        yield path


def _changed(value):
    """The smallest change of a scalar: one character, one unit, the other truth value."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, float):
        return value + 0.5
    if isinstance(value, str):
        return value[:-1] + chr(ord(value[-1]) ^ 1)
    return ""  # None


def _with(answer, path, new):
    changed = copy.deepcopy(answer)
    target = changed
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = new
    return changed


# --- issuing and checking ----------------------------------------------------------------------


def test_a_receipt_verifies_against_its_answer_and_names_what_it_covers(key):
    answer = _answer()
    receipt = _issue(key, answer)

    assert receipts.verify(key, receipt, answer) == (True, None)
    assert receipt["version"] == 1 and receipt["alg"] == "Ed25519" and receipt["digest_alg"] == "SM3"
    assert receipt["issued_at"] == "2026-10-09T01:30:00.000Z"  # 09:30 China time, in UTC
    assert receipt["grant_id"] == 7 and receipt["resource_code"] == "101/002000001"
    assert receipt["direct_evidence"] is True
    assert receipt["key_id"] == key.key_id
    assert len(base64.b64decode(receipt["signature"])) == 64
    canonical = json.dumps(answer, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    assert receipt["digest"] == hashlib.new("sm3", canonical).hexdigest()

    # the receipt travels inside the answer; it is not part of what it covers
    delivered = answer | {"receipt": receipt}
    assert receipts.verify(key, receipt, delivered) == (True, None)
    # through JSON on the wire, however the server spelt it, and checked with the public PEM alone
    received = json.loads(json.dumps(delivered, ensure_ascii=True, indent=2))
    assert receipts.verify(key.public_key_pem, received["receipt"], received) == (True, None)
    # a provider's own read has no grant; its receipt is still valid
    own = _issue(key, answer, grant_id=None, direct_evidence=False)
    assert own["grant_id"] is None and receipts.verify(key, own, answer) == (True, None)


def test_canonical_json_is_sorted_compact_utf8_and_leaves_the_receipt_out():
    text = receipts.canonical({"b": "张三", "a": [1, 2.5, None, True], "receipt": {"x": 1}})
    assert text == '{"a":[1,2.5,null,true],"b":"张三"}'.encode()
    assert receipts.canonical({"k": (1, 2)}) == receipts.canonical({"k": [1, 2]})


@pytest.mark.parametrize("value", [date(2026, 10, 9), Decimal("1.5"), float("nan")])
def test_an_answer_holding_values_json_cannot_carry_is_refused_rather_than_signed(key, value):
    with pytest.raises((TypeError, ValueError)):
        _issue(key, {"items": [{"X": value}]})


def test_changing_any_value_of_the_answer_breaks_the_receipt(key):
    answer = _answer()
    receipt = _issue(key, answer)
    paths = list(_leaves(answer))
    assert len(paths) == 15
    for path in paths:
        tampered = _with(answer, path, _changed(_leaf(answer, path)))
        valid, reason = receipts.verify(key, receipt, tampered)
        assert not valid, path
        assert "答复" in reason and "摘要" in reason, reason
    for tampered in (
        answer | {"total": 3, "items": answer["items"] + [answer["items"][0]]},  # a record added
        answer | {"items": answer["items"][:1], "total": 1},  # a record removed
        answer | {"under_review": []},  # the "under review" flag dropped
        answer | {"note": "补充"},  # a field added
    ):
        assert receipts.verify(key, receipt, tampered)[0] is False


def _leaf(value, path):
    for part in path:
        value = value[part]
    return value


def test_flipping_any_bit_of_the_signature_or_changing_the_receipt_breaks_it(key):
    answer = _answer()
    receipt = _issue(key, answer)
    signature = base64.b64decode(receipt["signature"])
    for index in range(len(signature)):
        for bit in (0, 7):
            flipped = bytearray(signature)
            flipped[index] ^= 1 << bit
            forged = receipt | {"signature": base64.b64encode(bytes(flipped)).decode()}
            valid, reason = receipts.verify(key, forged, answer)
            assert not valid and "签名无效" in reason, (index, bit)
    for field, value in {
        "issued_at": "2026-10-09T01:30:00.001Z",
        "grant_id": 8,
        "resource_code": "101/002000002",
        "direct_evidence": False,
        "digest": receipts.digest(answer | {"total": 3}),
    }.items():
        valid, reason = receipts.verify(key, receipt | {field: value}, answer)
        assert not valid and "签名无效" in reason, field
    # a field slipped into the receipt is not covered by the signature
    assert receipts.verify(key, receipt | {"note": "可直接采信"}, answer)[0] is False


def test_a_receipt_signed_by_another_key_fails(key, other_key):
    answer = _answer()
    foreign = _issue(other_key, answer)
    valid, reason = receipts.verify(key, foreign, answer)
    assert not valid and "密钥" in reason
    # claiming this node's key id does not help: the signature is not this key's
    disguised = _issue(other_key, answer) | {"key_id": key.key_id}
    valid, reason = receipts.verify(key, disguised, answer)
    assert not valid and "签名无效" in reason
    assert receipts.verify(other_key.public_key_pem, foreign, answer) == (True, None)


@pytest.mark.parametrize(
    "change",
    [
        lambda r: "not a receipt",
        lambda r: {},
        lambda r: {k: v for k, v in r.items() if k != "signature"},
        lambda r: r | {"version": 2},
        lambda r: r | {"version": True},
        lambda r: r | {"alg": "RSA"},
        lambda r: r | {"digest_alg": "SHA-256"},
        lambda r: r | {"grant_id": "7"},
        lambda r: r | {"direct_evidence": "true"},
        lambda r: r | {"signature": "不是base64!"},
        lambda r: r | {"signature": base64.b64encode(b"short").decode()},
    ],
)
def test_a_malformed_receipt_is_invalid_with_a_reason_not_an_error(key, change):
    answer = _answer()
    valid, reason = receipts.verify(key, change(_issue(key, answer)), answer)
    assert valid is False
    assert re.search(r"[\u4e00-\u9fff]", reason), reason


def test_an_answer_that_is_not_a_json_object_is_invalid(key):
    receipt = _issue(key, _answer())
    assert receipts.verify(key, receipt, ["items"])[0] is False
    valid, reason = receipts.verify(key, receipt, {"items": ["\ud800"]})  # a lone surrogate
    assert valid is False and "答复" in reason


# --- the key file ------------------------------------------------------------------------------


def test_the_key_is_created_once_mode_0600_outside_the_database_and_reused(tmp_path):
    settings = Settings(data_dir=tmp_path / "var", secret_key="x")
    path = tmp_path / "var" / "keys" / "node_ed25519.pem"
    assert not path.exists()

    key = node_key(settings)
    assert key.path == path.absolute() == key_path(settings)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) & 0o077 == 0
    assert b"BEGIN PRIVATE KEY" in path.read_bytes()
    assert [p.name for p in path.parent.iterdir()] == ["node_ed25519.pem"]  # no temporary file left
    first = path.read_bytes()

    # read back from the file (not from the process's cache), and by a process started afresh
    assert open_key(path).key_id == key.key_id
    script = (
        "from govdata.core.config import Settings; from govdata.core.signing import node_key; "
        f"print(node_key(Settings(data_dir={str(tmp_path / 'var')!r}, secret_key='x')).key_id)"
    )
    restarted = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert restarted.stdout.strip() == key.key_id
    assert path.read_bytes() == first

    # the raw public key, its PEM and its id describe one key
    raw = base64.b64decode(key.public_key_raw_b64)
    assert len(raw) == 32
    public = load_public_key(key.public_key_pem)
    assert public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw) == raw
    assert key.key_id == hashlib.new("sm3", raw).hexdigest()[:16]


def test_processes_starting_together_end_up_with_one_key(tmp_path):
    path = tmp_path / "keys" / "node_ed25519.pem"
    start = threading.Barrier(8)
    found: list[str] = []

    def take() -> None:
        start.wait()
        found.append(open_key(path).key_id)

    threads = [threading.Thread(target=take) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(found) == 8 and len(set(found)) == 1
    assert [p.name for p in path.parent.iterdir()] == ["node_ed25519.pem"]


def test_the_key_file_setting_names_where_the_key_is_kept(tmp_path, monkeypatch):
    elsewhere = tmp_path / "secrets" / "govdata-node.pem"
    monkeypatch.setenv("GOVDATA_NODE_KEY_FILE", str(elsewhere))
    settings = Settings(data_dir=tmp_path / "var", secret_key="x")
    key = node_key(settings)
    assert key.path == elsewhere and elsewhere.exists()
    assert stat.S_IMODE(elsewhere.stat().st_mode) == 0o600
    assert not (tmp_path / "var" / "keys").exists()


def test_a_key_file_without_an_ed25519_key_is_refused_not_replaced(tmp_path):
    path = tmp_path / "node.pem"
    path.write_text("not a key")
    with pytest.raises(NodeKeyError, match="无法读取"):
        open_key(path)
    assert path.read_text() == "not a key"


# --- the public routes, on both stores ---------------------------------------------------------


def _node_keys(client) -> dict:
    response = client.get("/api/v1/node/keys")
    assert response.status_code == 200, response.text
    return response.json()


def test_the_node_keys_are_public_and_describe_the_signing_key(client, app):
    body = _node_keys(client)
    assert "node" not in body or body["node"]
    [entry] = body["keys"]
    assert entry["alg"] == "Ed25519"
    public = load_public_key(entry["public_key_pem"])
    assert isinstance(public, Ed25519PublicKey)
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert base64.b64decode(entry["public_key"]) == raw
    assert entry["key_id"] == hashlib.new("sm3", raw).hexdigest()[:16]

    # what the app signs with is that key, and it is a file under the data directory, not a table
    settings = app.state.settings
    assert node_key(settings).key_id == entry["key_id"]
    path = settings.data_dir / "keys" / "node_ed25519.pem"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_the_node_key_survives_a_restart_of_the_server(client, settings):
    before = _node_keys(client)["keys"][0]
    restarted = create_app(settings)
    try:
        with TestClient(restarted, raise_server_exceptions=False) as again:
            after = _node_keys(again)["keys"][0]
    finally:
        restarted.state.engine.dispose()
    assert after == before
    assert open_key(key_path(settings)).key_id == before["key_id"]  # read from the file itself


def test_checking_a_receipt_over_http_needs_no_token(client, app):
    key = node_key(app.state.settings)
    answer = _answer()
    receipt = _issue(key, answer)

    response = client.post("/api/v1/receipts/verify", json={"receipt": receipt, "answer": answer})
    assert response.status_code == 200, response.text
    assert response.json() == {"valid": True}
    # as received, receipt inside
    response = client.post(
        "/api/v1/receipts/verify", json={"receipt": receipt, "answer": answer | {"receipt": receipt}}
    )
    assert response.json() == {"valid": True}

    tampered = _with(answer, ("items", 0, "XM"), "张四")
    body = client.post("/api/v1/receipts/verify", json={"receipt": receipt, "answer": tampered}).json()
    assert body["valid"] is False and "摘要" in body["reason"]

    other = open_key(Path(app.state.settings.data_dir) / "elsewhere.pem")
    body = client.post(
        "/api/v1/receipts/verify", json={"receipt": _issue(other, answer), "answer": answer}
    ).json()
    assert body["valid"] is False and "密钥" in body["reason"]

    # a logged-in user gets the same answer
    headers = login(client, "rs_user")
    response = client.post(
        "/api/v1/receipts/verify", json={"receipt": receipt, "answer": answer}, headers=headers
    )
    assert response.json() == {"valid": True}


def test_a_check_with_a_malformed_body_is_a_problem(client, monkeypatch):
    url = "/api/v1/receipts/verify"
    assert_problem(client.post(url, content=b"{not json", headers={"content-type": "application/json"}), 422)
    body = assert_problem(client.post(url, json={"receipt": {}}), 422)
    assert body["errors"][0]["field"] == "answer" and body["errors"][0]["label"] == "答复"
    assert_problem(client.post(url, json={"receipt": [], "answer": {}}), 422)
    assert_problem(client.post(url, json=["receipt"]), 422)
    # a malformed receipt is an answer, not an error
    assert client.post(url, json={"receipt": {}, "answer": {}}).json()["valid"] is False

    monkeypatch.setattr(receipts_api, "MAX_VERIFY_BYTES", 1024)
    big = {"receipt": {}, "answer": {"items": ["x" * 2048]}}
    assert_problem(client.post(url, json=big), 413, "payload-too-large")
    streamed = client.post(  # no Content-Length: counted while read
        url, content=iter([json.dumps(big).encode()[i : i + 256] for i in range(0, 2200, 256)])
    )
    assert_problem(streamed, 413, "payload-too-large")


def test_anonymous_checks_are_rate_limited_like_other_public_routes(settings):
    limited = create_app(settings.model_copy(update={"rate_limit_per_minute": 3}))
    try:
        with TestClient(limited, raise_server_exceptions=False) as client:
            for _ in range(3):
                assert client.get("/api/v1/node/keys").status_code == 200
            assert_problem(client.post("/api/v1/receipts/verify", json={}), 429, "rate-limited")
    finally:
        limited.state.engine.dispose()


# --- the consumer's offline check in docs/receipts.md -------------------------------------------


def _doc_snippet() -> str:
    text = DOC.read_text(encoding="utf-8")
    found = re.search(r"<!-- receipt-check -->\s*```python\n(.*?)```", text, re.S)
    assert found, "docs/receipts.md lost its offline check"
    return found.group(1)


def test_the_offline_check_in_the_documentation_works(client, app, tmp_path):
    namespace: dict = {}
    exec(compile(_doc_snippet(), str(DOC), "exec"), namespace)  # noqa: S102  (our own document)
    check_receipt = namespace["check_receipt"]
    pem = _node_keys(client)["keys"][0]["public_key_pem"]

    key = node_key(app.state.settings)
    answer = _answer()
    sent = json.dumps(answer | {"receipt": _issue(key, answer, at=datetime.now(UTC))})
    assert check_receipt(json.loads(sent), pem) is True

    received = json.loads(sent)
    received["items"][1]["JE"] = 0.2
    assert check_receipt(received, pem) is False
    received = json.loads(sent)
    received["receipt"]["direct_evidence"] = False
    assert check_receipt(received, pem) is False
    foreign = open_key(tmp_path / "foreign.pem")
    assert check_receipt(json.loads(json.dumps(answer | {"receipt": _issue(foreign, answer)})), pem) is False
