"""No route blocks the event loop (issue 12, item 4): while a large batch is uploaded and processed,
through the API with ``wait=true`` and through the page form, the real server keeps answering
``/healthz`` and the API, each within a second, on both stores.

The upload route waits for its batch job off the event loop; before that, one waiting upload froze
the whole server (``/healthz`` went unanswered for half a minute)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import httpx
import pytest

from govdata.demo import DEMO_PASSWORD
from tests.support.pages import HTML
from tests.support.server import Server, login, population_csv, publish, running, upload

# timed answers: under pytest-xdist no other test runs meanwhile (tests/conftest.py)
pytestmark = pytest.mark.alone

# enough rows for the batch to run several seconds: DuckDB is several times quicker at it
ROWS = {"sqlite": 2_000_000, "postgresql": 600_000}
ANSWER_WITHIN = 1.0  # seconds
RUNNING = ("queued", "running")
TIMEOUT = 600  # seconds


@dataclass
class Probes:
    """How long each probe took to be answered, while the batch was under way."""

    seconds: dict[str, list[float]] = field(default_factory=dict)
    while_running: int = 0  # rounds made while the batch was queued or running
    running_from: float | None = None
    running_until: float | None = None
    lasted: float = 0.0

    @property
    def running_seconds(self) -> float:
        """From the first to the last round that saw the batch queued or running."""
        if self.running_from is None or self.running_until is None:
            return 0.0
        return self.running_until - self.running_from

    def add(self, name: str, seconds: float) -> None:
        self.seconds.setdefault(name, []).append(seconds)

    def worst(self) -> dict[str, float]:
        return {name: round(max(values), 3) for name, values in self.seconds.items()}

    def slow(self) -> dict[str, float]:
        return {name: seconds for name, seconds in self.worst().items() if seconds >= ANSWER_WITHIN}


def people_csv(path: Path, rows: int, region: str) -> Path:
    """``rows`` valid, distinct 人口 rows as a CSV file, written by DuckDB (as ``population_csv`` does,
    in a fraction of the time): 公民身份号码 with its check digit (GB 11643), born from 1960 on."""
    weights = "[7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]"
    check = (
        f"substr('10X98765432', CAST(list_sum(list_transform(range(17), lambda k: "
        f"CAST(substr(first17, k + 1, 1) AS INTEGER) * {weights}[k + 1])) % 11 AS INTEGER) + 1, 1)"
    )
    with duckdb.connect() as con:
        con.execute(
            f"""COPY (
                WITH numbered AS (
                    SELECT i, DATE '1960-01-01' + CAST(i // 1000 AS INTEGER) AS birth FROM range({int(rows)}) t(i)
                ), keyed AS (
                    SELECT *, '{region}' || strftime(birth, '%Y%m%d') || lpad(CAST(i % 1000 AS VARCHAR), 3, '0') AS first17
                    FROM numbered
                )
                SELECT first17 || {check} AS 公民身份号码, '居民' || i AS 姓名, CAST(1 + i % 2 AS VARCHAR) AS 性别,
                       strftime(birth, '%Y-%m-%d') AS 出生日期, '焦作市民主路' || i || '号' AS 户籍地址
                FROM keyed ORDER BY i
            ) TO '{path}' (HEADER, DELIMITER ',')"""
        )
    return path


def browser(url: str, username: str) -> httpx.Client:
    client = httpx.Client(base_url=url, timeout=600)
    response = client.post("/login", data={"username": username, "password": DEMO_PASSWORD})
    assert response.status_code in (200, 303), response.text[:300]
    return client


class Prober:
    """Asks ``/healthz``, ``/api/v1/me`` and the resource's batch list (which tells the batch's
    status), timing each answer; logged in beforehand (a login takes a while by design)."""

    def __init__(self, client: httpx.Client, code: str) -> None:
        user, officer = login(client, "rs_officer"), login(client, "ga_officer")
        self.requests = {
            "/healthz": lambda: client.get("/healthz"),
            "/api/v1/me": lambda: client.get("/api/v1/me", headers=user),
            "batch list": lambda: client.get(f"/api/v1/resources/{code}/batches?limit=1", headers=officer),
        }

    def run(self, busy: Callable[[dict | None], bool]) -> Probes:
        """Probe while ``busy(the resource's latest batch)``."""
        probes, started, latest = Probes(), time.monotonic(), None
        while busy(latest):
            assert time.monotonic() < started + TIMEOUT, f"the batch did not finish: {latest}"
            answers, round_started = {}, time.monotonic()
            for name, call in self.requests.items():
                asked = time.monotonic()
                answers[name] = call()
                probes.add(name, time.monotonic() - asked)
                assert answers[name].status_code == 200, (name, answers[name].text[:300])
            items = answers["batch list"].json()["items"]
            latest = items[0] if items else None
            if latest and latest["status"] in RUNNING:
                probes.while_running += 1
                probes.running_from = probes.running_from or round_started
                probes.running_until = time.monotonic()
            time.sleep(0.1)
        probes.lasted = time.monotonic() - started
        return probes


def in_background(fn: Callable[[], httpx.Response]) -> tuple[threading.Thread, dict]:
    outcome: dict = {}
    thread = threading.Thread(target=lambda: outcome.setdefault("response", fn()), daemon=True)
    thread.start()
    return thread, outcome


def report(how: str, probes: Probes) -> None:
    print(
        f"{how}: probed {probes.lasted:.1f} s, batch running {probes.running_seconds:.1f} s "
        f"({probes.while_running} rounds), slowest answers {probes.worst()}"
    )


def check(probes: Probes) -> None:
    assert not probes.slow(), f"answered too slowly while the batch ran: {probes.slow()}"
    # and the batch ran long enough that a blocked event loop would have shown
    assert probes.running_seconds > 2 * ANSWER_WITHIN, f"the batch was too quick to show anything: {probes}"
    assert probes.while_running >= 3, probes


def test_the_server_answers_while_a_large_batch_runs(backend, settings, tmp_path):
    server = Server(settings, tmp_path / "server.log", env={"GOVDATA_RATE_LIMIT_PER_MINUTE": "100000"})
    rows = ROWS[backend]
    people = people_csv(tmp_path / "people.csv", rows, "410802")
    with running(server), httpx.Client(base_url=server.url, timeout=30) as client:
        code = publish(client)
        prober = Prober(client, code)
        # a first load is one quick write; what follows merges into the rows already there
        first = upload(client, code, population_csv(1_000, "410811"), wait=True)
        assert first.status_code == 201 and first.json()["status"] == "applied", first.text

        # through the API, the answer waiting for the batch (wait=true)
        loader = login(client, "ga_officer")
        with httpx.Client(base_url=server.url, timeout=600) as uploader, people.open("rb") as file:
            busy, outcome = in_background(
                lambda: uploader.post(
                    f"/api/v1/resources/{code}/batches",
                    files={"file": ("人口.csv", file, "text/csv")},
                    data={"mode": "upsert", "policy": "strict", "wait": "true"},
                    headers=loader,
                )
            )
            probes = prober.run(lambda latest: busy.is_alive())
            busy.join()
        batch = outcome["response"].json()
        assert outcome["response"].status_code == 201, batch
        assert (batch["status"], batch["rows_applied"]) == ("applied", rows), batch
        report("API", probes)
        check(probes)

        # through the page form, replacing all with the same rows: the upload is saved and the batch
        # queued off the loop, then it runs in the server's worker while people go on using it
        form = browser(server.url, "ga_officer")
        with people.open("rb") as file:
            busy, outcome = in_background(
                lambda: form.post(
                    f"/data/{code}/batches",
                    files={"file": ("人口.csv", file, "text/csv")},
                    data={"mode": "replace", "policy": "strict", "encoding": "", "source_rows": ""},
                    headers={**HTML, "origin": server.url},
                    follow_redirects=False,
                )
            )
            probes = prober.run(
                lambda latest: (
                    busy.is_alive()
                    or latest is None
                    or latest["id"] == batch["id"]
                    or latest["status"] in RUNNING
                )
            )
            busy.join()
        form.close()
        assert outcome["response"].status_code == 303, outcome["response"].text[:300]
        batch_id = int(outcome["response"].headers["location"].rsplit("/", 1)[1])
        finished = client.get(f"/api/v1/batches/{batch_id}", headers=loader).json()
        assert (finished["status"], finished["rows_applied"]) == ("applied", rows), finished
        report("form", probes)
        check(probes)
