"""An uploaded file is read as a stream straight into the data directory (AGG-2), through the API and
the page alike: it never passes through the system's temporary directory, its SHA-256 is taken as it
arrives, and a body cut short or carrying two files is refused without leaving anything behind — on
both stores."""

from __future__ import annotations

import hashlib
import tempfile

import pytest

from tests.aggregation.test_pages import HTML, batch_id_of, browser, upload_form, wait_done
from tests.support.batches import csv_bytes, good_rows
from tests.support.http import assert_problem

ROWS = 20_000  # about 1.2 MB: beyond the 1 MiB a form parser keeps in memory before spooling to disk


@pytest.fixture
def no_system_temp(tmp_path, monkeypatch):
    """The system's temporary directory is not there (a full or read-only /tmp behaves alike)."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "not-there"))


def spools(settings) -> list[str]:
    return [p.name for p in settings.data_dir.iterdir() if p.name.startswith(("tmp", "upload-"))]


def test_a_large_upload_never_touches_the_system_temp_directory(
    client, as_user, population_code, settings, no_system_temp
):
    data = csv_bytes(good_rows(ROWS))
    assert len(data) > 1024 * 1024
    response = client.post(
        f"/api/v1/resources/{population_code}/batches",
        files={"file": ("人口.csv", data, "text/csv")},
        data={"mode": "upsert", "policy": "strict", "source_checksum": hashlib.sha256(data).hexdigest()},
        headers=as_user("ga_officer"),
    )
    assert response.status_code == 201, response.text
    batch = response.json()
    assert (batch["status"], batch["rows_applied"], batch["filename"]) == ("applied", ROWS, "人口.csv")
    assert batch["reconciliation"] == "ok"  # the SHA-256 taken while it arrived is the file's
    assert spools(settings) == []


def test_a_large_upload_through_the_page_never_touches_the_system_temp_directory(
    app, client, population_code, settings, no_system_temp
):
    officer = browser(app, "ga_officer")
    response = upload_form(officer, population_code, csv_bytes(good_rows(ROWS)), policy="accept_valid")
    assert response.status_code == 303, response.text
    batch = wait_done(officer, batch_id_of(response))
    assert (batch["status"], batch["rows_applied"]) == ("applied", ROWS)
    assert officer.get(f"/data/batches/{batch['id']}", headers=HTML).status_code == 200
    assert spools(settings) == []


def multipart(boundary: str, parts: list[tuple[str, str | None, bytes]], *, closed: bool = True) -> bytes:
    body = b""
    for name, filename, content in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        body += f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n".encode() + content + b"\r\n"
    return body + (f"--{boundary}--\r\n".encode() if closed else b"")


@pytest.mark.parametrize(
    ("parts", "closed", "status", "words"),
    [
        ([("mode", None, b"upsert"), ("file", "a.csv", csv_bytes(good_rows(3)))], False, 400, "结束边界"),
        (
            [("file", "a.csv", csv_bytes(good_rows(3))), ("file2", "b.csv", csv_bytes(good_rows(3)))],
            True,
            413,
            "文件太多",
        ),
        ([(f"f{i}", None, b"x") for i in range(30)] + [("file", "a.csv", b"a,b\n")], True, 413, "字段太多"),
        ([("mode", None, b"u" * 70_000), ("file", "a.csv", b"a,b\n")], True, 413, "字段超过"),
        ([("mode", None, b"upsert")], True, 422, "请上传文件"),
    ],
    ids=["cut-short", "two-files", "too-many-fields", "field-too-long", "no-file"],
)
def test_a_bad_form_is_refused_and_leaves_nothing(
    client, as_user, population_code, settings, parts, closed, status, words
):
    officer = as_user("ga_officer")
    body = multipart("b0undary", parts, closed=closed)
    response = client.post(
        f"/api/v1/resources/{population_code}/batches",
        content=body,
        headers={**officer, "content-type": "multipart/form-data; boundary=b0undary"},
    )
    problem = assert_problem(response, status)
    assert words in problem["detail"], problem
    assert client.get(f"/api/v1/resources/{population_code}/batches", headers=officer).json()["total"] == 0
    assert spools(settings) == []


def test_an_upload_the_client_abandons_leaves_nothing_and_is_no_server_error(
    client, as_user, population_code, settings
):
    """The connection drops halfway through the body (an upload cancelled in the browser)."""
    import anyio

    body = multipart("b0undary", [("mode", None, b"upsert"), ("file", "a.csv", csv_bytes(good_rows(5000)))])
    headers = {**as_user("ga_officer"), "content-type": "multipart/form-data; boundary=b0undary"}
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "server": ("testserver", 80),
        "client": ("127.0.0.1", 5000),
        "path": f"/api/v1/resources/{population_code}/batches",
        "raw_path": f"/api/v1/resources/{population_code}/batches".encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
    }
    messages = [{"type": "http.request", "body": body[: len(body) // 2], "more_body": True}]
    sent: list[dict] = []

    async def receive() -> dict:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        sent.append(message)

    anyio.run(client.app, scope, receive, send)
    assert sent[0]["type"] == "http.response.start" and sent[0]["status"] == 400
    assert (
        client.get(f"/api/v1/resources/{population_code}/batches", headers=as_user("ga_officer")).json()[
            "total"
        ]
        == 0
    )
    assert spools(settings) == []
